//! The `http` capability: policy check, operator base-URL override, request
//! budget, the checked client, and one audit line per request; requests the
//! plugin waits for (`send`) and requests in flight while it goes on
//! (`start`, `pending-response`).

pub mod address;
pub mod client;
pub mod policy;
#[cfg(test)]
mod start_tests;

use std::sync::Arc;
use std::time::{Duration, Instant};

use url::Url;

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

use crate::bindings::http::{
    self as wit, Host, HostPendingResponse, HttpError, PendingResponse, Request, Response,
};

pub use client::HttpClient;
pub use policy::EgressPolicy;

use super::{InvocationContext, InvocationState, LogTags};
use crate::RuntimeObserver;

/// What the `http` interface reaches of an invocation: its own state and the
/// resource table holding its pending requests.
pub struct HttpView<'a> {
    pub state: &'a mut HttpState,
    pub table: &'a mut ResourceTable,
}

struct HasHttp;
impl HasData for HasHttp {
    type Data<'a> = HttpView<'a>;
}

/// Links the `http` interface over the view `get` returns.
pub fn add_to_linker(
    linker: &mut Linker<InvocationState>,
    get: fn(&mut InvocationState) -> HttpView<'_>,
) -> anyhow::Result<()> {
    Ok(wit::add_to_linker::<InvocationState, HasHttp>(linker, get)?)
}

/// The table entry behind a `pending-response` handle: the generated type
/// only names the resource, the host keeps a [`PendingRequest`] under the
/// same index (the table checks the entry's type on every access).
fn entry(handle: &Resource<PendingResponse>) -> Resource<PendingRequest> {
    Resource::new_own(handle.rep())
}

