//! Tenants, integrations, their config and their encrypted secrets.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{
    Integration, IntegrationChange, IntegrationId, NewIntegration, Result, SecretValue, Store,
    StoreError, from_json, to_json,
};
use crate::backend::{Backend, IntegrationStore};

const SELECT: &str = "SELECT i.id, t.name, i.name, i.plugin_id, i.api_base_url, i.granted_capabilities, i.created_at_ms,
        i.enabled
     FROM integrations i JOIN tenants t ON t.id = i.tenant_id";

/// An integration row before its config and secret names are attached.
type IntegrationRow = (
    IntegrationId,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    bool,
);

impl IntegrationStore for Store {
    fn create_integration(&self, new: &NewIntegration) -> Result<Integration> {
        validate_new(new)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let now = self.now_ms();
        tx.execute(
            "INSERT INTO tenants (name, created_at_ms) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
            params![new.tenant, now],
        )?;
        let tenant_id: i64 = tx.query_row(
            "SELECT id FROM tenants WHERE name = ?1",
            [&new.tenant],
            |r| r.get(0),
        )?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM integrations WHERE tenant_id = ?1 AND name = ?2)",
            params![tenant_id, new.name],
            |r| r.get(0),
        )?;
        if exists {
            return Err(StoreError::Conflict(format!(
                "integration `{}` already exists in tenant `{}`; choose another name or remove it first",
                new.name, new.tenant
            )));
        }
        tx.execute(
            "INSERT INTO integrations (tenant_id, name, plugin_id, api_base_url, granted_capabilities, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![tenant_id, new.name, new.plugin_id, new.api_base_url, to_json(&new.granted_capabilities), now],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut config = tx.prepare_cached(
                "INSERT INTO integration_config (integration_id, name, value) VALUES (?1, ?2, ?3)",
            )?;
            for (name, value) in &new.config {
                config.execute(params![id, name, value])?;
            }
            for (field, value) in &new.secrets {
                insert_secret(&tx, self.key().seal(id, field, value)?, id, field, now)?;
            }
        }
        // Due at once: a new integration is collected on the next tick.
        tx.execute(
            "INSERT INTO schedules (integration_id, interval_ms, next_due_ms) VALUES (?1, ?2, ?3)",
            params![id, crate::DEFAULT_INTERVAL_MS, now],
        )?;
        tx.commit()?;
        load(&conn, id)?.ok_or_else(|| {
            StoreError::NotFound(format!(
                "integration {id} vanished right after it was created"
            ))
        })
    }

    fn integration(&self, tenant: &str, name: &str) -> Result<Option<Integration>> {
        let conn = self.conn();
        let row = conn
            .query_row(
                &format!("{SELECT} WHERE t.name = ?1 AND i.name = ?2"),
                params![tenant, name],
                integration_row,
            )
            .optional()?;
        row.map(|row| complete(&conn, row)).transpose()
    }

    fn integration_by_id(&self, id: IntegrationId) -> Result<Option<Integration>> {
        load(&self.conn(), id)
    }

    fn integrations(&self, tenant: Option<&str>) -> Result<Vec<Integration>> {
        let conn = self.conn();
        let rows = {
            let mut stmt = conn.prepare_cached(&format!(
                "{SELECT} WHERE ?1 IS NULL OR t.name = ?1 ORDER BY t.name, i.name"
            ))?;
            stmt.query_map([tenant], integration_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
        };
        rows.into_iter().map(|row| complete(&conn, row)).collect()
    }

    fn remove_integration(&self, id: IntegrationId) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        // Explicit rather than relying on ON DELETE CASCADE, so the order is
        // visible and a missing cascade in a future table fails loudly (the
        // final delete would hit the foreign key).
        for table in [
            "records",
            "events",
            "event_pages",
            "dictionaries",
            "checkpoints",
            "secrets",
            "runs",
            "findings",
            "integration_config",
        ] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE integration_id = ?1"),
                [id],
            )?;
        }
        let removed = tx.execute("DELETE FROM integrations WHERE id = ?1", [id])?;
        if removed == 0 {
            return Err(StoreError::NotFound(format!(
                "integration {id} does not exist"
            )));
        }
        tx.commit()?;
        Ok(())
    }

    // ---- secrets (scoped to one integration; there is no cross-integration lookup)

    fn secret(&self, integration: IntegrationId, field: &str) -> Result<Option<SecretValue>> {
        let sealed: Option<Vec<u8>> = self
            .conn()
            .query_row(
                "SELECT value FROM secrets WHERE integration_id = ?1 AND field = ?2",
                params![integration, field],
                |r| r.get(0),
            )
            .optional()?;
        sealed
            .map(|sealed| self.key().open(integration, field, &sealed))
            .transpose()
    }

    fn update_integration(
        &self,
        id: IntegrationId,
        change: &IntegrationChange,
    ) -> Result<Integration> {
        check_field_names(
            change
                .config
                .iter()
                .map(|(name, _)| name)
                .chain(change.set_secrets.iter().map(|(name, _)| name))
                .chain(change.cleared_secrets.iter()),
        )?;
        let sealed = change
            .set_secrets
            .iter()
            .map(|(field, value)| Ok((field, self.key().seal(id, field, value)?)))
            .collect::<Result<Vec<_>>>()?;
        let now = self.now_ms();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        ensure_exists(&tx, id)?;
        tx.execute(
            "DELETE FROM integration_config WHERE integration_id = ?1",
            [id],
        )?;
        {
            let mut config = tx.prepare_cached(
                "INSERT INTO integration_config (integration_id, name, value) VALUES (?1, ?2, ?3)",
            )?;
            for (name, value) in &change.config {
                config.execute(params![id, name, value])?;
            }
            let mut clear =
                tx.prepare_cached("DELETE FROM secrets WHERE integration_id = ?1 AND field = ?2")?;
            for field in &change.cleared_secrets {
                clear.execute(params![id, field])?;
            }
            for (field, sealed) in sealed {
                clear.execute(params![id, field])?;
                insert_secret(&tx, sealed, id, field, now)?;
            }
        }
        tx.commit()?;
        load(&conn, id)?.ok_or_else(|| missing(id))
    }

    fn set_enabled(&self, id: IntegrationId, enabled: bool) -> Result<Integration> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE integrations SET enabled = ?2 WHERE id = ?1",
            params![id, enabled],
        )?;
        if changed == 0 {
            return Err(missing(id));
        }
        if enabled {
            tx.execute(
                "UPDATE schedules SET next_due_ms = MIN(next_due_ms, ?2) WHERE integration_id = ?1",
                params![id, self.now_ms()],
            )?;
        }
        tx.commit()?;
        load(&conn, id)?.ok_or_else(|| missing(id))
    }
}

