//! The file MAC: an unkeyed SHA-512 over the plaintext of every value, in
//! document order, whose uppercase hex is then encrypted with the data key
//! and `lastmodified` as AAD.
//!
//! COMPAT(sops): no keys, types or separators are hashed; nulls and comments
//! are skipped by the caller; with `mac_only_encrypted` the hash starts with
//! SHA-256("sops") and only encrypted values are fed. Each value is hashed
//! in the encoding sops' `ToBytes` gives its Go value: strings and times as
//! they are, ints in decimal, floats as Go `FormatFloat(v, 'f', -1, 64)`,
//! booleans as `True`/`False`.

use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

use super::TypeTag;

/// Accumulates the MAC over a document's values.
pub struct MacHasher {
    hash: Sha512,
}

impl MacHasher {
    /// Starts a MAC; `mac_only_encrypted` adds sops' domain prefix.
    pub fn new(mac_only_encrypted: bool) -> Self {
        let mut hash = Sha512::new();
        if mac_only_encrypted {
            hash.update(Sha256::digest(b"sops"));
        }
        Self { hash }
    }

    /// Feeds one value's plaintext, in the encoding for its type.
    pub fn update(&mut self, ty: TypeTag, plaintext: &str) {
        match ty {
            TypeTag::Float => self.hash.update(go_float_text(plaintext).as_bytes()),
            TypeTag::Bool => self
                .hash
                .update(if parse_go_bool(plaintext).unwrap_or(false) {
                    b"True".as_slice()
                } else {
                    b"False".as_slice()
                }),
            _ => self.hash.update(plaintext.as_bytes()),
        }
    }

    /// The uppercase hex digest (128 characters).
    pub fn finish(self) -> String {
        let digest: [u8; 64] = self.hash.finalize().into();
        crate::seal::hex(&digest)
    }
}

/// Compares a computed MAC with the stored one in constant time.
pub fn macs_equal(computed: &str, stored: &str) -> bool {
    computed.len() == stored.len() && bool::from(computed.as_bytes().ct_eq(stored.as_bytes()))
}

/// Go's `strconv.ParseBool`, which decides how sops hashes a bool. It lives
/// with the formats' other Go spellings; kept here too for callers that
/// name it at this path.
pub use crate::format::text::parse_go_bool;

/// The text Go's `FormatFloat(ParseFloat(s), 'f', -1, 64)` gives: shortest
/// round-trip digits, never an exponent. Rust's `Display` for `f64` has the
/// same contract; only the infinities and NaN are spelled differently.
/// Unparseable text is hashed as it is (sops would have refused it).
pub fn go_float_text(s: &str) -> String {
    let cleaned: String = s.chars().filter(|c| *c != '_').collect();
    let lowered = cleaned.to_ascii_lowercase();
    let parsed = match lowered.trim_start_matches(['+', '-']) {
        ".inf" | "inf" | "infinity" => Some(if lowered.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }),
        ".nan" | "nan" => Some(f64::NAN),
        _ => cleaned.parse::<f64>().ok(),
    };
    match parsed {
        Some(v) if v.is_nan() => "NaN".to_owned(),
        Some(v) if v == f64::INFINITY => "+Inf".to_owned(),
        Some(v) if v == f64::NEG_INFINITY => "-Inf".to_owned(),
        Some(v) => format!("{v}"),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_hashed_as_go_prints_them() {
        assert_eq!(go_float_text("1.50"), "1.5");
        assert_eq!(go_float_text("5432"), "5432");
        assert_eq!(go_float_text("1e21"), "1000000000000000000000");
        assert_eq!(
            go_float_text("12345678901234567890"),
            "12345678901234567000"
        );
        assert_eq!(go_float_text("-0.0"), "-0");
        assert_eq!(go_float_text(".inf"), "+Inf");
        assert_eq!(go_float_text("-.Inf"), "-Inf");
        assert_eq!(go_float_text(".nan"), "NaN");
        assert_eq!(go_float_text("0.1"), "0.1");
    }

    #[test]
    fn mac_only_prefix_changes_the_digest() {
        let mut a = MacHasher::new(false);
        let mut b = MacHasher::new(true);
        a.update(TypeTag::Str, "x");
        b.update(TypeTag::Str, "x");
        assert_ne!(a.finish(), b.finish());
    }

    #[test]
    fn hashes_concatenated_encodings() {
        let mut h = MacHasher::new(false);
        h.update(TypeTag::Str, "ab");
        h.update(TypeTag::Bool, "true");
        h.update(TypeTag::Float, "1.50");
        let direct = Sha512::digest(b"abTrue1.5");
        let hex: String = direct.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(h.finish(), hex);
    }

    #[test]
    fn constant_time_compare() {
        assert!(macs_equal("ABC", "ABC"));
        assert!(!macs_equal("ABC", "ABD"));
        assert!(!macs_equal("ABC", "AB"));
    }
}
