//! Immutable events stored a page at a time (schema 4). A staged batch of
//! events becomes one zstd frame holding each event's raw JSON and
//! normalized view (`event_pages`), plus a small index row per event
//! (`events`, keyed by integration, kind, time and id, naming its page and
//! entry). Measured against one row per event (schema 3) with real Duo auth
//! events: 4.6–5.0 vs 10.3–12.5 ms per 1,000 events written and 267 vs
//! 1,406 bytes per event; a page compresses ~12× without a dictionary
//! because its events share most of their text.
//!
//! Page text before compression: a format byte, then per event its raw
//! JSON and its normalized view, each a little-endian u32 length followed by
//! that many bytes of UTF-8.

use std::ops::Range;

use rusqlite::{Connection, OptionalExtension};

use super::{Result, StoreError};
use oort_model::CollectedRecord;
use oort_model::batch::MAX_EVENT_BYTES;

const FORMAT: u8 = 1;
/// Uncompressed text per page; a larger batch is spread over several pages.
const MAX_PAGE_TEXT: usize = 8 << 20;
// A page holds any event the contract allows, with room for the page's
// format byte and the entry's two lengths.
const _: () = assert!(MAX_EVENT_BYTES + 64 <= MAX_PAGE_TEXT);

/// Whether an event with these parts fits in a page (see [`MAX_EVENT_BYTES`]).
fn fits(raw_json: &str, view: &str) -> bool {
    raw_json.len() + view.len() <= MAX_EVENT_BYTES
}
/// Pages a reader keeps decoded: events of overlapping batches (late
/// arrivals, a millisecond split across pages) alternate between a few.
const PAGES_KEPT: usize = 4;
/// zstd level 1: whole pages compress ~12× already; higher levels gain ~2 %
/// for ~15 % more CPU (as for the per-row dictionaries).
const LEVEL: i32 = 1;

/// One page ready to insert: its compressed body and the records it holds.
pub struct EncodedPage {
    pub body: Vec<u8>,
    pub entries: Range<usize>,
}

/// Packs `records` (with their serialized normalized views) into pages.
pub fn encode(records: &[CollectedRecord], normalized: &[String]) -> Result<Vec<EncodedPage>> {
    let mut pages = Vec::new();
    let mut text = vec![FORMAT];
    let mut first = 0;
    for (i, (record, view)) in records.iter().zip(normalized).enumerate() {
        // Refused earlier by the store's checks; kept here because `push`
        // relies on it.
        if !fits(&record.raw_json, view) {
            return Err(StoreError::Invalid(format!(
                "event `{}` is too large with its normalized view; events are limited to {MAX_EVENT_BYTES} bytes",
                record.id.chars().take(64).collect::<String>()
            )));
        }
        let size = 8 + record.raw_json.len() + view.len();
        if i > first && text.len() + size > MAX_PAGE_TEXT {
            pages.push(compress(&text, first..i)?);
            text.truncate(1);
            first = i;
        }
        push(&mut text, &record.raw_json);
        push(&mut text, view);
    }
    if first < records.len() {
        pages.push(compress(&text, first..records.len())?);
    }
    Ok(pages)
}

fn push(text: &mut Vec<u8>, s: &str) {
    // Below MAX_PAGE_TEXT (checked by `encode`), so the length fits.
    text.extend_from_slice(&(s.len() as u32).to_le_bytes());
    text.extend_from_slice(s.as_bytes());
}

fn compress(text: &[u8], entries: Range<usize>) -> Result<EncodedPage> {
    let failed =
        |e: std::io::Error| StoreError::Unavailable(format!("compressing an event page: {e}"));
    let mut compressor = zstd::bulk::Compressor::new(LEVEL).map_err(failed)?;
    // A damaged byte inside a page must not read back as other JSON.
    compressor
        .set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true))
        .map_err(failed)?;
    let body = compressor.compress(text).map_err(failed)?;
    Ok(EncodedPage { body, entries })
}

/// A page read back: its text and where each entry's two parts are.
struct DecodedPage {
    id: i64,
    text: Vec<u8>,
    entries: Vec<(Range<usize>, Range<usize>)>,
}

fn corrupt(page: i64, what: &str) -> StoreError {
    StoreError::Corrupt(format!(
        "event page {page} is unreadable ({what}); the database may be corrupted"
    ))
}

impl DecodedPage {
    fn decode(id: i64, body: &[u8]) -> Result<DecodedPage> {
        let size = match zstd::zstd_safe::get_frame_content_size(body) {
            Ok(Some(size)) if size <= MAX_PAGE_TEXT as u64 => size as usize,
            _ => return Err(corrupt(id, "no valid frame size")),
        };
        let text = zstd::bulk::decompress(body, size).map_err(|e| corrupt(id, &e.to_string()))?;
        if text.first() != Some(&FORMAT) {
            return Err(corrupt(id, "unknown format"));
        }
        let mut entries = Vec::new();
        let mut at = 1;
        let part = |at: &mut usize| -> Result<Range<usize>> {
            let len = text
                .get(*at..*at + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                .ok_or_else(|| corrupt(id, "truncated length"))?;
            let end = (*at + 4)
                .checked_add(len)
                .filter(|&end| end <= text.len())
                .ok_or_else(|| corrupt(id, "truncated entry"))?;
            let range = *at + 4..end;
            *at = range.end;
            Ok(range)
        };
        while at < text.len() {
            let raw = part(&mut at)?;
            let view = part(&mut at)?;
            entries.push((raw, view));
        }
        Ok(DecodedPage { id, text, entries })
    }

    fn entry(&self, entry: i64) -> Result<(&str, &str)> {
        let (raw, view) = usize::try_from(entry)
            .ok()
            .and_then(|e| self.entries.get(e))
            .ok_or_else(|| corrupt(self.id, &format!("no entry {entry}")))?;
        let text = |r: &Range<usize>| {
            std::str::from_utf8(&self.text[r.clone()]).map_err(|_| corrupt(self.id, "not UTF-8"))
        };
        Ok((text(raw)?, text(view)?))
    }
}

/// Reads entries, keeping the last few pages decoded: events are read in
/// time order, which is (almost always) page order.
#[derive(Default)]
pub struct PageReader {
    /// Most recently used last.
    kept: Vec<DecodedPage>,
}

impl PageReader {
    /// The (raw JSON, normalized view) of `entry` of `page`.
    pub fn entry(&mut self, conn: &Connection, page: i64, entry: i64) -> Result<(&str, &str)> {
        match self.kept.iter().position(|p| p.id == page) {
            Some(i) => {
                let hit = self.kept.remove(i);
                self.kept.push(hit);
            }
            None => {
                let body: Vec<u8> = conn
                    .prepare_cached("SELECT body FROM event_pages WHERE id = ?1")?
                    .query_row([page], |r| r.get(0))
                    .optional()?
                    .ok_or_else(|| corrupt(page, "missing"))?;
                if self.kept.len() == PAGES_KEPT {
                    self.kept.remove(0);
                }
                self.kept.push(DecodedPage::decode(page, &body)?);
            }
        }
        self.kept.last().expect("kept just above").entry(entry)
    }
}
