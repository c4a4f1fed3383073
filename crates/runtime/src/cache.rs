//! Compiled components cached on disk, so loading an installed plugin costs
//! a deserialize (~1 ms) instead of a Cranelift compile (~100+ ms).
//!
//! `Component::deserialize` trusts its input completely (it is native code),
//! so an artifact is only loaded if its bytes match the HMAC-SHA256 recorded
//! next to it when this host wrote it, under a key derived from the master
//! key: someone who can write the cache directory but does not hold the key
//! (e.g. `OORT_MASTER_KEY` comes from the environment) cannot swap in code.
//! The file name binds an artifact to the wasm bytes, the wasmtime version
//! and the engine configuration. Anything else is deleted and rebuilt,
//! never loaded.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where a component came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    Hit,
    /// Compiled (no artifact, or the artifact was rejected and replaced).
    Compiled,
}

pub struct ComponentCache {
    dir: PathBuf,
    /// Signs and checks artifacts; see the module docs.
    integrity_key: [u8; 32],
}

/// The purpose the integrity key is derived for (from the data directory's master key).
pub const INTEGRITY_KEY_PURPOSE: &str = "oort compiled-plugin cache v1";

/// Feeds `Hash` output into sha256, to turn wasmtime's compatibility hash
/// into stable bytes for a file name.
struct DigestHasher(Sha256);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl ComponentCache {
    pub fn new(dir: impl Into<PathBuf>, integrity_key: [u8; 32]) -> ComponentCache {
        ComponentCache {
            dir: dir.into(),
            integrity_key,
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(&self.integrity_key)
            .expect("HMAC takes a key of any length")
    }

    fn tag_hex(&self, bytes: &[u8]) -> String {
        let mut mac = self.mac();
        mac.update(bytes);
        hex::encode(mac.finalize().into_bytes())
    }

    /// Constant-time check of a recorded tag.
    fn tag_matches(&self, bytes: &[u8], recorded: &str) -> bool {
        let Ok(tag) = hex::decode(recorded.trim()) else {
            return false;
        };
        let mut mac = self.mac();
        mac.update(bytes);
        mac.verify_slice(&tag).is_ok()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The artifact's base name for `wasm` under `engine`.
    pub fn key(engine: &Engine, wasm: &[u8]) -> String {
        let mut h = DigestHasher(Sha256::new());
        h.0.update(Sha256::digest(wasm));
        h.0.update(b"wasmtime-48.0.8");
        engine.precompile_compatibility_hash().hash(&mut h);
        hex::encode(h.0.finalize())
    }

    fn paths(&self, key: &str) -> (PathBuf, PathBuf) {
        (
            self.dir.join(format!("{key}.cwasm")),
            self.dir.join(format!("{key}.cwasm.hmac")),
        )
    }

    /// Loads the cached compilation of `wasm`, or compiles (fully validating)
    /// and caches it.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        wasm: &[u8],
    ) -> anyhow::Result<(Component, CacheOutcome)> {
        let key = Self::key(engine, wasm);
        let (artifact, digest) = self.paths(&key);
        if let Some(component) = self.load_verified(engine, &artifact, &digest) {
            return Ok((component, CacheOutcome::Hit));
        }
        let component = Component::new(engine, wasm)?;
        if let Err(e) = self.store(&component, &artifact, &digest) {
            // The cache is an optimisation: a read-only data dir only costs time.
            tracing::warn!(
                "could not cache compiled plugin at {}: {e:#}",
                artifact.display()
            );
        }
        Ok((component, CacheOutcome::Compiled))
    }

    /// `Some` only for an artifact whose bytes match its recorded digest and
    /// that wasmtime accepts; anything else is removed.
    fn load_verified(&self, engine: &Engine, artifact: &Path, digest: &Path) -> Option<Component> {
        let bytes = std::fs::read(artifact).ok()?;
        let recorded = std::fs::read_to_string(digest).unwrap_or_default();
        if !self.tag_matches(&bytes, &recorded) {
            tracing::warn!(
                "compiled plugin {} does not match its digest; rebuilding it",
                artifact.display()
            );
            remove(artifact, digest);
            return None;
        }
        // SAFETY: the bytes are exactly the ones a host holding the key
        // serialized (their tag matches the one written alongside), and
        // deserializing from the verified buffer leaves no window to swap
        // the file.
        match unsafe { Component::deserialize(engine, &bytes) } {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(
                    "compiled plugin {} was rejected ({e}); rebuilding it",
                    artifact.display()
                );
                remove(artifact, digest);
                None
            }
        }
    }

    fn store(&self, component: &Component, artifact: &Path, digest: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let bytes = component.serialize()?;
        // Artifact first, digest last: a crash in between leaves an artifact
        // without a digest, which is rejected and rebuilt.
        write_atomic(artifact, &bytes)?;
        write_atomic(digest, self.tag_hex(&bytes).as_bytes())?;
        Ok(())
    }
}

