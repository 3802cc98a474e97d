//! The layout defects of issue 14 ("What must work" 3), each as a user
//! meets it: blank lines after a block scalar, a file without a final
//! newline, `--expand-aliases` and merge keys, sops-made files with a
//! comment leading a merged anchor or `key: [] # comment`, and mapping
//! keys that are not strings.

use crate::util::*;

/// Encrypts `plain` as `name` in place and returns the decrypted text.
fn round_trip(t: &TestDir, name: &str, plain: &str, secrets: &[&str]) -> String {
    t.write(name, plain);
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", name])
        .ok()
        .leaks_none(secrets);
    let enc = t.read(name);
    for s in secrets {
        assert!(!enc.contains(s), "{s} left in clear in {name}");
    }
    let r = t.decrypt(name);
    r.ok();
    for s in secrets {
        assert!(!r.stderr().contains(s), "stderr leaks {s}");
    }
    r.stdout()
}

/// `sops encrypt` of `plain` into `name`, when sops is installed.
fn sops_encrypt(t: &TestDir, name: &str, plain: &str) -> Option<()> {
    let sops_bin = tool("sops")?;
    let src = t.write(&format!("plain.{name}"), plain);
    let out = sops(
        &sops_bin,
        &key1(),
        &["encrypt", "--age", RECIPIENT1, src.to_str().unwrap()],
    );
    assert!(out.status.success(), "sops encrypt {name}");
    t.write(name, &String::from_utf8(out.stdout).unwrap());
    Some(())
}

#[test]
fn blank_lines_after_block_scalars_are_kept() {
    let t = TestDir::new();
    let workflow = "jobs:\n  build:\n    steps:\n      - run: |\n          make s3cret-run\n\n      - run: |\n          make test\n\n\n    env:\n      X: |\n        y\n\n# done\n";
    assert_eq!(
        round_trip(&t, "w.yaml", workflow, &["s3cret-run"]),
        workflow
    );
}

#[test]
fn no_final_newline_is_added() {
    let t = TestDir::new();
    for (name, plain) in [
        ("a.yaml", "a: s3cret-nl"),
        ("b.env", "A=s3cret-nl"),
        ("c.ini", "[s]\na = s3cret-nl"),
        ("d.yaml", "x: 1\r\na: s3cret-nl"),
    ] {
        assert_eq!(round_trip(&t, name, plain, &["s3cret-nl"]), plain, "{name}");
        // The metadata is rewritten in place and keeps the missing newline.
        t.run(&[
            "set",
            "--identity",
            key1().to_str().unwrap(),
            name,
            if name.ends_with(".env") {
                "A"
            } else if name.ends_with(".ini") {
                "s.a"
            } else {
                "a"
            },
            "other",
        ])
        .ok();
        let back = t.decrypt(name).ok().stdout();
        assert_eq!(back, plain.replace("s3cret-nl", "other"), "{name}");
        if let Some(theirs) = sops_decrypt(&t, name) {
            assert!(theirs.contains("other"), "{name}: {theirs}");
        }
    }
}

#[test]
fn a_sops_list_of_only_comments_stays_an_empty_list() {
    let t = TestDir::new();
    let plain = "k: [] # s3cret-comment\nv: 1\n";
    if sops_encrypt(&t, "s.yaml", plain).is_none() {
        return;
    }
    // sops writes the comment as the list's only item.
    assert!(t.read("s.yaml").contains("k:\n    - ENC["));
    let r = t.decrypt("s.yaml");
    let out = r.ok().stdout();
    assert_eq!(out, "k:\n    [] # s3cret-comment\nv: 1\n");
}

#[test]
fn a_sops_merge_into_an_anchor_led_by_a_comment_decrypts() {
    let t = TestDir::new();
    let plain = "base: &b\n    # lead\n    region: s3cret-eu\nw:\n    <<: *b\n    x: 1\n";
    if sops_encrypt(&t, "m.yaml", plain).is_none() {
        return;
    }
    let r = t.decrypt("m.yaml");
    let out = r.ok().stdout();
    assert!(
        out.contains("!!merge <<:\n        # lead\n        region: s3cret-eu\n"),
        "{out}"
    );
}

