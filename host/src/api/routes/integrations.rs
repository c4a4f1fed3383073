//! One tenant's integrations: list, show, create (secrets in the body, never
//! sent back), update (config, secret rotation), enable and disable, remove,
//! their collection schedule and their run history.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use oort_platform::data::{Integration, Run, SecretValue};
use oort_platform::model::Role;
use oort_platform::views::{IntegrationDetail, Removed, ScheduleView};
use oort_platform::{AddIntegration, IntegrationUpdate, Scope};

use super::{ApiResult, JsonBody, detached, find, required_body, to_json};
use crate::api::auth::{Admin, Allowed, Viewer};
use crate::api::error::ErrorBody;
use crate::api::{ApiError, AppState};

/// The tenant's integrations.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/integrations", tag = "integrations", extensions(("x-oort-least-role" = json!("viewer"))), responses((status = 200, description = "The tenant's integrations (secrets only as field names).", body = Vec<Integration>)))]
pub async fn list(
    State(state): State<AppState>,
    _: Allowed<Viewer>,
    Path(tenant): Path<String>,
) -> ApiResult {
    to_json(&state.platform.integrations(&tenant)?)
}

/// One integration: its settings (secrets as `"set"`), whether it is
/// enabled, its record counts, latest runs and schedule.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/integrations/{name}", tag = "integrations", extensions(("x-oort-least-role" = json!("viewer"))), responses((status = 200, description = "Config, secrets as `\"set\"`, enabled, record counts, latest runs, schedule.", body = IntegrationDetail), (status = 404, description = "No such integration in this tenant.", body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    _: Allowed<Viewer>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult {
    let integration = find(&state, &tenant, &name)?;
    to_json(&state.platform.integration_detail(integration)?)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewIntegrationBody {
    name: String,
    plugin: String,
    #[serde(default)]
    config: BTreeMap<String, String>,
    /// Write-only: stored encrypted, answered as `"set"`.
    #[serde(default)]
    secrets: BTreeMap<String, String>,
    /// Operator overrides for tests and simulators: a platform-wide admin's.
    #[serde(default)]
    api_base_url: Option<String>,
    #[serde(default)]
    granted_capabilities: Vec<String>,
}

/// Creates an integration after the plugin validated its config (field
/// errors answer 400 with `fields`); 201 with the integration as `show`.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/integrations", tag = "integrations", request_body = NewIntegrationBody, extensions(("x-oort-least-role" = json!("admin"))), responses((status = 201, description = "The integration as `GET .../{name}` shows it; secrets as `\"set\"`.", body = IntegrationDetail), (status = 400, description = "Field errors in `fields`; nothing stored.", body = ErrorBody), (status = 409, description = "The name is taken in this tenant.", body = ErrorBody), (status = 413, description = "The body is over 64 KiB.", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    allowed: Allowed<Admin>,
    Path(tenant): Path<String>,
    request: JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request: NewIntegrationBody = required_body(&request)?;
    if request.api_base_url.is_some() || !request.granted_capabilities.is_empty() {
        // Pointing a plugin at a loopback port, or granting it more than
        // its defaults, reaches beyond one tenant.
        let via =
            format!("POST /v1/tenants/{tenant}/integrations (api_base_url, granted_capabilities)");
        state
            .platform
            .authorize(&allowed.caller.0, Scope::Platform, Role::Admin, &via)?;
    }
    let add = AddIntegration {
        tenant,
        name: request.name,
        plugin_id: request.plugin,
        config: request.config.into_iter().collect(),
        secrets: request
            .secrets
            .into_iter()
            .map(|(field, value)| (field, SecretValue::new(value.into_bytes())))
            .collect(),
        api_base_url: request.api_base_url,
        granted_capabilities: request.granted_capabilities,
    };
    let platform = state.platform.clone();
    let by = allowed.caller.requester();
    let integration = detached(async move { platform.add_integration(&by, add).await }).await??;
    let detail = state.platform.integration_detail(integration)?;
    Ok((StatusCode::CREATED, to_json(&detail)?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    /// Field to value, or to `null` to unset it (the default applies).
    #[serde(default)]
    config: BTreeMap<String, Option<String>>,
    /// Field to its new value (write-only), or to `null` to clear it.
    #[serde(default)]
    secrets: BTreeMap<String, Option<String>>,
}

/// Changes the config or rotates secrets; fields the body does not name
/// keep their values. Validated like a new integration (400 with `fields`,
/// nothing stored); answers the integration as `show`.
#[utoipa::path(patch, path = "/v1/tenants/{tenant}/integrations/{name}", tag = "integrations", request_body = UpdateBody, extensions(("x-oort-least-role" = json!("admin"))), responses((status = 200, description = "The integration as `GET` shows it.", body = IntegrationDetail), (status = 400, description = "Field errors in `fields`; nothing stored.", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    allowed: Allowed<Admin>,
    Path((tenant, name)): Path<(String, String)>,
    request: JsonBody,
) -> ApiResult {
    let request: UpdateBody = required_body(&request)?;
    let integration = find(&state, &tenant, &name)?;
    let update = IntegrationUpdate {
        config: request.config.into_iter().collect(),
        secrets: request
            .secrets
            .into_iter()
            .map(|(field, value)| (field, value.map(|v| SecretValue::new(v.into_bytes()))))
            .collect(),
    };
    let platform = state.platform.clone();
    let by = allowed.caller.requester();
    let updated =
        detached(async move { platform.update_integration(&by, &integration, update).await })
            .await??;
    to_json(&state.platform.integration_detail(updated)?)
}

