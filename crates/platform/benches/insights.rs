//! Insights engine throughput: the whole catalogue plus the posture summary
//! over 1,000,000 synthetic normalized auth events (deterministic), against a
//! baseline pass that only groups the events by user.
//!
//! Run: `cargo bench -p oort-platform --bench insights` (optionally `-- <events>`).

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use oort_insights::{Source, Thresholds, evaluate, evaluate_with_posture, posture};
use oort_platform::model::{
    AccessDevice, AuthDevice, AuthEvent, GeoLocation, MfaDevice, Normalized, UserAccount,
};

const NOW: i64 = 1_780_000_000_000;
const DAY: i64 = 86_400_000;
const USERS: u64 = 20_000;

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const PLACES: [(&str, &str, &str); 12] = [
    ("Columbus", "Ohio", "United States"),
    ("Portland", "Oregon", "United States"),
    ("Austin", "Texas", "United States"),
    ("New York City", "New York", "United States"),
    ("Chicago", "Illinois", "United States"),
    ("London", "England", "United Kingdom"),
    ("Paris", "Ile-de-France", "France"),
    ("Berlin", "Berlin", "Germany"),
    ("Toronto", "Ontario", "Canada"),
    ("Bengaluru", "Karnataka", "India"),
    ("Sao Paulo", "Sao Paulo", "Brazil"),
    ("Sydney", "New South Wales", "Australia"),
];
const FACTORS: [&str; 6] = [
    "duo_push",
    "duo_push",
    "duo_push",
    "sms_passcode",
    "phone_call",
    "webauthn",
];
const DENY_REASONS: [&str; 5] = [
    "user_mistake",
    "no_response",
    "invalid_passcode",
    "anomalous_push",
    "no_disk_encryption",
];

fn synthesize(n: usize) -> Vec<Normalized> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::with_capacity(n + 2 * USERS as usize);
    for u in 0..USERS {
        out.push(Normalized::UserAccount(UserAccount {
            user_id: format!("DU{u:06}"),
            user_name: format!("user{u}"),
            email: Some(format!("user{u}@example.com")),
            status: ["active", "active", "active", "bypass", "locked out"][rng.below(5) as usize]
                .into(),
            is_enrolled: rng.below(10) != 0,
            last_login_ms: Some(NOW - rng.below(120) as i64 * DAY),
            created_ms: Some(NOW - 400 * DAY),
            device_ids: vec![format!("DP{u:06}")],
            ..UserAccount::default()
        }));
        out.push(Normalized::MfaDevice(MfaDevice {
            device_id: format!("DP{u:06}"),
            kind: "mobile".into(),
            platform: Some(["Apple iOS", "Google Android"][rng.below(2) as usize].into()),
            os_version: Some("17.1".into()),
            activated: true,
            capabilities: vec!["push".into(), "sms".into()],
            user_ids: vec![format!("DU{u:06}")],
            ..MfaDevice::default()
        }));
    }
    let span = 90 * DAY;
    for i in 0..n {
        // A skewed user distribution: some heavy users, a long tail.
        let u = (rng.below(USERS) * rng.below(USERS)) / USERS;
        let (city, state, country) = PLACES[if rng.below(20) == 0 {
            rng.below(12)
        } else {
            u % 12
        } as usize];
        let roll = rng.below(100);
        let (result, reason) = match roll {
            0..=84 => ("success", "user_approved"),
            85..=97 => ("denied", DENY_REASONS[rng.below(5) as usize]),
            98 => ("fraud", "user_marked_fraud"),
            _ => ("success", "bypass_user"),
        };
        let ip = format!("198.51.{}.{}", u % 200, rng.below(250));
        out.push(Normalized::AuthEvent(AuthEvent {
            occurred_at_ms: NOW - span + (i as i64 * span / n as i64) + rng.below(60_000) as i64,
            event_id: format!("tx{i:08}"),
            user_id: Some(format!("DU{u:06}")),
            user_name: Some(format!("user{u}")),
            application_id: Some(format!("DI{}", rng.below(25))),
            application_name: Some(format!("App {}", rng.below(25))),
            result: result.into(),
            reason: Some(reason.into()),
            factor: Some(FACTORS[rng.below(6) as usize].into()),
            event_type: "authentication".into(),
            access_device: AccessDevice {
                ip: Some(ip),
                location: GeoLocation {
                    city: Some(city.into()),
                    state: Some(state.into()),
                    country: Some(country.into()),
                },
                is_encryption_enabled: Some(rng.below(50) != 0),
                ..AccessDevice::default()
            },
            auth_device: Some(AuthDevice {
                id: Some(format!("DP{u:06}")),
                ip: Some("203.0.113.1".into()),
                location: GeoLocation {
                    country: Some(country.into()),
                    ..GeoLocation::default()
                },
                ..AuthDevice::default()
            }),
            ..AuthEvent::default()
        }));
    }
    out
}

fn median_of_3(mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut times = Vec::new();
    let mut last = 0;
    for _ in 0..3 {
        let t = Instant::now();
        last = f();
        times.push(t.elapsed());
    }
    times.sort();
    (times[1], last)
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let t = Instant::now();
    let records = synthesize(n);
    println!(
        "synthesized {n} auth events + {USERS} users/devices in {:.2?}",
        t.elapsed()
    );
    let thresholds = Thresholds::default();
    // The whole catalogue runs on Duo's records.
    let duo = Source {
        plugin_id: "duo",
        actions: vec!["disable-user", "remove-phone", "send-enrollment"],
    };

    // Warm the gazetteer once so the first timed run does not pay its parse.
    let _ = oort_insights::geo::gazetteer();

    let (baseline, groups) = median_of_3(|| {
        let mut by_user: HashMap<&str, Vec<u32>> = HashMap::new();
        for (i, r) in records.iter().enumerate() {
            if let Normalized::AuthEvent(e) = r
                && let Some(u) = e.user_id.as_deref()
            {
                by_user.entry(u).or_default().push(i as u32);
            }
        }
        black_box(by_user.len())
    });
    let (full, findings) = median_of_3(|| {
        let f = evaluate(black_box(&records), &duo, NOW, &thresholds);
        let p = posture(black_box(&records), NOW);
        black_box(&p);
        f.len()
    });
    let (shared, _) = median_of_3(|| {
        let (f, p) = evaluate_with_posture(black_box(&records), &duo, NOW, &thresholds);
        black_box(&p);
        f.len()
    });
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "baseline (group by user, {groups} users): {baseline:.2?} median of 3, {:.0} events/s",
        rate(baseline)
    );
    println!(
        "evaluate + posture ({findings} findings): {full:.2?} median of 3, {:.0} events/s",
        rate(full)
    );
    println!(
        "evaluate_with_posture (one shared index, as refresh): {shared:.2?} median of 3, {:.0} events/s",
        rate(shared)
    );
    println!(
        "ratio to baseline: {:.1}x (evaluate + posture), {:.1}x (shared index)",
        full.as_secs_f64() / baseline.as_secs_f64(),
        shared.as_secs_f64() / baseline.as_secs_f64()
    );
}
