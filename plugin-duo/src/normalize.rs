//! Duo pages -> records. Each log page body is read in two passes: the
//! envelope, a checking scan that finds the events (each kept verbatim as its
//! record's raw JSON) and the next cursor early, then each event into a
//! borrowed typed struct; nothing is re-serialized. The records borrow their
//! text from the body too ([`crate::model::Text`]): the plugin copies no
//! event or field of an auth log page. Both passes of a log page try the
//! shapes Duo sends with [`crate::json_scan`] first ([`fast`]) and take
//! serde_json for anything else, which also words every error.
use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::date::parse_iso8601_ms;
use crate::lenient::{Flag, Int, Str};
use crate::model::*;
use crate::swar;

pub const KIND_AUTH: &str = "duo.authentication_log";
pub const KIND_USER: &str = "duo.user";
pub const KIND_PHONE: &str = "duo.phone";
pub const KIND_ENDPOINT: &str = "duo.endpoint";
pub const KIND_ADMIN_LOG: &str = "duo.administrator_log";
pub const KIND_TELEPHONY: &str = "duo.telephony_log";
pub const KIND_INFO: &str = "duo.info_summary";

/// One page of a time-ordered log: records in Duo's order, each with an id and
/// a time, and the cursor of the next page if there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPage<'a> {
    pub records: Vec<CollectedRecord<'a>>,
    pub next_offset: Option<String>,
}

/// One page of an offset-paged inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryPage<'a> {
    pub records: Vec<CollectedRecord<'a>>,
    pub next_offset: Option<u64>,
}

impl InventoryPage<'_> {
    /// A copy that outlives the answer it was parsed from.
    pub fn into_owned(self) -> InventoryPage<'static> {
        InventoryPage {
            records: self
                .records
                .into_iter()
                .map(CollectedRecord::into_owned)
                .collect(),
            next_offset: self.next_offset,
        }
    }
}

#[derive(Deserialize)]
struct Envelope<'a, R> {
    #[serde(borrow)]
    stat: Str<'a>,
    response: Option<R>,
    #[serde(default)]
    metadata: Option<OffsetMeta>,
}

#[derive(Deserialize, Default)]
struct OffsetMeta {
    #[serde(default)]
    next_offset: Int,
}

#[derive(Deserialize)]
struct LogResponse<'a> {
    #[serde(borrow, default, alias = "items")]
    authlogs: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    metadata: Option<LogMeta<'a>>,
}

#[derive(Deserialize)]
struct LogMeta<'a> {
    #[serde(borrow, default)]
    next_offset: Option<&'a RawValue>,
}

fn open_envelope<'a, R: Deserialize<'a>>(
    body: &'a [u8],
) -> Result<(R, Option<OffsetMeta>), String> {
    let env: Envelope<'a, R> =
        serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    if env.stat.get() != Some("OK") {
        return Err(format!(
            "stat was {:?}, not OK",
            env.stat
                .get()
                .map(|s| s.chars().take(20).collect::<String>())
        ));
    }
    let response = env.response.ok_or("the answer has no `response`")?;
    Ok((response, env.metadata))
}

/// `["1547486297000","5bea…"]` or `"1547486297000,5bea…"` (raw JSON) -> the
/// comma-joined form Duo accepts back as `next_offset`.
fn join_next_offset(raw: Option<&str>) -> Result<Option<String>, String> {
    let Some(raw) = raw else { return Ok(None) };
    let value: serde_json::Value = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    let part = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Ok(s.clone()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(format!("unexpected next_offset element {other}")),
    };
    match &value {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Array(items) if items.is_empty() => Ok(None),
        serde_json::Value::Array(items) => Ok(Some(
            items
                .iter()
                .map(part)
                .collect::<Result<Vec<_>, _>>()?
                .join(","),
        )),
        other => part(other).map(Some),
    }
}

// ------------------------------------------------------------- auth logs

#[derive(Deserialize, Default, Debug, PartialEq)]
struct Location<'a> {
    #[serde(borrow, default)]
    city: Str<'a>,
    #[serde(borrow, default)]
    state: Str<'a>,
    #[serde(borrow, default)]
    country: Str<'a>,
}

