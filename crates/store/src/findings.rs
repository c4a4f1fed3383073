//! Findings of the insights engine, upserted so re-runs never duplicate them.

use rusqlite::{OptionalExtension, Row, params};

use super::integrations::ensure_exists;
use super::{Finding, IntegrationId, Result, Store, StoreError, StoredFinding, from_json, to_json};
use crate::backend::{Backend, FindingStore};

const SELECT: &str =
    "SELECT id, insight_id, dedupe_key, title, severity, subjects, evidence, first_seen_ms,
            last_seen_ms, suggested_action, detail, updated_at_ms FROM findings";

const SEVERITIES: &[&str] = &["critical", "high", "medium", "low", "info"];

impl FindingStore for Store {
    fn upsert_findings(&self, integration: IntegrationId, findings: &[Finding]) -> Result<()> {
        for f in findings {
            if !SEVERITIES.contains(&f.severity.as_str()) {
                return Err(StoreError::Invalid(format!(
                    "finding {} `{}` has severity `{}`; use one of {}",
                    f.insight_id,
                    f.dedupe_key,
                    f.severity,
                    SEVERITIES.join(", ")
                )));
            }
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        ensure_exists(&tx, integration)?;
        let now = self.now_ms();
        {
            let mut existing = tx.prepare_cached(
                "SELECT id, evidence, first_seen_ms, last_seen_ms FROM findings
                 WHERE integration_id = ?1 AND insight_id = ?2 AND dedupe_key = ?3",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO findings (integration_id, insight_id, dedupe_key, title, severity, subjects, evidence,
                     first_seen_ms, last_seen_ms, suggested_action, detail, created_at_ms, updated_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
            )?;
            let mut update = tx.prepare_cached(
                "UPDATE findings SET title = ?2, severity = ?3, subjects = ?4, evidence = ?5, first_seen_ms = ?6,
                     last_seen_ms = ?7, suggested_action = ?8, detail = ?9, updated_at_ms = ?10
                 WHERE id = ?1",
            )?;
            for f in findings {
                let found = existing
                    .query_row(params![integration, f.insight_id, f.dedupe_key], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, i64>(3)?,
                        ))
                    })
                    .optional()?;
                match found {
                    None => {
                        insert.execute(params![
                            integration,
                            f.insight_id,
                            f.dedupe_key,
                            f.title,
                            f.severity,
                            to_json(&f.subjects),
                            to_json(&dedupe(Vec::new(), &f.evidence)),
                            f.first_seen_ms.min(f.last_seen_ms),
                            f.last_seen_ms.max(f.first_seen_ms),
                            f.suggested_action,
                            f.detail,
                            now
                        ])?;
                    }
                    Some((id, evidence, first_seen, last_seen)) => {
                        let old: Vec<String> =
                            from_json(&evidence, &format!("evidence of finding {id}"))?;
                        update.execute(params![
                            id,
                            f.title,
                            f.severity,
                            to_json(&f.subjects),
                            to_json(&dedupe(old, &f.evidence)),
                            first_seen.min(f.first_seen_ms),
                            last_seen.max(f.last_seen_ms),
                            f.suggested_action,
                            f.detail,
                            now
                        ])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn findings(&self, integration: IntegrationId) -> Result<Vec<StoredFinding>> {
        let rows = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(&format!(
                "{SELECT} WHERE integration_id = ?1
                 ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2
                          WHEN 'low' THEN 3 ELSE 4 END, last_seen_ms DESC, id"
            ))?;
            stmt.query_map([integration], finding_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
        };
        rows.into_iter().map(decode).collect()
    }

    fn finding(&self, integration: IntegrationId, id: i64) -> Result<Option<StoredFinding>> {
        let row = self
            .conn()
            .query_row(
                &format!("{SELECT} WHERE integration_id = ?1 AND id = ?2"),
                params![integration, id],
                finding_row,
            )
            .optional()?;
        row.map(decode).transpose()
    }
}

/// `old` followed by the new items it lacks, in first-seen order.
fn dedupe(mut old: Vec<String>, new: &[String]) -> Vec<String> {
    let mut seen: std::collections::HashSet<String> = old.iter().cloned().collect();
    for item in new {
        if seen.insert(item.clone()) {
            old.push(item.clone());
        }
    }
    old
}

struct FindingRow {
    id: i64,
    subjects: String,
    evidence: String,
    finding: Finding,
    updated_at_ms: i64,
}

fn finding_row(row: &Row<'_>) -> rusqlite::Result<FindingRow> {
    Ok(FindingRow {
        id: row.get(0)?,
        subjects: row.get(5)?,
        evidence: row.get(6)?,
        finding: Finding {
            insight_id: row.get(1)?,
            dedupe_key: row.get(2)?,
            title: row.get(3)?,
            severity: row.get(4)?,
            subjects: Vec::new(),
            evidence: Vec::new(),
            first_seen_ms: row.get(7)?,
            last_seen_ms: row.get(8)?,
            suggested_action: row.get(9)?,
            detail: row.get(10)?,
        },
        updated_at_ms: row.get(11)?,
    })
}

fn decode(row: FindingRow) -> Result<StoredFinding> {
    let FindingRow {
        id,
        subjects,
        evidence,
        mut finding,
        updated_at_ms,
    } = row;
    finding.subjects = from_json(&subjects, &format!("subjects of finding {id}"))?;
    finding.evidence = from_json(&evidence, &format!("evidence of finding {id}"))?;
    Ok(StoredFinding {
        id,
        finding,
        updated_at_ms,
    })
}
