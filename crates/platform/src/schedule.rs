//! An integration's collection schedule as operators see and change it:
//! how often `serve` collects it, when next, and why it is failing.

use std::time::Duration;

use oort_store::Integration;

use super::views::ScheduleView;
use super::{Platform, PlatformError, Requester, Result};

/// The shortest interval: below it a schedule only spends the upstream's
/// rate limit (Duo answers 429s) without collecting sooner.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// The longest: a week, well inside what Duo keeps of its logs.
pub const MAX_INTERVAL: Duration = Duration::from_secs(7 * 24 * 3600);

impl Platform {
    /// When the integration is collected next, and how its scheduled runs go.
    pub fn schedule(&self, integration: &Integration) -> Result<ScheduleView> {
        let schedule = self.store.schedule(integration.id)?;
        let now = self.now_ms();
        let sources = self.source_plan(integration, schedule.interval_ms)?;
        Ok(ScheduleView::new(schedule, now).with_sources(sources.views(now)))
    }

    /// Collects the integration every `interval` from now on: the next run
    /// is due one interval after the last one finished (or, for a plugin
    /// that lists its sources, when the soonest source falls due at its
    /// interval; sources with an interval of the plugin's keep it). Audited
    /// as `integration.schedule`.
    pub fn set_collection_interval(
        &self,
        by: &Requester,
        integration: &Integration,
        interval: Duration,
    ) -> Result<ScheduleView> {
        if !(MIN_INTERVAL..=MAX_INTERVAL).contains(&interval) {
            return Err(PlatformError::InvalidInput(format!(
                "a collection interval is between {} s and {} s (7 days); got {} s",
                MIN_INTERVAL.as_secs(),
                MAX_INTERVAL.as_secs(),
                interval.as_secs_f64()
            )));
        }
        let interval_ms = interval.as_millis() as i64;
        let now = self.now_ms();
        let mut sources = self.source_plan(integration, interval_ms)?;
        let next_due = (!sources.is_whole()).then(|| sources.next_due_after(&[], now, 0.5));
        let schedule = self
            .store
            .set_interval(integration.id, interval_ms, next_due)?;
        self.audit_change(
            by,
            Some(integration),
            "integration.schedule",
            &integration.name,
            format!("succeeded: collected every {} s", interval.as_secs_f64()),
        )?;
        Ok(ScheduleView::new(schedule, now).with_sources(sources.views(now)))
    }
}
