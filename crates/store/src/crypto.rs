//! Secret encryption at rest: AES-256-GCM under the master key.
//!
//! Each value gets a fresh random 96-bit nonce and is stored as
//! `nonce || ciphertext`. The associated data names the integration id and the
//! field, so a ciphertext copied into another row (another integration, or
//! another field) fails authentication instead of decrypting there.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload, rand_core::RngCore};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;

use super::{IntegrationId, StoreError};
use oort_model::SecretValue;
use oort_model::wipe;

/// Environment variable that overrides the key file.
pub const MASTER_KEY_ENV: &str = "OORT_MASTER_KEY";
/// Name of the key file inside the data directory.
pub const MASTER_KEY_FILE: &str = "master.key";

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
/// Versioned so a future scheme can coexist with this one.
const AAD_DOMAIN: &str = "oort-secret-v1";

/// The 256-bit key that encrypts every secret of a data directory.
pub struct MasterKey([u8; KEY_LEN]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> MasterKey {
        MasterKey(bytes)
    }

    /// A key for one `purpose` other than sealing secrets (HMAC-SHA256 of
    /// the purpose under the master key), so no two uses share a key.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.0)
            .expect("HMAC takes a key of any length");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// A fresh random key (tests, and the first start of a data directory).
    pub fn generate() -> MasterKey {
        let mut bytes = [0u8; KEY_LEN];
        OsRng.fill_bytes(&mut bytes);
        MasterKey(bytes)
    }

    /// `OORT_MASTER_KEY` if set, else `data_dir/master.key` (created if missing).
    pub fn load(data_dir: &Path) -> Result<MasterKey, StoreError> {
        match std::env::var(MASTER_KEY_ENV) {
            Ok(value) => MasterKey::parse_env(&value),
            Err(std::env::VarError::NotPresent) => MasterKey::from_key_file(data_dir),
            Err(std::env::VarError::NotUnicode(_)) => Err(malformed_env()),
        }
    }

    /// Parses the value of `OORT_MASTER_KEY`: 64 hex characters, or the
    /// base64 encoding of 32 bytes.
    pub fn parse_env(value: &str) -> Result<MasterKey, StoreError> {
        let value = value.trim();
        let decoded = if value.len() == 2 * KEY_LEN && value.bytes().all(|b| b.is_ascii_hexdigit())
        {
            hex::decode(value).ok()
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(value)
                .ok()
                .or_else(|| base64::engine::general_purpose::URL_SAFE.decode(value).ok())
        };
        let Some(mut decoded) = decoded else {
            return Err(malformed_env());
        };
        let key = <[u8; KEY_LEN]>::try_from(decoded.as_slice()).map_err(|_| malformed_env());
        wipe(&mut decoded);
        key.map(MasterKey)
    }

    /// Reads `data_dir/master.key`, creating it with mode 0600 if missing.
    /// A key file readable by group or others is refused: the key protects
    /// every stored credential.
    pub fn from_key_file(data_dir: &Path) -> Result<MasterKey, StoreError> {
        let path = data_dir.join(MASTER_KEY_FILE);
        let io_err = |source| StoreError::io(&path, source);
        let created = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path);
        match created {
            Ok(mut file) => {
                let key = MasterKey::generate();
                file.write_all(&key.0).map_err(io_err)?;
                file.sync_all().map_err(io_err)?;
                Ok(key)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let mut file = std::fs::File::open(&path).map_err(io_err)?;
                let mode = file.metadata().map_err(io_err)?.permissions().mode();
                if mode & 0o077 != 0 {
                    return Err(StoreError::Invalid(format!(
                        "master key: the key file {} is accessible by group or others (mode {:o}); run `chmod 600 {}`",
                        path.display(),
                        mode & 0o777,
                        path.display()
                    )));
                }
                let mut bytes = Vec::with_capacity(KEY_LEN);
                file.read_to_end(&mut bytes).map_err(io_err)?;
                let key = <[u8; KEY_LEN]>::try_from(bytes.as_slice()).map_err(|_| {
                    StoreError::Corrupt(format!(
                        "master key: the key file {} holds {} bytes, expected {KEY_LEN}; restore the original key file or set {MASTER_KEY_ENV}",
                        path.display(),
                        bytes.len()
                    ))
                });
                wipe(&mut bytes);
                key.map(MasterKey)
            }
            Err(e) => Err(io_err(e)),
        }
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.0))
    }

    /// Encrypts one secret field of one integration.
    pub fn seal(
        &self,
        integration: IntegrationId,
        field: &str,
        plaintext: &SecretValue,
    ) -> Result<Vec<u8>, StoreError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = associated_data(integration, field);
        let ciphertext = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.expose(),
                    aad: &aad,
                },
            )
            .map_err(|_| {
                StoreError::Unavailable(format!("master key: could not encrypt secret `{field}`"))
            })?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Decrypts what [`MasterKey::seal`] produced for the same integration and field.
    pub fn open(
        &self,
        integration: IntegrationId,
        field: &str,
        sealed: &[u8],
    ) -> Result<SecretValue, StoreError> {
        if sealed.len() < NONCE_LEN {
            return Err(StoreError::Corrupt(format!(
                "master key: the stored value of secret `{field}` is truncated"
            )));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let aad = associated_data(integration, field);
        self.cipher()
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
            .map(SecretValue::new)
            .map_err(|_| {
                // GCM cannot tell a wrong key from a moved or altered value;
                // the wrong key is by far the common case.
                StoreError::Corrupt(format!(
                    "master key: cannot decrypt secret `{field}`: the master key does not match the one the secrets were encrypted with; set {MASTER_KEY_ENV} to the original key"
                ))
            })
    }
}

