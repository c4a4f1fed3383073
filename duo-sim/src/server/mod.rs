//! HTTP front: fault injection, authentication, permission checks and routing.

pub mod auth_api;
pub mod envelope;
pub mod faults;
pub mod inventory;
pub mod keys;
pub mod logs;
pub mod params;
pub mod pushes;
pub mod verify;
pub mod writes;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;

use crate::config::{Edition, SimClock};
use crate::data::Dataset;
use crate::data::rng::Rng;
use envelope::{ApiError, ApiResult};
use keys::{KeyEntry, KeyKind, Keys};
use params::Params;

pub struct Shared {
    pub hostname: String,
    pub edition: Edition,
    pub clock: SimClock,
    pub keys: Keys,
    pub data: RwLock<Dataset>,
    pub faults: faults::Faults,
    pub pushes: Mutex<pushes::Pushes>,
    pub rng: Mutex<Rng>,
    pub requests: AtomicU64,
    /// Added to every answer: the network round trip and Duo's own time,
    /// which the loopback simulator otherwise lacks (see `set_latency_ms`).
    pub latency_ms: AtomicU64,
    /// Application (integration) under which Auth API pushes are logged.
    pub auth_app: u16,
}

impl Shared {
    pub fn read(&self) -> RwLockReadGuard<'_, Dataset> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }
    pub fn write(&self) -> RwLockWriteGuard<'_, Dataset> {
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }
    pub fn rng(&self) -> std::sync::MutexGuard<'_, Rng> {
        self.rng.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(shared)
}

/// What an endpoint needs from the calling integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    ReadLog,
    ReadResource,
    WriteResource,
    ReadInfo,
    AuthApi,
}

fn permitted(key: &KeyEntry, need: Need) -> bool {
    match (key.kind, need) {
        (KeyKind::Auth, Need::AuthApi) => true,
        (KeyKind::Auth, _) | (KeyKind::Admin(_), Need::AuthApi) => false,
        (KeyKind::Admin(g), Need::ReadLog) => g.read_log,
        (KeyKind::Admin(g), Need::ReadResource) => g.read_resource,
        (KeyKind::Admin(g), Need::WriteResource) => g.write_resource,
        (KeyKind::Admin(g), Need::ReadInfo) => g.read_info,
    }
}

pub struct Ctx<'a> {
    pub s: &'a Shared,
    pub params: Params,
    pub now: i64,
}

