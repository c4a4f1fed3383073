//! Scenario tests: each insight fires on its scenario and stays silent on the
//! look-alike that a naive rule would flag.

use super::*;
use oort_model::{
    AccessDevice, AuthDevice, AuthEvent, GeoLocation, MfaDevice, Normalized, UserAccount,
};

const NOW: i64 = 1_780_000_000_000;
const M: i64 = MINUTE_MS;
const D: i64 = DAY_MS;

fn loc(city: &str, state: &str, country: &str) -> GeoLocation {
    GeoLocation {
        city: Some(city.into()),
        state: (!state.is_empty()).then(|| state.into()),
        country: Some(country.into()),
    }
}

/// An auth event builder with Duo-like defaults: a push approved from Ohio.
struct Ev(AuthEvent);

fn ev(id: &str, user: &str, at: i64) -> Ev {
    Ev(AuthEvent {
        occurred_at_ms: at,
        event_id: id.into(),
        user_id: Some(format!("U-{user}")),
        user_name: Some(user.into()),
        application_id: Some("DIAPP1".into()),
        application_name: Some("VPN".into()),
        result: "success".into(),
        reason: Some("user_approved".into()),
        factor: Some("duo_push".into()),
        event_type: "authentication".into(),
        access_device: AccessDevice {
            ip: Some("198.51.100.10".into()),
            location: loc("Columbus", "Ohio", "United States"),
            ..AccessDevice::default()
        },
        ..AuthEvent::default()
    })
}

impl Ev {
    fn result(mut self, r: &str, reason: &str) -> Self {
        self.0.result = r.into();
        self.0.reason = Some(reason.into());
        self
    }
    fn factor(mut self, f: &str) -> Self {
        self.0.factor = Some(f.into());
        self
    }
    fn ip(mut self, ip: &str) -> Self {
        self.0.access_device.ip = Some(ip.into());
        self
    }
    fn at(mut self, city: &str, state: &str, country: &str) -> Self {
        self.0.access_device.location = loc(city, state, country);
        self
    }
    fn app(mut self, name: &str) -> Self {
        self.0.application_id = Some(format!("DI-{name}"));
        self.0.application_name = Some(name.into());
        self
    }
    fn phone_in(mut self, country: &str) -> Self {
        self.0.auth_device = Some(AuthDevice {
            id: Some("DP1".into()),
            name: Some("phone".into()),
            ip: Some("203.0.113.9".into()),
            location: loc("", "", country),
        });
        self
    }
    fn n(self) -> Normalized {
        Normalized::AuthEvent(self.0)
    }
}

fn account(
    user: &str,
    status: &str,
    enrolled: bool,
    created: i64,
    last_login: Option<i64>,
) -> UserAccount {
    UserAccount {
        user_id: format!("U-{user}"),
        user_name: user.into(),
        email: Some(format!("{user}@example.com")),
        status: status.into(),
        is_enrolled: enrolled,
        created_ms: Some(created),
        last_login_ms: last_login,
        ..UserAccount::default()
    }
}

/// The Duo plugin as the catalogue sees it: its id and its actions.
fn duo() -> Source<'static> {
    Source {
        plugin_id: "duo",
        actions: vec![
            "disable-user",
            "reactivate-user",
            "remove-phone",
            "send-enrollment",
            "send-verification-push",
            "push-verify",
        ],
    }
}

fn run(records: &[Normalized]) -> Vec<Finding> {
    evaluate(records, &duo(), NOW, &Thresholds::default())
}

fn of<'f>(findings: &'f [Finding], id: &str) -> Vec<&'f Finding> {
    findings.iter().filter(|f| f.insight_id == id).collect()
}

fn one<'f>(findings: &'f [Finding], id: &str) -> &'f Finding {
    let hits = of(findings, id);
    assert_eq!(hits.len(), 1, "expected one {id}, got {hits:#?}");
    hits[0]
}

/// Successful pushes of `user`, hourly, ending an hour before `until`.
fn routine(user: &str, n: usize, until: i64) -> Vec<Normalized> {
    (0..n)
        .map(|k| {
            ev(
                &format!("{user}-r{k}"),
                user,
                until - (n - k) as i64 * 60 * M,
            )
            .n()
        })
        .collect()
}

