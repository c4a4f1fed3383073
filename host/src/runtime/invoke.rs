//! `PluginRuntime`: prepared plugins and sandboxed invocations. Every call
//! gets a fresh `Store` (its own memory, limits, capabilities and WASI
//! context) that is dropped afterwards, trap or not.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Engine, Store};

use crate::capabilities::http::HttpClient;
use crate::capabilities::{InvocationContext, InvocationState};
use crate::model as m;
use crate::runtime::bindings::{Integration, IntegrationPre};
use crate::runtime::cache::{CacheOutcome, ComponentCache, sha256_hex};
use crate::runtime::error::SandboxError;
use crate::runtime::{SandboxLimits, convert, install};

/// One export call, with its inputs.
pub enum Call<'a> {
    Manifest,
    ValidateConfig(&'a [(String, String)]),
    TestConnectivity(&'a [(String, String)]),
    Collect(&'a [(String, String)], &'a m::CollectOptions),
    RunAction(&'a [(String, String)], &'a m::ActionRequest),
}

impl Call<'_> {
    pub fn operation(&self) -> &'static str {
        match self {
            Call::Manifest => "manifest",
            Call::ValidateConfig(_) => "validate-config",
            Call::TestConnectivity(_) => "test-connectivity",
            Call::Collect(..) => "collect",
            Call::RunAction(..) => "run-action",
        }
    }
}

/// What an export returned.
#[derive(Debug)]
pub enum CallOutput {
    Manifest(m::Manifest),
    FieldErrors(Vec<m::FieldError>),
    Checks(Vec<m::Check>),
    Collected(Result<m::CollectSummary, m::PluginError>),
    ActionDone(Result<m::ActionOutcome, m::PluginError>),
}

/// A compiled, link-checked plugin, ready to instantiate.
#[derive(Clone)]
pub struct Prepared {
    pub pre: IntegrationPre<InvocationState>,
    pub wit_version: String,
    pub sha256: String,
    pub cache: CacheOutcome,
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
}

/// Invocations running at once, process-wide: at most one per pooled
/// instance slot, so a burst waits instead of failing to instantiate.
static SLOTS: tokio::sync::Semaphore =
    tokio::sync::Semaphore::const_new(crate::runtime::engine::POOL_INSTANCES as usize);

/// Largest component accepted for installation.
pub const MAX_COMPONENT_BYTES: usize = 32 << 20;

