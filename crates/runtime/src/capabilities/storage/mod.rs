//! The `storage` capability: checkpoints and record commits, always for the
//! invocation's own integration. Records are checked here before they reach
//! the database, because everything a plugin hands over is untrusted.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;
use wasmtime::component::{HasSelf, Linker};

use crate::bindings::storage::{self as wit, CommitResult, Host, StorageError};
use crate::bindings::types::CollectedRecord as WitRecord;
use oort_model::batch::{CheckedRecords, MAX_SOURCE_LEN, RecordClass};
use oort_model::{CollectedRecord, Manifest};

use super::InvocationState;

mod borrowed;
mod staged;
mod target;

pub use staged::StagedWrites;
pub use target::{IntegrationStorage, StorageFailure, StorageTarget};

/// The `storage` capability's state for one invocation.
pub struct StorageState {
    /// The record kinds a plugin may write are the ones it declares.
    manifest: Arc<Manifest>,
    /// `None` while no integration exists yet (install, validate-config).
    target: Option<StorageTarget>,
    progress: Option<ProgressSender>,
    /// `stage` writes not yet waited for; drained when the call ends.
    pub(crate) staged: StagedWrites,
}

impl StorageState {
    pub fn new(
        manifest: Arc<Manifest>,
        target: Option<StorageTarget>,
        progress: Option<ProgressSender>,
    ) -> StorageState {
        StorageState {
            manifest,
            target,
            progress,
            staged: StagedWrites::default(),
        }
    }
}

/// Links the `storage` interface over the state `get` returns, with
/// `commit`, `stage` and `stage-events` over borrowed records
/// ([`borrowed`]) in place of the generated ones.
pub fn add_to_linker(
    linker: &mut Linker<InvocationState>,
    get: fn(&mut InvocationState) -> &mut StorageState,
) -> anyhow::Result<()> {
    wit::add_to_linker::<InvocationState, HasSelf<StorageState>>(linker, get)?;
    borrowed::link_borrowed_records(linker, get)
}

pub const MAX_CHECKPOINT_BYTES: usize = 64 * 1024;
pub const MAX_RECORDS_PER_COMMIT: usize = 10_000;
pub const MAX_RAW_JSON_BYTES: usize = 1 << 20;

/// `(source, records)` after each successful commit.
pub type ProgressSender = UnboundedSender<(String, u64)>;

pub fn check_source(source: &str) -> Result<(), StorageError> {
    if source.is_empty() {
        return Err(StorageError::Invalid("the source name is empty".into()));
    }
    if source.len() > MAX_SOURCE_LEN {
        return Err(StorageError::TooLarge(format!(
            "source names are limited to {MAX_SOURCE_LEN} bytes"
        )));
    }
    Ok(())
}

pub fn check_checkpoint(checkpoint: &str) -> Result<(), StorageError> {
    if checkpoint.len() > MAX_CHECKPOINT_BYTES {
        return Err(StorageError::TooLarge(format!(
            "checkpoint of {} bytes exceeds the limit of {MAX_CHECKPOINT_BYTES} bytes",
            checkpoint.len()
        )));
    }
    Ok(())
}

/// Checks one batch of records against the host's limits and the manifest.
pub fn check_records<S: AsRef<str>>(
    manifest: &Manifest,
    records: &[CollectedRecord<S>],
) -> Result<(), StorageError> {
    check_record_count(records.len())?;
    // Kind and id lengths and JSON syntax are the store's to check (one
    // pass over each page); what only the sandbox knows is checked here.
    for (i, r) in records.iter().enumerate() {
        let (kind, raw_json) = (r.kind.as_ref(), r.raw_json.as_ref());
        if !is_declared(manifest, kind) {
            return Err(StorageError::Invalid(format!(
                "record #{i}: kind `{kind}` is not declared in the manifest"
            )));
        }
        if raw_json.len() > MAX_RAW_JSON_BYTES {
            return Err(StorageError::TooLarge(format!(
                "record #{i} ({kind}): raw JSON of {} bytes exceeds the limit of {MAX_RAW_JSON_BYTES} bytes",
                raw_json.len()
            )));
        }
    }
    Ok(())
}

