//! The rules file: discovery from the file's directory (whatever the
//! working directory), first match, `.sops.yaml` fallback, errors, Shamir
//! key groups (interop with sops both ways), comment-regex selection.

use crate::util::*;

fn rules_text(rules: &[(&str, &str)]) -> String {
    let mut out = String::from("creation_rules:\n");
    for (regex, age) in rules {
        if !regex.is_empty() {
            out.push_str(&format!("  - path_regex: {regex}\n    age: {age}\n"));
        } else {
            out.push_str(&format!("  - age: {age}\n"));
        }
    }
    out
}

fn recipients_of(t: &TestDir, file: &str) -> String {
    let r = t.run(&["recipients", "list", file]);
    r.ok();
    r.stdout()
}

#[test]
fn found_from_the_files_directory_not_the_working_directory() {
    let t = TestDir::new();
    t.write(
        "repo/.botsecrets.yaml",
        &rules_text(&[("^bots/prod/", RECIPIENT2), ("", RECIPIENT1)]),
    );
    t.write("repo/bots/prod/deep/s.yaml", "token: abc\n");
    t.write("repo/bots/dev/s.yaml", "token: abc\n");
    std::fs::create_dir_all(t.path("elsewhere")).unwrap();
    // Run from a directory outside the repository, with absolute paths.
    for (file, want) in [
        ("repo/bots/prod/deep/s.yaml", RECIPIENT2),
        ("repo/bots/dev/s.yaml", RECIPIENT1),
    ] {
        let abs = t.path(file);
        let r = Run(t
            .cmd()
            .current_dir(t.path("elsewhere"))
            .args(["encrypt", "--in-place", abs.to_str().unwrap()])
            .output()
            .unwrap());
        r.ok();
        assert_eq!(recipients_of(&t, file), format!("{want}\n"));
    }
    // And from inside a nested directory with a relative path.
    t.write("repo/bots/prod/x.yaml", "k: v\n");
    let r = Run(t
        .cmd()
        .current_dir(t.path("repo/bots"))
        .args(["encrypt", "--in-place", "prod/x.yaml"])
        .output()
        .unwrap());
    r.ok();
    assert_eq!(
        recipients_of(&t, "repo/bots/prod/x.yaml"),
        format!("{RECIPIENT2}\n")
    );
}

#[test]
fn first_matching_rule_wins_and_brings_its_options() {
    let t = TestDir::new();
    t.write(
        ".botsecrets.yaml",
        &format!(
            "creation_rules:\n  - path_regex: \\.yaml$\n    age: [{RECIPIENT1}, {RECIPIENT2}]\n    encrypted_regex: ^token$\n  - path_regex: s\\.yaml$\n    age: {RECIPIENT2}\n"
        ),
    );
    t.write("s.yaml", "token: abc\nname: bot\n");
    let r = t.run(&["encrypt", "s.yaml"]);
    r.ok();
    let out = r.stdout();
    assert!(out.contains("token: ENC["), "{out}");
    assert!(out.contains("name: bot"), "{out}");
    assert!(out.contains("encrypted_regex: ^token$"), "{out}");
    assert!(out.contains(RECIPIENT1) && out.contains(RECIPIENT2));
    // --age overrides the rules.
    let r = t.run(&["encrypt", "--age", RECIPIENT1, "s.yaml"]);
    r.ok();
    assert!(!r.stdout().contains(RECIPIENT2));
}

#[test]
fn sops_yaml_is_the_fallback_and_botsecrets_yaml_wins_in_the_same_directory() {
    let t = TestDir::new();
    t.write(".sops.yaml", &rules_text(&[("", RECIPIENT2)]));
    t.write("a/s.yaml", "k: v\n");
    t.run(&["encrypt", "-i", "a/s.yaml"]).ok();
    assert_eq!(recipients_of(&t, "a/s.yaml"), format!("{RECIPIENT2}\n"));
    t.write(".botsecrets.yaml", &rules_text(&[("", RECIPIENT1)]));
    t.write("a/t.yaml", "k: v\n");
    t.run(&["encrypt", "-i", "a/t.yaml"]).ok();
    assert_eq!(recipients_of(&t, "a/t.yaml"), format!("{RECIPIENT1}\n"));
    // The nearest rules file wins, even a .sops.yaml below a .botsecrets.yaml.
    t.write("a/.sops.yaml", &rules_text(&[("", RECIPIENT2)]));
    t.write("a/u.yaml", "k: v\n");
    t.run(&["encrypt", "-i", "a/u.yaml"]).ok();
    assert_eq!(recipients_of(&t, "a/u.yaml"), format!("{RECIPIENT2}\n"));
}

