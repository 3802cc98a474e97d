//! Strict selection (issue #10, item 1) and checked type tags (item 3):
//! the selection rule and the values must agree, and a plaintext must be
//! what its `type:` tag says, in every command. The real sops is the
//! oracle that no file it writes is refused.

use botsecrets::format::FormatKind;

use crate::util::*;

const PLAIN: &str = "password: hunter2-secret\nport: 8080\nuser_unencrypted: bob\n";
const DOWNGRADE: (&str, &str) = (
    "unencrypted_suffix: _unencrypted",
    "encrypted_regex: ^nomatch$",
);

/// An encrypted `s.yaml` with `edit(text)` applied; returns its bytes.
fn tampered(t: &TestDir, plain: &str, edit: impl Fn(&str) -> String) -> String {
    let enc = t.encrypt("s.yaml", plain);
    let bad = edit(&enc);
    assert_ne!(bad, enc, "the edit changed nothing");
    t.write("s.yaml", &bad);
    bad
}

fn key() -> String {
    key1().to_str().unwrap().to_owned()
}

#[test]
fn a_rewritten_rule_is_refused_by_edit_check_textconv_and_recipients() {
    let t = TestDir::new();
    t.write("s.yaml", PLAIN);
    let both = format!("{RECIPIENT1},{RECIPIENT2}");
    t.run(&["encrypt", "--age", &both, "--in-place", "s.yaml"])
        .ok();
    let bad = t.read("s.yaml").replace(DOWNGRADE.0, DOWNGRADE.1);
    t.write("s.yaml", &bad);
    let secrets = ["hunter2-secret"];
    // edit: refused before the editor runs; nothing written.
    let r = Run(t
        .cmd()
        .args(["edit", "--identity", &key(), "s.yaml"])
        .env("EDITOR", editor("replace.sh"))
        .env("EDIT_FROM", "bob")
        .env("EDIT_TO", "eve")
        .output()
        .unwrap());
    r.fails_with(212).leaks_none(&secrets);
    assert!(
        r.stderr()
            .contains("the selection rule and the values disagree at password (line 1): the value is encrypted but the rule says it is clear"),
        "{}",
        r.stderr()
    );
    assert!(
        r.stderr().contains("git log -p --no-textconv"),
        "{}",
        r.stderr()
    );
    assert_eq!(t.read("s.yaml"), bad);
    assert!(t.workspace_leftovers().is_empty());
    // recipients remove, too.
    t.run(&[
        "recipients",
        "remove",
        "--identity",
        &key(),
        "s.yaml",
        RECIPIENT2,
    ])
    .fails_with(212)
    .leaks_none(&secrets);
    assert_eq!(t.read("s.yaml"), bad);
    // check: a finding per value, with or without a key.
    for with_key in [true, false] {
        let mut args = vec!["check"];
        let k = key();
        if with_key {
            args.extend(["--identity", &k]);
        }
        args.push("s.yaml");
        let r = t.run(&args);
        r.fails_with(210).leaks_none(&secrets);
        let out = r.stdout();
        assert!(out.contains("s.yaml:1: selection-mismatch"), "{out}");
        assert!(out.contains("s.yaml:2: selection-mismatch"), "{out}");
    }
    // textconv: the ciphertext, and why.
    let r = Run(t
        .cmd()
        .args(["git", "textconv", "s.yaml"])
        .env("BOTSECRETS_AGE_KEY_FILE", key1())
        .output()
        .unwrap());
    r.ok().leaks_none(&secrets);
    // (followed by the metadata trailer, which says the seal is broken)
    assert!(r.stdout().starts_with(&bad), "{}", r.stdout());
    assert!(r.stdout().contains("# seal: BROKEN"), "{}", r.stdout());
    assert!(r.stderr().contains("disagree"), "{}", r.stderr());
}

#[test]
fn an_encrypted_comment_where_the_rule_says_clear_is_refused() {
    // The MAC does not cover comments: only strict selection catches this.
    let t = TestDir::new();
    let bad = tampered(
        &t,
        "# the admin password\npassword: hunter2-secret\n",
        |e| e.replace(DOWNGRADE.0, "encrypted_regex: ^password$"),
    );
    let r = t.decrypt("s.yaml");
    r.fails_with(212)
        .leaks_none(&["hunter2-secret", "the admin password"]);
    assert!(
        r.stderr()
            .contains("disagree at (root) (line 1): the comment is encrypted"),
        "{}",
        r.stderr()
    );
    assert_eq!(t.read("s.yaml"), bad);
}

