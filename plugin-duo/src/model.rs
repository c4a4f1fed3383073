//! Native mirror of the WIT types the plugin produces. The pure logic works on
//! these so it can be tested and benchmarked without a wasm runtime; the guest
//! glue converts them at the boundary.

use std::borrow::Cow;

/// Text of a record: borrowed from the page it was parsed from where Duo's
/// JSON holds it verbatim (no copy on the way to the host), owned where the
/// plugin had to change it (escapes, case).
pub type Text<'a> = Cow<'a, str>;

fn owned_text(t: Option<Text>) -> Option<Text<'static>> {
    t.map(|t| Cow::Owned(t.into_owned()))
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeoLocation<'a> {
    pub city: Option<Text<'a>>,
    pub state: Option<Text<'a>>,
    pub country: Option<Text<'a>>,
}

impl GeoLocation<'_> {
    fn into_owned(self) -> GeoLocation<'static> {
        GeoLocation {
            city: owned_text(self.city),
            state: owned_text(self.state),
            country: owned_text(self.country),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessDevice<'a> {
    pub ip: Option<Text<'a>>,
    pub location: GeoLocation<'a>,
    pub hostname: Option<Text<'a>>,
    pub os: Option<Text<'a>>,
    pub os_version: Option<Text<'a>>,
    pub browser: Option<Text<'a>>,
    pub browser_version: Option<Text<'a>>,
    pub endpoint_id: Option<Text<'a>>,
    pub is_encryption_enabled: Option<bool>,
    pub is_firewall_enabled: Option<bool>,
    pub is_password_set: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthDevice<'a> {
    pub id: Option<Text<'a>>,
    pub name: Option<Text<'a>>,
    pub ip: Option<Text<'a>>,
    pub location: GeoLocation<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthEvent<'a> {
    pub occurred_at_ms: i64,
    pub event_id: Text<'a>,
    pub user_id: Option<Text<'a>>,
    pub user_name: Option<Text<'a>>,
    pub user_email: Option<Text<'a>>,
    pub application_id: Option<Text<'a>>,
    pub application_name: Option<Text<'a>>,
    pub result: Text<'a>,
    pub reason: Option<Text<'a>>,
    pub factor: Option<Text<'a>>,
    pub event_type: Text<'a>,
    pub access_device: AccessDevice<'a>,
    pub auth_device: Option<AuthDevice<'a>>,
}

impl AuthEvent<'_> {
    fn into_owned(self) -> AuthEvent<'static> {
        let a = self.access_device;
        AuthEvent {
            occurred_at_ms: self.occurred_at_ms,
            event_id: Cow::Owned(self.event_id.into_owned()),
            user_id: owned_text(self.user_id),
            user_name: owned_text(self.user_name),
            user_email: owned_text(self.user_email),
            application_id: owned_text(self.application_id),
            application_name: owned_text(self.application_name),
            result: Cow::Owned(self.result.into_owned()),
            reason: owned_text(self.reason),
            factor: owned_text(self.factor),
            event_type: Cow::Owned(self.event_type.into_owned()),
            access_device: AccessDevice {
                ip: owned_text(a.ip),
                location: a.location.into_owned(),
                hostname: owned_text(a.hostname),
                os: owned_text(a.os),
                os_version: owned_text(a.os_version),
                browser: owned_text(a.browser),
                browser_version: owned_text(a.browser_version),
                endpoint_id: owned_text(a.endpoint_id),
                is_encryption_enabled: a.is_encryption_enabled,
                is_firewall_enabled: a.is_firewall_enabled,
                is_password_set: a.is_password_set,
            },
            auth_device: self.auth_device.map(|d| AuthDevice {
                id: owned_text(d.id),
                name: owned_text(d.name),
                ip: owned_text(d.ip),
                location: d.location.into_owned(),
            }),
        }
    }
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
pub enum Normalized<'a> {
    None,
    AuthEvent(Box<AuthEvent<'a>>),
    UserAccount(Box<UserAccount>),
    MfaDevice(Box<MfaDevice>),
}

/// One record as the plugin commits it (the WIT `collected-record`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectedRecord<'a> {
    pub kind: &'static str,
    pub id: Text<'a>,
    pub occurred_at_ms: Option<i64>,
    pub normalized: Normalized<'a>,
    pub raw_json: Text<'a>,
}

impl CollectedRecord<'_> {
    /// A copy that outlives the page it was parsed from.
    pub fn into_owned(self) -> CollectedRecord<'static> {
        CollectedRecord {
            kind: self.kind,
            id: Cow::Owned(self.id.into_owned()),
            occurred_at_ms: self.occurred_at_ms,
            normalized: match self.normalized {
                Normalized::None => Normalized::None,
                Normalized::AuthEvent(e) => Normalized::AuthEvent(Box::new(e.into_owned())),
                Normalized::UserAccount(u) => Normalized::UserAccount(u),
                Normalized::MfaDevice(d) => Normalized::MfaDevice(d),
            },
            raw_json: Cow::Owned(self.raw_json.into_owned()),
        }
    }
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
