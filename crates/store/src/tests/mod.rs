//! Behaviour of the store against a real SQLite file in a temp directory.

use std::collections::BTreeMap;

use super::*;
use rusqlite::params;

use oort_model::batch::{CheckedRecords, CommitResult, RecordClass};
use oort_model::{AuthEvent, CollectedRecord, Normalized, UserAccount};

mod tokens;

const PLAINTEXT_SECRET: &str = "PLAINTEXT-skey-0123456789abcdef-must-not-leak";

pub(super) fn open(dir: &Path) -> Store {
    Store::open_with_key(dir, MasterKey::from_bytes([7; 32])).unwrap()
}

fn new_integration(tenant: &str, name: &str) -> NewIntegration {
    NewIntegration {
        tenant: tenant.into(),
        name: name.into(),
        plugin_id: "duo".into(),
        config: vec![
            ("api_host".into(), "api-test.duosecurity.com".into()),
            ("ikey".into(), "DIXXXXXXXXXXXXXXXXXX".into()),
        ],
        secrets: vec![(
            "skey".into(),
            SecretValue::new(PLAINTEXT_SECRET.as_bytes().to_vec()),
        )],
        api_base_url: Some("http://127.0.0.1:9".into()),
        granted_capabilities: vec![],
    }
}

fn record(kind: &str, id: &str, at: i64, result: &str) -> CollectedRecord {
    let normalized = Normalized::AuthEvent(AuthEvent {
        occurred_at_ms: at,
        event_id: id.into(),
        user_name: Some("alice".into()),
        result: result.into(),
        event_type: "authentication".into(),
        ..Default::default()
    });
    CollectedRecord {
        kind: kind.into(),
        id: id.into(),
        occurred_at_ms: Some(at),
        normalized,
        raw_json: format!(r#"{{"txid":"{id}","result":"{result}"}}"#),
    }
}

fn all_records(store: &Store, id: IntegrationId) -> Vec<StoredRecord> {
    let mut out = Vec::new();
    store
        .for_each_record(id, None, &mut |r| {
            out.push(r);
            Ok(())
        })
        .unwrap();
    out
}

fn file_contains(path: &Path, needle: &[u8]) -> bool {
    match std::fs::read(path) {
        Ok(bytes) => bytes.windows(needle.len()).any(|w| w == needle),
        Err(_) => false,
    }
}

fn add_integration(store: &Store, name: &str) -> IntegrationId {
    store
        .create_integration(&new_integration("default", name))
        .unwrap()
        .id
}

#[test]
fn store_is_clone_send_sync() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<Store>();
}

#[test]
fn open_creates_the_directory_and_migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested/data");
    let store = open(&data);
    let id = store
        .create_integration(&new_integration("default", "duo-prod"))
        .unwrap()
        .id;
    drop(store);
    let store = open(&data);
    let version: u32 = store
        .conn()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, migrations::latest_version());
    assert_eq!(
        store.integration_by_id(id).unwrap().unwrap().name,
        "duo-prod"
    );
    let mode: String = store
        .conn()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: bool = store
        .conn()
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert!(fk);
}

#[test]
fn open_uses_the_key_file_by_default() {
    let dir = tempfile::tempdir().unwrap();
    if std::env::var_os(crypto::MASTER_KEY_ENV).is_some() {
        return; // the environment chose the key; the key-file path is covered in crypto's tests
    }
    let store = Store::open(dir.path()).unwrap();
    let id = add_integration(&store, "a");
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.secret(id, "skey").unwrap().unwrap().expose(),
        PLAINTEXT_SECRET.as_bytes()
    );
    assert!(dir.path().join(crypto::MASTER_KEY_FILE).exists());
}

#[test]
fn integrations_round_trip_and_names_are_unique_per_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let created = store
        .create_integration(&new_integration("default", "duo-prod"))
        .unwrap();
    assert_eq!(created.tenant, "default");
    assert_eq!(
        created.config[0],
        (
            "api_host".to_string(),
            "api-test.duosecurity.com".to_string()
        )
    );
    assert_eq!(created.secret_fields, vec!["skey".to_string()]);
    assert_eq!(
        store.integration("default", "duo-prod").unwrap(),
        Some(created.clone())
    );
    assert_eq!(store.integrations(None).unwrap(), vec![created]);

    let err = store
        .create_integration(&new_integration("default", "duo-prod"))
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)));
    assert!(
        err.to_string()
            .contains("integration `duo-prod` already exists in tenant `default`"),
        "{err}"
    );

    let mut dup = new_integration("default", "x");
    dup.config.push(("ikey".into(), "again".into()));
    assert!(matches!(
        store.create_integration(&dup),
        Err(StoreError::Invalid(_))
    ));
    assert!(store.integration("default", "x").unwrap().is_none());
}

#[test]
fn tenants_are_isolated() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = store
        .create_integration(&new_integration("acme", "duo"))
        .unwrap();
    let mut other = new_integration("globex", "duo");
    other.secrets = vec![("skey".into(), SecretValue::new(b"globex-secret".to_vec()))];
    let b = store.create_integration(&other).unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(store.integrations(Some("acme")).unwrap(), vec![a.clone()]);
    assert_eq!(store.integrations(Some("globex")).unwrap(), vec![b.clone()]);
    assert_eq!(store.integrations(Some("default")).unwrap(), vec![]);

    store
        .commit_records(
            a.id,
            "auth",
            &[record("auth_log", "t1", 1, "success")],
            "c-a",
        )
        .unwrap();
    assert_eq!(all_records(&store, b.id), vec![]);
    assert_eq!(store.checkpoint(b.id, "auth").unwrap(), None);
    assert_eq!(
        store.secret(a.id, "skey").unwrap().unwrap().expose(),
        PLAINTEXT_SECRET.as_bytes()
    );
    assert_eq!(
        store.secret(b.id, "skey").unwrap().unwrap().expose(),
        b"globex-secret"
    );

    store.remove_integration(a.id).unwrap();
    assert_eq!(store.integration("globex", "duo").unwrap(), Some(b));
}

#[test]
fn secrets_never_reach_the_database_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = store
        .create_integration(&new_integration("default", "duo-prod"))
        .unwrap()
        .id;
    assert_eq!(
        store.secret(id, "skey").unwrap().unwrap().expose(),
        PLAINTEXT_SECRET.as_bytes()
    );
    assert!(store.secret(id, "nope").unwrap().is_none());
    let db = store.db_path().to_path_buf();
    let wal = db.with_extension("db-wal");
    // Before and after the WAL is folded into the main file.
    for path in [&db, &wal] {
        assert!(
            !file_contains(path, PLAINTEXT_SECRET.as_bytes()),
            "{} holds the plaintext",
            path.display()
        );
    }
    store
        .conn()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    assert!(!file_contains(&db, PLAINTEXT_SECRET.as_bytes()));
    assert!(
        file_contains(&db, b"api-test.duosecurity.com"),
        "the search must be able to find stored text"
    );
}

