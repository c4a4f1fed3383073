//! The plugin's exports as typed calls: each call type carries its inputs,
//! names its result type, and says which deadline and budget apply, so an
//! invocation can neither return the wrong kind of result nor pick its
//! deadline by a string.

use std::time::Duration;

use wasmtime::Store;

use crate::SandboxLimits;
use crate::capabilities::InvocationState;
use crate::convert;
use crate::invoke::Exports;
use oort_model as m;

/// Which export a call runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Manifest,
    ValidateConfig,
    TestConnectivity,
    Collect,
    RunAction,
}

impl Operation {
    /// The export's name in the WIT.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Manifest => "manifest",
            Operation::ValidateConfig => "validate-config",
            Operation::TestConnectivity => "test-connectivity",
            Operation::Collect => "collect",
            Operation::RunAction => "run-action",
        }
    }

    /// The wall-clock deadline of this export under `limits`.
    pub fn deadline(self, limits: &SandboxLimits) -> Duration {
        match self {
            Operation::Manifest | Operation::ValidateConfig => limits.validate_timeout,
            Operation::TestConnectivity => limits.test_timeout,
            Operation::Collect => limits.collect_timeout,
            Operation::RunAction => limits.action_timeout,
        }
    }

    /// Time the plugin's own code may run in this export under `limits`.
    pub fn cpu_budget(self, limits: &SandboxLimits) -> Duration {
        match self {
            Operation::Collect => limits.collect_cpu,
            _ => limits.call_cpu,
        }
    }

    /// HTTP requests this export may send: none while a plugin is only
    /// being inspected.
    pub fn http_budget(self, limits: &SandboxLimits) -> u32 {
        match self {
            Operation::Manifest => 0,
            _ => limits.max_http_requests,
        }
    }
}

/// One export call with its inputs.
pub trait ExportCall: Send {
    /// What the export returns, in `oort_model` terms.
    type Output: Send;

    const OPERATION: Operation;

    /// Calls the export on an instantiated plugin.
    fn call(
        self,
        exports: &Exports,
        store: &mut Store<InvocationState>,
    ) -> impl Future<Output = wasmtime::Result<Self::Output>> + Send;

    /// The plugin's own report of failure, if `output` is one.
    fn failure(_output: &Self::Output) -> Option<String> {
        None
    }

    /// `output` turned into a failure because a batch the plugin staged
    /// could not be written after it returned. Calls that write nothing keep
    /// their output.
    fn staged_write_failed(output: Self::Output, _error: m::PluginError) -> Self::Output {
        output
    }
}

/// `manifest()`, and `list-sources()` where the plugin exports `sources`.
pub struct Manifest;

/// `validate-config(config)`.
pub struct ValidateConfig<'a> {
    pub config: &'a [(String, String)],
}

/// `test-connectivity(config)`.
pub struct TestConnectivity<'a> {
    pub config: &'a [(String, String)],
}

/// `collect(config, options)`.
pub struct Collect<'a> {
    pub config: &'a [(String, String)],
    pub options: &'a m::CollectOptions,
}

/// `run-action(config, request)`.
pub struct RunAction<'a> {
    pub config: &'a [(String, String)],
    pub request: &'a m::ActionRequest,
}

impl ExportCall for Manifest {
    type Output = m::Manifest;
    const OPERATION: Operation = Operation::Manifest;

    async fn call(
        self,
        exports: &Exports,
        store: &mut Store<InvocationState>,
    ) -> wasmtime::Result<m::Manifest> {
        let mut manifest = convert::manifest(exports.plugin.call_manifest(&mut *store).await?);
        if let Some(sources) = &exports.sources {
            let listed = sources.call_list_sources(&mut *store).await?;
            manifest.sources = listed.into_iter().map(convert::source).collect();
        }
        Ok(manifest)
    }
}

impl ExportCall for ValidateConfig<'_> {
    type Output = Vec<m::FieldError>;
    const OPERATION: Operation = Operation::ValidateConfig;

    async fn call(
        self,
        exports: &Exports,
        store: &mut Store<InvocationState>,
    ) -> wasmtime::Result<Self::Output> {
        let entries = convert::config_entries(self.config);
        let errors = exports.plugin.call_validate_config(store, &entries).await?;
        Ok(errors.into_iter().map(convert::field_error).collect())
    }
}

