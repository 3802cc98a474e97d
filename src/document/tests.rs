//! Unit tests of the document layer: minimal-diff re-encryption, rekeying,
//! Shamir groups and the seal.

use super::*;
use crate::format::FormatKind;
use crate::keys::{self, Identity, Recipient};
use crate::metadata::Selection;
use crate::seal::{SealPolicy, SealStatus};

/// Opens `text`; the parsed file is leaked, which is fine in a test.
fn open(
    text: &str,
    kind: FormatKind,
    ids: &[Identity],
    opts: &OpenOptions,
) -> Result<Opened<'static>, DocumentError> {
    let file: &'static Sealed = Box::leak(Box::new(Sealed::parse(text.to_owned(), kind)?));
    file.open(ids, opts)
}

fn identity() -> (String, Recipient) {
    use age::secrecy::ExposeSecret;
    let (secret, recipient) = keys::generate_x25519();
    (
        secret.expose_secret().to_owned(),
        Recipient::parse(&recipient).unwrap(),
    )
}

fn ids(secrets: &[&String]) -> Vec<Identity> {
    let text: Vec<&str> = secrets.iter().map(|s| s.as_str()).collect();
    keys::parse_identities(&text.join("\n"), "test").unwrap()
}

fn encrypt_yaml(text: &str, r: &Recipient) -> String {
    let opts = EncryptOptions {
        recipients: std::slice::from_ref(r),
        selection: Selection::default(),
        mac_only_encrypted: false,
        expand_aliases: false,
        now: "2026-01-01T00:00:00Z".into(),
    };
    encrypt(text, FormatKind::Yaml, &opts).unwrap().text
}

fn changed_lines(a: &str, b: &str) -> Vec<String> {
    a.lines()
        .zip(b.lines())
        .filter(|(x, y)| x != y)
        .map(|(x, _)| x.trim().split(':').next().unwrap().to_owned())
        .collect()
}

#[test]
fn reencrypt_keeps_unchanged_ciphertext() {
    let (secret, r) = identity();
    let ids = ids(&[&secret]);
    let plain = "# note\na: one\nb: two\nlist:\n  - x\n  - x\n";
    let enc = encrypt_yaml(plain, &r);
    let opened = open(&enc, FormatKind::Yaml, &ids, &OpenOptions::default()).unwrap();
    let same = opened.reencrypt(plain, "2026-02-02T00:00:00Z").unwrap();
    assert_eq!(
        changed_lines(&enc, &same),
        ["lastmodified", "mac", "botsecrets_seal"]
    );
    let opened = open(&enc, FormatKind::Yaml, &ids, &OpenOptions::default()).unwrap();
    let edited = opened
        .reencrypt(&plain.replace("two", "TWO"), "2026-02-02T00:00:00Z")
        .unwrap();
    assert_eq!(
        changed_lines(&enc, &edited),
        ["b", "lastmodified", "mac", "botsecrets_seal"]
    );
    let (out, _) = decrypt(&edited, FormatKind::Yaml, &ids, &OpenOptions::default()).unwrap();
    assert_eq!(&*out, &plain.replace("two", "TWO"));
    // Two equal list items kept their two distinct ciphertexts.
    let items: Vec<&str> = edited.lines().filter(|l| l.starts_with("  - ")).collect();
    assert_ne!(items[0], items[1]);
}

#[test]
fn rekey_with_rotation_changes_every_value_and_locks_out_old_recipients() {
    let (sa, a) = identity();
    let (sb, b) = identity();
    let (ids_a, ids_b) = (ids(&[&sa]), ids(&[&sb]));
    let plain = "a: one\nb: two\n";
    let enc = encrypt_yaml(plain, &a);
    let opened = open(&enc, FormatKind::Yaml, &ids_a, &OpenOptions::default()).unwrap();
    let rotated = opened
        .rekey(&[vec![b.clone()]], 0, true, "2026-03-03T00:00:00Z")
        .unwrap();
    for key in ["a", "b"] {
        let before = enc.lines().find(|l| l.starts_with(key)).unwrap();
        let after = rotated.text.lines().find(|l| l.starts_with(key)).unwrap();
        assert_ne!(before, after);
    }
    assert!(matches!(
        open(
            &rotated.text,
            FormatKind::Yaml,
            &ids_a,
            &OpenOptions::default()
        ),
        Err(DocumentError::NoMatchingIdentity { .. })
    ));
    let (out, _) = decrypt(
        &rotated.text,
        FormatKind::Yaml,
        &ids_b,
        &OpenOptions::default(),
    )
    .unwrap();
    assert_eq!(&*out, plain);
}