fn remove(artifact: &Path, digest: &Path) {
    let _ = std::fs::remove_file(artifact);
    let _ = std::fs::remove_file(digest);
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal valid component (the empty component, in text format
    /// compiled by hand): magic, component-model layer 1.
    const EMPTY_COMPONENT: &[u8] = &[0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

    const KEY: [u8; 32] = [9; 32];

    fn engine() -> Engine {
        crate::engine::build_engine(crate::engine::Allocation::OnDemand, 16 << 20).unwrap()
    }

    #[test]
    fn second_load_is_a_hit() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ComponentCache::new(dir.path(), KEY);
        let engine = engine();
        assert_eq!(
            cache.load_or_compile(&engine, EMPTY_COMPONENT).unwrap().1,
            CacheOutcome::Compiled
        );
        assert_eq!(
            cache.load_or_compile(&engine, EMPTY_COMPONENT).unwrap().1,
            CacheOutcome::Hit
        );
    }

    #[test]
    fn a_corrupted_artifact_is_deleted_and_rebuilt_not_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ComponentCache::new(dir.path(), KEY);
        let engine = engine();
        cache.load_or_compile(&engine, EMPTY_COMPONENT).unwrap();
        let (artifact, digest) = cache.paths(&ComponentCache::key(&engine, EMPTY_COMPONENT));
        let mut bytes = std::fs::read(&artifact).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0xff;
        std::fs::write(&artifact, &bytes).unwrap();

        let (_, outcome) = cache.load_or_compile(&engine, EMPTY_COMPONENT).unwrap();
        assert_eq!(outcome, CacheOutcome::Compiled);
        let rebuilt = std::fs::read(&artifact).unwrap();
        assert_ne!(rebuilt, bytes, "the corrupted artifact was replaced");
        assert!(cache.tag_matches(&rebuilt, &std::fs::read_to_string(&digest).unwrap()));
        assert_eq!(
            cache.load_or_compile(&engine, EMPTY_COMPONENT).unwrap().1,
            CacheOutcome::Hit
        );
    }

    #[test]
    fn a_missing_or_forged_digest_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ComponentCache::new(dir.path(), KEY);
        let engine = engine();
        cache.load_or_compile(&engine, EMPTY_COMPONENT).unwrap();
        let (artifact, digest) = cache.paths(&ComponentCache::key(&engine, EMPTY_COMPONENT));
        std::fs::remove_file(&digest).unwrap();
        assert_eq!(
            cache.load_or_compile(&engine, EMPTY_COMPONENT).unwrap().1,
            CacheOutcome::Compiled
        );

        // An attacker-supplied artifact with a matching digest of garbage.
        std::fs::write(&artifact, b"not a cwasm").unwrap();
        std::fs::write(&digest, sha256_hex(b"not a cwasm")).unwrap();
        assert_eq!(
            cache.load_or_compile(&engine, EMPTY_COMPONENT).unwrap().1,
            CacheOutcome::Compiled
        );
        assert!(std::fs::read(&artifact).unwrap() != b"not a cwasm");
    }

    #[test]
    fn valid_code_tagged_without_the_key_is_not_loaded() {
        // Someone who can write the cache but lacks the key plants another
        // component's (valid) compiled code under this component's name,
        // tagged with a key of their own, or with a plain sha256.
        let dir = tempfile::tempdir().unwrap();
        let cache = ComponentCache::new(dir.path(), KEY);
        let engine = engine();
        let other = [EMPTY_COMPONENT, &[0x00, 0x02, 0x01, b'x']].concat(); // + a custom section
        cache.load_or_compile(&engine, &other).unwrap();
        cache.load_or_compile(&engine, EMPTY_COMPONENT).unwrap();
        let (planted, _) = cache.paths(&ComponentCache::key(&engine, &other));
        let (artifact, digest) = cache.paths(&ComponentCache::key(&engine, EMPTY_COMPONENT));
        let code = std::fs::read(&planted).unwrap();
        let attacker = ComponentCache::new(dir.path(), [1; 32]);
        for forged_tag in [attacker.tag_hex(&code), sha256_hex(&code)] {
            std::fs::write(&artifact, &code).unwrap();
            std::fs::write(&digest, &forged_tag).unwrap();
            assert_eq!(
                cache.load_or_compile(&engine, EMPTY_COMPONENT).unwrap().1,
                CacheOutcome::Compiled,
                "planted code was loaded"
            );
            let retagged = std::fs::read_to_string(&digest).unwrap();
            assert_ne!(
                retagged, forged_tag,
                "the artifact was rebuilt and tagged anew"
            );
        }
    }

    #[test]
    fn keys_depend_on_the_wasm_bytes() {
        let engine = engine();
        let other = [EMPTY_COMPONENT, &[0x00]].concat();
        assert_ne!(
            ComponentCache::key(&engine, EMPTY_COMPONENT),
            ComponentCache::key(&engine, &other)
        );
    }
}
