//! Schema migrations, tracked in `PRAGMA user_version`.
//!
//! Migrations are append-only: migration N is applied once, in its own
//! transaction, to a database at version N-1. Never edit a released one; add
//! a new one.

use rusqlite::{Connection, TransactionBehavior};

use super::{Result, StoreError};

const MIGRATIONS: &[&str] = &[
    // 1: initial schema.
    r#"
CREATE TABLE tenants (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    created_at_ms INTEGER NOT NULL
);

CREATE TABLE plugins (
    id              TEXT PRIMARY KEY,
    manifest        TEXT NOT NULL,
    wasm_sha256     TEXT NOT NULL,
    wasm_path       TEXT NOT NULL,
    wit_version     TEXT NOT NULL,
    installed_at_ms INTEGER NOT NULL
);

-- plugin_id is not a foreign key: a plugin can be reinstalled (or be briefly
-- missing after a data-directory restore) without touching its integrations.
CREATE TABLE integrations (
    -- AUTOINCREMENT: ids are never reused, so the audit trail kept after a
    -- removal never attaches to a later integration of the same name.
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id            INTEGER NOT NULL REFERENCES tenants(id),
    name                 TEXT NOT NULL,
    plugin_id            TEXT NOT NULL,
    api_base_url         TEXT,
    granted_capabilities TEXT NOT NULL DEFAULT '[]',
    created_at_ms        INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE integration_config (
    integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    value          TEXT NOT NULL,
    PRIMARY KEY (integration_id, name)
);

-- value is nonce || AES-256-GCM ciphertext, bound to (integration_id, field).
CREATE TABLE secrets (
    integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    field          TEXT NOT NULL,
    value          BLOB NOT NULL,
    updated_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (integration_id, field)
);

-- revision: 0 when first collected, +1 each time the record is collected
-- again.
CREATE TABLE records (
    integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    id             TEXT NOT NULL,
    occurred_at_ms INTEGER,
    normalized     TEXT NOT NULL,
    raw            TEXT NOT NULL,
    revision       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (integration_id, kind, id)
);
CREATE INDEX records_by_time ON records (integration_id, kind, occurred_at_ms);

CREATE TABLE checkpoints (
    integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    source         TEXT NOT NULL,
    checkpoint     TEXT NOT NULL,
    updated_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (integration_id, source)
);

CREATE TABLE runs (
    id             INTEGER PRIMARY KEY,
    integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL CHECK (kind IN ('validate', 'test', 'collect', 'action')),
    status         TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    started_at_ms  INTEGER NOT NULL,
    finished_at_ms INTEGER,
    summary        TEXT,
    error          TEXT
);
CREATE INDEX runs_by_integration ON runs (integration_id, id);

CREATE TABLE findings (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    integration_id   INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    insight_id       TEXT NOT NULL,
    dedupe_key       TEXT NOT NULL,
    title            TEXT NOT NULL,
    severity         TEXT NOT NULL,
    subjects         TEXT NOT NULL,
    evidence         TEXT NOT NULL,
    first_seen_ms    INTEGER NOT NULL,
    last_seen_ms     INTEGER NOT NULL,
    suggested_action TEXT,
    detail           TEXT NOT NULL,
    created_at_ms    INTEGER NOT NULL,
    updated_at_ms    INTEGER NOT NULL,
    UNIQUE (integration_id, insight_id, dedupe_key)
);

CREATE TABLE operators (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'helpdesk', 'admin')),
    created_at_ms INTEGER NOT NULL
);

