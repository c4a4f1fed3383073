//! Offset-paged inventories (users, phones, endpoints). Each run walks the
//! whole list; the checkpoint holds the offset of the next page so a run cut
//! short resumes there instead of starting over.

use serde::{Deserialize, Serialize};

use super::timelog::Sink;
use super::{SourceOutcome, Stop};
use crate::error::DuoError;
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
}

pub trait InventoryApi {
    fn fetch(&mut self, offset: u64) -> Result<InventoryPage, DuoError>;
}

pub fn run(
    api: &mut dyn InventoryApi,
    sink: &mut dyn Sink,
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
    let mut offset = state.next_offset.unwrap_or(0);
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
        state.next_offset = next;
        if next.is_none() {
            state.completed_at_ms = Some(now_ms);
        }
        let count = page.records.len() as u64;
        let checkpoint = serde_json::to_string(&state).expect("checkpoint serializes");
        if let Err(e) = sink.commit(page.records, &checkpoint) {
            return out.stop(Stop::Failed(super::storage_error(e)));
        }
        out.records += count;
        match next {
            Some(n) => offset = n,
            None => return out.stop(Stop::CaughtUp),
        }
    }
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

    #[derive(Default)]
    struct Sink1(Vec<String>, Option<String>);
    impl Sink for Sink1 {
        fn commit(
            &mut self,
            records: Vec<CollectedRecord>,
            checkpoint: &str,
        ) -> Result<(), StorageError> {
            self.0.extend(records.into_iter().map(|r| r.id));
            self.1 = Some(checkpoint.to_string());
            Ok(())
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
        let cp: InventoryCheckpoint = serde_json::from_str(sink.1.as_deref().unwrap()).unwrap();
        assert_eq!(
            cp,
            InventoryCheckpoint {
                next_offset: None,
                completed_at_ms: Some(5)
            }
        );
        // the next run starts a fresh pass
        let cp = sink.1.clone();
        run(&mut api, &mut sink, cp.as_deref(), 6, None);
        assert_eq!(api.offsets[3], 0);
    }

    #[test]
    fn a_cut_short_pass_resumes_at_its_offset() {
        let (mut api, mut sink) = (list(7, 3), Sink1::default());
        api.fail_at = Some((1, DuoError::RateLimited));
        let out = run(&mut api, &mut sink, None, 5, None);
        assert!(matches!(out.stop, Stop::RateLimited));
        let cp = sink.1.clone();
        let out = run(&mut api, &mut sink, cp.as_deref(), 6, None);
        assert!(matches!(out.stop, Stop::CaughtUp));
        assert_eq!(api.offsets, [0, 3, 3, 6]);
        assert_eq!(sink.0.len(), 7);
    }
}