#[test]
fn duo01_fraud_high_and_critical_when_the_attacker_gets_in() {
    let t0 = NOW - D;
    let mut recs = vec![
        ev("f1", "alice", t0)
            .result("fraud", "user_marked_fraud")
            .n(),
    ];
    let f = run(&recs);
    let hit = one(&f, "DUO-01");
    assert_eq!(hit.severity, "high");
    assert_eq!(hit.subjects, ["alice"]);
    assert_eq!(hit.suggested_action.as_deref(), Some("disable-user"));
    recs.push(ev("s1", "alice", t0 + 10 * M).n());
    let f = run(&recs);
    let hit = one(&f, "DUO-01");
    assert_eq!(hit.severity, "critical");
    assert_eq!(hit.evidence, ["f1", "s1"]);
    // Look-alike: a success from a different IP an hour later is not correlated.
    let recs = vec![
        ev("f1", "alice", t0)
            .result("fraud", "user_marked_fraud")
            .n(),
        ev("s1", "alice", t0 + 60 * M).ip("192.0.2.1").n(),
    ];
    assert_eq!(one(&run(&recs), "DUO-01").severity, "high");
}

#[test]
fn duo02_five_denied_pushes_in_ten_minutes_is_a_flood_three_is_not() {
    let t0 = NOW - D;
    let flood: Vec<_> = (0..5)
        .map(|k| {
            ev(&format!("d{k}"), "bob", t0 + k * 2 * M)
                .result("denied", "user_mistake")
                .n()
        })
        .collect();
    let f = run(&flood);
    assert_eq!(one(&f, "DUO-02").evidence.len(), 5);
    let three: Vec<_> = flood[..3].to_vec();
    assert!(of(&run(&three), "DUO-02").is_empty());
    // Five denials spread over an hour are not a flood either.
    let spread: Vec<_> = (0..5)
        .map(|k| {
            ev(&format!("d{k}"), "bob", t0 + k * 15 * M)
                .result("denied", "no_response")
                .n()
        })
        .collect();
    assert!(of(&run(&spread), "DUO-02").is_empty());
}

#[test]
fn duo03_push_fatigue_needs_denials_then_an_approval() {
    let t0 = NOW - D;
    let mut recs: Vec<_> = (0..3)
        .map(|k| {
            ev(&format!("d{k}"), "carol", t0 + k * M)
                .result("denied", "no_response")
                .n()
        })
        .collect();
    assert!(
        of(&run(&recs), "DUO-03").is_empty(),
        "denials alone are not fatigue"
    );
    recs.push(ev("ok", "carol", t0 + 5 * M).n());
    let hit = run(&recs);
    let hit = one(&hit, "DUO-03");
    assert_eq!(hit.severity, "critical");
    assert_eq!(hit.evidence.last().map(String::as_str), Some("ok"));
    // Look-alike: the approval comes 2 hours later (the user came back).
    let mut late: Vec<_> = recs[..3].to_vec();
    late.push(ev("ok", "carol", t0 + 120 * M).n());
    assert!(of(&run(&late), "DUO-03").is_empty());
}

#[test]
fn duo04_anomalous_push_block() {
    let recs = vec![
        ev("a1", "dave", NOW - D)
            .result("denied", "anomalous_push")
            .n(),
    ];
    let f = run(&recs);
    assert_eq!(
        one(&f, "DUO-04").suggested_action.as_deref(),
        Some("send-verification-push")
    );
    let other = vec![
        ev("a1", "dave", NOW - D)
            .result("denied", "user_mistake")
            .n(),
    ];
    assert!(of(&run(&other), "DUO-04").is_empty());
}

#[test]
fn duo05_bypass_status_and_code_are_labelled() {
    let recs = vec![
        ev("b1", "erin", NOW - D)
            .result("success", "bypass_user")
            .n(),
        ev("b2", "erin", NOW - D + M)
            .result("success", "valid_passcode")
            .factor("bypass_code")
            .n(),
        ev("b3", "erin", NOW - D + 2 * M).n(),
    ];
    let f = run(&recs);
    let hits = of(&f, "DUO-05");
    assert_eq!(hits.len(), 2);
    assert!(
        hits.iter()
            .any(|h| h.title.contains("bypass status") && h.evidence == ["b1"])
    );
    assert!(
        hits.iter()
            .any(|h| h.title.contains("bypass code") && h.evidence == ["b2"])
    );
    // A denied bypass attempt is not a bypass login.
    let denied = vec![
        ev("b1", "erin", NOW - D)
            .result("denied", "bypass_user")
            .n(),
    ];
    assert!(of(&run(&denied), "DUO-05").is_empty());
}

