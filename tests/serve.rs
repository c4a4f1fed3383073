//! `oort-host serve` as the platform runs it: an integration created over
//! the API is collected by the scheduler on its own, run after run, while
//! the simulated Duo account grows, with every settled event exported once;
//! and SIGTERM stops it cleanly, the collection in flight ending once its
//! current page is committed, with its logs as JSON lines for a collector.

use std::collections::BTreeSet;
use std::process::Child;
use std::time::{Duration, Instant};

use duo_sim::Simulator;
use oort_e2e::Cli;
use oort_e2e::duo::{KIND_AUTH, small_sim, start_sim, sync_clock};
use serde_json::{Value, json};

/// A running `serve` and an admin's way in.
struct Served {
    child: Child,
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Served {
    /// Starts `serve` on a free loopback port with `args`, as the
    /// platform-wide admin `root`, and waits until it answers.
    async fn start(cli: &Cli, log_dir: &std::path::Path, args: &[&str]) -> Served {
        cli.ok(&["operators", "add", "root", "--role", "admin", "--platform"]);
        let issued = cli
            .ok(&["--json", "operators", "token", "create", "root"])
            .json();
        let token = issued["token"].as_str().expect("the issued token").into();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let listen = format!("127.0.0.1:{port}");
        let mut command = vec!["serve", "--listen", &listen];
        command.extend(args);
        let child = cli.spawn(&command, log_dir);
        let served = Served {
            child,
            base: format!("http://{listen}/v1"),
            token,
            client: reqwest::Client::new(),
        };
        eventually("serve to answer", Duration::from_secs(60), async || {
            let r = served
                .client
                .get(served.url("/session"))
                .bearer_auth(&served.token);
            r.send().await.ok().filter(|r| r.status() == 200)
        })
        .await;
        served
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .client
            .request(method.clone(), self.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("reach serve");
        let status = response.status();
        let text = response.text().await.expect("read the answer");
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Its collect runs that ended, oldest first.
    async fn finished_collections(&self, integration: &str) -> Vec<Value> {
        let path = format!("/tenants/acme/integrations/{integration}/runs?limit=1000");
        let runs = self.send(reqwest::Method::GET, &path, None).await;
        let mut runs: Vec<Value> = runs
            .as_array()
            .expect("a list of runs")
            .iter()
            .filter(|r| r["kind"] == "collect" && r["status"] != "running")
            .cloned()
            .collect();
        runs.reverse();
        runs
    }

    /// SIGTERM, then the exit status.
    fn terminate(&mut self) -> std::process::ExitStatus {
        // SAFETY: plain kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        assert_eq!(rc, 0, "send SIGTERM");
        self.child.wait().expect("reap serve")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `probe` until it answers, or fails the test after `timeout`.
async fn eventually<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Keeps the simulator's clock on the wall clock, as a real Duo's is,
/// while `serve` collects whenever it decides to.
fn follow_the_wall_clock(sim: &Simulator) -> tokio::task::JoinHandle<()> {
    let sim = sim.clone();
    tokio::spawn(async move {
        loop {
            sync_clock(&sim);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
}

/// The binary at info level: trace logging of every request would make
/// `serve`'s timing the logger's.
fn quiet_cli(data_dir: &std::path::Path) -> Cli {
    Cli::new(data_dir).with_env("RUST_LOG", "info")
}

async fn create_corp(served: &Served, sim: &Simulator) {
    let creds = sim.admin_read_only();
    let body = json!({
        "name": "corp",
        "plugin": "duo",
        "config": {
            "api_hostname": sim.hostname(),
            "integration_key": creds.ikey,
            "initial_lookback_days": "5",
            "retry_base_ms": "5",
        },
        "secrets": { "secret_key": creds.skey },
        "api_base_url": sim.base_url(),
    });
    let created = served
        .send(
            reqwest::Method::POST,
            "/tenants/acme/integrations",
            Some(body),
        )
        .await;
    assert_eq!(created["secrets"]["secret_key"], "set");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_collects_on_schedule_while_events_arrive_and_exports_each_once() {
    let sim = start_sim(small_sim(5, 300)).await;
    let _clock = follow_the_wall_clock(&sim);
    let data = tempfile::tempdir().expect("data dir");
    let logs = tempfile::tempdir().expect("log dir");
    let cli = quiet_cli(data.path());
    let mut served = Served::start(&cli, logs.path(), &[]).await;

    create_corp(&served, &sim).await;
    // Due at once when created: the first run starts within a tick; then
    // one every second (± jitter).
    served
        .send(
            reqwest::Method::PUT,
            "/tenants/acme/integrations/corp/schedule",
            Some(json!({ "interval_seconds": 1 })),
        )
        .await;
    let user = sim.usernames()[0].clone();
    let mut added = 0;
    // A run that started after `since` has seen what was added before.
    let mut since = 0;
    for run in 1..=3 {
        let seen = eventually(
            &format!("scheduled collection {run}"),
            Duration::from_secs(120),
            async || {
                let runs = served.finished_collections("corp").await;
                runs.into_iter()
                    .find(|r| r["started_at_ms"].as_i64() > Some(since))
            },
        )
        .await;
        assert_eq!(seen["status"], "succeeded", "run {run}: {seen}");
        if run < 3 {
            // Stamped just inside Duo's 2-minute delay: no run that started
            // before now can have passed them (its window ends 2 minutes
            // before its start), and they show up 300 ms from now, so none
            // can be missed however the scheduler's runs fall.
            let now = oort_time::now_ms();
            added += sim.add_auth_events(&user, now - 120_000 + 300, 7).len();
            since = now + 300;
        }
    }
    assert_eq!(added, 14);
    let status = served.terminate();
    assert!(status.success(), "serve exits 0 on SIGTERM: {status:?}");
    let (_, err) = cli.spawned_output(logs.path(), "serve");
    assert!(err.contains("collecting due integrations"), "{err}");

    // Everything settled is exported once; nothing else.
    let lines = cli
        .ok(&["--tenant", "acme", "export", "corp", "--kind", KIND_AUTH])
        .json_lines();
    let exported: BTreeSet<String> = lines
        .iter()
        .map(|l| l["id"].as_str().expect("an id").to_owned())
        .collect();
    assert_eq!(lines.len(), exported.len(), "an event was exported twice");
    let visible = sim.visible_auth_txids();
    let missing: Vec<_> = visible.difference(&exported).take(5).collect();
    let extra: Vec<_> = exported.difference(&visible).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} visible, {} exported; missing {missing:?}, unexpected {extra:?}",
        visible.len(),
        exported.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_collection_in_flight_between_pages_and_nothing_is_left_half_done() {
    let sim = start_sim(small_sim(20, 5_000)).await;
    let _clock = follow_the_wall_clock(&sim);
    // Slow enough that SIGTERM lands mid-collection.
    sim.set_latency_ms(150);
    let data = tempfile::tempdir().expect("data dir");
    let logs = tempfile::tempdir().expect("log dir");
    let cli = quiet_cli(data.path());
    let mut served = Served::start(&cli, logs.path(), &["--log-format", "json"]).await;
    create_corp(&served, &sim).await;
    let probe = |path: &str| {
        let url = format!("{}{path}", served.base.trim_end_matches("/v1"));
        served.client.get(url).send()
    };
    assert_eq!(probe("/readyz").await.expect("readyz").status(), 200);

    eventually(
        "the scheduled collection to start",
        Duration::from_secs(60),
        async || {
            let detail = served
                .send(
                    reqwest::Method::GET,
                    "/tenants/acme/integrations/corp",
                    None,
                )
                .await;
            let running = detail["runs"]
                .as_array()
                .is_some_and(|runs| runs.iter().any(|r| r["status"] == "running"));
            running.then_some(())
        },
    )
    .await;
    let status = served.terminate();
    assert!(status.success(), "serve exits 0 on SIGTERM: {status:?}");
    let (_, err) = cli.spawned_output(logs.path(), "serve (terminated)");
    // With --log-format json, stderr is JSON lines and nothing else.
    let lines: Vec<Value> = err
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let said = |message: &str| {
        lines.iter().any(|l| {
            l["level"] == "INFO" && l["message"].as_str().is_some_and(|m| m.contains(message))
        })
    };
    assert!(said("waiting for running collections"), "{err}");
    assert!(said("oort-host API listening on"), "{err}");
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "request" && l["path"] == "/readyz" && l["status"] == 200),
        "{err}"
    );

    // The run in flight stopped once its current page was committed, and
    // says so; no failure is counted, and the lease is released.
    let detail = cli
        .ok(&["--json", "--tenant", "acme", "integrations", "show", "corp"])
        .json();
    let runs = detail["runs"].as_array().expect("runs");
    assert!(
        runs.iter().all(|r| r["status"] != "running"),
        "a run left running: {detail}"
    );
    assert_eq!(runs[0]["status"], "failed", "{detail}");
    assert!(
        runs[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("stopped between pages")),
        "{detail}"
    );
    assert_eq!(detail["schedule"]["collecting_by"], Value::Null, "{detail}");
    assert_eq!(detail["schedule"]["failures"], 0, "{detail}");
    let stored = cli
        .ok(&["--tenant", "acme", "export", "corp", "--kind", KIND_AUTH])
        .json_lines()
        .len();
    let reported = runs[0]["progress"]["records"]["authentication_log"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(stored as u64, reported, "{detail}");
    assert_eq!(stored % 1_000, 0, "a page was cut: {stored} events stored");
    // And a `collect` now resumes where it stopped: nothing twice.
    sim.set_latency_ms(0);
    cli.ok(&["--tenant", "acme", "collect", "corp"]);
    let lines = cli
        .ok(&["--tenant", "acme", "export", "corp", "--kind", KIND_AUTH])
        .json_lines();
    let ids: BTreeSet<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), lines.len(), "an event was collected twice");
    assert_eq!(ids.len(), sim.visible_auth_txids().len());
}
