//! Types that hold secret material: plaintext values, comments and key bytes.
//!
//! Every type here zeroizes its memory on drop and has no `Display`, no `Clone`
//! and a `Debug` that prints `[REDACTED]`, so a secret cannot reach an error
//! message, a log line or a panic through formatting by accident.

use std::fmt;
use std::sync::Arc;
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

/// The text a file was read from, shared by the parse whose leaves' values
/// are slices of it (see [`LeafText`]). Wiped on drop: it may be a
/// plaintext file.
#[derive(Default)]
pub struct SourceText(Zeroizing<String>);

/// A file's text held once for the parse and its leaves.
pub type SharedText = Arc<SourceText>;

impl SourceText {
    /// Takes over `text` (no copy) for sharing.
    pub fn shared(text: impl Into<Zeroizing<String>>) -> SharedText {
        Arc::new(Self(text.into()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Gives the text back when nothing else shares it (the parse that
    /// borrowed it is dropped), else `None`.
    pub fn into_inner(shared: SharedText) -> Option<Zeroizing<String>> {
        Arc::try_unwrap(shared).ok().map(|s| s.0)
    }
}

impl std::ops::Deref for SourceText {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SourceText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SourceText([REDACTED])")
    }
}

/// A leaf's decoded text: either its own wiped-on-drop buffer, or — where
/// the decoded value is exactly a slice of the file (every `ENC[...]`
/// value, plain and unescaped scalars, comments) — a range into the shared
/// [`SourceText`], so that a parse holds no second copy of the file's
/// values (at a million keys the copies were a quarter of a decrypt's
/// peak). Same guarantees as [`SecretText`]: no `Clone`, redacted `Debug`,
/// wiped on drop (the shared text wipes itself when its last user goes).
pub struct LeafText(Repr);

enum Repr {
    Owned(SecretText),
    /// `start..start + len` of the shared text; u32 keeps the leaf small,
    /// so a text over 4 GiB falls back to owned copies.
    Shared {
        text: SharedText,
        start: u32,
        len: u32,
    },
}

impl Default for LeafText {
    fn default() -> Self {
        Self(Repr::Owned(SecretText::default()))
    }
}

impl LeafText {
    /// `value` as a range of `shared` when it is a slice of that text (by
    /// address, so no comparison of bytes), else an owned copy.
    pub fn slice_or_copy(shared: Option<&SharedText>, value: &str) -> Self {
        if let Some(text) = shared {
            let base = text.as_str().as_ptr() as usize;
            let at = value.as_ptr() as usize;
            if at >= base && at + value.len() <= base + text.len() {
                if let Some(shared) = Self::range(text, at - base, value.len()) {
                    return shared;
                }
            }
        }
        Self::from(SecretText::from_str(value))
    }

    /// `value` (an owned decoding) as a range of `shared` when it equals the
    /// slice `source` of that text, else `value` itself.
    pub fn shared_if_same(shared: Option<&SharedText>, value: String, source: &str) -> Self {
        let value = SecretText::new(value);
        if shared.is_some() && value.expose() == source {
            let copy = Self::slice_or_copy(shared, source);
            if matches!(copy.0, Repr::Shared { .. }) {
                return copy;
            }
        }
        Self::from(value)
    }

    fn range(text: &SharedText, start: usize, len: usize) -> Option<Self> {
        let (start, len) = (u32::try_from(start).ok()?, u32::try_from(len).ok()?);
        Some(Self(Repr::Shared {
            text: Arc::clone(text),
            start,
            len,
        }))
    }

    /// The plaintext. Callers must not log, print or format it into errors.
    pub fn expose(&self) -> &str {
        match &self.0 {
            Repr::Owned(s) => s.expose(),
            Repr::Shared { text, start, len } => {
                let start = *start as usize;
                &text.as_str()[start..start + *len as usize]
            }
        }
    }

    /// An independently wiped copy.
    pub fn duplicate(&self) -> SecretText {
        SecretText::from_str(self.expose())
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.expose().len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<SecretText> for LeafText {
    fn from(s: SecretText) -> Self {
        Self(Repr::Owned(s))
    }
}

impl fmt::Debug for LeafText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl PartialEq for LeafText {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for LeafText {}

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

    #[test]
    fn leaf_text_shares_slices_of_the_source_only() {
        let text = SourceText::shared("a: hunter2\n".to_owned());
        let slice = LeafText::slice_or_copy(Some(&text), &text.as_str()[3..10]);
        assert!(matches!(
            slice.0,
            Repr::Shared {
                start: 3,
                len: 7,
                ..
            }
        ));
        assert_eq!(slice.expose(), "hunter2");
        assert_eq!(format!("{slice:?}"), "[REDACTED]");
        let other = String::from("hunter2");
        let copy = LeafText::slice_or_copy(Some(&text), &other);
        assert!(matches!(copy.0, Repr::Owned(_)));
        let same = LeafText::shared_if_same(Some(&text), "hunter2".into(), &text.as_str()[3..10]);
        assert!(matches!(same.0, Repr::Shared { .. }));
        let unescaped = LeafText::shared_if_same(Some(&text), "x".into(), &text.as_str()[3..10]);
        assert_eq!(unescaped.expose(), "x");
        drop((slice, same));
        assert!(SourceText::into_inner(text).is_some());
    }
}
