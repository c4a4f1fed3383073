//! Deterministic dataset generation: inventory, background activity, then scenarios.

use std::collections::{BTreeMap, HashSet};

use super::catalog::{self, CITIES, FIRST_NAMES, HOME_CITIES, LAST_NAMES, PHONE_MODELS, PROFILES};
use super::catalog::{factor as f, reason as rs, result as r};
use super::model::*;
use super::render::RenderedAuthEvents;
use super::rng::Rng;
use crate::config::SimConfig;

pub const MINUTE: i64 = 60_000;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

pub struct Dataset {
    pub users: Vec<User>,
    pub phones: Vec<Phone>,
    pub apps: Vec<App>,
    /// Sorted by (ms, txid): the order Duo pages in.
    pub events: Vec<Event>,
    pub admin_log: Vec<AdminEvent>,
    pub scenarios: BTreeMap<String, Vec<String>>,
    pub scenario_apps: BTreeMap<String, Vec<String>>,
    pub admins: Vec<String>,
    /// Auth events as first served (see [`RenderedAuthEvents`]).
    pub rendered_auth: RenderedAuthEvents,
}

impl Dataset {
    /// Users not deleted.
    pub fn live_users(&self) -> impl Iterator<Item = &User> {
        self.users.iter().filter(|u| !u.deleted)
    }

    /// Index of the first live user matching `wanted`.
    pub fn find_user(&self, wanted: impl Fn(&User) -> bool) -> Option<usize> {
        self.users.iter().position(|u| !u.deleted && wanted(u))
    }

    /// What `DELETE /admin/v1/users/{id}` does: the user leaves every
    /// listing; their phones stay, no longer attached to them.
    pub fn delete_user(&mut self, index: usize) {
        let phones = std::mem::take(&mut self.users[index].phones);
        for p in phones {
            self.phones[p as usize]
                .users
                .retain(|&u| u as usize != index);
        }
        self.users[index].deleted = true;
    }
}

pub struct Builder {
    pub rng: Rng,
    pub now: i64,
    pub ds: Dataset,
    names: HashSet<String>,
}

impl Builder {
    pub fn new(seed: u64, now: i64) -> Self {
        let mut rng = Rng::new(seed);
        let apps = catalog::APPS
            .iter()
            .map(|name| App {
                key: rng.duo_id("DI"),
                name: name.to_string(),
            })
            .collect();
        Builder {
            rng,
            now,
            ds: Dataset {
                users: Vec::new(),
                phones: Vec::new(),
                apps,
                events: Vec::new(),
                admin_log: Vec::new(),
                scenarios: BTreeMap::new(),
                scenario_apps: BTreeMap::new(),
                admins: vec!["Morgan Admin".into(), "Riley Helpdesk".into()],
                rendered_auth: RenderedAuthEvents::default(),
            },
            names: HashSet::new(),
        }
    }

    pub fn add_app(&mut self, name: &str) -> u16 {
        let key = self.rng.duo_id("DI");
        self.ds.apps.push(App {
            key,
            name: name.to_string(),
        });
        (self.ds.apps.len() - 1) as u16
    }

    fn unique_username(&mut self) -> (String, String) {
        loop {
            let first = *self.rng.pick(FIRST_NAMES);
            let last = *self.rng.pick(LAST_NAMES);
            let base = format!("{first}.{last}");
            let name = if self.names.contains(&base) {
                format!("{base}{}", self.rng.range(2, 100))
            } else {
                base
            };
            if self.names.insert(name.clone()) {
                let realname = format!("{} {}", capitalise(first), capitalise(last));
                return (name, realname);
            }
        }
    }