impl<'a> Location<'a> {
    fn into_geo(self) -> GeoLocation<'a> {
        GeoLocation {
            city: self.city.text(),
            state: self.state.text(),
            country: self.country.text(),
        }
    }
}

#[derive(Deserialize, Default, Debug, PartialEq)]
struct NamedRef<'a> {
    #[serde(borrow, default)]
    name: Str<'a>,
    #[serde(borrow, default)]
    key: Str<'a>,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
struct RawAccessDevice<'a> {
    #[serde(borrow, default)]
    ip: Str<'a>,
    #[serde(borrow, default)]
    hostname: Str<'a>,
    #[serde(borrow, default)]
    location: Option<Location<'a>>,
    #[serde(borrow, default)]
    os: Str<'a>,
    #[serde(borrow, default)]
    os_version: Str<'a>,
    #[serde(borrow, default)]
    browser: Str<'a>,
    #[serde(borrow, default)]
    browser_version: Str<'a>,
    #[serde(borrow, default)]
    epkey: Str<'a>,
    #[serde(default)]
    is_encryption_enabled: Flag,
    #[serde(default)]
    is_firewall_enabled: Flag,
    #[serde(default)]
    is_password_set: Flag,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
struct RawAuthDevice<'a> {
    #[serde(borrow, default)]
    ip: Str<'a>,
    #[serde(borrow, default)]
    key: Str<'a>,
    #[serde(borrow, default)]
    name: Str<'a>,
    #[serde(borrow, default)]
    location: Option<Location<'a>>,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
struct RawAuthEvent<'a> {
    #[serde(borrow, default)]
    txid: Str<'a>,
    #[serde(default)]
    timestamp: Int,
    #[serde(borrow, default)]
    isotimestamp: Str<'a>,
    #[serde(borrow, default)]
    event_type: Str<'a>,
    #[serde(borrow, default)]
    result: Str<'a>,
    #[serde(borrow, default)]
    reason: Str<'a>,
    #[serde(borrow, default)]
    factor: Str<'a>,
    #[serde(borrow, default)]
    email: Str<'a>,
    #[serde(borrow, default)]
    user: Option<NamedRef<'a>>,
    #[serde(borrow, default)]
    application: Option<NamedRef<'a>>,
    #[serde(borrow, default)]
    access_device: Option<RawAccessDevice<'a>>,
    #[serde(borrow, default)]
    auth_device: Option<RawAuthDevice<'a>>,
}

/// `Duo Push` / `duo_push` / `DUO PUSH` -> `duo_push`; text already in
/// that form (what Duo sends today) is returned as it is, without a copy.
fn snake<'a>(s: Cow<'a, str>) -> Cow<'a, str> {
    if s.trim().len() == s.len() && !snake_changes(s.as_bytes()) {
        return s;
    }
    // Byte by byte, not char by char: only ASCII bytes change (to ASCII),
    // so the text stays UTF-8.
    let bytes = s
        .trim()
        .bytes()
        .map(|b| match b {
            b' ' | b'-' => b'_',
            b => b.to_ascii_lowercase(),
        })
        .collect();
    Cow::Owned(String::from_utf8(bytes).expect("ASCII-only changes keep the text UTF-8"))
}

/// Whether [`snake`] changes a byte of `bytes` (a capital, a space or a
/// dash), a word at a time: four such fields per auth event.
fn snake_changes(bytes: &[u8]) -> bool {
    let in_word = |word: u64| {
        (swar::ascii_bytes_in(word, b'A', b'Z')
            | swar::bytes_equal_to(word, b' ')
            | swar::bytes_equal_to(word, b'-'))
            != 0
    };
    if bytes.len() < 8 {
        return bytes
            .iter()
            .any(|&b| matches!(b, b' ' | b'-') || b.is_ascii_uppercase());
    }
    let mut pos = 0;
    while let Some(word) = swar::word_at(bytes, pos) {
        if in_word(word) {
            return true;
        }
        pos += 8;
    }
    // The last eight bytes, overlapping the words already tested.
    swar::word_at(bytes, bytes.len() - 8).is_some_and(in_word)
}

