//! Durable state of the host: one storage interface over SQLite (rusqlite,
//! bundled, WAL). Everything a plugin, the insights engine, the actions module
//! or the CLI persists goes through [`Store`]; a server database can replace
//! the SQLite backend later without touching them.
//!
//! Secrets are encrypted with the master key (see [`crypto`]) before they
//! reach the database and are only decrypted into a [`SecretValue`].
//!
//! SKELETON: signatures fixed for the other modules; bodies are being written.

pub mod crypto;
mod migrations;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::{CollectedRecord, Manifest, Role};

pub use crypto::SecretValue;

pub type IntegrationId = i64;
pub type RunId = i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("master key: {0}")]
    MasterKey(String),
    #[error("I/O error on {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A plugin that passed installation (validated, precompiled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledPlugin {
    /// Manifest id, e.g. `duo`.
    pub id: String,
    pub manifest: Manifest,
    /// sha256 of the component bytes, hex.
    pub wasm_sha256: String,
    /// Where the component bytes are kept (inside the data directory).
    pub wasm_path: String,
    /// The WIT package version it was built against, e.g. `0.1.0`.
    pub wit_version: String,
    pub installed_at_ms: i64,
}

/// What `integrations add` asks to create.
#[derive(Debug, Clone)]
pub struct NewIntegration {
    pub tenant: String,
    pub name: String,
    pub plugin_id: String,
    /// Non-secret config values, by field name.
    pub config: Vec<(String, String)>,
    /// Secret values, by field name; encrypted before storage.
    pub secrets: Vec<(String, SecretValue)>,
    /// Operator override for tests and the simulator (plain http to loopback).
    pub api_base_url: Option<String>,
    /// Capabilities beyond the defaults the operator granted.
    pub granted_capabilities: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Integration {
    pub id: IntegrationId,
    pub tenant: String,
    pub name: String,
    pub plugin_id: String,
    pub config: Vec<(String, String)>,
    /// Names of the secret fields that have a value (never the values).
    pub secret_fields: Vec<String>,
    pub api_base_url: Option<String>,
    pub granted_capabilities: Vec<String>,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitResult {
    pub inserted: u32,
    pub updated: u32,
}

/// A record as stored (what `export` prints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRecord {
    pub kind: String,
    pub id: String,
    pub occurred_at_ms: Option<i64>,
    /// The normalized view as JSON (`{"type":"auth_event",...}`), see `model::Normalized`.
    pub normalized: serde_json::Value,
    pub raw: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    Validate,
    Test,
    Collect,
    Action,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub id: RunId,
    pub integration_id: IntegrationId,
    pub kind: RunKind,
    pub status: RunStatus,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    /// JSON summary (collect summary, check list, action outcome).
    pub summary: Option<serde_json::Value>,
    pub error: Option<String>,
}

/// A finding of the insights engine, keyed by (integration, insight id, dedupe key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Catalogue id, e.g. `DUO-02`.
    pub insight_id: String,
    /// Distinguishes findings of one insight (e.g. the username, or username+window).
    pub dedupe_key: String,
    pub title: String,
    /// critical | high | medium | low | info
    pub severity: String,
    pub subjects: Vec<String>,
    /// Record ids (e.g. txids) that support the finding.
    pub evidence: Vec<String>,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    /// Action id of the plugin, e.g. `disable-user`.
    pub suggested_action: Option<String>,
    pub detail: String,
}

/// A stored finding with its row id (what `act --finding ID` refers to).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredFinding {
    pub id: i64,
    #[serde(flatten)]
    pub finding: Finding,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    pub name: String,
    pub role: Role,
    pub created_at_ms: i64,
}

/// One line of the append-only audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at_ms: i64,
    pub integration_id: Option<IntegrationId>,
    /// Operator name, or `system` for the host's own events.
    pub actor: String,
    pub role: Option<Role>,
    /// e.g. `act:disable-user`, `integration.add`, `http`.
    pub action: String,
    pub target: Option<String>,
    pub reason: Option<String>,
    /// e.g. `refused: viewer may not run actions`, `succeeded: user disabled`.
    pub outcome: String,
}

/// The handle to the database. Cheap to clone; safe to share across threads.
#[derive(Clone)]
pub struct Store {
    _private: (),
}