#[test]
fn duo06_07_08_09_inventory_hygiene() {
    let mut admin = account("root", "bypass", true, NOW - 400 * D, Some(NOW - D));
    admin.groups = vec!["Admins".into()];
    let recs = vec![
        Normalized::UserAccount(admin),
        Normalized::UserAccount(account(
            "plain",
            "Bypass",
            true,
            NOW - 400 * D,
            Some(NOW - D),
        )),
        Normalized::UserAccount(account(
            "noenroll",
            "active",
            false,
            NOW - 30 * D,
            Some(NOW - D),
        )),
        Normalized::UserAccount(account("newbie", "active", false, NOW - 3 * D, None)),
        Normalized::UserAccount(account("ghost", "active", true, NOW - 20 * D, None)),
        Normalized::UserAccount(account(
            "idle",
            "active",
            true,
            NOW - 400 * D,
            Some(NOW - 45 * D),
        )),
        Normalized::UserAccount(account(
            "stale",
            "active",
            true,
            NOW - 400 * D,
            Some(NOW - 120 * D),
        )),
        Normalized::UserAccount(account(
            "gone",
            "disabled",
            false,
            NOW - 400 * D,
            Some(NOW - 300 * D),
        )),
    ];
    let f = run(&recs);
    let bypass = of(&f, "DUO-06");
    assert_eq!(bypass.len(), 2);
    assert_eq!(
        bypass
            .iter()
            .find(|b| b.subjects == ["root"])
            .unwrap()
            .severity,
        "high"
    );
    assert_eq!(
        bypass
            .iter()
            .find(|b| b.subjects == ["plain"])
            .unwrap()
            .severity,
        "medium"
    );
    // Not enrolled: only the account past its 14-day grace; never the disabled one.
    let ne = one(&f, "DUO-07");
    assert_eq!(ne.subjects, ["noenroll"]);
    assert_eq!(ne.suggested_action.as_deref(), Some("send-enrollment"));
    // Never logged in: ghost (20 d) but not newbie (3 d, in grace).
    assert_eq!(one(&f, "DUO-08").subjects, ["ghost"]);
    let inactive = of(&f, "DUO-09");
    assert_eq!(inactive.len(), 2);
    assert_eq!(
        inactive
            .iter()
            .find(|x| x.subjects == ["idle"])
            .unwrap()
            .severity,
        "info"
    );
    assert_eq!(
        inactive
            .iter()
            .find(|x| x.subjects == ["stale"])
            .unwrap()
            .severity,
        "low"
    );

    // A recent success in the log makes "ghost" not a never-logged-in account.
    let mut recs2 = recs.clone();
    recs2.push(ev("g1", "ghost", NOW - D).n());
    assert!(of(&run(&recs2), "DUO-08").is_empty());
}

#[test]
fn duo10_probing_after_inactivity_but_not_for_active_users() {
    let last = NOW - 60 * D;
    let mut recs = vec![
        Normalized::UserAccount(account("sleepy", "active", true, NOW - 400 * D, Some(last))),
        ev("p1", "sleepy", NOW - D)
            .result("denied", "invalid_passcode")
            .n(),
        ev("p2", "sleepy", NOW - D + 5 * M)
            .result("denied", "invalid_passcode")
            .n(),
    ];
    let f = run(&recs);
    assert_eq!(one(&f, "DUO-10").evidence, ["p1", "p2"]);
    // Look-alike: the same two failures by a user who logged in yesterday.
    recs.insert(1, ev("s0", "sleepy", NOW - 2 * D).n());
    assert!(of(&run(&recs), "DUO-10").is_empty());
    // One failed attempt after inactivity is not probing.
    let single = vec![
        Normalized::UserAccount(account("sleepy", "active", true, NOW - 400 * D, Some(last))),
        ev("p1", "sleepy", NOW - D)
            .result("denied", "invalid_passcode")
            .n(),
    ];
    assert!(of(&run(&single), "DUO-10").is_empty());
}

