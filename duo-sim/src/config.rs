//! Public configuration and control types of the simulator.

use std::sync::atomic::{AtomicI64, Ordering};

/// Where the simulator's notion of "now" comes from. It governs data generation,
/// the 2-minute visibility rule, the 180-day bound and push timeouts. Request `Date`
/// headers are always checked against the real wall clock, because real clients sign
/// with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    #[default]
    System,
    /// Starts at this Unix time in ms and only moves with `advance_clock`.
    Fixed(i64),
}

/// Duo edition of the simulated account; Essentials lacks the endpoints inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Edition {
    Essentials,
    #[default]
    Advantage,
    Premier,
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The API hostname signatures are verified against (whatever Host header arrives).
    pub hostname: String,
    pub seed: u64,
    pub users: usize,
    /// Background authentication events spread over `history_days` (scenario events come on top).
    pub auth_events: usize,
    pub history_days: u32,
    pub scenarios: bool,
    pub clock: Clock,
    pub edition: Edition,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            hostname: "api-1234abcd.duosecurity.com".to_string(),
            seed: 42,
            users: 200,
            auth_events: 20_000,
            history_days: 30,
            scenarios: true,
            clock: Clock::System,
            edition: Edition::Advantage,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub ikey: String,
    pub skey: String,
}

/// Faults apply to the next requests in the order injected, one request at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 429 with code 42901 and no Retry-After, as Duo sends it.
    RateLimit { count: u32 },
    /// Alternating 500 (50001) and 503 (50301) with Duo's envelope.
    ServerError { count: u32 },
    /// The request is served normally after `delay_ms`.
    Slow { count: u32, delay_ms: u64 },
    /// The TCP connection is closed without any response bytes.
    DropConnection { count: u32 },
    /// Status 200 with the JSON body cut in half.
    TruncatedJson { count: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PushAnswer {
    #[default]
    Approve,
    Deny,
    Fraud,
    /// The user never answers: "waiting" until Duo's timeout.
    NoAnswer,
}

/// Fixed clocks hold absolute ms; the system clock holds an offset added by `advance`.
pub(crate) struct SimClock {
    fixed: bool,
    value: AtomicI64,
}

impl SimClock {
    pub fn new(clock: Clock) -> Self {
        match clock {
            Clock::System => SimClock {
                fixed: false,
                value: AtomicI64::new(0),
            },
            Clock::Fixed(ms) => SimClock {
                fixed: true,
                value: AtomicI64::new(ms),
            },
        }
    }

    pub fn now_ms(&self) -> i64 {
        let v = self.value.load(Ordering::SeqCst);
        if self.fixed {
            v
        } else {
            oort_time::now_ms() + v
        }
    }

    pub fn advance(&self, ms: i64) {
        self.value.fetch_add(ms, Ordering::SeqCst);
    }
}
