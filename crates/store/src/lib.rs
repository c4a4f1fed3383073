//! Durable state of the host: the storage interface ([`backend`]: one trait
//! per concern, [`Backend`] for all of them, [`StoreError`]'s kinds and the
//! data types below) and its SQLite implementation, [`Store`] (rusqlite,
//! bundled, WAL). The platform holds an `Arc<dyn Backend>`, so a server
//! database implements the same traits without touching it.
//!
//! Secrets are encrypted with the master key (see [`crypto`]) before they
//! reach the database and are only decrypted into a [`SecretValue`]. Raw JSON
//! of collected records is compressed with a dictionary per integration and
//! kind (see [`compression`]); normalized views are stored as plain JSON.
//!
//! One connection behind a mutex serves all writes (SQLite has one writer
//! anyway); long reads (`for_each_record`, `normalized_records`) use their
//! own read-only connection so they neither block collection nor deadlock a
//! callback that uses the store. The methods live in one file per concern.

pub mod audit;
pub mod backend;
mod checkpointer;
mod compression;
pub mod crypto;
mod event_pages;
mod findings;
mod integrations;
mod migrations;
mod operators;
mod plugins;
mod records;
mod runs;
mod schedules;
#[cfg(test)]
mod tests;
mod tokens;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use serde::{Deserialize, Serialize};

use oort_model::batch::InvalidRecord;
use oort_model::{Finding, Manifest, Role, SecretValue, StoredFinding};
use oort_time::{Clock, SystemClock};

pub use backend::{
    AuditStore, Backend, FindingStore, IntegrationStore, OperatorStore, PluginStore, RecordStore,
    RunStore, ScheduleStore, TokenStore,
};
pub use crypto::MasterKey;

/// The storage traits, for code that calls them on a concrete [`Store`]
/// (`use oort_store::prelude::*;`); through `dyn Backend` they need no import.
pub mod prelude {
    pub use crate::backend::{
        AuditStore, Backend, FindingStore, IntegrationStore, OperatorStore, PluginStore,
        RecordStore, RunStore, ScheduleStore, TokenStore,
    };
}

pub type IntegrationId = i64;
pub type RunId = i64;

/// What went wrong in the store, by what the caller can do about it. No
/// backend's own error type crosses this boundary: a backend classifies its
/// errors into these kinds and keeps its words in the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// What was asked for does not exist (integration, operator, run...).
    #[error("{0}")]
    NotFound(String),
    /// It exists already, or a rule of the store refused the change (a name
    /// taken, the append-only audit trail).
    #[error("{0}")]
    Conflict(String),
    /// The caller's input was refused (a name, a record batch, the master
    /// key's form or file mode).
    #[error("{0}")]
    Invalid(String),
    /// The database or the disk cannot serve the request now (busy, full,
    /// I/O, cannot open): retrying or fixing the machine may help.
    #[error("{0}")]
    Unavailable(String),
    /// What the store holds cannot be read back: an altered or damaged
    /// file, or secrets sealed with another master key.
    #[error("{0}")]
    Corrupt(String),
}

impl StoreError {
    fn io(path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Unavailable(format!("I/O error on {}: {source}", path.display()))
    }
}

