//! Unit tests of the INI reader and writer: go-ini's value rules, comments,
//! sections, the metadata section and parse-splice-parse properties.

use super::*;
use crate::format::apply_splices;
use proptest::prelude::*;

const SAMPLE: &str = include_str!("../../../testdata/sops/basic.enc.ini");
const PLAIN: &str = include_str!("../../../testdata/sops/basic.ini");
const KEY: &str = "446cff9d679364f9e8fc3ed1377a5b0eb21163152abceabf1ea186bbdb8df516";
const FAKE: &str = "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]";

fn parse(text: &str) -> ParsedFile {
    Ini.parse(text).expect("parses")
}

use crate::format::testutil::summary;

fn splice_all(text: &str, p: &ParsedFile, enc: &str) -> String {
    let mut splices: Vec<Splice> = p
        .leaves
        .iter()
        .map(|l| Splice {
            range: l.span.clone(),
            text: Ini.render(text, l, &Replacement::Encrypted(enc)).unwrap(),
        })
        .collect();
    apply_splices(text, &mut splices).unwrap()
}

fn restore(enc: &str, q: &ParsedFile, orig: &ParsedFile) -> String {
    let mut back: Vec<Splice> = q
        .leaves
        .iter()
        .zip(&orig.leaves)
        .map(|(l, o)| {
            let with = match o.kind {
                LeafKind::Comment => Replacement::Comment(o.value.expose()),
                _ => Replacement::Value(ValueType::Str, o.value.expose()),
            };
            Splice {
                range: l.span.clone(),
                text: Ini.render(enc, l, &with).unwrap(),
            }
        })
        .collect();
    apply_splices(enc, &mut back).unwrap()
}

fn s(aad: &str, kind: LeafKind, v: &str) -> (String, LeafKind, String) {
    (aad.into(), kind, v.into())
}
const STR: LeafKind = LeafKind::Value(ValueType::Str);
const COM: LeafKind = LeafKind::Comment;

