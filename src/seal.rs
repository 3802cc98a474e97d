//! The seal: an authenticated digest of an encrypted file's structure, the
//! parts the sops MAC leaves out (docs/format.md, "The seal").
//!
//! The sops MAC hashes the values' plaintext in order and nothing else, so a
//! writer without the key can rename a clear key, add `key: ""`, widen the
//! clear set or add a recipient and the MAC still verifies. The seal is a
//! SHA-512 over a versioned, length-prefixed canonical encoding of every
//! leaf's key path, kind and type tag (and a clear leaf's value, except in
//! `mac_only_encrypted` files), the selection rule, `mac_only_encrypted`,
//! every key group's public recipients and the threshold. The document layer
//! stores it encrypted under the data key with `lastmodified` as additional
//! data, like the MAC, so only a key holder can make one.
//!
//! This module only encodes and hashes; it knows no format and no key. The
//! encoding is exact and documented byte for byte in docs/format.md:
//! changing it needs a new [`SEAL_VERSION`].

use sha2::{Digest, Sha512};

use crate::metadata::{KeyGroup, Metadata};
use crate::path::{KeyPath, Segment};

/// The version byte that starts the encoding.
pub const SEAL_VERSION: u8 = 1;

/// The metadata field that holds the seal (YAML/JSON `sops.botsecrets_seal`,
/// dotenv `sops_botsecrets_seal=`, INI/TOML `botsecrets_seal` in the `sops`
/// section). Prefixed so that a future sops field cannot clash with it.
pub const SEAL_FIELD: &str = "botsecrets_seal";

/// Domain separation: the encoding of no other object starts with this.
const DOMAIN: &[u8] = b"botsecrets seal";

/// What an item of the document is. The numbers are the encoding's kind
/// bytes (0 ends the list of items).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    /// An `ENC[...]` value.
    Encrypted = 1,
    /// A clear, non-empty scalar.
    Clear = 2,
    /// A clear empty string (`key: ""`, `KEY=`).
    EmptyString = 3,
    /// A null (`key: null`, `key:`).
    Null = 4,
    /// An empty mapping (`key: {}`).
    EmptyMap = 5,
    /// An empty list (`key: []`).
    EmptyList = 6,
    /// An `ENC[...]` comment.
    EncryptedComment = 7,
    /// A clear comment.
    ClearComment = 8,
}

/// One item of the document, as the seal sees it.
#[derive(Clone, Copy, Debug)]
pub struct Item<'a> {
    /// The YAML document it is in (0 in every other format).
    pub document: usize,
    /// Its key path (a comment: the path of the collection holding it).
    pub path: &'a KeyPath,
    /// What it is.
    pub kind: ItemKind,
    /// Its type tag: the `type:` of an `ENC[...]` (`str`, `int`, ...,
    /// `comment`), the type the format resolves for a clear scalar, empty
    /// otherwise.
    pub tag: &'a str,
    /// A clear scalar's or clear comment's text; ignored for other kinds.
    pub value: &'a str,
}

/// The type-tag name of a clear scalar's type.
pub fn value_type_tag(ty: crate::format::ValueType) -> &'static str {
    use crate::format::ValueType as V;
    match ty {
        V::Str => "str",
        V::Int => "int",
        V::Float => "float",
        V::Bool => "bool",
        V::Time => "time",
    }
}

/// A count or index as the encoding's u32. Inputs are bounded (256 MiB by
/// default), so no count comes near 2^32; saturating keeps this total
/// without a panic path.
fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// How many bytes of encoding are gathered before SHA-512 sees them. The
/// encoding is a stream of tiny parts (a kind byte, a u32, a short key per
/// segment per item): one `Sha512::update` per part cost more than the
/// hashing itself, so parts are written into a buffer handed over in
/// chunks of this size.
const CHUNK: usize = 8 * 1024;

/// Writes the canonical encoding into SHA-512, through a local buffer.
#[derive(Clone)]
struct Encoder {
    hash: Sha512,
    buf: Vec<u8>,
}

