//! Operators: the people who run actions, each with one role.

use rusqlite::{OptionalExtension, Row, params};

use super::integrations::check_plain;
use super::{Operator, Result, Store, StoreError};
use crate::backend::{Backend, OperatorStore};
use oort_model::Role;

const MAX_NAME_LEN: usize = 64;

impl OperatorStore for Store {
    fn add_operator(&self, name: &str, role: Role, tenant: Option<&str>) -> Result<Operator> {
        validate_name(name)?;
        if let Some(tenant) = tenant {
            check_plain("tenant", tenant)?;
        }
        let operator = Operator {
            name: name.to_owned(),
            role,
            tenant: tenant.map(str::to_owned),
            created_at_ms: self.now_ms(),
        };
        let conn = self.conn();
        let inserted = conn.execute(
            "INSERT INTO operators (name, role, tenant, created_at_ms) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name) DO NOTHING",
            params![operator.name, role.as_str(), operator.tenant, operator.created_at_ms],
        )?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "operator `{name}` already exists"
            )));
        }
        Ok(operator)
    }

    fn set_operator_role(&self, name: &str, role: Role) -> Result<Operator> {
        let changed = self.conn().execute(
            "UPDATE operators SET role = ?2 WHERE name = ?1",
            params![name, role.as_str()],
        )?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!("unknown operator `{name}`")));
        }
        self.operator(name)?
            .ok_or_else(|| StoreError::NotFound(format!("unknown operator `{name}`")))
    }

    fn operator(&self, name: &str) -> Result<Option<Operator>> {
        let row = self
            .conn()
            .query_row(
                "SELECT name, role, tenant, created_at_ms FROM operators WHERE name = ?1",
                [name],
                operator_row,
            )
            .optional()?;
        row.map(decode).transpose()
    }

    fn operators(&self) -> Result<Vec<Operator>> {
        let rows = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(
                "SELECT name, role, tenant, created_at_ms FROM operators ORDER BY name",
            )?;
            stmt.query_map([], operator_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
        };
        rows.into_iter().map(decode).collect()
    }
}

/// Names appear in the audit trail and in messages: keep them plain.
fn validate_name(name: &str) -> Result<()> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "-_.@".contains(c);
    if name.is_empty() || name.len() > MAX_NAME_LEN || !name.chars().all(ok_char) {
        return Err(StoreError::Invalid(format!(
            "operator name `{}` is not allowed: use 1 to {MAX_NAME_LEN} letters, digits, `-`, `_`, `.` or `@`",
            name.escape_default()
        )));
    }
    Ok(())
}

type OperatorRow = (String, String, Option<String>, i64);

fn operator_row(row: &Row<'_>) -> rusqlite::Result<OperatorRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
}

fn decode((name, role, tenant, created_at_ms): OperatorRow) -> Result<Operator> {
    let role = role
        .parse()
        .map_err(|e: String| StoreError::Corrupt(format!("operator `{name}`: {e}")))?;
    Ok(Operator {
        name,
        role,
        tenant,
        created_at_ms,
    })
}
