//! Schedules and collection leases.

use super::*;

fn store_with(names: &[&str]) -> (tempfile::TempDir, Store, Vec<IntegrationId>) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let ids = names
        .iter()
        .map(|name| {
            store
                .create_integration(&new_integration("acme", name))
                .unwrap()
                .id
        })
        .collect();
    (dir, store, ids)
}

#[test]
fn a_new_integration_is_due_at_once_every_five_minutes() {
    let (_dir, store, ids) = store_with(&["a"]);
    let schedule = store.schedule(ids[0]).unwrap();
    assert_eq!(schedule.interval_ms, DEFAULT_INTERVAL_MS);
    assert_eq!(schedule.tenant, "acme");
    assert!(schedule.next_due_ms <= store.now_ms());
    assert_eq!(store.due(store.now_ms(), 10).unwrap(), vec![schedule]);
    assert!(matches!(store.schedule(404), Err(StoreError::NotFound(_))));
}

#[test]
fn one_owner_holds_a_lease_until_it_expires_or_is_released() {
    let (dir, store, ids) = store_with(&["a"]);
    let id = ids[0];
    // A second handle on the same file: another process.
    let other = open(dir.path());
    store.record_collection(id, 0, 0, None, &[]).unwrap();
    assert!(store.acquire_lease(id, "host-1", 1_000, 30_000).unwrap());
    assert!(!other.acquire_lease(id, "host-2", 2_000, 30_000).unwrap());
    assert!(
        other.due(2_000, 10).unwrap().is_empty(),
        "leased: not due for others"
    );
    assert_eq!(other.due(31_000, 10).unwrap().len(), 1, "due once expired");
    // The holder extends it.
    assert!(store.acquire_lease(id, "host-1", 20_000, 30_000).unwrap());
    assert!(!other.acquire_lease(id, "host-2", 40_000, 30_000).unwrap());
    // A holder that died: the lease expires and another process takes it.
    assert!(other.acquire_lease(id, "host-2", 50_000, 30_000).unwrap());
    let held = store.schedule(id).unwrap();
    assert_eq!(held.lease_owner.as_deref(), Some("host-2"));
    assert_eq!(held.lease_expires_ms, Some(80_000));
    // Only the holder can release it.
    store.release_lease(id, "host-1").unwrap();
    assert!(!store.acquire_lease(id, "host-1", 60_000, 30_000).unwrap());
    other.release_lease(id, "host-2").unwrap();
    assert!(store.acquire_lease(id, "host-1", 60_000, 30_000).unwrap());
    assert!(matches!(
        store.acquire_lease(404, "host-1", 0, 1),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn a_dead_holders_lease_is_taken_over_only_from_that_holder() {
    let (_dir, store, ids) = store_with(&["a"]);
    let id = ids[0];
    assert!(store.acquire_lease(id, "dead", 1_000, 30_000).unwrap());
    // Not from someone who does not hold it.
    assert!(
        !store
            .take_over_lease(id, "someone", "new", 2_000, 30_000)
            .unwrap()
    );
    assert!(
        store
            .take_over_lease(id, "dead", "new", 2_000, 30_000)
            .unwrap()
    );
    let held = store.schedule(id).unwrap();
    assert_eq!(held.lease_owner.as_deref(), Some("new"));
    assert_eq!(held.lease_expires_ms, Some(32_000));
    // The dead holder's name no longer takes anything.
    assert!(
        !store
            .take_over_lease(id, "dead", "third", 3_000, 30_000)
            .unwrap()
    );
}

#[test]
fn runs_move_the_next_due_time_and_count_failures_in_a_row() {
    let (_dir, store, ids) = store_with(&["a", "b"]);
    let (a, b) = (ids[0], ids[1]);
    let failed = store
        .record_collection(a, 1_000, 61_000, Some("upstream said 429"), &[])
        .unwrap();
    assert_eq!(
        (failed.failures, failed.last_error.as_deref()),
        (1, Some("upstream said 429"))
    );
    let failed = store
        .record_collection(a, 2_000, 62_000, Some("again"), &[])
        .unwrap();
    assert_eq!(failed.failures, 2);
    let ok = store
        .record_collection(a, 3_000, 303_000, None, &[])
        .unwrap();
    assert_eq!(
        (ok.failures, ok.last_error, ok.next_due_ms),
        (0, None, 303_000)
    );
    assert_eq!(ok.last_finished_ms, Some(3_000));

    // Due by time, most overdue first; b has never run.
    store
        .record_collection(b, 1_000, 100_000, None, &[])
        .unwrap();
    let due: Vec<_> = store
        .due(400_000, 10)
        .unwrap()
        .iter()
        .map(|s| s.integration_id)
        .collect();
    assert_eq!(due, [b, a]);
    assert_eq!(store.due(200_000, 10).unwrap().len(), 1);
    assert_eq!(store.due(400_000, 1).unwrap().len(), 1);

    // A new interval counts from the last run.
    let changed = store.set_interval(a, 60_000, None).unwrap();
    assert_eq!(changed.next_due_ms, 63_000);
    // Or at the time the caller worked out (a plugin's sources).
    let changed = store.set_interval(a, 120_000, Some(70_000)).unwrap();
    assert_eq!(
        (changed.interval_ms, changed.next_due_ms),
        (120_000, 70_000)
    );
    assert!(matches!(
        store.set_interval(a, 0, None),
        Err(StoreError::Invalid(_))
    ));
}

#[test]
fn a_success_records_its_sources_and_a_failure_records_none() {
    let (_dir, store, ids) = store_with(&["a", "b"]);
    let (a, b) = (ids[0], ids[1]);
    assert!(store.source_collections(a).unwrap().is_empty());
    store
        .record_collection(a, 1_000, 2_000, None, &["user", "authentication_log"])
        .unwrap();
    store
        .record_collection(a, 5_000, 6_000, None, &["authentication_log"])
        .unwrap();
    store
        .record_collection(a, 9_000, 10_000, Some("429"), &["user"])
        .unwrap();
    let seen = |id| {
        store
            .source_collections(id)
            .unwrap()
            .into_iter()
            .map(|c| (c.source, c.last_collected_ms))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        seen(a),
        [
            ("authentication_log".to_string(), 5_000),
            ("user".to_string(), 1_000)
        ]
    );
    assert!(seen(b).is_empty(), "another integration's sources");
    store.remove_integration(a).unwrap();
    assert!(seen(a).is_empty(), "removed with its integration");
}

#[test]
fn integrations_from_before_schedules_are_due_at_once() {
    let dir = tempfile::tempdir().unwrap();
    database_at_version(dir.path(), 5, "");
    let store = open(dir.path());
    let schedule = store.schedule(1).unwrap();
    assert_eq!(
        (schedule.next_due_ms, schedule.interval_ms),
        (0, DEFAULT_INTERVAL_MS)
    );
}

#[test]
fn a_fenced_write_lands_only_while_its_holder_holds_the_lease() {
    let (dir, store, ids) = store_with(&["a"]);
    let id = ids[0];
    let other = open(dir.path());
    let events = |ids: &[&str]| {
        let records: Vec<_> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| record("duo.authentication_log", id, 1_000 + i as i64, "success"))
            .collect();
        CheckedRecords::check(RecordClass::Event, &records).unwrap()
    };
    assert!(store.acquire_lease(id, "host-1", 1_000, 30_000).unwrap());
    store
        .commit_fenced(id, "auth", &events(&["e1", "e2"]), "cp-1", "host-1")
        .unwrap();
    store
        .set_checkpoint_fenced(id, "users", "u-1", "host-1")
        .unwrap();

    // host-1 stalls past its lease; host-2 takes the integration over.
    assert!(other.acquire_lease(id, "host-2", 40_000, 30_000).unwrap());
    for refused in [
        store
            .commit_fenced(id, "auth", &events(&["e3"]), "cp-2", "host-1")
            .map(|_| ()),
        store.set_checkpoint_fenced(id, "users", "u-2", "host-1"),
    ] {
        let err = refused.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert!(err.to_string().contains("held by host-2 now"), "{err}");
    }
    // Nothing of the refused writes landed: no event, no checkpoint.
    assert_eq!(all_records(&store, id).len(), 2);
    assert_eq!(
        store.checkpoint(id, "auth").unwrap().as_deref(),
        Some("cp-1")
    );
    assert_eq!(
        store.checkpoint(id, "users").unwrap().as_deref(),
        Some("u-1")
    );
    // The holder writes; once released, a fenced write is refused too.
    other
        .commit_fenced(id, "auth", &events(&["e3"]), "cp-2", "host-2")
        .unwrap();
    other.release_lease(id, "host-2").unwrap();
    assert!(matches!(
        other.set_checkpoint_fenced(id, "auth", "cp-3", "host-2"),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.checkpoint(id, "auth").unwrap().as_deref(),
        Some("cp-2")
    );
}
