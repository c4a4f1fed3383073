//! The plugin contract's data types: the `oort-model` crate, shared with the
//! plugins (see `crates/model/`).
//!
//! The runtime converts its generated WIT bindings to these at the sandbox
//! boundary, so storage, insights, actions and the front ends never depend
//! on a particular WIT version.

pub use oort_model::*;