/// SQLite's errors by kind. Only this crate sees `rusqlite`.
impl From<InvalidRecord> for StoreError {
    fn from(e: InvalidRecord) -> Self {
        StoreError::Invalid(e.0)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode as Code;
        let message = format!("database error: {e}");
        match e.sqlite_error_code() {
            Some(Code::DatabaseCorrupt | Code::NotADatabase) => StoreError::Corrupt(message),
            Some(Code::ConstraintViolation) => StoreError::Conflict(message),
            Some(_) => StoreError::Unavailable(message),
            None => match e {
                rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound(message),
                rusqlite::Error::FromSqlConversionFailure(..)
                | rusqlite::Error::IntegralValueOutOfRange(..)
                | rusqlite::Error::InvalidColumnType(..)
                | rusqlite::Error::Utf8Error(..) => StoreError::Corrupt(message),
                _ => StoreError::Unavailable(message),
            },
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A plugin that passed installation (validated, precompiled).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// A change to an existing integration's settings, written in one
/// transaction: the config as a whole, and secrets set or cleared one by one
/// (the others keep their values).
#[derive(Debug, Clone, Default)]
pub struct IntegrationChange {
    /// The whole non-secret config after the change.
    pub config: Vec<(String, String)>,
    /// Secrets set or replaced (a rotated key), sealed before storage.
    pub set_secrets: Vec<(String, SecretValue)>,
    /// Secret fields that no longer have a value.
    pub cleared_secrets: Vec<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Integration {
    pub id: IntegrationId,
    pub tenant: String,
    pub name: String,
    pub plugin_id: String,
    /// `[field, value]` pairs.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<String>>))]
    pub config: Vec<(String, String)>,
    /// Names of the secret fields that have a value (never the values).
    pub secret_fields: Vec<String>,
    pub api_base_url: Option<String>,
    pub granted_capabilities: Vec<String>,
    pub created_at_ms: i64,
    /// A disabled integration is kept with everything collected for it but
    /// is not scheduled, and nothing reaches its upstream API.
    pub enabled: bool,
}

/// A record's place in store order, (kind, time, id): where a page of an
/// export ends and the next begins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordKey {
    pub kind: String,
    /// `None` sorts first (state records without a time).
    pub occurred_at_ms: Option<i64>,
    pub id: String,
}

impl RecordKey {
    pub fn of(record: &StoredRecord) -> RecordKey {
        RecordKey {
            kind: record.kind.clone(),
            occurred_at_ms: record.occurred_at_ms,
            id: record.id.clone(),
        }
    }
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

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    Validate,
    Test,
    Collect,
    Action,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub id: RunId,
    pub integration_id: IntegrationId,
    pub kind: RunKind,
    pub status: RunStatus,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    /// JSON summary (collect summary, check list, action outcome).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub summary: Option<serde_json::Value>,
    pub error: Option<String>,
    /// What a collection has committed so far (`{"pages","records":{source:n}}`),
    /// kept once it ends.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub progress: Option<serde_json::Value>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    pub name: String,
    /// `admin`, `helpdesk` or `viewer`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub role: Role,
    /// The one tenant the operator works in; `None` for a platform-wide
    /// operator (every tenant, and what belongs to none: plugins, operators).
    pub tenant: Option<String>,
    pub created_at_ms: i64,
}

/// An API token of an operator, as listed: never the token itself, which is
/// shown once when issued and stored only as its SHA-256.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: i64,
    pub operator: String,
    /// What the token is for, e.g. `console` or `ci`.
    pub label: String,
    pub created_at_ms: i64,
    pub expires_at_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
    /// When it last signed its operator in, to the minute (see
    /// [`TokenStore::token_used`]).
    pub last_used_at_ms: Option<i64>,
}

/// When an integration is collected next, how the last scheduled runs
/// went, and who holds its collection lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub integration_id: IntegrationId,
    pub tenant: String,
    pub interval_ms: i64,
    pub next_due_ms: i64,
    /// Scheduled runs failed in a row (0 after a success).
    pub failures: u32,
    /// Why the last scheduled run failed, while it is failing.
    pub last_error: Option<String>,
    pub last_finished_ms: Option<i64>,
    /// The process collecting it now, until `lease_expires_ms`.
    pub lease_owner: Option<String>,
    pub lease_expires_ms: Option<i64>,
}

/// When one source of an integration was last collected successfully.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCollection {
    pub source: String,
    pub last_collected_ms: i64,
}

/// The default collection interval of a new integration (5 minutes).
pub const DEFAULT_INTERVAL_MS: i64 = 5 * 60 * 1000;

/// What issuing a token stores.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub operator: String,
    pub label: String,
    /// SHA-256 of the token.
    pub hash: [u8; 32],
    pub expires_at_ms: Option<i64>,
}

/// One line of the append-only audit trail.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The entry's number in the trail (none for one not yet written).
    pub id: Option<i64>,
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
    /// For the outcome of an action: the entry that recorded its start
    /// (written before the action reached the plugin).
    pub attempt: Option<i64>,
}

/// The handle to the database. Cheap to clone; safe to share across threads.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Mutex<Connection>,
    key: MasterKey,
    db_path: PathBuf,
    checkpointer: checkpointer::Checkpointer,
    dictionaries: compression::Dictionaries,
    /// The time of every row the store stamps (runs, findings, operators...).
    clock: Arc<dyn Clock>,
}

/// Name of the database file inside the data directory.
pub const DB_FILE: &str = "oort.db";

