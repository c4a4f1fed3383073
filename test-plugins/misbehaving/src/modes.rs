//! The behaviours the `mode` config field selects.

use std::hint::black_box;
use std::mem::ManuallyDrop;

use crate::Settings;
use crate::oort::integration::http::{self, HttpError, Request};
use crate::oort::integration::log::{self, Level};
use crate::oort::integration::secrets::{self, SecretError};
use crate::oort::integration::storage;
use crate::oort::integration::types::{
    AccessDevice, AuthDevice, AuthEvent, CollectSummary, CollectedRecord, GeoLocation, KindCount,
    MfaDevice, Normalized, PluginError, UserAccount,
};

/// The record kind this plugin produces.
pub const KIND: &str = "test.item";
/// The checkpoint source of the well-behaved mode.
pub const SOURCE: &str = "items";
/// Records a well-behaved run commits when `count` is not set.
pub const DEFAULT_COUNT: u32 = 100;
/// Records per `storage.commit`, so a run spans several transactions.
const PAGE: u64 = 40;
/// What the signing modes sign; the tests recompute the HMAC over it.
pub const SIGNED_DATA: &[u8] = b"oort-misbehaving-signing-check-v1";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    WellBehaved,
    EndlessLoop,
    MemoryBomb,
    EgressViolation,
    Trap,
    PartialThenTrap,
    StealSecret,
    HttpGet,
    HttpFlood,
    AliasFlood,
    SplitFlood,
    EveryField,
}

impl Mode {
    pub const NAMES: &[&str] = &[
        "well-behaved",
        "endless-loop",
        "memory-bomb",
        "egress-violation",
        "trap",
        "partial-then-trap",
        "steal-secret",
        "http-get",
        "http-flood",
        "alias-flood",
        "split-flood",
        "every-field",
    ];

    pub fn parse(name: &str) -> Option<Mode> {
        Some(match name {
            "well-behaved" => Mode::WellBehaved,
            "endless-loop" => Mode::EndlessLoop,
            "memory-bomb" => Mode::MemoryBomb,
            "egress-violation" => Mode::EgressViolation,
            "trap" => Mode::Trap,
            "partial-then-trap" => Mode::PartialThenTrap,
            "steal-secret" => Mode::StealSecret,
            "http-get" => Mode::HttpGet,
            "http-flood" => Mode::HttpFlood,
            "alias-flood" => Mode::AliasFlood,
            "split-flood" => Mode::SplitFlood,
            "every-field" => Mode::EveryField,
            _ => return None,
        })
    }

    /// Acts out the mode. `commit` is false for `test-connectivity`, where
    /// nothing may be written; findings go to `summary.notes`.
    pub fn run(
        self,
        settings: &Settings,
        summary: &mut CollectSummary,
        commit: bool,
    ) -> Result<(), PluginError> {
        match self {
            Mode::WellBehaved => {
                if commit {
                    commit_items(settings.count.into(), summary)?;
                }
                sign_with_token(summary)
            }
            Mode::EveryField => {
                if commit {
                    storage::commit(SOURCE, &every_field(), "every-field")
                        .map_err(|e| PluginError::Host(format!("commit refused: {e:?}")))?;
                }
                Ok(())
            }
            Mode::EndlessLoop => endless_loop(),
            Mode::MemoryBomb => memory_bomb(),
            Mode::EgressViolation => {
                let targets = [
                    ("foreign-host", "https://evil.example.com/".to_string()),
                    (
                        "ip-literal",
                        "https://169.254.169.254/latest/meta-data/".to_string(),
                    ),
                    (
                        "plain-http",
                        format!("http://{}/ping", settings.api_hostname),
                    ),
                ];
                for (label, url) in targets {
                    summary
                        .notes
                        .push(format!("{label}: {}", describe_response(get(&url))));
                }
                Ok(())
            }
            Mode::Trap => panic!("misbehaving plugin: deliberate trap"),
            Mode::PartialThenTrap => {
                if commit {
                    commit_items(PAGE, summary)?;
                }
                panic!("misbehaving plugin: deliberate trap after a committed page")
            }
            Mode::StealSecret => steal_secret(summary),
            Mode::HttpGet => {
                let url = format!("https://{}/ping", settings.api_hostname);
                summary
                    .notes
                    .push(format!("http-get: {}", describe_response(get(&url))));
                Ok(())
            }
            Mode::AliasFlood => {
                if commit {
                    alias_flood()?;
                }
                Ok(())
            }
            Mode::SplitFlood => {
                if commit {
                    split_flood()?;
                }
                Ok(())
            }
            Mode::HttpFlood => {
                let url = format!("https://{}/ping", settings.api_hostname);
                let mut sent = 0u32;
                let stop = loop {
                    match get(&url) {
                        Ok(_) => sent += 1,
                        Err(e) => break describe_http_error(&e),
                    }
                    if sent == 100_000 {
                        break "no limit reached".to_string();
                    }
                };
                summary
                    .notes
                    .push(format!("http-flood: sent={sent} then {stop}"));
                Ok(())
            }
        }
    }
}