#[test]
fn duo11_weak_only_needs_three_weak_and_no_strong_device() {
    let sms = |k: i64| {
        ev(&format!("w{k}"), "sam", NOW - k * D)
            .factor("sms_passcode")
            .result("success", "valid_passcode")
    };
    let recs: Vec<_> = (1..=3).map(|k| sms(k).n()).collect();
    assert_eq!(one(&run(&recs), "DUO-11").subjects, ["sam"]);
    // Look-alike: one weak login among pushes.
    let mixed = vec![
        sms(1).n(),
        ev("p", "sam", NOW - 2 * D).n(),
        ev("q", "sam", NOW - 3 * D).n(),
    ];
    assert!(of(&run(&mixed), "DUO-11").is_empty());
    // Look-alike: a single weak login.
    assert!(of(&run(&recs[..1]), "DUO-11").is_empty());
    // Look-alike: the user owns a push-capable phone (policy, not enrollment, problem).
    let mut acct = account("sam", "active", true, NOW - 400 * D, Some(NOW - D));
    acct.device_ids = vec!["DP9".into()];
    let mut with_phone = recs.clone();
    with_phone.push(Normalized::UserAccount(acct));
    with_phone.push(Normalized::MfaDevice(MfaDevice {
        device_id: "DP9".into(),
        kind: "mobile".into(),
        activated: true,
        capabilities: vec!["push".into(), "sms".into()],
        user_ids: vec!["U-sam".into()],
        ..MfaDevice::default()
    }));
    assert!(of(&run(&with_phone), "DUO-11").is_empty());
}

#[test]
fn duo12_13_application_factor_and_policy_shares() {
    let mut recs = Vec::new();
    for k in 0..30 {
        let at = NOW - D + k * M;
        // Wiki: 10 of 30 by SMS (33% weak). Legacy: 20 of 30 unenrolled allowed.
        let wiki = ev(&format!("w{k}"), "u1", at).app("Wiki");
        recs.push(
            if k < 10 {
                wiki.factor("sms_passcode")
                    .result("success", "valid_passcode")
            } else {
                wiki
            }
            .n(),
        );
        let legacy = ev(&format!("l{k}"), "u2", at).app("Legacy");
        recs.push(
            if k < 20 {
                legacy.result("success", "allow_unenrolled_user")
            } else {
                legacy
            }
            .n(),
        );
        recs.push(ev(&format!("g{k}"), "u3", at).app("Good").n());
    }
    let f = run(&recs);
    assert_eq!(one(&f, "DUO-12").subjects, ["Wiki"]);
    assert_eq!(one(&f, "DUO-13").subjects, ["Legacy"]);
    // Too few logins to judge an application.
    assert!(of(&run(&recs[..15]), "DUO-13").is_empty());
    // Allowlist mode flags a factor outside it.
    let t = Thresholds {
        allowed_factors: Some(vec!["duo_push".into()]),
        ..Thresholds::default()
    };
    let g = evaluate(&recs, &duo(), NOW, &t);
    assert!(
        of(&g, "DUO-12")
            .iter()
            .any(|x| x.dedupe_key.starts_with("factor|U-u1|sms_passcode|"))
    );
}

#[test]
fn duo14_new_country_after_a_baseline_only() {
    let mut recs = routine("nina", 6, NOW - 2 * D);
    recs.push(ev("fr", "nina", NOW - D).at("Paris", "", "France").n());
    let f = run(&recs);
    let hit = one(&f, "DUO-14");
    assert_eq!(hit.evidence, ["fr"]);
    assert!(hit.dedupe_key.ends_with("|FR"), "{}", hit.dedupe_key);
    // Look-alike: too little history to call anything new.
    let mut short = routine("nina", 3, NOW - 2 * D);
    short.push(ev("fr", "nina", NOW - D).at("Paris", "", "France").n());
    assert!(of(&run(&short), "DUO-14").is_empty());
    // Look-alike: same country, different spelling (ISO code vs name).
    let mut same = routine("nina", 6, NOW - 2 * D);
    same.push(
        ev("us", "nina", NOW - D)
            .at("Boston", "Massachusetts", "US")
            .n(),
    );
    assert!(of(&run(&same), "DUO-14").is_empty());
}

