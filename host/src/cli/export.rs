//! `export <name> [--kind K]`: the stored records as JSON lines, streamed so
//! large stores never sit in memory and `| head` ends quietly.

use std::io::{BufWriter, Write};

use oort_platform::data::{StoreError, StoredRecord};
use oort_platform::views::ExportLine;

use super::Ctx;

/// Writes one record as a JSON line.
pub fn write_line(w: &mut impl Write, record: &StoredRecord) -> std::io::Result<()> {
    serde_json::to_writer(&mut *w, &ExportLine::of(record))?;
    w.write_all(b"\n")
}

pub fn export(ctx: &Ctx, name: &str, kind: Option<&str>) -> anyhow::Result<u8> {
    let integration = ctx.integration(name)?;
    let stdout = std::io::stdout();
    let mut w = BufWriter::new(stdout.lock());
    let mut write_error: Option<std::io::Error> = None;
    let result = ctx
        .platform
        .for_each_record(&integration, kind, None, &mut |record| {
            write_line(&mut w, &record).map_err(|e| {
                write_error = Some(e);
                // Only stops the iteration; the real cause is in `write_error`.
                StoreError::Invalid("output closed".into())
            })
        });
    let flushed = w.flush();
    match (result, write_error) {
        (_, Some(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        (_, Some(e)) => Err(anyhow::Error::new(e).context("writing records to stdout")),
        (Err(e), None) => {
            Err(anyhow::Error::new(e).context(format!("reading the records of `{name}`")))
        }
        (Ok(()), None) => match flushed {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
            Err(e) => Err(anyhow::Error::new(e).context("writing records to stdout")),
            Ok(()) => Ok(0),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_line_shape() {
        let record = StoredRecord {
            kind: "auth_log".into(),
            id: "tx-1".into(),
            occurred_at_ms: Some(1_714_566_896_789),
            normalized: serde_json::json!({"type": "auth_event", "result": "success"}),
            raw: serde_json::json!({"txid": "tx-1", "result": "success"}),
        };
        let mut buf = Vec::new();
        write_line(&mut buf, &record).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(
            text.ends_with('\n') && text.matches('\n').count() == 1,
            "{text}"
        );
        // Field order is part of the contract.
        assert!(
            text.starts_with(r#"{"kind":"auth_log","id":"tx-1","occurred_at":"2024-05-01T12:34:56.789Z","normalized":{"#),
            "{text}"
        );
        let parsed: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(parsed["normalized"], record.normalized);
        assert_eq!(parsed["raw"], record.raw);
        assert_eq!(parsed.as_object().unwrap().len(), 5);
    }

    #[test]
    fn export_line_without_time_is_null_and_one_line() {
        let record = StoredRecord {
            kind: "user".into(),
            id: "DU1".into(),
            occurred_at_ms: None,
            normalized: serde_json::json!({"type": "user_account", "real_name": "A\nB"}),
            raw: serde_json::json!({"user_id": "DU1"}),
        };
        let mut buf = Vec::new();
        write_line(&mut buf, &record).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(
            text.matches('\n').count(),
            1,
            "embedded newlines must be escaped: {text}"
        );
        let parsed: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(parsed["occurred_at"], serde_json::Value::Null);
        assert_eq!(parsed["kind"], "user");
        assert_eq!(parsed["normalized"]["real_name"], "A\nB");
    }
}
