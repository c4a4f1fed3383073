//! Failures of one Duo API call and how they reach the operator.

use std::fmt;

use crate::host_api::TransportError;
use crate::model::PluginError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DuoError {
    /// 401: 40101–40105.
    Credentials { code: u32, message: String },
    /// 403 / 40301: the application lacks a permission.
    Forbidden { code: u32, message: String },
    /// 429 / 42901, still limited after the retries.
    RateLimited,
    /// 404 / 40401.
    NotFound { message: String },
    /// Other 4xx (bad parameters etc.).
    Rejected {
        status: u16,
        code: u32,
        message: String,
    },
    /// 5xx after the retries.
    Server { status: u16, message: String },
    /// Timeout or dropped connection after the retries.
    Transport(TransportError),
    /// A 200 whose body was not the JSON Duo sends (truncated, malformed), after the retries.
    Malformed(String),
    /// The host refused the request (egress policy, request budget, size limit).
    Host(String),
}

impl DuoError {
    /// Worth another attempt after a backoff.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            DuoError::RateLimited
                | DuoError::Server { .. }
                | DuoError::Transport(_)
                | DuoError::Malformed(_)
        )
    }

    /// What the operator should read for a credentials failure.
    pub fn credentials_message(code: u32, message: &str) -> String {
        match code {
            40101 => format!(
                "Duo found no usable credentials in the request ({code} {message}): check the integration key"
            ),
            40102 => format!(
                "wrong integration key: Duo does not know it on this API hostname ({code} {message}); copy the integration key of the application from Duo"
            ),
            40103 => format!(
                "wrong secret key: Duo could not verify the request signature ({code} {message}); paste the secret key of the same application again (a badly wrong clock also causes this)"
            ),
            40104 | 40105 => format!(
                "clock off: Duo rejected the request time ({code} {message}); set this machine's clock with NTP"
            ),
            _ => format!("Duo rejected the credentials ({code} {message})"),
        }
    }

    /// The typed plugin error, with `context` saying what was being done.
    pub fn into_plugin_error(self, context: &str) -> PluginError {
        let msg = format!("{context}: {self}");
        match self {
            DuoError::Credentials { .. } => PluginError::Unauthorized(msg),
            DuoError::Forbidden { .. } => PluginError::Forbidden(msg),
            DuoError::RateLimited => PluginError::RateLimited(msg),
            DuoError::NotFound { .. } => PluginError::NotFound(msg),
            DuoError::Rejected { .. } => PluginError::Upstream(msg),
            DuoError::Server { .. } | DuoError::Transport(_) | DuoError::Malformed(_) => {
                PluginError::Upstream(msg)
            }
            DuoError::Host(_) => PluginError::Host(msg),
        }
    }
}

impl fmt::Display for DuoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DuoError::Credentials { code, message } => f.write_str(&DuoError::credentials_message(*code, message)),
            DuoError::Forbidden { code, message } => write!(
                f,
                "Duo refused: the application lacks a permission ({code} {message}); grant it to the application in Duo"
            ),
            DuoError::RateLimited => {
                f.write_str("Duo is rate limiting this application (42901 Too Many Requests) even after backing off")
            }
            DuoError::NotFound { message } => write!(f, "not found in Duo (40401 {message})"),
            DuoError::Rejected { status, code, message } => {
                write!(f, "Duo rejected the request (HTTP {status}, {code} {message})")
            }
            DuoError::Server { status, message } => {
                write!(f, "Duo failed with HTTP {status} ({message}) after retries; try again later")
            }
            DuoError::Transport(TransportError::Timeout) => {
                f.write_str("Duo did not answer in time after retries; check connectivity to the API hostname")
            }
            DuoError::Transport(e) => write!(f, "could not reach Duo after retries: {e:?}"),
            DuoError::Malformed(detail) => {
                write!(f, "Duo's answer was not valid JSON after retries ({detail}); try again later")
            }
            DuoError::Host(detail) => write!(f, "the host refused the request: {detail}"),
        }
    }
}

