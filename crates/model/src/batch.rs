//! A batch of records checked against the contract's limits before it is
//! written: what the sandbox hands every storage backend. Checking is most of
//! a commit's CPU work and needs no database, so it happens once, here, apart
//! from the write (and off the backend's lock).

use serde::Serialize;
use serde::de::IgnoredAny;

use crate::{CollectedRecord, Normalized};

/// Upper bounds on what a plugin may use as a key; the bytes come from the
/// sandbox and the keys end up in indexes and in every export line. Plugin
/// installation checks record kinds against the same limits, so a plugin
/// learns of a bad kind when it is installed.
pub const MAX_KIND_LEN: usize = 64;
pub const MAX_ID_LEN: usize = 512;
pub const MAX_SOURCE_LEN: usize = 128;
/// Raw JSON plus serialized normalized view of one event. A backend must
/// hold any event up to this size (SQLite's event pages are 8 MiB).
pub const MAX_EVENT_BYTES: usize = (8 << 20) - 64;

/// How a store recognizes a record it already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordClass {
    /// By (kind, id); collecting it again updates it (users, phones).
    State,
    /// By (kind, time, id): an immutable event with a time; a copy collected
    /// again is left as it is (counted neither inserted nor updated). A kind
    /// should be written one way only: a state record and an event of one
    /// kind and id are two records.
    Event,
}

/// What a commit did (the WIT's `commit-result`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CommitResult {
    pub inserted: u32,
    pub updated: u32,
}

/// A record a batch was refused for, named by its position; nothing of the
/// batch is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidRecord(pub String);

/// Records that passed the checks (kind, id, time, raw JSON, size), with
/// their normalized views serialized. Only what is written is kept: each
/// record's kind, id, time and raw JSON (its normalized fields are in the
/// serialized view).
pub struct CheckedRecords {
    class: RecordClass,
    records: Vec<CollectedRecord>,
    normalized: Vec<String>,
}

impl CheckedRecords {
    /// Checks every record (on several cores for large batches); the first
    /// bad one is named by its position. The records may still borrow their
    /// text from where they were read (a plugin's memory): what is kept is
    /// copied out, once.
    pub fn check<S>(
        class: RecordClass,
        records: &[CollectedRecord<S>],
    ) -> Result<CheckedRecords, InvalidRecord>
    where
        S: AsRef<str> + Serialize + Sync,
    {
        let normalized = prepare_all(class, records)?;
        let records = records
            .iter()
            .map(|r| CollectedRecord {
                kind: r.kind.as_ref().to_owned(),
                id: r.id.as_ref().to_owned(),
                occurred_at_ms: r.occurred_at_ms,
                normalized: Normalized::None,
                raw_json: r.raw_json.as_ref().to_owned(),
            })
            .collect();
        Ok(CheckedRecords {
            class,
            records,
            normalized,
        })
    }

    pub fn class(&self) -> RecordClass {
        self.class
    }

    /// The records, with `normalized` left as `None`: see [`Self::normalized`].
    pub fn records(&self) -> &[CollectedRecord] {
        &self.records
    }

    /// Each record's normalized view as JSON (`{"type":"auth_event",...}`).
    pub fn normalized(&self) -> &[String] {
        &self.normalized
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// Checks a checkpoint's source name.
pub fn check_source(source: &str) -> Result<(), InvalidRecord> {
    if source.is_empty() || source.len() > MAX_SOURCE_LEN {
        return Err(InvalidRecord(format!(
            "checkpoint source must be 1 to {MAX_SOURCE_LEN} bytes long (got {})",
            source.len()
        )));
    }
    Ok(())
}

/// Below this many records one thread prepares the batch; above it the
/// work is split over the cores (the caller is waiting for the commit, so
/// the other cores are otherwise idle).
const PARALLEL_PREPARE_MIN: usize = 256;
const PREPARE_THREADS_MAX: usize = 4;

fn prepare_all<S>(
    class: RecordClass,
    records: &[CollectedRecord<S>],
) -> Result<Vec<String>, InvalidRecord>
where
    S: AsRef<str> + Serialize + Sync,
{
    // 1 where threads cannot be had (wasm32-wasip2).
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(PREPARE_THREADS_MAX);
    if records.len() < PARALLEL_PREPARE_MIN || threads < 2 {
        return prepare_chunk(class, 0, records);
    }
    let chunk = records.len().div_ceil(threads);
    let (first, rest) = records.split_at(chunk);
    let parts = std::thread::scope(|scope| {
        let helpers: Vec<_> = rest
            .chunks(chunk)
            .enumerate()
            .map(|(n, part)| {
                let first_index = (n + 1) * chunk;
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || prepare_chunk(class, first_index, part))
                    .map_err(|_| (first_index, part))
            })
            .collect();
        // The calling thread takes the first chunk instead of waiting idle,
        // and any chunk the OS would not give a thread.
        let mut parts = vec![prepare_chunk(class, 0, first)];
        parts.extend(helpers.into_iter().map(|helper| {
            match helper {
                Ok(h) => h
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err((first_index, part)) => prepare_chunk(class, first_index, part),
            }
        }));
        parts
    });
    let mut prepared = Vec::with_capacity(records.len());
    for part in parts {
        prepared.extend(part?);
    }
    Ok(prepared)
}

fn prepare_chunk<S: AsRef<str> + Serialize>(
    class: RecordClass,
    first_index: usize,
    records: &[CollectedRecord<S>],
) -> Result<Vec<String>, InvalidRecord> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| prepare(class, first_index + i, r))
        .collect()
}