fn auth_result(s: Option<Cow<str>>) -> &'static str {
    match s.map(snake).as_deref() {
        Some("success") => "success",
        Some("denied") => "denied",
        Some("fraud") => "fraud",
        Some("failure") => "failure",
        Some("error") => "error",
        _ => "unknown",
    }
}

/// The millisecond Duo orders and pages by: `isotimestamp` truncated to the
/// millisecond, else `timestamp` (seconds).
fn event_ms(iso: &Str, secs: Int) -> Option<i64> {
    iso.get()
        .and_then(parse_iso8601_ms)
        .or_else(|| secs.0.map(|s| s.saturating_mul(1000)))
}

fn auth_record(raw: &str) -> Result<CollectedRecord<'_>, String> {
    let ev = match fast::auth_event(raw) {
        Some(ev) => ev,
        None => serde_json::from_str(raw).map_err(|e| format!("auth log event: {e}"))?,
    };
    let ms = event_ms(&ev.isotimestamp, ev.timestamp);
    let txid = ev.txid.text().ok_or("an auth log event has no txid")?;
    let ms = ms.ok_or_else(|| format!("auth log event {txid} has no time"))?;
    let user = ev.user.unwrap_or_default();
    let app = ev.application.unwrap_or_default();
    let ad = ev.access_device.unwrap_or_default();
    let auth_device = ev.auth_device.map(|d| AuthDevice {
        id: d.key.text(),
        name: d.name.text(),
        ip: d.ip.text(),
        location: d.location.map(Location::into_geo).unwrap_or_default(),
    });
    let event = AuthEvent {
        occurred_at_ms: ms,
        event_id: txid.clone(),
        user_id: user.key.text(),
        user_name: user.name.text(),
        user_email: ev.email.text(),
        application_id: app.key.text(),
        application_name: app.name.text(),
        result: Cow::Borrowed(auth_result(ev.result.text())),
        reason: ev.reason.text().map(snake),
        factor: ev.factor.text().map(snake),
        event_type: ev.event_type.text().map_or(Cow::Borrowed("unknown"), snake),
        access_device: AccessDevice {
            ip: ad.ip.text(),
            location: ad.location.map(Location::into_geo).unwrap_or_default(),
            hostname: ad.hostname.text(),
            os: ad.os.text(),
            os_version: ad.os_version.text(),
            browser: ad.browser.text(),
            browser_version: ad.browser_version.text(),
            endpoint_id: ad.epkey.text(),
            is_encryption_enabled: ad.is_encryption_enabled.0,
            is_firewall_enabled: ad.is_firewall_enabled.0,
            is_password_set: ad.is_password_set.0,
        },
        auth_device,
    };
    Ok(CollectedRecord {
        kind: Cow::Borrowed(KIND_AUTH),
        id: txid,
        occurred_at_ms: Some(ms),
        normalized: Normalized::AuthEvent(event),
        raw_json: Cow::Borrowed(raw),
    })
}

/// A log page with its envelope read: the cursor is known, the events are
/// still unparsed JSON. The collector starts fetching the next page between
/// the two steps.
pub struct OpenedLogPage<'a> {
    events: Vec<&'a str>,
    pub next_offset: Option<String>,
}

/// Reads the envelope of a log v2 answer (`response.authlogs` or
/// `response.items`, and `metadata.next_offset`).
pub fn open_log_page(body: &[u8]) -> Result<OpenedLogPage<'_>, String> {
    let (events, next_offset) = match fast::log_page(body) {
        Some(page) => page,
        None => {
            let (resp, _): (LogResponse, _) = open_envelope(body)?;
            let events = resp.authlogs.into_iter().map(RawValue::get).collect();
            (
                events,
                resp.metadata.and_then(|m| m.next_offset).map(RawValue::get),
            )
        }
    };
    Ok(OpenedLogPage {
        events,
        next_offset: join_next_offset(next_offset)?,
    })
}

impl<'a> OpenedLogPage<'a> {
    /// The page as authentication log events. A page is all or nothing: one
    /// bad event fails the page, so a partial page is never committed.
    pub fn auth_events(self) -> Result<LogPage<'a>, String> {
        self.records(auth_record)
    }

    /// The page as telephony log events (all or nothing, like auth events).
    pub fn telephony_events(self) -> Result<LogPage<'a>, String> {
        self.records(telephony_record)
    }

    fn records(
        self,
        record: impl Fn(&'a str) -> Result<CollectedRecord<'a>, String>,
    ) -> Result<LogPage<'a>, String> {
        Ok(LogPage {
            records: self
                .events
                .iter()
                .map(|raw| record(raw))
                .collect::<Result<Vec<_>, _>>()?,
            next_offset: self.next_offset,
        })
    }
}

