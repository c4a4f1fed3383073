//! Operators' API tokens. Only a token's SHA-256 is stored: the database
//! alone cannot sign anyone in.

use rusqlite::{OptionalExtension, Row, params};

use super::{ApiToken, NewToken, Result, Store, StoreError};
use crate::backend::{Backend, TokenStore};

const SELECT: &str =
    "SELECT id, operator, label, created_at_ms, expires_at_ms, revoked_at_ms, last_used_at_ms
     FROM api_tokens";

/// Labels appear in listings and the audit trail.
const MAX_LABEL_LEN: usize = 64;

impl TokenStore for Store {
    fn add_token(&self, new: &NewToken) -> Result<ApiToken> {
        if new.label.len() > MAX_LABEL_LEN || new.label.chars().any(char::is_control) {
            return Err(StoreError::Invalid(format!(
                "a token label is at most {MAX_LABEL_LEN} bytes without control characters"
            )));
        }
        let now = self.now_ms();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let known: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM operators WHERE name = ?1)",
            [&new.operator],
            |r| r.get(0),
        )?;
        if !known {
            return Err(StoreError::NotFound(format!(
                "unknown operator `{}`: add one with `oort-host operators add`",
                new.operator
            )));
        }
        tx.execute(
            "INSERT INTO api_tokens (operator, label, hash, created_at_ms, expires_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                new.operator,
                new.label,
                &new.hash[..],
                now,
                new.expires_at_ms
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(ApiToken {
            id,
            operator: new.operator.clone(),
            label: new.label.clone(),
            created_at_ms: now,
            expires_at_ms: new.expires_at_ms,
            revoked_at_ms: None,
            last_used_at_ms: None,
        })
    }

    fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<ApiToken>> {
        Ok(self
            .conn()
            .prepare_cached(&format!("{SELECT} WHERE hash = ?1"))?
            .query_row([&hash[..]], token_row)
            .optional()?)
    }

    fn tokens(&self, operator: Option<&str>) -> Result<Vec<ApiToken>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT} WHERE ?1 IS NULL OR operator = ?1 ORDER BY id"
        ))?;
        Ok(stmt
            .query_map([operator], token_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn token_used(&self, id: i64, at_ms: i64) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE api_tokens SET last_used_at_ms = ?2 WHERE id = ?1")?
            .execute(params![id, at_ms])?;
        Ok(())
    }

    fn revoke_token(&self, id: i64) -> Result<ApiToken> {
        let now = self.now_ms();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let token = tx
            .query_row(&format!("{SELECT} WHERE id = ?1"), [id], token_row)
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("no API token {id}")))?;
        if token.revoked_at_ms.is_some() {
            return Err(StoreError::Conflict(format!(
                "API token {id} is already revoked"
            )));
        }
        tx.execute(
            "UPDATE api_tokens SET revoked_at_ms = ?2 WHERE id = ?1",
            params![id, now],
        )?;
        tx.commit()?;
        Ok(ApiToken {
            revoked_at_ms: Some(now),
            ..token
        })
    }
}

fn token_row(row: &Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: row.get(0)?,
        operator: row.get(1)?,
        label: row.get(2)?,
        created_at_ms: row.get(3)?,
        expires_at_ms: row.get(4)?,
        revoked_at_ms: row.get(5)?,
        last_used_at_ms: row.get(6)?,
    })
}
