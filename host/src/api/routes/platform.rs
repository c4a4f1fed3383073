//! What belongs to no tenant: who the caller is, the plugins, the operators
//! and the host's whole audit trail.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use oort_platform::MAX_PLUGIN_BYTES;
use oort_platform::data::{InstalledPlugin, Operator};
use oort_platform::model::Role;
use oort_platform::views::AuditLine;

use super::{ApiResult, JsonBody, detached, required_body, to_json, unread_body};
use crate::api::auth::{Admin, Allowed, Caller};
use crate::api::browser::WASM;
use crate::api::error::ErrorBody;
use crate::api::{ApiError, AppState};

/// Who the token signs in as (the console's first call).
#[utoipa::path(get, path = "/v1/session", tag = "platform", extensions(("x-oort-least-role" = json!("any"))), responses((status = 200, description = "The operator the token signs in as: name, role, tenant (null: platform-wide).", body = Operator)))]
pub async fn session(Extension(caller): Extension<Caller>) -> ApiResult {
    to_json(&caller.0)
}

/// Every operator may see which plugins an integration can use.
#[utoipa::path(get, path = "/v1/plugins", tag = "platform", extensions(("x-oort-least-role" = json!("any"))), responses((status = 200, description = "The installed plugins with their manifests (config fields, sources, actions).", body = Vec<InstalledPlugin>)))]
pub async fn plugins(State(state): State<AppState>, _: Extension<Caller>) -> ApiResult {
    to_json(&state.platform.plugins()?)
}

/// Installs a plugin component (the body, `Content-Type: application/wasm`),
/// or replaces the installed plugin of the same id: checked and
/// precompiled like `oort-host plugins install`, and audited.
#[utoipa::path(post, path = "/v1/plugins", tag = "platform", request_body(content = Vec<u8>, content_type = "application/wasm", description = "The component, at most 32 MiB."), extensions(("x-oort-least-role" = json!("admin"))), responses((status = 201, description = "The plugin as installed: id, WIT version, manifest, sha256.", body = InstalledPlugin), (status = 400, description = "Not a component the host accepts (the reason says why).", body = ErrorBody), (status = 413, description = "Over 32 MiB.", body = ErrorBody), (status = 415, description = "Not `application/wasm`.", body = ErrorBody)))]
pub async fn install(
    State(state): State<AppState>,
    allowed: Allowed<Admin>,
    headers: HeaderMap,
    wasm: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let wasm_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(WASM));
    if !wasm_type {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_input",
            format!("send the component itself as the body, with `Content-Type: {WASM}`"),
        ));
    }
    let wasm = wasm.map_err(|rejection| {
        let limit = format!(
            "a plugin component is at most {} MiB",
            MAX_PLUGIN_BYTES >> 20
        );
        unread_body(rejection, &limit)
    })?;
    let platform = state.platform.clone();
    let by = allowed.caller.requester();
    let installed = detached(async move { platform.install_bytes(&by, &wasm).await }).await??;
    Ok((StatusCode::CREATED, to_json(&installed)?))
}

/// Every operator, with role and tenant.
#[utoipa::path(get, path = "/v1/operators", tag = "platform", extensions(("x-oort-least-role" = json!("admin"))), responses((status = 200, description = "Every operator with role and tenant.", body = Vec<Operator>)))]
pub async fn operators(State(state): State<AppState>, _: Allowed<Admin>) -> ApiResult {
    to_json(&state.platform.operators()?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct OperatorBody {
    name: String,
    /// `admin`, `helpdesk` or `viewer`.
    #[schema(value_type = String)]
    role: Role,
    /// The operator's tenant; absent for a platform-wide operator.
    #[serde(default)]
    tenant: Option<String>,
}

/// Adds an operator (a platform-wide admin's job), audited in the caller's
/// name.
#[utoipa::path(post, path = "/v1/operators", tag = "platform", request_body = OperatorBody, extensions(("x-oort-least-role" = json!("admin"))), responses((status = 201, description = "The operator added.", body = Operator), (status = 409, description = "The name is taken.", body = ErrorBody)))]
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
#[utoipa::path(get, path = "/v1/audit", tag = "platform", extensions(("x-oort-least-role" = json!("admin"))), responses((status = 200, description = "Every audit entry of the host, oldest first.", body = Vec<AuditLine>)))]
pub async fn audit(State(state): State<AppState>, _: Allowed<Admin>) -> ApiResult {
    to_json(&state.platform.full_audit_trail()?)
}
