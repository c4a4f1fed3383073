//! The state machines' traits implemented with real Duo calls and the host's
//! storage.

use std::cell::RefCell;

use super::admin_log::AdminLogApi;
use super::inventory::{InventoryApi, InventorySink};
use super::timelog::{LogApi, LogQuery, Sink};
use super::{SourceOutcome, Stop};
use crate::client::{DuoClient, StartedCall};
use crate::error::DuoError;
use crate::host_api::{Storage, StorageError};
use crate::model::CollectedRecord;
use crate::normalize::{self, Inventory, InventoryPage, LogPage};

pub struct StorageSink<'a> {
    pub storage: &'a dyn Storage,
    pub source: &'a str,
    /// The source is a log of immutable events (each with a time), which
    /// the host keys by time; inventories are state, updated in place.
    pub events: bool,
}

impl Sink for StorageSink<'_> {
    fn commit(
        &mut self,
        records: Vec<CollectedRecord<'_>>,
        checkpoint: &str,
    ) -> Result<(), StorageError> {
        // Staged: the host writes this page while the next one is fetched.
        if self.events {
            self.storage.stage_events(self.source, records, checkpoint)
        } else {
            self.storage.stage(self.source, records, checkpoint)
        }
    }
}

/// An inventory's pages, pruned of what a complete pass no longer saw.
pub struct InventoryStorage<'a> {
    pub sink: StorageSink<'a>,
    pub kind: &'static str,
}

impl Sink for InventoryStorage<'_> {
    fn commit(
        &mut self,
        records: Vec<CollectedRecord<'_>>,
        checkpoint: &str,
    ) -> Result<(), StorageError> {
        self.sink.commit(records, checkpoint)
    }
}

impl InventorySink for InventoryStorage<'_> {
    fn mark(&mut self) -> Result<u64, StorageError> {
        self.sink.storage.mark()
    }
    fn prune(&mut self, mark: u64) -> Result<u64, StorageError> {
        self.sink.storage.prune(self.kind, mark)
    }
}

fn p(k: &str, v: impl ToString) -> (String, String) {
    (k.to_string(), v.to_string())
}

/// Authentication log v2 or telephony log v2. Each page's envelope is read
/// first; when it names a next page, that page's request is started before
/// this page's events are parsed and stored, so Duo's answer travels while
/// the plugin works (a run stopped early wastes at most that one request).
pub struct DuoLog<'a> {
    client: &'a DuoClient<'a>,
    telephony: bool,
    /// Pages this run may still fetch (its page cap): no request is started
    /// for a page the run will not read.
    pages_left: Option<u32>,
    /// The next page's query and its request in flight.
    next: Option<(LogQuery, StartedCall)>,
}

impl<'a> DuoLog<'a> {
    pub fn new(client: &'a DuoClient<'a>, telephony: bool, max_pages: Option<u32>) -> DuoLog<'a> {
        DuoLog {
            client,
            telephony,
            pages_left: max_pages,
            next: None,
        }
    }

    fn path(&self) -> &'static str {
        if self.telephony {
            "/admin/v2/logs/telephony"
        } else {
            "/admin/v2/logs/authentication"
        }
    }
}

fn log_params(q: &LogQuery) -> Vec<(String, String)> {
    let mut params = vec![
        p("mintime", q.mintime),
        p("maxtime", q.maxtime),
        p("limit", 1000),
        p("sort", "ts:asc"),
    ];
    if let Some(offset) = &q.next_offset {
        params.push(p("next_offset", offset));
    }
    params
}

impl LogApi for DuoLog<'_> {
    fn fetch(
        &mut self,
        q: &LogQuery,
        on_page: &mut dyn FnMut(LogPage<'_>),
    ) -> Result<(), DuoError> {
        let started = self
            .next
            .take()
            .filter(|(query, _)| query == q)
            .map(|(_, call)| call);
        if let Some(left) = &mut self.pages_left {
            *left = left.saturating_sub(1);
        }
        let may_start_next = self.pages_left != Some(0);
        let path = self.path();
        let next = RefCell::new(None);
        let on_page = RefCell::new(on_page);
        let page = self
            .client
            .call_started(started, "GET", path, &log_params(q), |body| {
                let opened = normalize::open_log_page(body)?;
                if may_start_next && let Some(offset) = &opened.next_offset {
                    let query = LogQuery {
                        next_offset: Some(offset.clone()),
                        ..q.clone()
                    };
                    // A retried attempt (bad events, say) names the same next
                    // page: its request is on its way already.
                    let started = next.borrow().as_ref().is_some_and(|(s, _)| *s == query);
                    if !started {
                        let call = self.client.start("GET", path, &log_params(&query));
                        next.replace(Some((query, call)));
                    }
                }
                let page = if self.telephony {
                    opened.telephony_events()
                } else {
                    opened.auth_events()
                }?;
                // Handed over while the body it borrows from is still here.
                (on_page.borrow_mut())(page);
                Ok(())
            });
        // A failed page ends the run: its next page will not be read.
        self.next = next.into_inner().filter(|_| page.is_ok());
        page
    }
}

pub struct DuoInventory<'a> {
    pub client: &'a DuoClient<'a>,
    pub inventory: Inventory,
}

impl InventoryApi for DuoInventory<'_> {
    fn fetch(&mut self, offset: u64) -> Result<InventoryPage<'static>, DuoError> {
        let inventory = self.inventory;
        let params = [p("limit", inventory.page_size()), p("offset", offset)];
        self.client.call("GET", inventory.path(), &params, |body| {
            normalize::parse_inventory_page(inventory, body).map(InventoryPage::into_owned)
        })
    }
}

pub struct DuoAdminLog<'a> {
    pub client: &'a DuoClient<'a>,
}

impl AdminLogApi for DuoAdminLog<'_> {
    fn fetch(&mut self, mintime_s: i64) -> Result<Vec<CollectedRecord<'static>>, DuoError> {
        self.client.call(
            "GET",
            "/admin/v1/logs/administrator",
            &[p("mintime", mintime_s)],
            |body| {
                let events = normalize::parse_admin_log_page(body)?;
                Ok(events
                    .into_iter()
                    .map(CollectedRecord::into_owned)
                    .collect())
            },
        )
    }
}

/// One record, replaced each run.
pub fn info_summary(client: &DuoClient, sink: &mut dyn Sink, now_ms: i64) -> SourceOutcome {
    let out = SourceOutcome::default();
    let record = match client.call("GET", "/admin/v1/info/summary", &[], |body| {
        normalize::parse_info_summary(body, now_ms).map(CollectedRecord::into_owned)
    }) {
        Ok(r) => r,
        Err(DuoError::RateLimited) => return out.stop(Stop::RateLimited),
        Err(e) => return out.stop(Stop::Duo(e)),
    };
    let checkpoint = format!(r#"{{"collected_at_ms":{now_ms}}}"#);
    match sink.commit(vec![record], &checkpoint) {
        Ok(()) => SourceOutcome {
            pages: 1,
            records: 1,
            ..out
        },
        Err(e) => SourceOutcome { pages: 1, ..out }.stop(Stop::Failed(super::storage_error(e))),
    }
}