#[test]
fn duo15_impossible_travel_but_not_a_plane_trip() {
    let t0 = NOW - 2 * D;
    let paris = ev("p", "tom", t0)
        .at("Paris", "Ile-de-France", "France")
        .ip("192.0.2.10");
    let fast = vec![
        paris.n(),
        ev("n", "tom", t0 + 60 * M)
            .at("New York", "New York", "United States")
            .ip("203.0.113.5")
            .n(),
    ];
    let f = run(&fast);
    let hit = one(&f, "DUO-15");
    assert_eq!(hit.severity, "high");
    assert_eq!(hit.evidence, ["p", "n"]);
    // Paris -> New York over 8 hours is a flight (~730 km/h), not impossible.
    let paris = ev("p", "tom", t0)
        .at("Paris", "Ile-de-France", "France")
        .ip("192.0.2.10");
    let plane = vec![
        paris.n(),
        ev("n", "tom", t0 + 8 * 60 * M)
            .at("New York", "New York", "United States")
            .ip("203.0.113.5")
            .n(),
    ];
    assert!(of(&run(&plane), "DUO-15").is_empty());
    // Short hop: Columbus -> Cleveland (~200 km) in 10 minutes is under the distance floor.
    let hop = vec![
        ev("a", "tom", t0).n(),
        ev("b", "tom", t0 + 10 * M)
            .at("Cleveland", "Ohio", "United States")
            .n(),
    ];
    assert!(of(&run(&hop), "DUO-15").is_empty());
}

#[test]
fn duo15_skips_when_both_devices_are_known() {
    let t0 = NOW - 10 * D;
    let home = |id: &str, at: i64| ev(id, "vpn", at).ip("198.51.100.10");
    let away = |id: &str, at: i64| {
        ev(id, "vpn", at)
            .at("Frankfurt am Main", "", "Germany")
            .ip("203.0.113.20")
    };
    // Both networks used on earlier days (a split-tunnel VPN), then flipping.
    let recs = vec![
        home("h0", t0).n(),
        away("a0", t0 + 2 * D).n(),
        home("h1", t0 + 4 * D).n(),
        away("a1", t0 + 4 * D + 5 * M).n(),
    ];
    let f = run(&recs);
    // The first switch (a0 after h0, 2 days later) is plausible; the last is between known devices.
    assert!(of(&f, "DUO-15").is_empty(), "{:#?}", of(&f, "DUO-15"));
}

#[test]
fn duo16_push_answered_in_another_country() {
    let recs = vec![ev("m", "uma", NOW - D).phone_in("Russia").n()];
    let f = run(&recs);
    assert!(one(&f, "DUO-16").dedupe_key.contains("|US|RU|"));
    let same = vec![ev("m", "uma", NOW - D).phone_in("United States").n()];
    assert!(of(&run(&same), "DUO-16").is_empty());
    // Duo's "None" auth-device IP means no location to compare.
    let mut none = ev("m", "uma", NOW - D).phone_in("Russia");
    none.0.auth_device.as_mut().unwrap().ip = Some("None".into());
    assert!(of(&run(&[none.n()]), "DUO-16").is_empty());
}

#[test]
fn duo17_duo_signal_and_operator_list() {
    let recs = vec![
        ev("x1", "vic", NOW - D)
            .result("denied", "anonymous_ip")
            .ip("185.220.101.1")
            .n(),
        ev("x2", "vic", NOW - D + M).ip("185.220.101.1").n(),
    ];
    // Without an operator list only Duo's own block is reported (info).
    let f = run(&recs);
    let hit = one(&f, "DUO-17");
    assert_eq!(hit.severity, "info");
    assert_eq!(hit.evidence, ["x1"]);
    let t = Thresholds {
        anonymizer_cidrs: vec!["185.220.101.0/24".parse().unwrap()],
        ..Thresholds::default()
    };
    let g = evaluate(&recs, &duo(), NOW, &t);
    let success = of(&g, "DUO-17")
        .into_iter()
        .find(|h| h.severity == "high")
        .expect("listed success");
    assert_eq!(success.subjects, ["vic", "185.220.101.1"]);
    assert_eq!(success.suggested_action.as_deref(), Some("disable-user"));
}

#[test]
fn duo18_brute_force_threshold_and_lockout() {
    let t0 = NOW - D;
    let fails = |n: i64| -> Vec<_> {
        (0..n)
            .map(|k| {
                ev(&format!("f{k}"), "wes", t0 + k * 30_000)
                    .result("denied", "invalid_passcode")
                    .n()
            })
            .collect()
    };
    assert_eq!(one(&run(&fails(11)), "DUO-18").evidence.len(), 11);
    assert!(
        of(&run(&fails(10)), "DUO-18").is_empty(),
        "10 is the limit, not over it"
    );
    let locked = vec![ev("l", "wes", t0).result("denied", "locked_out").n()];
    assert!(
        one(&run(&locked), "DUO-18")
            .dedupe_key
            .starts_with("lockout|")
    );
}