    /// A regular, enrolled, active user with one smartphone, living in `city`.
    pub fn add_user(&mut self, city: usize) -> u32 {
        let (username, realname) = self.unique_username();
        let idx = self.ds.users.len() as u32;
        let net = CITIES[city].net;
        let ip = u32::from_be_bytes([
            net[0],
            net[1],
            self.rng.below(250) as u8 + 2,
            self.rng.below(250) as u8 + 2,
        ]);
        let mut groups = vec![0u8];
        groups.push(1 + self.rng.below(catalog::GROUPS.len() as u64 - 1) as u8);
        let user = User {
            id: self.rng.duo_id("DU"),
            email: format!("{username}@example.com"),
            username,
            realname,
            status: UserStatus::Active,
            lockout_reason: None,
            created_s: (self.now - self.rng.range(200, 900) * DAY) / 1000,
            last_login_s: None,
            phones: Vec::new(),
            groups,
            home_city: city as u8,
            ip,
            profile: self.rng.below(PROFILES.len() as u64 - 3) as u8,
            epkey: self.rng.duo_id("EP"),
            webauthn_key: None,
            token_serial: None,
            trusted_endpoint: ["trusted", "not trusted", "unknown"][self.rng.weighted(&[6, 2, 2])],
            notes: String::new(),
            deleted: false,
        };
        self.ds.users.push(user);
        let model = self.rng.below(PHONE_MODELS.len() as u64) as usize;
        self.add_phone(idx, model, caps::SMARTPHONE);
        idx
    }

    pub fn add_phone(&mut self, user: u32, model: usize, capabilities: u8) -> u32 {
        let m = &PHONE_MODELS[model];
        let number = format!("+1555{:07}", self.rng.below(10_000_000));
        let phone = Phone {
            id: self.rng.duo_id("DP"),
            name: String::new(),
            number,
            platform: m.platform,
            model: m.model,
            kind: "mobile",
            activated: true,
            capabilities,
            last_seen_s: Some((self.now - self.rng.range(1, 5 * DAY)) / 1000),
            users: vec![user],
        };
        self.ds.phones.push(phone);
        let idx = (self.ds.phones.len() - 1) as u32;
        self.ds.users[user as usize].phones.push(idx);
        idx
    }

    /// A successful push from the user's usual place and phone; callers adjust fields.
    pub fn event(&mut self, user: u32, ms: i64, app: u16) -> &mut Event {
        let u = &self.ds.users[user as usize];
        let phone = u.phones.first().copied().unwrap_or(NO_PHONE);
        let carrier_ip = carrier_ip(u.home_city as usize, user);
        let ev = Event {
            ms,
            txid: self.rng.uuid(),
            user,
            access_ip: u.ip,
            auth_ip: carrier_ip,
            phone,
            app,
            access_city: u.home_city,
            auth_city: u.home_city,
            factor: f::PUSH,
            result: r::SUCCESS,
            reason: rs::USER_APPROVED,
            flags: 0,
            profile: u.profile,
        };
        self.ds.events.push(ev);
        self.ds.events.last_mut().expect("just pushed")
    }

    pub fn background(&mut self, cfg: &SimConfig, users: &[u32]) {
        if users.is_empty() {
            return;
        }
        let span = i64::from(cfg.history_days.clamp(1, 179)) * DAY;
        let regular_apps = catalog::APPS.len() as u64;
        self.ds.events.reserve(cfg.auth_events);
        // A per-user preferred factor gives realistic, stable factor mixes.
        let preferred: Vec<u8> = users
            .iter()
            .map(|_| {
                [
                    f::PUSH,
                    f::WEBAUTHN,
                    f::MOBILE_OTP,
                    f::SMS,
                    f::PHONE_CALL,
                    f::TOKEN,
                ][self.rng.weighted(&[800, 80, 50, 40, 20, 10])]
            })
            .collect();
        for (i, &u) in users.iter().enumerate() {
            if preferred[i] == f::WEBAUTHN {
                self.ds.users[u as usize].webauthn_key = Some(self.rng.duo_id("WA"));
            }
            if preferred[i] == f::TOKEN {
                self.ds.users[u as usize].token_serial =
                    Some(format!("{}", self.rng.range(100_000, 999_999)));
            }
        }
        for _ in 0..cfg.auth_events {
            let slot = self.rng.below(users.len() as u64) as usize;
            let user = users[slot];
            // Background history ends where Duo's 2-minute delay ends, so the visible
            // set is stable from the start; newer events come from tests and pushes.
            let ms = self.now - 2 * MINUTE - self.rng.range(0, span);
            let app = self.rng.below(regular_apps) as u16;
            let factor = if self.rng.chance(850) {
                preferred[slot]
            } else {
                f::PUSH
            };
            let outcome = self.rng.below(1000);
            let remembered = self.rng.chance(30);
            let unknown_health = self.rng.chance(300);
            let ev = self.event(user, ms, app);
            if unknown_health {
                ev.flags |= flags::HEALTH_UNKNOWN;
            }
            ev.factor = factor;
            apply_factor_outcome(ev, factor, outcome, remembered);
        }
    }

