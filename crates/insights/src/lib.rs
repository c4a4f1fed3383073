//! The insights engine: the Duo insight catalogue (DUO-01..DUO-24 of
//! `/work/shared/insights.md`) and the MFA posture summary, computed only from
//! the normalized model (`oort_model::Normalized`), never from vendor JSON.
//!
//! Every rule names the plugin whose records it reads: the catalogue's rules
//! are Duo's (their ids, thresholds and remedies are Duo's), so they run
//! only on a Duo integration's records, while the posture summary reads
//! only the normalized model and is computed for any plugin. A finding
//! suggests an action only if the integration's plugin declares it
//! ([`Source`]), so another plugin's user is never offered a Duo
//! remediation.
//!
//! `evaluate` and `posture` are pure and deterministic: the same records and
//! `now_ms` give the same findings in the same order whatever order the store
//! returned the records in. Dedupe keys are built from stable identities (user
//! id, IP, application, device) and fixed time buckets of an incident's first
//! event, so re-running over the same or extended data upserts the same rows.
//!
//! Not implemented: DUO-25 (risky admin change) needs Duo administrator /
//! activity logs, which are not collected. See `rules::anonymizer` for what
//! DUO-17 can and cannot see, `rules::device` for DUO-20's limits and `geo`
//! for the gazetteer (GeoNames cities5000, CC-BY 4.0).

mod draft;
mod factors;
mod fxhash;
pub mod geo;
mod index;
mod posture;
mod render;
mod rules;
mod thresholds;

#[cfg(test)]
mod tests;

use std::collections::HashSet;

use serde::Serialize;

use oort_model::{Finding, Manifest, Normalized, StoredFinding};

pub use draft::Severity;
pub use factors::Tier;
pub use posture::{
    AppPosture, AuthPosture, FactorShare, NamedCount, Posture, ReasonCount, TierShare, UserPosture,
};
pub use render::render_text;
pub use thresholds::{Cidr, DAY_MS, HOUR_MS, MINUTE_MS, Thresholds};

use draft::Draft;
use index::Dataset;

/// What `oort-host insights <name>` shows (text via [`render_text`], or JSON).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub findings: Vec<StoredFinding>,
    pub posture: Posture,
}

/// The integration an evaluation is for, as far as the catalogue cares:
/// which plugin collected the records, and which actions it can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source<'a> {
    pub plugin_id: &'a str,
    /// Action ids the plugin's manifest declares.
    pub actions: Vec<&'a str>,
}

impl Source<'_> {
    pub fn of(manifest: &Manifest) -> Source<'_> {
        Source {
            plugin_id: &manifest.id,
            actions: manifest.actions.iter().map(|a| a.id.as_str()).collect(),
        }
    }

    fn offers(&self, action: &str) -> bool {
        self.actions.contains(&action)
    }
}

