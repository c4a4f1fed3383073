//! `oort-host serve`: a small JSON HTTP API over the same [`Platform`] the
//! CLI uses.
//!
//! There is no authentication of API callers yet: the operator is whoever the
//! request's `actor` field names, and the actions module checks that
//! operator's role. That is only acceptable on loopback, which is the default.

mod error;
mod routes;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

use oort_platform::Platform;

pub use error::ApiError;

#[derive(Clone)]
pub struct AppState {
    pub platform: Arc<Platform>,
    /// The tenant this server serves (the `--tenant` it was started with).
    pub tenant: String,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/plugins", get(routes::plugins))
        .route("/v1/integrations", get(routes::integrations))
        .route("/v1/integrations/{name}", get(routes::integration))
        .route("/v1/integrations/{name}/test", post(routes::test))
        .route("/v1/integrations/{name}/collect", post(routes::collect))
        .route("/v1/integrations/{name}/insights", get(routes::insights))
        .route("/v1/integrations/{name}/audit", get(routes::audit))
        .route("/v1/integrations/{name}/actions", get(routes::actions))
        .route(
            "/v1/integrations/{name}/actions/{action}",
            post(routes::act),
        )
        .fallback(routes::no_route)
        .method_not_allowed_fallback(routes::wrong_method)
        .layer(middleware::from_fn(refuse_browser_requests))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// The API does not authenticate callers, so it must at least not be
/// drivable by a web page the operator happens to visit: a POST must carry
/// `Content-Type: application/json` (which a cross-site page cannot send
/// without a CORS preflight this server never grants), and the Host header
/// must name a loopback host (which defeats DNS rebinding).
async fn refuse_browser_requests(request: Request, next: Next) -> Response {
    use axum::http::{Method, StatusCode, header};
    use axum::response::IntoResponse;

    let host_ok = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_none_or(is_loopback_host);
    if !host_ok {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "refused",
            "the Host header must name a loopback address (localhost, 127.0.0.1 or [::1])",
        )
        .into_response();
    }
    if request.method() == Method::POST {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !json {
            return ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid_input",
                "POST requests must send `Content-Type: application/json`",
            )
            .into_response();
        }
    }
    next.run(request).await
}

/// `host[:port]` names a loopback address.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::info!(%method, %path, status = response.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "request");
    response
}

pub async fn serve(
    platform: Arc<Platform>,
    tenant: String,
    listen: SocketAddr,
) -> anyhow::Result<u8> {
    if !listen.ip().is_loopback() {
        anyhow::bail!(
            "refusing to listen on {listen}: the API does not authenticate callers yet, so it only \
             serves loopback addresses (use --listen 127.0.0.1:PORT and a reverse proxy that authenticates)"
        );
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!("binding {listen} (is another server using the port? pick one with --listen)")
        })?;
    let local = listener.local_addr()?;
    tracing::info!(%local, %tenant, "serving the oort-host API");
    eprintln!("oort-host API listening on http://{local}/v1 (tenant `{tenant}`); Ctrl-C to stop");
    axum::serve(listener, router(AppState { platform, tenant }))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving the API")?;
    Ok(0)
}