#[test]
fn wrong_master_key_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let id = open(dir.path())
        .create_integration(&new_integration("default", "d"))
        .unwrap()
        .id;
    let store = Store::open_with_key(dir.path(), MasterKey::from_bytes([8; 32])).unwrap();
    let err = store.secret(id, "skey").unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)));
    let text = err.to_string();
    assert!(
        text.contains("does not match") && text.contains("OORT_MASTER_KEY"),
        "{text}"
    );
    assert!(!text.contains(PLAINTEXT_SECRET));
}

#[test]
fn ciphertext_moved_to_another_integration_does_not_decrypt() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = add_integration(&store, "a");
    let mut nb = new_integration("default", "b");
    nb.secrets = vec![("skey".into(), SecretValue::new(b"b-secret".to_vec()))];
    let b = store.create_integration(&nb).unwrap().id;
    store
        .conn()
        .execute(
            "UPDATE secrets SET value = (SELECT value FROM secrets WHERE integration_id = ?1 AND field = 'skey')
             WHERE integration_id = ?2 AND field = 'skey'",
            params![a, b],
        )
        .unwrap();
    assert!(matches!(
        store.secret(b, "skey"),
        Err(StoreError::Corrupt(_))
    ));
    assert_eq!(
        store.secret(a, "skey").unwrap().unwrap().expose(),
        PLAINTEXT_SECRET.as_bytes()
    );
}

#[test]
fn an_update_replaces_the_config_and_sets_or_clears_secrets_in_one_go() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    let rotated = store
        .update_integration(
            id,
            &IntegrationChange {
                config: vec![("host".into(), "api-2.example".into())],
                set_secrets: vec![("skey".into(), SecretValue::new(b"rotated".to_vec()))],
                cleared_secrets: vec![],
            },
        )
        .unwrap();
    assert_eq!(
        rotated.config,
        vec![("host".into(), "api-2.example".into())]
    );
    assert_eq!(rotated.secret_fields, vec!["skey".to_owned()]);
    assert_eq!(
        store.secret(id, "skey").unwrap().unwrap().expose(),
        b"rotated"
    );
    let cleared = store
        .update_integration(
            id,
            &IntegrationChange {
                config: vec![],
                set_secrets: vec![],
                cleared_secrets: vec!["skey".into()],
            },
        )
        .unwrap();
    assert!(cleared.config.is_empty() && cleared.secret_fields.is_empty());
    assert!(store.secret(id, "skey").unwrap().is_none());

    // A field named twice is refused before anything is written.
    let twice = IntegrationChange {
        config: vec![("host".into(), "x".into())],
        set_secrets: vec![],
        cleared_secrets: vec!["host".into()],
    };
    assert!(matches!(
        store.update_integration(id, &twice),
        Err(StoreError::Invalid(_))
    ));
    assert!(
        store
            .integration_by_id(id)
            .unwrap()
            .unwrap()
            .config
            .is_empty()
    );
    assert!(matches!(
        store.update_integration(9999, &IntegrationChange::default()),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn a_disabled_integration_is_kept_but_never_due_and_is_due_at_once_when_enabled() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    // Collected just now, next due in an hour.
    let now = store.now_ms();
    store
        .record_collection(id, now, now + 3_600_000, None, &[])
        .unwrap();
    let disabled = store.set_enabled(id, false).unwrap();
    assert!(!disabled.enabled);
    assert!(store.due(i64::MAX, 10).unwrap().is_empty());
    assert_eq!(store.integrations(None).unwrap(), vec![disabled]);

    let enabled = store.set_enabled(id, true).unwrap();
    assert!(enabled.enabled);
    let due = store.due(store.now_ms(), 10).unwrap();
    assert_eq!(
        due.iter().map(|s| s.integration_id).collect::<Vec<_>>(),
        [id]
    );
    assert!(matches!(
        store.set_enabled(9999, false),
        Err(StoreError::NotFound(_))
    ));
}

fn commit_events(
    store: &Store,
    integration: IntegrationId,
    events: &[CollectedRecord],
    checkpoint: &str,
) -> Result<CommitResult> {
    let batch = CheckedRecords::check(RecordClass::Event, events)?;
    store.commit_checked(integration, "auth", &batch, checkpoint)
}

/// (id, raw, revision) of every record of `kind`, in time order, as the
/// store reads them back (events written a page at a time have revision 0).
fn stored_rows(
    store: &Store,
    integration: IntegrationId,
    kind: &str,
) -> Vec<(String, String, i64)> {
    let revisions: BTreeMap<String, i64> = store
        .conn()
        .prepare("SELECT id, revision FROM records WHERE integration_id = ?1 AND kind = ?2")
        .unwrap()
        .query_map(params![integration, kind], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut rows = Vec::new();
    store
        .for_each_record(integration, Some(kind), &mut |r| {
            let revision = revisions.get(&r.id).copied().unwrap_or(0);
            rows.push((r.id, r.raw.to_string(), revision));
            Ok(())
        })
        .unwrap();
    rows
}

/// Commits `records` as state records (the per-row dictionary path).
fn commit_state(
    store: &Store,
    integration: IntegrationId,
    records: &[CollectedRecord],
    checkpoint: &str,
) -> Result<CommitResult> {
    store.commit_records(integration, "inventory", records, checkpoint)
}

#[test]
fn events_are_stored_once_by_time_and_id_and_never_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    let first = [
        record("auth_log", "t1", 10, "success"),
        record("auth_log", "t2", 20, "denied"),
    ];
    let r = commit_events(&store, id, &first, "cp-1").unwrap();
    assert_eq!((r.inserted, r.updated), (2, 0));
    // t2 again (even with other content) is the event already stored.
    let second = [
        record("auth_log", "t2", 20, "fraud"),
        record("auth_log", "t3", 30, "success"),
    ];
    let r = commit_events(&store, id, &second, "cp-2").unwrap();
    assert_eq!((r.inserted, r.updated), (1, 0));
    assert_eq!(
        store.checkpoint(id, "auth").unwrap().as_deref(),
        Some("cp-2")
    );
    let rows = stored_rows(&store, id, "auth_log");
    assert_eq!(rows.len(), 3);
    assert!(rows[1].1.contains("denied") && rows[1].2 == 0, "{rows:?}");
}

#[test]
fn an_event_without_a_time_is_refused_and_nothing_is_committed() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    let mut timeless = record("auth_log", "t2", 0, "success");
    timeless.occurred_at_ms = None;
    let err = commit_events(
        &store,
        id,
        &[record("auth_log", "t1", 10, "success"), timeless],
        "cp",
    )
    .expect_err("refused");
    assert!(
        matches!(&err, StoreError::Invalid(m) if m.contains("record #1") && m.contains("no time")),
        "{err}"
    );
    assert!(stored_rows(&store, id, "auth_log").is_empty());
    assert_eq!(store.checkpoint(id, "auth").unwrap(), None);
}