/// Checks an operator `api_base_url`: plain http or https to a loopback
/// address only (the simulator and tests); anything else would let an
/// operator typo send signed requests somewhere unexpected.
pub fn check_base_url_override(base: &str) -> Result<Url, String> {
    let url = Url::parse(base).map_err(|e| format!("api_base_url `{base}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "api_base_url must be http:// or https://, not `{}`",
            url.scheme()
        ));
    }
    if !client::is_loopback_url(&url) {
        return Err(format!(
            "api_base_url `{base}` is not a loopback address: overrides may only point at 127.0.0.0/8, ::1 or localhost"
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("api_base_url must not contain user information".into());
    }
    Ok(url)
}

/// `url` with its scheme, host and port replaced by `base`'s; path and query kept.
pub fn rewrite_to_base(url: &Url, base: &Url) -> Url {
    let mut out = base.clone();
    out.set_path(url.path());
    out.set_query(url.query());
    out.set_fragment(None);
    out
}

/// The `http` capability's state for one invocation.
pub struct HttpState {
    tags: LogTags,
    client: Arc<HttpClient>,
    observer: Arc<dyn RuntimeObserver>,
    policy: EgressPolicy,
    base_override: Option<Result<Url, String>>,
    budget: u32,
    remaining: u32,
    exhausted: bool,
    /// Requests started and neither finished nor dropped.
    in_flight: usize,
    stop: Option<crate::StopSignal>,
    /// A request was refused because a stop was asked for.
    stopped: bool,
    /// The tenant's request rate, shared by all its invocations (none: not
    /// paced, for an invocation no tenant owns, e.g. an install).
    pacing: Option<Arc<crate::tenants::TenantShare>>,
}

/// Requests one invocation may have in flight through `start`.
pub const MAX_IN_FLIGHT: usize = 4;

impl HttpState {
    pub fn new(
        ctx: &InvocationContext,
        client: Arc<HttpClient>,
        observer: Arc<dyn RuntimeObserver>,
        budget: u32,
    ) -> HttpState {
        HttpState {
            tags: ctx.tags.clone(),
            client,
            observer,
            policy: EgressPolicy::from_manifest(&ctx.manifest, &ctx.config),
            base_override: ctx.api_base_url.as_deref().map(check_base_url_override),
            budget,
            remaining: budget,
            exhausted: false,
            in_flight: 0,
            stop: ctx.stop.clone(),
            stopped: false,
            pacing: None,
        }
    }

    /// Paces this invocation's requests by its tenant's rate.
    pub fn pace_by(&mut self, share: Arc<crate::tenants::TenantShare>) {
        self.pacing = Some(share);
    }

    /// The request budget, and whether the plugin ran into it.
    pub fn budget(&self) -> (u32, bool) {
        (self.budget, self.exhausted)
    }

    /// Whether the invocation ended because a stop was asked for.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// Ends the invocation (a trap, which the plugin cannot catch and retry)
    /// once a stop is asked for: no new request goes out, so the plugin
    /// stops right after the page it last fetched.
    fn refuse_if_stopping(&mut self) -> wasmtime::Result<()> {
        if self
            .stop
            .as_ref()
            .is_some_and(crate::StopSignal::is_requested)
        {
            self.stopped = true;
            let tags = &self.tags;
            tracing::info!(
                target: "oort::http",
                tenant = %tags.tenant, integration = %tags.integration, plugin = %tags.plugin,
                "stopping the invocation before its next request: the host is shutting down"
            );
            return Err(wasmtime::Error::msg("the host is shutting down"));
        }
        Ok(())
    }

    /// The one place that decides whether a request goes out: the egress
    /// policy, then the budget (a denied request costs nothing), then the
    /// operator's loopback override.
    fn admit(&mut self, request: Request) -> Result<Admitted, HttpError> {
        let tags = &self.tags;
        let url = match self.policy.check(&request.url) {
            Ok(url) => url,
            Err(reason) => {
                tracing::warn!(
                    target: "oort::http",
                    tenant = %tags.tenant, integration = %tags.integration, plugin = %tags.plugin,
                    method = %request.method.chars().take(10).collect::<String>(),
                    "egress denied: {reason}"
                );
                return Err(HttpError::Denied(reason));
            }
        };
        if self.remaining == 0 {
            self.exhausted = true;
            return Err(HttpError::BudgetExhausted);
        }
        self.remaining -= 1;
        let audit = RequestAudit {
            method: request.method.clone(),
            host: url.host_str().unwrap_or_default().to_string(),
            path: url.path().to_string(),
            loopback: self.base_override.is_some(),
            admitted: Instant::now(),
        };
        let target = match &self.base_override {
            None => url,
            Some(Ok(base)) => rewrite_to_base(&url, base),
            Some(Err(reason)) => return Err(HttpError::Denied(reason.clone())),
        };
        Ok(Admitted {
            outgoing: client::Outgoing {
                method: request.method,
                url: target,
                headers: request.headers,
                body: request.body,
                loopback: audit.loopback,
            },
            audit,
        })
    }
}

struct Admitted {
    outgoing: client::Outgoing,
    audit: RequestAudit,
}

/// What the audit line of a request says (never headers or bodies: they
/// carry signatures and tenant data).
struct RequestAudit {
    method: String,
    host: String,
    path: String,
    loopback: bool,
    admitted: Instant,
}

impl RequestAudit {
    /// One line per request, once its outcome is known; `latency` is the
    /// time the request itself took (not the plugin's work meanwhile).
    fn log(
        &self,
        tags: &LogTags,
        observer: &dyn RuntimeObserver,
        result: Result<client::Response, client::ClientError>,
        latency: Duration,
    ) -> Result<Response, HttpError> {
        observer.upstream_response(tags, result.as_ref().ok().map(|r| r.status));
        let RequestAudit {
            method,
            host,
            path,
            loopback,
            ..
        } = self;
        let latency_ms = latency.as_millis() as u64;
        match &result {
            Ok(r) => tracing::info!(
                target: "oort::http",
                tenant = %tags.tenant, integration = %tags.integration, plugin = %tags.plugin,
                %method, %host, %path, status = r.status, bytes = r.body.len(), latency_ms, via_override = loopback,
                "request"
            ),
            Err(e) => tracing::info!(
                target: "oort::http",
                tenant = %tags.tenant, integration = %tags.integration, plugin = %tags.plugin,
                %method, %host, %path, latency_ms, via_override = loopback, error = ?e,
                "request failed"
            ),
        }
        result
            .map(|r| Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(to_wit)
    }

    /// The line of a started request nobody took the answer of: it was sent
    /// (or about to be) and counted against the budget.
    fn cancelled(&self, tags: &LogTags) {
        let RequestAudit {
            method,
            host,
            path,
            loopback,
            admitted,
        } = self;
        tracing::info!(
            target: "oort::http",
            tenant = %tags.tenant, integration = %tags.integration, plugin = %tags.plugin,
            %method, %host, %path, after_ms = admitted.elapsed().as_millis() as u64, via_override = loopback,
            "request cancelled"
        );
    }
}

type Sent = (Result<client::Response, client::ClientError>, Duration);

/// A request started with `http.start`, in the invocation's resource table.
/// Dropping it (the plugin drops the handle, or the invocation's store goes
/// away) aborts the request and logs it as cancelled.
pub struct PendingRequest {
    task: Option<tokio::task::JoinHandle<Sent>>,
    audit: RequestAudit,
    tags: LogTags,
    observer: Arc<dyn RuntimeObserver>,
}

impl PendingRequest {
    /// Waits for the answer and logs it.
    async fn finish(mut self) -> Result<Response, HttpError> {
        // Awaited in place: if this call is cancelled (the deadline), the
        // request is still here for `Drop` to abort.
        let joined = match self.task.as_mut() {
            Some(task) => task.await,
            None => unreachable!("a pending request is finished once"),
        };
        self.task = None;
        let (result, latency) = match joined {
            Ok(sent) => sent,
            Err(join) => (
                Err(client::ClientError::Connection(format!(
                    "the request did not complete ({join})"
                ))),
                self.audit.admitted.elapsed(),
            ),
        };
        self.audit
            .log(&self.tags, self.observer.as_ref(), result, latency)
    }
}

impl Drop for PendingRequest {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            self.audit.cancelled(&self.tags);
        }
    }
}