#[test]
fn parses_the_sops_sample_and_every_value_decrypts() {
    let p = parse(SAMPLE);
    let mut got = Vec::new();
    for leaf in &p.leaves {
        let (plain, ty) =
            crate::format::testutil::sops_decrypt(leaf.value.expose(), KEY, &leaf.path.aad())
                .unwrap_or_else(|| panic!("{} does not decrypt", leaf.path));
        assert_eq!(ty, if leaf.kind == COM { "comment" } else { "str" });
        got.push((leaf.path.aad(), leaf.kind, plain));
    }
    assert_eq!(
        got,
        vec![
            s("database:user:", STR, "admin"),
            s("database:", COM, "comment about pass"),
            s("database:pass:", STR, "s3cret"),
            s("server:port:", STR, "8080"),
        ]
    );
    // The plaintext input reads to the same leaves.
    assert_eq!(summary(&parse(PLAIN)), got);
    let tree = p.metadata_tree().unwrap();
    assert_eq!(
        tree["age"][0]["recipient"],
        "age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n"
    );
    let enc = tree["age"][0]["enc"].as_str().unwrap();
    assert!(enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\nYWdl"));
    assert!(enc.ends_with("-----END AGE ENCRYPTED FILE-----\n"));
    assert_eq!(tree["lastmodified"], "2026-11-29T16:35:47Z");
    assert_eq!(tree["version"], "3.11.0");
    assert_eq!(tree["unencrypted_suffix"], "_unencrypted");
    let (mac, _) = crate::format::testutil::sops_decrypt(
        tree["mac"].as_str().unwrap(),
        KEY,
        "2026-11-29T16:35:47Z",
    )
    .unwrap();
    assert_eq!(mac.len(), 128);
    // The block: the blank line before [sops] through the end.
    let span = p.metadata[0].span.clone();
    assert!(SAMPLE[span.clone()].starts_with("\n[sops]\nlastmodified "));
    assert_eq!(span.end, SAMPLE.len());
    // The comment keeps its `; ` marker in the span.
    assert!(SAMPLE[p.leaves[1].span.clone()].starts_with("; ENC[AES256_GCM,data:rQAV"));
}

#[test]
fn sops_agrees_with_our_paths_on_a_tricky_file() {
    // testdata/ini/rules.ini encrypted by sops 3.11 (rules.enc.ini);
    // data key recovered with age (see testdata/ini/README.md).
    let key = "5e82f15d32c3c9a401149b2725dc3c5651b2a4c17e3602bbd9e6682b76d00270";
    let plain = parse(include_str!("../../../testdata/ini/rules.ini"));
    let enc = parse(include_str!("../../../testdata/ini/rules.enc.ini"));
    let mut values = Vec::new();
    let mut comments = Vec::new();
    for leaf in &enc.leaves {
        let v = leaf.value.expose();
        let text = if v.is_empty() {
            String::new()
        } else {
            crate::format::testutil::sops_decrypt(v, key, &leaf.path.aad())
                .unwrap_or_else(|| panic!("{} does not decrypt", leaf.path))
                .0
        };
        if leaf.kind == COM {
            comments.push((leaf.path.aad(), text));
        } else {
            values.push((leaf.path.aad(), text));
        }
    }
    // Every value sops encrypted is the value we read, at our path.
    let ours: Vec<_> = plain
        .leaves
        .iter()
        .filter(|l| l.kind != COM)
        .map(|l| (l.path.aad(), l.value.expose().to_owned()))
        .collect();
    assert_eq!(values, ours);
    // sops joins go-ini comment groups; each group is at our section.
    let c = |a: &str, t: &str| (a.to_owned(), t.to_owned());
    assert_eq!(
        comments,
        vec![
            c("database:", "top\n# top2"),
            c("database:", "inline"),
            c("database:", "c1\n;c2"),
            c("database:", "y\""),
            c("database:", "triple\n#frag"),
            c("server:", "trailing"),
        ]
    );
    let ours: Vec<_> = plain
        .leaves
        .iter()
        .filter(|l| l.kind == COM)
        .map(|l| (l.path.aad(), l.value.expose().to_owned()))
        .collect();
    assert_eq!(
        ours,
        vec![
            c("database:", "top"),
            c("database:", "top2"),
            c("database:", "inline"),
            c("database:", "c1"),
            c("database:", "c2"),
            c("database:", "y\""),
            c("database:", "triple"),
            c("database:", "frag"),
            c("server:", "trailing"),
        ]
    );
}

#[test]
fn go_ini_value_rules() {
    let text = "; top\n\n# top2\n[database]\nuser = admin ; inline\n; c1\n\n;c2\n\
                pass = \"s3cret\"\nq = 'it''s'\nbt = `a;b`\ncont = foo\\\n  bar\n\
                empty =\ncolon: v\n  indented = yes\n;;; triple\nurl = http://x/#frag\n\
                ml = \"\"\"l1\nl2\"\"\" # after\n[server]\nport = 8080\n; trailing\n";
    let p = parse(text);
    assert_eq!(
        summary(&p),
        vec![
            s("database:", COM, "top"),
            s("database:", COM, "top2"),
            s("database:user:", STR, "admin"),
            s("database:", COM, "inline"),
            s("database:", COM, "c1"),
            s("database:", COM, "c2"),
            s("database:pass:", STR, "s3cret"),
            s("database:q:", STR, "'it''s'"),
            s("database:bt:", STR, "a;b"),
            s("database:cont:", STR, "foobar"),
            s("database:empty:", STR, ""),
            s("database:colon:", STR, "v"),
            s("database:indented:", STR, "yes"),
            s("database:", COM, "triple"),
            s("database:url:", STR, "http://x/"),
            s("database:", COM, "frag"),
            s("database:ml:", STR, "l1\nl2"),
            s("database:", COM, "after"),
            s("server:port:", STR, "8080"),
            s("server:", COM, "trailing"),
        ]
    );
    let spans: Vec<&str> = p.leaves.iter().map(|l| &text[l.span.clone()]).collect();
    assert_eq!(spans[3], "; inline");
    assert_eq!(spans[6], "\"s3cret\"");
    assert_eq!(spans[8], "`a;b`");
    assert_eq!(spans[9], "foo\\\n  bar");
    assert_eq!(spans[16], "\"\"\"l1\nl2\"\"\"");
    assert_eq!(spans[13], ";;; triple");
    // Keys before any section live in DEFAULT; CRLF stays outside spans.
    let p = parse("a = 1\r\n; c\r\n[s]\r\nb=2\r\n");
    assert_eq!(
        summary(&p),
        vec![
            s("DEFAULT:a:", STR, "1"),
            s("s:", COM, "c"),
            s("s:b:", STR, "2")
        ]
    );
    assert_eq!(&"a = 1\r\n"[p.leaves[0].span.clone()], "1");
}

#[test]
fn splice_round_trip_keeps_everything_outside_spans() {
    let text = "; head\n[a]\nk = v ; inline\n  # indented\nq: \"quoted\"\nml = `x\ny`\n\n[b]\r\nz=1\r\ne =\n";
    let p = parse(text);
    let out = splice_all(text, &p, FAKE);
    assert_eq!(
        out,
        format!(
            "; {FAKE}\n[a]\nk = {FAKE} ; {FAKE}\n  # {FAKE}\nq: \"{FAKE}\"\nml = `{FAKE}`\n\n[b]\r\nz={FAKE}\r\ne = {FAKE}\n"
        )
    );
    let q = parse(&out);
    assert_eq!(q.leaves.len(), p.leaves.len());
    for (a, b) in p.leaves.iter().zip(&q.leaves) {
        assert_eq!((&a.path, a.kind), (&b.path, b.kind));
        assert_eq!(b.value.expose(), FAKE);
    }
    // Decrypting gives back the plaintext in its quotes.
    assert_eq!(
        restore(&out, &q, &p),
        "; head\n[a]\nk = v ; inline\n  # indented\nq: \"quoted\"\nml = `x\ny`\n\n[b]\r\nz=1\r\ne = \n"
    );
}

#[test]
fn renders_values_go_ini_reads_back() {
    let cases = [
        ("plain", "plain"),
        ("a;b", "`a;b`"),
        ("x#y", "`x#y`"),
        (" pad ", "` pad `"),
        ("\"q\"", "`\"q\"`"),
        ("'q'", "`'q'`"),
        ("ends\\", "`ends\\`"),
        ("l1\nl2", "\"\"\"l1\nl2\"\"\""),
        ("back`tick", "\"\"\"back`tick\"\"\""),
        ("half\"", "half\""),
        ("", ""),
    ];
    for (value, written) in cases {
        assert_eq!(render_value(value).as_deref(), Some(written), "{value:?}");
        let text = format!("[s]\nk = {written}\n");
        let p = parse(&text);
        assert_eq!(p.leaves[0].value.expose(), value, "{text:?}");
        assert_eq!(p.leaves.len(), 1, "{text:?}");
    }
    assert_eq!(render_value("a\"\"\"\nb"), None);
    let p = parse("[s]\nk = x\n");
    assert!(matches!(
        Ini.render(
            "[s]\nk = x\n",
            &p.leaves[0],
            &Replacement::Value(ValueType::Str, "\"\"\"\n")
        ),
        Err(FormatError::Unrepresentable { .. })
    ));
}

#[test]
fn renders_comments_with_their_own_marker() {
    let text = "[s]\n;x\n  # y\r\nk = 1\n";
    let p = parse(text);
    let r = |i: usize, t: &str| {
        Ini.render(text, &p.leaves[i], &Replacement::Comment(t))
            .unwrap()
    };
    assert_eq!(r(0, "new"), ";new");
    assert_eq!(r(1, "new"), "# new");
    // A comment sops joined (go-ini groups comment lines) comes back as
    // several comment lines, like sops writes it.
    assert_eq!(r(0, "a\n; b\nc"), ";a\n; b\n; c");
    assert_eq!(r(1, "a\n#b"), "# a\r\n  # b");
    let e = Ini
        .render(text, &p.leaves[0], &Replacement::Encrypted(FAKE))
        .unwrap();
    assert_eq!(e, format!(";{FAKE}"));
}

#[test]
fn metadata_rewrite_is_read_by_sops_fixture() {
    // testdata/ini/basic.rewritten.enc.ini is basic.enc.ini with its
    // [sops] section re-rendered by metadata_splices; `sops decrypt`
    // (3.11) decrypts it to basic.dec.ini (see testdata/ini/README.md).
    let p = parse(SAMPLE);
    let tree = p.metadata_tree().unwrap();
    let mut s = Ini.metadata_splices(SAMPLE, &p, Some(tree)).unwrap();
    let out = apply_splices(SAMPLE, &mut s).unwrap();
    assert_eq!(
        out,
        include_str!("../../../testdata/ini/basic.rewritten.enc.ini")
    );
    assert_eq!(
        &out[..p.metadata[0].span.start],
        &SAMPLE[..p.metadata[0].span.start]
    );
    let q = parse(&out);
    assert_eq!(q.metadata_tree(), Some(tree));
    assert_eq!(summary(&q), summary(&p));
}

#[test]
fn metadata_append_replace_remove_round_trip() {
    let tree = serde_json::json!({
        "age": [{"recipient": "age1x", "enc": "-----BEGIN-----\nAAA\n-----END-----\n"}],
        "lastmodified": "2026-01-01T00:00:00Z",
        "encrypted_regex": "^(a|b);",
        "version": "3.11.0",
    });
    let text = "[s]\nk = v\n";
    let p = parse(text);
    let mut a = Ini.metadata_splices(text, &p, Some(&tree)).unwrap();
    let with = apply_splices(text, &mut a).unwrap();
    assert_eq!(
        with,
        "[s]\nk = v\n\n[sops]\n\
         age__list_0__map_enc       = -----BEGIN-----\\nAAA\\n-----END-----\\n\n\
         age__list_0__map_recipient = age1x\n\
         encrypted_regex            = `^(a|b);`\n\
         lastmodified               = 2026-01-01T00:00:00Z\n\
         version                    = 3.11.0\n"
    );
    let q = parse(&with);
    assert_eq!(summary(&q), summary(&p));
    assert_eq!(q.metadata_tree(), Some(&tree));
    // Replace.
    let newer = serde_json::json!({"version": "3.12.0"});
    let mut r = Ini.metadata_splices(&with, &q, Some(&newer)).unwrap();
    let replaced = apply_splices(&with, &mut r).unwrap();
    assert_eq!(replaced, "[s]\nk = v\n\n[sops]\nversion = 3.12.0\n");
    // Remove: back to the original bytes.
    let rp = parse(&replaced);
    let mut d = Ini.metadata_splices(&replaced, &rp, None).unwrap();
    assert_eq!(apply_splices(&replaced, &mut d).unwrap(), text);
    // Append to an empty file.
    let mut e = Ini.metadata_splices("", &parse(""), Some(&newer)).unwrap();
    assert_eq!(
        apply_splices("", &mut e).unwrap(),
        "[sops]\nversion = 3.12.0\n"
    );
}

#[test]
fn reads_triple_quoted_metadata_and_sections_after_it() {
    // sops 3.13.0/3.13.1 wrote multi-line values in """...""".
    let text = "[a]\nk = 1\n\n[sops]\nage__list_0__map_enc = \"\"\"-----BEGIN-----\nAAA\n-----END-----\n\"\"\"\n; note\nversion = 3.13.0\n; before b\n[b]\nj = 2\n";
    let p = parse(text);
    let tree = p.metadata_tree().unwrap();
    assert_eq!(
        tree["age"][0]["enc"],
        "-----BEGIN-----\nAAA\n-----END-----\n"
    );
    assert_eq!(tree["version"], "3.13.0");
    assert_eq!(
        summary(&p),
        vec![
            s("a:k:", STR, "1"),
            s("b:", COM, "before b"),
            s("b:j:", STR, "2")
        ]
    );
    assert!(text[p.metadata[0].span.clone()].ends_with("version = 3.13.0\n"));
    let mut d = Ini.metadata_splices(text, &p, None).unwrap();
    assert_eq!(
        apply_splices(text, &mut d).unwrap(),
        "[a]\nk = 1\n; before b\n[b]\nj = 2\n"
    );
}

#[test]
fn bad_input_errors_name_lines_not_values() {
    let cases: &[(&str, usize)] = &[
        ("[s]\nk = 1\nsecretvalue\n", 3),
        ("[s]\n= secretvalue\n", 2),
        ("[s]\nk = 1\nk = secretvalue\n", 3),
        ("[s]\nk = 1\n[s]\nj = secretvalue\n", 3),
        ("[s\nk = secretvalue\n", 1),
        ("[]\nk = secretvalue\n", 1),
        ("[s] secretvalue\n", 1),
        ("[s]\nk = `secretvalue` junk\n", 2),
        ("[s]\nk = \"\"\"secretvalue\nmore\n", 2),
        ("[s]\n\"secretvalue = 1\n", 2),
        ("[s]\n- = secretvalue\n", 2),
        ("a = 1\n[DEFAULT]\nb = secretvalue\n", 2),
        ("[sops]\nx__list_y = secretvalue\n", 2),
    ];
    for (text, line) in cases {
        let err = Ini.parse(text).unwrap_err();
        let msg = err.to_string();
        assert!(!msg.contains("secretvalue"), "{msg}");
        assert!(msg.contains(&format!("line {line}")), "{text:?}: {msg}");
    }
    // An explicit [DEFAULT] before any key is fine.
    assert_eq!(
        summary(&parse("[DEFAULT]\na = 1\n")),
        vec![s("DEFAULT:a:", STR, "1")]
    );
}

fn doc_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z]{1,4}".prop_map(|s| format!("[{s}]")),
        "[ ]{0,2}[;#][^\n]{0,12}".prop_map(|s| s),
        (
            "[A-Za-z_][A-Za-z0-9_.]{0,6}",
            "[ ]{0,2}",
            "[=:]",
            "[^\n\\\\`\"]{0,16}"
        )
            .prop_map(|(k, sp, d, v)| format!("{k}{sp}{d}{sp}{v}")),
        ("[a-z]{1,4}", "[^\n`]{0,10}").prop_map(|(k, v)| format!("{k} = `{v}`")),
    ]
}

