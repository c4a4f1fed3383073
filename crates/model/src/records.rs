//! Normalized records, generic over their text type: `String` wherever a
//! record is kept, `Cow<str>` where it borrows from memory it was parsed from
//! (a plugin's page of JSON, the sandbox's memory while the host checks a
//! batch), so one definition gives both the same JSON.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

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

/// Text that outlives what it was borrowed from.
fn own(text: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(text.into_owned())
}

fn own_opt(text: Option<Cow<'_, str>>) -> Option<Cow<'static, str>> {
    text.map(own)
}

fn own_all(texts: Vec<Cow<'_, str>>) -> Vec<Cow<'static, str>> {
    texts.into_iter().map(own).collect()
}

impl CollectedRecord<Cow<'_, str>> {
    /// A copy that outlives the page it was parsed from.
    pub fn into_owned(self) -> CollectedRecord<Cow<'static, str>> {
        CollectedRecord {
            kind: own(self.kind),
            id: own(self.id),
            occurred_at_ms: self.occurred_at_ms,
            normalized: self.normalized.into_owned(),
            raw_json: own(self.raw_json),
        }
    }
}

impl Normalized<Cow<'_, str>> {
    pub fn into_owned(self) -> Normalized<Cow<'static, str>> {
        match self {
            Normalized::None => Normalized::None,
            Normalized::AuthEvent(e) => Normalized::AuthEvent(e.into_owned()),
            Normalized::UserAccount(u) => Normalized::UserAccount(u.into_owned()),
            Normalized::MfaDevice(d) => Normalized::MfaDevice(d.into_owned()),
        }
    }
}

impl GeoLocation<Cow<'_, str>> {
    pub fn into_owned(self) -> GeoLocation<Cow<'static, str>> {
        GeoLocation {
            city: own_opt(self.city),
            state: own_opt(self.state),
            country: own_opt(self.country),
        }
    }
}

impl AccessDevice<Cow<'_, str>> {
    pub fn into_owned(self) -> AccessDevice<Cow<'static, str>> {
        AccessDevice {
            ip: own_opt(self.ip),
            location: self.location.into_owned(),
            hostname: own_opt(self.hostname),
            os: own_opt(self.os),
            os_version: own_opt(self.os_version),
            browser: own_opt(self.browser),
            browser_version: own_opt(self.browser_version),
            endpoint_id: own_opt(self.endpoint_id),
            is_encryption_enabled: self.is_encryption_enabled,
            is_firewall_enabled: self.is_firewall_enabled,
            is_password_set: self.is_password_set,
        }
    }
}

impl AuthDevice<Cow<'_, str>> {
    pub fn into_owned(self) -> AuthDevice<Cow<'static, str>> {
        AuthDevice {
            id: own_opt(self.id),
            name: own_opt(self.name),
            ip: own_opt(self.ip),
            location: self.location.into_owned(),
        }
    }
}

impl AuthEvent<Cow<'_, str>> {
    pub fn into_owned(self) -> AuthEvent<Cow<'static, str>> {
        AuthEvent {
            occurred_at_ms: self.occurred_at_ms,
            event_id: own(self.event_id),
            user_id: own_opt(self.user_id),
            user_name: own_opt(self.user_name),
            user_email: own_opt(self.user_email),
            application_id: own_opt(self.application_id),
            application_name: own_opt(self.application_name),
            result: own(self.result),
            reason: own_opt(self.reason),
            factor: own_opt(self.factor),
            event_type: own(self.event_type),
            access_device: self.access_device.into_owned(),
            auth_device: self.auth_device.map(AuthDevice::into_owned),
        }
    }
}

impl UserAccount<Cow<'_, str>> {
    pub fn into_owned(self) -> UserAccount<Cow<'static, str>> {
        UserAccount {
            user_id: own(self.user_id),
            user_name: own(self.user_name),
            email: own_opt(self.email),
            real_name: own_opt(self.real_name),
            status: own(self.status),
            is_enrolled: self.is_enrolled,
            last_login_ms: self.last_login_ms,
            created_ms: self.created_ms,
            groups: own_all(self.groups),
            device_ids: own_all(self.device_ids),
        }
    }
}

impl MfaDevice<Cow<'_, str>> {
    pub fn into_owned(self) -> MfaDevice<Cow<'static, str>> {
        MfaDevice {
            device_id: own(self.device_id),
            kind: own(self.kind),
            platform: own_opt(self.platform),
            model: own_opt(self.model),
            os_version: own_opt(self.os_version),
            activated: self.activated,
            capabilities: own_all(self.capabilities),
            user_ids: own_all(self.user_ids),
            last_seen_ms: self.last_seen_ms,
            number_hash: own_opt(self.number_hash),
        }
    }
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

    #[test]
    fn an_owned_copy_outlives_its_page_and_keeps_every_field() {
        let page = String::from("DU1 alice eng DP1");
        let borrowed = CollectedRecord {
            kind: Cow::Borrowed("user"),
            id: Cow::Borrowed(&page[..3]),
            occurred_at_ms: None,
            normalized: Normalized::UserAccount(UserAccount {
                user_id: Cow::Borrowed(&page[..3]),
                user_name: Cow::Borrowed(&page[4..9]),
                groups: vec![Cow::Borrowed(&page[10..13])],
                device_ids: vec![Cow::Borrowed(&page[14..])],
                status: Cow::Owned("active".into()),
                ..Default::default()
            }),
            raw_json: Cow::Borrowed(&page),
        };
        let owned: CollectedRecord<Cow<'static, str>> = borrowed.clone().into_owned();
        drop(page);
        let Normalized::UserAccount(user) = &owned.normalized else {
            panic!("{owned:?}");
        };
        assert_eq!(user.user_name, "alice");
        assert_eq!(user.groups, ["eng"]);
        assert_eq!(user.device_ids, ["DP1"]);
        assert!(matches!(owned.id, Cow::Owned(_)));
    }
}