fn insert_secret(
    conn: &Connection,
    sealed: Vec<u8>,
    id: IntegrationId,
    field: &str,
    now: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO secrets (integration_id, field, value, updated_at_ms) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![id, field, sealed, now])?;
    Ok(())
}

/// `NotFound` unless the integration exists: writes keyed by a removed
/// integration would otherwise surface as a bare foreign-key error.
pub(super) fn ensure_exists(conn: &Connection, id: IntegrationId) -> Result<()> {
    let exists: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM integrations WHERE id = ?1)")?
        .query_row([id], |r| r.get(0))?;
    if exists { Ok(()) } else { Err(missing(id)) }
}

/// Advances the integration's write sequence for the transaction `conn` is
/// in and returns it (see `Store::write_mark`).
pub(super) fn next_write_seq(conn: &Connection, id: IntegrationId) -> Result<i64> {
    conn.prepare_cached(
        "UPDATE integrations SET write_seq = write_seq + 1 WHERE id = ?1 RETURNING write_seq",
    )?
    .query_row([id], |r| r.get(0))
    .optional()?
    .ok_or_else(|| missing(id))
}

/// The integration's write sequence now.
pub(super) fn write_seq(conn: &Connection, id: IntegrationId) -> Result<i64> {
    conn.prepare_cached("SELECT write_seq FROM integrations WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| missing(id))
}

fn missing(id: IntegrationId) -> StoreError {
    StoreError::NotFound(format!("integration {id} does not exist (was it removed?)"))
}

/// A name that appears in messages and the audit trail (tenant, integration,
/// plugin id): not blank, no control characters.
pub(super) fn check_plain(what: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(StoreError::Invalid(format!("the {what} cannot be empty")));
    }
    if value.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "the {what} cannot contain control characters"
        )));
    }
    Ok(())
}

fn validate_new(new: &NewIntegration) -> Result<()> {
    for (what, value) in [
        ("tenant", &new.tenant),
        ("integration name", &new.name),
        ("plugin id", &new.plugin_id),
    ] {
        check_plain(what, value)?;
    }
    check_field_names(
        new.config
            .iter()
            .map(|(name, _)| name)
            .chain(new.secrets.iter().map(|(name, _)| name)),
    )
}

/// Field names are not empty and each appears once.
fn check_field_names<'a>(names: impl Iterator<Item = &'a String>) -> Result<()> {
    let mut seen = HashSet::new();
    for name in names {
        if name.is_empty() {
            return Err(StoreError::Invalid(
                "a config field name cannot be empty".into(),
            ));
        }
        if !seen.insert(name.as_str()) {
            return Err(StoreError::Invalid(format!(
                "config field `{name}` is given more than once"
            )));
        }
    }
    Ok(())
}

fn integration_row(row: &Row<'_>) -> rusqlite::Result<IntegrationRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
    ))
}

fn load(conn: &Connection, id: IntegrationId) -> Result<Option<Integration>> {
    let row = conn
        .query_row(&format!("{SELECT} WHERE i.id = ?1"), [id], integration_row)
        .optional()?;
    row.map(|row| complete(conn, row)).transpose()
}

fn complete(conn: &Connection, row: IntegrationRow) -> Result<Integration> {
    let (id, tenant, name, plugin_id, api_base_url, capabilities, created_at_ms, enabled) = row;
    let config = conn
        .prepare_cached(
            "SELECT name, value FROM integration_config WHERE integration_id = ?1 ORDER BY rowid",
        )?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<(String, String)>>>()?;
    let secret_fields = conn
        .prepare_cached("SELECT field FROM secrets WHERE integration_id = ?1 ORDER BY field")?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    let granted_capabilities = from_json(
        &capabilities,
        &format!("capabilities of integration `{name}`"),
    )?;
    Ok(Integration {
        id,
        tenant,
        name,
        plugin_id,
        config,
        secret_fields,
        api_base_url,
        granted_capabilities,
        created_at_ms,
        enabled,
    })
}
