//! Role boundaries and the audit record of every attempt, with a fake runner
//! standing in for the sandbox.

use std::sync::Mutex;

use super::*;
use crate::Platform;
use crate::model::{ActionParam, ActionSpec, ActionStatus, ConfigField, FieldType, Role};
use oort_model::Finding;
use oort_store::prelude::*;
use oort_store::{AuditEntry, InstalledPlugin, MasterKey, NewIntegration, Operator, Store};

fn spec(
    id: &str,
    minimum_role: Role,
    enabled_by: Option<&str>,
    params: &[(&str, bool)],
) -> ActionSpec {
    ActionSpec {
        id: id.into(),
        title: id.into(),
        description: format!("{id} description"),
        params: params
            .iter()
            .map(|(name, required)| ActionParam {
                name: (*name).into(),
                description: format!("the {name}"),
                required: *required,
            })
            .collect(),
        required_permission: "Grant write resource".into(),
        minimum_role,
        enabled_by: enabled_by.map(Into::into),
    }
}

fn manifest() -> Manifest {
    Manifest {
        sources: Vec::new(),
        id: "duo".into(),
        name: "Duo".into(),
        version: "0.1.0".into(),
        description: "Duo Security".into(),
        config: vec![
            ConfigField {
                name: "push_verification".into(),
                label: "Push verification".into(),
                field_type: FieldType::Boolean,
                required: false,
                description: "allow verification pushes".into(),
                validation_hint: "true or false".into(),
                default_value: Some("false".into()),
                constraints: None,
                advanced: false,
            },
            ConfigField {
                name: "lookups".into(),
                label: "Lookups".into(),
                field_type: FieldType::Boolean,
                required: false,
                description: "".into(),
                validation_hint: "".into(),
                default_value: Some("true".into()),
                constraints: None,
                advanced: true,
            },
        ],
        egress: vec![],
        record_kinds: vec![],
        actions: vec![
            spec("disable-user", Role::Admin, None, &[("username", true)]),
            spec("reset-user", Role::Helpdesk, None, &[("username", true)]),
            spec(
                "send-verification-push",
                Role::Helpdesk,
                Some("push_verification"),
                &[("username", true), ("phone_id", false)],
            ),
            spec(
                "lookup-user",
                Role::Viewer,
                Some("lookups"),
                &[("username", true)],
            ),
            spec("delete-phone", Role::Admin, None, &[("phone_id", true)]),
        ],
        capabilities: vec![],
    }
}

fn operator(name: &str, role: Role) -> Operator {
    Operator {
        name: name.into(),
        role,
        tenant: None,
        created_at_ms: 0,
    }
}

type Answer = Box<dyn Fn(&ActionRequest) -> Result<ActionOutcome, PlatformError> + Send + Sync>;

/// Records what it was asked to run and answers with a canned result.
struct FakeRunner {
    calls: Mutex<Vec<ActionRequest>>,
    answer: Answer,
}

impl FakeRunner {
    fn succeeding() -> FakeRunner {
        FakeRunner::answering(|req| {
            Ok(ActionOutcome {
                status: if req.dry_run {
                    ActionStatus::DryRun
                } else {
                    ActionStatus::Succeeded
                },
                message: if req.dry_run {
                    "would disable user".into()
                } else {
                    "user disabled".into()
                },
                details: vec![],
            })
        })
    }

    fn answering(
        f: impl Fn(&ActionRequest) -> Result<ActionOutcome, PlatformError> + Send + Sync + 'static,
    ) -> FakeRunner {
        FakeRunner {
            calls: Mutex::new(Vec::new()),
            answer: Box::new(f),
        }
    }

    fn calls(&self) -> Vec<ActionRequest> {
        self.calls.lock().unwrap().clone()
    }
}