fn to_wit(e: client::ClientError) -> HttpError {
    match e {
        client::ClientError::InvalidRequest(m) => HttpError::InvalidRequest(m),
        client::ClientError::Timeout => HttpError::Timeout,
        client::ClientError::Connection(m) => HttpError::Connection(m),
        client::ClientError::BodyTooLarge(n) => HttpError::BodyTooLarge(n),
    }
}

impl Host for HttpView<'_> {
    async fn send(&mut self, request: Request) -> wasmtime::Result<Result<Response, HttpError>> {
        let http = &mut *self.state;
        http.refuse_if_stopping()?;
        let admitted = match http.admit(request) {
            Ok(admitted) => admitted,
            Err(e) => return Ok(Err(e)),
        };
        if let Some(share) = &http.pacing {
            share.requests.admit().await;
        }
        let sent_at = Instant::now();
        let result = http.client.send(admitted.outgoing).await;
        let latency = sent_at.elapsed();
        Ok(admitted
            .audit
            .log(&http.tags, http.observer.as_ref(), result, latency))
    }

    async fn start(
        &mut self,
        request: Request,
    ) -> wasmtime::Result<Result<Resource<PendingResponse>, HttpError>> {
        let http = &mut *self.state;
        http.refuse_if_stopping()?;
        if http.in_flight >= MAX_IN_FLIGHT {
            return Ok(Err(HttpError::InvalidRequest(format!(
                "{MAX_IN_FLIGHT} requests are already in flight; finish or drop one first"
            ))));
        }
        let admitted = match http.admit(request) {
            Ok(admitted) => admitted,
            Err(e) => return Ok(Err(e)),
        };
        let client = http.client.clone();
        let pacing = http.pacing.clone();
        let task = tokio::spawn(async move {
            if let Some(share) = pacing {
                share.requests.admit().await;
            }
            let sent_at = Instant::now();
            let result = client.send(admitted.outgoing).await;
            (result, sent_at.elapsed())
        });
        let pending = PendingRequest {
            task: Some(task),
            audit: admitted.audit,
            tags: http.tags.clone(),
            observer: http.observer.clone(),
        };
        let pending = self.table.push(pending)?;
        http.in_flight += 1;
        Ok(Ok(Resource::new_own(pending.rep())))
    }
}

impl HostPendingResponse for HttpView<'_> {
    async fn finish(
        &mut self,
        pending: Resource<PendingResponse>,
    ) -> wasmtime::Result<Result<Response, HttpError>> {
        let pending = self.table.delete(entry(&pending))?;
        self.state.in_flight = self.state.in_flight.saturating_sub(1);
        Ok(pending.finish().await)
    }

    async fn drop(&mut self, pending: Resource<PendingResponse>) -> wasmtime::Result<()> {
        self.table.delete(entry(&pending))?;
        self.state.in_flight = self.state.in_flight.saturating_sub(1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_must_be_loopback() {
        assert!(check_base_url_override("http://127.0.0.1:9000").is_ok());
        assert!(check_base_url_override("http://localhost:9000/").is_ok());
        assert!(check_base_url_override("http://[::1]:9000/").is_ok());
        assert!(
            check_base_url_override("http://10.0.0.5:9000")
                .unwrap_err()
                .contains("not a loopback")
        );
        assert!(
            check_base_url_override("http://api.example.com")
                .unwrap_err()
                .contains("not a loopback")
        );
        assert!(check_base_url_override("ftp://127.0.0.1").is_err());
        assert!(check_base_url_override("nonsense").is_err());
    }

    #[test]
    fn rewrite_keeps_path_and_query() {
        let url = Url::parse(
            "https://api-1.duosecurity.com/admin/v2/logs/authentication?limit=1000&mintime=5",
        )
        .unwrap();
        let base = Url::parse("http://127.0.0.1:4567").unwrap();
        assert_eq!(
            rewrite_to_base(&url, &base).as_str(),
            "http://127.0.0.1:4567/admin/v2/logs/authentication?limit=1000&mintime=5"
        );
    }
}
