//! Invocation benchmark: what one sandboxed call costs, and what the compiled
//! cache saves.
//!
//! Run with `cargo test -p oort-platform --bench invocation` (dev profile, where
//! wasmtime and Cranelift are optimized anyway; see the workspace
//! Cargo.toml). `cargo bench` works too but rebuilds wasmtime in release.
//!
//! 1. Fresh store + instantiate from `InstancePre` + one `manifest()` call +
//!    drop, with the pooling allocator and without: median and p99.
//! 2. Cold start of an installed plugin: deserialize from the on-disk cache
//!    vs compile with Cranelift.

use std::time::{Duration, Instant};

use oort_runtime::cache::ComponentCache;
use oort_runtime::calls::Manifest;
use oort_runtime::capabilities::InvocationContext;
use oort_runtime::engine::{Allocation, build_engine};
use oort_runtime::{PluginRuntime, SandboxLimits};
use wasmtime::component::Component;

const PLUGIN: &[u8] = include_bytes!(env!("OORT_TEST_PLUGIN_WASM"));
const INVOCATIONS: usize = 2000;
const WARMUP: usize = 100;
const COMPILES: usize = 5;
const LOADS: usize = 50;

struct Stats {
    median: Duration,
    p99: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Stats {
        median: at(0.5),
        p99: at(0.99),
    }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn invocation_cycle(allocation: Allocation) -> Stats {
    let limits = SandboxLimits::default();
    let engine = build_engine(allocation, limits.memory_bytes).expect("engine");
    let cache_dir = tempfile::tempdir().expect("temp dir");
    let runtime = PluginRuntime::new(
        engine,
        ComponentCache::new(cache_dir.path(), [7; 32]),
        limits,
    )
    .expect("runtime");
    let prepared = runtime.prepare(PLUGIN).expect("the test plugin prepares");
    let mut samples = Vec::with_capacity(INVOCATIONS);
    for i in 0..WARMUP + INVOCATIONS {
        let start = Instant::now();
        runtime
            .invoke(&prepared, InvocationContext::inert("bench"), Manifest)
            .await
            .expect("manifest() succeeds");
        if i >= WARMUP {
            samples.push(start.elapsed());
        }
    }
    stats(samples)
}

fn cold_start() -> (Stats, Stats) {
    let engine = build_engine(Allocation::OnDemand, 64 << 20).expect("engine");
    let mut compiles = Vec::new();
    for _ in 0..COMPILES {
        let start = Instant::now();
        let component = Component::new(&engine, PLUGIN).expect("compiles");
        compiles.push(start.elapsed());
        drop(component);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = ComponentCache::new(dir.path(), [7; 32]);
    cache
        .load_or_compile(&engine, PLUGIN)
        .expect("first load compiles and caches");
    let mut loads = Vec::new();
    for _ in 0..LOADS {
        let start = Instant::now();
        let (_, outcome) = cache.load_or_compile(&engine, PLUGIN).expect("cache load");
        loads.push(start.elapsed());
        assert_eq!(outcome, oort_runtime::cache::CacheOutcome::Hit);
    }
    (stats(compiles), stats(loads))
}

fn main() {
    if PLUGIN.is_empty() {
        eprintln!(
            "the test plugin was not built (see the host build warnings); nothing to measure"
        );
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    println!(
        "plugin: test-plugins/misbehaving ({} bytes); {INVOCATIONS} invocations after {WARMUP} warm-up",
        PLUGIN.len()
    );

    let pooled = rt.block_on(invocation_cycle(Allocation::Pooling));
    let on_demand = rt.block_on(invocation_cycle(Allocation::OnDemand));
    println!(
        "invoke manifest() fresh store, pooling:   median {:8.1} us   p99 {:8.1} us",
        us(pooled.median),
        us(pooled.p99)
    );
    println!(
        "invoke manifest() fresh store, on-demand: median {:8.1} us   p99 {:8.1} us",
        us(on_demand.median),
        us(on_demand.p99)
    );
    println!(
        "pooling speed-up (on-demand / pooling):   median {:.2}x       p99 {:.2}x",
        on_demand.median.as_secs_f64() / pooled.median.as_secs_f64(),
        on_demand.p99.as_secs_f64() / pooled.p99.as_secs_f64()
    );

    let (compile, load) = cold_start();
    println!(
        "cold start, compile (Component::new):     median {:8.2} ms   p99 {:8.2} ms  (n={COMPILES})",
        ms(compile.median),
        ms(compile.p99)
    );
    println!(
        "cold start, verified cache load:          median {:8.2} ms   p99 {:8.2} ms  (n={LOADS})",
        ms(load.median),
        ms(load.p99)
    );
    println!(
        "cache speed-up (compile / cache load):    median {:.0}x",
        compile.median.as_secs_f64() / load.median.as_secs_f64()
    );
}
