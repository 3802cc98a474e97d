//! Unit tests of the dotenv reader and writer: sops' line rules, CRLF,
//! metadata flattening, sops-made fixtures and parse-splice-parse
//! properties.

use super::*;
use crate::format::apply_splices;
use proptest::prelude::*;

const SAMPLE: &str = include_str!("../../../testdata/sops/basic.enc.env");
const PLAIN: &str = include_str!("../../../testdata/sops/basic.env");
const KEY: &str = "d9e3b8a0516bbc5de82aff4357ebe618a114fe2c5ea99793e26a7b8efc585d40";
const FAKE: &str = "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]";

fn parse(text: &str) -> ParsedFile {
    Dotenv.parse(text).expect("parses")
}

use crate::format::testutil::summary;

/// Replaces every leaf with `with(leaf)`.
fn splice_all(text: &str, p: &ParsedFile, enc: &str) -> String {
    let mut splices: Vec<Splice> = p
        .leaves
        .iter()
        .map(|l| Splice {
            range: l.span.clone(),
            text: Dotenv
                .render(text, l, &Replacement::Encrypted(enc))
                .unwrap(),
        })
        .collect();
    apply_splices(text, &mut splices).unwrap()
}

#[test]
fn parses_the_sops_sample() {
    let p = parse(SAMPLE);
    let paths: Vec<_> = p.leaves.iter().map(|l| (l.path.aad(), l.kind)).collect();
    assert_eq!(
        paths,
        vec![
            (":".into(), LeafKind::Comment),
            ("DB_USER:".into(), LeafKind::Value(ValueType::Str)),
            ("DB_PASS:".into(), LeafKind::Value(ValueType::Str)),
            ("export TOKEN:".into(), LeafKind::Value(ValueType::Str)),
            ("MULTI:".into(), LeafKind::Value(ValueType::Str)),
            ("EMPTY:".into(), LeafKind::Value(ValueType::Str)),
        ]
    );
    assert_eq!(p.leaves[5].value.expose(), "");
    let tree = p.metadata_tree().unwrap();
    assert_eq!(
        tree["age"][0]["recipient"],
        "age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n"
    );
    let enc = tree["age"][0]["enc"].as_str().unwrap();
    assert!(enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\nYWdl"));
    assert!(enc.ends_with("\n-----END AGE ENCRYPTED FILE-----\n"));
    assert_eq!(tree["lastmodified"], "2026-11-29T16:35:47Z");
    assert_eq!(tree["unencrypted_suffix"], "_unencrypted");
    assert_eq!(tree["version"], "3.11.0");
    let keys: Vec<_> = tree.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "age",
            "lastmodified",
            "mac",
            "unencrypted_suffix",
            "version"
        ]
    );
    // The block is the trailing run of sops_ lines.
    let span = &p.metadata[0].span;
    assert!(SAMPLE[span.clone()].starts_with("sops_age__list_0__map_enc="));
    assert_eq!(span.end, SAMPLE.len());
    assert!(SAMPLE[..span.start].ends_with("EMPTY=\n"));
}

#[test]
fn every_sample_value_decrypts_with_our_paths() {
    let p = parse(SAMPLE);
    let mut got = Vec::new();
    for leaf in &p.leaves {
        let v = leaf.value.expose();
        if v.is_empty() {
            got.push(String::new());
            continue;
        }
        let (plain, ty) = crate::format::testutil::sops_decrypt(v, KEY, &leaf.path.aad())
            .unwrap_or_else(|| panic!("{} does not decrypt", leaf.path));
        let expected_ty = if leaf.kind == LeafKind::Comment {
            "comment"
        } else {
            "str"
        };
        assert_eq!(ty, expected_ty);
        got.push(plain);
    }
    assert_eq!(
        got,
        [" a comment", "admin", "\"quoted value\"", "abc", "a\nb", ""]
    );
    // And they equal what we read from the plaintext input.
    let plain = parse(PLAIN);
    let values: Vec<_> = plain.leaves.iter().map(|l| l.value.expose()).collect();
    assert_eq!(values, got);
    let (mac, _) = crate::format::testutil::sops_decrypt(
        p.metadata_tree().unwrap()["mac"].as_str().unwrap(),
        KEY,
        "2026-11-29T16:35:47Z",
    )
    .unwrap();
    assert_eq!(mac.len(), 128);
}

