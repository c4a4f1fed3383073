//! Stopping cleanly: during an action the process waits through Ctrl-C for
//! the action's outcome so the audit trail records it (the CLI's `act`, the
//! demo); on Ctrl-C or SIGTERM `serve` stops its collections at their next
//! page boundary and exits once they have committed that page.

/// Runs an action to its end through a first Ctrl-C: stopping the process
/// mid-call would leave a change made upstream (a user disabled) with no
/// audit entry. A second Ctrl-C abandons it, saying what that risks.
/// If Ctrl-C cannot be watched, the action simply runs to its end.
pub async fn finish_despite_ctrl_c<T>(action: impl Future<Output = T>) -> anyhow::Result<T> {
    // Watch before the action's first poll: that poll may already send the
    // request upstream, and a Ctrl-C before the watch exists kills the
    // process with the default disposition.
    let Some(mut ctrl_c) = CtrlC::watch() else {
        return Ok(action.await);
    };
    let mut action = std::pin::pin!(action);
    tokio::select! {
        done = &mut action => return Ok(done),
        () = ctrl_c.pressed() => {}
    }
    eprintln!(
        "An action is in flight: waiting for its outcome so the audit trail records it. \
         Press Ctrl-C again to abandon it (it may still take effect; the trail then shows it started, outcome unknown)."
    );
    tokio::select! {
        done = &mut action => Ok(done),
        () = ctrl_c.pressed() => anyhow::bail!(
            "abandoned while in flight: the action may have taken effect; the audit trail shows it started with its outcome unknown; check the target upstream"
        ),
    }
}

/// One Ctrl-C watch, registered when created, that sees every press after.
struct CtrlC {
    #[cfg(unix)]
    interrupts: tokio::signal::unix::Signal,
}

impl CtrlC {
    /// `None` when the signal cannot be watched (no handler could be set).
    fn watch() -> Option<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let interrupts = signal(SignalKind::interrupt()).ok()?;
            Some(Self { interrupts })
        }
        #[cfg(not(unix))]
        {
            Some(Self {})
        }
    }

    /// Resolves at the next press; never, if the watch has ended.
    async fn pressed(&mut self) {
        #[cfg(unix)]
        if self.interrupts.recv().await.is_none() {
            std::future::pending::<()>().await;
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Resolves when the process is asked to stop: Ctrl-C (SIGINT) or, from a
/// service manager, SIGTERM. `serve` then stops scheduling and waits for
/// the running collections.
pub async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch SIGTERM; only Ctrl-C stops serve cleanly");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
