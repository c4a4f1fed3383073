//! Captured stdout/stderr of a plugin: kept in memory up to a cap and written
//! to the host log after the invocation, so a chatty or hostile plugin can
//! neither fill the disk nor interleave its output with the host's.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

use super::LogTags;

/// Bytes of each stream kept per invocation; the rest is counted and dropped.
pub const STDIO_CAPTURE_BYTES: usize = 16 * 1024;

#[derive(Default)]
struct Captured {
    kept: Vec<u8>,
    dropped: u64,
}

/// An output stream that always accepts writes (a plugin must not fail or
/// trap because it printed too much) but keeps only the first `cap` bytes.
#[derive(Clone)]
pub struct CappedOutput {
    cap: usize,
    inner: Arc<Mutex<Captured>>,
}

impl CappedOutput {
    pub fn new(cap: usize) -> Self {
        CappedOutput {
            cap,
            inner: Arc::new(Mutex::new(Captured::default())),
        }
    }

    fn push(&self, bytes: &[u8]) {
        let mut captured = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let room = self.cap.saturating_sub(captured.kept.len());
        let take = room.min(bytes.len());
        captured.kept.extend_from_slice(&bytes[..take]);
        captured.dropped += (bytes.len() - take) as u64;
    }

    /// The captured text (lossy UTF-8).
    pub fn text(&self) -> String {
        let captured = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&captured.kept).into_owned()
    }

    /// The last non-empty line, e.g. a panic message, capped at `max` chars.
    pub fn last_line(&self, max: usize) -> Option<String> {
        let text = self.text();
        let line = text.lines().rev().find(|l| !l.trim().is_empty())?;
        Some(line.chars().take(max).collect())
    }

    pub fn flush_to_log(&self, tags: &LogTags, stream: &'static str) {
        let captured = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if captured.kept.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&captured.kept);
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            tracing::info!(
                target: "oort::plugin",
                tenant = %tags.tenant,
                integration = %tags.integration,
                plugin = %tags.plugin,
                stream,
                "{line}"
            );
        }
        if captured.dropped > 0 {
            tracing::warn!(
                target: "oort::plugin",
                tenant = %tags.tenant,
                integration = %tags.integration,
                plugin = %tags.plugin,
                stream,
                "plugin output truncated: {} bytes beyond the {} byte capture limit were dropped",
                captured.dropped,
                self.cap
            );
        }
    }
}

impl IsTerminal for CappedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedOutput {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl AsyncWrite for CappedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_first_bytes_and_counts_the_rest() {
        let out = CappedOutput::new(8);
        out.push(b"hello ");
        out.push(b"world\npanicked at x");
        assert_eq!(out.text(), "hello wo");
        assert_eq!(out.inner.lock().unwrap().dropped, 17);
    }

    #[test]
    fn last_line_skips_blank_lines() {
        let out = CappedOutput::new(1024);
        out.push(b"first\npanicked at src/lib.rs:3: boom\n\n");
        assert_eq!(
            out.last_line(100).as_deref(),
            Some("panicked at src/lib.rs:3: boom")
        );
    }
}
