//! The service layer: every operation on plugins, integrations, operators,
//! insights and actions, used alike by the CLI, the HTTP API and the demo
//! (which depend on this crate alone and never on each other).
//!
//! Plugin code always runs through `oort-runtime`'s `PluginRuntime` in a
//! fresh sandbox; this layer decides what each call may see (config,
//! secrets, storage), records every run, writes the audit entry of every
//! change, and answers in [`views`], the shapes that `--json` and HTTP both
//! serialize. Failures are [`PlatformError`]s whose [`ErrorKind`] each caller
//! maps to its own terms (exit codes, HTTP statuses).
//!
//! The store and the runtime are this crate's own: it hands out neither, so
//! a front end cannot write around an audit entry or run plugin code around
//! a role check. Neither of these compiles:
//!
//! ```compile_fail
//! fn run_an_action_unchecked(platform: &oort_platform::Platform) {
//!     // No escape hatch to the sandbox: `act` is the only way to an action.
//!     let _runtime = platform.runtime();
//! }
//! ```
//!
//! ```compile_fail
//! fn audit_around_the_service(platform: &oort_platform::Platform) {
//!     let _store = platform.store();
//! }
//! ```
//!
//! The runtime and the store are not re-exported either (one doc-test each,
//! so neither passes on the other's error):
//!
//! ```compile_fail
//! use oort_platform::runtime::calls::RunAction;
//! ```
//!
//! ```compile_fail
//! use oort_platform::store::Store;
//! ```

mod access;
mod actions;
mod collection;
mod error;
mod export;
mod insight_refresh;
mod integrations;
mod lease;
pub mod metrics;
pub mod model;
mod operators;
mod refusal_audit;
mod remediation;
mod runs;
mod sandbox_access;
mod schedule;
pub mod scheduler;
mod settings;
pub mod views;

/// The stored things the operations answer with (data only: the store that
/// keeps them stays inside the platform).
pub mod data {
    pub use oort_model::{SecretValue, StoredFinding};
    pub use oort_store::{
        ApiToken, AuditEntry, InstalledPlugin, Integration, Operator, RecordKey, Run, RunId,
        RunKind, RunStatus, Schedule, StoreError, StoredRecord,
    };
}

/// What the insights operations answer with, and how it reads as text.
pub mod insights {
    pub use oort_insights::{Report, Severity, render_text};
}

pub use access::{IssuedToken, MAX_TOKEN_LIFETIME, Scope, TOKEN_PREFIX};
pub use oort_runtime::SandboxLimits;
/// The largest plugin component the host installs.
pub use oort_runtime::invoke::MAX_COMPONENT_BYTES as MAX_PLUGIN_BYTES;
pub use refusal_audit::REFUSALS_PER_MINUTE;
pub use remediation::ActRequest;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::model::{Manifest, Role};
use oort_runtime::cache::{self, ComponentCache, sha256_hex};
use oort_runtime::capabilities::{InvocationContext, LogTags};
use oort_runtime::config_check::effective_config;
use oort_runtime::{PluginRuntime, Prepared, engine};
use oort_store::{AuditEntry, Backend, InstalledPlugin, Integration, MasterKey, Store};
use oort_time::{Clock, SystemClock};

pub use collection::{CollectProgress, NoProgress};
pub use error::{ErrorKind, PlatformError, Result};
pub use export::{cursor_after, parse_cursor};
pub use integrations::AddIntegration;
pub use settings::IntegrationUpdate;

/// The Duo plugin shipped inside the host binary.
const BUILTIN_DUO: &[u8] = include_bytes!(env!("OORT_BUILTIN_DUO_WASM"));

/// Who asked for a change; written into its audit entry.
#[derive(Debug, Clone)]
pub struct Requester {
    /// The operator's name, or `system` for someone at the host's own shell.
    pub actor: String,
    pub role: Option<Role>,
    /// Where the request came from (e.g. `oort-host operators add`).
    pub via: String,
}

impl Requester {
    /// Someone with access to the host's data directory (CLI, demo): not a
    /// registered operator, so the trail names `system` and the channel.
    pub fn local(via: impl Into<String>) -> Requester {
        Requester {
            actor: "system".into(),
            role: None,
            via: via.into(),
        }
    }
}

