//! Collect Now, waited for (`collect`, the CLI) or queued
//! (`queue_collection`, the API), and the scheduler's runs: each holds the
//! integration's lease, is one run in the history with its progress
//! (pages, records by source) kept on it as pages commit, moves the
//! schedule, and refreshes insights after committing something.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::lease::Lease;
use super::runs::RunRecord;
use super::scheduler::lock;
use super::{Platform, PlatformError, Requester, Result};
use crate::model::{CollectOptions, CollectSummary};
use oort_runtime::calls;
use oort_store::{Integration, Run, RunId, RunKind};

/// Progress of a collection, reported as pages are committed.
pub trait CollectProgress: Send + Sync {
    /// `source` committed `records` more records in one page.
    fn committed(&self, source: &str, records: u64);
}

/// A progress sink that ignores everything.
pub struct NoProgress;
impl CollectProgress for NoProgress {
    fn committed(&self, _source: &str, _records: u64) {}
}

/// How often a running collection's progress is written to its run at
/// most (the last report is always written, before the run ends).
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// What a collection committed so far, as kept on its run.
#[derive(Debug, Default, Clone, Serialize)]
struct Tally {
    pages: u64,
    records: BTreeMap<String, u64>,
}

struct ProgressLog {
    tally: Tally,
    written: Option<Instant>,
}

impl ProgressLog {
    /// Counts one page; the tally to write if it is time to.
    fn add(&mut self, source: &str, records: u64) -> Option<Tally> {
        self.tally.pages += 1;
        *self.tally.records.entry(source.to_owned()).or_default() += records;
        let due = self.written.is_none_or(|at| at.elapsed() >= PROGRESS_EVERY);
        due.then(|| {
            self.written = Some(Instant::now());
            self.tally.clone()
        })
    }
}

impl Platform {
    /// Runs Collect Now and waits for it; the run is recorded (failed runs
    /// too, with their error) and checkpoints only move with committed
    /// records. Insights are refreshed after a run that committed
    /// something. Callers present the summary as a
    /// [`CollectReport`](super::views::CollectReport).
    ///
    /// Holds the integration's collection lease meanwhile: while another
    /// process collects it, this is refused as a `Conflict`. The outcome
    /// moves the integration's schedule like a scheduled run's.
    pub async fn collect(
        &self,
        integration: &Integration,
        options: CollectOptions,
        progress: &dyn CollectProgress,
    ) -> Result<CollectSummary> {
        let lease = self.lease(integration)?;
        self.collect_holding(lease, integration, options, progress)
            .await
    }

    /// Collect Now without waiting: the lease is taken and the run opened
    /// before this returns (so a collection already running is refused at
    /// once, as a `Conflict`), then it runs in the background. Poll
    /// [`Platform::run`] with the id for its progress and outcome;
    /// [`Platform::wait_for_queued`] waits for every queued one.
    pub fn queue_collection(
        self: &Arc<Self>,
        integration: Integration,
        options: CollectOptions,
    ) -> Result<RunId> {
        let lease = self.lease(&integration)?;
        let run = RunRecord::start(&self.store, &self.metrics, integration.id, RunKind::Collect)?;
        let id = run.id();
        let platform = self.clone();
        let mut queued = lock(&self.queued);
        while queued.try_join_next().is_some() {}
        queued.spawn(async move {
            // The outcome is on the run (and the schedule).
            let _ = platform
                .collect_recorded(lease, run, &integration, options, &NoProgress)
                .await;
        });
        Ok(id)
    }

    /// Waits until every collection [`Platform::queue_collection`] started
    /// has ended (a stopping server lets them finish).
    pub async fn wait_for_queued(&self) {
        let mut queued = std::mem::take(&mut *lock(&self.queued));
        while let Some(joined) = queued.join_next().await {
            if let Err(e) = joined {
                tracing::error!(error = %e, "a queued collection panicked");
            }
        }
    }

    /// Stops every collection of this platform at its next page boundary,
    /// running or yet to start: each commits the page it is fetching, then
    /// ends with `Interrupted` (its run says so, its schedule keeps its due
    /// time) and the next run resumes from the checkpoint. For a host that
    /// is shutting down; there is no undoing it.
    pub fn stop_collections(&self) {
        self.stop.request();
    }

    /// One run of the integration (`NotFound` for another integration's).
    pub fn run(&self, integration: &Integration, id: RunId) -> Result<Run> {
        match self.store.run(id)? {
            Some(run) if run.integration_id == integration.id => Ok(run),
            _ => Err(PlatformError::NotFound(format!(
                "integration `{}` has no run {id}",
                integration.name
            ))),
        }
    }

    /// [`Platform::collect`] under a lease the caller took: the next due
    /// time is stored before the lease is released, so no other process
    /// sees the integration due again in between. Insights are refreshed
    /// before the run ends, so its summary says how that went.
    pub(crate) async fn collect_holding(
        &self,
        lease: Lease,
        integration: &Integration,
        options: CollectOptions,
        progress: &dyn CollectProgress,
    ) -> Result<CollectSummary> {
        let run =
            match RunRecord::start(&self.store, &self.metrics, integration.id, RunKind::Collect) {
                Ok(run) => run,
                Err(e) => {
                    let outcome = Err(e.into());
                    self.reschedule(integration, &options.sources, &outcome);
                    return outcome;
                }
            };
        self.collect_recorded(lease, run, integration, options, progress)
            .await
    }

