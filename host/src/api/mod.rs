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
mod openapi;
mod routes;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oort_platform::Platform;
use oort_platform::scheduler::{Scheduler, SchedulerConfig};

pub use error::ApiError;

#[derive(Clone)]
pub struct AppState {
    pub platform: Arc<Platform>,
    /// Host names (besides loopback ones) requests may name in `Host`.
    pub allowed_hosts: Arc<[String]>,
    /// Set once shutdown begins: `/readyz` then answers 503.
    pub draining: Arc<AtomicBool>,
}

impl AppState {
    pub fn new(platform: Arc<Platform>, allowed_hosts: Vec<String>) -> AppState {
        AppState {
            platform,
            allowed_hosts: allowed_hosts.into(),
            draining: Arc::default(),
        }
    }
}

pub fn router(state: AppState) -> Router {
    use routes::{export, integrations, operations, operators, platform, service};
    // Probes answer whoever asks, whatever the Host: an orchestrator
    // reaches the server by an address nobody listed. The API's document
    // names no tenant either.
    let (probes, probes_doc) = OpenApiRouter::new()
        .routes(routes!(service::healthz))
        .routes(routes!(service::readyz))
        .split_for_parts();
    let (api, mut doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(service::metrics))
        .routes(routes!(platform::session))
        .routes({
            // A component is bigger than any JSON body.
            let (schemas, paths, method_router) = routes!(platform::plugins, platform::install);
            let limit = DefaultBodyLimit::max(oort_platform::MAX_PLUGIN_BYTES);
            (schemas, paths, method_router.layer(limit))
        })
        .routes(routes!(platform::operators, platform::add_operator))
        .routes(routes!(platform::audit))
        .routes(routes!(integrations::list, integrations::create))
        .routes(routes!(
            integrations::show,
            integrations::update,
            integrations::remove
        ))
        .routes(routes!(integrations::enable))
        .routes(routes!(integrations::disable))
        .routes(routes!(integrations::runs))
        .routes(routes!(integrations::run))
        .routes(routes!(integrations::schedule, integrations::set_schedule))
        .routes(routes!(export::records))
        .routes(routes!(operations::test))
        .routes(routes!(operations::collect))
        .routes(routes!(operations::insights))
        .routes(routes!(operations::audit))
        .routes(routes!(operations::actions))
        .routes(routes!(operations::act))
        .routes(routes!(operators::list, operators::add))
        .routes(routes!(operators::issue, operators::tokens))
        .routes(routes!(operators::revoke))
        .split_for_parts();
    doc.merge(probes_doc);
    let document = Bytes::from(
        serde_json::to_vec(&openapi::complete(doc)).expect("the OpenAPI document serializes"),
    );
    let open = probes.route(
        "/v1/openapi.json",
        get(move || {
            let document = document.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], document) }
        }),
    );
    api.fallback(routes::no_route)
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
        .merge(open)
        .layer(middleware::from_fn_with_state(state.clone(), log_request))
        .layer(DefaultBodyLimit::max(routes::MAX_BODY_BYTES))
        .with_state(state)
}

/// One log line and one latency observation per request, by the route's
/// template (the path itself would let a caller mint label values).
async fn log_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(no route)", |m| m.as_str())
        .to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    state
        .platform
        .metrics()
        .api_request(method.as_str(), &route, status, elapsed.as_secs_f64());
    tracing::info!(%method, %path, status, elapsed_ms = elapsed.as_millis() as u64, "request");
    response
}

/// How `serve` runs, from its flags.
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub allowed_hosts: Vec<String>,
    /// `None`: no scheduled collections.
    pub scheduling: Option<SchedulerConfig>,
    /// Logs are JSON lines: stderr then carries nothing else.
    pub json_logs: bool,
}

/// Serves the API, and with `scheduling` runs due collections alongside,
/// until Ctrl-C or SIGTERM: then it stops accepting requests and starting
/// collections, stops the running ones at their next page boundary, and
/// returns once they have committed that page.
pub async fn serve(platform: Arc<Platform>, config: ServeConfig) -> anyhow::Result<u8> {
    let ServeConfig {
        listen,
        allowed_hosts,
        scheduling,
        json_logs,
    } = config;
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
    let banner = format!(
        "oort-host API listening on http://{local}/v1 (every request needs an operator's API token); {collecting}; Ctrl-C or SIGTERM to stop"
    );
    if json_logs {
        tracing::info!("{banner}");
    } else {
        eprintln!("{banner}");
    }
    let state = AppState::new(platform.clone(), allowed_hosts);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stop = Arc::new(stop);
    let on_signal = stop.clone();
    let draining = state.draining.clone();
    let collections = platform.clone();
    tokio::spawn(async move {
        crate::interrupt::stop_requested().await;
        tracing::info!(
            "stopping: no new requests or collections; running collections stop once their current page is committed"
        );
        draining.store(true, Ordering::SeqCst);
        collections.stop_collections();
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
    // Collect Now runs the API queued end as scheduled ones do.
    platform.wait_for_queued().await;
    served.context("serving the API")?;
    Ok(0)
}