/// How long a statement waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Page size of new databases: SQLite's default, chosen by measurement
/// (`duo_collect`). While events were keyed by their random txids, 16 KiB
/// pages lost 13-18% at 1M events (each insert dirtied a whole leaf page);
/// since events are keyed by time (schema 2), 16 KiB measures within noise
/// of 4 KiB (+2% at 200 pages, −10..+14% at 1M), so the default stays.
const PAGE_SIZE: i64 = 4 * 1024;

impl Store {
    /// Opens (creating if needed) `data_dir/oort.db` and the master key
    /// (`OORT_MASTER_KEY`, else `data_dir/master.key`, created 0600), and runs
    /// migrations.
    pub fn open(data_dir: &Path) -> Result<Store> {
        create_data_dir(data_dir)?;
        let key = MasterKey::load(data_dir)?;
        Store::open_with_key(data_dir, key)
    }

    /// Like [`Store::open`] with an explicit master key (tests, key rotation).
    pub fn open_with_key(data_dir: &Path, key: MasterKey) -> Result<Store> {
        Store::open_with(data_dir, key, Arc::new(SystemClock))
    }

    /// Like [`Store::open_with_key`], stamping rows with `clock`'s time (a
    /// virtual clock in tests and the scheduler's).
    pub fn open_with(data_dir: &Path, key: MasterKey, clock: Arc<dyn Clock>) -> Result<Store> {
        create_data_dir(data_dir)?;
        let db_path = data_dir.join(DB_FILE);
        let mut conn = Connection::open(&db_path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Only takes effect on a new (empty) database.
        conn.pragma_update(None, "page_size", PAGE_SIZE)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Invalid(format!(
                "{} cannot use write-ahead logging (journal mode is `{mode}`); keep the data directory on a local file system",
                db_path.display()
            )));
        }
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // 32 MiB page cache (default 2 MiB): state records (users, phones)
        // are keyed by random ids, so their upserts touch pages all over.
        conn.pragma_update(None, "cache_size", -32 * 1024)?;
        // The WAL is checkpointed in the background (see `checkpointer`);
        // the writer checkpoints by itself only if that falls far behind.
        let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        conn.pragma_update(
            None,
            "wal_autocheckpoint",
            checkpointer::WRITER_CHECKPOINT_BYTES / page_size.max(512),
        )?;
        // Enough for the per-record statements of commit_records and friends.
        conn.set_prepared_statement_cache_capacity(64);
        // Every transaction of this connection writes: take the write lock up
        // front, where busy_timeout applies, instead of failing with BUSY when
        // a deferred read upgrades while another process writes.
        conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        migrations::migrate(&mut conn)?;
        let checkpointer = checkpointer::Checkpointer::start(&db_path);
        Ok(Store {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                key,
                db_path,
                checkpointer,
                dictionaries: compression::Dictionaries::default(),
                clock,
            }),
        })
    }

    /// Path of the database file.
    pub fn db_path(&self) -> &Path {
        &self.inner.db_path
    }

    /// The write connection. A panic while it was held leaves no open
    /// transaction (rusqlite rolls back on drop), so a poisoned lock is safe
    /// to reuse.
    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.inner
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A fresh read-only connection: a consistent snapshot for long reads
    /// that must not hold the write lock.
    fn reader(&self) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.inner.db_path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(conn)
    }

    /// Tells the background checkpointer that a large write landed.
    fn wrote_bulk(&self) {
        self.inner.checkpointer.nudge();
    }

    fn key(&self) -> &MasterKey {
        &self.inner.key
    }
}

impl Backend for Store {
    fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// Pages holding data, the write-ahead log's included.
    fn used_bytes(&self) -> Result<u64> {
        let conn = self.conn();
        let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let free: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
        let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok(((pages - free).max(0) * size) as u64)
    }
}

fn create_data_dir(data_dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    // 0700: the directory holds the database and possibly the key file.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data_dir)
        .map_err(|source| StoreError::io(data_dir, source))
}

/// Serializes a value the store itself produced; cannot fail for our types.
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("store types serialize to JSON")
}

/// Parses JSON the store wrote; a failure means the file was altered.
fn from_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| {
        StoreError::Corrupt(format!(
            "stored {what} is not valid JSON ({e}); the database may be corrupted"
        ))
    })
}
