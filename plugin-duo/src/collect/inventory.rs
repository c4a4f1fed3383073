//! Offset-paged inventories (users, phones, endpoints). Each run walks the
//! whole list; the checkpoint holds the offset of the next page so a run cut
//! short resumes there instead of starting over. A pass takes a storage mark
//! when it begins; once complete, it removes what neither it nor the pass
//! before it saw: a user deleted in Duo is deleted here too, one pass later.
//! Not after one pass, because offset paging is not a snapshot: a user
//! deleted in Duo while a pass runs shifts every later user one place
//! forward, and the user at the next page boundary is skipped by that pass.
//! It is listed again by the next one, so a record missing from one pass
//! only is never removed. A pass that saw under half of what the last one
//! saw removes nothing (a short answer from Duo must not empty the
//! inventory); the next pass, if it agrees, does.

use serde::{Deserialize, Serialize};

use super::timelog::Sink;
use super::{SourceOutcome, Stop};
use crate::error::DuoError;
use crate::host_api::StorageError;
use crate::model::PluginError;
use crate::normalize::InventoryPage;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryCheckpoint {
    /// Offset of the next page of an unfinished pass.
    #[serde(default)]
    pub next_offset: Option<u64>,
    /// When the last complete pass ended.
    #[serde(default)]
    pub completed_at_ms: Option<i64>,
    /// The storage mark taken when the unfinished pass began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_mark: Option<u64>,
    /// Records the unfinished pass has seen so far.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pass_seen: u64,
    /// Records the last complete pass saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_pass_seen: Option<u64>,
    /// The storage mark taken when the last complete pass began: the next
    /// complete pass removes what was not written since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_pass_mark: Option<u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

pub trait InventoryApi {
    fn fetch(&mut self, offset: u64) -> Result<InventoryPage<'static>, DuoError>;
}

/// Where an inventory's pages go, and how a complete pass drops the rest.
pub trait InventorySink: Sink {
    /// A point in the write history (`storage.mark`).
    fn mark(&mut self) -> Result<u64, StorageError>;
    /// Deletes the inventory's records not written since `mark`; how many.
    fn prune(&mut self, mark: u64) -> Result<u64, StorageError>;
}

pub fn run(
    api: &mut dyn InventoryApi,
    sink: &mut dyn InventorySink,
    checkpoint: Option<&str>,
    now_ms: i64,
    max_pages: Option<u32>,
) -> SourceOutcome {
    let mut out = SourceOutcome::default();
    let mut state: InventoryCheckpoint = match checkpoint.map(serde_json::from_str).transpose() {
        Ok(cp) => cp.unwrap_or_default(),
        Err(e) => {
            return out.stop(Stop::Failed(PluginError::Internal(format!(
                "the stored inventory checkpoint is not one this plugin wrote ({e}); clear it to start over"
            ))));
        }
    };
    let mut offset = match state.next_offset {
        Some(offset) => offset,
        None => {
            match sink.mark() {
                Ok(mark) => state.pass_mark = Some(mark),
                Err(e) => return out.stop(Stop::Failed(super::storage_error(e))),
            }
            state.pass_seen = 0;
            0
        }
    };
    loop {
        if max_pages.is_some_and(|max| out.pages >= max) {
            return out.stop(Stop::PageLimit);
        }
        let page = match api.fetch(offset) {
            Ok(page) => page,
            Err(DuoError::RateLimited) => return out.stop(Stop::RateLimited),
            Err(e) => return out.stop(Stop::Duo(e)),
        };
        out.pages += 1;
        let next = page.next_offset;
        if next.is_some_and(|n| n <= offset) {
            return out.stop(Stop::Failed(PluginError::Upstream(format!(
                "Duo returned next_offset {} after offset {offset}; stopping to avoid a loop",
                next.unwrap_or_default()
            ))));
        }
        let count = page.records.len() as u64;
        state.next_offset = next;
        state.pass_seen += count;
        // (the previous complete pass's mark, seen, seen by the previous
        // pass) once this page ends the pass.
        let completed = next.is_none().then(|| {
            state.completed_at_ms = Some(now_ms);
            let seen = std::mem::take(&mut state.pass_seen);
            let previous_mark = match state.pass_mark.take() {
                Some(mark) => state.last_pass_mark.replace(mark),
                // Resumed from a checkpoint written before marks existed.
                None => None,
            };
            (previous_mark, seen, state.last_pass_seen.replace(seen))
        });
        let checkpoint = serde_json::to_string(&state).expect("checkpoint serializes");
        if let Err(e) = sink.commit(page.records, &checkpoint) {
            return out.stop(Stop::Failed(super::storage_error(e)));
        }
        out.records += count;
        match (next, completed) {
            (Some(n), _) => offset = n,
            (None, Some((mark, seen, previous))) => {
                return prune_after_pass(sink, mark, seen, previous, out);
            }
            (None, None) => unreachable!("a page without a next offset completes the pass"),
        }
    }
}

/// Ends a complete pass: removes what was not written since `mark`, the
/// start of the previous complete pass, unless this pass saw under half of
/// what that one saw. Without a previous mark (the first pass, or one
/// resumed from a checkpoint written before marks existed) nothing is
/// removed; the next pass does it.
fn prune_after_pass(
    sink: &mut dyn InventorySink,
    mark: Option<u64>,
    seen: u64,
    previous: Option<u64>,
    mut out: SourceOutcome,
) -> SourceOutcome {
    let Some(mark) = mark else {
        return out.stop(Stop::CaughtUp);
    };
    if let Some(previous) = previous.filter(|&p| seen * 2 < p) {
        out.notes.push(format!(
            "saw {seen} record(s), under half of the last complete pass ({previous}); removed nothing in case Duo answered short (the next pass removes them if it agrees)"
        ));
        return out.stop(Stop::CaughtUp);
    }
    match sink.prune(mark) {
        Ok(0) => {}
        Ok(n) => out.notes.push(format!(
            "removed {n} record(s) that Duo no longer lists (missing from two complete passes)"
        )),
        Err(e) => return out.stop(Stop::Failed(super::storage_error(e))),
    }
    out.stop(Stop::CaughtUp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_api::StorageError;
    use crate::model::{CollectedRecord, Normalized};

    struct FakeList {
        ids: Vec<String>,
        page: usize,
        offsets: Vec<u64>,
        fail_at: Option<(usize, DuoError)>,
        /// (n, id): `id` is deleted in Duo just before the n-th fetch.
        delete_before: Option<(usize, &'static str)>,
    }

    impl InventoryApi for FakeList {
        fn fetch(&mut self, offset: u64) -> Result<InventoryPage<'static>, DuoError> {
            if let Some((n, id)) = self.delete_before
                && n == self.offsets.len()
            {
                self.ids.retain(|i| i != id);
            }
            self.offsets.push(offset);
            if self
                .fail_at
                .as_ref()
                .is_some_and(|(n, _)| *n == self.offsets.len() - 1)
            {
                return Err(self.fail_at.take().unwrap().1);
            }
            let start = offset as usize;
            let end = (start + self.page).min(self.ids.len());
            Ok(InventoryPage {
                records: self.ids[start..end]
                    .iter()
                    .map(|id| CollectedRecord {
                        kind: "duo.user".into(),
                        id: id.clone().into(),
                        occurred_at_ms: None,
                        normalized: Normalized::None,
                        raw_json: "{}".into(),
                    })
                    .collect(),
                next_offset: (end < self.ids.len()).then_some(end as u64),
            })
        }
    }

    /// The store as the host keeps it: each id with the sequence number of
    /// the commit that last wrote it.
    #[derive(Default)]
    struct Sink1 {
        committed: Vec<String>,
        checkpoint: Option<String>,
        stored: std::collections::BTreeMap<String, u64>,
        seq: u64,
        prunes: Vec<u64>,
    }
    impl Sink for Sink1 {
        fn commit(
            &mut self,
            records: Vec<CollectedRecord<'_>>,
            checkpoint: &str,
        ) -> Result<(), StorageError> {
            self.seq += 1;
            for r in records {
                self.stored.insert(r.id.to_string(), self.seq);
                self.committed.push(r.id.into_owned());
            }
            self.checkpoint = Some(checkpoint.to_string());
            Ok(())
        }
    }
    impl InventorySink for Sink1 {
        fn mark(&mut self) -> Result<u64, StorageError> {
            Ok(self.seq)
        }
        fn prune(&mut self, mark: u64) -> Result<u64, StorageError> {
            self.prunes.push(mark);
            let before = self.stored.len();
            self.stored.retain(|_, seq| *seq > mark);
            Ok((before - self.stored.len()) as u64)
        }
    }

    fn list(n: usize, page: usize) -> FakeList {
        FakeList {
            ids: (0..n).map(|i| format!("DU{i}")).collect(),
            page,
            offsets: vec![],
            fail_at: None,
            delete_before: None,
        }
    }

    #[test]
    fn walks_all_pages_and_marks_the_pass_complete() {
        let (mut api, mut sink) = (list(7, 3), Sink1::default());
        let out = run(&mut api, &mut sink, None, 5, None);
        assert!(matches!(out.stop, Stop::CaughtUp));
        assert_eq!((out.pages, out.records), (3, 7));
        assert_eq!(api.offsets, [0, 3, 6]);
        let cp: InventoryCheckpoint =
            serde_json::from_str(sink.checkpoint.as_deref().unwrap()).unwrap();
        assert_eq!(
            cp,
            InventoryCheckpoint {
                next_offset: None,
                completed_at_ms: Some(5),
                pass_mark: None,
                pass_seen: 0,
                last_pass_seen: Some(7),
                last_pass_mark: Some(0),
            }
        );
        // the next run starts a fresh pass
        let cp = sink.checkpoint.clone();
        run(&mut api, &mut sink, cp.as_deref(), 6, None);
        assert_eq!(api.offsets[3], 0);
    }

    const REMOVED_ONE: &str =
        "removed 1 record(s) that Duo no longer lists (missing from two complete passes)";

    #[test]
    fn what_two_complete_passes_did_not_list_is_removed() {
        let (mut api, mut sink) = (list(7, 3), Sink1::default());
        run(&mut api, &mut sink, None, 5, None);
        assert_eq!(sink.stored.len(), 7);
        api.ids.retain(|id| id != "DU3");
        let cp = sink.checkpoint.clone();
        let out = run(&mut api, &mut sink, cp.as_deref(), 6, None);
        assert!(matches!(out.stop, Stop::CaughtUp));
        assert!(sink.stored.contains_key("DU3"), "one pass is not enough");
        assert!(out.notes.is_empty(), "{:?}", out.notes);
        let cp = sink.checkpoint.clone();
        let out = run(&mut api, &mut sink, cp.as_deref(), 7, None);
        assert!(matches!(out.stop, Stop::CaughtUp));
        assert!(!sink.stored.contains_key("DU3"));
        assert_eq!(sink.stored.len(), 6);
        assert_eq!(out.notes, [REMOVED_ONE]);
    }

    #[test]
    fn a_user_skipped_because_another_was_deleted_mid_pass_is_kept() {
        let (mut api, mut sink) = (list(7, 3), Sink1::default());
        run(&mut api, &mut sink, None, 5, None);
        // Second pass: DU1 is deleted after the first page (DU0-DU2) was
        // read, so offset 3 now starts at DU4 and this pass never lists DU3.
        api.delete_before = Some((4, "DU1"));
        let cp = sink.checkpoint.clone();
        run(&mut api, &mut sink, cp.as_deref(), 6, None);
        assert_eq!(api.offsets[3..], [0, 3]);
        assert!(sink.stored.contains_key("DU3"), "a live user was removed");
        // The third pass lists DU3 again; DU1, listed by the second pass
        // before it was deleted, goes with the fourth.
        let cp = sink.checkpoint.clone();
        let out = run(&mut api, &mut sink, cp.as_deref(), 7, None);
        assert!(sink.stored.contains_key("DU3") && sink.stored.contains_key("DU1"));
        assert!(out.notes.is_empty(), "{:?}", out.notes);
        let cp = sink.checkpoint.clone();
        let out = run(&mut api, &mut sink, cp.as_deref(), 8, None);
        assert!(sink.stored.contains_key("DU3") && !sink.stored.contains_key("DU1"));
        assert_eq!(sink.stored.len(), 6);
        assert_eq!(out.notes, [REMOVED_ONE]);
    }

    #[test]
    fn a_checkpoint_from_before_pass_marks_removes_nothing_until_a_pass_has_one() {
        let (mut api, mut sink) = (list(7, 3), Sink1::default());
        run(&mut api, &mut sink, None, 5, None);
        api.ids.retain(|id| id != "DU3");
        // What the previous plugin version left after a complete pass.
        let old = r#"{"next_offset":null,"completed_at_ms":5,"last_pass_seen":7}"#;
        run(&mut api, &mut sink, Some(old), 6, None);
        assert!(sink.prunes.is_empty());
        let cp = sink.checkpoint.clone();
        let out = run(&mut api, &mut sink, cp.as_deref(), 7, None);
        assert!(!sink.stored.contains_key("DU3"));
        assert_eq!(out.notes, [REMOVED_ONE]);
    }

    #[test]
    fn a_pass_that_sees_under_half_of_the_last_one_removes_nothing_until_the_next_agrees() {
        let (mut api, mut sink) = (list(7, 3), Sink1::default());
        run(&mut api, &mut sink, None, 5, None);
        api.ids.truncate(3);
        let cp = sink.checkpoint.clone();
        let out = run(&mut api, &mut sink, cp.as_deref(), 6, None);
        assert!(matches!(out.stop, Stop::CaughtUp));
        assert_eq!(sink.stored.len(), 7, "nothing removed on one short answer");
        assert_eq!(
            out.notes,
            [
                "saw 3 record(s), under half of the last complete pass (7); removed nothing in case Duo answered short (the next pass removes them if it agrees)"
            ]
        );
        let cp = sink.checkpoint.clone();
        let out = run(&mut api, &mut sink, cp.as_deref(), 7, None);
        assert_eq!(sink.stored.len(), 3);
        assert_eq!(
            out.notes,
            ["removed 4 record(s) that Duo no longer lists (missing from two complete passes)"]
        );
    }

    #[test]
    fn a_pass_cut_short_keeps_the_mark_of_its_start() {
        let (mut api, mut sink) = (list(7, 3), Sink1::default());
        run(&mut api, &mut sink, None, 5, None);
        assert!(
            sink.prunes.is_empty(),
            "the first pass has nothing to compare"
        );
        let second_pass_mark = sink.seq;
        api.ids.retain(|id| id != "DU0");
        api.fail_at = Some((4, DuoError::RateLimited));
        let cp = sink.checkpoint.clone();
        let out = run(&mut api, &mut sink, cp.as_deref(), 6, None);
        assert!(matches!(out.stop, Stop::RateLimited));
        assert!(sink.prunes.is_empty() && sink.stored.contains_key("DU0"));
        let cp = sink.checkpoint.clone();
        let out = run(&mut api, &mut sink, cp.as_deref(), 7, None);
        assert!(matches!(out.stop, Stop::CaughtUp));
        assert_eq!(sink.prunes, [0]);
        let cp = sink.checkpoint.clone();
        run(&mut api, &mut sink, cp.as_deref(), 8, None);
        // The mark of the second pass's start, not of its resumed run's:
        // the page written before the rate limit counts as seen by it.
        assert_eq!(sink.prunes, [0, second_pass_mark]);
        assert_eq!(sink.stored.len(), 6);
        assert!(!sink.stored.contains_key("DU0"));
    }

    #[test]
    fn a_cut_short_pass_resumes_at_its_offset() {
        let (mut api, mut sink) = (list(7, 3), Sink1::default());
        api.fail_at = Some((1, DuoError::RateLimited));
        let out = run(&mut api, &mut sink, None, 5, None);
        assert!(matches!(out.stop, Stop::RateLimited));
        let cp = sink.checkpoint.clone();
        let out = run(&mut api, &mut sink, cp.as_deref(), 6, None);
        assert!(matches!(out.stop, Stop::CaughtUp));
        assert_eq!(api.offsets, [0, 3, 3, 6]);
        assert_eq!(sink.committed.len(), 7);
    }
}
