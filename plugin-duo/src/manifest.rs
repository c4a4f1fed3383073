//! What the plugin declares: config fields, egress, record kinds, actions,
//! as `oort-model`'s `Manifest` (the guest glue converts it to the WIT's).

use oort_model::{
    ActionParam, ActionSpec, Charset, ConfigField, EgressRule, FieldType, Manifest, RecordKind,
    Role, Source, TextConstraints,
};

use crate::config::*;
use crate::normalize::*;

pub const ID: &str = "duo";
pub const NAME: &str = "Duo Security";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const DESCRIPTION: &str = "Collects Duo authentication, administrator and telephony logs, users, phones, endpoints and the account summary through the Duo Admin API; remediates and verifies users through the Admin and Auth APIs.";

/// Everything the host reads of the plugin (the `manifest` export).
pub fn manifest() -> Manifest {
    Manifest {
        id: ID.into(),
        name: NAME.into(),
        version: VERSION.into(),
        description: DESCRIPTION.into(),
        config: fields(),
        egress: vec![EgressRule {
            host_field: API_HOSTNAME.into(),
            purpose: EGRESS_PURPOSE.into(),
        }],
        record_kinds: record_kinds(),
        actions: actions(),
        capabilities: Vec::new(),
        sources: sources(),
    }
}

/// Inventories and the account summary change by the day: collected hourly
/// they stay current for remediation without spending Duo's rate limit
/// every five minutes. The logs go at the integration's interval.
pub const INVENTORY_INTERVAL_SECONDS: u32 = 3600;

/// The sources `collect` accepts, in its order (the `sources` export).
pub fn sources() -> Vec<Source> {
    crate::collect::SOURCES
        .iter()
        .map(|&name| {
            let (description, interval) = match name {
                "authentication_log" => ("Authentication log (Admin API v2)", None),
                "user" => (
                    "Users, with their status and enrollment",
                    Some(INVENTORY_INTERVAL_SECONDS),
                ),
                "phone" => (
                    "Phones and other MFA devices",
                    Some(INVENTORY_INTERVAL_SECONDS),
                ),
                "endpoint" => (
                    "Endpoints (Duo Advantage or Premier; with `collect_endpoints`)",
                    Some(INVENTORY_INTERVAL_SECONDS),
                ),
                "administrator_log" => ("Administrator log", None),
                "telephony_log" => ("Telephony log (Admin API v2)", None),
                _ => ("Account summary", Some(INVENTORY_INTERVAL_SECONDS)),
            };
            Source {
                name: name.into(),
                description: description.into(),
                record_kinds: vec![crate::collect::kind_of(name).into()],
                default_interval_seconds: interval,
            }
        })
        .collect()
}

/// An optional field; the builders below fill in the rest.
struct Field {
    name: &'static str,
    label: &'static str,
    field_type: FieldType,
    required: bool,
    description: &'static str,
    validation_hint: &'static str,
    default_value: Option<&'static str>,
    /// (min length, max length) of an alphanumeric secret, checked by the host.
    secret_constraints: Option<(u32, u32)>,
    advanced: bool,
}

const fn field(name: &'static str, label: &'static str, field_type: FieldType) -> Field {
    Field {
        name,
        label,
        field_type,
        required: false,
        description: "",
        validation_hint: "",
        default_value: None,
        secret_constraints: None,
        advanced: false,
    }
}

impl Field {
    fn declared(self) -> ConfigField {
        ConfigField {
            name: self.name.into(),
            label: self.label.into(),
            field_type: self.field_type,
            required: self.required,
            description: self.description.into(),
            validation_hint: self.validation_hint.into(),
            default_value: self.default_value.map(str::to_string),
            constraints: self
                .secret_constraints
                .map(|(min_length, max_length)| TextConstraints {
                    min_length,
                    max_length,
                    charset: Charset::Alphanumeric,
                }),
            advanced: self.advanced,
        }
    }
}

