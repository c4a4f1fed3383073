//! Raw JSON of state records (and of events written before schema 4, which
//! are written a page at a time since: see `event_pages`), compressed with
//! zstd and a dictionary trained per (integration, kind). Collected JSON
//! repeats its field names and most of its values record after record: a
//! dictionary gets ~6x on Duo auth logs where compressing each ~1 KB row
//! alone gets 1.7x. Normalized views of rows stay plain JSON.
//!
//! A dictionary is trained from the first batch that holds at least
//! [`TRAIN_MIN_RECORDS`] records of a kind, stored, and never changed. Rows
//! written before it, and kinds that never come in batches that large, stay
//! plain text (`raw_dict` NULL). A dictionary belongs to one integration, so
//! no tenant's data shapes how another's is stored; dictionary ids are never
//! reused (AUTOINCREMENT), so a cached dictionary can only ever match the
//! rows it wrote.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

use super::{IntegrationId, Result, StoreError};
use oort_model::CollectedRecord;

/// Records of one kind in one batch needed to train its dictionary.
pub const TRAIN_MIN_RECORDS: usize = 256;
/// 32 KiB: 16 and 64 KiB measured 5.8x and 7.0x on auth logs, 32 KiB 5.9x.
const DICT_BYTES: usize = 32 * 1024;
/// zstd level 1: level 3 compresses ~2% smaller and ~15% slower.
const LEVEL: i32 = 1;
/// The storage capability caps raw JSON at 1 MiB; a frame that claims
/// more than this is corrupt, and is not allowed to size an allocation.
const MAX_RAW_BYTES: u64 = 16 << 20;
/// Prepared dictionaries kept per process, each for encoding and for
/// decoding (a prepared one takes ~0.1–0.3 MB). A host serving many
/// integrations reloads past this (one indexed read and ~1 ms), rather
/// than holding every tenant's dictionaries in memory.
const MAX_CACHED: usize = 64;

/// How a record's raw JSON is stored.
pub enum StoredRaw<'a> {
    Text(&'a str),
    Compressed { dict: i64, bytes: Vec<u8> },
}

impl StoredRaw<'_> {
    /// The `raw_dict` column.
    pub fn dict(&self) -> Option<i64> {
        match self {
            StoredRaw::Text(_) => None,
            StoredRaw::Compressed { dict, .. } => Some(*dict),
        }
    }
}

impl rusqlite::ToSql for StoredRaw<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(match self {
            StoredRaw::Text(text) => (*text).into(),
            StoredRaw::Compressed { bytes, .. } => bytes.as_slice().into(),
        })
    }
}

struct Encoder {
    id: i64,
    dict: EncoderDictionary<'static>,
}

/// By (integration, kind); `None` once training failed for it (not retried
/// until the process restarts: the data will not have changed shape much).
type Encoders = HashMap<(IntegrationId, String), Option<Arc<Encoder>>>;

/// The dictionaries of one batch's kinds (see [`Dictionaries::for_batch`]).
pub struct BatchEncoders(Vec<(String, Arc<Encoder>)>);

impl BatchEncoders {
    /// The raw column of each record: compressed where its kind has a
    /// dictionary, plain text otherwise.
    pub fn compress<'a>(&self, records: &'a [CollectedRecord]) -> Result<Vec<StoredRaw<'a>>> {
        let mut compressors = HashMap::new();
        for (kind, encoder) in &self.0 {
            let compressor = zstd::bulk::Compressor::with_prepared_dictionary(&encoder.dict)
                .map_err(|e| StoreError::Unavailable(format!("zstd: {e}")))?;
            compressors.insert(kind.as_str(), (encoder.id, compressor));
        }
        records
            .iter()
            .map(|r| match compressors.get_mut(r.kind.as_str()) {
                None => Ok(StoredRaw::Text(&r.raw_json)),
                Some((dict, compressor)) => {
                    let bytes = compressor.compress(r.raw_json.as_bytes()).map_err(|e| {
                        StoreError::Unavailable(format!("compressing record `{}`: {e}", r.id))
                    })?;
                    Ok(StoredRaw::Compressed { dict: *dict, bytes })
                }
            })
            .collect()
    }
}

/// The process's dictionaries, loaded on first use.
#[derive(Default)]
pub struct Dictionaries {
    encoders: Mutex<Encoders>,
    /// By dictionary id.
    decoders: Mutex<HashMap<i64, Arc<DecoderDictionary<'static>>>>,
}

impl Dictionaries {
    /// The dictionaries `records` compress with: one per kind that has (or
    /// can now train) one. Needs the write connection only for lookups and
    /// a training's insert; the compression itself runs without it.
    pub fn for_batch(
        &self,
        conn: &Connection,
        integration: IntegrationId,
        records: &[CollectedRecord],
        now_ms: i64,
    ) -> Result<BatchEncoders> {
        let mut encoders = Vec::new();
        for kind in super::records::batch_kinds(records) {
            if let Some(encoder) = self.encoder(conn, integration, kind, records, now_ms)? {
                encoders.push((kind.to_string(), encoder));
            }
        }
        Ok(BatchEncoders(encoders))
    }

