//! Scheduled collection: `serve` runs every integration's collection when
//! it is due, at most [`SchedulerConfig::max_concurrent`] at once and
//! [`SchedulerConfig::max_per_tenant`] per tenant, never two of one
//! integration (its lease, in the store, also keeps other processes off),
//! retrying failures with backoff and recording why on the schedule.
//!
//! A tick asks the store what is due, [`policy::pick`]s under the caps,
//! takes each lease and spawns the collection; when it ends, the next due
//! time ([`policy::after_success`] / [`policy::after_failure`]) and the
//! outcome are recorded and the lease released. Times come from the
//! platform's clock, so a `ManualClock` drives it in tests.

pub mod policy;
mod sources;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oort_store::{Integration, IntegrationId, Schedule};
use tokio::task::JoinSet;

use crate::model::{CollectOptions, CollectSummary};
use crate::{NoProgress, Platform, PlatformError, Result};

/// How many due integrations one tick looks at.
const DUE_BATCH: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulerConfig {
    /// Collections running at once, over all tenants.
    pub max_concurrent: usize,
    /// Collections running at once for one tenant.
    pub max_per_tenant: usize,
    /// How often the scheduler looks for due integrations.
    pub tick: Duration,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            max_concurrent: 4,
            max_per_tenant: 2,
            tick: Duration::from_secs(1),
        }
    }
}

pub struct Scheduler {
    platform: Arc<Platform>,
    config: SchedulerConfig,
    /// What this scheduler runs now: integration → tenant.
    running: Arc<Mutex<HashMap<IntegrationId, String>>>,
    tasks: Mutex<JoinSet<()>>,
}

impl Scheduler {
    pub fn new(platform: Arc<Platform>, config: SchedulerConfig) -> Result<Scheduler> {
        if config.max_concurrent == 0 || config.max_per_tenant == 0 {
            return Err(PlatformError::InvalidInput(
                "the scheduler needs at least one collection at once, overall and per tenant"
                    .into(),
            ));
        }
        Ok(Scheduler {
            platform,
            config,
            running: Arc::default(),
            tasks: Mutex::new(JoinSet::new()),
        })
    }

    /// One pass: starts the due collections the caps allow and whose lease
    /// this process gets; returns their integrations.
    pub fn tick(&self) -> Result<Vec<IntegrationId>> {
        let now = self.platform.now_ms();
        let due = self.platform.store.due(now, DUE_BATCH)?;
        self.platform.metrics.due_seen(due.len());
        let caps = policy::Caps {
            total: self.config.max_concurrent,
            per_tenant: self.config.max_per_tenant,
        };
        let chosen = policy::pick(&due, &lock(&self.running), caps);
        let mut started = Vec::new();
        for id in chosen {
            let Some(schedule) = due.iter().find(|s| s.integration_id == id) else {
                continue;
            };
            match self.start(schedule) {
                Ok(true) => started.push(id),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(integration = id, error = %e, "a scheduled collection could not start")
                }
            }
        }
        Ok(started)
    }

    /// Spawns the collection if the lease is ours (`false`: another process
    /// took it first).
    fn start(&self, schedule: &Schedule) -> Result<bool> {
        let id = schedule.integration_id;
        let Some(integration) = self.platform.store.integration_by_id(id)? else {
            return Ok(false);
        };
        let now = self.platform.now_ms();
        let sources = self
            .platform
            .source_plan(&integration, schedule.interval_ms)?
            .due(now);
        let lease = match self.platform.lease(&integration) {
            Ok(lease) => lease,
            Err(e) if e.kind() == crate::ErrorKind::Conflict => return Ok(false),
            Err(e) => return Err(e),
        };
        self.platform
            .metrics
            .scheduled_start(now - schedule.next_due_ms);
        lock(&self.running).insert(id, schedule.tenant.clone());
        let platform = self.platform.clone();
        let running = self.running.clone();
        lock(&self.tasks).spawn(async move {
            // The outcome is on the schedule (and the run history).
            let options = CollectOptions {
                sources,
                max_pages: None,
            };
            let _ = platform
                .collect_holding(lease, &integration, options, &NoProgress)
                .await;
            lock(&running).remove(&id);
        });
        Ok(true)
    }

    /// Integrations this scheduler is collecting now.
    pub fn running(&self) -> Vec<IntegrationId> {
        lock(&self.running).keys().copied().collect()
    }

    /// Waits until every collection this scheduler started has ended.
    pub async fn wait_idle(&self) {
        let mut tasks = std::mem::take(&mut *lock(&self.tasks));
        while let Some(joined) = tasks.join_next().await {
            if let Err(e) = joined {
                tracing::error!(error = %e, "a scheduled collection panicked");
            }
        }
    }

    /// Ticks until `shutdown` resolves, then starts nothing more and waits
    /// for the running collections to end.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut every = tokio::time::interval(self.config.tick);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                _ = every.tick() => {
                    if let Err(e) = self.tick() {
                        tracing::warn!(error = %e, "the scheduler could not read what is due");
                    }
                    self.reap();
                }
            }
        }
        tracing::info!(
            running = self.running().len(),
            "scheduler stopping: waiting for running collections"
        );
        self.wait_idle().await;
    }

    /// Drops the finished tasks' handles.
    fn reap(&self) {
        let mut tasks = lock(&self.tasks);
        while let Some(joined) = tasks.try_join_next() {
            if let Err(e) = joined {
                tracing::error!(error = %e, "a scheduled collection panicked");
            }
        }
    }
}

impl Platform {
    /// Records a collection's outcome on the integration's schedule: due
    /// one interval (± jitter) later after a success (for a plugin that
    /// lists its sources: when the soonest source falls due, the ones this
    /// run asked for, `requested`, counting as collected now), backed off
    /// after a failure, with the reason kept for `integrations show`.
    pub(crate) fn reschedule(
        &self,
        integration: &Integration,
        requested: &[String],
        outcome: &Result<CollectSummary>,
    ) {
        if let Err(e) = self.try_reschedule(integration, requested, outcome) {
            tracing::error!(integration = %integration.name, error = %e, "could not record the collection on its schedule");
        }
    }

    fn try_reschedule(
        &self,
        integration: &Integration,
        requested: &[String],
        outcome: &Result<CollectSummary>,
    ) -> Result<()> {
        let schedule = self.store.schedule(integration.id)?;
        let now = self.now_ms();
        let unit: f64 = rand::random();
        let (next_due, error, collected) = match outcome {
            Ok(_) => {
                let mut sources = self.source_plan(integration, schedule.interval_ms)?;
                if sources.is_whole() {
                    let next = policy::after_success(now, schedule.interval_ms, unit);
                    (next, None, Vec::new())
                } else {
                    let collected = sources.collected_by(requested);
                    (
                        sources.next_due_after(&collected, now, unit),
                        None,
                        collected,
                    )
                }
            }
            Err(e) => {
                let next =
                    policy::after_failure(now, schedule.interval_ms, schedule.failures + 1, unit);
                (next, Some(e.to_string()), Vec::new())
            }
        };
        if let Some(error) = &error {
            tracing::warn!(integration = %integration.name, tenant = %integration.tenant, error = %error, "collection failed; next try at {}", oort_time::rfc3339_from_ms(next_due));
        }
        let collected: Vec<&str> = collected.iter().map(String::as_str).collect();
        self.store.record_collection(
            integration.id,
            now,
            next_due,
            error.as_deref(),
            &collected,
        )?;
        Ok(())
    }
}

/// The guard of `mutex`, poisoned or not: what it guards (task lists,
/// counters) stays whole when a holder panics.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