-- No foreign key: the trail outlives the integrations it mentions.
CREATE TABLE audit (
    id             INTEGER PRIMARY KEY,
    at_ms          INTEGER NOT NULL,
    integration_id INTEGER,
    actor          TEXT NOT NULL,
    role           TEXT,
    action         TEXT NOT NULL,
    target         TEXT,
    reason         TEXT,
    outcome        TEXT NOT NULL
);
CREATE INDEX audit_by_integration ON audit (integration_id, at_ms, id);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit trail is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit trail is append-only');
END;
"#,
    // 2: immutable events are keyed by (kind, time, id), not (kind, id);
    // every write of an integration gets a sequence number, so a full
    // inventory pass can prune the records it did not see again.
    // Event ids (Duo txids) are random: a unique index led by them makes
    // every insert dirty a random leaf page, while one led by time only
    // appends (duo_collect: +32% at 30 pages, +35% at 200). State records
    // (inventories) keep their (kind, id) key through a partial index.
    // SQLite cannot drop a primary key, so the table is rebuilt (57 s for
    // 1M auth records here; the file keeps the old table's pages free for
    // reuse); rows written before are all state records, as they were
    // written.
    r#"
CREATE TABLE records_v2 (
    integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    id             TEXT NOT NULL,
    occurred_at_ms INTEGER,
    normalized     TEXT NOT NULL,
    raw            TEXT NOT NULL,
    revision       INTEGER NOT NULL DEFAULT 0,
    is_event       INTEGER NOT NULL DEFAULT 0 CHECK (is_event IN (0, 1)),
    -- integrations.write_seq of the transaction that last wrote the row.
    written_seq    INTEGER NOT NULL DEFAULT 0,
    CHECK (is_event = 0 OR occurred_at_ms IS NOT NULL)
);
INSERT INTO records_v2 (integration_id, kind, id, occurred_at_ms, normalized, raw, revision)
    SELECT integration_id, kind, id, occurred_at_ms, normalized, raw, revision FROM records
    ORDER BY integration_id, kind, occurred_at_ms, id;
DROP TABLE records;
ALTER TABLE records_v2 RENAME TO records;
CREATE UNIQUE INDEX records_by_time ON records (integration_id, kind, occurred_at_ms, id);
CREATE UNIQUE INDEX records_by_id ON records (integration_id, kind, id) WHERE is_event = 0;
ALTER TABLE integrations ADD COLUMN write_seq INTEGER NOT NULL DEFAULT 0;
"#,
    // 3: raw JSON compressed with a zstd dictionary trained per integration
    // and kind (~6x on Duo auth logs; see `records::compression`). A row's
    // `raw_dict` names the dictionary its `raw` blob needs; NULL means `raw`
    // is plain JSON text, as every row written before. Dictionary ids are
    // never reused (AUTOINCREMENT), so a cached dictionary can never decode
    // or encode another integration's rows. Adds only: instant.
    r#"
CREATE TABLE dictionaries (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    dict           BLOB NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    UNIQUE (integration_id, kind)
);
ALTER TABLE records ADD COLUMN raw_dict INTEGER REFERENCES dictionaries(id);
"#,
    // 4: events are written a page at a time (see `store::event_pages`): one
    // zstd frame per staged batch and a small index row per event, ~2x
    // faster to write and ~5x smaller than a row each. Events written before
    // stay in `records` and are read (and deduplicated against) there; adds
    // only: instant.
    r#"
CREATE TABLE event_pages (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    body           BLOB NOT NULL
);
CREATE INDEX event_pages_by_integration ON event_pages (integration_id);
CREATE TABLE events (
    integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    occurred_at_ms INTEGER NOT NULL,
    id             TEXT NOT NULL,
    page           INTEGER NOT NULL,
    entry          INTEGER NOT NULL,
    PRIMARY KEY (integration_id, kind, occurred_at_ms, id)
) WITHOUT ROWID;
-- A process of an older build still running would keep writing events as
-- rows, unseen by dedupe against pages: it is stopped with a clear error.
CREATE TRIGGER records_no_new_events BEFORE INSERT ON records WHEN NEW.is_event = 1
BEGIN SELECT RAISE(ABORT, 'the database was upgraded to schema 4 by a newer oort-host: restart this process with that version'); END;
"#,
    // 5: operators belong to one tenant or (NULL) to the whole platform;
    // operators from before were platform-wide, and stay so. API tokens are
    // kept as SHA-256 hashes only. Adds only: instant.
    r#"