    /// The dictionary for `kind`: cached, stored, or trained from `records`
    /// when the batch is large enough; `None` means store plain text.
    fn encoder(
        &self,
        conn: &Connection,
        integration: IntegrationId,
        kind: &str,
        records: &[CollectedRecord],
        now_ms: i64,
    ) -> Result<Option<Arc<Encoder>>> {
        let key = (integration, kind.to_string());
        let cached = self
            .encoders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        match cached {
            Some(None) => return Ok(None),
            // Still in the database (another process may have removed the
            // integration since): checked once per batch, by primary key.
            Some(Some(encoder)) if dictionary_exists(conn, encoder.id)? => {
                return Ok(Some(encoder));
            }
            _ => {}
        }
        let stored: Option<(i64, Vec<u8>)> = conn
            .prepare_cached(
                "SELECT id, dict FROM dictionaries WHERE integration_id = ?1 AND kind = ?2",
            )?
            .query_row(params![integration, kind], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let encoder = match stored {
            Some((id, dict)) => Some(Arc::new(Encoder {
                id,
                dict: EncoderDictionary::copy(&dict, LEVEL),
            })),
            None => {
                let samples: Vec<&[u8]> = records
                    .iter()
                    .filter(|r| r.kind == kind)
                    .map(|r| r.raw_json.as_bytes())
                    .collect();
                if samples.len() < TRAIN_MIN_RECORDS {
                    return Ok(None);
                }
                // A removed integration is reported as such, not as the
                // dictionary's foreign key failing.
                super::integrations::ensure_exists(conn, integration)?;
                match zstd::dict::from_samples(&samples, DICT_BYTES) {
                    Ok(dict) => {
                        conn.prepare_cached(
                            "INSERT INTO dictionaries (integration_id, kind, dict, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
                        )?
                        .execute(params![integration, kind, dict, now_ms])?;
                        Some(Arc::new(Encoder {
                            id: conn.last_insert_rowid(),
                            dict: EncoderDictionary::copy(&dict, LEVEL),
                        }))
                    }
                    Err(e) => {
                        tracing::warn!(
                            integration, kind, error = %e,
                            "no compression dictionary could be trained; raw JSON of this kind stays uncompressed"
                        );
                        None
                    }
                }
            }
        };
        let mut encoders = self.encoders.lock().unwrap_or_else(|p| p.into_inner());
        if encoders.len() >= MAX_CACHED {
            encoders.clear();
        }
        encoders.insert(key, encoder.clone());
        Ok(encoder)
    }

    /// A row's raw JSON text: `raw` as stored, decompressed with dictionary
    /// `dict` when it has one.
    pub fn raw_text(
        &self,
        conn: &Connection,
        dctx: &mut zstd::zstd_safe::DCtx<'static>,
        raw: rusqlite::types::ValueRef<'_>,
        dict: Option<i64>,
        id: &str,
    ) -> Result<String> {
        let corrupt = |what: String| {
            StoreError::Corrupt(format!(
                "stored raw JSON of record `{id}` is unreadable ({what}); the database may be corrupted"
            ))
        };
        let Some(dict) = dict else {
            return raw
                .as_str()
                .map(str::to_string)
                .map_err(|e| corrupt(e.to_string()));
        };
        let bytes = raw.as_blob().map_err(|e| corrupt(e.to_string()))?;
        let size = match zstd::zstd_safe::get_frame_content_size(bytes) {
            Ok(Some(size)) if size <= MAX_RAW_BYTES => size as usize,
            Ok(Some(size)) => return Err(corrupt(format!("a frame of {size} bytes"))),
            _ => return Err(corrupt("no zstd frame".into())),
        };
        let decoder = self.decoder(conn, dict)?;
        let mut out = Vec::with_capacity(size);
        dctx.decompress_using_ddict(&mut out, bytes, decoder.as_ddict())
            .map_err(|code| corrupt(zstd::zstd_safe::get_error_name(code).to_string()))?;
        String::from_utf8(out).map_err(|e| corrupt(e.to_string()))
    }

    fn decoder(&self, conn: &Connection, id: i64) -> Result<Arc<DecoderDictionary<'static>>> {
        if let Some(d) = self
            .decoders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
        {
            return Ok(d.clone());
        }
        let dict: Vec<u8> = conn
            .prepare_cached("SELECT dict FROM dictionaries WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "compression dictionary {id} is missing; the database may be corrupted"
                ))
            })?;
        let decoder = Arc::new(DecoderDictionary::copy(&dict));
        let mut decoders = self.decoders.lock().unwrap_or_else(|p| p.into_inner());
        if decoders.len() >= MAX_CACHED {
            decoders.clear();
        }
        decoders.insert(id, decoder.clone());
        Ok(decoder)
    }
}

fn dictionary_exists(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM dictionaries WHERE id = ?1")?
        .exists([id])?)
}
