//! Issue 2's proof: hostile plugins are stopped at their limits, in one
//! process, while a well-behaved neighbour completes.

use oort_e2e::{
    MisbehavingSpec, Stub, TestEnv, expected_signature, misbehaving_wasm, note, sandbox_limits,
    stub,
};
use oort_platform::model::{
    AccessDevice, AuthDevice, AuthEvent, CollectOptions, GeoLocation, MfaDevice, Normalized,
    UserAccount,
};
use oort_platform::{NoProgress, PlatformError, Requester, SandboxLimits};
use oort_store::prelude::*;
use oort_store::{Integration, RunKind, RunStatus};

const GOOD_TOKEN: &str = "GoodNeighbourToken42";
const THIEF_TOKEN: &str = "ThiefOwnToken0042";

fn sandbox_message(result: Result<impl std::fmt::Debug, PlatformError>, what: &str) -> String {
    match result {
        Err(PlatformError::Sandbox(msg)) => msg,
        other => panic!("{what}: expected the sandbox to stop the plugin, got {other:?}"),
    }
}

fn last_run(env: &TestEnv, integration: &Integration) -> oort_store::Run {
    let runs = env.store().runs(integration.id, 10).expect("read runs");
    runs.into_iter()
        .max_by_key(|r| r.id)
        .unwrap_or_else(|| panic!("no run recorded for `{}`", integration.name))
}

fn item_count(env: &TestEnv, integration: &Integration) -> u64 {
    env.store()
        .record_counts(integration.id)
        .expect("count records")
        .into_iter()
        .filter(|(kind, _)| kind == "test.item")
        .map(|(_, n)| n)
        .sum()
}

