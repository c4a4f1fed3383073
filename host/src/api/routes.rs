//! Route handlers. Request bodies are parsed by hand so a malformed body gets
//! the same JSON error shape as everything else.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, Uri};
use axum::{Extension, Json};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use oort_platform::ActRequest;
use oort_platform::data::Integration;
use oort_platform::model::CollectOptions;
use oort_platform::views::{CollectReport, TestReport};
use oort_platform::{NoProgress, PlatformError};

use super::auth::{Admin, Allowed, Caller, Helpdesk, Viewer};
use super::{ApiError, AppState};

type ApiResult = Result<Json<Value>, ApiError>;

fn to_json<T: serde::Serialize>(value: &T) -> ApiResult {
    serde_json::to_value(value).map(Json).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("serializing the response: {e}"),
        )
    })
}

/// An absent or empty body means "all defaults".
fn body<T: DeserializeOwned + Default>(bytes: &Bytes) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "request body is not valid JSON for this route: {e}"
        ))
    })
}

fn find(state: &AppState, tenant: &str, name: &str) -> Result<Integration, ApiError> {
    Ok(state.platform.integration(tenant, name)?)
}

/// Who the token signs in as (the console's first call).
pub async fn session(Extension(caller): Extension<Caller>) -> ApiResult {
    to_json(&caller.0)
}

/// Every operator may see which plugins an integration can use.
pub async fn plugins(State(state): State<AppState>, _: Extension<Caller>) -> ApiResult {
    to_json(&state.platform.plugins()?)
}

pub async fn integrations(
    State(state): State<AppState>,
    _: Allowed<Viewer>,
    Path(tenant): Path<String>,
) -> ApiResult {
    to_json(&state.platform.integrations(&tenant)?)
}

pub async fn integration(
    State(state): State<AppState>,
    _: Allowed<Viewer>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult {
    let integration = find(&state, &tenant, &name)?;
    to_json(&state.platform.integration_detail(integration)?)
}

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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CollectBody {
    #[serde(default)]
    max_pages: Option<u32>,
    #[serde(default)]
    sources: Vec<String>,
}

pub async fn collect(
    State(state): State<AppState>,
    _: Allowed<Admin>,
    Path((tenant, name)): Path<(String, String)>,
    bytes: Bytes,
) -> ApiResult {
    let request: CollectBody = body(&bytes)?;
    let integration = find(&state, &tenant, &name)?;
    let options = CollectOptions {
        sources: request.sources,
        max_pages: request.max_pages,
    };
    let platform = state.platform.clone();
    let target = integration.clone();
    let summary =
        detached(async move { platform.collect(&target, options, &NoProgress).await }).await??;
    to_json(&CollectReport::new(&integration.name, summary))
}

/// Runs `work` to completion even if the client goes away: axum drops a
/// handler when its connection closes, and an action, test or collection
/// stopped half way would leave no audit entry, or a run never finished.
async fn detached<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::spawn(work)
        .await
        .map_err(|e| PlatformError::Internal(format!("the request's task failed: {e}")).into())
}

pub async fn insights(
    State(state): State<AppState>,
    allowed: Allowed<Viewer>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult {
    let integration = find(&state, &tenant, &name)?;
    let by = allowed.caller.requester();
    to_json(&state.platform.refresh_insights(&by, &integration).await?)
}

pub async fn audit(
    State(state): State<AppState>,
    _: Allowed<Viewer>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult {
    let integration = find(&state, &tenant, &name)?;
    to_json(&state.platform.audit_trail(&integration)?)
}

pub async fn actions(
    State(state): State<AppState>,
    _: Allowed<Viewer>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult {
    let integration = find(&state, &tenant, &name)?;
    to_json(&state.platform.actions(&integration)?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActBody {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    finding_id: Option<i64>,
    #[serde(default)]
    params: std::collections::BTreeMap<String, String>,
}

/// The actor is the signed-in operator: the body cannot name another (an
/// `actor` field is refused as unknown). The action's own role is checked
/// by the platform on top of the route's.
pub async fn act(
    State(state): State<AppState>,
    allowed: Allowed<Helpdesk>,
    Path((tenant, name, action)): Path<(String, String, String)>,
    bytes: Bytes,
) -> ApiResult {
    let request: ActBody = body(&bytes)?;
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

pub async fn no_route(uri: Uri) -> ApiError {
    ApiError::not_found(format!(
        "no route {}; routes live under /v1 (see `oort-host serve --help`)",
        uri.path()
    ))
}

pub async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_input",
        format!("{method} is not allowed on {}", uri.path()),
    )
}