fn commit_items(count: u64, summary: &mut CollectSummary) -> Result<(), PluginError> {
    let start: u64 = storage::get_checkpoint(SOURCE)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let end = start + count;
    let mut next = start;
    while next < end {
        let page_end = (next + PAGE).min(end);
        let records: Vec<CollectedRecord> = (next..page_end).map(item).collect();
        storage::commit(SOURCE, &records, &page_end.to_string())
            .map_err(|e| PluginError::Host(format!("commit refused: {e:?}")))?;
        log::write(
            Level::Debug,
            "committed a page",
            &[("records".into(), (page_end - next).to_string())],
        );
        summary.pages += 1;
        next = page_end;
    }
    summary.records.push(KindCount {
        kind: KIND.into(),
        count,
    });
    Ok(())
}

fn item(n: u64) -> CollectedRecord {
    CollectedRecord {
        kind: KIND.into(),
        id: format!("item-{n:06}"),
        occurred_at_ms: Some(1_700_000_000_000 + n as i64),
        normalized: Normalized::None,
        raw_json: format!("{{\"n\":{n}}}"),
    }
}

/// One record of each normalized type with every field set, each string to
/// its own path (`access_device.os_version`), so a test can tell a field
/// stored under another's name. `tests/sandbox.rs` expects exactly these.
fn every_field() -> Vec<CollectedRecord> {
    let text = |path: &str| Some(path.to_string());
    let geo = |at: &str| GeoLocation {
        city: text(&format!("{at}.city")),
        state: text(&format!("{at}.state")),
        country: text(&format!("{at}.country")),
    };
    let list = |name: &str, n: usize| (0..n).map(|i| format!("{name}.{i}")).collect();
    let event = AuthEvent {
        occurred_at_ms: 1_700_000_000_001,
        event_id: "event_id".into(),
        user_id: text("user_id"),
        user_name: text("user_name"),
        user_email: text("user_email"),
        application_id: text("application_id"),
        application_name: text("application_name"),
        result: "result".into(),
        reason: text("reason"),
        factor: text("factor"),
        event_type: "event_type".into(),
        access_device: AccessDevice {
            ip: text("access_device.ip"),
            location: geo("access_device.location"),
            hostname: text("access_device.hostname"),
            os: text("access_device.os"),
            os_version: text("access_device.os_version"),
            browser: text("access_device.browser"),
            browser_version: text("access_device.browser_version"),
            endpoint_id: text("access_device.endpoint_id"),
            is_encryption_enabled: Some(true),
            is_firewall_enabled: Some(false),
            is_password_set: None,
        },
        auth_device: Some(AuthDevice {
            id: text("auth_device.id"),
            name: text("auth_device.name"),
            ip: text("auth_device.ip"),
            location: geo("auth_device.location"),
        }),
    };
    let user = UserAccount {
        user_id: "user_id".into(),
        user_name: "user_name".into(),
        email: text("email"),
        real_name: text("real_name"),
        status: "status".into(),
        is_enrolled: true,
        last_login_ms: Some(1_700_000_000_002),
        created_ms: Some(1_700_000_000_003),
        groups: list("groups", 2),
        device_ids: list("device_ids", 3),
    };
    let device = MfaDevice {
        device_id: "device_id".into(),
        kind: "kind".into(),
        platform: text("platform"),
        model: text("model"),
        os_version: text("os_version"),
        activated: true,
        capabilities: list("capabilities", 2),
        user_ids: list("user_ids", 1),
        last_seen_ms: Some(1_700_000_000_004),
        number_hash: text("number_hash"),
    };
    [
        Normalized::AuthEvent(event),
        Normalized::UserAccount(user),
        Normalized::MfaDevice(device),
    ]
    .into_iter()
    .enumerate()
    .map(|(n, normalized)| CollectedRecord {
        normalized,
        raw_json: format!("{{\"every_field\":{n}}}"),
        ..item(n as u64)
    })
    .collect()
}

/// Signs with the token through the host and tries to read it; the token's
/// value never enters this sandbox unless `secret-reveal` was granted, and
/// even then only its length is reported.
fn sign_with_token(summary: &mut CollectSummary) -> Result<(), PluginError> {
    let token =
        secrets::get("token").map_err(|e| PluginError::Config(describe_secret_error(&e)))?;
    summary.notes.push(format!(
        "hmac-sha512={}",
        to_hex(&token.hmac_sha512(SIGNED_DATA))
    ));
    summary.notes.push(match token.reveal() {
        Ok(plain) => format!("reveal=granted len={}", plain.len()),
        Err(e) => format!("reveal={}", describe_secret_error(&e)),
    });
    Ok(())
}

