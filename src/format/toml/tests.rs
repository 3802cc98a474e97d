//! Unit tests of the TOML reader and writer: leaves, types, times, comment
//! paths, metadata placement and parse-splice-parse properties.

use super::*;
use crate::format::apply_splices;
use proptest::prelude::*;

const ENC: &str = "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]";

fn fixture(name: &str) -> String {
    let path = format!("{}/testdata/toml/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).expect("fixture")
}

fn parse(text: &str) -> ParsedFile {
    match Toml.parse(text) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
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
        .map(|l| Splice {
            range: l.span.clone(),
            text: Toml.render(text, l, &Replacement::Encrypted(ENC)).unwrap(),
        })
        .collect();
    apply_splices(text, &mut splices).unwrap()
}

fn with_meta(text: &str, tree: Option<&serde_json::Value>) -> String {
    let p = parse(text);
    let mut s = Toml.metadata_splices(text, &p, tree).unwrap();
    apply_splices(text, &mut s).unwrap()
}

fn meta_tree() -> serde_json::Value {
    serde_json::from_str(
        r#"{"age":[{"recipient":"age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n","enc":"-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBXQmhPTkNadHRDYlhuU3hr\nd2pDRzViZ1dUdWs3RzI2emN2SGI3OXRZempjCjM5RjNuY1U5eXQwQ3RwR1pONXpY\n-----END AGE ENCRYPTED FILE-----\n"},{"recipient":"age1second","enc":"-----BEGIN AGE ENCRYPTED FILE-----\nQUJD\n-----END AGE ENCRYPTED FILE-----\n"}],"lastmodified":"2026-11-29T16:35:46Z","mac":"ENC[AES256_GCM,data:m,iv:i,tag:t,type:str]","unencrypted_suffix":"_unencrypted","version":"3.11.0","shamir_threshold":2,"mac_only_encrypted":true}"#,
    )
    .unwrap()
}

/// Asserts that `after` is `before` with only the leaf spans replaced.
fn only_spans_differ(before: &str, b: &ParsedFile, after: &str, a: &ParsedFile) {
    assert_eq!(b.leaves.len(), a.leaves.len());
    let mut shift: isize = 0;
    let mut at = 0;
    for (x, y) in b.leaves.iter().zip(&a.leaves) {
        assert_eq!(x.path, y.path);
        let out_start = (x.span.start as isize + shift) as usize;
        assert_eq!(
            &before[at..x.span.start],
            &after[(at as isize + shift) as usize..out_start]
        );
        assert_eq!(y.span.start, out_start);
        shift += y.span.len() as isize - x.span.len() as isize;
        at = x.span.end;
    }
    assert_eq!(&before[at..], &after[(at as isize + shift) as usize..]);
}

#[test]
fn reads_types_paths_and_comments() {
    let text = "# top\r\n\
        title = 'TOML' # trailing\r\n\
        hex = 0xff\r\n\
        big = 1_000\r\n\
        f1 = 1.50\r\n\
        f2 = 1_000.5\r\n\
        f3 = +1.5\r\n\
        f4 = -inf\r\n\
        f5 = nan\r\n\
        f6 = 1e3\r\n\
        f7 = 1_0.0\r\n\
        on = true\r\n\
        a.b.c = \"dot\"\r\n\
        \"quoted.key\" = \"\"\"\r\nl1\r\nl2 # not a comment\"\"\"\r\n\
        lit = '''x # y'''\r\n\
        [server] # header\r\n\
        # own line\r\n\
        ports = [ 8000, # first\r\n  8001 ]\r\n\
        inline = { user = \"u\", pass = \"p#w\" }\r\n\
        sops = \"nested data\"\r\n\
        [[bots]]\r\n\
        name = \"a\"\r\n\
        # in bots[0]\r\n\
        [[bots]]\r\n\
        name = \"b\"\r\n";
    let p = parse(text);
    use LeafKind::*;
    use ValueType::*;
    let s = |a: &str, k, v: &str| (a.to_owned(), k, v.to_owned());
    assert_eq!(
        summary(&p),
        vec![
            s("(root)", Comment, " top"),
            s("title", Value(Str), "TOML"),
            s("(root)", Comment, " trailing"),
            s("hex", Value(Int), "255"),
            s("big", Value(Int), "1000"),
            s("f1", Value(Float), "1.50"),
            s("f2", Value(Float), "1000.5"),
            s("f3", Value(Float), "1.5"),
            s("f4", Value(Float), "-inf"),
            s("f5", Value(Float), "nan"),
            s("f6", Value(Float), "1e3"),
            s("f7", Value(Float), "10.0"),
            s("on", Value(Bool), "true"),
            s("a.b.c", Value(Str), "dot"),
            s("[\"quoted.key\"]", Value(Str), "l1\r\nl2 # not a comment"),
            s("lit", Value(Str), "x # y"),
            s("server", Comment, " header"),
            s("server", Comment, " own line"),
            s("server.ports[0]", Value(Int), "8000"),
            s("server.ports", Comment, " first"),
            s("server.ports[1]", Value(Int), "8001"),
            s("server.inline.user", Value(Str), "u"),
            s("server.inline.pass", Value(Str), "p#w"),
            s("server.sops", Value(Str), "nested data"),
            s("bots[0].name", Value(Str), "a"),
            s("bots[0]", Comment, " in bots[0]"),
            s("bots[1].name", Value(Str), "b"),
        ]
    );
    assert_eq!(&text[p.leaves[1].span.clone()], "'TOML'");
    assert_eq!(&text[p.leaves[2].span.clone()], "# trailing");
    assert!(p.metadata.is_empty());
    assert_eq!(p.leaves[25].path.aad(), "bots:");
    assert!(p.leaves[18].style.flow && !p.leaves[1].style.flow);
}

#[test]
fn datetimes_are_normalised_and_render_back() {
    let cases = [
        ("1979-05-27T07:32:00Z", "1979-05-27T07:32:00Z"),
        ("1979-05-27 07:32:00z", "1979-05-27T07:32:00Z"),
        ("1979-05-27T07:32:00+00:00", "1979-05-27T07:32:00Z"),
        (
            "1979-05-27T00:32:00.999999-07:00",
            "1979-05-27T00:32:00.999999-07:00",
        ),
        (
            "1979-05-27T00:32:00.500+05:30",
            "1979-05-27T00:32:00.5+05:30",
        ),
        ("1979-05-27T00:32:00.000Z", "1979-05-27T00:32:00Z"),
        ("1979-05-27T07:32Z", "1979-05-27T07:32:00Z"),
        ("1979-05-27T07:32:00", "1979-05-27T07:32:00"),
        ("1979-05-27", "1979-05-27"),
        ("07:32:00.25", "07:32:00.25"),
    ];
    for (src, want) in cases {
        let text = format!("t = {src}\n");
        let p = parse(&text);
        assert_eq!(p.leaves[0].kind, LeafKind::Value(ValueType::Time), "{src}");
        assert_eq!(p.leaves[0].value.expose(), want, "{src}");
        let r = Toml
            .render(
                &text,
                &p.leaves[0],
                &Replacement::Value(ValueType::Time, want),
            )
            .unwrap();
        assert_eq!(r, want);
        let back = parse(&format!("t = {r}\n"));
        assert_eq!(back.leaves[0].value.expose(), want);
        // Same kind: local stays local, offset stays offset.
        let kind = |s: &str| {
            s.parse::<Datetime>()
                .map(|d| (d.date.is_some(), d.time.is_some(), d.offset.is_some()))
                .unwrap()
        };
        assert_eq!(kind(src), kind(want));
    }
}

#[test]
fn renders_plain_values_back() {
    let text = "s = \"x\"\nm = \"\"\"\nx\"\"\"\narr = [\"y\"]\n# c\n";
    let p = parse(text);
    let (s, m, in_arr, comment) = (&p.leaves[0], &p.leaves[1], &p.leaves[2], &p.leaves[3]);
    let r = |l: &Leaf, w: Replacement<'_>| Toml.render(text, l, &w);
    let ok = |l: &Leaf, w: Replacement<'_>| r(l, w).unwrap();
    use Replacement::Value as V;
    assert_eq!(
        ok(s, V(ValueType::Str, "a\"b\\c\td\u{1}\u{7f}é")),
        "\"a\\\"b\\\\c\\td\\u0001\\u007Fé\""
    );
    // A string keeps the kind it was written in: a basic one stays basic.
    assert_eq!(ok(s, V(ValueType::Str, "l1\nl2\n")), "\"l1\\nl2\\n\"");
    assert_eq!(
        ok(m, V(ValueType::Str, "l1\nl2\n")),
        "\"\"\"\nl1\nl2\n\"\"\""
    );
    assert_eq!(
        ok(m, V(ValueType::Str, "q\"\n\"\"\"")),
        "\"\"\"\nq\"\n\\\"\\\"\\\"\"\"\""
    );
    assert_eq!(ok(in_arr, V(ValueType::Str, "l1\nl2")), "\"l1\\nl2\"");
    assert_eq!(ok(s, V(ValueType::Int, "255")), "255");
    assert_eq!(ok(s, V(ValueType::Int, "1\nx = 2")), "\"1\\nx = 2\"");
    assert_eq!(ok(s, V(ValueType::Float, "1.50")), "1.50");
    assert_eq!(ok(s, V(ValueType::Float, "5432")), "5432.0");
    assert_eq!(ok(s, V(ValueType::Float, ".inf")), "inf");
    assert_eq!(ok(s, V(ValueType::Float, "nan")), "nan");
    assert_eq!(ok(s, V(ValueType::Float, "abc")), "\"abc\"");
    assert_eq!(ok(s, V(ValueType::Bool, "True")), "true");
    assert_eq!(
        ok(s, V(ValueType::Time, "2024-01-02T00:00:00Z")),
        "2024-01-02T00:00:00Z"
    );
    assert_eq!(ok(s, V(ValueType::Time, "soon")), "\"soon\"");
    assert_eq!(ok(comment, Replacement::Comment(" hello")), "# hello");
    assert_eq!(ok(comment, Replacement::Encrypted(ENC)), format!("#{ENC}"));
    assert!(r(comment, Replacement::Comment("a\nb")).is_err());
    assert!(r(s, Replacement::Comment("x")).is_err());
    assert!(r(comment, V(ValueType::Str, "x")).is_err());
    let e = r(s, V(ValueType::Bool, "secretword"))
        .unwrap_err()
        .to_string();
    assert!(!e.contains("secretword"));
    // Every rendering reads back as the same type and value.
    for (ty, v) in [
        (ValueType::Str, "multi\nline \"q\" \\ ✓\r\n\t\"\""),
        (ValueType::Str, "\n"),
        (ValueType::Str, ""),
        (ValueType::Int, "-42"),
        (ValueType::Float, "-0.5e10"),
        (ValueType::Float, "inf"),
        (ValueType::Bool, "false"),
        (ValueType::Time, "1979-05-27T00:32:00.999999-07:00"),
    ] {
        for leaf in [s, m, in_arr] {
            let out = ok(leaf, V(ty, v));
            let mut sp = vec![Splice {
                range: leaf.span.clone(),
                text: out,
            }];
            let doc = apply_splices(text, &mut sp).unwrap();
            let back = parse(&doc);
            let l = back.leaves.iter().find(|l| l.path == leaf.path).unwrap();
            assert_eq!(l.kind, LeafKind::Value(ty), "{v:?}");
            assert_eq!(l.value.expose(), v, "{v:?}");
        }
    }
}

#[test]
fn cargo_like_file_encrypts_only_inside_spans() {
    let text = fixture("cargo-like.toml");
    let p = parse(&text);
    assert!(
        p.leaves
            .iter()
            .filter(|l| l.kind == LeafKind::Comment)
            .count()
            >= 10
    );
    let enc = encrypt_all(&text);
    let q = parse(&enc);
    only_spans_differ(&text, &p, &enc, &q);
    for (a, b) in p.leaves.iter().zip(&q.leaves) {
        assert_eq!(a.kind == LeafKind::Comment, b.kind == LeafKind::Comment);
        assert_eq!(b.value.expose(), ENC);
    }
    // Column alignment and trailing comments are untouched.
    assert!(
        enc.contains(&format!("version      = \"{ENC}\" #{ENC}")),
        "{enc}"
    );
    // Metadata appended, then removed: the encrypted file comes back.
    let tree = meta_tree();
    let with = with_meta(&enc, Some(&tree));
    assert!(with.starts_with(&enc));
    assert!(
        with[enc.len()..].starts_with("\n[sops]\nlastmodified = "),
        "{}",
        &with[enc.len()..]
    );
    let r = parse(&with);
    assert_eq!(r.metadata_tree(), Some(&tree));
    assert_eq!(summary(&r), summary(&q));
    assert_eq!(with_meta(&with, None), enc);
    // Decrypt: render the plain values back; canonical ones come back
    // byte for byte.
    let mut back: Vec<Splice> = q
        .leaves
        .iter()
        .zip(&p.leaves)
        .map(|(b, a)| Splice {
            range: b.span.clone(),
            text: match a.kind {
                LeafKind::Comment => Toml.render(&enc, b, &Replacement::Comment(a.value.expose())),
                LeafKind::Value(ty) => {
                    Toml.render(&enc, b, &Replacement::Value(ty, a.value.expose()))
                }
                LeafKind::Null => unreachable!(),
            }
            .unwrap(),
        })
        .collect();
    let dec = apply_splices(&enc, &mut back).unwrap();
    assert_eq!(summary(&parse(&dec)), summary(&p));
    assert_eq!(dec, fixture("cargo-like.canonical.toml"));
}

#[test]
fn metadata_block_layout_and_round_trips() {
    let tree = meta_tree();
    let out = with_meta("a = 1\n", Some(&tree));
    let want = "a = 1\n\n[sops]\nlastmodified = \"2026-11-29T16:35:46Z\"\nmac = \"ENC[AES256_GCM,data:m,iv:i,tag:t,type:str]\"\nunencrypted_suffix = \"_unencrypted\"\nversion = \"3.11.0\"\nshamir_threshold = 2\nmac_only_encrypted = true\n[[sops.age]]\nrecipient = \"age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n\"\nenc = \"\"\"\n-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBXQmhPTkNadHRDYlhuU3hr\nd2pDRzViZ1dUdWs3RzI2emN2SGI3OXRZempjCjM5RjNuY1U5eXQwQ3RwR1pONXpY\n-----END AGE ENCRYPTED FILE-----\n\"\"\"\n[[sops.age]]\nrecipient = \"age1second\"\nenc = \"\"\"\n-----BEGIN AGE ENCRYPTED FILE-----\nQUJD\n-----END AGE ENCRYPTED FILE-----\n\"\"\"\n";
    assert_eq!(out, want);
    for input in [
        "",
        "a = 1",
        "a = 1\n",
        "a = 1\n\n\n",
        "# only a comment",
        "[t]\nx = [1,\n  2]\n# end\n",
        "a = 1\r\n[t]\r\nb = 2\r\n",
        "[[x]]\n[[x]]\ny = '''\nz'''",
    ] {
        let added = with_meta(input, Some(&tree));
        let p = parse(&added);
        assert_eq!(p.metadata_tree(), Some(&tree), "{input:?}");
        assert_eq!(summary(&p), summary(&parse(input)), "{input:?}");
        assert_eq!(
            added.ends_with('\n'),
            input.is_empty() || input.ends_with('\n')
        );
        // Replacing with the same tree changes nothing; a new tree only
        // changes the block; removing gives the input back.
        assert_eq!(with_meta(&added, Some(&tree)), added, "{input:?}");
        let other = serde_json::json!({"version": "9", "age": [{"recipient": "r", "enc": "e\n"}]});
        let replaced = with_meta(&added, Some(&other));
        assert_eq!(parse(&replaced).metadata_tree(), Some(&other));
        assert_eq!(with_meta(&replaced, None), input, "{input:?}");
        assert_eq!(with_meta(&added, None), input, "{input:?}");
        if input.contains("\r\n") {
            assert!(added.contains("[sops]\r\nlastmodified"));
            assert!(!added.replace("\r\n", "").contains('\n'));
        }
    }
}

#[test]
fn metadata_in_other_shapes() {
    // A [sops] table followed by data: replaced in place, removed with
    // its trailing blank lines.
    let text = "a = 1\n[sops]\nversion = \"1\" # c\n\n[b]\nx = 2\n";
    let p = parse(text);
    assert_eq!(
        p.metadata_tree(),
        Some(&serde_json::json!({"version": "1"}))
    );
    assert_eq!(summary(&p).len(), 2); // a, b.x: the sops comment is not a leaf
    assert_eq!(with_meta(text, None), "a = 1\n[b]\nx = 2\n");
    let tree = serde_json::json!({"version": "2"});
    assert_eq!(
        with_meta(text, Some(&tree)),
        "a = 1\n[sops]\nversion = \"2\"\n\n[b]\nx = 2\n"
    );
    for bad in [
        "sops = { version = \"1\" }\n",
        "sops.version = \"1\"\n",
        "[sops]\n[a]\n[sops.x]\n",
    ] {
        assert!(
            matches!(Toml.parse(bad), Err(FormatError::Unsupported { .. })),
            "{bad}"
        );
    }
    // Only [[sops.age]] (implicit [sops]) is fine.
    let p = parse("a = 1\n[[sops.age]]\nrecipient = \"r\"\n");
    assert_eq!(
        p.metadata_tree(),
        Some(&serde_json::json!({"age": [{"recipient": "r"}]}))
    );
}

#[test]
fn rejects_bad_input_with_positions_and_no_text() {
    let cases: &[(&str, usize)] = &[
        ("a = \"secret\\q\"\n", 1),
        ("a = \"secret\n", 1),
        ("a = secret\n", 1),
        ("x = 1\n[t\nb = \"secret\"", 2),
        ("a = 1 b = \"secret\"\n", 1),
        ("a = [1,,2] # secret\n", 1),
        ("a = 0x\n", 1),
    ];
    for (text, line) in cases {
        match Toml.parse(text) {
            Err(e @ FormatError::Syntax { .. }) => {
                let FormatError::Syntax { line: l, .. } = &e else {
                    unreachable!()
                };
                assert_eq!(l, line, "{text:?}: {e}");
                assert!(!e.to_string().contains("secret"), "{e}");
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
    let dup = |text: &str| match Toml.parse(text) {
        Err(FormatError::DuplicateKey { path, line }) => (path.to_string(), line),
        other => panic!("{text:?}: {other:?}"),
    };
    assert_eq!(dup("a = 1\na = 2\n"), ("a".into(), 2));
    assert_eq!(dup("[t.u]\nx = 1\n\"x\" = 2\n"), ("t.u.x".into(), 3));
    assert_eq!(dup("[t]\nb.c = 1\nb.c = 2\n"), ("t.b.c".into(), 3));
    assert_eq!(dup("[t]\nx = 1\n[t]\n"), ("t".into(), 3));
    assert_eq!(dup("[[s]]\n[[s]]\nk = 1\nk = 2\n"), ("s[1].k".into(), 4));
}

/// sops has no TOML sample; the JSON sample's ciphertexts, laid out as
/// TOML with the same structure (a table, an inline table in an array),
/// decrypt with the paths this parser gives.
#[test]
fn sops_ciphertexts_decrypt_with_toml_paths() {
    use crate::format::json::Json;
    use crate::format::testutil::sops_decrypt;
    let json = std::fs::read_to_string(format!(
        "{}/testdata/sops/basic.enc.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let jp = Json.parse(&json).unwrap();
    let enc = |path: &str| {
        let l = jp
            .leaves
            .iter()
            .find(|l| l.path.to_string() == path)
            .unwrap();
        basic_string(l.value.expose())
    };
    let text = format!(
        "note_unencrypted = {} # c\nlist = [{}, {}, {{ k = {} }}]\n[db]\nuser = {}\npass = {}\nport = {}\nbig = {}\nratio = {}\non = {}\n",
        enc("note_unencrypted"),
        enc("list[0]"),
        enc("list[1]"),
        enc("list[2].k"),
        enc("db.user"),
        enc("db.pass"),
        enc("db.port"),
        enc("db.big"),
        enc("db.ratio"),
        enc("db.on"),
    );
    let p = parse(&text);
    let key = "951a93422fed3fa3d8f7b8c42d2ff3c716bfd6ed36dc04a43ec2a46933b27909";
    let mut plain = Vec::new();
    for l in p
        .leaves
        .iter()
        .filter(|l| l.value.expose().starts_with("ENC["))
    {
        let v = sops_decrypt(l.value.expose(), key, &l.path.aad())
            .map(|(p, _)| p)
            .unwrap_or_else(|| panic!("{} does not decrypt", l.path));
        plain.push((l.path.to_string(), v));
    }
    let want = [
        ("list[0]", "a"),
        ("list[1]", "1"),
        ("list[2].k", "v"),
        ("db.user", "admin"),
        ("db.pass", "s3cret"),
        ("db.port", "5432"),
        ("db.big", "12345678901234567000"),
        ("db.ratio", "1.5"),
        ("db.on", "False"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(plain, want);
}

#[test]
fn comment_lexer_skips_strings() {
    let text = "a = \"#x\\\"#\" # c1\nb = '#'# c2\nc = \"\"\"\n# no\n\\\"\"\"# no\n\"\"\"\"\" # c3\nd = '''\n# no\n''''' # c4\n";
    let p = parse(text);
    let comments: Vec<String> = p
        .leaves
        .iter()
        .filter(|l| l.kind == LeafKind::Comment)
        .map(|l| l.value.expose().to_owned())
        .collect();
    assert_eq!(comments, [" c1", " c2", " c3", " c4"]);
    assert_eq!(p.leaves[4].value.expose(), "# no\n\"\"\"# no\n\"\"");
}

// ---- proptest: generated documents survive parse -> splice -> parse.

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z #\"\\\\é]{0,6}".prop_map(|s| basic_string(&s)),
        "[a-z #\"]{0,6}".prop_map(|s| format!("'{s}'")),
        "[a-z #\"\n]{0,8}".prop_map(|s| multiline_string(&s, "\n")),
        (
            "[a-z #\n]{0,8}",
            prop_oneof![Just(""), Just("'"), Just("''")]
        )
            .prop_map(|(s, q)| format!("'''{s}{q}'''")),
        "-?(0|[1-9][0-9]{0,6})".prop_map(|s| s),
        Just("0xdead_beef".to_owned()),
        Just("1_000".to_owned()),
        "-?[1-9][0-9]{0,3}\\.[0-9]{1,3}(e-?[0-9])?".prop_map(|s| s),
        Just("+inf".to_owned()),
        Just("nan".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("1979-05-27T07:32:00Z".to_owned()),
        Just("1979-05-27 00:32:00.999-07:00".to_owned()),
        Just("1979-05-27".to_owned()),
        Just("07:32:00".to_owned()),
    ]
}

fn value() -> impl Strategy<Value = String> {
    scalar().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..4), any::<bool>()).prop_map(|(v, c)| {
                if c && !v.is_empty() {
                    format!("[ # open\n  {}, # last\n]", v.join(", # mid\n  "))
                } else {
                    format!("[{}]", v.join(", "))
                }
            }),
            prop::collection::vec(("[a-z]{1,3}", inner), 0..4).prop_map(|kv| {
                let mut seen = std::collections::HashSet::new();
                let parts: Vec<String> = kv
                    .into_iter()
                    .filter(|(k, _)| seen.insert(k.clone()))
                    .map(|(k, v)| format!("k{k} = {v}"))
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }),
        ]
    })
}

pub(super) fn body() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            "[a-z]{1,3}",
            value(),
            prop_oneof![Just(""), Just(" # t"), Just("   #"), Just("\n# own")],
            prop_oneof![Just(" = "), Just("     = "), Just("=")],
        ),
        0..5,
    )
    .prop_map(|kv| {
        let mut seen = std::collections::HashSet::new();
        kv.into_iter()
            .filter(|(k, ..)| seen.insert(k.clone()))
            .map(|(k, v, c, eq)| format!("k{k}{eq}{v}{c}\n"))
            .collect()
    })
}