#[test]
fn sops_crlf_file_decrypts_with_our_paths_and_values() {
    // testdata/dotenv/crlf.env (CRLF) encrypted by sops 3.11; data key
    // recovered with age (see testdata/dotenv/README.md).
    let key = "d9fd3cbd283f2b201d5d314c0d0b8e1f70fe36a3a7ca9d26ecca4e877e3d8b4e";
    let plain = parse(include_str!("../../../testdata/dotenv/crlf.env"));
    let enc = parse(include_str!("../../../testdata/dotenv/crlf.enc.env"));
    assert_eq!(
        summary(&plain),
        vec![
            (":".into(), LeafKind::Comment, " crlf comment\r".into()),
            ("A:".into(), LeafKind::Value(ValueType::Str), "val\r".into()),
            (
                "export B:".into(),
                LeafKind::Value(ValueType::Str),
                "\"q v\"\r".into()
            ),
            ("E:".into(), LeafKind::Value(ValueType::Str), "\r".into()),
        ]
    );
    assert_eq!(enc.leaves.len(), plain.leaves.len());
    for (e, p) in enc.leaves.iter().zip(&plain.leaves) {
        assert_eq!((&e.path, e.kind), (&p.path, p.kind));
        let (text, _) = crate::format::testutil::sops_decrypt(e.value.expose(), key, &e.path.aad())
            .unwrap_or_else(|| panic!("{} does not decrypt", e.path));
        assert_eq!(text, p.value.expose(), "{}", e.path);
    }
}

#[test]
fn plaintext_sample_spans_and_layout() {
    let p = parse(PLAIN);
    let spans: Vec<&str> = p.leaves.iter().map(|l| &PLAIN[l.span.clone()]).collect();
    assert_eq!(
        spans,
        [
            "# a comment",
            "admin",
            "\"quoted value\"",
            "abc",
            "a\\nb",
            ""
        ]
    );
    assert!(p.metadata.is_empty());
    assert_eq!(p.documents, 1);
}

#[test]
fn splice_round_trip_keeps_everything_outside_spans() {
    let text = "# head\n\nA=1\n  \nexport B = x y \n# tail\nC=\"q\"\r\nD=\n";
    let p = parse(text);
    let out = splice_all(text, &p, FAKE);
    assert_eq!(
        out,
        format!("#{FAKE}\n\nA={FAKE}\n  \nexport B ={FAKE}\n#{FAKE}\nC={FAKE}\nD={FAKE}\n")
    );
    let q = parse(&out);
    assert_eq!(q.leaves.len(), p.leaves.len());
    for (a, b) in p.leaves.iter().zip(&q.leaves) {
        assert_eq!(a.path, b.path);
        assert_eq!(a.kind, b.kind);
        assert_eq!(b.value.expose(), FAKE);
    }
    // Outside the spans, byte for byte.
    let mut rest_in = String::new();
    let mut at = 0;
    for l in &p.leaves {
        rest_in.push_str(&text[at..l.span.start]);
        at = l.span.end;
    }
    rest_in.push_str(&text[at..]);
    let mut rest_out = String::new();
    let mut at = 0;
    for l in &q.leaves {
        rest_out.push_str(&out[at..l.span.start]);
        at = l.span.end;
    }
    rest_out.push_str(&out[at..]);
    assert_eq!(rest_in, rest_out);
}

