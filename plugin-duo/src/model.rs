//! Native mirror of the WIT types the plugin produces. The pure logic works on
//! these so it can be tested and benchmarked without a wasm runtime; the guest
//! glue converts them at the boundary.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeoLocation {
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessDevice {
    pub ip: Option<String>,
    pub location: GeoLocation,
    pub hostname: Option<String>,
    pub os: Option<String>,
    pub os_version: Option<String>,
    pub browser: Option<String>,
    pub browser_version: Option<String>,
    pub endpoint_id: Option<String>,
    pub is_encryption_enabled: Option<bool>,
    pub is_firewall_enabled: Option<bool>,
    pub is_password_set: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthDevice {
    pub id: Option<String>,
    pub name: Option<String>,
    pub ip: Option<String>,
    pub location: GeoLocation,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthEvent {
    pub occurred_at_ms: i64,
    pub event_id: String,
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    pub user_email: Option<String>,
    pub application_id: Option<String>,
    pub application_name: Option<String>,
    pub result: String,
    pub reason: Option<String>,
    pub factor: Option<String>,
    pub event_type: String,
    pub access_device: AccessDevice,
    pub auth_device: Option<AuthDevice>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserAccount {
    pub user_id: String,
    pub user_name: String,
    pub email: Option<String>,
    pub real_name: Option<String>,
    pub status: String,
    pub is_enrolled: bool,
    pub last_login_ms: Option<i64>,
    pub created_ms: Option<i64>,
    pub groups: Vec<String>,
    pub device_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MfaDevice {
    pub device_id: String,
    pub kind: String,
    pub platform: Option<String>,
    pub model: Option<String>,
    pub os_version: Option<String>,
    pub activated: bool,
    pub capabilities: Vec<String>,
    pub user_ids: Vec<String>,
    pub last_seen_ms: Option<i64>,
    pub number_hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Normalized {
    None,
    AuthEvent(Box<AuthEvent>),
    UserAccount(Box<UserAccount>),
    MfaDevice(Box<MfaDevice>),
}

/// One record as the plugin commits it (the WIT `collected-record`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectedRecord {
    pub kind: &'static str,
    pub id: String,
    pub occurred_at_ms: Option<i64>,
    pub normalized: Normalized,
    pub raw_json: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    Ok,
    Warning,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub status: CheckStatus,
    pub detail: String,
    pub remedy: Option<String>,
}

impl Check {
    pub fn new(name: &str, status: CheckStatus, detail: impl Into<String>) -> Check {
        Check {
            name: name.to_string(),
            status,
            detail: detail.into(),
            remedy: None,
        }
    }

    pub fn remedy(mut self, remedy: impl Into<String>) -> Check {
        self.remedy = Some(remedy.into());
        self
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectOptions {
    pub sources: Vec<String>,
    pub max_pages: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectSummary {
    pub records: Vec<(String, u64)>,
    pub pages: u32,
    pub more_remaining: bool,
    pub notes: Vec<String>,
}

impl CollectSummary {
    pub fn add_records(&mut self, kind: &str, count: u64) {
        match self.records.iter_mut().find(|(k, _)| k == kind) {
            Some((_, n)) => *n += count,
            None => self.records.push((kind.to_string(), count)),
        }
    }

    pub fn count(&self, kind: &str) -> u64 {
        self.records
            .iter()
            .find(|(k, _)| k == kind)
            .map_or(0, |(_, n)| *n)
    }
}

/// The WIT `plugin-error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginError {
    Config(String),
    Unauthorized(String),
    Forbidden(String),
    RateLimited(String),
    Upstream(String),
    Host(String),
    NotFound(String),
    InvalidInput(String),
    Internal(String),
}

impl PluginError {
    pub fn message(&self) -> &str {
        match self {
            PluginError::Config(m)
            | PluginError::Unauthorized(m)
            | PluginError::Forbidden(m)
            | PluginError::RateLimited(m)
            | PluginError::Upstream(m)
            | PluginError::Host(m)
            | PluginError::NotFound(m)
            | PluginError::InvalidInput(m)
            | PluginError::Internal(m) => m,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ActionRequest {
    pub action: String,
    pub params: Vec<(String, String)>,
    pub dry_run: bool,
    pub requested_by: String,
    pub reason: Option<String>,
}

impl ActionRequest {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionStatus {
    Succeeded,
    Failed,
    DryRun,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionOutcome {
    pub status: ActionStatus,
    pub message: String,
    pub details: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}
