//! Unit tests of scopes: what a reader opens (and refuses), what the
//! blob's additional data binds, owners' minimal diffs, and drift.

use super::scopes::*;
use super::*;
use crate::crypto::{DataKey, EncryptedValue, TypeTag};
use crate::format::FormatKind;
use crate::keys::{self, Identity, Recipient};
use crate::metadata::Selection;
use crate::path::KeyPath;

fn identity() -> (Vec<Identity>, Recipient) {
    use age::secrecy::ExposeSecret;
    let (secret, recipient) = keys::generate_x25519();
    (
        keys::parse_identities(secret.expose_secret(), "test").unwrap(),
        Recipient::parse(&recipient).unwrap(),
    )
}

fn spec(name: &str, reader: &Recipient, paths: &[&str]) -> ScopeSpec {
    ScopeSpec {
        name: name.into(),
        readers: vec![reader.clone()],
        paths: paths.iter().map(|p| KeyPath::parse(p).unwrap()).collect(),
    }
}

const PLAIN: &str = "a:\n  x: one\n  y: 2\nb: three\nc: four\n";

fn encrypted(owner: &Recipient, specs: &[ScopeSpec]) -> String {
    let opts = EncryptOptions {
        recipients: &[],
        selection: Selection::default(),
        mac_only_encrypted: false,
        expand_aliases: false,
        now: "2026-01-01T00:00:00Z".into(),
    };
    encrypt_scoped(
        PLAIN,
        FormatKind::Yaml,
        &opts,
        &[vec![owner.clone()]],
        0,
        specs,
    )
    .unwrap()
    .text
}

const READ: OpenOptions = OpenOptions {
    ignore_mac: false,
    seal: crate::seal::SealPolicy::Warn,
    scope_read: true,
};

fn values(o: &Opened<'_>) -> Vec<(String, String)> {
    o.values()
        .into_iter()
        .map(|(p, _, t)| (p.to_string(), t.expose().to_owned()))
        .collect()
}

#[test]
fn a_reader_opens_exactly_its_scope_and_cannot_write() {
    let (owner_ids, owner) = identity();
    let (reader_ids, reader) = identity();
    let text = encrypted(&owner, &[spec("s", &reader, &["a", "c"])]);
    let file = Sealed::parse(text, FormatKind::Yaml).unwrap();
    let o = file.open(&reader_ids, &READ).unwrap();
    assert_eq!(o.reader_scopes(), Some(&["s".to_owned()][..]));
    assert_eq!(
        values(&o),
        [
            ("a.x".to_owned(), "one".to_owned()),
            ("a.y".to_owned(), "2".to_owned()),
            ("c".to_owned(), "four".to_owned())
        ]
    );
    assert!(matches!(
        o.extract(&KeyPath::parse("b").unwrap()),
        Err(DocumentError::OutsideScope { .. })
    ));
    // Without scope_read, and for any write, the refusal.
    assert!(matches!(
        file.open(&reader_ids, &OpenOptions::default()),
        Err(DocumentError::NotAnOwner { .. })
    ));
    assert!(matches!(
        o.set(
            &KeyPath::parse("c").unwrap(),
            crate::format::ValueType::Str,
            "x",
            "now"
        ),
        Err(DocumentError::NotAnOwner { .. })
    ));
    // The owner sees everything as before.
    let o = file.open(&owner_ids, &OpenOptions::default()).unwrap();
    assert_eq!(o.reader_scopes(), None);
    assert_eq!(values(&o).len(), 4);
}

#[test]
fn a_blob_bound_to_one_scope_does_not_open_in_another() {
    let (_, owner) = identity();
    let (reader_ids, reader) = identity();
    let text = encrypted(&owner, &[spec("s", &reader, &["a"])]);
    let file = Sealed::parse(text.clone(), FormatKind::Yaml).unwrap();
    let entry = &file.metadata().scopes[0];
    // The same blob and key under another name, or with other paths (a
    // writer without the owners' key can edit the text; the reader cannot
    // check the seal): the blob's AAD refuses both.
    for (from, to) in [("- name: s\n", "- name: t\n"), ("- a\n", "- b\n")] {
        let moved = text.replace(from, to);
        assert_ne!(moved, text);
        let file = Sealed::parse(moved, FormatKind::Yaml).unwrap();
        assert!(
            matches!(
                file.open(&reader_ids, &READ),
                Err(DocumentError::ScopeDamaged { .. })
            ),
            "{from}"
        );
    }
    assert!(entry.blob.starts_with("ENC[AES256_GCM,"));
}