#[test]
fn rekey_into_shamir_groups_needs_the_threshold() {
    let (sa, a) = identity();
    let (sb, b) = identity();
    let (sc, c) = identity();
    let ids_a = ids(&[&sa]);
    let enc = encrypt_yaml("a: one\n", &a);
    let opened = open(&enc, FormatKind::Yaml, &ids_a, &OpenOptions::default()).unwrap();
    let split = opened
        .rekey(
            &[vec![a], vec![b], vec![c]],
            2,
            true,
            "2026-03-03T00:00:00Z",
        )
        .unwrap();
    assert!(split.text.contains("shamir_threshold: 2"));
    for pair in [[&sa, &sb], [&sb, &sc], [&sa, &sc]] {
        let (out, _) = decrypt(
            &split.text,
            FormatKind::Yaml,
            &ids(&pair),
            &OpenOptions::default(),
        )
        .unwrap();
        assert_eq!(&*out, "a: one\n");
    }
    assert!(open(
        &split.text,
        FormatKind::Yaml,
        &ids_a,
        &OpenOptions::default()
    )
    .is_err());
}

fn seal_result(text: &str, kind: FormatKind, ids: &[Identity]) -> Result<SealStatus, String> {
    match open(text, kind, ids, &OpenOptions::default()) {
        Ok(o) => Ok(o.seal_status()),
        Err(e) => Err(format!("{e:?}")),
    }
}

#[test]
fn the_seal_refuses_structural_changes_the_mac_misses() {
    let (secret, r) = identity();
    let ids = ids(&[&secret]);
    let plain = "a: one\nlist: [x]\nname_unencrypted: clear\nempty: {}\n";
    let enc = encrypt_yaml(plain, &r);
    assert!(enc.contains("\n    botsecrets_seal: ENC[AES256_GCM,"));
    assert_eq!(
        seal_result(&enc, FormatKind::Yaml, &ids),
        Ok(SealStatus::Verified)
    );
    let mismatch = Err("SealMismatch".to_owned());
    for tampered in [
        enc.replace("name_unencrypted:", "other_unencrypted:"),
        enc.replacen("a: ", "x_unencrypted: \"\"\na: ", 1),
        enc.replacen("a: ", "x_unencrypted: null\na: ", 1),
        enc.replacen("a: ", "x_unencrypted: []\na: ", 1),
        enc.replace("empty: {}", "empty: []"),
        enc.replace("empty: {}\n", ""),
        enc.replace(
            "unencrypted_suffix: _unencrypted",
            // A rule the values still agree with: only the seal sees it.
            "unencrypted_regex: ^name_unencrypted$",
        ),
    ] {
        assert_ne!(tampered, enc);
        assert_eq!(
            seal_result(&tampered, FormatKind::Yaml, &ids),
            mismatch,
            "{tampered}"
        );
    }
    // A changed type tag breaks the seal; when the plaintext is not of
    // the new type, the value's own error says so more precisely.
    let retagged = enc.replace("type:str]", "type:int]");
    assert!(
        seal_result(&retagged, FormatKind::Yaml, &ids)
            .is_err_and(|e| e.starts_with("Value {") && e.contains("NotOfType")),
        "{retagged}"
    );
    // A changed clear value breaks the MAC too, which says it first (as
    // sops does).
    // So does turning mac_only_encrypted on (the MAC's prefix changes).
    for changed in [
        enc.replace("name_unencrypted: clear", "name_unencrypted: changed"),
        enc.replace("    version:", "    mac_only_encrypted: true\n    version:"),
    ] {
        assert_eq!(
            seal_result(&changed, FormatKind::Yaml, &ids),
            Err("MacMismatch".to_owned())
        );
    }
    // Stripped: missing, refused where required, a warning elsewhere.
    let stripped: String = enc
        .lines()
        .filter(|l| !l.contains("botsecrets_seal"))
        .map(|l| format!("{l}\n"))
        .collect();
    let o = open(&stripped, FormatKind::Yaml, &ids, &OpenOptions::default()).unwrap();
    assert_eq!(o.seal_status(), SealStatus::Missing);
    assert_eq!(o.warnings(), [Warning::SealMissing]);
    assert!(matches!(
        open(
            &stripped,
            FormatKind::Yaml,
            &ids,
            &OpenOptions::with_seal(SealPolicy::Required)
        ),
        Err(DocumentError::SealMissing)
    ));
    // --ignore-mac reads a broken seal with a loud warning.
    let broken = enc.replace("name_unencrypted:", "other_unencrypted:");
    let o = open(
        &broken,
        FormatKind::Yaml,
        &ids,
        &OpenOptions {
            ignore_mac: true,
            seal: SealPolicy::Required,
            scope_read: false,
        },
    )
    .unwrap();
    assert_eq!(o.seal_status(), SealStatus::Broken);
    assert!(o
        .warnings()
        .contains(&Warning::SealNotVerified(SealStatus::Broken)));
}

