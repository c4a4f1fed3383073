//! What the runtime tells whoever counts: every outbound request's outcome
//! and every stop by the sandbox. The runtime keeps no figures itself; the
//! platform's metrics implement [`RuntimeObserver`].

use crate::capabilities::LogTags;
use crate::error::SandboxError;

pub trait RuntimeObserver: Send + Sync {
    /// A request the plugin sent ended: the upstream's HTTP status, or
    /// `None` when no answer came (connection failure, timeout, too large).
    fn upstream_response(&self, tags: &LogTags, status: Option<u16>);

    /// The sandbox stopped an invocation (a limit, a trap, no instance).
    fn sandbox_stopped(&self, tags: &LogTags, error: &SandboxError);
}

/// Counts nothing: the runtime's default.
pub struct Unobserved;

impl RuntimeObserver for Unobserved {
    fn upstream_response(&self, _tags: &LogTags, _status: Option<u16>) {}
    fn sandbox_stopped(&self, _tags: &LogTags, _error: &SandboxError) {}
}
