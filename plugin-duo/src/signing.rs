//! Duo's canonical request format (duo-api.md §2). The plugin builds the
//! canonical string; the HMAC is computed by the host with the secret key, so
//! the key never enters the sandbox.

use base64::Engine as _;
use sha2::{Digest, Sha512};

use crate::host_api::Signer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigVersion {
    /// 7-line canonical string with body and X-Duo header hashes, HMAC-SHA512,
    /// JSON bodies for POST (what Duo's reference client sends today).
    V5,
    /// 5-line canonical string, HMAC-SHA512, form bodies.
    V2Sha512,
    /// 5-line canonical string, HMAC-SHA1 (legacy, still accepted).
    V2Sha1,
}

impl SigVersion {
    pub const CHOICES: &'static str = "v5, v2-sha512 or v2-sha1";

    pub fn parse(s: &str) -> Option<SigVersion> {
        match s {
            "v5" => Some(SigVersion::V5),
            "v2-sha512" => Some(SigVersion::V2Sha512),
            "v2-sha1" => Some(SigVersion::V2Sha1),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SigVersion::V5 => "v5",
            SigVersion::V2Sha512 => "v2-sha512",
            SigVersion::V2Sha1 => "v2-sha1",
        }
    }
}

/// Percent-encodes every byte outside RFC 3986's unreserved set, upper-case hex.
pub fn percent_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
    out
}

/// `k=v&…` sorted by encoded key, then encoded value (repeated keys allowed).
pub fn canon_params(params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    encoded.sort();
    let mut out = String::new();
    for (i, (k, v)) in encoded.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

pub fn sha512_hex(data: &[u8]) -> String {
    hex::encode(Sha512::digest(data))
}

/// SHA-512 over the `X-Duo-*` headers: lower-cased names, sorted, NUL-joined
/// `name\0value\0name\0value`.
pub fn x_duo_header_hash(headers: &[(String, String)]) -> String {
    let mut named: Vec<(String, &str)> = headers
        .iter()
        .filter(|(n, _)| n.to_ascii_lowercase().starts_with("x-duo-"))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.as_str()))
        .collect();
    named.sort();
    let parts: Vec<&str> = named.iter().flat_map(|(n, v)| [n.as_str(), *v]).collect();
    sha512_hex(parts.join("\0").as_bytes())
}

/// What a canonical string is built from.
pub struct CanonInput<'a> {
    pub date: &'a str,
    pub method: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    /// Already canonicalized (see [`canon_params`]); empty for v5 JSON bodies.
    pub params: &'a str,
}

pub fn canonical_v2(input: &CanonInput) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}",
        input.date,
        input.method.to_ascii_uppercase(),
        input.host.to_ascii_lowercase(),
        input.path,
        input.params
    )
}

pub fn canonical_v5(input: &CanonInput, body: &[u8], x_duo_headers: &[(String, String)]) -> String {
    format!(
        "{}\n{}\n{}",
        canonical_v2(input),
        sha512_hex(body),
        x_duo_header_hash(x_duo_headers)
    )
}

/// The lower-case hex HMAC the version calls for.
pub fn signature_hex(version: SigVersion, signer: &dyn Signer, canonical: &str) -> String {
    match version {
        SigVersion::V2Sha1 => hex::encode(signer.hmac_sha1(canonical.as_bytes())),
        SigVersion::V2Sha512 | SigVersion::V5 => {
            hex::encode(signer.hmac_sha512(canonical.as_bytes()))
        }
    }
}

pub fn basic_authorization(ikey: &str, signature_hex: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{ikey}:{signature_hex}"));
    format!("Basic {token}")
}

/// A request ready to send: query string, headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The request being signed.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub method: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    pub params: &'a [(String, String)],
}

/// Params travel in the query for GET/DELETE; for POST they are a JSON body
/// (v5) or a form body (v2). The query/form text is the canonical text
/// itself, so what is signed is byte for byte what is sent.
pub fn sign(
    version: SigVersion,
    ikey: &str,
    signer: &dyn Signer,
    date: &str,
    target: &Target,
) -> SignedRequest {
    let Target {
        host, path, params, ..
    } = *target;
    let method = target.method.to_ascii_uppercase();
    let has_body = matches!(method.as_str(), "POST" | "PUT" | "PATCH");
    let canon = canon_params(params);
    let mut headers = vec![("Date".to_string(), date.to_string())];
    let (query, body, canonical) = match (version, has_body) {
        (SigVersion::V5, true) => {
            let body = json_body(params);
            let input = CanonInput {
                date,
                method: &method,
                host,
                path,
                params: "",
            };
            let canonical = canonical_v5(&input, &body, &[]);
            headers.push(("Content-Type".into(), "application/json".into()));
            (String::new(), body, canonical)
        }
        (SigVersion::V5, false) => {
            let input = CanonInput {
                date,
                method: &method,
                host,
                path,
                params: &canon,
            };
            let canonical = canonical_v5(&input, b"", &[]);
            (canon.clone(), Vec::new(), canonical)
        }
        (_, true) => {
            let input = CanonInput {
                date,
                method: &method,
                host,
                path,
                params: &canon,
            };
            headers.push((
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
            (
                String::new(),
                canon.clone().into_bytes(),
                canonical_v2(&input),
            )
        }
        (_, false) => {
            let input = CanonInput {
                date,
                method: &method,
                host,
                path,
                params: &canon,
            };
            (canon.clone(), Vec::new(), canonical_v2(&input))
        }
    };
    let signature = signature_hex(version, signer, &canonical);
    headers.push((
        "Authorization".into(),
        basic_authorization(ikey, &signature),
    ));
    SignedRequest {
        query,
        headers,
        body,
    }
}

/// `{"k":"v",…}` with sorted keys and no spaces, as Duo's Python client sends.
fn json_body(params: &[(String, String)]) -> Vec<u8> {
    let map: std::collections::BTreeMap<&str, &str> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    serde_json::to_vec(&map).unwrap_or_else(|_| b"{}".to_vec())
}

#[cfg(test)]
mod tests;