impl PluginRuntime {
    pub fn new(
        engine: Engine,
        cache: ComponentCache,
        limits: SandboxLimits,
    ) -> anyhow::Result<PluginRuntime> {
        let mut linker = Linker::<InvocationState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        Integration::add_to_linker::<InvocationState, HasSelf<InvocationState>>(
            &mut linker,
            |s| s,
        )?;
        crate::capabilities::storage::link_borrowed_records(&mut linker)?;
        let http = Arc::new(HttpClient::new(limits.max_response_bytes)?);
        Ok(PluginRuntime {
            engine,
            linker,
            cache,
            limits,
            http,
            loaded: Mutex::new(HashMap::new()),
        })
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
            .and_then(IntegrationPre::new)
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
        let manifest = match self.invoke(&prepared, ctx, Call::Manifest).await {
            Ok(CallOutput::Manifest(manifest)) => manifest,
            Ok(other) => return Err(format!("unexpected result from manifest(): {other:?}")),
            Err(e) => return Err(format!("calling manifest() failed: {e}")),
        };
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
    pub async fn invoke(
        &self,
        prepared: &Prepared,
        ctx: InvocationContext,
        call: Call<'_>,
    ) -> Result<CallOutput, SandboxError> {
        let operation = call.operation();
        let plugin = ctx.tags.plugin.clone();
        let _slot = SLOTS
            .acquire()
            .await
            .map_err(|e| SandboxError::Instantiate {
                plugin: plugin.clone(),
                message: e.to_string(),
            })?;
        let deadline = self.deadline(operation);
        let http_budget = if matches!(call, Call::Manifest) {
            0
        } else {
            self.limits.max_http_requests
        };
        let state = InvocationState::new(ctx, &self.limits, self.http.clone(), http_budget);
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_hostcall_fuel(
            usize::try_from(self.limits.max_transfer_bytes).unwrap_or(usize::MAX),
        );
        // Yield to tokio every epoch tick, so the wall-clock timeout below can
        // stop a plugin that never calls the host.
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);

        let outcome = tokio::time::timeout(deadline, run(&prepared.pre, &mut store, call)).await;
        // Batches the plugin staged are written whatever became of the call
        // (each with its own checkpoint); a failed one fails a call that
        // otherwise succeeded (a call that failed keeps its own error).
        let staged = store.data_mut().staged.flush().await;
        let outcome = match (outcome, staged) {
            (Ok(Ok(output)), Err(e)) if !output_is_failure(&output) => {
                Ok(Ok(staged_write_failed(output, e)))
            }
            (outcome, _) => outcome,
        };
        let state = store.data();
        state.flush_stdio();
        let (budget, exhausted) = state.http.budget();
        let error = match outcome {
            Ok(Ok(output)) => {
                if exhausted && output_is_failure(&output) {
                    return Err(SandboxError::HttpBudget {
                        plugin,
                        limit: budget,
                        outcome: format!("then {operation} failed: {}", failure_text(&output)),
                    });
                }
                return Ok(output);
            }
            Err(_elapsed) => SandboxError::Deadline {
                plugin,
                limit: deadline,
                operation,
            },
            Ok(Err(e)) if state.limiter.hit() => {
                tracing::debug!("plugin trapped after hitting its memory limit: {e:#}");
                SandboxError::Memory {
                    plugin,
                    limit_bytes: state.limiter.max_bytes(),
                }
            }
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
        // The store is dropped here: after a trap or timeout it is unusable.
        drop(store);
        Err(error)
    }

    fn deadline(&self, operation: &str) -> Duration {
        match operation {
            "test-connectivity" => self.limits.test_timeout,
            "collect" => self.limits.collect_timeout,
            "run-action" => self.limits.action_timeout,
            _ => self.limits.validate_timeout,
        }
    }
}

/// A call whose last staged batch could not be written did not do its job.
fn staged_write_failed(output: CallOutput, e: crate::store::StoreError) -> CallOutput {
    let error = m::PluginError::Host(format!(
        "a staged write failed after the plugin finished ({e}); the checkpoint stays at the last batch written"
    ));
    match output {
        CallOutput::Collected(_) => CallOutput::Collected(Err(error)),
        CallOutput::ActionDone(_) => CallOutput::ActionDone(Err(error)),
        other => other,
    }
}

fn output_is_failure(output: &CallOutput) -> bool {
    matches!(
        output,
        CallOutput::Collected(Err(_)) | CallOutput::ActionDone(Err(_))
    )
}

fn failure_text(output: &CallOutput) -> String {
    match output {
        CallOutput::Collected(Err(e)) | CallOutput::ActionDone(Err(e)) => e.to_string(),
        _ => String::new(),
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

async fn run(
    pre: &IntegrationPre<InvocationState>,
    store: &mut Store<InvocationState>,
    call: Call<'_>,
) -> wasmtime::Result<CallOutput> {
    let instance = pre.instantiate_async(&mut *store).await?;
    let plugin = instance.oort_integration_plugin();
    Ok(match call {
        Call::Manifest => {
            CallOutput::Manifest(convert::manifest(plugin.call_manifest(&mut *store).await?))
        }
        Call::ValidateConfig(config) => {
            let entries = convert::config_entries(config);
            let errors = plugin.call_validate_config(&mut *store, &entries).await?;
            CallOutput::FieldErrors(errors.into_iter().map(convert::field_error).collect())
        }
        Call::TestConnectivity(config) => {
            let entries = convert::config_entries(config);
            let checks = plugin.call_test_connectivity(&mut *store, &entries).await?;
            CallOutput::Checks(checks.into_iter().map(convert::check).collect())
        }
        Call::Collect(config, options) => {
            let entries = convert::config_entries(config);
            let result = plugin
                .call_collect(&mut *store, &entries, &convert::collect_options(options))
                .await?;
            CallOutput::Collected(
                result
                    .map(convert::collect_summary)
                    .map_err(convert::plugin_error),
            )
        }
        Call::RunAction(config, request) => {
            let entries = convert::config_entries(config);
            let result = plugin
                .call_run_action(&mut *store, &entries, &convert::action_request(request))
                .await?;
            CallOutput::ActionDone(
                result
                    .map(convert::action_outcome)
                    .map_err(convert::plugin_error),
            )
        }
    })
}