#[test]
fn a_reader_refuses_a_value_outside_its_paths() {
    let (reader_ids, reader) = identity();
    let key = DataKey::generate();
    let aad = serde_json::to_string(&["botsecrets scope 1", "s", "a"]).unwrap();
    let blob = EncryptedValue::encrypt(
        &key,
        br#"{"v":1,"values":[[["b"],"str","three",true]]}"#,
        TypeTag::Str,
        &aad,
    )
    .to_string();
    let enc = keys::wrap_bytes(&reader, key.expose()).unwrap();
    let mut meta = Sealed::parse(encrypted(&identity().1, &[]), FormatKind::Yaml)
        .unwrap()
        .metadata()
        .clone();
    meta.scopes = vec![crate::metadata::ScopeEntry {
        name: "s".into(),
        paths: vec!["a".into()],
        recipients: vec![crate::metadata::AgeStanza {
            recipient: reader.to_string(),
            enc,
        }],
        key: "ENC[unused]".into(),
        blob,
    }];
    assert!(matches!(
        scopes::open_as_reader(&meta, &reader_ids),
        Err(DocumentError::ScopeDamaged {
            reason: "it holds a value outside its paths",
            ..
        })
    ));
}

#[test]
fn an_owners_write_keeps_an_unchanged_scope_and_a_removed_reader_gets_a_new_key() {
    let (owner_ids, owner) = identity();
    let (_, r1) = identity();
    let (_, r2) = identity();
    let two = ScopeSpec {
        readers: vec![r1.clone(), r2.clone()],
        ..spec("s", &r1, &["a"])
    };
    let text = encrypted(&owner, &[two, spec("u", &r2, &["c"])]);
    let file = Sealed::parse(text.clone(), FormatKind::Yaml).unwrap();
    let before = file.metadata().scopes.clone();
    // A value outside every scope changes: both scopes keep their bytes.
    let o = file.open(&owner_ids, &OpenOptions::default()).unwrap();
    let out = o
        .set(
            &KeyPath::parse("b").unwrap(),
            crate::format::ValueType::Str,
            "3",
            "2026-01-02T00:00:00Z",
        )
        .unwrap();
    let after = Sealed::parse(out, FormatKind::Yaml).unwrap();
    assert_eq!(after.metadata().scopes, before);
    // r2 leaves scope s: s gets a new key (key field, stanza, blob); u
    // stays as it was; the file's own stanzas stay.
    let mut o = after.open(&owner_ids, &OpenOptions::default()).unwrap();
    o.set_scopes(vec![spec("s", &r1, &["a"]), spec("u", &r2, &["c"])]);
    let plain = o.plaintext().unwrap();
    let out = o.reencrypt(&plain, "2026-01-03T00:00:00Z").unwrap();
    let last = Sealed::parse(out, FormatKind::Yaml).unwrap();
    let (s0, s1) = (&before[0], &last.metadata().scopes[0]);
    assert_ne!(s0.key, s1.key);
    assert_ne!(s0.blob, s1.blob);
    assert_ne!(s0.recipients[0].enc, s1.recipients[0].enc);
    assert_eq!(s1.recipients.len(), 1);
    assert_eq!(last.metadata().scopes[1], before[1]);
    assert_eq!(last.metadata().key_groups, file.metadata().key_groups);
}

#[test]
fn drift_names_what_differs() {
    let (_, owner) = identity();
    let (_, r1) = identity();
    let (_, r2) = identity();
    let text = encrypted(&owner, &[spec("s", &r1, &["a"])]);
    let file = Sealed::parse(text, FormatKind::Yaml).unwrap();
    let meta = file.metadata();
    assert!(scope_drift(meta, &[spec("s", &r1, &["a"])]).is_empty());
    let want = ScopeSpec {
        readers: vec![r2.clone()],
        ..spec("s", &r1, &["a", "c"])
    };
    assert_eq!(
        scope_drift(meta, &[want, spec("t", &r1, &["b"])]),
        [
            ScopeDrift::Readers("s".into(), vec![r2.to_string()], vec![r1.to_string()]),
            ScopeDrift::Paths("s".into(), vec!["c".into()], vec![]),
            ScopeDrift::Missing("t".into()),
        ]
    );
    assert_eq!(scope_drift(meta, &[]), [ScopeDrift::Extra("s".into())]);
    let plain = Sealed::parse(encrypted(&owner, &[]), FormatKind::Yaml).unwrap();
    assert_eq!(
        scope_drift(plain.metadata(), &[spec("s", &r1, &["a"])]),
        [ScopeDrift::Dropped]
    );
}
