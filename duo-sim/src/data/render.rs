//! JSON shapes exactly as Duo's Admin API returns them (duo-api.md §4).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::catalog::{CITIES, FACTORS, GROUPS, PROFILES, REASONS, RESULTS};
use super::generate::Dataset;
use super::model::*;
use super::rng::format_uuid;
use crate::timefmt::{format_iso_micros, format_iso_millis};

/// `city`/`state`/`country`, all null when the event has no location.
#[derive(Serialize)]
pub struct LocationJson {
    city: Option<&'static str>,
    state: Option<&'static str>,
    country: Option<&'static str>,
}

fn location(city: u8) -> LocationJson {
    let c = CITIES.get(usize::from(city));
    LocationJson {
        city: c.map(|c| c.city),
        state: c.map(|c| c.state),
        country: c.map(|c| c.country),
    }
}

/// Duo reports endpoint health as `true`, `false` or the string `"unknown"`.
#[derive(Clone, Copy)]
pub enum Health {
    Known(bool),
    Unknown,
}

impl Serialize for Health {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Health::Known(b) => s.serialize_bool(*b),
            Health::Unknown => s.serialize_str("unknown"),
        }
    }
}

fn health(flags: u8) -> Health {
    if flags & flags::UNHEALTHY != 0 {
        Health::Known(false)
    } else if flags & flags::HEALTH_UNKNOWN != 0 {
        Health::Unknown
    } else {
        Health::Known(true)
    }
}

/// Serializes as `{}`: Duo sends an empty object, not null.
#[derive(Serialize)]
pub struct EmptyObject {}

// Typed, borrowing shapes for the auth log: pages of up to 1,000 events are the
// simulator's hot path, and building `Value` trees per event dominated its cost.
// Fields typed `()` are always null in Duo's output.

#[derive(Serialize)]
pub struct UserRef<'a> {
    key: &'a str,
    name: &'a str,
    groups: Vec<&'static str>,
}

#[derive(Serialize)]
pub struct AppRef<'a> {
    key: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
pub struct AccessDeviceJson<'a> {
    ip: String,
    hostname: (),
    location: LocationJson,
    os: &'static str,
    os_version: &'static str,
    browser: &'static str,
    browser_version: &'static str,
    flash_version: &'static str,
    java_version: &'static str,
    is_encryption_enabled: Health,
    is_firewall_enabled: Health,
    is_password_set: Health,
    security_agents: &'static str,
    epkey: &'a str,
}

#[derive(Serialize)]
pub struct AuthDeviceJson<'a> {
    ip: Option<String>,
    location: LocationJson,
    name: Option<&'a str>,
    key: Option<&'a str>,
}

#[derive(Serialize)]
pub struct AuthEventJson<'a> {
    txid: String,
    timestamp: i64,
    isotimestamp: String,
    event_type: &'static str,
    result: &'static str,
    reason: Option<&'static str>,
    factor: &'static str,
    user: UserRef<'a>,
    application: AppRef<'a>,
    access_device: AccessDeviceJson<'a>,
    auth_device: AuthDeviceJson<'a>,
    email: &'a str,
    alias: &'static str,
    ood_software: (),
    trusted_endpoint_status: &'static str,
    adaptive_trust_assessments: EmptyObject,
}

/// Auth events as they were first served, by txid. Duo's log entries are
/// snapshots that never change afterwards (a user renamed later keeps the
/// old name in past events), and rendering was most of the simulator's cost
/// per page. Two approximations: an event is fixed when first served, not
/// when it happened (one first served after a change to its user shows the
/// change), and past the bound (so a history of millions cannot pin
/// gigabytes) events are rendered on every request. The cache is locked
/// while a page is built, so auth log pages are served one at a time.
#[derive(Default)]
pub struct RenderedAuthEvents(Mutex<HashMap<u128, Box<RawValue>>>);

impl RenderedAuthEvents {
    const MAX_EVENTS: usize = 250_000;

    /// Locks the cache for one page.
    pub fn lock(&self) -> RenderedPage<'_> {
        RenderedPage(
            self.0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

pub struct RenderedPage<'a>(MutexGuard<'a, HashMap<u128, Box<RawValue>>>);

impl RenderedPage<'_> {
    /// Renders the events not yet rendered (while there is room).
    pub fn render(&mut self, ds: &Dataset, events: &[&Event]) {
        for e in events {
            if self.0.len() >= RenderedAuthEvents::MAX_EVENTS {
                return;
            }
            self.0.entry(e.txid).or_insert_with(|| render_json(ds, e));
        }
    }

    /// The JSON of `e`: kept if rendered before, else rendered now.
    pub fn json(&self, ds: &Dataset, e: &Event) -> JsonEvent<'_> {
        match self.0.get(&e.txid) {
            Some(kept) => JsonEvent::Kept(kept),
            None => JsonEvent::Fresh(render_json(ds, e)),
        }
    }
}

