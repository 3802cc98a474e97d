//! Allowing a reviewed finding: fingerprints, and the inline marker.
//!
//! A finding's fingerprint is `fp-` and 16 hex digits: the first 8 bytes of
//! SHA-256 over a domain tag, the detector id and the matched value. It
//! names the same secret wherever it appears (any file, any commit), so one
//! entry in `--allow` or the rules file's `allow:` list covers a reviewed
//! value everywhere. SECURITY: the detectors only fire on long, random
//! values, so 64 bits of a hash reveal nothing usable about the value; the
//! domain tag keeps the hash from being a plain SHA-256 of the secret.

use sha2::{Digest, Sha256};

/// The comment marker that allows every finding on its line.
pub const INLINE_MARKER: &str = "botsecrets:allow";

/// Domain separation for fingerprints (never change: fingerprints in rules
/// files and CI configs depend on it).
const DOMAIN: &[u8] = b"botsecrets leak fingerprint v1\0";

/// The fingerprint of `value` as found by `detector`.
pub fn fingerprint(detector: &str, value: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(detector.as_bytes());
    h.update([0]);
    h.update(value);
    let d = h.finalize();
    let mut out = String::from("fp-");
    for b in &d[..8] {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Whether `s` has the shape of a fingerprint (`fp-` and 16 hex digits).
pub fn is_fingerprint(s: &str) -> bool {
    s.strip_prefix("fp-")
        .is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A set of allowed fingerprints (from `--allow` and the rules files).
#[derive(Debug, Default, Clone)]
pub struct AllowList {
    fingerprints: std::collections::HashSet<String>,
}

impl AllowList {
    /// Adds one fingerprint (lowercased).
    pub fn add(&mut self, fp: &str) {
        self.fingerprints.insert(fp.to_ascii_lowercase());
    }

    /// Whether `fp` is allowed.
    pub fn allows(&self, fp: &str) -> bool {
        self.fingerprints.contains(fp)
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable_short_and_hide_the_value() {
        let a = fingerprint("github-token", b"ghp_value");
        assert!(is_fingerprint(&a), "{a}");
        assert_eq!(a, fingerprint("github-token", b"ghp_value"));
        assert_ne!(a, fingerprint("generic-secret", b"ghp_value"));
        assert_ne!(a, fingerprint("github-token", b"ghp_valuf"));
        assert!(!a.contains("ghp"));
        let mut l = AllowList::default();
        l.add(&a.to_ascii_uppercase().replace("FP-", "fp-"));
        assert!(l.allows(&a));
        assert!(!is_fingerprint("fp-123"));
        assert!(!is_fingerprint("notes.md:2"));
    }
}
