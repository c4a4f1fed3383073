//! Host bindings generated from the working plugin contract, `wit/integration/`
//! (`oort:integration@0.1.4`), which also runs plugins built against every
//! earlier 0.1.x: within 0.1 a version only adds functions, and wasmtime links
//! an `@0.1.0` import to the `@0.1.4` definition. The bindings are of the
//! larger world, `integration-with-sources`, but the host never asks for it
//! whole: it looks the `plugin` export up, and the optional `sources` export
//! only where the plugin has it ([`crate::invoke::Prepared`]). Released versions keep a
//! copy of their contract in `wit/released/VERSION/` (0.1.0: the test plugins
//! build against it, proving old plugins still run).
//!
//! Imports are async (host I/O must not block the executor) and trappable (a
//! host-side failure such as a database error ends the invocation instead of
//! being disguised as a plugin-visible error). The bindings import nothing
//! from the capabilities: the resources `secret` and `pending-response` are
//! the generated placeholder types, and each capability keeps its own entry
//! (a secret handle, a request in flight) in the store's `ResourceTable`
//! under the handle's index, so secret bytes never enter guest memory.

wasmtime::component::bindgen!({
    world: "integration-with-sources",
    path: "../../wit/integration",
    imports: { default: async | trappable },
    exports: { default: async },
});

pub use exports::oort::integration::plugin as plugin_exports;
pub use exports::oort::integration::sources as sources_exports;
pub use oort::integration::{http, log, secrets, storage, types};

/// The version of the working contract these bindings are generated from
/// (a test checks it against `wit/integration/`).
pub const WIT_VERSION: &str = "0.1.4";

/// `(major, minor, patch)` of a plain `x.y.z` version.
pub(crate) fn parse(version: &str) -> Option<(u64, u64, u64)> {
    let mut parts = version.split('.').map(|p| p.parse::<u64>().ok());
    let parsed = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(parsed)
}

/// Whether this host runs a plugin built against `version`: the working
/// version and every earlier one of the same 0.x minor (which it extends).
pub fn supports_wit_version(version: &str) -> bool {
    match (parse(version), parse(WIT_VERSION)) {
        (Some((0, minor, patch)), Some((0, our_minor, our_patch))) => {
            minor == our_minor && patch <= our_patch
        }
        _ => false,
    }
}

/// The versions [`supports_wit_version`] accepts, oldest first.
pub fn supported_wit_versions() -> Vec<String> {
    let (major, minor, patch) = parse(WIT_VERSION).expect("WIT_VERSION is x.y.z");
    (0..=patch)
        .map(|p| format!("{major}.{minor}.{p}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn wit_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit")
    }

    /// The version of the `package oort:integration@X;` lines of a folder's
    /// files (all of them must agree).
    fn package_version(folder: &Path) -> String {
        let mut versions = Vec::new();
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "wit") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines() {
                if let Some(rest) = line.strip_prefix("package oort:integration@") {
                    versions.push(rest.trim_end_matches(';').to_owned());
                }
            }
        }
        versions.dedup();
        assert_eq!(
            versions.len(),
            1,
            "{}: package lines {versions:?}",
            folder.display()
        );
        versions.remove(0)
    }

    #[test]
    fn the_working_contract_is_the_version_the_host_names() {
        assert_eq!(package_version(&wit_dir().join("integration")), WIT_VERSION);
        assert!(supports_wit_version(WIT_VERSION));
        assert_eq!(
            supported_wit_versions().last().map(String::as_str),
            Some(WIT_VERSION)
        );
    }

    #[test]
    fn every_released_contract_is_supported() {
        let mut released = Vec::new();
        for entry in std::fs::read_dir(wit_dir().join("released")).unwrap() {
            let folder = entry.unwrap().path();
            let name = folder.file_name().unwrap().to_string_lossy().into_owned();
            assert_eq!(
                package_version(&folder),
                name,
                "wit/released/{name} must hold the contract of version {name}"
            );
            assert!(
                supports_wit_version(&name),
                "released {name} is no longer supported"
            );
            released.push(name);
        }
        assert!(released.contains(&"0.1.0".to_owned()), "{released:?}");
    }

    #[test]
    fn versions_outside_the_minor_or_ahead_of_it_are_refused() {
        assert_eq!(
            supported_wit_versions(),
            ["0.1.0", "0.1.1", "0.1.2", "0.1.3", "0.1.4"]
        );
        for version in [
            "0.1.5", "0.2.0", "1.0.0", "0.0.9", "0.1", "0.1.0.1", "0.1.x", "",
        ] {
            assert!(!supports_wit_version(version), "{version}");
        }
    }
}