#[test]
fn mac_only_encrypted_files_keep_clear_values_editable_but_not_names() {
    let (secret, r) = identity();
    let ids = ids(&[&secret]);
    let opts = EncryptOptions {
        recipients: std::slice::from_ref(&r),
        selection: Selection::default(),
        mac_only_encrypted: true,
        expand_aliases: false,
        now: "2026-01-01T00:00:00Z".into(),
    };
    let enc = encrypt("a: one\nhost_unencrypted: x\n", FormatKind::Yaml, &opts)
        .unwrap()
        .text;
    let edited = enc.replace("host_unencrypted: x", "host_unencrypted: y");
    assert_eq!(
        seal_result(&edited, FormatKind::Yaml, &ids),
        Ok(SealStatus::Verified)
    );
    let renamed = enc.replace("host_unencrypted:", "path_unencrypted:");
    assert_eq!(
        seal_result(&renamed, FormatKind::Yaml, &ids),
        Err("SealMismatch".to_owned())
    );
    // Widening the clear set: the encrypted `a` renamed into it.
    // Strict selection refuses it before the seal is even checked.
    let widened = enc.replacen("a: ENC", "a_unencrypted: ENC", 1);
    assert!(
        seal_result(&widened, FormatKind::Yaml, &ids)
            .is_err_and(|e| e.starts_with("SelectionMismatch")),
        "{widened}"
    );
}

#[test]
fn rewrites_keep_the_file_sealed_in_every_format() {
    let (secret, r) = identity();
    let ids = ids(&[&secret]);
    let opts = EncryptOptions {
        recipients: std::slice::from_ref(&r),
        selection: Selection::default(),
        mac_only_encrypted: false,
        expand_aliases: false,
        now: "2026-01-01T00:00:00Z".into(),
    };
    for (kind, plain) in [
        (FormatKind::Yaml, "a: 1\nb: {}\nc: []\nd: ~\ne: \"\"\n# c\n"),
        (
            FormatKind::Json,
            "{\"a\": 1, \"b\": {}, \"c\": [], \"d\": null, \"e\": \"\"}\n",
        ),
        (FormatKind::Toml, "a = 1\ne = \"\"\n[t]\nx = true\n"),
        (FormatKind::Dotenv, "A=1\nE=\n# c\n"),
        (FormatKind::Ini, "[s]\na = 1\ne =\n"),
    ] {
        let enc = encrypt(plain, kind, &opts).unwrap().text;
        assert!(enc.contains("botsecrets_seal"), "{kind:?}: {enc}");
        let o = open(
            &enc,
            kind,
            &ids,
            &OpenOptions::with_seal(SealPolicy::Required),
        )
        .unwrap_or_else(|e| panic!("{kind:?}: {e}\n{enc}"));
        assert_eq!(o.seal_status(), SealStatus::Verified, "{kind:?}");
        let again = o.reencrypt(plain, "2026-02-02T00:00:00Z").unwrap();
        let o = open(
            &again,
            kind,
            &ids,
            &OpenOptions::with_seal(SealPolicy::Required),
        )
        .unwrap_or_else(|e| panic!("{kind:?}: {e}\n{again}"));
        assert_eq!(o.seal_status(), SealStatus::Verified, "{kind:?}");
    }
}