#[test]
fn crlf_keeps_the_carriage_return_in_the_value_like_sops() {
    let text = "#c\r\nA=val\r\n\r\nE=\r\n";
    let p = parse(text);
    assert_eq!(
        summary(&p),
        vec![
            (":".into(), LeafKind::Comment, "c\r".into()),
            ("A:".into(), LeafKind::Value(ValueType::Str), "val\r".into()),
            ("E:".into(), LeafKind::Value(ValueType::Str), "\r".into()),
        ]
    );
    // Encrypting takes the \r into the ciphertext; decrypting restores
    // the original bytes exactly.
    let enc = splice_all(text, &p, FAKE);
    assert_eq!(enc, format!("#{FAKE}\nA={FAKE}\n\r\nE={FAKE}\n"));
    let q = parse(&enc);
    let mut splices: Vec<Splice> = q
        .leaves
        .iter()
        .zip(&p.leaves)
        .map(|(l, orig)| {
            let with = match orig.kind {
                LeafKind::Comment => Replacement::Comment(orig.value.expose()),
                _ => Replacement::Value(ValueType::Str, orig.value.expose()),
            };
            Splice {
                range: l.span.clone(),
                text: Dotenv.render(&enc, l, &with).unwrap(),
            }
        })
        .collect();
    assert_eq!(apply_splices(&enc, &mut splices).unwrap(), text);
}

#[test]
fn renders_plaintext_canonically() {
    let text = "A=x\n# c\n";
    let p = parse(text);
    let v = Dotenv
        .render(
            text,
            &p.leaves[0],
            &Replacement::Value(ValueType::Str, "l1\nl2 \"q\""),
        )
        .unwrap();
    assert_eq!(v, "l1\\nl2 \"q\"");
    let c = Dotenv
        .render(text, &p.leaves[1], &Replacement::Comment(" note"))
        .unwrap();
    assert_eq!(c, "# note");
    let multi = Dotenv
        .render(text, &p.leaves[1], &Replacement::Comment("a\nb=1"))
        .unwrap();
    assert_eq!(multi, "#a\n#b=1");
    let mut s = vec![
        Splice {
            range: p.leaves[0].span.clone(),
            text: v,
        },
        Splice {
            range: p.leaves[1].span.clone(),
            text: c,
        },
    ];
    let out = apply_splices(text, &mut s).unwrap();
    assert_eq!(out, "A=l1\\nl2 \"q\"\n# note\n");
    let q = parse(&out);
    assert_eq!(q.leaves[0].value.expose(), "l1\nl2 \"q\"");
    assert_eq!(q.leaves[0].kind, LeafKind::Value(ValueType::Str));
    assert_eq!(q.leaves[1].value.expose(), " note");
    // Mismatched replacements are internal errors, not silent output.
    assert!(Dotenv
        .render(text, &p.leaves[0], &Replacement::Comment("x"))
        .is_err());
    assert!(Dotenv
        .render(text, &p.leaves[1], &Replacement::Value(ValueType::Str, "x"))
        .is_err());
}

#[test]
fn metadata_reproduces_the_sops_bytes() {
    let p = parse(SAMPLE);
    let tree = p.metadata_tree().unwrap();
    let mut splices = Dotenv.metadata_splices(SAMPLE, &p, Some(tree)).unwrap();
    assert_eq!(splices.len(), 1);
    assert_eq!(splices[0].text, SAMPLE[p.metadata[0].span.clone()]);
    assert_eq!(apply_splices(SAMPLE, &mut splices).unwrap(), SAMPLE);
}