#[test]
fn no_rules_file_or_no_match_is_a_clear_error() {
    let t = TestDir::new();
    t.write("s.yaml", "k: v\n");
    let r = t.run(&["encrypt", "s.yaml"]);
    r.fails_with(111);
    assert!(
        r.stderr().contains("no recipients: pass --age")
            && r.stderr()
                .contains("no .botsecrets.yaml or .sops.yaml found"),
        "{}",
        r.stderr()
    );
    t.write(
        ".botsecrets.yaml",
        &rules_text(&[("^prod/", RECIPIENT1), ("^dev/", RECIPIENT2)]),
    );
    let r = t.run(&["encrypt", "s.yaml"]);
    r.fails_with(61);
    let err = r.stderr();
    assert!(
        err.contains("no creation rule matches s.yaml; tried rule 1 (line 2, path_regex ^prod/), rule 2 (line 4, path_regex ^dev/)"),
        "{err}"
    );
    assert_eq!(t.read("s.yaml"), "k: v\n");
}

#[test]
fn a_malformed_rules_file_names_line_and_column_and_never_blocks_decrypt() {
    let t = TestDir::new();
    t.encrypt("s.yaml", "k: secret\n");
    let enc = t.encrypt("s.yaml", "k: secret\n");
    t.write("s.enc.yaml", &enc);
    t.write(".botsecrets.yaml", "creation_rules:\n  - age: [\n");
    t.write("new.yaml", "k: v\n");
    let r = t.run(&["encrypt", "new.yaml"]);
    r.fails_with(5);
    assert!(r.stderr().contains(".botsecrets.yaml"), "{}", r.stderr());
    assert!(r.stderr().contains("line"), "{}", r.stderr());
    t.write(
        ".botsecrets.yaml",
        "creation_rules:\n  - age: age1notakey\n",
    );
    let r = t.run(&["encrypt", "new.yaml"]);
    r.fails_with(5);
    assert!(
        r.stderr()
            .contains("line 2, column 10: invalid recipient \"age1notakey\""),
        "{}",
        r.stderr()
    );
    // decrypt reads no rules.
    let r = t.decrypt("s.enc.yaml");
    r.ok();
    assert_eq!(r.stdout(), "k: secret\n");
}

#[test]
fn shamir_sample_from_sops_decrypts_with_both_keys_only() {
    let t = TestDir::new();
    let sample = testdata().join("sops/shamir.enc.yaml");
    let s = sample.to_str().unwrap();
    let r = t.run(&[
        "decrypt",
        "--identity",
        key1().to_str().unwrap(),
        "--identity",
        key2().to_str().unwrap(),
        s,
    ]);
    r.ok();
    let plain = std::fs::read_to_string(testdata().join("sops/shamir.yaml")).unwrap();
    assert_eq!(
        values_of(&r.stdout(), botsecrets::format::FormatKind::Yaml),
        values_of(&plain, botsecrets::format::FormatKind::Yaml)
    );
    t.run(&["decrypt", "--identity", key1().to_str().unwrap(), s])
        .fails_with(128);
    // recipients list shows the groups.
    let r = t.run(&["recipients", "list", s]);
    r.ok();
    assert!(r.stdout().contains("group 2:"), "{}", r.stdout());
}

