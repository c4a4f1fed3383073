//! The catalogue's rules, one module per group. Each `run` appends drafts.

pub mod anonymizer;
pub mod apps;
pub mod attack;
pub mod bypass;
pub mod device;
pub mod inventory;
pub mod location;
pub mod probing;
pub mod push;
pub mod volume;

use super::index::{Dataset, Ev, User};

/// Time stamps of the user's events that pass `keep`, with their indices.
pub(crate) fn select<'d, 'a>(
    ds: &'d Dataset<'a>,
    user: &User<'a>,
    keep: impl Fn(&Ev<'a>) -> bool,
) -> (Vec<i64>, Vec<u32>) {
    let mut times = Vec::new();
    let mut idx = Vec::new();
    for &i in &user.events {
        let ev = &ds.events[i as usize];
        if keep(ev) {
            times.push(ev.ts);
            idx.push(i);
        }
    }
    (times, idx)
}

pub(crate) fn minutes(ms: i64) -> i64 {
    ms / 60_000
}

/// The user's events with `from <= ts <= to` (the list is time-ordered).
pub(crate) fn between<'u>(ds: &Dataset<'_>, user: &'u User<'_>, from: i64, to: i64) -> &'u [u32] {
    let ev = &user.events;
    let lo = ev.partition_point(|&i| ds.events[i as usize].ts < from);
    let hi = ev.partition_point(|&i| ds.events[i as usize].ts <= to);
    &ev[lo..hi.max(lo)]
}

pub(crate) fn is_privileged(t: &super::thresholds::Thresholds, user: &User<'_>) -> bool {
    user.account
        .is_some_and(|a| a.groups.iter().any(|g| t.is_privileged_group(g)))
}

/// Compares inventory statuses whatever their spelling ("locked out", "Locked_Out").
pub(crate) fn status_is(status: &str, want: &str) -> bool {
    let norm = |s: &str| s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    norm(status) == want
}
