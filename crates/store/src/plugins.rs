//! Installed plugins.

use rusqlite::{OptionalExtension, Row, params};

use super::{InstalledPlugin, Result, Store, from_json, to_json};
use crate::backend::PluginStore;

const SELECT: &str =
    "SELECT id, manifest, wasm_sha256, wasm_path, wit_version, installed_at_ms FROM plugins";

/// A row before its manifest JSON is parsed (parsing can fail with our error type).
type PluginRow = (String, String, String, String, String, i64);

impl PluginStore for Store {
    fn upsert_plugin(&self, plugin: &InstalledPlugin) -> Result<()> {
        self.conn().execute(
            "INSERT INTO plugins (id, manifest, wasm_sha256, wasm_path, wit_version, installed_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET manifest = excluded.manifest, wasm_sha256 = excluded.wasm_sha256,
                 wasm_path = excluded.wasm_path, wit_version = excluded.wit_version,
                 installed_at_ms = excluded.installed_at_ms",
            params![
                plugin.id,
                to_json(&plugin.manifest),
                plugin.wasm_sha256,
                plugin.wasm_path,
                plugin.wit_version,
                plugin.installed_at_ms
            ],
        )?;
        Ok(())
    }

    fn plugin(&self, id: &str) -> Result<Option<InstalledPlugin>> {
        let row = self
            .conn()
            .query_row(&format!("{SELECT} WHERE id = ?1"), [id], plugin_row)
            .optional()?;
        row.map(decode).transpose()
    }

    fn plugins(&self) -> Result<Vec<InstalledPlugin>> {
        let rows = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(&format!("{SELECT} ORDER BY id"))?;
            stmt.query_map([], plugin_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
        };
        rows.into_iter().map(decode).collect()
    }
}

fn plugin_row(row: &Row<'_>) -> rusqlite::Result<PluginRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn decode(
    (id, manifest, wasm_sha256, wasm_path, wit_version, installed_at_ms): PluginRow,
) -> Result<InstalledPlugin> {
    let manifest = from_json(&manifest, &format!("manifest of plugin `{id}`"))?;
    Ok(InstalledPlugin {
        id,
        manifest,
        wasm_sha256,
        wasm_path,
        wit_version,
        installed_at_ms,
    })
}
