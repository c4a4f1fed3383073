//! Collect through the real client and parsers against scripted HTTP.

use super::*;
use crate::fakes::*;
use crate::host_api::Env;
use crate::normalize::KIND_AUTH;

const NOW: i64 = 1_760_000_000_000;

fn config() -> Config {
    let entries: Vec<(String, String)> = [
        ("api_hostname", "api-1234abcd.duosecurity.com"),
        ("integration_key", "DIWJ8X6AEYOR5OMC6TQ1"),
        ("retry_base_ms", "10"),
        ("max_retries", "2"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Config::parse(&entries).unwrap()
}

fn auth_page(txids: &[(&str, &str)], next: Option<&str>) -> String {
    let events: Vec<String> = txids
        .iter()
        .map(|(id, iso)| format!(r#"{{"txid":"{id}","isotimestamp":"{iso}","result":"success","event_type":"authentication"}}"#))
        .collect();
    let next = next.map_or("null".to_string(), |n| format!("\"{n}\""));
    format!(
        r#"{{"stat":"OK","response":{{"authlogs":[{}],"metadata":{{"next_offset":{next}}}}}}}"#,
        events.join(",")
    )
}

struct World {
    http: ScriptedHttp,
    secrets: FakeSecrets,
    storage: MemStorage,
    clock: FakeClock,
}

impl World {
    fn new() -> World {
        World {
            http: ScriptedHttp::default(),
            secrets: FakeSecrets::with(&[(
                "secret_key",
                "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep",
            )]),
            storage: MemStorage::default(),
            clock: FakeClock::at(NOW),
        }
    }
    fn collect(&self, sources: &[&str]) -> Result<CollectSummary, PluginError> {
        self.collect_pages(sources, None)
    }
    fn collect_pages(
        &self,
        sources: &[&str],
        max_pages: Option<u32>,
    ) -> Result<CollectSummary, PluginError> {
        let env = Env {
            http: &self.http,
            secrets: &self.secrets,
            storage: &self.storage,
            clock: &self.clock,
            log: &NullLog,
        };
        let options = CollectOptions {
            sources: sources.iter().map(|s| s.to_string()).collect(),
            max_pages,
        };
        run(&config(), &env, &options)
    }
}

#[test]
fn auth_pages_are_committed_with_their_checkpoint() {
    let w = World::new();
    w.http.push(200, &chained_page(1, AFTER_T1));
    w.http.push(200, &chained_page(2, None));
    let s = w.collect(&["authentication_log"]).unwrap();
    assert_eq!(
        (s.count(KIND_AUTH), s.pages, s.more_remaining),
        (2, 2, false)
    );
    assert_eq!(w.storage.ids(KIND_AUTH), ["t1", "t2"]);
    assert_eq!(w.storage.commits.borrow().len(), 2);
    // Log entries go to the host as immutable events, keyed by time.
    assert!(
        w.storage
            .event_sources
            .borrow()
            .contains("authentication_log")
    );
    let reqs = w.http.requests.borrow();
    assert!(
        reqs[0].url.contains("sort=ts%3Aasc") && reqs[0].url.contains("limit=1000"),
        "{}",
        reqs[0].url
    );
    assert!(
        reqs[1].url.contains("next_offset=1759996800001%2Ct1"),
        "{}",
        reqs[1].url
    );
}

/// Auth log page `i` of a chain: event `t{i}` at millisecond `i` of the
/// same second, and `next` as its cursor.
fn chained_page(i: u32, next: Option<&str>) -> String {
    let (id, iso) = (format!("t{i}"), format!("2025-10-09T08:00:00.00{i}+00:00"));
    auth_page(&[(&id, &iso)], next)
}

const AFTER_T1: Option<&str> = Some("1759996800001,t1");

/// Three auth log pages of one event each, chained by next_offset.
fn push_three_auth_pages(http: &ScriptedHttp) {
    http.push(200, &chained_page(1, AFTER_T1));
    http.push(200, &chained_page(2, Some("1759996800002,t2")));
    http.push(200, &chained_page(3, None));
}

#[test]
fn the_next_log_page_is_requested_while_this_one_is_parsed_and_stored() {
    let w = World::new();
    push_three_auth_pages(&w.http);
    let s = w.collect(&["authentication_log"]).unwrap();
    assert_eq!((s.count(KIND_AUTH), s.pages), (3, 3));
    assert_eq!(w.storage.ids(KIND_AUTH), ["t1", "t2", "t3"]);
    // Pages 2 and 3 went out as soon as the page before named them; the
    // last page names none, so nothing more was asked.
    assert_eq!(*w.http.started.borrow(), [1, 2]);
    let reqs = w.http.requests.borrow();
    assert_eq!(reqs.len(), 3);
    assert!(
        reqs[2].url.contains("next_offset=1759996800002%2Ct2"),
        "{}",
        reqs[2].url
    );
}

#[test]
fn a_page_cap_starts_no_request_the_run_will_not_read() {
    let w = World::new();
    push_three_auth_pages(&w.http);
    let s = w.collect_pages(&["authentication_log"], Some(2)).unwrap();
    assert_eq!(
        (s.count(KIND_AUTH), s.pages, s.more_remaining),
        (2, 2, true)
    );
    assert_eq!(
        w.http.requests.borrow().len(),
        2,
        "page 3 was never requested"
    );
    assert_eq!(*w.http.started.borrow(), [1]);
}

#[test]
fn a_started_request_that_fails_is_retried_like_any_other() {
    let w = World::new();
    w.http.push(200, &chained_page(1, AFTER_T1));
    w.http.push(
        503,
        r#"{"code":50301,"message":"Service Unavailable","stat":"FAIL"}"#,
    );
    w.http.push(200, &chained_page(2, None));
    let s = w.collect(&["authentication_log"]).unwrap();
    assert_eq!(w.storage.ids(KIND_AUTH), ["t1", "t2"]);
    assert_eq!(s.pages, 2);
    // The started attempt got the 503; the retry asked for the same page.
    assert_eq!(*w.http.started.borrow(), [1]);
    let reqs = w.http.requests.borrow();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[1].url, reqs[2].url);
    assert_eq!(w.clock.sleeps.borrow().len(), 1, "backed off once");
}

#[test]
fn a_page_retried_for_bad_events_starts_its_next_page_once() {
    let w = World::new();
    // The envelope reads (it names page 2), but an event has no txid.
    w.http.push(
        200,
        &auth_page(&[("", "2025-10-09T08:00:00.001+00:00")], AFTER_T1),
    );
    w.http.push(200, &chained_page(2, None));
    w.http.push(200, &chained_page(1, AFTER_T1));
    let s = w.collect(&["authentication_log"]).unwrap();
    assert_eq!(w.storage.ids(KIND_AUTH), ["t1", "t2"]);
    assert_eq!(s.pages, 2);
    // Page 2 was started by the first, failed attempt and used after the
    // retry: not asked for again.
    assert_eq!(*w.http.started.borrow(), [1]);
    assert_eq!(w.http.requests.borrow().len(), 3);
}

#[test]
fn a_started_page_the_next_fetch_does_not_ask_for_is_dropped_for_the_asked_one() {
    use crate::host_api::Secrets;
    use sources::DuoLog;
    use timelog::{LogApi, LogQuery};

    let w = World::new();
    let cfg = config();
    let signer = w.secrets.get(SECRET_KEY).unwrap();
    let client = DuoClient::new(
        &cfg.api_hostname,
        &cfg.integration_key,
        signer.as_ref(),
        cfg.signature_version,
        &w.http,
        &w.clock,
        &NullLog,
        RetryPolicy {
            max_retries: 0,
            base_ms: 10,
        },
    );
    let mut log = DuoLog::new(&client, false, None);
    w.http.push(200, &chained_page(1, AFTER_T1));
    // The answer to page 2, started as soon as page 1 named it.
    w.http.push(200, &chained_page(2, None));
    w.http.push(200, &chained_page(3, None));
    let first = LogQuery {
        mintime: NOW - 86_400_000,
        maxtime: NOW - 120_000,
        next_offset: None,
    };
    let mut next_offset = None;
    log.fetch(&first, &mut |page| next_offset = page.next_offset)
        .unwrap();
    assert_eq!(next_offset.as_deref(), AFTER_T1);
    assert_eq!(*w.http.started.borrow(), [1]);
    // A different query than the one started: its own request, its own answer.
    let other = LogQuery {
        next_offset: Some("1759996800009,t9".into()),
        ..first
    };
    let mut ids = Vec::new();
    log.fetch(&other, &mut |page| {
        ids = page.records.iter().map(|r| r.id.to_string()).collect();
    })
    .unwrap();
    assert_eq!(ids, ["t3"], "the started page 2 must not be used for it");
    let reqs = w.http.requests.borrow();
    assert_eq!(reqs.len(), 3);
    assert!(
        reqs[2].url.contains("next_offset=1759996800009%2Ct9"),
        "{}",
        reqs[2].url
    );
    assert_eq!(
        *w.http.started.borrow(),
        [1],
        "nothing started after page 3"
    );
}

#[test]
fn rate_limit_ends_the_run_ok_with_a_note() {
    let w = World::new();
    w.http.push(200, &chained_page(1, AFTER_T1));
    for _ in 0..3 {
        w.http.push(
            429,
            r#"{"code":42901,"message":"Too Many Requests","stat":"FAIL"}"#,
        );
    }
    let s = w.collect(&[]).unwrap();
    assert!(s.more_remaining);
    assert!(
        s.notes.iter().any(|n| n.contains(RATE_LIMIT_NOTE)),
        "{:?}",
        s.notes
    );
    assert_eq!(s.count(KIND_AUTH), 1);
    assert_eq!(
        w.http.requests.borrow().len(),
        4,
        "no other source is tried after a 429"
    );
    assert_eq!(
        w.clock.sleeps.borrow().len(),
        2,
        "backed off before giving up"
    );
}

#[test]
fn truncated_json_is_retried_then_a_typed_error_without_partial_commits() {
    let w = World::new();
    let page = auth_page(
        &[
            ("t1", "2025-10-09T08:00:00.001+00:00"),
            ("t2", "2025-10-09T08:00:00.002+00:00"),
        ],
        None,
    );
    w.http.push(200, &page[..page.len() / 2]);
    w.http.push(200, &page);
    assert_eq!(
        w.collect(&["authentication_log"]).unwrap().count(KIND_AUTH),
        2
    );

    let w = World::new();
    for _ in 0..3 {
        w.http.push(200, &page[..page.len() / 2]);
    }
    let err = w.collect(&["authentication_log"]).unwrap_err();
    assert!(
        matches!(&err, PluginError::Upstream(m) if m.contains("not valid JSON")),
        "{err:?}"
    );
    assert!(w.storage.commits.borrow().is_empty());
}

#[test]
fn missing_permission_names_it() {
    let w = World::new();
    w.http.push(
        403,
        r#"{"code":40301,"message":"Access forbidden","stat":"FAIL"}"#,
    );
    let err = w.collect(&["users"]).unwrap_err();
    assert!(
        matches!(&err, PluginError::Forbidden(m) if m.contains("Grant read resource")),
        "{err:?}"
    );
}

#[test]
fn unknown_sources_are_refused() {
    let err = World::new().collect(&["groups"]).unwrap_err();
    assert!(matches!(err, PluginError::Config(m) if m.contains("authentication_log")));
}

#[test]
fn inventories_use_duo_maximum_page_sizes() {
    let w = World::new();
    w.http.push(200, r#"{"stat":"OK","metadata":{"next_offset":300},"response":[{"user_id":"DU1","username":"a"}]}"#);
    w.http.push(
        200,
        r#"{"stat":"OK","metadata":{},"response":[{"user_id":"DU2","username":"b"}]}"#,
    );
    w.http.push(
        200,
        r#"{"stat":"OK","metadata":{},"response":[{"phone_id":"DP1","number":"+15555550100"}]}"#,
    );
    let s = w.collect(&["user", "duo.phone"]).unwrap();
    assert_eq!((s.count("duo.user"), s.count("duo.phone")), (2, 1));
    let reqs = w.http.requests.borrow();
    assert!(
        reqs[0].url.ends_with("/admin/v1/users?limit=300&offset=0"),
        "{}",
        reqs[0].url
    );
    assert!(reqs[1].url.ends_with("offset=300"));
    assert!(reqs[2].url.contains("/admin/v1/phones?limit=500"));
    // Inventories change in place: state records, not events.
    assert!(w.storage.event_sources.borrow().is_empty());
}

#[test]
fn a_staged_write_that_fails_stops_the_run_with_a_host_error() {
    let w = World::new();
    w.http.push(200, &chained_page(1, None));
    w.storage.fail_flush.set(true);
    let e = w.collect(&["authentication_log", "user"]).unwrap_err();
    assert!(
        matches!(&e, PluginError::Host(m) if m.contains("disk full")),
        "{e:?}"
    );
    // The run stopped there: the next source was not fetched.
    assert_eq!(w.http.requests.borrow().len(), 1);
}

#[test]
fn a_user_deleted_in_duo_is_removed_once_two_complete_passes_miss_it() {
    let w = World::new();
    let users = |ids: &[&str]| {
        let items: Vec<String> = ids
            .iter()
            .map(|id| format!(r#"{{"user_id":"{id}","username":"{id}"}}"#))
            .collect();
        format!(
            r#"{{"stat":"OK","metadata":{{}},"response":[{}]}}"#,
            items.join(",")
        )
    };
    w.http.push(200, &users(&["DU1", "DU2"]));
    w.collect(&["user"]).unwrap();
    assert_eq!(w.storage.ids("duo.user"), ["DU1", "DU2"]);
    w.http.push(200, &users(&["DU1"]));
    w.collect(&["user"]).unwrap();
    // One pass may have skipped it (offset paging shifts when Duo deletes
    // another user mid-pass): kept until a second pass misses it too.
    assert_eq!(w.storage.ids("duo.user"), ["DU1", "DU2"]);
    w.http.push(200, &users(&["DU1"]));
    let s = w.collect(&["user"]).unwrap();
    assert_eq!(w.storage.ids("duo.user"), ["DU1"]);
    assert!(
        s.notes.iter().any(|n| n
            == "user: removed 1 record(s) that Duo no longer lists (missing from two complete passes)"),
        "{:?}",
        s.notes
    );
}
