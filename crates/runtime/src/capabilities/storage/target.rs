//! Where the `storage` capability writes: one integration's records and
//! checkpoints, behind a trait the runtime defines and the platform
//! implements over its store (SQLite today, PostgreSQL next). Bound to one
//! integration when the invocation starts, so no call a plugin makes can
//! name another integration's data.

use std::sync::Arc;

use oort_model::batch::{CheckedRecords, CommitResult};

/// Why a write or read failed, as the plugin may learn it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageFailure {
    /// The input was refused (a record, a source, a mark); nothing was written.
    #[error("{0}")]
    Invalid(String),
    /// The host's storage failed; nothing was written.
    #[error("{0}")]
    Unavailable(String),
}

/// One integration's storage. Calls block (they run on a blocking thread).
pub trait IntegrationStorage: Send + Sync {
    fn checkpoint(&self, source: &str) -> Result<Option<String>, StorageFailure>;

    fn set_checkpoint(&self, source: &str, checkpoint: &str) -> Result<(), StorageFailure>;

    /// Writes `batch` and sets the checkpoint of `source`, in one
    /// transaction: both are durable or neither is.
    fn commit(
        &self,
        source: &str,
        batch: &CheckedRecords,
        checkpoint: &str,
    ) -> Result<CommitResult, StorageFailure>;

    /// A point in the integration's write history: records written after
    /// it are newer (see [`IntegrationStorage::prune`]).
    fn write_mark(&self) -> Result<u64, StorageFailure>;

    /// Deletes the state records of `kind` last written at or before
    /// `mark`; how many.
    fn prune(&self, kind: &str, mark: u64) -> Result<u64, StorageFailure>;
}

/// The integration whose storage an invocation may use.
pub type StorageTarget = Arc<dyn IntegrationStorage>;
