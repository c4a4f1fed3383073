//! Per-request fault injection.

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::body::{Body, Bytes};
use axum::response::Response;

use crate::config::Fault;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Active {
    RateLimit,
    ServerError { second: bool },
    Slow(u64),
    Drop,
    Truncate,
}

#[derive(Default)]
pub struct Faults {
    queue: Mutex<VecDeque<(Fault, u32)>>,
}

fn count_of(f: &Fault) -> u32 {
    match *f {
        Fault::RateLimit { count }
        | Fault::ServerError { count }
        | Fault::Slow { count, .. }
        | Fault::DropConnection { count }
        | Fault::TruncatedJson { count } => count,
    }
}

impl Faults {
    pub fn push(&self, fault: Fault) {
        if count_of(&fault) > 0 {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            q.push_back((fault, 0));
        }
    }

    /// Consumes one request's worth of the oldest pending fault.
    pub fn take(&self) -> Option<Active> {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let (fault, used) = q.front_mut()?;
        let n = *used;
        *used += 1;
        let active = match *fault {
            Fault::RateLimit { .. } => Active::RateLimit,
            Fault::ServerError { .. } => Active::ServerError { second: n % 2 == 1 },
            Fault::Slow { delay_ms, .. } => Active::Slow(delay_ms),
            Fault::DropConnection { .. } => Active::Drop,
            Fault::TruncatedJson { .. } => Active::Truncate,
        };
        if *used >= count_of(fault) {
            q.pop_front();
        }
        Some(active)
    }
}

/// A response whose body fails before its first byte: hyper then aborts the
/// connection without sending anything, which the client sees as a dropped connection.
pub fn dropped_connection() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "duo-sim fault injection: connection dropped",
        ))
    });
    Response::new(Body::from_stream(stream))
}
