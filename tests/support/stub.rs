//! A tiny HTTP server on 127.0.0.1 that stands in for an upstream API, so a
//! test can see exactly which requests a plugin got through.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::routing::get;

/// When requests arrived, and how many were being answered at once.
#[derive(Default)]
struct Seen {
    arrivals: Vec<Instant>,
    in_flight: u64,
    max_in_flight: u64,
}

/// The body `/ping` answers with.
pub const PING_BODY: &str = "pong from the oort test stub";

pub struct Stub {
    base_url: String,
    hits: Arc<AtomicU64>,
    latency_ms: Arc<AtomicU64>,
    seen: Arc<Mutex<Seen>>,
    server: tokio::task::JoinHandle<()>,
}

impl Stub {
    /// Serves `GET /ping` until dropped.
    pub async fn start() -> Stub {
        let hits = Arc::new(AtomicU64::new(0));
        let latency_ms = Arc::new(AtomicU64::new(0));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let counter = hits.clone();
        let latency = latency_ms.clone();
        let log = seen.clone();
        let app = Router::new().route(
            "/ping",
            get(move || {
                let counter = counter.clone();
                let latency = latency.load(Ordering::SeqCst);
                let log = log.clone();
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    {
                        let mut seen = log.lock().unwrap();
                        seen.arrivals.push(Instant::now());
                        seen.in_flight += 1;
                        seen.max_in_flight = seen.max_in_flight.max(seen.in_flight);
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
                    log.lock().unwrap().in_flight -= 1;
                    PING_BODY
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the stub on loopback");
        let base_url = format!("http://{}", listener.local_addr().expect("stub address"));
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("stub server failed");
        });
        Stub {
            base_url,
            hits,
            latency_ms,
            seen,
            server,
        }
    }

    /// When each request arrived, in order.
    pub fn arrivals(&self) -> Vec<Instant> {
        self.seen.lock().unwrap().arrivals.clone()
    }

    /// The most requests it was answering at one time.
    pub fn max_in_flight(&self) -> u64 {
        self.seen.lock().unwrap().max_in_flight
    }

    /// Answers every later request after `ms` milliseconds.
    pub fn set_latency_ms(&self, ms: u64) {
        self.latency_ms.store(ms, Ordering::SeqCst);
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Requests served so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.server.abort();
    }
}
