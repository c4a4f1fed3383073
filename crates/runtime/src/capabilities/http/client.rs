//! The HTTP client plugins' requests go through: no redirects, no proxies,
//! bounded waits, bounded bodies, and DNS resolved by the host so the address
//! that was checked is the address connected to (no rebinding window).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

use super::address;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// First byte and between bytes.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Request headers a plugin may send, and their total size.
const MAX_REQUEST_HEADERS: usize = 64;
const MAX_REQUEST_BODY: usize = 8 << 20;
/// Headers the host controls; a plugin's values for them are ignored.
const HOST_CONTROLLED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "proxy-authorization",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    InvalidRequest(String),
    Timeout,
    Connection(String),
    BodyTooLarge(u64),
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Which addresses a resolver hands to the connector.
#[derive(Clone, Copy)]
enum Reach {
    /// Globally routable unicast only.
    Public,
    /// Loopback only (operator `api_base_url` overrides).
    Loopback,
}

struct CheckedResolver(Reach);

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let reach = self.0;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| format!("could not resolve `{host}`: {e}"))?
                .collect();
            let (usable, refused): (Vec<SocketAddr>, Vec<SocketAddr>) =
                resolved.into_iter().partition(|a| match reach {
                    Reach::Public => address::refusal(a.ip()).is_none(),
                    Reach::Loopback => a.ip().is_loopback(),
                });
            if usable.is_empty() {
                let why = match (reach, refused.first()) {
                    (Reach::Public, Some(a)) => format!(
                        "refusing to connect to `{host}`: it resolves to {}, {}",
                        a.ip(),
                        address::refusal(a.ip()).unwrap_or("not allowed")
                    ),
                    (Reach::Loopback, Some(a)) => format!(
                        "`{host}` resolves to {}, which is not a loopback address",
                        a.ip()
                    ),
                    (_, None) => format!("`{host}` resolves to no address"),
                };
                return Err(why.into());
            }
            let addrs: Addrs = Box::new(usable.into_iter());
            Ok(addrs)
        })
    }
}

/// One outbound request, already allowed by the egress policy.
pub struct Outgoing {
    pub method: String,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Sent to an operator-configured loopback base URL.
    pub loopback: bool,
}

pub struct HttpClient {
    public: reqwest::Client,
    loopback: reqwest::Client,
    max_response_bytes: u64,
}

impl HttpClient {
    pub fn new(max_response_bytes: u64) -> anyhow::Result<HttpClient> {
        Ok(HttpClient {
            public: build(Reach::Public, true)?,
            loopback: build(Reach::Loopback, false)?,
            max_response_bytes,
        })
    }

    pub fn max_response_bytes(&self) -> u64 {
        self.max_response_bytes
    }

