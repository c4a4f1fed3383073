//! Operations on integrations: add (validated before anything is stored),
//! list, show, remove, Test Connectivity, Collect Now, insights, export and
//! the audit trail.

use std::sync::Arc;

use super::lease::Lease;
use super::runs::RunRecord;
use super::views::{AuditLine, IntegrationDetail};
use super::{Platform, PlatformError, Requester, Result, insight_refresh};
use crate::model::{Check, CheckStatus, CollectOptions, CollectSummary};
use oort_insights::{Report, Source, Thresholds};
use oort_runtime::calls;
use oort_runtime::capabilities::{InvocationContext, LogTags, MemorySecrets};
use oort_runtime::config_check::{check_config, check_grants, effective_config};
use oort_store::{Integration, NewIntegration, Run, RunKind, RunStatus, StoreError, StoredRecord};

/// What adding an integration needs: the store's own request, checked
/// here before it is stored.
pub type AddIntegration = NewIntegration;

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

/// How many runs `integrations show` lists.
const RUNS_SHOWN: usize = 10;

impl Platform {
    /// Checks the config (host-side constraints, then the plugin's
    /// `validate-config`) and stores the integration only if it is valid.
    pub async fn add_integration(
        &self,
        by: &Requester,
        req: AddIntegration,
    ) -> Result<Integration> {
        if req.tenant.trim().is_empty() || req.name.trim().is_empty() {
            return Err(PlatformError::InvalidInput(
                "tenant and integration name must not be empty".into(),
            ));
        }
        if self.store.integration(&req.tenant, &req.name)?.is_some() {
            return Err(PlatformError::Store(StoreError::Conflict(format!(
                "integration `{}` already exists in tenant `{}`; choose another name or remove it first",
                req.name, req.tenant
            ))));
        }
        let plugin = self.plugin(&req.plugin_id)?;
        let manifest = Arc::new(plugin.manifest.clone());
        let errors = check_config(&manifest, &req.config, &req.secrets);
        if !errors.is_empty() {
            return Err(PlatformError::InvalidConfig(errors));
        }
        check_grants(&manifest, &req.granted_capabilities).map_err(PlatformError::InvalidInput)?;
        if let Some(base) = &req.api_base_url {
            oort_runtime::capabilities::http::check_base_url_override(base)
                .map_err(PlatformError::InvalidInput)?;
        }

        let prepared = self.prepared(&plugin)?;
        let config = effective_config(&manifest, &req.config);
        let ctx = InvocationContext {
            tags: LogTags {
                tenant: req.tenant.clone(),
                integration: req.name.clone(),
                plugin: plugin.id.clone(),
            },
            manifest: manifest.clone(),
            config: config.clone(),
            // Not stored yet: the plugin reaches the candidate secrets from memory.
            secrets: Arc::new(MemorySecrets::new(req.secrets.clone())),
            granted_capabilities: req.granted_capabilities.clone(),
            api_base_url: req.api_base_url.clone(),
            storage: None,
            progress: None,
        };
        let errors = self
            .runtime
            .invoke(&prepared, ctx, calls::ValidateConfig { config: &config })
            .await?;
        if !errors.is_empty() {
            return Err(PlatformError::InvalidConfig(errors));
        }

        let integration = self.store.create_integration(&req)?;
        self.audit_change(
            by,
            Some(&integration),
            "integration.add",
            &integration.name,
            format!("succeeded: plugin {}", integration.plugin_id),
        )?;
        Ok(integration)
    }

    /// Looks up an integration of `tenant` by name (`NotFound` otherwise).
    pub fn integration(&self, tenant: &str, name: &str) -> Result<Integration> {
        self.store.integration(tenant, name)?.ok_or_else(|| {
            PlatformError::NotFound(format!("no integration `{name}` in tenant `{tenant}`"))
        })
    }

    /// The integrations of `tenant`.
    pub fn integrations(&self, tenant: &str) -> Result<Vec<Integration>> {
        Ok(self.store.integrations(Some(tenant))?)
    }

    /// The integration with its record counts and latest runs.
    pub fn integration_detail(&self, integration: Integration) -> Result<IntegrationDetail> {
        let counts = self.store.record_counts(integration.id)?;
        let runs = self.store.runs(integration.id, RUNS_SHOWN)?;
        let schedule = self.schedule(&integration)?;
        Ok(IntegrationDetail::new(integration, &counts, runs, schedule))
    }

    /// Removes the integration with its records, checkpoints, secrets, runs
    /// and findings; the audit trail keeps its entries and this removal.
    pub fn remove_integration(&self, by: &Requester, integration: &Integration) -> Result<()> {
        self.store.remove_integration(integration.id)?;
        self.audit_change(
            by,
            Some(integration),
            "integration.remove",
            &integration.name,
            "succeeded: removed".into(),
        )
    }

    /// The latest `limit` runs of the integration, newest first.
    pub fn runs(&self, integration: &Integration, limit: usize) -> Result<Vec<Run>> {
        Ok(self.store.runs(integration.id, limit)?)
    }

