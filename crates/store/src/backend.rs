//! The storage interface: what the platform asks of a database, one trait
//! per concern, and [`Backend`], all of them together. The SQLite [`Store`]
//! implements it (each concern's file holds its `impl`); a server database
//! implements the same traits and the platform, which holds an
//! `Arc<dyn Backend>`, does not change.
//!
//! Every backend gives the same guarantees, which the methods' docs state:
//! a commit writes records and checkpoint in one transaction, the audit
//! trail is append-only, secrets are sealed with the host's master key
//! before they reach the database, and failures are classified into
//! [`StoreError`]'s kinds (no driver type crosses this boundary).
//!
//! [`Store`]: crate::Store
//! [`StoreError`]: crate::StoreError

use oort_model::batch::{CheckedRecords, CommitResult, RecordClass};
use oort_model::{CollectedRecord, Finding, Normalized, Role, SecretValue, StoredFinding};

use crate::{
    ApiToken, AuditEntry, InstalledPlugin, Integration, IntegrationChange, IntegrationId,
    NewIntegration, NewToken, Operator, RecordKey, Result, Run, RunId, RunKind, RunStatus,
    Schedule, SourceCollection, StoredRecord,
};

/// Installed plugin components.
pub trait PluginStore {
    /// Registers a plugin, replacing the previous installation of the same id.
    fn upsert_plugin(&self, plugin: &InstalledPlugin) -> Result<()>;
    fn plugin(&self, id: &str) -> Result<Option<InstalledPlugin>>;
    /// All installed plugins, by id.
    fn plugins(&self) -> Result<Vec<InstalledPlugin>>;
}

/// Integrations (per tenant) and their secrets.
pub trait IntegrationStore {
    /// Creates the integration with its config and sealed secrets in one
    /// transaction. `Conflict` if (tenant, name) exists.
    fn create_integration(&self, new: &NewIntegration) -> Result<Integration>;
    fn integration(&self, tenant: &str, name: &str) -> Result<Option<Integration>>;
    fn integration_by_id(&self, id: IntegrationId) -> Result<Option<Integration>>;
    /// All integrations, or those of one tenant, by tenant then name.
    fn integrations(&self, tenant: Option<&str>) -> Result<Vec<Integration>>;
    /// Removes the integration and everything keyed by it (records,
    /// checkpoints, secrets, runs, findings); the audit trail is kept.
    fn remove_integration(&self, id: IntegrationId) -> Result<()>;
    /// One secret, unsealed. `Corrupt` if it was sealed with another key.
    fn secret(&self, integration: IntegrationId, field: &str) -> Result<Option<SecretValue>>;
    /// Replaces the config and sets or clears secrets, in one transaction;
    /// returns the integration as it is now. `NotFound` if it was removed.
    fn update_integration(
        &self,
        id: IntegrationId,
        change: &IntegrationChange,
    ) -> Result<Integration>;
    /// Enables or disables the integration (see [`Integration::enabled`]);
    /// one enabled again is due at once.
    fn set_enabled(&self, id: IntegrationId, enabled: bool) -> Result<Integration>;
}

