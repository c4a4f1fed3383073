//! DUO-01 user-reported fraud, DUO-02 MFA flood, DUO-03 push fatigue success,
//! DUO-04 Duo-blocked anomalous push.

use super::super::draft::{Draft, Severity, bucket, dense_runs};
use super::super::index::{Dataset, Outcome, ReasonKind};
use super::super::thresholds::Thresholds;
use super::{between, minutes, select};

pub fn run(ds: &Dataset<'_>, t: &Thresholds, out: &mut Vec<Draft>) {
    for user in &ds.users {
        if user.events.is_empty() {
            continue;
        }
        fraud(ds, t, user, out);
        flood(ds, t, user, out);
        fatigue(ds, t, user, out);
        anomalous(ds, t, user, out);
    }
}

fn fraud(
    ds: &Dataset<'_>,
    t: &Thresholds,
    user: &super::super::index::User<'_>,
    out: &mut Vec<Draft>,
) {
    let (times, idx) = select(ds, user, |e| {
        e.outcome == Outcome::Fraud || e.reason_kind == ReasonKind::UserMarkedFraud
    });
    for (s, e) in dense_runs(&times, t.fraud_window_ms, 1) {
        let events = idx[s..=e].to_vec();
        // A success from the IP the user just reported means the attacker
        // got in anyway (e.g. on a retry the user approved).
        let followed = events.iter().find_map(|&fi| {
            let f = &ds.events[fi as usize];
            let ip = f.ip?;
            let w = t.fraud_success_correlation_ms;
            between(ds, user, f.ts - w, f.ts + w)
                .iter()
                .copied()
                .find(|&si| {
                    let s = &ds.events[si as usize];
                    s.outcome == Outcome::Success && s.ip == Some(ip)
                })
        });
        let key = format!("{}|{}", user.key, bucket(times[s], t.fraud_window_ms));
        let mut d = Draft::over_events(ds, "DUO-01", key, events)
            .title("User reported an authentication request as fraud")
            .subject(user.name)
            .action("disable-user");
        let n = e - s + 1;
        d = match followed {
            Some(si) => {
                d.events.push(si);
                d.events.sort_unstable();
                d.last = d.last.max(ds.events[si as usize].ts);
                d.severity(Severity::Critical).detail(format!(
                    "{} marked {n} request(s) as fraudulent and a login from the same IP succeeded within {} min: \
                     treat the account as compromised; disable it, then re-verify the user (send-verification-push) \
                     and remove the phone if it is not theirs.",
                    user.name,
                    minutes(t.fraud_success_correlation_ms)
                ))
            }
            None => d.severity(Severity::High).detail(format!(
                "{} marked {n} request(s) as fraudulent: someone else knows their password. Reset the primary \
                 password, disable the Duo account until the user is reached, then verify with send-verification-push.",
                user.name
            )),
        };
        out.push(d);
    }
}

fn flood(
    ds: &Dataset<'_>,
    t: &Thresholds,
    user: &super::super::index::User<'_>,
    out: &mut Vec<Draft>,
) {
    let (times, idx) = select(ds, user, |e| e.is_deny_push);
    for (s, e) in dense_runs(&times, t.push_flood_window_ms, t.push_flood_count) {
        let key = format!("{}|{}", user.key, bucket(times[s], t.push_flood_window_ms));
        out.push(
            Draft::over_events(ds, "DUO-02", key, idx[s..=e].to_vec())
                .title("MFA flood (push bombing)")
                .severity(Severity::High)
                .subject(user.name)
                .action("disable-user")
                .detail(format!(
                    "{} denied or ignored {} pushes in {} min (threshold {} in {} min): their password is likely known \
                     to an attacker. Disable pending contact and enable Verified Push in the Duo policy.",
                    user.name,
                    e - s + 1,
                    minutes(times[e] - times[s]),
                    t.push_flood_count,
                    minutes(t.push_flood_window_ms)
                )),
        );
    }
}

fn fatigue(
    ds: &Dataset<'_>,
    t: &Thresholds,
    user: &super::super::index::User<'_>,
    out: &mut Vec<Draft>,
) {
    let (deny_times, deny_idx) = select(ds, user, |e| e.is_deny_push);
    if deny_times.len() < t.push_fatigue_denials {
        return;
    }
    for &si in &user.events {
        let s = &ds.events[si as usize];
        if s.outcome != Outcome::Success || !s.is_push {
            continue;
        }
        let lo = deny_times.partition_point(|&x| x < s.ts - t.push_fatigue_window_ms);
        let hi = deny_times.partition_point(|&x| x <= s.ts);
        if hi - lo < t.push_fatigue_denials {
            continue;
        }
        let mut events = deny_idx[lo..hi].to_vec();
        events.push(si);
        let success_ip = s.ip;
        let same_ip = deny_idx[lo..hi]
            .iter()
            .any(|&d| ds.events[d as usize].ip == success_ip);
        let key = format!(
            "{}|{}",
            user.key,
            bucket(deny_times[lo], t.push_fatigue_window_ms)
        );
        out.push(
            Draft::over_events(ds, "DUO-03", key, events)
                .title("Push approved after repeated denials (push fatigue)")
                .severity(Severity::Critical)
                .subject(user.name)
                .action("disable-user")
                .detail(format!(
                    "{} approved a push after {} denied pushes within {} min{}: the approval was probably given to \
                     stop the prompts. Disable the account, revoke sessions, remove the phone and re-enroll.",
                    user.name,
                    hi - lo,
                    minutes(t.push_fatigue_window_ms),
                    if same_ip { " from an IP that had been denied" } else { " from a new IP" }
                )),
        );
    }
}

fn anomalous(
    ds: &Dataset<'_>,
    t: &Thresholds,
    user: &super::super::index::User<'_>,
    out: &mut Vec<Draft>,
) {
    let (times, idx) = select(ds, user, |e| {
        e.outcome == Outcome::Denied && e.reason_kind == ReasonKind::AnomalousPush
    });
    for (s, e) in dense_runs(&times, t.anomalous_push_window_ms, 1) {
        let key = format!(
            "{}|{}",
            user.key,
            bucket(times[s], t.anomalous_push_window_ms)
        );
        out.push(
            Draft::over_events(ds, "DUO-04", key, idx[s..=e].to_vec())
                .title("Duo blocked an anomalous push")
                .severity(Severity::Medium)
                .subject(user.name)
                .action("send-verification-push")
                .detail(format!(
                    "Duo's risk engine blocked {} push(es) to {} as harassment. Confirm with the user via a \
                     verification push; disable the account if they did not sign in.",
                    e - s + 1,
                    user.name
                )),
        );
    }
}