    pub async fn send(&self, req: Outgoing) -> Result<Response, ClientError> {
        let method = parse_method(&req.method)?;
        let headers = parse_headers(&req.headers)?;
        if req.body.len() > MAX_REQUEST_BODY {
            return Err(ClientError::InvalidRequest(format!(
                "request body of {} bytes exceeds the limit of {MAX_REQUEST_BODY} bytes",
                req.body.len()
            )));
        }
        if req.loopback && !is_loopback_url(&req.url) {
            return Err(ClientError::Connection(
                "the base URL override is not a loopback address".into(),
            ));
        }
        let client = if req.loopback {
            &self.loopback
        } else {
            &self.public
        };
        let mut response = client
            .request(method, req.url)
            .headers(headers)
            .body(req.body)
            .send()
            .await
            .map_err(map_error)?;
        let announced = response.content_length().unwrap_or(0);
        if announced > self.max_response_bytes {
            return Err(ClientError::BodyTooLarge(self.max_response_bytes));
        }
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        // Within the cap (checked above), so a lying server costs at most that.
        let mut body = Vec::with_capacity(announced as usize);
        while let Some(chunk) = response.chunk().await.map_err(map_error)? {
            if body.len() as u64 + chunk.len() as u64 > self.max_response_bytes {
                return Err(ClientError::BodyTooLarge(self.max_response_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

fn build(reach: Reach, https_only: bool) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // A proxy would resolve and connect on our behalf, bypassing the
        // address checks.
        .no_proxy()
        .https_only(https_only)
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .dns_resolver(Arc::new(CheckedResolver(reach)))
        .user_agent(concat!("oort-host/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

pub fn is_loopback_url(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn parse_method(method: &str) -> Result<Method, ClientError> {
    match method.to_ascii_uppercase().as_str() {
        "GET" => Ok(Method::GET),
        "POST" => Ok(Method::POST),
        "PUT" => Ok(Method::PUT),
        "DELETE" => Ok(Method::DELETE),
        "PATCH" => Ok(Method::PATCH),
        other => Err(ClientError::InvalidRequest(format!(
            "method `{}` is not supported: use GET, POST, PUT, DELETE or PATCH",
            other.chars().take(20).collect::<String>()
        ))),
    }
}

fn parse_headers(headers: &[(String, String)]) -> Result<HeaderMap, ClientError> {
    if headers.len() > MAX_REQUEST_HEADERS {
        return Err(ClientError::InvalidRequest(format!(
            "more than {MAX_REQUEST_HEADERS} headers"
        )));
    }
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            ClientError::InvalidRequest(format!("invalid header name `{}`", name.escape_debug()))
        })?;
        if HOST_CONTROLLED_HEADERS.contains(&header.as_str()) {
            continue;
        }
        // The value may be a credential: never echo it.
        let value = HeaderValue::from_str(value).map_err(|_| {
            ClientError::InvalidRequest(format!("invalid value for header `{header}`"))
        })?;
        map.append(header, value);
    }
    Ok(map)
}

/// A plugin-facing message without the URL (its query may hold tokens).
/// reqwest wraps hyper, which wraps the connector error; the innermost
/// message (e.g. the resolver's refusal) is the one a person can act on.
fn map_error(e: reqwest::Error) -> ClientError {
    if e.is_timeout() {
        return ClientError::Timeout;
    }
    let mut root: Option<&dyn std::error::Error> = None;
    let mut next = std::error::Error::source(&e);
    while let Some(err) = next {
        root = Some(err);
        next = err.source();
    }
    match root {
        Some(cause) => ClientError::Connection(cause.to_string()),
        None => ClientError::Connection(e.without_url().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_controlled_headers_are_dropped_and_bad_ones_refused() {
        let map = parse_headers(&[
            ("Authorization".into(), "Basic x".into()),
            ("Host".into(), "evil.example".into()),
            ("Content-Length".into(), "1".into()),
        ])
        .unwrap();
        assert_eq!(map.len(), 1);
        assert!(map.contains_key("authorization"));
        let err = parse_headers(&[("X-Token".into(), "bad\nvalue-secret".into())]).unwrap_err();
        assert!(matches!(&err, ClientError::InvalidRequest(m) if !m.contains("secret")));
        assert!(parse_headers(&[("bad header".into(), "v".into())]).is_err());
    }

    #[test]
    fn only_known_methods() {
        assert_eq!(parse_method("get").unwrap(), Method::GET);
        assert!(parse_method("CONNECT").is_err());
        assert!(parse_method("TRACE").is_err());
    }

    #[test]
    fn loopback_urls() {
        assert!(is_loopback_url(&"http://127.0.0.1:8080/".parse().unwrap()));
        assert!(is_loopback_url(&"http://localhost:8080/".parse().unwrap()));
        assert!(is_loopback_url(&"http://[::1]:8080/".parse().unwrap()));
        assert!(!is_loopback_url(&"http://10.0.0.1/".parse().unwrap()));
        assert!(!is_loopback_url(
            &"http://localhost.evil.example/".parse().unwrap()
        ));
    }

    #[tokio::test]
    async fn the_public_resolver_refuses_loopback_names() {
        let err = CheckedResolver(Reach::Public)
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains("loopback"), "{err}");
    }

    #[tokio::test]
    async fn the_public_client_refuses_to_connect_to_loopback() {
        let client = HttpClient::new(1024).unwrap();
        let out = client
            .send(Outgoing {
                method: "GET".into(),
                url: "https://localhost/".parse().unwrap(),
                headers: vec![],
                body: vec![],
                loopback: false,
            })
            .await;
        assert!(
            matches!(&out, Err(ClientError::Connection(m)) if m.contains("loopback")),
            "{:?}",
            out.err()
        );
    }
}
