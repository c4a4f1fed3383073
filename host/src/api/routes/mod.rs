//! Route handlers, one module per area. Request bodies are parsed by hand
//! ([`JsonBody`], [`body`]) so a malformed or oversized body gets the same
//! JSON error shape as everything else.

pub mod export;
pub mod integrations;
pub mod operations;
pub mod operators;
pub mod platform;
pub mod service;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{Method, StatusCode, Uri};
use serde::de::DeserializeOwned;
use serde_json::Value;

use oort_platform::PlatformError;
use oort_platform::data::Integration;

use super::{ApiError, AppState};

pub type ApiResult = Result<Json<Value>, ApiError>;

/// The largest request body accepted (the biggest is an integration with its
/// config and secrets): anything larger is refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn to_json<T: serde::Serialize>(value: &T) -> ApiResult {
    serde_json::to_value(value).map(Json).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("serializing the response: {e}"),
        )
    })
}

/// A request body, read under the server's body limit, whose failures are
/// JSON errors (413 for one too large) like every other.
pub struct JsonBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(request, state)
            .await
            .map(JsonBody)
            .map_err(|rejection| {
                unread_body(
                    rejection,
                    &format!("bodies are at most {MAX_BODY_BYTES} bytes"),
                )
            })
    }
}

/// A body that could not be read, as a JSON error (413 `too_large` when
/// over the route's limit, which `limit` states).
pub fn unread_body(rejection: BytesRejection, limit: &str) -> ApiError {
    let status = rejection.status();
    let kind = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "too_large"
    } else {
        "invalid_input"
    };
    ApiError::new(status, kind, format!("{} ({limit})", rejection.body_text()))
}

/// An absent or empty body means "all defaults".
pub fn body<T: DeserializeOwned + Default>(JsonBody(bytes): &JsonBody) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    required_body(&JsonBody(bytes.clone()))
}

/// A body the route cannot do without; unknown fields are refused by each
/// body type (`deny_unknown_fields`). An error names the field it is about.
pub fn required_body<T: DeserializeOwned>(JsonBody(bytes): &JsonBody) -> Result<T, ApiError> {
    let mut json = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let field = e.path().to_string();
        let why = e.into_inner();
        ApiError::bad_request(if field == "." {
            format!("request body is not valid JSON for this route: {why}")
        } else {
            format!("request body field `{field}`: {why}")
        })
    })
}

pub fn find(state: &AppState, tenant: &str, name: &str) -> Result<Integration, ApiError> {
    Ok(state.platform.integration(tenant, name)?)
}

/// Runs `work` to completion even if the client goes away: axum drops a
/// handler when its connection closes, and an action, test or collection
/// stopped half way would leave no audit entry, or a run never finished.
pub async fn detached<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::spawn(work)
        .await
        .map_err(|e| PlatformError::Internal(format!("the request's task failed: {e}")).into())
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
