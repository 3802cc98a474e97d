//! Bad input of every kind: a specific message naming the file (and key
//! path), a documented exit code, no secret in the output, the input file
//! unchanged.

use crate::util::*;

const PLAIN: &str = "db:\n  password: hunter2-secret\n  user: admin-secret\ntoken: tok-secret\n";
const SECRETS: [&str; 3] = ["hunter2-secret", "admin-secret", "tok-secret"];

/// Encrypts PLAIN, applies `tamper`, then runs `decrypt -i` and returns the
/// run; asserts the file is unchanged and nothing leaked.
fn tampered(tamper: impl Fn(&str) -> String) -> Run {
    let t = TestDir::new();
    let enc = t.encrypt("s.yaml", PLAIN);
    let bad = tamper(&enc);
    t.write("s.yaml", &bad);
    let r = t.run(&[
        "decrypt",
        "--identity",
        key1().to_str().unwrap(),
        "-i",
        "s.yaml",
    ]);
    assert_eq!(t.read("s.yaml"), bad, "input changed");
    r.leaks_none(&SECRETS);
    assert!(
        r.stderr().starts_with("botsecrets: s.yaml: "),
        "{}",
        r.stderr()
    );
    assert!(!r.stderr().contains("panicked"), "{}", r.stderr());
    r
}

fn enc_of(text: &str, key: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{key}:")))
        .unwrap();
    line.split_once(": ").unwrap().1.to_owned()
}

#[test]
fn altered_ciphertext_names_the_path() {
    let r = tampered(|enc| {
        let v = enc_of(enc, "password");
        let altered = v.replacen("data:", "data:AA", 1);
        enc.replace(&v, &altered)
    });
    r.fails_with(25);
    assert!(
        r.stderr()
            .contains("cannot decrypt the value at db.password (line 2)"),
        "{}",
        r.stderr()
    );
}

#[test]
fn truncated_value_is_malformed() {
    let r = tampered(|enc| {
        let v = enc_of(enc, "token");
        enc.replace(&v, &v[..v.len() / 2])
    });
    r.fails_with(25);
    assert!(
        r.stderr()
            .contains("at token (line 4): malformed ENC[...] value"),
        "{}",
        r.stderr()
    );
}

#[test]
fn truncated_enc_inside_is_malformed() {
    let r = tampered(|enc| {
        let v = enc_of(enc, "token");
        let cut = format!("{}]", &v[..v.find(",tag:").unwrap()]);
        enc.replace(&v, &cut)
    });
    r.fails_with(25);
    assert!(
        r.stderr().contains("malformed ENC[...] value"),
        "{}",
        r.stderr()
    );
}

#[test]
fn value_moved_to_another_key_fails() {
    let r = tampered(|enc| {
        let a = enc_of(enc, "password");
        let b = enc_of(enc, "user");
        enc.replace(&a, "@A@").replace(&b, &a).replace("@A@", &b)
    });
    r.fails_with(25);
    assert!(r.stderr().contains("db.password") || r.stderr().contains("db.user"));
}

#[test]
fn mac_mismatch_missing_and_undecryptable() {
    // A value swapped for a validly encrypted one from another file with
    // the same data key is not possible to forge here; instead change the
    // MAC itself and the lastmodified it is bound to.
    let r = tampered(|enc| {
        let lm = enc.lines().find(|l| l.contains("lastmodified:")).unwrap();
        let value = lm.split_once(": ").unwrap().1;
        enc.replace(lm, &lm.replace(value, "\"2001-01-01T00:00:00Z\""))
    });
    r.fails_with(51);
    assert!(
        r.stderr().contains("MAC cannot be decrypted"),
        "{}",
        r.stderr()
    );
    let r = tampered(|enc| {
        let mac = enc.lines().find(|l| l.contains("mac: ENC")).unwrap();
        let value = mac.split_once(": ").unwrap().1;
        enc.replace(mac, &mac.replace(value, "\"\""))
    });
    r.fails_with(52);
}