impl Encoder {
    fn new() -> Self {
        Self {
            hash: Sha512::new(),
            // Room for a chunk and the item that crosses it.
            buf: Vec::with_capacity(2 * CHUNK),
        }
    }
    fn byte(&mut self, b: u8) {
        self.buf.push(b);
    }
    fn u32(&mut self, n: u32) {
        self.buf.extend_from_slice(&n.to_be_bytes());
    }
    fn u64(&mut self, n: u64) {
        self.buf.extend_from_slice(&n.to_be_bytes());
    }
    /// A length-prefixed byte string: u32 big-endian length, then bytes.
    fn field(&mut self, bytes: &[u8]) {
        // A field longer than 4 GiB cannot come from a file we read.
        self.u32(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
        if bytes.len() >= CHUNK {
            // A long value goes to the hash as it is, not through a copy.
            self.flush();
            self.hash.update(bytes);
        } else {
            self.buf.extend_from_slice(bytes);
        }
    }
    fn path(&mut self, path: &KeyPath) {
        self.u32(count(path.segments().len()));
        for seg in path.segments() {
            match seg {
                Segment::Key(k) => {
                    self.byte(0);
                    self.field(k.as_bytes());
                }
                Segment::Index(i) => {
                    self.byte(1);
                    self.u64(*i as u64);
                }
            }
        }
    }
    /// Hands a full buffer to the hash (called between items).
    fn spill(&mut self) {
        if self.buf.len() >= CHUNK {
            self.flush();
        }
    }
    fn flush(&mut self) {
        self.hash.update(&self.buf);
        self.buf.clear();
    }
    fn finish(mut self) -> [u8; 64] {
        self.flush();
        self.hash.finalize().into()
    }
}

/// The public identifiers of a key group, in file order: `("age",
/// recipient)` for each age entry, then `(type, identifier)` for each entry
/// of each foreign key type (pgp, kms, ...) carried through.
pub fn group_identifiers(group: &KeyGroup) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = group
        .age
        .iter()
        .map(|s| ("age".to_owned(), s.recipient.clone()))
        .collect();
    for (kind, list) in &group.foreign {
        let entries: Vec<&serde_json::Value> = match list {
            serde_json::Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for entry in entries {
            out.push((kind.clone(), foreign_identifier(entry)));
        }
    }
    out
}

/// A foreign key entry's identifier: every field but the wrapped key
/// (`enc`), as `name=value` lines in name order (values as text, so that a
/// format that stores everything as strings gives the same encoding).
fn foreign_identifier(entry: &serde_json::Value) -> String {
    fn text(v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            other => other.to_string(),
        }
    }
    match entry {
        serde_json::Value::Object(m) => {
            let mut fields: Vec<(&String, String)> = m
                .iter()
                .filter(|(k, _)| k.as_str() != "enc")
                .map(|(k, v)| (k, text(v)))
                .collect();
            fields.sort();
            fields
                .into_iter()
                .map(|(k, v)| format!("{k}={v}\n"))
                .collect()
        }
        other => text(other),
    }
}

/// The seal digest of a document: `items` in document order and the
/// metadata's selection rule, MAC mode and key groups.
pub fn digest<'a>(meta: &Metadata, items: impl IntoIterator<Item = Item<'a>>) -> [u8; 64] {
    let mut sealer = Sealer::new(meta);
    sealer.extend(items);
    sealer.finish()
}

/// The seal digest computed item by item: [`digest`] in steps, so that a
/// caller can keep the state at a point of the item list ([`Clone`]) and
/// hash the rest on another thread, or compare two prefixes
/// ([`Sealer::prefix_digest`]).
#[derive(Clone)]
pub struct Sealer {
    e: Encoder,
    mac_only_encrypted: bool,
    comment_rule: bool,
}

impl Sealer {
    /// The state after the metadata sections, before the first item.
    pub fn new(meta: &Metadata) -> Self {
        let mut e = Encoder::new();
        e.byte(SEAL_VERSION);
        e.field(DOMAIN);
        // Section 1: how values are selected and MACed.
        e.byte(b'R');
        let (option, value) = meta.selection.field();
        e.field(option.as_bytes());
        e.field(value.as_bytes());
        e.byte(u8::from(meta.mac_only_encrypted));
        // Section 2: who can read it.
        e.byte(b'K');
        e.u32(meta.shamir_threshold);
        e.u32(count(meta.key_groups.len()));
        for group in &meta.key_groups {
            let ids = group_identifiers(group);
            e.u32(count(ids.len()));
            for (kind, id) in ids {
                e.field(kind.as_bytes());
                e.field(id.as_bytes());
            }
        }
        // Section 3: access scopes: who reads which paths, and digests of
        // the stored scope key and blob, so that a writer without the key
        // can neither widen a scope nor swap its blob. No scopes: count 0,
        // as before scopes existed, so older seals still verify.
        e.byte(b'S');
        e.u32(count(meta.scopes.len()));
        for scope in &meta.scopes {
            e.field(scope.name.as_bytes());
            e.u32(count(scope.paths.len()));
            for path in &scope.paths {
                e.field(path.as_bytes());
            }
            e.u32(count(scope.recipients.len()));
            for stanza in &scope.recipients {
                e.field(stanza.recipient.as_bytes());
            }
            e.field(&Sha512::digest(scope.key.as_bytes()));
            e.field(&Sha512::digest(scope.blob.as_bytes()));
        }
        // Section 4: every item, in document order, ended by a 0 byte.
        e.byte(b'L');
        Self {
            e,
            mac_only_encrypted: meta.mac_only_encrypted,
            comment_rule: meta.selection.is_comment_based(),
        }
    }

