//! A strict simulator of Duo's Admin API and Auth API for tests and demos: real
//! signature checks (v2 SHA-1/SHA-512, v4, v5), permission grants, Duo's paging,
//! auth events that show up to 2 minutes late (each at its own time), the
//! 180-day rule, deterministic seeded data with planted insight scenarios,
//! remediation endpoints, and per-request fault injection.

mod config;
mod data;
mod server;
pub mod signing;
mod sim;
pub mod timefmt;

pub use config::{Clock, Credentials, Edition, Fault, PushAnswer, SimConfig};
pub use sim::Simulator;

/// Signs a request the way `duo_client` does (v2, HMAC-SHA512) and returns the
/// `(Date, Authorization)` header values: handy for tests that hand-craft requests.
pub fn sign_v2(
    creds: &Credentials,
    method: &str,
    hostname: &str,
    path: &str,
    params: &[(&str, &str)],
    date_secs: i64,
) -> (String, String) {
    let date = oort_time::rfc2822(date_secs);
    let canonical = signing::canonical_v2(&date, method, hostname, path, params);
    let sig = signing::hmac_hex(signing::Digest2::Sha512, &creds.skey, &canonical);
    (date, signing::authorization(&creds.ikey, &sig))
}