impl ActionRunner for FakeRunner {
    async fn run_action(
        &self,
        _integration: &Integration,
        request: ActionRequest,
    ) -> Result<ActionOutcome, PlatformError> {
        let answer = (self.answer)(&request);
        self.calls.lock().unwrap().push(request);
        answer
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    integration: Integration,
}

fn fixture(config: &[(&str, &str)]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_with_key(dir.path(), MasterKey::generate()).unwrap();
    store
        .upsert_plugin(&InstalledPlugin {
            id: "duo".into(),
            manifest: manifest(),
            wasm_sha256: "00".into(),
            wasm_path: "plugins/duo.wasm".into(),
            wit_version: "0.1.0".into(),
            installed_at_ms: 0,
        })
        .unwrap();
    let integration = store
        .create_integration(&NewIntegration {
            tenant: "default".into(),
            name: "duo-prod".into(),
            plugin_id: "duo".into(),
            config: config
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            secrets: vec![],
            api_base_url: None,
            granted_capabilities: vec![],
        })
        .unwrap();
    for (name, role) in [
        ("ada", Role::Admin),
        ("hal", Role::Helpdesk),
        ("val", Role::Viewer),
    ] {
        store.add_operator(name, role, None).unwrap();
    }
    Fixture {
        _dir: dir,
        store,
        integration,
    }
}

fn request(actor: &str, action: &str, user: Option<&str>) -> ActRequest {
    ActRequest {
        action: action.into(),
        user: user.map(Into::into),
        params: vec![],
        actor: actor.into(),
        reason: Some("ticket INC-1".into()),
        dry_run: false,
        finding_id: None,
    }
}

async fn run(
    fx: &Fixture,
    runner: &FakeRunner,
    req: ActRequest,
) -> Result<ActionOutcome, PlatformError> {
    act_with(&fx.store, runner, &fx.integration, req)
        .await
        .map(|(_, outcome)| outcome)
}

fn audit(fx: &Fixture) -> Vec<AuditEntry> {
    fx.store.audit(Some(fx.integration.id)).unwrap()
}

/// The attempt's last entry: a refusal's only one, or the outcome of an
/// action that ran, which concludes the start written before it.
fn outcome_entry(fx: &Fixture) -> AuditEntry {
    let mut entries = audit(fx);
    match entries.len() {
        1 => {
            let refusal = entries.remove(0);
            assert_eq!(refusal.attempt, None, "{refusal:#?}");
            assert!(refusal.outcome.starts_with("refused"), "{refusal:#?}");
            refusal
        }
        2 => {
            let (start, outcome) = (&entries[0], &entries[1]);
            assert!(start.outcome.starts_with("started"), "{entries:#?}");
            assert_eq!(outcome.attempt, start.id, "the outcome names its start");
            assert_eq!(
                (&start.actor, &start.action, &start.target, &start.reason),
                (
                    &outcome.actor,
                    &outcome.action,
                    &outcome.target,
                    &outcome.reason
                )
            );
            entries.remove(1)
        }
        _ => panic!("one entry per refusal, two per action run: {entries:#?}"),
    }
}

// ---------------------------------------------------------------- authorize

#[test]
fn role_matrix() {
    let m = manifest();
    for minimum in [Role::Viewer, Role::Helpdesk, Role::Admin] {
        let s = spec("x", minimum, None, &[]);
        for role in [Role::Viewer, Role::Helpdesk, Role::Admin] {
            let allowed = authorize("op", Some(&operator("op", role)), &s, &m, &[]).is_ok();
            let expected = role != Role::Viewer && role >= minimum;
            assert_eq!(allowed, expected, "{role} on an action needing {minimum}");
        }
    }
}

#[test]
fn refusal_messages_name_role_action_and_need() {
    let m = manifest();
    let disable = m.action("disable-user").unwrap();
    assert_eq!(
        authorize(
            "hal",
            Some(&operator("hal", Role::Helpdesk)),
            disable,
            &m,
            &[]
        )
        .unwrap_err(),
        "helpdesk may not run disable-user (needs admin)"
    );
    let viewer = authorize(
        "val",
        Some(&operator("val", Role::Viewer)),
        m.action("lookup-user").unwrap(),
        &m,
        &[],
    );
    assert!(
        viewer
            .unwrap_err()
            .starts_with("viewer may not run actions")
    );
    let unknown = authorize("eve", None, disable, &m, &[]).unwrap_err();
    assert_eq!(
        unknown,
        "unknown operator `eve`: add one with `oort-host operators add eve --role helpdesk`"
    );
}

#[test]
fn enabled_by_setting_gates_the_action() {
    let m = manifest();
    let push = m.action("send-verification-push").unwrap();
    let admin = operator("ada", Role::Admin);
    let off = authorize("ada", Some(&admin), push, &m, &[]).unwrap_err();
    assert!(off.contains("push_verification"), "{off}");
    let explicit_off = [("push_verification".to_string(), "false".to_string())];
    assert!(authorize("ada", Some(&admin), push, &m, &explicit_off).is_err());
    let on = [("push_verification".to_string(), "true".to_string())];
    assert!(authorize("ada", Some(&admin), push, &m, &on).is_ok());
    // The manifest default applies when the integration leaves it unset.
    assert_eq!(
        disabled_reason(m.action("lookup-user").unwrap(), &m, &[]),
        None
    );
}

#[test]
fn params_are_checked_against_the_spec() {
    let m = manifest();
    let push = m.action("send-verification-push").unwrap();
    let given = [("phone_id".to_string(), "DP1".to_string())];
    assert_eq!(
        action_params(push, Some("alice"), &given).unwrap(),
        vec![
            ("username".to_string(), "alice".to_string()),
            ("phone_id".to_string(), "DP1".to_string())
        ]
    );
    let typo = [("phone".to_string(), "DP1".to_string())];
    let err = action_params(push, Some("alice"), &typo).unwrap_err();
    assert!(
        err.contains("no parameter `phone`") && err.contains("phone_id"),
        "{err}"
    );
    assert!(
        action_params(push, None, &[])
            .unwrap_err()
            .contains("--user")
    );
    assert!(
        action_params(m.action("delete-phone").unwrap(), None, &[])
            .unwrap_err()
            .contains("phone_id")
    );
    let twice = [("username".to_string(), "bob".to_string())];
    assert!(action_params(push, Some("alice"), &twice).is_err());
}

// ---------------------------------------------------------------- act + audit

#[tokio::test]
async fn admin_runs_the_action_and_it_is_audited() {
    let fx = fixture(&[]);
    let runner = FakeRunner::succeeding();
    let outcome = run(&fx, &runner, request("ada", "disable-user", Some("alice")))
        .await
        .unwrap();
    assert_eq!(outcome.status, ActionStatus::Succeeded);

    let calls = runner.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].action, "disable-user");
    assert_eq!(
        calls[0].params,
        vec![("username".to_string(), "alice".to_string())]
    );
    assert_eq!(calls[0].requested_by, "ada");
    assert_eq!(calls[0].reason.as_deref(), Some("ticket INC-1"));
    assert!(!calls[0].dry_run);

    let entry = outcome_entry(&fx);
    assert_eq!(entry.actor, "ada");
    assert_eq!(entry.role, Some(Role::Admin));
    assert_eq!(entry.action, "act:disable-user");
    assert_eq!(entry.target.as_deref(), Some("alice"));
    assert_eq!(entry.reason.as_deref(), Some("ticket INC-1"));
    assert_eq!(entry.outcome, "succeeded: user disabled");
    assert_eq!(entry.integration_id, Some(fx.integration.id));
    assert!(entry.at_ms > 0);
}

