//! One Duo API call: sign with a fresh date, send, parse, retry the transient
//! failures with jittered exponential backoff like Duo's own clients.

use std::cell::Cell;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{DuoError, classify_failure};
use crate::host_api::{
    Clock, HttpRequest, HttpTransport, LogLevel, Logger, PendingResponse, Signer, TransportError,
};
use crate::signing::{self, SigVersion, Target};
use oort_time::rfc2822;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts after the first.
    pub max_retries: u32,
    /// First delay; doubles per attempt up to `32 × base` (1 s … 32 s at Duo's defaults).
    pub base_ms: u64,
}

impl RetryPolicy {
    pub const NONE: RetryPolicy = RetryPolicy {
        max_retries: 0,
        base_ms: 0,
    };
}

/// For the unsigned `ping`: there is nothing to sign with.
pub struct Unsigned;

impl Signer for Unsigned {
    fn hmac_sha1(&self, _data: &[u8]) -> Vec<u8> {
        Vec::new()
    }
    fn hmac_sha512(&self, _data: &[u8]) -> Vec<u8> {
        Vec::new()
    }
}

/// The Admin or Auth API application the calls are made as.
pub struct DuoClient<'a> {
    pub host: &'a str,
    pub ikey: &'a str,
    pub signer: &'a dyn Signer,
    pub version: SigVersion,
    pub http: &'a dyn HttpTransport,
    pub clock: &'a dyn Clock,
    pub log: &'a dyn Logger,
    pub retry: RetryPolicy,
    rng: Cell<u64>,
}

/// A call whose first attempt is in flight (see [`DuoClient::start`]).
pub struct StartedCall(Box<dyn PendingResponse>);

/// `{"stat":"OK","response":…,"metadata":…}` with the payload left unparsed.
#[derive(Deserialize)]
struct Envelope<T> {
    stat: String,
    response: Option<T>,
    #[serde(default)]
    metadata: Option<Value>,
}

/// The `response` of a successful call and the top-level `metadata` (where
/// offset-paged endpoints put `next_offset`).
#[derive(Debug, Clone)]
pub struct OkResponse {
    pub response: Value,
    pub metadata: Option<Value>,
}

/// Parses Duo's success envelope into `T`; anything else is malformed.
pub fn parse_envelope<'de, T: Deserialize<'de>>(
    body: &'de [u8],
) -> Result<(T, Option<Value>), String> {
    let env: Envelope<T> = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    if env.stat != "OK" {
        return Err(format!(
            "stat was `{}`",
            env.stat.chars().take(20).collect::<String>()
        ));
    }
    let response = env.response.ok_or("no `response` in the answer")?;
    Ok((response, env.metadata))
}

