//! The seal's view of a document: the digest of a parsed file's structure
//! under its metadata (what the MAC leaves out), and checking a stored seal.
//! The encoding itself is [`crate::seal`]'s.

use crate::crypto::mac::{self};
use crate::crypto::value::is_encrypted;
use crate::crypto::{DataKey, EncryptedValue};
use crate::format::{self, LeafKind, ParsedFile, ValueType};
use crate::metadata::{self, Metadata};
use crate::seal::{self as sealing, SealStatus};

/// The `type:` of an `ENC[...]` text as written (the seal hashes the text,
/// so a changed tag breaks it even where the value would still open).
pub(super) fn written_type_tag(raw: &str) -> &str {
    // The tag is the last field: when the last comma starts `,type:`, that
    // is the last `,type:` too, found without a substring search (which was
    // 2% of a decrypt); otherwise (a comma inside a damaged tag) search.
    let at = match raw.bytes().rposition(|b| b == b',') {
        Some(at) if raw[at..].starts_with(",type:") => Some(at),
        _ => raw.rfind(",type:"),
    };
    at.and_then(|at| raw.get(at + 6..raw.len().saturating_sub(1)))
        .unwrap_or("")
}

/// The seal digest of `parsed` under `meta`: `enc_tag(i)` is leaf i's
/// type tag when it is encrypted, `None` when it is clear.
pub(super) fn seal_digest<'a>(
    parsed: &'a ParsedFile,
    meta: &Metadata,
    enc_tag: impl Fn(usize) -> Option<&'a str>,
) -> [u8; 64] {
    use sealing::{Item, ItemKind};
    let empty_item = |e: &'a format::EmptyCollection| Item {
        document: e.document,
        path: &e.path,
        kind: if e.is_map {
            ItemKind::EmptyMap
        } else {
            ItemKind::EmptyList
        },
        tag: "",
        value: "",
    };
    let leaf_item = |i: usize, leaf: &'a format::Leaf| {
        let raw = leaf.value.expose();
        let (kind, tag) = match (leaf.kind, enc_tag(i)) {
            (LeafKind::Comment, Some(tag)) => (ItemKind::EncryptedComment, tag),
            (LeafKind::Comment, None) => (ItemKind::ClearComment, ""),
            (LeafKind::Null, _) => (ItemKind::Null, ""),
            (LeafKind::Value(_), Some(tag)) => (ItemKind::Encrypted, tag),
            (LeafKind::Value(ty), None) if raw.is_empty() => {
                (ItemKind::EmptyString, sealing::value_type_tag(ty))
            }
            (LeafKind::Value(ty), None) => (ItemKind::Clear, sealing::value_type_tag(ty)),
        };
        Item {
            document: leaf.document as usize,
            path: &leaf.path,
            kind,
            tag,
            value: raw,
        }
    };
    // Leaves and empty collections merged in document order, lazily: a
    // collected list of items was 56 bytes a leaf (56 MiB at a million).
    let mut empties = parsed.empties.iter().peekable();
    let mut leaves = parsed.leaves.iter().enumerate().peekable();
    let items = std::iter::from_fn(move || match leaves.peek() {
        Some(&(i, _)) => {
            if let Some(e) = empties.next_if(|e| e.position <= i) {
                return Some(empty_item(e));
            }
            leaves.next().map(|(i, leaf)| leaf_item(i, leaf))
        }
        None => empties.next().map(empty_item),
    });
    sealing::digest(meta, items)
}

/// The seal digest of an encrypted file as it is on disk.
pub(super) fn seal_digest_of_encrypted(parsed: &ParsedFile, meta: &Metadata) -> [u8; 64] {
    seal_digest(parsed, meta, |i| {
        let leaf = &parsed.leaves[i];
        let raw = leaf.value.expose();
        match leaf.kind {
            LeafKind::Comment | LeafKind::Value(ValueType::Str) if is_encrypted(raw) => {
                Some(written_type_tag(raw))
            }
            _ => None,
        }
    })
}

/// Checks the stored seal of an encrypted file against its structure.
pub(super) fn seal_status(parsed: &ParsedFile, meta: &Metadata, key: &DataKey) -> SealStatus {
    let Some(stored) = &meta.seal else {
        return SealStatus::Missing;
    };
    let stored = match EncryptedValue::parse(stored)
        .and_then(|v| v.decrypt_text(key, &metadata::mac_aad(&meta.lastmodified)))
    {
        Ok(s) => s,
        Err(_) => return SealStatus::Broken,
    };
    let computed = sealing::hex(&seal_digest_of_encrypted(parsed, meta));
    if mac::macs_equal(&computed, &stored) {
        SealStatus::Verified
    } else {
        SealStatus::Broken
    }
}
