//! Remediation actions: who may run what, and an audit entry for every
//! attempt (allowed, refused or failed).
//!
//! The plugin only carries an action out; the decision and the record are
//! made here, on the host, so a plugin can neither skip the role check nor
//! the trail. The only way in is `Platform::act`, which runs [`act_with`]
//! with the sandbox as its [`ActionRunner`].

mod audit;
mod authorize;
#[cfg(test)]
mod tests;

use crate::PlatformError;
use crate::Scope;
use crate::access::check_access;
use crate::model::{ActionOutcome, ActionRequest, Manifest, Role};
use crate::views::ActionView;
use oort_store::{Backend, Integration};

pub use audit::outcome_text;
pub use authorize::{action_params, authorize, disabled_reason, unknown_operator};

use audit::Attempt;

/// What `oort-host act` asks for.
#[derive(Debug, Clone, Default)]
pub struct ActRequest {
    /// Action id (e.g. `disable-user`); empty to take the finding's suggestion.
    pub action: String,
    /// The target user, sent as the `username` parameter.
    pub user: Option<String>,
    pub params: Vec<(String, String)>,
    /// Operator name.
    pub actor: String,
    pub reason: Option<String>,
    pub dry_run: bool,
    /// A finding whose suggested action and first subject fill in what the
    /// request leaves out.
    pub finding_id: Option<i64>,
}

/// Runs an action in the sandbox. `Platform` is the real one; tests use a
/// fake so authorization and audit are exercised without a plugin.
pub(crate) trait ActionRunner {
    async fn run_action(
        &self,
        integration: &Integration,
        request: ActionRequest,
    ) -> Result<ActionOutcome, PlatformError>;
}

/// The actions of the integration's plugin, with why each disabled one is off.
pub(crate) fn actions_of(
    store: &dyn Backend,
    integration: &Integration,
) -> Result<Vec<ActionView>, PlatformError> {
    let manifest = manifest_of(store, integration)?;
    Ok(manifest
        .actions
        .iter()
        .map(|spec| {
            let why_not = disabled_reason(spec, &manifest, &integration.config);
            ActionView {
                id: spec.id.clone(),
                title: spec.title.clone(),
                description: spec.description.clone(),
                minimum_role: spec.minimum_role,
                required_permission: spec.required_permission.clone(),
                enabled_by: spec.enabled_by.clone(),
                params: spec.params.clone(),
                enabled: why_not.is_none(),
                why_not,
            }
        })
        .collect())
}

/// Checks the operator's role and the action's switch, runs the action, and
/// audits it whatever happens: a refusal in one entry before the error is
/// returned; an action that runs in an entry written before it reaches the
/// plugin and one with its outcome. Returns the action run (the request's, or the one the
/// finding suggests) and its outcome.
pub(crate) async fn act_with<R: ActionRunner>(
    store: &dyn Backend,
    runner: &R,
    integration: &Integration,
    req: ActRequest,
) -> Result<(String, ActionOutcome), PlatformError> {
    let mut attempt = Attempt::new(store, integration.id, &req.actor, req.reason.as_deref());
    attempt.action = req.action.clone();
    attempt.target = req.user.clone();

    if let Err(e) = crate::settings::ensure_enabled(store, integration) {
        return Err(attempt.refuse(e));
    }
    let operator = match store.operator(&req.actor) {
        Ok(operator) => operator,
        Err(e) => return Err(attempt.refuse(e.into())),
    };
    attempt.role = operator.as_ref().map(|o| o.role);
    let Some(operator) = operator else {
        return Err(attempt.refuse(PlatformError::Refused(unknown_operator(&req.actor))));
    };

    let (action, user) = match resolve_target(store, integration, &req) {
        Ok(resolved) => resolved,
        Err(e) => return Err(attempt.refuse(e)),
    };
    attempt.action = action.clone();
    attempt.target = user.clone();

    let manifest = match manifest_of(store, integration) {
        Ok(manifest) => manifest,
        Err(e) => return Err(attempt.refuse(e)),
    };
    let Some(spec) = manifest.action(&action) else {
        let available = manifest
            .actions
            .iter()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>();
        let available = if available.is_empty() {
            "none".to_owned()
        } else {
            available.join(", ")
        };
        return Err(attempt.refuse(PlatformError::NotFound(format!(
            "plugin `{}` has no action `{action}`; available actions: {available}",
            manifest.id
        ))));
    };
    // An operator of another tenant may not act here whatever their role.
    let tenant = Scope::Tenant(&integration.tenant);
    if let Err(why) = check_access(&operator, tenant, Role::Viewer).and_then(|()| {
        authorize(
            &req.actor,
            Some(&operator),
            spec,
            &manifest,
            &integration.config,
        )
    }) {
        return Err(attempt.refuse(PlatformError::Refused(why)));
    }
    let params = match action_params(spec, user.as_deref(), &req.params) {
        Ok(params) => params,
        Err(why) => return Err(attempt.refuse(PlatformError::InvalidInput(why))),
    };
    if attempt.target.is_none() {
        attempt.target = params
            .first()
            .map(|(name, value)| format!("{name}={value}"));
    }

    let request = ActionRequest {
        action: action.clone(),
        params,
        dry_run: req.dry_run,
        requested_by: operator.name.clone(),
        reason: req.reason.clone(),
    };
    // On the trail before it reaches the plugin: a crash or a lost caller
    // from here on leaves a start without an outcome, never nothing.
    attempt.start(req.dry_run)?;
    match runner.run_action(integration, request).await {
        Ok(outcome) => {
            attempt.record(&outcome_text(&outcome, req.dry_run))?;
            Ok((action, outcome))
        }
        Err(error) => {
            attempt.record(&format!("failed: {error}"))?;
            Err(error)
        }
    }
}

/// The action and target user: the request's own, else the finding's
/// suggested action and first subject.
fn resolve_target(
    store: &dyn Backend,
    integration: &Integration,
    req: &ActRequest,
) -> Result<(String, Option<String>), PlatformError> {
    let finding = match req.finding_id {
        Some(id) => Some(store.finding(integration.id, id)?.ok_or_else(|| {
            PlatformError::NotFound(format!(
                "no finding {id} in integration `{}`",
                integration.name
            ))
        })?),
        None => None,
    };
    let action = match (req.action.trim(), &finding) {
        (given, _) if !given.is_empty() => given.to_owned(),
        (_, Some(f)) => f.finding.suggested_action.clone().ok_or_else(|| {
            PlatformError::InvalidInput(format!(
                "finding {} ({}) suggests no action; name one explicitly",
                f.id, f.finding.insight_id
            ))
        })?,
        (_, None) => {
            return Err(PlatformError::InvalidInput(
                "no action given: name one, or pass --finding ID".into(),
            ));
        }
    };
    let user = req
        .user
        .clone()
        .or_else(|| finding.and_then(|f| f.finding.subjects.into_iter().next()));
    Ok((action, user))
}

fn manifest_of(store: &dyn Backend, integration: &Integration) -> Result<Manifest, PlatformError> {
    store
        .plugin(&integration.plugin_id)?
        .map(|p| p.manifest)
        .ok_or_else(|| {
            PlatformError::NotFound(format!(
                "plugin `{}` of integration `{}` is not installed",
                integration.plugin_id, integration.name
            ))
        })
}
