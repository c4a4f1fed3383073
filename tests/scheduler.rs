//! Scheduled collection on a virtual clock: caps overall and per tenant,
//! the next run one interval (± jitter) away, backoff with the reason kept,
//! and leases that keep two platforms on one data directory (two `serve`
//! processes) from collecting the same integration at once.

use std::collections::BTreeSet;
use std::sync::Arc;

use oort_e2e::duo::{auth_ids, duo_request, small_sim, start_sim, sync_clock};
use oort_e2e::env::duo_limits;
use oort_platform::data::SecretValue;
use oort_platform::scheduler::{Scheduler, SchedulerConfig};
use oort_platform::{ErrorKind, IntegrationUpdate, NoProgress, Platform, Requester};
use oort_store::prelude::*;
use oort_store::{DEFAULT_INTERVAL_MS, Integration, RunStatus, Store};
use oort_time::{Clock, ManualClock};

const JITTER_MS: i64 = DEFAULT_INTERVAL_MS / 10;

async fn add(
    platform: &Platform,
    sim: &duo_sim::Simulator,
    tenant: &str,
    name: &str,
    skey: Option<&str>,
) -> Integration {
    let mut creds = sim.admin_read_only();
    if let Some(skey) = skey {
        creds.skey = skey.into();
    }
    let mut request = duo_request(sim, name, &creds);
    request.tenant = tenant.into();
    platform
        .add_integration(&Requester::local("tests"), request)
        .await
        .unwrap_or_else(|e| panic!("add {name}: {e}"))
}

