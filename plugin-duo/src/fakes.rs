//! Test doubles for the host traits (native tests only).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use hmac::{Hmac, Mac};

use crate::host_api::*;
use crate::model::CollectedRecord;

/// Computes the HMACs the host would, from a key held in the test.
pub struct KeySigner(Vec<u8>);

impl KeySigner {
    pub fn new(key: &str) -> KeySigner {
        KeySigner(key.as_bytes().to_vec())
    }
}

impl Signer for KeySigner {
    fn hmac_sha1(&self, data: &[u8]) -> Vec<u8> {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&self.0).expect("any key length");
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }
    fn hmac_sha512(&self, data: &[u8]) -> Vec<u8> {
        let mut mac = Hmac::<sha2::Sha512>::new_from_slice(&self.0).expect("any key length");
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }
}

/// Secrets by name; absent names are `not-set`.
#[derive(Default)]
pub struct FakeSecrets(pub BTreeMap<String, String>);

impl FakeSecrets {
    pub fn with(pairs: &[(&str, &str)]) -> FakeSecrets {
        FakeSecrets(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }
}

impl Secrets for FakeSecrets {
    fn get(&self, name: &str) -> Result<Box<dyn Signer>, SecretError> {
        match self.0.get(name) {
            Some(v) => Ok(Box::new(KeySigner::new(v))),
            None => Err(SecretError::NotSet(name.to_string())),
        }
    }
}

/// A clock that only moves when slept on, recording the sleeps.
pub struct FakeClock {
    pub now: Cell<i64>,
    pub sleeps: RefCell<Vec<u64>>,
}

impl FakeClock {
    pub fn at(ms: i64) -> FakeClock {
        FakeClock {
            now: Cell::new(ms),
            sleeps: RefCell::new(Vec::new()),
        }
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> i64 {
        self.now.get()
    }
    fn sleep_ms(&self, ms: u64) {
        self.sleeps.borrow_mut().push(ms);
        self.now.set(self.now.get() + ms as i64);
    }
}

/// Storage in memory; `fail_commits` makes the next commits fail.
#[derive(Default)]
pub struct MemStorage {
    pub checkpoints: RefCell<BTreeMap<String, String>>,
    pub records: RefCell<BTreeMap<(String, String), CollectedRecord<'static>>>,
    pub commits: RefCell<Vec<(String, usize, String)>>,
    pub fail_commits: Cell<u32>,
    /// The next `flush` reports a failed staged write.
    pub fail_flush: Cell<bool>,
    /// Sources written with `stage_events` (immutable, keyed by time).
    pub event_sources: RefCell<BTreeSet<String>>,
    /// The commit (1-based) that last wrote each record, for `prune`.
    pub written: RefCell<BTreeMap<(String, String), u64>>,
}

impl MemStorage {
    pub fn ids(&self, kind: &str) -> Vec<String> {
        self.records
            .borrow()
            .keys()
            .filter(|(k, _)| k == kind)
            .map(|(_, id)| id.clone())
            .collect()
    }
}

impl Storage for MemStorage {
    fn get_checkpoint(&self, source: &str) -> Option<String> {
        self.checkpoints.borrow().get(source).cloned()
    }
    fn commit(
        &self,
        source: &str,
        records: Vec<CollectedRecord<'_>>,
        checkpoint: &str,
    ) -> Result<(), StorageError> {
        if self.fail_commits.get() > 0 {
            self.fail_commits.set(self.fail_commits.get() - 1);
            return Err(StorageError::Unavailable("disk full".into()));
        }
        let mut commits = self.commits.borrow_mut();
        commits.push((source.to_string(), records.len(), checkpoint.to_string()));
        let seq = commits.len() as u64;
        let mut map = self.records.borrow_mut();
        let mut written = self.written.borrow_mut();
        for r in records {
            let key = (r.kind.to_string(), r.id.to_string());
            written.insert(key.clone(), seq);
            map.insert(key, r.into_owned());
        }
        self.checkpoints
            .borrow_mut()
            .insert(source.to_string(), checkpoint.to_string());
        Ok(())
    }
    fn stage_events(
        &self,
        source: &str,
        events: Vec<CollectedRecord<'_>>,
        checkpoint: &str,
    ) -> Result<(), StorageError> {
        if let Some(timeless) = events.iter().find(|e| e.occurred_at_ms.is_none()) {
            return Err(StorageError::Invalid(format!(
                "event `{}` has no time",
                timeless.id
            )));
        }
        self.event_sources.borrow_mut().insert(source.to_string());
        self.commit(source, events, checkpoint)
    }
    fn mark(&self) -> Result<u64, StorageError> {
        Ok(self.commits.borrow().len() as u64)
    }
    fn prune(&self, kind: &str, mark: u64) -> Result<u64, StorageError> {
        let mut written = self.written.borrow_mut();
        let stale: Vec<(String, String)> = written
            .iter()
            .filter(|((k, _), seq)| k == kind && **seq <= mark)
            .map(|(key, _)| key.clone())
            .collect();
        for key in &stale {
            written.remove(key);
            self.records.borrow_mut().remove(key);
        }
        Ok(stale.len() as u64)
    }
    fn flush(&self) -> Result<(), StorageError> {
        if self.fail_flush.replace(false) {
            return Err(StorageError::Unavailable("disk full".into()));
        }
        Ok(())
    }
}

pub struct NullLog;

impl Logger for NullLog {
    fn log(&self, _level: LogLevel, _message: &str, _fields: &[(&str, &str)]) {}
}

/// Answers requests from a queue of canned responses and records them.
#[derive(Default)]
pub struct ScriptedHttp {
    pub responses: RefCell<VecDeque<Result<HttpResponse, TransportError>>>,
    pub requests: RefCell<Vec<HttpRequest>>,
    /// Indexes (in `requests`) of the requests sent with `start`.
    pub started: RefCell<Vec<usize>>,
}

impl ScriptedHttp {
    pub fn push(&self, status: u16, body: &str) {
        self.responses.borrow_mut().push_back(Ok(HttpResponse {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }));
    }
    pub fn push_err(&self, err: TransportError) {
        self.responses.borrow_mut().push_back(Err(err));
    }
}

impl HttpTransport for ScriptedHttp {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        self.requests.borrow_mut().push(request.clone());
        self.responses.borrow_mut().pop_front().unwrap_or_else(|| {
            Err(TransportError::Connection(format!(
                "no scripted response for {}",
                request.url
            )))
        })
    }

    fn start(&self, request: &HttpRequest) -> Box<dyn PendingResponse> {
        self.started.borrow_mut().push(self.requests.borrow().len());
        Box::new(Answered(self.send(request)))
    }
}

/// Answers by path prefix (first match), recording every request.
#[derive(Default)]
pub struct RouteHttp {
    pub routes: RefCell<Vec<(String, u16, String)>>,
    pub requests: RefCell<Vec<HttpRequest>>,
}

impl RouteHttp {
    pub fn route(&self, path_prefix: &str, status: u16, body: &str) {
        self.routes
            .borrow_mut()
            .push((path_prefix.to_string(), status, body.to_string()));
    }
}

impl HttpTransport for RouteHttp {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        self.requests.borrow_mut().push(request.clone());
        let path = request.url.split_once(".com").map_or("", |(_, p)| p);
        let routes = self.routes.borrow();
        let (_, status, body) = routes
            .iter()
            .find(|(prefix, _, _)| path.starts_with(prefix.as_str()))
            .ok_or_else(|| TransportError::Connection(format!("no route for {path}")))?;
        Ok(HttpResponse {
            status: *status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        })
    }
}