/// One auth event's JSON, serialized verbatim into the page.
pub enum JsonEvent<'a> {
    Kept(&'a RawValue),
    Fresh(Box<RawValue>),
}

impl Serialize for JsonEvent<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            JsonEvent::Kept(raw) => raw.serialize(s),
            JsonEvent::Fresh(raw) => raw.serialize(s),
        }
    }
}

fn render_json(ds: &Dataset, e: &Event) -> Box<RawValue> {
    let text = serde_json::to_string(&auth_event(ds, e)).expect("an auth event serializes");
    RawValue::from_string(text).expect("serde_json wrote valid JSON")
}

pub fn auth_event<'a>(ds: &'a Dataset, e: &Event) -> AuthEventJson<'a> {
    let user = &ds.users[e.user as usize];
    let app = &ds.apps[usize::from(e.app)];
    let profile = &PROFILES[usize::from(e.profile) % PROFILES.len()];
    // Sub-millisecond digits derived from the txid: isotimestamp has microseconds,
    // next_offset only milliseconds.
    let micros = e.ms * 1000 + (e.txid % 1000) as i64;
    let phone = ds.phones.get(e.phone as usize);
    let auth_device = if e.flags & flags::AUTH_IP_NONE != 0 {
        AuthDeviceJson {
            ip: Some("None".to_string()),
            location: location(NO_CITY),
            name: phone.map(|p| p.number.as_str()),
            key: phone.map(|p| p.id.as_str()),
        }
    } else if e.factor == super::catalog::factor::WEBAUTHN {
        AuthDeviceJson {
            ip: None,
            location: location(NO_CITY),
            name: Some("YubiKey 5 NFC"),
            key: user.webauthn_key.as_deref(),
        }
    } else {
        AuthDeviceJson {
            ip: (e.auth_ip != 0).then(|| ip_string(e.auth_ip)),
            location: location(e.auth_city),
            name: phone.map(|p| p.number.as_str()),
            key: phone.map(|p| p.id.as_str()),
        }
    };
    let groups = user
        .groups
        .iter()
        .map(|&g| GROUPS[usize::from(g)])
        .collect();
    AuthEventJson {
        txid: format_uuid(e.txid),
        timestamp: e.ms.div_euclid(1000),
        isotimestamp: format_iso_micros(micros),
        event_type: if e.flags & flags::ENROLLMENT != 0 {
            "enrollment"
        } else {
            "authentication"
        },
        result: RESULTS[usize::from(e.result)],
        reason: REASONS.get(usize::from(e.reason)).copied(),
        factor: FACTORS[usize::from(e.factor)],
        user: UserRef {
            key: &user.id,
            name: &user.username,
            groups,
        },
        application: AppRef {
            key: &app.key,
            name: &app.name,
        },
        access_device: AccessDeviceJson {
            ip: ip_string(e.access_ip),
            hostname: (),
            location: location(e.access_city),
            os: profile.os,
            os_version: profile.os_version,
            browser: profile.browser,
            browser_version: profile.browser_version,
            flash_version: "uninstalled",
            java_version: "uninstalled",
            is_encryption_enabled: health(e.flags),
            is_firewall_enabled: health(e.flags),
            is_password_set: if e.flags & flags::HEALTH_UNKNOWN != 0 {
                Health::Unknown
            } else {
                Health::Known(true)
            },
            security_agents: "unknown",
            epkey: &user.epkey,
        },
        auth_device,
        email: &user.email,
        alias: "",
        ood_software: (),
        trusted_endpoint_status: user.trusted_endpoint,
        adaptive_trust_assessments: EmptyObject {},
    }
}

fn phone_capabilities(p: &Phone) -> Vec<&'static str> {
    caps::NAMES
        .iter()
        .filter(|(bit, _)| p.capabilities & bit != 0)
        .map(|(_, n)| *n)
        .collect()
}

pub fn phone_summary(p: &Phone) -> Value {
    json!({
        "phone_id": p.id,
        "number": p.number,
        "extension": "",
        "name": p.name,
        "type": p.kind,
        "platform": p.platform,
        "model": p.model,
        "activated": p.activated,
        "capabilities": phone_capabilities(p),
        "last_seen": p.last_seen_s.map(|s| format_iso_millis(s * 1000).replace(".000000+00:00", "")),
        "sms_passcodes_sent": false,
        "encrypted": if p.platform == "Apple iOS" { "Encrypted" } else { "" },
        "fingerprint": "Configured",
        "screenlock": "Locked",
        "tampered": "Not tampered",
        "postdelay": null,
        "predelay": null,
    })
}

fn group(g: u8) -> Value {
    json!({
        "group_id": format!("DG{:018}", g),
        "name": GROUPS[usize::from(g)],
        "desc": "",
        "status": "Active",
        "mobile_otp_enabled": false,
        "push_enabled": false,
        "sms_enabled": false,
        "voice_enabled": false,
    })
}

