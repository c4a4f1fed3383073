//! Per-store resource limits: wasmtime's `StoreLimits`, plus a record of
//! whether the memory cap refused a growth, so the invocation's error can
//! name the limit instead of a bare trap.

use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};

pub struct MemoryLimiter {
    inner: StoreLimits,
    max_bytes: u64,
    /// Bytes of all linear memories of the store together: the cap is per
    /// invocation, so a component with several memories cannot multiply it.
    total_bytes: u64,
    hit: bool,
}

impl MemoryLimiter {
    pub fn new(max_bytes: u64) -> MemoryLimiter {
        let inner = StoreLimitsBuilder::new()
            .memory_size(usize::try_from(max_bytes).unwrap_or(usize::MAX))
            .table_elements(100_000)
            // Per store, sized so POOL_INSTANCES stores fit the pool's totals
            // (engine.rs): one plugin cannot drain the slots of the others.
            .instances(8)
            .tables(8)
            .memories(2)
            .trap_on_grow_failure(true)
            .build();
        MemoryLimiter {
            inner,
            max_bytes,
            total_bytes: 0,
            hit: false,
        }
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// True if the plugin tried to grow memory past the cap.
    pub fn hit(&self) -> bool {
        self.hit
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.total_bytes - current as u64 + desired as u64;
        if total > self.max_bytes {
            self.hit = true;
            wasmtime::bail!(
                "memory limit of {} bytes reached (all memories of the instance together)",
                self.max_bytes
            );
        }
        let allowed = self.inner.memory_growing(current, desired, maximum)?;
        if allowed {
            self.total_bytes = total;
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_past_the_cap_traps_and_is_recorded() {
        let mut l = MemoryLimiter::new(1 << 20);
        assert!(l.memory_growing(0, 1 << 19, None).unwrap());
        assert!(!l.hit());
        assert!(l.memory_growing(1 << 19, 2 << 20, None).is_err());
        assert!(l.hit());
    }

    #[test]
    fn the_cap_counts_all_memories_of_the_instance_together() {
        let mut l = MemoryLimiter::new(1 << 20);
        assert!(l.memory_growing(0, 600 << 10, None).unwrap());
        // A second memory that alone fits the cap, but not with the first.
        assert!(l.memory_growing(0, 600 << 10, None).is_err());
        assert!(l.hit());
    }
}
