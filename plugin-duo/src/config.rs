//! Configuration fields, defaults and validation.

use crate::host_api::{SecretError, Secrets};
use crate::model::FieldError;
use crate::signing::SigVersion;

pub const API_HOSTNAME: &str = "api_hostname";
pub const INTEGRATION_KEY: &str = "integration_key";
pub const SECRET_KEY: &str = "secret_key";
pub const PUSH_VERIFICATION: &str = "push_verification";
pub const AUTH_INTEGRATION_KEY: &str = "auth_integration_key";
pub const AUTH_SECRET_KEY: &str = "auth_secret_key";
pub const COLLECT_ENDPOINTS: &str = "collect_endpoints";
pub const INITIAL_LOOKBACK_DAYS: &str = "initial_lookback_days";
pub const SIGNATURE_VERSION: &str = "signature_version";
pub const RETRY_BASE_MS: &str = "retry_base_ms";
pub const MAX_RETRIES: &str = "max_retries";
pub const PUSH_TIMEOUT_SECS: &str = "push_timeout_secs";
pub const POLL_INTERVAL_MS: &str = "poll_interval_ms";

/// Duo keeps 180 days of logs; one day of margin keeps `mintime` valid even
/// if the request is signed a little later than it was planned.
pub const MAX_LOOKBACK_DAYS: u32 = 179;

const HOSTNAME_HINT: &str =
    "enter only the hostname, like api-xxxxxxxx.duosecurity.com, without https://";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub api_hostname: String,
    pub integration_key: String,
    pub push_verification: bool,
    pub auth_integration_key: Option<String>,
    pub collect_endpoints: bool,
    /// Already clamped to [`MAX_LOOKBACK_DAYS`].
    pub initial_lookback_days: u32,
    pub signature_version: SigVersion,
    /// First backoff delay; Duo's clients use 1 s, tests use a few ms.
    pub retry_base_ms: u64,
    pub max_retries: u32,
    pub push_timeout_secs: u64,
    pub poll_interval_ms: u64,
}

fn lookup<'a>(entries: &'a [(String, String)], name: &str) -> Option<&'a str> {
    entries
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn parse_bool(entries: &[(String, String)], name: &str, errors: &mut Vec<FieldError>) -> bool {
    match lookup(entries, name).map(str::trim) {
        None | Some("") => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => {
            errors.push(FieldError::new(
                name,
                format!("`{v}` is not a switch value: enter true or false"),
            ));
            false
        }
    }
}