/// Checked before a batch is even lifted from the plugin's memory.
pub fn check_record_count(count: usize) -> Result<(), StorageError> {
    if count > MAX_RECORDS_PER_COMMIT {
        return Err(StorageError::TooLarge(format!(
            "{count} records in one commit; the limit is {MAX_RECORDS_PER_COMMIT}"
        )));
    }
    Ok(())
}

fn is_declared(manifest: &Manifest, kind: &str) -> bool {
    manifest.record_kinds.iter().any(|k| k.name == kind)
}

/// A record the store refused is the plugin's fault (`invalid`); anything
/// else is the host's (`unavailable`).
fn storage_error(e: StorageFailure) -> StorageError {
    match e {
        StorageFailure::Invalid(why) => StorageError::Invalid(why),
        StorageFailure::Unavailable(why) => StorageError::Unavailable(why),
    }
}

impl StorageState {
    fn storage_target(&self) -> Result<StorageTarget, StorageError> {
        self.target.clone().ok_or_else(|| {
            StorageError::Unavailable(
                "storage is not available in this call (only collect and run-action may use it)"
                    .into(),
            )
        })
    }
}

/// Runs a blocking store call off the async executor.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> wasmtime::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| wasmtime::Error::msg(format!("storage task failed: {e}")))
}

/// A batch that passed every check, with where it is to be written.
type CheckedBatch = Result<(StorageTarget, CheckedRecords), StorageError>;

impl StorageState {
    /// Checks a batch for `commit` or `stage`: first what only the sandbox
    /// knows, then the store's checks (most of a commit's CPU; every core
    /// for a large batch). On the calling thread, because the records may
    /// still borrow the plugin's memory (see [`borrowed`]): what the store
    /// keeps is copied out here, once.
    fn check_batch<S: AsRef<str> + Serialize + Sync>(
        &self,
        source: &str,
        class: RecordClass,
        records: &[CollectedRecord<S>],
        checkpoint: &str,
    ) -> CheckedBatch {
        let target = self.storage_target()?;
        check_source(source).and_then(|_| check_checkpoint(checkpoint))?;
        check_records(&self.manifest, records)?;
        let checked =
            CheckedRecords::check(class, records).map_err(|e| StorageError::Invalid(e.0))?;
        Ok((target, checked))
    }

    /// Waits for staged writes; a failed one is this call's error too.
    async fn settle_staged(&mut self) -> Result<(), StorageError> {
        self.staged.settle().await.map_err(storage_error)
    }
}

fn to_wit(r: oort_model::batch::CommitResult) -> CommitResult {
    CommitResult {
        inserted: r.inserted,
        updated: r.updated,
    }
}

/// Writes one checked batch and reports it to the caller's progress sink.
fn write_batch(
    target: &StorageTarget,
    source: String,
    batch: &CheckedRecords,
    checkpoint: &str,
    progress: Option<&ProgressSender>,
) -> Result<oort_model::batch::CommitResult, StorageFailure> {
    let result = target.commit(&source, batch, checkpoint)?;
    if let Some(progress) = progress {
        // The receiver is gone only if the caller stopped listening.
        let _ = progress.send((source, batch.len() as u64));
    }
    Ok(result)
}

impl StorageState {
    /// `stage` and `stage-events` once checked: write in the background.
    async fn stage_checked(
        &mut self,
        source: String,
        checked: CheckedBatch,
        checkpoint: String,
    ) -> Result<(), StorageError> {
        let (target, batch) = checked?;
        let progress = self.progress.clone();
        self.staged
            .start(move || write_batch(&target, source, &batch, &checkpoint, progress.as_ref()))
            .await
            .map_err(storage_error)
    }

    /// `commit` once checked: write after the staged batches, and wait.
    async fn commit_checked(
        &mut self,
        source: String,
        checked: CheckedBatch,
        checkpoint: String,
    ) -> wasmtime::Result<Result<CommitResult, StorageError>> {
        let (target, batch) = match checked {
            Ok(checked) => checked,
            Err(e) => return Ok(Err(e)),
        };
        if let Err(e) = self.settle_staged().await {
            return Ok(Err(e));
        }
        let progress = self.progress.clone();
        let result =
            blocking(move || write_batch(&target, source, &batch, &checkpoint, progress.as_ref()))
                .await?;
        Ok(result.map(to_wit).map_err(storage_error))
    }
}

