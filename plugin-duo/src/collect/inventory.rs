//! Offset-paged inventories (users, phones, endpoints). Each run walks the
//! whole list; the checkpoint holds the offset of the next page so a run cut
//! short resumes there instead of starting over. A pass takes a storage mark
//! when it begins and, once complete, prunes what it did not see again: a
//! user deleted in Duo is deleted here too. A pass that saw under half of
//! what the last one saw prunes nothing (a short answer from Duo must not
//! empty the inventory); the next pass, if it agrees, does.

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
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

pub trait InventoryApi {
    fn fetch(&mut self, offset: u64) -> Result<InventoryPage, DuoError>;
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
        // (mark, seen, seen by the previous pass) once this page ends the pass.
        let completed = next.is_none().then(|| {
            state.completed_at_ms = Some(now_ms);
            let seen = std::mem::take(&mut state.pass_seen);
            (
                state.pass_mark.take(),
                seen,
                state.last_pass_seen.replace(seen),
            )
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

/// Ends a complete pass: prunes what it did not see again, unless it saw
/// under half of what the previous pass saw. A pass resumed from a
/// checkpoint written before marks existed has none; the next pass prunes.
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
        Ok(n) => out
            .notes
            .push(format!("removed {n} record(s) that Duo no longer lists")),
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
    }

    impl InventoryApi for FakeList {
        fn fetch(&mut self, offset: u64) -> Result<InventoryPage, DuoError> {
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
                        kind: "duo.user",
                        id: id.clone(),
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
            records: Vec<CollectedRecord>,
            checkpoint: &str,
        ) -> Result<(), StorageError> {
            self.seq += 1;
            for r in records {
                self.stored.insert(r.id.clone(), self.seq);
                self.committed.push(r.id);
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
            }
        );
        // the next run starts a fresh pass
        let cp = sink.checkpoint.clone();
        run(&mut api, &mut sink, cp.as_deref(), 6, None);
        assert_eq!(api.offsets[3], 0);
    }

    #[test]
    fn a_complete_pass_removes_what_duo_no_longer_lists() {
        let (mut api, mut sink) = (list(7, 3), Sink1::default());
        run(&mut api, &mut sink, None, 5, None);
        assert_eq!(sink.stored.len(), 7);
        api.ids.retain(|id| id != "DU3");
        let cp = sink.checkpoint.clone();
        let out = run(&mut api, &mut sink, cp.as_deref(), 6, None);
        assert!(matches!(out.stop, Stop::CaughtUp));
        assert!(!sink.stored.contains_key("DU3"));
        assert_eq!(sink.stored.len(), 6);
        assert_eq!(out.notes, ["removed 1 record(s) that Duo no longer lists"]);
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
        assert_eq!(out.notes, ["removed 4 record(s) that Duo no longer lists"]);
    }

    #[test]
    fn a_pass_cut_short_prunes_nothing_until_it_completes_with_its_first_mark() {
        let (mut api, mut sink) = (list(7, 3), Sink1::default());
        run(&mut api, &mut sink, None, 5, None);
        assert_eq!(sink.prunes, [0]);
        let first_pass_seq = sink.seq;
        api.ids.retain(|id| id != "DU0");
        api.fail_at = Some((4, DuoError::RateLimited));
        let cp = sink.checkpoint.clone();
        let out = run(&mut api, &mut sink, cp.as_deref(), 6, None);
        assert!(matches!(out.stop, Stop::RateLimited));
        assert!(sink.prunes.len() == 1 && sink.stored.contains_key("DU0"));
        let cp = sink.checkpoint.clone();
        let out = run(&mut api, &mut sink, cp.as_deref(), 7, None);
        assert!(matches!(out.stop, Stop::CaughtUp));
        // The mark of the pass's start, not of the resumed run's: the page
        // written before the rate limit counts as seen.
        assert_eq!(sink.prunes, [0, first_pass_seq]);
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