fn fields() -> Vec<ConfigField> {
    vec![
        Field {
            required: true,
            description: "The API hostname shown with the Admin API application in the Duo Admin Panel.",
            validation_hint: "like api-xxxxxxxx.duosecurity.com, without https://",
            ..field(API_HOSTNAME, "API hostname", FieldType::Text)
        },
        Field {
            required: true,
            description: "Integration key of the Admin API application (read-only: Grant read log, Grant read resource, Grant read information; add Grant write resource for remediation).",
            validation_hint: "20 characters starting with DI",
            ..field(INTEGRATION_KEY, "Integration key", FieldType::Text)
        },
        Field {
            required: true,
            description: "Secret key of the Admin API application. It stays in the host; the plugin only asks the host to sign with it.",
            validation_hint: "40 letters and digits, as shown in Duo",
            secret_constraints: Some((40, 40)),
            ..field(SECRET_KEY, "Secret key", FieldType::Secret)
        },
        Field {
            description: "Offer push verification of users through a separate Auth API application, whose name tells users the push comes from your company.",
            validation_hint: "true or false",
            default_value: Some("false"),
            ..field(PUSH_VERIFICATION, "Push verification", FieldType::Boolean)
        },
        Field {
            description: "Integration key of the Auth API application (required when push verification is on).",
            validation_hint: "20 characters starting with DI",
            ..field(
                AUTH_INTEGRATION_KEY,
                "Auth API integration key",
                FieldType::Text,
            )
        },
        Field {
            description: "Secret key of the Auth API application (required when push verification is on).",
            validation_hint: "40 letters and digits, as shown in Duo",
            secret_constraints: Some((40, 40)),
            ..field(AUTH_SECRET_KEY, "Auth API secret key", FieldType::Secret)
        },
        Field {
            description: "Also collect endpoints (needs Duo Advantage or Premier).",
            validation_hint: "true or false",
            default_value: Some("false"),
            advanced: true,
            ..field(COLLECT_ENDPOINTS, "Collect endpoints", FieldType::Boolean)
        },
        Field {
            description: "How far back the first collection of logs reaches; clamped to 179 days so it stays inside Duo's 180-day window.",
            validation_hint: "a whole number of days from 1 to 180",
            default_value: Some("180"),
            advanced: true,
            ..field(
                INITIAL_LOOKBACK_DAYS,
                "Initial lookback (days)",
                FieldType::Integer,
            )
        },
        Field {
            description: "How requests are signed: v5 (HMAC-SHA512, JSON bodies; what Duo's clients send today), v2-sha512, or the legacy v2-sha1.",
            validation_hint: "v5, v2-sha512 or v2-sha1",
            default_value: Some("v5"),
            advanced: true,
            ..field(SIGNATURE_VERSION, "Signature version", FieldType::Text)
        },
        Field {
            description: "First delay before retrying a rate-limited or failed call; it doubles each retry up to 32 times this.",
            validation_hint: "milliseconds, 1 to 60000",
            default_value: Some("1000"),
            advanced: true,
            ..field(RETRY_BASE_MS, "Retry backoff base (ms)", FieldType::Integer)
        },
        Field {
            description: "Retries of a rate-limited, failed or garbled call before giving up.",
            validation_hint: "0 to 10",
            default_value: Some("6"),
            advanced: true,
            ..field(MAX_RETRIES, "Maximum retries", FieldType::Integer)
        },
        Field {
            description: "How long a verification push waits for the user's answer.",
            validation_hint: "seconds, 1 to 110",
            default_value: Some("60"),
            advanced: true,
            ..field(PUSH_TIMEOUT_SECS, "Push timeout (s)", FieldType::Integer)
        },
        Field {
            description: "Pause between two polls of a verification push's status.",
            validation_hint: "milliseconds, 1 to 30000",
            default_value: Some("2000"),
            advanced: true,
            ..field(
                POLL_INTERVAL_MS,
                "Push poll interval (ms)",
                FieldType::Integer,
            )
        },
    ]
    .into_iter()
    .map(Field::declared)
    .collect()
}

pub const EGRESS_PURPOSE: &str = "Duo Admin API and Auth API calls (https)";

fn record_kinds() -> Vec<RecordKind> {
    [
        (
            KIND_AUTH,
            "Authentication log v2 event (id = txid); normalized as an auth-event.",
        ),
        (
            KIND_USER,
            "Duo user (id = user_id); normalized as a user-account.",
        ),
        (
            KIND_PHONE,
            "Duo phone (id = phone_id); normalized as an mfa-device, the number only as a SHA-256 hash.",
        ),
        (
            KIND_ENDPOINT,
            "Duo endpoint (id = epkey); needs Duo Advantage or Premier.",
        ),
        (
            KIND_ADMIN_LOG,
            "Administrator log event (id = hash of the event).",
        ),
        (
            KIND_TELEPHONY,
            "Telephony log v2 event (id = telephony_id).",
        ),
        (
            KIND_INFO,
            "Account summary: user, admin and integration counts, telephony credits (id = summary).",
        ),
    ]
    .into_iter()
    .map(|(name, description)| RecordKind {
        name: name.into(),
        description: description.into(),
    })
    .collect()
}

const WRITE: &str = "Grant write resource";
const USERNAME: (&str, &str, bool) = ("username", "The Duo username (or alias) of the user.", true);

/// An action as written below: its parameters as (name, description, required).
struct Action {
    id: &'static str,
    title: &'static str,
    description: &'static str,
    params: &'static [(&'static str, &'static str, bool)],
    required_permission: &'static str,
    minimum_role: Role,
    enabled_by: Option<&'static str>,
}