/// A database written by an older build: schema `version`, integration 1
/// of tenant 1, then `records_sql`.
pub(super) fn database_at_version(dir: &Path, version: u32, records_sql: &str) {
    let mut conn = rusqlite::Connection::open(dir.join(DB_FILE)).unwrap();
    migrations::migrate_to(&mut conn, version).unwrap();
    conn.execute_batch(
        r#"INSERT INTO tenants (id, name, created_at_ms) VALUES (1, 'default', 0);
           INSERT INTO integrations (id, tenant_id, name, plugin_id, created_at_ms) VALUES (1, 1, 'a', 'duo', 0);"#,
    )
    .unwrap();
    conn.execute_batch(records_sql).unwrap();
}

#[test]
fn a_version_1_database_keeps_its_records_and_events_dedupe_against_them() {
    let dir = tempfile::tempdir().unwrap();
    database_at_version(
        dir.path(),
        1,
        r#"INSERT INTO records (integration_id, kind, id, occurred_at_ms, normalized, raw, revision)
             VALUES (1, 'auth_log', 't1', 10, 'null', '{"old":1}', 0),
                    (1, 'user', 'u1', NULL, 'null', '{"old":2}', 3);"#,
    );
    let store = open(dir.path());
    // The event collected before the upgrade is not stored a second time.
    let r = commit_events(
        &store,
        1,
        &[
            record("auth_log", "t1", 10, "success"),
            record("auth_log", "t2", 20, "success"),
        ],
        "cp",
    )
    .unwrap();
    assert_eq!((r.inserted, r.updated), (1, 0));
    assert_eq!(stored_rows(&store, 1, "auth_log")[0].1, r#"{"old":1}"#);
    // State records keep their (kind, id) key and their revision.
    let mut user = record("user", "u1", 5, "");
    user.occurred_at_ms = None;
    let r = store.commit_records(1, "users", &[user], "u").unwrap();
    assert_eq!((r.inserted, r.updated), (0, 1));
    assert_eq!(stored_rows(&store, 1, "user")[0].2, 4);
}

#[test]
fn prune_removes_only_state_records_of_the_kind_not_written_since_the_mark() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = add_integration(&store, "a");
    let b = add_integration(&store, "b");
    let users = |ids: &[&str]| -> Vec<CollectedRecord> {
        ids.iter().map(|id| record("user", id, 1, "")).collect()
    };
    // Pass 1 sees u1..u3, plus an event and another kind.
    store
        .commit_records(a, "users", &users(&["u1", "u2", "u3"]), "p1")
        .unwrap();
    store
        .commit_records(a, "phones", &[record("phone", "p1", 1, "")], "x")
        .unwrap();
    commit_events(&store, a, &[record("user", "e1", 1, "")], "e").unwrap();
    store
        .commit_records(b, "users", &users(&["u2"]), "p1")
        .unwrap();
    // Pass 2 begins: u2 was deleted upstream; the pass spans two commits.
    let mark = store.write_mark(a).unwrap();
    store
        .commit_records(a, "users", &users(&["u1"]), "page 1")
        .unwrap();
    store
        .commit_records(a, "users", &users(&["u3", "u4"]), "done")
        .unwrap();
    assert_eq!(store.prune_records(a, "user", mark).unwrap(), 1);
    let ids: Vec<String> = stored_rows(&store, a, "user")
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(ids, ["e1", "u1", "u3", "u4"]);
    assert_eq!(stored_rows(&store, a, "phone").len(), 1);
    assert_eq!(stored_rows(&store, b, "user").len(), 1);
    // A mark from the future would delete everything: refused.
    let now = store.write_mark(a).unwrap();
    assert!(matches!(
        store.prune_records(a, "user", now + 1),
        Err(StoreError::Invalid(m)) if m.contains("newer than")
    ));
    assert_eq!(stored_rows(&store, a, "user").len(), 4);
    assert!(matches!(
        store.prune_records(999, "user", 0),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn commit_counts_inserts_and_updates_and_sets_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    let first = [
        record("auth_log", "t1", 10, "success"),
        record("auth_log", "t2", 20, "denied"),
    ];
    let r = store.commit_records(id, "auth", &first, "cp-1").unwrap();
    assert_eq!(
        r,
        CommitResult {
            inserted: 2,
            updated: 0
        }
    );
    assert_eq!(
        store.checkpoint(id, "auth").unwrap().as_deref(),
        Some("cp-1")
    );

    let second = [
        record("auth_log", "t2", 20, "fraud"),
        record("auth_log", "t3", 30, "success"),
    ];
    let r = store.commit_records(id, "auth", &second, "cp-2").unwrap();
    assert_eq!(
        r,
        CommitResult {
            inserted: 1,
            updated: 1
        }
    );
    assert_eq!(
        store.checkpoint(id, "auth").unwrap().as_deref(),
        Some("cp-2")
    );
    assert_eq!(
        store.record_counts(id).unwrap(),
        vec![("auth_log".to_string(), 3)]
    );
    let t2 = all_records(&store, id)
        .into_iter()
        .find(|r| r.id == "t2")
        .unwrap();
    assert_eq!(t2.raw["result"], "fraud");
    assert_eq!(t2.normalized["type"], "auth_event");
    assert_eq!(t2.normalized["result"], "fraud");

    // Same id under another kind is another record.
    let r = store
        .commit_records(id, "users", &[record("user", "t2", 5, "x")], "u")
        .unwrap();
    assert_eq!(
        r,
        CommitResult {
            inserted: 1,
            updated: 0
        }
    );
}

#[test]
fn invalid_record_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    store
        .commit_records(
            id,
            "auth",
            &[record("auth_log", "t1", 1, "success")],
            "cp-1",
        )
        .unwrap();
    let mut bad = record("auth_log", "t3", 3, "success");
    bad.raw_json = "{not json".into();
    let err = store
        .commit_records(
            id,
            "auth",
            &[
                record("auth_log", "t1", 1, "denied"),
                record("auth_log", "t2", 2, "ok"),
                bad,
            ],
            "cp-2",
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));
    assert!(err.to_string().contains("record #2"), "{err}");
    let mut empty_id = record("auth_log", "x", 3, "success");
    empty_id.id.clear();
    assert!(
        store
            .commit_records(id, "auth", &[empty_id], "cp-3")
            .is_err()
    );
    assert_eq!(
        store.checkpoint(id, "auth").unwrap().as_deref(),
        Some("cp-1")
    );
    let records = all_records(&store, id);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].raw["result"], "success");
}

