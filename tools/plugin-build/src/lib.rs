//! Build-script helper: compiles a plugin crate of this workspace to a
//! `wasm32-wasip2` component, so the host and the tests can embed real plugins
//! with a plain `cargo build`.
//!
//! The nested cargo uses its own target directory (the outer build holds the
//! lock on the main one), the workspace's `plugin` profile and the wasm
//! target's rustflags from `.cargo/config.toml`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The wasm target every plugin is built for.
pub const TARGET: &str = "wasm32-wasip2";

/// Builds `package` (a workspace member) and returns the path of its `.wasm`.
///
/// Call from a build script. Emits `rerun-if-changed` for `watch` (paths
/// relative to the workspace root) so edits to the plugin or the WIT rebuild.
pub fn build_plugin(package: &str, watch: &[&str]) -> PathBuf {
    let manifest_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("run from a build script"));
    let workspace = workspace_root(&manifest_dir);
    for path in watch {
        println!("cargo:rerun-if-changed={}", workspace.join(path).display());
    }
    // Dependencies, the `plugin` profile and the wasm target's rustflags.
    for build_setting in ["Cargo.lock", "Cargo.toml", ".cargo/config.toml"] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(build_setting).display()
        );
    }

    let target_dir = workspace.join("target").join("plugins");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&workspace)
        .args([
            "build",
            "--package",
            package,
            "--target",
            TARGET,
            "--profile",
            "plugin",
        ])
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's compiler settings (clippy wrappers, host RUSTFLAGS,
    // coverage instrumentation) must not leak into the wasm build.
    for var in [
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_RUSTFLAGS",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("could not run cargo to build plugin {package}: {e}"));
    if !status.success() {
        panic!(
            "building plugin `{package}` for {TARGET} failed (see the output above). \
             If the target is missing, install it with `rustup target add {TARGET}`."
        );
    }
    let artifact = target_dir
        .join(TARGET)
        .join("plugin")
        .join(format!("{}.wasm", package.replace('-', "_")));
    assert!(
        artifact.exists(),
        "plugin build succeeded but {} is missing",
        artifact.display()
    );
    artifact
}

fn workspace_root(manifest_dir: &Path) -> PathBuf {
    manifest_dir
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .map(|toml| toml.contains("[workspace]"))
                .unwrap_or(false)
        })
        .expect("a Cargo workspace above the crate")
        .to_path_buf()
}
