//! What belongs to no tenant: who the caller is, the plugins, the operators
//! and the host's whole audit trail.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::Value;

use oort_platform::model::Role;

use super::{ApiResult, JsonBody, required_body, to_json};
use crate::api::auth::{Admin, Allowed, Caller};
use crate::api::{ApiError, AppState};

/// Who the token signs in as (the console's first call).
pub async fn session(Extension(caller): Extension<Caller>) -> ApiResult {
    to_json(&caller.0)
}

/// Every operator may see which plugins an integration can use.
pub async fn plugins(State(state): State<AppState>, _: Extension<Caller>) -> ApiResult {
    to_json(&state.platform.plugins()?)
}

pub async fn operators(State(state): State<AppState>, _: Allowed<Admin>) -> ApiResult {
    to_json(&state.platform.operators()?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OperatorBody {
    name: String,
    role: Role,
    /// The operator's tenant; absent for a platform-wide operator.
    #[serde(default)]
    tenant: Option<String>,
}

/// Adds an operator (a platform-wide admin's job), audited in the caller's
/// name.
pub async fn add_operator(
    State(state): State<AppState>,
    allowed: Allowed<Admin>,
    request: JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request: OperatorBody = required_body(&request)?;
    let operator = state.platform.add_operator(
        &allowed.caller.requester(),
        &request.name,
        request.role,
        request.tenant.as_deref(),
    )?;
    Ok((StatusCode::CREATED, to_json(&operator)?))
}

/// Every audit entry of the host, oldest first.
pub async fn audit(State(state): State<AppState>, _: Allowed<Admin>) -> ApiResult {
    to_json(&state.platform.full_audit_trail()?)
}
