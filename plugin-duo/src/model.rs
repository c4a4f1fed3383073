//! The contract's data types as the plugin uses them: `oort-model`'s, with
//! text borrowed from the page it was parsed from. The pure logic works on
//! these so it can be tested and benchmarked without a wasm runtime; the guest
//! glue converts them at the boundary.

use std::borrow::Cow;

pub use oort_model::{
    ActionOutcome, ActionRequest, ActionStatus, Check, CheckStatus, CollectOptions, CollectSummary,
    FieldError, PluginError,
};

/// Text of a record: borrowed from the page it was parsed from where Duo's
/// JSON holds it verbatim (no copy on the way to the host), owned where the
/// plugin had to change it (escapes, case).
pub type Text<'a> = Cow<'a, str>;

pub type GeoLocation<'a> = oort_model::GeoLocation<Text<'a>>;
pub type AccessDevice<'a> = oort_model::AccessDevice<Text<'a>>;
pub type AuthDevice<'a> = oort_model::AuthDevice<Text<'a>>;
pub type AuthEvent<'a> = oort_model::AuthEvent<Text<'a>>;
pub type UserAccount<'a> = oort_model::UserAccount<Text<'a>>;
pub type MfaDevice<'a> = oort_model::MfaDevice<Text<'a>>;
pub type Normalized<'a> = oort_model::Normalized<Text<'a>>;
/// One record as the plugin commits it (the WIT `collected-record`).
pub type CollectedRecord<'a> = oort_model::CollectedRecord<Text<'a>>;
