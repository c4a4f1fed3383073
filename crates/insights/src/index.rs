//! The prepared view every rule works on: auth events sorted by time once,
//! classified once, grouped by user once; inventory indexed by id and name.
//! Rules then walk index lists and never clone strings in their loops.

use super::fxhash::FxHashMap;

use oort_model::{AuthEvent, MfaDevice, Normalized, UserAccount};

use super::factors::{NO_MFA_REASONS, Tier, WEAK_FACTORS, factor_tier, reason_tier};
use super::geo::{GeoPoint, gazetteer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// `denied` and `failure`: the attempt was refused.
    Denied,
    Fraud,
    Error,
    Other,
}

fn outcome(result: &str) -> Outcome {
    let r = result.trim();
    if r.eq_ignore_ascii_case("success") {
        Outcome::Success
    } else if r.eq_ignore_ascii_case("denied") || r.eq_ignore_ascii_case("failure") {
        Outcome::Denied
    } else if r.eq_ignore_ascii_case("fraud") {
        Outcome::Fraud
    } else if r.eq_ignore_ascii_case("error") {
        Outcome::Error
    } else {
        Outcome::Other
    }
}

/// Reasons of a denied push that the user (or Duo, for harassment) refused.
const DENY_PUSH_REASONS: [&str; 4] = [
    "user_mistake",
    "no_response",
    "user_cancelled",
    "anomalous_push",
];

/// The reasons rules test for, matched once per event instead of by string
/// comparison in every rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonKind {
    Other,
    UserMarkedFraud,
    AnomalousPush,
    BypassUser,
    LockedOut,
    AnonymousIp,
    /// A device-health denial reason (DUO-23).
    DeviceHealth,
}

pub const HEALTH_REASONS: [&str; 9] = [
    "endpoint_is_not_trusted",
    "endpoint_is_not_in_management_system",
    "endpoint_failed_google_verification",
    "could_not_determine_if_endpoint_was_trusted",
    "invalid_device",
    "rooted_device",
    "out_of_date",
    "no_screen_lock",
    "no_disk_encryption",
];

fn reason_kind(reason: &str) -> ReasonKind {
    match reason {
        "user_marked_fraud" => ReasonKind::UserMarkedFraud,
        "anomalous_push" => ReasonKind::AnomalousPush,
        "bypass_user" => ReasonKind::BypassUser,
        "locked_out" => ReasonKind::LockedOut,
        "anonymous_ip" => ReasonKind::AnonymousIp,
        r if HEALTH_REASONS.contains(&r) => ReasonKind::DeviceHealth,
        _ => ReasonKind::Other,
    }
}

/// Marks an event whose user is not in the inventory index yet.
const UNRESOLVED: u32 = u32::MAX - 1;

fn lookup_user(e: &AuthEvent, index: &FxHashMap<&str, u32>) -> u32 {
    let id = e.user_id.as_deref().filter(|s| !s.is_empty());
    let name = e.user_name.as_deref().filter(|s| !s.is_empty());
    if id.is_none() && name.is_none() {
        return NO_USER;
    }
    id.and_then(|k| index.get(k))
        .or_else(|| name.and_then(|n| index.get(n)))
        .copied()
        .unwrap_or(UNRESOLVED)
}

fn classify<'a>(raw: &[&'a AuthEvent], index: &FxHashMap<&str, u32>) -> Vec<Ev<'a>> {
    raw.iter()
        .map(|&e| {
            let reason = e.reason.as_deref().unwrap_or("");
            let factor = e.factor.as_deref().unwrap_or("");
            let outcome = outcome(&e.result);
            let is_push = factor == "duo_push";
            Ev {
                e,
                ts: e.occurred_at_ms,
                outcome,
                reason,
                factor,
                tier: reason_tier(reason).unwrap_or_else(|| factor_tier(factor)),
                user: lookup_user(e, index),
                reason_kind: reason_kind(reason),
                no_mfa: NO_MFA_REASONS.contains(&reason),
                weak: WEAK_FACTORS.contains(&factor),
                bypass_code: factor == "bypass_code",
                is_push,
                is_deny_push: outcome == Outcome::Denied
                    && is_push
                    && DENY_PUSH_REASONS.contains(&reason),
                ip: usable_ip(e.access_device.ip.as_deref()),
                is_enrollment: e.event_type.eq_ignore_ascii_case("enrollment"),
            }
        })
        .collect()
}

/// One classified auth event.
pub struct Ev<'a> {
    pub e: &'a AuthEvent,
    pub ts: i64,
    pub outcome: Outcome,
    /// Lower snake case per the WIT contract; `""` when absent.
    pub reason: &'a str,
    pub factor: &'a str,
    /// Strength of what actually let the user in (reason trumps factor:
    /// `bypass_user` with `duo_push` is no MFA).
    pub tier: Tier,
    /// Index into [`Dataset::users`], or `NO_USER`.
    pub user: u32,
    pub reason_kind: ReasonKind,
    /// The reason says the second factor was skipped (`NO_MFA_REASONS`).
    pub no_mfa: bool,
    /// SMS or phone call (`WEAK_FACTORS`).
    pub weak: bool,
    pub bypass_code: bool,
    pub is_push: bool,
    pub is_deny_push: bool,
    /// Duo's inline enrollment (`event_type = enrollment`).
    pub is_enrollment: bool,
    /// The access device IP when usable (see [`usable_ip`]).
    pub ip: Option<&'a str>,
}