fn user_core(u: &User) -> Value {
    let (first, last) = u.realname.split_once(' ').unwrap_or((&u.realname, ""));
    json!({
        "user_id": u.id,
        "username": u.username,
        "realname": u.realname,
        "firstname": first,
        "lastname": last,
        "email": u.email,
        "status": u.status.as_str(),
        "lockout_reason": u.lockout_reason,
        "is_enrolled": u.is_enrolled(),
        "last_login": u.last_login_s,
        "last_directory_sync": null,
        "created": u.created_s,
        "notes": u.notes,
        "alias1": null, "alias2": null, "alias3": null, "alias4": null,
        "aliases": {},
        "external_id": null,
        "enable_auto_prompt": true,
        "custom_attributes": [],
    })
}

pub fn user(ds: &Dataset, u: &User) -> Value {
    let mut v = user_core(u);
    let phones: Vec<Value> = u
        .phones
        .iter()
        .map(|&p| phone_summary(&ds.phones[p as usize]))
        .collect();
    let tokens: Vec<Value> = u
        .token_serial
        .iter()
        .map(|s| json!({"token_id": format!("DH{:0>18}", s), "serial": s, "type": "d1", "totp_step": null}))
        .collect();
    let webauthn: Vec<Value> = u
        .webauthn_key
        .iter()
        .map(|k| json!({"webauthnkey": k, "credential_name": "YubiKey 5 NFC", "label": "Security Key", "date_added": u.created_s}))
        .collect();
    let obj = v.as_object_mut().expect("object literal");
    obj.insert(
        "groups".into(),
        u.groups.iter().map(|&g| group(g)).collect(),
    );
    obj.insert("phones".into(), Value::Array(phones));
    obj.insert("tokens".into(), Value::Array(tokens));
    obj.insert("u2ftokens".into(), json!([]));
    obj.insert("webauthncredentials".into(), Value::Array(webauthn));
    v
}

pub fn phone(ds: &Dataset, p: &Phone) -> Value {
    let mut v = phone_summary(p);
    let users: Vec<Value> = p
        .users
        .iter()
        .map(|&u| user_core(&ds.users[u as usize]))
        .collect();
    v.as_object_mut()
        .expect("object literal")
        .insert("users".into(), Value::Array(users));
    v
}

pub fn endpoint(u: &User) -> Value {
    let profile = &PROFILES[usize::from(u.profile) % PROFILES.len()];
    json!({
        "epkey": u.epkey,
        "username": u.username,
        "email": u.email,
        "device_name": format!("{}-{}", u.username.split('.').next().unwrap_or("host"), &u.epkey[2..8]).to_ascii_uppercase(),
        "os_family": profile.os,
        "os_version": profile.os_version,
        "os_build": null,
        "model": null,
        "type": null,
        "browsers": [{"browser_family": profile.browser, "browser_version": profile.browser_version, "flash_version": "uninstalled", "java_version": "uninstalled", "last_used": u.last_login_s}],
        "last_updated": u.last_login_s,
        "trusted_endpoint": match u.trusted_endpoint { "trusted" => "yes", "not trusted" => "no", _ => "unknown" },
        "disk_encryption_status": "On",
        "firewall_status": "On",
        "password_status": "Set",
        "health_app_client_version": null,
        "security_agents": [],
    })
}

pub fn telephony_id(e: &Event) -> u128 {
    // A distinct but stable id per telephony record, derived from its auth event.
    let x = e.txid.rotate_left(41) ^ 0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C834;
    (x & !(0xF << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62)
}

#[derive(Serialize)]
pub struct TelephonyJson<'a> {
    context: &'static str,
    credits: u32,
    phone: Option<&'a str>,
    telephony_id: String,
    ts: String,
    txid: String,
    #[serde(rename = "type")]
    kind: &'static str,
}

pub fn telephony_item<'a>(ds: &'a Dataset, e: &Event, tid: u128) -> TelephonyJson<'a> {
    let sms = e.factor == super::catalog::factor::SMS;
    TelephonyJson {
        context: "authentication",
        credits: if sms { 1 } else { 2 },
        phone: ds.phones.get(e.phone as usize).map(|p| p.number.as_str()),
        telephony_id: format_uuid(tid),
        ts: format_iso_millis(e.ms),
        txid: format_uuid(e.txid),
        kind: if sms { "sms" } else { "phone" },
    }
}

pub fn admin_event(a: &AdminEvent) -> Value {
    json!({
        "action": a.action,
        "description": a.description,
        "isotimestamp": format_iso_millis(a.ms / 1000 * 1000).replace(".000000", ""),
        "object": a.object,
        "timestamp": a.ms / 1000,
        "username": a.username,
    })
}