    pub fn finish(mut self) -> Dataset {
        self.ds.events.sort_unstable_by_key(Event::key);
        let mut last: Vec<Option<i64>> = vec![None; self.ds.users.len()];
        for e in &self.ds.events {
            if e.result == r::SUCCESS && e.flags & flags::ENROLLMENT == 0 {
                let slot = &mut last[e.user as usize];
                *slot = Some(slot.map_or(e.ms, |v: i64| v.max(e.ms)));
            }
        }
        for (u, l) in self.ds.users.iter_mut().zip(last) {
            if let Some(ms) = l {
                u.last_login_s = Some(u.last_login_s.map_or(ms / 1000, |v| v.max(ms / 1000)));
            }
        }
        self.ds.admin_log.sort_by_key(|a| a.ms);
        self.ds
    }
}

/// Outcome for a background event: mostly success, some ordinary denials and errors,
/// never the reasons the insight rules look for (those are planted deliberately).
fn apply_factor_outcome(ev: &mut Event, factor: u8, outcome: u64, remembered: bool) {
    match factor {
        f::PUSH | f::PHONE_CALL | f::WEBAUTHN => ev.reason = rs::USER_APPROVED,
        _ => ev.reason = rs::VALID_PASSCODE,
    }
    if matches!(factor, f::WEBAUTHN | f::TOKEN | f::SMS | f::MOBILE_OTP) {
        ev.auth_city = NO_CITY;
        ev.auth_ip = 0;
    }
    if factor == f::WEBAUTHN || factor == f::TOKEN {
        ev.phone = NO_PHONE;
    }
    if outcome < 930 {
        if remembered && factor == f::PUSH {
            ev.factor = f::REMEMBERED;
            ev.reason = rs::REMEMBERED_DEVICE;
            ev.phone = NO_PHONE;
            ev.auth_city = NO_CITY;
            ev.auth_ip = 0;
        }
        return;
    }
    ev.result = r::DENIED;
    ev.reason = match factor {
        f::PUSH => [rs::USER_MISTAKE, rs::NO_RESPONSE, rs::USER_CANCELLED][(outcome % 3) as usize],
        f::PHONE_CALL => rs::CALL_TIMED_OUT,
        f::WEBAUTHN => rs::USER_CANCELLED,
        _ => rs::INVALID_PASSCODE,
    };
    if outcome >= 985 {
        ev.reason = [rs::DENIED_BY_POLICY, rs::NOT_IN_GROUP][(outcome % 2) as usize];
        ev.factor = f::NOT_AVAILABLE;
        ev.phone = NO_PHONE;
        ev.auth_city = NO_CITY;
        ev.auth_ip = 0;
    }
    if outcome >= 995 {
        ev.result = r::ERROR;
        ev.reason = rs::ERROR;
    }
}

