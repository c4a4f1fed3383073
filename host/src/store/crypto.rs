//! Secret encryption at rest: AES-256-GCM under the master key.
//! SKELETON: being written.

/// A decrypted secret. No `Debug`/`Display` that could print it; the bytes
/// are zeroed on drop.
pub struct SecretValue(Vec<u8>);

impl SecretValue {
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretValue(bytes)
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl Clone for SecretValue {
    fn clone(&self) -> Self {
        SecretValue(self.0.clone())
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

impl Drop for SecretValue {
    fn drop(&mut self) {
        for b in self.0.iter_mut() {
            // volatile so the compiler keeps the wipe
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}
