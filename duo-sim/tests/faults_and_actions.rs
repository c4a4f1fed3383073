//! Fault injection, remediation writes and push flows.

mod common;

use std::time::{Duration, Instant};

use common::{Client, Sig, code};
use duo_sim::{Clock, Fault, PushAnswer, SimConfig, Simulator};

async fn sim() -> Simulator {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    Simulator::start(SimConfig {
        users: 80,
        auth_events: 2000,
        clock: Clock::Fixed(now),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn faults_apply_in_order_then_stop() {
    let sim = sim().await;
    let c = Client::new(&sim, sim.admin_read_only());
    sim.inject(Fault::RateLimit { count: 2 });
    sim.inject(Fault::ServerError { count: 2 });
    sim.inject(Fault::DropConnection { count: 1 });
    sim.inject(Fault::TruncatedJson { count: 1 });
    sim.inject(Fault::Slow {
        count: 1,
        delay_ms: 400,
    });
    let before = sim.request_count();

    for _ in 0..2 {
        let r = c.send("GET", "/admin/v1/info/summary", &[]).await.unwrap();
        assert_eq!(r.status(), 429);
        assert!(r.headers().get("retry-after").is_none());
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(
            (code(&body), body["message"].as_str()),
            (42901, Some("Too Many Requests"))
        );
    }
    let (s1, b1) = c.get("/admin/v1/info/summary", &[]).await;
    let (s2, b2) = c.get("/admin/v1/info/summary", &[]).await;
    assert_eq!((s1, code(&b1), s2, code(&b2)), (500, 50001, 503, 50301));
    assert!(
        c.send("GET", "/admin/v1/info/summary", &[]).await.is_err(),
        "connection dropped without a response"
    );
    let r = c.send("GET", "/admin/v1/info/summary", &[]).await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_err(),
        "truncated: {text}"
    );
    let t = Instant::now();
    assert_eq!(c.get("/admin/v1/info/summary", &[]).await.0, 200);
    assert!(t.elapsed() >= Duration::from_millis(400));
    assert_eq!(c.get("/admin/v1/info/summary", &[]).await.0, 200);
    assert_eq!(sim.request_count() - before, 8);
}

#[tokio::test]
async fn remediation_writes_change_state() {
    let sim = sim().await;
    let rw = Client::new(&sim, sim.admin_read_write());
    let target = sim.scenario_users("DUO-01")[0].clone();
    let id = sim.user_id(&target).unwrap();
    let path = format!("/admin/v1/users/{id}");

    let (status, body) = rw.post(&path, &[("status", "disabled")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"]["status"], "disabled");
    assert_eq!(sim.user_status(&target).as_deref(), Some("disabled"));
    let (status, body) = rw.post(&path, &[("status", "locked out")]).await;
    assert_eq!((status, code(&body)), (400, 40002));
    let v5 = Client::new(&sim, sim.admin_read_write()).with_sig(Sig::V5);
    assert_eq!(v5.post(&path, &[("status", "active")]).await.0, 200);
    assert_eq!(sim.user_status(&target).as_deref(), Some("active"));

    // A locked-out user is re-activated by status=active.
    let locked = sim.scenario_users("DUO-18")[0].clone();
    assert_eq!(sim.user_status(&locked).as_deref(), Some("locked out"));
    rw.post(
        &format!("/admin/v1/users/{}", sim.user_id(&locked).unwrap()),
        &[("status", "active")],
    )
    .await;
    assert_eq!(sim.user_status(&locked).as_deref(), Some("active"));

    let phone = sim.user_phone_ids(&target)[0].clone();
    let del = format!("/admin/v1/users/{id}/phones/{phone}");
    assert_eq!(rw.call("DELETE", &del, &[]).await.0, 200);
    assert_eq!(rw.call("DELETE", &del, &[]).await.0, 200, "idempotent");
    assert!(sim.user_phone_ids(&target).is_empty());

    let (status, _) = rw
        .post(
            "/admin/v1/users/enroll",
            &[("username", "new.hire"), ("email", "new.hire@example.com")],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(sim.user_status("new.hire").as_deref(), Some("active"));
    let (status, body) = rw
        .post(
            "/admin/v1/users/enroll",
            &[("username", "new.hire"), ("email", "x@example.com")],
        )
        .await;
    assert_eq!((status, code(&body)), (400, 40002));
}

#[tokio::test]
async fn a_deleted_user_leaves_every_listing_and_lookup() {
    let sim = sim().await;
    let rw = Client::new(&sim, sim.admin_read_write());
    let ro = Client::new(&sim, sim.admin_read_only());
    let target = sim.scenario_users("DUO-01")[0].clone();
    let id = sim.user_id(&target).unwrap();
    let phone = sim.user_phone_ids(&target)[0].clone();
    let path = format!("/admin/v1/users/{id}");
    let (status, body) = ro.call("DELETE", &path, &[]).await;
    assert_eq!(
        (status, code(&body)),
        (403, 40301),
        "needs Grant write resource"
    );

    assert_eq!(rw.call("DELETE", &path, &[]).await.0, 200);
    assert_eq!(ro.get(&path, &[]).await.0, 404);
    assert_eq!(rw.call("DELETE", &path, &[]).await.0, 404);
    let (_, listed) = ro
        .get("/admin/v1/users", &[("username", target.as_str())])
        .await;
    assert_eq!(listed["response"], serde_json::json!([]));
    assert_eq!(sim.user_id(&target), None);
    // The phone stays, attached to nobody.
    let (status, body) = ro.get(&format!("/admin/v1/phones/{phone}"), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(body["response"]["users"], serde_json::json!([]));
}

#[tokio::test]
async fn a_set_latency_delays_every_answer_until_cleared() {
    let sim = sim().await;
    let c = Client::new(&sim, sim.admin_read_only());
    sim.set_latency_ms(300);
    let started = Instant::now();
    assert_eq!(c.get("/admin/v1/info/summary", &[]).await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    sim.set_latency_ms(0);
    assert_eq!(c.get("/admin/v1/info/summary", &[]).await.0, 200);
}

#[tokio::test]
async fn past_auth_events_keep_what_they_said_when_served_again() {
    let sim = sim().await;
    let rw = Client::new(&sim, sim.admin_read_write());
    let now = sim.now_ms();
    let (min, max) = (
        (now - 2 * 86_400_000).to_string(),
        (now - 180_000).to_string(),
    );
    let window = [
        ("mintime", min.as_str()),
        ("maxtime", max.as_str()),
        ("limit", "50"),
    ];
    let (status, first) = rw.get("/admin/v2/logs/authentication", &window).await;
    assert_eq!(status, 200, "{first}");
    let event = &first["response"]["authlogs"][0];
    let username = event["user"]["name"]
        .as_str()
        .expect("a user name")
        .to_string();
    let email = event["email"].clone();
    let id = sim.user_id(&username).expect("the user exists");

    let path = format!("/admin/v1/users/{id}");
    let updated = rw.post(&path, &[("email", "renamed@example.com")]).await;
    assert_eq!(updated.0, 200, "{}", updated.1);
    assert_eq!(updated.1["response"]["email"], "renamed@example.com");
    let (_, again) = rw.get("/admin/v2/logs/authentication", &window).await;
    assert_eq!(
        again["response"]["authlogs"], first["response"]["authlogs"],
        "log entries are snapshots: a later change to the user changes none of them"
    );
    assert_eq!(again["response"]["authlogs"][0]["email"], email);
}

#[tokio::test]
async fn verification_push_follows_each_users_answer() {
    let sim = sim().await;
    let rw = Client::new(&sim, sim.admin_read_write());
    for (user, answer, expected) in [
        (
            sim.scenario_users("DUO-02")[0].clone(),
            PushAnswer::Approve,
            "approve",
        ),
        (
            sim.scenario_users("DUO-03")[0].clone(),
            PushAnswer::Fraud,
            "fraud",
        ),
        (
            sim.scenario_users("DUO-04")[0].clone(),
            PushAnswer::NoAnswer,
            "waiting",
        ),
    ] {
        sim.set_push_answer(&user, answer);
        let id = sim.user_id(&user).unwrap();
        let phone = sim.user_phone_ids(&user)[0].clone();
        let (status, body) = rw
            .post(
                &format!("/admin/v1/users/{id}/send_verification_push"),
                &[("phone_id", &phone)],
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let push_id = body["response"]["push_id"].as_str().unwrap().to_string();
        let path = format!("/admin/v1/users/{id}/verification_push_response");
        let (_, body) = rw.get(&path, &[("push_id", &push_id)]).await;
        assert_eq!(body["response"]["result"], expected);
        if answer == PushAnswer::NoAnswer {
            sim.advance_clock(121_000);
            let (status, body) = rw.get(&path, &[("push_id", &push_id)]).await;
            assert_eq!((status, code(&body)), (404, 40401));
        }
    }
}

#[tokio::test]
async fn auth_api_push_flow() {
    let sim = sim().await;
    let auth = Client::new(&sim, sim.auth_api()).with_sig(Sig::V5);
    let user = sim.scenario_users("DUO-14")[0].clone();
    let (_, pre) = auth.post("/auth/v2/preauth", &[("username", &user)]).await;
    assert_eq!(pre["response"]["result"], "auth", "{pre}");
    let device = pre["response"]["devices"][0]["device"]
        .as_str()
        .unwrap()
        .to_string();

    sim.set_push_answer(&user, PushAnswer::Deny);
    let (_, sync) = auth
        .post(
            "/auth/v2/auth",
            &[("username", &user), ("factor", "push"), ("device", &device)],
        )
        .await;
    assert_eq!(
        (
            sync["response"]["result"].as_str(),
            sync["response"]["status"].as_str()
        ),
        (Some("deny"), Some("deny"))
    );

    sim.set_push_answer(&user, PushAnswer::NoAnswer);
    let (_, txn) = auth
        .post(
            "/auth/v2/auth",
            &[
                ("username", &user),
                ("factor", "push"),
                ("device", "auto"),
                ("async", "1"),
            ],
        )
        .await;
    let txid = txn["response"]["txid"].as_str().unwrap().to_string();
    let (_, st) = auth.get("/auth/v2/auth_status", &[("txid", &txid)]).await;
    assert_eq!(
        (
            st["response"]["result"].as_str(),
            st["response"]["status"].as_str()
        ),
        (Some("waiting"), Some("pushed"))
    );
    sim.advance_clock(61_000);
    let (_, st) = auth.get("/auth/v2/auth_status", &[("txid", &txid)]).await;
    assert_eq!(
        (
            st["response"]["result"].as_str(),
            st["response"]["status"].as_str()
        ),
        (Some("deny"), Some("timeout"))
    );

    // Disabled users are denied at preauth.
    let rw = Client::new(&sim, sim.admin_read_write());
    rw.post(
        &format!("/admin/v1/users/{}", sim.user_id(&user).unwrap()),
        &[("status", "disabled")],
    )
    .await;
    let (_, pre) = auth.post("/auth/v2/preauth", &[("username", &user)]).await;
    assert_eq!(pre["response"]["result"], "deny");
    // The push outcomes were logged and show up once two minutes old.
    sim.advance_clock(120_000);
    assert!(sim.visible_auth_txids().contains(&txid));
}