impl Action {
    fn declared(self) -> ActionSpec {
        ActionSpec {
            id: self.id.into(),
            title: self.title.into(),
            description: self.description.into(),
            params: self
                .params
                .iter()
                .map(|&(name, description, required)| ActionParam {
                    name: name.into(),
                    description: description.into(),
                    required,
                })
                .collect(),
            required_permission: self.required_permission.into(),
            minimum_role: self.minimum_role,
            enabled_by: self.enabled_by.map(str::to_string),
        }
    }
}

fn actions() -> Vec<ActionSpec> {
    [
        Action {
            id: "disable-user",
            title: "Disable user",
            description: "Sets the Duo user's status to disabled: every authentication is denied until re-activated.",
            params: &[USERNAME],
            required_permission: WRITE,
            minimum_role: Role::Admin,
            enabled_by: None,
        },
        Action {
            id: "reactivate-user",
            title: "Re-activate user",
            description: "Sets the Duo user's status to active (also clears a lockout).",
            params: &[USERNAME],
            required_permission: WRITE,
            minimum_role: Role::Helpdesk,
            enabled_by: None,
        },
        Action {
            id: "remove-phone",
            title: "Remove phone from user",
            description: "Disassociates a phone from the user (the phone object stays in Duo).",
            params: &[
                USERNAME,
                (
                    "phone_id",
                    "The phone to remove (DP…); optional when the user has one phone.",
                    false,
                ),
            ],
            required_permission: WRITE,
            minimum_role: Role::Admin,
            enabled_by: None,
        },
        Action {
            id: "send-enrollment",
            title: "Send enrollment email",
            description: "Emails the user a Duo enrollment link (valid 30 days).",
            params: &[
                USERNAME,
                (
                    "email",
                    "Address to send to; defaults to the user's email in Duo.",
                    false,
                ),
            ],
            required_permission: WRITE,
            minimum_role: Role::Admin,
            enabled_by: None,
        },
        Action {
            id: "send-verification-push",
            title: "Send verification push (Admin API)",
            description: "Sends a Duo verification push showing a confirmation code, then waits for the user's answer.",
            params: &[
                USERNAME,
                (
                    "phone_id",
                    "Phone to push to; defaults to the user's first push-capable phone.",
                    false,
                ),
            ],
            required_permission: WRITE,
            minimum_role: Role::Helpdesk,
            enabled_by: None,
        },
        Action {
            id: "push-verify",
            title: "Verify user with Duo Push (Auth API)",
            description: "Sends a Duo Push from the Auth API application naming who asked, then waits for approve, deny or fraud.",
            params: &[USERNAME],
            required_permission: "Auth API application",
            minimum_role: Role::Helpdesk,
            enabled_by: Some(PUSH_VERIFICATION),
        },
    ]
    .into_iter()
    .map(Action::declared)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declares_the_fixed_action_ids_and_kinds() {
        let m = manifest();
        let ids: Vec<&str> = m.actions.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "disable-user",
                "reactivate-user",
                "remove-phone",
                "send-enrollment",
                "send-verification-push",
                "push-verify"
            ]
        );
        assert_eq!(m.record_kinds.len(), 7);
        let secrets: Vec<&ConfigField> = m
            .config
            .iter()
            .filter(|f| f.field_type == FieldType::Secret)
            .collect();
        let names: Vec<&str> = secrets.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, [SECRET_KEY, AUTH_SECRET_KEY]);
        let forty = TextConstraints {
            min_length: 40,
            max_length: 40,
            charset: Charset::Alphanumeric,
        };
        assert!(secrets.iter().all(|f| f.constraints == Some(forty.clone())));
    }

    #[test]
    fn every_source_collect_accepts_is_listed_with_its_kind_and_the_logs_keep_the_integration_interval()
     {
        let m = manifest();
        let names: Vec<&str> = m.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, crate::collect::SOURCES);
        let kinds: Vec<&str> = m.record_kinds.iter().map(|k| k.name.as_str()).collect();
        for source in &m.sources {
            assert_eq!(source.record_kinds.len(), 1, "{}", source.name);
            assert!(
                kinds.contains(&source.record_kinds[0].as_str()),
                "{}",
                source.name
            );
        }
        let hourly: Vec<&str> = m
            .sources
            .iter()
            .filter(|s| s.default_interval_seconds == Some(INVENTORY_INTERVAL_SECONDS))
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(hourly, ["user", "phone", "endpoint", "info_summary"]);
        assert!(
            m.sources
                .iter()
                .filter(|s| s.name.ends_with("_log"))
                .all(|s| s.default_interval_seconds.is_none())
        );
    }
}