#[test]
fn metadata_append_replace_remove_round_trip() {
    let tree = serde_json::json!({
        "age": [{"recipient": "age1x", "enc": "-----BEGIN-----\nAAA\n-----END-----\n"}],
        "key_groups": [],
        "shamir_threshold": 2,
        "mac_only_encrypted": true,
        "lastmodified": "2026-01-01T00:00:00Z",
        "version": "3.11.0",
    });
    let text = "A=1\nB=2"; // no final newline
    let p = parse(text);
    let mut s = Dotenv.metadata_splices(text, &p, Some(&tree)).unwrap();
    let with = apply_splices(text, &mut s).unwrap();
    assert_eq!(
        with,
        "A=1\nB=2\n\
         sops_age__list_0__map_enc=-----BEGIN-----\\nAAA\\n-----END-----\\n\n\
         sops_age__list_0__map_recipient=age1x\n\
         sops_lastmodified=2026-01-01T00:00:00Z\n\
         sops_mac_only_encrypted=true\n\
         sops_shamir_threshold=2\n\
         sops_version=3.11.0"
    );
    let q = parse(&with);
    assert_eq!(q.leaves.len(), 2);
    // Read back, everything is a string (the reader is tolerant).
    let back = q.metadata_tree().unwrap();
    assert_eq!(back["age"][0]["enc"], tree["age"][0]["enc"]);
    assert_eq!(back["age"][0]["recipient"], "age1x");
    assert_eq!(back["shamir_threshold"], "2");
    assert_eq!(back["mac_only_encrypted"], "true");
    // Written again from what was read: the same bytes.
    let mut again = Dotenv.metadata_splices(&with, &q, Some(back)).unwrap();
    assert_eq!(apply_splices(&with, &mut again).unwrap(), with);
    // Replace.
    let newer = serde_json::json!({"version": "3.12.0"});
    let mut r = Dotenv.metadata_splices(&with, &q, Some(&newer)).unwrap();
    let replaced = apply_splices(&with, &mut r).unwrap();
    // The file had no final newline: it still has none (issue 14).
    assert_eq!(replaced, "A=1\nB=2\nsops_version=3.12.0");
    // Remove.
    let rp = parse(&replaced);
    let mut d = Dotenv.metadata_splices(&replaced, &rp, None).unwrap();
    assert_eq!(apply_splices(&replaced, &mut d).unwrap(), "A=1\nB=2");
    // Append to an empty file.
    let e = parse("");
    let mut a = Dotenv.metadata_splices("", &e, Some(&newer)).unwrap();
    assert_eq!(apply_splices("", &mut a).unwrap(), "sops_version=3.12.0\n");
}

#[test]
fn metadata_in_the_middle_and_crlf() {
    let text = "A=1\r\nsops_version=3.11.0\r\nsops_mac=m\r\nB=2\r\n";
    let p = parse(text);
    assert_eq!(p.leaves.len(), 2);
    let tree = p.metadata_tree().unwrap();
    assert_eq!(tree["version"], "3.11.0");
    assert_eq!(tree["mac"], "m");
    assert_eq!(
        &text[p.metadata[0].span.clone()],
        "sops_version=3.11.0\r\nsops_mac=m\r\n"
    );
    let mut s = Dotenv.metadata_splices(text, &p, Some(tree)).unwrap();
    assert_eq!(
        apply_splices(text, &mut s).unwrap(),
        "A=1\r\nsops_mac=m\nsops_version=3.11.0\nB=2\r\n"
    );
}

#[test]
fn bad_input_errors_name_lines_not_values() {
    let cases: &[(&str, usize)] = &[
        ("A=1\nsecretvalue\n", 2),
        ("A=1\n=secretvalue\n", 2),
        ("A=1\nA=secretvalue\n", 2),
        ("sops_a=1\nA=secretvalue\nsops_b=2\n", 3),
        ("sops_a__list_x=secretvalue\n", 1),
        ("sops_a=secretvalue\nsops_a=2\n", 2),
        ("sops_a=secretvalue\nsops_a__map_b=2\n", 2),
        ("sops_a__list_99=secretvalue\n", 1),
    ];
    for (text, line) in cases {
        let err = Dotenv.parse(text).unwrap_err();
        let msg = err.to_string();
        assert!(!msg.contains("secretvalue"), "{msg}");
        assert!(msg.contains(&format!("line {line}")), "{text:?}: {msg}");
    }
    assert!(matches!(
        Dotenv.parse("A=1\nA=2\n"),
        Err(FormatError::DuplicateKey { line: 2, .. })
    ));
}

