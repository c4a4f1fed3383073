//! The host's own copy of the plugin contract's data types (see
//! `wit/integration/`), as plain serde structs.
//!
//! The generated WIT bindings live in `runtime::bindings` and are converted to
//! these at the sandbox boundary, so storage, insights, actions and the CLI
//! never depend on a particular WIT version. Field names and vocabularies are
//! the WIT's; see its docs for meanings.

use serde::{Deserialize, Serialize};

/// Operator roles, weakest first; `Ord` follows privilege.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Helpdesk,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Helpdesk => "helpdesk",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "helpdesk" => Ok(Role::Helpdesk),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role `{other}`: use admin, helpdesk or viewer"
            )),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------- manifest

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    Boolean,
    Integer,
    Secret,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Charset {
    Any,
    Alphanumeric,
    Hex,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextConstraints {
    pub min_length: u32,
    pub max_length: u32,
    pub charset: Charset,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigField {
    pub name: String,
    pub label: String,
    pub field_type: FieldType,
    pub required: bool,
    pub description: String,
    pub validation_hint: String,
    pub default_value: Option<String>,
    pub constraints: Option<TextConstraints>,
    pub advanced: bool,
}

impl ConfigField {
    /// A required field with no description, hint, default or constraints.
    pub fn new(name: &str, field_type: FieldType) -> Self {
        ConfigField {
            name: name.into(),
            label: name.into(),
            field_type,
            required: true,
            description: String::new(),
            validation_hint: String::new(),
            default_value: None,
            constraints: None,
            advanced: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EgressRule {
    pub host_field: String,
    pub purpose: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordKind {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionParam {
    pub name: String,
    pub description: String,
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionSpec {
    pub id: String,
    pub title: String,
    pub description: String,
    pub params: Vec<ActionParam>,
    pub required_permission: String,
    pub minimum_role: Role,
    pub enabled_by: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    SecretReveal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub id: String,
    pub name: String,
    pub version: String,
    pub description: String,
    pub config: Vec<ConfigField>,
    pub egress: Vec<EgressRule>,
    pub record_kinds: Vec<RecordKind>,
    pub actions: Vec<ActionSpec>,
    pub capabilities: Vec<Capability>,
}

impl Manifest {
    pub fn field(&self, name: &str) -> Option<&ConfigField> {
        self.config.iter().find(|f| f.name == name)
    }

    pub fn action(&self, id: &str) -> Option<&ActionSpec> {
        self.actions.iter().find(|a| a.id == id)
    }
}

// ---------------------------------------------------------- plugin results

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Ok,
    Warning,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub status: CheckStatus,
    pub detail: String,
    pub remedy: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectOptions {
    pub sources: Vec<String>,
    pub max_pages: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectSummary {
    /// Records committed per kind, in the order the plugin reported them.
    pub records: Vec<(String, u64)>,
    pub pages: u32,
    pub more_remaining: bool,
    pub notes: Vec<String>,
}

/// A typed failure reported by a plugin (not a trap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum PluginError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("missing permission: {0}")]
    Forbidden(String),
    #[error("rate limited: {0}")]
    RateLimited(String),
    #[error("upstream error: {0}")]
    Upstream(String),
    #[error("host refused: {0}")]
    Host(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("plugin error: {0}")]
    Internal(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRequest {
    pub action: String,
    pub params: Vec<(String, String)>,
    pub dry_run: bool,
    pub requested_by: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Succeeded,
    Failed,
    DryRun,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionOutcome {
    pub status: ActionStatus,
    pub message: String,
    pub details: Vec<(String, String)>,
}

// ------------------------------------------------------- normalized records
//
// Generic over the text type: `String` everywhere the host keeps a record,
// `Cow<str>` borrowed from a plugin's memory while a batch is checked (see
// `runtime::lifted`), so one definition gives both the same JSON.

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeoLocation<S = String> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<S>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessDevice<S = String> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<S>,
    pub location: GeoLocation<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser_version: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_encryption_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_firewall_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_password_set: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthDevice<S = String> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<S>,
    pub location: GeoLocation<S>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthEvent<S = String> {
    pub occurred_at_ms: i64,
    pub event_id: S,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_email: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_name: Option<S>,
    pub result: S,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<S>,
    pub event_type: S,
    pub access_device: AccessDevice<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_device: Option<AuthDevice<S>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAccount<S = String> {
    pub user_id: S,
    pub user_name: S,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real_name: Option<S>,
    pub status: S,
    pub is_enrolled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_ms: Option<i64>,
    pub groups: Vec<S>,
    pub device_ids: Vec<S>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaDevice<S = String> {
    pub device_id: S,
    pub kind: S,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<S>,
    pub activated: bool,
    pub capabilities: Vec<S>,
    pub user_ids: Vec<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_hash: Option<S>,
}

/// The normalized view of a record. Stored as JSON with a `type` tag.
// Auth events are by far the most common variant, so boxing it would add an
// allocation per record for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Normalized<S = String> {
    #[default]
    None,
    AuthEvent(AuthEvent<S>),
    UserAccount(UserAccount<S>),
    MfaDevice(MfaDevice<S>),
}

/// Reads what the derived `Serialize` writes, `{"type": "...", fields...}`,
/// in one pass. serde's derived reader for a tagged enum first buffers each
/// object into a tree, because a tag may come last; the insights refresh
/// reads every stored record that way (load 1.07 s -> 0.88 s at 200k auth
/// events). Only this host writes these objects, always tag first.
impl<'de> Deserialize<'de> for Normalized {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(NormalizedVisitor)
    }
}

struct NormalizedVisitor;

impl<'de> serde::de::Visitor<'de> for NormalizedVisitor {
    type Value = Normalized;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a normalized view: an object whose first key is `type`")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Normalized, A::Error> {
        use serde::de::Error as _;
        use serde::de::value::MapAccessDeserializer;
        use std::borrow::Cow;

        const VARIANTS: &[&str] = &["none", "auth_event", "user_account", "mfa_device"];
        let first: Option<Cow<'de, str>> = map.next_key()?;
        if first.as_deref() != Some("type") {
            return Err(A::Error::custom(
                "a normalized view must start with its `type`",
            ));
        }
        let tag: Cow<'de, str> = map.next_value()?;
        let rest = MapAccessDeserializer::new(map);
        Ok(match tag.as_ref() {
            "none" => {
                serde::de::IgnoredAny::deserialize(rest)?;
                Normalized::None
            }
            "auth_event" => Normalized::AuthEvent(AuthEvent::deserialize(rest)?),
            "user_account" => Normalized::UserAccount(UserAccount::deserialize(rest)?),
            "mfa_device" => Normalized::MfaDevice(MfaDevice::deserialize(rest)?),
            other => return Err(A::Error::unknown_variant(other, VARIANTS)),
        })
    }
}

/// One collected record as a plugin hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectedRecord<S = String> {
    pub kind: S,
    pub id: S,
    pub occurred_at_ms: Option<i64>,
    pub normalized: Normalized<S>,
    pub raw_json: S,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_views_read_back_what_is_written() {
        let views = [
            Normalized::None,
            Normalized::AuthEvent(AuthEvent {
                occurred_at_ms: 5,
                event_id: "t1".into(),
                user_name: Some("alice".into()),
                result: "success".into(),
                event_type: "authentication".into(),
                ..Default::default()
            }),
            Normalized::UserAccount(UserAccount {
                user_id: "DU1".into(),
                user_name: "alice".into(),
                groups: vec!["eng".into()],
                ..Default::default()
            }),
            Normalized::MfaDevice(MfaDevice {
                device_id: "DP1".into(),
                kind: "mobile".into(),
                user_ids: vec!["DU1".into()],
                ..Default::default()
            }),
        ];
        for view in views {
            let text = serde_json::to_string(&view).unwrap();
            assert!(text.starts_with(r#"{"type":"#), "{text}");
            assert_eq!(serde_json::from_str::<Normalized>(&text).unwrap(), view);
        }
    }

    #[test]
    fn a_view_without_its_type_first_or_of_an_unknown_type_is_an_error() {
        for (text, says) in [
            (
                r#"{"user_id":"DU1","type":"user_account"}"#,
                "start with its `type`",
            ),
            (r#"{}"#, "start with its `type`"),
            (r#"{"type":"ticket"}"#, "unknown variant `ticket`"),
            (r#"{"type":"user_account","user_id":1}"#, "invalid type"),
        ] {
            let e = serde_json::from_str::<Normalized>(text).unwrap_err();
            assert!(e.to_string().contains(says), "{text}: {e}");
        }
    }
}
