//! A tenant's admins manage the tenant's operators and their tokens over
//! the API, and reach nothing beyond the tenant: not its other admins'
//! credentials, not another tenant's operators, not platform-wide ones.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_admin_adds_operators_and_issues_and_revokes_their_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(Platform::open(dir.path()).unwrap());
    let admin = operator_token(&platform, "ad", Role::Admin, Some("acme"));
    operator_token(&platform, "co", Role::Admin, Some("acme"));
    operator_token(&platform, "gl", Role::Admin, Some("globex"));
    operator_token(&platform, "root", Role::Admin, None);
    let base = serve(platform.clone()).await;
    let client = reqwest::Client::new();
    let operators = format!("{base}/v1/tenants/acme/operators");
    use reqwest::Method;

    let r = send(
        &client,
        Method::POST,
        operators.clone(),
        &admin,
        serde_json::json!({"name": "he", "role": "helpdesk"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    assert_eq!(json(r).await["tenant"], "acme");
    // The tenant is the path's: a body naming another is refused.
    let r = send(
        &client,
        Method::POST,
        operators.clone(),
        &admin,
        serde_json::json!({"name": "x", "role": "viewer", "tenant": "globex"}),
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = send(
        &client,
        Method::GET,
        operators.clone(),
        &admin,
        serde_json::json!({}),
    )
    .await;
    let names: Vec<String> = json(r)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["ad", "co", "he"]);

    // A token for the helpdesk operator: shown once, and it signs in as them.
    let r = send(
        &client,
        Method::POST,
        format!("{operators}/he/tokens"),
        &admin,
        serde_json::json!({"label": "console", "expires_in_days": 30}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let issued = json(r).await;
    let token = issued["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("oort_"), "{issued}");
    let session = |token: String| {
        client
            .get(format!("{base}/v1/session"))
            .bearer_auth(token)
            .send()
    };
    let me = json(session(token.clone()).await.unwrap()).await;
    assert_eq!(me["name"], "he");
    let r = send(
        &client,
        Method::GET,
        format!("{operators}/he/tokens"),
        &admin,
        serde_json::json!({}),
    )
    .await;
    let listed = r.text().await.unwrap();
    assert!(
        !listed.contains(&token),
        "a token value was listed: {listed}"
    );
    assert!(listed.contains("console"), "{listed}");

    // Not for another admin of the tenant (it would let ad act as co), not
    // for operators elsewhere, which are not even found.
    let r = send(
        &client,
        Method::POST,
        format!("{operators}/co/tokens"),
        &admin,
        serde_json::json!({}),
    )
    .await;
    assert_eq!(r.status(), 403);
    assert!(
        json(r).await["error"]
            .as_str()
            .unwrap()
            .contains("co is an admin")
    );
    for elsewhere in ["gl", "root"] {
        let r = send(
            &client,
            Method::POST,
            format!("{operators}/{elsewhere}/tokens"),
            &admin,
            serde_json::json!({}),
        )
        .await;
        assert_eq!(r.status(), 404, "{elsewhere}");
    }
    let r = send(
        &client,
        Method::POST,
        format!("{operators}/ad/tokens"),
        &admin,
        serde_json::json!({"expires_in_days": 0}),
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = send(
        &client,
        Method::POST,
        format!("{operators}/ad/tokens"),
        &admin,
        serde_json::json!({}),
    )
    .await;
    assert_eq!(r.status(), 201, "an admin issues their own");

    // Revoked, it no longer signs in; a token of someone else is not found
    // under this operator.
    let id = issued["id"].as_i64().unwrap();
    let r = send(
        &client,
        Method::DELETE,
        format!("{operators}/co/tokens/{id}"),
        &admin,
        serde_json::json!({}),
    )
    .await;
    assert_eq!(r.status(), 404);
    let r = send(
        &client,
        Method::DELETE,
        format!("{operators}/he/tokens/{id}"),
        &admin,
        serde_json::json!({}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(json(r).await["revoked_at_ms"].is_number());
    assert_eq!(session(token.clone()).await.unwrap().status(), 401);

    let trail = platform.full_audit_trail().unwrap();
    let issue: Vec<&str> = trail
        .iter()
        .filter(|l| l.entry.action == "token.issue")
        .map(|l| l.entry.outcome.as_str())
        .collect();
    assert!(
        issue.iter().any(|o| o.starts_with("refused: ")),
        "{issue:?}"
    );
    assert!(!serde_json::to_string(&trail).unwrap().contains(&token));
}
