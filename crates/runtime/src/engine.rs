//! The process-wide wasmtime `Engine`: pooling allocator, epoch interruption
//! driven by a ticker thread, no component-model concurrency (we don't use
//! it, and it costs ~4x per call).

use std::sync::OnceLock;
use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Epoch tick: the granularity of deadlines and of yielding to tokio.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Concurrent plugin instances the pool holds; invocations beyond this wait
/// for a slot (see `invoke`) rather than fail.
pub const POOL_INSTANCES: u32 = 64;
/// Per-memory ceiling of pooled slots. The per-invocation cap is enforced by
/// the store's limiter, so one engine serves every `SandboxLimits`.
const POOL_MEMORY_CEILING: u64 = 1 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocation {
    /// Pre-reserved instance slots: ~2x faster instantiation.
    Pooling,
    /// Allocate per instance (fallback; the benchmark's baseline).
    OnDemand,
}

fn base_config() -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.concurrency_support(false);
    config.max_wasm_stack(1 << 20);
    // `perf` can name plugin functions only with a map of the JIT code.
    if std::env::var_os("OORT_PERF_MAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    config
}

fn pooling(memory_bytes: u64) -> PoolingAllocationConfig {
    let mut p = PoolingAllocationConfig::default();
    // A Rust plugin instantiates a handful of core modules (main module,
    // adapter shims), each with a table and most with a memory.
    p.total_component_instances(POOL_INSTANCES)
        .total_core_instances(POOL_INSTANCES * 8)
        .total_memories(POOL_INSTANCES * 2)
        .total_tables(POOL_INSTANCES * 8)
        .total_stacks(POOL_INSTANCES)
        .max_memory_size(usize::try_from(memory_bytes).unwrap_or(usize::MAX));
    p
}

/// Builds an engine with the given allocation strategy and starts its epoch
/// ticker. The ticker stops by itself when the engine is dropped.
pub fn build_engine(allocation: Allocation, memory_bytes: u64) -> anyhow::Result<Engine> {
    let mut config = base_config();
    if allocation == Allocation::Pooling {
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling(memory_bytes)));
    }
    let engine = Engine::new(&config)?;
    start_epoch_ticker(&engine);
    Ok(engine)
}

/// The process-wide engine every `Platform` shares (one ticker thread, one
/// instance pool), created on first use.
pub fn shared_engine(memory_bytes: u64) -> anyhow::Result<(Engine, Allocation)> {
    static SHARED: OnceLock<(Engine, Allocation)> = OnceLock::new();
    if let Some((engine, allocation)) = SHARED.get() {
        if memory_bytes > POOL_MEMORY_CEILING && *allocation == Allocation::Pooling {
            tracing::warn!(
                "memory limit {memory_bytes} exceeds the pooled slot size {POOL_MEMORY_CEILING}"
            );
        }
        return Ok((engine.clone(), *allocation));
    }
    let built = host_engine(memory_bytes.max(POOL_MEMORY_CEILING))?;
    Ok(SHARED.get_or_init(|| built).clone())
}

/// A new engine: pooling if the machine allows it (it reserves a lot of
/// virtual address space), on-demand otherwise.
pub fn host_engine(memory_bytes: u64) -> anyhow::Result<(Engine, Allocation)> {
    match build_engine(Allocation::Pooling, memory_bytes) {
        Ok(engine) => Ok((engine, Allocation::Pooling)),
        Err(e) => {
            tracing::warn!(
                "pooling allocator unavailable ({e:#}); falling back to on-demand allocation"
            );
            Ok((
                build_engine(Allocation::OnDemand, memory_bytes)?,
                Allocation::OnDemand,
            ))
        }
    }
}

fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("oort-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })
        .expect("spawning the epoch ticker thread");
}