#[test]
fn a_clear_value_where_the_rule_says_encrypted_is_refused() {
    let t = TestDir::new();
    tampered(&t, PLAIN, |e| {
        e.replace(DOWNGRADE.0, "unencrypted_suffix: _nomatch")
    });
    let r = t.decrypt("s.yaml");
    r.fails_with(212).leaks_none(&["hunter2-secret"]);
    assert!(
        r.stderr().contains(
            "disagree at user_unencrypted (line 3): the value is in the clear but the rule says it is encrypted"
        ),
        "{}",
        r.stderr()
    );
}

/// The merge driver, run as git runs it, on three versions of `s.yaml`.
fn merge(t: &TestDir, base: &str, ours: &str, theirs: &str) -> Run {
    t.write("base.yaml", base);
    t.write("ours.yaml", ours);
    t.write("theirs.yaml", theirs);
    Run(t
        .cmd()
        .args([
            "git",
            "merge",
            "base.yaml",
            "ours.yaml",
            "theirs.yaml",
            "s.yaml",
        ])
        .env("BOTSECRETS_AGE_KEY_FILE", key1())
        .output()
        .unwrap())
}

#[test]
fn the_merge_driver_never_takes_their_selection_rule() {
    let t = TestDir::new();
    let base = t.encrypt("s.yaml", PLAIN);
    t.write("s.yaml", &base);
    t.run(&["set", "--identity", &key(), "s.yaml", "port", "9090"])
        .ok();
    let ours = t.read("s.yaml");
    let secrets = ["hunter2-secret", "9090"];
    // Their branch only rewrote the rule: the values disagree with it.
    let theirs = base.replace(DOWNGRADE.0, DOWNGRADE.1);
    let r = merge(&t, &base, &ours, &theirs);
    r.fails_with(1).leaks_none(&secrets);
    assert!(r.stderr().contains("the their version"), "{}", r.stderr());
    assert!(r.stderr().contains("disagree"), "{}", r.stderr());
    assert_eq!(t.read("ours.yaml"), ours);
    // A rule the values still agree with: not adopted either. (Adopting
    // it would leave every key added later in the clear.)
    let theirs = base.replace(DOWNGRADE.0, "encrypted_regex: ^(password|port)$");
    // The seal refuses such a version on its own; the merge driver
    // refuses it whether or not the seal is there.
    t.write("check.yaml", &theirs);
    t.decrypt("check.yaml").fails_with(213);
    let r = merge(&t, &base, &ours, &theirs);
    r.fails_with(213).leaks_none(&secrets);
    assert!(r.stderr().contains("the their version"), "{}", r.stderr());
    assert!(r.stderr().contains("seal"), "{}", r.stderr());
    assert_eq!(t.read("ours.yaml"), ours);
    // An ordinary merge still works, and keeps our rule.
    let r = merge(&t, &base, &ours, &base);
    r.ok();
    assert!(t.read("ours.yaml").contains(DOWNGRADE.0));
}

const YAML_IN: &str = "# top comment
# sops:enc marker
password: hunter2
empty: \"\"
nothing: null
# sops:clear below
public_key: pk-123
note_unencrypted: visible
db:
    # inner comment
    user: admin # trailing
    password_secret: s3cret
    port: 5432
    ratio: 1.5
    on: true
    when: 2024-01-02
    clear_unencrypted:
        deep: value
        # deep comment
        deeper: x
list:
    - a
    # in list
    - b: c
      token: t0k
    - \"\"
multi: |
    line1
    line2
# sops:enc
token: abc
# final comment
";
const JSON_IN: &str = "{\n  \"password\": \"hunter2\",\n  \"empty\": \"\",\n  \"nothing\": null,\n  \"public_key\": \"pk\",\n  \"note_unencrypted\": \"v\",\n  \"db\": {\"user\": \"admin\", \"password_secret\": \"s\", \"port\": 5432, \"ratio\": 1.5, \"on\": true},\n  \"list\": [\"a\", {\"b\": \"c\", \"token\": \"t\"}, \"\", null],\n  \"token\": \"abc\"\n}\n";
const ENV_IN: &str = "# top comment\n# sops:enc\npassword=hunter2\nempty=\npublic_key=pk\nnote_unencrypted=v\n# sops:clear\ntoken=abc\n# last\n";
const INI_IN: &str = "top = 0
; sops:enc before db
[db]
a = 1
b = 2 ; sops:enc inline
c = 3
; plain
d = 4
empty =
note_unencrypted = v
[e]
; sops:enc
; second line
f = 5
g = 6
[h]
password_secret = 7
j = 8 ; inline only
k = 9
; lead
l = 10 ; and inline
m = 11
";