/// Collected records and the checkpoints that say how far collection got.
pub trait RecordStore {
    fn checkpoint(&self, integration: IntegrationId, source: &str) -> Result<Option<String>>;
    fn set_checkpoint(
        &self,
        integration: IntegrationId,
        source: &str,
        checkpoint: &str,
    ) -> Result<()>;
    /// Writes the batch and sets the checkpoint in one transaction: a
    /// failure inside it rolls back the records and the checkpoint alike.
    /// State records are upserted on (integration, kind, id) (`inserted` or
    /// `updated`); events are immutable, and one already stored is skipped
    /// (counted in neither).
    fn commit_checked(
        &self,
        integration: IntegrationId,
        source: &str,
        batch: &CheckedRecords,
        checkpoint: &str,
    ) -> Result<CommitResult>;
    /// [`RecordStore::commit_checked`] for state records not checked yet;
    /// everything is validated before the transaction starts.
    fn commit_records(
        &self,
        integration: IntegrationId,
        source: &str,
        records: &[CollectedRecord],
        checkpoint: &str,
    ) -> Result<CommitResult> {
        let batch = CheckedRecords::check(RecordClass::State, records)?;
        self.commit_checked(integration, source, &batch, checkpoint)
    }
    /// [`RecordStore::commit_checked`] fenced by the collection lease: the
    /// batch is written only if `holder` still holds the integration's
    /// lease, checked in the same transaction. A collection that lost its
    /// lease (it stalled past the TTL and another process took over) cannot
    /// write behind its successor's back: `Conflict`, nothing written.
    fn commit_fenced(
        &self,
        integration: IntegrationId,
        source: &str,
        batch: &CheckedRecords,
        checkpoint: &str,
        holder: &str,
    ) -> Result<CommitResult>;
    /// [`RecordStore::set_checkpoint`] fenced like [`RecordStore::commit_fenced`].
    fn set_checkpoint_fenced(
        &self,
        integration: IntegrationId,
        source: &str,
        checkpoint: &str,
        holder: &str,
    ) -> Result<()>;
    /// A point in the integration's write history: records written after
    /// this call have a later write sequence (see [`RecordStore::prune_records`]).
    fn write_mark(&self, integration: IntegrationId) -> Result<u64>;
    /// Deletes the state records of `kind` last written at or before `mark`
    /// (a full inventory pass that began at `mark` did not see them again);
    /// events are never pruned. Returns how many were deleted.
    fn prune_records(&self, integration: IntegrationId, kind: &str, mark: u64) -> Result<u64>;
    /// Records in (kind, occurred_at, id) order, optionally of one kind.
    ///
    /// Reads a consistent snapshot without blocking collection, so `f` may
    /// use the store (even write to it). An error from `f` stops the
    /// iteration and is returned.
    fn for_each_record(
        &self,
        integration: IntegrationId,
        kind: Option<&str>,
        f: &mut dyn FnMut(StoredRecord) -> Result<()>,
    ) -> Result<()> {
        self.for_each_record_after(integration, kind, None, f)
    }
    /// [`RecordStore::for_each_record`] from the first record after `after`
    /// in that order (all of them with `None`): the next page of an export.
    fn for_each_record_after(
        &self,
        integration: IntegrationId,
        kind: Option<&str>,
        after: Option<&RecordKey>,
        f: &mut dyn FnMut(StoredRecord) -> Result<()>,
    ) -> Result<()>;
    /// The normalized views of one integration's records, deserialized
    /// (`Normalized::None` rows skipped), for the insights engine (whose
    /// results do not depend on the order).
    fn normalized_records(&self, integration: IntegrationId) -> Result<Vec<Normalized>>;
    /// Record count per kind, by kind.
    fn record_counts(&self, integration: IntegrationId) -> Result<Vec<(String, u64)>>;
}

/// The history of validate / test / collect / action runs.
pub trait RunStore {
    /// Opens a run, `Running`, stamped with the store's clock.
    fn start_run(&self, integration: IntegrationId, kind: RunKind) -> Result<RunId>;
    /// Closes a run. A run is finished once: finishing it again is a bug of
    /// the caller and is refused rather than rewriting history.
    fn finish_run(
        &self,
        run: RunId,
        status: RunStatus,
        summary: Option<&serde_json::Value>,
        error: Option<&str>,
    ) -> Result<()>;
    /// The latest `limit` runs of an integration, newest first.
    fn runs(&self, integration: IntegrationId, limit: usize) -> Result<Vec<Run>>;
    /// One run, if it exists.
    fn run(&self, run: RunId) -> Result<Option<Run>>;
    /// Replaces a running run's progress; a finished run's is left as it
    /// ended (`Conflict`), so a late report cannot rewrite history.
    fn record_run_progress(&self, run: RunId, progress: &serde_json::Value) -> Result<()>;
}

/// Insight findings, deduplicated across refreshes.
pub trait FindingStore {
    /// Upserts on (integration, insight_id, dedupe_key): new evidence is
    /// merged, `last_seen` extended; no duplicates on re-runs. All findings
    /// are written in one transaction.
    fn upsert_findings(&self, integration: IntegrationId, findings: &[Finding]) -> Result<()>;
    /// Findings of one integration, most severe first, then newest first.
    fn findings(&self, integration: IntegrationId) -> Result<Vec<StoredFinding>>;
    /// One finding, only if it belongs to `integration`.
    fn finding(&self, integration: IntegrationId, id: i64) -> Result<Option<StoredFinding>>;
}

/// The people (and their roles) who may act on the platform.
pub trait OperatorStore {
    /// Adds an operator of one tenant, or platform-wide (`tenant: None`).
    /// `Conflict` if the name is taken (use
    /// [`OperatorStore::set_operator_role`] to change a role).
    fn add_operator(&self, name: &str, role: Role, tenant: Option<&str>) -> Result<Operator>;
    /// Changes the role of an existing operator; `NotFound` if there is none.
    fn set_operator_role(&self, name: &str, role: Role) -> Result<Operator>;
    fn operator(&self, name: &str) -> Result<Option<Operator>>;
    /// All operators, by name.
    fn operators(&self) -> Result<Vec<Operator>>;
}