#[tokio::test]
async fn helpdesk_below_minimum_role_is_refused_and_audited() {
    let fx = fixture(&[]);
    let runner = FakeRunner::succeeding();
    let err = run(&fx, &runner, request("hal", "disable-user", Some("alice")))
        .await
        .unwrap_err();
    assert!(matches!(err, PlatformError::Refused(_)));
    assert_eq!(
        err.to_string(),
        "refused: helpdesk may not run disable-user (needs admin)"
    );
    assert!(
        runner.calls().is_empty(),
        "a refused action must not reach the plugin"
    );
    let entry = outcome_entry(&fx);
    assert_eq!(
        (entry.actor.as_str(), entry.role),
        ("hal", Some(Role::Helpdesk))
    );
    assert_eq!(
        entry.outcome,
        "refused: helpdesk may not run disable-user (needs admin)"
    );
    assert_eq!(entry.target.as_deref(), Some("alice"));

    // At its own level helpdesk may act.
    run(&fx, &runner, request("hal", "reset-user", Some("alice")))
        .await
        .unwrap();
    assert_eq!(runner.calls().len(), 1);
}

#[tokio::test]
async fn viewer_may_run_nothing() {
    let fx = fixture(&[]);
    let runner = FakeRunner::succeeding();
    for action in ["lookup-user", "reset-user", "disable-user"] {
        let err = run(&fx, &runner, request("val", action, Some("alice")))
            .await
            .unwrap_err();
        assert!(matches!(err, PlatformError::Refused(_)), "{action}: {err}");
    }
    assert!(runner.calls().is_empty());
    let entries = audit(&fx);
    assert_eq!(entries.len(), 3);
    assert!(entries.iter().all(|e| e.role == Some(Role::Viewer)
        && e.outcome.starts_with("refused: viewer may not run actions")));
}

