//! Every request is authenticated (a bearer token, by [`authenticate`]) and
//! every handler states the role it needs in its signature
//! ([`Allowed<Viewer>`], [`Allowed<Helpdesk>`], [`Allowed<Admin>`]), checked
//! against the tenant in the path (or the platform, for routes outside
//! `/v1/tenants/{tenant}`). The platform decides and audits refusals; this
//! module only carries the request's parts to it.

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use oort_platform::data::Operator;
use oort_platform::model::Role;
use oort_platform::{PlatformError, Requester, Scope};

use super::{ApiError, AppState};

/// The operator the request's token belongs to.
#[derive(Debug, Clone)]
pub struct Caller(pub Operator);

impl Caller {
    /// The caller as the author of a change, for its audit entry.
    pub fn requester(&self) -> Requester {
        Requester::operator(&self.0, "oort-host serve (HTTP API)")
    }
}

/// `METHOD /path`: what a refusal's audit entry names.
fn described(method: &axum::http::Method, uri: &axum::http::Uri) -> String {
    format!("{method} {}", uri.path())
}

/// Finds the operator behind `Authorization: Bearer TOKEN`, or answers 401
/// (with `WWW-Authenticate`); the platform audits the refusal.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| match v.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token,
            // Another scheme (Basic...) is no token of ours.
            _ => "",
        });
    let via = described(request.method(), request.uri());
    match state.platform.authenticate(presented, &via) {
        Ok(operator) => {
            request.extensions_mut().insert(Caller(operator));
            next.run(request).await
        }
        Err(e) => {
            let mut response = ApiError::from(e).into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer realm="oort-host""#),
            );
            response
        }
    }
}

/// The least role a route needs.
pub trait Needs: Send + Sync {
    const ROLE: Role;
}

/// Reads only.
pub struct Viewer;
/// Reads, tests connectivity and runs the actions its role allows.
pub struct Helpdesk;
/// Everything, including integrations, secrets and collection.
pub struct Admin;

impl Needs for Viewer {
    const ROLE: Role = Role::Viewer;
}
impl Needs for Helpdesk {
    const ROLE: Role = Role::Helpdesk;
}
impl Needs for Admin {
    const ROLE: Role = Role::Admin;
}

/// A caller allowed `R` in the request's scope: the tenant of the path, or
/// the platform for routes without one.
pub struct Allowed<R: Needs> {
    pub caller: Caller,
    _needs: PhantomData<R>,
}

impl<R: Needs> FromRequestParts<AppState> for Allowed<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            PlatformError::Internal("a route is not behind authentication".into())
        })?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let tenant = params
            .iter()
            .find(|(name, _)| *name == "tenant")
            .map(|(_, value)| value.to_owned());
        let scope = tenant.as_deref().map_or(Scope::Platform, Scope::Tenant);
        let via = described(&parts.method, &parts.uri);
        state.platform.authorize(&caller.0, scope, R::ROLE, &via)?;
        Ok(Allowed {
            caller,
            _needs: PhantomData,
        })
    }
}