#[test]
fn shamir_key_groups_from_the_rules_interop_with_sops() {
    let t = TestDir::new();
    t.write(
        ".sops.yaml",
        &std::fs::read_to_string(testdata().join("sops/shamir.sops.yaml")).unwrap(),
    );
    let plain = "db:\n  password: hunter2\n  port: 5432\n";
    t.write("shamir.yaml", plain);
    t.run(&["encrypt", "-i", "shamir.yaml"]).ok();
    let enc = t.read("shamir.yaml");
    assert!(
        enc.contains("key_groups:") && enc.contains("shamir_threshold: 2"),
        "{enc}"
    );
    let both = format!(
        "{}\n{}",
        std::fs::read_to_string(key1()).unwrap(),
        std::fs::read_to_string(key2()).unwrap()
    );
    t.write("both.txt", &both);
    let r = t.run(&["decrypt", "--identity", "both.txt", "shamir.yaml"]);
    r.ok();
    assert_eq!(r.stdout(), plain);
    t.run(&[
        "decrypt",
        "--identity",
        key1().to_str().unwrap(),
        "shamir.yaml",
    ])
    .fails_with(128);
    let Some(sops) = tool("sops") else { return };
    let both_path = t.path("both.txt");
    let out = sops_env(
        &sops,
        &[("SOPS_AGE_KEY_FILE", both_path.to_str().unwrap())],
        &["decrypt", t.path("shamir.yaml").to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        values_of(
            &String::from_utf8(out.stdout).unwrap(),
            botsecrets::format::FormatKind::Yaml
        ),
        values_of(plain, botsecrets::format::FormatKind::Yaml)
    );
    let out = sops_env(
        &sops,
        &[("SOPS_AGE_KEY_FILE", key1().to_str().unwrap())],
        &["decrypt", t.path("shamir.yaml").to_str().unwrap()],
    );
    assert!(!out.status.success());
}

/// Which values a file encrypts, as `path -> encrypted?`.
fn encrypted_map(text: &str) -> Vec<(String, bool)> {
    values_of(text, botsecrets::format::FormatKind::Yaml)
        .into_iter()
        .map(|(path, _, v)| (path, v.starts_with("ENC[")))
        .collect()
}

#[test]
fn comment_regex_selection_matches_sops() {
    let Some(sops_bin) = tool("sops") else {
        return;
    };
    let t = TestDir::new();
    let plain = "# X\n# other\nk: v\n# other2\n# X\nf:\n  # inner\n  g: 1\n  h:\n    - i\n    - j\nl: 3\nm:\n  # X\n  n: 1\n  # inner4\n  o: 1\np: 2 # X\nq: 3\n";
    t.write("c.yaml", plain);
    let re = regex::Regex::new(r"# [^\n]*").unwrap();
    for flag in ["--unencrypted-comment-regex", "--encrypted-comment-regex"] {
        let ours = t.run(&["encrypt", "--age", RECIPIENT1, flag, "^ X$", "c.yaml"]);
        ours.ok();
        let theirs = sops_env(
            &sops_bin,
            &[],
            &[
                "--encrypt",
                "--age",
                RECIPIENT1,
                flag,
                "^ X$",
                t.path("c.yaml").to_str().unwrap(),
            ],
        );
        assert!(
            theirs.status.success(),
            "{}",
            String::from_utf8_lossy(&theirs.stderr)
        );
        let theirs = String::from_utf8(theirs.stdout).unwrap();
        assert_eq!(
            encrypted_map(&ours.stdout()),
            encrypted_map(&theirs),
            "{flag}"
        );
        // Comments: the same ones stay readable.
        let clear = |s: &str| -> Vec<String> {
            s.lines()
                .filter_map(|l| re.find(l).map(|m| m.as_str().to_owned()))
                .collect()
        };
        assert_eq!(clear(&ours.stdout()), clear(&theirs), "{flag}");
        // Both read each other's files.
        t.write("ours.yaml", &ours.stdout());
        t.write("theirs.yaml", &theirs);
        let r = t.decrypt("theirs.yaml");
        r.ok();
        let out = sops(
            &sops_bin,
            &key1(),
            &["decrypt", t.path("ours.yaml").to_str().unwrap()],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r = t.decrypt("ours.yaml");
        r.ok();
        assert_eq!(r.stdout(), plain);
    }
}