pub struct Platform {
    data_dir: PathBuf,
    store: Arc<dyn Backend>,
    runtime: PluginRuntime,
    /// This platform's name in collection leases.
    owner: String,
    metrics: Arc<metrics::Metrics>,
    /// Collections queued by [`Platform::queue_collection`], still running.
    queued: std::sync::Mutex<tokio::task::JoinSet<()>>,
    /// Given to every collection; [`Platform::stop_collections`] asks it.
    stop: oort_runtime::StopSignal,
    /// Refused sign-ins audited this minute (the rest are counted).
    refusals: refusal_audit::RefusalWindow,
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
        Self::open_with_clock(data_dir, limits, Arc::new(SystemClock))
    }

    /// Like [`Platform::open_with`] on `clock`'s time: every audit entry,
    /// run, finding and insight evaluation is stamped by it (tests and the
    /// scheduler's virtual time use a `ManualClock`).
    pub fn open_with_clock(
        data_dir: &Path,
        limits: SandboxLimits,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Platform> {
        use anyhow::Context as _;
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
        let key = MasterKey::load(data_dir)
            .with_context(|| format!("loading the master key of {}", data_dir.display()))?;
        // The host's key, not the database's: derived before the store takes it.
        let integrity_key = key.derive(cache::INTEGRITY_KEY_PURPOSE);
        let store: Arc<dyn Backend> = Arc::new(
            Store::open_with(data_dir, key, clock)
                .with_context(|| format!("opening the store in {}", data_dir.display()))?,
        );
        let (engine, allocation) = engine::shared_engine(limits.memory_bytes)?;
        tracing::debug!(?allocation, "wasmtime engine ready");
        let cache = ComponentCache::new(data_dir.join("cache"), integrity_key);
        let metrics = Arc::new(metrics::Metrics::new());
        let runtime = PluginRuntime::new(engine, cache, limits)?.with_observer(metrics.clone());
        let platform = Platform {
            data_dir: data_dir.to_path_buf(),
            store,
            runtime,
            owner: lease::owner_id(),
            metrics,
            queued: Default::default(),
            stop: Default::default(),
            refusals: Default::default(),
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
        let by = Requester::local("oort-host (the built-in Duo plugin)");
        match block_on(self.install_bytes(&by, BUILTIN_DUO)) {
            Ok(p) => {
                tracing::info!(plugin = %p.id, version = %p.manifest.version, "installed the built-in Duo plugin")
            }
            Err(e) => tracing::warn!("the built-in Duo plugin could not be installed: {e}"),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The service's figures, for `/metrics`.
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.metrics
    }

    /// Whether the platform can serve: its store answers a read.
    pub fn check_ready(&self) -> Result<()> {
        self.store.plugins()?;
        Ok(())
    }

    /// The platform's time (every audit entry and insight evaluation).
    pub fn now_ms(&self) -> i64 {
        self.store.now_ms()
    }

    /// Validates, precompiles and registers a plugin component (audited as
    /// `plugin.install`).
    pub fn install_plugin(&self, by: &Requester, wasm_path: &Path) -> Result<InstalledPlugin> {
        let wasm = std::fs::read(wasm_path).map_err(|e| {
            PlatformError::InvalidInput(format!("cannot read {}: {e}", wasm_path.display()))
        })?;
        block_on(self.install_bytes(by, &wasm))
    }

    /// [`Platform::install_plugin`] for bytes already in memory.
    pub async fn install_bytes(&self, by: &Requester, wasm: &[u8]) -> Result<InstalledPlugin> {
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
            installed_at_ms: self.now_ms(),
        };
        self.store.upsert_plugin(&installed)?;
        self.runtime.register(&installed.id, inspected.prepared);
        self.audit_change(
            by,
            None,
            "plugin.install",
            &installed.id,
            format!(
                "installed version {} (sha256 {}, WIT {})",
                installed.manifest.version, installed.wasm_sha256, installed.wit_version
            ),
        )?;
        Ok(installed)
    }

    pub fn plugins(&self) -> Result<Vec<InstalledPlugin>> {
        Ok(self.store.plugins()?)
    }

    /// An installed plugin (`NotFound`, naming the installed ones, otherwise).
    pub fn plugin(&self, id: &str) -> Result<InstalledPlugin> {
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

    /// The plugin, manifest and sandbox context of a stored integration;
    /// a collection's writes are fenced by its lease holder.
    fn context(
        &self,
        integration: &Integration,
        fence: Option<&str>,
    ) -> Result<(Prepared, Arc<Manifest>, InvocationContext)> {
        let plugin = self.plugin(&integration.plugin_id)?;
        let prepared = self.prepared(&plugin)?;
        let manifest = Arc::new(plugin.manifest);
        let access = Arc::new(sandbox_access::IntegrationAccess {
            store: self.store.clone(),
            integration: integration.id,
            fence: fence.map(str::to_owned),
        });
        let ctx = InvocationContext {
            tags: LogTags {
                tenant: integration.tenant.clone(),
                integration: integration.name.clone(),
                plugin: integration.plugin_id.clone(),
            },
            manifest: manifest.clone(),
            config: effective_config(&manifest, &integration.config),
            secrets: access.clone(),
            granted_capabilities: integration.granted_capabilities.clone(),
            api_base_url: integration.api_base_url.clone(),
            storage: Some(access),
            progress: None,
            stop: None,
        };
        Ok((prepared, manifest, ctx))
    }

    /// Appends one audit entry for a change `by` asked for.
    fn audit_change(
        &self,
        by: &Requester,
        integration: Option<&Integration>,
        action: &str,
        target: &str,
        outcome: String,
    ) -> Result<()> {
        self.store.append_audit(&AuditEntry {
            id: None,
            at_ms: self.now_ms(),
            integration_id: integration.map(|i| i.id),
            actor: by.actor.clone(),
            role: by.role,
            action: action.into(),
            target: Some(target.into()),
            reason: Some(by.via.clone()),
            outcome,
            attempt: None,
        })?;
        Ok(())
    }
}
