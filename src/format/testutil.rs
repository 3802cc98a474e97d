//! Test-only helpers shared by the format tests: opening sops values with a
//! known data key (to prove that a format's key paths are the AADs sops
//! used on real files) and summarising parsed leaves.

use super::{LeafKind, ParsedFile};
use crate::crypto::{DataKey, EncryptedValue};

/// Bytes of a hex string (a data key from testdata/sops/README.md).
pub(crate) fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Decrypts `ENC[...]` with the hex data key and `aad`; returns the
/// plaintext and the value's `type:`. `None` on any failure.
pub(crate) fn sops_decrypt(enc: &str, key_hex: &str, aad: &str) -> Option<(String, String)> {
    let key = DataKey::from_slice(&hex(key_hex))?;
    let value = EncryptedValue::parse(enc).ok()?;
    let plain = value.decrypt_text(&key, aad).ok()?;
    Some((plain.to_string(), value.type_tag().as_str().to_owned()))
}

/// Each leaf as (AAD, kind, value), for comparing parses.
pub(crate) fn summary(p: &ParsedFile) -> Vec<(String, LeafKind, String)> {
    p.leaves
        .iter()
        .map(|l| (l.path.aad(), l.kind, l.value.expose().to_owned()))
        .collect()
}