/// Classifies a non-200 answer from its status and Duo's failure envelope
/// (`{"stat":"FAIL","code":40103,"message":…,"message_detail":…}`). The code
/// may be a number or a string, or missing when a proxy answered.
pub fn classify_failure(status: u16, body: &[u8]) -> DuoError {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| parsed.as_ref().and_then(|v| v.get(name)).cloned();
    let code = match field("code") {
        Some(serde_json::Value::Number(n)) => n.as_u64().unwrap_or(0) as u32,
        Some(serde_json::Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    };
    let text = |name: &str| field(name).and_then(|v| v.as_str().map(str::to_string));
    let mut message = text("message").unwrap_or_else(|| format!("HTTP {status}"));
    if let Some(detail) = text("message_detail").filter(|d| !d.is_empty()) {
        message = format!("{message}: {detail}");
    }
    // Bound what a hostile body can put into our errors.
    if message.len() > 300 {
        let mut cut = 300;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
    }
    match (status, code) {
        (429, _) | (_, 42901) => DuoError::RateLimited,
        (401, _) | (_, 40101..=40105) => DuoError::Credentials {
            code: if code == 0 { 40100 } else { code },
            message,
        },
        (403, _) | (_, 40301) => DuoError::Forbidden {
            code: if code == 0 { 40300 } else { code },
            message,
        },
        (404, _) => DuoError::NotFound { message },
        (500..=599, _) => DuoError::Server { status, message },
        _ => DuoError::Rejected {
            status,
            code,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_duo_codes() {
        let f = |s, b: &str| classify_failure(s, b.as_bytes());
        assert_eq!(
            f(
                429,
                r#"{"code":42901,"message":"Too Many Requests","stat":"FAIL"}"#
            ),
            DuoError::RateLimited
        );
        assert!(matches!(
            f(
                401,
                r#"{"code":40103,"message":"Invalid signature in request credentials","stat":"FAIL"}"#
            ),
            DuoError::Credentials { code: 40103, .. }
        ));
        assert!(matches!(
            f(401, r#"{"code":"40102","stat":"FAIL"}"#),
            DuoError::Credentials { code: 40102, .. }
        ));
        assert!(matches!(
            f(
                403,
                r#"{"code":40301,"message":"Access forbidden","stat":"FAIL"}"#
            ),
            DuoError::Forbidden { .. }
        ));
        assert!(matches!(
            f(503, "<html>bad gateway</html>"),
            DuoError::Server { status: 503, .. }
        ));
        let DuoError::Rejected { message, .. } = f(
            400,
            r#"{"code":40002,"message":"Invalid request parameters","message_detail":"mintime","stat":"FAIL"}"#,
        ) else {
            panic!("400 is a rejection")
        };
        assert_eq!(message, "Invalid request parameters: mintime");
    }

    #[test]
    fn credential_messages_name_the_fix() {
        assert!(DuoError::credentials_message(40102, "x").starts_with("wrong integration key"));
        assert!(DuoError::credentials_message(40103, "x").starts_with("wrong secret key"));
        assert!(DuoError::credentials_message(40105, "x").starts_with("clock off"));
    }

    #[test]
    fn errors_become_typed_plugin_errors() {
        assert!(matches!(
            DuoError::RateLimited.into_plugin_error("x"),
            PluginError::RateLimited(_)
        ));
        assert!(matches!(
            DuoError::Malformed("eof".into()).into_plugin_error("auth logs"),
            PluginError::Upstream(m) if m.starts_with("auth logs: ")
        ));
    }

    #[test]
    fn hostile_messages_are_bounded() {
        let long = format!(
            r#"{{"code":40002,"message":"{}","stat":"FAIL"}}"#,
            "é".repeat(1000)
        );
        let DuoError::Rejected { message, .. } = classify_failure(400, long.as_bytes()) else {
            panic!()
        };
        assert!(message.len() <= 300);
    }
}
