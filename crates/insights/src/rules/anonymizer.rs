//! DUO-17 anonymizer / bad-reputation IP.
//!
//! There is no threat-intelligence feed in the platform. The rule therefore
//! uses (a) Duo's own verdict, `reason = anonymous_ip` denials (informational:
//! Duo already blocked them), and (b) successes from networks in the
//! operator-provided list `Thresholds::anonymizer_cidrs` (e.g. a Tor exit or
//! hosting-provider export loaded with `load_anonymizer_file`). Successes from
//! anonymizers not in that list cannot be detected.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::super::draft::{Draft, Severity, bucket};
use super::super::index::{Dataset, Outcome, ReasonKind};
use super::super::thresholds::{DAY_MS, Thresholds};

pub fn run(ds: &Dataset<'_>, t: &Thresholds, out: &mut Vec<Draft>) {
    for user in &ds.users {
        let mut groups: BTreeMap<(bool, &str, i64), Vec<u32>> = BTreeMap::new();
        for &i in &user.events {
            let ev = &ds.events[i as usize];
            let ip = ev.ip;
            if ev.outcome == Outcome::Denied && ev.reason_kind == ReasonKind::AnonymousIp {
                groups
                    .entry((false, ip.unwrap_or(""), bucket(ev.ts, DAY_MS)))
                    .or_default()
                    .push(i);
            } else if ev.outcome == Outcome::Success
                && !t.anonymizer_cidrs.is_empty()
                && let Some(ip) = ip
                && let Ok(addr) = ip.parse::<IpAddr>()
                && t.anonymizer_cidrs.iter().any(|c| c.contains(addr))
            {
                groups
                    .entry((true, ip, bucket(ev.ts, DAY_MS)))
                    .or_default()
                    .push(i);
            }
        }
        for ((success, ip, day), events) in groups {
            let n = events.len();
            let d = if success {
                Draft::over_events(ds, "DUO-17", format!("success|{ip}|{}|{day}", user.key), events)
                    .title("Successful login from a listed anonymizer network")
                    .severity(Severity::High)
                    .subject(user.name)
                    .subject(ip)
                    .action("disable-user")
                    .detail(format!(
                        "{} signed in {n} time(s) from {ip}, which is in the operator's anonymizer list. Disable the \
                         account if the user cannot explain it, and deny anonymous networks in the Duo policy.",
                        user.name
                    ))
            } else {
                let mut d =
                    Draft::over_events(ds, "DUO-17", format!("blocked|{}|{day}", user.key), events)
                        .title("Duo blocked a login from an anonymous network")
                        .severity(Severity::Info)
                        .subject(user.name);
                if !ip.is_empty() {
                    d = d.subject(ip);
                }
                d.detail(format!(
                    "Duo denied {n} attempt(s) by {} from an anonymizing network (reason anonymous_ip). No action \
                     needed; repeated attempts suggest the password is being used by someone else.",
                    user.name
                ))
            };
            out.push(d);
        }
    }
}
