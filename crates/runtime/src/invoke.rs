//! `PluginRuntime`: prepared plugins and sandboxed invocations. Every call
//! gets a fresh `Store` (its own memory, limits, capabilities and WASI
//! context) that is dropped afterwards, trap or not.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use wasmtime::component::{InstancePre, Linker};
use wasmtime::{Engine, Store};

use crate::bindings::{plugin_exports, sources_exports};
use crate::cache::{CacheOutcome, ComponentCache, sha256_hex};
use crate::calls::{self, ExportCall};
use crate::capabilities::http::HttpClient;
use crate::capabilities::{InvocationContext, InvocationState};
use crate::error::SandboxError;
use crate::observe::{RuntimeObserver, Unobserved};
use crate::tenants::TenantShares;
use crate::{SandboxLimits, install};
use oort_model as m;

/// A compiled, link-checked plugin, ready to instantiate.
#[derive(Clone)]
pub struct Prepared {
    pub pre: PluginPre,
    pub wit_version: String,
    pub sha256: String,
    pub cache: CacheOutcome,
}

/// A linked plugin and where its exports are: `plugin` always, `sources`
/// where the plugin has it (since 0.1.4; older plugins never do).
#[derive(Clone)]
pub struct PluginPre {
    instance: InstancePre<InvocationState>,
    plugin: plugin_exports::GuestIndices,
    sources: Option<sources_exports::GuestIndices>,
}

impl PluginPre {
    fn new(instance: InstancePre<InvocationState>) -> wasmtime::Result<PluginPre> {
        let plugin = plugin_exports::GuestIndices::new(&instance)?;
        // Absent is fine; present with the wrong functions was refused by
        // the interface check and fails the type check at `load`.
        let sources = sources_exports::GuestIndices::new(&instance).ok();
        Ok(PluginPre {
            instance,
            plugin,
            sources,
        })
    }
}

/// The exports of one instance, as a call sees them.
pub struct Exports {
    pub plugin: plugin_exports::Guest,
    pub sources: Option<sources_exports::Guest>,
}

/// A plugin that passed every install check.
pub struct Inspected {
    pub prepared: Prepared,
    pub manifest: m::Manifest,
}

pub struct PluginRuntime {
    engine: Engine,
    linker: Linker<InvocationState>,
    cache: ComponentCache,
    limits: SandboxLimits,
    http: Arc<HttpClient>,
    loaded: Mutex<HashMap<String, Prepared>>,
    observer: Arc<dyn RuntimeObserver>,
    tenants: TenantShares,
}

/// Invocations running at once, process-wide: at most one per pooled
/// instance slot, so a burst waits instead of failing to instantiate.
static SLOTS: tokio::sync::Semaphore =
    tokio::sync::Semaphore::const_new(crate::engine::POOL_INSTANCES as usize);

/// Largest component accepted for installation.
pub const MAX_COMPONENT_BYTES: usize = 32 << 20;

impl PluginRuntime {
    pub fn new(
        engine: Engine,
        cache: ComponentCache,
        limits: SandboxLimits,
    ) -> anyhow::Result<PluginRuntime> {
        let mut linker = Linker::<InvocationState>::new(&engine);
        crate::capabilities::add_to_linker(&mut linker)?;
        let http = Arc::new(HttpClient::new(limits.max_response_bytes)?);
        Ok(PluginRuntime {
            engine,
            linker,
            cache,
            tenants: TenantShares::new(&limits),
            limits,
            http,
            loaded: Mutex::new(HashMap::new()),
            observer: Arc::new(Unobserved),
        })
    }

    /// Reports every outbound request and sandbox stop to `observer`.
    pub fn with_observer(mut self, observer: Arc<dyn RuntimeObserver>) -> PluginRuntime {
        self.observer = observer;
        self
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn limits(&self) -> &SandboxLimits {
        &self.limits
    }

    /// Compiles (or loads from cache), checks the component's interfaces and
    /// links it. No plugin code runs.
    pub fn prepare(&self, wasm: &[u8]) -> Result<Prepared, String> {
        if wasm.len() > MAX_COMPONENT_BYTES {
            return Err(format!(
                "the component is {} bytes; the limit is {MAX_COMPONENT_BYTES}",
                wasm.len()
            ));
        }
        let (component, cache) = self
            .cache
            .load_or_compile(&self.engine, wasm)
            .map_err(|e| format!("not a valid WebAssembly component: {e:#}"))?;
        let (imports, exports) = install::component_names(&self.engine, &component);
        let wit_version = install::check_interfaces(&imports, &exports)?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .and_then(PluginPre::new)
            .map_err(|e| format!("the plugin cannot be linked against this host: {e:#}"))?;
        Ok(Prepared {
            pre,
            wit_version,
            sha256: sha256_hex(wasm),
            cache,
        })
    }

    /// Every install-time check: `prepare`, then `manifest()` in a sandbox
    /// and the manifest's own checks.
    pub async fn inspect(&self, wasm: &[u8]) -> Result<Inspected, String> {
        let prepared = self.prepare(wasm)?;
        let ctx = InvocationContext::inert("(installing)");
        let manifest = self
            .invoke(&prepared, ctx, calls::Manifest)
            .await
            .map_err(|e| format!("calling manifest() failed: {e}"))?;
        install::check_manifest(&manifest)?;
        Ok(Inspected { prepared, manifest })
    }

    /// Makes `prepared` the code run for plugin `id`.
    pub fn register(&self, id: &str, prepared: Prepared) {
        self.loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_string(), prepared);
    }

