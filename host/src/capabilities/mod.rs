//! Host capabilities offered to plugins: one module per imported interface.
//!
//! Every capability acts only on behalf of the invocation's own integration;
//! the per-invocation [`InvocationState`] is the sole source of that identity,
//! so there is no way for a plugin to name another integration.

pub mod http;
pub mod log;
pub mod secrets;
pub mod stdio;
pub mod storage;

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::model::Manifest;
use crate::runtime::SandboxLimits;
use crate::runtime::bindings::types;

pub use secrets::{MemorySecrets, SecretSource, StoreSecrets};
pub use storage::{ProgressSender, StorageTarget};

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
        }
    }
}

pub(crate) fn empty_manifest() -> Manifest {
    Manifest {
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

/// The data of one wasmtime `Store`: lives exactly as long as one invocation.
pub struct InvocationState {
    pub(crate) ctx: InvocationContext,
    pub(crate) http: http::HttpCapability,
    pub(crate) log: log::LogBudget,
    pub(crate) limiter: crate::runtime::limiter::MemoryLimiter,
    pub(crate) stdout: stdio::CappedOutput,
    pub(crate) stderr: stdio::CappedOutput,
    pub(crate) secret_handles: usize,
    /// `storage.stage` writes not yet waited for; drained when the call ends.
    pub(crate) staged: storage::StagedWrites,
    wasi: WasiCtx,
    table: ResourceTable,
}

impl InvocationState {
    pub fn new(
        ctx: InvocationContext,
        limits: &SandboxLimits,
        client: Arc<http::HttpClient>,
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
        let http = http::HttpCapability::new(&ctx, client, http_budget);
        InvocationState {
            http,
            log: log::LogBudget::default(),
            limiter: crate::runtime::limiter::MemoryLimiter::new(limits.memory_bytes),
            stdout,
            stderr,
            secret_handles: 0,
            staged: storage::StagedWrites::default(),
            wasi,
            table: ResourceTable::new(),
            ctx,
        }
    }

    pub(crate) fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    /// Writes what the plugin printed to the host log, tagged with the
    /// integration; called once the invocation is over.
    pub fn flush_stdio(&self) {
        self.stdout.flush_to_log(&self.ctx.tags, "stdout");
        self.stderr.flush_to_log(&self.ctx.tags, "stderr");
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

impl types::Host for InvocationState {}