#[test]
fn of_a_repeated_key_and_a_bad_line_the_earlier_is_reported() {
    // Repeats are found after the lines are read: the answer must still be
    // the first error in line order, as when each line was checked.
    let dup = |text: &str| match Dotenv.parse(text) {
        Err(FormatError::DuplicateKey { path, line }) => Some((path.to_string(), line)),
        _ => None,
    };
    assert_eq!(dup("A=1\nA=2\nnot a line\n"), Some(("A".into(), 2)));
    assert_eq!(dup("A=1\nB=2\nB=3\nA=4\n"), Some(("B".into(), 3)));
    assert_eq!(dup("B=1\nA=2\nA=3\nB=4\n"), Some(("A".into(), 3)));
    assert!(matches!(
        Dotenv.parse("A=1\nnot a line\nA=2\n"),
        Err(FormatError::Syntax { line: 2, .. })
    ));
    // A repeat before a broken metadata run, and one after it.
    assert_eq!(
        dup("A=1\nA=2\nsops_version=3\nX=1\nsops_mac=m\n"),
        Some(("A".into(), 2))
    );
    assert!(matches!(
        Dotenv.parse("sops_version=3\nX=1\nsops_mac=m\nA=1\nA=2\n"),
        Err(FormatError::Unsupported { line: 3, .. })
    ));
}

#[test]
fn loader_value_reads_like_a_dotenv_loader() {
    assert_eq!(loader_value("\"quoted value\""), "quoted value");
    assert_eq!(loader_value("\"a\\\"b\\\\c\\nd\" # note"), "a\"b\\c\nd");
    assert_eq!(loader_value("'lit\\n'"), "lit\\n");
    assert_eq!(loader_value("abc  # note"), "abc");
    assert_eq!(loader_value("a#b"), "a#b");
    assert_eq!(loader_value("plain  \r"), "plain");
    assert_eq!(loader_value("\"open"), "\"open");
    assert_eq!(loader_value(""), "");
}

fn doc_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[ \t]{0,3}".prop_map(|s| s),
        "[ ]{0,2}#[^\n]{0,12}".prop_map(|s| s),
        ("[A-Za-z_][A-Za-z0-9_ .-]{0,8}", "[^\n]{0,16}").prop_map(|(k, v)| format!("{k}={v}")),
    ]
}

proptest! {
    #[test]
    fn parse_splice_parse_keeps_leaves(lines in proptest::collection::vec(doc_line(), 0..12), crlf in any::<bool>()) {
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        let Ok(p) = Dotenv.parse(&text) else { return Ok(()) };
        let out = splice_all(&text, &p, FAKE);
        let q = Dotenv.parse(&out).expect("spliced output parses");
        prop_assert_eq!(p.leaves.len(), q.leaves.len());
        for (a, b) in p.leaves.iter().zip(&q.leaves) {
            prop_assert_eq!(&a.path, &b.path);
            prop_assert_eq!(a.kind, b.kind);
            prop_assert_eq!(b.value.expose(), FAKE);
        }
        // Decrypting back (render plaintext) restores the text exactly.
        let mut back: Vec<Splice> = q.leaves.iter().zip(&p.leaves).map(|(l, o)| {
            let with = match o.kind {
                LeafKind::Comment => Replacement::Comment(o.value.expose()),
                _ => Replacement::Value(ValueType::Str, o.value.expose()),
            };
            Splice { range: l.span.clone(), text: Dotenv.render(&out, l, &with).unwrap() }
        }).collect();
        let restored = apply_splices(&out, &mut back).unwrap();
        prop_assert_eq!(&restored, &text);
    }

    #[test]
    fn never_panics(text in "[^\u{0}]{0,64}") {
        let _ = Dotenv.parse(&text);
    }
}
