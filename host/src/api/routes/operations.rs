//! What operators do with an integration: Test Connectivity, Collect Now,
//! insights, its audit trail, and actions.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use oort_platform::ActRequest;
use oort_platform::NoProgress;
use oort_platform::data::RunId;
use oort_platform::insights::Report;
use oort_platform::model::CollectOptions;
use oort_platform::views::{ActReport, ActionView, AuditLine, CollectReport, TestReport};

use super::{ApiResult, JsonBody, body, detached, find, to_json};
use crate::api::auth::{Admin, Allowed, Helpdesk, Viewer};
use crate::api::error::ErrorBody;
use crate::api::{ApiError, AppState};

/// Runs Test Connectivity: one check per capability, each with its remedy.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/integrations/{name}/test", tag = "operations", extensions(("x-oort-least-role" = json!("helpdesk"))), responses((status = 200, description = "Every check with its status and remedy, and `ok`.", body = TestReport), (status = 409, description = "The integration is disabled.", body = ErrorBody)))]
pub async fn test(
    State(state): State<AppState>,
    _: Allowed<Helpdesk>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult {
    let integration = find(&state, &tenant, &name)?;
    let platform = state.platform.clone();
    let target = integration.clone();
    let checks = detached(async move { platform.test_connectivity(&target).await }).await??;
    to_json(&TestReport::new(&integration.name, checks))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CollectBody {
    /// Stop after this many pages per source (the next run continues).
    #[serde(default)]
    max_pages: Option<u32>,
    /// Only these sources; default all.
    #[serde(default)]
    sources: Vec<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CollectQuery {
    /// Answer when the run has ended, with its report, instead of at once.
    #[serde(default)]
    wait: bool,
}

/// A Collect Now just queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedRun {
    integration: String,
    run_id: RunId,
    /// `running`: poll the run for its progress and outcome.
    #[schema(value_type = String)]
    status: &'static str,
    /// The run's path, as in `Location`.
    run: String,
}

/// Collect Now: queued at once, answered 202 with the run to poll
/// (`GET .../runs/{id}`: progress while it runs, then the summary); with
/// `?wait=true`, answered 200 with the report once it has ended. A
/// collection already running is 409 either way.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/integrations/{name}/collect", tag = "operations", params(CollectQuery), request_body(content = Option<CollectBody>, description = "Optional: limits of this run."), extensions(("x-oort-least-role" = json!("admin"))), responses((status = 202, description = "Queued: the run to poll, also named by `Location`.", body = QueuedRun), (status = 200, description = "With `?wait=true`: the collect report once the run ended.", body = CollectReport), (status = 409, description = "Already being collected, or disabled.", body = ErrorBody)))]
pub async fn collect(
    State(state): State<AppState>,
    _: Allowed<Admin>,
    Path((tenant, name)): Path<(String, String)>,
    query: Result<Query<CollectQuery>, QueryRejection>,
    request: JsonBody,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let request: CollectBody = body(&request)?;
    let integration = find(&state, &tenant, &name)?;
    let options = CollectOptions {
        sources: request.sources,
        max_pages: request.max_pages,
    };
    let platform = state.platform.clone();
    if query.wait {
        let target = integration.clone();
        let summary =
            detached(async move { platform.collect(&target, options, &NoProgress).await })
                .await??;
        return Ok(to_json(&CollectReport::new(&integration.name, summary))?.into_response());
    }
    let run_id = platform.queue_collection(integration.clone(), options)?;
    let run = format!(
        "/v1/tenants/{}/integrations/{}/runs/{run_id}",
        integration.tenant, integration.name
    );
    let body = to_json(&QueuedRun {
        integration: integration.name,
        run_id,
        status: "running",
        run: run.clone(),
    })?;
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, run)], body).into_response())
}

/// The integration's findings and MFA posture, as last refreshed.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/integrations/{name}/insights", tag = "operations", extensions(("x-oort-least-role" = json!("viewer"))), responses((status = 200, description = "Findings (most severe first) and the MFA posture.", body = Report)))]
pub async fn insights(
    State(state): State<AppState>,
    allowed: Allowed<Viewer>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult {
    let integration = find(&state, &tenant, &name)?;
    let by = allowed.caller.requester();
    to_json(&state.platform.refresh_insights(&by, &integration).await?)
}

/// The integration's audit trail, oldest first.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/integrations/{name}/audit", tag = "operations", extensions(("x-oort-least-role" = json!("viewer"))), responses((status = 200, description = "The integration's audit trail, oldest first.", body = Vec<AuditLine>)))]
pub async fn audit(
    State(state): State<AppState>,
    _: Allowed<Viewer>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult {
    let integration = find(&state, &tenant, &name)?;
    to_json(&state.platform.audit_trail(&integration)?)
}

/// The actions the integration's plugin offers, and why each one that is
/// off is off.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/integrations/{name}/actions", tag = "operations", extensions(("x-oort-least-role" = json!("viewer"))), responses((status = 200, description = "The plugin's actions, each with its minimum role and why it is off, if it is.", body = Vec<ActionView>)))]
pub async fn actions(
    State(state): State<AppState>,
    _: Allowed<Viewer>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult {
    let integration = find(&state, &tenant, &name)?;
    to_json(&state.platform.actions(&integration)?)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ActBody {
    /// The target user (default: the finding's first subject).
    #[serde(default)]
    user: Option<String>,
    /// Why, kept in the audit trail.
    #[serde(default)]
    reason: Option<String>,
    /// Check and describe the action without changing anything.
    #[serde(default)]
    dry_run: bool,
    /// The finding this action remediates (its suggested action and user).
    #[serde(default)]
    finding_id: Option<i64>,
    /// The action's other parameters, by name.
    #[serde(default)]
    params: std::collections::BTreeMap<String, String>,
}

/// The actor is the signed-in operator: the body cannot name another (an
/// `actor` field is refused as unknown). The action's own role is checked
/// by the platform on top of the route's.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/integrations/{name}/actions/{action}", tag = "operations", request_body = ActBody, extensions(("x-oort-least-role" = json!("helpdesk"))), responses((status = 200, description = "The action's outcome; audited whatever happens.", body = ActReport), (status = 409, description = "The integration is disabled.", body = ErrorBody)))]
pub async fn act(
    State(state): State<AppState>,
    allowed: Allowed<Helpdesk>,
    Path((tenant, name, action)): Path<(String, String, String)>,
    request: JsonBody,
) -> ApiResult {
    let request: ActBody = body(&request)?;
    let integration = find(&state, &tenant, &name)?;
    let act_request = ActRequest {
        action,
        user: request.user,
        params: request.params.into_iter().collect(),
        actor: allowed.caller.0.name,
        reason: request.reason,
        dry_run: request.dry_run,
        finding_id: request.finding_id,
    };
    let platform = state.platform.clone();
    let report = detached(async move { platform.act(&integration, act_request).await }).await??;
    to_json(&report)
}