fn checkpoint(env: &TestEnv, integration: &Integration) -> Option<String> {
    env.store()
        .checkpoint(integration.id, "items")
        .expect("read checkpoint")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_plugins_are_stopped_while_a_neighbour_completes() {
    let env = TestEnv::open();
    let mut good_spec = MisbehavingSpec::new("good", "well-behaved", GOOD_TOKEN);
    good_spec.count = Some(120);
    let good = env
        .add_misbehaving(good_spec)
        .await
        .expect("add the well-behaved integration");
    let looping = env
        .misbehaving("looping", "endless-loop", "LoopToken000")
        .await;
    let bomb = env.misbehaving("bomb", "memory-bomb", "BombToken000").await;
    let egress = env
        .misbehaving("egress", "egress-violation", "EgressToken0")
        .await;
    let trapper = env.misbehaving("trapper", "trap", "TrapToken000").await;
    let thief = env.misbehaving("thief", "steal-secret", THIEF_TOKEN).await;

    // A checkpoint from an earlier, successful run that failures must not move.
    for i in [&looping, &bomb, &trapper] {
        env.store()
            .set_checkpoint(i.id, "items", "7")
            .expect("seed checkpoint");
    }

    let p = &env.platform;
    let opts = CollectOptions::default;
    let (good_r, loop_r, bomb_r, egress_r, trap_r, thief_r) = tokio::join!(
        p.collect(&good, opts(), &NoProgress),
        p.collect(&looping, opts(), &NoProgress),
        p.collect(&bomb, opts(), &NoProgress),
        p.collect(&egress, opts(), &NoProgress),
        p.collect(&trapper, opts(), &NoProgress),
        p.collect(&thief, opts(), &NoProgress),
    );

    // The neighbour finished with every record committed.
    let good_summary = good_r.expect("the well-behaved run completes despite its neighbours");
    assert_eq!(good_summary.records, vec![("test.item".to_string(), 120)]);
    assert_eq!(item_count(&env, &good), 120);
    assert_eq!(checkpoint(&env, &good).as_deref(), Some("120"));
    assert_eq!(last_run(&env, &good).status, RunStatus::Succeeded);

    // Spinning, it is stopped by its CPU budget, well before its deadline.
    let msg = sandbox_message(loop_r, "endless loop");
    let budget = format!(
        "CPU budget of {} s for collect",
        sandbox_limits().collect_cpu.as_secs()
    );
    assert!(
        msg.contains(&budget),
        "the error must name the CPU budget: {msg}"
    );

    let msg = sandbox_message(bomb_r, "memory bomb");
    assert!(
        msg.contains("memory limit") && msg.contains("16 MiB"),
        "the error must name the memory limit: {msg}"
    );

    let msg = sandbox_message(trap_r, "trap");
    assert!(
        msg.contains("trap"),
        "the error must say the plugin trapped: {msg}"
    );

    let egress_notes = egress_r
        .expect("the egress plugin handles refusals itself")
        .notes;
    for label in ["foreign-host", "ip-literal", "plain-http"] {
        let outcome = note(&egress_notes, &format!("{label}: "))
            .unwrap_or_else(|| panic!("no {label} note: {egress_notes:?}"));
        assert!(
            outcome.starts_with("denied"),
            "{label} must be denied by the egress policy, got `{outcome}`"
        );
    }

    let thief_notes = thief_r.expect("the thief's run reports what it got").notes;
    for name in ["other_token", "secret_key"] {
        let outcome = note(&thief_notes, &format!("{name}: "))
            .unwrap_or_else(|| panic!("no {name} note: {thief_notes:?}"));
        assert!(
            outcome.starts_with("not-declared"),
            "`{name}` must not be reachable, got `{outcome}`"
        );
    }
    let reveal = note(&thief_notes, "reveal: ").expect("reveal note");
    assert!(
        reveal.starts_with("not-granted"),
        "reveal without the capability must be refused, got `{reveal}`"
    );
    // The only key the thief can use is its own.
    assert_eq!(
        note(&thief_notes, "own-hmac-sha512="),
        Some(expected_signature(THIEF_TOKEN.as_bytes()).as_str())
    );

    // Failed runs are recorded as failed, with the reason, and move nothing.
    for (integration, needle) in [
        (&looping, "CPU budget"),
        (&bomb, "memory limit"),
        (&trapper, "trap"),
    ] {
        let run = last_run(&env, integration);
        assert_eq!(run.kind, RunKind::Collect);
        assert_eq!(
            run.status,
            RunStatus::Failed,
            "run of `{}`",
            integration.name
        );
        let error = run.error.unwrap_or_default();
        assert!(
            error.contains(needle),
            "run error of `{}` must name `{needle}`: {error}",
            integration.name
        );
        assert_eq!(
            checkpoint(&env, integration).as_deref(),
            Some("7"),
            "checkpoint of `{}`",
            integration.name
        );
        assert_eq!(
            item_count(&env, integration),
            0,
            "records of `{}`",
            integration.name
        );
    }

    // The engine is still healthy: the neighbour runs again and resumes.
    let again = env
        .platform
        .collect(&good, CollectOptions::default(), &NoProgress)
        .await
        .expect("second run");
    assert_eq!(again.records, vec![("test.item".to_string(), 120)]);
    assert_eq!(item_count(&env, &good), 240);
    assert_eq!(checkpoint(&env, &good).as_deref(), Some("240"));

    // `/metrics` counts each stop by its limit and the neighbour's records.
    let metrics = env.platform.metrics().render();
    for reason in ["cpu", "memory", "trap"] {
        let line =
            format!(r#"oort_sandbox_stops_total{{plugin="misbehaving",reason="{reason}"}} 1"#);
        assert!(metrics.contains(&line), "no `{line}` in:\n{metrics}");
    }
    for line in [
        r#"oort_records_committed_total{plugin="misbehaving",source="items"} 240"#,
        r#"oort_runs_total{kind="collect",outcome="failed"} 3"#,
        "oort_collections_running 0",
    ] {
        assert!(metrics.contains(line), "no `{line}` in:\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trap_after_a_commit_keeps_exactly_the_committed_page() {
    let env = TestEnv::open();
    let partial = env
        .misbehaving("partial", "partial-then-trap", "PartialToken1")
        .await;
    env.store()
        .set_checkpoint(partial.id, "items", "10")
        .expect("seed checkpoint");

    let msg = sandbox_message(
        env.platform
            .collect(&partial, CollectOptions::default(), &NoProgress)
            .await,
        "trap",
    );
    assert!(msg.contains("trap"), "{msg}");
    // The page committed before the trap is durable together with its
    // checkpoint; nothing after it is.
    assert_eq!(checkpoint(&env, &partial).as_deref(), Some("50"));
    assert_eq!(item_count(&env, &partial), 40);
    let run = last_run(&env, &partial);
    assert_eq!(
        (run.kind, run.status),
        (RunKind::Collect, RunStatus::Failed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliased_lists_cannot_make_the_host_copy_more_than_the_transfer_limit() {
    // 10,000 records whose raw JSON all point at one 1 MiB string: 10 GiB
    // for the host to copy out of ~1 MiB of plugin memory.
    let env = TestEnv::open();
    let flood = env
        .misbehaving("alias", "alias-flood", "AliasToken01")
        .await;
    let msg = sandbox_message(
        env.platform
            .collect(&flood, CollectOptions::default(), &NoProgress)
            .await,
        "alias-flood",
    );
    let limit = sandbox_limits().max_transfer_bytes >> 20;
    assert_eq!(
        msg,
        format!("plugin `misbehaving` tried to hand the host more than {limit} MiB in one call")
    );
    assert_eq!(item_count(&env, &flood), 0);
    assert_eq!(checkpoint(&env, &flood), None);
    // The host copied at most the limit: its peak memory stayed far below
    // what the lists asked for.
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    assert!(peak_kib < 2 << 20, "peak RSS {peak_kib} KiB");
    // And the next well-behaved run on the same host works.
    let good = env
        .misbehaving("good", "well-behaved", "GoodToken0001")
        .await;
    env.platform
        .collect(&good, CollectOptions::default(), &NoProgress)
        .await
        .expect("a well-behaved collect after the flood");
    assert!(item_count(&env, &good) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transfer_limit_counts_a_call_as_a_whole() {
    // A 7 MiB checkpoint and two records aliasing it: each part under the
    // 16 MiB limit, 21 MiB together.
    let env = TestEnv::open();
    let split = env
        .misbehaving("split", "split-flood", "SplitToken001")
        .await;
    let msg = sandbox_message(
        env.platform
            .collect(&split, CollectOptions::default(), &NoProgress)
            .await,
        "split-flood",
    );
    let limit = sandbox_limits().max_transfer_bytes >> 20;
    assert_eq!(
        msg,
        format!("plugin `misbehaving` tried to hand the host more than {limit} MiB in one call")
    );
    assert_eq!(item_count(&env, &split), 0);
    assert_eq!(checkpoint(&env, &split), None);
}

/// What the `every-field` mode commits: each string is its own field path.
fn every_field_views() -> Vec<Normalized> {
    let text = |path: &str| Some(path.to_string());
    let geo = |at: &str| GeoLocation {
        city: text(&format!("{at}.city")),
        state: text(&format!("{at}.state")),
        country: text(&format!("{at}.country")),
    };
    let list = |name: &str, n: usize| (0..n).map(|i| format!("{name}.{i}")).collect();
    vec![
        Normalized::AuthEvent(AuthEvent {
            occurred_at_ms: 1_700_000_000_001,
            event_id: "event_id".into(),
            user_id: text("user_id"),
            user_name: text("user_name"),
            user_email: text("user_email"),
            application_id: text("application_id"),
            application_name: text("application_name"),
            result: "result".into(),
            reason: text("reason"),
            factor: text("factor"),
            event_type: "event_type".into(),
            access_device: AccessDevice {
                ip: text("access_device.ip"),
                location: geo("access_device.location"),
                hostname: text("access_device.hostname"),
                os: text("access_device.os"),
                os_version: text("access_device.os_version"),
                browser: text("access_device.browser"),
                browser_version: text("access_device.browser_version"),
                endpoint_id: text("access_device.endpoint_id"),
                is_encryption_enabled: Some(true),
                is_firewall_enabled: Some(false),
                is_password_set: None,
            },
            auth_device: Some(AuthDevice {
                id: text("auth_device.id"),
                name: text("auth_device.name"),
                ip: text("auth_device.ip"),
                location: geo("auth_device.location"),
            }),
        }),
        Normalized::UserAccount(UserAccount {
            user_id: "user_id".into(),
            user_name: "user_name".into(),
            email: text("email"),
            real_name: text("real_name"),
            status: "status".into(),
            is_enrolled: true,
            last_login_ms: Some(1_700_000_000_002),
            created_ms: Some(1_700_000_000_003),
            groups: list("groups", 2),
            device_ids: list("device_ids", 3),
        }),
        Normalized::MfaDevice(MfaDevice {
            device_id: "device_id".into(),
            kind: "kind".into(),
            platform: text("platform"),
            model: text("model"),
            os_version: text("os_version"),
            activated: true,
            capabilities: list("capabilities", 2),
            user_ids: list("user_ids", 1),
            last_seen_ms: Some(1_700_000_000_004),
            number_hash: text("number_hash"),
        }),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_a_plugin_commits_is_stored_under_its_own_name() {
    // The host lifts records without copying their text first
    // (`runtime::lifted`); a field read from its neighbour's slot would
    // still type-check, so each value names its field.
    let env = TestEnv::open();
    let plugin = env
        .misbehaving("fields", "every-field", "FieldsToken001")
        .await;
    env.platform
        .collect(&plugin, CollectOptions::default(), &NoProgress)
        .await
        .expect("the every-field collect succeeds");
    let mut stored = env
        .store()
        .normalized_records(plugin.id)
        .expect("read the stored views");
    let mut expected = every_field_views();
    let order = |n: &Normalized| format!("{n:?}");
    stored.sort_by_key(order);
    expected.sort_by_key(order);
    assert_eq!(stored, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trap_in_test_connectivity_is_an_error_not_a_crash() {
    let env = TestEnv::open();
    let trapper = env.misbehaving("trapper", "trap", "TrapToken000").await;
    let looping = env
        .misbehaving("looping", "endless-loop", "LoopToken000")
        .await;
    let (trap_r, loop_r) = tokio::join!(
        env.platform.test_connectivity(&trapper),
        env.platform.test_connectivity(&looping)
    );
    assert!(sandbox_message(trap_r, "trap").contains("trap"));
    let msg = sandbox_message(loop_r, "loop");
    assert!(
        msg.contains("CPU budget") && msg.contains("test-connectivity"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_on_a_slow_upstream_is_not_cpu_time_but_the_deadline_still_holds() {
    let limits = sandbox_limits();
    let stub = Stub::start().await;
    let env = TestEnv::open();
    let mut spec = MisbehavingSpec::new("patient", "http-get", "PatientToken1");
    spec.api_base_url = Some(stub.base_url().to_string());
    let patient = env.add_misbehaving(spec).await.expect("add http-get");

    // Waiting longer than its whole CPU budget for an answer is fine.
    let wait = limits.collect_cpu + std::time::Duration::from_secs(1);
    assert!(wait < limits.collect_timeout);
    stub.set_latency_ms(wait.as_millis() as u64);
    let notes = env
        .platform
        .collect(&patient, CollectOptions::default(), &NoProgress)
        .await
        .expect("a plugin waiting on its upstream is not spinning")
        .notes;
    assert_eq!(
        note(&notes, "http-get: "),
        Some(format!("status=200 body_len={}", stub::PING_BODY.len()).as_str())
    );

    // Waiting past the deadline is stopped by the deadline, named as such.
    stub.set_latency_ms((limits.collect_timeout.as_millis() + 2_000) as u64);
    let msg = sandbox_message(
        env.platform
            .collect(&patient, CollectOptions::default(), &NoProgress)
            .await,
        "slow upstream",
    );
    let deadline = format!("{} s deadline", limits.collect_timeout.as_secs());
    assert!(msg.contains(&deadline), "{msg}");
    assert!(!msg.contains("CPU"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plugin_signs_with_a_secret_it_never_holds() {
    let env = TestEnv::open();
    let signer = env.misbehaving("signer", "well-behaved", GOOD_TOKEN).await;
    let summary = env
        .platform
        .collect(&signer, CollectOptions::default(), &NoProgress)
        .await
        .expect("collect");
    assert_eq!(
        note(&summary.notes, "hmac-sha512="),
        Some(expected_signature(GOOD_TOKEN.as_bytes()).as_str()),
        "the host must sign with the integration's token: {:?}",
        summary.notes
    );
    let reveal = note(&summary.notes, "reveal=").expect("reveal note");
    assert!(
        reveal.starts_with("not-granted"),
        "reveal must be refused without the capability: {reveal}"
    );

    // test-connectivity signs too (and commits nothing).
    let checks = env
        .platform
        .test_connectivity(&signer)
        .await
        .expect("test connectivity");
    let details: Vec<String> = checks.iter().map(|c| c.detail.clone()).collect();
    assert_eq!(
        note(&details, "hmac-sha512="),
        Some(expected_signature(GOOD_TOKEN.as_bytes()).as_str())
    );
    assert_eq!(
        item_count(&env, &signer),
        100,
        "test-connectivity must not commit"
    );

    // With the capability granted by the operator, reveal works.
    let mut spec = MisbehavingSpec::new("revealer", "well-behaved", "RevealedToken99");
    spec.granted_capabilities = vec!["secret-reveal".into()];
    spec.count = Some(1);
    let revealer = env
        .add_misbehaving(spec)
        .await
        .expect("add with a granted capability");
    let summary = env
        .platform
        .collect(&revealer, CollectOptions::default(), &NoProgress)
        .await
        .expect("collect");
    assert_eq!(note(&summary.notes, "reveal="), Some("granted len=15"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn egress_reaches_only_the_configured_host() {
    let stub = Stub::start().await;
    let env = TestEnv::open();
    let mut spec = MisbehavingSpec::new("getter", "http-get", "GetterToken1");
    spec.api_base_url = Some(stub.base_url().to_string());
    let getter = env.add_misbehaving(spec).await.expect("add http-get");
    let notes = env
        .platform
        .collect(&getter, CollectOptions::default(), &NoProgress)
        .await
        .expect("collect")
        .notes;
    assert_eq!(
        note(&notes, "http-get: "),
        Some(format!("status=200 body_len={}", stub::PING_BODY.len()).as_str())
    );
    assert_eq!(stub.hits(), 1);

    // The override reroutes https to the configured host only: plain http to
    // it, other hosts and IP literals are still refused and never sent.
    let mut spec = MisbehavingSpec::new("violator", "egress-violation", "ViolatorToken1");
    spec.api_base_url = Some(stub.base_url().to_string());
    let violator = env
        .add_misbehaving(spec)
        .await
        .expect("add egress-violation");
    let notes = env
        .platform
        .collect(&violator, CollectOptions::default(), &NoProgress)
        .await
        .expect("collect")
        .notes;
    for label in ["foreign-host", "ip-literal", "plain-http"] {
        let outcome = note(&notes, &format!("{label}: "))
            .unwrap_or_else(|| panic!("no {label} note: {notes:?}"));
        assert!(outcome.starts_with("denied"), "{label}: {outcome}");
    }
    assert_eq!(
        stub.hits(),
        1,
        "a denied request must never reach the network"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_budget_is_enforced() {
    let stub = Stub::start().await;
    let env = TestEnv::open();
    let mut spec = MisbehavingSpec::new("flood", "http-flood", "FloodToken01");
    spec.api_base_url = Some(stub.base_url().to_string());
    let flood = env.add_misbehaving(spec).await.expect("add http-flood");
    let notes = env
        .platform
        .collect(&flood, CollectOptions::default(), &NoProgress)
        .await
        .expect("collect")
        .notes;
    let limit = sandbox_limits().max_http_requests;
    assert_eq!(
        note(&notes, "http-flood: "),
        Some(format!("sent={limit} then budget-exhausted").as_str())
    );
    assert_eq!(stub.hits(), u64::from(limit));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_configuration_is_refused_and_nothing_is_stored() {
    let env = TestEnv::open();
    match env
        .add_misbehaving(MisbehavingSpec::new(
            "bogus",
            "launch-missiles",
            "ValidToken123",
        ))
        .await
    {
        Err(PlatformError::InvalidConfig(errors)) => {
            assert!(
                errors
                    .iter()
                    .any(|e| e.field == "mode" && e.message.contains("well-behaved")),
                "{errors:?}"
            )
        }
        other => panic!("expected the plugin to refuse the mode, got {other:?}"),
    }
    assert!(matches!(
        env.platform.integration(oort_e2e::TENANT, "bogus"),
        Err(PlatformError::NotFound(_))
    ));

    // The host checks the secret's declared constraints itself, and never
    // echoes the value.
    let bad_secret = "not*alphanumeric*SECRET";
    match env
        .add_misbehaving(MisbehavingSpec::new(
            "badsecret",
            "well-behaved",
            bad_secret,
        ))
        .await
    {
        Err(e @ (PlatformError::InvalidConfig(_) | PlatformError::InvalidInput(_))) => {
            let text = e.to_string();
            assert!(
                text.contains("token"),
                "the error must name the field: {text}"
            );
            assert!(
                !text.contains(bad_secret),
                "the error must not echo the secret: {text}"
            );
        }
        other => panic!("expected the token's constraints to be enforced, got {other:?}"),
    }
    assert!(matches!(
        env.platform.integration(oort_e2e::TENANT, "badsecret"),
        Err(PlatformError::NotFound(_))
    ));
}

/// The component's bytes with every `oort:integration/...@0.1.0` name
/// rewritten to `@0.9.0` (same length, so the binary stays well-formed): a
/// plugin built for a WIT version this host does not support.
fn retarget(wasm: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = wasm.to_vec();
    let prefix = b"oort:integration/";
    let mut patched = 0;
    let mut i = 0;
    while let Some(pos) = out[i..].windows(prefix.len()).position(|w| w == prefix) {
        let start = i + pos + prefix.len();
        let name_end = start
            + out[start..]
                .iter()
                .take(16)
                .position(|b| *b == b'@')
                .unwrap_or(0);
        if name_end > start && out[name_end + 1..].starts_with(from) {
            out[name_end + 1..name_end + 1 + from.len()].copy_from_slice(to);
            patched += 1;
        }
        i = start;
    }
    assert!(patched > 0, "no versioned interface names found to patch");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsupported_wit_version_is_refused_at_install() {
    let env = TestEnv::open();
    let wasm = std::fs::read(misbehaving_wasm()).expect("read the test plugin");
    let future = retarget(&wasm, b"0.1.0", b"0.9.0");
    let path = env.dir.path().join("from-the-future.wasm");
    std::fs::write(&path, &future).expect("write patched plugin");

    let err = env
        .platform
        .install_plugin(&Requester::local("tests"), &path)
        .expect_err("a 0.9.0 plugin must be refused");
    let text = err.to_string();
    assert!(
        text.contains("0.9.0") && text.contains("0.1.0"),
        "the error must name both versions: {text}"
    );
    assert!(
        env.store()
            .plugin("misbehaving")
            .expect("read plugins")
            .is_none()
    );

    // The unpatched plugin installs fine, so the refusal was the version.
    let installed = env.install_misbehaving();
    assert_eq!(
        (installed.id.as_str(), installed.wit_version.as_str()),
        ("misbehaving", "0.1.0")
    );
    // A 0.1.0 plugin has no `sources` export: it is collected whole.
    assert!(installed.manifest.sources.is_empty());
    // The Duo plugin (0.1.4, world `integration-with-sources`) lists its
    // sources, read from that export at install.
    let duo = env
        .store()
        .plugin("duo")
        .unwrap()
        .expect("the built-in Duo plugin");
    assert_eq!(duo.wit_version, "0.1.4");
    let names: Vec<&str> = duo
        .manifest
        .sources
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names[..2], ["authentication_log", "user"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_components_are_refused_with_a_clear_error() {
    let env = TestEnv::open();
    let wasm = std::fs::read(misbehaving_wasm()).expect("read the test plugin");
    let cases: [(&str, Vec<u8>); 3] = [
        ("truncated", wasm[..wasm.len() / 2].to_vec()),
        (
            "not-wasm",
            b"#!/bin/sh\necho this is not a plugin\n".to_vec(),
        ),
        // A valid core module, but not a component.
        ("core-module", b"\0asm\x01\0\0\0".to_vec()),
    ];
    for (name, bytes) in cases {
        let path = env.dir.path().join(format!("{name}.wasm"));
        std::fs::write(&path, bytes).expect("write corrupt plugin");
        let err = env
            .platform
            .install_plugin(&Requester::local("tests"), &path)
            .expect_err(name);
        assert!(
            matches!(err, PlatformError::InvalidInput(_)),
            "{name}: bad input is exit code 2, got {err:?}"
        );
        let text = err.to_string().to_lowercase();
        assert!(
            text.contains("component") || text.contains("wasm"),
            "{name}: the error must say what is wrong: {text}"
        );
    }
    let missing = env.dir.path().join("missing.wasm");
    let err = env
        .platform
        .install_plugin(&Requester::local("tests"), &missing)
        .expect_err("a missing file");
    assert!(
        err.to_string().contains("missing.wasm"),
        "the error must name the file: {err}"
    );
    assert!(
        env.platform
            .plugins()
            .expect("list plugins")
            .iter()
            .all(|p| p.id != "misbehaving")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_at_its_caps_waits_while_another_tenant_goes_on() {
    let limits = SandboxLimits {
        max_invocations_per_tenant: 1,
        max_requests_per_second_per_tenant: 4,
        max_http_requests: 12,
        ..sandbox_limits()
    };
    let env = TestEnv::open_with(limits);
    let (busy_upstream, other_upstream) = (Stub::start().await, Stub::start().await);
    busy_upstream.set_latency_ms(300);
    other_upstream.set_latency_ms(300);
    let add = |tenant: &str, name: &str, mode: &str, stub: &Stub| {
        let mut spec = MisbehavingSpec::new(name, mode, "TenantToken01");
        spec.tenant = tenant.into();
        spec.api_base_url = Some(stub.base_url().to_string());
        spec
    };
    let mut busy = Vec::new();
    for name in ["b1", "b2", "b3"] {
        let spec = add("busy", name, "http-get", &busy_upstream);
        busy.push(env.add_misbehaving(spec).await.unwrap());
    }
    let other = env
        .add_misbehaving(add("other", "o1", "http-get", &other_upstream))
        .await
        .unwrap();

    // Four collections at once: busy's three run one at a time, other's
    // alongside them.
    let options = CollectOptions::default;
    let (b1, b2, b3, o1) = tokio::join!(
        env.platform.collect(&busy[0], options(), &NoProgress),
        env.platform.collect(&busy[1], options(), &NoProgress),
        env.platform.collect(&busy[2], options(), &NoProgress),
        env.platform.collect(&other, options(), &NoProgress)
    );
    for outcome in [b1, b2, b3, o1] {
        outcome.expect("every collection completes, in turn");
    }
    assert_eq!(busy_upstream.hits(), 3);
    assert_eq!(
        busy_upstream.max_in_flight(),
        1,
        "one busy invocation at a time"
    );
    assert_eq!(other_upstream.hits(), 1);
    let other_at = other_upstream.arrivals()[0];
    let last_busy = *busy_upstream.arrivals().last().unwrap();
    assert!(
        other_at < last_busy,
        "the other tenant did not wait for the busy one"
    );

    // A flood is paced at the tenant's rate: never more than one second's
    // burst (4) plus the rate (4) in any second.
    busy_upstream.set_latency_ms(0);
    let flood = env
        .add_misbehaving(add("busy", "flood", "http-flood", &busy_upstream))
        .await
        .unwrap();
    env.platform
        .collect(&flood, CollectOptions::default(), &NoProgress)
        .await
        .ok();
    let arrivals = busy_upstream.arrivals()[3..].to_vec();
    assert_eq!(arrivals.len(), 12, "the flood ran to its request budget");
    for (i, start) in arrivals.iter().enumerate() {
        let within = arrivals[i..]
            .iter()
            .take_while(|t| t.duration_since(*start) < std::time::Duration::from_secs(1))
            .count();
        assert!(within <= 8, "{within} requests within one second");
    }
}
