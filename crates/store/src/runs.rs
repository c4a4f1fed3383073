//! Runs: one row per validate / test / collect / action execution.

use rusqlite::{OptionalExtension, Row, params};

use super::integrations::ensure_exists;
use super::{
    IntegrationId, Result, Run, RunId, RunKind, RunStatus, Store, StoreError, from_json, to_json,
};
use crate::backend::{Backend, RunStore};

impl RunStore for Store {
    fn start_run(&self, integration: IntegrationId, kind: RunKind) -> Result<RunId> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        ensure_exists(&tx, integration)?;
        tx.execute(
            "INSERT INTO runs (integration_id, kind, status, started_at_ms) VALUES (?1, ?2, 'running', ?3)",
            params![integration, enum_text(&kind), self.now_ms()],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    fn finish_run(
        &self,
        run: RunId,
        status: RunStatus,
        summary: Option<&serde_json::Value>,
        error: Option<&str>,
    ) -> Result<()> {
        if status == RunStatus::Running {
            return Err(StoreError::Invalid(
                "a run cannot be finished with status `running`".into(),
            ));
        }
        let conn = self.conn();
        let changed = conn.execute(
            "UPDATE runs SET status = ?2, finished_at_ms = ?3, summary = ?4, error = ?5
             WHERE id = ?1 AND status = 'running'",
            params![
                run,
                enum_text(&status),
                self.now_ms(),
                summary.map(to_json),
                error
            ],
        )?;
        if changed == 0 {
            let exists: Option<String> = conn
                .query_row("SELECT status FROM runs WHERE id = ?1", [run], |r| r.get(0))
                .optional()?;
            return Err(match exists {
                Some(status) => {
                    StoreError::Conflict(format!("run {run} is already finished ({status})"))
                }
                None => StoreError::NotFound(format!("run {run} does not exist")),
            });
        }
        Ok(())
    }

    fn runs(&self, integration: IntegrationId, limit: usize) -> Result<Vec<Run>> {
        let rows = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {RUN_COLUMNS} FROM runs WHERE integration_id = ?1 ORDER BY id DESC LIMIT ?2"
            ))?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            stmt.query_map(params![integration, limit], run_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
        };
        rows.into_iter().map(decode).collect()
    }

    fn run(&self, run: RunId) -> Result<Option<Run>> {
        let row = self
            .conn()
            .query_row(
                &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"),
                [run],
                run_row,
            )
            .optional()?;
        row.map(decode).transpose()
    }

    fn record_run_progress(&self, run: RunId, progress: &serde_json::Value) -> Result<()> {
        let changed = self.conn().execute(
            "UPDATE runs SET progress = ?2 WHERE id = ?1 AND status = 'running'",
            params![run, to_json(progress)],
        )?;
        if changed == 0 {
            return Err(match self.run(run)? {
                Some(r) => StoreError::Conflict(format!(
                    "run {run} is already finished ({})",
                    enum_text(&r.status)
                )),
                None => StoreError::NotFound(format!("run {run} does not exist")),
            });
        }
        Ok(())
    }
}

const RUN_COLUMNS: &str =
    "id, integration_id, kind, status, started_at_ms, finished_at_ms, summary, error, progress";

struct RunRow {
    id: RunId,
    integration_id: IntegrationId,
    kind: String,
    status: String,
    started_at_ms: i64,
    finished_at_ms: Option<i64>,
    summary: Option<String>,
    error: Option<String>,
    progress: Option<String>,
}

fn run_row(row: &Row<'_>) -> rusqlite::Result<RunRow> {
    Ok(RunRow {
        id: row.get(0)?,
        integration_id: row.get(1)?,
        kind: row.get(2)?,
        status: row.get(3)?,
        started_at_ms: row.get(4)?,
        finished_at_ms: row.get(5)?,
        summary: row.get(6)?,
        error: row.get(7)?,
        progress: row.get(8)?,
    })
}

fn decode(
    RunRow {
        id,
        integration_id,
        kind,
        status,
        started_at_ms,
        finished_at_ms,
        summary,
        error,
        progress,
    }: RunRow,
) -> Result<Run> {
    Ok(Run {
        id,
        integration_id,
        kind: from_json(&format!("\"{kind}\""), "run kind")?,
        status: from_json(&format!("\"{status}\""), "run status")?,
        started_at_ms,
        finished_at_ms,
        summary: summary
            .map(|s| from_json(&s, &format!("summary of run {id}")))
            .transpose()?,
        error,
        progress: progress
            .map(|p| from_json(&p, &format!("progress of run {id}")))
            .transpose()?,
    })
}

/// The snake_case name serde gives a unit variant (matches the CHECK constraints).
pub(super) fn enum_text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => unreachable!("unit enum serializes to a string, got {other:?}"),
    }
}