fn config(max_concurrent: usize, max_per_tenant: usize) -> SchedulerConfig {
    SchedulerConfig {
        max_concurrent,
        max_per_tenant,
        ..SchedulerConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_integrations_run_under_the_caps_then_one_interval_later() {
    let sim = start_sim(small_sim(5, 40)).await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(oort_time::now_ms()));
    let platform =
        Arc::new(Platform::open_with_clock(dir.path(), duo_limits(), clock.clone()).unwrap());
    let mut big = Vec::new();
    for name in ["a", "b", "c"] {
        big.push(add(&platform, &sim, "big", name, None).await);
    }
    let small = add(&platform, &sim, "small", "d", None).await;
    let scheduler = Scheduler::new(platform.clone(), config(3, 2)).unwrap();
    let store = Store::open(dir.path()).unwrap();

    // All four are due; three may run, two of them big's: small's is not
    // starved by big's backlog.
    let started: BTreeSet<_> = scheduler.tick().unwrap().into_iter().collect();
    assert_eq!(started.len(), 3, "{started:?}");
    assert!(started.contains(&small.id), "{started:?}");
    assert_eq!(big.iter().filter(|i| started.contains(&i.id)).count(), 2);
    // Running ones are not started twice.
    let again = scheduler.tick().unwrap();
    assert!(again.iter().all(|id| !started.contains(id)), "{again:?}");
    scheduler.wait_idle().await;

    let now = clock.now_ms();
    for id in &started {
        let schedule = store.schedule(*id).unwrap();
        assert_eq!(schedule.failures, 0, "{schedule:?}");
        assert_eq!(schedule.lease_owner, None, "the lease is released");
        let wait = schedule.next_due_ms - now;
        assert!(
            (DEFAULT_INTERVAL_MS - JITTER_MS..=DEFAULT_INTERVAL_MS + JITTER_MS).contains(&wait),
            "next run in {wait} ms"
        );
        let (ids, rows) = auth_ids(
            &store,
            &platform
                .integration(&schedule.tenant, &name_of(&store, *id))
                .unwrap(),
        );
        assert!(
            !ids.is_empty() && ids.len() == rows,
            "collected, no duplicates"
        );
    }
    // The one left out starts now; the others are not due yet.
    let left = scheduler.tick().unwrap();
    let rest: Vec<_> = big
        .iter()
        .map(|i| i.id)
        .filter(|id| !started.contains(id))
        .collect();
    assert_eq!(left, rest);
    scheduler.wait_idle().await;
    assert!(scheduler.tick().unwrap().is_empty(), "nothing due");

    // One interval (and the jitter) later, every one is due again and
    // collects only what is new.
    clock.advance_ms(DEFAULT_INTERVAL_MS + JITTER_MS + 1);
    sync_clock(&sim);
    let second: BTreeSet<_> = scheduler.tick().unwrap().into_iter().collect();
    assert_eq!(second.len(), 3);
    assert!(second.contains(&small.id), "{second:?}");
    scheduler.wait_idle().await;
    let runs = store.runs(small.id, 10).unwrap();
    assert_eq!(runs.len(), 2, "{runs:?}");
    let (ids, rows) = auth_ids(&store, &small);
    assert_eq!(ids.len(), rows, "nothing stored twice");
}

/// The record kinds the integration's last run committed.
fn kinds_of_last_run(store: &Store, integration: &Integration) -> BTreeSet<String> {
    let runs = store.runs(integration.id, 1).unwrap();
    let summary = runs[0].summary.as_ref().expect("the run succeeded");
    summary["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| pair[0].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_source_is_collected_at_its_own_interval() {
    const MINUTE: i64 = 60_000;
    let sim = start_sim(small_sim(5, 40)).await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(oort_time::now_ms()));
    let platform =
        Arc::new(Platform::open_with_clock(dir.path(), duo_limits(), clock.clone()).unwrap());
    let a = add(&platform, &sim, "acme", "a", None).await;
    let scheduler = Scheduler::new(platform.clone(), config(1, 1)).unwrap();
    let store = Store::open(dir.path()).unwrap();

    // The Duo plugin's inventories go hourly, its logs at the integration's
    // five minutes; the schedule shows each.
    let view = platform.schedule(&a).unwrap();
    let every: Vec<(&str, i64, &str)> = view
        .sources
        .iter()
        .map(|s| (s.source.as_str(), s.interval_ms, s.interval_of.as_str()))
        .collect();
    assert_eq!(
        every[..3],
        [
            ("authentication_log", DEFAULT_INTERVAL_MS, "integration"),
            ("user", 60 * MINUTE, "plugin"),
            ("phone", 60 * MINUTE, "plugin"),
        ]
    );
    assert!(view.sources.iter().all(|s| s.last_collected.is_none()));

    // The first run collects every source.
    assert_eq!(scheduler.tick().unwrap(), [a.id]);
    scheduler.wait_idle().await;
    let first = kinds_of_last_run(&store, &a);
    for kind in ["duo.authentication_log", "duo.user", "duo.phone"] {
        assert!(first.contains(kind), "{kind}: {first:?}");
    }
    let started = clock.now_ms();

    // Five minutes on, the logs only: the users are not fetched again.
    clock.advance_ms(DEFAULT_INTERVAL_MS + JITTER_MS + 1);
    sync_clock(&sim);
    sim.add_auth_events(&sim.usernames()[0], sim.now_ms() - 3 * MINUTE, 2);
    let before = sim.request_count();
    assert_eq!(scheduler.tick().unwrap(), [a.id]);
    scheduler.wait_idle().await;
    let second = kinds_of_last_run(&store, &a);
    assert!(second.contains("duo.authentication_log"), "{second:?}");
    for kind in ["duo.user", "duo.phone", "duo.info_summary"] {
        assert!(
            !second.contains(kind),
            "{kind} again after 5 min: {second:?}"
        );
    }
    let schedule = store.schedule(a.id).unwrap();
    let wait = schedule.next_due_ms - clock.now_ms();
    assert!(
        (DEFAULT_INTERVAL_MS - JITTER_MS..=DEFAULT_INTERVAL_MS + JITTER_MS).contains(&wait),
        "the logs are due again in {wait} ms"
    );
    assert!(sim.request_count() > before, "the logs were fetched");

    // An hour after the first run, the inventories come along again.
    clock.advance_ms(started + 55 * MINUTE - clock.now_ms());
    sync_clock(&sim);
    assert_eq!(scheduler.tick().unwrap(), [a.id]);
    scheduler.wait_idle().await;
    let hourly = kinds_of_last_run(&store, &a);
    for kind in ["duo.authentication_log", "duo.user", "duo.phone"] {
        assert!(hourly.contains(kind), "{kind}: {hourly:?}");
    }
    let view = platform.schedule(&a).unwrap();
    let user = view.sources.iter().find(|s| s.source == "user").unwrap();
    assert_eq!(
        user.last_collected.as_deref(),
        Some(oort_time::rfc3339_from_ms(clock.now_ms()).as_str())
    );
}

fn name_of(store: &Store, id: i64) -> String {
    store.integration_by_id(id).unwrap().unwrap().name
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_integration_backs_off_and_says_why() {
    let sim = start_sim(small_sim(3, 10)).await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(oort_time::now_ms()));
    let platform =
        Arc::new(Platform::open_with_clock(dir.path(), duo_limits(), clock.clone()).unwrap());
    // Valid in form, refused by Duo's signature check.
    let wrong = "x".repeat(40);
    let broken = add(&platform, &sim, "acme", "broken", Some(&wrong)).await;
    let scheduler = Scheduler::new(platform.clone(), config(2, 2)).unwrap();
    let store = Store::open(dir.path()).unwrap();

    let mut waits = Vec::new();
    for _ in 0..3 {
        assert_eq!(scheduler.tick().unwrap(), [broken.id]);
        scheduler.wait_idle().await;
        let schedule = store.schedule(broken.id).unwrap();
        let reason = schedule
            .last_error
            .clone()
            .expect("the failure is recorded");
        assert!(!reason.contains(&wrong), "the secret is not in the reason");
        waits.push(schedule.next_due_ms - clock.now_ms());
        assert!(
            scheduler.tick().unwrap().is_empty(),
            "not retried before its time"
        );
        clock.advance_ms(schedule.next_due_ms - clock.now_ms());
    }
    let failures = store.schedule(broken.id).unwrap().failures;
    assert_eq!(failures, 3);
    // 5, 10, 20 minutes, each ± 10%.
    for (wait, minutes) in waits.iter().zip([5, 10, 20]) {
        let base = minutes * 60_000;
        assert!(
            (base - base / 10..=base + base / 10).contains(wait),
            "{waits:?}"
        );
    }

    // The operator reads why, rotates the key, and the next run recovers.
    let rotated = platform
        .update_integration(
            &Requester::local("tests"),
            &broken,
            IntegrationUpdate {
                secrets: vec![(
                    "secret_key".into(),
                    Some(SecretValue::new(sim.admin_read_only().skey.into_bytes())),
                )],
                ..IntegrationUpdate::default()
            },
        )
        .await
        .unwrap();
    sync_clock(&sim);
    assert_eq!(scheduler.tick().unwrap(), [rotated.id]);
    scheduler.wait_idle().await;
    let schedule = store.schedule(broken.id).unwrap();
    assert_eq!((schedule.failures, schedule.last_error), (0, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_integration_is_not_scheduled_and_is_due_at_once_when_enabled() {
    let sim = start_sim(small_sim(3, 10)).await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(oort_time::now_ms()));
    let platform =
        Arc::new(Platform::open_with_clock(dir.path(), duo_limits(), clock.clone()).unwrap());
    let paused = add(&platform, &sim, "acme", "paused", None).await;
    let running = add(&platform, &sim, "acme", "running", None).await;
    let by = Requester::local("tests");
    platform.set_enabled(&by, &paused, false).unwrap();
    let scheduler = Scheduler::new(platform.clone(), config(4, 4)).unwrap();

    assert_eq!(scheduler.tick().unwrap(), [running.id]);
    scheduler.wait_idle().await;
    clock.advance_ms(DEFAULT_INTERVAL_MS * 3);
    sync_clock(&sim);
    assert_eq!(scheduler.tick().unwrap(), [running.id], "still skipped");
    scheduler.wait_idle().await;
    let err = platform
        .collect(&paused, Default::default(), &NoProgress)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    let store = Store::open(dir.path()).unwrap();
    assert!(
        store.runs(paused.id, 10).unwrap().is_empty(),
        "no run at all"
    );

    platform.set_enabled(&by, &paused, true).unwrap();
    assert_eq!(scheduler.tick().unwrap(), [paused.id]);
    scheduler.wait_idle().await;
    let (ids, rows) = auth_ids(&store, &paused);
    assert!(
        !ids.is_empty() && ids.len() == rows,
        "collected once enabled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_platforms_on_one_data_directory_never_collect_one_integration_at_once() {
    let sim = start_sim(small_sim(5, 2_000)).await;
    let dir = tempfile::tempdir().unwrap();
    let first = Arc::new(Platform::open_with(dir.path(), duo_limits()).unwrap());
    let mut all = BTreeSet::new();
    for name in ["a", "b", "c", "d"] {
        all.insert(add(&first, &sim, "acme", name, None).await.id);
    }
    let second = Arc::new(Platform::open_with(dir.path(), duo_limits()).unwrap());
    let one = Scheduler::new(first.clone(), config(2, 2)).unwrap();
    let two = Scheduler::new(second.clone(), config(4, 4)).unwrap();
    // Duo answers slowly, so the collections overlap.
    sim.inject(duo_sim::Fault::Slow {
        count: 8,
        delay_ms: 400,
    });

    // The first takes two leases; the second sees only the other two due.
    let by_one: BTreeSet<_> = one.tick().unwrap().into_iter().collect();
    let by_two: BTreeSet<_> = two.tick().unwrap().into_iter().collect();
    assert_eq!(by_one.len(), 2, "{by_one:?}");
    assert!(by_one.is_disjoint(&by_two), "{by_one:?} and {by_two:?}");
    let union: BTreeSet<_> = by_one.union(&by_two).copied().collect();
    assert_eq!(union, all);

    // While the first holds a lease, a Collect Now elsewhere is a conflict.
    let busy = *by_one.first().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let integration = store.integration_by_id(busy).unwrap().unwrap();
    let err = second
        .collect(&integration, Default::default(), &NoProgress)
        .await
        .expect_err("collected twice at once");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(err.to_string().contains("is being collected by"), "{err}");

    one.wait_idle().await;
    two.wait_idle().await;
    for id in &all {
        let runs = store.runs(*id, 10).unwrap();
        assert_eq!(runs.len(), 1, "integration {id} ran {} times", runs.len());
        assert_eq!(store.schedule(*id).unwrap().lease_owner, None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_collect_now_reports_its_progress_and_ends_like_a_scheduled_run() {
    let sim = start_sim(small_sim(5, 3_000)).await;
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(Platform::open_with(dir.path(), duo_limits()).unwrap());
    let integration = add(&platform, &sim, "acme", "corp", None).await;
    let store = Store::open(dir.path()).unwrap();
    // Each page answers slowly, so the run is seen in the middle.
    sim.set_latency_ms(300);

    let id = platform
        .queue_collection(integration.clone(), Default::default())
        .expect("queued");
    // The run and the lease exist as soon as it is queued: a second Collect
    // Now, or the scheduler, is kept off.
    assert_eq!(
        platform.run(&integration, id).unwrap().status,
        RunStatus::Running
    );
    let err = platform
        .queue_collection(integration.clone(), Default::default())
        .expect_err("queued twice at once");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    let scheduler = Scheduler::new(platform.clone(), config(4, 4)).unwrap();
    assert_eq!(scheduler.tick().unwrap(), Vec::<i64>::new());

    // Progress shows up on the run while it runs.
    let mut seen_running = None;
    for _ in 0..400 {
        let run = platform.run(&integration, id).unwrap();
        if run.status != RunStatus::Running {
            break;
        }
        if run.progress.is_some() {
            seen_running = run.progress;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let seen_running = seen_running.expect("no progress while the run was running");
    assert!(
        seen_running["pages"].as_u64().unwrap() >= 1,
        "{seen_running}"
    );

    platform.wait_for_queued().await;
    let run = platform.run(&integration, id).unwrap();
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    let progress = run.progress.expect("the final progress is kept");
    let (ids, rows) = auth_ids(&store, &integration);
    assert_eq!(ids.len(), rows, "an event stored twice");
    assert_eq!(
        progress["records"]["authentication_log"].as_u64(),
        Some(rows as u64),
        "{progress}"
    );
    assert!(progress["pages"].as_u64().unwrap() >= 3, "{progress}");
    assert!(run.summary.is_some());
    // It moved the schedule and let go of the lease.
    let schedule = store.schedule(integration.id).unwrap();
    assert_eq!(schedule.lease_owner, None);
    assert!(schedule.last_finished_ms.is_some());
    assert_eq!(schedule.failures, 0);

    // Another integration's run is not found through this one.
    let other = add(&platform, &sim, "acme", "other", None).await;
    let err = platform.run(&other, id).expect_err("a foreign run");
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

/// A scheduled collection of 6,000 auth events (6 pages) under way, each
/// answer slowed so the test can act while it runs.
struct SlowRun {
    sim: duo_sim::Simulator,
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    platform: Arc<Platform>,
    integration: Integration,
    store: Store,
    scheduler: Scheduler,
    /// When the integration was due as the run started.
    due: i64,
}

async fn slow_scheduled_run() -> SlowRun {
    let sim = start_sim(small_sim(5, 6_000)).await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(oort_time::now_ms()));
    let platform =
        Arc::new(Platform::open_with_clock(dir.path(), duo_limits(), clock.clone()).unwrap());
    let integration = add(&platform, &sim, "acme", "corp", None).await;
    let store = Store::open(dir.path()).unwrap();
    let scheduler = Scheduler::new(platform.clone(), config(2, 2)).unwrap();
    sim.set_latency_ms(250);
    let due = store.schedule(integration.id).unwrap().next_due_ms;
    assert_eq!(scheduler.tick().unwrap(), [integration.id]);
    SlowRun {
        sim,
        dir,
        clock,
        platform,
        integration,
        store,
        scheduler,
        due,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_ends_a_collection_between_pages_and_the_next_process_resumes_it() {
    let SlowRun {
        sim,
        dir,
        clock,
        platform,
        integration,
        store,
        scheduler,
        due,
    } = slow_scheduled_run().await;
    // What the latest run reports committed (none yet: nothing).
    let committed = |store: &Store| {
        store
            .runs(integration.id, 1)
            .unwrap()
            .first()
            .and_then(|run| run.progress.as_ref())
            .and_then(|p| p["records"]["authentication_log"].as_u64())
            .unwrap_or(0)
    };
    for _ in 0..800 {
        if committed(&store) >= 1_000 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(committed(&store) >= 1_000, "no auth page committed");
    platform.stop_collections();
    scheduler.wait_idle().await;

    // The run ended at a page boundary and says why.
    let run = store.runs(integration.id, 1).unwrap().remove(0);
    assert_eq!(run.status, RunStatus::Failed, "{run:?}");
    let error = run.error.as_deref().unwrap();
    assert!(error.contains("stopped between pages"), "{error}");
    let (ids, rows) = auth_ids(&store, &integration);
    assert_eq!(ids.len(), rows, "an event stored twice");
    assert_eq!(
        rows as u64,
        committed(&store),
        "stored what the run reported"
    );
    let visible = sim.visible_auth_txids();
    assert!(
        rows < visible.len(),
        "the stop came too late to test anything"
    );
    assert_eq!(rows % 1_000, 0, "a page was cut: {rows} events stored");
    // No failure on the schedule: still due, lease free.
    let schedule = store.schedule(integration.id).unwrap();
    assert_eq!((schedule.failures, schedule.last_error), (0, None));
    assert_eq!(schedule.next_due_ms, due);
    assert_eq!(schedule.lease_owner, None);
    // A collection started after the stop does not get going either.
    let err = platform
        .collect(&integration, Default::default(), &NoProgress)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert_eq!(auth_ids(&store, &integration).1, rows);

    // The next process collects it at once, from the checkpoint.
    sim.set_latency_ms(0);
    let restarted =
        Arc::new(Platform::open_with_clock(dir.path(), duo_limits(), clock.clone()).unwrap());
    let scheduler = Scheduler::new(restarted, config(2, 2)).unwrap();
    assert_eq!(scheduler.tick().unwrap(), [integration.id]);
    scheduler.wait_idle().await;
    let (ids, rows) = auth_ids(&store, &integration);
    assert_eq!(ids.len(), rows, "an event stored twice");
    assert_eq!(ids, visible, "events missing after the resume");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collection_that_lost_its_lease_writes_nothing_more() {
    // The data directory and the platform must outlive the run.
    let SlowRun {
        sim,
        dir: _dir,
        clock,
        platform: _platform,
        integration,
        store,
        scheduler,
        ..
    } = slow_scheduled_run().await;
    let mut holder = None;
    for _ in 0..800 {
        let stored = auth_ids(&store, &integration).1;
        holder = store.schedule(integration.id).unwrap().lease_owner;
        if stored >= 1_000 && holder.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let holder = holder.expect("the collection holds its lease");
    // Another process takes the lease over, as it would from a collector
    // that stalled past the TTL.
    let now = clock.now_ms();
    assert!(
        store
            .take_over_lease(integration.id, &holder, "intruder", now, 600_000)
            .unwrap()
    );
    let at_takeover = auth_ids(&store, &integration).1;
    scheduler.wait_idle().await;

    let run = store.runs(integration.id, 1).unwrap().remove(0);
    assert_eq!(run.status, RunStatus::Failed, "{run:?}");
    let error = run.error.unwrap_or_default();
    assert!(
        error.contains("no longer holds the collection lease"),
        "{error}"
    );
    // The page in flight at the takeover was refused whole.
    let (ids, rows) = auth_ids(&store, &integration);
    assert_eq!(rows, at_takeover, "written after the lease was lost");
    assert_eq!(ids.len(), rows);
    assert_eq!(rows % 1_000, 0, "a page was cut: {rows} events stored");
    let schedule = store.schedule(integration.id).unwrap();
    assert_eq!(
        schedule.lease_owner.as_deref(),
        Some("intruder"),
        "not released by the loser"
    );

    // Once the lease is free again, the next run resumes: nothing lost or twice.
    store.release_lease(integration.id, "intruder").unwrap();
    sim.set_latency_ms(0);
    clock.advance_ms(schedule.next_due_ms - clock.now_ms());
    assert_eq!(scheduler.tick().unwrap(), [integration.id]);
    scheduler.wait_idle().await;
    let (ids, rows) = auth_ids(&store, &integration);
    assert_eq!(ids.len(), rows, "an event stored twice");
    assert_eq!(ids, sim.visible_auth_txids());
}
