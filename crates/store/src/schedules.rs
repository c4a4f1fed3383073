//! Collection schedules and the leases that keep one integration collected
//! by one process at a time. SQLite has one writer, so each lease change is
//! a single conditional UPDATE: two processes cannot both win it.

use rusqlite::{OptionalExtension, Row, params};

use super::{IntegrationId, Result, Schedule, SourceCollection, Store, StoreError};
use crate::backend::ScheduleStore;

const SELECT: &str = "SELECT s.integration_id, t.name, s.interval_ms, s.next_due_ms, s.failures,
        s.last_error, s.last_finished_ms, s.lease_owner, s.lease_expires_ms
     FROM schedules s
     JOIN integrations i ON i.id = s.integration_id
     JOIN tenants t ON t.id = i.tenant_id";

impl ScheduleStore for Store {
    fn schedule(&self, integration: IntegrationId) -> Result<Schedule> {
        self.conn()
            .prepare_cached(&format!("{SELECT} WHERE s.integration_id = ?1"))?
            .query_row([integration], schedule_row)
            .optional()?
            .ok_or_else(|| no_schedule(integration))
    }

    fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<Schedule>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT} WHERE s.next_due_ms <= ?1 AND i.enabled
               AND (s.lease_owner IS NULL OR s.lease_expires_ms <= ?1)
             ORDER BY s.next_due_ms, s.integration_id LIMIT ?2"
        ))?;
        Ok(stmt
            .query_map(params![now_ms, limit as i64], schedule_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn set_interval(
        &self,
        integration: IntegrationId,
        interval_ms: i64,
        next_due_ms: Option<i64>,
    ) -> Result<Schedule> {
        if interval_ms <= 0 {
            return Err(StoreError::Invalid(
                "a collection interval must be positive".into(),
            ));
        }
        let changed = self.conn().execute(
            "UPDATE schedules SET interval_ms = ?2,
                 next_due_ms = COALESCE(?3, last_finished_ms + ?2, next_due_ms)
             WHERE integration_id = ?1",
            params![integration, interval_ms, next_due_ms],
        )?;
        if changed == 0 {
            return Err(no_schedule(integration));
        }
        self.schedule(integration)
    }

    fn acquire_lease(
        &self,
        integration: IntegrationId,
        owner: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool> {
        let conn = self.conn();
        let taken = conn.execute(
            "UPDATE schedules SET lease_owner = ?2, lease_expires_ms = ?3 + ?4
             WHERE integration_id = ?1
               AND (lease_owner IS NULL OR lease_owner = ?2 OR lease_expires_ms <= ?3)",
            params![integration, owner, now_ms, ttl_ms],
        )?;
        if taken == 0 {
            let exists: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM schedules WHERE integration_id = ?1)",
                [integration],
                |r| r.get(0),
            )?;
            if !exists {
                return Err(no_schedule(integration));
            }
        }
        Ok(taken == 1)
    }

    fn take_over_lease(
        &self,
        integration: IntegrationId,
        from: &str,
        owner: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool> {
        let taken = self.conn().execute(
            "UPDATE schedules SET lease_owner = ?3, lease_expires_ms = ?4 + ?5
             WHERE integration_id = ?1 AND lease_owner = ?2",
            params![integration, from, owner, now_ms, ttl_ms],
        )?;
        Ok(taken == 1)
    }

    fn release_lease(&self, integration: IntegrationId, owner: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE schedules SET lease_owner = NULL, lease_expires_ms = NULL
             WHERE integration_id = ?1 AND lease_owner = ?2",
            params![integration, owner],
        )?;
        Ok(())
    }

    fn record_collection(
        &self,
        integration: IntegrationId,
        finished_ms: i64,
        next_due_ms: i64,
        error: Option<&str>,
        sources: &[&str],
    ) -> Result<Schedule> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE schedules SET last_finished_ms = ?2, next_due_ms = ?3, last_error = ?4,
                 failures = CASE WHEN ?4 IS NULL THEN 0 ELSE failures + 1 END
             WHERE integration_id = ?1",
            params![integration, finished_ms, next_due_ms, error],
        )?;
        if changed == 0 {
            return Err(no_schedule(integration));
        }
        if error.is_none() {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO source_collections (integration_id, source, last_collected_ms)
                 VALUES (?1, ?2, ?3)
                 ON CONFLICT (integration_id, source) DO UPDATE SET last_collected_ms = ?3",
            )?;
            for source in sources {
                upsert.execute(params![integration, source, finished_ms])?;
            }
        }
        tx.commit()?;
        drop(conn);
        self.schedule(integration)
    }

    fn source_collections(&self, integration: IntegrationId) -> Result<Vec<SourceCollection>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT source, last_collected_ms FROM source_collections
             WHERE integration_id = ?1 ORDER BY source",
        )?;
        Ok(stmt
            .query_map([integration], |row| {
                Ok(SourceCollection {
                    source: row.get(0)?,
                    last_collected_ms: row.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

fn no_schedule(integration: IntegrationId) -> StoreError {
    StoreError::NotFound(format!("no integration {integration}"))
}

fn schedule_row(row: &Row<'_>) -> rusqlite::Result<Schedule> {
    Ok(Schedule {
        integration_id: row.get(0)?,
        tenant: row.get(1)?,
        interval_ms: row.get(2)?,
        next_due_ms: row.get(3)?,
        failures: row.get(4)?,
        last_error: row.get(5)?,
        last_finished_ms: row.get(6)?,
        lease_owner: row.get(7)?,
        lease_expires_ms: row.get(8)?,
    })
}