    async fn collect_recorded(
        &self,
        lease: Lease,
        run: RunRecord,
        integration: &Integration,
        options: CollectOptions,
        progress: &dyn CollectProgress,
    ) -> Result<CollectSummary> {
        let running = self.metrics.collection_running();
        let outcome = self
            .run_collection(run, lease.holder(), integration, options, progress)
            .await;
        drop(running);
        drop(lease);
        outcome
    }

    /// Ends a collection: the schedule moves first and the run ends after,
    /// so whoever sees the run ended sees the schedule it left (the lease
    /// goes last, so no other run of it overlaps this one in the history).
    fn end_collection(
        &self,
        run: RunRecord,
        integration: &Integration,
        options: &CollectOptions,
        outcome: std::result::Result<CollectSummary, (PlatformError, String)>,
    ) -> Result<CollectSummary> {
        let (outcome, recorded) = match outcome {
            Ok(summary) => (Ok(summary), None),
            Err((error, recorded)) => (Err(error), Some(recorded)),
        };
        // A run the shutdown stopped between pages is no failure: the
        // schedule keeps the due time it had, so the next process to look
        // (this one restarted, or another serve) collects it at once.
        if !matches!(outcome, Err(PlatformError::Interrupted(_))) {
            self.reschedule(integration, &options.sources, &outcome);
        }
        match (&outcome, recorded) {
            (Ok(summary), _) => run.succeeded(summary),
            (Err(error), recorded) => run.failed(recorded.unwrap_or_else(|| error.to_string())),
        }
        outcome
    }

    async fn run_collection(
        &self,
        run: RunRecord,
        holder: &str,
        integration: &Integration,
        options: CollectOptions,
        progress: &dyn CollectProgress,
    ) -> Result<CollectSummary> {
        let (prepared, _, mut ctx) = match self.context(integration, Some(holder)) {
            Ok(context) => context,
            Err(e) => {
                let recorded = e.to_string();
                return self.end_collection(run, integration, &options, Err((e, recorded)));
            }
        };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        ctx.progress = Some(tx);
        ctx.stop = Some(self.stop.clone());
        let config = ctx.config.clone();

        // The sandbox can only hold 'static data, so commits are reported
        // over a channel and forwarded here: to the metrics, to the run's
        // progress in the store, and to the caller's sink.
        let log = Mutex::new(ProgressLog {
            tally: Tally::default(),
            written: None,
        });
        let run_id = run.id();
        let write = |tally: &Tally| {
            let recorded = serde_json::to_value(tally)
                .map_err(|e| e.to_string())
                .and_then(|value| {
                    self.store
                        .record_run_progress(run_id, &value)
                        .map_err(|e| e.to_string())
                });
            if let Err(e) = recorded {
                tracing::warn!(run = run_id, error = %e, "could not record the collection's progress");
            }
        };
        let committed = |source: &str, records: u64| {
            self.metrics
                .records_committed(&integration.plugin_id, source, records);
            let due = lock(&log).add(source, records);
            if let Some(tally) = due {
                write(&tally);
            }
            progress.committed(source, records);
        };
        let call = calls::Collect {
            config: &config,
            options: &options,
        };
        let invocation = self.runtime.invoke(&prepared, ctx, call);
        tokio::pin!(invocation);
        let outcome = loop {
            tokio::select! {
                outcome = &mut invocation => break outcome,
                Some((source, records)) = rx.recv() => committed(&source, records),
            }
        };
        while let Ok((source, records)) = rx.try_recv() {
            committed(&source, records);
        }
        let last = lock(&log).tally.clone();
        if last.pages > 0 {
            write(&last);
        }

        // The run keeps the plugin's or the sandbox's own words.
        let mut summary = match outcome {
            Ok(Ok(summary)) => summary,
            Ok(Err(e)) => {
                let recorded = e.to_string();
                return self.end_collection(run, integration, &options, Err((e.into(), recorded)));
            }
            Err(e) => {
                let recorded = e.to_string();
                return self.end_collection(run, integration, &options, Err((e.into(), recorded)));
            }
        };
        // Findings follow the data: recompute after every collection that
        // committed something, so insights are never stale.
        if summary.records.iter().any(|(_, n)| *n > 0) {
            let by = Requester::local("oort-host (the refresh after a collection)");
            match self.refresh_insights(&by, integration).await {
                Ok(report) => summary.notes.push(format!(
                    "insights refreshed: {} findings",
                    report.findings.len()
                )),
                Err(e) => {
                    tracing::warn!(integration = %integration.name, error = %e, "insights refresh failed");
                    summary.notes.push(format!(
                        "insights not refreshed: {e}; run `oort-host insights` to retry"
                    ));
                }
            }
        }
        self.end_collection(run, integration, &options, Ok(summary))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_counts_every_page_and_is_written_at_most_every_250_ms() {
        let mut log = ProgressLog {
            tally: Tally::default(),
            written: None,
        };
        let first = log
            .add("authentication_log", 1000)
            .expect("the first page is written");
        assert_eq!(
            (first.pages, first.records["authentication_log"]),
            (1, 1000)
        );
        // Right after a write, pages are counted but not written.
        assert!(log.add("authentication_log", 1000).is_none());
        assert!(log.add("user", 53).is_none());
        log.written = Some(Instant::now() - PROGRESS_EVERY);
        let later = log
            .add("user", 2)
            .expect("written once the interval passed");
        assert_eq!(later.pages, 4);
        assert_eq!(later.records["authentication_log"], 2000);
        assert_eq!(later.records["user"], 55);
        assert_eq!(
            serde_json::to_value(&later).unwrap(),
            serde_json::json!({"pages": 4, "records": {"authentication_log": 2000, "user": 55}})
        );
    }
}
