//! Route handlers. Request bodies are parsed by hand so a malformed body gets
//! the same JSON error shape as everything else.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, Uri};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use oort_platform::ActRequest;
use oort_platform::data::Integration;
use oort_platform::model::CollectOptions;
use oort_platform::views::{CollectReport, TestReport};
use oort_platform::{NoProgress, PlatformError, Requester};

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

fn find(state: &AppState, name: &str) -> Result<Integration, ApiError> {
    Ok(state.platform.integration(&state.tenant, name)?)
}

pub async fn plugins(State(state): State<AppState>) -> ApiResult {
    to_json(&state.platform.plugins()?)
}

pub async fn integrations(State(state): State<AppState>) -> ApiResult {
    to_json(&state.platform.integrations(&state.tenant)?)
}

pub async fn integration(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let integration = find(&state, &name)?;
    to_json(&state.platform.integration_detail(integration)?)
}

pub async fn test(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let integration = find(&state, &name)?;
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
    Path(name): Path<String>,
    bytes: Bytes,
) -> ApiResult {
    let request: CollectBody = body(&bytes)?;
    let integration = find(&state, &name)?;
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

pub async fn insights(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let integration = find(&state, &name)?;
    let by = Requester::local("oort-host serve (HTTP API)");
    to_json(&state.platform.refresh_insights(&by, &integration).await?)
}

pub async fn audit(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let integration = find(&state, &name)?;
    to_json(&state.platform.audit_trail(&integration)?)
}

pub async fn actions(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let integration = find(&state, &name)?;
    to_json(&state.platform.actions(&integration)?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActBody {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    finding_id: Option<i64>,
    #[serde(default)]
    params: std::collections::BTreeMap<String, String>,
}

pub async fn act(
    State(state): State<AppState>,
    Path((name, action)): Path<(String, String)>,
    bytes: Bytes,
) -> ApiResult {
    let request: ActBody = body(&bytes)?;
    if request.actor.trim().is_empty() {
        return Err(ApiError::bad_request(
            "`actor` is required: the operator running the action (see `oort-host operators list`)",
        ));
    }
    let integration = find(&state, &name)?;
    let act_request = ActRequest {
        action,
        user: request.user,
        params: request.params.into_iter().collect(),
        actor: request.actor,
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
