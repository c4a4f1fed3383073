//! The plugin contract's data types (`wit/integration/`) as plain Rust, one
//! definition shared by the host and the plugins written in Rust.
//!
//! The host converts its generated WIT bindings to these at the sandbox
//! boundary, so storage, insights, actions and the front ends never depend on
//! a particular WIT version; a plugin builds them in its pure logic (testable
//! and benchmarkable without a wasm runtime) and its guest glue converts them
//! on the way out. Field names and vocabularies are the WIT's (serde writes
//! `snake_case` where the WIT says `kebab-case`); see the WIT docs for
//! meanings. `tests/wit_contract.rs` checks the two agree.

#[cfg(feature = "host")]
pub mod batch;
#[cfg(feature = "host")]
mod findings;
mod manifest;
mod records;
mod results;
mod role;
#[cfg(feature = "host")]
mod secret;

#[cfg(feature = "host")]
pub use findings::{Finding, StoredFinding};
pub use manifest::{
    ActionParam, ActionSpec, Capability, Charset, ConfigField, EgressRule, FieldType, Manifest,
    RecordKind, Source, TextConstraints,
};
pub use records::{
    AccessDevice, AuthDevice, AuthEvent, CollectedRecord, GeoLocation, MfaDevice, Normalized,
    UserAccount,
};
pub use results::{
    ActionOutcome, ActionRequest, ActionStatus, Check, CheckStatus, CollectOptions, CollectSummary,
    FieldError, PluginError,
};
pub use role::Role;
#[cfg(feature = "host")]
pub use secret::{SecretValue, wipe};
