//! `http.start` and `pending-response`, called as the plugin would, against
//! a loopback server that holds every answer until told to release it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;

use super::*;
use crate::SandboxLimits;
use oort_model::{ConfigField, EgressRule, FieldType, Manifest};

/// Counts requests; answers them only once released.
struct HeldServer {
    base_url: String,
    hits: Arc<AtomicU32>,
    /// No permits until `release`: a handler waits for one, then gives it back.
    gate: Arc<Semaphore>,
}

async fn held_server() -> HeldServer {
    let hits = Arc::new(AtomicU32::new(0));
    let gate = Arc::new(Semaphore::new(0));
    let (h, g) = (hits.clone(), gate.clone());
    let app = axum::Router::new().fallback(move || {
        let (hits, gate) = (h.clone(), g.clone());
        async move {
            hits.fetch_add(1, Ordering::SeqCst);
            let _answer = gate.acquire().await;
            "held answer"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    HeldServer {
        base_url: format!("http://{addr}"),
        hits,
        gate,
    }
}

impl HeldServer {
    /// Lets every held and future request be answered.
    fn release(&self) {
        self.gate.add_permits(Semaphore::MAX_PERMITS / 2);
    }

    /// Waits until the server has seen `n` requests (they are in flight).
    async fn seen(&self, n: u32) {
        for _ in 0..500 {
            if self.hits.load(Ordering::SeqCst) >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "the server saw {} of {n} requests",
            self.hits.load(Ordering::SeqCst)
        );
    }
}

fn state(base_url: &str, budget: u32) -> InvocationState {
    let manifest = Manifest {
        sources: Vec::new(),
        config: vec![ConfigField::new("api_hostname", FieldType::Text)],
        egress: vec![EgressRule {
            host_field: "api_hostname".into(),
            purpose: "API".into(),
        }],
        ..crate::capabilities::empty_manifest()
    };
    let ctx = InvocationContext {
        manifest: Arc::new(manifest),
        config: vec![("api_hostname".into(), "api.example.com".into())],
        api_base_url: Some(base_url.to_string()),
        ..InvocationContext::inert("start-test")
    };
    let client = Arc::new(HttpClient::new(1 << 20).unwrap());
    InvocationState::new(
        ctx,
        &SandboxLimits::default(),
        client,
        Arc::new(crate::Unobserved),
        budget,
    )
}

fn get(url: &str) -> Request {
    Request {
        method: "GET".into(),
        url: url.into(),
        headers: Vec::new(),
        body: Vec::new(),
    }
}

async fn start(
    state: &mut InvocationState,
    url: &str,
) -> Result<Resource<PendingResponse>, HttpError> {
    Host::start(&mut state.http_view(), get(url)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn started_requests_travel_while_the_plugin_goes_on() {
    let server = held_server().await;
    let mut state = state(&server.base_url, 100);
    let mut pending = Vec::new();
    for page in 0..MAX_IN_FLIGHT {
        let url = format!("https://api.example.com/page/{page}");
        pending.push(start(&mut state, &url).await.expect("started"));
    }
    // Every request reached the server before the plugin waited for any.
    server.seen(MAX_IN_FLIGHT as u32).await;
    server.release();
    for p in pending {
        let response = HostPendingResponse::finish(&mut state.http_view(), p)
            .await
            .unwrap()
            .expect("answered");
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, &b"held answer"[..])
        );
    }
    assert_eq!(state.http.in_flight, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_the_in_flight_limit_waits_for_a_slot() {
    let server = held_server().await;
    let mut state = state(&server.base_url, 100);
    let url = "https://api.example.com/x";
    let mut pending = Vec::new();
    for _ in 0..MAX_IN_FLIGHT {
        pending.push(start(&mut state, url).await.unwrap());
    }
    match start(&mut state, url).await {
        Err(HttpError::InvalidRequest(m)) => assert!(m.contains("in flight"), "{m}"),
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
    server.seen(MAX_IN_FLIGHT as u32).await;
    // Dropping a pending response cancels it and frees its slot; so does
    // finishing one.
    HostPendingResponse::drop(&mut state.http_view(), pending.pop().unwrap())
        .await
        .unwrap();
    pending.push(start(&mut state, url).await.expect("a slot was freed"));
    server.seen(MAX_IN_FLIGHT as u32 + 1).await;
    server.release();
    HostPendingResponse::finish(&mut state.http_view(), pending.pop().unwrap())
        .await
        .unwrap()
        .expect("answered");
    pending.push(start(&mut state, url).await.expect("a slot was freed"));
    assert_eq!(state.http.in_flight, MAX_IN_FLIGHT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_obeys_the_egress_policy_and_the_budget_like_send() {
    let server = held_server().await;
    let mut state = state(&server.base_url, 1);
    match start(&mut state, "https://elsewhere.example.com/").await {
        Err(HttpError::Denied(m)) => assert!(m.contains("elsewhere.example.com"), "{m}"),
        other => panic!("expected a denial, got {:?}", other.map(|_| ())),
    }
    let first = start(&mut state, "https://api.example.com/1").await;
    assert!(first.is_ok(), "a denied request costs no budget");
    assert!(matches!(
        start(&mut state, "https://api.example.com/2").await,
        Err(HttpError::BudgetExhausted)
    ));
    assert_eq!(state.http.budget(), (1, true));
    server.seen(1).await;
    assert_eq!(
        server.hits.load(Ordering::SeqCst),
        1,
        "nothing refused was sent"
    );
}

/// A pending request whose "request" sets `done` after a moment, unless it
/// is aborted first.
fn slow_pending(done: &Arc<AtomicU32>) -> PendingRequest {
    let done = done.clone();
    let task = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        done.fetch_add(1, Ordering::SeqCst);
        (
            Err(client::ClientError::Timeout),
            Duration::from_millis(100),
        )
    });
    PendingRequest {
        task: Some(task),
        audit: RequestAudit {
            method: "GET".into(),
            host: "api.example.com".into(),
            path: "/".into(),
            loopback: false,
            admitted: std::time::Instant::now(),
        },
        tags: LogTags::default(),
        observer: Arc::new(crate::Unobserved),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_started_outlives_its_handle_or_its_invocation() {
    let done = Arc::new(AtomicU32::new(0));
    // The plugin drops the handle.
    let mut state = state("http://127.0.0.1:9", 10);
    let handle = state.table.push(slow_pending(&done)).unwrap();
    let handle = Resource::new_own(handle.rep());
    HostPendingResponse::drop(&mut state.http_view(), handle)
        .await
        .unwrap();
    // The invocation ends with a request still in flight.
    state.table.push(slow_pending(&done)).unwrap();
    drop(state);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(done.load(Ordering::SeqCst), 0, "both requests were aborted");

    // Control: the same request left alone completes.
    let kept = slow_pending(&done);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(done.load(Ordering::SeqCst), 1);
    drop(kept);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_started_request_that_fails_finishes_with_the_error_send_would_give() {
    // Nothing listens on the port the override points at.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut state = state(&closed, 10);
    let pending = start(&mut state, "https://api.example.com/").await.unwrap();
    match HostPendingResponse::finish(&mut state.http_view(), pending)
        .await
        .unwrap()
    {
        Err(HttpError::Connection(_)) => {}
        other => panic!(
            "expected a connection error, got {:?}",
            other.map(|r| r.status)
        ),
    }
    assert_eq!(state.http.in_flight, 0);
}
