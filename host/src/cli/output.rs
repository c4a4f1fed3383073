//! How commands print: plain tables for people, one stable JSON document for
//! machines (`--json`), and the error shapes of both.

use std::io::Write;

use serde::Serialize;

use oort_host::platform::PlatformError;

/// Where a command's result goes and in which form.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints `value` as one JSON line with `--json`, else runs `human`.
    pub fn emit<T: Serialize + ?Sized>(
        &self,
        value: &T,
        human: impl FnOnce(),
    ) -> anyhow::Result<()> {
        if self.json {
            print_json_line(value)?;
        } else {
            human();
        }
        Ok(())
    }
}

pub fn print_json_line<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut line = serde_json::to_vec(value)?;
    line.push(b'\n');
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(&line).and_then(|()| stdout.flush()) {
        // The reader went away (`| head`): nothing left to tell it.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// A plain text table: columns padded to the widest cell, two spaces apart.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(headers: I) -> Table {
        Table {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row<I: IntoIterator<Item = S>, S: Into<String>>(&mut self, cells: I) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    pub fn render(&self) -> String {
        let columns = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |cells: &[String]| {
            let mut text = String::new();
            for (i, width) in widths.iter().enumerate() {
                let cell = cells.get(i).map(String::as_str).unwrap_or("");
                if i + 1 == columns {
                    text.push_str(cell);
                } else {
                    text.push_str(cell);
                    text.extend(std::iter::repeat_n(' ', width - cell.chars().count() + 2));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(&self.headers);
        for row in &self.rows {
            line(row);
        }
        out
    }

    pub fn print(&self) {
        print!("{}", self.render());
    }
}

/// An operator mistake found by the CLI itself (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// What went wrong, classified for the exit code and the JSON `kind`.
pub struct ErrorReport {
    pub exit_code: u8,
    pub kind: &'static str,
    pub message: String,
    /// Field errors of an invalid configuration, for `--json`.
    pub fields: Option<serde_json::Value>,
}

pub fn classify(error: &anyhow::Error) -> ErrorReport {
    // `{:#}` keeps anyhow's context chain on one line: "while X: cause".
    let message = format!("{error:#}");
    if let Some(platform) = error
        .chain()
        .find_map(|e| e.downcast_ref::<PlatformError>())
    {
        let fields = match platform {
            PlatformError::InvalidConfig(errors) => serde_json::to_value(errors).ok(),
            _ => None,
        };
        return ErrorReport {
            exit_code: u8::try_from(platform.exit_code()).unwrap_or(1),
            kind: platform_kind(platform),
            message,
            fields,
        };
    }
    if error.chain().any(|e| e.is::<UsageError>()) {
        return ErrorReport {
            exit_code: 2,
            kind: "usage",
            message,
            fields: None,
        };
    }
    ErrorReport {
        exit_code: 1,
        kind: "error",
        message,
        fields: None,
    }
}

pub fn platform_kind(error: &PlatformError) -> &'static str {
    match error {
        PlatformError::InvalidInput(_) => "invalid_input",
        PlatformError::InvalidConfig(_) => "invalid_config",
        PlatformError::NotFound(_) => "not_found",
        PlatformError::Plugin(_) => "plugin",
        PlatformError::Sandbox(_) => "sandbox",
        PlatformError::Refused(_) => "refused",
        PlatformError::Store(_) => "store",
        PlatformError::Internal(_) => "internal",
    }
}

/// Prints the error on stderr: `error: ...`, or `{"error","kind"}` with `--json`.
pub fn print_error(report: &ErrorReport, json: bool) {
    if json {
        let mut doc = serde_json::json!({ "error": report.message, "kind": report.kind });
        if let Some(fields) = &report.fields {
            doc["fields"] = fields.clone();
        }
        eprintln!("{doc}");
    } else {
        eprintln!("error: {}", report.message);
    }
}

/// `2024-05-01T12:34:56.789Z` for a Unix time in milliseconds (UTC, no
/// dependency on a date crate: days-to-civil after Howard Hinnant).
pub fn rfc3339_from_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub fn opt(value: Option<&str>) -> String {
    value.unwrap_or("-").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339_from_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_from_ms(1_714_566_896_789),
            "2024-05-01T12:34:56.789Z"
        );
        // Leap day and a pre-epoch instant.
        assert_eq!(rfc3339_from_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_from_ms(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn table_pads_columns() {
        let mut t = Table::new(["ID", "NAME"]);
        t.row(["duo", "Duo Security"]);
        t.row(["misbehaving-plugin", "x"]);
        assert_eq!(
            t.render(),
            "ID                  NAME\nduo                 Duo Security\nmisbehaving-plugin  x\n"
        );
    }

    #[test]
    fn platform_errors_map_to_exit_codes_and_kinds() {
        let e: anyhow::Error =
            anyhow::Error::new(PlatformError::NotFound("no integration `x`".into()))
                .context("show");
        let r = classify(&e);
        assert_eq!((r.exit_code, r.kind), (2, "not_found"));
        let e: anyhow::Error = PlatformError::Refused("viewer".into()).into();
        assert_eq!(classify(&e).exit_code, 1);
        assert_eq!(classify(&usage("bad")).exit_code, 2);
        assert_eq!(classify(&anyhow::anyhow!("boom")).kind, "error");
    }
}
