//! The 32-byte data key that encrypts every value of one file.
//!
//! SECURITY: zeroized on drop, no `Debug`/`Display`/`Clone`; the only way
//! out is [`DataKey::expose`], used to wrap it for a recipient.

use zeroize::{Zeroize, ZeroizeOnDrop};

/// Length of a sops data key in bytes.
pub const DATA_KEY_LEN: usize = 32;

/// A file's AES-256 data key.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; DATA_KEY_LEN]);

impl DataKey {
    /// A fresh random key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut key = [0u8; DATA_KEY_LEN];
        // An OS RNG failure leaves no safe way to continue: a key of zeros
        // would be catastrophic, so this is one of the few hard stops.
        getrandom::fill(&mut key).expect("the operating system's random number generator failed");
        Self(key)
    }

    /// Wraps key bytes recovered from a recipient stanza; `None` unless
    /// exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; DATA_KEY_LEN] = bytes.try_into().ok()?;
        Some(Self(arr))
    }

    /// The raw key bytes.
    pub fn expose(&self) -> &[u8; DATA_KEY_LEN] {
        &self.0
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_differ_and_debug_redacts() {
        let a = DataKey::generate();
        let b = DataKey::generate();
        assert_ne!(a.expose(), b.expose());
        assert_eq!(format!("{a:?}"), "DataKey([REDACTED])");
        assert!(DataKey::from_slice(&[0u8; 31]).is_none());
    }
}
