//! Tests of the YAML format (parse, render, metadata, aliases, errors).

use super::*;
use crate::format::{apply_splices, LeafStyle};
use crate::path::KeyPath;

const ENC: &str = "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]";

fn parse(text: &str) -> ParsedFile {
    Yaml.parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn p(s: &str) -> KeyPath {
    KeyPath::parse(s).unwrap()
}

/// (dotted path, kind, value) of every leaf.
fn dump(parsed: &ParsedFile) -> Vec<(String, LeafKind, String)> {
    parsed
        .leaves
        .iter()
        .map(|l| (l.path.to_string(), l.kind, l.value.expose().to_owned()))
        .collect()
}

fn shape(parsed: &ParsedFile) -> Vec<(KeyPath, LeafKind, usize)> {
    parsed
        .leaves
        .iter()
        .map(|l| {
            let kind = match l.kind {
                LeafKind::Value(_) => LeafKind::Value(ValueType::Str),
                k => k,
            };
            (l.path.clone(), kind, l.document as usize)
        })
        .collect()
}

/// Replaces every leaf that may hold ciphertext with `ENC`; returns the new
/// text and checks that everything outside the spans is unchanged.
fn encrypt_all(text: &str) -> String {
    let parsed = parse(text);
    let mut splices: Vec<Splice> = parsed
        .leaves
        .iter()
        .filter(|l| l.kind != LeafKind::Null)
        .map(|l| Splice {
            range: l.span.clone(),
            text: Yaml.render(text, l, &Replacement::Encrypted(ENC)).unwrap(),
        })
        .collect();
    let out = apply_splices(text, &mut splices).unwrap();
    // Outside the spans, byte for byte.
    let mut at_in = 0;
    let mut at_out = 0;
    for s in &splices {
        let gap = &text[at_in..s.range.start];
        assert_eq!(&out[at_out..at_out + gap.len()], gap);
        at_out += gap.len() + s.text.len();
        at_in = s.range.end;
    }
    assert_eq!(&out[at_out..], &text[at_in..]);
    out
}

// ---------------------------------------------------------------- sops samples

#[test]
fn parses_the_sops_plaintext_sample() {
    let parsed = parse(&fixture("sops/basic.yaml"));
    let s = |x: &str| x.to_owned();
    use LeafKind::*;
    use ValueType::*;
    assert_eq!(
        dump(&parsed),
        vec![
            (s("(root)"), Comment, s(" top-level comment")),
            (s("app.name"), Value(Str), s("demo")),
            (s("app"), Comment, s(" inline comment")),
            (s("app.port"), Value(Int), s("8080")),
            (s("app.ratio"), Value(Float), s("0.5")),
            (s("app.debug"), Value(Bool), s("true")),
            (s("app.empty"), Value(Str), s("")),
            (s("app.nothing"), Null, s("")),
            (s("app.when"), Value(Time), s("2024-01-02T00:00:00Z")),
            (s("app.list[0]"), Value(Str), s("alpha")),
            (s("app.list[1]"), Value(Int), s("2")),
            (s("app.password_unencrypted"), Value(Str), s("visible")),
            (s("multi"), Value(Str), s("line1\nline2\n")),
        ]
    );
    let text = fixture("sops/basic.yaml");
    let multi = parsed.leaves.last().unwrap();
    assert_eq!(&text[multi.span.clone()], "|\n  line1\n  line2");
    assert_eq!(
        multi.style,
        LeafStyle {
            flow: false,
            indent: 0,
            block: true,
            empty_list: false,
        }
    );
    assert!(parsed.metadata.is_empty());
    assert_eq!(parsed.documents, 1);
}

#[test]
fn parses_the_sops_encrypted_sample_and_its_metadata() {
    let text = fixture("sops/basic.enc.yaml");
    let parsed = parse(&text);
    let paths: Vec<String> = parsed.leaves.iter().map(|l| l.path.to_string()).collect();
    assert_eq!(
        paths,
        [
            "(root)",
            "app",
            "app.name",
            "app.port",
            "app.ratio",
            "app.debug",
            "app.empty",
            "app.nothing",
            "app.when",
            "app.list[0]",
            "app.list[1]",
            "app.password_unencrypted",
            "multi"
        ]
    );
    assert_eq!(parsed.metadata.len(), 1);
    let m = &parsed.metadata[0];
    assert_eq!(&text[m.span.clone()], &text[text.find("sops:").unwrap()..]);
    let tree = &m.tree;
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
    assert_eq!(tree["lastmodified"], "2026-11-29T16:35:46Z");
    assert_eq!(tree["version"], "3.11.0");
    assert_eq!(
        tree["age"][0]["recipient"],
        "age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n"
    );
    let enc = tree["age"][0]["enc"].as_str().unwrap();
    assert!(enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\nYWdl"));
    assert!(enc.ends_with("-----END AGE ENCRYPTED FILE-----\n"));
}

/// Opens a sops value with a hex data key (the shared test helper, built
/// on the crypto layer).
fn sops_decrypt(key_hex: &str, enc: &str, aad: &str) -> Option<String> {
    crate::format::testutil::sops_decrypt(enc, key_hex, aad).map(|(plain, _)| plain)
}

fn check_all_decrypt(file: &str, key: &str) -> usize {
    let text = fixture(file);
    let parsed = parse(&text);
    let mut n = 0;
    for l in &parsed.leaves {
        if l.value.expose().starts_with("ENC[") {
            let aad = l.path.aad();
            assert!(
                sops_decrypt(key, l.value.expose(), &aad).is_some(),
                "{} does not decrypt with AAD {aad}",
                l.path
            );
            n += 1;
        }
    }
    n
}

#[test]
fn every_sops_ciphertext_decrypts_with_our_paths() {
    let n = check_all_decrypt(
        "sops/basic.enc.yaml",
        "968e8b0906a80e2c60176086fe58ac7134fdd3e3d637ab5d860cef119e31d956",
    );
    assert_eq!(n, 10);
    let n = check_all_decrypt(
        "sops/multidoc.enc.yaml",
        "a94fc6e1c77ca34c110247dcec03a8540d33837a7cec5c4b5b1e8fc7e260e76a",
    );
    assert_eq!(n, 2);
    // The comments decrypt to the plaintext sample's comments.
    let text = fixture("sops/basic.enc.yaml");
    let parsed = parse(&text);
    let c: Vec<String> = parsed
        .leaves
        .iter()
        .filter(|l| l.kind == LeafKind::Comment)
        .map(|l| {
            sops_decrypt(
                "968e8b0906a80e2c60176086fe58ac7134fdd3e3d637ab5d860cef119e31d956",
                l.value.expose(),
                &l.path.aad(),
            )
            .unwrap()
        })
        .collect();
    assert_eq!(c, [" top-level comment", " inline comment"]);
}

#[test]
fn multidoc_sample_has_a_block_per_document() {
    let text = fixture("sops/multidoc.enc.yaml");
    let parsed = parse(&text);
    assert_eq!(parsed.documents, 2);
    assert_eq!(parsed.metadata.len(), 2);
    assert_eq!(parsed.metadata[0].tree, parsed.metadata[1].tree);
    let docs: Vec<(String, usize)> = parsed
        .leaves
        .iter()
        .map(|l| (l.path.to_string(), l.document as usize))
        .collect();
    assert_eq!(docs, [("a".to_owned(), 0), ("b".to_owned(), 1)]);
    // The first block ends right before the `---` line.
    let first = &parsed.metadata[0].span;
    assert!(text[first.end..].starts_with("---\n"));
}

/// sops (3.11) writes comments inside lists as `- ENC[...,type:comment]`
/// items; this file was made by `sops encrypt` from `comments.yaml`.
#[test]
fn sops_list_comments_are_comment_leaves() {
    let text = fixture("yaml/comments.enc.yaml");
    let plain = parse(&fixture("yaml/comments.yaml"));
    let parsed = parse(&text);
    let kinds = |p: &ParsedFile| -> Vec<(String, LeafKind)> {
        p.leaves
            .iter()
            .filter(|l| l.kind != LeafKind::Comment)
            .map(|l| (l.path.to_string(), l.kind))
            .collect()
    };
    // Same value paths (list indices unaffected by the comment items).
    let a: Vec<String> = kinds(&plain).into_iter().map(|x| x.0).collect();
    let b: Vec<String> = kinds(&parsed).into_iter().map(|x| x.0).collect();
    assert_eq!(a, b);
    // The comment AADs: what sops used (decrypting proves it).
    let n = check_all_decrypt(
        "yaml/comments.enc.yaml",
        "94676e437fcf263bd3daa938d383b7eac1f18bbc696ab98734ba3caff4453955",
    );
    assert_eq!(n, 18);
    let comments: Vec<String> = parsed
        .leaves
        .iter()
        .filter(|l| l.kind == LeafKind::Comment)
        .map(|l| l.path.aad())
        .collect();
    let plain_comments: Vec<String> = plain
        .leaves
        .iter()
        .filter(|l| l.kind == LeafKind::Comment)
        .map(|l| l.path.aad())
        .collect();
    assert_eq!(comments, plain_comments);
    // Rendering a decrypted list comment gives a comment line.
    let item = parsed
        .leaves
        .iter()
        .find(|l| l.kind == LeafKind::Comment && text[l.span.clone()].starts_with("- "))
        .unwrap();
    assert_eq!(
        Yaml.render(&text, item, &Replacement::Comment(" c"))
            .unwrap(),
        "# c"
    );
}

const FIXTURES: [&str; 8] = [
    "sops/basic.yaml",
    "sops/basic.enc.yaml",
    "sops/multidoc.yaml",
    "sops/multidoc.enc.yaml",
    "yaml/rich.yaml",
    "yaml/comments.yaml",
    "yaml/crlf.yaml",
    "yaml/comments-only.yaml",
];

#[test]
fn rich_fixture_paths_kinds_and_spans() {
    let text = fixture("yaml/rich.yaml");
    let parsed = parse(&text);
    let find = |path: &str| {
        parsed
            .leaves
            .iter()
            .find(|l| l.path == p(path) && l.kind != LeafKind::Comment)
            .unwrap_or_else(|| panic!("{path}"))
    };
    let span = |path: &str| &text[find(path).span.clone()];
    let val = |path: &str| find(path).value.expose().to_owned();
    assert_eq!(parsed.documents, 2);
    assert_eq!(val(r#"app["a b"]"#), "1");
    assert_eq!(val("app.ключ"), "значение");
    assert_eq!(val("app.tab"), "a\tb");
    assert_eq!(find("app.empty_null").kind, LeafKind::Null);
    assert_eq!(span("app.empty_null"), "");
    assert_eq!(find("app.tilde").kind, LeafKind::Null);
    assert_eq!(val("app.hex"), "31");
    assert_eq!(find("app.big").kind, LeafKind::Value(ValueType::Float));
    assert_eq!(val("app.flt"), "1.50");
    assert_eq!(find("app.yes_str").kind, LeafKind::Value(ValueType::Str));
    assert_eq!(val("app.date"), "2024-01-02T00:00:00Z");
    assert_eq!(val("app.stamp"), "2024-01-02T10:00:00Z");
    assert_eq!(val("app.long"), "this is a long plain scalar folded");
    assert_eq!(span("app.lit"), "|\n    line1\n      indented\n    line3");
    assert_eq!(val("app.lit"), "line1\n  indented\nline3\n");
    assert_eq!(val("app.folded"), "f1 f2");
    assert_eq!(val("app.keep"), "kept\n\n");
    assert_eq!(span("app.ind"), "|2\n     lead\n    rest");
    assert_eq!(val("app.ind"), " lead\nrest\n");
    assert!(find("app.flow.y[1]").style.flow);
    assert_eq!(span("app.flow.y[1]"), "\"b c\"");
    assert_eq!(val("app.seq[0].token"), "y");
    assert_eq!(val("app.seq[1][0]"), "nested");
    assert_eq!(find("app.seq[2]").kind, LeafKind::Value(ValueType::Str));
    assert_eq!(span("app.seq[2]"), "42");
    assert_eq!(find("app.tagged").kind, LeafKind::Value(ValueType::Int));
    assert_eq!(span("app.tagged"), "!!int \"7\"");
    assert_eq!(span("app.bin"), "aGVsbG8=");
    assert_eq!(val("app.bin"), "aGVsbG8=");
    assert_eq!(val("second"), "doc");
    assert_eq!(find("second").document, 1);
    assert_eq!(find("app.seq[0].name").style.indent, 4);
    assert_eq!(find("app.seq[2]").style.indent, 2);
    // Comments: the collection they are in.
    let comments: Vec<(String, String)> = parsed
        .leaves
        .iter()
        .filter(|l| l.kind == LeafKind::Comment)
        .map(|l| (l.path.to_string(), text[l.span.clone()].to_owned()))
        .collect();
    let c = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        comments,
        [
            c("(root)", "# head comment"),
            c("app", "# inline"),
            c("app", "# between keys"),
            c("app.flow", "# after flow"),
            c("(root)", "# only comment in doc 2"),
        ]
    );
    // Aliases.
    assert_eq!(parsed.aliases.len(), 2);
    let a = &parsed.aliases[0];
    assert_eq!(a.path, p("app.seq[3]"));
    assert_eq!(a.target_path, p("app.seq[2]"));
    assert_eq!(&text[a.span.clone()], "*anc");
    assert_eq!(parsed.leaves[a.target.clone()][0].path, p("app.seq[2]"));
    assert_eq!(a.position, a.target.end);
    let m = &parsed.aliases[1];
    assert_eq!(m.path, p("merged.<<"));
    assert_eq!(m.target_path, p("base"));
    let targets: Vec<String> = parsed.leaves[m.target.clone()]
        .iter()
        .map(|l| l.path.to_string())
        .collect();
    assert_eq!(targets, ["base.k1", "base.k2[0]", "base.k2[1]"]);
    let in_order: Vec<String> = parsed
        .values_in_order()
        .into_iter()
        .map(|(p, _)| p.to_string())
        .filter(|p| p.starts_with("merged"))
        .collect();
    assert_eq!(
        in_order,
        [
            "merged.<<.k1",
            "merged.<<.k2[0]",
            "merged.<<.k2[1]",
            "merged.k3"
        ]
    );
}

#[test]
fn splice_round_trip_on_every_fixture() {
    for f in FIXTURES {
        let text = fixture(f);
        let before = parse(&text);
        let out = encrypt_all(&text);
        let after = parse(&out);
        assert_eq!(shape(&before), shape(&after), "{f}");
        for l in &after.leaves {
            match l.kind {
                LeafKind::Null => {}
                LeafKind::Comment => assert_eq!(l.value.expose(), ENC, "{f}"),
                _ => {
                    assert_eq!(l.kind, LeafKind::Value(ValueType::Str), "{f}");
                    assert_eq!(l.value.expose(), ENC, "{f}");
                }
            }
        }
        assert_eq!(before.metadata.len(), after.metadata.len());
        for (a, b) in before.metadata.iter().zip(&after.metadata) {
            assert_eq!(a.tree, b.tree);
        }
    }
}

#[test]
fn encrypted_values_are_plain_in_block_and_quoted_in_flow() {
    let text = "a: x\nb: [y, z]\nc: {d: e}\n# c\n";
    let out = encrypt_all(text);
    assert_eq!(
        out,
        format!("a: {ENC}\nb: [\"{ENC}\", \"{ENC}\"]\nc: {{d: \"{ENC}\"}}\n#{ENC}\n")
    );
}

/// Decrypt direction: every leaf of the encrypted text gets its plaintext
/// back in canonical style; the result reads as the original values.
#[test]
fn render_plaintext_values_back() {
    for f in FIXTURES {
        let text = fixture(f);
        let orig = parse(&text);
        let enc = encrypt_all(&text);
        let parsed = parse(&enc);
        let mut splices: Vec<Splice> = Vec::new();
        for (l, o) in parsed.leaves.iter().zip(&orig.leaves) {
            let with = match o.kind {
                LeafKind::Null => continue,
                LeafKind::Comment => Replacement::Comment(o.value.expose()),
                LeafKind::Value(ty) => Replacement::Value(ty, o.value.expose()),
            };
            splices.push(Splice {
                range: l.span.clone(),
                text: Yaml.render(&enc, l, &with).unwrap(),
            });
        }
        let dec = apply_splices(&enc, &mut splices).unwrap();
        let back = parse(&dec);
        assert_eq!(dump(&back), dump(&orig), "{f}\n{dec}");
    }
}

#[test]
fn canonical_rendering_of_values() {
    let text = "k: v\nf: [v]\nl:\n  - v\n";
    let parsed = parse(text);
    let block = &parsed.leaves[0];
    let flow = &parsed.leaves[1];
    let item = &parsed.leaves[2];
    let r = |l: &Leaf, ty, v| Yaml.render(text, l, &Replacement::Value(ty, v)).unwrap();
    use ValueType::*;
    assert_eq!(r(block, Str, "hello world"), "hello world");
    assert_eq!(r(block, Str, "null"), "\"null\"");
    assert_eq!(r(block, Str, "yes"), "\"yes\"");
    assert_eq!(r(block, Str, "0x10"), "\"0x10\"");
    assert_eq!(r(block, Str, "2024-01-01"), "\"2024-01-01\"");
    assert_eq!(r(block, Str, "a: b"), "\"a: b\"");
    assert_eq!(r(block, Str, "a #b"), "\"a #b\"");
    assert_eq!(r(block, Str, "- x"), "\"- x\"");
    assert_eq!(r(block, Str, ""), "\"\"");
    assert_eq!(r(block, Str, " lead"), "\" lead\"");
    assert_eq!(r(block, Str, "ENC[a,b]"), "ENC[a,b]");
    assert_eq!(r(flow, Str, "ENC[a,b]"), "\"ENC[a,b]\"");
    assert_eq!(r(block, Str, "l1\nl2\n"), "|\n  l1\n  l2");
    assert_eq!(r(block, Str, "l1\nl2"), "|-\n  l1\n  l2");
    assert_eq!(r(block, Str, "l1\n\n"), "|+\n  l1\n");
    assert_eq!(r(block, Str, " l1\nl2\n"), "|2\n   l1\n  l2");
    assert_eq!(r(item, Str, "l1\nl2\n"), "|\n    l1\n    l2");
    assert_eq!(r(flow, Str, "l1\nl2\n"), "\"l1\\nl2\\n\"");
    assert_eq!(r(block, Str, "a\r\nb"), "\"a\\r\\nb\"");
    assert_eq!(r(block, Int, "31"), "31");
    assert_eq!(r(block, Float, "1.5"), "1.5");
    assert_eq!(r(block, Float, "1000"), "1000.0");
    assert_eq!(r(block, Float, "+Inf"), ".inf");
    assert_eq!(r(block, Float, "NaN"), ".nan");
    assert_eq!(r(block, Bool, "True"), "true");
    // Midnight UTC is how a date alone is stored: it comes back as one.
    assert_eq!(r(block, Time, "2024-01-02T00:00:00Z"), "2024-01-02");
    assert_eq!(
        r(block, Time, "2024-01-02T10:00:00Z"),
        "2024-01-02T10:00:00Z"
    );
    assert!(Yaml
        .render(text, block, &Replacement::Value(Int, "x"))
        .is_err());
    assert_eq!(
        Yaml.render(text, block, &Replacement::Encrypted(ENC))
            .unwrap(),
        ENC
    );
    // A null written into `key:` gets its separating space.
    let t2 = "k:\n";
    let l = &parse(t2).leaves[0];
    assert_eq!(
        Yaml.render(t2, l, &Replacement::Encrypted(ENC)).unwrap(),
        format!(" {ENC}")
    );
}

#[test]
fn block_rendering_respects_what_follows() {
    // A comment after the value on its line: no block scalar.
    let text = "k: v # c\nz: 1\n";
    let l = &parse(text).leaves[0];
    let out = Yaml
        .render(text, l, &Replacement::Value(ValueType::Str, "a\nb\n"))
        .unwrap();
    assert_eq!(out, "\"a\\nb\\n\"");
    // `|+` before a blank line would swallow it.
    let text = "k: v\n\nz: 1\n";
    let l = &parse(text).leaves[0];
    let out = Yaml
        .render(text, l, &Replacement::Value(ValueType::Str, "a\n\n"))
        .unwrap();
    assert_eq!(out, "\"a\\n\\n\"");
    // At the end of the input the block brings its own line break.
    let text = "k: v";
    let l = &parse(text).leaves[0];
    let out = Yaml
        .render(text, l, &Replacement::Value(ValueType::Str, "a\nb\n"))
        .unwrap();
    assert_eq!(out, "|\n  a\n  b\n");
    // Four-space files indent by four; CRLF files get CRLF.
    let text = "top:\r\n    k: v\r\n";
    let l = &parse(text).leaves[0];
    let out = Yaml
        .render(text, l, &Replacement::Value(ValueType::Str, "a\nb\n"))
        .unwrap();
    assert_eq!(out, "|\r\n        a\r\n        b");
    let mut s = vec![Splice {
        range: l.span.clone(),
        text: out,
    }];
    let dec = apply_splices(text, &mut s).unwrap();
    assert_eq!(parse(&dec).leaves[0].value.expose(), "a\nb\n");
}

// -------------------------------------------------------------- metadata

fn sops_tree() -> serde_json::Value {
    parse(&fixture("sops/basic.enc.yaml")).metadata[0]
        .tree
        .clone()
}

fn apply(text: &str, tree: Option<&serde_json::Value>) -> String {
    let parsed = parse(text);
    let mut s = Yaml.metadata_splices(text, &parsed, tree).unwrap();
    apply_splices(text, &mut s).unwrap()
}

#[test]
fn metadata_block_matches_sops_bytes() {
    let text = fixture("sops/basic.enc.yaml");
    let start = text.find("sops:").unwrap();
    let stripped = apply(&text, None);
    assert_eq!(stripped, &text[..start]);
    assert!(parse(&stripped).metadata.is_empty());
    // Appending the same tree to the 4-space file gives sops' exact bytes.
    assert_eq!(apply(&stripped, Some(&sops_tree())), text);
    // Replacing in place is a no-op.
    assert_eq!(apply(&text, Some(&sops_tree())), text);
}

#[test]
fn metadata_append_replace_remove_round_trips() {
    let tree = sops_tree();
    let mut with_extra = tree.clone();
    with_extra["shamir_threshold"] = serde_json::json!(2);
    with_extra["mac_only_encrypted"] = serde_json::json!(true);
    with_extra["weird"] = serde_json::json!({"a: b": "x #y", "e": [], "m": {}, "n": null,
        "multi": " lead\nx", "list": ["s", 1, {"k": "v", "k2": "true"}, ["n"]]});
    for t in [&tree, &with_extra] {
        for text in [
            "a: 1\n",
            "a: 1",
            "a: 1\nsops:\n    version: old\nb: 2\n",
            "a:\n  b: 1\n---\nc: 2\n...\n",
            "a: 1\r\nb: |\r\n  x\r\n",
            "# only comments\n",
            "",
            "a:\n  - |\n    keep\n\n",
        ] {
            let out = apply(text, Some(t));
            let parsed = parse(&out);
            assert!(!parsed.metadata.is_empty(), "{text:?}");
            for m in &parsed.metadata {
                assert_eq!(&m.tree, t, "{text:?}\n{out}");
            }
            // Data unchanged.
            let before = parse(text);
            assert_eq!(dump(&before), dump(&parsed), "{out}");
            if text.contains("\r\n") {
                assert!(!out.replace("\r\n", "").contains('\n'), "{out:?}");
            }
            // Removal gives the data back.
            let removed = apply(&out, None);
            assert!(parse(&removed).metadata.is_empty());
            assert_eq!(dump(&parse(&removed)), dump(&before));
        }
    }
    // Replacing a block that is not last keeps the following keys.
    let out = apply(
        "a: 1\nsops:\n    version: old\nb: 2\n",
        Some(&serde_json::json!({"version": "3.11.0"})),
    );
    assert_eq!(out, "a: 1\nsops:\n    version: 3.11.0\nb: 2\n");
    // Two-space files nest by two; multi-doc streams get a block each,
    // before the `...` marker.
    let out = apply(
        "a:\n  b: 1\n...\n---\nc: 2\n",
        Some(&serde_json::json!({"x": {"w": "z"}})),
    );
    assert_eq!(
        out,
        "a:\n  b: 1\nsops:\n  x:\n    w: z\n...\n---\nc: 2\nsops:\n  x:\n    w: z\n"
    );
}

// ----------------------------------------------------------------- errors

fn err(text: &str) -> FormatError {
    Yaml.parse(text).unwrap_err()
}

#[test]
fn bad_input_errors_name_positions_not_values() {
    let secret = "hunter2SECRET";
    let cases = [
        format!("a: 1\nb: \"{secret}\n"),
        format!("a: 1\nb: [{secret}\n"),
        format!("a: 1\n  b: {secret}\n"),
        format!("a: 1\nb: {secret}: x\n"),
        format!("a: 1\n\tb: {secret}\n"),
        format!("a: 1\nb: *{secret}\n"),
        format!("a: 1\nb: {secret}\n@x\n"),
    ];
    for text in &cases {
        let e = err(text);
        let msg = e.to_string();
        assert!(!msg.contains(secret) && !msg.contains("hunter"), "{msg}");
        match e {
            FormatError::Syntax { line, .. } | FormatError::Unsupported { line, .. } => {
                assert!((1..=3).contains(&line), "{msg}")
            }
            other => panic!("{other:?}"),
        }
    }
    match err("a: 1\nb: 2\na: 3\n") {
        FormatError::DuplicateKey { path, line } => {
            assert_eq!(path, p("a"));
            assert_eq!(line, 3);
        }
        other => panic!("{other:?}"),
    }
    match err("x:\n  y: 1\n  y: 2\n") {
        FormatError::DuplicateKey { path, line } => {
            assert_eq!(path, p("x.y"));
            assert_eq!(line, 3);
        }
        other => panic!("{other:?}"),
    }
    for (text, line) in [
        ("- a\n- b\n", 1),
        ("a: 1\n---\njust a scalar\n", 3),
        ("a: 1\n? [x]\n: y\n", 2),
        ("a: 1\nb: | # c\n  x\n", 2),
    ] {
        match err(text) {
            FormatError::Unsupported { line: l, .. } => assert_eq!(l, line, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    // Empty documents and comment-only files are fine.
    assert_eq!(parse("").leaves.len(), 0);
    assert_eq!(parse("---\n...\n").leaves.len(), 0);
    assert_eq!(parse("# c\n").leaves[0].path, KeyPath::root());
}

// ----------------------------------------------------------------- aliases

fn same_values(a: &str, b: &str) {
    let (pa, pb) = (parse(a), parse(b));
    let va: Vec<(KeyPath, LeafKind, String)> = pa
        .values_in_order()
        .into_iter()
        .map(|(p, i)| {
            (
                p.into_owned(),
                pa.leaves[i].kind,
                pa.leaves[i].value.expose().to_owned(),
            )
        })
        .collect();
    let vb: Vec<(KeyPath, LeafKind, String)> = pb
        .values_in_order()
        .into_iter()
        .map(|(p, i)| {
            (
                p.into_owned(),
                pb.leaves[i].kind,
                pb.leaves[i].value.expose().to_owned(),
            )
        })
        .collect();
    assert_eq!(va, vb, "\n{b}");
}

#[test]
fn expand_aliases_keeps_the_data() {
    let text = fixture("yaml/rich.yaml");
    let out = expand_aliases(&text).unwrap();
    assert!(out.contains("- &anc !!str 42\n  - \"42\"\n"), "{out}");
    assert!(out.contains("<<: {k1: v1, k2: [1, 2]}"), "{out}");
    assert!(parse(&out).aliases.is_empty());
    same_values(&text, &out);
    let text = "a: &a {x: \"q, r\", y: [1, 2.5, null, true, 2024-01-02], z: &n {w: ~}}\nb: *a\nc: [*n, *a]\nd: &s \"x: y\"\ne: *s\n";
    let out = expand_aliases(text).unwrap();
    same_values(text, &out);
    // Exponential expansion is refused.
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    assert!(expand_aliases(&bomb).is_err());
}

// --------------------------------------------------------------- proptests

mod props {
    use super::*;
    use proptest::prelude::*;

    fn hostile_string() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[ -~\t\n\r]{0,12}",
            prop::sample::select(vec![
                ": ",
                "#",
                "a #b",
                "'",
                "\"",
                "- x",
                "null",
                "~",
                "0x10",
                "2024-01-01",
                "yes",
                "1e3",
                ".inf",
                "\t",
                "\r\n",
                "",
                "\n",
                "\n\n",
                " lead",
                "trail ",
                "é✓",
                "a\nb",
                " a\n b\n",
                "a\n\n",
                "---",
                "...",
                "*x",
                "&y",
                "!t",
                "%",
                "@",
                "`",
                "[a]",
                "{a: b}",
                "a,b",
                "\u{feff}",
                "\u{85}",
                "\u{2028}",
                "x:",
                "-",
                "?",
                "<<",
                "=",
                "a\tb",
                "|",
                ">",
                "\\",
            ])
            .prop_map(str::to_owned),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn rendered_strings_read_back(s in hostile_string()) {
            let text = "k: v\nl:\n  - v\nf: {a: v}\n";
            let parsed = parse(text);
            for leaf in &parsed.leaves {
                let out = Yaml.render(text, leaf, &Replacement::Value(ValueType::Str, &s)).unwrap();
                let mut sp = vec![Splice { range: leaf.span.clone(), text: out.clone() }];
                let new = apply_splices(text, &mut sp).unwrap();
                let back = Yaml.parse(&new).unwrap();
                let l = back.leaves.iter().find(|l| l.path == leaf.path).unwrap();
                prop_assert_eq!(l.kind, LeafKind::Value(ValueType::Str), "{:?}", new);
                prop_assert_eq!(l.value.expose(), s.as_str(), "{:?}", new);
                prop_assert_eq!(shape(&back), shape(&parsed));
            }
        }

        #[test]
        fn never_panics_on_arbitrary_input(s in "[ -~\t\n\r\u{e9}]{0,80}") {
            if let Ok(p) = Yaml.parse(&s) {
                for l in &p.leaves {
                    prop_assert!(l.span.end <= s.len());
                    let _ = Yaml.render(&s, l, &Replacement::Encrypted(ENC));
                }
                let _ = Yaml.metadata_splices(&s, &p, None);
                let _ = expand_aliases(&s);
            }
        }

        #[test]
        fn generated_documents_survive_splicing(doc in document()) {
            let before = Yaml.parse(&doc).unwrap();
            let out = encrypt_all(&doc);
            let after = Yaml.parse(&out).unwrap();
            prop_assert_eq!(shape(&before), shape(&after));
        }
    }

    /// Block-style documents of scalars in every style, nested maps, lists,
    /// flow collections and comments.
    fn document() -> impl Strategy<Value = String> {
        let scalar = prop_oneof![
            "[a-z][a-z0-9 ]{0,8}[a-z0-9]".prop_map(|s| s),
            hostile_string().prop_map(|s| emit::double_quoted(&s)),
            "[a-z ]{0,6}".prop_map(|s| format!("'{s}'")),
            prop::sample::select(vec![
                "1",
                "-2",
                "0x1F",
                "1.5",
                "true",
                "null",
                "~",
                "2024-01-02",
                ""
            ])
            .prop_map(str::to_owned),
        ];
        let block = prop::sample::select(vec![
            "|\n  a\n  b",
            "|-\n  a",
            ">\n  a\n  b",
            "|+\n  a\n",
            "|2\n   a",
        ])
        .prop_map(str::to_owned);
        let value = prop_oneof![
            4 => scalar.clone(),
            1 => block.clone(),
            1 => prop::collection::vec(scalar.clone(), 0..3).prop_map(|v| format!("[{}]", v.iter().filter(|s| !s.is_empty() && !s.starts_with('\'')).cloned().collect::<Vec<_>>().join(", "))),
        ];
        prop::collection::vec((0..4u8, value, scalar, any::<bool>()), 1..8)
            .prop_map(|entries| {
                let mut out = String::new();
                for (i, (shape, v, item, comment)) in entries.into_iter().enumerate() {
                    if comment {
                        out.push_str("# c\n");
                    }
                    let sep = if v.is_empty() { "" } else { " " };
                    match shape {
                        0 => out.push_str(&format!("k{i}:{sep}{v}\n")),
                        1 => {
                            let v = v.replace('\n', "\n  ");
                            out.push_str(&format!("k{i}:\n  n:{sep}{v}\n  # inner\n  m: {item}\n"))
                        }
                        2 => {
                            let v = v.replace('\n', "\n  ");
                            out.push_str(&format!(
                                "k{i}:\n- {item} # r\n-{sep}{v}\n- x: {item}\n  y: 1\n"
                            ))
                        }
                        _ => out.push_str(&format!(
                            "k{i}: {{a: 1, b: [2, {}]}} # r\n",
                            if item.is_empty() || item.starts_with('\'') {
                                "z".to_owned()
                            } else {
                                item
                            }
                        )),
                    }
                }
                out
            })
            .prop_filter("valid yaml", |d| Yaml.parse(d).is_ok())
    }
}

#[test]
fn simple_typed_tokens_read_back_as_a_reparse_says() {
    // The render fast path must agree with the re-parse it skips.
    for v in [
        "0",
        "31",
        "-5",
        "+7",
        "1_000",
        "0x1F",
        "0o17",
        "017",
        "0.25",
        "-0.5",
        "1e3",
        "1.5e-3",
        ".5",
        ".inf",
        "-.inf",
        ".nan",
        "+.inf",
        "true",
        "false",
        "True",
        "FALSE",
        "null",
        "~",
        "2024-01-02",
        "2024-01-02T03:04:05Z",
        "2024-01-02T03:04:05.5+01:00",
        "12:30",
        "1:2:3",
        "abc",
        "a-b",
        "_1",
        "1.2.3",
        "1e400",
        "9223372036854775808",
        "0b101",
        "-",
        ".",
        "+",
    ] {
        for flow in [false, true] {
            if !simple_typed_token(v, flow) {
                continue;
            }
            let (kind, text) = reparse(v, flow).unwrap_or_else(|| panic!("{v}"));
            let expected = match resolve_plain(v) {
                Resolved::Null => LeafKind::Null,
                Resolved::Bool(_) => LeafKind::Value(ValueType::Bool),
                Resolved::Int(_) => LeafKind::Value(ValueType::Int),
                Resolved::Float(_) => LeafKind::Value(ValueType::Float),
                Resolved::Time(_) => LeafKind::Value(ValueType::Time),
                Resolved::Str => LeafKind::Value(ValueType::Str),
            };
            assert_eq!(kind, expected, "{v} flow={flow}");
            if kind == LeafKind::Value(ValueType::Str) {
                assert_eq!(text, v);
            }
        }
    }
    for v in ["", "-", ":a", "a:", "--- ", "...", "a b", "a#b", "[1]"] {
        assert!(!simple_typed_token(v, false), "{v}");
    }
    assert!(!simple_typed_token("12:30", true));
}

#[test]
fn canonical_enc_values_are_plain_safe() {
    for s in [
        "ENC[AES256_GCM,data:oYyi,iv:MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=,tag:t5z2Z023Up0kxwCgw1gNxg==,type:str]",
        "ENC[AES256_GCM,data:,iv:AAAA,tag:AA==,type:comment]",
        "ENC[AES256_GCM,data:a/b+c=,iv:x,tag:y,type:int]",
    ] {
        assert!(canonical_enc(s) && plain_safe(s, false), "{s}");
    }
    for s in [
        "ENC[AES256_GCM,data: x]",
        "ENC[AES256_GCM,data:x",
        "ENC[AES256_GCM,data:#]",
    ] {
        assert!(!canonical_enc(s), "{s}");
    }
}
