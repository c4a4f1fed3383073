//! The scheduler's decisions, as pure functions of the time and the state:
//! when an integration is due next (interval with jitter, backoff after
//! failures) and which due integrations start now (a global cap, and a
//! per-tenant cap so one tenant cannot starve the others).

use std::collections::HashMap;

use oort_store::{IntegrationId, Schedule};

/// Jitter spreads runs over ±this fraction of the interval, so integrations
/// added together do not stay in lockstep.
pub const JITTER_FRACTION: f64 = 0.1;

/// Backoff never waits longer than this (or the interval, if longer).
pub const MAX_BACKOFF_MS: i64 = 60 * 60 * 1000;

/// `unit` is uniform in [0, 1): the jitter's draw, injected for tests.
fn jittered(delay_ms: i64, unit: f64) -> i64 {
    let spread = delay_ms as f64 * JITTER_FRACTION;
    (delay_ms as f64 + spread * (2.0 * unit - 1.0)).round() as i64
}

/// When an integration that just succeeded is due again.
pub fn after_success(now_ms: i64, interval_ms: i64, unit: f64) -> i64 {
    now_ms + jittered(interval_ms, unit).max(1)
}

/// When an integration that has now failed `failures` times in a row is
/// retried: the interval doubled per failure after the first, capped.
pub fn after_failure(now_ms: i64, interval_ms: i64, failures: u32, unit: f64) -> i64 {
    let doublings = failures.saturating_sub(1).min(16);
    let cap = MAX_BACKOFF_MS.max(interval_ms);
    let delay = interval_ms.saturating_mul(1 << doublings).min(cap);
    now_ms + jittered(delay, unit).max(1)
}

/// One source of a plugin that schedules its sources: how often it is
/// collected and when it last was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceTiming<'a> {
    pub name: &'a str,
    pub interval_ms: i64,
    pub last_collected_ms: Option<i64>,
}

impl SourceTiming<'_> {
    /// When it is due by its interval alone (now, if never collected).
    fn due_at(&self, now_ms: i64) -> i64 {
        self.last_collected_ms
            .map_or(now_ms, |last| last.saturating_add(self.interval_ms))
    }

    /// Whether a run at `now_ms` takes it: a run may come early by the
    /// jitter, and a source within the jitter of its time goes with it
    /// rather than waiting for a run of its own.
    fn is_due(&self, now_ms: i64) -> bool {
        let early = (self.interval_ms as f64 * JITTER_FRACTION) as i64;
        self.last_collected_ms.is_none() || now_ms >= self.due_at(now_ms) - early
    }
}

/// The sources a run at `now_ms` collects: every one due. When none is (the
/// run was moved earlier, e.g. by a backoff or a changed interval), the ones
/// due soonest, so a run never collects nothing.
pub fn due_sources<'a>(now_ms: i64, sources: &[SourceTiming<'a>]) -> Vec<&'a str> {
    let due: Vec<&str> = sources
        .iter()
        .filter(|s| s.is_due(now_ms))
        .map(|s| s.name)
        .collect();
    if !due.is_empty() {
        return due;
    }
    let soonest = sources.iter().map(|s| s.due_at(now_ms)).min();
    sources
        .iter()
        .filter(|s| Some(s.due_at(now_ms)) == soonest)
        .map(|s| s.name)
        .collect()
}

/// When the integration is due next after a successful run at `now_ms`
/// (with `sources` as that run left them): when its soonest source falls
/// due, with the jitter over the wait.
pub fn next_source_due(now_ms: i64, sources: &[SourceTiming<'_>], unit: f64) -> i64 {
    let soonest = sources
        .iter()
        .map(|s| s.due_at(now_ms))
        .min()
        .unwrap_or(now_ms);
    now_ms + jittered((soonest - now_ms).max(1), unit).max(1)
}

/// Caps on concurrent collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    pub total: usize,
    pub per_tenant: usize,
}