fn steal_secret(summary: &mut CollectSummary) -> Result<(), PluginError> {
    for name in ["other_token", "secret_key"] {
        let outcome = match secrets::get(name) {
            Ok(secret) => format!(
                "got a handle, hmac-sha512={}",
                to_hex(&secret.hmac_sha512(SIGNED_DATA))
            ),
            Err(e) => describe_secret_error(&e),
        };
        summary.notes.push(format!("{name}: {outcome}"));
    }
    match secrets::get("token") {
        Ok(own) => {
            summary.notes.push(format!(
                "own-hmac-sha512={}",
                to_hex(&own.hmac_sha512(SIGNED_DATA))
            ));
            summary.notes.push(match own.reveal() {
                Ok(plain) => format!("reveal: granted len={}", plain.len()),
                Err(e) => format!("reveal: {}", describe_secret_error(&e)),
            });
        }
        Err(e) => summary
            .notes
            .push(format!("token: {}", describe_secret_error(&e))),
    }
    Ok(())
}

/// Commits 10,000 records whose raw JSON all point at the same 1 MiB of
/// memory: ~1 MiB of guest memory asking the host to copy 10 GiB.
fn alias_flood() -> Result<(), PluginError> {
    let blob = leaked_json_string(1 << 20);
    let records = aliasing_records(blob, 10_000);
    storage::commit(SOURCE, &records, "aliased")
        .map_err(|e| PluginError::Host(format!("commit refused: {e:?}")))?;
    Ok(())
}

/// Splits 21 MiB over one call's arguments, each part under the host's
/// 16 MiB test transfer limit: a 7 MiB checkpoint and two records whose raw
/// JSON alias it. The limit is per call, not per argument.
fn split_flood() -> Result<(), PluginError> {
    let blob = leaked_json_string(7 << 20);
    let records = aliasing_records(blob, 2);
    storage::commit(SOURCE, &records, blob)
        .map_err(|e| PluginError::Host(format!("commit refused: {e:?}")))?;
    Ok(())
}

/// A JSON string of `len` bytes that is never freed (so records may alias
/// it), built in place: a `format!` would need twice the memory.
fn leaked_json_string(len: usize) -> &'static str {
    let mut bytes = vec![b'x'; len];
    bytes[0] = b'"';
    bytes[len - 1] = b'"';
    let text = String::from_utf8(bytes).expect("ASCII");
    Box::leak(text.into_boxed_str())
}

/// `count` records whose raw JSON is `blob` itself, not a copy of it.
fn aliasing_records(blob: &'static str, count: usize) -> ManuallyDrop<Vec<CollectedRecord>> {
    let (ptr, len) = (blob.as_ptr().cast_mut(), blob.len());
    let records = (0..count)
        .map(|n| CollectedRecord {
            raw_json: {
                // SAFETY: every copy aliases the leaked, never-freed `blob`;
                // the records are never dropped (ManuallyDrop), so nothing
                // frees it and nothing writes through these strings.
                let bytes = unsafe { Vec::from_raw_parts(ptr, len, len) };
                unsafe { String::from_utf8_unchecked(bytes) }
            },
            ..item(n as u64)
        })
        .collect();
    ManuallyDrop::new(records)
}

fn endless_loop() -> ! {
    let mut x: u64 = 1;
    loop {
        // No host calls: only the epoch deadline can stop this.
        x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
    }
}

fn memory_bomb() -> ! {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = vec![0u8; 1 << 20];
        // Touch every page so the memory is really committed.
        for i in (0..chunk.len()).step_by(4096) {
            chunk[i] = hoard.len() as u8 | 1;
        }
        hoard.push(black_box(chunk));
    }
}

fn get(url: &str) -> Result<http::Response, HttpError> {
    http::send(&Request {
        method: "GET".into(),
        url: url.into(),
        headers: Vec::new(),
        body: Vec::new(),
    })
}

fn describe_response(result: Result<http::Response, HttpError>) -> String {
    match result {
        Ok(resp) => format!("status={} body_len={}", resp.status, resp.body.len()),
        Err(e) => describe_http_error(&e),
    }
}

fn describe_http_error(e: &HttpError) -> String {
    match e {
        HttpError::Denied(m) => format!("denied: {m}"),
        HttpError::InvalidRequest(m) => format!("invalid-request: {m}"),
        HttpError::Timeout => "timeout".into(),
        HttpError::Connection(m) => format!("connection: {m}"),
        HttpError::BodyTooLarge(n) => format!("body-too-large: {n}"),
        HttpError::BudgetExhausted => "budget-exhausted".into(),
    }
}

fn describe_secret_error(e: &SecretError) -> String {
    match e {
        SecretError::NotDeclared(m) => format!("not-declared: {m}"),
        SecretError::NotSet(m) => format!("not-set: {m}"),
        SecretError::NotGranted(m) => format!("not-granted: {m}"),
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
