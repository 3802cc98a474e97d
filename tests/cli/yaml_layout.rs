//! YAML layouts the yaml-test-suite found wanting (issue 14): a flow
//! mapping as the top level, keys with properties or the explicit `? `
//! indicator, dates, continuation lines indented too little, a block
//! scalar ending the file after a line of spaces. Each test states what a
//! user sees; the interop ones check sops 3.11 reads what botsecrets wrote.

use crate::util::*;

#[test]
fn a_flow_mapping_at_the_top_level_is_encrypted_and_sops_reads_it() {
    let t = TestDir::new();
    for (name, plain, sops_sees) in [
        (
            "f.yaml",
            "{token: s3cret-flow, list: [1, two],\n  nested: {k: v} }\n",
            "token: s3cret-flow\nlist:\n    - 1\n    - two\nnested:\n    k: v\n",
        ),
        ("e.yaml", "{}\n", "{}\n"),
        ("c.yaml", "{a: s3cret-flow,}\n", "a: s3cret-flow\n"),
    ] {
        t.write(name, plain);
        let r = t.run(&["encrypt", "--age", RECIPIENT1, "-i", name]);
        r.ok().leaks_none(&["s3cret-flow"]);
        let enc = t.read(name);
        assert!(!enc.contains("s3cret-flow"), "{enc}");
        assert!(enc.contains("\nsops: {\"age\":[{\"recipient\":"), "{enc}");
        let dec = t.decrypt(name);
        dec.ok();
        assert_eq!(dec.stdout(), plain, "{name}");
        if let Some(theirs) = sops_decrypt(&t, name) {
            assert_eq!(theirs, sops_sees, "{name}");
        }
    }
}

#[test]
fn keys_with_anchors_tags_or_the_explicit_indicator_get_metadata_at_column_0() {
    let t = TestDir::new();
    for (name, plain) in [
        ("anchor.yaml", "&a a: s3cret-1\nc: &d d\n"),
        ("tag.yaml", "!!str a: s3cret-1\ng: h\n"),
        ("explicit.yaml", "? a\n: s3cret-1\nfifteen: d\n"),
        ("set.yaml", "? a\n? b\n"),
    ] {
        t.write(name, plain);
        let r = t.run(&["encrypt", "--age", RECIPIENT1, "-i", name]);
        r.ok().leaks_none(&["s3cret-1"]);
        assert!(t.read(name).contains("\nsops:\n    age:\n"), "{name}");
        assert_eq!(t.decrypt(name).ok().stdout(), plain, "{name}");
        if let Some(theirs) = sops_decrypt(&t, name) {
            assert!(!theirs.is_empty(), "{name}");
        }
    }
}

#[test]
fn a_date_comes_back_as_the_date_it_was() {
    let t = TestDir::new();
    let plain = "date: 2001-01-23\nstamp: 2001-01-23T10:00:00Z\n";
    t.write("d.yaml", plain);
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "d.yaml"])
        .ok();
    assert!(t.read("d.yaml").contains("type:time]"));
    assert_eq!(t.decrypt("d.yaml").ok().stdout(), plain);
    if let Some(theirs) = sops_decrypt(&t, "d.yaml") {
        // sops stores and prints a time; a date alone is midnight UTC.
        assert_eq!(
            theirs,
            "date: 2001-01-23T00:00:00Z\nstamp: 2001-01-23T10:00:00Z\n"
        );
    }
}

#[test]
fn continuation_lines_indented_too_little_are_invalid_yaml() {
    let t = TestDir::new();
    for (name, plain, line) in [
        ("q.yaml", "quoted: \"a\nb s3cret-2\"\n", 2),
        ("tab.yaml", "foo: \"bar\n\tbaz s3cret-2\"\n", 2),
        ("flow.yaml", "flow: [a,\nb,\ns3cret-2]\n", 2),
    ] {
        t.write(name, plain);
        let r = t.run(&["encrypt", "--age", RECIPIENT1, name]);
        r.fails_with(2).leaks_none(&["s3cret-2"]);
        assert!(
            r.stderr().contains(&format!(
                "invalid yaml at line {line}, column 1: a continuation line must be indented more than its key"
            )),
            "{name}: {}",
            r.stderr()
        );
    }
    // Indented by one space, the same text is valid.
    t.write("ok.yaml", "quoted: \"a\n b\"\nflow: [a,\n b]\n");
    t.run(&["encrypt", "--age", RECIPIENT1, "ok.yaml"]).ok();
}

