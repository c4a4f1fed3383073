//! Managing integrations and operators over the API: create with secrets in
//! the body (never answered back), conflicts, field errors, body limits,
//! runs, export as JSON lines, removal.

use super::*;

async fn post(
    client: &reqwest::Client,
    url: String,
    token: &str,
    body: String,
) -> reqwest::Response {
    client
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_integration_is_managed_over_the_api_and_its_secrets_never_come_back() {
    let sim = small_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(Platform::open(dir.path()).unwrap());
    let root = operator_token(&platform, "root", Role::Admin, None);
    let acme_admin = operator_token(&platform, "ad", Role::Admin, Some("acme"));
    let base = serve(platform.clone()).await;
    let client = reqwest::Client::new();
    let creds = sim.admin_read_write();
    let integrations = format!("{base}/v1/tenants/acme/integrations");
    let new = |secrets: serde_json::Value| {
        serde_json::json!({
            "name": "corp",
            "plugin": "duo",
            "config": {
                "api_hostname": sim.hostname(),
                "integration_key": creds.ikey,
            },
            "secrets": secrets,
            "api_base_url": sim.base_url(),
        })
    };
    let with_key = new(serde_json::json!({ "secret_key": creds.skey }));

    // Pointing a plugin at a loopback port is a platform-wide admin's.
    let r = post(
        &client,
        integrations.clone(),
        &acme_admin,
        with_key.to_string(),
    )
    .await;
    assert_eq!(r.status(), 403);
    assert!(
        json(r).await["error"]
            .as_str()
            .unwrap()
            .contains("platform-wide")
    );

    // The plugin's field errors come back beside their field.
    let r = post(
        &client,
        integrations.clone(),
        &root,
        new(serde_json::json!({})).to_string(),
    )
    .await;
    assert_eq!(r.status(), 400);
    let body = json(r).await;
    assert_eq!(body["kind"], "invalid_config");
    assert!(
        body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["field"] == "secret_key"),
        "{body}"
    );

    let r = post(&client, integrations.clone(), &root, with_key.to_string()).await;
    assert_eq!(r.status(), 201);
    let text = r.text().await.unwrap();
    assert!(
        !text.contains(&creds.skey),
        "a secret was answered back: {text}"
    );
    let created: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(created["name"], "corp");
    assert_eq!(created["secrets"]["secret_key"], "set", "{created}");

    let r = post(&client, integrations.clone(), &root, with_key.to_string()).await;
    assert_eq!(r.status(), 409);
    assert_eq!(json(r).await["kind"], "conflict");

    let mut unknown = with_key.clone();
    unknown["owner"] = "mallory".into();
    let r = post(&client, integrations.clone(), &root, unknown.to_string()).await;
    assert_eq!(r.status(), 400);
    assert!(json(r).await["error"].as_str().unwrap().contains("owner"));

    let huge = serde_json::json!({ "name": "x".repeat(100_000), "plugin": "duo" });
    let r = post(&client, integrations.clone(), &root, huge.to_string()).await;
    assert_eq!(r.status(), 413);
    assert_eq!(json(r).await["kind"], "too_large");

    // The tenant's own admin works with it from here.
    let corp = format!("{integrations}/corp");
    let r = post(&client, format!("{corp}/test"), &acme_admin, String::new()).await;
    assert_eq!(r.status(), 200);
    // The simulator's clock to the wall's, as the plugin reads it.
    let behind = oort_time::now_ms() - sim.now_ms();
    if behind > 0 {
        sim.advance_clock(behind);
    }
    // Collect Now is queued: 202 with the run to poll, and while it runs
    // another is refused.
    sim.set_latency_ms(200);
    let collect_now = || {
        post(
            &client,
            format!("{corp}/collect"),
            &acme_admin,
            String::new(),
        )
    };
    let r = collect_now().await;
    assert_eq!(r.status(), 202);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let queued = json(r).await;
    assert_eq!(queued["status"], "running", "{queued}");
    assert_eq!(queued["run"], location.as_str());
    assert!(
        location.ends_with(&format!("/runs/{}", queued["run_id"])),
        "{location}"
    );
    let r = collect_now().await;
    assert_eq!(r.status(), 409);
    assert_eq!(json(r).await["kind"], "conflict");
    sim.set_latency_ms(0);
    // Polled until it ends: its progress, then its summary.
    let get = |path: String| client.get(path).bearer_auth(&acme_admin).send();
    let run = loop {
        let r = get(format!("{base}{location}")).await.unwrap();
        assert_eq!(r.status(), 200);
        let run = json(r).await;
        if run["status"] != "running" {
            break run;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(run["status"], "succeeded", "{run}");
    assert!(run["progress"]["pages"].as_u64().unwrap() >= 1, "{run}");
    assert!(
        run["progress"]["records"]["authentication_log"]
            .as_u64()
            .unwrap()
            >= 1,
        "{run}"
    );
    assert!(
        !run["summary"]["records"].as_array().unwrap().is_empty(),
        "{run}"
    );
    let r = get(format!("{corp}/runs/999999")).await.unwrap();
    assert_eq!(r.status(), 404);
    let r = get(format!("{corp}/runs/latest")).await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        json(r).await["error"]
            .as_str()
            .unwrap()
            .contains("not a run id")
    );
    let r = client
        .get(format!("{corp}/runs?limit=5"))
        .bearer_auth(&acme_admin)
        .send()
        .await
        .unwrap();
    let runs = json(r).await;
    let kinds: Vec<_> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].clone())
        .collect();
    assert_eq!(kinds, ["collect", "test"], "{runs}");
    let r = client
        .get(format!("{corp}/runs?limit=0"))
        .bearer_auth(&acme_admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // Its schedule: every 10 minutes from the collection that just ran.
    let put_schedule = |body: &'static str| {
        client
            .put(format!("{corp}/schedule"))
            .bearer_auth(&acme_admin)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let r = put_schedule(r#"{"interval_seconds":600}"#).await.unwrap();
    assert_eq!(r.status(), 200);
    let schedule = json(r).await;
    assert_eq!(schedule["interval_ms"], 600_000, "{schedule}");
    // One interval ± 10% jitter; RFC 3339 in one format orders as times do.
    let next_due = schedule["next_due"].as_str().unwrap();
    let in_ms = |ms| oort_time::rfc3339_from_ms(oort_time::now_ms() + ms);
    assert!(
        (in_ms(530_000).as_str()..=in_ms(660_000).as_str()).contains(&next_due),
        "next run at {next_due}"
    );
    for (bad, why) in [
        (r#"{"interval_seconds":0}"#, "between 1 s and 604800 s"),
        (
            r#"{"interval_seconds":9999999}"#,
            "between 1 s and 604800 s",
        ),
        (r#"{"interval_seconds":60,"jitter":0}"#, "jitter"),
        (r#"{"interval_seconds":"5m"}"#, "interval_seconds"),
    ] {
        let r = put_schedule(bad).await.unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        let error = json(r).await;
        assert!(
            error["error"].as_str().unwrap().contains(why),
            "{bad}: {error}"
        );
    }
    let r = client
        .get(format!("{corp}/schedule"))
        .bearer_auth(&acme_admin)
        .send()
        .await
        .unwrap();
    assert_eq!(json(r).await["interval_ms"], 600_000);
    let trail = platform
        .audit_trail(&platform.integration("acme", "corp").unwrap())
        .unwrap();
    assert!(
        trail
            .iter()
            .any(|line| line.entry.action == "integration.schedule"
                && line.entry.actor == "ad"
                && line.entry.outcome == "succeeded: collected every 600 s")
    );

    // Export: JSON lines, the same records the store holds.
    let r = client
        .get(format!("{corp}/records"))
        .bearer_auth(&acme_admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let lines: Vec<serde_json::Value> = r
        .text()
        .await
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let integration = platform.integration("acme", "corp").unwrap();
    let mut stored = Vec::new();
    platform
        .for_each_record(&integration, None, None, &mut |r| {
            stored.push((r.kind, r.id));
            Ok(())
        })
        .unwrap();
    let exported: Vec<_> = lines
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap().to_owned(),
                l["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(stored.len() > 10, "the collection stored records");
    assert_eq!(exported, stored);
    let r = client
        .get(format!("{corp}/records?kind=duo.authentication_log"))
        .bearer_auth(&acme_admin)
        .send()
        .await
        .unwrap();
    let auth_lines = r.text().await.unwrap().lines().count();
    let auth_stored = stored
        .iter()
        .filter(|(kind, _)| kind == "duo.authentication_log")
        .count();
    assert!(auth_stored > 0);
    assert_eq!(auth_lines, auth_stored);

    // A page at a time: following the `next` links gives every record once,
    // in the same order, and the last page has no link.
    let mut paged = Vec::new();
    let mut next = Some(format!("{corp}/records?limit=4"));
    let mut pages = 0;
    while let Some(url) = next.take() {
        let r = client
            .get(&url)
            .bearer_auth(&acme_admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{url}");
        next = r.headers().get("link").map(|link| {
            let link = link.to_str().unwrap();
            let target = link
                .strip_prefix('<')
                .and_then(|l| l.strip_suffix(">; rel=\"next\""))
                .unwrap_or_else(|| panic!("not a next link: {link}"));
            format!("{base}{target}")
        });
        let text = r.text().await.unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(lines.len() <= 4 && !lines.is_empty(), "{text}");
        paged.extend(lines.iter().map(|l| {
            (
                l["kind"].as_str().unwrap().to_owned(),
                l["id"].as_str().unwrap().to_owned(),
            )
        }));
        pages += 1;
    }
    assert_eq!(paged, stored);
    assert_eq!(pages, stored.len().div_ceil(4));
    // One kind, paged, keeps its kind in the links.
    let r = client
        .get(format!(
            "{corp}/records?kind=duo.authentication_log&limit=1"
        ))
        .bearer_auth(&acme_admin)
        .send()
        .await
        .unwrap();
    let link = r.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.contains("kind=duo.authentication_log&limit=1&after="),
        "{link}"
    );
    for bad in [
        "limit=0",
        "limit=10001",
        "limit=5&after=garbage",
        "after=e30",
    ] {
        let r = client
            .get(format!("{corp}/records?{bad}"))
            .bearer_auth(&acme_admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }

    // Removal, audited in the remover's name.
    let r = client
        .delete(&corp)
        .bearer_auth(&acme_admin)
        .send()
        .await
        .unwrap();
    assert_eq!(json(r).await, serde_json::json!({ "removed": "corp" }));
    let r = client
        .get(&corp)
        .bearer_auth(&acme_admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let trail = platform.full_audit_trail().unwrap();
    let by = |action: &str| {
        trail
            .iter()
            .find(|l| l.entry.action == action)
            .map(|l| l.entry.actor.clone())
    };
    assert_eq!(by("integration.add").as_deref(), Some("root"));
    assert_eq!(by("integration.remove").as_deref(), Some("ad"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_admin_adds_operators_over_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(Platform::open(dir.path()).unwrap());
    let root = operator_token(&platform, "root", Role::Admin, None);
    let base = serve(platform.clone()).await;
    let client = reqwest::Client::new();
    let operators = format!("{base}/v1/operators");

    let bo = serde_json::json!({ "name": "bo", "role": "viewer", "tenant": "acme" });
    let r = post(&client, operators.clone(), &root, bo.to_string()).await;
    assert_eq!(r.status(), 201);
    let added = json(r).await;
    assert_eq!(
        (added["role"].as_str(), added["tenant"].as_str()),
        (Some("viewer"), Some("acme"))
    );
    let r = post(&client, operators.clone(), &root, bo.to_string()).await;
    assert_eq!(r.status(), 409);
    let bad = serde_json::json!({ "name": "cy", "role": "root" });
    let r = post(&client, operators.clone(), &root, bad.to_string()).await;
    assert_eq!(r.status(), 400);

    let r = client
        .get(&operators)
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    let names: Vec<_> = json(r)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["bo", "root"]);
    let added = platform
        .full_audit_trail()
        .unwrap()
        .into_iter()
        .rev()
        .find(|l| l.entry.action == "operator.add")
        .unwrap()
        .entry;
    assert_eq!(added.actor, "root");
    assert_eq!(added.target.as_deref(), Some("bo"));
}
