//! DUO-12 weak or unexpected factor by application, DUO-13 applications
//! without effective MFA. Policy findings: no per-user action applies.

use std::collections::BTreeMap;

use super::super::draft::{Draft, Severity, bucket};
use super::super::fxhash::FxHashMap;
use super::super::index::{Dataset, Outcome};
use super::super::thresholds::{DAY_MS, Thresholds};

#[derive(Default)]
struct AppStats<'a> {
    name: &'a str,
    successes: usize,
    weak: Vec<u32>,
    no_mfa: Vec<u32>,
}

pub fn run(ds: &Dataset<'_>, t: &Thresholds, out: &mut Vec<Draft>) {
    let mut apps: FxHashMap<&str, AppStats<'_>> = FxHashMap::default();
    for (i, ev) in ds.events.iter().enumerate() {
        if ev.outcome != Outcome::Success {
            continue;
        }
        let e = ev.e;
        let Some(key) = e
            .application_id
            .as_deref()
            .or(e.application_name.as_deref())
        else {
            continue;
        };
        let s = apps.entry(key).or_default();
        s.name = e.application_name.as_deref().unwrap_or(key);
        s.successes += 1;
        if ev.no_mfa {
            s.no_mfa.push(i as u32);
        } else if ev.weak || ev.bypass_code {
            s.weak.push(i as u32);
        }
    }
    let mut apps: Vec<(&str, AppStats<'_>)> = apps.into_iter().collect();
    apps.sort_unstable_by(|a, b| a.0.cmp(b.0));
    for (key, s) in apps {
        if s.successes < t.app_min_successes {
            continue;
        }
        let share = |n: usize| n as f64 / s.successes as f64;
        let (weak, no_mfa) = (share(s.weak.len()), share(s.no_mfa.len()));
        if weak > t.app_weak_share {
            out.push(
                Draft::over_events(ds, "DUO-12", format!("app|{key}"), s.weak)
                    .title("Application relies on weak factors")
                    .severity(if weak > 0.5 { Severity::Medium } else { Severity::Low })
                    .subject(s.name)
                    .detail(format!(
                        "{:.0}% of {} successful logins to {} used SMS, phone call or a bypass code (threshold \
                         {:.0}%). Restrict these factors in the application's Duo policy.",
                        weak * 100.0,
                        s.successes,
                        s.name,
                        t.app_weak_share * 100.0
                    )),
            );
        }
        if no_mfa > t.app_no_mfa_share {
            out.push(
                Draft::over_events(ds, "DUO-13", format!("app|{key}"), s.no_mfa)
                    .title("Application without effective MFA")
                    .severity(Severity::Medium)
                    .subject(s.name)
                    .detail(format!(
                        "{:.0}% of {} successful logins to {} skipped the second factor (unenrolled users allowed, \
                         bypass, trusted network or remembered device; threshold {:.0}%). Tighten the \
                         application's policy.",
                        no_mfa * 100.0,
                        s.successes,
                        s.name,
                        t.app_no_mfa_share * 100.0
                    )),
            );
        }
    }
    unexpected_factor(ds, t, out);
}

/// Sentinel-style rule: any success with a factor outside the org allowlist.
fn unexpected_factor(ds: &Dataset<'_>, t: &Thresholds, out: &mut Vec<Draft>) {
    let Some(allowed) = &t.allowed_factors else {
        return;
    };
    for user in &ds.users {
        let mut groups: BTreeMap<(&str, i64), Vec<u32>> = BTreeMap::new();
        for &i in &user.events {
            let ev = &ds.events[i as usize];
            if ev.outcome == Outcome::Success
                && !ev.factor.is_empty()
                && !allowed.iter().any(|a| a == ev.factor)
            {
                groups
                    .entry((ev.factor, bucket(ev.ts, DAY_MS)))
                    .or_default()
                    .push(i);
            }
        }
        for ((factor, day), events) in groups {
            let n = events.len();
            out.push(
                Draft::over_events(ds, "DUO-12", format!("factor|{}|{factor}|{day}", user.key), events)
                    .title("Login with a factor outside the allowed list")
                    .severity(Severity::Low)
                    .subject(user.name)
                    .detail(format!(
                        "{} signed in {n} time(s) with `{factor}`, which is not in the allowed factors ({}). Check \
                         the policy that permitted it.",
                        user.name,
                        allowed.join(", ")
                    )),
            );
        }
    }
}
