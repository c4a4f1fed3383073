//! The `http` capability: policy check, operator base-URL override, request
//! budget, the checked client, and one audit line per request.

pub mod address;
pub mod client;
pub mod policy;

use std::sync::Arc;
use std::time::Instant;

use url::Url;

use crate::runtime::bindings::http::{Host, HttpError, Request, Response};

pub use client::HttpClient;
pub use policy::EgressPolicy;

use super::{InvocationContext, InvocationState};

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

pub struct HttpCapability {
    client: Arc<HttpClient>,
    policy: EgressPolicy,
    base_override: Option<Result<Url, String>>,
    budget: u32,
    remaining: u32,
    exhausted: bool,
}

impl HttpCapability {
    pub fn new(ctx: &InvocationContext, client: Arc<HttpClient>, budget: u32) -> HttpCapability {
        HttpCapability {
            client,
            policy: EgressPolicy::from_manifest(&ctx.manifest, &ctx.config),
            base_override: ctx.api_base_url.as_deref().map(check_base_url_override),
            budget,
            remaining: budget,
            exhausted: false,
        }
    }

    /// The request budget, and whether the plugin ran into it.
    pub fn budget(&self) -> (u32, bool) {
        (self.budget, self.exhausted)
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

impl Host for InvocationState {
    async fn send(&mut self, request: Request) -> wasmtime::Result<Result<Response, HttpError>> {
        let tags = self.ctx.tags.clone();
        let http = &mut self.http;
        let url = match http.policy.check(&request.url) {
            Ok(url) => url,
            Err(reason) => {
                tracing::warn!(
                    target: "oort::http",
                    tenant = %tags.tenant, integration = %tags.integration, plugin = %tags.plugin,
                    method = %request.method.chars().take(10).collect::<String>(),
                    "egress denied: {reason}"
                );
                return Ok(Err(HttpError::Denied(reason)));
            }
        };
        if http.remaining == 0 {
            http.exhausted = true;
            return Ok(Err(HttpError::BudgetExhausted));
        }
        http.remaining -= 1;
        let host = url.host_str().unwrap_or_default().to_string();
        let path = url.path().to_string();
        let (target, loopback) = match &http.base_override {
            None => (url, false),
            Some(Ok(base)) => (rewrite_to_base(&url, base), true),
            Some(Err(reason)) => return Ok(Err(HttpError::Denied(reason.clone()))),
        };
        let method = request.method.clone();
        let started = Instant::now();
        let result = http
            .client
            .send(client::Outgoing {
                method: request.method,
                url: target,
                headers: request.headers,
                body: request.body,
                loopback,
            })
            .await;
        let latency_ms = started.elapsed().as_millis() as u64;
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
        Ok(result
            .map(|r| Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(to_wit))
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
