use super::*;
use crate::fakes::*;
use crate::host_api::{Env, HttpTransport};

const NOW: i64 = 1_760_000_000_000;
const JANE: &str = r#"{"stat":"OK","response":[{"user_id":"DU1","username":"jane","email":"jane@example.com","status":"active","phones":[{"phone_id":"DP1","name":"iPhone","capabilities":["auto","push","sms"]},{"phone_id":"DP2","capabilities":["sms"]}]}]}"#;
const NOBODY: &str = r#"{"stat":"OK","response":[]}"#;
const E40301: &str = r#"{"code":40301,"message":"Access forbidden","stat":"FAIL"}"#;

fn config(push: bool) -> Config {
    let mut e: Vec<(String, String)> = vec![
        ("api_hostname".into(), "api-1234abcd.duosecurity.com".into()),
        ("integration_key".into(), "DIWJ8X6AEYOR5OMC6TQ1".into()),
        ("retry_base_ms".into(), "1".into()),
        ("poll_interval_ms".into(), "5000".into()),
    ];
    if push {
        e.push(("push_verification".into(), "true".into()));
        e.push(("auth_integration_key".into(), "DIAUTHAPIKEY00000001".into()));
    }
    Config::parse(&e).unwrap()
}

fn act(
    http: &dyn HttpTransport,
    action: &str,
    params: &[(&str, &str)],
    push: bool,
) -> Result<ActionOutcome, PluginError> {
    let secrets = FakeSecrets::with(&[("secret_key", "k"), ("auth_secret_key", "a")]);
    let storage = MemStorage::default();
    let clock = FakeClock::at(NOW);
    let env = Env {
        http,
        secrets: &secrets,
        storage: &storage,
        clock: &clock,
        log: &NullLog,
    };
    let request = ActionRequest {
        action: action.into(),
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        dry_run: false,
        requested_by: "alice@corp".into(),
        reason: Some("ticket 42".into()),
    };
    run(&config(push), &env, &request)
}

#[test]
fn unknown_users_are_not_found_by_name() {
    let http = ScriptedHttp::default();
    http.push(200, NOBODY);
    let err = act(&http, "disable-user", &[("username", "ghost")], false).unwrap_err();
    assert_eq!(
        err,
        PluginError::NotFound("no Duo user named `ghost`".into())
    );
    assert!(
        http.requests.borrow()[0]
            .url
            .ends_with("/admin/v1/users?username=ghost")
    );
}

