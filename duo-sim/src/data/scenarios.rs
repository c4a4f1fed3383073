//! Planted scenarios, one per insight DUO-01..DUO-24 of insights.md, plus look-alikes
//! that a correct rule must NOT flag. Everything happens in the last few days, well
//! inside the visible window.

use super::catalog::{PHONE_MODELS, city_index, factor as f, reason as rs, result as r};
use super::generate::{Builder, DAY, HOUR, MINUTE};
use super::model::*;

/// Users created by `plant` (checked by a unit test).
pub const USER_COUNT: usize = 53;

/// Tor exit addresses used by the DUO-17 scenario (what a threat feed would list).
pub const ANONYMIZER_IPS: [&str; 2] = ["185.220.101.47", "185.220.101.48"];
/// The address that sprays several accounts in the DUO-19 scenario.
pub const SPRAY_IP: &str = "45.155.205.233";

fn ip(s: &str) -> u32 {
    u32::from(s.parse::<std::net::Ipv4Addr>().expect("static address"))
}

struct Planter<'a> {
    b: &'a mut Builder,
    m365: u16,
    vpn: u16,
    ssh: u16,
}

impl Planter<'_> {
    fn user(&mut self, id: &str, city: &str) -> u32 {
        let u = self.b.add_user(city_index(city));
        let name = self.b.ds.users[u as usize].username.clone();
        self.b
            .ds
            .scenarios
            .entry(id.to_string())
            .or_default()
            .push(name);
        u
    }

    /// Also list an existing user under another scenario id.
    fn tag(&mut self, id: &str, u: u32) {
        let name = self.b.ds.users[u as usize].username.clone();
        self.b
            .ds
            .scenarios
            .entry(id.to_string())
            .or_default()
            .push(name);
    }

    /// Ordinary successful pushes from home, 4 to 25 days ago.
    fn baseline(&mut self, u: u32, n: usize) {
        for i in 0..n {
            let ms = self.b.now - 4 * DAY - (i as i64) * 2 * DAY - self.b.rng.range(0, 20 * HOUR);
            let app = [self.m365, self.vpn][i % 2];
            self.b.event(u, ms, app);
        }
    }

    fn deny_push(&mut self, u: u32, ms: i64, reason: u8) {
        let app = self.m365;
        let ev = self.b.event(u, ms, app);
        ev.result = r::DENIED;
        ev.reason = reason;
    }

    fn at_city(ev: &mut Event, city: &str, addr: u32) {
        ev.access_city = city_index(city) as u8;
        ev.access_ip = addr;
    }
}

