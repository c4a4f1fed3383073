//! The append-only audit trail. There is deliberately no method that updates
//! or deletes an entry, and triggers in the schema refuse both anyway.

use rusqlite::{Row, params};

use super::{AuditEntry, IntegrationId, Result, Store, StoreError};
use crate::backend::AuditStore;

impl AuditStore for Store {
    fn append_audit(&self, entry: &AuditEntry) -> Result<i64> {
        let conn = self.conn();
        conn.prepare_cached(
            "INSERT INTO audit (at_ms, integration_id, actor, role, action, target, reason, outcome, attempt_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
                entry.at_ms,
                entry.integration_id,
                entry.actor,
                entry.role.map(|r| r.as_str()),
                entry.action,
                entry.target,
            entry.reason,
            entry.outcome,
            entry.attempt
        ])?;
        Ok(conn.last_insert_rowid())
    }

    fn audit(&self, integration: Option<IntegrationId>) -> Result<Vec<AuditEntry>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT at_ms, integration_id, actor, role, action, target, reason, outcome, id, attempt_id
             FROM audit WHERE ?1 IS NULL OR integration_id = ?1 ORDER BY at_ms, id",
        )?;
        let rows = stmt
            .query_map([integration], audit_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(decode).collect()
    }

    fn unconcluded_attempts(
        &self,
        integration: Option<IntegrationId>,
        started_before_ms: i64,
    ) -> Result<Vec<i64>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT s.id FROM audit s
             WHERE (?1 IS NULL OR s.integration_id = ?1) AND s.at_ms < ?2
               AND s.action LIKE 'act:%' AND s.outcome LIKE '{STARTED}%'
               AND NOT EXISTS (SELECT 1 FROM audit o WHERE o.attempt_id = s.id)
             ORDER BY s.id"
        ))?;
        Ok(stmt
            .query_map(params![integration, started_before_ms], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

/// How the entry written before an action reaches its plugin begins.
pub const STARTED: &str = "started";

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
        id: Some(row.get(8)?),
        attempt: row.get(9)?,
    };
    Ok((entry, row.get(3)?))
}

fn decode((mut entry, role): AuditRow) -> Result<AuditEntry> {
    entry.role = role.map(|r| r.parse()).transpose().map_err(|e: String| {
        StoreError::Corrupt(format!("audit entry of `{}`: {e}", entry.actor))
    })?;
    Ok(entry)
}
