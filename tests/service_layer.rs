//! The service layer's audited operations: every change an operator can
//! make through the CLI, the API or the demo leaves one audit entry naming
//! who asked and through what, and the run of every plugin call is ended
//! exactly once.

use oort_e2e::TestEnv;
use oort_e2e::env::MisbehavingSpec;
use oort_platform::model::Role;
use oort_platform::{ErrorKind, Requester};
use oort_store::prelude::*;
use oort_store::{AuditEntry, RunStatus};
use std::sync::Arc;

fn entries(env: &TestEnv, action: &str) -> Vec<AuditEntry> {
    env.store()
        .audit(None)
        .expect("read the audit trail")
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_an_operator_is_audited_with_its_requester() {
    let env = TestEnv::open();
    let by = Requester::local("oort-host demo");
    let operator = env
        .platform
        .add_operator(&by, "  alice ", Role::Admin, None)
        .expect("add alice");
    assert_eq!(operator.name, "alice", "the name is trimmed");
    let added = entries(&env, "operator.add");
    assert_eq!(added.len(), 1, "{added:?}");
    assert_eq!(added[0].actor, "system");
    assert_eq!(added[0].target.as_deref(), Some("alice"));
    assert_eq!(added[0].reason.as_deref(), Some("oort-host demo"));
    assert_eq!(added[0].outcome, "succeeded: role admin, platform-wide");
    assert_eq!(added[0].integration_id, None);

    // A refused add changes nothing and writes no success entry.
    let err = env
        .platform
        .add_operator(&by, "alice", Role::Viewer, None)
        .expect_err("the name is taken");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.kind().as_str(), "conflict");
    assert!(err.to_string().contains("alice"), "{err}");
    let err = env
        .platform
        .add_operator(&by, "   ", Role::Viewer, None)
        .expect_err("an empty name");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(entries(&env, "operator.add").len(), 1);
    assert_eq!(
        env.platform.operator("alice").unwrap().map(|o| o.role),
        Some(Role::Admin)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_and_removing_an_integration_are_audited() {
    let env = TestEnv::open();
    let integration = env
        .misbehaving("corp", "well-behaved", "GoodToken000")
        .await;
    let added = entries(&env, "integration.add");
    assert_eq!(added.len(), 1, "{added:?}");
    assert_eq!(added[0].integration_id, Some(integration.id));
    assert_eq!(added[0].target.as_deref(), Some("corp"));
    assert_eq!(added[0].outcome, "succeeded: plugin misbehaving");

    // A configuration the plugin refuses is stored nowhere and audited as
    // no addition.
    let bad = MisbehavingSpec::new("bad", "no-such-mode", "GoodToken000");
    let err = env.add_misbehaving(bad).await.expect_err("an unknown mode");
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.field_errors().is_some_and(|f| !f.is_empty()));
    assert_eq!(entries(&env, "integration.add").len(), 1);

    let by = Requester {
        actor: "ana".into(),
        role: Some(Role::Admin),
        via: "test".into(),
    };
    env.platform
        .remove_integration(&by, &integration)
        .expect("remove");
    let removed = entries(&env, "integration.remove");
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(removed[0].actor, "ana");
    assert_eq!(removed[0].role, Some(Role::Admin));
    assert_eq!(removed[0].reason.as_deref(), Some("test"));
    let err = env
        .platform
        .integration("default", "corp")
        .expect_err("removed");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_collection_does_not_stay_running() {
    let env = TestEnv::open();
    let looping = env
        .misbehaving("looping", "endless-loop", "LoopToken000")
        .await;
    // The caller gives up (a client hanging up, a timeout) long before the
    // sandbox's own deadline: the run must not be left `running`.
    let collect = env
        .platform
        .collect(&looping, Default::default(), &oort_platform::NoProgress);
    let gave_up = tokio::time::timeout(std::time::Duration::from_millis(300), collect).await;
    assert!(gave_up.is_err(), "the endless loop cannot finish in time");
    let runs = env.store().runs(looping.id, 5).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Failed);
    assert!(
        runs[0]
            .error
            .as_deref()
            .unwrap_or("")
            .starts_with("interrupted"),
        "{:?}",
        runs[0].error
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_installs_and_insight_refreshes_are_audited_on_the_platforms_clock() {
    let clock = oort_time::ManualClock::at(1_800_000_000_000);
    let env = TestEnv::open_at(oort_e2e::env::sandbox_limits(), Arc::new(clock.clone()));
    let builtin = entries(&env, "plugin.install");
    assert_eq!(builtin.len(), 1, "the built-in Duo plugin: {builtin:?}");
    assert_eq!(builtin[0].target.as_deref(), Some("duo"));
    assert_eq!(builtin[0].at_ms, 1_800_000_000_000);

    clock.advance_ms(60_000);
    let plugin = env.install_misbehaving();
    let installed = entries(&env, "plugin.install");
    assert_eq!(installed.len(), 2, "{installed:?}");
    assert_eq!(installed[1].target.as_deref(), Some("misbehaving"));
    assert_eq!(installed[1].reason.as_deref(), Some("tests"));
    assert_eq!(installed[1].at_ms, 1_800_000_060_000);
    assert!(
        installed[1].outcome.contains(&plugin.wasm_sha256),
        "{:?}",
        installed[1].outcome
    );
    assert_eq!(plugin.installed_at_ms, 1_800_000_060_000);

    clock.advance_ms(60_000);
    let integration = env
        .misbehaving("quiet", "well-behaved", "GoodToken000")
        .await;
    assert_eq!(integration.created_at_ms, 1_800_000_120_000);
    let summary = env
        .platform
        .collect(&integration, Default::default(), &oort_platform::NoProgress)
        .await
        .expect("collect");
    assert!(summary.records.iter().any(|(_, n)| *n > 0), "{summary:?}");
    clock.advance_ms(60_000);
    let report = env
        .platform
        .refresh_insights(&Requester::local("oort-host insights"), &integration)
        .await
        .expect("refresh");
    assert!(
        report.findings.is_empty(),
        "a non-Duo plugin's records give no Duo finding: {:?}",
        report.findings
    );
    let refreshed = entries(&env, "insights.refresh");
    assert_eq!(
        refreshed.len(),
        2,
        "after the collection, then asked: {refreshed:?}"
    );
    assert_eq!(
        refreshed[0].reason.as_deref(),
        Some("oort-host (the refresh after a collection)")
    );
    assert_eq!(refreshed[0].at_ms, 1_800_000_120_000);
    assert_eq!(refreshed[1].integration_id, Some(integration.id));
    assert_eq!(refreshed[1].reason.as_deref(), Some("oort-host insights"));
    assert_eq!(refreshed[1].outcome, "0 findings stored");
    assert_eq!(refreshed[1].at_ms, 1_800_000_180_000);
    let host_trail = env.platform.full_audit_trail().expect("the host's trail");
    let installs: Vec<_> = host_trail
        .iter()
        .filter(|l| l.entry.action == "plugin.install")
        .collect();
    assert_eq!(installs.len(), 2, "`oort-host audit` shows the installs");
    assert_eq!(installs[0].at, "2027-01-15T08:00:00.000Z");
    let runs = env.store().runs(integration.id, 10).expect("runs");
    assert_eq!(
        runs[0].started_at_ms, 1_800_000_120_000,
        "runs on the clock too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuing_and_revoking_a_token_is_audited_without_the_token() {
    use std::time::Duration;
    let env = TestEnv::open();
    let by = Requester::local("oort-host operators token create");
    env.platform
        .add_operator(&by, "ana", Role::Helpdesk, Some("acme"))
        .expect("add ana");
    let issued = env
        .platform
        .issue_token(&by, "ana", "ci", Some(Duration::from_secs(86_400)))
        .expect("issue");
    let token = std::str::from_utf8(issued.token.expose())
        .unwrap()
        .to_owned();
    assert!(token.starts_with(oort_platform::TOKEN_PREFIX), "{token}");
    assert_eq!(issued.info.operator, "ana");
    assert_eq!(
        issued.info.expires_at_ms,
        Some(issued.info.created_at_ms + 86_400_000)
    );
    let signed_in = env
        .platform
        .authenticate(Some(&token), "GET /v1/session")
        .expect("the token signs in");
    assert_eq!(signed_in.tenant.as_deref(), Some("acme"));

    let issue = entries(&env, "token.issue");
    assert_eq!(issue.len(), 1, "{issue:?}");
    assert_eq!(issue[0].target.as_deref(), Some("ana"));
    assert!(
        issue[0]
            .outcome
            .starts_with(&format!("succeeded: token {} (expires ", issued.info.id)),
        "{}",
        issue[0].outcome
    );

    let revoked = env
        .platform
        .revoke_token(&by, issued.info.id)
        .expect("revoke");
    assert!(revoked.revoked_at_ms.is_some());
    assert_eq!(entries(&env, "token.revoke").len(), 1);
    let err = env
        .platform
        .authenticate(Some(&token), "GET /v1/session")
        .expect_err("a revoked token");
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    let err = env.platform.revoke_token(&by, issued.info.id).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);

    // Bad requests change nothing.
    let err = env
        .platform
        .issue_token(&by, "nobody", "ci", None)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = env
        .platform
        .issue_token(&by, "ana", "ci", Some(Duration::ZERO))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(entries(&env, "token.issue").len(), 1);

    let trail = serde_json::to_string(&env.store().audit(None).unwrap()).unwrap();
    assert!(!trail.contains(&token), "the token reached the audit trail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tokens_last_use_is_kept_to_the_minute() {
    use std::time::Duration;
    let clock = Arc::new(oort_time::ManualClock::at(1_800_000_000_000));
    let env = TestEnv::open_at(oort_e2e::env::sandbox_limits(), clock.clone());
    let by = Requester::local("tests");
    env.platform
        .add_operator(&by, "ana", Role::Viewer, Some("acme"))
        .unwrap();
    let issued = env
        .platform
        .issue_token(&by, "ana", "console", Some(Duration::from_secs(86_400)))
        .unwrap();
    let token = std::str::from_utf8(issued.token.expose())
        .unwrap()
        .to_owned();
    let last_used = || env.platform.tokens(Some("ana")).unwrap()[0].last_used_at_ms;
    assert_eq!(last_used(), None, "never used yet");

    let first = oort_time::Clock::now_ms(clock.as_ref());
    env.platform
        .authenticate(Some(&token), "GET /v1/session")
        .unwrap();
    assert_eq!(last_used(), Some(first));
    // Within the minute, a request does not write again.
    clock.advance_ms(30_000);
    env.platform
        .authenticate(Some(&token), "GET /v1/session")
        .unwrap();
    assert_eq!(last_used(), Some(first));
    clock.advance_ms(31_000);
    env.platform
        .authenticate(Some(&token), "GET /v1/session")
        .unwrap();
    assert_eq!(last_used(), Some(first + 61_000));
    // A refused token is not "used".
    env.platform.revoke_token(&by, issued.info.id).unwrap();
    clock.advance_ms(120_000);
    assert!(
        env.platform
            .authenticate(Some(&token), "GET /v1/session")
            .is_err()
    );
    assert_eq!(last_used(), Some(first + 61_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_refused_sign_ins_is_audited_up_to_a_cap_then_counted() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(oort_time::ManualClock::at(60_000 * 30_000_000));
    let platform = oort_platform::Platform::open_with_clock(
        dir.path(),
        oort_e2e::sandbox_limits(),
        clock.clone(),
    )
    .unwrap();
    let cap = oort_platform::REFUSALS_PER_MINUTE as usize;
    for _ in 0..cap + 10 {
        let err = platform
            .authenticate(Some("oort_forged"), "GET /v1/plugins")
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Unauthenticated,
            "every one is refused"
        );
    }
    let refusals = |platform: &oort_platform::Platform| {
        platform
            .full_audit_trail()
            .unwrap()
            .into_iter()
            .filter(|l| l.entry.action == "api.authenticate")
            .collect::<Vec<_>>()
    };
    assert_eq!(refusals(&platform).len(), cap, "the trail is capped");

    // The next minute's first entry says how many were left out.
    clock.advance_ms(60_000);
    platform.authenticate(None, "GET /v1/plugins").unwrap_err();
    let trail = refusals(&platform);
    assert_eq!(trail.len(), cap + 1);
    let last = &trail[cap].entry.outcome;
    assert!(
        last.contains("10 more refused sign-ins before this one were counted"),
        "{last}"
    );
}