#[test]
fn a_block_scalar_ending_the_file_after_a_line_of_spaces_keeps_its_last_break() {
    let t = TestDir::new();
    t.write("l.yaml", "foo: |\n  x\n   ");
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "l.yaml"])
        .ok();
    let r = t.run(&[
        "decrypt",
        "--identity",
        key1().to_str().unwrap(),
        "--output-type",
        "json",
        "l.yaml",
    ]);
    assert_eq!(r.ok().stdout(), "{\n  \"foo\": \"x\\n \\n\"\n}\n");
}

#[test]
fn an_alias_as_a_key_is_refused_without_showing_the_value() {
    let t = TestDir::new();
    t.write("k.yaml", "&a a: &b s3cret-3\n*b : *a\n");
    let r = t.run(&["encrypt", "--age", RECIPIENT1, "k.yaml"]);
    r.fails_with(2).leaks_none(&["s3cret-3"]);
    assert!(
        r.stderr().contains("an alias (*name) as a mapping key"),
        "{}",
        r.stderr()
    );
}

#[test]
fn quoted_values_keep_their_quotes_and_sops_reads_them() {
    let t = TestDir::new();
    let plain = "a: 'x y s3cret-q'\nb: \"tab\\there\"\nc: 'it''s'\ne: \"8080\"\nf: '16:9'\nflow: ['r', s]\nm: plain\n";
    t.write("q.yaml", plain);
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "q.yaml"])
        .ok();
    let enc = t.read("q.yaml");
    assert!(!enc.contains("s3cret-q"));
    for start in [
        "a: 'ENC[",
        "b: \"ENC[",
        "c: 'ENC[",
        "e: \"ENC[",
        "f: 'ENC[",
        "flow: ['ENC[",
        "m: ENC[",
    ] {
        assert!(enc.contains(start), "{start} in {enc}");
    }
    assert_eq!(t.decrypt("q.yaml").ok().stdout(), plain);
    if let Some(theirs) = sops_decrypt(&t, "q.yaml") {
        assert_eq!(
            theirs,
            "a: x y s3cret-q\nb: \"tab\\there\"\nc: it's\ne: \"8080\"\nf: \"16:9\"\nflow:\n    - r\n    - s\nm: plain\n"
        );
    }
}

#[test]
fn block_scalars_keep_their_headers_and_sops_reads_them() {
    let t = TestDir::new();
    let plain = "a: |\n  x s3cret-b\n\n\nb: |-\n  y\n\n# c\nc: >\n  z w\n\nsteps:\n  - run: |\n      make\n      make test\n\n  - run: >-\n      echo hi\nd: |2\n    indented\n  base\nk: |+\n  kept\n\n";
    t.write("b.yaml", plain);
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "b.yaml"])
        .ok();
    let enc = t.read("b.yaml");
    assert!(!enc.contains("s3cret-b"));
    for start in [
        "a: |-\n  ENC[",
        "b: |-\n  ENC[",
        "c: >-\n  ENC[",
        "  - run: |-\n      ENC[",
        "  - run: >-\n      ENC[",
        "d: |-\n  ENC[",
    ] {
        assert!(enc.contains(start), "{start:?} in {enc}");
    }
    assert_eq!(t.decrypt("b.yaml").ok().stdout(), plain);
    if let Some(theirs) = sops_decrypt(&t, "b.yaml") {
        assert_eq!(
            theirs,
            "a: |\n    x s3cret-b\nb: \"y\"\n# c\nc: |\n    z w\nsteps:\n    - run: |\n        make\n        make test\n    - run: echo hi\nd: |4\n      indented\n    base\nk: |+\n    kept\n\n"
        );
    }
}
