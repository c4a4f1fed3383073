//! A finding while rules are still working on it: evidence as event indices,
//! turned into [`Finding`] strings once at the end.

use serde::Serialize;

use oort_model::Finding;

use super::index::Dataset;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a stored severity; unknown strings sort lowest.
    pub fn parse(s: &str) -> Severity {
        match s {
            "critical" => Severity::Critical,
            "high" => Severity::High,
            "medium" => Severity::Medium,
            "low" => Severity::Low,
            _ => Severity::Info,
        }
    }
}

pub struct Draft {
    pub insight: &'static str,
    pub key: String,
    pub title: String,
    pub severity: Severity,
    pub subjects: Vec<String>,
    /// Indices into `Dataset::events`, in time order.
    pub events: Vec<u32>,
    /// Evidence that is not an auth event (user or device record ids).
    pub records: Vec<String>,
    pub first: i64,
    pub last: i64,
    pub action: Option<&'static str>,
    pub detail: String,
}

impl Draft {
    /// A draft over time-ordered events; first/last seen come from them.
    pub fn over_events(
        ds: &Dataset<'_>,
        insight: &'static str,
        key: String,
        events: Vec<u32>,
    ) -> Draft {
        let first = events
            .first()
            .map_or(ds.now_ms, |&i| ds.events[i as usize].ts);
        let last = events
            .last()
            .map_or(ds.now_ms, |&i| ds.events[i as usize].ts);
        Draft {
            insight,
            key,
            title: String::new(),
            severity: Severity::Info,
            subjects: Vec::new(),
            events,
            records: Vec::new(),
            first,
            last,
            action: None,
            detail: String::new(),
        }
    }

    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }
    pub fn severity(mut self, s: Severity) -> Self {
        self.severity = s;
        self
    }
    pub fn subject(mut self, s: &str) -> Self {
        if !self.subjects.iter().any(|x| x == s) {
            self.subjects.push(s.to_owned());
        }
        self
    }
    pub fn action(mut self, a: &'static str) -> Self {
        self.action = Some(a);
        self
    }
    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = d.into();
        self
    }

    pub fn into_finding(self, ds: &Dataset<'_>, max_evidence: usize) -> Finding {
        let total = self.events.len() + self.records.len();
        let mut evidence: Vec<String> = self.records;
        evidence.extend(
            self.events
                .iter()
                .map(|&i| ds.events[i as usize].e.event_id.clone()),
        );
        let mut detail = self.detail;
        if evidence.len() > max_evidence {
            evidence.truncate(max_evidence);
            detail.push_str(&format!(
                " ({total} supporting records; the first {max_evidence} are listed.)"
            ));
        }
        Finding {
            insight_id: self.insight.to_owned(),
            dedupe_key: self.key,
            title: self.title,
            severity: self.severity.as_str().to_owned(),
            subjects: self.subjects,
            evidence,
            first_seen_ms: self.first,
            last_seen_ms: self.last,
            suggested_action: self.action.map(str::to_owned),
            detail,
        }
    }
}

/// Start of the fixed window containing `ts`: dedupe keys built from it stay
/// the same when a later run sees more events of the same incident.
pub fn bucket(ts: i64, window_ms: i64) -> i64 {
    ts - ts.rem_euclid(window_ms.max(1))
}

/// Maximal runs of `times` (sorted) in which some `window_ms` span holds at
/// least `min_count` items; overlapping qualifying spans merge into one run.
/// Returns inclusive index ranges.
pub fn dense_runs(times: &[i64], window_ms: i64, min_count: usize) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    if min_count == 0 {
        return out;
    }
    let mut start = 0;
    for end in 0..times.len() {
        while times[end] - times[start] > window_ms {
            start += 1;
        }
        if end + 1 - start >= min_count {
            match out.last_mut() {
                Some(last) if start <= last.1 => last.1 = end,
                _ => out.push((start, end)),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_runs_merge_overlaps_and_skip_sparse() {
        let m = 60_000;
        let t = [0, m, 2 * m, 3 * m, 4 * m, 5 * m, 60 * m, 61 * m];
        assert_eq!(dense_runs(&t, 10 * m, 5), vec![(0, 5)]);
        assert_eq!(dense_runs(&t, 10 * m, 2), vec![(0, 5), (6, 7)]);
        assert!(dense_runs(&t[..4], 10 * m, 5).is_empty());
        assert_eq!(bucket(17 * m, 15 * m), 15 * m);
        assert_eq!(bucket(-1, 10), -10);
    }
}