/// Enables the integration: due at once, resuming from its checkpoints.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/integrations/{name}/enable", tag = "integrations", extensions(("x-oort-least-role" = json!("admin"))), responses((status = 200, description = "The integration, enabled and due now.", body = IntegrationDetail)))]
pub async fn enable(
    state: State<AppState>,
    allowed: Allowed<Admin>,
    path: Path<(String, String)>,
) -> ApiResult {
    set_enabled(state, allowed, path, true)
}

/// Disables the integration: kept and readable, but not collected, and
/// test, collect and actions answer 409 until it is enabled again.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/integrations/{name}/disable", tag = "integrations", extensions(("x-oort-least-role" = json!("admin"))), responses((status = 200, description = "The integration, disabled.", body = IntegrationDetail)))]
pub async fn disable(
    state: State<AppState>,
    allowed: Allowed<Admin>,
    path: Path<(String, String)>,
) -> ApiResult {
    set_enabled(state, allowed, path, false)
}

fn set_enabled(
    State(state): State<AppState>,
    allowed: Allowed<Admin>,
    Path((tenant, name)): Path<(String, String)>,
    enabled: bool,
) -> ApiResult {
    let integration = find(&state, &tenant, &name)?;
    let changed = state
        .platform
        .set_enabled(&allowed.caller.requester(), &integration, enabled)?;
    to_json(&state.platform.integration_detail(changed)?)
}

/// Removes the integration and everything collected for it (the audit
/// trail stays).
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/integrations/{name}", tag = "integrations", extensions(("x-oort-least-role" = json!("admin"))), responses((status = 200, description = "`{\"removed\": name}`; its records, secrets, runs and findings are gone, the audit trail stays.", body = Removed)))]
pub async fn remove(
    State(state): State<AppState>,
    allowed: Allowed<Admin>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult {
    let integration = find(&state, &tenant, &name)?;
    state
        .platform
        .remove_integration(&allowed.caller.requester(), &integration)?;
    to_json(&Removed {
        removed: integration.name,
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ScheduleBody {
    /// How often `serve` collects it: 1 s to 7 days.
    interval_seconds: u64,
}

/// When the integration is collected next, and how its scheduled runs go.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/integrations/{name}/schedule", tag = "integrations", extensions(("x-oort-least-role" = json!("viewer"))), responses((status = 200, description = "Interval, next due time, failures in a row and the last error, who collects it now.", body = ScheduleView)))]
pub async fn schedule(
    State(state): State<AppState>,
    _: Allowed<Viewer>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult {
    let integration = find(&state, &tenant, &name)?;
    to_json(&state.platform.schedule(&integration)?)
}

/// Sets how often `serve` collects the integration (body
/// `{"interval_seconds"}`); answers the schedule.
#[utoipa::path(put, path = "/v1/tenants/{tenant}/integrations/{name}/schedule", tag = "integrations", request_body = ScheduleBody, extensions(("x-oort-least-role" = json!("admin"))), responses((status = 200, description = "The schedule.", body = ScheduleView), (status = 400, description = "Out of range (1 s to 7 days).", body = ErrorBody)))]
pub async fn set_schedule(
    State(state): State<AppState>,
    allowed: Allowed<Admin>,
    Path((tenant, name)): Path<(String, String)>,
    request: JsonBody,
) -> ApiResult {
    let request: ScheduleBody = required_body(&request)?;
    let integration = find(&state, &tenant, &name)?;
    let every = std::time::Duration::from_secs(request.interval_seconds);
    to_json(&state.platform.set_collection_interval(
        &allowed.caller.requester(),
        &integration,
        every,
    )?)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RunsQuery {
    /// How many (1 to 1000, default 50).
    limit: Option<usize>,
}

/// The most runs one request lists.
const MAX_RUNS: usize = 1_000;

/// The latest runs, newest first (`?limit=`, default 50, at most 1000).
#[utoipa::path(get, path = "/v1/tenants/{tenant}/integrations/{name}/runs", tag = "integrations", params(RunsQuery), extensions(("x-oort-least-role" = json!("viewer"))), responses((status = 200, description = "The latest runs, newest first.", body = Vec<Run>)))]
pub async fn runs(
    State(state): State<AppState>,
    _: Allowed<Viewer>,
    Path((tenant, name)): Path<(String, String)>,
    query: Result<Query<RunsQuery>, QueryRejection>,
) -> ApiResult {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = query.limit.unwrap_or(50);
    if limit == 0 || limit > MAX_RUNS {
        return Err(ApiError::bad_request(format!(
            "`limit` is between 1 and {MAX_RUNS}"
        )));
    }
    let integration = find(&state, &tenant, &name)?;
    to_json(&state.platform.runs(&integration, limit)?)
}

/// One run: while a collection runs, its progress (pages, records by
/// source); once it ended, its outcome and summary.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/integrations/{name}/runs/{run}", tag = "integrations", extensions(("x-oort-least-role" = json!("viewer"))), responses((status = 200, description = "One run: `progress` (pages, records by source) while it runs, then `status`, `summary`, `error`.", body = Run), (status = 404, description = "No such run of this integration.", body = ErrorBody)))]
pub async fn run(
    State(state): State<AppState>,
    _: Allowed<Viewer>,
    Path((tenant, name, id)): Path<(String, String, String)>,
) -> ApiResult {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("`{id}` is not a run id (a number)")))?;
    let integration = find(&state, &tenant, &name)?;
    to_json(&state.platform.run(&integration, id)?)
}