#[test]
fn an_invalid_record_in_a_large_batch_is_named_by_its_position() {
    // Large batches are validated on several threads; the error must still
    // name the first bad record of the batch.
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    let mut batch: Vec<CollectedRecord> = (0..1000)
        .map(|i| record("auth_log", &format!("tx-{i}"), i, "success"))
        .collect();
    batch[777].raw_json = "{not json".into();
    batch[901].id.clear();
    let err = store.commit_records(id, "auth", &batch, "cp").unwrap_err();
    assert!(err.to_string().contains("record #777"), "{err}");
    assert!(store.record_counts(id).unwrap().is_empty());
    assert_eq!(store.checkpoint(id, "auth").unwrap(), None);
}

#[test]
fn bulk_commits_are_checkpointed_into_the_database_file_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    let db_file = dir.path().join(DB_FILE);
    let before = std::fs::metadata(&db_file).unwrap().len();
    // Random letters: raw JSON is compressed (schema 3), and a repeated
    // padding would shrink to nothing.
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    let mut random_letters = |n: usize| -> String {
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                char::from(b'a' + (seed % 26) as u8)
            })
            .collect()
    };
    let batch: Vec<CollectedRecord> = (0..500)
        .map(|i| {
            let mut r = record("auth_log", &format!("tx-{i}"), i, "success");
            let padding = random_letters(2000);
            r.raw_json = format!(r#"{{"txid":"tx-{i}","pad":"{padding}"}}"#);
            r
        })
        .collect();
    store.commit_records(id, "auth", &batch, "cp").unwrap();
    // ~0.6 MB (compressed) sits in the WAL, far below the writer's own
    // checkpoint threshold: only the background checkpointer moves it into
    // the file.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = std::fs::metadata(&db_file).unwrap().len();
        if now >= before + 500 * 1000 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the database file is still {now} bytes (was {before}); no background checkpoint"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(all_records(&store, id).len(), 500);
}

#[test]
fn failure_inside_the_transaction_rolls_back_records_and_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    store
        .commit_records(
            id,
            "auth",
            &[record("auth_log", "t1", 1, "success")],
            "cp-1",
        )
        .unwrap();
    // A database-level failure on the last record, after earlier rows of the
    // same commit were written.
    store
        .conn()
        .execute_batch(
            "CREATE TEMP TRIGGER poison BEFORE INSERT ON main.records WHEN NEW.id = 'poison'
             BEGIN SELECT RAISE(ABORT, 'poisoned record'); END;",
        )
        .unwrap();
    let batch = [
        record("auth_log", "t1", 1, "denied"),
        record("auth_log", "t2", 2, "success"),
        record("auth_log", "poison", 3, "x"),
    ];
    let err = store
        .commit_records(id, "auth", &batch, "cp-2")
        .unwrap_err();
    assert!(err.to_string().contains("poisoned record"), "{err}");
    assert_eq!(
        store.checkpoint(id, "auth").unwrap().as_deref(),
        Some("cp-1")
    );
    let records = all_records(&store, id);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].raw["result"], "success");
    // The connection is usable afterwards.
    store
        .commit_records(id, "auth", &batch[..2], "cp-2")
        .unwrap();
    assert_eq!(
        store.checkpoint(id, "auth").unwrap().as_deref(),
        Some("cp-2")
    );
}

#[test]
fn commit_to_a_missing_integration_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let err = store
        .commit_records(42, "auth", &[record("auth_log", "t1", 1, "s")], "c")
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err}");
}

#[test]
fn records_stream_in_kind_time_id_order_and_normalized_skips_none() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    let mut user = record("user", "u1", 0, "");
    user.occurred_at_ms = None;
    user.normalized = Normalized::UserAccount(UserAccount {
        user_id: "u1".into(),
        user_name: "alice".into(),
        ..Default::default()
    });
    let mut opaque = record("phone", "p1", 0, "");
    opaque.normalized = Normalized::None;
    let batch = [
        record("auth_log", "b", 20, "s"),
        record("auth_log", "c", 10, "s"),
        record("auth_log", "a", 20, "s"),
        user,
        opaque,
    ];
    store.commit_records(id, "all", &batch, "c").unwrap();

    let order: Vec<(String, String)> = all_records(&store, id)
        .into_iter()
        .map(|r| (r.kind, r.id))
        .collect();
    let expected = [
        ("auth_log", "c"),
        ("auth_log", "a"),
        ("auth_log", "b"),
        ("phone", "p1"),
        ("user", "u1"),
    ];
    assert_eq!(order, expected.map(|(k, i)| (k.to_string(), i.to_string())));

    let mut users = Vec::new();
    store
        .for_each_record(id, Some("user"), &mut |r| {
            users.push(r.id);
            Ok(())
        })
        .unwrap();
    assert_eq!(users, vec!["u1"]);

    let normalized = store.normalized_records(id).unwrap();
    assert_eq!(normalized.len(), 4);
    assert!(normalized.iter().all(|n| *n != Normalized::None));
    assert!(matches!(normalized[3], Normalized::UserAccount(_)));
}

#[test]
fn for_each_record_callback_may_use_the_store_and_stop_early() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    store
        .commit_records(
            id,
            "auth",
            &[record("k", "1", 1, "s"), record("k", "2", 2, "s")],
            "c",
        )
        .unwrap();
    let mut seen = 0;
    let err = store
        .for_each_record(id, None, &mut |r| {
            seen += 1;
            // Would deadlock if the write connection were held here.
            store.set_checkpoint(id, "export", &r.id)?;
            Err(StoreError::Invalid("stop".into()))
        })
        .unwrap_err();
    assert_eq!(err.to_string(), "stop");
    assert_eq!(seen, 1);
    assert_eq!(
        store.checkpoint(id, "export").unwrap().as_deref(),
        Some("1")
    );
}