#[test]
fn plaintext_longer_than_its_ciphertext_is_written_whole() {
    // The output buffer is sized for the plaintext estimated from the
    // values; a value whose rendering is four times its length (control
    // characters as `\x01` escapes) outgrows the estimate and takes the
    // wiped-growth path. Several of them, so the growth happens mid-file.
    let (secret, r) = identity();
    let ids = ids(&[&secret]);
    let escaped = "\\x01".repeat(3000);
    let plain = format!("a: \"{escaped}\"\nb: plain\nc: \"{escaped}\"\nd: \"{escaped}\"\n");
    let enc = encrypt_yaml(&plain, &r);
    let opened = open(&enc, FormatKind::Yaml, &ids, &OpenOptions::default()).unwrap();
    assert_eq!(opened.plaintext().unwrap().as_str(), plain);
}

/// `enc` with the first data character of `key`'s value changed (the
/// ciphertext no longer authenticates; the structure is the same).
fn corrupt_value(enc: &str, key: &str) -> String {
    let marker = format!("\n{key}: ENC[AES256_GCM,data:");
    let at = enc.find(&marker).unwrap() + marker.len();
    let c = if &enc[at..=at] == "A" { "B" } else { "A" };
    format!("{}{c}{}", &enc[..at], &enc[at + 1..])
}

#[test]
fn large_files_open_on_two_threads_with_the_same_results() {
    // Above the parallel threshold the values are decrypted in two halves
    // beside the seal check: the plaintext is the same, and of two bad
    // values the first in the file is the one reported, whichever half.
    let (secret, r) = identity();
    let ids = ids(&[&secret]);
    let plain: String = (0..3000).map(|i| format!("k{i:04}: value-{i}\n")).collect();
    let enc = encrypt_yaml(&plain, &r);
    let opened = open(&enc, FormatKind::Yaml, &ids, &OpenOptions::default()).unwrap();
    assert_eq!(opened.plaintext().unwrap().as_str(), plain);
    assert_eq!(opened.seal_status(), SealStatus::Verified);
    let failing_path =
        |text: &str| match open(text, FormatKind::Yaml, &ids, &OpenOptions::default()) {
            Err(DocumentError::Value { path, error, .. }) => {
                assert!(matches!(error, ValueError::Authentication), "{error}");
                path.to_string()
            }
            Err(e) => panic!("unexpected error: {e}"),
            Ok(_) => panic!("a corrupt value opened"),
        };
    let late = corrupt_value(&enc, "k2500");
    assert_eq!(failing_path(&late), "k2500");
    let both = corrupt_value(&corrupt_value(&enc, "k2500"), "k0100");
    assert_eq!(failing_path(&both), "k0100");
}

/// The safety check of an encrypted output compares paths through the seal
/// digest (it no longer keeps the plaintext parse's paths): a key renamed in
/// the output must still be caught.
#[test]
fn the_output_check_catches_a_renamed_key() {
    let (_, r) = identity();
    let plain = "a: one\nb: two\n";
    let enc = encrypt_yaml(plain, &r);
    let kind = FormatKind::Yaml;
    let expected = encrypt::Expected::of(&kind.syntax().parse(plain).unwrap());
    let after = kind.syntax().parse(&enc).unwrap();
    let meta = crate::metadata::Metadata::from_tree(after.metadata_tree().unwrap()).unwrap();
    let digest = sealing::seal_digest_of_encrypted(&after, &meta);
    let check = |out: &str| {
        encrypt::check_encrypted_output(out, kind, &expected, &[true, true], &meta, &digest, None)
    };
    assert!(check(&enc).is_ok());
    let renamed = enc.replacen("b: ENC", "c: ENC", 1);
    assert_ne!(renamed, enc);
    assert!(matches!(check(&renamed), Err(DocumentError::Internal(_))));
}

