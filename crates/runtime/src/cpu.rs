//! The CPU budget of one invocation: the time the plugin's own code runs,
//! not the time it waits for the host (an HTTP answer, a storage write) nor
//! the time it is parked for other tasks. A plugin waiting on Duo is not
//! burning CPU; one spinning is, and is stopped here long before its
//! wall-clock deadline.
//!
//! Measured at wasmtime's transitions: a call hook as execution enters and
//! leaves the plugin's code (host calls included), and the epoch tick (every
//! 10 ms of plugin code), where the plugin yields to the executor; the time
//! until it is resumed is not counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use wasmtime::{CallHook, StoreContextMut, UpdateDeadline};

use crate::capabilities::InvocationState;

pub struct CpuMeter {
    budget: Duration,
    used: Duration,
    /// When the plugin's code started running, while it runs.
    running_since: Option<Instant>,
    /// Set by the yield future as the plugin is resumed after a tick
    /// (nanoseconds after `base`; 0: not resumed since).
    resumed_at: Arc<AtomicU64>,
    base: Instant,
    exceeded: bool,
}

impl CpuMeter {
    pub fn new(budget: Duration) -> CpuMeter {
        CpuMeter {
            budget,
            used: Duration::ZERO,
            running_since: None,
            resumed_at: Arc::new(AtomicU64::new(0)),
            base: Instant::now(),
            exceeded: false,
        }
    }

    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// Whether the invocation was stopped for its CPU budget.
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }

    /// The plugin's code time so far.
    pub fn used(&self) -> Duration {
        self.used
    }

    fn enter(&mut self, now: Instant) {
        self.running_since = Some(now);
    }

    /// Ends a stretch of plugin code at `now`; false once over budget.
    fn leave(&mut self, now: Instant) -> bool {
        let resumed = match self.resumed_at.swap(0, Ordering::Relaxed) {
            0 => None,
            ns => Some(self.base + Duration::from_nanos(ns)),
        };
        if let Some(since) = self.running_since.take().or(resumed) {
            self.used += now.saturating_duration_since(since);
        }
        if self.used > self.budget {
            self.exceeded = true;
        }
        !self.exceeded
    }

    /// A future for the epoch yield that marks when the plugin resumes.
    fn yield_marking_resume(&self) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
        let resumed_at = self.resumed_at.clone();
        let base = self.base;
        Box::pin(async move {
            tokio::task::yield_now().await;
            let ns = u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX);
            resumed_at.store(ns.max(1), Ordering::Relaxed);
        })
    }
}

fn over_budget(meter: &CpuMeter) -> wasmtime::Error {
    wasmtime::format_err!("the plugin used its CPU budget of {:?}", meter.budget)
}

/// Installs the meter's hooks on an invocation's store.
pub fn meter(store: &mut wasmtime::Store<InvocationState>) {
    store.call_hook(|mut ctx: StoreContextMut<'_, InvocationState>, hook| {
        let meter = &mut ctx.data_mut().cpu;
        let now = Instant::now();
        match hook {
            CallHook::CallingWasm | CallHook::ReturningFromHost => {
                meter.enter(now);
                Ok(())
            }
            // A call that has finished is not failed for its last stretch.
            CallHook::ReturningFromWasm => {
                meter.leave(now);
                Ok(())
            }
            CallHook::CallingHost if meter.leave(now) => Ok(()),
            CallHook::CallingHost => Err(over_budget(meter)),
        }
    });
    store.epoch_deadline_callback(|mut ctx| {
        let meter = &mut ctx.data_mut().cpu;
        let now = Instant::now();
        if meter.leave(now) {
            // Yield every tick, so the wall-clock deadline can stop a
            // plugin that never calls the host.
            Ok(UpdateDeadline::YieldCustom(1, meter.yield_marking_resume()))
        } else {
            Err(over_budget(meter))
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_stretches_of_plugin_code_count() {
        let mut meter = CpuMeter::new(Duration::from_millis(100));
        let t = meter.base;
        let at = |ms| t + Duration::from_millis(ms);
        meter.enter(at(0));
        assert!(meter.leave(at(30)), "30 ms of code");
        // 1 s waiting on the host is not counted.
        meter.enter(at(1_030));
        assert!(meter.leave(at(1_090)));
        assert_eq!(meter.used(), Duration::from_millis(90));
        // A yield: the time until it is resumed is not counted either.
        meter.resumed_at.store(
            Duration::from_millis(5_000).as_nanos() as u64,
            Ordering::Relaxed,
        );
        assert!(!meter.leave(at(5_020)), "110 ms in all: over");
        assert!(meter.exceeded());
        assert_eq!(meter.used(), Duration::from_millis(110));
    }
}