#[test]
fn bulk_commit_of_20000_records() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    let batch: Vec<CollectedRecord> = (0..20_000)
        .map(|i| record("auth_log", &format!("tx-{i:06}"), i, "success"))
        .collect();
    let started = std::time::Instant::now();
    let mut inserted = 0;
    for (n, page) in batch.chunks(1000).enumerate() {
        inserted += store
            .commit_records(id, "auth", page, &format!("page-{n}"))
            .unwrap()
            .inserted;
    }
    let elapsed = started.elapsed();
    eprintln!(
        "committed 20000 records in {elapsed:?} ({:.0}/s, debug build)",
        20_000.0 / elapsed.as_secs_f64()
    );
    assert_eq!(inserted, 20_000);
    assert_eq!(
        store.record_counts(id).unwrap(),
        vec![("auth_log".to_string(), 20_000)]
    );
    assert_eq!(
        store.checkpoint(id, "auth").unwrap().as_deref(),
        Some("page-19")
    );
    let again = store
        .commit_records(id, "auth", &batch[..5000], "again")
        .unwrap();
    assert_eq!(
        again,
        CommitResult {
            inserted: 0,
            updated: 5000
        }
    );
    assert_eq!(store.normalized_records(id).unwrap().len(), 20_000);
}

#[test]
fn concurrent_commits_from_clones() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for page in 0..10 {
                    let recs: Vec<_> = (0..50)
                        .map(|i| record("k", &format!("{t}-{page}-{i}"), i, "s"))
                        .collect();
                    store
                        .commit_records(id, &format!("src-{t}"), &recs, &page.to_string())
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(
        store.record_counts(id).unwrap(),
        vec![("k".to_string(), 2000)]
    );
}

fn finding(key: &str, evidence: &[&str], first: i64, last: i64, severity: &str) -> Finding {
    Finding {
        insight_id: "DUO-02".into(),
        dedupe_key: key.into(),
        title: format!("Push fatigue against {key}"),
        severity: severity.into(),
        subjects: vec![key.into()],
        evidence: evidence.iter().map(|e| e.to_string()).collect(),
        first_seen_ms: first,
        last_seen_ms: last,
        suggested_action: Some("disable-user".into()),
        detail: "many denied pushes".into(),
    }
}

#[test]
fn findings_upsert_merges_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    store
        .upsert_findings(id, &[finding("alice", &["t1", "t2"], 100, 200, "high")])
        .unwrap();
    let before = store.findings(id).unwrap();
    store
        .upsert_findings(id, &[finding("alice", &["t1", "t2"], 100, 200, "high")])
        .unwrap();
    let mut later = finding("alice", &["t2", "t3"], 150, 300, "critical");
    later.subjects = vec!["alice".into(), "alice-phone".into()];
    store
        .upsert_findings(id, &[later, finding("bob", &["t9"], 50, 60, "low")])
        .unwrap();

    let all = store.findings(id).unwrap();
    assert_eq!(all.len(), 2);
    let alice = &all[0];
    assert_eq!(alice.id, before[0].id);
    assert_eq!(alice.finding.evidence, vec!["t1", "t2", "t3"]);
    assert_eq!(
        (alice.finding.first_seen_ms, alice.finding.last_seen_ms),
        (100, 300)
    );
    assert_eq!(alice.finding.severity, "critical");
    assert_eq!(alice.finding.subjects, vec!["alice", "alice-phone"]);
    assert!(alice.updated_at_ms >= before[0].updated_at_ms);
    assert_eq!(store.finding(id, alice.id).unwrap().as_ref(), Some(alice));

    let other = add_integration(&store, "b");
    assert_eq!(
        store.finding(other, alice.id).unwrap(),
        None,
        "findings are scoped to their integration"
    );
    assert!(matches!(
        store.upsert_findings(id, &[finding("x", &[], 1, 1, "severe")]),
        Err(StoreError::Invalid(_))
    ));
}

#[test]
fn runs_are_recorded_and_finished_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    let first = store.start_run(id, RunKind::Collect).unwrap();
    let second = store.start_run(id, RunKind::Test).unwrap();
    let summary = serde_json::json!({"records": [["auth_log", 3]]});
    store
        .finish_run(first, RunStatus::Succeeded, Some(&summary), None)
        .unwrap();
    store
        .finish_run(
            second,
            RunStatus::Failed,
            None,
            Some("unauthorized: bad skey"),
        )
        .unwrap();
    assert!(matches!(
        store.finish_run(first, RunStatus::Failed, None, None),
        Err(StoreError::Conflict(_))
    ));

    let runs = store.runs(id, 10).unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(
        (runs[0].id, runs[0].kind, runs[0].status),
        (second, RunKind::Test, RunStatus::Failed)
    );
    assert_eq!(runs[0].error.as_deref(), Some("unauthorized: bad skey"));
    assert_eq!(
        (runs[1].kind, runs[1].status),
        (RunKind::Collect, RunStatus::Succeeded)
    );
    assert_eq!(runs[1].summary.as_ref(), Some(&summary));
    assert!(runs[1].finished_at_ms.is_some());
    assert_eq!(store.runs(id, 1).unwrap().len(), 1);
}