#[tokio::test]
async fn an_admin_of_another_tenant_may_run_nothing_here() {
    let fx = fixture(&[]);
    fx.store
        .add_operator("gus", Role::Admin, Some("globex"))
        .unwrap();
    fx.store
        .add_operator("dee", Role::Admin, Some("default"))
        .unwrap();
    let runner = FakeRunner::succeeding();
    let err = run(&fx, &runner, request("gus", "disable-user", Some("alice")))
        .await
        .unwrap_err();
    assert!(matches!(err, PlatformError::Refused(_)), "{err}");
    assert!(runner.calls().is_empty(), "the plugin was not called");
    let entry = outcome_entry(&fx);
    assert_eq!(entry.actor, "gus");
    assert!(
        entry
            .outcome
            .contains("works in tenant `globex`, not `default`"),
        "{}",
        entry.outcome
    );
    // The integration's own tenant's admin may.
    run(&fx, &runner, request("dee", "disable-user", Some("alice")))
        .await
        .unwrap();
    assert_eq!(runner.calls().len(), 1);
}

#[tokio::test]
async fn unknown_operator_is_refused_and_audited() {
    let fx = fixture(&[]);
    let runner = FakeRunner::succeeding();
    let err = run(&fx, &runner, request("eve", "disable-user", Some("alice")))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("oort-host operators add eve --role helpdesk"),
        "{err}"
    );
    assert!(runner.calls().is_empty());
    let entry = outcome_entry(&fx);
    assert_eq!((entry.actor.as_str(), entry.role), ("eve", None));
    assert_eq!(entry.action, "act:disable-user");
    assert!(
        entry.outcome.starts_with("refused: unknown operator `eve`"),
        "{}",
        entry.outcome
    );
}

#[tokio::test]
async fn disabled_action_is_refused_naming_the_setting() {
    let fx = fixture(&[]);
    let runner = FakeRunner::succeeding();
    let err = run(
        &fx,
        &runner,
        request("ada", "send-verification-push", Some("alice")),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, PlatformError::Refused(_)));
    assert!(err.to_string().contains("push_verification"), "{err}");
    assert!(outcome_entry(&fx).outcome.contains("push_verification"));

    let enabled = fixture(&[("push_verification", "true")]);
    run(
        &enabled,
        &runner,
        request("hal", "send-verification-push", Some("alice")),
    )
    .await
    .unwrap();
    assert_eq!(runner.calls().len(), 1);
}

#[tokio::test]
async fn unknown_action_lists_the_available_ones_and_is_audited() {
    let fx = fixture(&[]);
    let runner = FakeRunner::succeeding();
    let err = run(&fx, &runner, request("ada", "nuke-tenant", Some("alice")))
        .await
        .unwrap_err();
    assert!(matches!(err, PlatformError::NotFound(_)));
    let text = err.to_string();
    assert!(
        text.contains("nuke-tenant") && text.contains("disable-user, reset-user"),
        "{text}"
    );
    let entry = outcome_entry(&fx);
    assert_eq!(entry.action, "act:nuke-tenant");
    assert!(
        entry
            .outcome
            .starts_with("refused: plugin `duo` has no action"),
        "{}",
        entry.outcome
    );
}

#[tokio::test]
async fn bad_parameters_are_refused_before_the_plugin_runs() {
    let fx = fixture(&[]);
    let runner = FakeRunner::succeeding();
    let err = run(&fx, &runner, request("ada", "disable-user", None))
        .await
        .unwrap_err();
    assert!(matches!(err, PlatformError::InvalidInput(_)), "{err}");
    let mut typo = request("ada", "delete-phone", None);
    typo.params = vec![("phone".into(), "DP1".into())];
    assert!(matches!(
        run(&fx, &runner, typo).await,
        Err(PlatformError::InvalidInput(_))
    ));
    assert!(runner.calls().is_empty());
    assert_eq!(audit(&fx).len(), 2);

    let mut ok = request("ada", "delete-phone", None);
    ok.params = vec![("phone_id".into(), "DP1".into())];
    run(&fx, &runner, ok).await.unwrap();
    let last = audit(&fx).pop().unwrap();
    assert_eq!(
        last.target.as_deref(),
        Some("phone_id=DP1"),
        "without a user the target is the first parameter"
    );
}