type RuleFn = fn(&Dataset<'_>, &Thresholds, &mut Vec<Draft>);

/// One group of the catalogue and the plugin whose records it reads: its
/// ids, thresholds and remedies are that vendor's.
struct Rule {
    plugin: &'static str,
    run: RuleFn,
}

const fn duo(run: RuleFn) -> Rule {
    Rule { plugin: "duo", run }
}

/// The catalogue in evaluation order. The second half runs on a thread of
/// its own: the location walk (geo lookups) is the heaviest single rule.
const RULES: [Rule; 10] = [
    duo(rules::push::run),
    duo(rules::bypass::run),
    duo(rules::inventory::run),
    duo(rules::probing::run),
    duo(rules::apps::run),
    duo(rules::location::run),
    duo(rules::anonymizer::run),
    duo(rules::attack::run),
    duo(rules::device::run),
    duo(rules::volume::run),
];

/// Runs the rules of the catalogue that apply to `source` over the records.
/// Findings are sorted by (insight id, dedupe key).
pub fn evaluate(
    records: &[Normalized],
    source: &Source<'_>,
    now_ms: i64,
    t: &Thresholds,
) -> Vec<Finding> {
    let ds = Dataset::build(records, now_ms);
    evaluate_dataset(&ds, source, t)
}

/// The MFA posture summary over the same records (default thresholds).
pub fn posture(records: &[Normalized], now_ms: i64) -> Posture {
    posture::compute(&Dataset::build(records, now_ms), &Thresholds::default())
}

/// `evaluate` and `posture` over one shared index (what the platform's
/// refresh after a collection does).
pub fn evaluate_with_posture(
    records: &[Normalized],
    source: &Source<'_>,
    now_ms: i64,
    t: &Thresholds,
) -> (Vec<Finding>, Posture) {
    let ds = Dataset::build(records, now_ms);
    (evaluate_dataset(&ds, source, t), posture::compute(&ds, t))
}

fn evaluate_dataset(ds: &Dataset<'_>, source: &Source<'_>, t: &Thresholds) -> Vec<Finding> {
    let run_half = |half: &[Rule]| {
        let mut out = Vec::new();
        for rule in half.iter().filter(|r| r.plugin == source.plugin_id) {
            (rule.run)(ds, t, &mut out);
        }
        out
    };
    let (mut drafts, other) = std::thread::scope(|s| {
        let heavy = s.spawn(|| run_half(&RULES[5..]));
        (
            run_half(&RULES[..5]),
            heavy.join().expect("insight rule panicked"),
        )
    });
    drafts.extend(other);
    escalate(ds, &mut drafts);
    let mut findings: Vec<Finding> = drafts
        .into_iter()
        .map(|mut d| {
            if d.action.is_some_and(|a| !source.offers(a)) {
                d.action = None;
            }
            d.into_finding(ds, t.max_evidence)
        })
        .collect();
    findings.sort_by(|a, b| (&a.insight_id, &a.dedupe_key).cmp(&(&b.insight_id, &b.dedupe_key)));
    findings
}

/// Cross-rule severity modifiers from the catalogue: a bypass login from a
/// new country or listed anonymizer (DUO-05 -> high), a new country that is
/// also impossible travel or a device mismatch (DUO-14 -> high), a new device
/// followed within a day by a new country (DUO-20 -> critical).
fn escalate(ds: &Dataset<'_>, drafts: &mut [Draft]) {
    let events_of = |ids: &[&str]| -> HashSet<u32> {
        drafts
            .iter()
            .filter(|d| {
                ids.contains(&d.insight) && !(d.insight == "DUO-17" && d.severity == Severity::Info)
            })
            .flat_map(|d| d.events.iter().copied())
            .collect()
    };
    let risky_location = events_of(&["DUO-14", "DUO-17"]);
    let travel_or_mismatch = events_of(&["DUO-15", "DUO-16"]);
    let new_country: Vec<(u32, i64)> = drafts
        .iter()
        .filter(|d| d.insight == "DUO-14")
        .flat_map(|d| {
            d.events
                .iter()
                .map(|&i| (ds.events[i as usize].user, ds.events[i as usize].ts))
        })
        .collect();
    for d in drafts.iter_mut() {
        match d.insight {
            "DUO-05" if d.events.iter().any(|i| risky_location.contains(i)) => {
                d.severity = d.severity.max(Severity::High);
                d.detail.push_str(
                    " Escalated: the login also came from a new country or a listed anonymizer.",
                );
            }
            "DUO-14" if d.events.iter().any(|i| travel_or_mismatch.contains(i)) => {
                d.severity = d.severity.max(Severity::High);
                d.detail.push_str(
                    " Escalated: the same login is impossible travel or a device-country mismatch.",
                );
            }
            "DUO-20" => {
                let Some(&i) = d.events.first() else { continue };
                let (user, ts) = (ds.events[i as usize].user, ds.events[i as usize].ts);
                if new_country
                    .iter()
                    .any(|&(u, t)| u == user && t >= ts && t - ts <= DAY_MS)
                {
                    d.severity = Severity::Critical;
                    d.detail
                        .push_str(" Escalated: a login from a new country followed within 24 h.");
                }
            }
            _ => {}
        }
    }
}