#[test]
fn a_running_run_reports_progress_that_its_end_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    let run = store.start_run(id, RunKind::Collect).unwrap();
    assert_eq!(store.run(run).unwrap().unwrap().progress, None);
    let early = serde_json::json!({"pages": 1, "records": {"authentication_log": 1000}});
    let later = serde_json::json!({"pages": 2, "records": {"authentication_log": 1500}});
    store.record_run_progress(run, &early).unwrap();
    store.record_run_progress(run, &later).unwrap();
    let seen = store.run(run).unwrap().unwrap();
    assert_eq!(
        (seen.status, seen.progress.as_ref()),
        (RunStatus::Running, Some(&later))
    );

    store
        .finish_run(run, RunStatus::Succeeded, None, None)
        .unwrap();
    // A report arriving after the end does not rewrite it.
    assert!(matches!(
        store.record_run_progress(run, &early),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.run(run).unwrap().unwrap().progress, Some(later));
    assert!(matches!(
        store.record_run_progress(run + 100, &early),
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.run(run + 100).unwrap(), None);
}

#[test]
fn operators_have_one_role_each() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.add_operator("carol", Role::Helpdesk, None).unwrap();
    store.add_operator("dave", Role::Admin, None).unwrap();
    assert!(matches!(
        store.add_operator("carol", Role::Admin, None),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.add_operator("bad name", Role::Admin, None),
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        store.operator("carol").unwrap().unwrap().role,
        Role::Helpdesk
    );
    assert_eq!(store.operator("nobody").unwrap(), None);
    assert_eq!(
        store.set_operator_role("carol", Role::Viewer).unwrap().role,
        Role::Viewer
    );
    let names: Vec<_> = store
        .operators()
        .unwrap()
        .into_iter()
        .map(|o| (o.name, o.role))
        .collect();
    assert_eq!(
        names,
        vec![
            ("carol".to_string(), Role::Viewer),
            ("dave".to_string(), Role::Admin)
        ]
    );
}

fn audit_entry(integration: Option<IntegrationId>, at: i64, outcome: &str) -> AuditEntry {
    AuditEntry {
        id: None,
        at_ms: at,
        integration_id: integration,
        actor: "carol".into(),
        role: Some(Role::Helpdesk),
        action: "act:disable-user".into(),
        target: Some("alice".into()),
        reason: Some("ticket 42".into()),
        outcome: outcome.into(),
        attempt: None,
    }
}

#[test]
fn audit_is_append_only_and_filtered_by_integration() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = add_integration(&store, "a");
    let b = add_integration(&store, "b");
    let first = store
        .append_audit(&audit_entry(Some(a), 20, "succeeded: user disabled"))
        .unwrap();
    let second = store
        .append_audit(&audit_entry(Some(b), 15, "refused: x"))
        .unwrap();
    assert_eq!(second, first + 1, "each entry gets the next id");
    store
        .append_audit(&audit_entry(
            Some(a),
            10,
            "refused: helpdesk may not run disable-user (needs admin)",
        ))
        .unwrap();
    store
        .append_audit(&audit_entry(None, 5, "operator.add"))
        .unwrap();

    let of_a = store.audit(Some(a)).unwrap();
    assert_eq!(
        of_a.iter().map(|e| e.at_ms).collect::<Vec<_>>(),
        vec![10, 20]
    );
    assert_eq!(
        of_a[1],
        AuditEntry {
            id: Some(first),
            ..audit_entry(Some(a), 20, "succeeded: user disabled")
        }
    );
    assert_eq!(store.audit(None).unwrap().len(), 4);

    for sql in [
        "UPDATE audit SET outcome = 'forged'",
        "DELETE FROM audit",
        "DELETE FROM audit WHERE at_ms = 5",
    ] {
        let err = store.conn().execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("audit trail is append-only"), "{sql}: {err}");
    }
    assert_eq!(store.audit(None).unwrap().len(), 4);
}

#[test]
fn remove_integration_cascades_but_keeps_the_audit_trail() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = add_integration(&store, "a");
    let keep = add_integration(&store, "keep");
    for id in [a, keep] {
        store
            .commit_records(id, "auth", &[record("auth_log", "t1", 1, "s")], "cp")
            .unwrap();
        store.start_run(id, RunKind::Collect).unwrap();
        store
            .upsert_findings(id, &[finding("alice", &["t1"], 1, 1, "high")])
            .unwrap();
        store
            .append_audit(&audit_entry(Some(id), 1, "succeeded: user disabled"))
            .unwrap();
    }
    store.remove_integration(a).unwrap();

    assert_eq!(store.integration_by_id(a).unwrap(), None);
    assert_eq!(store.integration("default", "a").unwrap(), None);
    for table in [
        "records",
        "checkpoints",
        "secrets",
        "runs",
        "findings",
        "integration_config",
    ] {
        let n: i64 = store
            .conn()
            .query_row(
                &format!("SELECT COUNT(*) FROM {table} WHERE integration_id = ?1"),
                [a],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 0, "{table} still holds rows of the removed integration");
        let kept: i64 = store
            .conn()
            .query_row(
                &format!("SELECT COUNT(*) FROM {table} WHERE integration_id = ?1"),
                [keep],
                |r| r.get(0),
            )
            .unwrap();
        assert!(kept > 0, "{table} lost rows of another integration");
    }
    assert_eq!(store.audit(Some(a)).unwrap().len(), 1);
    assert!(matches!(
        store.remove_integration(a),
        Err(StoreError::NotFound(_))
    ));
    // The name is free again.
    store
        .create_integration(&new_integration("default", "a"))
        .unwrap();
}

#[test]
fn plugins_upsert_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let manifest = Manifest {
        sources: Vec::new(),
        id: "duo".into(),
        name: "Duo".into(),
        version: "0.1.0".into(),
        description: "d".into(),
        config: vec![],
        egress: vec![],
        record_kinds: vec![],
        actions: vec![],
        capabilities: vec![],
    };
    let mut plugin = InstalledPlugin {
        id: "duo".into(),
        manifest,
        wasm_sha256: "aa".into(),
        wasm_path: "plugins/duo.wasm".into(),
        wit_version: "0.1.0".into(),
        installed_at_ms: 1,
    };
    store.upsert_plugin(&plugin).unwrap();
    plugin.wasm_sha256 = "bb".into();
    plugin.manifest.version = "0.2.0".into();
    store.upsert_plugin(&plugin).unwrap();
    assert_eq!(store.plugin("duo").unwrap(), Some(plugin.clone()));
    assert_eq!(store.plugins().unwrap(), vec![plugin]);
    assert_eq!(store.plugin("okta").unwrap(), None);
}

/// `n` auth records whose raw JSON looks like Duo's: the same fields with
/// varying values, so a dictionary can be trained on them.
fn duo_like_batch(prefix: &str, n: usize) -> Vec<CollectedRecord> {
    (0..n)
        .map(|i| {
            let mut r = record("auth_log", &format!("{prefix}-{i}"), i as i64, "success");
            r.raw_json = format!(
                r#"{{"txid":"{prefix}-{i}","timestamp":{},"result":"{}","factor":"duo_push","user":{{"name":"user{}","key":"DU{:018}"}},"access_device":{{"ip":"10.0.{}.{}","os":"Windows","browser":"Chrome"}}}}"#,
                1_700_000_000 + i,
                if i % 7 == 0 { "denied" } else { "success" },
                i % 40,
                i * 7919,
                i % 256,
                (i * 13) % 256,
            );
            r
        })
        .collect()
}

