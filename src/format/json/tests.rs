//! Unit tests of the JSON parser and writer: spans, types, strictness,
//! metadata placement and sops-made fixtures.

use super::*;
use crate::format::apply_splices;
use crate::path::Segment;
use proptest::prelude::*;
use std::collections::HashSet;

const ENC: &str = "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]";

fn sample(name: &str) -> String {
    let path = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).expect("fixture")
}

fn parse(text: &str) -> ParsedFile {
    Json.parse(text).expect("parses")
}

fn summary(p: &ParsedFile) -> Vec<(String, LeafKind, String)> {
    p.leaves
        .iter()
        .map(|l| (l.path.to_string(), l.kind, l.value.expose().to_owned()))
        .collect()
}

fn encrypt_all(text: &str) -> String {
    let p = parse(text);
    let mut splices: Vec<Splice> = p
        .leaves
        .iter()
        .filter(|l| l.kind != LeafKind::Null)
        .map(|l| Splice {
            range: l.span.clone(),
            text: Json.render(text, l, &Replacement::Encrypted(ENC)).unwrap(),
        })
        .collect();
    apply_splices(text, &mut splices).unwrap()
}

fn with_meta(text: &str, tree: Option<&serde_json::Value>) -> String {
    let p = parse(text);
    let mut s = Json.metadata_splices(text, &p, tree).unwrap();
    apply_splices(text, &mut s).unwrap()
}

fn meta_tree() -> serde_json::Value {
    serde_json::from_str(
        r#"{"age":[{"recipient":"age1x","enc":"-----BEGIN AGE ENCRYPTED FILE-----\nYWJj\n-----END AGE ENCRYPTED FILE-----\n"}],"lastmodified":"2026-11-29T16:35:46Z","mac":"ENC[AES256_GCM,data:m,iv:i,tag:t,type:str]","unencrypted_suffix":"_unencrypted","version":"3.11.0","n":[],"o":{}}"#,
    )
    .unwrap()
}

#[test]
fn parses_the_plain_sample() {
    let text = sample("sops/basic.json");
    let p = parse(&text);
    use LeafKind::*;
    use ValueType::*;
    let s = |a: &str, k, v: &str| (a.to_owned(), k, v.to_owned());
    assert_eq!(
        summary(&p),
        vec![
            s("db.user", Value(Str), "admin"),
            s("db.pass", Value(Str), "s3cret"),
            s("db.port", Value(Float), "5432"),
            s("db.big", Value(Float), "12345678901234567890"),
            s("db.ratio", Value(Float), "1.50"),
            s("db.on", Value(Bool), "false"),
            s("db.none", Null, ""),
            s("list[0]", Value(Str), "a"),
            s("list[1]", Value(Float), "1"),
            s("list[2].k", Value(Str), "v"),
            s("note_unencrypted", Value(Str), "plain"),
        ]
    );
    assert!(p.metadata.is_empty());
    assert_eq!(&text[p.leaves[0].span.clone()], "\"admin\"");
    assert_eq!(&text[p.leaves[4].span.clone()], "1.50");
    assert!(p.leaves.iter().all(|l| l.style.flow));
}