proptest! {
    #[test]
    fn generated_documents_round_trip(
        root in body(),
        tables in prop::collection::vec((prop_oneof![Just("[t{}]"), Just("[[arr]]"), Just("[x.y{}] # h")], body()), 0..4),
        crlf in any::<bool>(),
    ) {
        let mut text = root;
        for (i, (header, b)) in tables.iter().enumerate() {
            text.push_str(&header.replace("{}", &i.to_string()));
            text.push('\n');
            text.push_str(b);
        }
        if crlf {
            text = text.replace('\n', "\r\n");
        }
        let p = Toml.parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        // Values agree with toml_edit's own reading (spans hold them).
        for l in &p.leaves {
            if l.kind == LeafKind::Comment {
                prop_assert!(text[l.span.clone()].starts_with('#'));
                prop_assert!(!text[l.span.clone()].contains(['\n', '\r']));
            }
        }
        let enc = encrypt_all(&text);
        let q = Toml.parse(&enc).map_err(|e| TestCaseError::fail(format!("{e}\n{enc}")))?;
        only_spans_differ(&text, &p, &enc, &q);
        for (a, b) in p.leaves.iter().zip(&q.leaves) {
            prop_assert_eq!(&a.path, &b.path);
            prop_assert_eq!(a.kind == LeafKind::Comment, b.kind == LeafKind::Comment);
            prop_assert_eq!(b.value.expose(), ENC);
        }
        // Decrypt by rendering the plain values: same leaves again.
        let mut back: Vec<Splice> = q.leaves.iter().zip(&p.leaves).map(|(b, a)| Splice {
            range: b.span.clone(),
            text: match a.kind {
                LeafKind::Comment => Toml.render(&enc, b, &Replacement::Comment(a.value.expose())),
                LeafKind::Value(ty) => Toml.render(&enc, b, &Replacement::Value(ty, a.value.expose())),
                LeafKind::Null => unreachable!(),
            }.unwrap(),
        }).collect();
        let dec = apply_splices(&enc, &mut back).unwrap();
        let d = Toml.parse(&dec).map_err(|e| TestCaseError::fail(format!("{e}\n{dec}")))?;
        prop_assert_eq!(summary(&d), summary(&p));
        // Metadata append / remove.
        let tree = meta_tree();
        let added = with_meta(&enc, Some(&tree));
        let r = Toml.parse(&added).unwrap();
        prop_assert_eq!(r.metadata_tree(), Some(&tree));
        prop_assert_eq!(summary(&r), summary(&q));
        prop_assert_eq!(with_meta(&added, None), enc);
    }

    #[test]
    fn arbitrary_input_never_panics(s in "[\\[\\]{}\"'#=a-z0-9 .,\n\r\t\\\\:é😀\u{1}-]{0,40}") {
        if let Ok(p) = Toml.parse(&s) {
            for l in &p.leaves {
                let _ = Toml.render(&s, l, &Replacement::Encrypted(ENC));
            }
            let _ = Toml.metadata_splices(&s, &p, None);
        }
    }
}

