//! `oort-host serve`: a JSON HTTP API over the same [`Platform`] the CLI
//! uses, for many tenants: `/v1/tenants/{tenant}/...`.
//!
//! Every request carries an operator's API token ([`auth`]); every handler
//! names the role it needs, checked against the tenant in its path. The
//! actor of a change is the signed-in operator, never a field of the body.
//! [`browser`] keeps web pages from driving the API (Host header,
//! content type).

mod auth;
mod browser;
mod error;
mod routes;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

use oort_platform::Platform;
use oort_platform::scheduler::{Scheduler, SchedulerConfig};

pub use error::ApiError;

#[derive(Clone)]
pub struct AppState {
    pub platform: Arc<Platform>,
    /// Host names (besides loopback ones) requests may name in `Host`.
    pub allowed_hosts: Arc<[String]>,
}

/// The routes of one tenant's integrations.
const INTEGRATIONS: &str = "/v1/tenants/{tenant}/integrations";

pub fn router(state: AppState) -> Router {
    use routes::{export, integrations, operations, platform};
    let at = |suffix: &str| format!("{INTEGRATIONS}{suffix}");
    Router::new()
        .route("/v1/session", get(platform::session))
        .route("/v1/plugins", get(platform::plugins))
        .route(
            "/v1/operators",
            get(platform::operators).post(platform::add_operator),
        )
        .route("/v1/audit", get(platform::audit))
        .route(
            INTEGRATIONS,
            get(integrations::list).post(integrations::create),
        )
        .route(
            &at("/{name}"),
            get(integrations::show).delete(integrations::remove),
        )
        .route(&at("/{name}/runs"), get(integrations::runs))
        .route(
            &at("/{name}/schedule"),
            get(integrations::schedule).put(integrations::set_schedule),
        )
        .route(&at("/{name}/records"), get(export::records))
        .route(&at("/{name}/test"), post(operations::test))
        .route(&at("/{name}/collect"), post(operations::collect))
        .route(&at("/{name}/insights"), get(operations::insights))
        .route(&at("/{name}/audit"), get(operations::audit))
        .route(&at("/{name}/actions"), get(operations::actions))
        .route(&at("/{name}/actions/{action}"), post(operations::act))
        .fallback(routes::no_route)
        .method_not_allowed_fallback(routes::wrong_method)
        // Outermost first: log, then refuse what a web page could send,
        // then authenticate.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            browser::refuse_browser_requests,
        ))
        .layer(middleware::from_fn(log_request))
        .layer(DefaultBodyLimit::max(routes::MAX_BODY_BYTES))
        .with_state(state)
}

async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::info!(%method, %path, status = response.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "request");
    response
}

/// Serves the API, and with `scheduling` runs due collections alongside,
/// until Ctrl-C or SIGTERM: then it stops accepting requests and starting
/// collections, and returns once the running ones have ended.
pub async fn serve(
    platform: Arc<Platform>,
    listen: SocketAddr,
    allowed_hosts: Vec<String>,
    scheduling: Option<SchedulerConfig>,
) -> anyhow::Result<u8> {
    let allowed_hosts = browser::hosts_to_allow(listen, allowed_hosts)?;
    let scheduler = scheduling
        .map(|config| Scheduler::new(platform.clone(), config))
        .transpose()?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!("binding {listen} (is another server using the port? pick one with --listen)")
        })?;
    let local = listener.local_addr()?;
    tracing::info!(%local, "serving the oort-host API");
    let collecting = match scheduling {
        Some(c) => format!(
            "collecting due integrations, at most {} at once and {} per tenant",
            c.max_concurrent, c.max_per_tenant
        ),
        None => "no scheduled collections (--no-scheduler)".to_owned(),
    };
    eprintln!(
        "oort-host API listening on http://{local}/v1 (every request needs an operator's API token); {collecting}; Ctrl-C or SIGTERM to stop"
    );
    let state = AppState {
        platform,
        allowed_hosts: allowed_hosts.into(),
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stop = Arc::new(stop);
    let on_signal = stop.clone();
    tokio::spawn(async move {
        crate::interrupt::stop_requested().await;
        tracing::info!("stopping: no new requests or collections");
        let _ = on_signal.send(true);
    });
    let when_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    let api = async {
        let served = axum::serve(listener, router(state))
            .with_graceful_shutdown(when_stopped(stopped.clone()))
            .await;
        // Should the server fail, the scheduler stops with it.
        let _ = stop.send(true);
        served
    };
    let schedule = async {
        if let Some(scheduler) = &scheduler {
            scheduler.run(when_stopped(stopped.clone())).await;
        }
    };
    let (served, ()) = tokio::join!(api, schedule);
    served.context("serving the API")?;
    Ok(0)
}