pub const NO_USER: u32 = u32::MAX;

/// A person as seen in events and/or inventory.
pub struct User<'a> {
    /// Duo user id when known (stable join key), else the user name.
    pub key: &'a str,
    pub name: &'a str,
    pub account: Option<&'a UserAccount>,
    /// Indices into [`Dataset::events`], in time order.
    pub events: Vec<u32>,
    /// Inventory devices linked to the user, from either side's list.
    pub devices: Vec<&'a MfaDevice>,
}

pub struct Dataset<'a> {
    pub now_ms: i64,
    pub events: Vec<Ev<'a>>,
    pub users: Vec<User<'a>>,
    pub devices: Vec<&'a MfaDevice>,
    pub device_by_id: FxHashMap<&'a str, &'a MfaDevice>,
    /// User index by user id and by user name (names of accounts only).
    user_index: FxHashMap<&'a str, u32>,
}

/// Whether an IP string carries an address (Duo sends `"None"`, `"unknown"`).
pub fn usable_ip(ip: Option<&str>) -> Option<&str> {
    ip.map(str::trim).filter(|ip| {
        !ip.is_empty()
            && !ip.eq_ignore_ascii_case("none")
            && !ip.eq_ignore_ascii_case("unknown")
            && *ip != "0.0.0.0"
    })
}

impl<'a> Dataset<'a> {
    pub fn build(records: &'a [Normalized], now_ms: i64) -> Dataset<'a> {
        let mut raw: Vec<&'a AuthEvent> = Vec::new();
        let mut accounts: Vec<&'a UserAccount> = Vec::new();
        let mut devices: Vec<&'a MfaDevice> = Vec::new();
        for r in records {
            match r {
                Normalized::AuthEvent(e) => raw.push(e),
                Normalized::UserAccount(u) => accounts.push(u),
                Normalized::MfaDevice(d) => devices.push(d),
                Normalized::None => {}
            }
        }
        // Ties broken by event id so the order (and thus every finding) is
        // independent of the order the store returned records in. Sorting
        // (ts, position) pairs first keeps the sort off the scattered events;
        // ids are compared only within runs of equal time stamps.
        let mut order: Vec<(i64, u32)> = raw
            .iter()
            .enumerate()
            .map(|(i, e)| (e.occurred_at_ms, i as u32))
            .collect();
        order.sort_unstable();
        let mut start = 0;
        while start < order.len() {
            let ts = order[start].0;
            let end = start + order[start..].partition_point(|(t, _)| *t == ts);
            if end - start > 1 {
                order[start..end].sort_unstable_by(|a, b| {
                    raw[a.1 as usize].event_id.cmp(&raw[b.1 as usize].event_id)
                });
            }
            start = end;
        }
        let raw: Vec<&'a AuthEvent> = order.into_iter().map(|(_, i)| raw[i as usize]).collect();
        accounts.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        devices.sort_by(|a, b| a.device_id.cmp(&b.device_id));

        let mut ds = Dataset {
            now_ms,
            events: Vec::new(),
            users: Vec::new(),
            device_by_id: devices.iter().map(|d| (d.device_id.as_str(), *d)).collect(),
            devices,
            user_index: FxHashMap::default(),
        };
        for a in accounts {
            let idx = ds.users.len() as u32;
            ds.users.push(User {
                key: &a.user_id,
                name: &a.user_name,
                account: Some(a),
                events: Vec::new(),
                devices: a
                    .device_ids
                    .iter()
                    .filter_map(|id| ds.device_by_id.get(id.as_str()).copied())
                    .collect(),
            });
            ds.user_index.insert(&a.user_id, idx);
            ds.user_index.entry(&a.user_name).or_insert(idx);
        }
        for d in &ds.devices {
            for uid in &d.user_ids {
                if let Some(&u) = ds.user_index.get(uid.as_str()) {
                    let list = &mut ds.users[u as usize].devices;
                    if !list.iter().any(|x| x.device_id == d.device_id) {
                        list.push(d);
                    }
                }
            }
        }
        // Classifying an event touches its scattered strings (memory-bound),
        // so the two halves are classified on two threads, resolving users
        // already in the inventory through the (read-only) index. Users seen
        // only in events are interned afterwards, sequentially.
        let half = raw.len() / 2;
        let (left, right) = raw.split_at(half);
        let known = &ds.user_index;
        let (mut events, tail) = std::thread::scope(|s| {
            let r = s.spawn(|| classify(right, known));
            (
                classify(left, known),
                r.join().expect("event classification panicked"),
            )
        });
        events.extend(tail);
        for ev in events.iter_mut().filter(|ev| ev.user == UNRESOLVED) {
            ev.user = ds.intern_user(ev.e);
        }
        // Per-user event lists by counting sort: sequential passes over
        // compact arrays instead of a million pushes into scattered vectors.
        let mut counts = vec![0u32; ds.users.len() + 1];
        for ev in &events {
            if ev.user != NO_USER {
                counts[ev.user as usize + 1] += 1;
            }
        }
        for u in 1..counts.len() {
            counts[u] += counts[u - 1];
        }
        let mut flat = vec![0u32; counts[ds.users.len()] as usize];
        let mut next = counts.clone();
        for (i, ev) in events.iter().enumerate() {
            if ev.user != NO_USER {
                let slot = &mut next[ev.user as usize];
                flat[*slot as usize] = i as u32;
                *slot += 1;
            }
        }
        for (u, user) in ds.users.iter_mut().enumerate() {
            user.events = flat[counts[u] as usize..counts[u + 1] as usize].to_vec();
        }
        ds.events = events;
        ds
    }

    fn intern_user(&mut self, e: &'a AuthEvent) -> u32 {
        let id = e.user_id.as_deref().filter(|s| !s.is_empty());
        let name = e.user_name.as_deref().filter(|s| !s.is_empty());
        let Some(key) = id.or(name) else {
            return NO_USER;
        };
        if let Some(&i) = self.user_index.get(key) {
            return i;
        }
        // An event without user id may still name a known account.
        if let Some(&i) = name.and_then(|n| self.user_index.get(n)) {
            return i;
        }
        let idx = self.users.len() as u32;
        self.users.push(User {
            key,
            name: name.unwrap_or(key),
            account: None,
            events: Vec::new(),
            devices: Vec::new(),
        });
        self.user_index.insert(key, idx);
        idx
    }

    pub fn user(&self, idx: u32) -> &User<'a> {
        &self.users[idx as usize]
    }
}