/// Which of `due` (most overdue first) start now, given what runs already
/// (integration → tenant): never one already running, at most `caps.total`
/// in all and `caps.per_tenant` per tenant. A tenant at its cap is skipped,
/// not waited for, so the next tenant's integrations start.
pub fn pick(
    due: &[Schedule],
    running: &HashMap<IntegrationId, String>,
    caps: Caps,
) -> Vec<IntegrationId> {
    let mut per_tenant: HashMap<&str, usize> = HashMap::new();
    for tenant in running.values() {
        *per_tenant.entry(tenant).or_default() += 1;
    }
    let mut total = running.len();
    let mut chosen = Vec::new();
    for schedule in due {
        if total >= caps.total {
            break;
        }
        if running.contains_key(&schedule.integration_id) {
            continue;
        }
        let count = per_tenant.entry(&schedule.tenant).or_default();
        if *count >= caps.per_tenant {
            continue;
        }
        *count += 1;
        total += 1;
        chosen.push(schedule.integration_id);
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn due(id: IntegrationId, tenant: &str) -> Schedule {
        Schedule {
            integration_id: id,
            tenant: tenant.into(),
            interval_ms: 5 * MIN,
            next_due_ms: 0,
            failures: 0,
            last_error: None,
            last_finished_ms: None,
            lease_owner: None,
            lease_expires_ms: None,
        }
    }

    #[test]
    fn the_next_run_is_one_interval_away_within_the_jitter() {
        let interval = 5 * MIN;
        assert_eq!(after_success(1_000, interval, 0.5), 1_000 + interval);
        let earliest = after_success(1_000, interval, 0.0);
        let latest = after_success(1_000, interval, 0.999_999);
        assert_eq!(earliest, 1_000 + interval - 30_000);
        assert!(latest <= 1_000 + interval + 30_000 && latest > 1_000 + interval + 29_000);
        for unit in [0.0, 0.25, 0.5, 0.75, 0.99] {
            let at = after_success(0, interval, unit);
            assert!(
                (interval - 30_000..=interval + 30_000).contains(&at),
                "{unit}: {at}"
            );
        }
    }

    #[test]
    fn failures_back_off_doubling_up_to_an_hour() {
        let interval = 5 * MIN;
        let delays: Vec<i64> = (1..=7)
            .map(|f| after_failure(0, interval, f, 0.5))
            .collect();
        assert_eq!(
            delays,
            [
                5 * MIN,
                10 * MIN,
                20 * MIN,
                40 * MIN,
                60 * MIN,
                60 * MIN,
                60 * MIN
            ]
        );
        // An interval longer than the cap is never shortened by a failure.
        assert_eq!(after_failure(0, 2 * 60 * MIN, 9, 0.5), 2 * 60 * MIN);
        assert_eq!(after_failure(0, interval, u32::MAX, 0.5), 60 * MIN);
    }

    fn timing(name: &str, interval_ms: i64, last: Option<i64>) -> SourceTiming<'_> {
        SourceTiming {
            name,
            interval_ms,
            last_collected_ms: last,
        }
    }

    #[test]
    fn each_source_is_due_by_its_own_interval_within_the_jitter() {
        const HOUR: i64 = 60 * MIN;
        let t = 10 * HOUR;
        let sources = [
            timing("auth", 5 * MIN, Some(t - 5 * MIN)),
            timing("user", HOUR, Some(t - 5 * MIN)),
            timing("phone", HOUR, Some(t - 55 * MIN)),
            timing("endpoint", HOUR, Some(t - 53 * MIN)),
            timing("new", HOUR, None),
        ];
        // phone is within the jitter (6 min of an hour) of its time; endpoint not yet.
        assert_eq!(due_sources(t, &sources), ["auth", "phone", "new"]);
        // A run moved earlier than any is due still collects the soonest.
        let early = [
            timing("auth", 5 * MIN, Some(t)),
            timing("user", HOUR, Some(t)),
        ];
        assert_eq!(due_sources(t + MIN, &early), ["auth"]);
    }

    #[test]
    fn the_next_run_is_when_the_soonest_source_falls_due() {
        const HOUR: i64 = 60 * MIN;
        let t = 10 * HOUR;
        // Just collected auth and user; phone was collected 50 minutes ago.
        let sources = [
            timing("auth", 5 * MIN, Some(t)),
            timing("user", HOUR, Some(t)),
            timing("phone", HOUR, Some(t - 58 * MIN)),
        ];
        assert_eq!(next_source_due(t, &sources, 0.5), t + 2 * MIN);
        let later = [
            timing("auth", 5 * MIN, Some(t)),
            timing("user", HOUR, Some(t)),
        ];
        assert_eq!(next_source_due(t, &later, 0.5), t + 5 * MIN);
        // The jitter spreads the wait by at most its fraction, and a run that
        // early still finds the source due.
        let earliest = next_source_due(t, &later, 0.0);
        assert_eq!(earliest, t + 5 * MIN - 30_000);
        assert_eq!(due_sources(earliest, &later), ["auth"]);
        // An overdue source makes the integration due at once (1 ms).
        let overdue = [timing("user", HOUR, Some(t - 2 * HOUR))];
        assert_eq!(next_source_due(t, &overdue, 0.5), t + 1);
    }

    #[test]
    fn caps_hold_overall_and_per_tenant_and_skip_a_full_tenant() {
        let caps = Caps {
            total: 3,
            per_tenant: 2,
        };
        let queue = [
            due(1, "big"),
            due(2, "big"),
            due(3, "big"),
            due(4, "small"),
            due(5, "small"),
        ];
        assert_eq!(pick(&queue, &HashMap::new(), caps), [1, 2, 4]);

        // What runs counts: one of big's is running, and 1 is not started twice.
        let running = HashMap::from([(1, "big".to_string())]);
        assert_eq!(pick(&queue, &running, caps), [2, 4]);
        let full = HashMap::from([
            (7, "x".to_string()),
            (8, "y".to_string()),
            (9, "z".to_string()),
        ]);
        assert!(pick(&queue, &full, caps).is_empty());
    }
}
