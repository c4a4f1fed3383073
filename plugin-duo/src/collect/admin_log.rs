//! Administrator log v1: `mintime` in seconds, at most 1000 events a call and
//! no cursor, so paging re-asks from the newest second seen (inclusive) and
//! drops the events of that second already committed (duo-api.md §4.4).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::timelog::{DAY_MS, Sink};
use super::{SourceOutcome, Stop};
use crate::error::DuoError;
use crate::model::{CollectedRecord, PluginError};

pub const PAGE_LIMIT: usize = 1000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminLogCheckpoint {
    /// Next `mintime` (seconds, inclusive).
    pub mintime_s: i64,
    /// Ids of the committed events in second `mintime_s`.
    #[serde(default)]
    pub last_ids: Vec<String>,
}

pub trait AdminLogApi {
    fn fetch(&mut self, mintime_s: i64) -> Result<Vec<CollectedRecord<'static>>, DuoError>;
}

pub fn run(
    api: &mut dyn AdminLogApi,
    sink: &mut dyn Sink,
    checkpoint: Option<&str>,
    now_ms: i64,
    lookback_days: u32,
    max_pages: Option<u32>,
) -> SourceOutcome {
    let mut out = SourceOutcome::default();
    let floor_s = (now_ms - i64::from(lookback_days) * DAY_MS) / 1000;
    let mut state: AdminLogCheckpoint = match checkpoint.map(serde_json::from_str).transpose() {
        Ok(Some(cp)) => cp,
        Ok(None) => AdminLogCheckpoint {
            mintime_s: floor_s,
            last_ids: Vec::new(),
        },
        Err(e) => {
            return out.stop(Stop::Failed(PluginError::Internal(format!(
                "the stored administrator log checkpoint is not one this plugin wrote ({e}); clear it to start over"
            ))));
        }
    };
    if state.mintime_s < floor_s {
        state = AdminLogCheckpoint {
            mintime_s: floor_s,
            last_ids: Vec::new(),
        };
    }
    loop {
        if max_pages.is_some_and(|max| out.pages >= max) {
            return out.stop(Stop::PageLimit);
        }
        let events = match api.fetch(state.mintime_s) {
            Ok(events) => events,
            Err(DuoError::RateLimited) => return out.stop(Stop::RateLimited),
            Err(e) => return out.stop(Stop::Duo(e)),
        };
        out.pages += 1;
        let full = events.len() >= PAGE_LIMIT;
        let start_s = state.mintime_s;
        let mut seen: BTreeSet<String> = std::mem::take(&mut state.last_ids).into_iter().collect();
        let mut newest_s = start_s;
        let mut fresh = Vec::with_capacity(events.len());
        for ev in events {
            let s = ev.occurred_at_ms.unwrap_or(0).div_euclid(1000);
            if s == start_s && seen.contains(&*ev.id) {
                continue;
            }
            if s > newest_s {
                newest_s = s;
                seen.clear();
            }
            if s == newest_s {
                seen.insert(ev.id.to_string());
            }
            fresh.push(ev);
        }
        if full && newest_s == start_s {
            // A whole page inside one second cannot be paged further with a
            // seconds cursor; move on rather than loop forever.
            out.notes.push(format!(
                "more than {PAGE_LIMIT} administrator log events in second {start_s}; Duo cannot page inside one second, some may be missing"
            ));
            state = AdminLogCheckpoint {
                mintime_s: start_s + 1,
                last_ids: Vec::new(),
            };
        } else {
            state = AdminLogCheckpoint {
                mintime_s: newest_s,
                last_ids: seen.into_iter().collect(),
            };
        }
        let count = fresh.len() as u64;
        let checkpoint = serde_json::to_string(&state).expect("checkpoint serializes");
        if let Err(e) = sink.commit(fresh, &checkpoint) {
            return out.stop(Stop::Failed(super::storage_error(e)));
        }
        out.records += count;
        if !full {
            return out.stop(Stop::CaughtUp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_api::StorageError;
    use crate::model::Normalized;

    struct FakeAdminLog(Vec<(i64, String)>, Vec<i64>);

    impl AdminLogApi for FakeAdminLog {
        fn fetch(&mut self, mintime_s: i64) -> Result<Vec<CollectedRecord<'static>>, DuoError> {
            self.1.push(mintime_s);
            Ok(self
                .0
                .iter()
                .filter(|(s, _)| *s >= mintime_s)
                .take(PAGE_LIMIT)
                .map(|(s, id)| CollectedRecord {
                    kind: "duo.administrator_log".into(),
                    id: id.clone().into(),
                    occurred_at_ms: Some(s * 1000),
                    normalized: Normalized::None,
                    raw_json: "{}".into(),
                })
                .collect())
        }
    }

    #[derive(Default)]
    struct Ids(Vec<String>, Option<String>);
    impl Sink for Ids {
        fn commit(
            &mut self,
            records: Vec<CollectedRecord<'_>>,
            checkpoint: &str,
        ) -> Result<(), StorageError> {
            self.0
                .extend(records.into_iter().map(|r| r.id.into_owned()));
            self.1 = Some(checkpoint.into());
            Ok(())
        }
    }

    #[test]
    fn pages_by_seconds_without_repeats() {
        let now = 1_760_000_000_000;
        let base = now / 1000 - 3600;
        // 1500 events, 3 per second: the second page starts inside a second
        let events: Vec<(i64, String)> = (0..1500)
            .map(|i| (base + i / 3, format!("ev{i}")))
            .collect();
        let mut api = FakeAdminLog(events, vec![]);
        let mut sink = Ids::default();
        let out = run(&mut api, &mut sink, None, now, 179, None);
        assert!(matches!(out.stop, Stop::CaughtUp));
        assert_eq!(sink.0.len(), 1500);
        let unique: BTreeSet<&String> = sink.0.iter().collect();
        assert_eq!(unique.len(), 1500);
        // the next run asks from the newest second and commits nothing new
        let before = sink.0.len();
        let cp = sink.1.clone();
        run(&mut api, &mut sink, cp.as_deref(), now, 179, None);
        assert_eq!(sink.0.len(), before);
        assert_eq!(*api.1.last().unwrap(), base + 499);
    }
}
