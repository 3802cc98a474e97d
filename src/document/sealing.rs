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

/// The seal items of `parsed`'s leaves `from..to` in document order, each
/// with the empty collections before it (and, when `to` is the end, those
/// after the last leaf): the items of consecutive ranges, one after the
/// other, are the whole document's. `enc_tag(i)` is leaf i's type tag when
/// it is encrypted, `None` when it is clear.
fn seal_items<'a>(
    parsed: &'a ParsedFile,
    from: usize,
    to: usize,
    enc_tag: impl Fn(usize) -> Option<&'a str> + 'a,
) -> impl Iterator<Item = sealing::Item<'a>> + 'a {
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
    let leaf_item = move |i: usize, leaf: &'a format::Leaf| {
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
    let last = to >= parsed.leaves.len();
    let first_empty = parsed.empties.partition_point(|e| e.position < from);
    let mut empties = parsed.empties[first_empty..]
        .iter()
        .filter(move |e| last || e.position < to)
        .peekable();
    let mut leaves = parsed.leaves[from.min(parsed.leaves.len())..to.min(parsed.leaves.len())]
        .iter()
        .enumerate()
        .map(move |(k, leaf)| (from + k, leaf))
        .peekable();
    std::iter::from_fn(move || match leaves.peek() {
        Some(&(i, _)) => {
            if let Some(e) = empties.next_if(|e| e.position <= i) {
                return Some(empty_item(e));
            }
            leaves.next().map(|(i, leaf)| leaf_item(i, leaf))
        }
        None => empties.next().map(empty_item),
    })
}

/// The seal digest of `parsed` under `meta`: `enc_tag(i)` is leaf i's
/// type tag when it is encrypted, `None` when it is clear.
pub(super) fn seal_digest<'a>(
    parsed: &'a ParsedFile,
    meta: &Metadata,
    enc_tag: impl Fn(usize) -> Option<&'a str> + 'a,
) -> [u8; 64] {
    sealing::digest(meta, seal_items(parsed, 0, parsed.leaves.len(), enc_tag))
}

/// The state of a seal digest kept before leaf `at`, for a check that
/// compares a document's seal in two parts on two cores
/// ([`split_seal_matches`]).
pub(super) struct Midstate {
    at: usize,
    state: sealing::Sealer,
}

/// [`seal_digest`], and the state before leaf `cut` kept (when given).
pub(super) fn seal_digest_kept<'a>(
    parsed: &'a ParsedFile,
    meta: &Metadata,
    enc_tag: impl Fn(usize) -> Option<&'a str> + Copy + 'a,
    cut: Option<usize>,
) -> ([u8; 64], Option<Midstate>) {
    let len = parsed.leaves.len();
    let mut sealer = sealing::Sealer::new(meta);
    // Two ranges are the whole list when the empty collections are in
    // position order (every format's); otherwise one pass.
    let sorted = parsed
        .empties
        .windows(2)
        .all(|w| w[0].position <= w[1].position);
    let Some(at) = cut.filter(|at| *at <= len && sorted) else {
        sealer.extend(seal_items(parsed, 0, len, enc_tag));
        return (sealer.finish(), None);
    };
    sealer.extend(seal_items(parsed, 0, at, enc_tag));
    let kept = Midstate {
        at,
        state: sealer.clone(),
    };
    sealer.extend(seal_items(parsed, at, len, enc_tag));
    (sealer.finish(), Some(kept))
}

/// The `type:` of leaf i of an encrypted file as written, `None` when it
/// is in the clear.
fn written_tag(parsed: &ParsedFile, i: usize) -> Option<&str> {
    let leaf = &parsed.leaves[i];
    let raw = leaf.value.expose();
    match leaf.kind {
        LeafKind::Comment | LeafKind::Value(ValueType::Str) if is_encrypted(raw) => {
            Some(written_type_tag(raw))
        }
        _ => None,
    }
}

/// The seal digest of an encrypted file as it is on disk.
pub(super) fn seal_digest_of_encrypted(parsed: &ParsedFile, meta: &Metadata) -> [u8; 64] {
    seal_digest(parsed, meta, |i| written_tag(parsed, i))
}

/// Whether the encrypted file `parsed` as it is on disk has the seal
/// digest `digest`, whose state before leaf `kept.at` is `kept`, checked on
/// two cores: the items before the cut from the start, compared with the
/// kept state by their prefix digests, while the items from the cut on
/// are hashed from the kept state to the end. Both match only if the
/// whole encoding is the one `digest` was made from (SHA-512's collision
/// resistance, as for one pass): equal prefix digests mean equal
/// prefixes, and the kept state continued with this file's rest gives
/// `digest` only for the same rest.
pub(super) fn split_seal_matches(
    parsed: &ParsedFile,
    meta: &Metadata,
    digest: &[u8; 64],
    kept: &Midstate,
) -> bool {
    let len = parsed.leaves.len();
    let at = kept.at.min(len);
    let tag = |i| written_tag(parsed, i);
    std::thread::scope(|s| {
        let rest = s.spawn(|| {
            let mut state = kept.state.clone();
            state.extend(seal_items(parsed, at, len, tag));
            &state.finish() == digest
        });
        let mut first = sealing::Sealer::new(meta);
        first.extend(seal_items(parsed, 0, at, tag));
        let first = first.prefix_digest() == kept.state.prefix_digest();
        // Both joined before either answers (a panic goes on here).
        let rest = super::open::join(rest);
        first && rest
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