#[test]
fn disable_posts_the_status_and_reports_it() {
    let http = ScriptedHttp::default();
    http.push(200, JANE);
    http.push(
        200,
        r#"{"stat":"OK","response":{"user_id":"DU1","status":"disabled"}}"#,
    );
    let out = act(&http, "disable-user", &[("username", "jane")], false).unwrap();
    assert_eq!(out.status, ActionStatus::Succeeded);
    assert_eq!(out.message, "disabled Duo user `jane` (was active)");
    let post = &http.requests.borrow()[1];
    assert_eq!(
        (post.method.as_str(), post.body.as_slice()),
        ("POST", br#"{"status":"disabled"}"#.as_slice())
    );
    assert!(post.url.ends_with("/admin/v1/users/DU1"));
}

#[test]
fn a_forbidden_write_names_the_missing_permission() {
    let http = ScriptedHttp::default();
    http.push(200, JANE);
    http.push(403, E40301);
    let err = act(&http, "reactivate-user", &[("username", "jane")], false).unwrap_err();
    assert_eq!(err, PluginError::Forbidden(WRITE_MISSING.into()));
}

#[test]
fn remove_phone_needs_a_choice_when_there_are_several() {
    let http = ScriptedHttp::default();
    http.push(200, JANE);
    let err = act(&http, "remove-phone", &[("username", "jane")], false).unwrap_err();
    assert!(
        matches!(&err, PluginError::InvalidInput(m) if m.contains("DP1, DP2")),
        "{err:?}"
    );
    http.push(200, JANE);
    http.push(200, r#"{"stat":"OK","response":""}"#);
    let out = act(
        &http,
        "remove-phone",
        &[("username", "jane"), ("phone_id", "DP2")],
        false,
    )
    .unwrap();
    assert_eq!(out.status, ActionStatus::Succeeded);
    assert!(
        http.requests
            .borrow()
            .last()
            .unwrap()
            .url
            .ends_with("/admin/v1/users/DU1/phones/DP2")
    );
}

#[test]
fn verification_push_reports_denial() {
    let http = ScriptedHttp::default();
    http.push(200, JANE);
    http.push(
        200,
        r#"{"stat":"OK","response":{"push_id":"p1","confirmation_code":"123456"}}"#,
    );
    http.push(
        200,
        r#"{"stat":"OK","response":{"result":"waiting","push_id":"p1"}}"#,
    );
    http.push(
        200,
        r#"{"stat":"OK","response":{"result":"deny","push_id":"p1"}}"#,
    );
    let out = act(
        &http,
        "send-verification-push",
        &[("username", "jane")],
        false,
    )
    .unwrap();
    assert_eq!(
        (out.status, out.message.as_str()),
        (ActionStatus::Failed, "user denied")
    );
    assert!(
        out.details
            .contains(&("confirmation_code".into(), "123456".into()))
    );
    assert!(
        String::from_utf8_lossy(&http.requests.borrow()[1].body).contains("DP1"),
        "push-capable phone chosen"
    );
}

fn preauth_ok(http: &ScriptedHttp) {
    http.push(200, JANE);
    http.push(200, r#"{"stat":"OK","response":{"result":"auth","status_msg":"Account is active","devices":[{"device":"DP1","type":"phone","capabilities":["auto","push"]}]}}"#);
    http.push(200, r#"{"stat":"OK","response":{"txid":"tx-1"}}"#);
}

#[test]
fn push_verify_outcomes() {
    let cases = [
        (
            r#"{"result":"allow","status":"allow","status_msg":"Success"}"#,
            ActionStatus::Succeeded,
            "user approved",
        ),
        (
            r#"{"result":"deny","status":"deny","status_msg":"Login request denied."}"#,
            ActionStatus::Failed,
            "user denied",
        ),
        (
            r#"{"result":"deny","status":"fraud","status_msg":"Fraud"}"#,
            ActionStatus::Failed,
            "user reported fraud",
        ),
        (
            r#"{"result":"waiting","status":"timeout"}"#,
            ActionStatus::Failed,
            "timed out after 60 s",
        ),
    ];
    for (answer, status, message) in cases {
        let http = ScriptedHttp::default();
        preauth_ok(&http);
        http.push(
            200,
            r#"{"stat":"OK","response":{"result":"waiting","status":"pushed"}}"#,
        );
        http.push(200, &format!(r#"{{"stat":"OK","response":{answer}}}"#));
        let out = act(&http, "push-verify", &[("username", "jane")], true).unwrap();
        assert_eq!((out.status, out.message.as_str()), (status, message));
        let reqs = http.requests.borrow();
        let push = String::from_utf8_lossy(&reqs[2].body).to_string();
        assert!(
            push.contains(r#""factor":"push""#) && push.contains(r#""async":"1""#),
            "{push}"
        );
        assert!(
            push.contains("Requested%20by=alice%40corp"),
            "the push names the requester: {push}"
        );
    }
}

#[test]
fn push_verify_times_out_when_nobody_answers() {
    let http = ScriptedHttp::default();
    preauth_ok(&http);
    for _ in 0..20 {
        http.push(
            200,
            r#"{"stat":"OK","response":{"result":"waiting","status":"pushed"}}"#,
        );
    }
    let out = act(&http, "push-verify", &[("username", "jane")], true).unwrap();
    assert_eq!(
        (out.status, out.message.as_str()),
        (ActionStatus::Failed, "timed out after 60 s")
    );
}

#[test]
fn push_verify_needs_the_switch() {
    let err = act(
        &ScriptedHttp::default(),
        "push-verify",
        &[("username", "jane")],
        false,
    )
    .unwrap_err();
    assert!(matches!(err, PluginError::Config(_)));
}