/// The generated `commit`, `stage` and `stage-events` are never reached:
/// [`link_borrowed_records`] defines them again over records that borrow the
/// plugin's memory. Reaching one means the linker was built without it, so
/// the call ends instead of quietly copying every string of the batch.
fn not_linked(call: &str) -> wasmtime::Error {
    wasmtime::Error::msg(format!(
        "storage.{call} reached the generated binding: the linker must be built with \
         capabilities::storage::add_to_linker"
    ))
}

impl Host for StorageState {
    async fn get_checkpoint(&mut self, source: String) -> wasmtime::Result<Option<String>> {
        let Ok(target) = self.storage_target() else {
            return Ok(None);
        };
        if check_source(&source).is_err() {
            return Ok(None);
        }
        // Read-your-writes: a staged checkpoint counts once it is written,
        // and a failed staged write must not go unnoticed.
        if let Err(e) = self.settle_staged().await {
            return Err(wasmtime::Error::msg(format!(
                "a staged write failed before this checkpoint could be read: {e:?}"
            )));
        }
        let result = blocking(move || target.checkpoint(&source)).await?;
        result.map_err(|e| wasmtime::Error::msg(format!("reading a checkpoint failed: {e}")))
    }

    async fn set_checkpoint(
        &mut self,
        source: String,
        checkpoint: String,
    ) -> wasmtime::Result<Result<(), StorageError>> {
        let target = match self.storage_target() {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        if let Err(e) = check_source(&source).and_then(|_| check_checkpoint(&checkpoint)) {
            return Ok(Err(e));
        }
        if let Err(e) = self.settle_staged().await {
            return Ok(Err(e));
        }
        let result = blocking(move || target.set_checkpoint(&source, &checkpoint)).await?;
        Ok(result.map_err(storage_error))
    }

    async fn commit(
        &mut self,
        _: String,
        _: Vec<WitRecord>,
        _: String,
    ) -> wasmtime::Result<Result<CommitResult, StorageError>> {
        Err(not_linked("commit"))
    }

    async fn stage(
        &mut self,
        _: String,
        _: Vec<WitRecord>,
        _: String,
    ) -> wasmtime::Result<Result<(), StorageError>> {
        Err(not_linked("stage"))
    }

    async fn stage_events(
        &mut self,
        _: String,
        _: Vec<WitRecord>,
        _: String,
    ) -> wasmtime::Result<Result<(), StorageError>> {
        Err(not_linked("stage-events"))
    }

    async fn flush(&mut self) -> wasmtime::Result<Result<CommitResult, StorageError>> {
        Ok(self.staged.flush().await.map(to_wit).map_err(storage_error))
    }

    async fn mark(&mut self) -> wasmtime::Result<Result<u64, StorageError>> {
        let target = match self.storage_target() {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        if let Err(e) = self.settle_staged().await {
            return Ok(Err(e));
        }
        let mark = blocking(move || target.write_mark()).await?;
        Ok(mark.map_err(storage_error))
    }

    async fn prune(
        &mut self,
        kind: String,
        mark: u64,
    ) -> wasmtime::Result<Result<u32, StorageError>> {
        let target = match self.storage_target() {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        if !is_declared(&self.manifest, &kind) {
            return Ok(Err(StorageError::Invalid(format!(
                "kind `{}` is not declared in the manifest",
                kind.chars().take(64).collect::<String>()
            ))));
        }
        if let Err(e) = self.settle_staged().await {
            return Ok(Err(e));
        }
        let pruned = blocking({
            let kind = kind.clone();
            move || target.prune(&kind, mark)
        })
        .await?;
        Ok(pruned
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
            .map_err(storage_error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oort_model::{Normalized, RecordKind};

    fn manifest() -> Manifest {
        Manifest {
            sources: Vec::new(),
            id: "t".into(),
            name: "T".into(),
            version: "1.0.0".into(),
            description: String::new(),
            config: vec![],
            egress: vec![],
            record_kinds: vec![RecordKind {
                name: "t.event".into(),
                description: String::new(),
            }],
            actions: vec![],
            capabilities: vec![],
        }
    }

    fn record(kind: &str, id: &str, raw: &str) -> CollectedRecord {
        CollectedRecord {
            kind: kind.into(),
            id: id.into(),
            occurred_at_ms: None,
            normalized: Normalized::None,
            raw_json: raw.into(),
        }
    }

    #[test]
    fn valid_records_pass() {
        assert!(check_records(&manifest(), &[record("t.event", "1", r#"{"a":1}"#)]).is_ok());
    }

    #[test]
    fn undeclared_kinds_are_invalid() {
        let m = manifest();
        assert!(matches!(
            check_records(&m, &[record("", "1", "{}")]),
            Err(StorageError::Invalid(_))
        ));
        assert!(
            matches!(check_records(&m, &[record("other.kind", "1", "{}")]), Err(StorageError::Invalid(m)) if m.contains("not declared"))
        );
    }

    /// A target that records what reaches it; `fail` makes every write an
    /// outage of the host's storage.
    #[derive(Default)]
    struct Recorded {
        commits: std::sync::Mutex<Vec<(String, usize, String)>>,
        fail: bool,
    }

    impl IntegrationStorage for Recorded {
        fn checkpoint(&self, _: &str) -> Result<Option<String>, StorageFailure> {
            Ok(None)
        }
        fn set_checkpoint(&self, _: &str, _: &str) -> Result<(), StorageFailure> {
            Ok(())
        }
        fn commit(
            &self,
            source: &str,
            batch: &CheckedRecords,
            checkpoint: &str,
        ) -> Result<oort_model::batch::CommitResult, StorageFailure> {
            if self.fail {
                return Err(StorageFailure::Unavailable("disk full".into()));
            }
            self.commits
                .lock()
                .unwrap()
                .push((source.into(), batch.len(), checkpoint.into()));
            Ok(Default::default())
        }
        fn write_mark(&self) -> Result<u64, StorageFailure> {
            Ok(0)
        }
        fn prune(&self, _: &str, _: u64) -> Result<u64, StorageFailure> {
            Ok(0)
        }
    }

    fn state(target: Arc<Recorded>) -> StorageState {
        StorageState::new(Arc::new(manifest()), Some(target), None)
    }

    #[tokio::test]
    async fn a_batch_the_checks_refuse_reaches_the_plugin_as_invalid_and_nothing_is_written() {
        let target = Arc::new(Recorded::default());
        let mut storage = state(target.clone());
        for (bad, says) in [
            (record("t.event", "", "{}"), "id must be"),
            (record("t.event", "1", "{not json"), "raw JSON"),
            (record("other.kind", "1", "{}"), "not declared"),
        ] {
            let checked = storage.check_batch("s", RecordClass::State, &[bad], "c");
            let result = storage
                .commit_checked("s".into(), checked, "c".into())
                .await;
            assert!(
                matches!(result.unwrap(), Err(StorageError::Invalid(ref m)) if m.contains(says)),
                "expected invalid: {says}"
            );
        }
        assert!(target.commits.lock().unwrap().is_empty());
        let good = [record("t.event", "1", "{}")];
        let checked = storage.check_batch("s", RecordClass::State, &good, "c");
        storage
            .commit_checked("s".into(), checked, "c".into())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            *target.commits.lock().unwrap(),
            vec![("s".into(), 1, "c".into())]
        );
    }

    #[tokio::test]
    async fn a_storage_outage_reaches_the_plugin_as_unavailable() {
        let mut storage = state(Arc::new(Recorded {
            fail: true,
            ..Default::default()
        }));
        let good = [record("t.event", "1", "{}")];
        let checked = storage.check_batch("s", RecordClass::State, &good, "c");
        let result = storage
            .commit_checked("s".into(), checked, "c".into())
            .await;
        assert!(matches!(
            result.unwrap(),
            Err(StorageError::Unavailable(ref m)) if m == "disk full"
        ));
    }

    #[test]
    fn oversized_input_is_too_large() {
        let m = manifest();
        let huge = format!("\"{}\"", "x".repeat(MAX_RAW_JSON_BYTES));
        assert!(matches!(
            check_records(&m, &[record("t.event", "1", &huge)]),
            Err(StorageError::TooLarge(_))
        ));
        assert!(matches!(
            check_checkpoint(&"c".repeat(MAX_CHECKPOINT_BYTES + 1)),
            Err(StorageError::TooLarge(_))
        ));
        assert!(matches!(check_source(""), Err(StorageError::Invalid(_))));
    }
}
