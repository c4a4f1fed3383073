//! Authentication strictness and permission grants, over real HTTP.

mod common;

use common::{Client, Sig, code, now_secs};
use duo_sim::{Edition, SimConfig, Simulator, sign_v2};

async fn sim() -> Simulator {
    Simulator::start(SimConfig {
        users: 80,
        auth_events: 2000,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn every_signature_version_is_accepted() {
    let sim = sim().await;
    for sig in [Sig::V2Sha1, Sig::V2Sha512, Sig::V5] {
        let c = Client::new(&sim, sim.admin_read_only()).with_sig(sig);
        let (status, body) = c
            .get("/admin/v1/users", &[("limit", "5"), ("offset", "0")])
            .await;
        assert_eq!(status, 200, "{sig:?}: {body}");
        assert_eq!(body["response"].as_array().unwrap().len(), 5);
        // Spaces, '+' and unicode go through the canonicalisation round trip.
        let (status, body) = c
            .get("/admin/v1/users", &[("username", "no such + user é")])
            .await;
        assert_eq!(status, 200, "{sig:?}: {body}");
        assert_eq!(body["metadata"]["total_objects"], 0);
    }
    let rw = Client::new(&sim, sim.admin_read_write());
    let id = sim.user_id(&sim.usernames()[0]).unwrap();
    for sig in [Sig::V2Sha512, Sig::V5, Sig::V2Sha1] {
        let c = Client {
            sig,
            ..Client::new(&sim, rw.creds.clone())
        };
        let (status, body) = c
            .post(
                &format!("/admin/v1/users/{id}"),
                &[("notes", "checked by a test")],
            )
            .await;
        assert_eq!(status, 200, "{sig:?}: {body}");
    }
}

#[tokio::test]
async fn rejects_like_duo() {
    let sim = sim().await;
    let url = format!("{}/admin/v1/users", sim.base_url());
    let http = reqwest::Client::new();

    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"stat": "FAIL", "code": 40101, "message": "Missing request credentials"})
    );

    let creds = sim.admin_read_only();
    let host = sim.hostname().to_string();
    let (date, auth) = sign_v2(&creds, "GET", &host, "/admin/v1/users", &[], now_secs());

    // Unknown integration key.
    let bogus = duo_sim::Credentials {
        ikey: "DIXXXXXXXXXXXXXXXXXX".into(),
        skey: creds.skey.clone(),
    };
    let (d2, a2) = sign_v2(&bogus, "GET", &host, "/admin/v1/users", &[], now_secs());
    let r = http
        .get(&url)
        .header("Date", d2)
        .header("Authorization", a2)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(code(&r.json().await.unwrap()), 40102);

    // A parameter the signature does not cover.
    let r = http
        .get(format!("{url}?limit=1"))
        .header("Date", &date)
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(code(&r.json().await.unwrap()), 40103);

    // Signed for the Host header we actually hit instead of the configured hostname.
    let (d3, a3) = sign_v2(
        &creds,
        "GET",
        "127.0.0.1",
        "/admin/v1/users",
        &[],
        now_secs(),
    );
    let r = http
        .get(&url)
        .header("Date", d3)
        .header("Authorization", a3)
        .send()
        .await
        .unwrap();
    assert_eq!(code(&r.json().await.unwrap()), 40103);

    // Date missing, or not English.
    let r = http
        .get(&url)
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(code(&r.json().await.unwrap()), 40104);
    let german = date.replacen(&date[..3], "Mi.", 1);
    let r = http
        .get(&url)
        .header("Date", german)
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(code(&r.json().await.unwrap()), 40104);

    // Correctly signed but 10 minutes old.
    let (d4, a4) = sign_v2(
        &creds,
        "GET",
        &host,
        "/admin/v1/users",
        &[],
        now_secs() - 600,
    );
    let r = http
        .get(&url)
        .header("Date", d4)
        .header("Authorization", a4)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(code(&body), 40105, "{body}");

    // X-Duo-Date instead of Date is fine.
    let r = http
        .get(&url)
        .header("X-Duo-Date", &date)
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Unsigned ping works.
    let r: serde_json::Value = http
        .get(format!("{}/auth/v2/ping", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r["response"]["time"].as_i64().unwrap() > 1_600_000_000);
}

#[tokio::test]
async fn grants_are_enforced() {
    let sim = Simulator::start(SimConfig {
        users: 80,
        auth_events: 2000,
        edition: Edition::Essentials,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let log_only = Client::new(&sim, sim.admin_log_only());
    let ro = Client::new(&sim, sim.admin_read_only());
    let auth = Client::new(&sim, sim.auth_api());
    let now = sim.now_ms();
    let window = [
        ("mintime", (now - 3_600_000).to_string()),
        ("maxtime", (now - 120_000).to_string()),
    ];
    let window: Vec<(&str, &str)> = window.iter().map(|(k, v)| (*k, v.as_str())).collect();

    assert_eq!(
        log_only
            .get("/admin/v2/logs/authentication", &window)
            .await
            .0,
        200
    );
    let (status, body) = log_only.get("/admin/v1/users", &[]).await;
    assert_eq!((status, code(&body)), (403, 40301));
    assert_eq!(body["message"], "Access forbidden");
    assert_eq!(
        code(&log_only.get("/admin/v1/info/summary", &[]).await.1),
        40301
    );

    assert_eq!(ro.get("/admin/v1/info/summary", &[]).await.0, 200);
    let id = sim.user_id(&sim.usernames()[0]).unwrap();
    assert_eq!(
        code(
            &ro.post(&format!("/admin/v1/users/{id}"), &[("status", "disabled")])
                .await
                .1
        ),
        40301
    );
    assert_eq!(
        sim.user_status(&sim.usernames()[0]).as_deref(),
        Some("active")
    );
    // Essentials has no endpoint inventory.
    assert_eq!(code(&ro.get("/admin/v1/endpoints", &[]).await.1), 40301);

    assert_eq!(code(&auth.get("/admin/v1/users", &[]).await.1), 40301);
    assert_eq!(code(&ro.get("/auth/v2/check", &[]).await.1), 40301);
    assert_eq!(auth.get("/auth/v2/check", &[]).await.0, 200);
    assert_eq!(code(&ro.get("/admin/v1/nonexistent", &[]).await.1), 40401);
}
