use super::*;
use crate::fakes::*;

const NOW: i64 = 1_760_000_000_000;
const OK: &str = r#"{"stat":"OK","response":{"admin_count":3,"integration_count":9,"telephony_credits_remaining":960,"user_count":8}}"#;
const OK_LIST: &str = r#"{"stat":"OK","response":[]}"#;
const OK_LOG: &str = r#"{"stat":"OK","response":{"authlogs":[],"metadata":{}}}"#;
const E40103: &str =
    r#"{"code":40103,"message":"Invalid signature in request credentials","stat":"FAIL"}"#;
const E40301: &str = r#"{"code":40301,"message":"Access forbidden","stat":"FAIL"}"#;
const E42901: &str = r#"{"code":42901,"message":"Too Many Requests","stat":"FAIL"}"#;

fn ping(offset_s: i64) -> String {
    format!(
        r#"{{"stat":"OK","response":{{"time":{}}}}}"#,
        NOW / 1000 + offset_s
    )
}

fn config(extra: &[(&str, &str)]) -> Config {
    let mut e: Vec<(String, String)> = vec![
        ("api_hostname".into(), "api-1234abcd.duosecurity.com".into()),
        ("integration_key".into(), "DIWJ8X6AEYOR5OMC6TQ1".into()),
    ];
    e.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Config::parse(&e).unwrap()
}

fn run_with(http: &RouteHttp, cfg: &Config) -> Vec<Check> {
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
    run(cfg, &env)
}

fn status(checks: &[Check], name: &str) -> (CheckStatus, String) {
    let c = checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name}: {checks:?}"));
    (
        c.status,
        format!("{} | {}", c.detail, c.remedy.clone().unwrap_or_default()),
    )
}

fn healthy() -> RouteHttp {
    let http = RouteHttp::default();
    http.route("/auth/v2/ping", 200, &ping(0));
    http.route("/admin/v1/info/summary", 200, OK);
    http.route("/admin/v1/users", 200, OK_LIST);
    http.route("/admin/v2/logs/authentication", 200, OK_LOG);
    http.route("/admin/v1/endpoints", 403, E40301);
    http.route("/auth/v2/check", 200, &ping(0));
    http
}

#[test]
fn a_healthy_setup_reports_each_capability() {
    let http = healthy();
    let checks = run_with(&http, &config(&[]));
    for name in [
        "Reachability and clock",
        "Admin API credentials",
        "Grant read information",
        "Grant read resource",
        "Grant read log",
    ] {
        assert_eq!(
            status(&checks, name).0,
            CheckStatus::Ok,
            "{name}: {checks:?}"
        );
    }
    assert_eq!(
        status(&checks, "Grant write resource").0,
        CheckStatus::Skipped
    );
    assert_eq!(
        status(&checks, "Auth API credentials").0,
        CheckStatus::Skipped
    );
    assert_eq!(status(&checks, "Endpoints").0, CheckStatus::Skipped);
    assert!(
        http.requests.borrow()[0].headers.is_empty(),
        "ping is unsigned"
    );
}

#[test]
fn endpoints_without_the_edition_is_a_warning_naming_it() {
    let checks = run_with(&healthy(), &config(&[("collect_endpoints", "true")]));
    let (st, text) = status(&checks, "Endpoints");
    assert_eq!(st, CheckStatus::Warning);
    assert!(text.contains("Advantage or Premier"), "{text}");
}

#[test]
fn wrong_secret_key_fails_credentials_and_skips_permissions() {
    let http = RouteHttp::default();
    http.route("/auth/v2/ping", 200, &ping(0));
    http.route("/admin", 401, E40103);
    let checks = run_with(&http, &config(&[]));
    let (st, text) = status(&checks, "Admin API credentials");
    assert_eq!(st, CheckStatus::Failed);
    assert!(text.contains("wrong secret key"), "{text}");
    assert_eq!(status(&checks, "Grant read log").0, CheckStatus::Skipped);
}

#[test]
fn clock_errors_say_by_how_much() {
    let http = RouteHttp::default();
    http.route("/auth/v2/ping", 200, &ping(-125));
    http.route(
        "/admin",
        401,
        r#"{"code":40105,"message":"Bad request timestamp","stat":"FAIL"}"#,
    );
    let checks = run_with(&http, &config(&[]));
    assert_eq!(
        status(&checks, "Reachability and clock").0,
        CheckStatus::Warning
    );
    let (st, text) = status(&checks, "Admin API credentials");
    assert_eq!(st, CheckStatus::Failed);
    assert!(text.contains("clock off by 125 s"), "{text}");
}

#[test]
fn missing_log_permission_is_named() {
    let http = healthy();
    http.routes
        .borrow_mut()
        .retain(|(p, _, _)| p != "/admin/v2/logs/authentication");
    http.route("/admin/v2/logs/authentication", 403, E40301);
    let checks = run_with(&http, &config(&[]));
    assert_eq!(status(&checks, "Admin API credentials").0, CheckStatus::Ok);
    let (st, text) = status(&checks, "Grant read log");
    assert_eq!(st, CheckStatus::Failed);
    assert!(text.contains("tick Grant read log"), "{text}");
}

#[test]
fn rate_limiting_is_not_reported_as_bad_credentials() {
    let http = RouteHttp::default();
    http.route("/auth/v2/ping", 200, &ping(0));
    http.route("/admin", 429, E42901);
    let checks = run_with(&http, &config(&[]));
    let (st, text) = status(&checks, "Admin API credentials");
    assert_eq!(st, CheckStatus::Warning);
    assert!(
        text.contains("rate limited") && !text.contains("wrong"),
        "{text}"
    );
}

#[test]
fn auth_api_keys_are_checked_when_push_verification_is_on() {
    let http = healthy();
    let cfg = config(&[
        ("push_verification", "true"),
        ("auth_integration_key", "DIAUTHAPIKEY00000001"),
    ]);
    let checks = run_with(&http, &cfg);
    assert_eq!(status(&checks, "Auth API credentials").0, CheckStatus::Ok);
    let check_req = http
        .requests
        .borrow()
        .iter()
        .find(|r| r.url.ends_with("/auth/v2/check"))
        .cloned()
        .unwrap();
    assert!(check_req.headers.iter().any(|(k, _)| k == "Authorization"));
}

#[test]
fn unreachable_duo_skips_the_rest() {
    let checks = run_with(&RouteHttp::default(), &config(&[]));
    assert_eq!(
        status(&checks, "Reachability and clock").0,
        CheckStatus::Failed
    );
    assert_eq!(status(&checks, "Grant read log").0, CheckStatus::Skipped);
}
