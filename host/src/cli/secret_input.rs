//! Reading secrets without ever taking them as flag values (which would land
//! in shell history and `ps`): from a file, stdin (`-`), an environment
//! variable, or a terminal prompt — in that order.

use std::io::{IsTerminal, Read};
use std::path::Path;

use oort_platform::data::SecretValue;

use super::output::usage;

/// Where to look for one secret.
pub struct SecretSpec<'a> {
    /// Config field name, e.g. `secret_key`.
    pub field: &'a str,
    /// Human label for prompts and errors.
    pub label: &'a str,
    /// `--x-file` value: a path, or `-` for stdin.
    pub file: Option<&'a Path>,
    /// The flag that would have supplied it (for the error message).
    pub file_flag: &'a str,
    pub env_var: Option<&'a str>,
}

/// Reads secrets while making sure stdin is consumed at most once.
pub struct SecretReader {
    /// `None` once a secret was read from it.
    stdin: Option<Box<dyn Read>>,
    /// Whether a prompt can be shown (stdin is a terminal).
    interactive: bool,
}

impl Default for SecretReader {
    fn default() -> Self {
        SecretReader {
            stdin: Some(Box::new(std::io::stdin())),
            interactive: std::io::stdin().is_terminal(),
        }
    }
}

impl SecretReader {
    /// A reader whose `-` is `input` and that never prompts.
    #[cfg(test)]
    pub fn with_stdin(input: impl Read + 'static) -> SecretReader {
        SecretReader {
            stdin: Some(Box::new(input)),
            interactive: false,
        }
    }

    /// The secret, or `Ok(None)` if no source supplied it and `required` is false.
    pub fn read(
        &mut self,
        spec: &SecretSpec<'_>,
        required: bool,
    ) -> anyhow::Result<Option<SecretValue>> {
        if let Some(path) = spec.file {
            let bytes = if path == Path::new("-") {
                let Some(mut stdin) = self.stdin.take() else {
                    return Err(usage(format!(
                        "{} can't also come from stdin: only one secret may be read from `-`; put the others in files",
                        spec.file_flag
                    )));
                };
                let mut buf = Vec::new();
                stdin
                    .read_to_end(&mut buf)
                    .map_err(|e| usage(format!("reading {} from stdin: {e}", spec.label)))?;
                buf
            } else {
                // The path is not echoed: a key pasted where its file's path
                // belongs would otherwise end up in the terminal or CI log.
                std::fs::read(path).map_err(|e| {
                    usage(format!(
                        "could not read {} from the file given to {}: {e}",
                        spec.label, spec.file_flag
                    ))
                })?
            };
            return non_empty(spec, trim_one_newline(bytes)).map(Some);
        }
        if let Some(var) = spec.env_var
            && let Some(value) = std::env::var_os(var)
        {
            let value = value
                .into_string()
                .map_err(|_| usage(format!("{var} is not valid UTF-8")))?;
            return non_empty(spec, value.into_bytes()).map(Some);
        }
        if !required {
            return Ok(None);
        }
        if self.interactive && self.stdin.is_some() {
            let typed = rpassword::prompt_password(format!("{}: ", spec.label))
                .map_err(|e| usage(format!("reading {} from the terminal: {e}", spec.label)))?;
            return non_empty(spec, typed.into_bytes()).map(Some);
        }
        let env_hint = spec
            .env_var
            .map(|v| format!(", or set {v}"))
            .unwrap_or_default();
        Err(usage(format!(
            "{} (`{}`) is required: pass {} PATH (or `-` to read stdin){env_hint}; secrets are never accepted as flag values",
            spec.label, spec.field, spec.file_flag
        )))
    }
}

/// The secret in the file `--secret-file FIELD=PATH` names (`-` = stdin).
pub fn read_secret_file(
    reader: &mut SecretReader,
    field: &str,
    path: &str,
) -> anyhow::Result<SecretValue> {
    let flag = format!("--secret-file {field}=");
    let spec = SecretSpec {
        field,
        label: field,
        file: Some(Path::new(path)),
        file_flag: &flag,
        env_var: None,
    };
    reader
        .read(&spec, true)?
        .ok_or_else(|| usage(format!("{flag}PATH gave no value for `{field}`")))
}

/// Files written by editors and `echo` end in one newline that is not part of
/// the key; anything else (including a second newline) is kept as typed.
pub fn trim_one_newline(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
    bytes
}

fn non_empty(spec: &SecretSpec<'_>, bytes: Vec<u8>) -> anyhow::Result<SecretValue> {
    if bytes.is_empty() {
        return Err(usage(format!("{} (`{}`) is empty", spec.label, spec.field)));
    }
    Ok(SecretValue::new(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_exactly_one_trailing_newline() {
        assert_eq!(trim_one_newline(b"abc\n".to_vec()), b"abc");
        assert_eq!(trim_one_newline(b"abc\r\n".to_vec()), b"abc");
        assert_eq!(trim_one_newline(b"abc\n\n".to_vec()), b"abc\n");
        assert_eq!(trim_one_newline(b"abc".to_vec()), b"abc");
    }

    #[test]
    fn reads_file_and_refuses_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("skey");
        std::fs::write(&path, "s3cr3t\n").unwrap();
        let spec = SecretSpec {
            field: "secret_key",
            label: "Duo secret key",
            file: Some(&path),
            file_flag: "--secret-key-file",
            env_var: None,
        };
        let value = SecretReader::default().read(&spec, true).unwrap().unwrap();
        assert_eq!(value.expose(), b"s3cr3t");

        std::fs::write(&path, "\n").unwrap();
        let err = SecretReader::default().read(&spec, true).err().unwrap();
        assert!(err.to_string().contains("is empty"), "{err}");
    }

    #[test]
    fn dash_reads_stdin_at_most_once() {
        let mut reader = SecretReader::with_stdin(std::io::Cursor::new(b"from-stdin\n".to_vec()));
        let first = SecretSpec {
            field: "secret_key",
            label: "Duo secret key",
            file: Some(Path::new("-")),
            file_flag: "--secret-key-file",
            env_var: None,
        };
        assert_eq!(
            reader.read(&first, true).unwrap().unwrap().expose(),
            b"from-stdin"
        );
        let second = SecretSpec {
            field: "auth_secret_key",
            label: "Auth API secret key",
            file: Some(Path::new("-")),
            file_flag: "--auth-secret-key-file",
            env_var: None,
        };
        let err = reader.read(&second, true).err().unwrap();
        assert!(
            err.to_string()
                .contains("only one secret may be read from `-`"),
            "{err}"
        );
    }

    #[test]
    fn no_source_and_no_terminal_is_a_usage_error_saying_how() {
        let mut reader = SecretReader::with_stdin(std::io::empty());
        let spec = SecretSpec {
            field: "secret_key",
            label: "Duo secret key",
            file: None,
            file_flag: "--secret-key-file",
            env_var: Some("OORT_TEST_SURELY_UNSET_VAR"),
        };
        let err = reader.read(&spec, true).err().unwrap();
        let text = err.to_string();
        assert!(
            text.contains("--secret-key-file PATH") && text.contains("OORT_TEST_SURELY_UNSET_VAR"),
            "{text}"
        );
        assert!(err.is::<super::super::output::UsageError>());
    }

    #[test]
    fn missing_optional_secret_is_none() {
        let spec = SecretSpec {
            field: "x",
            label: "x",
            file: None,
            file_flag: "--secret-file",
            env_var: Some("OORT_TEST_SURELY_UNSET_VAR"),
        };
        assert!(
            SecretReader::default()
                .read(&spec, false)
                .unwrap()
                .is_none()
        );
    }
}
