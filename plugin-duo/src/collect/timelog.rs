//! Checkpointed collection of a millisecond-ordered Duo log (authentication
//! log v2, telephony log v2), as a state machine over "fetch a page" and
//! "commit records + checkpoint" so it is tested without Duo (duo-api.md §7.7).
//!
//! Window: `mintime` = the last committed millisecond (inclusive; Duo pages
//! by time), `maxtime = now − 2 min`, pages followed with `next_offset` inside
//! one window. Events of the last committed millisecond are remembered by id,
//! so re-reading that millisecond neither repeats nor drops any of them.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{SourceOutcome, Stop};
use crate::error::DuoError;
use crate::host_api::StorageError;
use crate::model::{CollectedRecord, PluginError};
use crate::normalize::LogPage;

/// Duo only serves events older than two minutes (its consistency buffer).
pub const LAG_MS: i64 = 2 * 60 * 1000;
pub const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogCheckpoint {
    /// The millisecond of the newest committed event.
    #[serde(default)]
    pub last_ms: Option<i64>,
    /// Ids of the committed events at `last_ms`.
    #[serde(default)]
    pub last_ids: Vec<String>,
    /// Every event up to this millisecond (inclusive) has been committed.
    #[serde(default)]
    pub done_through_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    pub mintime: i64,
    pub maxtime: i64,
    pub next_offset: Option<String>,
}

pub trait LogApi {
    /// Fetches the page `query` names and hands it to `on_page` (at most
    /// once, and only whole): its records borrow the answer's body, so they
    /// reach storage without a copy.
    fn fetch(
        &mut self,
        query: &LogQuery,
        on_page: &mut dyn FnMut(LogPage<'_>),
    ) -> Result<(), DuoError>;
}

pub trait Sink {
    fn commit(
        &mut self,
        records: Vec<CollectedRecord<'_>>,
        checkpoint: &str,
    ) -> Result<(), StorageError>;
}

/// What committing one page left for the loop to decide on.
struct Committed {
    records: u64,
    finished: bool,
    next_offset: Option<String>,
}

/// Drops the events of the last committed millisecond seen before, then
/// commits the rest with the checkpoint they lead to.
fn commit_page(
    page: LogPage<'_>,
    state: &mut LogCheckpoint,
    seen: &mut BTreeSet<String>,
    maxtime: i64,
    sink: &mut dyn Sink,
) -> Result<Committed, StorageError> {
    let mut fresh = Vec::with_capacity(page.records.len());
    for record in page.records {
        let ms = record.occurred_at_ms.unwrap_or(i64::MIN);
        let last = state.last_ms.unwrap_or(i64::MIN);
        if ms == last && seen.contains(&*record.id) {
            continue;
        }
        if ms > last {
            state.last_ms = Some(ms);
            seen.clear();
        }
        if ms >= last {
            seen.insert(record.id.to_string());
        }
        fresh.push(record);
    }
    let finished = page.next_offset.is_none();
    if finished {
        state.done_through_ms = Some(state.done_through_ms.map_or(maxtime, |d| d.max(maxtime)));
    }
    state.last_ids = seen.iter().cloned().collect();
    let checkpoint = serde_json::to_string(&state).expect("checkpoint serializes");
    let records = fresh.len() as u64;
    sink.commit(fresh, &checkpoint)?;
    Ok(Committed {
        records,
        finished,
        next_offset: page.next_offset,
    })
}

#[derive(Debug, Clone, Copy)]
pub struct LogRun {
    pub now_ms: i64,
    /// Where a first run starts, already clamped inside Duo's window.
    pub initial_lookback_days: u32,
    /// Oldest `mintime` Duo accepts, with margin (179 days).
    pub max_lookback_days: u32,
    pub max_pages: Option<u32>,
}

pub fn parse_checkpoint(text: Option<&str>) -> Result<Option<LogCheckpoint>, PluginError> {
    text.map(|t| {
        serde_json::from_str(t).map_err(|e| {
            PluginError::Internal(format!(
                "the stored checkpoint is not one this plugin wrote ({e}); clear the source's checkpoint to start over"
            ))
        })
    })
    .transpose()
}

pub fn run(
    api: &mut dyn LogApi,
    sink: &mut dyn Sink,
    checkpoint: Option<&str>,
    run: LogRun,
) -> SourceOutcome {
    let mut out = SourceOutcome::default();
    let cp = match parse_checkpoint(checkpoint) {
        Ok(cp) => cp,
        Err(e) => return out.stop(Stop::Failed(e)),
    };
    let maxtime = run.now_ms - LAG_MS;
    let floor = run.now_ms - i64::from(run.max_lookback_days) * DAY_MS;
    let start = match &cp {
        None => {
            run.now_ms - i64::from(run.initial_lookback_days.min(run.max_lookback_days)) * DAY_MS
        }
        Some(cp) => match (cp.last_ms, cp.done_through_ms) {
            (Some(last), Some(done)) => last.max(done + 1),
            (Some(last), None) => last,
            (None, Some(done)) => done + 1,
            (None, None) => run.now_ms - i64::from(run.initial_lookback_days) * DAY_MS,
        },
    };
    let mintime = start.max(floor);
    if start < floor {
        out.notes.push(format!(
            "the last collection is older than Duo keeps logs; events before {} ms were not available",
            floor
        ));
    }
    if mintime >= maxtime {
        return out.stop(Stop::CaughtUp);
    }
    let mut state = cp.unwrap_or_default();
    let mut seen: BTreeSet<String> = state.last_ids.iter().cloned().collect();
    let mut next_offset: Option<String> = None;
    loop {
        if run.max_pages.is_some_and(|max| out.pages >= max) {
            return out.stop(Stop::PageLimit);
        }
        let query = LogQuery {
            mintime,
            maxtime,
            next_offset: next_offset.clone(),
        };
        let mut committed = None;
        let fetched = api.fetch(&query, &mut |page| {
            committed = Some(commit_page(page, &mut state, &mut seen, maxtime, sink));
        });
        match fetched {
            Ok(()) => {}
            Err(DuoError::RateLimited) => return out.stop(Stop::RateLimited),
            Err(e) => return out.stop(Stop::Duo(e)),
        }
        out.pages += 1;
        let page = match committed {
            Some(Ok(page)) => page,
            Some(Err(e)) => return out.stop(Stop::Failed(super::storage_error(e))),
            None => {
                return out.stop(Stop::Failed(PluginError::Internal(
                    "a log page was fetched but never handed over".into(),
                )));
            }
        };
        out.records += page.records;
        if page.finished {
            return out.stop(Stop::CaughtUp);
        }
        if page.next_offset == next_offset {
            return out.stop(Stop::Failed(PluginError::Upstream(format!(
                "Duo returned the same next_offset twice ({}); stopping to avoid a loop",
                page.next_offset.unwrap_or_default()
            ))));
        }
        next_offset = page.next_offset;
    }
}

#[cfg(test)]
mod tests;
