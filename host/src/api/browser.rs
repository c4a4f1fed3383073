//! What keeps a web page the operator happens to visit from driving the API,
//! on top of the tokens (which a page cannot read): a request with a body
//! (POST, PUT, PATCH) must carry `Content-Type: application/json` (or
//! `application/wasm`, a plugin component), which a cross-site page cannot send
//! without a CORS preflight this server never grants, and the Host header
//! must name a loopback host or one the operator allowed with `--allow-host`
//! (which defeats DNS rebinding).

use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};

/// A plugin component's media type, the one body besides JSON.
pub const WASM: &str = "application/wasm";

pub async fn refuse_browser_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let host_ok = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_none_or(|host| is_allowed_host(host, &state.allowed_hosts));
    if !host_ok {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "refused",
            "the Host header must name a loopback address (localhost, 127.0.0.1 or [::1]) or a host given with `serve --allow-host`",
        )
        .into_response();
    }
    if [Method::POST, Method::PUT, Method::PATCH].contains(request.method()) {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';').next().is_some_and(|m| {
                    let m = m.trim();
                    m.eq_ignore_ascii_case("application/json") || m.eq_ignore_ascii_case(WASM)
                })
            });
        if !json {
            return ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid_input",
                "requests with a body (POST, PUT, PATCH) must send `Content-Type: application/json` (a plugin component: `application/wasm`)",
            )
            .into_response();
        }
    }
    next.run(request).await
}

/// The host names besides loopback ones that `Host` may name when serving
/// on `listen`: those given, and the listen address itself when it is one
/// address. A server on every interface must be told its names.
pub fn hosts_to_allow(listen: SocketAddr, given: Vec<String>) -> anyhow::Result<Vec<String>> {
    let mut hosts: Vec<String> = given
        .into_iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect();
    let ip = listen.ip();
    if ip.is_unspecified() && hosts.is_empty() {
        anyhow::bail!(
            "serving on every interface ({listen}) needs the host names clients use: add --allow-host NAME (once per name), e.g. --allow-host oort.example.com"
        );
    }
    if !ip.is_loopback() && !ip.is_unspecified() {
        hosts.push(ip.to_string());
    }
    Ok(hosts)
}

/// The host part of a `Host` header value (`name`, `name:port`, `[v6]:port`).
fn host_name(host: &str) -> &str {
    match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    }
}

/// `host[:port]` names a loopback address or one of `allowed`.
pub fn is_allowed_host(host: &str, allowed: &[String]) -> bool {
    let name = host_name(host);
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
        || (!name.is_empty() && allowed.iter().any(|a| a.eq_ignore_ascii_case(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_host_headers_are_allowed_and_others_only_when_named() {
        for ok in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:1",
            "127.9.9.9",
            "[::1]:80",
            "[::1]",
        ] {
            assert!(is_allowed_host(ok, &[]), "{ok}");
        }
        for bad in [
            "example.com",
            "10.0.0.1:80",
            "[2001:db8::1]:80",
            "localhost.evil.com",
            "",
        ] {
            assert!(!is_allowed_host(bad, &[]), "{bad}");
        }
        let allowed = ["oort.example.com".to_string(), "10.0.0.1".to_string()];
        assert!(is_allowed_host("OORT.example.com:443", &allowed));
        assert!(is_allowed_host("10.0.0.1:80", &allowed));
        assert!(!is_allowed_host("evil.example.com", &allowed));
    }

    #[test]
    fn a_server_on_every_interface_must_name_its_hosts() {
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let err = hosts_to_allow(any, vec![]).unwrap_err().to_string();
        assert!(err.contains("--allow-host"), "{err}");
        assert_eq!(
            hosts_to_allow(any, vec![" Oort.Example.com ".into()]).unwrap(),
            ["oort.example.com"]
        );
        let one: SocketAddr = "10.1.2.3:8080".parse().unwrap();
        assert_eq!(hosts_to_allow(one, vec![]).unwrap(), ["10.1.2.3"]);
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert!(hosts_to_allow(local, vec![]).unwrap().is_empty());
    }
}