/// The normalized view of one record as JSON, after checking it.
fn prepare<S: AsRef<str> + Serialize>(
    class: RecordClass,
    index: usize,
    record: &CollectedRecord<S>,
) -> Result<String, InvalidRecord> {
    let (kind, id, raw_json) = (
        record.kind.as_ref(),
        record.id.as_ref(),
        record.raw_json.as_ref(),
    );
    let invalid = |what: String| {
        InvalidRecord(format!(
            "record #{index} (kind `{}`): {what}; nothing was committed",
            printable(kind)
        ))
    };
    if kind.is_empty() || kind.len() > MAX_KIND_LEN {
        return Err(invalid(format!(
            "kind must be 1 to {MAX_KIND_LEN} bytes long"
        )));
    }
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(invalid(format!(
            "id must be 1 to {MAX_ID_LEN} bytes long (got {})",
            id.len()
        )));
    }
    if class == RecordClass::Event && record.occurred_at_ms.is_none() {
        return Err(invalid(format!(
            "event `{}` has no time; events are keyed by (kind, time, id)",
            printable(id)
        )));
    }
    // IgnoredAny checks the syntax without building a tree.
    if let Err(e) = serde_json::from_str::<IgnoredAny>(raw_json) {
        return Err(invalid(format!(
            "raw JSON of record `{}` is invalid ({e})",
            printable(id)
        )));
    }
    let view = serde_json::to_string(&record.normalized)
        .map_err(|e| invalid(format!("normalized view cannot be serialized ({e})")))?;
    if class == RecordClass::Event && raw_json.len() + view.len() > MAX_EVENT_BYTES {
        return Err(invalid(format!(
            "event `{}` takes {} bytes with its normalized view; events are limited to {MAX_EVENT_BYTES} bytes",
            printable(id),
            raw_json.len() + view.len(),
        )));
    }
    Ok(view)
}

/// Plugin-chosen text made safe for error messages: shortened, and without
/// control characters that could drive the operator's terminal.
fn printable(text: &str) -> String {
    const MAX: usize = 64;
    let mut out: String = text
        .chars()
        .take(MAX)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect();
    if text.chars().nth(MAX).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: &str, id: &str, at: Option<i64>, raw: &str) -> CollectedRecord {
        CollectedRecord {
            kind: kind.into(),
            id: id.into(),
            occurred_at_ms: at,
            normalized: Normalized::None,
            raw_json: raw.into(),
        }
    }

    #[test]
    fn a_bad_record_is_named_by_its_position_and_why() {
        for (bad, says) in [
            (record("k", "", Some(1), "{}"), "id must be"),
            (record("k", "1", Some(1), "{not json"), "raw JSON"),
            (
                record(&"k".repeat(MAX_KIND_LEN + 1), "1", Some(1), "{}"),
                "kind must be",
            ),
            (record("k", "1", None, "{}"), "has no time"),
        ] {
            let batch = [record("k", "0", Some(1), "{}"), bad];
            let e = CheckedRecords::check(RecordClass::Event, &batch)
                .err()
                .expect(says);
            assert!(e.0.starts_with("record #1 "), "{e}");
            assert!(e.0.contains(says), "{e}");
        }
    }

    #[test]
    fn a_large_batch_checked_on_several_threads_keeps_its_order_and_first_error() {
        let mut batch: Vec<_> = (0..2_000)
            .map(|i| record("k", &i.to_string(), Some(i), "{}"))
            .collect();
        let checked = CheckedRecords::check(RecordClass::Event, &batch).unwrap();
        assert_eq!(checked.len(), 2_000);
        assert_eq!(checked.records()[1_999].id, "1999");
        assert_eq!(checked.normalized()[0], r#"{"type":"none"}"#);
        batch[1_500].raw_json = "nope".into();
        batch[1_700].raw_json = "nope".into();
        let e = CheckedRecords::check(RecordClass::Event, &batch)
            .err()
            .unwrap();
        assert!(e.0.starts_with("record #1500 "), "{e}");
    }

    #[test]
    fn an_event_too_large_for_a_page_is_refused_when_checked() {
        let huge = record(
            "k",
            "big",
            Some(1),
            &format!(r#"{{"pad":"{}"}}"#, "x".repeat(8 << 20)),
        );
        let e = CheckedRecords::check(RecordClass::Event, &[huge])
            .err()
            .expect("refused");
        assert!(
            e.0.contains("record #0") && e.0.contains("events are limited"),
            "{e}"
        );
    }

    #[test]
    fn control_characters_from_a_plugin_never_reach_a_message() {
        let e = CheckedRecords::check(RecordClass::State, &[record("\x1b[2J", "", None, "{}")])
            .err()
            .unwrap();
        assert!(!e.0.contains('\x1b'), "{e}");
    }
}