fn parse_int(
    entries: &[(String, String)],
    name: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
    errors: &mut Vec<FieldError>,
) -> u64 {
    match lookup(entries, name).map(str::trim) {
        None | Some("") => default,
        Some(v) => match v.parse::<u64>() {
            Ok(n) if range.contains(&n) => n,
            _ => {
                errors.push(FieldError::new(
                    name,
                    format!(
                        "`{v}` is not allowed: enter a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                ));
                default
            }
        },
    }
}

/// Why a hostname is refused, or `None` if it is a Duo API hostname.
pub fn hostname_problem(host: &str) -> Option<String> {
    if host.is_empty() {
        return Some(format!("the API hostname is required: {HOSTNAME_HINT}"));
    }
    if host.contains("://")
        || host.contains('/')
        || host.contains(':')
        || host.chars().any(|c| c.is_whitespace())
        || host.chars().any(|c| c.is_ascii_uppercase())
    {
        return Some(format!("`{host}` is not a bare hostname: {HOSTNAME_HINT}"));
    }
    let middle = host.strip_prefix("api-").and_then(|rest| {
        rest.strip_suffix(".duosecurity.com")
            .or_else(|| rest.strip_suffix(".duofederal.com"))
    });
    let valid = middle.is_some_and(|m| {
        !m.is_empty()
            && m.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            && !m.starts_with('.')
            && !m.ends_with('.')
            && !m.contains("..")
    });
    (!valid).then(|| {
        format!(
            "`{host}` is not a Duo API hostname: copy it from the Admin API application in Duo; it looks like api-xxxxxxxx.duosecurity.com (or api-xxxxxxxx.duofederal.com)"
        )
    })
}

/// Why an integration key is refused, or `None`.
pub fn integration_key_problem(key: &str, which: &str) -> Option<String> {
    let ok = key.len() == 20
        && key.starts_with("DI")
        && key
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    (!ok).then(|| {
        format!(
            "an integration key is 20 letters and digits starting with DI, like DIWJ8X6AEYOR5OMC6TQ1: copy the integration key of the {which} application in Duo"
        )
    })
}

impl Config {
    /// Parses the non-secret fields; every problem is reported at once.
    pub fn parse(entries: &[(String, String)]) -> Result<Config, Vec<FieldError>> {
        let mut errors = Vec::new();
        let api_hostname = lookup(entries, API_HOSTNAME).unwrap_or("").to_string();
        if let Some(msg) = hostname_problem(&api_hostname) {
            errors.push(FieldError::new(API_HOSTNAME, msg));
        }
        let integration_key = lookup(entries, INTEGRATION_KEY)
            .unwrap_or("")
            .trim()
            .to_string();
        if let Some(msg) = integration_key_problem(&integration_key, "Admin API") {
            errors.push(FieldError::new(INTEGRATION_KEY, msg));
        }
        let push_verification = parse_bool(entries, PUSH_VERIFICATION, &mut errors);
        let auth_integration_key = lookup(entries, AUTH_INTEGRATION_KEY)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        if push_verification {
            match &auth_integration_key {
                None => errors.push(FieldError::new(
                    AUTH_INTEGRATION_KEY,
                    "push verification needs an Auth API application: enter its integration key, or turn push verification off",
                )),
                Some(k) => {
                    if let Some(msg) = integration_key_problem(k, "Auth API") {
                        errors.push(FieldError::new(AUTH_INTEGRATION_KEY, msg));
                    }
                }
            }
        }
        let collect_endpoints = parse_bool(entries, COLLECT_ENDPOINTS, &mut errors);
        let lookback = parse_int(entries, INITIAL_LOOKBACK_DAYS, 180, 1..=180, &mut errors) as u32;
        let signature_version = match lookup(entries, SIGNATURE_VERSION).map(str::trim) {
            None | Some("") => SigVersion::V5,
            Some(v) => SigVersion::parse(v).unwrap_or_else(|| {
                errors.push(FieldError::new(
                    SIGNATURE_VERSION,
                    format!(
                        "`{v}` is not a signature version: enter {}",
                        SigVersion::CHOICES
                    ),
                ));
                SigVersion::V5
            }),
        };
        let retry_base_ms = parse_int(entries, RETRY_BASE_MS, 1000, 1..=60_000, &mut errors);
        let max_retries = parse_int(entries, MAX_RETRIES, 6, 0..=10, &mut errors) as u32;
        let push_timeout_secs = parse_int(entries, PUSH_TIMEOUT_SECS, 60, 1..=110, &mut errors);
        let poll_interval_ms = parse_int(entries, POLL_INTERVAL_MS, 2000, 1..=30_000, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Config {
            api_hostname,
            integration_key,
            push_verification,
            auth_integration_key,
            collect_endpoints,
            initial_lookback_days: lookback.min(MAX_LOOKBACK_DAYS),
            signature_version,
            retry_base_ms,
            max_retries,
            push_timeout_secs,
            poll_interval_ms,
        })
    }
}

fn secret_problem(secrets: &dyn Secrets, name: &str, what: &str) -> Option<FieldError> {
    match secrets.get(name) {
        Ok(_) => None,
        Err(SecretError::NotSet(_)) => Some(FieldError::new(
            name,
            format!(
                "{what} is missing: paste the 40-character secret key shown with that application in Duo"
            ),
        )),
        Err(e) => Some(FieldError::new(
            name,
            format!("the host refused the secret {name}: {e:?}"),
        )),
    }
}

/// Everything `validate-config` reports: field formats, then the presence of
/// the Auth API secret when push verification is on. Secret formats, and the
/// presence of the required `secret_key`, are checked by the host through the
/// manifest (the plugin never sees secret values).
pub fn validate(entries: &[(String, String)], secrets: &dyn Secrets) -> Vec<FieldError> {
    let mut errors = match Config::parse(entries) {
        Ok(_) => Vec::new(),
        Err(errors) => errors,
    };
    let push_on =
        lookup(entries, PUSH_VERIFICATION).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if push_on {
        errors.extend(secret_problem(
            secrets,
            AUTH_SECRET_KEY,
            "push verification needs the Auth API secret key; it",
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::FakeSecrets;

    fn entries(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn base() -> Vec<(String, String)> {
        entries(&[
            ("api_hostname", "api-1234abcd.duosecurity.com"),
            ("integration_key", "DIWJ8X6AEYOR5OMC6TQ1"),
        ])
    }

    fn all_secrets() -> FakeSecrets {
        FakeSecrets::with(&[("secret_key", "x"), ("auth_secret_key", "y")])
    }

    #[test]
    fn defaults() {
        let c = Config::parse(&base()).unwrap();
        assert_eq!(c.signature_version, SigVersion::V5);
        assert_eq!(
            c.initial_lookback_days, 179,
            "180 is clamped inside Duo's window"
        );
        assert!(!c.push_verification && !c.collect_endpoints);
        assert_eq!(
            (c.retry_base_ms, c.max_retries, c.push_timeout_secs),
            (1000, 6, 60)
        );
        assert!(validate(&base(), &all_secrets()).is_empty());
    }

    #[test]
    fn hostname_rules() {
        for bad in [
            "https://api-1234abcd.duosecurity.com",
            "api-1234abcd.duosecurity.com/",
            "api-1234abcd.duosecurity.com:443",
            " api-1234abcd.duosecurity.com",
            "API-1234abcd.duosecurity.com",
        ] {
            let msg = hostname_problem(bad).unwrap();
            assert!(msg.contains("without https://"), "{bad}: {msg}");
        }
        for bad in [
            "admin-1234abcd.duosecurity.com",
            "api-.duosecurity.com",
            "api-1234.example.com",
            "",
        ] {
            assert!(hostname_problem(bad).is_some(), "{bad}");
        }
        for good in [
            "api-1234abcd.duosecurity.com",
            "api-1234abcd.duofederal.com",
            "api-first.test.duosecurity.com",
        ] {
            assert_eq!(hostname_problem(good), None, "{good}");
        }
    }

    #[test]
    fn integration_key_rules() {
        let mut e = base();
        e[1].1 = "DIWJ8X6AEYOR5OMC6TQ".into();
        let errs = Config::parse(&e).unwrap_err();
        assert_eq!(errs[0].field, "integration_key");
        assert!(
            errs[0]
                .message
                .contains("20 letters and digits starting with DI")
        );
        e[1].1 = "XXWJ8X6AEYOR5OMC6TQ1".into();
        assert!(Config::parse(&e).is_err());
    }

    #[test]
    fn push_verification_needs_auth_keys() {
        let mut e = base();
        e.push(("push_verification".into(), "true".into()));
        let errs = validate(&e, &FakeSecrets::with(&[("secret_key", "x")]));
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["auth_integration_key", "auth_secret_key"]);
        e.push(("auth_integration_key".into(), "DIAUTHAPIKEY00000001".into()));
        assert!(validate(&e, &all_secrets()).is_empty());
    }

    #[test]
    fn bad_scalars_say_what_to_type() {
        let mut e = base();
        e.push(("signature_version".into(), "v4".into()));
        e.push(("initial_lookback_days".into(), "400".into()));
        e.push(("collect_endpoints".into(), "yes".into()));
        let errs = Config::parse(&e).unwrap_err();
        assert_eq!(errs.len(), 3);
        assert!(
            errs.iter()
                .any(|e| e.message.contains("v5, v2-sha512 or v2-sha1"))
        );
        assert!(errs.iter().any(|e| e.message.contains("from 1 to 180")));
        assert!(errs.iter().any(|e| e.message.contains("true or false")));
    }

    #[test]
    fn only_the_push_secret_is_checked_by_the_plugin() {
        let errs = validate(&base(), &FakeSecrets::default());
        assert!(
            errs.is_empty(),
            "the host enforces required secrets: {errs:?}"
        );
    }
}
