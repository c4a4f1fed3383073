//! Installing a plugin over the API: a platform-wide admin's, the component
//! as the body, checked like `plugins install`, with the refusals a client
//! can act on.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_admin_installs_a_component_and_nothing_else_gets_in() {
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(Platform::open(dir.path()).unwrap());
    let root = operator_token(&platform, "root", Role::Admin, None);
    let tenant_admin = operator_token(&platform, "ad", Role::Admin, Some("acme"));
    // The built-in Duo plugin's component, as installed at start-up.
    let duo = platform
        .plugins()
        .unwrap()
        .into_iter()
        .find(|p| p.id == "duo")
        .expect("the built-in Duo plugin");
    let component = std::fs::read(&duo.wasm_path).unwrap();
    let base = serve(platform.clone()).await;
    let client = reqwest::Client::new();
    let install = |token: &str, content_type: &str, body: Vec<u8>| {
        client
            .post(format!("{base}/v1/plugins"))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let r = install(&root, "application/wasm", component.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let installed = json(r).await;
    assert_eq!(installed["id"], "duo");
    assert_eq!(installed["wasm_sha256"], duo.wasm_sha256);

    // Refusals come before the body is read, so these send a small one:
    // a client still writing a big body would see the connection close.
    let r = install(&tenant_admin, "application/wasm", b"\0asm".to_vec())
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Not a component: refused with the reason, nothing installed.
    let r = install(&root, "application/wasm", b"\0asm not really".to_vec())
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        json(r).await["error"]
            .as_str()
            .unwrap()
            .contains("plugin refused")
    );
    // The component must be the body, said as such.
    for content_type in ["application/json", "text/plain"] {
        let r = install(&root, content_type, b"{}".to_vec()).await.unwrap();
        assert_eq!(r.status(), 415, "{content_type}");
    }
    // Over 32 MiB: 413, checked in process (no socket to close under a
    // client that is still writing).
    let request = axum::http::Request::post("/v1/plugins")
        .header("host", "localhost")
        .header("authorization", format!("Bearer {root}"))
        .header("content-type", "application/wasm")
        .body(axum::body::Body::from(vec![0u8; (32 << 20) + 1]))
        .unwrap();
    let app = router(AppState::new(platform.clone(), Vec::new()));
    let response = tower::ServiceExt::oneshot(app, request).await.unwrap();
    assert_eq!(response.status(), 413);
    // A JSON body elsewhere is still held to 64 KiB.
    let big = serde_json::json!({ "name": "x".repeat(100_000), "role": "viewer" });
    let r = send(
        &client,
        reqwest::Method::POST,
        format!("{base}/v1/operators"),
        &root,
        big,
    )
    .await;
    assert_eq!(r.status(), 413);

    let plugins = json(
        client
            .get(format!("{base}/v1/plugins"))
            .bearer_auth(&tenant_admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(plugins.as_array().unwrap().len(), 1, "{plugins}");
    let installs: Vec<_> = platform
        .full_audit_trail()
        .unwrap()
        .into_iter()
        .filter(|l| l.entry.action == "plugin.install")
        .collect();
    assert_eq!(installs.last().unwrap().entry.actor, "root");
}