/// Collection schedules and leases. A lease is the store's, not a flag in
/// one process's memory: every process sharing the database sees it, and
/// one that dies loses it when it expires.
pub trait ScheduleStore {
    /// `NotFound` if the integration does not exist.
    fn schedule(&self, integration: IntegrationId) -> Result<Schedule>;
    /// Enabled integrations due at `now_ms` whose lease is free or expired,
    /// most overdue first, at most `limit`.
    fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<Schedule>>;
    /// Sets the interval; the next run is due at `next_due_ms` if given,
    /// else one interval after the last one finished (unchanged, if it
    /// never ran).
    fn set_interval(
        &self,
        integration: IntegrationId,
        interval_ms: i64,
        next_due_ms: Option<i64>,
    ) -> Result<Schedule>;
    /// Takes the integration's lease for `owner` until `now_ms + ttl_ms`, or
    /// extends it if `owner` holds it. `false` (nothing changed) while
    /// another owner's lease has not expired. Atomic across processes.
    fn acquire_lease(
        &self,
        integration: IntegrationId,
        owner: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool>;
    /// Takes the lease from `from` for `owner` (until `now_ms + ttl_ms`)
    /// whether or not it has expired: for a holder known to be dead. `false`
    /// if `from` no longer holds it (it was released or taken meanwhile).
    fn take_over_lease(
        &self,
        integration: IntegrationId,
        from: &str,
        owner: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool>;
    /// Gives the lease up, if `owner` holds it.
    fn release_lease(&self, integration: IntegrationId, owner: &str) -> Result<()>;
    /// Records how a collection (scheduled or asked for) ended and when the
    /// next is due: the failure count is reset by a success (`error` None)
    /// and grows by one with each failure, whose reason is kept. A success
    /// also records `sources` as collected at `finished_ms`, in the same
    /// transaction.
    fn record_collection(
        &self,
        integration: IntegrationId,
        finished_ms: i64,
        next_due_ms: i64,
        error: Option<&str>,
        sources: &[&str],
    ) -> Result<Schedule>;
    /// When each source of the integration was last collected (sources
    /// never collected are absent), by source name.
    fn source_collections(&self, integration: IntegrationId) -> Result<Vec<SourceCollection>>;
}

/// Operators' API tokens, kept as hashes.
pub trait TokenStore {
    /// Stores a token's hash for an existing operator (`NotFound` if there
    /// is none).
    fn add_token(&self, new: &NewToken) -> Result<ApiToken>;
    /// The token with this hash, revoked or expired ones included (the
    /// caller decides, and can say why a token no longer works).
    fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<ApiToken>>;
    /// All tokens, or one operator's, oldest first.
    fn tokens(&self, operator: Option<&str>) -> Result<Vec<ApiToken>>;
    /// Records that the token signed its operator in at `at_ms`.
    fn token_used(&self, id: i64, at_ms: i64) -> Result<()>;
    /// Revokes a token for good, stamped with the backend's clock.
    /// `NotFound` if there is no such token, `Conflict` if it is revoked.
    fn revoke_token(&self, id: i64) -> Result<ApiToken>;
}

/// The append-only audit trail. There is deliberately no method that
/// updates or deletes an entry, and a backend refuses both in the database
/// itself (triggers, permissions), not only by lacking the method.
pub trait AuditStore {
    /// Appends the entry; returns its id.
    fn append_audit(&self, entry: &AuditEntry) -> Result<i64>;
    /// The whole trail, or the entries of one integration, oldest first.
    fn audit(&self, integration: Option<IntegrationId>) -> Result<Vec<AuditEntry>>;
    /// The ids of action starts (outcome beginning [`crate::audit::STARTED`])
    /// written before `started_before_ms` that no entry concludes (names in
    /// its `attempt`): actions whose outcome is unknown.
    fn unconcluded_attempts(
        &self,
        integration: Option<IntegrationId>,
        started_before_ms: i64,
    ) -> Result<Vec<i64>>;
}

/// A whole storage backend: every concern, shareable across threads.
pub trait Backend:
    PluginStore
    + IntegrationStore
    + RecordStore
    + RunStore
    + FindingStore
    + OperatorStore
    + TokenStore
    + ScheduleStore
    + AuditStore
    + Send
    + Sync
{
    /// The backend's time, in ms since the epoch: the clock it was opened
    /// with, which stamps every row it writes.
    fn now_ms(&self) -> i64;
    /// Bytes the database uses for its data (for the benches' per-event
    /// figures; free space not counted).
    fn used_bytes(&self) -> Result<u64>;
}
