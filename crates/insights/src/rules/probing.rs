//! DUO-10 inactive account probing: an account idle for 30+ days suddenly
//! collects failed attempts (someone testing a leaked password).

use super::super::draft::{Draft, Severity, bucket};
use super::super::index::{Dataset, Outcome, User};
use super::super::thresholds::{DAY_MS, Thresholds};

pub fn run(ds: &Dataset<'_>, t: &Thresholds, out: &mut Vec<Draft>) {
    for user in &ds.users {
        probe_runs(ds, t, user, out);
    }
}

fn probe_runs(ds: &Dataset<'_>, t: &Thresholds, user: &User<'_>, out: &mut Vec<Draft>) {
    let account = user.account;
    let mut last_success: Option<i64> = None;
    let mut probes: Vec<u32> = Vec::new();
    let mut idle_since = 0;
    let mut flush = |probes: &mut Vec<u32>, idle_since: i64| {
        if probes.len() >= t.probing_attempts {
            let first = ds.events[probes[0] as usize].ts;
            let n = probes.len();
            out.push(
                Draft::over_events(ds, "DUO-10", format!("{}|{}", user.key, bucket(first, DAY_MS)), std::mem::take(probes))
                    .title("Failed attempts on a long-inactive account")
                    .severity(Severity::High)
                    .subject(user.name)
                    .action("disable-user")
                    .detail(format!(
                        "{} had no successful login for {} days, then {n} denied or fraud-reported attempts: someone \
                         may be trying a leaked password. Disable the account until the owner confirms.",
                        user.name,
                        (first - idle_since) / DAY_MS
                    )),
            );
        }
        probes.clear();
    };
    for &i in &user.events {
        let ev = &ds.events[i as usize];
        match ev.outcome {
            Outcome::Success => {
                flush(&mut probes, idle_since);
                last_success = Some(ev.ts);
            }
            Outcome::Denied | Outcome::Fraud => {
                // What we know of activity before this attempt: the last
                // success in the log, else the inventory's last login or
                // creation if they precede it (later values say nothing).
                let before = last_success
                    .or_else(|| {
                        account
                            .and_then(|a| a.last_login_ms)
                            .filter(|&l| l <= ev.ts)
                    })
                    .or_else(|| account.and_then(|a| a.created_ms).filter(|&c| c <= ev.ts));
                match before {
                    Some(b) if ev.ts - b >= t.probing_inactive_ms => {
                        if probes.is_empty() {
                            idle_since = b;
                        }
                        probes.push(i);
                    }
                    _ => flush(&mut probes, idle_since),
                }
            }
            Outcome::Error | Outcome::Other => {}
        }
    }
    flush(&mut probes, idle_since);
}
