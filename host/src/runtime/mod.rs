//! The wasmtime side of the host: engine, compiled-component cache, plugin
//! installation checks, and sandboxed invocations.

pub mod bindings;
pub mod cache;
pub mod calls;
pub mod config_check;
pub mod convert;
pub mod engine;
pub mod error;
pub mod install;
pub mod invoke;
pub mod lifted;
pub mod limiter;
pub mod limits;

pub use calls::{ExportCall, Operation};
pub use error::SandboxError;
pub use invoke::{Inspected, PluginRuntime, Prepared};
pub use limits::SandboxLimits;
