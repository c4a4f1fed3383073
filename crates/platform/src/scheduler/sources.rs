//! Scheduling by source, for plugins that list their sources (the WIT's
//! optional `sources` export): each source is collected at its own interval
//! (the plugin's default, or the integration's), a scheduled run asks the
//! plugin for the ones due, and the integration is due again when its
//! soonest source is. A plugin that lists none is collected whole, at the
//! integration's interval.

use std::collections::HashMap;

use oort_store::Integration;

use super::policy::{self, SourceTiming};
use crate::views::SourceScheduleView;
use crate::{Platform, Result};

/// An integration's sources with their intervals and last collections.
pub(crate) struct SourcePlan {
    sources: Vec<PlannedSource>,
    last_collected: HashMap<String, i64>,
}

struct PlannedSource {
    name: String,
    record_kinds: Vec<String>,
    interval_ms: i64,
    /// The plugin's own interval, not the integration's.
    own_interval: bool,
}

impl SourcePlan {
    /// Whether the plugin lists no sources (it is collected whole).
    pub(crate) fn is_whole(&self) -> bool {
        self.sources.is_empty()
    }

    fn timings(&self) -> Vec<SourceTiming<'_>> {
        self.sources
            .iter()
            .map(|s| SourceTiming {
                name: &s.name,
                interval_ms: s.interval_ms,
                last_collected_ms: self.last_collected.get(&s.name).copied(),
            })
            .collect()
    }

    /// The sources a scheduled run at `now_ms` asks for (empty: all).
    pub(crate) fn due(&self, now_ms: i64) -> Vec<String> {
        if self.is_whole() {
            return Vec::new();
        }
        policy::due_sources(now_ms, &self.timings())
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// The listed sources a run asked for `requested` collected: every one
    /// for an empty request, else those named (by source or record kind).
    pub(crate) fn collected_by(&self, requested: &[String]) -> Vec<String> {
        self.sources
            .iter()
            .filter(|s| {
                requested.is_empty()
                    || requested
                        .iter()
                        .any(|r| *r == s.name || s.record_kinds.contains(r))
            })
            .map(|s| s.name.clone())
            .collect()
    }

    /// When the integration is due after `collected` succeeded at `now_ms`.
    pub(crate) fn next_due_after(&mut self, collected: &[String], now_ms: i64, unit: f64) -> i64 {
        for name in collected {
            self.last_collected.insert(name.clone(), now_ms);
        }
        policy::next_source_due(now_ms, &self.timings(), unit)
    }

    pub(crate) fn views(&self, now_ms: i64) -> Vec<SourceScheduleView> {
        self.sources
            .iter()
            .map(|s| {
                let last = self.last_collected.get(&s.name).copied();
                SourceScheduleView::new(&s.name, s.interval_ms, s.own_interval, last, now_ms)
            })
            .collect()
    }
}

impl Platform {
    /// The sources of `integration`'s plugin, each at its own interval or
    /// at `interval_ms` (the integration's), with their last collections.
    pub(crate) fn source_plan(
        &self,
        integration: &Integration,
        interval_ms: i64,
    ) -> Result<SourcePlan> {
        let manifest = self.plugin(&integration.plugin_id)?.manifest;
        let sources = manifest
            .sources
            .into_iter()
            .map(|s| PlannedSource {
                interval_ms: s
                    .default_interval_seconds
                    .map_or(interval_ms, |seconds| i64::from(seconds) * 1000),
                own_interval: s.default_interval_seconds.is_some(),
                name: s.name,
                record_kinds: s.record_kinds,
            })
            .collect();
        let last_collected = self
            .store
            .source_collections(integration.id)?
            .into_iter()
            .map(|c| (c.source, c.last_collected_ms))
            .collect();
        Ok(SourcePlan {
            sources,
            last_collected,
        })
    }
}
