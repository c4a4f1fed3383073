//! Operations on integrations: add (validated before anything is stored),
//! list, show, remove, Test Connectivity (refused while disabled), insights
//! and the audit trail.

use std::sync::Arc;

use super::runs::RunRecord;
use super::settings::ensure_enabled;
use super::views::{AuditLine, IntegrationDetail};
use super::{NoProgress, Platform, PlatformError, Requester, Result, insight_refresh};
use crate::model::{Check, CheckStatus, CollectOptions};
use oort_insights::{Report, Source, Thresholds};
use oort_runtime::calls;
use oort_runtime::capabilities::{InvocationContext, LogTags, MemorySecrets};
use oort_runtime::config_check::{check_config, check_grants, effective_config};
use oort_store::{Integration, IntegrationId, NewIntegration, Run, RunKind, RunStatus};

/// What adding an integration needs: the store's own request, checked
/// here before it is stored.
pub type AddIntegration = NewIntegration;

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
            return Err(PlatformError::Conflict(format!(
                "integration `{}` already exists in tenant `{}`; choose another name or remove it first",
                req.name, req.tenant
            )));
        }
        self.validate_candidate(&req).await?;
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

    /// The checks a new or changed integration passes before it is stored:
    /// the host-side constraints on its config, grants and base URL, then
    /// the plugin's own `validate-config`, which reaches the candidate
    /// secrets from memory (they are not stored yet).
    pub(crate) async fn validate_candidate(&self, candidate: &NewIntegration) -> Result<()> {
        let plugin = self.plugin(&candidate.plugin_id)?;
        let manifest = Arc::new(plugin.manifest.clone());
        let errors = check_config(&manifest, &candidate.config, &candidate.secrets);
        if !errors.is_empty() {
            return Err(PlatformError::InvalidConfig(errors));
        }
        check_grants(&manifest, &candidate.granted_capabilities)
            .map_err(PlatformError::InvalidInput)?;
        if let Some(base) = &candidate.api_base_url {
            oort_runtime::capabilities::http::check_base_url_override(base)
                .map_err(PlatformError::InvalidInput)?;
        }

        let prepared = self.prepared(&plugin)?;
        let config = effective_config(&manifest, &candidate.config);
        let ctx = InvocationContext {
            tags: LogTags {
                tenant: candidate.tenant.clone(),
                integration: candidate.name.clone(),
                plugin: plugin.id.clone(),
            },
            manifest: manifest.clone(),
            config: config.clone(),
            secrets: Arc::new(MemorySecrets::new(candidate.secrets.clone())),
            granted_capabilities: candidate.granted_capabilities.clone(),
            api_base_url: candidate.api_base_url.clone(),
            storage: None,
            progress: None,
            stop: None,
        };
        let errors = self
            .runtime
            .invoke(&prepared, ctx, calls::ValidateConfig { config: &config })
            .await?;
        if errors.is_empty() {
            Ok(())
        } else {
            Err(PlatformError::InvalidConfig(errors))
        }
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
        ensure_enabled(self.store.as_ref(), integration)?;
        let (prepared, _, mut ctx) = self.context(integration, None)?;
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

    /// Every audit entry of the host (all integrations, plugin installs,
    /// operators), oldest first.
    pub fn full_audit_trail(&self) -> Result<Vec<AuditLine>> {
        self.audit_lines(None)
    }

    /// The integration's audit trail, oldest first.
    pub fn audit_trail(&self, integration: &Integration) -> Result<Vec<AuditLine>> {
        self.audit_lines(Some(integration.id))
    }

    /// The trail with every action start nothing concluded marked as of
    /// unknown outcome, once no invocation of it can still be running (its
    /// deadline, and a minute for the outcome's write, have passed).
    fn audit_lines(&self, integration: Option<IntegrationId>) -> Result<Vec<AuditLine>> {
        let grace = self.runtime.limits().action_timeout + std::time::Duration::from_secs(60);
        let cutoff = self.now_ms() - grace.as_millis() as i64;
        let unknown: std::collections::HashSet<i64> = self
            .store
            .unconcluded_attempts(integration, cutoff)?
            .into_iter()
            .collect();
        Ok(self
            .store
            .audit(integration)?
            .into_iter()
            .map(|entry| {
                let outcome_unknown = entry.id.is_some_and(|id| unknown.contains(&id));
                AuditLine {
                    outcome_unknown,
                    ..AuditLine::new(entry)
                }
            })
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
