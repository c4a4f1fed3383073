//! A tiny HTTP server on 127.0.0.1 that stands in for an upstream API, so a
//! test can see exactly which requests a plugin got through.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::routing::get;

/// The body `/ping` answers with.
pub const PING_BODY: &str = "pong from the oort test stub";

pub struct Stub {
    base_url: String,
    hits: Arc<AtomicU64>,
    latency_ms: Arc<AtomicU64>,
    server: tokio::task::JoinHandle<()>,
}

impl Stub {
    /// Serves `GET /ping` until dropped.
    pub async fn start() -> Stub {
        let hits = Arc::new(AtomicU64::new(0));
        let latency_ms = Arc::new(AtomicU64::new(0));
        let counter = hits.clone();
        let latency = latency_ms.clone();
        let app = Router::new().route(
            "/ping",
            get(move || {
                let counter = counter.clone();
                let latency = latency.load(Ordering::SeqCst);
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
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
            server,
        }
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