proptest! {
    #[test]
    fn parse_splice_parse_keeps_leaves(lines in proptest::collection::vec(doc_line(), 0..12), crlf in any::<bool>()) {
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        let Ok(p) = Ini.parse(&text) else { return Ok(()) };
        let out = splice_all(&text, &p, FAKE);
        let q = Ini.parse(&out).expect("spliced output parses");
        prop_assert_eq!(p.leaves.len(), q.leaves.len());
        for (a, b) in p.leaves.iter().zip(&q.leaves) {
            prop_assert_eq!(&a.path, &b.path);
            prop_assert_eq!(a.kind, b.kind);
            prop_assert_eq!(b.value.expose(), FAKE);
        }
        // Rendering the plaintext back reads to the same leaves.
        let restored = restore(&out, &q, &p);
        let r = Ini.parse(&restored).expect("restored text parses");
        prop_assert_eq!(summary(&r), summary(&p));
    }

    #[test]
    fn never_panics(text in "[^\u{0}]{0,64}") {
        let _ = Ini.parse(&text);
    }
}

#[test]
fn quoted_values_keep_their_quotes_when_go_ini_reads_them_back() {
    let text = "[s]\nd = \"x\"\nq = 'x'\nb = `x`\nt = \"\"\"x\"\"\"\n";
    let p = parse(text);
    let values = [
        "plain",
        " padded ",
        "a;b#c",
        "it's",
        "say \"hi\"",
        "back`tick",
        "two\nlines",
        "ends\\",
        "ends\"",
        "has \"\"\" inside",
    ];
    for leaf in &p.leaves {
        let src = &text[leaf.span.clone()];
        let q = quotes_of(src).unwrap();
        for v in values {
            let out = Ini
                .render(text, leaf, &Replacement::Value(ValueType::Str, v))
                .unwrap_or_else(|_| panic!("{src} {v:?}"));
            if in_quotes(q, v).is_some() {
                assert!(
                    out.starts_with(q) && out.ends_with(q),
                    "{src} {v:?} -> {out}"
                );
            }
            let mut sp = vec![Splice {
                range: leaf.span.clone(),
                text: out.clone(),
            }];
            let back = parse(&apply_splices(text, &mut sp).unwrap());
            let l = back.leaves.iter().find(|l| l.path == leaf.path).unwrap();
            assert_eq!(l.value.expose(), v, "{src} {v:?} -> {out}");
        }
        let enc = Ini
            .render(text, leaf, &Replacement::Encrypted(FAKE))
            .unwrap();
        assert_eq!(enc, format!("{q}{FAKE}{q}"));
    }
}