type Handler = fn(&Ctx<'_>, &[&str]) -> ApiResult;

/// Route table: path pattern (`*` = one id segment), method, need, handler.
fn route(method: &Method, segs: &[&str]) -> Result<(Need, Handler), ApiError> {
    let routes: &[(&[&str], Method, Need, Handler)] = &[
        (
            &["admin", "v2", "logs", "authentication"],
            Method::GET,
            Need::ReadLog,
            logs::authentication,
        ),
        (
            &["admin", "v2", "logs", "telephony"],
            Method::GET,
            Need::ReadLog,
            logs::telephony,
        ),
        (
            &["admin", "v1", "logs", "administrator"],
            Method::GET,
            Need::ReadLog,
            logs::administrator,
        ),
        (
            &["admin", "v1", "users"],
            Method::GET,
            Need::ReadResource,
            inventory::users,
        ),
        (
            &["admin", "v1", "users", "enroll"],
            Method::POST,
            Need::WriteResource,
            writes::enroll,
        ),
        (
            &["admin", "v1", "users", "*"],
            Method::GET,
            Need::ReadResource,
            inventory::user,
        ),
        (
            &["admin", "v1", "users", "*"],
            Method::POST,
            Need::WriteResource,
            writes::update_user,
        ),
        (
            &["admin", "v1", "users", "*"],
            Method::DELETE,
            Need::WriteResource,
            writes::delete_user,
        ),
        (
            &["admin", "v1", "users", "*", "phones"],
            Method::GET,
            Need::ReadResource,
            inventory::user_phones,
        ),
        (
            &["admin", "v1", "users", "*", "phones", "*"],
            Method::DELETE,
            Need::WriteResource,
            writes::disassociate_phone,
        ),
        (
            &["admin", "v1", "users", "*", "send_verification_push"],
            Method::POST,
            Need::WriteResource,
            writes::send_verification_push,
        ),
        (
            &["admin", "v1", "users", "*", "verification_push_response"],
            Method::GET,
            Need::ReadResource,
            writes::verification_push_response,
        ),
        (
            &["admin", "v1", "phones"],
            Method::GET,
            Need::ReadResource,
            inventory::phones,
        ),
        (
            &["admin", "v1", "phones", "*"],
            Method::GET,
            Need::ReadResource,
            inventory::phone,
        ),
        (
            &["admin", "v1", "endpoints"],
            Method::GET,
            Need::ReadResource,
            inventory::endpoints,
        ),
        (
            &["admin", "v1", "info", "summary"],
            Method::GET,
            Need::ReadInfo,
            inventory::summary,
        ),
        (
            &["auth", "v2", "check"],
            Method::GET,
            Need::AuthApi,
            auth_api::check,
        ),
        (
            &["auth", "v2", "preauth"],
            Method::POST,
            Need::AuthApi,
            auth_api::preauth,
        ),
        (
            &["auth", "v2", "auth"],
            Method::POST,
            Need::AuthApi,
            auth_api::auth,
        ),
        (
            &["auth", "v2", "auth_status"],
            Method::GET,
            Need::AuthApi,
            auth_api::auth_status,
        ),
    ];
    let matches = |pattern: &[&str]| {
        pattern.len() == segs.len() && pattern.iter().zip(segs).all(|(p, s)| *p == "*" || p == s)
    };
    let mut path_known = false;
    // Literal routes (e.g. users/enroll) win over id patterns.
    for literal_first in [true, false] {
        for (pattern, m, need, h) in routes {
            if pattern.contains(&"*") == literal_first || !matches(pattern) {
                continue;
            }
            path_known = true;
            if m == method {
                return Ok((*need, *h));
            }
        }
        if path_known {
            break;
        }
    }
    Err(if path_known {
        ApiError::method_not_allowed()
    } else {
        ApiError::not_found()
    })
}

fn json_response(status: StatusCode, mut bytes: Vec<u8>, truncate: bool) -> Response {
    if truncate {
        bytes.truncate(bytes.len() / 2);
    }
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn error_response(err: &ApiError, truncate: bool) -> Response {
    json_response(err.status(), err.body_bytes(), truncate)
}

async fn handle(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    s.requests.fetch_add(1, Ordering::SeqCst);
    let latency = s.latency_ms.load(Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let mut truncate = false;
    match s.faults.take() {
        Some(faults::Active::Drop) => return faults::dropped_connection(),
        Some(faults::Active::RateLimit) => return error_response(&ApiError::rate_limited(), false),
        Some(faults::Active::ServerError { second }) => {
            let err = if second {
                ApiError::new(50301, "Service Unavailable")
            } else {
                ApiError::new(50001, "Unknown internal server error")
            };
            return error_response(&err, false);
        }
        Some(faults::Active::Slow(ms)) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await
        }
        Some(faults::Active::Truncate) => truncate = true,
        None => {}
    }
    match serve(&s, &method, &uri, &headers, &body) {
        Ok(reply) => json_response(StatusCode::OK, reply.into_bytes(), truncate),
        Err(e) => error_response(&e, truncate),
    }
}

fn serve(s: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> ApiResult {
    let path = uri.path();
    let now = s.clock.now_ms();
    if path == "/auth/v2/ping" {
        return if *method == Method::GET {
            Ok(envelope::ok(serde_json::json!({"time": now / 1000})))
        } else {
            Err(ApiError::method_not_allowed())
        };
    }
    let incoming = verify::Incoming {
        method: method.as_str(),
        path,
        query: uri.query().unwrap_or(""),
        headers,
        body,
    };
    let key = verify::authenticate(&s.keys, &s.hostname, &incoming, oort_time::now_ms() / 1000)?;
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (need, handler) = route(method, &segs)?;
    if !permitted(key, need) {
        return Err(ApiError::forbidden());
    }
    let mut params = Params::from_urlencoded(incoming.query.as_bytes());
    if *method == Method::POST || *method == Method::PUT {
        if incoming.is_json() {
            params.extend(Params::from_json(body)?);
        } else if !body.is_empty() {
            params.extend(Params::from_urlencoded(body));
        }
    }
    let ctx = Ctx { s, params, now };
    handler(&ctx, &segs)
}
