use std::collections::{BTreeMap, VecDeque};

use super::*;
use crate::model::Normalized;
use crate::normalize::KIND_AUTH;

const NOW: i64 = 1_760_000_000_000;

/// A Duo auth log in memory: ordered by (ms, id), paged by `next_offset`
/// = "ms,id" of the last event served, like Duo.
struct FakeDuo {
    events: Vec<(i64, String)>,
    page_size: usize,
    /// Errors served instead of pages, by call number.
    faults: BTreeMap<usize, DuoError>,
    queries: Vec<LogQuery>,
}

impl FakeDuo {
    fn new(events: &[(i64, &str)], page_size: usize) -> FakeDuo {
        let mut events: Vec<(i64, String)> = events
            .iter()
            .map(|(ms, id)| (*ms, id.to_string()))
            .collect();
        events.sort();
        FakeDuo {
            events,
            page_size,
            faults: BTreeMap::new(),
            queries: Vec::new(),
        }
    }
    fn add(&mut self, ms: i64, id: &str) {
        self.events.push((ms, id.to_string()));
        self.events.sort();
    }
}

impl LogApi for FakeDuo {
    fn fetch(
        &mut self,
        q: &LogQuery,
        on_page: &mut dyn FnMut(LogPage<'_>),
    ) -> Result<(), DuoError> {
        self.queries.push(q.clone());
        if let Some(e) = self.faults.remove(&(self.queries.len() - 1)) {
            return Err(e);
        }
        assert!(q.mintime < q.maxtime, "Duo requires mintime < maxtime");
        assert!(
            q.mintime >= NOW - 180 * DAY_MS - 1_000_000,
            "mintime outside 180 days"
        );
        let after = q.next_offset.as_ref().map(|o| {
            let (ms, id) = o.split_once(',').unwrap();
            (ms.parse::<i64>().unwrap(), id.to_string())
        });
        let matching: Vec<&(i64, String)> = self
            .events
            .iter()
            .filter(|(ms, _)| *ms >= q.mintime && *ms <= q.maxtime)
            .filter(|e| after.as_ref().is_none_or(|a| (e.0, &e.1) > (a.0, &a.1)))
            .collect();
        let served: Vec<&(i64, String)> = matching.iter().take(self.page_size).copied().collect();
        let next_offset = (matching.len() > served.len()).then(|| {
            let (ms, id) = served.last().unwrap();
            format!("{ms},{id}")
        });
        let records = served
            .iter()
            .map(|(ms, id)| CollectedRecord {
                kind: KIND_AUTH.into(),
                id: id.clone().into(),
                occurred_at_ms: Some(*ms),
                normalized: Normalized::None,
                raw_json: format!(r#"{{"txid":"{id}"}}"#).into(),
            })
            .collect();
        on_page(LogPage {
            records,
            next_offset,
        });
        Ok(())
    }
}

#[derive(Default)]
struct FakeSink {
    committed: Vec<String>,
    checkpoint: Option<String>,
    commits: usize,
    fail_next: VecDeque<StorageError>,
}

impl Sink for FakeSink {
    fn commit(
        &mut self,
        records: Vec<CollectedRecord<'_>>,
        checkpoint: &str,
    ) -> Result<(), StorageError> {
        if let Some(e) = self.fail_next.pop_front() {
            return Err(e);
        }
        self.committed
            .extend(records.into_iter().map(|r| r.id.into_owned()));
        self.checkpoint = Some(checkpoint.to_string());
        self.commits += 1;
        Ok(())
    }
}

fn settings(now_ms: i64, max_pages: Option<u32>) -> LogRun {
    LogRun {
        now_ms,
        initial_lookback_days: 179,
        max_lookback_days: 179,
        max_pages,
    }
}

fn run_once(
    duo: &mut FakeDuo,
    sink: &mut FakeSink,
    now_ms: i64,
    max_pages: Option<u32>,
) -> SourceOutcome {
    let cp = sink.checkpoint.clone();
    run(duo, sink, cp.as_deref(), settings(now_ms, max_pages))
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn assert_no_duplicates(ids: &[String]) {
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "duplicates committed: {ids:?}");
}

#[test]
fn first_run_starts_179_days_back_and_stops_two_minutes_ago() {
    let mut duo = FakeDuo::new(&[], 1000);
    let mut sink = FakeSink::default();
    let out = run_once(&mut duo, &mut sink, NOW, None);
    assert!(matches!(out.stop, Stop::CaughtUp));
    assert_eq!(duo.queries[0].mintime, NOW - 179 * DAY_MS);
    assert_eq!(duo.queries[0].maxtime, NOW - LAG_MS);
    assert_eq!(duo.queries[0].next_offset, None);
}

#[test]
fn same_millisecond_across_page_boundaries_is_neither_dropped_nor_repeated() {
    let t = NOW - 3_600_000;
    let mut events = vec![(t - 5, "a0"), (t - 5, "a1")];
    for id in ["b0", "b1", "b2", "b3", "b4", "b5", "b6"] {
        events.push((t, id));
    }
    events.push((t + 1, "c0"));
    let mut duo = FakeDuo::new(&events, 3);
    let mut sink = FakeSink::default();
    let out = run_once(&mut duo, &mut sink, NOW, None);
    assert!(matches!(out.stop, Stop::CaughtUp));
    assert_eq!(out.records, 10);
    assert_no_duplicates(&sink.committed);
    assert_eq!(sink.committed.len(), 10);
    // paging followed next_offset inside one window
    assert_eq!(duo.queries.len(), 4);
    assert!(
        duo.queries
            .iter()
            .all(|q| q.mintime == duo.queries[0].mintime && q.maxtime == duo.queries[0].maxtime)
    );
}

#[test]
fn restart_resumes_exactly_where_the_last_committed_page_ended() {
    let t = NOW - 3_600_000;
    let events: Vec<(i64, String)> = (0..20).map(|i| (t + i / 4, format!("e{i:02}"))).collect();
    let refs: Vec<(i64, &str)> = events.iter().map(|(ms, id)| (*ms, id.as_str())).collect();
    let mut duo = FakeDuo::new(&refs, 3);
    let mut sink = FakeSink::default();
    // several runs of two pages each, like a run cut short again and again
    for _ in 0..20 {
        let out = run_once(&mut duo, &mut sink, NOW, Some(2));
        if matches!(out.stop, Stop::CaughtUp) {
            break;
        }
        assert!(matches!(out.stop, Stop::PageLimit));
    }
    assert_no_duplicates(&sink.committed);
    assert_eq!(
        sorted(sink.committed.clone()),
        sorted(events.iter().map(|e| e.1.clone()).collect())
    );
    // a restart resumes from the committed millisecond, never from scratch
    assert!(
        duo.queries.iter().skip(2).all(|q| q.mintime >= t),
        "{:?}",
        duo.queries
    );
}

#[test]
fn rate_limit_mid_run_stops_cleanly_with_the_checkpoint_intact() {
    let t = NOW - 3_600_000;
    let events: Vec<(i64, String)> = (0..9).map(|i| (t + i, format!("e{i}"))).collect();
    let refs: Vec<(i64, &str)> = events.iter().map(|(ms, id)| (*ms, id.as_str())).collect();
    let mut duo = FakeDuo::new(&refs, 3);
    duo.faults.insert(1, DuoError::RateLimited);
    let mut sink = FakeSink::default();
    let out = run_once(&mut duo, &mut sink, NOW, None);
    assert!(matches!(out.stop, Stop::RateLimited));
    assert_eq!(out.records, 3);
    let cp: LogCheckpoint = serde_json::from_str(sink.checkpoint.as_deref().unwrap()).unwrap();
    assert_eq!(cp.last_ms, Some(t + 2));
    assert_eq!(cp.last_ids, ["e2"]);
    assert_eq!(
        cp.done_through_ms, None,
        "an unfinished window must not be marked done"
    );
    let out = run_once(&mut duo, &mut sink, NOW, None);
    assert!(matches!(out.stop, Stop::CaughtUp));
    assert_no_duplicates(&sink.committed);
    assert_eq!(sink.committed.len(), 9);
}

#[test]
fn a_failed_fetch_or_commit_commits_nothing_of_that_page() {
    let t = NOW - 3_600_000;
    let mut duo = FakeDuo::new(&[(t, "a"), (t + 1, "b"), (t + 2, "c"), (t + 3, "d")], 2);
    duo.faults
        .insert(1, DuoError::Malformed("EOF while parsing".into()));
    let mut sink = FakeSink::default();
    let out = run_once(&mut duo, &mut sink, NOW, None);
    assert!(matches!(out.stop, Stop::Duo(DuoError::Malformed(_))));
    assert_eq!(sink.committed, ["a", "b"]);
    let before = sink.checkpoint.clone();
    sink.fail_next
        .push_back(StorageError::Unavailable("db down".into()));
    let out = run_once(&mut duo, &mut sink, NOW, None);
    assert!(matches!(out.stop, Stop::Failed(PluginError::Host(_))));
    assert_eq!(
        sink.checkpoint, before,
        "checkpoint moves only with its records"
    );
    let out = run_once(&mut duo, &mut sink, NOW, None);
    assert!(matches!(out.stop, Stop::CaughtUp));
    assert_eq!(sorted(sink.committed.clone()), ["a", "b", "c", "d"]);
}

#[test]
fn late_events_in_the_last_millisecond_are_picked_up_once() {
    let t = NOW - 3_600_000;
    let mut duo = FakeDuo::new(&[(t, "a"), (t, "b")], 1000);
    let mut sink = FakeSink::default();
    run_once(&mut duo, &mut sink, NOW, None);
    // an event at a later millisecond, then one more at the same millisecond
    duo.add(NOW - LAG_MS + 10, "c");
    duo.add(NOW - LAG_MS + 10, "d");
    run_once(&mut duo, &mut sink, NOW + 60_000, None);
    run_once(&mut duo, &mut sink, NOW + 120_000, None);
    assert_no_duplicates(&sink.committed);
    assert_eq!(sorted(sink.committed.clone()), ["a", "b", "c", "d"]);
}

#[test]
fn caught_up_runs_do_not_rescan_finished_windows() {
    let t = NOW - 3_600_000;
    let mut duo = FakeDuo::new(&[(t, "a")], 1000);
    let mut sink = FakeSink::default();
    run_once(&mut duo, &mut sink, NOW, None);
    run_once(&mut duo, &mut sink, NOW + 60_000, None);
    assert_eq!(duo.queries[1].mintime, NOW - LAG_MS + 1);
    assert_eq!(sink.committed, ["a"]);
}

#[test]
fn a_stale_checkpoint_is_clamped_inside_the_180_day_window() {
    let mut duo = FakeDuo::new(&[], 1000);
    let old = LogCheckpoint {
        last_ms: Some(NOW - 400 * DAY_MS),
        last_ids: vec!["x".into()],
        done_through_ms: None,
    };
    let mut sink = FakeSink {
        checkpoint: Some(serde_json::to_string(&old).unwrap()),
        ..FakeSink::default()
    };
    let out = run_once(&mut duo, &mut sink, NOW, None);
    assert_eq!(duo.queries[0].mintime, NOW - 179 * DAY_MS);
    assert_eq!(out.notes.len(), 1);
}

#[test]
fn a_foreign_checkpoint_is_a_typed_error() {
    let mut duo = FakeDuo::new(&[], 1000);
    let mut sink = FakeSink {
        checkpoint: Some("not json".into()),
        ..FakeSink::default()
    };
    let out = run_once(&mut duo, &mut sink, NOW, None);
    assert!(matches!(out.stop, Stop::Failed(PluginError::Internal(_))));
    assert!(duo.queries.is_empty());
}
