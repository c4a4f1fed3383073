//! The Duo Security plugin. All logic lives in plain modules over the traits
//! of [`host_api`], so it runs natively in tests and benchmarks; the wasm
//! component adds only the WIT glue in [`guest`].

pub mod actions;
pub mod client;
pub mod collect;
pub mod config;
pub mod connectivity;
pub mod date;
pub mod error;
pub mod host_api;
pub mod json_scan;
pub mod lenient;
pub mod manifest;
pub mod model;
pub mod normalize;
pub mod signing;
pub mod swar;

#[cfg(test)]
mod fakes;

#[cfg(all(target_arch = "wasm32", feature = "component"))]
mod guest;

pub use normalize::normalize_auth_page;
