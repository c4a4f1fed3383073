//! Route handlers. Request bodies are parsed by hand so a malformed body gets
//! the same JSON error shape as everything else.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, Uri};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use oort_host::actions::{self, ActRequest};
use oort_host::insights::{self, Thresholds};
use oort_host::model::{CheckStatus, CollectOptions};
use oort_host::platform::{NoProgress, PlatformError};
use oort_host::store::Integration;

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
    to_json(&state.platform.store().integrations(Some(&state.tenant))?)
}

fn integration_detail(state: &AppState, name: &str) -> ApiResult {
    let integration = find(state, name)?;
    let counts = state.platform.store().record_counts(integration.id)?;
    let mut doc = serde_json::to_value(&integration).unwrap_or_else(|_| json!({}));
    doc["secrets"] = integration
        .secret_fields
        .iter()
        .map(|f| (f.clone(), Value::from("set")))
        .collect::<serde_json::Map<_, _>>()
        .into();
    doc["records"] = counts
        .iter()
        .map(|(kind, count)| json!({ "kind": kind, "count": count }))
        .collect::<Vec<_>>()
        .into();
    Ok(Json(doc))
}

pub async fn integration(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult {
    integration_detail(&state, &name)
}

pub async fn test(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let integration = find(&state, &name)?;
    let platform = state.platform.clone();
    let target = integration.clone();
    let checks = detached(async move { platform.test_connectivity(&target).await }).await??;
    let ok = !checks.iter().any(|c| c.status == CheckStatus::Failed);
    Ok(Json(
        json!({ "integration": integration.name, "ok": ok, "checks": checks }),
    ))
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
    let s =
        detached(async move { platform.collect(&target, options, &NoProgress).await }).await??;
    let records: Vec<Value> = s
        .records
        .iter()
        .map(|(kind, count)| json!({ "kind": kind, "count": count }))
        .collect();
    Ok(Json(json!({
        "integration": integration.name,
        "records": records,
        "pages": s.pages,
        "more_remaining": s.more_remaining,
        "notes": s.notes,
    })))
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
    let store = state.platform.store().clone();
    let now = crate::cli::now_ms();
    // Evaluation is CPU-bound over every record; keep it off the async workers.
    let report = tokio::task::spawn_blocking(move || {
        insights::refresh(&store, integration.id, now, &Thresholds::default())
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("insights task failed: {e}"),
        )
    })??;
    to_json(&report)
}

pub async fn audit(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let integration = find(&state, &name)?;
    to_json(&state.platform.store().audit(Some(integration.id))?)
}

pub async fn actions(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let integration = find(&state, &name)?;
    to_json(&actions::available_actions(&state.platform, &integration)?)
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
        action: action.clone(),
        user: request.user,
        params: request.params.into_iter().collect(),
        actor: request.actor,
        reason: request.reason,
        dry_run: request.dry_run,
        finding_id: request.finding_id,
    };
    let platform = state.platform.clone();
    let target = integration.clone();
    let outcome =
        detached(async move { actions::act(&platform, &target, act_request).await }).await??;
    let details: serde_json::Map<String, Value> = outcome
        .details
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
        .collect();
    Ok(Json(json!({
        "integration": integration.name,
        "action": action,
        "status": outcome.status,
        "message": outcome.message,
        "details": details,
    })))
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
