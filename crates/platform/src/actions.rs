//! Actions: the list an integration offers and `act`, the one audited way to
//! run one. Running an action without its role check and audit entry is
//! private to this crate.

use super::runs::RunRecord;
use super::views::{ActReport, ActionView};
use super::{Platform, PlatformError, Result};
use crate::model::{ActionOutcome, ActionRequest};
use crate::remediation::{self, ActRequest, ActionRunner};
use oort_runtime::calls;
use oort_store::{Integration, RunKind};

impl Platform {
    /// The actions of the integration's plugin, with why each disabled one
    /// is off.
    pub fn actions(&self, integration: &Integration) -> Result<Vec<ActionView>> {
        remediation::actions_of(self.store.as_ref(), integration)
    }

    /// Checks the operator's role and the action's switch, runs the action
    /// in the sandbox and appends one audit entry whatever happens.
    pub async fn act(&self, integration: &Integration, req: ActRequest) -> Result<ActReport> {
        let (action, outcome) =
            remediation::act_with(self.store.as_ref(), self, integration, req).await?;
        Ok(ActReport::new(&integration.name, &action, outcome))
    }
}

impl ActionRunner for Platform {
    /// Runs one plugin action, recording the run. Authorization and audit
    /// are `act_with`'s, which is the only caller.
    async fn run_action(
        &self,
        integration: &Integration,
        request: ActionRequest,
    ) -> Result<ActionOutcome, PlatformError> {
        let (prepared, _, ctx) = self.context(integration, None)?;
        let config = ctx.config.clone();
        let run = RunRecord::start(&self.store, &self.metrics, integration.id, RunKind::Action)?;
        let call = calls::RunAction {
            config: &config,
            request: &request,
        };
        match self.runtime.invoke(&prepared, ctx, call).await {
            Ok(Ok(outcome)) => {
                run.succeeded(&outcome);
                Ok(outcome)
            }
            Ok(Err(e)) => {
                run.failed(&e);
                Err(PlatformError::Plugin(e))
            }
            Err(e) => {
                run.failed(&e);
                Err(e.into())
            }
        }
    }
}