#[test]
fn parses_the_sops_sample() {
    let text = sample("sops/basic.enc.json");
    let p = parse(&text);
    let paths: Vec<String> = p.leaves.iter().map(|l| l.path.to_string()).collect();
    assert_eq!(
        paths,
        [
            "db.user",
            "db.pass",
            "db.port",
            "db.big",
            "db.ratio",
            "db.on",
            "db.none",
            "list[0]",
            "list[1]",
            "list[2].k",
            "note_unencrypted"
        ]
    );
    assert_eq!(p.leaves[2].kind, LeafKind::Value(ValueType::Str));
    assert!(p.leaves[2].value.expose().ends_with("type:float]"));
    let tree = p.metadata_tree().unwrap();
    assert_eq!(tree["lastmodified"], "2026-11-29T16:35:46Z");
    assert_eq!(tree["version"], "3.11.0");
    assert_eq!(tree["unencrypted_suffix"], "_unencrypted");
    let enc = tree["age"][0]["enc"].as_str().unwrap();
    assert!(enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\nYWdl"));
    assert!(enc.ends_with("-----END AGE ENCRYPTED FILE-----\n"));
    let keys: Vec<&String> = tree.as_object().unwrap().keys().collect();
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
    // The block is the last member: it takes the comma before it.
    let span = p.metadata[0].span.clone();
    assert!(text[span.clone()].starts_with(",\n\t\"sops\": {"));
    assert_eq!(&text[span.end..], "\n}\n");
}

#[test]
fn sops_sample_values_decrypt_with_our_paths() {
    let key = "951a93422fed3fa3d8f7b8c42d2ff3c716bfd6ed36dc04a43ec2a46933b27909";
    let text = sample("sops/basic.enc.json");
    let p = parse(&text);
    let mut got = Vec::new();
    for l in &p.leaves {
        let v = l.value.expose();
        if v.starts_with("ENC[") {
            let plain = crate::format::testutil::sops_decrypt(v, key, &l.path.aad())
                .map(|(p, _)| p)
                .unwrap_or_else(|| panic!("{} does not decrypt", l.path));
            got.push((l.path.aad(), plain));
        }
    }
    let want: Vec<(String, String)> = [
        ("db:user:", "admin"),
        ("db:pass:", "s3cret"),
        ("db:port:", "5432"),
        ("db:big:", "12345678901234567000"),
        ("db:ratio:", "1.5"),
        ("db:on:", "False"),
        ("list:", "a"),
        ("list:", "1"),
        ("list:k:", "v"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn encrypting_every_leaf_changes_only_the_spans() {
    let text = sample("sops/basic.json");
    let out = encrypt_all(&text);
    let before = parse(&text);
    let after = parse(&out);
    assert_eq!(before.leaves.len(), after.leaves.len());
    let mut shift: isize = 0;
    let mut at_in = 0;
    for (b, a) in before.leaves.iter().zip(&after.leaves) {
        assert_eq!(b.path, a.path);
        let start_out = (b.span.start as isize + shift) as usize;
        // Everything between spans is byte-identical.
        assert_eq!(
            &text[at_in..b.span.start],
            &out[(at_in as isize + shift) as usize..start_out]
        );
        assert_eq!(a.span.start, start_out);
        if b.kind == LeafKind::Null {
            assert_eq!(a.kind, LeafKind::Null);
        } else {
            assert_eq!(a.kind, LeafKind::Value(ValueType::Str));
            assert_eq!(a.value.expose(), ENC);
        }
        shift += a.span.len() as isize - b.span.len() as isize;
        at_in = b.span.end;
    }
    assert_eq!(&text[at_in..], &out[(at_in as isize + shift) as usize..]);
    assert!(out.contains("\"port\": \"ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\""));
}

#[test]
fn renders_plain_values_back() {
    let text = "{\"a\": 1}";
    let p = parse(text);
    let leaf = &p.leaves[0];
    let r = |w: Replacement<'_>| Json.render(text, leaf, &w).unwrap();
    assert_eq!(
        r(Replacement::Value(ValueType::Str, "a\"b\\c\nd\te\u{1}é")),
        "\"a\\\"b\\\\c\\nd\\te\\u0001é\""
    );
    assert_eq!(r(Replacement::Value(ValueType::Float, "1.50")), "1.50");
    assert_eq!(
        r(Replacement::Value(ValueType::Float, "12345678901234567890")),
        "12345678901234567890"
    );
    assert_eq!(r(Replacement::Value(ValueType::Int, "-3")), "-3");
    assert_eq!(r(Replacement::Value(ValueType::Float, ".inf")), "\".inf\"");
    assert_eq!(r(Replacement::Value(ValueType::Int, "0x1F")), "\"0x1F\"");
    assert_eq!(r(Replacement::Value(ValueType::Bool, "False")), "false");
    assert_eq!(r(Replacement::Value(ValueType::Bool, "true")), "true");
    assert_eq!(
        r(Replacement::Value(ValueType::Time, "2024-01-02T00:00:00Z")),
        "\"2024-01-02T00:00:00Z\""
    );
    assert!(Json.render(text, leaf, &Replacement::Comment("x")).is_err());
    let e = Json
        .render(
            text,
            leaf,
            &Replacement::Value(ValueType::Bool, "secretword"),
        )
        .unwrap_err()
        .to_string();
    assert!(!e.contains("secretword"), "{e}");
    // Each rendering re-parses to the same type and value.
    for (ty, v, kind) in [
        (
            ValueType::Str,
            "multi\nline \u{7f} ✓ \"q\"",
            LeafKind::Value(ValueType::Str),
        ),
        (
            ValueType::Float,
            "-0.5e+10",
            LeafKind::Value(ValueType::Float),
        ),
        (ValueType::Bool, "true", LeafKind::Value(ValueType::Bool)),
    ] {
        let rendered = r(Replacement::Value(ty, v));
        let doc = format!("{{\"a\": {rendered}}}");
        let back = parse(&doc);
        assert_eq!(back.leaves[0].kind, kind);
        assert_eq!(back.leaves[0].value.expose(), v);
    }
}

#[test]
fn metadata_member_matches_sops_bytes() {
    let text = sample("sops/basic.enc.json");
    let p = parse(&text);
    let tree = p.metadata_tree().unwrap().clone();
    let stripped = with_meta(&text, None);
    assert!(!stripped.contains("sops"));
    assert!(stripped.ends_with("\"note_unencrypted\": \"plain\"\n}\n"));
    // Re-adding the same tree gives sops' own bytes back.
    assert_eq!(with_meta(&stripped, Some(&tree)), text);
    // Replacing in place too.
    assert_eq!(with_meta(&text, Some(&tree)), text);
}

#[test]
fn removes_the_member_from_any_position() {
    let cases = [
        (
            "{\n\t\"a\": 1,\n\t\"sops\": {\"x\": 1},\n\t\"b\": 2\n}\n",
            "{\n\t\"a\": 1,\n\t\"b\": 2\n}\n",
        ),
        (
            "{\n  \"sops\": {\n    \"x\": 1\n  },\n  \"a\": 1\n}",
            "{\n  \"a\": 1\n}",
        ),
        (
            "{\n    \"a\": [1],\n    \"sops\": {}\n}\n",
            "{\n    \"a\": [1]\n}\n",
        ),
        ("{\"a\":1,\"sops\":{}}", "{\"a\":1}"),
        ("{\"sops\":{},\"a\":1}", "{\"a\":1}"),
        ("{\"sops\": {}}", "{}"),
        ("{\n\t\"sops\": {}\n}\n", "{\n}\n"),
        (
            "{\r\n\t\"a\": 1,\r\n\t\"sops\": {}\r\n}\r\n",
            "{\r\n\t\"a\": 1\r\n}\r\n",
        ),
    ];
    for (input, want) in cases {
        let out = with_meta(input, None);
        assert_eq!(out, want, "removing from {input:?}");
        assert!(parse(&out).metadata.is_empty());
    }
}

#[test]
fn appends_with_the_file_layout_and_round_trips() {
    let tree = meta_tree();
    let cases = [
        ("{\n\t\"a\": 1\n}\n", "{\n\t\"a\": 1,\n\t\"sops\": {\n\t\t\"age\": [\n\t\t\t{\n\t\t\t\t\"recipient\": \"age1x\",\n"),
        ("{\n  \"a\": 1\n}", "{\n  \"a\": 1,\n  \"sops\": {\n    \"age\": [\n      {\n        \"recipient\": \"age1x\",\n"),
        ("{\n    \"a\": {\"b\": 2}\n}\n", "{\n    \"a\": {\"b\": 2},\n    \"sops\": {\n        \"age\": [\n"),
        ("{\"a\":1}", "{\"a\":1,\"sops\":{\"age\":[{\"recipient\":\"age1x\",\"enc\":\"-----BEGIN AGE ENCRYPTED FILE-----\\nYWJj\\n"),
        ("{\"a\": 1, \"b\": 2}\n", "{\"a\": 1, \"b\": 2, \"sops\": {\"age\": [{\"recipient\": \"age1x\", "),
        ("{}", "{\"sops\": {\"age\": [{"),
        ("{\n}\n", "{\n\t\"sops\": {\n\t\t\"age\": [\n"),
        ("{\r\n\t\"a\": 1\r\n}\r\n", "{\r\n\t\"a\": 1,\r\n\t\"sops\": {\r\n\t\t\"age\": [\r\n"),
    ];
    for (input, prefix) in cases {
        let out = with_meta(input, Some(&tree));
        assert!(
            out.starts_with(prefix),
            "appending to {input:?} gave {out:?}"
        );
        assert_eq!(out.ends_with('\n'), input.ends_with('\n'));
        let p = parse(&out);
        assert_eq!(p.metadata_tree(), Some(&tree));
        assert_eq!(summary(&p), summary(&parse(input)));
        // Replace with the same tree: no change; remove: the input back.
        assert_eq!(with_meta(&out, Some(&tree)), out);
        assert_eq!(with_meta(&out, None), input);
    }
    let pretty = with_meta("{\n\t\"a\": 1\n}\n", Some(&tree));
    assert!(
        pretty.contains("\"n\": [],\n\t\t\"o\": {}\n\t}\n}\n"),
        "{pretty}"
    );
}

#[test]
fn replaces_an_existing_member_in_place() {
    let text = "{\n  \"sops\": {\"version\": \"1\"},\n  \"a\": \"x\"\n}\n";
    let tree = serde_json::json!({"version": "3.11.0", "mac": "m"});
    let out = with_meta(text, Some(&tree));
    assert_eq!(
        out,
        "{\n  \"sops\": {\n    \"version\": \"3.11.0\",\n    \"mac\": \"m\"\n  },\n  \"a\": \"x\"\n}\n"
    );
    assert_eq!(parse(&out).metadata_tree(), Some(&tree));
}

fn err_of(text: &str) -> FormatError {
    Json.parse(text).expect_err("must fail")
}

#[test]
fn rejects_bad_input_with_positions_and_no_text() {
    let cases: &[(&str, usize, usize)] = &[
        ("{\"a\": \"secretvalue\",}", 1, 21),
        ("{\n\"a\": 01}", 2, 6),
        ("{\"a\": [1,]}", 1, 10),
        ("{\"a\": \"sec\u{1}ret\"}", 1, 11),
        ("{\"a\": \"secret\\x\"}", 1, 14),
        ("{\"a\": \"\\ud800secret\"}", 1, 8),
        ("{\"a\": \"\\udc00\"}", 1, 8),
        ("{\"a\": 1} secret", 1, 10),
        ("{\"a\": 1 // secret\n}", 1, 9),
        ("{\"a\": secret}", 1, 7),
        ("{\"a\": tru}", 1, 7),
        ("{\"a\": \"secret", 1, 7),
        ("{\"a\": 1.}", 1, 7),
        ("{\"a\": -}", 1, 7),
        ("{\"a\": 1e}", 1, 7),
        ("{'a': 1}", 1, 2),
        ("", 1, 1),
        ("\u{feff}{}", 1, 1),
        ("{\n  \"a\": [\n", 3, 1),
    ];
    for (text, line, column) in cases {
        match err_of(text) {
            FormatError::Syntax {
                line: l,
                column: c,
                reason,
                ..
            } => {
                assert_eq!((l, c), (*line, *column), "{text:?}: {reason}");
                assert!(!reason.contains("secret"));
            }
            other => panic!("{text:?}: {other:?}"),
        }
        assert!(!err_of(text).to_string().contains("secret"));
    }
    match err_of("{\"a\": {\"b\": 1,\n \"b\": 2}}") {
        FormatError::DuplicateKey { path, line } => {
            assert_eq!(path.to_string(), "a.b");
            assert_eq!(line, 2);
        }
        other => panic!("{other:?}"),
    }
    for top in ["[1]", "\"s\"", "3", "null", "true"] {
        assert!(
            matches!(err_of(top), FormatError::Unsupported { .. }),
            "{top}"
        );
    }
    let deep = format!("{{\"a\": {}{}}}", "[".repeat(600), "]".repeat(600));
    assert!(matches!(err_of(&deep), FormatError::Syntax { .. }));
    let ok = format!("{{\"a\": {}{}}}", "[".repeat(500), "]".repeat(500));
    assert!(Json.parse(&ok).is_ok());
}

#[test]
fn decodes_escapes_and_surrogates() {
    let p = parse(r#"{"k\"ey": "\u00e9\ud83d\ude00\/\b\f\r\n\t", "sops2": {"sops": 1}}"#);
    assert_eq!(p.leaves[0].path.segments(), &[Segment::Key("k\"ey".into())]);
    assert_eq!(p.leaves[0].value.expose(), "é😀/\u{8}\u{c}\r\n\t");
    // Only the top-level `sops` is metadata.
    assert_eq!(p.leaves[1].path.to_string(), "sops2.sops");
    assert!(p.metadata.is_empty());
    let nested = parse(r#"{"a": {"sops": "x"}}"#);
    assert_eq!(nested.leaves.len(), 1);
    assert!(nested.metadata.is_empty());
}

// ---- proptest: generated documents survive parse -> splice -> parse.

#[derive(Debug, Clone)]
pub(crate) enum J {
    Str(String),
    Num(String),
    Bool(bool),
    Null,
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

pub(crate) fn j() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        "[a-zA-Z0-9 \"\\\\\n\t\u{1}é😀/]{0,8}".prop_map(J::Str),
        "-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,3})?([eE][+-]?[0-9]{1,2})?".prop_map(J::Num),
        any::<bool>().prop_map(J::Bool),
        Just(J::Null),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(J::Arr),
            prop::collection::vec(("[a-z\"é]{0,4}", inner), 0..5).prop_map(|kv| {
                let mut seen = HashSet::new();
                J::Obj(
                    kv.into_iter()
                        .filter(|(k, _)| seen.insert(k.clone()))
                        .collect(),
                )
            }),
        ]
    })
}

pub(crate) fn write(v: &J, ws: &str, out: &mut String) {
    match v {
        J::Str(s) => out.push_str(&quote(s)),
        J::Num(n) => out.push_str(n),
        J::Bool(b) => out.push_str(&b.to_string()),
        J::Null => out.push_str("null"),
        J::Arr(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(ws);
                write(x, ws, out);
            }
            out.push_str(ws);
            out.push(']');
        }
        J::Obj(kv) => {
            out.push('{');
            for (i, (k, x)) in kv.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(ws);
                out.push_str(&quote(k));
                out.push_str(ws);
                out.push(':');
                write(x, ws, out);
            }
            out.push_str(ws);
            out.push('}');
        }
    }
}

fn count_leaves(v: &J) -> usize {
    match v {
        J::Arr(items) => items.iter().map(count_leaves).sum(),
        J::Obj(kv) => kv.iter().map(|(_, x)| count_leaves(x)).sum(),
        _ => 1,
    }
}

proptest! {
    #[test]
    fn generated_documents_round_trip(
        members in prop::collection::vec(("[a-z]{1,3}", j()), 0..6),
        ws in prop_oneof![Just(""), Just(" "), Just("\n\t"), Just("\r\n  ")],
        with_sops in any::<bool>(),
    ) {
        let mut seen = HashSet::new();
        let members: Vec<(String, J)> =
            members.into_iter().filter(|(k, _)| seen.insert(k.clone())).collect();
        let obj = J::Obj(members.clone());
        let mut text = String::new();
        write(&obj, ws, &mut text);
        let p = Json.parse(&text).unwrap();
        prop_assert_eq!(p.leaves.len(), members.iter().map(|(_, x)| count_leaves(x)).sum::<usize>());
        // Values agree with serde_json's reading of the same text.
        let sj: serde_json::Value = serde_json::from_str(&text).unwrap();
        for l in &p.leaves {
            let mut v = &sj;
            for s in l.path.segments() {
                v = match s { Segment::Key(k) => &v[k.as_str()], Segment::Index(i) => &v[*i] };
            }
            match l.kind {
                LeafKind::Value(ValueType::Str) => prop_assert_eq!(v.as_str(), Some(l.value.expose())),
                LeafKind::Value(ValueType::Float) => {
                    // serde_json respells exponents (`0E0` -> `0e+0`).
                    let ours: f64 = l.value.expose().parse().unwrap();
                    prop_assert_eq!(v.to_string().parse::<f64>().unwrap(), ours);
                }
                LeafKind::Value(ValueType::Bool) => prop_assert_eq!(v.to_string(), l.value.expose()),
                LeafKind::Null => prop_assert!(v.is_null()),
                _ => prop_assert!(false),
            }
        }
        let enc = encrypt_all(&text);
        let q = Json.parse(&enc).unwrap();
        prop_assert_eq!(p.leaves.len(), q.leaves.len());
        for (a, b) in p.leaves.iter().zip(&q.leaves) {
            prop_assert_eq!(&a.path, &b.path);
            if a.kind == LeafKind::Null {
                prop_assert_eq!(b.kind, LeafKind::Null);
            } else {
                prop_assert_eq!(b.value.expose(), ENC);
            }
        }
        // Plain values rendered back give the original text.
        let mut back: Vec<Splice> = q.leaves.iter().zip(&p.leaves)
            .filter(|(_, a)| a.kind != LeafKind::Null)
            .map(|(b, a)| {
                let LeafKind::Value(ty) = a.kind else { unreachable!() };
                Splice { range: b.span.clone(), text: Json.render(&enc, b, &Replacement::Value(ty, a.value.expose())).unwrap() }
            })
            .collect();
        prop_assert_eq!(apply_splices(&enc, &mut back).unwrap(), text.clone());
        if with_sops {
            let tree = meta_tree();
            let added = with_meta(&text, Some(&tree));
            let r = Json.parse(&added).unwrap();
            prop_assert_eq!(r.metadata_tree(), Some(&tree));
            prop_assert_eq!(summary(&r), summary(&p));
            prop_assert_eq!(with_meta(&added, None), text);
        }
    }

    #[test]
    fn arbitrary_input_never_panics(s in "[{}\\[\\]\",:0-9a-z\\\\ \n.eE+-é😀\u{1}]{0,40}") {
        let _ = Json.parse(&s);
        let t = format!("{{\"a\":{s}}}");
        let _ = Json.parse(&t);
    }
}

proptest! {
    /// `quote` escapes exactly as serde_json does (minimal escapes,
    /// `\u00xx` for the other control characters, non-ASCII kept).
    #[test]
    fn quote_matches_serde_json(s in "(\\PC|[\\x00-\\x1f\"\\\\\u{7f}])*") {
        prop_assert_eq!(quote(&s), serde_json::to_string(&s).unwrap());
    }
}

#[test]
fn quote_escapes_every_control_character() {
    for b in 0u8..0x80 {
        let s = format!("é{}x", char::from(b));
        assert_eq!(quote(&s), serde_json::to_string(&s).unwrap(), "{b:#x}");
    }
}

proptest! {
    /// The word-at-a-time scan stops where the byte-at-a-time one does.
    #[test]
    fn plain_run_stops_at_the_first_quote_backslash_or_control(
        b in proptest::collection::vec(
            prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x20, 0x20u8..=0xff, 0x20u8..0x80],
            0..40,
        ),
        plain in 0usize..40,
    ) {
        let mut b = b;
        // Often a long plain prefix, so that words before the stop are read.
        b.splice(0..0, std::iter::repeat_n(b'x', plain));
        let want = b.iter().position(|&c| super::stops_run(c)).unwrap_or(b.len());
        prop_assert_eq!(super::plain_run(&b), want);
    }
}