ALTER TABLE operators ADD COLUMN tenant TEXT;
CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    operator      TEXT NOT NULL REFERENCES operators(name) ON DELETE CASCADE,
    label         TEXT NOT NULL,
    hash          BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER,
    revoked_at_ms INTEGER
);
CREATE INDEX api_tokens_by_operator ON api_tokens (operator, id);
"#,
    // 6: every integration has a collection schedule, and a lease that
    // says which process is collecting it (so two `serve` processes on one
    // data directory never collect the same integration at once). Existing
    // integrations are due at once. Adds only: instant.
    r#"
CREATE TABLE schedules (
    integration_id   INTEGER PRIMARY KEY REFERENCES integrations(id) ON DELETE CASCADE,
    interval_ms      INTEGER NOT NULL CHECK (interval_ms > 0),
    next_due_ms      INTEGER NOT NULL,
    failures         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    last_finished_ms INTEGER,
    lease_owner      TEXT,
    lease_expires_ms INTEGER
);
CREATE INDEX schedules_by_due ON schedules (next_due_ms);
INSERT INTO schedules (integration_id, interval_ms, next_due_ms)
    SELECT id, 300000, 0 FROM integrations;
"#,
    // 7: a running collection reports its progress (pages, records by
    // source) on its run, for whoever polls it. Adds only: instant.
    r#"
ALTER TABLE runs ADD COLUMN progress TEXT;
"#,
    // 8: an integration can be disabled (kept, not collected). Adds only.
    r#"
ALTER TABLE integrations ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;
"#,
    // 9: when each API token last signed someone in. Adds only.
    r#"
ALTER TABLE api_tokens ADD COLUMN last_used_at_ms INTEGER;
"#,
    // 10: when each source of an integration was last collected, for
    // plugins whose sources have intervals of their own. Adds only.
    r#"
CREATE TABLE source_collections (
    integration_id    INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    source            TEXT NOT NULL,
    last_collected_ms INTEGER NOT NULL,
    PRIMARY KEY (integration_id, source)
) WITHOUT ROWID;
"#,
    // 11: an action is audited before it reaches the plugin ("started")
    // and again with its outcome, which names the start it concludes; a
    // start nothing concludes is an action whose outcome is unknown (the
    // host died or lost its caller mid-action). Adds only.
    r#"
ALTER TABLE audit ADD COLUMN attempt_id INTEGER REFERENCES audit(id);
CREATE INDEX audit_by_attempt ON audit (attempt_id) WHERE attempt_id IS NOT NULL;
"#,
];

/// The schema version this build writes.
pub fn latest_version() -> u32 {
    MIGRATIONS.len() as u32
}

/// Brings the database to [`latest_version`]; a no-op when it is current.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    migrate_to(conn, latest_version())
}

/// Applies the migrations up to `target` (tests build old databases with it).
pub(super) fn migrate_to(conn: &mut Connection, target: u32) -> Result<()> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > latest_version() {
        return Err(StoreError::Invalid(format!(
            "the database schema is version {current}, newer than this oort-host understands ({}); upgrade oort-host",
            latest_version()
        )));
    }
    if current > 0 && current < 2 && target >= 2 {
        // Migration 2 rebuilds the records table (~1 min per million records
        // measured here), and the operator should know why start-up waits.
        tracing::warn!(
            "upgrading the database schema from version {current} to {target}; this rewrites stored records once and can take about a minute per million of them"
        );
    }
    let wanted = MIGRATIONS.iter().take(target as usize);
    for (index, sql) in wanted.enumerate().skip(current as usize) {
        let version = index as u32 + 1;
        // IMMEDIATE: two processes opening a fresh data directory at once must
        // not both apply the same migration.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now >= version {
            continue;
        }
        tx.execute_batch(sql)
            .map_err(|e| StoreError::Invalid(format!("schema migration {version} failed: {e}")))?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}