impl ExportCall for TestConnectivity<'_> {
    type Output = Vec<m::Check>;
    const OPERATION: Operation = Operation::TestConnectivity;

    async fn call(
        self,
        exports: &Exports,
        store: &mut Store<InvocationState>,
    ) -> wasmtime::Result<Self::Output> {
        let entries = convert::config_entries(self.config);
        let checks = exports
            .plugin
            .call_test_connectivity(store, &entries)
            .await?;
        Ok(checks.into_iter().map(convert::check).collect())
    }
}

impl ExportCall for Collect<'_> {
    type Output = Result<m::CollectSummary, m::PluginError>;
    const OPERATION: Operation = Operation::Collect;

    async fn call(
        self,
        exports: &Exports,
        store: &mut Store<InvocationState>,
    ) -> wasmtime::Result<Self::Output> {
        let entries = convert::config_entries(self.config);
        let options = convert::collect_options(self.options);
        let result = exports
            .plugin
            .call_collect(store, &entries, &options)
            .await?;
        Ok(result
            .map(convert::collect_summary)
            .map_err(convert::plugin_error))
    }

    fn failure(output: &Self::Output) -> Option<String> {
        plugin_failure(output)
    }

    fn staged_write_failed(output: Self::Output, error: m::PluginError) -> Self::Output {
        output.and(Err(error))
    }
}

impl ExportCall for RunAction<'_> {
    type Output = Result<m::ActionOutcome, m::PluginError>;
    const OPERATION: Operation = Operation::RunAction;

    async fn call(
        self,
        exports: &Exports,
        store: &mut Store<InvocationState>,
    ) -> wasmtime::Result<Self::Output> {
        let entries = convert::config_entries(self.config);
        let request = convert::action_request(self.request);
        let result = exports
            .plugin
            .call_run_action(store, &entries, &request)
            .await?;
        Ok(result
            .map(convert::action_outcome)
            .map_err(convert::plugin_error))
    }

    fn failure(output: &Self::Output) -> Option<String> {
        plugin_failure(output)
    }

    fn staged_write_failed(output: Self::Output, error: m::PluginError) -> Self::Output {
        output.and(Err(error))
    }
}

/// The text of a plugin's typed failure (`collect`, `run-action`).
fn plugin_failure<T>(output: &Result<T, m::PluginError>) -> Option<String> {
    output.as_ref().err().map(ToString::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_export_has_its_own_deadline_and_budget() {
        let limits = SandboxLimits {
            validate_timeout: Duration::from_secs(1),
            test_timeout: Duration::from_secs(2),
            collect_timeout: Duration::from_secs(3),
            action_timeout: Duration::from_secs(4),
            collect_cpu: Duration::from_secs(5),
            call_cpu: Duration::from_secs(6),
            max_http_requests: 9,
            ..SandboxLimits::default()
        };
        let secs = |op: Operation| op.deadline(&limits).as_secs();
        assert_eq!(secs(Manifest::OPERATION), 1);
        assert_eq!(secs(ValidateConfig::OPERATION), 1);
        assert_eq!(secs(TestConnectivity::OPERATION), 2);
        assert_eq!(secs(Collect::OPERATION), 3);
        assert_eq!(secs(RunAction::OPERATION), 4);
        let cpu = |op: Operation| op.cpu_budget(&limits).as_secs();
        assert_eq!(cpu(Collect::OPERATION), 5);
        for op in [
            Manifest::OPERATION,
            ValidateConfig::OPERATION,
            TestConnectivity::OPERATION,
            RunAction::OPERATION,
        ] {
            assert_eq!(cpu(op), 6, "{op:?}");
        }
        assert_eq!(Manifest::OPERATION.http_budget(&limits), 0);
        assert_eq!(Collect::OPERATION.http_budget(&limits), 9);
    }

    #[test]
    fn a_failed_staged_write_fails_only_calls_that_succeeded() {
        let host = |text: &str| m::PluginError::Host(text.into());
        let ok: <Collect as ExportCall>::Output = Ok(m::CollectSummary::default());
        assert!(Collect::staged_write_failed(ok, host("disk full")).is_err());
        let own: <Collect as ExportCall>::Output = Err(host("plugin's own"));
        let kept = Collect::staged_write_failed(own, host("disk full"));
        assert_eq!(
            Collect::failure(&kept).as_deref(),
            Some("host refused: plugin's own")
        );
        let checks = vec![];
        assert!(TestConnectivity::staged_write_failed(checks, host("x")).is_empty());
    }
}
