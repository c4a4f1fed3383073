//! The service's Prometheus metrics, one registry per platform: runs by
//! outcome, records committed, upstream requests by status, sandbox stops,
//! the scheduler's lag and load, and the API's latency (the front end
//! reports that one). Served as text at `/metrics`.
//!
//! Labels are bounded by what the host stores (tenants, integrations,
//! plugins, sources, route templates), never by what a request or a plugin
//! sends: a status code or a path from outside is reduced first.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use oort_runtime::capabilities::LogTags;
use oort_runtime::{RuntimeObserver, SandboxError};
use oort_store::{RunKind, RunStatus};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    kind: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RecordLabels {
    plugin: String,
    source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    tenant: String,
    integration: String,
    /// The HTTP status, or `error` when no answer came.
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StopLabels {
    plugin: String,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    method: String,
    /// The route's template (`/v1/tenants/{tenant}/...`), not the path.
    route: String,
    status: u16,
}

type LatencyFamily = Family<ApiLabels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    runs: Family<RunLabels, Counter>,
    records: Family<RecordLabels, Counter>,
    upstream: Family<UpstreamLabels, Counter>,
    sandbox_stops: Family<StopLabels, Counter>,
    scheduler_lag: Histogram,
    scheduler_due: Gauge,
    collections_running: Gauge,
    api_latency: LatencyFamily,
}

fn latency_histogram() -> Histogram {
    // 1 ms .. ~33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("oort");
        let runs = Family::<RunLabels, Counter>::default();
        registry.register(
            "runs",
            "Plugin runs ended, by kind (collect, test, action) and outcome",
            runs.clone(),
        );
        let records = Family::<RecordLabels, Counter>::default();
        registry.register(
            "records_committed",
            "Records committed to the store by collections, by plugin and source",
            records.clone(),
        );
        let upstream = Family::<UpstreamLabels, Counter>::default();
        registry.register(
            "upstream_requests",
            "Requests plugins sent upstream, by integration and HTTP status (error: no answer)",
            upstream.clone(),
        );
        let sandbox_stops = Family::<StopLabels, Counter>::default();
        registry.register(
            "sandbox_stops",
            "Invocations the sandbox stopped, by plugin and reason (memory, deadline, http_budget, transfer, trap, instantiate)",
            sandbox_stops.clone(),
        );
        let scheduler_lag = Histogram::new(exponential_buckets(0.1, 2.0, 14));
        registry.register_with_unit(
            "scheduler_lag",
            "How late scheduled collections started after they fell due",
            Unit::Seconds,
            scheduler_lag.clone(),
        );
        let scheduler_due = Gauge::default();
        registry.register(
            "scheduler_due_integrations",
            "Integrations due for collection at the scheduler's last look",
            scheduler_due.clone(),
        );
        let collections_running = Gauge::default();
        registry.register(
            "collections_running",
            "Collections this process runs now (scheduled and Collect Now)",
            collections_running.clone(),
        );
        let api_latency = LatencyFamily::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "api_request_duration",
            "API requests served, by method, route and status",
            Unit::Seconds,
            api_latency.clone(),
        );
        Metrics {
            registry,
            runs,
            records,
            upstream,
            sandbox_stops,
            scheduler_lag,
            scheduler_due,
            collections_running,
            api_latency,
        }
    }

    /// The registry in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }

    pub(crate) fn run_ended(&self, kind: RunKind, status: RunStatus) {
        let kind = match kind {
            RunKind::Validate => "validate",
            RunKind::Test => "test",
            RunKind::Collect => "collect",
            RunKind::Action => "action",
        };
        let outcome = match status {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
        };
        self.runs.get_or_create(&RunLabels { kind, outcome }).inc();
    }

    pub(crate) fn records_committed(&self, plugin: &str, source: &str, records: u64) {
        self.records
            .get_or_create(&RecordLabels {
                plugin: plugin.into(),
                source: source.into(),
            })
            .inc_by(records);
    }

    /// Counts a collection as running until the guard is dropped.
    pub(crate) fn collection_running(&self) -> RunningCollection {
        self.collections_running.inc();
        RunningCollection(self.collections_running.clone())
    }

    /// A scheduled collection started `lag_ms` after it fell due.
    pub(crate) fn scheduled_start(&self, lag_ms: i64) {
        self.scheduler_lag.observe(lag_ms.max(0) as f64 / 1000.0);
    }

    pub(crate) fn due_seen(&self, due: usize) {
        self.scheduler_due.set(due as i64);
    }

    /// One API request, by its route's template.
    pub fn api_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.api_latency
            .get_or_create(&ApiLabels {
                method: method.into(),
                route: route.into(),
                status,
            })
            .observe(seconds);
    }
}