#[test]
fn plaintext_where_ciphertext_belongs_is_caught() {
    let r = tampered(|enc| {
        let v = enc_of(enc, "token");
        enc.replace(&v, "attacker-chosen")
    });
    // Strict selection: its own exit code since issue #10.
    r.fails_with(212);
    assert!(
        r.stderr()
            .contains("disagree at token (line 4): the value is in the clear"),
        "{}",
        r.stderr()
    );
    r.leaks_none(&["attacker-chosen"]);
}

#[test]
fn missing_metadata_and_unknown_version() {
    let t = TestDir::new();
    t.write("p.yaml", PLAIN);
    let r = t.decrypt("p.yaml");
    r.fails_with(204);
    assert!(
        r.stderr().contains("p.yaml: not encrypted"),
        "{}",
        r.stderr()
    );
    r.leaks_none(&SECRETS);
    let r = tampered(|enc| enc.replace("version: 3.11.0", "version: 9.0.0"));
    r.fails_with(205);
    assert!(
        r.stderr()
            .contains("unsupported sops format version \"9.0.0\""),
        "{}",
        r.stderr()
    );
}

#[test]
fn malformed_yaml_and_json_and_garbage() {
    let t = TestDir::new();
    for (name, text) in [
        ("bad.yaml", "a: [unclosed hunter2-secret\n"),
        ("bad.json", "{\"a\": \"hunter2-secret\",}"),
        ("dup.yaml", "a: 1\na: hunter2-secret\n"),
        ("list.yaml", "- hunter2-secret\n"),
    ] {
        t.write(name, text);
        for args in [
            vec!["encrypt", "--age", RECIPIENT1, "-i", name],
            vec![
                "decrypt",
                "--identity",
                key1().to_str().unwrap(),
                "-i",
                name,
            ],
        ] {
            let r = t.run(&args);
            r.fails_with(2).leaks_none(&SECRETS);
            assert!(
                r.stderr().starts_with(&format!("botsecrets: {name}: ")),
                "{}",
                r.stderr()
            );
            assert!(r.stderr().contains("line "), "{}", r.stderr());
            assert_eq!(t.read(name), text);
        }
    }
    std::fs::write(t.path("g.yaml"), [0xff, 0xfe, 0x00, 0x9c, 0x01]).unwrap();
    let r = t.decrypt("g.yaml");
    r.fails_with(2);
    assert!(r.stderr().contains("g.yaml: not UTF-8"), "{}", r.stderr());
    let r = t.decrypt("missing.yaml");
    r.fails_with(100);
    assert!(
        r.stderr().contains("missing.yaml: no such file"),
        "{}",
        r.stderr()
    );
    let r = t.run(&["decrypt", "x.bin"]);
    r.fails_with(1);
    assert!(
        r.stderr().contains("supported extensions"),
        "{}",
        r.stderr()
    );
}

#[test]
fn bad_input_in_every_format_names_file_and_line() {
    let t = TestDir::new();
    for (name, text, line) in [
        ("q.yaml", "a: ok\nb: \"unterminated hunter2-secret\n", 2),
        (
            "d.json",
            "{\n  \"a\": \"x\",\n  \"a\": \"hunter2-secret\"\n}\n",
            3,
        ),
        ("u.json", "{\n  \"a\": \"hunter2-secret\n}\n", 2),
        ("t.toml", "a = \"x\"\nb = = \"hunter2-secret\"\n", 2),
        ("d.toml", "a = \"x\"\na = \"hunter2-secret\"\n", 2),
        ("n.env", "A=1\nhunter2-secret\n", 2),
        ("d.env", "A=1\nA=hunter2-secret\n", 2),
        ("s.ini", "[a]\nk = v\nhunter2-secret\n", 3),
        ("d.ini", "[a]\nk = v\nk = hunter2-secret\n", 3),
    ] {
        t.write(name, text);
        let r = t.run(&["encrypt", "--age", RECIPIENT1, "-i", name]);
        r.fails_with(2).leaks_none(&SECRETS);
        let err = r.stderr();
        assert!(err.starts_with(&format!("botsecrets: {name}: ")), "{err}");
        assert!(err.contains(&format!("line {line}")), "{name}: {err}");
        assert_eq!(t.read(name), text, "{name} was changed");
    }
}
