//! Builds the plugins the host embeds: the built-in Duo plugin (installed on
//! `Platform::open`), the misbehaving test plugin (used by the invocation
//! benchmark) and the normalization benchmark component (used by the
//! duo_collect benchmark), so a plain `cargo build` yields a self-contained host.
//!
//! A plugin that fails to build does not fail the host build: the host is
//! built with an empty placeholder instead (and says so, here as a cargo
//! warning and at run time when it refuses to install it), so one broken
//! plugin crate does not block work on the host.

use std::path::PathBuf;

fn build(package: &str, watch: &[&str], env: &str) {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set for build scripts"));
    let built = std::panic::catch_unwind(|| plugin_build::build_plugin(package, watch));
    let path = match built {
        // Embed a private copy: a later plugin build that links plugin-duo as
        // a library (normalize-bench) rewrites target/plugins/.../plugin_duo.wasm
        // with an export-less cdylib, which must never be what the host embeds.
        Ok(path) => {
            let copy = out.join(format!("{package}.wasm"));
            std::fs::copy(&path, &copy).unwrap_or_else(|e| {
                panic!("copying {} to {}: {e}", path.display(), copy.display())
            });
            copy
        }
        Err(_) => {
            println!(
                "cargo:warning=plugin `{package}` failed to build; embedding an empty placeholder instead"
            );
            let placeholder = out.join(format!("{package}.unbuilt.wasm"));
            std::fs::write(&placeholder, b"").expect("writing the placeholder plugin");
            placeholder
        }
    };
    println!("cargo:rustc-env={env}={}", path.display());
}

fn main() {
    // Before plugin-duo: it links plugin-duo's rlib, and building it also
    // rebuilds plugin-duo's export-less cdylib under the shared artifact name.
    build(
        "plugin-normalize-bench",
        &[
            "test-plugins/normalize-bench/src",
            "test-plugins/normalize-bench/Cargo.toml",
            "plugin-duo/src",
            "plugin-duo/Cargo.toml",
            "crates/model",
            "crates/time",
            "wit",
        ],
        "OORT_NORMALIZE_BENCH_WASM",
    );
    build(
        "plugin-duo",
        // And the crates plugin-duo builds on.
        &[
            "plugin-duo/src",
            "plugin-duo/Cargo.toml",
            "crates/model",
            "crates/time",
            "wit",
        ],
        "OORT_BUILTIN_DUO_WASM",
    );
    build(
        "plugin-misbehaving",
        &[
            "test-plugins/misbehaving/src",
            "test-plugins/misbehaving/Cargo.toml",
            "wit",
        ],
        "OORT_TEST_PLUGIN_WASM",
    );
}
