//! Issue 4's proof: the real host runs the real Duo plugin against the
//! simulator, through faults, bursts, late events, bad input and a killed
//! process, and ends up with every settled event exactly once.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use duo_sim::{Fault, SimConfig, Simulator};
use oort_e2e::duo::{
    KIND_AUTH, assert_exactly_visible, auth_ids, collect_until_caught_up, corp_env, duo_request,
    settled_now_ms, small_sim, sync_clock,
};
use oort_e2e::{Cli, TestEnv, duo_limits};
use oort_platform::ActRequest;
use oort_platform::model::{CheckStatus, CollectOptions, PluginError, Role};
use oort_platform::views::ActReport;
use oort_platform::{NoProgress, PlatformError, Requester};
use oort_store::prelude::*;
use oort_store::{Integration, Store};

const AUTH: &[&str] = &["authentication_log"];

async fn start(config: SimConfig) -> Simulator {
    oort_e2e::duo::start_sim(config).await
}

/// Waits so that events stamped "settled now" are newer than the previous
/// run's checkpoint (which is that run's start minus the 2-minute lag).
async fn after_previous_run() {
    tokio::time::sleep(Duration::from_millis(1500)).await;
}

fn was_rate_limited(
    outcomes: &[Result<oort_platform::model::CollectSummary, PlatformError>],
) -> bool {
    outcomes.iter().any(|o| match o {
        Ok(s) => s.more_remaining && s.notes.iter().any(|n| n.contains("rate limited")),
        Err(PlatformError::Plugin(PluginError::RateLimited(_))) => true,
        Err(_) => false,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_settled_event_is_collected_once_through_bursts_and_faults() {
    let sim = start(small_sim(40, 3_000)).await;
    let (env, corp) = corp_env(&sim, &sim.admin_read_only()).await;
    let store = env.store();

    // First run: the whole history, all sources.
    collect_until_caught_up(&env.platform, &sim, &corp, &[], 5).await;
    assert_exactly_visible(store, &sim, &corp, "initial collection");
    let counts = store.record_counts(corp.id).expect("counts");
    assert!(
        counts.iter().any(|(k, n)| k == "duo.user" && *n == 40),
        "all 40 users collected: {counts:?}"
    );

    // 1500 events in one millisecond: Duo pages at 1000, so a page boundary
    // falls inside the millisecond.
    after_previous_run().await;
    let user = sim.usernames()[0].clone();
    let burst: BTreeSet<String> = sim
        .add_auth_events(&user, settled_now_ms(), 1_500)
        .into_iter()
        .collect();
    collect_until_caught_up(&env.platform, &sim, &corp, AUTH, 5).await;
    assert!(
        burst.is_subset(&auth_ids(store, &corp).0),
        "the whole same-millisecond burst is collected"
    );
    assert_exactly_visible(store, &sim, &corp, "same-millisecond burst");

    // A 429 storm longer than one run's retries: the run stops with its
    // pages committed and the next runs resume.
    after_previous_run().await;
    let t = settled_now_ms();
    sim.add_auth_events(&user, t - 400, 1_200);
    sim.add_auth_events(&user, t, 1_300);
    sim.inject(Fault::RateLimit { count: 12 });
    let outcomes = collect_until_caught_up(&env.platform, &sim, &corp, AUTH, 10).await;
    assert!(
        was_rate_limited(&outcomes),
        "the storm outlasts one run's retries: {outcomes:?}"
    );
    assert!(outcomes.len() >= 2, "a later run resumed after the storm");
    assert_exactly_visible(store, &sim, &corp, "after a 429 storm");

    // 5xx, dropped connections and truncated bodies are retried within a run.
    after_previous_run().await;
    sim.add_auth_events(&user, settled_now_ms(), 1_100);
    sim.inject(Fault::ServerError { count: 2 });
    sim.inject(Fault::DropConnection { count: 2 });
    sim.inject(Fault::TruncatedJson { count: 1 });
    collect_until_caught_up(&env.platform, &sim, &corp, AUTH, 5).await;
    assert_exactly_visible(
        store,
        &sim,
        &corp,
        "after 5xx, dropped connections and truncated JSON",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_that_are_not_settled_yet_are_picked_up_by_a_later_run() {
    let sim = start(small_sim(10, 500)).await;
    let (env, corp) = corp_env(&sim, &sim.admin_read_only()).await;
    let store = env.store();
    collect_until_caught_up(&env.platform, &sim, &corp, AUTH, 5).await;

    // Events 45 s old: Duo may still deliver more for that moment, so a
    // correct collector leaves them for a later run.
    let at = settled_now_ms() + 2 * 60_000 - 45_000;
    let added = Instant::now();
    let late: BTreeSet<String> = sim
        .add_auth_events(&sim.usernames()[1], at, 30)
        .into_iter()
        .collect();
    collect_until_caught_up(&env.platform, &sim, &corp, AUTH, 5).await;
    if added.elapsed() < Duration::from_secs(60) {
        assert!(
            late.is_disjoint(&auth_ids(store, &corp).0),
            "events younger than 2 minutes must wait"
        );
        assert_exactly_visible(store, &sim, &corp, "before the events settle");
    }

    // Once they are settled, the next run collects them (and only them).
    let settled_at = at + 2 * 60_000 + 1_000;
    let wait = settled_at - settled_now_ms() - 2 * 60_000;
    if wait > 0 {
        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
    }
    collect_until_caught_up(&env.platform, &sim, &corp, AUTH, 5).await;
    assert!(
        late.is_subset(&auth_ids(store, &corp).0),
        "late events collected by the later run"
    );
    assert_exactly_visible(store, &sim, &corp, "after the events settled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_runs_fetch_only_what_is_new() {
    let sim = start(small_sim(20, 2_500)).await;
    let (env, corp) = corp_env(&sim, &sim.admin_read_only()).await;
    let store = env.store();
    let before = sim.request_count();
    collect_until_caught_up(&env.platform, &sim, &corp, AUTH, 5).await;
    let first_run_requests = sim.request_count() - before;
    assert!(
        first_run_requests >= 3,
        "2500 events take at least 3 pages, got {first_run_requests} requests"
    );

    // Nothing new: one request to learn that.
    after_previous_run().await;
    let before = sim.request_count();
    let runs = collect_until_caught_up(&env.platform, &sim, &corp, AUTH, 2).await;
    assert!(
        sim.request_count() - before <= 2,
        "a run with nothing new made {} requests",
        sim.request_count() - before
    );
    let summary = runs.last().unwrap().as_ref().unwrap();
    assert!(
        summary.records.iter().all(|(_, n)| *n == 0),
        "nothing new collected: {summary:?}"
    );

    // A few new events: fetched in one page, nothing older again.
    after_previous_run().await;
    let fresh: BTreeSet<String> = sim
        .add_auth_events(&sim.usernames()[2], settled_now_ms(), 5)
        .into_iter()
        .collect();
    let before = sim.request_count();
    let runs = collect_until_caught_up(&env.platform, &sim, &corp, AUTH, 2).await;
    assert!(
        sim.request_count() - before <= 2,
        "{} requests for 5 new events",
        sim.request_count() - before
    );
    let summary = runs.last().unwrap().as_ref().unwrap();
    assert_eq!(
        summary.records,
        vec![(KIND_AUTH.to_string(), 5)],
        "only the new events are committed"
    );
    assert!(fresh.is_subset(&auth_ids(store, &corp).0));
    assert_exactly_visible(store, &sim, &corp, "incremental run");
}

/// (user id, user name) of every stored `duo.user` record.
fn stored_users(store: &Store, integration: &Integration) -> BTreeSet<(String, String)> {
    let mut users = BTreeSet::new();
    store
        .for_each_record(integration.id, Some("duo.user"), &mut |r| {
            let name = r.raw["username"].as_str().unwrap_or_default().to_string();
            users.insert((r.id, name));
            Ok(())
        })
        .expect("read user records");
    users
}

const REMOVED_ONE_USER: &str =
    "user: removed 1 record(s) that Duo no longer lists (missing from two complete passes)";

/// The notes of the last run of a pass.
fn last_notes(runs: &[Result<oort_platform::model::CollectSummary, PlatformError>]) -> Vec<String> {
    runs.last()
        .expect("at least one run")
        .as_ref()
        .expect("the run succeeded")
        .notes
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_deleted_in_duo_is_deleted_once_two_collections_miss_it() {
    // 700 users: three pages of 300, so the pass spans commits.
    let sim = start(small_sim(700, 10)).await;
    let (env, corp) = corp_env(&sim, &sim.admin_read_only()).await;
    let store = env.store();
    collect_until_caught_up(&env.platform, &sim, &corp, &["user"], 3).await;
    let before = stored_users(store, &corp);
    assert_eq!(before.len(), sim.usernames().len());

    let gone = sim.usernames()[350].clone();
    assert!(sim.delete_user(&gone));
    let runs = collect_until_caught_up(&env.platform, &sim, &corp, &["user"], 3).await;
    assert_eq!(stored_users(store, &corp), before, "one pass is not enough");
    assert!(!last_notes(&runs).iter().any(|n| n.contains("removed")));
    let runs = collect_until_caught_up(&env.platform, &sim, &corp, &["user"], 3).await;
    let after = stored_users(store, &corp);
    let removed: Vec<_> = before.difference(&after).collect();
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(removed[0].1, gone);
    assert!(after.is_subset(&before));
    assert!(
        last_notes(&runs).iter().any(|n| n == REMOVED_ONE_USER),
        "{runs:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_skipped_by_offset_paging_after_a_deletion_mid_pass_stays() {
    let sim = start(small_sim(700, 10)).await;
    let (env, corp) = corp_env(&sim, &sim.admin_read_only()).await;
    let store = env.store();
    collect_until_caught_up(&env.platform, &sim, &corp, &["user"], 3).await;
    let before = stored_users(store, &corp);
    let names = sim.usernames();

    // The second pass reads its first page (users 0-299) and stops there;
    // then user 100 is deleted, so the page at offset 300 starts with the
    // old user 301 and this pass never lists the old user 300.
    sync_clock(&sim);
    let first_page = CollectOptions {
        sources: vec!["user".into()],
        max_pages: Some(1),
    };
    let run = env
        .platform
        .collect(&corp, first_page, &NoProgress)
        .await
        .expect("first page of the second pass");
    assert!(run.more_remaining);
    assert!(sim.delete_user(&names[100]));
    collect_until_caught_up(&env.platform, &sim, &corp, &["user"], 3).await;
    assert_eq!(
        stored_users(store, &corp),
        before,
        "{} was removed",
        names[300]
    );

    // User 100 was listed by the second pass before it went: the third
    // pass keeps it, the fourth removes it and nothing else.
    collect_until_caught_up(&env.platform, &sim, &corp, &["user"], 3).await;
    assert_eq!(stored_users(store, &corp), before);
    let runs = collect_until_caught_up(&env.platform, &sim, &corp, &["user"], 3).await;
    let removed: Vec<_> = before
        .difference(&stored_users(store, &corp))
        .cloned()
        .collect();
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(removed[0].1, names[100]);
    assert!(
        last_notes(&runs).iter().any(|n| n == REMOVED_ONE_USER),
        "{runs:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostname_with_a_scheme_is_refused_and_nothing_is_stored() {
    let sim = start(small_sim(5, 10)).await;
    let env = TestEnv::open_with(duo_limits());
    let mut req = duo_request(&sim, "corp", &sim.admin_read_only());
    req.config[0].1 = format!("https://{}", sim.hostname());
    match env
        .platform
        .add_integration(&Requester::local("tests"), req)
        .await
    {
        Err(PlatformError::InvalidConfig(errors)) => {
            let e = errors
                .iter()
                .find(|e| e.field == "api_hostname")
                .expect("api_hostname refused");
            assert!(
                e.message.contains(
                    "enter only the hostname, like api-xxxxxxxx.duosecurity.com, without https://"
                ),
                "the documented message: {}",
                e.message
            );
        }
        other => panic!("expected the hostname to be refused, got {other:?}"),
    }
    assert!(matches!(
        env.platform.integration(oort_e2e::TENANT, "corp"),
        Err(PlatformError::NotFound(_))
    ));
    assert!(
        env.store().integrations(None).expect("list").is_empty(),
        "nothing stored"
    );
    assert_eq!(sim.request_count(), 0, "nothing was sent to Duo");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_key_fails_the_check_naming_the_secret_key() {
    let sim = start(small_sim(5, 10)).await;
    let env = TestEnv::open_with(duo_limits());
    let mut creds = sim.admin_read_only();
    creds.skey = "Z".repeat(creds.skey.len());
    let corp = env
        .platform
        .add_integration(
            &Requester::local("tests"),
            duo_request(&sim, "corp", &creds),
        )
        .await
        .expect("format is valid");
    let checks = env
        .platform
        .test_connectivity(&corp)
        .await
        .expect("the test itself runs");
    let failed: Vec<_> = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Failed)
        .collect();
    assert!(
        !failed.is_empty(),
        "a wrong key must fail a check: {checks:?}"
    );
    assert!(
        failed.iter().any(|c| {
            let text = format!(
                "{} {} {}",
                c.name,
                c.detail,
                c.remedy.clone().unwrap_or_default()
            )
            .to_lowercase();
            text.contains("secret key")
        }),
        "the failed check must name the secret key: {failed:?}"
    );

    // Collecting with it fails cleanly and records the failure.
    sync_clock(&sim);
    let err = env
        .platform
        .collect(&corp, CollectOptions::default(), &NoProgress)
        .await
        .expect_err("unauthorized");
    assert!(
        matches!(err, PlatformError::Plugin(PluginError::Unauthorized(_))),
        "{err:?}"
    );
    assert!(store_auth_rows(env.store(), &corp) == 0);
}

fn store_auth_rows(store: &Store, integration: &Integration) -> usize {
    auth_ids(store, integration).1
}

/// `disable-user` on `username`, run through the audited `act` as an admin.
async fn disable(
    env: &TestEnv,
    corp: &Integration,
    username: &str,
) -> Result<ActReport, PlatformError> {
    if env.platform.operator("e2e-admin")?.is_none() {
        env.platform
            .add_operator(&Requester::local("tests"), "e2e-admin", Role::Admin, None)?;
    }
    let request = ActRequest {
        action: "disable-user".into(),
        user: Some(username.into()),
        actor: "e2e-admin".into(),
        reason: Some("end-to-end test".into()),
        ..ActRequest::default()
    };
    env.platform.act(corp, request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remediation_with_a_read_only_key_names_the_missing_permission() {
    let sim = start(small_sim(5, 10)).await;
    let (env, corp) = corp_env(&sim, &sim.admin_read_only()).await;
    let user = sim.usernames()[0].clone();
    let err = disable(&env, &corp, &user)
        .await
        .expect_err("read-only key");
    match &err {
        PlatformError::Plugin(PluginError::Forbidden(msg)) => {
            assert!(
                msg.contains("Grant write resource"),
                "the missing permission is named: {msg}"
            )
        }
        other => panic!("expected a missing-permission error, got {other:?}"),
    }
    assert_eq!(
        sim.user_status(&user).as_deref(),
        Some("active"),
        "nothing changed upstream"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remediation_of_an_unknown_user_is_a_clear_error() {
    let sim = start(small_sim(5, 10)).await;
    let (env, corp) = corp_env(&sim, &sim.admin_read_write()).await;
    let err = disable(&env, &corp, "no.such.user")
        .await
        .expect_err("unknown user");
    match &err {
        PlatformError::Plugin(PluginError::NotFound(msg)) => {
            assert!(msg.contains("no.such.user"), "{msg}")
        }
        other => panic!("expected not-found naming the user, got {other:?}"),
    }

    // And with the right key and a real user it works.
    let user = sim.usernames()[0].clone();
    let outcome = disable(&env, &corp, &user)
        .await
        .expect("disable a real user");
    assert_eq!(
        outcome.status,
        oort_platform::model::ActionStatus::Succeeded,
        "{outcome:?}"
    );
    assert_eq!(sim.user_status(&user).as_deref(), Some("disabled"));
}

/// The secret key in a file outside the data directory, as an operator would
/// hand it over.
fn secret_key_file(dir: &std::path::Path, skey: &str) -> String {
    let path = dir.join("duo-secret-key");
    std::fs::write(&path, format!("{skey}\n")).expect("write the secret key file");
    path.display().to_string()
}

fn add_args<'a>(
    sim: &'a Simulator,
    ikey: &'a str,
    key_file: &'a str,
    base: &'a str,
) -> Vec<&'a str> {
    vec![
        "integrations",
        "add",
        "duo",
        "corp",
        "--api-hostname",
        sim.hostname(),
        "--integration-key",
        ikey,
        "--secret-key-file",
        key_file,
        "--api-base-url",
        base,
    ]
}

/// The binary with `corp` added for `creds` (`extra` flags appended to
/// `integrations add`): its data directory, and one outside it holding the
/// secret key file and what spawned commands print.
fn cli_with_corp(
    sim: &Simulator,
    creds: &duo_sim::Credentials,
    extra: &[&str],
) -> (tempfile::TempDir, tempfile::TempDir, Cli) {
    let data = tempfile::tempdir().expect("data dir");
    let outside = tempfile::tempdir().expect("key/log dir");
    let cli = Cli::new(data.path());
    let key_file = secret_key_file(outside.path(), &creds.skey);
    let base = sim.base_url();
    let mut args = add_args(sim, &creds.ikey, &key_file, &base);
    args.extend(extra);
    cli.ok(&args);
    (data, outside, cli)
}

fn exported_auth_ids(cli: &Cli) -> (BTreeSet<String>, usize) {
    let lines = cli
        .ok(&["export", "corp", "--kind", KIND_AUTH])
        .json_lines();
    let ids: BTreeSet<String> = lines
        .iter()
        .map(|l| {
            assert_eq!(l["kind"], KIND_AUTH, "export --kind filters: {l}");
            l["id"]
                .as_str()
                .expect("export lines carry an id")
                .to_string()
        })
        .collect();
    (ids, lines.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_operator_flow_through_the_binary() {
    let sim = start(SimConfig {
        users: 80,
        auth_events: 4_000,
        scenarios: true,
        ..small_sim(80, 4_000)
    })
    .await;
    let data = tempfile::tempdir().expect("data dir");
    let outside = tempfile::tempdir().expect("key dir");
    let cli = Cli::new(data.path());
    let creds = sim.admin_read_write();
    let key_file = secret_key_file(outside.path(), &creds.skey);
    let base = sim.base_url();

    assert!(
        cli.ok(&["plugins", "list"]).stdout.contains("duo"),
        "the built-in Duo plugin is installed"
    );
    cli.ok(&add_args(&sim, &creds.ikey, &key_file, &base));
    let test = cli.ok(&["--json", "test", "corp"]).json();
    assert_eq!(test["ok"], true, "all checks pass: {test}");
    let checks = test["checks"].as_array().expect("checks");
    assert!(checks.iter().all(|c| c["status"] != "failed"), "{test}");

    sync_clock(&sim);
    cli.ok(&["collect", "corp"]);
    let (ids, rows) = exported_auth_ids(&cli);
    assert_eq!(rows, ids.len(), "no duplicate export lines");
    assert_eq!(
        ids,
        sim.visible_auth_txids(),
        "export holds exactly the settled events"
    );

    let insights = cli.ok(&["insights", "corp"]);
    assert!(
        insights.stdout.contains("DUO-"),
        "planted scenarios produce findings:\n{}",
        insights.stdout
    );
    assert!(cli.ok(&["actions", "corp"]).stdout.contains("disable-user"));

    let target = sim
        .scenario_users("DUO-02")
        .into_iter()
        .next()
        .unwrap_or_else(|| sim.usernames()[0].clone());
    cli.ok(&["operators", "add", "alice", "--role", "admin"]);
    // A taken name is the operator's to fix: exit 2, a `conflict`, a message.
    let taken = cli.fails(&["--json", "operators", "add", "alice", "--role", "viewer"]);
    assert_eq!(taken.code, Some(2), "{taken:?}");
    // The report is stderr's last line (log lines may come before it).
    let last_line = taken.stderr.lines().rev().find(|l| !l.trim().is_empty());
    let report: serde_json::Value = serde_json::from_str(last_line.unwrap_or_default())
        .unwrap_or_else(|e| panic!("a JSON error report on stderr ({e}): {taken:?}"));
    assert_eq!(report["kind"], "conflict", "{report}");
    assert!(
        report["error"]
            .as_str()
            .is_some_and(|m| m.contains("alice")),
        "{report}"
    );
    cli.ok(&["operators", "add", "victor", "--role", "viewer"]);
    let refused = cli.fails(&[
        "act",
        "corp",
        "disable-user",
        "--user",
        &target,
        "--actor",
        "victor",
    ]);
    assert!(
        refused.stderr.contains("viewer") || refused.stdout.contains("viewer"),
        "the refusal names the role"
    );
    assert_eq!(
        sim.user_status(&target).as_deref(),
        Some("active"),
        "a refused action changes nothing"
    );

    cli.ok(&[
        "act",
        "corp",
        "disable-user",
        "--user",
        &target,
        "--actor",
        "alice",
    ]);
    assert_eq!(sim.user_status(&target).as_deref(), Some("disabled"));
    let audit = cli.ok(&["audit", "corp"]).stdout;
    assert!(
        audit.contains("disable-user") && audit.contains("alice") && audit.contains("victor"),
        "{audit}"
    );

    // Bad input through the binary: exit code 2 and the documented message.
    let bad = cli.run(&[
        "integrations",
        "add",
        "duo",
        "other",
        "--api-hostname",
        &format!("https://{}", sim.hostname()),
        "--integration-key",
        &creds.ikey,
        "--secret-key-file",
        &key_file,
        "--api-base-url",
        &base,
    ]);
    assert_eq!(bad.code, Some(2), "invalid input exits with 2: {bad:?}");
    assert!(bad.stderr.contains("without https://"), "{}", bad.stderr);
}

fn wait_for<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_an_action_waits_for_its_outcome_and_audits_it() {
    let sim = start(small_sim(5, 10)).await;
    let fast_timeout = [
        "--set",
        "push_timeout_secs=3",
        "--set",
        "poll_interval_ms=100",
    ];
    let (_data, outside, cli) = cli_with_corp(&sim, &sim.admin_read_write(), &fast_timeout);
    cli.ok(&["operators", "add", "alice", "--role", "admin"]);
    let user = sim.usernames()[0].clone();
    sim.set_push_answer(&user, duo_sim::PushAnswer::NoAnswer);

    let mut child = cli.spawn(
        &[
            "act",
            "corp",
            "send-verification-push",
            "--user",
            &user,
            "--actor",
            "alice",
        ],
        outside.path(),
    );
    wait_for("the push to be sent", Duration::from_secs(60), || {
        (sim.verification_pushes_sent() > 0).then_some(())
    });
    // SAFETY: plain kill(2) on our own child's pid.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(rc, 0, "send SIGINT");
    let status = child.wait().expect("reap the host");
    let (out, err) = cli.spawned_output(outside.path(), "act (interrupted once)");

    // It ran to its outcome (the push timed out: a failed action, exit 1)
    // instead of dying of the signal, and said why it kept going.
    assert_eq!(status.code(), Some(1), "{status:?}\n{err}");
    assert!(err.contains("waiting for its outcome"), "{err}");
    assert!(out.contains("timed out"), "{out}");
    let trail = cli.ok(&["--json", "audit", "corp"]).json();
    let entries = trail.as_array().expect("audit lines");
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "act:send-verification-push"
                && e["outcome"]
                    .as_str()
                    .is_some_and(|o| o.contains("timed out"))),
        "the interrupted action is audited: {trail}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collection_killed_mid_run_resumes_without_loss_or_duplicates() {
    let sim = start(small_sim(50, 60_000)).await;
    let creds = sim.admin_read_only();
    let (data, outside, cli) = cli_with_corp(&sim, &creds, &[]);

    // Watch the database from outside while the host collects.
    let store = Store::open(data.path()).expect("open the store read-side");
    let corp = store
        .integrations(None)
        .expect("list integrations")
        .into_iter()
        .find(|i| i.name == "corp")
        .expect("the integration the binary added");

    sync_clock(&sim);
    let mut child = cli.spawn(&["collect", "corp"], outside.path());
    let committed = wait_for("the first committed page", Duration::from_secs(300), || {
        let rows = store_auth_rows(&store, &corp);
        (rows > 0).then_some(rows)
    });
    let still_running = child.try_wait().expect("poll the child").is_none();
    child.kill().expect("SIGKILL the host");
    child.wait().expect("reap the host");
    assert!(
        still_running,
        "the collection finished before it could be killed; make the simulated account larger"
    );
    let at_kill = store_auth_rows(&store, &corp);
    assert!(
        at_kill >= committed && at_kill < sim.visible_auth_txids().len(),
        "killed part-way: {at_kill} rows"
    );
    // What a killed host left behind, write-ahead log included, holds no
    // trace of the secret key.
    let files = oort_e2e::files_under(data.path());
    assert!(
        files.iter().any(|f| f.to_string_lossy().ends_with("-wal")),
        "no WAL to inspect: {files:?}"
    );
    let leaks = oort_e2e::LeakScanner::new(&[&creds.skey]).scan_dir(data.path());
    assert!(
        leaks.is_empty(),
        "the secret key is readable after a crash: {leaks:?}"
    );
    cli.spawned_output(outside.path(), "collect corp (killed)");

    // Restart: the next runs resume from the committed checkpoint.
    let mut caught_up = false;
    for _ in 0..5 {
        sync_clock(&sim);
        if cli.run(&["collect", "corp"]).success() {
            caught_up = true;
            break;
        }
    }
    assert!(
        caught_up,
        "the restarted collection completes:\n{}",
        cli.transcript()
    );
    let (ids, rows) = exported_auth_ids(&cli);
    assert_eq!(rows, ids.len(), "no duplicates after the restart");
    let expected = sim.visible_auth_txids();
    assert_eq!(
        ids.len(),
        expected.len(),
        "every settled event exactly once"
    );
    assert_eq!(ids, expected);
}

/// Removes the integration once its first page is written, so the writes
/// staged after it fail.
struct RemoveAfterFirstPage<'a> {
    store: &'a Store,
    integration: i64,
    pages: std::sync::atomic::AtomicU32,
}

impl oort_platform::CollectProgress for RemoveAfterFirstPage<'_> {
    fn committed(&self, _source: &str, _records: u64) {
        if self.pages.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            self.store
                .remove_integration(self.integration)
                .expect("remove the integration mid-collection");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staged_page_that_cannot_be_written_fails_the_collection() {
    let sim = start(small_sim(10, 5_000)).await;
    let (env, corp) = corp_env(&sim, &sim.admin_read_only()).await;
    let store = env.store();
    let progress = RemoveAfterFirstPage {
        store,
        integration: corp.id,
        pages: std::sync::atomic::AtomicU32::new(0),
    };
    let options = CollectOptions {
        sources: vec!["authentication_log".into()],
        max_pages: None,
    };
    let outcome = env.platform.collect(&corp, options, &progress).await;
    // The pages written before stand (they were removed with the
    // integration here); the failure is reported, never a success.
    match outcome {
        Err(PlatformError::Plugin(PluginError::Host(message))) => {
            assert!(message.contains("does not exist"), "{message}")
        }
        other => panic!("expected the failed write to fail the collection, got {other:?}"),
    }
    assert!(progress.pages.load(std::sync::atomic::Ordering::SeqCst) >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_cut_short_is_on_the_trail_with_its_outcome_unknown_after_a_restart() {
    let sim = start(small_sim(5, 10)).await;
    let dir = tempfile::tempdir().unwrap();
    let clock = std::sync::Arc::new(oort_time::ManualClock::at(oort_time::now_ms()));
    let platform = std::sync::Arc::new(
        oort_platform::Platform::open_with_clock(dir.path(), duo_limits(), clock.clone()).unwrap(),
    );
    let corp = platform
        .add_integration(
            &Requester::local("tests"),
            duo_request(&sim, "corp", &sim.admin_read_write()),
        )
        .await
        .unwrap();
    platform
        .add_operator(&Requester::local("tests"), "e2e-admin", Role::Admin, None)
        .unwrap();
    let user = sim.usernames()[0].clone();
    let request = ActRequest {
        action: "disable-user".into(),
        user: Some(user.clone()),
        actor: "e2e-admin".into(),
        reason: Some("phished".into()),
        ..ActRequest::default()
    };

    // Duo is slow to answer, and the host goes away meanwhile.
    sim.set_latency_ms(30_000);
    let acting = tokio::spawn({
        let (platform, corp, request) = (platform.clone(), corp.clone(), request.clone());
        async move { platform.act(&corp, request).await }
    });
    let store = Store::open(dir.path()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !store
        .audit(Some(corp.id))
        .unwrap()
        .iter()
        .any(|e| e.outcome == "started")
    {
        assert!(Instant::now() < deadline, "the start was never written");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    acting.abort();
    assert!(acting.await.unwrap_err().is_cancelled());
    drop(platform);
    sim.set_latency_ms(0);

    // While the action could still be running somewhere, it is not called
    // unknown; once its deadline (and a minute) has passed, it is, in the
    // view a restarted host answers with (the API's and `audit`'s).
    let restarted =
        oort_platform::Platform::open_with_clock(dir.path(), duo_limits(), clock.clone()).unwrap();
    let start_line = |platform: &oort_platform::Platform| {
        platform
            .audit_trail(&corp)
            .unwrap()
            .into_iter()
            .find(|l| l.entry.action == "act:disable-user")
            .expect("the action's start")
    };
    let early = start_line(&restarted);
    assert_eq!(
        (early.entry.outcome.as_str(), early.outcome_unknown),
        ("started", false)
    );
    clock.advance_ms((duo_limits().action_timeout + Duration::from_secs(61)).as_millis() as i64);
    let late = start_line(&restarted);
    assert!(late.outcome_unknown, "{late:?}");
    assert_eq!(late.entry.target.as_deref(), Some(user.as_str()));
    assert_eq!(late.entry.reason.as_deref(), Some("phished"));
    let whole = restarted.full_audit_trail().unwrap();
    assert_eq!(whole.iter().filter(|l| l.outcome_unknown).count(), 1);

    // Run again to the end, the action is concluded and the old start
    // stays unknown: nothing rewrites the trail.
    restarted.act(&corp, request).await.unwrap();
    let trail = restarted.audit_trail(&corp).unwrap();
    let acts: Vec<_> = trail
        .iter()
        .filter(|l| l.entry.action == "act:disable-user")
        .collect();
    assert_eq!(acts.len(), 3, "{acts:#?}");
    assert!(acts[0].outcome_unknown);
    assert_eq!(acts[2].entry.attempt, acts[1].entry.id);
    assert!(acts[2].entry.outcome.starts_with("succeeded"), "{acts:#?}");
    assert!(!acts[1].outcome_unknown && !acts[2].outcome_unknown);
    assert_eq!(sim.user_status(&user).as_deref(), Some("disabled"));
}
