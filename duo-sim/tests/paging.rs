//! Duo's auth-log paging semantics: next_offset continuity, 2-minute visibility,
//! late arrivals, the 180-day bound, offset paging of inventories.

mod common;

use std::collections::BTreeSet;

use common::{Client, code};
use duo_sim::{Clock, SimConfig, Simulator};

const MIN: i64 = 60_000;

async fn fixed_sim(events: usize) -> Simulator {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    Simulator::start(SimConfig {
        users: 100,
        auth_events: events,
        clock: Clock::Fixed(now),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

/// Pages one window to the end; `pair` sends next_offset as the repeated parameter.
async fn collect(
    c: &Client,
    min: i64,
    max: i64,
    sort: &str,
    pair: bool,
) -> (Vec<(i64, String)>, usize) {
    let (min, max) = (min.to_string(), max.to_string());
    let mut out = Vec::new();
    let mut offset: Option<(String, String)> = None;
    let mut pages = 0;
    loop {
        let mut params = vec![
            ("mintime", min.as_str()),
            ("maxtime", max.as_str()),
            ("limit", "1000"),
            ("sort", sort),
        ];
        let joined;
        if let Some((ms, tx)) = &offset {
            if pair {
                params.push(("next_offset", ms));
                params.push(("next_offset", tx));
            } else {
                joined = format!("{ms},{tx}");
                params.push(("next_offset", &joined));
            }
        }
        let (status, body) = c.get("/admin/v2/logs/authentication", &params).await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        let resp = &body["response"];
        let total = resp["metadata"]["total_objects"].as_u64().unwrap() as usize;
        for e in resp["authlogs"].as_array().unwrap() {
            let iso = e["isotimestamp"].as_str().unwrap();
            assert!(iso.ends_with("+00:00") && iso.len() == 32, "{iso}");
            out.push((
                e["timestamp"].as_i64().unwrap(),
                e["txid"].as_str().unwrap().to_string(),
            ));
        }
        match resp["metadata"]["next_offset"].as_array() {
            Some(pair) => {
                let last = resp["authlogs"].as_array().unwrap().last().unwrap();
                assert_eq!(
                    pair[1], last["txid"],
                    "next_offset names the page's last event"
                );
                assert_eq!(
                    pair[0].as_str().unwrap().parse::<i64>().unwrap() / 1000,
                    last["timestamp"].as_i64().unwrap()
                );
                offset = Some((
                    pair[0].as_str().unwrap().to_string(),
                    pair[1].as_str().unwrap().to_string(),
                ));
            }
            None => {
                assert_eq!(
                    out.len(),
                    total,
                    "total_objects matches what paging delivered"
                );
                return (out, pages);
            }
        }
    }
}

#[tokio::test]
async fn paging_is_complete_and_ordered_both_ways() {
    let sim = fixed_sim(30_000).await;
    let c = Client::new(&sim, sim.admin_log_only());
    let now = sim.now_ms();
    let min = now - 29 * 86_400_000;
    let (asc, pages) = collect(&c, min, now - 2 * MIN, "ts:asc", false).await;
    assert!(pages > 20, "{pages} pages");
    let txids: BTreeSet<String> = asc.iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(txids.len(), asc.len(), "no duplicates");
    assert!(asc.windows(2).all(|w| w[0].0 <= w[1].0));
    let expected: BTreeSet<String> = sim.visible_auth_txids();
    assert!(txids.is_subset(&expected));

    let (desc, _) = collect(&c, min, now - 2 * MIN, "ts:desc", true).await;
    assert!(desc.windows(2).all(|w| w[0].0 >= w[1].0));
    let desc_set: BTreeSet<String> = desc.iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(desc_set, txids);

    // Same-millisecond bursts page correctly through the (ms, txid) cursor.
    let user = sim.scenario_users("DUO-01")[0].clone();
    let burst: BTreeSet<String> = sim
        .add_auth_events(&user, now - 10 * MIN, 2500)
        .into_iter()
        .collect();
    let (burst_page, pages) = collect(&c, now - 10 * MIN, now - 10 * MIN + 1, "ts:asc", true).await;
    assert!(pages >= 3);
    let got: BTreeSet<String> = burst_page.into_iter().map(|(_, t)| t).collect();
    assert!(burst.is_subset(&got));
}

#[tokio::test]
async fn events_arrive_up_to_two_minutes_late_each_at_its_own_time() {
    let sim = fixed_sim(20_000).await;
    let c = Client::new(&sim, sim.admin_log_only());
    let t0 = sim.now_ms();
    let user = sim.scenario_users("DUO-03")[0].clone();
    let added: Vec<String> = sim.add_auth_events(&user, t0 - MIN, 300);
    let arrival = |tx: &String| sim.auth_arrival_ms(tx).expect("an added event");
    let arrived_by = |at: i64| -> BTreeSet<String> {
        added
            .iter()
            .filter(|tx| arrival(tx) <= at)
            .cloned()
            .collect()
    };
    for tx in &added {
        let delay = arrival(tx) - (t0 - MIN);
        assert!((0..=2 * MIN).contains(&delay), "delay {delay} ms");
    }
    let ids = |page: &[(i64, String)]| -> BTreeSet<String> {
        page.iter().map(|(_, t)| t.clone()).collect()
    };

    // Asked up to `now`, the log holds the events that have arrived so far:
    // most of the minute-old ones, not all.
    let (early, _) = collect(&c, t0 - 30 * MIN, t0, "ts:asc", false).await;
    let early_added: BTreeSet<String> = ids(&early)
        .into_iter()
        .filter(|t| added.contains(t))
        .collect();
    assert_eq!(early_added, arrived_by(t0));
    assert!(
        !early_added.is_empty() && early_added.len() < added.len(),
        "{} of {} arrived within a minute",
        early_added.len(),
        added.len()
    );

    // A collector that asked up to `now` and resumes after the newest event
    // it saw (`timestamp` is in seconds) loses the stragglers for good...
    let resume_after = early
        .iter()
        .map(|(secs, _)| *secs * 1000 + 999)
        .max()
        .unwrap();
    sim.advance_clock(3 * MIN);
    let (naive_next, _) = collect(
        &c,
        resume_after + 1,
        sim.now_ms() - 2 * MIN,
        "ts:asc",
        false,
    )
    .await;
    let naive: BTreeSet<String> = early_added.union(&ids(&naive_next)).cloned().collect();
    let lost: BTreeSet<String> = added
        .iter()
        .filter(|t| !naive.contains(*t))
        .cloned()
        .collect();
    assert!(
        !lost.is_empty(),
        "some events arrived after the naive collector moved on"
    );
    assert!(lost.iter().all(|t| arrival(t) > t0));

    // ...while the window that stays two minutes behind was complete the
    // first time it was asked, and asking it again later changes nothing.
    sim.advance_clock(-3 * MIN);
    let (strict_then, _) = collect(&c, t0 - 30 * MIN, t0 - 2 * MIN, "ts:asc", false).await;
    sim.advance_clock(3 * MIN);
    let (strict_now, _) = collect(&c, t0 - 30 * MIN, t0 - 2 * MIN, "ts:asc", false).await;
    assert_eq!(strict_then, strict_now);
    let (all, _) = collect(&c, t0 - 30 * MIN, sim.now_ms() - 2 * MIN, "ts:asc", false).await;
    let added_set: BTreeSet<String> = added.iter().cloned().collect();
    assert!(added_set.is_subset(&ids(&all)));
    assert!(added_set.is_subset(&sim.visible_auth_txids()));
}

#[tokio::test]
async fn window_validation_matches_duo() {
    let sim = fixed_sim(1000).await;
    let c = Client::new(&sim, sim.admin_log_only());
    let now = sim.now_ms();
    let path = "/admin/v2/logs/authentication";
    let s = |v: i64| v.to_string();

    let (status, body) = c.get(path, &[("maxtime", &s(now))]).await;
    assert_eq!((status, code(&body)), (400, 40001), "{body}");
    let (status, body) = c
        .get(
            path,
            &[("mintime", &s(now / 1000 - 3600)), ("maxtime", &s(now))],
        )
        .await;
    assert_eq!((status, code(&body)), (400, 40002));
    assert_eq!(
        body["message_detail"],
        "'mintime' must be a timestamp in milliseconds"
    );
    let (_, body) = c
        .get(
            path,
            &[
                ("mintime", &s(now - 181 * 86_400_000)),
                ("maxtime", &s(now)),
            ],
        )
        .await;
    assert_eq!(
        body["message_detail"],
        "mintime must be within the past 180 days"
    );
    let (_, body) = c
        .get(
            path,
            &[
                ("mintime", &s(now - 179 * 86_400_000)),
                ("maxtime", &s(now)),
            ],
        )
        .await;
    assert_eq!(body["stat"], "OK");
    let (_, body) = c
        .get(
            path,
            &[
                ("mintime", &s(now - MIN)),
                ("maxtime", &s(now)),
                ("limit", "1001"),
            ],
        )
        .await;
    assert_eq!(
        (code(&body), body["message_detail"].as_str()),
        (40002, Some("limit"))
    );
    let (_, body) = c
        .get(
            path,
            &[
                ("mintime", &s(now - MIN)),
                ("maxtime", &s(now)),
                ("sort", "asc"),
            ],
        )
        .await;
    assert_eq!(code(&body), 40002);
    let (_, body) = c
        .get(
            path,
            &[
                ("mintime", &s(now - MIN)),
                ("maxtime", &s(now)),
                ("next_offset", "garbage"),
            ],
        )
        .await;
    assert_eq!(code(&body), 40002);
}

#[tokio::test]
async fn inventory_offset_paging_and_other_logs() {
    let sim = fixed_sim(5000).await;
    let c = Client::new(&sim, sim.admin_read_only());
    let mut users = Vec::new();
    let mut offset = 0u64;
    loop {
        let (status, body) = c
            .get(
                "/admin/v1/users",
                &[("limit", "30"), ("offset", &offset.to_string())],
            )
            .await;
        assert_eq!(status, 200);
        users.extend(
            body["response"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["username"].as_str().unwrap().to_string()),
        );
        if offset == 0 {
            assert!(body["metadata"].get("prev_offset").is_none());
        }
        match body["metadata"]["next_offset"].as_u64() {
            Some(n) => offset = n,
            None => break,
        }
    }
    assert_eq!(users, sim.usernames());
    assert_eq!(
        code(&c.get("/admin/v1/users", &[("limit", "301")]).await.1),
        40002
    );
    let (_, phones) = c.get("/admin/v1/phones", &[("limit", "500")]).await;
    let shared = phones["response"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["users"].as_array().unwrap().len() >= 2)
        .count();
    assert!(shared >= 1, "a phone is shared by two users");
    assert_eq!(c.get("/admin/v1/endpoints", &[]).await.0, 200);

    let now = sim.now_ms();
    let (min, max) = (
        (now - 29 * 86_400_000).to_string(),
        (now - 2 * MIN).to_string(),
    );
    let (status, body) = c
        .get(
            "/admin/v2/logs/telephony",
            &[
                ("mintime", &min),
                ("maxtime", &max),
                ("limit", "50"),
                ("sort", "ts:asc"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let next = body["response"]["metadata"]["next_offset"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(next.contains(','));
    assert_eq!(
        body["response"]["metadata"]["total_objects"]["relation"],
        "eq"
    );
    let (_, page2) = c
        .get(
            "/admin/v2/logs/telephony",
            &[
                ("mintime", &min),
                ("maxtime", &max),
                ("limit", "50"),
                ("sort", "ts:asc"),
                ("next_offset", &next),
            ],
        )
        .await;
    let first: Vec<&str> = body["response"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["telephony_id"].as_str().unwrap())
        .collect();
    assert!(
        page2["response"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| !first.contains(&i["telephony_id"].as_str().unwrap()))
    );
    let (_, admin) = c
        .get(
            "/admin/v1/logs/administrator",
            &[("mintime", &(now / 1000 - 7 * 86_400).to_string())],
        )
        .await;
    assert!(!admin["response"].as_array().unwrap().is_empty());
}
