//! The service layer: what an operator can do with integrations, used by the
//! CLI, the HTTP API and the demo alike. It ties the [`Store`] to the plugin
//! runtime and records every run.
//!
//! Plugin code always runs through [`PluginRuntime`] in a fresh sandbox; this
//! layer decides what each call may see (config, secrets, storage) and maps
//! sandbox failures to errors that name the limit.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::capabilities::{InvocationContext, LogTags, MemorySecrets, StorageTarget, StoreSecrets};
use crate::model::{
    ActionOutcome, ActionRequest, Check, CheckStatus, CollectOptions, CollectSummary, FieldError,
    FieldType, Manifest, PluginError,
};
use crate::runtime::cache::{self, ComponentCache, sha256_hex};
use crate::runtime::config_check::{check_config, check_grants, effective_config};
use crate::runtime::{
    Call, CallOutput, PluginRuntime, Prepared, SandboxError, SandboxLimits, engine,
};
use crate::store::{
    InstalledPlugin, Integration, NewIntegration, RunKind, RunStatus, SecretValue, Store,
    StoreError,
};

/// The Duo plugin shipped inside the host binary.
const BUILTIN_DUO: &[u8] = include_bytes!(env!("OORT_BUILTIN_DUO_WASM"));

/// Failures of a platform operation, each mapped to a CLI exit code.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// Bad input from the operator (exit 2).
    #[error("{0}")]
    InvalidInput(String),
    /// The plugin refused the configuration; nothing was stored (exit 2).
    #[error("invalid configuration:\n{}", .0.iter().map(|e| format!("  {}: {}", e.field, e.message)).collect::<Vec<_>>().join("\n"))]
    InvalidConfig(Vec<FieldError>),
    /// No such plugin / integration / operator / finding (exit 2).
    #[error("{0}")]
    NotFound(String),
    /// The plugin reported a typed error (exit 1).
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// The sandbox stopped the plugin: a limit was hit, or it trapped (exit 1).
    /// The message names the limit or the trap.
    #[error("plugin stopped: {0}")]
    Sandbox(String),
    /// The operator's role does not allow the operation (exit 1).
    #[error("refused: {0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl PlatformError {
    /// The CLI exit code: 2 for bad usage or input, 1 for a failed operation.
    pub fn exit_code(&self) -> i32 {
        match self {
            PlatformError::InvalidInput(_)
            | PlatformError::InvalidConfig(_)
            | PlatformError::NotFound(_) => 2,
            _ => 1,
        }
    }
}

pub type Result<T, E = PlatformError> = std::result::Result<T, E>;

/// What `integrations add` needs.
pub struct AddIntegration {
    pub tenant: String,
    pub name: String,
    pub plugin_id: String,
    /// Non-secret config values by field name (as typed by the operator).
    pub config: Vec<(String, String)>,
    /// Secret values by field name.
    pub secrets: Vec<(String, SecretValue)>,
    pub api_base_url: Option<String>,
    pub granted_capabilities: Vec<String>,
}

/// Progress of a collection, reported as pages are committed.
pub trait CollectProgress: Send + Sync {
    /// `source` committed `records` more records (of `kind`s) in one page.
    fn committed(&self, source: &str, records: u64);
}

/// A progress sink that ignores everything.
pub struct NoProgress;
impl CollectProgress for NoProgress {
    fn committed(&self, _source: &str, _records: u64) {}
}

pub struct Platform {
    data_dir: PathBuf,
    store: Store,
    runtime: PluginRuntime,
}

impl From<SandboxError> for PlatformError {
    fn from(e: SandboxError) -> Self {
        PlatformError::Sandbox(e.to_string())
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Runs `fut` to completion from synchronous code, whatever runtime (if any)
/// the caller is on. Install-time calls are sync in the API but run a plugin
/// export, which is async.
fn block_on<F>(fut: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    use tokio::runtime::{Builder, Handle, RuntimeFlavor};
    let fresh = || {
        Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("building a tokio runtime")
    };
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| handle.block_on(fut))
        }
        // A current-thread runtime cannot be blocked from inside: run on a
        // helper thread with its own runtime.
        Ok(_) => std::thread::scope(|s| {
            s.spawn(|| fresh().block_on(fut))
                .join()
                .expect("install thread panicked")
        }),
        Err(_) => fresh().block_on(fut),
    }
}

