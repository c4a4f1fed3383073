//! The service's own routes: probes for whoever runs it (no token, any
//! Host), metrics for a platform-wide operator, counting what the API and
//! the collections did.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_answer_without_a_token_or_a_listed_host() {
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(Platform::open(dir.path()).unwrap());
    let state = AppState::new(platform, Vec::new());
    let base = serve_state(state.clone()).await;
    let client = reqwest::Client::new();
    // An orchestrator reaches the pod by an address nobody listed.
    let probe = |path: &str| {
        client
            .get(format!("{base}{path}"))
            .header("host", "10.1.2.3:8080")
            .send()
    };
    let r = probe("/healthz").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["status"], "alive");
    let r = probe("/readyz").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["status"], "ready");
    // The API itself keeps its Host check.
    let r = probe("/v1/session").await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(json(r).await["kind"], "refused");
    let r = probe("/metrics").await.unwrap();
    assert_eq!(r.status(), 403);

    // Once shutdown begins, the balancer is told to go elsewhere.
    state
        .draining
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let r = probe("/readyz").await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(json(r).await["status"], "stopping");
    assert_eq!(probe("/healthz").await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_runs_records_upstream_statuses_and_api_latency_by_route() {
    let sim = small_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(Platform::open(dir.path()).unwrap());
    duo_integration(&platform, &sim, "acme", "corp").await;
    let root_viewer = operator_token(&platform, "watch", Role::Viewer, None);
    let acme_admin = operator_token(&platform, "ad", Role::Admin, Some("acme"));
    let base = serve(platform.clone()).await;
    let client = reqwest::Client::new();

    let r = call(
        &client,
        &base,
        (
            "POST",
            "/v1/tenants/acme/integrations/corp/collect?wait=true",
        ),
        Some(&acme_admin),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // A tenant's operator cannot read every tenant's figures.
    let r = call(&client, &base, ("GET", "/metrics"), Some(&acme_admin)).await;
    assert_eq!(r.status(), 403);

    let r = call(&client, &base, ("GET", "/metrics"), Some(&root_viewer)).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = r.text().await.unwrap();
    for line in [
        r#"oort_runs_total{kind="collect",outcome="succeeded"} 1"#,
        r#"oort_records_committed_total{plugin="duo",source="authentication_log"} "#,
        r#"oort_upstream_requests_total{tenant="acme",integration="corp",status="200"}"#,
        r#"oort_api_request_duration_seconds_count{method="POST",route="/v1/tenants/{tenant}/integrations/{name}/collect",status="200"} 1"#,
        r#"oort_api_request_duration_seconds_count{method="GET",route="/metrics",status="403"} 1"#,
        "oort_collections_running 0",
        "# EOF",
    ] {
        assert!(text.contains(line), "no `{line}` in:\n{text}");
    }
    // Labels come from route templates, never from the paths callers send.
    assert!(!text.contains("integrations/corp"), "{text}");
}
