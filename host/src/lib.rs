//! oort-host: the sandboxed integration runtime.
//!
//! See ARCHITECTURE.md for the map of modules and trust boundaries.

pub mod actions;
pub mod capabilities;
pub mod insights;
pub mod model;
pub mod platform;
pub mod runtime;
pub mod store;
