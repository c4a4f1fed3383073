//! `storage.stage`: commits the plugin does not wait for. One write runs on
//! a blocking thread while the plugin fetches and parses its next page;
//! staging the next batch first waits for that write, so at most one batch
//! is in flight and batches land in the order they were staged. Each batch
//! is one transaction with its checkpoint, exactly like `commit`, so a crash
//! loses at most staged batches whose checkpoints were never written either.

use tokio::task::JoinHandle;

use oort_model::batch::CommitResult;

use super::StorageFailure;

type Write = JoinHandle<Result<CommitResult, StorageFailure>>;

/// The invocation's staged writes.
#[derive(Default)]
pub struct StagedWrites {
    in_flight: Option<Write>,
    /// What the writes since the last `flush` did.
    done: CommitResult,
    /// The first failed write; every later storage call reports it.
    failed: Option<StorageFailure>,
}

impl StagedWrites {
    /// Waits for the write in flight, if any. Fails with the first failed
    /// write, now and on every later call.
    pub async fn settle(&mut self) -> Result<(), StorageFailure> {
        // Awaited in place, not taken out first: if this call is cancelled
        // (the invocation's deadline), the write stays here for the final
        // flush instead of running on unwatched.
        if let Some(write) = self.in_flight.as_mut() {
            let joined = write.await;
            self.in_flight = None;
            match joined {
                Ok(Ok(r)) => {
                    self.done.inserted += r.inserted;
                    self.done.updated += r.updated;
                }
                Ok(Err(e)) => self.failed = Some(e),
                Err(join) => {
                    self.failed = Some(StorageFailure::Unavailable(format!(
                        "a staged write did not complete ({join})"
                    )))
                }
            }
        }
        match &self.failed {
            None => Ok(()),
            Some(e) => Err(e.clone()),
        }
    }

    /// Starts `write` once the previous one is done.
    pub async fn start(
        &mut self,
        write: impl FnOnce() -> Result<CommitResult, StorageFailure> + Send + 'static,
    ) -> Result<(), StorageFailure> {
        self.settle().await?;
        self.in_flight = Some(tokio::task::spawn_blocking(write));
        Ok(())
    }

    /// Waits for everything staged; what was written since the last flush.
    pub async fn flush(&mut self) -> Result<CommitResult, StorageFailure> {
        self.settle().await?;
        Ok(std::mem::take(&mut self.done))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn ok(inserted: u32) -> Result<CommitResult, StorageFailure> {
        Ok(CommitResult {
            inserted,
            updated: 0,
        })
    }

    #[tokio::test]
    async fn writes_run_one_at_a_time_in_order_and_flush_sums_them() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut staged = StagedWrites::default();
        for n in 0..5u32 {
            let order = order.clone();
            staged
                .start(move || {
                    std::thread::sleep(std::time::Duration::from_millis(5 * u64::from(5 - n)));
                    order.lock().unwrap().push(n);
                    ok(n)
                })
                .await
                .unwrap();
        }
        let done = staged.flush().await.unwrap();
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
        assert_eq!(done.inserted, 10);
        assert_eq!(staged.flush().await.unwrap().inserted, 0);
    }

    #[tokio::test]
    async fn a_failed_write_is_reported_by_every_later_call_and_stops_later_writes() {
        let mut staged = StagedWrites::default();
        staged
            .start(|| Err(StorageFailure::Invalid("record #3: bad".into())))
            .await
            .unwrap();
        let ran = Arc::new(Mutex::new(false));
        let ran2 = ran.clone();
        let err = staged
            .start(move || {
                *ran2.lock().unwrap() = true;
                ok(1)
            })
            .await
            .unwrap_err();
        assert!(err.to_string().contains("record #3"), "{err}");
        assert!(!*ran.lock().unwrap(), "no write after a failed one");
        assert!(staged.flush().await.is_err());
        assert!(staged.settle().await.is_err());
    }
}