/// Parses one `GET /admin/v2/logs/authentication` answer.
pub fn parse_auth_page(body: &[u8]) -> Result<LogPage<'_>, String> {
    open_log_page(body)?.auth_events()
}

/// The records the plugin commits for one auth log page (the benchmark entry
/// point; `collect` runs exactly this through [`parse_auth_page`]).
pub fn normalize_auth_page(body: &[u8]) -> Result<Vec<CollectedRecord<'_>>, String> {
    parse_auth_page(body).map(|page| page.records)
}

// ------------------------------------------------------------ telephony

#[derive(Deserialize)]
struct RawTelephony<'a> {
    #[serde(borrow, default)]
    telephony_id: Str<'a>,
    #[serde(borrow, default)]
    ts: Str<'a>,
    #[serde(default)]
    timestamp: Int,
}

/// Parses one `GET /admin/v2/logs/telephony` answer (`response.items`).
pub fn parse_telephony_page(body: &[u8]) -> Result<LogPage<'_>, String> {
    open_log_page(body)?.telephony_events()
}

fn telephony_record(raw: &str) -> Result<CollectedRecord<'_>, String> {
    let t: RawTelephony = serde_json::from_str(raw).map_err(|e| format!("telephony event: {e}"))?;
    let ms = event_ms(&t.ts, t.timestamp);
    let id = t
        .telephony_id
        .text()
        .ok_or("a telephony event has no telephony_id")?;
    let ms = ms.ok_or_else(|| format!("telephony event {id} has no time"))?;
    Ok(CollectedRecord {
        kind: Cow::Borrowed(KIND_TELEPHONY),
        id,
        occurred_at_ms: Some(ms),
        normalized: Normalized::None,
        raw_json: Cow::Borrowed(raw),
    })
}

// --------------------------------------------------------- administrator log

#[derive(Deserialize)]
struct RawAdminEvent<'a> {
    #[serde(default)]
    timestamp: Int,
    #[serde(borrow, default)]
    isotimestamp: Str<'a>,
}

/// Parses one `GET /admin/v1/logs/administrator` answer (a bare array). The
/// events carry no id, so the id is a hash of the event's JSON: the same
/// event fetched twice upserts onto itself.
pub fn parse_admin_log_page(body: &[u8]) -> Result<Vec<CollectedRecord<'_>>, String> {
    let (events, _): (Vec<&RawValue>, _) = open_envelope(body)?;
    events
        .iter()
        .map(|raw| {
            let ev: RawAdminEvent =
                serde_json::from_str(raw.get()).map_err(|e| format!("admin log event: {e}"))?;
            let ms = ev
                .timestamp
                .0
                .map(|s| s.saturating_mul(1000))
                .or_else(|| ev.isotimestamp.get().and_then(parse_iso8601_ms))
                .ok_or("an administrator log event has no time")?;
            Ok(CollectedRecord {
                kind: Cow::Borrowed(KIND_ADMIN_LOG),
                id: Cow::Owned(hex::encode(&Sha256::digest(raw.get().as_bytes())[..16])),
                occurred_at_ms: Some(ms),
                normalized: Normalized::None,
                raw_json: Cow::Borrowed(raw.get()),
            })
        })
        .collect()
}

// ---------------------------------------------------------------- users

#[derive(Deserialize)]
struct RawGroup<'a> {
    #[serde(borrow, default)]
    name: Str<'a>,
}

#[derive(Deserialize)]
struct RawDeviceRef<'a> {
    #[serde(
        borrow,
        default,
        alias = "token_id",
        alias = "registration_id",
        alias = "webauthnkey"
    )]
    phone_id: Str<'a>,
}

