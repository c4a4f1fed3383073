//! oort-host: the sandboxed integration runtime.
//!
//! See ARCHITECTURE.md for the map of modules and trust boundaries.

pub mod actions;
pub mod capabilities;
pub mod model;
pub mod platform;
pub mod runtime;

pub use oort_insights as insights;
pub use oort_store as store;
