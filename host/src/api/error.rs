//! API errors as `{"error": "...", "kind": "..."}` with a status that says
//! whose fault it is.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use oort_platform::data::StoreError;
use oort_platform::model::PluginError;
use oort_platform::{ErrorKind, PlatformError};

/// The body of every error answer (the OpenAPI document's `ErrorBody`).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, and what to do about it.
    error: String,
    /// Stable: `invalid_input`, `invalid_config`, `not_found`, `conflict`,
    /// `refused`, `unauthenticated`, `too_large`, `unavailable`, `plugin`,
    /// `sandbox`, `store`, `internal`.
    kind: &'static str,
    /// With `invalid_config`: `[{"field", "message"}]`, one per field.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    fields: Option<serde_json::Value>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
    pub fields: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            message: message.into(),
            fields: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
}

impl From<PlatformError> for ApiError {
    fn from(e: PlatformError) -> ApiError {
        let status = match e.kind() {
            ErrorKind::InvalidInput | ErrorKind::InvalidConfig => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Refused => StatusCode::FORBIDDEN,
            ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            // The plugin refused what the operator asked for.
            ErrorKind::Plugin
                if matches!(e, PlatformError::Plugin(PluginError::InvalidInput(_))) =>
            {
                StatusCode::BAD_REQUEST
            }
            // The plugin talked to the upstream service and it failed.
            ErrorKind::Plugin => StatusCode::BAD_GATEWAY,
            ErrorKind::Sandbox | ErrorKind::Store | ErrorKind::Internal => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        ApiError {
            status,
            kind: e.kind().as_str(),
            message: e.to_string(),
            fields: e
                .field_errors()
                .and_then(|errors| serde_json::to_value(errors).ok()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        PlatformError::Store(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(kind = self.kind, error = %self.message, "request failed");
        }
        let body = ErrorBody {
            error: self.message,
            kind: self.kind,
            fields: self.fields,
        };
        (self.status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_answer_by_their_kind() {
        let status = |e: StoreError| ApiError::from(e).status;
        assert_eq!(
            status(StoreError::Conflict("operator `ana` exists".into())),
            StatusCode::CONFLICT
        );
        assert_eq!(
            status(StoreError::NotFound("no integration `x`".into())),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            status(StoreError::Invalid("bad name".into())),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(StoreError::Unavailable("database is locked".into())),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            status(StoreError::Corrupt("unreadable".into())),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let conflict = ApiError::from(StoreError::Conflict("operator `ana` exists".into()));
        assert_eq!(conflict.kind, "conflict");
        assert!(conflict.message.contains("ana"));
    }
}
