//! Changing an integration over the API: config updates and secret rotation
//! (validated like a new one, never answered back, audited by field name
//! only), and disable/enable (nothing reaches Duo while disabled).

use super::*;

struct Setup {
    sim: duo_sim::Simulator,
    _dir: tempfile::TempDir,
    platform: Arc<Platform>,
    /// acme's admin's token.
    admin: String,
    base: String,
    /// The URL of acme's Duo integration `corp`.
    corp: String,
}

async fn setup() -> Setup {
    let sim = small_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(Platform::open(dir.path()).unwrap());
    duo_integration(&platform, &sim, "acme", "corp").await;
    let admin = operator_token(&platform, "ad", Role::Admin, Some("acme"));
    let base = serve(platform.clone()).await;
    let corp = format!("{base}/v1/tenants/acme/integrations/corp");
    Setup {
        sim,
        _dir: dir,
        platform,
        admin,
        base,
        corp,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_is_rotated_and_the_config_changed_only_when_the_result_is_valid() {
    let Setup {
        sim,
        _dir,
        platform,
        admin,
        corp,
        ..
    } = setup().await;
    let client = reqwest::Client::new();
    let patch =
        |body: serde_json::Value| send(&client, reqwest::Method::PATCH, corp.clone(), &admin, body);
    let test = || {
        send(
            &client,
            reqwest::Method::POST,
            format!("{corp}/test"),
            &admin,
            serde_json::json!({}),
        )
    };

    // A key Duo does not know: stored (its shape is valid), never answered
    // back, and the next Test Connectivity signs with it and fails.
    let wrong_key = "W".repeat(40);
    let r = patch(serde_json::json!({ "secrets": { "secret_key": wrong_key } })).await;
    let text = r.text().await.unwrap();
    assert!(
        !text.contains(&wrong_key),
        "a secret was answered back: {text}"
    );
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["secrets"]["secret_key"], "set", "{body}");
    let report = json(test().await).await;
    assert_eq!(report["ok"], false, "{report}");

    // Rotated back to the real key, the same test passes.
    let real_key = sim.admin_read_write().skey;
    let r = patch(serde_json::json!({ "secrets": { "secret_key": real_key } })).await;
    assert_eq!(r.status(), 200);
    let report = json(test().await).await;
    assert_eq!(report["ok"], true, "{report}");

    // A bad value is refused beside its field and nothing is stored.
    let r = patch(serde_json::json!({
        "config": { "api_hostname": format!("https://{}", sim.hostname()), "collect_endpoints": "true" }
    }))
    .await;
    assert_eq!(r.status(), 400);
    let body = json(r).await;
    assert_eq!(body["kind"], "invalid_config");
    assert_eq!(body["fields"][0]["field"], "api_hostname", "{body}");
    let shown = json(client.get(&corp).bearer_auth(&admin).send().await.unwrap()).await;
    let config = shown["config"].to_string();
    assert!(
        !config.contains("https://") && !config.contains("collect_endpoints"),
        "{shown}"
    );

    // A secret sent as configuration (it would be stored in clear), a plain
    // field sent as a secret, an unknown field, an empty secret: each named.
    let r = patch(serde_json::json!({
        "config": { "secret_key": "x", "no_such_field": "1" },
        "secrets": { "integration_key": "DIXXXXXXXXXXXXXXXXXX", "auth_secret_key": "" },
    }))
    .await;
    assert_eq!(r.status(), 400);
    let body = json(r).await;
    let mut fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "auth_secret_key",
            "integration_key",
            "no_such_field",
            "secret_key"
        ],
        "{body}"
    );
    // A required secret cannot be cleared; an empty change is refused; an
    // unknown body field is refused.
    let r = patch(serde_json::json!({ "secrets": { "secret_key": null } })).await;
    assert_eq!(r.status(), 400);
    assert_eq!(json(r).await["fields"][0]["field"], "secret_key");
    let r = patch(serde_json::json!({})).await;
    assert_eq!(r.status(), 400);
    assert!(
        json(r).await["error"]
            .as_str()
            .unwrap()
            .contains("nothing to change")
    );
    let r = patch(serde_json::json!({ "enabled": false })).await;
    assert_eq!(r.status(), 400);

    // A valid change is kept; unsetting brings the default back.
    let r = patch(serde_json::json!({ "config": { "collect_endpoints": "true" } })).await;
    assert_eq!(r.status(), 200);
    let body = json(r).await;
    assert!(
        body["config"].to_string().contains("collect_endpoints"),
        "{body}"
    );
    let r = patch(serde_json::json!({ "config": { "collect_endpoints": null } })).await;
    let body = json(r).await;
    assert!(
        !body["config"].to_string().contains("collect_endpoints"),
        "{body}"
    );

    // The trail names the fields changed, never a value.
    let trail = serde_json::to_string(&platform.full_audit_trail().unwrap()).unwrap();
    assert!(trail.contains("secrets replaced: secret_key"), "{trail}");
    assert!(trail.contains("config set: collect_endpoints"), "{trail}");
    assert!(trail.contains("config unset: collect_endpoints"), "{trail}");
    assert!(!trail.contains(&wrong_key) && !trail.contains(&real_key));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_integration_reaches_nothing_upstream_until_it_is_enabled() {
    let Setup {
        sim,
        _dir,
        platform,
        admin,
        base,
        corp,
    } = setup().await;
    let client = reqwest::Client::new();
    let post = |path: &str, body: serde_json::Value| {
        send(
            &client,
            reqwest::Method::POST,
            format!("{corp}{path}"),
            &admin,
            body,
        )
    };

    let r = post("/disable", serde_json::json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["enabled"], false);
    let requests_before = sim.request_count();
    for (path, body) in [
        ("/test", serde_json::json!({})),
        ("/collect", serde_json::json!({})),
        (
            "/actions/disable-user",
            serde_json::json!({ "user": "alice", "dry_run": true }),
        ),
    ] {
        let r = post(path, body).await;
        assert_eq!(r.status(), 409, "{path}");
        let body = json(r).await;
        assert_eq!(body["kind"], "conflict", "{path}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains("is disabled"),
            "{body}"
        );
    }
    assert_eq!(
        sim.request_count(),
        requests_before,
        "a request reached Duo"
    );
    // Still readable.
    let r = client.get(&corp).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let listed = json(
        client
            .get(format!("{base}/v1/tenants/acme/integrations"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(listed[0]["enabled"], false, "{listed}");

    let r = post("/enable", serde_json::json!({})).await;
    assert_eq!(r.status(), 200);
    let body = json(r).await;
    assert_eq!(body["enabled"], true);
    let r = post("/test", serde_json::json!({})).await;
    assert_eq!(r.status(), 200);

    let trail = platform.full_audit_trail().unwrap();
    let actions: Vec<&str> = trail.iter().map(|l| l.entry.action.as_str()).collect();
    assert!(actions.contains(&"integration.disable"), "{actions:?}");
    assert!(actions.contains(&"integration.enable"), "{actions:?}");
    // The refused action is in the trail too.
    assert!(
        trail
            .iter()
            .any(|l| l.entry.outcome.contains("is disabled"))
    );
}