impl Store {
    /// Opens (creating if needed) `data_dir/oort.db` and the master key
    /// (`OORT_MASTER_KEY`, else `data_dir/master.key`, created 0600), and runs
    /// migrations.
    pub fn open(_data_dir: &Path) -> Result<Store> {
        todo!()
    }

    // ---- plugins
    pub fn upsert_plugin(&self, _plugin: &InstalledPlugin) -> Result<()> { todo!() }
    pub fn plugin(&self, _id: &str) -> Result<Option<InstalledPlugin>> { todo!() }
    pub fn plugins(&self) -> Result<Vec<InstalledPlugin>> { todo!() }

    // ---- tenants and integrations (tenant rows are created on first use)
    /// Creates the integration with its config and encrypted secrets in one
    /// transaction. `Conflict` if (tenant, name) exists.
    pub fn create_integration(&self, _new: &NewIntegration) -> Result<Integration> { todo!() }
    pub fn integration(&self, _tenant: &str, _name: &str) -> Result<Option<Integration>> { todo!() }
    pub fn integration_by_id(&self, _id: IntegrationId) -> Result<Option<Integration>> { todo!() }
    /// All integrations, or those of one tenant.
    pub fn integrations(&self, _tenant: Option<&str>) -> Result<Vec<Integration>> { todo!() }
    /// Removes the integration and everything keyed by it (records,
    /// checkpoints, secrets, runs, findings); the audit trail is kept.
    pub fn remove_integration(&self, _id: IntegrationId) -> Result<()> { todo!() }

    // ---- secrets (scoped to one integration; there is no cross-integration lookup)
    pub fn secret(&self, _integration: IntegrationId, _field: &str) -> Result<Option<SecretValue>> { todo!() }

    // ---- checkpoints and records
    pub fn checkpoint(&self, _integration: IntegrationId, _source: &str) -> Result<Option<String>> { todo!() }
    pub fn set_checkpoint(&self, _integration: IntegrationId, _source: &str, _checkpoint: &str) -> Result<()> { todo!() }
    /// Upserts on (integration, kind, id) and sets the checkpoint, in one
    /// transaction.
    pub fn commit_records(&self, _integration: IntegrationId, _source: &str, _records: &[CollectedRecord], _checkpoint: &str) -> Result<CommitResult> { todo!() }
    /// Records in (kind, occurred_at, id) order, optionally of one kind.
    pub fn for_each_record(&self, _integration: IntegrationId, _kind: Option<&str>, _f: &mut dyn FnMut(StoredRecord) -> Result<()>) -> Result<()> { todo!() }
    /// The normalized views of one integration's records, deserialized
    /// (`model::Normalized::None` rows skipped), for the insights engine.
    pub fn normalized_records(&self, _integration: IntegrationId) -> Result<Vec<crate::model::Normalized>> { todo!() }
    pub fn record_counts(&self, _integration: IntegrationId) -> Result<Vec<(String, u64)>> { todo!() }

    // ---- runs
    pub fn start_run(&self, _integration: IntegrationId, _kind: RunKind) -> Result<RunId> { todo!() }
    pub fn finish_run(&self, _run: RunId, _status: RunStatus, _summary: Option<&serde_json::Value>, _error: Option<&str>) -> Result<()> { todo!() }
    pub fn runs(&self, _integration: IntegrationId, _limit: usize) -> Result<Vec<Run>> { todo!() }

    // ---- findings
    /// Upserts on (integration, insight_id, dedupe_key): new evidence is
    /// merged, `last_seen` extended; no duplicates on re-runs.
    pub fn upsert_findings(&self, _integration: IntegrationId, _findings: &[Finding]) -> Result<()> { todo!() }
    pub fn findings(&self, _integration: IntegrationId) -> Result<Vec<StoredFinding>> { todo!() }
    pub fn finding(&self, _integration: IntegrationId, _id: i64) -> Result<Option<StoredFinding>> { todo!() }

    // ---- operators
    pub fn add_operator(&self, _name: &str, _role: Role) -> Result<Operator> { todo!() }
    pub fn operator(&self, _name: &str) -> Result<Option<Operator>> { todo!() }
    pub fn operators(&self) -> Result<Vec<Operator>> { todo!() }

    // ---- audit (append-only: no update or delete exists)
    pub fn append_audit(&self, _entry: &AuditEntry) -> Result<()> { todo!() }
    pub fn audit(&self, _integration: Option<IntegrationId>) -> Result<Vec<AuditEntry>> { todo!() }
}
