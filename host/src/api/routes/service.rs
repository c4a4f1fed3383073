//! The service's own routes, for whoever runs it: liveness and readiness
//! for a load balancer or an orchestrator (no token, no Host check: they
//! say nothing about any tenant), and Prometheus metrics (which name
//! tenants and integrations, so a platform-wide operator's token).

use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::api::AppState;
use crate::api::auth::{Allowed, Viewer};

/// The process answers.
#[utoipa::path(get, path = "/healthz", tag = "service", security(), extensions(("x-oort-least-role" = json!("none"))), responses((status = 200, description = "The process answers: `{\"status\":\"alive\"}`.")))]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "alive"}))
}

/// Whether to send requests here: not while stopping, nor while the store
/// does not answer (503 with the reason).
#[utoipa::path(get, path = "/readyz", tag = "service", security(), extensions(("x-oort-least-role" = json!("none"))), responses((status = 200, description = "Ready: `{\"status\":\"ready\"}`."), (status = 503, description = "Stopping, or the store does not answer: `{\"status\",\"error\"}`.")))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.draining.load(Ordering::SeqCst) {
        let body = json!({"status": "stopping", "error": "the server is shutting down"});
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    }
    match state.platform.check_ready() {
        Ok(()) => Json(json!({"status": "ready"})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            let body = json!({"status": "unavailable", "error": e.to_string()});
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}

/// Prometheus' text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "service", extensions(("x-oort-least-role" = json!("viewer"))), responses((status = 200, description = "Prometheus text (OpenMetrics): runs, records, upstream requests, sandbox stops, scheduler lag and load, API latency.", content_type = "application/openmetrics-text")))]
pub async fn metrics(State(state): State<AppState>, _: Allowed<Viewer>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.platform.metrics().render(),
    )
        .into_response()
}