#[test]
fn duo19_spray_and_the_account_it_cracked() {
    let t0 = NOW - 2 * D;
    let ip = "203.0.113.66";
    let mut recs: Vec<_> = (0..5)
        .map(|k| {
            ev(&format!("s{k}"), &format!("user{k}"), t0 + k * 10 * M)
                .ip(ip)
                .result("denied", "invalid_passcode")
                .n()
        })
        .collect();
    recs.push(ev("win", "user3", t0 + 3 * 60 * M).ip(ip).n());
    let f = run(&recs);
    let hits = of(&f, "DUO-19");
    assert_eq!(hits.len(), 2);
    assert!(
        hits.iter()
            .any(|h| h.subjects == [ip] && h.evidence.len() == 5)
    );
    assert!(
        hits.iter()
            .any(|h| h.subjects == ["user3", ip] && h.evidence == ["win"])
    );
    // Four users from one IP (an office NAT with typos) is below the threshold.
    assert!(of(&run(&recs[..4]), "DUO-19").is_empty());
}

#[test]
fn duo20_registration_anomaly_with_inventory() {
    let mut acct = account("yan", "active", true, NOW - 400 * D, Some(NOW - D));
    acct.device_ids = vec!["DPOLD".into(), "DPNEW".into()];
    let dev = |id: &str, platform: &str, os: &str| {
        Normalized::MfaDevice(MfaDevice {
            device_id: id.into(),
            kind: "mobile".into(),
            platform: Some(platform.into()),
            os_version: Some(os.into()),
            activated: true,
            capabilities: vec!["push".into()],
            user_ids: vec!["U-yan".into()],
            ..MfaDevice::default()
        })
    };
    let mut enroll = ev("e1", "yan", NOW - D).result("success", "user_approved");
    enroll.0.event_type = "enrollment".into();
    enroll.0.auth_device = Some(AuthDevice {
        id: Some("DPNEW".into()),
        ..AuthDevice::default()
    });
    let recs = vec![
        Normalized::UserAccount(acct.clone()),
        dev("DPOLD", "Apple iOS", "17.4"),
        dev("DPNEW", "Google Android", "14"),
        enroll.n(),
    ];
    let f = run(&recs);
    let hit = one(&f, "DUO-20");
    assert_eq!(hit.suggested_action.as_deref(), Some("remove-phone"));
    assert_eq!(hit.severity, "high");
    // Look-alike: upgrading to a newer iPhone.
    let mut enroll2 = ev("e1", "yan", NOW - D);
    enroll2.0.event_type = "enrollment".into();
    enroll2.0.auth_device = Some(AuthDevice {
        id: Some("DPNEW".into()),
        ..AuthDevice::default()
    });
    let upgrade = vec![
        Normalized::UserAccount(acct),
        dev("DPOLD", "Apple iOS", "17.4"),
        dev("DPNEW", "Apple iOS", "18.1"),
        enroll2.n(),
    ];
    assert!(of(&run(&upgrade), "DUO-20").is_empty());
}

#[test]
fn duo21_22_shared_device_and_lockout_risk() {
    let mut a = account("amy", "active", true, NOW - 400 * D, Some(NOW - D));
    a.device_ids = vec!["DPX".into()];
    let mut b = account("ben", "active", true, NOW - 400 * D, Some(NOW - D));
    b.device_ids = vec!["DPX".into()];
    let c = account("solo", "active", true, NOW - 400 * D, Some(NOW - D));
    let recs = vec![
        Normalized::UserAccount(a),
        Normalized::UserAccount(b),
        Normalized::UserAccount(c),
    ];
    let f = run(&recs);
    let hit = one(&f, "DUO-21");
    assert_eq!(hit.subjects, ["amy", "ben"]);
    assert_eq!(hit.dedupe_key, "device:DPX");

    let mut locked = account("kim", "locked out", true, NOW - 400 * D, Some(NOW - 5 * D));
    locked.email = Some("Kim@Example.com".into());
    let mut admin = account("kim-admin", "active", true, NOW - 400 * D, Some(NOW - D));
    admin.email = Some("kim@example.com".into());
    let recs = vec![
        Normalized::UserAccount(locked.clone()),
        Normalized::UserAccount(admin),
        ev("k1", "kim-admin", NOW - D).n(),
    ];
    let f = run(&recs);
    let hit = one(&f, "DUO-22");
    assert_eq!(hit.subjects, ["kim", "kim-admin"]);
    assert!(hit.evidence.contains(&"k1".to_owned()));
    // A locked-out person with a single account is not inconsistent.
    assert!(of(&run(&[Normalized::UserAccount(locked)]), "DUO-22").is_empty());
}