#[derive(Deserialize)]
struct RawUser<'a> {
    #[serde(borrow, default)]
    user_id: Str<'a>,
    #[serde(borrow, default)]
    username: Str<'a>,
    #[serde(borrow, default)]
    email: Str<'a>,
    #[serde(borrow, default)]
    realname: Str<'a>,
    #[serde(borrow, default)]
    status: Str<'a>,
    #[serde(default)]
    is_enrolled: Flag,
    #[serde(default)]
    last_login: Int,
    #[serde(default)]
    created: Int,
    #[serde(borrow, default)]
    groups: Vec<RawGroup<'a>>,
    #[serde(borrow, default)]
    phones: Vec<RawDeviceRef<'a>>,
    #[serde(borrow, default)]
    tokens: Vec<RawDeviceRef<'a>>,
    #[serde(borrow, default)]
    u2ftokens: Vec<RawDeviceRef<'a>>,
    #[serde(borrow, default)]
    webauthncredentials: Vec<RawDeviceRef<'a>>,
}

fn user_status(s: Option<&str>) -> &'static str {
    match s.map(|s| snake(Cow::Borrowed(s))).as_deref() {
        Some("active") => "active",
        Some("bypass") => "bypass",
        Some("disabled") => "disabled",
        Some("locked_out") => "locked_out",
        Some("pending_deletion") => "pending_deletion",
        _ => "unknown",
    }
}

fn user_record(raw: &RawValue) -> Result<CollectedRecord<'_>, String> {
    let u: RawUser = serde_json::from_str(raw.get()).map_err(|e| format!("user: {e}"))?;
    let user_id = u.user_id.text().ok_or("a user has no user_id")?;
    let device_ids = [u.phones, u.tokens, u.u2ftokens, u.webauthncredentials]
        .into_iter()
        .flatten()
        .filter_map(|d| d.phone_id.text())
        .collect();
    let account = UserAccount {
        user_id: user_id.clone(),
        user_name: u.username.text().unwrap_or_default(),
        email: u.email.text(),
        real_name: u.realname.text(),
        status: Cow::Borrowed(user_status(u.status.get())),
        is_enrolled: u.is_enrolled.0.unwrap_or(false),
        last_login_ms: u.last_login.0.map(|s| s.saturating_mul(1000)),
        created_ms: u.created.0.map(|s| s.saturating_mul(1000)),
        groups: u.groups.into_iter().filter_map(|g| g.name.text()).collect(),
        device_ids,
    };
    Ok(CollectedRecord {
        kind: Cow::Borrowed(KIND_USER),
        id: user_id,
        occurred_at_ms: None,
        normalized: Normalized::UserAccount(account),
        raw_json: Cow::Borrowed(raw.get()),
    })
}

// --------------------------------------------------------------- phones

#[derive(Deserialize)]
struct RawUserRef<'a> {
    #[serde(borrow, default)]
    user_id: Str<'a>,
}

#[derive(Deserialize)]
struct RawPhone<'a> {
    #[serde(borrow, default)]
    phone_id: Str<'a>,
    #[serde(borrow, default)]
    number: Str<'a>,
    #[serde(borrow, default, rename = "type")]
    kind: Str<'a>,
    #[serde(borrow, default)]
    platform: Str<'a>,
    #[serde(borrow, default)]
    model: Str<'a>,
    #[serde(borrow, default)]
    os_version: Str<'a>,
    #[serde(default)]
    activated: Flag,
    #[serde(borrow, default)]
    capabilities: Vec<Str<'a>>,
    #[serde(borrow, default)]
    users: Vec<RawUserRef<'a>>,
    #[serde(borrow, default)]
    last_seen: Str<'a>,
}

/// SHA-256 hex of the number, so shared numbers can be found without keeping
/// the number in the normalized view.
pub fn phone_number_hash(number: &str) -> Option<String> {
    let digits: String = number
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    (!digits.is_empty()).then(|| hex::encode(Sha256::digest(digits.as_bytes())))
}

