//! Duo's response envelope: `{"stat":"OK","response":...}` or
//! `{"stat":"FAIL","code":40103,"message":...,"message_detail":...}`.

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: u32,
    pub message: &'static str,
    pub detail: Option<String>,
}

impl ApiError {
    pub fn new(code: u32, message: &'static str) -> Self {
        ApiError {
            code,
            message,
            detail: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The 5-digit code is the HTTP status followed by a 2-digit reason.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16((self.code / 100) as u16).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn body(&self) -> Value {
        let mut v = json!({"stat": "FAIL", "code": self.code, "message": self.message});
        if let Some(d) = &self.detail {
            v["message_detail"] = Value::String(d.clone());
        }
        v
    }

    pub fn body_bytes(&self) -> Vec<u8> {
        Reply::Json(self.body()).into_bytes()
    }

    pub fn missing_credentials() -> Self {
        ApiError::new(40101, "Missing request credentials")
    }
    pub fn invalid_ikey() -> Self {
        ApiError::new(40102, "Invalid integration key in request credentials")
    }
    pub fn invalid_signature() -> Self {
        ApiError::new(40103, "Invalid signature in request credentials")
    }
    pub fn missing_timestamp() -> Self {
        ApiError::new(40104, "Missing request timestamp")
    }
    pub fn bad_timestamp() -> Self {
        ApiError::new(40105, "Bad request timestamp")
    }
    pub fn forbidden() -> Self {
        ApiError::new(40301, "Access forbidden")
    }
    pub fn not_found() -> Self {
        ApiError::new(40401, "Resource not found")
    }
    pub fn method_not_allowed() -> Self {
        ApiError::new(40501, "Method not allowed")
    }
    pub fn missing_param(name: &str) -> Self {
        ApiError::new(40001, "Missing required request parameters").detail(name)
    }
    pub fn invalid_param(detail: impl Into<String>) -> Self {
        ApiError::new(40002, "Invalid request parameters").detail(detail)
    }
    pub fn rate_limited() -> Self {
        ApiError::new(42901, "Too Many Requests")
    }
}

/// A successful response: a `Value`, or a body already serialized from typed structs
/// (the log pages, where building a `Value` tree first cost most of the time).
pub enum Reply {
    Json(Value),
    Raw(Vec<u8>),
}

impl Reply {
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            // Serializing a `Value` cannot fail: its keys are strings by construction.
            Reply::Json(v) => serde_json::to_vec(&v).unwrap_or_default(),
            Reply::Raw(bytes) => bytes,
        }
    }
}

pub fn ok(response: Value) -> Reply {
    Reply::Json(json!({"stat": "OK", "response": response}))
}

pub fn ok_with_metadata(response: Value, metadata: Value) -> Reply {
    Reply::Json(json!({"stat": "OK", "response": response, "metadata": metadata}))
}

#[derive(Serialize)]
struct OkEnvelope<'a, T> {
    stat: &'static str,
    response: &'a T,
}

/// `{"stat":"OK","response":...}` serialized straight from a typed response.
pub fn ok_typed<T: Serialize>(response: &T) -> ApiResult {
    serde_json::to_vec(&OkEnvelope {
        stat: "OK",
        response,
    })
    .map(Reply::Raw)
    .map_err(|e| {
        tracing::error!("serializing a response failed: {e}");
        ApiError::new(50001, "Unknown internal server error")
    })
}

pub type ApiResult = Result<Reply, ApiError>;
