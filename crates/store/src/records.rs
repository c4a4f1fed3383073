//! Collected records and the checkpoints that say how far collection got.

use rusqlite::{OptionalExtension, params};

use super::event_pages::{self, PageReader};
use super::integrations::{ensure_exists, next_write_seq, write_seq};
use super::{IntegrationId, RecordKey, Result, Store, StoreError, StoredRecord};
use crate::backend::{Backend, RecordStore};
use oort_model::batch::{self, CheckedRecords, CommitResult, RecordClass};
use oort_model::{CollectedRecord, Normalized};

/// `?3..?5`: the key to start after, if `?3` is not NULL (a time of NULL
/// sorts first, as `ORDER BY` puts it).
const SELECT_ORDERED: &str =
    "SELECT kind, id, occurred_at_ms, normalized, raw, raw_dict FROM records
     WHERE integration_id = ?1 AND (?2 IS NULL OR kind = ?2)
       AND (?3 IS NULL OR (kind, COALESCE(occurred_at_ms, -9223372036854775808), id) > (?3, ?4, ?5))
     ORDER BY kind, occurred_at_ms, id";

const SELECT_EVENTS: &str = "SELECT kind, id, occurred_at_ms, page, entry FROM events
     WHERE integration_id = ?1 AND (?2 IS NULL OR kind = ?2)
       AND (?3 IS NULL OR (kind, occurred_at_ms, id) > (?3, ?4, ?5))
     ORDER BY kind, occurred_at_ms, id";

/// An index row of `events` (see [`SELECT_EVENTS`]).
struct EventRef {
    kind: String,
    id: String,
    occurred_at_ms: i64,
    page: i64,
    entry: i64,
}

impl EventRef {
    fn next(rows: &mut rusqlite::Rows) -> Result<Option<EventRef>> {
        let Some(row) = rows.next()? else {
            return Ok(None);
        };
        Ok(Some(EventRef {
            kind: row.get(0)?,
            id: row.get(1)?,
            occurred_at_ms: row.get(2)?,
            page: row.get(3)?,
            entry: row.get(4)?,
        }))
    }
}

/// The distinct kinds of a batch, sorted.
pub(super) fn batch_kinds(records: &[CollectedRecord]) -> Vec<&str> {
    let mut kinds: Vec<&str> = records.iter().map(|r| r.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds
}

/// The kinds of a batch for which `records` holds rows in the batch's
/// time range (events written before schema 4, or state records with a
/// time): only their events are looked up there one by one.
struct LegacyEvents(Vec<String>);

impl LegacyEvents {
    fn overlapping(
        conn: &rusqlite::Connection,
        integration: IntegrationId,
        records: &[CollectedRecord],
    ) -> Result<LegacyEvents> {
        let mut overlapping = Vec::new();
        for kind in batch_kinds(records) {
            let times = records
                .iter()
                .filter(|r| r.kind == kind)
                .filter_map(|r| r.occurred_at_ms);
            let (Some(first), Some(last)) = (times.clone().min(), times.max()) else {
                continue;
            };
            let found: bool = conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM records WHERE integration_id = ?1 AND kind = ?2
                         AND occurred_at_ms BETWEEN ?3 AND ?4)",
                )?
                .query_row(params![integration, kind, first, last], |r| r.get(0))?;
            if found {
                overlapping.push(kind.to_string());
            }
        }
        Ok(LegacyEvents(overlapping))
    }

    fn holds(
        &self,
        conn: &rusqlite::Connection,
        integration: IntegrationId,
        record: &CollectedRecord,
        at: i64,
    ) -> Result<bool> {
        if !self.0.contains(&record.kind) {
            return Ok(false);
        }
        Ok(conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM records WHERE integration_id = ?1 AND kind = ?2
                     AND occurred_at_ms = ?3 AND id = ?4)",
            )?
            .query_row(params![integration, record.kind, at, record.id], |r| {
                r.get(0)
            })?)
    }
}