    /// Adds one item.
    pub fn push(&mut self, item: Item<'_>) {
        let e = &mut self.e;
        e.byte(item.kind as u8);
        e.u32(count(item.document));
        e.path(item.path);
        e.field(item.tag.as_bytes());
        let clear_text = match item.kind {
            ItemKind::Clear => Some(!self.mac_only_encrypted),
            // A comment's text decides a comment-based rule, so it stays in
            // even where clear values may change.
            ItemKind::ClearComment => Some(!self.mac_only_encrypted || self.comment_rule),
            _ => None,
        };
        match clear_text {
            Some(true) => {
                e.byte(1);
                e.field(item.value.as_bytes());
            }
            Some(false) => e.byte(0),
            None => {}
        }
        e.spill();
    }

    /// Adds items in order.
    pub fn extend<'a>(&mut self, items: impl IntoIterator<Item = Item<'a>>) {
        for item in items {
            self.push(item);
        }
    }

    /// The digest: the items end here.
    pub fn finish(mut self) -> [u8; 64] {
        self.e.byte(0);
        self.e.finish()
    }

    /// The SHA-512 of the encoding so far (not a seal: no end byte). Two
    /// states with equal prefix digests have hashed the same bytes, which
    /// is what lets a check compare the first part of a document here and
    /// finish the rest elsewhere.
    pub fn prefix_digest(&self) -> [u8; 64] {
        self.e.clone().finish()
    }
}

/// Uppercase hex of a digest, as the seal's plaintext.
pub fn hex(digest: &[u8; 64]) -> String {
    // A table, not format! per byte (64 calls of the formatting machinery).
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(128);
    for b in digest {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// What a reader should do with a file that has no seal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SealPolicy {
    /// Refuse it ([`crate::document::DocumentError::SealMissing`]).
    Required,
    /// Open it with a warning.
    #[default]
    Warn,
}

/// What opening found out about a file's seal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealStatus {
    /// The seal is present and matches the file.
    Verified,
    /// The file has no seal.
    Missing,
    /// The seal does not match (only seen with the MAC check turned off;
    /// otherwise opening fails).
    Broken,
}