impl Platform {
    /// Opens the data directory: the store, the engine and its compiled
    /// component cache, and installs the built-in plugins (Duo) if missing or
    /// changed.
    pub fn open(data_dir: &Path) -> anyhow::Result<Platform> {
        Self::open_with(data_dir, SandboxLimits::default())
    }

    /// Like [`Platform::open`] with explicit sandbox limits (tests use short
    /// deadlines and small budgets).
    pub fn open_with(data_dir: &Path, limits: SandboxLimits) -> anyhow::Result<Platform> {
        use anyhow::Context as _;
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
        let store = Store::open(data_dir)
            .with_context(|| format!("opening the store in {}", data_dir.display()))?;
        let (engine, allocation) = engine::shared_engine(limits.memory_bytes)?;
        tracing::debug!(?allocation, "wasmtime engine ready");
        let cache = ComponentCache::new(
            data_dir.join("cache"),
            store.derive_key(cache::INTEGRITY_KEY_PURPOSE),
        );
        let runtime = PluginRuntime::new(engine, cache, limits)?;
        let platform = Platform {
            data_dir: data_dir.to_path_buf(),
            store,
            runtime,
        };
        platform.install_builtin_duo();
        Ok(platform)
    }

    /// Installs the embedded Duo plugin unless that exact build is installed.
    /// A broken built-in plugin must not make the host unusable, so failure
    /// is a warning.
    fn install_builtin_duo(&self) {
        let sha = sha256_hex(BUILTIN_DUO);
        match self.store.plugins() {
            Ok(plugins) if plugins.iter().any(|p| p.wasm_sha256 == sha) => return,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!("could not list installed plugins: {e}");
                return;
            }
        }
        match block_on(self.install_bytes(BUILTIN_DUO)) {
            Ok(p) => {
                tracing::info!(plugin = %p.id, version = %p.manifest.version, "installed the built-in Duo plugin")
            }
            Err(e) => tracing::warn!("the built-in Duo plugin could not be installed: {e}"),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn runtime(&self) -> &PluginRuntime {
        &self.runtime
    }

    /// Validates, precompiles and registers a plugin component.
    pub fn install_plugin(&self, wasm_path: &Path) -> Result<InstalledPlugin> {
        let wasm = std::fs::read(wasm_path).map_err(|e| {
            PlatformError::InvalidInput(format!("cannot read {}: {e}", wasm_path.display()))
        })?;
        block_on(self.install_bytes(&wasm))
    }

    /// [`Platform::install_plugin`] for bytes already in memory.
    pub async fn install_bytes(&self, wasm: &[u8]) -> Result<InstalledPlugin> {
        let inspected = self
            .runtime
            .inspect(wasm)
            .await
            .map_err(|e| PlatformError::InvalidInput(format!("plugin refused: {e}")))?;
        let manifest = inspected.manifest;
        let sha = inspected.prepared.sha256.clone();
        let dir = self.data_dir.join("plugins");
        let path = dir.join(format!("{}-{}.wasm", manifest.id, &sha[..16]));
        std::fs::create_dir_all(&dir)
            .and_then(|_| std::fs::write(&path, wasm))
            .map_err(|e| {
                PlatformError::Internal(format!("cannot write {}: {e}", path.display()))
            })?;
        let installed = InstalledPlugin {
            id: manifest.id.clone(),
            wit_version: inspected.prepared.wit_version.clone(),
            manifest,
            wasm_sha256: sha,
            wasm_path: path.display().to_string(),
            installed_at_ms: now_ms(),
        };
        self.store.upsert_plugin(&installed)?;
        self.runtime.register(&installed.id, inspected.prepared);
        Ok(installed)
    }

    pub fn plugins(&self) -> Result<Vec<InstalledPlugin>> {
        Ok(self.store.plugins()?)
    }

    fn plugin(&self, id: &str) -> Result<InstalledPlugin> {
        match self.store.plugin(id)? {
            Some(p) => Ok(p),
            None => {
                let known: Vec<String> = self.store.plugins()?.into_iter().map(|p| p.id).collect();
                Err(PlatformError::NotFound(format!(
                    "no plugin `{id}` is installed (installed: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )))
            }
        }
    }

    /// The prepared code of an installed plugin, loading it (from the
    /// compiled cache) on first use. The file must still be the one
    /// installed.
    fn prepared(&self, plugin: &InstalledPlugin) -> Result<Prepared> {
        if let Some(p) = self.runtime.loaded(&plugin.id, &plugin.wasm_sha256) {
            return Ok(p);
        }
        let wasm = std::fs::read(&plugin.wasm_path).map_err(|e| {
            PlatformError::Internal(format!(
                "plugin `{}`: cannot read {}: {e}; reinstall the plugin",
                plugin.id, plugin.wasm_path
            ))
        })?;
        if sha256_hex(&wasm) != plugin.wasm_sha256 {
            return Err(PlatformError::Internal(format!(
                "plugin `{}`: {} changed since it was installed; reinstall the plugin",
                plugin.id, plugin.wasm_path
            )));
        }
        let prepared = self.runtime.prepare(&wasm).map_err(|e| {
            PlatformError::Internal(format!("plugin `{}` cannot be loaded: {e}", plugin.id))
        })?;
        self.runtime.register(&plugin.id, prepared.clone());
        Ok(prepared)
    }

    /// Checks the config (host-side constraints, then the plugin's
    /// `validate-config`) and stores the integration only if it is valid.
    pub async fn add_integration(&self, req: AddIntegration) -> Result<Integration> {
        if req.tenant.trim().is_empty() || req.name.trim().is_empty() {
            return Err(PlatformError::InvalidInput(
                "tenant and integration name must not be empty".into(),
            ));
        }
        if self.store.integration(&req.tenant, &req.name)?.is_some() {
            return Err(PlatformError::InvalidInput(format!(
                "integration `{}` already exists in tenant `{}`; choose another name or remove it first",
                req.name, req.tenant
            )));
        }
        let plugin = self.plugin(&req.plugin_id)?;
        let manifest = Arc::new(plugin.manifest.clone());
        let errors = check_config(&manifest, &req.config, &req.secrets);
        if !errors.is_empty() {
            return Err(PlatformError::InvalidConfig(errors));
        }
        check_grants(&manifest, &req.granted_capabilities).map_err(PlatformError::InvalidInput)?;
        if let Some(base) = &req.api_base_url {
            crate::capabilities::http::check_base_url_override(base)
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
        match self
            .runtime
            .invoke(&prepared, ctx, Call::ValidateConfig(&config))
            .await?
        {
            CallOutput::FieldErrors(errors) if errors.is_empty() => {}
            CallOutput::FieldErrors(errors) => return Err(PlatformError::InvalidConfig(errors)),
            other => {
                return Err(PlatformError::Internal(format!(
                    "unexpected validate-config result {other:?}"
                )));
            }
        }

        let new = NewIntegration {
            tenant: req.tenant,
            name: req.name,
            plugin_id: plugin.id,
            config: req.config,
            secrets: req.secrets,
            api_base_url: req.api_base_url,
            granted_capabilities: req.granted_capabilities,
        };
        let integration = self.store.create_integration(&new)?;
        self.store.append_audit(&crate::store::AuditEntry {
            at_ms: now_ms(),
            integration_id: Some(integration.id),
            actor: "system".into(),
            role: None,
            action: "integration.add".into(),
            target: Some(integration.name.clone()),
            reason: None,
            outcome: format!("succeeded: plugin {}", integration.plugin_id),
        })?;
        Ok(integration)
    }

    /// Looks up an integration of `tenant` by name (`NotFound` otherwise).
    pub fn integration(&self, tenant: &str, name: &str) -> Result<Integration> {
        self.store.integration(tenant, name)?.ok_or_else(|| {
            PlatformError::NotFound(format!("no integration `{name}` in tenant `{tenant}`"))
        })
    }

    /// The plugin, manifest and sandbox context of a stored integration.
    fn context(
        &self,
        integration: &Integration,
    ) -> Result<(Prepared, Arc<Manifest>, InvocationContext)> {
        let plugin = self.plugin(&integration.plugin_id)?;
        let prepared = self.prepared(&plugin)?;
        let manifest = Arc::new(plugin.manifest);
        let ctx = InvocationContext {
            tags: LogTags {
                tenant: integration.tenant.clone(),
                integration: integration.name.clone(),
                plugin: integration.plugin_id.clone(),
            },
            manifest: manifest.clone(),
            config: effective_config(&manifest, &integration.config),
            secrets: Arc::new(StoreSecrets {
                store: self.store.clone(),
                integration: integration.id,
            }),
            granted_capabilities: integration.granted_capabilities.clone(),
            api_base_url: integration.api_base_url.clone(),
            storage: Some(StorageTarget {
                store: self.store.clone(),
                integration: integration.id,
            }),
            progress: None,
        };
        Ok((prepared, manifest, ctx))
    }

    /// Records the end of a run; a failure to record must not hide the
    /// operation's own result, so it is logged.
    fn finish(&self, run: i64, outcome: std::result::Result<serde_json::Value, String>) {
        let result = match &outcome {
            Ok(summary) => self
                .store
                .finish_run(run, RunStatus::Succeeded, Some(summary), None),
            Err(error) => self
                .store
                .finish_run(run, RunStatus::Failed, None, Some(error)),
        };
        if let Err(e) = result {
            tracing::error!("could not record the end of run {run}: {e}");
        }
    }

    /// Runs Test Connectivity.
    pub async fn test_connectivity(&self, integration: &Integration) -> Result<Vec<Check>> {
        let (prepared, _, mut ctx) = self.context(integration)?;
        ctx.storage = None;
        let config = ctx.config.clone();
        let run = self.store.start_run(integration.id, RunKind::Test)?;
        match self
            .runtime
            .invoke(&prepared, ctx, Call::TestConnectivity(&config))
            .await
        {
            Ok(CallOutput::Checks(checks)) => {
                let failed = checks
                    .iter()
                    .filter(|c| c.status == CheckStatus::Failed)
                    .count();
                let summary = serde_json::to_value(&checks).unwrap_or_default();
                if failed == 0 {
                    self.finish(run, Ok(summary));
                } else {
                    let names: Vec<&str> = checks
                        .iter()
                        .filter(|c| c.status == CheckStatus::Failed)
                        .map(|c| c.name.as_str())
                        .collect();
                    if let Err(e) = self.store.finish_run(
                        run,
                        RunStatus::Failed,
                        Some(&summary),
                        Some(&format!("failed checks: {}", names.join(", "))),
                    ) {
                        tracing::error!("could not record the end of run {run}: {e}");
                    }
                }
                Ok(checks)
            }
            Ok(other) => {
                let e = format!("unexpected test-connectivity result {other:?}");
                self.finish(run, Err(e.clone()));
                Err(PlatformError::Internal(e))
            }
            Err(e) => {
                self.finish(run, Err(e.to_string()));
                Err(e.into())
            }
        }
    }

    /// Runs Collect Now; the run is recorded (failed runs too, with their
    /// error) and checkpoints only move with committed records.
    pub async fn collect(
        &self,
        integration: &Integration,
        options: CollectOptions,
        progress: &dyn CollectProgress,
    ) -> Result<CollectSummary> {
        let (prepared, _, mut ctx) = self.context(integration)?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        ctx.progress = Some(tx);
        let config = ctx.config.clone();
        let run = self.store.start_run(integration.id, RunKind::Collect)?;

        // The sandbox can only hold 'static data, so commits are reported
        // over a channel and forwarded to the caller's sink here.
        let invocation = self
            .runtime
            .invoke(&prepared, ctx, Call::Collect(&config, &options));
        tokio::pin!(invocation);
        let outcome = loop {
            tokio::select! {
                outcome = &mut invocation => break outcome,
                Some((source, records)) = rx.recv() => progress.committed(&source, records),
            }
        };
        while let Ok((source, records)) = rx.try_recv() {
            progress.committed(&source, records);
        }

        match outcome {
            Ok(CallOutput::Collected(Ok(mut summary))) => {
                self.finish(run, Ok(serde_json::to_value(&summary).unwrap_or_default()));
                // Findings follow the data: recompute after every collection
                // that committed something, so `insights` is never stale.
                if summary.records.iter().any(|(_, n)| *n > 0) {
                    self.refresh_insights(integration, &mut summary);
                }
                Ok(summary)
            }
            Ok(CallOutput::Collected(Err(e))) => {
                self.finish(run, Err(e.to_string()));
                Err(PlatformError::Plugin(e))
            }
            Ok(other) => {
                let e = format!("unexpected collect result {other:?}");
                self.finish(run, Err(e.clone()));
                Err(PlatformError::Internal(e))
            }
            Err(e) => {
                self.finish(run, Err(e.to_string()));
                Err(e.into())
            }
        }
    }

    fn refresh_insights(&self, integration: &Integration, summary: &mut CollectSummary) {
        let thresholds = crate::insights::Thresholds::default();
        match crate::insights::refresh(&self.store, integration.id, now_ms(), &thresholds) {
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

    /// Runs one plugin action. Authorization and audit are the caller's
    /// (`actions` module); this only runs it in the sandbox.
    pub async fn run_action(
        &self,
        integration: &Integration,
        request: ActionRequest,
    ) -> Result<ActionOutcome> {
        let (prepared, manifest, ctx) = self.context(integration)?;
        let Some(spec) = manifest.action(&request.action) else {
            let known: Vec<&str> = manifest.actions.iter().map(|a| a.id.as_str()).collect();
            return Err(PlatformError::NotFound(format!(
                "plugin `{}` has no action `{}` (it has: {})",
                manifest.id,
                request.action,
                known.join(", ")
            )));
        };
        if let Some(flag) = &spec.enabled_by {
            let enabled = ctx.config.iter().any(|(n, v)| n == flag && v == "true");
            if !enabled {
                return Err(PlatformError::Refused(format!(
                    "action `{}` is disabled for this integration; it is enabled by setting `{flag}` to true",
                    spec.id
                )));
            }
        }
        for p in spec.params.iter().filter(|p| p.required) {
            if !request.params.iter().any(|(n, _)| *n == p.name) {
                return Err(PlatformError::InvalidInput(format!(
                    "action `{}` needs parameter `{}`: {}",
                    spec.id, p.name, p.description
                )));
            }
        }
        if let Some((unknown, _)) = request
            .params
            .iter()
            .find(|(n, _)| !spec.params.iter().any(|p| p.name == *n))
        {
            return Err(PlatformError::InvalidInput(format!(
                "action `{}` has no parameter `{unknown}`",
                spec.id
            )));
        }
        let config = ctx.config.clone();
        let run = self.store.start_run(integration.id, RunKind::Action)?;
        match self
            .runtime
            .invoke(&prepared, ctx, Call::RunAction(&config, &request))
            .await
        {
            Ok(CallOutput::ActionDone(Ok(outcome))) => {
                self.finish(run, Ok(serde_json::to_value(&outcome).unwrap_or_default()));
                Ok(outcome)
            }
            Ok(CallOutput::ActionDone(Err(e))) => {
                self.finish(run, Err(e.to_string()));
                Err(PlatformError::Plugin(e))
            }
            Ok(other) => {
                let e = format!("unexpected run-action result {other:?}");
                self.finish(run, Err(e.clone()));
                Err(PlatformError::Internal(e))
            }
            Err(e) => {
                self.finish(run, Err(e.to_string()));
                Err(e.into())
            }
        }
    }
}

/// Names of a manifest's secret fields (for forms and prompts).
pub fn secret_fields(manifest: &Manifest) -> Vec<&str> {
    manifest
        .config
        .iter()
        .filter(|f| f.field_type == FieldType::Secret)
        .map(|f| f.name.as_str())
        .collect()
}

/// Compile-time check: the platform futures can run on a multi-threaded
/// executor (axum handlers, spawned tasks).
fn _assert_send(p: &Platform, i: &Integration) {
    fn send<T: Send>(_: T) {}
    send(p.test_connectivity(i));
    send(p.collect(i, CollectOptions::default(), &NoProgress));
    send(p.run_action(
        i,
        ActionRequest {
            action: String::new(),
            params: vec![],
            dry_run: true,
            requested_by: String::new(),
            reason: None,
        },
    ));
}
