//! Run bookkeeping: every plugin call on a stored integration is a run with
//! a start and exactly one end, recorded by one guard.

use std::sync::Arc;

use serde::Serialize;

use crate::metrics::Metrics;
use oort_store::{Backend, IntegrationId, RunId, RunKind, RunStatus};

/// The outcome given to a run that was dropped before it reported one: its
/// future was cancelled (the caller went away) or the code panicked.
pub(crate) const INTERRUPTED: &str = "interrupted: the run ended before its outcome was reported; the next run resumes from the last checkpoint";

/// A `running` row in the store; ends it once, as succeeded or failed, and
/// as failed ([`INTERRUPTED`]) if dropped unfinished.
pub(crate) struct RunRecord {
    store: Arc<dyn Backend>,
    metrics: Arc<Metrics>,
    id: RunId,
    kind: RunKind,
    finished: bool,
}

impl RunRecord {
    pub(crate) fn start(
        store: &Arc<dyn Backend>,
        metrics: &Arc<Metrics>,
        integration: IntegrationId,
        kind: RunKind,
    ) -> oort_store::Result<RunRecord> {
        let id = store.start_run(integration, kind)?;
        Ok(RunRecord {
            store: store.clone(),
            metrics: metrics.clone(),
            id,
            kind,
            finished: false,
        })
    }

    pub(crate) fn id(&self) -> RunId {
        self.id
    }

    /// Ends the run with `status`, keeping `summary` (serialized) and `error`.
    pub(crate) fn finish<T: Serialize>(
        mut self,
        status: RunStatus,
        summary: Option<&T>,
        error: Option<&str>,
    ) {
        let summary = summary.and_then(|s| serde_json::to_value(s).ok());
        self.write(status, summary.as_ref(), error);
    }

    pub(crate) fn succeeded<T: Serialize>(self, summary: &T) {
        self.finish(RunStatus::Succeeded, Some(summary), None);
    }

    pub(crate) fn failed(self, error: impl std::fmt::Display) {
        self.finish::<()>(RunStatus::Failed, None, Some(&error.to_string()));
    }

    /// A failure to record must not hide the operation's own result, so it
    /// is logged.
    fn write(
        &mut self,
        status: RunStatus,
        summary: Option<&serde_json::Value>,
        error: Option<&str>,
    ) {
        self.finished = true;
        self.metrics.run_ended(self.kind, status);
        if let Err(e) = self.store.finish_run(self.id, status, summary, error) {
            tracing::error!(run = self.id, "could not record the end of the run: {e}");
        }
    }
}

impl Drop for RunRecord {
    fn drop(&mut self) {
        if !self.finished {
            self.write(RunStatus::Failed, None, Some(INTERRUPTED));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oort_store::{MasterKey, NewIntegration, Store};

    struct Fixture {
        _dir: tempfile::TempDir,
        store: Arc<dyn Backend>,
        metrics: Arc<Metrics>,
        id: IntegrationId,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Backend> =
            Arc::new(Store::open_with_key(dir.path(), MasterKey::from_bytes([7; 32])).unwrap());
        let integration = store
            .create_integration(&NewIntegration {
                tenant: "t".into(),
                name: "i".into(),
                plugin_id: "p".into(),
                config: vec![],
                secrets: vec![],
                api_base_url: None,
                granted_capabilities: vec![],
            })
            .unwrap();
        Fixture {
            _dir: dir,
            store,
            metrics: Arc::new(Metrics::new()),
            id: integration.id,
        }
    }

    impl Fixture {
        fn start(&self, kind: RunKind) -> RunRecord {
            RunRecord::start(&self.store, &self.metrics, self.id, kind).unwrap()
        }
    }

    #[test]
    fn a_run_ends_once_with_its_result_and_is_counted() {
        let f = fixture();
        f.start(RunKind::Collect)
            .succeeded(&serde_json::json!({"pages": 2}));
        f.start(RunKind::Test).failed("upstream said 401");
        let runs = f.store.runs(f.id, 10).unwrap();
        assert_eq!(runs[1].status, RunStatus::Succeeded);
        assert_eq!(runs[1].summary, Some(serde_json::json!({"pages": 2})));
        assert_eq!(runs[0].status, RunStatus::Failed);
        assert_eq!(runs[0].error.as_deref(), Some("upstream said 401"));
        let text = f.metrics.render();
        assert!(text.contains(r#"oort_runs_total{kind="collect",outcome="succeeded"} 1"#));
        assert!(text.contains(r#"oort_runs_total{kind="test",outcome="failed"} 1"#));
    }

    #[test]
    fn a_run_dropped_unfinished_is_marked_interrupted() {
        let f = fixture();
        let run = f.start(RunKind::Collect);
        assert_eq!(f.store.runs(f.id, 1).unwrap()[0].status, RunStatus::Running);
        drop(run);
        let ended = &f.store.runs(f.id, 1).unwrap()[0];
        assert_eq!(ended.status, RunStatus::Failed);
        assert_eq!(ended.error.as_deref(), Some(INTERRUPTED));
        assert!(ended.finished_at_ms.is_some());
        assert!(
            f.metrics
                .render()
                .contains(r#"oort_runs_total{kind="collect",outcome="failed"} 1"#)
        );
    }
}
