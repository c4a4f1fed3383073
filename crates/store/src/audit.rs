//! The append-only audit trail. There is deliberately no method that updates
//! or deletes an entry, and triggers in the schema refuse both anyway.

use rusqlite::{Row, params};

use super::{AuditEntry, IntegrationId, Result, Store, StoreError};
use crate::backend::AuditStore;

impl AuditStore for Store {
    fn append_audit(&self, entry: &AuditEntry) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO audit (at_ms, integration_id, actor, role, action, target, reason, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                entry.at_ms,
                entry.integration_id,
                entry.actor,
                entry.role.map(|r| r.as_str()),
                entry.action,
                entry.target,
                entry.reason,
                entry.outcome
            ])?;
        Ok(())
    }

    fn audit(&self, integration: Option<IntegrationId>) -> Result<Vec<AuditEntry>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT at_ms, integration_id, actor, role, action, target, reason, outcome FROM audit
             WHERE ?1 IS NULL OR integration_id = ?1 ORDER BY at_ms, id",
        )?;
        let rows = stmt
            .query_map([integration], audit_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(decode).collect()
    }
}

type AuditRow = (AuditEntry, Option<String>);

fn audit_row(row: &Row<'_>) -> rusqlite::Result<AuditRow> {
    let entry = AuditEntry {
        at_ms: row.get(0)?,
        integration_id: row.get(1)?,
        actor: row.get(2)?,
        role: None,
        action: row.get(4)?,
        target: row.get(5)?,
        reason: row.get(6)?,
        outcome: row.get(7)?,
    };
    Ok((entry, row.get(3)?))
}

fn decode((mut entry, role): AuditRow) -> Result<AuditEntry> {
    entry.role = role.map(|r| r.parse()).transpose().map_err(|e: String| {
        StoreError::Corrupt(format!("audit entry of `{}`: {e}", entry.actor))
    })?;
    Ok(entry)
}