#[tokio::test]
async fn plugin_failures_are_audited_as_failed() {
    let fx = fixture(&[]);
    let erroring =
        FakeRunner::answering(|_| Err(PlatformError::Sandbox("deadline of 30s exceeded".into())));
    let err = run(
        &fx,
        &erroring,
        request("ada", "disable-user", Some("alice")),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, PlatformError::Sandbox(_)));
    assert_eq!(erroring.calls().len(), 1);
    assert_eq!(
        outcome_entry(&fx).outcome,
        "failed: plugin stopped: deadline of 30s exceeded"
    );

    let fx = fixture(&[]);
    let reporting = FakeRunner::answering(|_| {
        Ok(ActionOutcome {
            status: ActionStatus::Failed,
            message: "user not found\nforged line".into(),
            details: vec![],
        })
    });
    let outcome = run(
        &fx,
        &reporting,
        request("ada", "disable-user", Some("ghost")),
    )
    .await
    .unwrap();
    assert_eq!(outcome.status, ActionStatus::Failed);
    assert_eq!(
        outcome_entry(&fx).outcome,
        "failed: user not found forged line",
        "control characters are neutralised"
    );
}

#[tokio::test]
async fn dry_run_is_passed_on_and_audited() {
    let fx = fixture(&[]);
    let runner = FakeRunner::succeeding();
    let mut req = request("ada", "disable-user", Some("alice"));
    req.dry_run = true;
    let outcome = run(&fx, &runner, req.clone()).await.unwrap();
    assert_eq!(outcome.status, ActionStatus::DryRun);
    assert!(runner.calls()[0].dry_run);
    assert_eq!(outcome_entry(&fx).outcome, "dry-run: would disable user");

    // A dry run still needs the role.
    let mut as_helpdesk = req;
    as_helpdesk.actor = "hal".into();
    assert!(matches!(
        run(&fx, &runner, as_helpdesk).await,
        Err(PlatformError::Refused(_))
    ));
    assert_eq!(runner.calls().len(), 1);

    // A plugin that ignores the dry-run flag is called out in the trail.
    let fx = fixture(&[]);
    let careless = FakeRunner::answering(|_| {
        Ok(ActionOutcome {
            status: ActionStatus::Succeeded,
            message: "user disabled".into(),
            details: vec![],
        })
    });
    let mut req = request("ada", "disable-user", Some("alice"));
    req.dry_run = true;
    run(&fx, &careless, req).await.unwrap();
    assert!(
        outcome_entry(&fx)
            .outcome
            .contains("a dry run was requested")
    );
}

#[tokio::test]
async fn finding_supplies_action_and_user() {
    let fx = fixture(&[]);
    fx.store
        .upsert_findings(
            fx.integration.id,
            &[Finding {
                insight_id: "DUO-02".into(),
                dedupe_key: "bob".into(),
                title: "Push fatigue against bob".into(),
                severity: "high".into(),
                subjects: vec!["bob".into(), "bob-phone".into()],
                evidence: vec!["tx1".into()],
                first_seen_ms: 1,
                last_seen_ms: 2,
                suggested_action: Some("disable-user".into()),
                detail: "".into(),
            }],
        )
        .unwrap();
    let finding_id = fx.store.findings(fx.integration.id).unwrap()[0].id;
    let runner = FakeRunner::succeeding();
    let mut req = request("ada", "", None);
    req.finding_id = Some(finding_id);
    run(&fx, &runner, req).await.unwrap();
    assert_eq!(runner.calls()[0].action, "disable-user");
    assert_eq!(
        runner.calls()[0].params,
        vec![("username".to_string(), "bob".to_string())]
    );
    let entry = outcome_entry(&fx);
    assert_eq!(
        (entry.action.as_str(), entry.target.as_deref()),
        ("act:disable-user", Some("bob"))
    );

    // Explicit values win over the finding's.
    let mut req = request("hal", "reset-user", Some("carol"));
    req.finding_id = Some(finding_id);
    run(&fx, &runner, req).await.unwrap();
    assert_eq!(
        runner.calls()[1].params,
        vec![("username".to_string(), "carol".to_string())]
    );

    // A finding of nowhere is refused, and audited.
    let mut req = request("ada", "", None);
    req.finding_id = Some(finding_id + 100);
    let err = run(&fx, &runner, req).await.unwrap_err();
    assert!(matches!(err, PlatformError::NotFound(_)), "{err}");
    let last = audit(&fx).pop().unwrap();
    assert!(
        last.outcome.starts_with("refused: no finding"),
        "{}",
        last.outcome
    );
    // Two actions ran (a start and an outcome each), one was refused.
    assert_eq!(audit(&fx).len(), 5);
}

