//! oort-host: the sandboxed integration runtime.
//!
//! See ARCHITECTURE.md for the map of modules and trust boundaries.

pub mod model;
pub mod store;
pub mod platform;
pub mod runtime;
pub mod capabilities;
pub mod actions;
pub mod insights;
