//! Builds the misbehaving test plugin so the tests can install a real
//! component with a plain `cargo test`.

fn main() {
    let wasm = plugin_build::build_plugin(
        "plugin-misbehaving",
        &[
            "test-plugins/misbehaving/src",
            "test-plugins/misbehaving/Cargo.toml",
            "wit",
        ],
    );
    println!("cargo:rustc-env=OORT_TEST_PLUGIN_WASM={}", wasm.display());
}