/// A runner whose action never comes back: the host is lost mid-action.
struct HangingRunner;

impl ActionRunner for HangingRunner {
    async fn run_action(
        &self,
        _: &Integration,
        _: ActionRequest,
    ) -> Result<ActionOutcome, PlatformError> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn an_action_is_on_the_trail_before_it_runs_and_one_cut_short_stays_unconcluded() {
    let fx = fixture(&[]);
    let mut req = request("ada", "disable-user", Some("alice"));
    req.reason = Some("phished".into());
    // The caller gives up (a disconnect, Ctrl-C, a crash) while the action
    // is at the plugin: the start is on the trail, its outcome never is.
    let cut = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        act_with(&fx.store, &HangingRunner, &fx.integration, req),
    )
    .await;
    assert!(cut.is_err(), "the action never answered");
    let entries = audit(&fx);
    assert_eq!(entries.len(), 1, "{entries:#?}");
    let start = &entries[0];
    assert_eq!(
        (
            start.outcome.as_str(),
            start.action.as_str(),
            start.target.as_deref(),
            start.reason.as_deref(),
            start.role,
        ),
        (
            "started",
            "act:disable-user",
            Some("alice"),
            Some("phished"),
            Some(Role::Admin)
        )
    );
    let later = fx.store.now_ms() + 1;
    assert_eq!(
        fx.store
            .unconcluded_attempts(Some(fx.integration.id), later)
            .unwrap(),
        [start.id.unwrap()]
    );
    // Not yet past the cutoff: it may still be running somewhere.
    assert!(
        fx.store
            .unconcluded_attempts(None, start.at_ms)
            .unwrap()
            .is_empty()
    );

    // One that ends is concluded, and a dry run says so from its start.
    let runner = FakeRunner::succeeding();
    let mut dry = request("ada", "disable-user", Some("bob"));
    dry.dry_run = true;
    run(&fx, &runner, dry).await.unwrap();
    let entries = audit(&fx);
    assert_eq!(entries[1].outcome, "started (dry run)");
    assert_eq!(entries[2].attempt, entries[1].id);
    assert_eq!(
        fx.store
            .unconcluded_attempts(None, fx.store.now_ms() + 1)
            .unwrap(),
        [start.id.unwrap()],
        "only the one cut short"
    );
}

#[tokio::test]
async fn no_action_and_no_finding_is_invalid_input() {
    let fx = fixture(&[]);
    let runner = FakeRunner::succeeding();
    let err = run(&fx, &runner, request("ada", "  ", Some("alice")))
        .await
        .unwrap_err();
    assert!(matches!(err, PlatformError::InvalidInput(_)));
    assert_eq!(outcome_entry(&fx).action, "act:?");
}

#[test]
fn available_actions_say_why_one_is_off() {
    let fx = fixture(&[]);
    let list = actions_of(&fx.store, &fx.integration).unwrap();
    assert_eq!(list.len(), 5);
    let push = list
        .iter()
        .find(|a| a.id == "send-verification-push")
        .unwrap();
    assert!(!push.enabled);
    assert!(
        push.why_not
            .as_deref()
            .unwrap()
            .contains("push_verification")
    );
    assert!(
        list.iter()
            .filter(|a| a.id != "send-verification-push")
            .all(|a| a.enabled && a.why_not.is_none())
    );

    let on = fixture(&[("push_verification", "true")]);
    assert!(
        actions_of(&on.store, &on.integration)
            .unwrap()
            .iter()
            .all(|a| a.enabled)
    );
}

/// The HTTP API runs `act` on a multi-threaded runtime: its future must be Send.
#[allow(dead_code)]
fn act_future_is_send(platform: &Platform, integration: &Integration, req: ActRequest) {
    fn is_send<T: Send>(_: &T) {}
    let future = platform.act(integration, req);
    is_send(&future);
}
