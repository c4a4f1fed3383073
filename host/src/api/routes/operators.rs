//! A tenant's operators and their API tokens, managed by the tenant's own
//! admins (and platform-wide ones): list and add operators, issue a token
//! (its value is in that one answer and nowhere else), list and revoke
//! tokens. Operators of other tenants and platform-wide ones are out of
//! reach: they are not found here.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use oort_platform::data::{ApiToken, Operator};
use oort_platform::model::Role;
use oort_platform::views::IssuedTokenView;

use super::{ApiResult, JsonBody, body, required_body, to_json};
use crate::api::auth::{Admin, Allowed};
use crate::api::error::ErrorBody;
use crate::api::{ApiError, AppState};

/// The operators working in the tenant.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/operators", tag = "operators", extensions(("x-oort-least-role" = json!("admin"))), responses((status = 200, description = "The tenant's operators: name, role, tenant.", body = Vec<Operator>)))]
pub async fn list(
    State(state): State<AppState>,
    _: Allowed<Admin>,
    Path(tenant): Path<String>,
) -> ApiResult {
    to_json(&state.platform.tenant_operators(&tenant)?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TenantOperatorBody {
    name: String,
    /// `admin`, `helpdesk` or `viewer`.
    #[schema(value_type = String)]
    role: Role,
}

/// Adds an operator to the tenant (the tenant is the path's).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/operators", tag = "operators", request_body = TenantOperatorBody, extensions(("x-oort-least-role" = json!("admin"))), responses((status = 201, description = "The operator added.", body = Operator), (status = 409, description = "The name is taken.", body = ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    allowed: Allowed<Admin>,
    Path(tenant): Path<String>,
    request: JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request: TenantOperatorBody = required_body(&request)?;
    let operator = state.platform.add_operator(
        &allowed.caller.requester(),
        &request.name,
        request.role,
        Some(&tenant),
    )?;
    Ok((StatusCode::CREATED, to_json(&operator)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewTokenBody {
    /// What the token is for, e.g. `console`.
    #[serde(default)]
    label: String,
    /// Days until it expires: 1 to 3650, default 90.
    #[serde(default = "default_days")]
    expires_in_days: u32,
    /// A token that never expires (revoke it when no longer needed).
    #[serde(default)]
    no_expiry: bool,
}

impl Default for NewTokenBody {
    fn default() -> Self {
        NewTokenBody {
            label: String::new(),
            expires_in_days: default_days(),
            no_expiry: false,
        }
    }
}

fn default_days() -> u32 {
    90
}

/// Issues an API token for the operator. A tenant's admin may issue one
/// for themselves and for the tenant's operators below admin.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/operators/{operator}/tokens", tag = "operators", request_body(content = Option<NewTokenBody>, description = "Optional: label and lifetime."), extensions(("x-oort-least-role" = json!("admin"))), responses((status = 201, description = "The token's id, label and expiry, and `token`: its value, shown this once and stored only as a hash.", body = IssuedTokenView), (status = 404, description = "No such operator in the tenant.", body = ErrorBody)))]
pub async fn issue(
    State(state): State<AppState>,
    allowed: Allowed<Admin>,
    Path((tenant, operator)): Path<(String, String)>,
    request: JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request: NewTokenBody = body(&request)?;
    // The platform refuses a lifetime out of range (400).
    let lifetime = (!request.no_expiry)
        .then(|| Duration::from_secs(u64::from(request.expires_in_days) * 86_400));
    let target = state.platform.tenant_operator(&tenant, &operator)?;
    let issued =
        state
            .platform
            .issue_token_for(&allowed.caller.0, &target, &request.label, lifetime)?;
    Ok((
        StatusCode::CREATED,
        to_json(&IssuedTokenView::new(&issued)?)?,
    ))
}

/// The operator's tokens (never their values): id, label, expiry, revocation.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/operators/{operator}/tokens", tag = "operators", extensions(("x-oort-least-role" = json!("admin"))), responses((status = 200, description = "The tokens, oldest first.", body = Vec<ApiToken>)))]
pub async fn tokens(
    State(state): State<AppState>,
    _: Allowed<Admin>,
    Path((tenant, operator)): Path<(String, String)>,
) -> ApiResult {
    let operator = state.platform.tenant_operator(&tenant, &operator)?;
    to_json(&state.platform.tokens(Some(&operator.name))?)
}

/// Revokes one of the operator's tokens for good.
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/operators/{operator}/tokens/{token}", tag = "operators", extensions(("x-oort-least-role" = json!("admin"))), responses((status = 200, description = "The token, revoked.", body = ApiToken), (status = 404, description = "The operator has no such token.", body = ErrorBody), (status = 409, description = "Already revoked.", body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    allowed: Allowed<Admin>,
    Path((tenant, operator, token)): Path<(String, String, String)>,
) -> ApiResult {
    let id: i64 = token
        .parse()
        .map_err(|_| ApiError::bad_request(format!("`{token}` is not a token id (a number)")))?;
    let operator = state.platform.tenant_operator(&tenant, &operator)?;
    to_json(
        &state
            .platform
            .revoke_token_of(&allowed.caller.requester(), &operator, id)?,
    )
}