fn associated_data(integration: IntegrationId, field: &str) -> Vec<u8> {
    format!("{AAD_DOMAIN}\0{integration}\0{field}").into_bytes()
}

fn malformed_env() -> StoreError {
    StoreError::Invalid(format!(
        "master key: {MASTER_KEY_ENV} is malformed: expected 64 hex characters or the base64 encoding of 32 bytes (e.g. the output of `openssl rand -hex 32`)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_are_per_purpose_and_per_master_key() {
        let a = MasterKey::from_bytes([1; KEY_LEN]);
        let b = MasterKey::from_bytes([2; KEY_LEN]);
        assert_eq!(a.derive("cache"), a.derive("cache"));
        assert_ne!(a.derive("cache"), a.derive("other"));
        assert_ne!(a.derive("cache"), b.derive("cache"));
        assert_ne!(a.derive("cache"), [1; 32], "not the master key itself");
    }

    #[test]
    fn env_value_accepts_hex_and_base64_of_32_bytes() {
        let bytes: Vec<u8> = (0u8..32).collect();
        let from_hex = MasterKey::parse_env(&hex::encode(&bytes)).unwrap();
        let from_b64 =
            MasterKey::parse_env(&base64::engine::general_purpose::STANDARD.encode(&bytes))
                .unwrap();
        assert_eq!(from_hex.0.as_slice(), bytes.as_slice());
        assert_eq!(from_b64.0.as_slice(), bytes.as_slice());
    }

    #[test]
    fn malformed_env_value_names_the_variable_and_the_format() {
        for bad in [
            "",
            "abc",
            &"zz".repeat(32),
            &base64::engine::general_purpose::STANDARD.encode([1u8; 16]),
        ] {
            let err = MasterKey::parse_env(bad).unwrap_err().to_string();
            assert!(err.contains(MASTER_KEY_ENV), "{err}");
            assert!(err.contains("64 hex characters"), "{err}");
        }
    }

    #[test]
    fn key_file_is_created_0600_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = MasterKey::from_key_file(dir.path()).unwrap();
        let path = dir.path().join(MASTER_KEY_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let second = MasterKey::from_key_file(dir.path()).unwrap();
        assert_eq!(first.0, second.0);
    }

    #[test]
    fn readable_key_file_is_refused_with_chmod_advice() {
        let dir = tempfile::tempdir().unwrap();
        MasterKey::from_key_file(dir.path()).unwrap();
        let path = dir.path().join(MASTER_KEY_FILE);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = MasterKey::from_key_file(dir.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn sealed_value_is_bound_to_integration_and_field() {
        let key = MasterKey::generate();
        let secret = SecretValue::new(b"s3cr3t".to_vec());
        let sealed = key.seal(7, "skey", &secret).unwrap();
        assert_eq!(key.open(7, "skey", &sealed).unwrap().expose(), b"s3cr3t");
        assert!(key.open(8, "skey", &sealed).is_err());
        assert!(key.open(7, "ikey", &sealed).is_err());
        let other = MasterKey::generate();
        let err = other.open(7, "skey", &sealed).unwrap_err().to_string();
        assert!(
            err.contains("set OORT_MASTER_KEY to the original key"),
            "{err}"
        );
    }

    #[test]
    fn nonces_differ_between_encryptions() {
        let key = MasterKey::generate();
        let secret = SecretValue::new(b"same".to_vec());
        assert_ne!(
            key.seal(1, "f", &secret).unwrap(),
            key.seal(1, "f", &secret).unwrap()
        );
    }

    #[test]
    fn debug_never_shows_the_value() {
        let secret = SecretValue::new(b"hunter2".to_vec());
        assert!(!format!("{secret:?}").contains("hunter2"));
        assert_eq!(
            format!("{:?}", MasterKey::from_bytes([0x41; 32])),
            "MasterKey(<redacted>)"
        );
    }
}
