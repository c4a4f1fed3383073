//! WAL checkpoints off the commit path. Copying the write-ahead log back
//! into the database file (and syncing it) took ~130 ms per 40 MiB during
//! bulk collection; done inline, it stalled whichever commit crossed the
//! threshold, and the plugin waits for every commit. This thread does it on
//! its own connection in PASSIVE mode, which never blocks the writer or
//! readers, after commits of collected records.
//!
//! SQLite restarts the log from the beginning only after a checkpoint found
//! it fully copied, which a PASSIVE checkpoint racing continuous commits
//! rarely does. So the writer keeps its own automatic checkpoint at a
//! higher threshold ([`WRITER_CHECKPOINT_BYTES`]): by then this thread has
//! copied nearly everything, the writer's checkpoint is short, and the log
//! restarts. The log stays below that size however long a collection runs.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::BUSY_TIMEOUT;

/// WAL size at which the writer checkpoints by itself.
pub const WRITER_CHECKPOINT_BYTES: i64 = 64 << 20;

/// At most one background checkpoint per interval: commits in between are
/// copied together, and pages they all touched (index pages) only once.
const MIN_INTERVAL: Duration = Duration::from_millis(250);

/// The handle kept by the store; dropping it stops the thread.
pub struct Checkpointer {
    nudges: Option<SyncSender<()>>,
}

impl Checkpointer {
    pub fn start(db_path: &Path) -> Checkpointer {
        let (nudges, received) = mpsc::sync_channel(1);
        let path = db_path.to_path_buf();
        let spawned = std::thread::Builder::new()
            .name("oort-checkpoint".into())
            .spawn(move || run(&path, received));
        match spawned {
            Ok(_) => Checkpointer {
                nudges: Some(nudges),
            },
            Err(e) => {
                // The writer's own checkpoints still keep the log bounded.
                tracing::warn!("no background WAL checkpoints ({e}); commits will checkpoint");
                Checkpointer { nudges: None }
            }
        }
    }

    /// Asks for a checkpoint soon. Never blocks: a pending request covers
    /// this one too.
    pub fn nudge(&self) {
        if let Some(nudges) = &self.nudges {
            let _ = nudges.try_send(());
        }
    }
}

fn run(path: &Path, nudges: Receiver<()>) {
    let conn = match Connection::open(path).and_then(|c| {
        c.busy_timeout(BUSY_TIMEOUT)?;
        Ok(c)
    }) {
        Ok(conn) => conn,
        Err(e) => {
            tracing::warn!("background WAL checkpoints unavailable: {e}");
            return;
        }
    };
    // Ends when the store (the sender) is dropped.
    while nudges.recv().is_ok() {
        let started = Instant::now();
        // (busy, frames in the log, frames copied); nothing to act on.
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::debug!("background WAL checkpoint failed: {e}");
        }
        std::thread::sleep(MIN_INTERVAL.saturating_sub(started.elapsed()));
    }
}
