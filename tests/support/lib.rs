//! Shared helpers of the end-to-end tests: a throw-away data directory with a
//! [`Platform`] on short sandbox limits, the misbehaving test plugin, a local
//! HTTP stub, a runner for the `oort-host` binary, and a scanner that looks
//! for secret values in files and output.

pub mod cli;
pub mod duo;
pub mod env;
pub mod leak;
pub mod stub;

pub use cli::{Cli, CliOutput, oort_host_bin};
pub use env::{MisbehavingSpec, TENANT, TestEnv, duo_limits, misbehaving_wasm, sandbox_limits};
pub use leak::{LeakScanner, files_under};
pub use stub::Stub;

/// What the misbehaving plugin signs in its signing modes (mirrors
/// `test-plugins/misbehaving/src/modes.rs`).
pub const SIGNED_DATA: &[u8] = b"oort-misbehaving-signing-check-v1";

/// HMAC-SHA512 of [`SIGNED_DATA`] under `key`, hex: what the plugin must
/// report if the host signed with the right secret.
pub fn expected_signature(key: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha512>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(SIGNED_DATA);
    hex::encode(mac.finalize().into_bytes())
}

/// The note of `summary`-like note lists that starts with `prefix`, without it.
pub fn note<'a>(notes: &'a [String], prefix: &str) -> Option<&'a str> {
    notes.iter().find_map(|n| n.strip_prefix(prefix))
}