fn phone_record(raw: &RawValue) -> Result<CollectedRecord<'_>, String> {
    let p: RawPhone = serde_json::from_str(raw.get()).map_err(|e| format!("phone: {e}"))?;
    let phone_id = p.phone_id.text().ok_or("a phone has no phone_id")?;
    let kind = match p.kind.text().map(snake).as_deref() {
        Some("mobile") => "mobile",
        Some("landline") => "landline",
        _ => "unknown",
    };
    let last_seen_ms = p
        .last_seen
        .get()
        .and_then(|s| parse_iso8601_ms(s).or_else(|| s.parse::<i64>().ok().map(|v| v * 1000)));
    let device = MfaDevice {
        device_id: phone_id.clone(),
        kind: Cow::Borrowed(kind),
        platform: p.platform.text(),
        model: p.model.text(),
        os_version: p.os_version.text(),
        activated: p.activated.0.unwrap_or(false),
        capabilities: p
            .capabilities
            .into_iter()
            .filter_map(|c| c.text().map(snake))
            .collect(),
        user_ids: p
            .users
            .into_iter()
            .filter_map(|u| u.user_id.text())
            .collect(),
        last_seen_ms,
        number_hash: p.number.get().and_then(phone_number_hash).map(Cow::Owned),
    };
    Ok(CollectedRecord {
        kind: Cow::Borrowed(KIND_PHONE),
        id: phone_id,
        occurred_at_ms: None,
        normalized: Normalized::MfaDevice(device),
        raw_json: Cow::Borrowed(raw.get()),
    })
}

// ------------------------------------------------------------ endpoints

#[derive(Deserialize)]
struct RawEndpoint<'a> {
    #[serde(borrow, default)]
    epkey: Str<'a>,
}

fn endpoint_record(raw: &RawValue) -> Result<CollectedRecord<'_>, String> {
    let e: RawEndpoint = serde_json::from_str(raw.get()).map_err(|e| format!("endpoint: {e}"))?;
    Ok(CollectedRecord {
        kind: Cow::Borrowed(KIND_ENDPOINT),
        id: e.epkey.text().ok_or("an endpoint has no epkey")?,
        occurred_at_ms: None,
        normalized: Normalized::None,
        raw_json: Cow::Borrowed(raw.get()),
    })
}

/// Which inventory a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inventory {
    Users,
    Phones,
    Endpoints,
}

impl Inventory {
    pub fn kind(self) -> &'static str {
        match self {
            Inventory::Users => KIND_USER,
            Inventory::Phones => KIND_PHONE,
            Inventory::Endpoints => KIND_ENDPOINT,
        }
    }
    pub fn path(self) -> &'static str {
        match self {
            Inventory::Users => "/admin/v1/users",
            Inventory::Phones => "/admin/v1/phones",
            Inventory::Endpoints => "/admin/v1/endpoints",
        }
    }
    /// Duo's maximum page size for the list.
    pub fn page_size(self) -> u64 {
        match self {
            Inventory::Users => 300,
            Inventory::Phones | Inventory::Endpoints => 500,
        }
    }
}

/// Parses one offset-paged list answer (`next_offset` in top-level `metadata`).
pub fn parse_inventory_page(
    inventory: Inventory,
    body: &[u8],
) -> Result<InventoryPage<'_>, String> {
    let (items, meta): (Vec<&RawValue>, _) = open_envelope(body)?;
    let convert = match inventory {
        Inventory::Users => user_record,
        Inventory::Phones => phone_record,
        Inventory::Endpoints => endpoint_record,
    };
    let records = items
        .iter()
        .map(|raw| convert(raw))
        .collect::<Result<Vec<_>, _>>()?;
    let next_offset = meta
        .and_then(|m| m.next_offset.0)
        .and_then(|n| u64::try_from(n).ok());
    Ok(InventoryPage {
        records,
        next_offset,
    })
}

/// Parses `GET /admin/v1/info/summary` into one record.
pub fn parse_info_summary(body: &[u8], now_ms: i64) -> Result<CollectedRecord<'_>, String> {
    let (summary, _): (&RawValue, _) = open_envelope(body)?;
    if !summary.get().trim_start().starts_with('{') {
        return Err("the info summary is not an object".into());
    }
    Ok(CollectedRecord {
        kind: Cow::Borrowed(KIND_INFO),
        id: Cow::Borrowed("summary"),
        occurred_at_ms: Some(now_ms),
        normalized: Normalized::None,
        raw_json: Cow::Borrowed(summary.get()),
    })
}

mod fast;
#[cfg(test)]
pub(crate) mod tests;