/// Every selection rule sops has, with and without `mac_only_encrypted`,
/// in YAML, JSON, dotenv and INI: the files sops writes open with
/// botsecrets to sops' values, and the files botsecrets writes with the
/// same rule decrypt with sops to the same values (so both tools select
/// the same values; INI comments included, which sops places after the key
/// they belong to).
#[test]
fn sops_and_botsecrets_select_the_same_values_under_every_rule() {
    let Some(sops_bin) = tool("sops") else { return };
    let t = TestDir::new();
    let rules = [
        ("", ""),
        ("unencrypted_suffix", "_clear"),
        ("encrypted_suffix", "_secret"),
        ("encrypted_regex", "^(password|token)$"),
        ("unencrypted_regex", "^(public|note)"),
        ("encrypted_comment_regex", "sops:enc"),
        ("unencrypted_comment_regex", "sops:clear|inline"),
    ];
    let inputs = [
        ("yaml", FormatKind::Yaml, YAML_IN),
        ("json", FormatKind::Json, JSON_IN),
        ("env", FormatKind::Dotenv, ENV_IN),
        ("ini", FormatKind::Ini, INI_IN),
    ];
    let mut opened = 0;
    for (ext, kind, input) in inputs {
        t.write(&format!("in.{ext}"), input);
        for (field, value) in rules {
            for mac_only in [false, true] {
                let what = format!("{ext} [{field}: {value}] mac_only_encrypted={mac_only}");
                let mut rule = format!(
                    "creation_rules:\n  - age: {RECIPIENT1}\n    mac_only_encrypted: {mac_only}\n"
                );
                if !field.is_empty() {
                    rule.push_str(&format!("    {field}: '{value}'\n"));
                }
                t.write(".sops.yaml", &rule);
                // sops -> botsecrets.
                let o = sops_env(
                    &sops_bin,
                    &[],
                    &[
                        "--config",
                        t.path(".sops.yaml").to_str().unwrap(),
                        "encrypt",
                        "--filename-override",
                        &format!("x.{ext}"),
                        t.path(&format!("in.{ext}")).to_str().unwrap(),
                    ],
                );
                assert!(
                    o.status.success(),
                    "{what}: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
                let name = format!("s.{ext}");
                t.write(&name, &String::from_utf8(o.stdout).unwrap());
                let ours = t.decrypt(&name);
                assert!(ours.0.status.success(), "{what}: {}", ours.stderr());
                let theirs = sops(
                    &sops_bin,
                    &key1(),
                    &["decrypt", t.path(&name).to_str().unwrap()],
                );
                assert!(theirs.status.success(), "{what}");
                let theirs = String::from_utf8(theirs.stdout).unwrap();
                assert_eq!(
                    values_of(&ours.stdout(), kind),
                    values_of(&theirs, kind),
                    "{what}"
                );
                // botsecrets -> sops.
                let mut args = vec!["encrypt", "--age", RECIPIENT1];
                let flag = format!("--{}", field.replace('_', "-"));
                if !field.is_empty() {
                    args.extend([flag.as_str(), value]);
                }
                if mac_only {
                    args.push("--mac-only-encrypted");
                }
                let input_name = format!("in.{ext}");
                args.push(&input_name);
                let enc = t.run(&args);
                enc.ok();
                let name = format!("b.{ext}");
                t.write(&name, &enc.stdout());
                let o = sops(
                    &sops_bin,
                    &key1(),
                    &["decrypt", t.path(&name).to_str().unwrap()],
                );
                assert!(
                    o.status.success(),
                    "{what}: sops cannot decrypt ours: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
                let theirs = String::from_utf8(o.stdout).unwrap();
                let ours = t.decrypt(&name);
                assert_eq!(
                    values_of(&ours.ok().stdout(), kind),
                    values_of(&theirs, kind),
                    "{what}"
                );
                opened += 1;
            }
        }
    }
    assert_eq!(opened, 56);
}

/// Every sops-made sample in testdata still opens (strict selection and
/// type checks refuse nothing sops writes).
#[test]
fn every_sops_sample_still_opens() {
    let dir = testdata().join("sops");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if !name.contains(".enc.") || name.ends_with(".bin") {
            continue;
        }
        let t = TestDir::new();
        let r = t.run(&[
            "decrypt",
            "--identity",
            &key(),
            "--identity",
            key2().to_str().unwrap(),
            path.to_str().unwrap(),
        ]);
        assert!(r.0.status.success(), "{name}: {}", r.stderr());
        n += 1;
    }
    assert!(n >= 8, "{n}");
}

/// `text` with the `type:` tag of the value on the line starting with
/// `line_start` replaced by `tag`.
fn retag(text: &str, line_start: &str, tag: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with(line_start) {
                let at = l.rfind(",type:").expect("an ENC value");
                format!("{},type:{tag}]", &l[..at])
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn type_tags_are_checked_by_every_command() {
    let plain = "# a note\npassword: hunter2-secret\nport: 8080\nwhen: 2024-01-02\n";
    type Edit<'a> = &'a dyn Fn(&str) -> String;
    let cases: [(&str, Edit, &str); 7] = [
        (
            "str as int",
            &|e| retag(e, "password:", "int"),
            "not a valid int",
        ),
        (
            "str as float",
            &|e| retag(e, "password:", "float"),
            "not a valid float",
        ),
        (
            "int as bool",
            &|e| retag(e, "port:", "bool"),
            "not a valid bool",
        ),
        (
            "str as time",
            &|e| retag(e, "password:", "time"),
            "not a valid time",
        ),
        (
            "unknown tag",
            &|e| retag(e, "password:", "nope"),
            "unknown value type",
        ),
        (
            "comment tag on a value",
            &|e| retag(e, "password:", "comment"),
            "a comment type tag where a value belongs",
        ),
        (
            "value tag on a comment",
            &|e| retag(e, "#ENC", "str"),
            "a str type tag where a comment belongs",
        ),
    ];
    for (what, edit, says) in cases {
        let t = TestDir::new();
        let enc = t.encrypt("s.yaml", plain);
        let bad = edit(&enc);
        assert_ne!(bad, enc, "{what}");
        t.write("s.yaml", &bad);
        let k = key();
        let runs = [
            t.run(&["decrypt", "--identity", &k, "s.yaml"]),
            t.run(&["get", "--identity", &k, "s.yaml", "port"]),
            t.run(&["export", "--format", "json", "--identity", &k, "s.yaml"]),
            t.run(&["exec", "--identity", &k, "--file", "s.yaml", "--", "true"]),
        ];
        for r in &runs {
            r.fails_with(25).leaks_none(&["hunter2-secret", "a note"]);
            assert!(r.stderr().contains(says), "{what}: {}", r.stderr());
        }
        let r = t.run(&["check", "--identity", &k, "s.yaml"]);
        r.fails_with(210).leaks_none(&["hunter2-secret", "a note"]);
        assert!(
            r.stdout().contains(": bad-value: "),
            "{what}: {}",
            r.stdout()
        );
        assert!(r.stdout().contains(says), "{what}: {}", r.stdout());
        assert_eq!(t.read("s.yaml"), bad, "{what}");
    }
}

/// The plaintexts sops writes for each type (`True`/`False`, negative
/// ints, `'f'` floats, RFC 3339 times) open and reach `exec`.
#[test]
fn every_type_sops_writes_opens() {
    let Some(sops_bin) = tool("sops") else { return };
    let t = TestDir::new();
    t.write(
        "in.yaml",
        "i: 8080\nn: -3\nf: 1.5\ne: 1e21\nb: true\nc: False\nd: 2024-01-02\nts: 2001-12-14 21:59:43.10 -5\n",
    );
    let o = sops(
        &sops_bin,
        &key1(),
        &[
            "encrypt",
            "--age",
            RECIPIENT1,
            t.path("in.yaml").to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    t.write("s.yaml", &String::from_utf8(o.stdout).unwrap());
    let theirs = sops(
        &sops_bin,
        &key1(),
        &["decrypt", t.path("s.yaml").to_str().unwrap()],
    );
    let ours = t.decrypt("s.yaml");
    assert_eq!(
        values_of(&ours.ok().stdout(), FormatKind::Yaml),
        values_of(&String::from_utf8(theirs.stdout).unwrap(), FormatKind::Yaml)
    );
    let k = key();
    t.run(&["exec", "--identity", &k, "--file", "s.yaml", "--", "true"])
        .ok();
}