    /// The prepared plugin `id` if its registered code has digest `sha256`.
    pub fn loaded(&self, id: &str, sha256: &str) -> Option<Prepared> {
        let loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        loaded.get(id).filter(|p| p.sha256 == sha256).cloned()
    }

    /// Runs one export call in a fresh sandbox.
    pub async fn invoke<C: ExportCall>(
        &self,
        prepared: &Prepared,
        ctx: InvocationContext,
        call: C,
    ) -> Result<C::Output, SandboxError> {
        let operation = C::OPERATION.name();
        let plugin = ctx.tags.plugin.clone();
        // The tenant's slot first: a tenant at its cap waits holding none
        // of the host's.
        let share = self.tenants.of(&ctx.tags.tenant);
        let _tenant_slot = share.invocation_slot().await;
        let _slot = SLOTS
            .acquire()
            .await
            .map_err(|e| SandboxError::Instantiate {
                plugin: plugin.clone(),
                message: e.to_string(),
            })?;
        let deadline = C::OPERATION.deadline(&self.limits);
        let http_budget = C::OPERATION.http_budget(&self.limits);
        let mut state = InvocationState::new(
            ctx,
            &self.limits,
            self.http.clone(),
            self.observer.clone(),
            http_budget,
        );
        state.cpu = crate::cpu::CpuMeter::new(C::OPERATION.cpu_budget(&self.limits));
        state.http.pace_by(share);
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_hostcall_fuel(
            usize::try_from(self.limits.max_transfer_bytes).unwrap_or(usize::MAX),
        );
        // Every epoch tick counts the plugin's CPU time and yields to tokio,
        // so the wall-clock timeout below can stop a plugin that never calls
        // the host.
        store.set_epoch_deadline(1);
        crate::cpu::meter(&mut store);

        let outcome = tokio::time::timeout(deadline, run(&prepared.pre, &mut store, call)).await;
        // Batches the plugin staged are written whatever became of the call
        // (each with its own checkpoint); a failed one fails a call that
        // otherwise succeeded (a call that failed keeps its own error).
        let staged = store.data_mut().storage.staged.flush().await;
        let outcome = match (outcome, staged) {
            (Ok(Ok(output)), Err(e)) => Ok(Ok(C::staged_write_failed(
                output,
                m::PluginError::Host(format!(
                    "a staged write failed after the plugin finished ({e}); the checkpoint stays at the last batch written"
                )),
            ))),
            (outcome, _) => outcome,
        };
        let state = store.data();
        state.flush_stdio();
        let (budget, exhausted) = state.http.budget();
        let stopped = state.http.stopped();
        let error = match outcome {
            Ok(Ok(output)) => match C::failure(&output) {
                Some(failure) if exhausted => SandboxError::HttpBudget {
                    plugin,
                    limit: budget,
                    outcome: format!("then {operation} failed: {failure}"),
                },
                _ => return Ok(output),
            },
            Err(_elapsed) => SandboxError::Deadline {
                plugin,
                limit: deadline,
                operation,
            },
            Ok(Err(_)) if state.cpu.exceeded() => SandboxError::Cpu {
                plugin,
                limit: state.cpu.budget(),
                operation,
            },
            Ok(Err(e)) if state.limiter.hit() => {
                tracing::debug!("plugin trapped after hitting its memory limit: {e:#}");
                SandboxError::Memory {
                    plugin,
                    limit_bytes: state.limiter.max_bytes(),
                }
            }
            Ok(Err(_)) if stopped => SandboxError::Stopped { plugin, operation },
            Ok(Err(e)) if is_transfer_limit(&e) => SandboxError::Transfer {
                plugin,
                limit_bytes: self.limits.max_transfer_bytes,
            },
            Ok(Err(e)) => {
                let mut message = trap_message(&e);
                if let Some(line) = state.stderr.last_line(300) {
                    message.push_str(&format!(" (plugin stderr: {line})"));
                }
                if exhausted {
                    SandboxError::HttpBudget {
                        plugin,
                        limit: budget,
                        outcome: format!("then trapped: {message}"),
                    }
                } else {
                    SandboxError::Trap { plugin, message }
                }
            }
        };
        self.observer.sandbox_stopped(&state.tags, &error);
        // The store is dropped here: after a trap or timeout it is unusable.
        drop(store);
        Err(error)
    }
}

/// Whether wasmtime stopped copying a call's data at the hostcall fuel
/// (`max_transfer_bytes`); its error type is private, its message is not.
fn is_transfer_limit(e: &wasmtime::Error) -> bool {
    format!("{e:#}").contains("fuel allocated for hostcalls has been exhausted")
}

/// The trap's reason, e.g. "wasm `unreachable` instruction executed".
fn trap_message(e: &wasmtime::Error) -> String {
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => trap.to_string(),
        None => {
            let text = format!("{e:#}");
            text.chars().take(500).collect()
        }
    }
}

async fn run<C: ExportCall>(
    pre: &PluginPre,
    store: &mut Store<InvocationState>,
    call: C,
) -> wasmtime::Result<C::Output> {
    let instance = pre.instance.instantiate_async(&mut *store).await?;
    let exports = Exports {
        plugin: pre.plugin.load(&mut *store, &instance)?,
        sources: match &pre.sources {
            Some(indices) => Some(indices.load(&mut *store, &instance)?),
            None => None,
        },
    };
    call.call(&exports, store).await
}