impl RecordStore for Store {
    fn checkpoint(&self, integration: IntegrationId, source: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT checkpoint FROM checkpoints WHERE integration_id = ?1 AND source = ?2",
            )?
            .query_row(params![integration, source], |r| r.get(0))
            .optional()?)
    }

    fn set_checkpoint(
        &self,
        integration: IntegrationId,
        source: &str,
        checkpoint: &str,
    ) -> Result<()> {
        self.write_checkpoint_only(integration, source, checkpoint, None)
    }

    fn commit_checked(
        &self,
        integration: IntegrationId,
        source: &str,
        batch: &CheckedRecords,
        checkpoint: &str,
    ) -> Result<CommitResult> {
        validate_source(source)?;
        self.write_records(integration, source, batch, checkpoint, None)
    }

    fn commit_fenced(
        &self,
        integration: IntegrationId,
        source: &str,
        batch: &CheckedRecords,
        checkpoint: &str,
        holder: &str,
    ) -> Result<CommitResult> {
        validate_source(source)?;
        self.write_records(integration, source, batch, checkpoint, Some(holder))
    }

    fn set_checkpoint_fenced(
        &self,
        integration: IntegrationId,
        source: &str,
        checkpoint: &str,
        holder: &str,
    ) -> Result<()> {
        self.write_checkpoint_only(integration, source, checkpoint, Some(holder))
    }

    fn write_mark(&self, integration: IntegrationId) -> Result<u64> {
        Ok(write_seq(&self.conn(), integration)? as u64)
    }

    fn prune_records(&self, integration: IntegrationId, kind: &str, mark: u64) -> Result<u64> {
        if kind.is_empty() || kind.len() > batch::MAX_KIND_LEN {
            return Err(StoreError::Invalid(format!(
                "kind must be 1 to {} bytes long",
                batch::MAX_KIND_LEN
            )));
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let now = write_seq(&tx, integration)? as u64;
        if mark > now {
            return Err(StoreError::Invalid(format!(
                "mark {mark} is newer than this integration's last write ({now}); use a mark from `storage.mark`"
            )));
        }
        let deleted = tx
            .prepare_cached(
                "DELETE FROM records WHERE integration_id = ?1 AND kind = ?2 AND is_event = 0 AND written_seq <= ?3",
            )?
            .execute(params![integration, kind, mark as i64])?;
        tx.commit()?;
        Ok(deleted as u64)
    }

    fn for_each_record_after(
        &self,
        integration: IntegrationId,
        kind: Option<&str>,
        after: Option<&RecordKey>,
        f: &mut dyn FnMut(StoredRecord) -> Result<()>,
    ) -> Result<()> {
        let (after_kind, after_at, after_id) = match after {
            Some(key) => (
                Some(key.kind.as_str()),
                key.occurred_at_ms.unwrap_or(i64::MIN),
                key.id.as_str(),
            ),
            None => (None, 0, ""),
        };
        let reader = self.reader()?;
        // One read transaction: both queries and the page lookups see the
        // same snapshot, whatever commits meanwhile.
        let conn = reader.unchecked_transaction()?;
        // Rows (state records, events written before schema 4) and paged
        // events, each in (kind, time, id) order, merged into that order.
        let mut row_stmt = conn.prepare(SELECT_ORDERED)?;
        let mut rows =
            row_stmt.query(params![integration, kind, after_kind, after_at, after_id])?;
        let mut event_stmt = conn.prepare(SELECT_EVENTS)?;
        let mut events =
            event_stmt.query(params![integration, kind, after_kind, after_at, after_id])?;
        let mut dctx = zstd::zstd_safe::DCtx::create();
        let mut pages = PageReader::default();
        let mut next_row = |rows: &mut rusqlite::Rows| -> Result<Option<StoredRecord>> {
            let Some(row) = rows.next()? else {
                return Ok(None);
            };
            let id: String = row.get(1)?;
            let normalized: String = row.get(3)?;
            let raw = self.inner.dictionaries.raw_text(
                &conn,
                &mut dctx,
                row.get_ref(4)?,
                row.get(5)?,
                &id,
            )?;
            Ok(Some(StoredRecord {
                kind: row.get(0)?,
                occurred_at_ms: row.get(2)?,
                normalized: parse_stored(&normalized, &id)?,
                raw: parse_stored(&raw, &id)?,
                id,
            }))
        };
        let mut row = next_row(&mut rows)?;
        let mut event = EventRef::next(&mut events)?;
        loop {
            let take_row = match (&row, &event) {
                (None, None) => return Ok(()),
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(r), Some(e)) => {
                    (r.kind.as_str(), r.occurred_at_ms, r.id.as_str())
                        <= (e.kind.as_str(), Some(e.occurred_at_ms), e.id.as_str())
                }
            };
            if take_row {
                f(row.take().expect("chosen because present"))?;
                row = next_row(&mut rows)?;
            } else {
                let e = event.take().expect("chosen because present");
                let (raw, normalized) = pages.entry(&conn, e.page, e.entry)?;
                let record = StoredRecord {
                    normalized: parse_stored(normalized, &e.id)?,
                    raw: parse_stored(raw, &e.id)?,
                    kind: e.kind,
                    occurred_at_ms: Some(e.occurred_at_ms),
                    id: e.id,
                };
                f(record)?;
                event = EventRef::next(&mut events)?;
            }
        }
    }

    fn normalized_records(&self, integration: IntegrationId) -> Result<Vec<Normalized>> {
        let reader = self.reader()?;
        // One snapshot for rows and paged events (see `for_each_record`).
        let conn = reader.unchecked_transaction()?;
        let mut out = Vec::new();
        let mut keep = |text: &str, id: &dyn Fn() -> String| -> Result<()> {
            let normalized: Normalized = serde_json::from_str(text).map_err(|e| {
                StoreError::Corrupt(format!("stored normalized view of record `{}` is unreadable ({e}); the database may be corrupted", id()))
            })?;
            if normalized != Normalized::None {
                out.push(normalized);
            }
            Ok(())
        };
        // Not SELECT_ORDERED: the raw JSON (most of each row) is not needed.
        let mut stmt = conn.prepare(
            "SELECT id, normalized FROM records WHERE integration_id = ?1
             ORDER BY kind, occurred_at_ms, id",
        )?;
        let mut rows = stmt.query(params![integration])?;
        while let Some(row) = rows.next()? {
            let text = row.get_ref(1)?.as_str().map_err(|e| {
                StoreError::Corrupt(format!("a stored normalized view is not text ({e})"))
            })?;
            keep(text, &|| row.get(0).unwrap_or_default())?;
        }
        let mut stmt = conn.prepare(SELECT_EVENTS)?;
        let mut events = stmt.query(params![integration, None::<&str>, None::<&str>, 0, ""])?;
        let mut pages = PageReader::default();
        while let Some(e) = EventRef::next(&mut events)? {
            let (_, view) = pages.entry(&conn, e.page, e.entry)?;
            keep(view, &|| e.id.clone())?;
        }
        Ok(out)
    }

    fn record_counts(&self, integration: IntegrationId) -> Result<Vec<(String, u64)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT kind, SUM(n) FROM (
                     SELECT kind, COUNT(*) AS n FROM records WHERE integration_id = ?1 GROUP BY kind
                     UNION ALL
                     SELECT kind, COUNT(*) AS n FROM events WHERE integration_id = ?1 GROUP BY kind)
                 GROUP BY kind ORDER BY kind",
        )?;
        let rows = stmt.query_map([integration], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

impl Store {
    fn write_checkpoint_only(
        &self,
        integration: IntegrationId,
        source: &str,
        checkpoint: &str,
        fence: Option<&str>,
    ) -> Result<()> {
        validate_source(source)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        ensure_exists(&tx, integration)?;
        write_checkpoint(&tx, integration, source, checkpoint, self.now_ms(), fence)?;
        tx.commit()?;
        Ok(())
    }

    fn write_records(
        &self,
        integration: IntegrationId,
        source: &str,
        batch: &CheckedRecords,
        checkpoint: &str,
        fence: Option<&str>,
    ) -> Result<CommitResult> {
        let (records, normalized) = (batch.records(), batch.normalized());
        if batch.class() == RecordClass::Event {
            return self.write_events(integration, source, records, normalized, checkpoint, fence);
        }
        // Compressed before the write lock is taken: the writer connection
        // is shared by every integration, and compression is per-row CPU.
        let encoders =
            self.inner
                .dictionaries
                .for_batch(&self.conn(), integration, records, self.now_ms())?;
        let raws = encoders.compress(records)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let seq = next_write_seq(&tx, integration)?;
        let mut result = CommitResult {
            inserted: 0,
            updated: 0,
        };
        {
            // Most records are new: one INSERT each, and an UPDATE only for
            // state records already there (cheaper than an upsert with
            // RETURNING, which steps every row as a query). The conflict may
            // be on either unique index, so none is named.
            let mut insert = tx.prepare_cached(
                "INSERT INTO records (integration_id, kind, id, occurred_at_ms, normalized, raw, written_seq, raw_dict)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
            )?;
            // OR IGNORE: a state record cannot take the (kind, time, id) of
            // an event of the same kind written before schema 4.
            let mut update = tx.prepare_cached(
                "UPDATE OR IGNORE records SET occurred_at_ms = ?4, normalized = ?5, raw = ?6, written_seq = ?7,
                     raw_dict = ?8, revision = revision + 1
                 WHERE integration_id = ?1 AND kind = ?2 AND id = ?3 AND is_event = 0",
            )?;
            for ((r, normalized), raw) in records.iter().zip(normalized).zip(&raws) {
                let row = params![
                    integration,
                    r.kind,
                    r.id,
                    r.occurred_at_ms,
                    normalized,
                    raw,
                    seq,
                    raw.dict(),
                ];
                if insert.execute(row)? == 1 {
                    result.inserted += 1;
                } else if update.execute(row)? == 1 {
                    result.updated += 1;
                }
            }
        }
        write_checkpoint(&tx, integration, source, checkpoint, self.now_ms(), fence)?;
        tx.commit()?;
        drop(conn);
        self.wrote_bulk();
        Ok(result)
    }

    /// Events a page at a time (see `event_pages`); an event already stored,
    /// here or as a row written before schema 4, is left as it is.
    fn write_events(
        &self,
        integration: IntegrationId,
        source: &str,
        records: &[CollectedRecord],
        normalized: &[String],
        checkpoint: &str,
        fence: Option<&str>,
    ) -> Result<CommitResult> {
        // Compressed before the write lock is taken, like the rows' raw JSON.
        let pages = event_pages::encode(records, normalized)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        // Events carry no write sequence (they are never pruned).
        ensure_exists(&tx, integration)?;
        let legacy = LegacyEvents::overlapping(&tx, integration, records)?;
        let mut inserted = 0;
        for page in &pages {
            tx.prepare_cached("INSERT INTO event_pages (integration_id, body) VALUES (?1, ?2)")?
                .execute(params![integration, page.body])?;
            let page_id = tx.last_insert_rowid();
            let mut added = 0;
            let mut insert = tx.prepare_cached(
                "INSERT INTO events (integration_id, kind, occurred_at_ms, id, page, entry)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            )?;
            for (entry, r) in records[page.entries.clone()].iter().enumerate() {
                // Checked by `prepare`: every event has a time.
                let at = r.occurred_at_ms.unwrap_or_default();
                if legacy.holds(&tx, integration, r, at)? {
                    continue;
                }
                added += insert.execute(params![
                    integration,
                    r.kind,
                    at,
                    r.id,
                    page_id,
                    entry as i64
                ])? as u32;
            }
            if added == 0 {
                // Every event of the page was stored before.
                tx.execute("DELETE FROM event_pages WHERE id = ?1", [page_id])?;
            }
            inserted += added;
        }
        write_checkpoint(&tx, integration, source, checkpoint, self.now_ms(), fence)?;
        tx.commit()?;
        drop(conn);
        self.wrote_bulk();
        Ok(CommitResult {
            inserted,
            updated: 0,
        })
    }
}

/// Writes the checkpoint in the transaction `conn` is in, the last write of
/// every commit. With a `fence`, only while that holder holds the
/// integration's collection lease: otherwise `Conflict`, and the caller's
/// transaction (records included) is rolled back. SQLite serializes
/// writers, so no takeover can slip in between the check and the commit.
fn write_checkpoint(
    conn: &rusqlite::Connection,
    integration: IntegrationId,
    source: &str,
    checkpoint: &str,
    now_ms: i64,
    fence: Option<&str>,
) -> Result<()> {
    if let Some(holder) = fence {
        let owner: Option<String> = conn
            .prepare_cached("SELECT lease_owner FROM schedules WHERE integration_id = ?1")?
            .query_row([integration], |r| r.get(0))
            .optional()?
            .flatten();
        if owner.as_deref() != Some(holder) {
            return Err(StoreError::Conflict(format!(
                "this collection no longer holds the collection lease of integration {integration} (held by {} now): it stalled past the lease's expiry and another process took over; nothing more is written, and the holder carries on from the last checkpoint",
                owner.as_deref().unwrap_or("nobody")
            )));
        }
    }
    conn.prepare_cached(
        "INSERT INTO checkpoints (integration_id, source, checkpoint, updated_at_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (integration_id, source) DO UPDATE SET checkpoint = excluded.checkpoint, updated_at_ms = excluded.updated_at_ms",
    )?
    .execute(params![integration, source, checkpoint, now_ms])?;
    Ok(())
}

fn validate_source(source: &str) -> Result<()> {
    Ok(batch::check_source(source)?)
}

fn parse_stored(text: &str, id: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| {
        StoreError::Corrupt(format!(
            "stored JSON of record `{id}` is unreadable ({e}); the database may be corrupted"
        ))
    })
}