pub(crate) struct RunningCollection(Gauge);

impl Drop for RunningCollection {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl RuntimeObserver for Metrics {
    fn upstream_response(&self, tags: &LogTags, status: Option<u16>) {
        // Only real HTTP statuses become labels; anything else is `error`.
        let status = match status {
            Some(code @ 100..=599) => code.to_string(),
            _ => "error".into(),
        };
        self.upstream
            .get_or_create(&UpstreamLabels {
                tenant: tags.tenant.clone(),
                integration: tags.integration.clone(),
                status,
            })
            .inc();
    }

    fn sandbox_stopped(&self, tags: &LogTags, error: &SandboxError) {
        self.sandbox_stops
            .get_or_create(&StopLabels {
                plugin: tags.plugin.clone(),
                reason: error.reason(),
            })
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags() -> LogTags {
        LogTags {
            tenant: "acme".into(),
            integration: "duo-prod".into(),
            plugin: "duo".into(),
        }
    }

    #[test]
    fn every_family_renders_with_its_labels() {
        let m = Metrics::new();
        m.run_ended(RunKind::Collect, RunStatus::Succeeded);
        m.run_ended(RunKind::Collect, RunStatus::Succeeded);
        m.run_ended(RunKind::Test, RunStatus::Failed);
        m.records_committed("duo", "authentication", 1000);
        m.records_committed("duo", "authentication", 5);
        m.upstream_response(&tags(), Some(429));
        m.upstream_response(&tags(), None);
        m.sandbox_stopped(
            &tags(),
            &SandboxError::Memory {
                plugin: "duo".into(),
                limit_bytes: 1 << 20,
            },
        );
        m.scheduled_start(1500);
        let running = m.collection_running();
        m.due_seen(3);
        m.api_request("GET", "/v1/tenants/{tenant}/integrations", 200, 0.004);
        let text = m.render();
        for line in [
            r#"oort_runs_total{kind="collect",outcome="succeeded"} 2"#,
            r#"oort_runs_total{kind="test",outcome="failed"} 1"#,
            r#"oort_records_committed_total{plugin="duo",source="authentication"} 1005"#,
            r#"oort_upstream_requests_total{tenant="acme",integration="duo-prod",status="429"} 1"#,
            r#"oort_upstream_requests_total{tenant="acme",integration="duo-prod",status="error"} 1"#,
            r#"oort_sandbox_stops_total{plugin="duo",reason="memory"} 1"#,
            "oort_scheduler_lag_seconds_count 1",
            "oort_scheduler_lag_seconds_sum 1.5",
            "oort_scheduler_due_integrations 3",
            "oort_collections_running 1",
            r#"oort_api_request_duration_seconds_count{method="GET",route="/v1/tenants/{tenant}/integrations",status="200"} 1"#,
        ] {
            assert!(text.contains(line), "missing `{line}` in:\n{text}");
        }
        drop(running);
        assert!(m.render().contains("oort_collections_running 0"));
    }

    #[test]
    fn a_status_outside_http_is_not_a_label() {
        let m = Metrics::new();
        m.upstream_response(&tags(), Some(0));
        m.upstream_response(&tags(), Some(60000));
        assert!(m.render().contains(r#"status="error"} 2"#));
    }
}
