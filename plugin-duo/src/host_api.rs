//! What the plugin needs from its host, as traits. The wasm glue implements
//! them with the WIT imports; native tests implement them with fakes.

use crate::model::CollectedRecord;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The WIT `http-error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    Denied(String),
    InvalidRequest(String),
    Timeout,
    Connection(String),
    BodyTooLarge(u64),
    BudgetExhausted,
}

pub trait HttpTransport {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError>;

    /// Sends `request` and returns before its response arrives (the host
    /// receives it while the plugin goes on). By default it is sent and
    /// answered right away, which is all a fake needs.
    fn start(&self, request: &HttpRequest) -> Box<dyn PendingResponse> {
        Box::new(Answered(self.send(request)))
    }
}

/// A request in flight. Dropping it cancels it.
pub trait PendingResponse {
    /// Waits for the response (or the error `send` would have returned).
    fn finish(self: Box<Self>) -> Result<HttpResponse, TransportError>;
}

/// A request already answered (or refused before it was sent).
pub struct Answered(pub Result<HttpResponse, TransportError>);

impl PendingResponse for Answered {
    fn finish(self: Box<Self>) -> Result<HttpResponse, TransportError> {
        self.0
    }
}

/// HMAC with a key the plugin never sees (the host's `secrets.secret`).
pub trait Signer {
    fn hmac_sha1(&self, data: &[u8]) -> Vec<u8>;
    fn hmac_sha512(&self, data: &[u8]) -> Vec<u8>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretError {
    NotDeclared(String),
    NotSet(String),
    NotGranted(String),
}

pub trait Secrets {
    fn get(&self, name: &str) -> Result<Box<dyn Signer>, SecretError>;
}

pub trait Clock {
    fn now_ms(&self) -> i64;
    fn sleep_ms(&self, ms: u64);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    TooLarge(String),
    Invalid(String),
    Unavailable(String),
}

pub trait Storage {
    fn get_checkpoint(&self, source: &str) -> Option<String>;
    /// Records and checkpoint in one transaction: both durable or neither.
    fn commit(
        &self,
        source: &str,
        records: Vec<CollectedRecord<'_>>,
        checkpoint: &str,
    ) -> Result<(), StorageError>;
    /// Like `commit`, but the write may finish after this returns (the host
    /// overlaps it with the next page); `flush` waits for it. A failed write
    /// is reported by the next `stage` or by `flush`.
    fn stage(
        &self,
        source: &str,
        records: Vec<CollectedRecord<'_>>,
        checkpoint: &str,
    ) -> Result<(), StorageError> {
        self.commit(source, records, checkpoint)
    }
    /// `stage` for immutable log events, which the host keys by (kind,
    /// time, id): each record needs a time; one stored already is left as is.
    fn stage_events(
        &self,
        source: &str,
        events: Vec<CollectedRecord<'_>>,
        checkpoint: &str,
    ) -> Result<(), StorageError> {
        self.stage(source, events, checkpoint)
    }
    /// Waits until everything staged is written.
    fn flush(&self) -> Result<(), StorageError> {
        Ok(())
    }
    /// A point in the write history: what is written later is newer.
    fn mark(&self) -> Result<u64, StorageError>;
    /// Deletes the records of `kind` (not events) not written since `mark`.
    fn prune(&self, kind: &str, mark: u64) -> Result<u64, StorageError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
}

pub trait Logger {
    fn log(&self, level: LogLevel, message: &str, fields: &[(&str, &str)]);
}

/// Everything a plugin export may touch, borrowed for one call.
pub struct Env<'a> {
    pub http: &'a dyn HttpTransport,
    pub secrets: &'a dyn Secrets,
    pub storage: &'a dyn Storage,
    pub clock: &'a dyn Clock,
    pub log: &'a dyn Logger,
}
