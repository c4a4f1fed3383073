//! How commands print: one stable JSON document for machines (`--json`) or
//! the text of `crate::human` for people, and the error shapes of both.

use std::io::Write;

use serde::Serialize;

use oort_platform::{ErrorKind, PlatformError};

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
        return ErrorReport {
            exit_code: exit_code(platform.kind()),
            kind: platform.kind().as_str(),
            message,
            fields: platform
                .field_errors()
                .and_then(|errors| serde_json::to_value(errors).ok()),
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

/// 2 for bad usage or input (the operator can fix the command), 1 for an
/// operation that failed.
pub fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidInput
        | ErrorKind::InvalidConfig
        | ErrorKind::NotFound
        | ErrorKind::Conflict => 2,
        ErrorKind::Plugin
        | ErrorKind::Unavailable
        | ErrorKind::Sandbox
        | ErrorKind::Refused
        | ErrorKind::Unauthenticated
        | ErrorKind::Store
        | ErrorKind::Internal => 1,
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

#[cfg(test)]
mod tests {
    use super::*;

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
