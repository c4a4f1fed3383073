//! Generated account data: inventory, auth events, admin log, planted scenarios.

pub mod catalog;
pub mod generate;
pub mod model;
pub mod render;
pub mod rng;
pub mod scenarios;

pub use generate::{Dataset, generate};