pub fn plant(b: &mut Builder) {
    let m365 = 0;
    let vpn = 2;
    let ssh = 13;
    let citrix = b.add_app("Legacy Citrix Gateway");
    let wiki = b.add_app("Intranet Wiki");
    b.ds.scenario_apps
        .insert("DUO-12".into(), vec!["Legacy Citrix Gateway".into()]);
    b.ds.scenario_apps
        .insert("DUO-13".into(), vec!["Intranet Wiki".into()]);
    let now = b.now;
    let mut p = Planter { b, m365, vpn, ssh };

    // DUO-01 user-reported fraud.
    let u = p.user("DUO-01", "Seattle");
    p.baseline(u, 6);
    let ev = p.b.event(u, now - 26 * HOUR, m365);
    ev.result = r::FRAUD;
    ev.reason = rs::USER_MARKED_FRAUD;

    // DUO-02 push bombing: 6 denied pushes in 6 minutes. Look-alike: 3 denials in 10 minutes.
    let u = p.user("DUO-02", "Denver");
    p.baseline(u, 6);
    for i in 0..6 {
        let reason = [rs::NO_RESPONSE, rs::USER_MISTAKE, rs::USER_CANCELLED][i % 3];
        p.deny_push(u, now - 30 * HOUR + i as i64 * MINUTE, reason);
    }
    let u = p.user("DUO-02-lookalike", "Denver");
    p.baseline(u, 6);
    for i in 0..3 {
        p.deny_push(u, now - 40 * HOUR + i as i64 * 5 * MINUTE, rs::NO_RESPONSE);
    }

    // DUO-03 push fatigue: 4 denials then an approval. Look-alike: 2 denials then approval.
    let u = p.user("DUO-03", "Atlanta");
    p.baseline(u, 6);
    let t = now - 20 * HOUR;
    for i in 0..4 {
        p.deny_push(u, t + i * 3 * MINUTE, rs::NO_RESPONSE);
    }
    p.b.event(u, t + 11 * MINUTE, m365);
    let u = p.user("DUO-03-lookalike", "Atlanta");
    p.baseline(u, 6);
    p.deny_push(u, t, rs::USER_MISTAKE);
    p.deny_push(u, t + 2 * MINUTE, rs::NO_RESPONSE);
    p.b.event(u, t + 4 * MINUTE, m365);

    // DUO-04 Duo blocked an anomalous push.
    let u = p.user("DUO-04", "Austin");
    p.baseline(u, 6);
    p.deny_push(u, now - 28 * HOUR, rs::ANOMALOUS_PUSH);

    // DUO-05 bypass used (status bypass, and a bypass code); DUO-06 users in bypass status.
    let u = p.user("DUO-05", "Chicago");
    p.b.ds.users[u as usize].status = UserStatus::Bypass;
    p.tag("DUO-06", u);
    for i in 0..4 {
        let ev = p.b.event(u, now - (i + 1) * 30 * HOUR, m365);
        ev.factor = f::NOT_AVAILABLE;
        ev.reason = rs::BYPASS_USER;
        ev.phone = NO_PHONE;
        ev.auth_city = NO_CITY;
        ev.auth_ip = 0;
    }
    admin_update(
        p.b,
        u,
        now - 6 * DAY,
        "user_update",
        r#"{"status": "Bypass"}"#,
    );
    let u = p.user("DUO-05", "Chicago");
    p.baseline(u, 6);
    let ev = p.b.event(u, now - 22 * HOUR, vpn);
    ev.factor = f::BYPASS_CODE;
    ev.reason = rs::VALID_PASSCODE;
    ev.phone = NO_PHONE;
    ev.auth_city = NO_CITY;
    ev.auth_ip = 0;
    admin_update(
        p.b,
        u,
        now - 23 * HOUR,
        "bypass_create",
        r#"{"bypass": "", "count": 1, "valid_secs": 3600, "remaining_uses": 1}"#,
    );
    let u = p.user("DUO-06", "Boston");
    p.b.ds.users[u as usize].status = UserStatus::Bypass;
    p.b.ds.users[u as usize].groups.push(4); // IT Admins: a privileged bypass user
    p.b.ds.users[u as usize].last_login_s = Some((now - 3 * DAY) / 1000);
    admin_update(
        p.b,
        u,
        now - 12 * DAY,
        "user_update",
        r#"{"status": "Bypass"}"#,
    );

    // DUO-07 not enrolled after the 14-day grace (uses the wiki, which lets unenrolled users in).
    let u = p.user("DUO-07", "Chicago");
    unenroll(p.b, u);
    p.b.ds.users[u as usize].created_s = (now - 60 * DAY) / 1000;
    for i in 0..3 {
        let ev = p.b.event(u, now - (i + 1) * 26 * HOUR, wiki);
        ev.factor = f::NOT_AVAILABLE;
        ev.reason = rs::ALLOW_UNENROLLED;
        ev.phone = NO_PHONE;
        ev.auth_city = NO_CITY;
        ev.auth_ip = 0;
    }
    let u = p.user("DUO-07-lookalike", "Chicago");
    unenroll(p.b, u);
    p.b.ds.users[u as usize].created_s = (now - 3 * DAY) / 1000;

    // DUO-08 never logged in (created 20 days ago). Look-alike: created 2 days ago.
    let u = p.user("DUO-08", "Austin");
    p.b.ds.users[u as usize].created_s = (now - 20 * DAY) / 1000;
    let u = p.user("DUO-08-lookalike", "Austin");
    p.b.ds.users[u as usize].created_s = (now - 2 * DAY) / 1000;

    // DUO-09 inactive: last login 100 days ago, nothing since.
    let u = p.user("DUO-09", "Toronto");
    p.b.ds.users[u as usize].last_login_s = Some((now - 100 * DAY) / 1000);

    // DUO-10 inactive 45 days, then 3 failed attempts from an unfamiliar address.
    let u = p.user("DUO-10", "Seattle");
    p.tag("DUO-09", u);
    p.b.ds.users[u as usize].last_login_s = Some((now - 45 * DAY) / 1000);
    for i in 0..3 {
        let ev = p.b.event(u, now - 18 * HOUR + i * 7 * MINUTE, vpn);
        ev.result = r::DENIED;
        ev.reason = rs::INVALID_PASSCODE;
        ev.factor = f::PASSCODE;
        ev.phone = NO_PHONE;
        ev.auth_city = NO_CITY;
        ev.auth_ip = 0;
        Planter::at_city(ev, "Lagos", ip("105.112.44.9"));
    }

    // DUO-11 weak-factor-only: an SMS/voice-only phone, all successes by SMS or call.
    let u = p.user("DUO-11", "Ann Arbor");
    let phone = p.b.ds.users[u as usize].phones[0] as usize;
    p.b.ds.phones[phone].platform = "Generic Feature Phone";
    p.b.ds.phones[phone].model = "Unknown";
    p.b.ds.phones[phone].capabilities = caps::SMS | caps::PHONE;
    for i in 0..5 {
        let ev = p.b.event(u, now - (i + 1) * 2 * DAY - 5 * HOUR, m365);
        ev.factor = if i % 2 == 0 { f::SMS } else { f::PHONE_CALL };
        ev.reason = if i % 2 == 0 {
            rs::VALID_PASSCODE
        } else {
            rs::USER_APPROVED
        };
        if i % 2 == 0 {
            ev.auth_city = NO_CITY;
            ev.auth_ip = 0;
        }
    }
    let u = p.user("DUO-11-lookalike", "Ann Arbor");
    p.baseline(u, 6);
    let ev = p.b.event(u, now - 50 * HOUR, m365);
    ev.factor = f::SMS;
    ev.reason = rs::VALID_PASSCODE;

    // DUO-12 an application authenticated mostly by SMS / phone call.
    for _ in 0..3 {
        let u = p.user("DUO-12", "New York");
        p.baseline(u, 4);
        for i in 0..8 {
            let ev = p.b.event(u, now - (i + 1) * 20 * HOUR - p_off(u), citrix);
            ev.factor = if i % 3 == 0 { f::PHONE_CALL } else { f::SMS };
            ev.reason = if i % 3 == 0 {
                rs::USER_APPROVED
            } else {
                rs::VALID_PASSCODE
            };
        }
    }

    // DUO-13 an application where most successes skip MFA.
    for _ in 0..4 {
        let u = p.user("DUO-13", "San Francisco");
        p.baseline(u, 4);
        for i in 0..8 {
            let ev = p.b.event(u, now - (i + 1) * 19 * HOUR - p_off(u), wiki);
            if i % 4 == 3 {
                continue;
            }
            ev.factor = if i % 2 == 0 {
                f::NOT_AVAILABLE
            } else {
                f::REMEMBERED
            };
            ev.reason = if i % 2 == 0 {
                rs::ALLOWED_BY_POLICY
            } else {
                rs::REMEMBERED_DEVICE
            };
            ev.phone = NO_PHONE;
            ev.auth_city = NO_CITY;
            ev.auth_ip = 0;
        }
    }

    // DUO-14 first success from a new country. Look-alike: a commuter whose history
    // already includes that country.
    let u = p.user("DUO-14", "New York");
    p.baseline(u, 8);
    let ev = p.b.event(u, now - 20 * HOUR, m365);
    Planter::at_city(ev, "Berlin", ip("91.64.17.201"));
    ev.auth_city = city_index("Berlin") as u8;
    ev.auth_ip = ip("91.65.3.77");
    let u = p.user("DUO-14-lookalike", "London");
    p.baseline(u, 6);
    for d in [12, 8] {
        let ev = p.b.event(u, now - d * DAY, m365);
        Planter::at_city(ev, "Paris", ip("90.63.8.19"));
        ev.auth_city = city_index("Paris") as u8;
    }
    let ev = p.b.event(u, now - 21 * HOUR, m365);
    Planter::at_city(ev, "Paris", ip("90.63.8.19"));
    ev.auth_city = city_index("Paris") as u8;

    // DUO-15 impossible travel: Chicago then Tokyo one hour later, new device.
    // Look-alike: Paris then New York 8 hours later (a plausible flight).
    let u = p.user("DUO-15", "Chicago");
    p.baseline(u, 6);
    let t = now - 16 * HOUR;
    p.b.event(u, t, m365);
    let ev = p.b.event(u, t + HOUR, m365);
    Planter::at_city(ev, "Tokyo", ip("126.48.77.15"));
    ev.profile = 6;
    let u = p.user("DUO-15-lookalike", "Paris");
    p.baseline(u, 6);
    for d in [11, 10] {
        let ev = p.b.event(u, now - d * DAY, m365);
        if d == 11 {
            Planter::at_city(ev, "New York", ip("72.229.80.14"));
            ev.auth_city = city_index("New York") as u8;
        }
    }
    let t = now - 30 * HOUR;
    p.b.event(u, t, m365);
    let ev = p.b.event(u, t + 8 * HOUR, m365);
    Planter::at_city(ev, "New York", ip("72.229.80.14"));
    ev.auth_city = city_index("New York") as u8;

    // DUO-16 access device in Romania approved from a phone at home in Boston.
    // Look-alike: the phone's address is the literal "None" (no location to compare).
    let u = p.user("DUO-16", "Boston");
    p.baseline(u, 6);
    let ev = p.b.event(u, now - 14 * HOUR, vpn);
    Planter::at_city(ev, "Bucharest", ip("86.120.9.33"));
    let u = p.user("DUO-16-lookalike", "Boston");
    p.baseline(u, 6);
    let ev = p.b.event(u, now - 15 * HOUR, vpn);
    ev.flags |= flags::AUTH_IP_NONE;
    ev.auth_ip = 0;
    ev.auth_city = NO_CITY;

    // DUO-17 success from a Tor exit; a second user blocked by the anonymous-IP policy.
    let u = p.user("DUO-17", "Denver");
    p.baseline(u, 6);
    let ev = p.b.event(u, now - 13 * HOUR, m365);
    Planter::at_city(ev, "Frankfurt am Main", ip(ANONYMIZER_IPS[0]));
    let u = p.user("DUO-17", "Denver");
    p.baseline(u, 6);
    let ev = p.b.event(u, now - 12 * HOUR, m365);
    Planter::at_city(ev, "Frankfurt am Main", ip(ANONYMIZER_IPS[1]));
    ev.result = r::DENIED;
    ev.reason = rs::ANONYMOUS_IP;
    ev.factor = f::NOT_AVAILABLE;
    ev.phone = NO_PHONE;
    ev.auth_city = NO_CITY;
    ev.auth_ip = 0;

    // DUO-18 brute force: 12 bad passcodes in 8 minutes, then locked out.
    // Look-alike: 8 failures spread over 2 hours.
    let u = p.user("DUO-18", "Seattle");
    p.baseline(u, 6);
    let t = now - 10 * HOUR;
    for i in 0..12 {
        passcode_failure(p.b, u, t + i * 40_000, ssh, rs::INVALID_PASSCODE);
    }
    passcode_failure(p.b, u, t + 9 * MINUTE, ssh, rs::LOCKED_OUT);
    p.b.ds.users[u as usize].status = UserStatus::LockedOut;
    p.b.ds.users[u as usize].lockout_reason = Some("Failed Attempts");
    let u = p.user("DUO-18-lookalike", "Seattle");
    p.baseline(u, 6);
    for i in 0..8 {
        passcode_failure(
            p.b,
            u,
            now - 12 * HOUR + i * 17 * MINUTE,
            ssh,
            rs::INVALID_PASSCODE,
        );
    }

    // DUO-19 one address fails against 6 accounts, then gets in to one of them.
    // Look-alike: an office NAT shared by 3 users with an occasional typo.
    let spray = ip(SPRAY_IP);
    let mut victims = Vec::new();
    for i in 0..6 {
        let u = p.user("DUO-19", "Austin");
        p.baseline(u, 6);
        let ev = passcode_failure(
            p.b,
            u,
            now - 9 * HOUR + i * 4 * MINUTE,
            vpn,
            rs::INVALID_PASSCODE,
        );
        Planter::at_city(ev, "Moscow", spray);
        victims.push(u);
    }
    let ev = p.b.event(victims[2], now - 7 * HOUR, vpn);
    Planter::at_city(ev, "Moscow", spray);
    let office = ip("73.44.120.5");
    for i in 0..3 {
        let u = p.user("DUO-19-lookalike", "Chicago");
        p.b.ds.users[u as usize].ip = office;
        p.baseline(u, 6);
        passcode_failure(
            p.b,
            u,
            now - 8 * HOUR + i * 20 * MINUTE,
            vpn,
            rs::INVALID_PASSCODE,
        );
    }

    // DUO-20 a new Android phone replaces a long-used iPhone (enrollment event).
    // Look-alike: iPhone replaced by a newer iPhone.
    for (id, new_model) in [("DUO-20", 3usize), ("DUO-20-lookalike", 0usize)] {
        let u = p.user(id, "Boston");
        let old = p.b.ds.users[u as usize].phones[0] as usize;
        p.b.ds.phones[old].platform = PHONE_MODELS[1].platform;
        p.b.ds.phones[old].model = PHONE_MODELS[1].model;
        p.b.ds.phones[old].last_seen_s = Some((now - 3 * DAY) / 1000);
        p.baseline(u, 6);
        let new_phone = p.b.add_phone(u, new_model, caps::SMARTPHONE);
        let ev = p.b.event(u, now - 2 * DAY, m365);
        ev.flags |= flags::ENROLLMENT;
        ev.factor = f::NOT_AVAILABLE;
        ev.reason = NO_REASON;
        ev.phone = new_phone;
        let ev = p.b.event(u, now - 2 * DAY + 10 * MINUTE, m365);
        ev.phone = new_phone;
    }

    // DUO-21 two users share one phone.
    let a = p.user("DUO-21", "Madrid");
    let bu = p.user("DUO-21", "Madrid");
    p.baseline(a, 4);
    let shared = p.b.ds.users[a as usize].phones[0];
    let own = p.b.ds.users[bu as usize].phones[0];
    p.b.ds.phones[own as usize].users.clear();
    p.b.ds.users[bu as usize].phones = vec![shared];
    p.b.ds.phones[shared as usize].users.push(bu);
    p.baseline(bu, 4);

    // DUO-22 one person, two accounts: locked out on one, still signing in on the other.
    let locked = p.user("DUO-22", "Dublin");
    p.baseline(locked, 6);
    for i in 0..3 {
        passcode_failure(
            p.b,
            locked,
            now - 2 * DAY + i * MINUTE,
            m365,
            rs::INVALID_PASSCODE,
        );
    }
    passcode_failure(
        p.b,
        locked,
        now - 2 * DAY + 5 * MINUTE,
        m365,
        rs::LOCKED_OUT,
    );
    p.b.ds.users[locked as usize].status = UserStatus::LockedOut;
    p.b.ds.users[locked as usize].lockout_reason = Some("Failed Attempts");
    let second = p.user("DUO-22", "Dublin");
    let (name, real, email) = {
        let l = &p.b.ds.users[locked as usize];
        (
            format!("{}.admin", l.username),
            l.realname.clone(),
            l.email.clone(),
        )
    };
    {
        let s = &mut p.b.ds.users[second as usize];
        s.username = name.clone();
        s.realname = real;
        s.email = email;
        s.groups.push(4);
    }
    *p.b.ds
        .scenarios
        .get_mut("DUO-22")
        .and_then(|v| v.last_mut())
        .expect("just added") = name;
    p.baseline(second, 4);
    p.b.event(second, now - 20 * HOUR, ssh);

    // DUO-23 device-health denial, and a success from a device without disk encryption.
    let u = p.user("DUO-23", "Stockholm");
    p.baseline(u, 6);
    let ev = p.b.event(u, now - 11 * HOUR, vpn);
    ev.result = r::DENIED;
    ev.reason = rs::NO_DISK_ENCRYPTION;
    ev.factor = f::NOT_AVAILABLE;
    ev.flags |= flags::UNHEALTHY;
    ev.phone = NO_PHONE;
    ev.auth_city = NO_CITY;
    ev.auth_ip = 0;
    let u = p.user("DUO-23", "Stockholm");
    p.baseline(u, 6);
    let ev = p.b.event(u, now - 9 * HOUR, m365);
    ev.flags |= flags::UNHEALTHY;

    // DUO-24 a service account with 1,200 authentications in a day. Look-alike: 400.
    let ssh_app = p.ssh;
    for (id, n) in [("DUO-24", 1200i64), ("DUO-24-lookalike", 400i64)] {
        let u = p.user(id, "Ann Arbor");
        let svc = format!("svc-{}", if n > 1000 { "build" } else { "backup" });
        p.b.ds.users[u as usize].username = svc.clone();
        p.b.ds.users[u as usize].realname = format!("Service Account {svc}");
        p.b.ds.users[u as usize].email = String::new();
        *p.b.ds
            .scenarios
            .get_mut(id)
            .and_then(|v| v.last_mut())
            .expect("just added") = svc;
        let start = now - 26 * HOUR;
        let step = 22 * HOUR / n;
        for i in 0..n {
            let ev = p.b.event(u, start + i * step, ssh_app);
            ev.factor = f::MOBILE_OTP;
            ev.reason = rs::VALID_PASSCODE;
            ev.auth_city = NO_CITY;
            ev.auth_ip = 0;
        }
    }
}

/// Small per-user offset so that scenario users do not share exact timestamps.
fn p_off(u: u32) -> i64 {
    i64::from(u % 37) * 61_000
}

fn passcode_failure(b: &mut Builder, u: u32, ms: i64, app: u16, reason: u8) -> &mut Event {
    let ev = b.event(u, ms, app);
    ev.result = r::DENIED;
    ev.reason = reason;
    ev.factor = f::PASSCODE;
    ev.phone = NO_PHONE;
    ev.auth_city = NO_CITY;
    ev.auth_ip = 0;
    ev
}

fn unenroll(b: &mut Builder, u: u32) {
    let phones = std::mem::take(&mut b.ds.users[u as usize].phones);
    for p in phones {
        b.ds.phones[p as usize].users.retain(|&x| x != u);
    }
}

fn admin_update(b: &mut Builder, u: u32, ms: i64, action: &'static str, description: &str) {
    let user = &b.ds.users[u as usize];
    b.ds.admin_log.push(AdminEvent {
        ms,
        action,
        object: user.username.clone(),
        username: b.ds.admins[0].clone(),
        description: description.to_string(),
    });
}