/// A mobile-carrier address in the same city as the user, stable per user.
pub fn carrier_ip(city: usize, user: u32) -> u32 {
    let net = CITIES[city].net;
    u32::from_be_bytes([
        net[0],
        net[1].wrapping_add(1),
        200 + (user % 50) as u8,
        (user / 50 % 250) as u8 + 2,
    ])
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// Builds the whole dataset. Scenario users count towards `users` (at least the
/// scenario users exist even if `users` is smaller); scenario events come on top of
/// `auth_events`.
pub fn generate(cfg: &SimConfig, now: i64) -> Dataset {
    let mut b = Builder::new(cfg.seed, now);
    let scenario_users = if cfg.scenarios {
        super::scenarios::USER_COUNT
    } else {
        0
    };
    let background_count = cfg.users.saturating_sub(scenario_users);
    let mut background = Vec::with_capacity(background_count);
    for _ in 0..background_count {
        let city = HOME_CITIES[b.rng.below(HOME_CITIES.len() as u64) as usize];
        background.push(b.add_user(city));
    }
    b.background(cfg, &background);
    admin_history(&mut b, cfg);
    if cfg.scenarios {
        super::scenarios::plant(&mut b);
    }
    b.finish()
}

fn admin_history(b: &mut Builder, cfg: &SimConfig) {
    let days = i64::from(cfg.history_days.clamp(1, 179));
    for d in 0..days {
        for admin in 0..b.ds.admins.len() {
            let ms = b.now - d * DAY - b.rng.range(HOUR, 10 * HOUR);
            let name = b.ds.admins[admin].clone();
            b.ds.admin_log.push(AdminEvent {
                ms,
                action: "admin_login",
                object: name.clone(),
                username: name,
                description: r#"{"ip_address": "72.229.10.4", "device": "555-123-4567", "factor": "push", "primary_auth_method": "Password"}"#.into(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_compact() {
        let cfg = SimConfig {
            auth_events: 5000,
            ..SimConfig::default()
        };
        let a = generate(&cfg, 1_800_000_000_000);
        let b = generate(&cfg, 1_800_000_000_000);
        assert_eq!(a.events.len(), b.events.len());
        assert!(
            a.events
                .iter()
                .zip(&b.events)
                .all(|(x, y)| x.key() == y.key())
        );
        assert_eq!(a.users.len(), cfg.users);
        assert!(a.events.windows(2).all(|w| w[0].key() <= w[1].key()));
        assert!(std::mem::size_of::<Event>() <= 64);
        let c = generate(&SimConfig { seed: 7, ..cfg }, 1_800_000_000_000);
        assert_ne!(a.events[0].txid, c.events[0].txid);
    }

    #[test]
    fn every_insight_has_a_scenario() {
        let ds = generate(
            &SimConfig {
                auth_events: 1000,
                ..SimConfig::default()
            },
            1_800_000_000_000,
        );
        let planted: usize = ds.scenarios.values().map(Vec::len).sum();
        // Users tagged under two ids are counted twice.
        assert_eq!(planted, super::super::scenarios::USER_COUNT + 2);
        for i in 1..=24 {
            let id = format!("DUO-{i:02}");
            assert!(
                ds.scenarios.get(&id).is_some_and(|v| !v.is_empty()),
                "{id} has no scenario"
            );
        }
        for id in [
            "DUO-02", "DUO-03", "DUO-07", "DUO-08", "DUO-14", "DUO-15", "DUO-18", "DUO-19",
            "DUO-24",
        ] {
            assert!(ds.scenarios.contains_key(&format!("{id}-lookalike")));
        }
        let names: std::collections::HashSet<&str> =
            ds.users.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names.len(), ds.users.len(), "usernames are unique");
        let recent = 1_800_000_000_000 - 3 * DAY;
        let flood = ds
            .users
            .iter()
            .position(|u| u.username == ds.scenarios["DUO-02"][0])
            .unwrap() as u32;
        assert_eq!(
            ds.events
                .iter()
                .filter(|e| e.user == flood && e.ms > recent && e.result == 1)
                .count(),
            6
        );
    }

    #[test]
    fn generates_a_million_events_quickly() {
        let start = std::time::Instant::now();
        let ds = generate(
            &SimConfig {
                auth_events: 1_000_000,
                ..SimConfig::default()
            },
            1_800_000_000_000,
        );
        let took = start.elapsed();
        assert!(ds.events.len() > 1_000_000);
        eprintln!("generated {} events in {took:.2?}", ds.events.len());
        // Generous for unoptimised test builds on a loaded 2-core machine.
        assert!(took.as_secs() < 60, "{took:?}");
    }
}