#[test]
fn every_string_kind_is_kept_when_it_can_hold_the_value() {
    let text = "b = \"x\"\nl = 'x'\nm = \"\"\"\nx\"\"\"\nn = \"\"\"x\"\"\"\nml = '''\nx'''\nmn = '''x'''\n";
    let p = parse(text);
    let values = [
        "plain",
        "it's",
        "C:\\path\\n",
        "two\nlines\n",
        "\nleading break",
        "crlf\r\nline",
        "lone\rcr",
        "tab\tand \"quotes\" \"\"\"",
        "'''",
        "ends with '",
        "ends with \"",
        "ctl\u{1}",
        "",
    ];
    for leaf in &p.leaves {
        let src = &text[leaf.span.clone()];
        let kind = StrKind::of(src).unwrap();
        for v in values {
            let out = Toml
                .render(text, leaf, &Replacement::Value(ValueType::Str, v))
                .unwrap();
            // Kept when the kind can hold the value (a value starting with
            // a line break gets the trimmed one after the quotes).
            let got = StrKind::of(&out).unwrap();
            let literal_cannot = v.contains(['\'', '\u{1}'])
                || v.contains("lone\r")
                || (kind == StrKind::Literal && v.contains(['\n', '\r']));
            let holds =
                !matches!(kind, StrKind::Literal | StrKind::MultiLiteral { .. }) || !literal_cannot;
            let lead = |k: StrKind| match k {
                StrKind::MultiBasic { .. } => StrKind::MultiBasic { lead: true },
                StrKind::MultiLiteral { .. } => StrKind::MultiLiteral { lead: true },
                k => k,
            };
            if holds {
                let want = if v.starts_with('\n') {
                    lead(kind)
                } else {
                    kind
                };
                assert_eq!(got, want, "{src} {v:?} -> {out}");
            }
            let mut sp = vec![Splice {
                range: leaf.span.clone(),
                text: out.clone(),
            }];
            let doc = apply_splices(text, &mut sp).unwrap();
            let back = parse(&doc);
            let l = back.leaves.iter().find(|l| l.path == leaf.path).unwrap();
            assert_eq!(l.value.expose(), v, "{src} {v:?} -> {out}");
        }
        // An ENC[...] value keeps the kind exactly.
        let enc = Toml
            .render(text, leaf, &Replacement::Encrypted(ENC))
            .unwrap();
        assert_eq!(StrKind::of(&enc), Some(kind), "{enc}");
    }
}
