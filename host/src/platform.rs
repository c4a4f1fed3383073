//! The service layer: what an operator can do with integrations, used by the
//! CLI, the HTTP API and the demo alike. It ties the [`Store`] to the plugin
//! runtime and records every run.
//!
//! SKELETON: signatures fixed for the CLI and API; bodies are being written.

use std::path::{Path, PathBuf};

use crate::model::{ActionOutcome, ActionRequest, Check, CollectOptions, CollectSummary, FieldError, PluginError};
use crate::store::{InstalledPlugin, Integration, SecretValue, Store, StoreError};

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
            PlatformError::InvalidInput(_) | PlatformError::InvalidConfig(_) | PlatformError::NotFound(_) => 2,
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
    _data_dir: PathBuf,
    store: Store,
}

impl Platform {
    /// Opens the data directory: the store, the engine and its compiled
    /// component cache, and installs the built-in plugins (Duo) if missing or
    /// changed.
    pub fn open(_data_dir: &Path) -> anyhow::Result<Platform> {
        todo!()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Validates, precompiles and registers a plugin component.
    pub fn install_plugin(&self, _wasm_path: &Path) -> Result<InstalledPlugin> {
        todo!()
    }

    pub fn plugins(&self) -> Result<Vec<InstalledPlugin>> {
        todo!()
    }

    /// Checks the config (host-side constraints, then the plugin's
    /// `validate-config`) and stores the integration only if it is valid.
    pub async fn add_integration(&self, _req: AddIntegration) -> Result<Integration> {
        todo!()
    }

    /// Looks up an integration of `tenant` by name (`NotFound` otherwise).
    pub fn integration(&self, _tenant: &str, _name: &str) -> Result<Integration> {
        todo!()
    }

    /// Runs Test Connectivity.
    pub async fn test_connectivity(&self, _integration: &Integration) -> Result<Vec<Check>> {
        todo!()
    }

    /// Runs Collect Now; the run is recorded (failed runs too, with their
    /// error) and checkpoints only move with committed records.
    pub async fn collect(
        &self,
        _integration: &Integration,
        _options: CollectOptions,
        _progress: &dyn CollectProgress,
    ) -> Result<CollectSummary> {
        todo!()
    }

    /// Runs one plugin action. Authorization and audit are the caller's
    /// (`actions` module); this only runs it in the sandbox.
    pub async fn run_action(&self, _integration: &Integration, _request: ActionRequest) -> Result<ActionOutcome> {
        todo!()
    }
}
