//! The value behind a plugin's secret handle. It lives in the host only: the
//! plugin holds a handle, and the host signs or attaches with the value.

/// A decrypted secret. No `Display`, a redacting `Debug`, and the bytes are
/// zeroed on drop.
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
        wipe(&mut self.0);
    }
}

/// Overwrites `bytes` with zeros in a way the compiler keeps.
pub fn wipe(bytes: &mut [u8]) {
    for b in bytes.iter_mut() {
        // SAFETY: `b` is a valid, exclusive reference to one byte.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_value() {
        let s = SecretValue::new(b"hunter2".to_vec());
        assert_eq!(format!("{s:?}"), "SecretValue(<redacted>)");
    }
}
