//! `botsecrets decrypt`: identities, --extract, --ignore-mac.

use crate::util::*;

fn sample(t: &TestDir, name: &str) -> String {
    let text = std::fs::read_to_string(testdata().join("sops").join(name)).unwrap();
    t.write(name, &text);
    text
}

#[test]
fn extract_prints_one_value_in_both_path_forms() {
    let t = TestDir::new();
    sample(&t, "basic.enc.yaml");
    let k = key1();
    let k = k.to_str().unwrap();
    let r = t.run(&[
        "decrypt",
        "--identity",
        k,
        "--extract",
        r#"["app"]["name"]"#,
        "basic.enc.yaml",
    ]);
    assert_eq!(r.ok().stdout(), "demo");
    let r = t.run(&[
        "decrypt",
        "--identity",
        k,
        "--extract",
        "app.port",
        "basic.enc.yaml",
    ]);
    assert_eq!(r.ok().stdout(), "8080");
    let r = t.run(&[
        "decrypt",
        "--identity",
        k,
        "--extract",
        "app.list[0]",
        "basic.enc.yaml",
    ]);
    assert_eq!(r.ok().stdout(), "alpha");
    let r = t.run(&[
        "decrypt",
        "--identity",
        k,
        "--extract",
        "app.list",
        "basic.enc.yaml",
    ]);
    assert_eq!(r.ok().stdout(), "- alpha\n- 2\n");
    let r = t.run(&[
        "decrypt",
        "--identity",
        k,
        "--extract",
        "app.missing",
        "basic.enc.yaml",
    ]);
    r.fails_with(91);
    assert!(
        r.stderr().contains("key path app.missing not found"),
        "{}",
        r.stderr()
    );
}

#[test]
fn identity_sources_in_order() {
    let t = TestDir::new();
    sample(&t, "basic.enc.yaml");
    let key_text = std::fs::read_to_string(key1()).unwrap();
    let ok = |c: &mut std::process::Command| {
        let out = c
            .args(["decrypt", "--extract", "app.name", "basic.enc.yaml"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8(out.stdout).unwrap(), "demo");
    };
    ok(t.cmd().env("BOTSECRETS_AGE_KEY", &key_text));
    ok(t.cmd().env("BOTSECRETS_AGE_KEY_FILE", key1()));
    ok(t.cmd().env("SOPS_AGE_KEY", &key_text));
    ok(t.cmd().env("SOPS_AGE_KEY_FILE", key1()));
    // Several keys in one variable, the right one second.
    let key2_text = std::fs::read_to_string(key2()).unwrap();
    ok(t.cmd()
        .env("BOTSECRETS_AGE_KEY", format!("{key2_text}\n{key_text}")));
    // The default key files.
    t.write("home/.config/sops/age/keys.txt", &key_text);
    ok(&mut t.cmd());
    std::fs::remove_file(t.path("home/.config/sops/age/keys.txt")).unwrap();
    t.write("home/.config/botsecrets/keys.txt", &key_text);
    ok(&mut t.cmd());
}

#[test]
fn no_identity_at_all_is_explained() {
    let t = TestDir::new();
    sample(&t, "basic.enc.yaml");
    let r = t.run(&["decrypt", "basic.enc.yaml"]);
    r.fails_with(128);
    assert!(
        r.stderr().contains("no age identity found"),
        "{}",
        r.stderr()
    );
    assert!(r.stderr().contains("BOTSECRETS_AGE_KEY_FILE"));
}

#[test]
fn wrong_identity_lists_recipients_and_what_was_tried() {
    let t = TestDir::new();
    sample(&t, "basic.enc.yaml");
    let r = t.run(&[
        "decrypt",
        "--identity",
        key2().to_str().unwrap(),
        "basic.enc.yaml",
    ]);
    r.fails_with(128);
    let err = r.stderr();
    assert!(
        err.contains("basic.enc.yaml: no identity matches this file's recipients"),
        "{err}"
    );
    assert!(err.contains(RECIPIENT1), "{err}");
    assert!(
        err.contains(&format!("tried {RECIPIENT2} (from --identity")),
        "{err}"
    );
    assert!(!err.contains("AGE-SECRET-KEY"), "{err}");
}

#[test]
fn ignore_mac_reads_an_altered_file_and_says_so() {
    let t = TestDir::new();
    let text = sample(&t, "basic.enc.yaml");
    t.write(
        "basic.enc.yaml",
        &text.replace(
            "password_unencrypted: visible",
            "password_unencrypted: changed",
        ),
    );
    let k = key1();
    let r = t.run(&[
        "decrypt",
        "--identity",
        k.to_str().unwrap(),
        "basic.enc.yaml",
    ]);
    r.fails_with(51);
    let r = t.run(&[
        "decrypt",
        "--ignore-mac",
        "--identity",
        k.to_str().unwrap(),
        "basic.enc.yaml",
    ]);
    r.ok();
    assert!(r.stdout().contains("password_unencrypted: changed"));
    assert!(
        r.stderr().contains("WARNING") && r.stderr().contains("MAC was NOT verified"),
        "{}",
        r.stderr()
    );
}

#[test]
fn output_type_converts_for_scripts() {
    let t = TestDir::new();
    sample(&t, "basic.enc.yaml");
    let k = key1();
    let r = t.run(&[
        "decrypt",
        "--identity",
        k.to_str().unwrap(),
        "--output-type",
        "json",
        "basic.enc.yaml",
    ]);
    let json: serde_json::Value = serde_json::from_str(&r.ok().stdout()).unwrap();
    assert_eq!(json["app"]["port"], 8080);
    assert_eq!(json["app"]["list"][0], "alpha");
    assert_eq!(json["multi"], "line1\nline2\n");
    assert_eq!(json["app"]["nothing"], serde_json::Value::Null);
    sample(&t, "basic.enc.json");
    let r = t.run(&[
        "decrypt",
        "--identity",
        k.to_str().unwrap(),
        "--output-type",
        "yaml",
        "basic.enc.json",
    ]);
    assert!(
        r.ok().stdout().starts_with("db:\n  user: admin\n"),
        "{}",
        r.stdout()
    );
    let r = t.run(&[
        "decrypt",
        "--identity",
        k.to_str().unwrap(),
        "--output-type",
        "ini",
        "basic.enc.json",
    ]);
    r.fails_with(1);
    assert!(
        r.stderr().contains("--output-type takes json or yaml"),
        "{}",
        r.stderr()
    );
}
