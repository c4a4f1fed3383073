//! Looks for a secret's value, and its common encodings, in files and text.

use std::path::{Path, PathBuf};

use base64::Engine;

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("list {}: {e}", d.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            let kind = std::fs::symlink_metadata(&path)
                .expect("file metadata")
                .file_type();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The byte patterns that would reveal a secret: the value itself and the
/// encodings a careless implementation might store or print it in.
pub struct LeakScanner {
    needles: Vec<(String, Vec<u8>)>,
}

impl LeakScanner {
    pub fn new(secrets: &[&str]) -> LeakScanner {
        let mut needles = Vec::new();
        for (i, s) in secrets.iter().enumerate() {
            assert!(
                s.len() >= 8,
                "secret #{i} is too short to search for without false positives"
            );
            let b64 = base64::engine::general_purpose::STANDARD;
            let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            for (label, bytes) in [
                ("plain", s.as_bytes().to_vec()),
                ("hex", hex::encode(s).into_bytes()),
                ("HEX", hex::encode_upper(s).into_bytes()),
                (
                    "base64",
                    b64.encode(s).trim_end_matches('=').as_bytes().to_vec(),
                ),
                ("base64url", b64url.encode(s).into_bytes()),
                (
                    "utf16le",
                    s.encode_utf16().flat_map(u16::to_le_bytes).collect(),
                ),
            ] {
                needles.push((format!("secret #{i} ({label})"), bytes));
            }
        }
        LeakScanner { needles }
    }

    /// Descriptions of the needles found in `haystack`.
    pub fn scan(&self, haystack: &[u8]) -> Vec<String> {
        self.needles
            .iter()
            .filter(|(_, n)| haystack.windows(n.len()).any(|w| w == n.as_slice()))
            .map(|(label, _)| label.clone())
            .collect()
    }

    /// `(file, needle)` for every file under `dir` that contains a needle.
    pub fn scan_dir(&self, dir: &Path) -> Vec<String> {
        let mut found = Vec::new();
        for file in files_under(dir) {
            let bytes =
                std::fs::read(&file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
            for label in self.scan(&bytes) {
                found.push(format!("{}: {label}", file.display()));
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_plain_and_encoded_values() {
        let scanner = LeakScanner::new(&["CanarySecret123"]);
        assert!(
            scanner
                .scan(b"xx CanarySecret123 yy")
                .iter()
                .any(|l| l.contains("plain"))
        );
        assert!(
            scanner
                .scan(hex::encode("CanarySecret123").as_bytes())
                .iter()
                .any(|l| l.contains("hex"))
        );
        let b64 = base64::engine::general_purpose::STANDARD.encode("CanarySecret123");
        assert!(
            scanner
                .scan(format!("Basic {b64}").as_bytes())
                .iter()
                .any(|l| l.contains("base64"))
        );
        assert!(scanner.scan(b"nothing to see").is_empty());
    }
}
