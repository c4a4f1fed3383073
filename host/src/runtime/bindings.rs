//! Host bindings generated from the plugin contract `oort:integration@0.1.3`
//! (which also runs plugins built against 0.1.0, 0.1.1 and 0.1.2: each minor
//! 0.1.x only adds functions).
//!
//! Imports are async (host I/O must not block the executor) and trappable (a
//! host-side failure such as a database error ends the invocation instead of
//! being disguised as a plugin-visible error). The bindings import nothing
//! from the capabilities: the resources `secret` and `pending-response` are
//! the generated placeholder types, and each capability keeps its own entry
//! (a secret handle, a request in flight) in the store's `ResourceTable`
//! under the handle's index, so secret bytes never enter guest memory.

wasmtime::component::bindgen!({
    world: "integration",
    path: "../wit/v0.1.3",
    imports: { default: async | trappable },
    exports: { default: async },
});

pub use exports::oort::integration::plugin as plugin_exports;
pub use oort::integration::{http, log, secrets, storage, types};

/// The WIT package versions this host can run.
pub const SUPPORTED_WIT_VERSIONS: &[&str] = &["0.1.0", "0.1.1", "0.1.2", "0.1.3"];
