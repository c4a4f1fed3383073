//! The API over a real listener on 127.0.0.1 and a fresh data directory.

use std::sync::Arc;

use oort_platform::{Platform, Requester};

use super::{AppState, router};

async fn start() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let platform = Platform::open(dir.path()).unwrap();
    (serve(Arc::new(platform)).await, dir)
}

/// Serves the API over `platform` on a loopback port; returns its base URL.
async fn serve(platform: Arc<Platform>) -> String {
    let app = router(AppState {
        platform,
        tenant: "default".into(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn json(r: reqwest::Response) -> serde_json::Value {
    let text = r.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_not_found_and_bad_bodies_are_json() {
    let (base, _dir) = start().await;
    let client = reqwest::Client::new();

    let r = client
        .get(format!("{base}/v1/integrations"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = json(r).await;
    assert_eq!(body, serde_json::json!([]));

    // Built-in plugins are installed on open, so Duo is listed.
    let r = client
        .get(format!("{base}/v1/plugins"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = json(r).await;
    assert!(
        body.as_array().unwrap().iter().any(|p| p["id"] == "duo"),
        "{body}"
    );

    let r = client
        .get(format!("{base}/v1/integrations/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body = json(r).await;
    assert_eq!(body["kind"], "not_found");
    assert!(body["error"].as_str().unwrap().contains("nope"), "{body}");

    let r = client
        .post(format!("{base}/v1/integrations/nope/actions/disable-user"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body = json(r).await;
    assert_eq!(body["kind"], "invalid_input");

    let r = client
        .post(format!("{base}/v1/integrations/nope/actions/disable-user"))
        .header("content-type", "application/json")
        .body(r#"{"user":"bob"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        400,
        "a missing actor is refused before anything else"
    );

    let r = client
        .get(format!("{base}/v2/whatever"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body = json(r).await;
    assert_eq!(body["kind"], "not_found");

    let r = client
        .get(format!("{base}/v1/integrations/x/test"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_a_web_page_could_send_are_refused() {
    let (base, _dir) = start().await;
    let client = reqwest::Client::new();

    // A cross-site "simple" request: text/plain body, no preflight.
    let r = client
        .post(format!("{base}/v1/integrations/x/actions/disable-user"))
        .header("content-type", "text/plain")
        .body(r#"{"actor":"alice","user":"ceo"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_eq!(json(r).await["kind"], "invalid_input");

    // DNS rebinding: the page's own hostname arrives in the Host header.
    let r = client
        .get(format!("{base}/v1/integrations"))
        .header("host", "attacker.example:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(json(r).await["kind"], "refused");
}

#[test]
fn loopback_host_headers() {
    for ok in [
        "localhost",
        "localhost:8080",
        "127.0.0.1:1",
        "127.9.9.9",
        "[::1]:80",
        "[::1]",
    ] {
        assert!(super::is_loopback_host(ok), "{ok}");
    }
    for bad in [
        "example.com",
        "10.0.0.1:80",
        "[2001:db8::1]:80",
        "localhost.evil.com",
        "",
    ] {
        assert!(!super::is_loopback_host(bad), "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_whose_client_hangs_up_still_runs_and_is_audited() {
    use oort_platform::AddIntegration;
    use oort_platform::data::SecretValue;
    use oort_platform::model::Role;

    let sim = duo_sim::Simulator::start(duo_sim::SimConfig {
        users: 5,
        auth_events: 10,
        ..duo_sim::SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(Platform::open(dir.path()).unwrap());
    let creds = sim.admin_read_write();
    let integration = platform
        .add_integration(
            &Requester::local("tests"),
            AddIntegration {
                tenant: "default".into(),
                name: "corp".into(),
                plugin_id: "duo".into(),
                config: vec![
                    ("api_hostname".into(), sim.hostname().to_string()),
                    ("integration_key".into(), creds.ikey.clone()),
                ],
                secrets: vec![(
                    "secret_key".into(),
                    SecretValue::new(creds.skey.as_bytes().to_vec()),
                )],
                api_base_url: Some(sim.base_url()),
                granted_capabilities: Vec::new(),
            },
        )
        .await
        .unwrap();
    platform
        .add_operator(&Requester::local("tests"), "ana", Role::Admin)
        .unwrap();
    let base = serve(platform.clone()).await;

    // Duo answers slowly; the client gives up long before.
    sim.inject(duo_sim::Fault::Slow {
        count: 10,
        delay_ms: 1_500,
    });
    let user = sim.usernames()[0].clone();
    // The server drops a handler whose client has gone; the action must
    // still run to its end and leave its audit entry, never stop half way
    // without a trail.
    let hung_up = reqwest::Client::new()
        .post(format!("{base}/v1/integrations/corp/actions/disable-user"))
        .header("content-type", "application/json")
        .body(serde_json::json!({ "actor": "ana", "user": user, "reason": "test" }).to_string())
        .timeout(std::time::Duration::from_millis(200))
        .send()
        .await;
    assert!(hung_up.is_err(), "the client should have timed out");

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let entry = loop {
        let entries = platform.audit_trail(&integration).unwrap();
        if let Some(line) = entries
            .into_iter()
            .find(|line| line.entry.action == "act:disable-user")
        {
            break line.entry;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no audit entry for the action whose client hung up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(entry.actor, "ana");
    assert_eq!(entry.target.as_deref(), Some(user.as_str()));
    assert!(entry.outcome.starts_with("succeeded"), "{}", entry.outcome);
}