/// (kind, id) -> (storage class of `raw`, `raw_dict`).
fn raw_storage(store: &Store, integration: IntegrationId) -> Vec<(String, String, Option<i64>)> {
    store
        .conn()
        .prepare("SELECT id, typeof(raw), raw_dict FROM records WHERE integration_id = ?1 ORDER BY kind, occurred_at_ms, id")
        .unwrap()
        .query_map([integration], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn raw_by_id(store: &Store, integration: IntegrationId) -> BTreeMap<String, serde_json::Value> {
    all_records(store, integration)
        .into_iter()
        .map(|r| (r.id, r.raw))
        .collect()
}

#[test]
fn raw_json_of_large_batches_is_stored_compressed_and_read_back_verbatim() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    // Too few to train on: stays text.
    let small = duo_like_batch("early", 10);
    commit_state(&store, id, &small, "cp0").unwrap();
    let large = duo_like_batch("t", compression::TRAIN_MIN_RECORDS);
    commit_state(&store, id, &large, "cp1").unwrap();
    // Once the kind has a dictionary, small batches use it too.
    let later = duo_like_batch("z", 3);
    commit_state(&store, id, &later, "cp2").unwrap();

    let storage = raw_storage(&store, id);
    let dict = storage
        .iter()
        .find_map(|(_, _, d)| *d)
        .expect("a dictionary");
    for (record, class, raw_dict) in &storage {
        if record.starts_with("early") {
            assert_eq!((class.as_str(), *raw_dict), ("text", None), "{record}");
        } else {
            assert_eq!(
                (class.as_str(), *raw_dict),
                ("blob", Some(dict)),
                "{record}"
            );
        }
    }
    let read = raw_by_id(&store, id);
    for r in small.iter().chain(&large).chain(&later) {
        let want: serde_json::Value = serde_json::from_str(&r.raw_json).unwrap();
        assert_eq!(read[&r.id], want, "{}", r.id);
    }
    // A new process (no cached dictionaries) reads them just the same.
    drop(store);
    let store = open(dir.path());
    assert_eq!(raw_by_id(&store, id), read);
    // And the raw JSON takes a fraction of its size.
    let compressed: i64 = store
        .conn()
        .query_row(
            "SELECT SUM(length(raw)) FROM records WHERE raw_dict IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let original: usize = large.iter().chain(&later).map(|r| r.raw_json.len()).sum();
    assert!(
        (compressed as usize) * 3 < original,
        "{compressed} bytes stored for {original} bytes of raw JSON"
    );
}

#[test]
fn each_integration_has_its_own_dictionary_which_goes_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = add_integration(&store, "a");
    let b = add_integration(&store, "b");
    let n = compression::TRAIN_MIN_RECORDS;
    commit_state(&store, a, &duo_like_batch("a", n), "cp").unwrap();
    commit_state(&store, b, &duo_like_batch("b", n), "cp").unwrap();
    let dict_of = |id| raw_storage(&store, id)[0].2.expect("compressed");
    let (dict_a, dict_b) = (dict_of(a), dict_of(b));
    assert_ne!(
        dict_a, dict_b,
        "no dictionary is shared between integrations"
    );
    let dictionaries = |id: IntegrationId| -> i64 {
        store
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM dictionaries WHERE integration_id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!((dictionaries(a), dictionaries(b)), (1, 1));

    store.remove_integration(a).unwrap();
    assert_eq!(dictionaries(a), 0);
    assert_eq!(raw_by_id(&store, b).len(), n);
    // A new integration never gets the removed one's dictionary, even from
    // this process's cache: ids are not reused.
    let c = add_integration(&store, "c");
    commit_state(&store, c, &duo_like_batch("c", n), "cp").unwrap();
    let dict_c = dict_of(c);
    assert!(dict_c != dict_a && dict_c != dict_b);
    assert_eq!(raw_by_id(&store, c).len(), n);
}

#[test]
fn a_version_2_database_keeps_its_text_rows_next_to_compressed_ones() {
    let dir = tempfile::tempdir().unwrap();
    database_at_version(
        dir.path(),
        2,
        r#"INSERT INTO records (integration_id, kind, id, occurred_at_ms, normalized, raw, is_event)
             VALUES (1, 'auth_log', 'old', 1, 'null', '{"old":1}', 1);"#,
    );
    let store = open(dir.path());
    commit_events(
        &store,
        1,
        &duo_like_batch("new", compression::TRAIN_MIN_RECORDS),
        "cp",
    )
    .unwrap();
    let read = raw_by_id(&store, 1);
    assert_eq!(read["old"], serde_json::json!({"old": 1}));
    assert_eq!(read.len(), compression::TRAIN_MIN_RECORDS + 1);
    // The old row stays as it was; the new events went to a page.
    assert_eq!(
        raw_storage(&store, 1),
        [("old".to_string(), "text".to_string(), None)]
    );
    assert_eq!(
        table_rows(&store, "events"),
        compression::TRAIN_MIN_RECORDS as i64
    );
}

fn table_rows(store: &Store, table: &str) -> i64 {
    store
        .conn()
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn events_are_written_a_page_at_a_time_and_read_back_verbatim() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    let events = duo_like_batch("t", 1500);
    let r = commit_events(&store, id, &events, "cp").unwrap();
    assert_eq!((r.inserted, r.updated), (1500, 0));
    assert_eq!(table_rows(&store, "events"), 1500);
    assert_eq!(table_rows(&store, "event_pages"), 1);
    assert_eq!(table_rows(&store, "records"), 0);

    let read = all_records(&store, id);
    assert_eq!(read.len(), 1500);
    for (stored, sent) in read.iter().zip(&events) {
        assert_eq!(stored.id, sent.id);
        assert_eq!(stored.occurred_at_ms, sent.occurred_at_ms);
        let raw: serde_json::Value = serde_json::from_str(&sent.raw_json).unwrap();
        assert_eq!(stored.raw, raw, "{}", sent.id);
        assert_eq!(
            stored.normalized,
            serde_json::to_value(&sent.normalized).unwrap()
        );
    }
    assert_eq!(store.normalized_records(id).unwrap().len(), 1500);
    assert_eq!(
        store.record_counts(id).unwrap(),
        [("auth_log".to_string(), 1500)]
    );
    // The page holds raw JSON and views in a fraction of their size.
    let stored: i64 = store
        .conn()
        .query_row("SELECT SUM(length(body)) FROM event_pages", [], |r| {
            r.get(0)
        })
        .unwrap();
    let text: usize = events
        .iter()
        .map(|e| e.raw_json.len() + serde_json::to_string(&e.normalized).unwrap().len())
        .sum();
    assert!(
        (stored as usize) * 5 < text,
        "{stored} bytes stored for {text}"
    );
}

#[test]
fn a_batch_larger_than_a_page_spreads_over_pages() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    let padding = "x".repeat(1000);
    let events: Vec<CollectedRecord> = (0..9000)
        .map(|i| {
            let mut r = record("auth_log", &format!("t{i:05}"), i, "success");
            r.raw_json = format!(r#"{{"txid":"t{i:05}","pad":"{padding}"}}"#);
            r
        })
        .collect();
    assert_eq!(
        commit_events(&store, id, &events, "cp").unwrap().inserted,
        9000
    );
    assert_eq!(table_rows(&store, "event_pages"), 2);
    let read = raw_by_id(&store, id);
    assert_eq!(read.len(), 9000);
    assert_eq!(read["t08999"]["txid"], "t08999");
}

#[test]
fn paged_events_and_older_rows_read_in_one_time_order_and_are_never_stored_twice() {
    let dir = tempfile::tempdir().unwrap();
    database_at_version(
        dir.path(),
        3,
        r#"INSERT INTO records (integration_id, kind, id, occurred_at_ms, normalized, raw, is_event)
             VALUES (1, 'auth_log', 'a', 10, 'null', '{"old":"a"}', 1),
                    (1, 'auth_log', 'c', 30, 'null', '{"old":"c"}', 1);"#,
    );
    let store = open(dir.path());
    let batch = [
        record("auth_log", "a", 10, "success"),
        record("auth_log", "b", 20, "success"),
        record("auth_log", "d", 40, "success"),
    ];
    let r = commit_events(&store, 1, &batch, "cp").unwrap();
    assert_eq!(r.inserted, 2, "`a` was stored before schema 4");
    let order: Vec<(String, Option<i64>)> = all_records(&store, 1)
        .into_iter()
        .map(|r| (r.id, r.occurred_at_ms))
        .collect();
    assert_eq!(
        order,
        [
            ("a".to_string(), Some(10)),
            ("b".to_string(), Some(20)),
            ("c".to_string(), Some(30)),
            ("d".to_string(), Some(40)),
        ]
    );
    assert_eq!(raw_by_id(&store, 1)["a"], serde_json::json!({"old": "a"}));
    assert_eq!(
        store.record_counts(1).unwrap(),
        [("auth_log".to_string(), 4)]
    );
    // Everything again: nothing new, and no page left behind for it.
    let r = commit_events(&store, 1, &batch, "cp").unwrap();
    assert_eq!(r.inserted, 0);
    assert_eq!(table_rows(&store, "event_pages"), 1);
}

#[test]
fn removing_an_integration_removes_its_event_pages() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = add_integration(&store, "a");
    let b = add_integration(&store, "b");
    commit_events(&store, a, &duo_like_batch("a", 10), "cp").unwrap();
    commit_events(&store, b, &duo_like_batch("b", 10), "cp").unwrap();
    store.remove_integration(a).unwrap();
    assert_eq!(table_rows(&store, "event_pages"), 1);
    assert_eq!(table_rows(&store, "events"), 10);
    assert_eq!(raw_by_id(&store, b).len(), 10);
}

#[test]
fn a_damaged_event_page_is_reported_not_misread() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    commit_events(&store, id, &duo_like_batch("t", 10), "cp").unwrap();
    store
        .conn()
        .execute("UPDATE event_pages SET body = x'28b52ffd00'", [])
        .unwrap();
    let err = store
        .for_each_record(id, None, &mut |_| Ok(()))
        .expect_err("a damaged page");
    assert!(
        matches!(&err, StoreError::Corrupt(m) if m.contains("event page") && m.contains("corrupted")),
        "{err}"
    );
    assert!(store.normalized_records(id).is_err());
}

