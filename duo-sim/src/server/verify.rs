//! Request authentication exactly as strict as Duo: every signature version the
//! reference clients produce is accepted, anything else is refused with Duo's code.

use axum::http::HeaderMap;
use base64::Engine as _;

use super::envelope::ApiError;
use super::keys::{KeyEntry, Keys};
use super::params::Params;
use crate::signing::{self, Digest2};
use crate::timefmt::parse_rfc2822;

/// Allowed distance between the request's Date and the server clock.
pub const MAX_SKEW_SECS: i64 = 300;

pub struct Incoming<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl Incoming<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn is_json(&self) -> bool {
        self.header("content-type")
            .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/json"))
    }

    pub fn is_form(&self) -> bool {
        match self.header("content-type") {
            Some(c) => c
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded"),
            None => !self.body.is_empty() && !self.body.starts_with(b"{"),
        }
    }
}

fn parse_authorization(value: &str) -> Option<(String, String)> {
    let b64 = value.strip_prefix("Basic ")?.trim();
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (ikey, sig) = text.split_once(':')?;
    Some((ikey.to_string(), sig.to_ascii_lowercase()))
}

/// Returns the key that signed the request.
pub fn authenticate<'k>(
    keys: &'k Keys,
    hostname: &str,
    req: &Incoming<'_>,
    real_now_secs: i64,
) -> Result<&'k KeyEntry, ApiError> {
    let auth = req
        .header("authorization")
        .ok_or_else(ApiError::missing_credentials)?;
    let (ikey, sig) = parse_authorization(auth).ok_or_else(ApiError::missing_credentials)?;
    let key = keys.find(&ikey).ok_or_else(ApiError::invalid_ikey)?;

    let dates: Vec<&str> = ["x-duo-date", "date"]
        .iter()
        .filter_map(|h| req.header(h))
        .collect();
    let parsed: Vec<(&str, i64)> = dates
        .iter()
        .filter_map(|d| parse_rfc2822(d).map(|t| (*d, t)))
        .collect();
    if parsed.is_empty() {
        return Err(ApiError::missing_timestamp());
    }

    let digest = match sig.len() {
        40 => Digest2::Sha1,
        128 => Digest2::Sha512,
        _ => return Err(ApiError::invalid_signature()),
    };

    let query = Params::from_urlencoded(req.query.as_bytes());
    let mut v2_params = query.clone();
    if req.is_form() {
        v2_params.extend(Params::from_urlencoded(req.body));
    }
    let header_hashes = x_duo_header_hashes(req.headers);

    for (date, secs) in parsed {
        let mut candidates = vec![signing::canonical_v2(
            date,
            req.method,
            hostname,
            req.path,
            &v2_params.0,
        )];
        if digest == Digest2::Sha512 {
            candidates.push(signing::canonical_v4(
                date, req.method, hostname, req.path, &query.0, req.body,
            ));
            for hh in &header_hashes {
                candidates.push(signing::canonical_v5(
                    date, req.method, hostname, req.path, &query.0, req.body, hh,
                ));
            }
        }
        if candidates
            .iter()
            .any(|c| signing::verify_hex(digest, &key.skey, c, &sig))
        {
            if (secs - real_now_secs).abs() > MAX_SKEW_SECS {
                return Err(ApiError::bad_timestamp());
            }
            return Ok(key);
        }
    }
    Err(ApiError::invalid_signature())
}

/// v5 hashes the `X-Duo-*` headers. Clients differ on whether `X-Duo-Date` is among
/// them (Python never sends it; C# may), so both readings are tried.
fn x_duo_header_hashes(headers: &HeaderMap) -> Vec<String> {
    let mut all = Vec::new();
    for (name, value) in headers {
        let name = name.as_str();
        if name.starts_with("x-duo-") {
            match value.to_str() {
                Ok(v) => all.push((name.to_string(), v.to_string())),
                Err(_) => return Vec::new(),
            }
        }
    }
    let without_date: Vec<(String, String)> = all
        .iter()
        .filter(|(k, _)| k != "x-duo-date")
        .cloned()
        .collect();
    let mut out = Vec::new();
    for set in [&without_date, &all] {
        if let Some(h) = signing::canon_x_duo_headers(set)
            && !out.contains(&h)
        {
            out.push(h);
        }
    }
    out
}