impl std::fmt::Display for SealStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SealStatus::Verified => "verified",
            SealStatus::Missing => "missing",
            SealStatus::Broken => "BROKEN",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::{AgeStanza, Selection};

    fn meta() -> Metadata {
        Metadata {
            key_groups: vec![KeyGroup {
                age: vec![AgeStanza {
                    recipient: "age1a".into(),
                    enc: "E1".into(),
                }],
                foreign: Default::default(),
            }],
            shamir_threshold: 0,
            lastmodified: "2026-01-01T00:00:00Z".into(),
            mac: "M".into(),
            seal: None,
            selection: Selection::default(),
            mac_only_encrypted: false,
            version: "3.11.0".into(),
            uses_key_groups: false,
            scopes: Vec::new(),
        }
    }

    fn p(s: &str) -> KeyPath {
        KeyPath::parse(s).unwrap()
    }

    fn item<'a>(path: &'a KeyPath, kind: ItemKind, tag: &'a str, value: &'a str) -> Item<'a> {
        Item {
            document: 0,
            path,
            kind,
            tag,
            value,
        }
    }

    fn d(meta: &Metadata, items: &[Item<'_>]) -> [u8; 64] {
        digest(meta, items.iter().copied())
    }

    #[test]
    fn hex_is_uppercase_two_digits_a_byte() {
        let digest: [u8; 64] = std::array::from_fn(|i| u8::try_from(i * 4).unwrap());
        let expected: String = digest.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(hex(&digest), expected);
    }

    #[test]
    fn the_encoding_is_pinned() {
        // Changing the encoding must change SEAL_VERSION: this digest is
        // what version 1 gives, byte for byte as docs/format.md describes.
        let (a, b) = (p("a"), p("b_unencrypted"));
        let items = [
            item(&a, ItemKind::Encrypted, "str", ""),
            item(&b, ItemKind::Clear, "str", "x"),
        ];
        let mut expected = vec![1u8];
        expected.extend(15u32.to_be_bytes());
        expected.extend(b"botsecrets seal");
        expected.push(b'R');
        expected.extend(18u32.to_be_bytes());
        expected.extend(b"unencrypted_suffix");
        expected.extend(12u32.to_be_bytes());
        expected.extend(b"_unencrypted");
        expected.push(0);
        expected.push(b'K');
        expected.extend(0u32.to_be_bytes());
        expected.extend(1u32.to_be_bytes());
        expected.extend(1u32.to_be_bytes());
        expected.extend(3u32.to_be_bytes());
        expected.extend(b"age");
        expected.extend(5u32.to_be_bytes());
        expected.extend(b"age1a");
        expected.push(b'S');
        expected.extend(0u32.to_be_bytes());
        expected.push(b'L');
        // a: encrypted str
        expected.push(1);
        expected.extend(0u32.to_be_bytes());
        expected.extend(1u32.to_be_bytes());
        expected.push(0);
        expected.extend(1u32.to_be_bytes());
        expected.extend(b"a");
        expected.extend(3u32.to_be_bytes());
        expected.extend(b"str");
        // b_unencrypted: clear str "x"
        expected.push(2);
        expected.extend(0u32.to_be_bytes());
        expected.extend(1u32.to_be_bytes());
        expected.push(0);
        expected.extend(13u32.to_be_bytes());
        expected.extend(b"b_unencrypted");
        expected.extend(3u32.to_be_bytes());
        expected.extend(b"str");
        expected.push(1);
        expected.extend(1u32.to_be_bytes());
        expected.extend(b"x");
        expected.push(0);
        let want: [u8; 64] = Sha512::digest(&expected).into();
        assert_eq!(d(&meta(), &items), want);
    }

    /// The metadata of testdata/seal/vectors.py.
    fn vector_meta() -> Metadata {
        let mut m = meta();
        m.shamir_threshold = 2;
        m.key_groups.push(KeyGroup {
            age: vec![AgeStanza {
                recipient: "age1b".into(),
                enc: "E2".into(),
            }],
            foreign: Default::default(),
        });
        m.key_groups[1].foreign.insert(
            "pgp".into(),
            serde_json::json!([{"fp": "ABCD", "enc": "x", "created_at": "t"}]),
        );
        m.scopes = vec![crate::metadata::ScopeEntry {
            name: "ops".into(),
            paths: vec!["db".into(), "api.key".into()],
            recipients: ["age1r", "age1s"]
                .iter()
                .map(|r| AgeStanza {
                    recipient: (*r).into(),
                    enc: "E".into(),
                })
                .collect(),
            key: "K".into(),
            blob: "B".into(),
        }];
        m
    }

    /// The items of testdata/seal/vectors.py: (kind, document, path, tag,
    /// value).
    fn vector_items() -> Vec<(ItemKind, usize, KeyPath, &'static str, String)> {
        use ItemKind as K;
        let mut items = vec![
            (
                K::ClearComment,
                0,
                KeyPath::root(),
                "",
                " top comment".into(),
            ),
            (K::Encrypted, 0, p("a.b.c"), "str", "ignored".into()),
            (
                K::Clear,
                0,
                p("servers[2].port_unencrypted"),
                "int",
                "8080".into(),
            ),
            (K::EmptyString, 0, p("e_unencrypted"), "str", String::new()),
            (K::EncryptedComment, 0, p("a.b"), "comment", String::new()),
            (K::EmptyMap, 0, p("m"), "", String::new()),
            (K::EmptyList, 0, p("x[0].l"), "", String::new()),
            (K::Clear, 0, p("ключ_unencrypted"), "str", "значение".into()),
            (K::Clear, 0, p("long_unencrypted"), "str", "v".repeat(10000)),
            (K::Null, 1, p("n"), "", String::new()),
        ];
        for i in 0..2000 {
            let path = p(&format!("bots[{}].k{}", i / 5, i % 5));
            items.push((K::Encrypted, 0, path, "int", String::new()));
        }
        items
    }

    fn vector_digest(m: &Metadata) -> String {
        let items = vector_items();
        hex(&digest(
            m,
            items.iter().map(|(kind, document, path, tag, value)| Item {
                document: *document,
                path,
                kind: *kind,
                tag,
                value,
            }),
        ))
    }

    #[test]
    fn digests_match_the_python_vectors() {
        // Computed by testdata/seal/vectors.py from docs/format.md's
        // encoding with hashlib, not by this code: every kind, paths of
        // several segments with list indices, a second document, scopes,
        // Shamir groups with a foreign key, a value longer than the
        // encoder's buffer and 2,000 items across its boundaries.
        let m = vector_meta();
        assert_eq!(vector_digest(&m), "E63066FE15B8C265B9402DE03570A1C139C43CF1B816C6D4F931EA8700BD282E00CFE8659B6EE57D9E13F4E3E034391C55595A4138CC1E92F8F7B4F1156FC430");
        let mut m = vector_meta();
        m.mac_only_encrypted = true;
        m.scopes.clear();
        assert_eq!(vector_digest(&m), "56B7A41FDCEB0DDED5722A74DB7534B407B3D28F953F7210699590EA765F716654ED0DB47E45BB2A5FA8AB0BC7FEC68E2A3B36B01B84C0F34FDB3818215CD01B");
        m.selection = Selection::from_field("encrypted_comment_regex", "^enc").unwrap();
        assert_eq!(vector_digest(&m), "AA9B9D896D5CFEDA22DC686AF256C74EB028C60A889B46961D9714EB06448A415A5FB506FDB1B260758DB64B2AA80512C2369343A78CD7A895A08270771CA7D8");
    }

    #[test]
    fn a_state_kept_midway_finishes_to_the_same_digest() {
        let m = vector_meta();
        let items = vector_items();
        fn item<'a>(
            (kind, document, path, tag, value): &'a (ItemKind, usize, KeyPath, &str, String),
        ) -> Item<'a> {
            Item {
                document: *document,
                path,
                kind: *kind,
                tag,
                value,
            }
        }
        let whole = digest(&m, items.iter().map(item));
        for cut in [0, 1, 9, 10, 1000, items.len()] {
            let mut first = Sealer::new(&m);
            first.extend(items[..cut].iter().map(item));
            let mut again = Sealer::new(&m);
            again.extend(items[..cut].iter().map(item));
            assert_eq!(first.prefix_digest(), again.prefix_digest());
            let mut rest = first.clone();
            rest.extend(items[cut..].iter().map(item));
            assert_eq!(rest.finish(), whole, "cut at {cut}");
            if cut > 0 {
                // A different prefix has a different prefix digest.
                let mut other = Sealer::new(&m);
                other.extend(items[1..cut].iter().map(item));
                assert_ne!(other.prefix_digest(), first.prefix_digest());
            }
        }
    }

    #[test]
    fn every_covered_part_changes_the_digest() {
        let (a, b, c) = (p("a"), p("b"), p("list[0]"));
        let base = [
            item(&a, ItemKind::Encrypted, "str", ""),
            item(&b, ItemKind::Clear, "str", "v"),
        ];
        let m = meta();
        let reference = d(&m, &base);
        // A renamed clear key, a changed clear value, kind, type tag.
        let mut variants: Vec<[u8; 64]> = vec![
            d(&m, &[base[0], item(&c, ItemKind::Clear, "str", "v")]),
            d(&m, &[base[0], item(&b, ItemKind::Clear, "str", "w")]),
            d(&m, &[base[0], item(&b, ItemKind::Clear, "int", "v")]),
            d(&m, &[base[0], item(&b, ItemKind::Encrypted, "str", "")]),
        ];
        // An added empty string, null, empty map, empty list.
        for kind in [
            ItemKind::EmptyString,
            ItemKind::Null,
            ItemKind::EmptyMap,
            ItemKind::EmptyList,
        ] {
            variants.push(d(&m, &[base[0], base[1], item(&c, kind, "", "")]));
        }
        // Order matters.
        variants.push(d(&m, &[base[1], base[0]]));
        // The selection rule, the MAC mode, the recipients, the threshold.
        let mut m2 = meta();
        m2.selection = Selection::from_field("encrypted_regex", "^nomatch$").unwrap();
        variants.push(d(&m2, &base));
        let mut m2 = meta();
        m2.mac_only_encrypted = true;
        variants.push(d(&m2, &base));
        let mut m2 = meta();
        m2.key_groups[0].age.push(AgeStanza {
            recipient: "age1attacker".into(),
            enc: "E2".into(),
        });
        variants.push(d(&m2, &base));
        let mut m2 = meta();
        m2.shamir_threshold = 2;
        variants.push(d(&m2, &base));
        let mut m2 = meta();
        m2.key_groups[0].foreign.insert(
            "pgp".into(),
            serde_json::json!([{"fp": "ABCD", "enc": "x"}]),
        );
        variants.push(d(&m2, &base));
        // A scope, and each part of it: name, paths, readers, key, blob.
        let scope = crate::metadata::ScopeEntry {
            name: "s".into(),
            paths: vec!["a".into()],
            recipients: vec![AgeStanza {
                recipient: "age1r".into(),
                enc: "E".into(),
            }],
            key: "K".into(),
            blob: "B".into(),
        };
        let with = |f: &dyn Fn(&mut crate::metadata::ScopeEntry)| {
            let mut m2 = meta();
            let mut s = scope.clone();
            f(&mut s);
            m2.scopes = vec![s];
            d(&m2, &base)
        };
        variants.push(with(&|_| {}));
        variants.push(with(&|s| s.name = "t".into()));
        variants.push(with(&|s| s.paths.push("b".into())));
        variants.push(with(&|s| s.recipients[0].recipient = "age1x".into()));
        variants.push(with(&|s| s.key = "K2".into()));
        variants.push(with(&|s| s.blob = "B2".into()));
        // A reader's wrapped key is not covered (as for recipients).
        assert_eq!(with(&|s| s.recipients[0].enc = "E2".into()), with(&|_| {}));
        for (i, v) in variants.iter().enumerate() {
            assert_ne!(v, &reference, "variant {i} did not change the digest");
        }
        // Two variants are never equal either (no ambiguity between parts).
        for i in 0..variants.len() {
            for j in i + 1..variants.len() {
                assert_ne!(variants[i], variants[j], "variants {i} and {j} collide");
            }
        }
    }

    #[test]
    fn not_covered_parts_leave_the_digest() {
        let a = p("a");
        let base = [item(&a, ItemKind::Encrypted, "str", "")];
        let reference = d(&meta(), &base);
        let mut m = meta();
        m.lastmodified = "2030-01-01T00:00:00Z".into();
        m.mac = "other".into();
        m.seal = Some("other".into());
        m.key_groups[0].age[0].enc = "another wrapped key".into();
        m.version = "3.12.0".into();
        assert_eq!(d(&m, &base), reference);
        // An encrypted value's plaintext is the MAC's business.
        assert_eq!(
            d(&meta(), &[item(&a, ItemKind::Encrypted, "str", "ignored")]),
            reference
        );
    }

    #[test]
    fn mac_only_encrypted_leaves_clear_values_out_but_not_their_names() {
        let mut m = meta();
        m.mac_only_encrypted = true;
        let (b, c) = (p("b"), p("c"));
        let one = d(&m, &[item(&b, ItemKind::Clear, "str", "v")]);
        assert_eq!(d(&m, &[item(&b, ItemKind::Clear, "str", "other")]), one);
        assert_ne!(d(&m, &[item(&c, ItemKind::Clear, "str", "v")]), one);
        assert_ne!(d(&m, &[item(&b, ItemKind::EmptyString, "str", "")]), one);
        // Comments' text stays out too, unless comments select values.
        let root = KeyPath::root();
        let c1 = d(&m, &[item(&root, ItemKind::ClearComment, "", " one")]);
        assert_eq!(
            d(&m, &[item(&root, ItemKind::ClearComment, "", " two")]),
            c1
        );
        m.selection = Selection::from_field("encrypted_comment_regex", "^enc").unwrap();
        let c1 = d(&m, &[item(&root, ItemKind::ClearComment, "", " one")]);
        assert_ne!(
            d(&m, &[item(&root, ItemKind::ClearComment, "", " two")]),
            c1
        );
    }

    #[test]
    fn foreign_identifiers_ignore_the_wrapped_key_and_value_types() {
        let one = serde_json::json!({"arn": "arn:x", "enc": "A", "created_at": "t", "n": 1});
        let two = serde_json::json!({"n": "1", "created_at": "t", "enc": "B", "arn": "arn:x"});
        assert_eq!(foreign_identifier(&one), foreign_identifier(&two));
        assert_eq!(foreign_identifier(&one), "arn=arn:x\ncreated_at=t\nn=1\n");
    }
}