impl<'a> DuoClient<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        host: &'a str,
        ikey: &'a str,
        signer: &'a dyn Signer,
        version: SigVersion,
        http: &'a dyn HttpTransport,
        clock: &'a dyn Clock,
        log: &'a dyn Logger,
        retry: RetryPolicy,
    ) -> DuoClient<'a> {
        let seed = (clock.now_ms() as u64) ^ 0x9E37_79B9_7F4A_7C15;
        DuoClient {
            host,
            ikey,
            signer,
            version,
            http,
            clock,
            log,
            retry,
            rng: Cell::new(seed | 1),
        }
    }

    fn jitter(&self, below: u64) -> u64 {
        // xorshift64: jitter only has to de-synchronise clients, not be secret.
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.set(x);
        if below == 0 { 0 } else { x % below }
    }

    pub fn backoff_ms(&self, attempt: u32) -> u64 {
        let base = self.retry.base_ms;
        let exp = base.saturating_mul(1u64 << attempt.min(5));
        exp.min(base.saturating_mul(32)) + self.jitter(base)
    }

    /// Sends a signed request and parses a 200 answer with `parse`, retrying
    /// 429, 5xx, timeouts, dropped connections and unparseable bodies.
    pub fn call<T>(
        &self,
        method: &str,
        path: &str,
        params: &[(String, String)],
        parse: impl Fn(&[u8]) -> Result<T, String>,
    ) -> Result<T, DuoError> {
        self.call_started(None, method, path, params, parse)
    }

    /// Sends the first attempt of a call now, without waiting for Duo's
    /// answer; [`DuoClient::call_started`] takes it up later. Dropping the
    /// returned call cancels the request.
    pub fn start(&self, method: &str, path: &str, params: &[(String, String)]) -> StartedCall {
        StartedCall(self.http.start(&self.signed(method, path, params)))
    }

    /// [`DuoClient::call`] whose first attempt is `started` (when given):
    /// its answer is handled exactly like a fresh one, retries included.
    pub fn call_started<T>(
        &self,
        started: Option<StartedCall>,
        method: &str,
        path: &str,
        params: &[(String, String)],
        parse: impl Fn(&[u8]) -> Result<T, String>,
    ) -> Result<T, DuoError> {
        self.attempts(
            path,
            started.map(|s| s.0),
            || self.signed(method, path, params),
            &parse,
        )
    }

    fn signed(&self, method: &str, path: &str, params: &[(String, String)]) -> HttpRequest {
        // A fresh date per attempt: Duo rejects a reused one (40103).
        let date = rfc2822(self.clock.now_ms().div_euclid(1000));
        let target = Target {
            method,
            host: self.host,
            path,
            params,
        };
        let signed = signing::sign(self.version, self.ikey, self.signer, &date, &target);
        HttpRequest {
            method: method.to_ascii_uppercase(),
            url: self.url(path, &signed.query),
            headers: signed.headers,
            body: signed.body,
        }
    }

    /// A signed call returning the generic envelope.
    pub fn json(
        &self,
        method: &str,
        path: &str,
        params: &[(String, String)],
    ) -> Result<OkResponse, DuoError> {
        self.call(method, path, params, |body| {
            parse_envelope::<Value>(body)
                .map(|(response, metadata)| OkResponse { response, metadata })
        })
    }

    /// `GET /auth/v2/ping`, unsigned; returns Duo's Unix time in seconds.
    pub fn ping(&self) -> Result<i64, DuoError> {
        #[derive(Deserialize)]
        struct Ping {
            time: i64,
        }
        self.attempts(
            "/auth/v2/ping",
            None,
            || HttpRequest {
                method: "GET".into(),
                url: self.url("/auth/v2/ping", ""),
                headers: Vec::new(),
                body: Vec::new(),
            },
            &|body: &[u8]| parse_envelope::<Ping>(body).map(|(p, _)| p.time),
        )
    }

    fn url(&self, path: &str, query: &str) -> String {
        if query.is_empty() {
            format!("https://{}{}", self.host, path)
        } else {
            format!("https://{}{}?{}", self.host, path, query)
        }
    }

    fn attempts<T>(
        &self,
        path: &str,
        mut started: Option<Box<dyn PendingResponse>>,
        build: impl Fn() -> HttpRequest,
        parse: &dyn Fn(&[u8]) -> Result<T, String>,
    ) -> Result<T, DuoError> {
        let mut attempt = 0;
        loop {
            let answer = match started.take() {
                Some(pending) => pending.finish(),
                None => self.http.send(&build()),
            };
            let error = match answer {
                Ok(resp) if resp.status == 200 => match parse(&resp.body) {
                    Ok(value) => return Ok(value),
                    Err(detail) => DuoError::Malformed(detail),
                },
                Ok(resp) => classify_failure(resp.status, &resp.body),
                Err(e @ (TransportError::Timeout | TransportError::Connection(_))) => {
                    DuoError::Transport(e)
                }
                Err(TransportError::Denied(why)) => {
                    return Err(DuoError::Host(format!("egress denied: {why}")));
                }
                Err(TransportError::InvalidRequest(why)) => {
                    return Err(DuoError::Host(format!("invalid request: {why}")));
                }
                Err(TransportError::BodyTooLarge(n)) => {
                    return Err(DuoError::Host(format!(
                        "the answer exceeded the host's {n}-byte limit"
                    )));
                }
                Err(TransportError::BudgetExhausted) => {
                    return Err(DuoError::Host(
                        "this run used all the HTTP requests it is allowed".into(),
                    ));
                }
            };
            if !error.is_transient() || attempt >= self.retry.max_retries {
                return Err(error);
            }
            let delay = self.backoff_ms(attempt);
            let delay_text = delay.to_string();
            let attempt_text = (attempt + 1).to_string();
            let reason = match &error {
                DuoError::RateLimited => "rate limited (42901)",
                DuoError::Server { .. } => "server error",
                DuoError::Malformed(_) => "malformed answer",
                _ => "no answer",
            };
            self.log.log(
                LogLevel::Warn,
                "Duo call failed, backing off",
                &[
                    ("path", path),
                    ("reason", reason),
                    ("retry", &attempt_text),
                    ("delay_ms", &delay_text),
                ],
            );
            self.clock.sleep_ms(delay);
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::{FakeClock, KeySigner, NullLog, ScriptedHttp};

    fn client<'a>(
        http: &'a ScriptedHttp,
        clock: &'a FakeClock,
        signer: &'a KeySigner,
        retries: u32,
    ) -> DuoClient<'a> {
        DuoClient::new(
            "api-1234abcd.duosecurity.com",
            "DIWJ8X6AEYOR5OMC6TQ1",
            signer,
            SigVersion::V5,
            http,
            clock,
            &NullLog,
            RetryPolicy {
                max_retries: retries,
                base_ms: 1000,
            },
        )
    }

    #[test]
    fn retries_429_with_growing_jittered_backoff_then_gives_up() {
        let (http, clock, signer) = (
            ScriptedHttp::default(),
            FakeClock::at(1_700_000_000_000),
            KeySigner::new("k"),
        );
        for _ in 0..7 {
            http.push(
                429,
                r#"{"code":42901,"message":"Too Many Requests","stat":"FAIL"}"#,
            );
        }
        let err = client(&http, &clock, &signer, 6)
            .json("GET", "/admin/v1/users", &[])
            .unwrap_err();
        assert_eq!(err, DuoError::RateLimited);
        let sleeps = clock.sleeps.borrow().clone();
        assert_eq!(sleeps.len(), 6);
        for (i, s) in sleeps.iter().enumerate() {
            let floor = 1000u64 << i;
            assert!((floor..floor + 1000).contains(s), "sleep {i} = {s}");
        }
        assert_eq!(http.requests.borrow().len(), 7);
    }

    #[test]
    fn every_attempt_carries_a_fresh_date() {
        let (http, clock, signer) = (
            ScriptedHttp::default(),
            FakeClock::at(1_700_000_000_000),
            KeySigner::new("k"),
        );
        http.push(503, "");
        http.push(200, r#"{"stat":"OK","response":[]}"#);
        client(&http, &clock, &signer, 3)
            .json("GET", "/admin/v1/users", &[])
            .unwrap();
        let dates: Vec<String> = http
            .requests
            .borrow()
            .iter()
            .map(|r| {
                r.headers
                    .iter()
                    .find(|(k, _)| k == "Date")
                    .unwrap()
                    .1
                    .clone()
            })
            .collect();
        assert_eq!(dates.len(), 2);
        assert_ne!(dates[0], dates[1]);
    }

    #[test]
    fn truncated_json_is_retried_then_typed() {
        let (http, clock, signer) = (
            ScriptedHttp::default(),
            FakeClock::at(0),
            KeySigner::new("k"),
        );
        http.push(200, r#"{"stat":"OK","response":[{"user_id":"DU"#);
        http.push(200, r#"{"stat":"OK","resp"#);
        let err = client(&http, &clock, &signer, 1)
            .json("GET", "/admin/v1/users", &[])
            .unwrap_err();
        assert!(matches!(err, DuoError::Malformed(_)), "{err:?}");
    }

    #[test]
    fn credentials_errors_are_not_retried() {
        let (http, clock, signer) = (
            ScriptedHttp::default(),
            FakeClock::at(0),
            KeySigner::new("k"),
        );
        http.push(
            401,
            r#"{"code":40103,"message":"Invalid signature in request credentials","stat":"FAIL"}"#,
        );
        let err = client(&http, &clock, &signer, 6)
            .json("GET", "/admin/v1/users", &[])
            .unwrap_err();
        assert!(matches!(err, DuoError::Credentials { code: 40103, .. }));
        assert_eq!(http.requests.borrow().len(), 1);
    }

    #[test]
    fn timeouts_are_retried_and_budget_is_not() {
        let (http, clock, signer) = (
            ScriptedHttp::default(),
            FakeClock::at(0),
            KeySigner::new("k"),
        );
        http.push_err(TransportError::Timeout);
        http.push_err(TransportError::BudgetExhausted);
        let err = client(&http, &clock, &signer, 6)
            .json("GET", "/admin/v1/users", &[])
            .unwrap_err();
        assert!(matches!(err, DuoError::Host(_)));
        assert_eq!(http.requests.borrow().len(), 2);
    }

    #[test]
    fn ping_is_unsigned() {
        let (http, clock, signer) = (
            ScriptedHttp::default(),
            FakeClock::at(0),
            KeySigner::new("k"),
        );
        http.push(200, r#"{"stat":"OK","response":{"time":1357020061}}"#);
        assert_eq!(
            client(&http, &clock, &signer, 0).ping().unwrap(),
            1_357_020_061
        );
        let req = &http.requests.borrow()[0];
        assert_eq!(req.url, "https://api-1234abcd.duosecurity.com/auth/v2/ping");
        assert!(req.headers.is_empty());
    }
}