    /// Runs Test Connectivity; the run fails if any check failed. Callers
    /// present the checks as a [`TestReport`](super::views::TestReport).
    pub async fn test_connectivity(&self, integration: &Integration) -> Result<Vec<Check>> {
        let (prepared, _, mut ctx) = self.context(integration)?;
        ctx.storage = None;
        let config = ctx.config.clone();
        let run = RunRecord::start(&self.store, &self.metrics, integration.id, RunKind::Test)?;
        let checks = match self
            .runtime
            .invoke(&prepared, ctx, calls::TestConnectivity { config: &config })
            .await
        {
            Ok(checks) => checks,
            Err(e) => {
                run.failed(&e);
                return Err(e.into());
            }
        };
        let failed: Vec<&str> = checks
            .iter()
            .filter(|c| c.status == CheckStatus::Failed)
            .map(|c| c.name.as_str())
            .collect();
        if failed.is_empty() {
            run.succeeded(&checks);
        } else {
            let error = format!("failed checks: {}", failed.join(", "));
            run.finish(RunStatus::Failed, Some(&checks), Some(&error));
        }
        Ok(checks)
    }

    /// Runs Collect Now; the run is recorded (failed runs too, with their
    /// error) and checkpoints only move with committed records. Insights are
    /// refreshed after a run that committed something. Callers present the
    /// summary as a [`CollectReport`](super::views::CollectReport).
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

    /// [`Platform::collect`] under a lease the caller took: the next due
    /// time is stored before the lease is released, so no other process
    /// sees the integration due again in between.
    pub(crate) async fn collect_holding(
        &self,
        lease: Lease,
        integration: &Integration,
        options: CollectOptions,
        progress: &dyn CollectProgress,
    ) -> Result<CollectSummary> {
        let running = self.metrics.collection_running();
        let outcome = self.run_collection(integration, options, progress).await;
        drop(running);
        self.reschedule(integration, &outcome);
        drop(lease);
        outcome
    }

    async fn run_collection(
        &self,
        integration: &Integration,
        options: CollectOptions,
        progress: &dyn CollectProgress,
    ) -> Result<CollectSummary> {
        let (prepared, _, mut ctx) = self.context(integration)?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        ctx.progress = Some(tx);
        let config = ctx.config.clone();
        let run = RunRecord::start(&self.store, &self.metrics, integration.id, RunKind::Collect)?;

        // The sandbox can only hold 'static data, so commits are reported
        // over a channel and forwarded to the caller's sink here.
        let call = calls::Collect {
            config: &config,
            options: &options,
        };
        let committed = |source: &str, records: u64| {
            self.metrics
                .records_committed(&integration.plugin_id, source, records);
            progress.committed(source, records);
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

        let mut summary = match outcome {
            Ok(Ok(summary)) => {
                run.succeeded(&summary);
                summary
            }
            Ok(Err(e)) => {
                run.failed(&e);
                return Err(PlatformError::Plugin(e));
            }
            Err(e) => {
                run.failed(&e);
                return Err(e.into());
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
        Ok(summary)
    }

    /// Evaluates the insight catalogue over the integration's records,
    /// stores the findings (upserted, never duplicated) and returns them
    /// with the MFA posture. CPU-bound: runs on a blocking thread.
    /// Only the rules that apply to the integration's plugin run, and a
    /// finding suggests only an action that plugin declares.
    /// Audited as `insights.refresh` (the findings it stored).
    pub async fn refresh_insights(
        &self,
        by: &Requester,
        integration: &Integration,
    ) -> Result<Report> {
        let store = self.store.clone();
        let id = integration.id;
        let now = self.now_ms();
        let manifest = self.plugin(&integration.plugin_id)?.manifest;
        let report = tokio::task::spawn_blocking(move || {
            let source = Source::of(&manifest);
            insight_refresh::refresh(store.as_ref(), id, &source, now, &Thresholds::default())
        })
        .await
        .map_err(|e| PlatformError::Internal(format!("the insights task failed: {e}")))??;
        self.audit_change(
            by,
            Some(integration),
            "insights.refresh",
            &integration.name,
            format!("{} findings stored", report.findings.len()),
        )?;
        Ok(report)
    }

    /// Calls `f` with every stored record of the integration (of `kind`
    /// only, if given), streamed in store order; an error from `f` stops
    /// the walk and is returned.
    pub fn for_each_record(
        &self,
        integration: &Integration,
        kind: Option<&str>,
        f: &mut dyn FnMut(StoredRecord) -> std::result::Result<(), StoreError>,
    ) -> Result<()> {
        Ok(self.store.for_each_record(integration.id, kind, f)?)
    }

    /// Every audit entry of the host (all integrations, plugin installs,
    /// operators), oldest first.
    pub fn full_audit_trail(&self) -> Result<Vec<AuditLine>> {
        Ok(self
            .store
            .audit(None)?
            .into_iter()
            .map(AuditLine::new)
            .collect())
    }

    /// The integration's audit trail, oldest first.
    pub fn audit_trail(&self, integration: &Integration) -> Result<Vec<AuditLine>> {
        Ok(self
            .store
            .audit(Some(integration.id))?
            .into_iter()
            .map(AuditLine::new)
            .collect())
    }
}

/// Compile-time check: the platform futures can run on a multi-threaded
/// executor (axum handlers, spawned tasks).
fn _assert_send(p: &Platform, i: &Integration, by: &Requester, add: AddIntegration) {
    fn send<T: Send>(_: T) {}
    send(p.test_connectivity(i));
    send(p.collect(i, CollectOptions::default(), &NoProgress));
    send(p.add_integration(by, add));
    send(p.refresh_insights(by, i));
}
