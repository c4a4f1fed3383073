//! Sandbox limits applied to every plugin invocation.

use std::time::Duration;

/// Per-invocation budgets. Exceeding one ends that invocation with an error
/// naming the limit; the host and other integrations carry on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxLimits {
    /// Maximum linear memory of the plugin instance.
    pub memory_bytes: u64,
    /// Wall-clock deadline of `validate-config` and `manifest`.
    pub validate_timeout: Duration,
    /// Wall-clock deadline of `test-connectivity`.
    pub test_timeout: Duration,
    /// Wall-clock deadline of `collect`.
    pub collect_timeout: Duration,
    /// Wall-clock deadline of `run-action`.
    pub action_timeout: Duration,
    /// Time the plugin's own code may run in one `collect` (not counting
    /// its waits for the host: a collection waiting on a slow upstream is
    /// stopped by its deadline, one spinning by this).
    pub collect_cpu: Duration,
    /// The same for every other export.
    pub call_cpu: Duration,
    /// Invocations of one tenant's plugins running at once; more wait for
    /// a slot (before they take one of the host's).
    pub max_invocations_per_tenant: u32,
    /// Outbound requests one tenant's invocations may send per second, all
    /// together (a second's worth may go at once); more are held back.
    pub max_requests_per_second_per_tenant: u32,
    /// HTTP requests one invocation may send.
    pub max_http_requests: u32,
    /// Largest HTTP response body accepted.
    pub max_response_bytes: u64,
    /// Most data one call from the plugin may hand the host (strings and
    /// lists, counted as the host allocates them). Without it, lists whose
    /// elements all point at one string could make the host copy far more
    /// than the plugin's own memory holds.
    pub max_transfer_bytes: u64,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            memory_bytes: 64 << 20,
            validate_timeout: Duration::from_secs(30),
            test_timeout: Duration::from_secs(30),
            collect_timeout: Duration::from_secs(15 * 60),
            action_timeout: Duration::from_secs(2 * 60),
            // Parsing and normalizing a 1,000-event Duo page takes 7–10 ms
            // of plugin code here (BENCHMARKS.md), ~10 s per million events;
            // a third of the deadline leaves room for slower machines and
            // bigger tenants while keeping a spinning plugin off the CPU.
            collect_cpu: Duration::from_secs(5 * 60),
            call_cpu: Duration::from_secs(10),
            // Of the host's 64 instance slots: eight tenants busy at once
            // still leave room for the others.
            max_invocations_per_tenant: 8,
            // Far above what an upstream lets one account sustain (Duo
            // documents ~50 calls a minute for some endpoints) and above a
            // catch-up pass over the simulator (~100 pages a second): it
            // bounds a plugin flooding, never a normal collection.
            max_requests_per_second_per_tenant: 500,
            max_http_requests: 10_000,
            max_response_bytes: 32 << 20,
            max_transfer_bytes: 64 << 20,
        }
    }
}