#[test]
fn duo23_device_health() {
    let mut unhealthy = ev("h2", "zoe", NOW - D);
    unhealthy.0.access_device.is_encryption_enabled = Some(false);
    let recs = vec![
        ev("h1", "zoe", NOW - D)
            .result("denied", "no_disk_encryption")
            .n(),
        unhealthy.n(),
    ];
    let f = run(&recs);
    let hits = of(&f, "DUO-23");
    assert_eq!(hits.len(), 2);
    assert!(
        hits.iter()
            .any(|h| h.severity == "medium" && h.evidence == ["h1"])
    );
    assert!(
        hits.iter()
            .any(|h| h.severity == "low" && h.evidence == ["h2"])
    );
    let mut healthy = ev("h3", "zoe", NOW - D);
    healthy.0.access_device.is_encryption_enabled = Some(true);
    assert!(of(&run(&[healthy.n()]), "DUO-23").is_empty());
}

#[test]
fn duo24_high_volume_per_day() {
    let day = NOW - NOW.rem_euclid(D) - D;
    let recs: Vec<_> = (0..1001)
        .map(|k| ev(&format!("v{k}"), "svc", day + k * 60_000).n())
        .collect();
    let f = run(&recs);
    let hit = one(&f, "DUO-24");
    assert_eq!(hit.evidence.len(), 100, "evidence is capped");
    assert!(hit.detail.contains("1001"));
    assert!(of(&run(&recs[..1000]), "DUO-24").is_empty());
}

#[test]
fn evaluate_is_deterministic_and_keys_are_stable() {
    let t0 = NOW - D;
    let mut recs: Vec<_> = (0..6)
        .map(|k| {
            ev(&format!("d{k}"), "bob", t0 + k * M)
                .result("denied", "user_mistake")
                .n()
        })
        .collect();
    recs.push(ev("ok", "bob", t0 + 7 * M).n());
    recs.push(ev("fr", "amy", t0).result("fraud", "user_marked_fraud").n());
    recs.push(Normalized::UserAccount(account(
        "ghost",
        "active",
        false,
        NOW - 90 * D,
        None,
    )));
    let first = run(&recs);
    assert!(!first.is_empty());
    let mut shuffled = recs.clone();
    shuffled.reverse();
    assert_eq!(run(&shuffled), first, "record order must not matter");
    let keys = |f: &[Finding]| {
        f.iter()
            .map(|x| (x.insight_id.clone(), x.dedupe_key.clone()))
            .collect::<Vec<_>>()
    };
    // More evidence for the same incident keeps the same dedupe keys.
    let mut more = recs.clone();
    more.push(
        ev("d6", "bob", t0 + 6 * M + 30_000)
            .result("denied", "user_mistake")
            .n(),
    );
    let second = run(&more);
    assert_eq!(keys(&second), keys(&first));
    let flood = second.iter().find(|f| f.insight_id == "DUO-02").unwrap();
    assert!(flood.evidence.contains(&"d6".to_owned()));
    let mut seen = std::collections::HashSet::new();
    assert!(
        first
            .iter()
            .all(|f| seen.insert((&f.insight_id, &f.dedupe_key))),
        "no duplicate keys"
    );
}

