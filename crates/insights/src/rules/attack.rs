//! DUO-18 brute force on a user (and Duo lockouts), DUO-19 password spray /
//! heavy attack from one IP and later successes from that IP.

use std::collections::BTreeMap;

use super::super::draft::{Draft, Severity, bucket, dense_runs};
use super::super::fxhash::FxHashMap;
use super::super::index::{Dataset, Outcome, ReasonKind};
use super::super::thresholds::{DAY_MS, Thresholds};
use super::{minutes, select};

pub fn run(ds: &Dataset<'_>, t: &Thresholds, out: &mut Vec<Draft>) {
    for user in &ds.users {
        let (times, idx) = select(ds, user, |e| e.outcome == Outcome::Denied);
        for (s, e) in dense_runs(&times, t.brute_force_window_ms, t.brute_force_max + 1) {
            let key = format!("{}|{}", user.key, bucket(times[s], t.brute_force_window_ms));
            out.push(
                Draft::over_events(ds, "DUO-18", key, idx[s..=e].to_vec())
                    .title("Brute force against a user")
                    .severity(Severity::High)
                    .subject(user.name)
                    .action("send-verification-push")
                    .detail(format!(
                        "{} denied attempts for {} within {} min (threshold: more than {} in {} min). Confirm with \
                         the user via a verification push; reset the password.",
                        e - s + 1,
                        user.name,
                        minutes(times[e] - times[s]),
                        t.brute_force_max,
                        minutes(t.brute_force_window_ms)
                    )),
            );
        }
        let (times, idx) = select(ds, user, |e| e.reason_kind == ReasonKind::LockedOut);
        let mut start = 0;
        while start < times.len() {
            let day = bucket(times[start], DAY_MS);
            let end = times.partition_point(|&x| x < day + DAY_MS);
            out.push(
                Draft::over_events(ds, "DUO-18", format!("lockout|{}|{day}", user.key), idx[start..end].to_vec())
                    .title("User locked out by Duo after repeated failures")
                    .severity(Severity::High)
                    .subject(user.name)
                    .action("send-verification-push")
                    .detail(format!(
                        "{} attempt(s) by {} were refused because Duo locked the account after too many failures. \
                         Verify the user before reactivating (reactivate-user).",
                        end - start,
                        user.name
                    )),
            );
            start = end;
        }
    }
    spray(ds, t, out);
}

/// First ts, last ts and the denials of one spray run from an IP.
type SprayRun = (i64, i64, Vec<u32>);

fn spray(ds: &Dataset<'_>, t: &Thresholds, out: &mut Vec<Draft>) {
    let mut denied_by_ip: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
    for (i, ev) in ds.events.iter().enumerate() {
        if ev.outcome == Outcome::Denied
            && let Some(ip) = ev.ip
        {
            denied_by_ip.entry(ip).or_default().push(i as u32);
        }
    }
    let mut flagged: BTreeMap<&str, Vec<SprayRun>> = BTreeMap::new();
    for (ip, idx) in &denied_by_ip {
        if idx.len() < t.spray_min_users {
            continue;
        }
        let mut users_in_window: FxHashMap<u32, usize> = FxHashMap::default();
        let mut start = 0;
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for end in 0..idx.len() {
            let ev = &ds.events[idx[end] as usize];
            *users_in_window.entry(ev.user).or_insert(0) += 1;
            while ev.ts - ds.events[idx[start] as usize].ts > t.spray_window_ms {
                let u = ds.events[idx[start] as usize].user;
                if let Some(n) = users_in_window.get_mut(&u) {
                    *n -= 1;
                    if *n == 0 {
                        users_in_window.remove(&u);
                    }
                }
                start += 1;
            }
            if users_in_window.len() >= t.spray_min_users {
                match runs.last_mut() {
                    Some(last) if start <= last.1 => last.1 = end,
                    _ => runs.push((start, end)),
                }
            }
        }
        for (s, e) in runs {
            let ts = |k: usize| ds.events[idx[k] as usize].ts;
            flagged
                .entry(ip)
                .or_default()
                .push((ts(s), ts(e), idx[s..=e].to_vec()));
        }
    }
    if flagged.is_empty() {
        return;
    }
    let mut success_by_ip: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
    for (i, ev) in ds.events.iter().enumerate() {
        if ev.outcome == Outcome::Success
            && let Some(ip) = ev.ip
            && flagged.contains_key(ip)
        {
            success_by_ip.entry(ip).or_default().push(i as u32);
        }
    }
    for (ip, runs) in flagged {
        for (first, last, events) in runs {
            let mut targets: Vec<&str> = events.iter().map(|&i| ds.user_name_of(i)).collect();
            targets.sort_unstable();
            targets.dedup();
            out.push(
                Draft::over_events(ds, "DUO-19", format!("{ip}|{}", bucket(first, t.spray_window_ms)), events)
                    .title("Password spray / heavy attack from one IP")
                    .severity(Severity::High)
                    .subject(ip)
                    .detail(format!(
                        "{ip} was denied for {} distinct users within {} h ({}{}). Block the IP upstream; watch the \
                         targeted accounts.",
                        targets.len(),
                        t.spray_window_ms / 3_600_000,
                        targets.iter().take(10).copied().collect::<Vec<_>>().join(", "),
                        if targets.len() > 10 { ", ..." } else { "" }
                    )),
            );
            // A later success from the attacking IP is the account it cracked.
            let mut by_user: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
            for &si in success_by_ip.get(ip).map(Vec::as_slice).unwrap_or(&[]) {
                let s = &ds.events[si as usize];
                if s.ts > first
                    && s.ts <= last + t.spray_memory_ms
                    && s.user != super::super::index::NO_USER
                {
                    by_user.entry(ds.user(s.user).key).or_default().push(si);
                }
            }
            for (ukey, succ) in by_user {
                let name = ds.name_of(ukey);
                out.push(
                    Draft::over_events(ds, "DUO-19", format!("{ip}|{ukey}|{}", bucket(first, t.spray_window_ms)), succ)
                        .title("Successful login from an IP that sprayed other accounts")
                        .severity(Severity::High)
                        .subject(name)
                        .subject(ip)
                        .action("disable-user")
                        .detail(format!(
                            "{name} signed in from {ip}, which had been denied for {} users shortly before: the \
                             account is likely compromised. Disable it and reset the password.",
                            targets.len()
                        )),
                );
            }
        }
    }
}
