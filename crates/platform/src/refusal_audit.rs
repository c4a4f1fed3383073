//! How many refused sign-ins reach the audit trail: every one up to
//! [`REFUSALS_PER_MINUTE`] a minute, and past it a count. A client without
//! a token needs none to call the API, so without a cap a flood of bad
//! requests would grow the append-only trail without bound; with it the
//! trail still shows the flood (the first entry of each later minute says
//! how many were left out) at a bounded cost.

use std::sync::Mutex;

/// Refused sign-ins written per clock minute; the rest are counted.
pub const REFUSALS_PER_MINUTE: u32 = 300;

#[derive(Default)]
pub(crate) struct RefusalWindow {
    state: Mutex<Window>,
}

#[derive(Default)]
struct Window {
    minute: i64,
    written: u32,
    /// Left out and not yet reported.
    left_out: u64,
}

/// What to do with one refusal.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Write it, saying how many before it were left out (0: none).
    Write { left_out_before: u64 },
    /// Over this minute's cap: counted, reported by a later entry.
    LeaveOut,
}

impl RefusalWindow {
    pub(crate) fn admit(&self, now_ms: i64) -> Refusal {
        let mut w = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let minute = now_ms.div_euclid(60_000);
        if minute != w.minute {
            w.minute = minute;
            w.written = 0;
        }
        if w.written >= REFUSALS_PER_MINUTE {
            if w.left_out == 0 {
                tracing::warn!(
                    "more than {REFUSALS_PER_MINUTE} refused sign-ins this minute; the rest are counted, not audited one by one"
                );
            }
            w.left_out += 1;
            return Refusal::LeaveOut;
        }
        w.written += 1;
        Refusal::Write {
            left_out_before: std::mem::take(&mut w.left_out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_writes_up_to_the_cap_and_the_next_reports_the_rest() {
        let window = RefusalWindow::default();
        let minute = 60_000 * 1_000;
        for i in 0..REFUSALS_PER_MINUTE {
            assert_eq!(
                window.admit(minute + i64::from(i)),
                Refusal::Write { left_out_before: 0 }
            );
        }
        for _ in 0..25 {
            assert_eq!(window.admit(minute + 59_999), Refusal::LeaveOut);
        }
        assert_eq!(
            window.admit(minute + 60_000),
            Refusal::Write {
                left_out_before: 25
            }
        );
        assert_eq!(
            window.admit(minute + 60_001),
            Refusal::Write { left_out_before: 0 }
        );
    }
}
