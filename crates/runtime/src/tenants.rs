//! What one tenant may take of the host at once: plugin invocations running
//! together, and outbound requests per second. One tenant with many
//! integrations, or one plugin flooding its upstream, then waits its turn
//! while the other tenants' invocations and requests go on.
//!
//! Both wait rather than fail: an invocation past its tenant's cap queues
//! for a slot before it takes one of the host's (so a waiting tenant holds
//! none), and a request past the rate is held back until the tenant's bucket
//! has a token again (time the plugin's deadline counts, its CPU budget
//! does not).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::SandboxLimits;

/// Each tenant's share, created on its first invocation.
pub struct TenantShares {
    invocations: u32,
    requests_per_second: u32,
    shares: Mutex<HashMap<String, Arc<TenantShare>>>,
}

pub struct TenantShare {
    invocations: Arc<Semaphore>,
    pub(crate) requests: RequestRate,
}

impl TenantShares {
    pub fn new(limits: &SandboxLimits) -> TenantShares {
        TenantShares {
            invocations: limits.max_invocations_per_tenant.max(1),
            requests_per_second: limits.max_requests_per_second_per_tenant.max(1),
            shares: Mutex::new(HashMap::new()),
        }
    }

    pub fn of(&self, tenant: &str) -> Arc<TenantShare> {
        let mut shares = self.shares.lock().unwrap_or_else(|e| e.into_inner());
        shares
            .entry(tenant.to_owned())
            .or_insert_with(|| {
                Arc::new(TenantShare {
                    invocations: Arc::new(Semaphore::new(self.invocations as usize)),
                    requests: RequestRate::new(self.requests_per_second),
                })
            })
            .clone()
    }
}

impl TenantShare {
    /// Waits for one of the tenant's invocation slots.
    pub async fn invocation_slot(&self) -> OwnedSemaphorePermit {
        self.invocations
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }
}

/// A token bucket: `per_second` tokens a second, at most `per_second` kept
/// (one second's burst).
pub struct RequestRate {
    per_second: u32,
    bucket: Mutex<Bucket>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RequestRate {
    pub fn new(per_second: u32) -> RequestRate {
        RequestRate {
            per_second,
            bucket: Mutex::new(Bucket {
                tokens: f64::from(per_second),
                at: Instant::now(),
            }),
        }
    }

    /// Takes a token at `now`, or says how long until one is there.
    fn take_at(&self, now: Instant) -> Result<(), Duration> {
        let rate = f64::from(self.per_second);
        let mut bucket = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.at = bucket.at.max(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }

    /// Waits until the tenant may send one more request.
    pub async fn admit(&self) {
        while let Err(wait) = self.take_at(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_a_seconds_burst_then_its_rate() {
        let rate = RequestRate::new(4);
        let t = rate.bucket.lock().unwrap().at;
        let at = |ms| t + Duration::from_millis(ms);
        for _ in 0..4 {
            assert_eq!(rate.take_at(at(0)), Ok(()));
        }
        assert_eq!(rate.take_at(at(0)), Err(Duration::from_millis(250)));
        assert_eq!(rate.take_at(at(250)), Ok(()));
        assert!(rate.take_at(at(300)).is_err());
        // Idle time refills to one second's worth, no more.
        for _ in 0..4 {
            assert_eq!(rate.take_at(at(60_000)), Ok(()));
        }
        assert!(rate.take_at(at(60_000)).is_err());
    }

    #[tokio::test]
    async fn each_tenant_has_its_own_slots_and_bucket() {
        let limits = SandboxLimits {
            max_invocations_per_tenant: 1,
            ..SandboxLimits::default()
        };
        let shares = TenantShares::new(&limits);
        let big = shares.of("big");
        let held = big.invocation_slot().await;
        // big's second invocation waits; small's does not.
        let second = tokio::time::timeout(Duration::from_millis(50), big.invocation_slot()).await;
        assert!(second.is_err(), "big is at its cap");
        let small = shares.of("small");
        let _small = tokio::time::timeout(Duration::from_millis(50), small.invocation_slot())
            .await
            .expect("another tenant is not held up");
        drop(held);
        let _next =
            tokio::time::timeout(Duration::from_secs(1), shares.of("big").invocation_slot())
                .await
                .expect("the slot is free again");
    }
}