#[test]
fn expand_aliases_keeps_merge_keys() {
    let t = TestDir::new();
    // The anchor `b` itself merges `c`: its copy must merge too.
    t.write(
        "m.yaml",
        "common: &c\n  zone: s3cret-z\nbase: &b\n  <<: *c\n  region: eu\nw:\n  <<: *b\n  x: 1\n",
    );
    let r = t.run(&["encrypt", "--age", RECIPIENT1, "--expand-aliases", "m.yaml"]);
    let enc = r.ok().stdout();
    assert!(enc.contains("\n  <<: {<<: {zone: \"ENC["), "{enc}");
    assert!(!enc.contains("\"<<\""), "{enc}");
    t.write("m.enc.yaml", &enc);
    let get = t.run(&[
        "get",
        "--identity",
        key1().to_str().unwrap(),
        "m.enc.yaml",
        "w.zone",
    ]);
    assert_eq!(get.ok().stdout().trim_end(), "s3cret-z");
    if let Some(theirs) = sops_decrypt(&t, "m.enc.yaml") {
        assert!(theirs.contains("s3cret-z"), "{theirs}");
    }
}

#[test]
fn mapping_keys_that_are_not_strings_are_refused() {
    let t = TestDir::new();
    for (plain, what, line) in [
        ("responses:\n  200:\n    d: s3cret-k\n", "an integer", 2),
        ("a: s3cret-k\ntrue: x\n", "a boolean", 2),
        ("1.5: s3cret-k\n", "a float", 1),
        ("a:\n  ~: s3cret-k\n", "null", 2),
    ] {
        t.write("k.yaml", plain);
        let r = t.run(&["encrypt", "--age", RECIPIENT1, "k.yaml"]);
        r.fails_with(2).leaks_none(&["s3cret-k"]);
        assert!(
            r.stderr().contains(&format!(
                "unsupported yaml at line {line}: a mapping key that reads as {what}, not a string: sops cannot read such a file"
            )),
            "{plain:?}: {}",
            r.stderr()
        );
    }
    // Quoted, it is a string key, and sops reads the file.
    let out = round_trip(
        &t,
        "q.yaml",
        "responses:\n  '200':\n    d: s3cret-k\n",
        &["s3cret-k"],
    );
    assert_eq!(out, "responses:\n  '200':\n    d: s3cret-k\n");
    if let Some(theirs) = sops_decrypt(&t, "q.yaml") {
        assert!(theirs.contains("s3cret-k"));
    }
}

#[test]
fn strings_come_back_quoted_where_yaml_1_1_readers_would_type_them() {
    let t = TestDir::new();
    // Quoted strings that go-yaml (YAML 1.2-ish) would read as strings
    // plain, but PyYAML, Ansible and Home Assistant (YAML 1.1) would not.
    let plain = "a: '16:9'\nb: '1:30:00.5'\nc: 'off'\nd: 'yes'\ne: '0644'\nf: '2001-12-14 21:59:43.10 -5'\ng: 's3cret-word'\n";
    round_trip(&t, "h.yaml", plain, &["s3cret-word"]);
    // As sops writes them: plain `ENC[...]`, no style known.
    let enc = t.read("h.yaml").replace("'ENC[", "ENC[").replace("]'", "]");
    t.write("h.yaml", &enc);
    let out = t.decrypt("h.yaml").ok().stdout();
    assert_eq!(
        out,
        "a: \"16:9\"\nb: \"1:30:00.5\"\nc: \"off\"\nd: \"yes\"\ne: \"0644\"\nf: \"2001-12-14 21:59:43.10 -5\"\ng: s3cret-word\n"
    );
    // PyYAML (in the sops venv) reads the same strings back.
    let Some(python) = tool("python3") else {
        return;
    };
    let orig = t.write("h.orig.yaml", plain);
    let dec = t.write("h.dec.yaml", &out);
    let check = std::process::Command::new(python)
        .args([
            "-c",
            "import sys\ntry:\n    import yaml\nexcept ImportError:\n    sys.exit(3)\na = yaml.safe_load(open(sys.argv[1]))\nb = yaml.safe_load(open(sys.argv[2]))\nassert a == b and all(isinstance(v, str) for v in b.values()), b",
        ])
        .arg(&orig)
        .arg(&dec)
        .output()
        .unwrap();
    match check.status.code() {
        Some(0) => {}
        Some(3) if !interop_required() => eprintln!("SKIP: PyYAML not installed"),
        _ => panic!(
            "PyYAML reads other data: {}",
            String::from_utf8_lossy(&check.stderr)
        ),
    }
}
