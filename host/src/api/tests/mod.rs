//! The API over a real listener on 127.0.0.1 and a fresh data directory:
//! every route behind a token, every role and tenant boundary, and the
//! protections against web pages.

use std::sync::Arc;
use std::time::Duration;

use oort_platform::data::{Integration, SecretValue};
use oort_platform::model::Role;
use oort_platform::{AddIntegration, Platform, Requester};
use oort_time::ManualClock;

use super::{AppState, router};

mod integrations;
mod openapi;
mod operators;
mod plugins;
mod service;
mod settings;

/// Serves the API over `platform` on a loopback port; returns its base URL.
async fn serve(platform: Arc<Platform>) -> String {
    serve_state(AppState::new(platform, Vec::new())).await
}

async fn serve_state(state: AppState) -> String {
    let app = router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// Adds an operator and issues them a token (30 days); returns the token.
fn operator_token(platform: &Platform, name: &str, role: Role, tenant: Option<&str>) -> String {
    let by = Requester::local("tests");
    platform.add_operator(&by, name, role, tenant).unwrap();
    let issued = platform
        .issue_token(&by, name, "tests", Some(Duration::from_secs(30 * 86_400)))
        .unwrap();
    String::from_utf8(issued.token.expose().to_vec()).unwrap()
}

async fn small_sim() -> duo_sim::Simulator {
    duo_sim::Simulator::start(duo_sim::SimConfig {
        users: 5,
        auth_events: 10,
        ..duo_sim::SimConfig::default()
    })
    .await
    .unwrap()
}

async fn duo_integration(
    platform: &Platform,
    sim: &duo_sim::Simulator,
    tenant: &str,
    name: &str,
) -> Integration {
    let creds = sim.admin_read_write();
    platform
        .add_integration(
            &Requester::local("tests"),
            AddIntegration {
                tenant: tenant.into(),
                name: name.into(),
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
        .unwrap()
}

/// A request with a JSON body and the bearer `token`.
async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    client
        .request(method, url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

async fn json(r: reqwest::Response) -> serde_json::Value {
    let text = r.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Every route, with the least role it needs (`None`: any operator). Routes
/// outside `/v1/tenants/` need a platform-wide operator. The removal is last:
/// the first operator allowed removes the integration.
const ROUTES: &[(&str, &str, Option<Role>)] = &[
    ("GET", "/v1/session", None),
    ("GET", "/metrics", Some(Role::Viewer)),
    ("GET", "/v1/plugins", None),
    ("POST", "/v1/plugins", Some(Role::Admin)),
    ("GET", "/v1/operators", Some(Role::Admin)),
    ("POST", "/v1/operators", Some(Role::Admin)),
    ("GET", "/v1/audit", Some(Role::Admin)),
    ("POST", "/v1/tenants/acme/integrations", Some(Role::Admin)),
    (
        "GET",
        "/v1/tenants/acme/integrations/corp/runs",
        Some(Role::Viewer),
    ),
    (
        "GET",
        "/v1/tenants/acme/integrations/corp/runs/1",
        Some(Role::Viewer),
    ),
    (
        "GET",
        "/v1/tenants/acme/integrations/corp/records",
        Some(Role::Viewer),
    ),
    (
        "GET",
        "/v1/tenants/acme/integrations/corp/schedule",
        Some(Role::Viewer),
    ),
    (
        "PUT",
        "/v1/tenants/acme/integrations/corp/schedule",
        Some(Role::Admin),
    ),
    ("GET", "/v1/tenants/acme/integrations", Some(Role::Viewer)),
    (
        "GET",
        "/v1/tenants/acme/integrations/corp",
        Some(Role::Viewer),
    ),
    (
        "POST",
        "/v1/tenants/acme/integrations/corp/test",
        Some(Role::Helpdesk),
    ),
    (
        "POST",
        "/v1/tenants/acme/integrations/corp/collect",
        Some(Role::Admin),
    ),
    (
        "GET",
        "/v1/tenants/acme/integrations/corp/insights",
        Some(Role::Viewer),
    ),
    (
        "GET",
        "/v1/tenants/acme/integrations/corp/audit",
        Some(Role::Viewer),
    ),
    (
        "GET",
        "/v1/tenants/acme/integrations/corp/actions",
        Some(Role::Viewer),
    ),
    (
        "POST",
        "/v1/tenants/acme/integrations/corp/actions/verify-push",
        Some(Role::Helpdesk),
    ),
    (
        "PATCH",
        "/v1/tenants/acme/integrations/corp",
        Some(Role::Admin),
    ),
    (
        "POST",
        "/v1/tenants/acme/integrations/corp/disable",
        Some(Role::Admin),
    ),
    (
        "POST",
        "/v1/tenants/acme/integrations/corp/enable",
        Some(Role::Admin),
    ),
    ("GET", "/v1/tenants/acme/operators", Some(Role::Admin)),
    ("POST", "/v1/tenants/acme/operators", Some(Role::Admin)),
    (
        "GET",
        "/v1/tenants/acme/operators/he/tokens",
        Some(Role::Admin),
    ),
    (
        "POST",
        "/v1/tenants/acme/operators/he/tokens",
        Some(Role::Admin),
    ),
    (
        "DELETE",
        "/v1/tenants/acme/operators/he/tokens/999999",
        Some(Role::Admin),
    ),
    (
        "DELETE",
        "/v1/tenants/acme/integrations/corp",
        Some(Role::Admin),
    ),
];

async fn call(
    client: &reqwest::Client,
    base: &str,
    (method, path): (&str, &str),
    token: Option<&str>,
) -> reqwest::Response {
    let mut request = match method {
        "GET" => client.get(format!("{base}{path}")),
        "DELETE" => client.delete(format!("{base}{path}")),
        "PUT" => client
            .put(format!("{base}{path}"))
            .header("content-type", "application/json")
            .body(r#"{"interval_seconds":600}"#),
        "PATCH" => client
            .patch(format!("{base}{path}"))
            .header("content-type", "application/json")
            .body(r#"{"config":{"collect_endpoints":"true"}}"#),
        _ => client
            .post(format!("{base}{path}"))
            .header("content-type", "application/json")
            .body(if path.ends_with("/collect") {
                r#"{"max_pages":1}"#
            } else {
                "{}"
            }),
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_refuses_a_missing_or_wrong_token_and_audits_it() {
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(Platform::open(dir.path()).unwrap());
    let base = serve(platform.clone()).await;
    let client = reqwest::Client::new();
    let forged = "oort_forged-token-value-that-was-never-issued";
    for &(method, path, _) in ROUTES {
        for token in [None, Some(forged), Some("not-even-ours")] {
            let r = call(&client, &base, (method, path), token).await;
            assert_eq!(r.status(), 401, "{method} {path} with {token:?}");
            assert_eq!(
                r.headers()["www-authenticate"],
                r#"Bearer realm="oort-host""#
            );
            let body = json(r).await;
            assert_eq!(body["kind"], "unauthenticated", "{body}");
        }
    }
    // Unknown routes too: nothing is served without a token.
    let r = call(&client, &base, ("GET", "/v2/whatever"), None).await;
    assert_eq!(r.status(), 401);

    let trail = platform.full_audit_trail().unwrap();
    let refusals: Vec<_> = trail
        .iter()
        .filter(|line| line.entry.action == "api.authenticate")
        .collect();
    assert_eq!(refusals.len(), ROUTES.len() * 3 + 1);
    assert!(
        refusals
            .iter()
            .all(|line| line.entry.actor == "anonymous"
                && line.entry.outcome.starts_with("refused: "))
    );
    assert_eq!(refusals[0].entry.target.as_deref(), Some("GET /v1/session"));
    let text = serde_json::to_string(&trail).unwrap();
    assert!(
        !text.contains(forged),
        "a presented token reached the audit trail"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_tenants_decide_what_each_route_allows() {
    let sim = small_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(Platform::open(dir.path()).unwrap());
    duo_integration(&platform, &sim, "acme", "corp").await;
    let viewer = operator_token(&platform, "vi", Role::Viewer, Some("acme"));
    let helpdesk = operator_token(&platform, "he", Role::Helpdesk, Some("acme"));
    let admin = operator_token(&platform, "ad", Role::Admin, Some("acme"));
    let other_tenant = operator_token(&platform, "gl", Role::Admin, Some("globex"));
    let root = operator_token(&platform, "root", Role::Admin, None);
    let base = serve(platform.clone()).await;
    let client = reqwest::Client::new();

    for &(method, path, needs) in ROUTES {
        for (name, token, role, own_tenant) in [
            ("vi", &viewer, Role::Viewer, true),
            ("he", &helpdesk, Role::Helpdesk, true),
            ("ad", &admin, Role::Admin, true),
            ("gl", &other_tenant, Role::Admin, false),
            ("root", &root, Role::Admin, true),
        ] {
            let r = call(&client, &base, (method, path), Some(token)).await;
            let status = r.status().as_u16();
            // Export answers JSON lines; everything else one document.
            let text = r.text().await.unwrap();
            let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            let platform_route = !path.starts_with("/v1/tenants/");
            let platform_wide = name == "root";
            let allowed = match needs {
                None => true,
                Some(_) if platform_route && !platform_wide => false,
                Some(needs) => own_tenant && role >= needs,
            };
            if allowed {
                assert_ne!(status, 401, "{name}: {method} {path}: {text}");
                assert_ne!(status, 403, "{name}: {method} {path}: {text}");
            } else {
                assert_eq!(status, 403, "{name}: {method} {path}: {body}");
                assert_eq!(body["kind"], "refused");
                let why = body["error"].as_str().unwrap();
                if platform_route {
                    assert!(why.contains("needs a platform-wide operator"), "{why}");
                } else if own_tenant {
                    assert!(why.contains(&format!("{name} is a ")), "{why}");
                } else {
                    assert!(
                        why.contains("works in tenant `globex`, not `acme`"),
                        "{why}"
                    );
                }
            }
        }
    }

    // Each refusal is in the trail under the operator's name.
    let trail = platform.full_audit_trail().unwrap();
    let refused = |actor: &str, target: &str| {
        trail.iter().any(|line| {
            line.entry.action == "api.authorize"
                && line.entry.actor == actor
                && line.entry.target.as_deref() == Some(target)
                && line.entry.outcome.starts_with("refused: ")
        })
    };
    assert!(refused(
        "vi",
        "POST /v1/tenants/acme/integrations/corp/collect"
    ));
    assert!(refused(
        "he",
        "POST /v1/tenants/acme/integrations/corp/collect"
    ));
    assert!(refused("gl", "GET /v1/tenants/acme/integrations"));
    assert!(!refused(
        "ad",
        "POST /v1/tenants/acme/integrations/corp/collect"
    ));

    // Who a token is.
    let r = call(&client, &base, ("GET", "/v1/session"), Some(&helpdesk)).await;
    let me = json(r).await;
    assert_eq!(
        (me["name"].as_str(), me["role"].as_str()),
        (Some("he"), Some("helpdesk"))
    );
    assert_eq!(me["tenant"], "acme");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_actor_of_an_action_is_the_signed_in_operator() {
    let sim = small_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(Platform::open(dir.path()).unwrap());
    let integration = duo_integration(&platform, &sim, "acme", "corp").await;
    let helpdesk = operator_token(&platform, "he", Role::Helpdesk, Some("acme"));
    let base = serve(platform.clone()).await;
    let client = reqwest::Client::new();
    let act = |body: serde_json::Value| {
        client
            .post(format!(
                "{base}/v1/tenants/acme/integrations/corp/actions/disable-user"
            ))
            .bearer_auth(&helpdesk)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let user = sim.usernames()[0].clone();

    // Naming another actor in the body is refused, not obeyed.
    let r = act(serde_json::json!({ "actor": "root", "user": user }))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(json(r).await["error"].as_str().unwrap().contains("actor"));

    let r = act(serde_json::json!({ "user": user, "dry_run": true, "reason": "ticket 7" }))
        .await
        .unwrap();
    let status = r.status();
    let body = json(r).await;
    let entries = platform.audit_trail(&integration).unwrap();
    let entry = &entries
        .iter()
        .rev()
        .find(|line| line.entry.action == "act:disable-user")
        .expect("the action is audited")
        .entry;
    assert_eq!(entry.actor, "he", "{status} {body}");
    assert_eq!(entry.role, Some(Role::Helpdesk));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_or_expired_token_stops_working() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(1_700_000_000_000));
    let platform =
        Arc::new(Platform::open_with_clock(dir.path(), Default::default(), clock.clone()).unwrap());
    let by = Requester::local("tests");
    let token = operator_token(&platform, "ana", Role::Admin, None);
    let short = platform
        .issue_token(&by, "ana", "short", Some(Duration::from_secs(86_400)))
        .unwrap();
    let short_token = String::from_utf8(short.token.expose().to_vec()).unwrap();
    let base = serve(platform.clone()).await;
    let client = reqwest::Client::new();
    let session = |token: String| {
        let client = client.clone();
        let base = base.clone();
        async move { call(&client, &base, ("GET", "/v1/session"), Some(&token)).await }
    };
    assert_eq!(session(short_token.clone()).await.status(), 200);
    clock.advance_ms(86_400_000);
    let r = session(short_token).await;
    assert_eq!(r.status(), 401);
    assert!(json(r).await["error"].as_str().unwrap().contains("expired"));

    assert_eq!(session(token.clone()).await.status(), 200);
    let id = platform.tokens(Some("ana")).unwrap()[0].id;
    platform.revoke_token(&by, id).unwrap();
    let r = session(token).await;
    assert_eq!(r.status(), 401);
    assert!(json(r).await["error"].as_str().unwrap().contains("revoked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_wrong_methods_and_bad_bodies_are_json() {
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(Platform::open(dir.path()).unwrap());
    let token = operator_token(&platform, "root", Role::Admin, None);
    let base = serve(platform.clone()).await;
    let client = reqwest::Client::new();

    let r = call(
        &client,
        &base,
        ("GET", "/v1/tenants/default/integrations"),
        Some(&token),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await, serde_json::json!([]));

    // Built-in plugins are installed on open, so Duo is listed.
    let r = call(&client, &base, ("GET", "/v1/plugins"), Some(&token)).await;
    assert_eq!(r.status(), 200);
    let body = json(r).await;
    assert!(
        body.as_array().unwrap().iter().any(|p| p["id"] == "duo"),
        "{body}"
    );

    let r = call(
        &client,
        &base,
        ("GET", "/v1/tenants/default/integrations/nope"),
        Some(&token),
    )
    .await;
    assert_eq!(r.status(), 404);
    let body = json(r).await;
    assert_eq!(body["kind"], "not_found");
    assert!(body["error"].as_str().unwrap().contains("nope"), "{body}");

    let r = client
        .post(format!(
            "{base}/v1/tenants/default/integrations/nope/actions/disable-user"
        ))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(json(r).await["kind"], "invalid_input");

    let r = call(&client, &base, ("GET", "/v2/whatever"), Some(&token)).await;
    assert_eq!(r.status(), 404);
    assert_eq!(json(r).await["kind"], "not_found");

    let r = call(
        &client,
        &base,
        ("GET", "/v1/tenants/default/integrations/x/test"),
        Some(&token),
    )
    .await;
    assert_eq!(r.status(), 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_a_web_page_could_send_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(Platform::open(dir.path()).unwrap());
    let token = operator_token(&platform, "root", Role::Admin, None);
    let base = serve(platform.clone()).await;
    let client = reqwest::Client::new();

    // A cross-site "simple" request: text/plain body, no preflight.
    let r = client
        .post(format!(
            "{base}/v1/tenants/default/integrations/x/actions/disable-user"
        ))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body(r#"{"user":"ceo"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_eq!(json(r).await["kind"], "invalid_input");

    // DNS rebinding: the page's own hostname arrives in the Host header,
    // refused before the token is even looked at.
    let r = client
        .get(format!("{base}/v1/tenants/default/integrations"))
        .header("host", "attacker.example:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(json(r).await["kind"], "refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_whose_client_hangs_up_still_runs_and_is_audited() {
    let sim = small_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(Platform::open(dir.path()).unwrap());
    let integration = duo_integration(&platform, &sim, "default", "corp").await;
    let ana = operator_token(&platform, "ana", Role::Admin, Some("default"));
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
        .post(format!(
            "{base}/v1/tenants/default/integrations/corp/actions/disable-user"
        ))
        .bearer_auth(&ana)
        .header("content-type", "application/json")
        .body(serde_json::json!({ "user": user, "reason": "test" }).to_string())
        .timeout(std::time::Duration::from_millis(200))
        .send()
        .await;
    assert!(hung_up.is_err(), "the client should have timed out");

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let entry = loop {
        let entries = platform.audit_trail(&integration).unwrap();
        // Its start is on the trail at once; the outcome follows, naming it.
        if let Some(line) = entries
            .into_iter()
            .find(|line| line.entry.action == "act:disable-user" && line.entry.attempt.is_some())
        {
            break line.entry;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no audited outcome for the action whose client hung up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(entry.actor, "ana");
    assert_eq!(entry.target.as_deref(), Some(user.as_str()));
    assert!(entry.outcome.starts_with("succeeded"), "{}", entry.outcome);
}
