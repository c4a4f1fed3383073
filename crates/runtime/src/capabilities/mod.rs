//! Host capabilities offered to plugins: one module per imported interface.
//!
//! Every capability acts only on behalf of the invocation's own integration;
//! the per-invocation [`InvocationState`] is the sole source of that identity,
//! so there is no way for a plugin to name another integration. Each
//! capability owns its state (`HttpState`, `SecretsState`, `StorageState`,
//! `LogState`) and links its interface with its own `add_to_linker`, in the
//! shape of wasmtime-wasi's per-interface contexts; none reaches another's.

pub mod http;
pub mod log;
pub mod secrets;
pub mod stdio;
pub mod storage;

use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::SandboxLimits;
use crate::bindings::types;
use oort_model::Manifest;

pub use secrets::{MemorySecrets, SecretSource};
pub use storage::{IntegrationStorage, ProgressSender, StorageFailure, StorageTarget};

/// Who an invocation runs for; attached to every log and audit line.
#[derive(Debug, Clone, Default)]
pub struct LogTags {
    pub tenant: String,
    pub integration: String,
    pub plugin: String,
}

/// What the platform hands the runtime for one invocation.
pub struct InvocationContext {
    pub tags: LogTags,
    pub manifest: Arc<Manifest>,
    /// Effective non-secret configuration (defaults applied).
    pub config: Vec<(String, String)>,
    pub secrets: Arc<dyn SecretSource>,
    pub granted_capabilities: Vec<String>,
    /// Operator override of the upstream base URL (loopback http only).
    pub api_base_url: Option<String>,
    /// `None` while no integration exists yet (install, validate-config).
    pub storage: Option<StorageTarget>,
    pub progress: Option<ProgressSender>,
    /// Set for collections: asked, the plugin stops at its next request.
    pub stop: Option<crate::StopSignal>,
}

impl InvocationContext {
    /// A context that grants nothing: used to read a plugin's manifest.
    pub fn inert(plugin: &str) -> InvocationContext {
        InvocationContext {
            tags: LogTags {
                plugin: plugin.to_string(),
                ..LogTags::default()
            },
            manifest: Arc::new(empty_manifest()),
            config: Vec::new(),
            secrets: Arc::new(MemorySecrets::default()),
            granted_capabilities: Vec::new(),
            api_base_url: None,
            storage: None,
            progress: None,
            stop: None,
        }
    }
}

pub(crate) fn empty_manifest() -> Manifest {
    Manifest {
        sources: Vec::new(),
        id: String::new(),
        name: String::new(),
        version: String::new(),
        description: String::new(),
        config: Vec::new(),
        egress: Vec::new(),
        record_kinds: Vec::new(),
        actions: Vec::new(),
        capabilities: Vec::new(),
    }
}

/// The data of one wasmtime `Store`: lives exactly as long as one
/// invocation. Each capability keeps its own state here and reaches only
/// that (plus the resource table where it holds handles), through the view
/// its `add_to_linker` was given.
pub struct InvocationState {
    pub(crate) tags: LogTags,
    pub(crate) http: http::HttpState,
    pub(crate) secrets: secrets::SecretsState,
    pub(crate) storage: storage::StorageState,
    pub(crate) log: log::LogState,
    pub(crate) limiter: crate::limiter::MemoryLimiter,
    /// Starts at [`SandboxLimits::call_cpu`]; an invocation sets its
    /// export's own budget.
    pub(crate) cpu: crate::cpu::CpuMeter,
    pub(crate) stdout: stdio::CappedOutput,
    pub(crate) stderr: stdio::CappedOutput,
    wasi: WasiCtx,
    table: ResourceTable,
}

impl InvocationState {
    pub fn new(
        ctx: InvocationContext,
        limits: &SandboxLimits,
        client: Arc<http::HttpClient>,
        observer: Arc<dyn crate::RuntimeObserver>,
        http_budget: u32,
    ) -> Self {
        let stdout = stdio::CappedOutput::new(stdio::STDIO_CAPTURE_BYTES);
        let stderr = stdio::CappedOutput::new(stdio::STDIO_CAPTURE_BYTES);
        // Nothing is granted: no preopens, env, args, sockets or name lookup.
        let wasi = WasiCtx::builder()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_ip_name_lookup(false)
            .allow_tcp(false)
            .allow_udp(false)
            .build();
        InvocationState {
            http: http::HttpState::new(&ctx, client, observer, http_budget),
            secrets: secrets::SecretsState::new(
                ctx.manifest.clone(),
                ctx.secrets,
                ctx.granted_capabilities,
            ),
            storage: storage::StorageState::new(ctx.manifest, ctx.storage, ctx.progress),
            log: log::LogState::new(ctx.tags.clone()),
            limiter: crate::limiter::MemoryLimiter::new(limits.memory_bytes),
            cpu: crate::cpu::CpuMeter::new(limits.call_cpu),
            stdout,
            stderr,
            wasi,
            table: ResourceTable::new(),
            tags: ctx.tags,
        }
    }

    fn http_view(&mut self) -> http::HttpView<'_> {
        http::HttpView {
            state: &mut self.http,
            table: &mut self.table,
        }
    }

    fn secrets_view(&mut self) -> secrets::SecretsView<'_> {
        secrets::SecretsView {
            state: &mut self.secrets,
            table: &mut self.table,
        }
    }

    /// Writes what the plugin printed to the host log, tagged with the
    /// integration; called once the invocation is over.
    pub fn flush_stdio(&self) {
        self.stdout.flush_to_log(&self.tags, "stdout");
        self.stderr.flush_to_log(&self.tags, "stderr");
    }
}

impl WasiView for InvocationState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The contract's `types` interface has no functions: nothing to reach.
impl types::Host for InvocationState {}

/// Links WASI (locked down by each invocation's `WasiCtx`) and every
/// capability into `linker`, each over its own state.
pub fn add_to_linker(linker: &mut Linker<InvocationState>) -> anyhow::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    types::add_to_linker::<InvocationState, HasSelf<InvocationState>>(linker, |s| s)?;
    http::add_to_linker(linker, InvocationState::http_view)?;
    secrets::add_to_linker(linker, InvocationState::secrets_view)?;
    storage::add_to_linker(linker, |s| &mut s.storage)?;
    log::add_to_linker(linker, |s| &mut s.log)?;
    Ok(())
}
