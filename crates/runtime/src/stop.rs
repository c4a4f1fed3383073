//! Stopping a running collection between pages, for a host that is shutting
//! down: once a [`StopSignal`] is requested, the plugin's next outbound
//! request ends its invocation ([`SandboxError::Stopped`]). Requests already
//! in flight finish and the plugin may commit what they brought, so the page
//! being fetched is committed whole and none is cut in half; each commit is
//! one transaction with its checkpoint, so the next run resumes right after
//! the last one.
//!
//! [`SandboxError::Stopped`]: crate::SandboxError::Stopped

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Shared by whoever asks (the host's shutdown) and every invocation it
/// applies to.
#[derive(Debug, Clone, Default)]
pub struct StopSignal(Arc<AtomicBool>);

impl StopSignal {
    /// From now on, invocations holding this signal stop at their next
    /// outbound request.
    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