/// A country as compared by location rules: ISO code when the gazetteer knows
/// the name, otherwise the name itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CountryKey<'a> {
    Iso([u8; 2]),
    Raw(&'a str),
}

impl std::fmt::Display for CountryKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CountryKey::Iso(c) => write!(f, "{}{}", c[0] as char, c[1] as char),
            CountryKey::Raw(s) => f.write_str(s),
        }
    }
}

/// Memoized gazetteer lookups: Duo repeats the same few hundred places, so
/// each distinct (raw) string triple is cleaned and resolved once per evaluation.
#[derive(Default)]
pub struct Locator<'a> {
    countries: FxHashMap<&'a str, Option<CountryKey<'a>>>,
    places: FxHashMap<(&'a str, &'a str, &'a str), Resolved<'a>>,
}

/// A place's country key and, when the city resolves, its centroid.
pub type Resolved<'a> = (Option<CountryKey<'a>>, Option<GeoPoint>);

fn known(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| {
        !s.is_empty() && !s.eq_ignore_ascii_case("unknown") && !s.eq_ignore_ascii_case("none")
    })
}

fn raw(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

fn country_key(c: &str) -> Option<CountryKey<'_>> {
    let c = known(c)?;
    Some(match gazetteer().country_code(c) {
        Some(iso) => CountryKey::Iso(iso),
        None => CountryKey::Raw(c),
    })
}

impl<'a> Locator<'a> {
    pub fn country(&mut self, loc: &'a oort_model::GeoLocation) -> Option<CountryKey<'a>> {
        let c = raw(&loc.country);
        *self.countries.entry(c).or_insert_with(|| country_key(c))
    }

    /// The country key and, when the city resolves, its centroid.
    pub fn resolve(&mut self, loc: &'a oort_model::GeoLocation) -> Resolved<'a> {
        let key = (raw(&loc.city), raw(&loc.state), raw(&loc.country));
        *self.places.entry(key).or_insert_with(|| {
            let (city, state, country) = key;
            let point = (|| {
                let city = known(city)?;
                let country = known(country)?;
                gazetteer().locate(city, known(state), country)
            })();
            (country_key(country), point)
        })
    }
}

impl<'a> Dataset<'a> {
    /// Display name for a user id or name; the input itself when unknown.
    pub fn name_of<'s>(&self, key: &'s str) -> &'s str
    where
        'a: 's,
    {
        match self.user_index.get(key) {
            Some(&i) => self.users[i as usize].name,
            None => key,
        }
    }

    /// Ts of the user's latest success, from events or the inventory.
    pub fn last_activity(&self, user: &User<'a>) -> Option<i64> {
        let from_events = user
            .events
            .iter()
            .rev()
            .map(|&i| &self.events[i as usize])
            .find(|e| e.outcome == Outcome::Success)
            .map(|e| e.ts);
        from_events.max(user.account.and_then(|a| a.last_login_ms))
    }
}

impl Dataset<'_> {
    /// The display name of the user of event `i` (`"(unknown user)"` if none).
    pub fn user_name_of(&self, i: u32) -> &str {
        match self.events[i as usize].user {
            NO_USER => "(unknown user)",
            u => self.users[u as usize].name,
        }
    }
}