#[test]
fn posture_summary() {
    let mut recs = vec![
        Normalized::UserAccount(account("a", "active", true, NOW - 400 * D, Some(NOW - D))),
        Normalized::UserAccount(account("b", "active", false, NOW - 400 * D, None)),
        Normalized::UserAccount(account(
            "c",
            "bypass",
            true,
            NOW - 400 * D,
            Some(NOW - 40 * D),
        )),
        Normalized::UserAccount(account("d", "disabled", false, NOW - 400 * D, None)),
        ev("a1", "a", NOW - D).n(),
        ev("a2", "a", NOW - D).result("denied", "no_response").n(),
        ev("a3", "a", NOW - D)
            .factor("webauthn")
            .result("success", "valid_passcode")
            .n(),
    ];
    for k in 0..3 {
        recs.push(
            ev(&format!("s{k}"), "e", NOW - D)
                .factor("sms_passcode")
                .result("success", "valid_passcode")
                .n(),
        );
    }
    recs.push(
        ev("old", "a", NOW - 60 * D)
            .result("fraud", "user_marked_fraud")
            .n(),
    );
    let p = posture(&recs, NOW);
    assert_eq!(p.users.total, 4);
    assert_eq!(p.users.considered, 3);
    assert_eq!(p.users.enrolled, 2);
    assert!((p.users.enrollment_rate.unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(p.users.not_enrolled.examples, ["b"]);
    assert_eq!(p.users.bypass.examples, ["c"]);
    assert_eq!(p.users.inactive_30d.examples, ["c"]);
    assert_eq!(p.users.never_logged_in.examples, ["b"]);
    assert_eq!(
        p.auth.total, 6,
        "the 60-day-old fraud is outside the window"
    );
    assert_eq!(p.auth.fraud, 0);
    assert_eq!((p.auth.success, p.auth.denied), (5, 1));
    assert_eq!(p.auth.top_denial_reasons[0].reason, "no_response");
    assert_eq!(p.weak_factor_only_users.examples, ["e"]);
    let tier = |t: Tier| {
        p.tier_mix
            .iter()
            .find(|x| x.tier == t)
            .map_or(0, |x| x.successes)
    };
    assert_eq!(
        (
            tier(Tier::PhishingResistant),
            tier(Tier::Strong),
            tier(Tier::Weak)
        ),
        (1, 1, 3)
    );
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["tier_mix"][0]["tier"], "phishing_resistant");
}

#[test]
fn another_plugins_records_get_no_duo_finding_and_no_duo_action() {
    let records = scenario();
    assert!(
        run(&records)
            .iter()
            .any(|f| f.insight_id.starts_with("DUO-")),
        "the scenario fires on Duo data"
    );
    let okta = Source {
        plugin_id: "okta",
        actions: vec!["suspend-user"],
    };
    let (findings, posture) = evaluate_with_posture(&records, &okta, NOW, &Thresholds::default());
    assert!(findings.is_empty(), "{findings:?}");
    // The posture reads only the normalized model: any source gets it.
    assert_eq!(posture, super::posture(&records, NOW));
}

#[test]
fn a_finding_suggests_only_actions_the_plugin_declares() {
    let records = scenario();
    let with_all = run(&records);
    assert!(
        with_all
            .iter()
            .any(|f| f.suggested_action.as_deref() == Some("disable-user")),
        "{with_all:?}"
    );
    let read_only = Source {
        plugin_id: "duo",
        actions: vec!["send-verification-push"],
    };
    let findings = evaluate(&records, &read_only, NOW, &Thresholds::default());
    assert_eq!(findings.len(), with_all.len(), "the same findings");
    for f in &findings {
        assert!(
            f.suggested_action.is_none()
                || f.suggested_action.as_deref() == Some("send-verification-push"),
            "{f:?}"
        );
    }
}

fn scenario() -> Vec<Normalized> {
    let t0 = NOW - D;
    let mut recs: Vec<_> = (0..5)
        .map(|k| {
            ev(&format!("d{k}"), "bob", t0 + k * M)
                .result("denied", "user_mistake")
                .n()
        })
        .collect();
    recs.push(ev("ok", "bob", t0 + 6 * M).n());
    recs.push(ev("fr", "amy", t0).result("fraud", "user_marked_fraud").n());
    recs.push(Normalized::UserAccount(account(
        "idle",
        "active",
        true,
        NOW - 400 * D,
        Some(NOW - 40 * D),
    )));
    recs
}

#[test]
fn the_text_report_is_sorted_by_severity_and_shows_the_posture() {
    let records = scenario();
    let (findings, posture) = evaluate_with_posture(&records, &duo(), NOW, &Thresholds::default());
    assert!(findings.iter().any(|f| f.insight_id == "DUO-01"));
    let report = Report {
        findings: findings
            .into_iter()
            .enumerate()
            .map(|(i, finding)| StoredFinding {
                id: i as i64 + 1,
                finding,
                updated_at_ms: NOW,
            })
            .collect(),
        posture,
    };
    let text = render_text(&report);
    assert!(
        text.contains("DUO-01") && text.contains("MFA POSTURE"),
        "{text}"
    );
    let critical_pos = text.find("critical").unwrap_or(usize::MAX);
    let info_pos = text.rfind(" info ").unwrap_or(0);
    assert!(
        critical_pos < info_pos || info_pos == 0,
        "severity-sorted:\n{text}"
    );
    serde_json::to_string(&report).unwrap();
}
