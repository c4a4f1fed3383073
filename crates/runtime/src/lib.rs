//! The wasmtime side of the host: engine, compiled-component cache, plugin
//! installation checks, the capabilities a plugin gets, and sandboxed
//! invocations. A mechanism, not a policy: who may call what, and the audit
//! trail, are the service layer's (`oort-platform`), which keeps this crate
//! to itself.

pub mod bindings;
pub mod cache;
pub mod calls;
pub mod capabilities;
pub mod config_check;
pub mod convert;
pub mod cpu;
pub mod engine;
pub mod error;
pub mod install;
pub mod invoke;
pub mod lifted;
pub mod limiter;
pub mod limits;
pub mod observe;
pub mod stop;
pub mod tenants;

pub use calls::{ExportCall, Operation};
pub use error::SandboxError;
pub use invoke::{Inspected, PluginRuntime, Prepared};
pub use limits::SandboxLimits;
pub use observe::{RuntimeObserver, Unobserved};
pub use stop::StopSignal;