/// The fast path of `written_type_tag` gives what a search for the last
/// `,type:` gives, damaged tags (a comma inside, no tag) included.
#[test]
fn the_written_type_tag_is_the_last_type_field() {
    let searched = |raw: &'static str| {
        raw.rfind(",type:")
            .and_then(|at| raw.get(at + 6..raw.len().saturating_sub(1)))
            .unwrap_or("")
    };
    for raw in [
        "ENC[AES256_GCM,data:eA==,iv:eA==,tag:eA==,type:str]",
        "ENC[AES256_GCM,data:eA==,type:a,b]",
        "ENC[AES256_GCM,data:eA==,type:x,type:y]",
        "ENC[AES256_GCM,data:eA==]",
        ",type:",
        "",
    ] {
        assert_eq!(sealing::written_type_tag(raw), searched(raw), "{raw}");
    }
}

/// A large file's output is checked in two halves on two cores, from the
/// digest's state kept halfway: a file with empty collections before, at
/// and after the cut gets a seal that a one-pass reader verifies, and a
/// renamed key or changed clear value in either half of the output is
/// still caught.
#[test]
fn the_split_output_check_catches_changes_in_either_half() {
    let (secret, r) = identity();
    let mut plain = String::from("first: []\n");
    for i in 0..3000 {
        if i == 1500 {
            // Leaf 1500 of 3000: the cut.
            plain.push_str("mid: {}\n");
        }
        if i % 100 == 7 {
            plain.push_str(&format!("k{i:04}_unencrypted: clear{i}\n"));
        } else {
            plain.push_str(&format!("k{i:04}: v{i}\n"));
        }
    }
    plain.push_str("last: {}\n");
    let enc = encrypt_yaml(&plain, &r);
    // A one-pass reader verifies the seal made in two parts.
    let opened = open(
        &enc,
        FormatKind::Yaml,
        &ids(&[&secret]),
        &OpenOptions::default(),
    )
    .unwrap();
    assert_eq!(opened.seal_status(), SealStatus::Verified);
    assert_eq!(opened.plaintext().unwrap().as_str(), plain);

    let kind = FormatKind::Yaml;
    let input = kind.syntax().parse(&plain).unwrap();
    let expected = encrypt::Expected::of(&input);
    let encrypted: Vec<bool> = input
        .leaves
        .iter()
        .map(|l| !l.path.to_string().ends_with("_unencrypted"))
        .collect();
    let after = kind.syntax().parse(&enc).unwrap();
    let meta = crate::metadata::Metadata::from_tree(after.metadata_tree().unwrap()).unwrap();
    let cut = after.leaves.len() / 2;
    assert_eq!(cut, 1500);
    assert_eq!(after.empties[1].position, cut);
    let (digest, kept) = sealing::seal_digest_kept(
        &after,
        &meta,
        |i| encrypted[i].then(|| sealing::written_type_tag(after.leaves[i].value.expose())),
        Some(cut),
    );
    assert_eq!(digest, sealing::seal_digest_of_encrypted(&after, &meta));
    let kept = kept.expect("a state is kept");
    let check = |out: &str| {
        encrypt::check_encrypted_output(
            out,
            kind,
            &expected,
            &encrypted,
            &meta,
            &digest,
            Some(&kept),
        )
    };
    assert!(check(&enc).is_ok());
    for (from, to) in [
        ("k0100: ENC", "x0100: ENC"),
        ("k2500: ENC", "x2500: ENC"),
        ("clear107\n", "clearX07\n"),
        ("clear2907\n", "clearX907\n"),
    ] {
        let changed = enc.replacen(from, to, 1);
        assert_ne!(changed, enc, "{from}");
        assert!(
            matches!(check(&changed), Err(DocumentError::Internal(_))),
            "{from} -> {to} was not caught"
        );
    }
}
