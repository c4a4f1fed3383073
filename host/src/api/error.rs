//! API errors as `{"error": "...", "kind": "..."}` with a status that says
//! whose fault it is.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use oort_host::model::PluginError;
use oort_host::platform::PlatformError;
use oort_host::store::StoreError;

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
        let kind = crate::cli::platform_kind(&e);
        let status = match &e {
            PlatformError::InvalidInput(_) | PlatformError::InvalidConfig(_) => {
                StatusCode::BAD_REQUEST
            }
            PlatformError::NotFound(_) => StatusCode::NOT_FOUND,
            PlatformError::Refused(_) => StatusCode::FORBIDDEN,
            PlatformError::Plugin(PluginError::InvalidInput(_)) => StatusCode::BAD_REQUEST,
            // The plugin talked to the upstream service and it failed.
            PlatformError::Plugin(_) => StatusCode::BAD_GATEWAY,
            PlatformError::Sandbox(_) | PlatformError::Store(_) | PlatformError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let fields = match &e {
            PlatformError::InvalidConfig(errors) => serde_json::to_value(errors).ok(),
            _ => None,
        };
        ApiError {
            status,
            kind,
            message: e.to_string(),
            fields,
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
        let mut body = serde_json::json!({ "error": self.message, "kind": self.kind });
        if let Some(fields) = self.fields {
            body["fields"] = fields;
        }
        (self.status, Json(body)).into_response()
    }
}