#[test]
fn a_flipped_byte_inside_an_event_page_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    commit_events(&store, id, &duo_like_batch("t", 300), "cp").unwrap();
    let mut body: Vec<u8> = store
        .conn()
        .query_row("SELECT body FROM event_pages", [], |r| r.get(0))
        .unwrap();
    let middle = body.len() / 2;
    body[middle] ^= 0x20;
    store
        .conn()
        .execute("UPDATE event_pages SET body = ?1", [body])
        .unwrap();
    let err = store
        .for_each_record(id, None, &mut |_| Ok(()))
        .expect_err("a damaged page");
    assert!(err.to_string().contains("event page"), "{err}");
}

#[test]
fn events_of_interleaved_pages_read_back_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    // Two pages whose times alternate (late arrivals): reading in time order
    // switches between them at every event.
    let odd: Vec<_> = (0..300)
        .map(|i| record("auth_log", &format!("o{i}"), 2 * i + 1, "success"))
        .collect();
    let even: Vec<_> = (0..300)
        .map(|i| record("auth_log", &format!("e{i}"), 2 * i, "denied"))
        .collect();
    commit_events(&store, id, &odd, "cp").unwrap();
    commit_events(&store, id, &even, "cp").unwrap();
    let read = all_records(&store, id);
    assert_eq!(read.len(), 600);
    for (n, r) in read.iter().enumerate() {
        assert_eq!(r.occurred_at_ms, Some(n as i64));
        let (prefix, result) = if n % 2 == 0 {
            ("e", "denied")
        } else {
            ("o", "success")
        };
        assert_eq!(r.id, format!("{prefix}{}", n / 2));
        assert_eq!(r.raw["result"], result);
        assert_eq!(r.normalized["result"], result);
    }
}

#[test]
fn an_older_build_still_running_cannot_write_events_as_rows_after_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    add_integration(&store, "a");
    let err = store
        .conn()
        .execute(
            "INSERT INTO records (integration_id, kind, id, occurred_at_ms, normalized, raw, is_event)
             VALUES (1, 'auth_log', 'old-writer', 1, 'null', '{}', 1)",
            [],
        )
        .expect_err("refused");
    assert!(err.to_string().contains("restart this process"), "{err}");
}

mod schedules;

#[test]
fn a_walk_resumes_right_after_any_record_in_store_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = add_integration(&store, "a");
    let events: Vec<_> = (0..5)
        .map(|i| {
            record(
                "duo.authentication_log",
                &format!("e{i}"),
                1_000 + i / 2,
                "success",
            )
        })
        .collect();
    commit_events(&store, id, &events, "cp").unwrap();
    let users: Vec<_> = ["u2", "u1", "u3"]
        .iter()
        .map(|u| CollectedRecord {
            occurred_at_ms: None,
            ..record("duo.user", u, 0, "active")
        })
        .collect();
    commit_state(&store, id, &users, "cp").unwrap();
    let all = all_records(&store, id);
    assert_eq!(all.len(), 8);

    // From after each record, exactly the ones that follow it.
    for (at, record) in all.iter().enumerate() {
        let mut rest = Vec::new();
        store
            .for_each_record_after(id, None, Some(&RecordKey::of(record)), &mut |r| {
                rest.push(r);
                Ok(())
            })
            .unwrap();
        assert_eq!(
            rest,
            all[at + 1..],
            "after #{at} ({}, {})",
            record.kind,
            record.id
        );
    }
    // A key between records (a record removed since) resumes at the next one.
    let between = RecordKey {
        kind: "duo.authentication_log".into(),
        occurred_at_ms: Some(1_001),
        id: "e20".into(),
    };
    let mut ids = Vec::new();
    store
        .for_each_record_after(
            id,
            Some("duo.authentication_log"),
            Some(&between),
            &mut |r| {
                ids.push(r.id);
                Ok(())
            },
        )
        .unwrap();
    assert_eq!(ids, ["e3", "e4"]);
}
