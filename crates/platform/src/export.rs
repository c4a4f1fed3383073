//! Export: an integration's records in store order, (kind, time, id),
//! whole or a page at a time. A page ends with a cursor, opaque to callers,
//! that says where the next one starts: the last record's key, so a record
//! written meanwhile before it is not seen, and none is seen twice.

use base64::Engine as _;

use super::{Platform, PlatformError, Result};
use oort_store::{Integration, RecordKey, StoreError, StoredRecord};

impl Platform {
    /// Calls `f` with the integration's stored records (of `kind` only, if
    /// given) in store order, from the first after `after` (all of them with
    /// `None`), streamed from one snapshot of the store; an error from `f`
    /// stops the walk and is returned.
    pub fn for_each_record(
        &self,
        integration: &Integration,
        kind: Option<&str>,
        after: Option<&RecordKey>,
        f: &mut dyn FnMut(StoredRecord) -> std::result::Result<(), StoreError>,
    ) -> Result<()> {
        Ok(self
            .store
            .for_each_record_after(integration.id, kind, after, f)?)
    }
}

/// The cursor of the page that ends at `last`.
pub fn cursor_after(last: &StoredRecord) -> String {
    let key = serde_json::to_vec(&RecordKey::of(last)).expect("a record key serializes");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

/// The key a cursor from [`cursor_after`] stands for.
pub fn parse_cursor(cursor: &str) -> Result<RecordKey> {
    let invalid = || {
        PlatformError::InvalidInput(format!(
            "`{}` is not an export cursor: pass the one the previous page's `next` link gave",
            cursor.chars().take(64).collect::<String>().escape_debug()
        ))
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_names_the_record_it_follows_and_garbage_is_refused() {
        let record = StoredRecord {
            kind: "duo.user".into(),
            id: "DU1".into(),
            occurred_at_ms: None,
            normalized: serde_json::Value::Null,
            raw: serde_json::Value::Null,
        };
        let cursor = cursor_after(&record);
        assert_eq!(parse_cursor(&cursor).unwrap(), RecordKey::of(&record));
        for garbage in ["", "not base64!", "e30", "W10"] {
            let err = parse_cursor(garbage).unwrap_err();
            assert!(
                err.to_string().contains("not an export cursor"),
                "{garbage}: {err}"
            );
        }
    }
}
