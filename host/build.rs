//! Builds the plugins the host embeds: the built-in Duo plugin (installed on
//! `Platform::open`) and the misbehaving test plugin (used by the invocation
//! benchmark), so a plain `cargo build` yields a self-contained host.
//!
//! A plugin that fails to build does not fail the host build: the host is
//! built with an empty placeholder instead (and says so, here as a cargo
//! warning and at run time when it refuses to install it), so one broken
//! plugin crate does not block work on the host.

use std::path::PathBuf;

fn build(package: &str, watch: &[&str], env: &str) {
    let built = std::panic::catch_unwind(|| plugin_build::build_plugin(package, watch));
    let path = match built {
        Ok(path) => path,
        Err(_) => {
            println!(
                "cargo:warning=plugin `{package}` failed to build; embedding an empty placeholder instead"
            );
            let out =
                PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set for build scripts"));
            let placeholder = out.join(format!("{package}.unbuilt.wasm"));
            std::fs::write(&placeholder, b"").expect("writing the placeholder plugin");
            placeholder
        }
    };
    println!("cargo:rustc-env={env}={}", path.display());
}

fn main() {
    build(
        "plugin-duo",
        &["plugin-duo/src", "plugin-duo/Cargo.toml", "wit"],
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
