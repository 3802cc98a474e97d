//! Types that hold secret material: plaintext values, comments and key bytes.
//!
//! Every type here zeroizes its memory on drop and has no `Display`, no `Clone`
//! and a `Debug` that prints `[REDACTED]`, so a secret cannot reach an error
//! message, a log line or a panic through formatting by accident.

use std::fmt;
use zeroize::Zeroizing;

/// A plaintext string that is (or may be) secret: a decrypted value, a
/// comment, a scalar read from a plaintext file.
#[derive(Default)]
pub struct SecretText(Zeroizing<String>);

impl SecretText {
    /// Wraps a string; the string's buffer is wiped when this is dropped.
    pub fn new(text: String) -> Self {
        Self(Zeroizing::new(text))
    }

    /// Takes over an already wiped-on-drop string (no copy).
    pub fn from_zeroizing(mut text: Zeroizing<String>) -> Self {
        Self::new(std::mem::take(&mut *text))
    }

    /// Copies `text` into a new secret buffer.
    #[allow(clippy::should_implement_trait)] // infallible, unlike FromStr
    pub fn from_str(text: &str) -> Self {
        Self::new(text.to_owned())
    }

    /// The plaintext. Callers must not log, print or format it into errors.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A second, independently wiped copy (deliberately not `Clone`, so that
    /// every copy of a secret is a visible decision).
    pub fn duplicate(&self) -> Self {
        Self::from_str(self.expose())
    }

    /// Length in bytes (not secret: ciphertext reveals it anyway).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the plaintext is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl PartialEq for SecretText {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for SecretText {}

/// A tree of decrypted values (for `--extract`, conversion and `exec`),
/// whose strings are wiped on drop. `Debug` is redacted.
///
/// SECURITY: numbers are held by `serde_json` in a private buffer that
/// cannot be wiped; they are not usually the secret part of a file.
pub struct SecretTree(pub serde_json::Value);

impl SecretTree {
    /// The tree.
    pub fn expose(&self) -> &serde_json::Value {
        &self.0
    }
}

fn wipe(value: &mut serde_json::Value) {
    use zeroize::Zeroize;
    match value {
        serde_json::Value::String(s) => s.zeroize(),
        serde_json::Value::Array(items) => items.iter_mut().for_each(wipe),
        serde_json::Value::Object(map) => map.values_mut().for_each(wipe),
        _ => {}
    }
}

impl Drop for SecretTree {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

impl fmt::Debug for SecretTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretTree([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts() {
        let s = SecretText::from_str("hunter2");
        assert_eq!(format!("{s:?}"), "[REDACTED]");
        assert_eq!(s.expose(), "hunter2");
    }
}
