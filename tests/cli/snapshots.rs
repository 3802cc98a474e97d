//! Transcript tests (issue 16): every command's `--help`, and the main
//! error messages with their exit codes, compared whole against the files
//! in `tests/cli/snapshots/` (snapbox). A doubled cause, a lost hint or a
//! changed exit code fails here where a `contains()` would pass.
//!
//! To accept an intended change: `SNAPSHOTS=overwrite cargo test --test cli
//! snapshots`, then review the diff. `[..]` in a snapshot matches anything
//! on its line (temporary directories). No snapshot holds a secret: the
//! values used are test values, and each error test also checks that the
//! secret is not printed.

use std::path::PathBuf;

use crate::util::*;

fn snapshot(name: &str) -> snapbox::Data {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cli/snapshots")
        .join(format!("{name}.txt"));
    snapbox::Data::read_from(&path, None)
}

/// `exit: N` and stderr, as one transcript.
fn transcript(r: &Run) -> String {
    format!("exit: {}\n{}", r.code(), r.stderr())
}

#[test]
fn help_of_every_command() {
    let t = TestDir::new();
    let commands: &[&[&str]] = &[
        &[],
        &["keygen"],
        &["encrypt"],
        &["decrypt"],
        &["edit"],
        &["set"],
        &["unset"],
        &["get"],
        &["exec"],
        &["export"],
        &["recipients"],
        &["recipients", "list"],
        &["recipients", "add"],
        &["recipients", "remove"],
        &["updatekeys"],
        &["seal"],
        &["rotate"],
        &["check"],
        &["audit"],
        &["init"],
        &["completions"],
        &["man"],
        &["git"],
        &["git", "install"],
        &["git", "textconv"],
        &["git", "merge"],
    ];
    for cmd in commands {
        let mut args = cmd.to_vec();
        args.push("--help");
        let r = t.run(&args);
        r.ok();
        let name = if cmd.is_empty() {
            "help".to_owned()
        } else {
            format!("help-{}", cmd.join("-"))
        };
        snapbox::assert_data_eq!(r.stdout(), snapshot(&name));
    }
}

const SECRET: &str = "wk-snapshot-123";

fn encrypted(t: &TestDir) {
    t.write("s.yaml", &format!("weather:\n  api_key: {SECRET}\n"));
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"])
        .ok();
}

fn decrypt(t: &TestDir, key: &std::path::Path) -> Run {
    t.run(&["decrypt", "--identity", key.to_str().unwrap(), "s.yaml"])
}

#[test]
fn error_not_encrypted() {
    let t = TestDir::new();
    t.write("s.yaml", "a: b\n");
    let r = decrypt(&t, &key1());
    snapbox::assert_data_eq!(transcript(&r), snapshot("error-not-encrypted"));
}

#[test]
fn error_already_encrypted() {
    let t = TestDir::new();
    encrypted(&t);
    let r = t.run(&["encrypt", "--age", RECIPIENT1, "s.yaml"]);
    r.leaks_none(&[SECRET]);
    snapbox::assert_data_eq!(transcript(&r), snapshot("error-already-encrypted"));
}

#[test]
fn error_no_file() {
    let t = TestDir::new();
    let r = decrypt(&t, &key1());
    snapbox::assert_data_eq!(transcript(&r), snapshot("error-no-file"));
}

#[test]
fn error_syntax() {
    let t = TestDir::new();
    t.write("s.yaml", "a: [b\n");
    let r = t.run(&["encrypt", "--age", RECIPIENT1, "s.yaml"]);
    snapbox::assert_data_eq!(transcript(&r), snapshot("error-syntax"));
}

#[test]
fn error_no_identity() {
    let t = TestDir::new();
    encrypted(&t);
    let r = decrypt(&t, &key2());
    r.leaks_none(&[SECRET]);
    snapbox::assert_data_eq!(transcript(&r), snapshot("error-no-identity"));
}

#[test]
fn error_mac_mismatch() {
    let t = TestDir::new();
    encrypted(&t);
    let text = t.read("s.yaml");
    // Another file's MAC: every value opens, the MAC does not match.
    let t2 = TestDir::new();
    t2.write("s.yaml", "weather:\n  api_key: other\n");
    t2.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"])
        .ok();
    let mac = |s: &str| {
        s.lines()
            .find(|l| l.trim_start().starts_with("mac:"))
            .unwrap()
            .to_owned()
    };
    let lm = |s: &str| {
        s.lines()
            .find(|l| l.trim_start().starts_with("lastmodified:"))
            .unwrap()
            .to_owned()
    };
    let other = t2.read("s.yaml");
    t.write(
        "s.yaml",
        &text
            .replace(&mac(&text), &mac(&other))
            .replace(&lm(&text), &lm(&other)),
    );
    let r = decrypt(&t, &key1());
    r.leaks_none(&[SECRET]);
    snapbox::assert_data_eq!(transcript(&r), snapshot("error-mac-mismatch"));
}

#[test]
fn error_malformed_value() {
    let t = TestDir::new();
    encrypted(&t);
    let text = t.read("s.yaml");
    let at = text.find("ENC[AES256_GCM,data:").unwrap() + 20;
    let mut bad = text.clone();
    bad.replace_range(at..at + 1, "!");
    t.write("s.yaml", &bad);
    let r = decrypt(&t, &key1());
    r.leaks_none(&[SECRET]);
    snapbox::assert_data_eq!(transcript(&r), snapshot("error-malformed-value"));
}

#[test]
fn error_path_not_found() {
    let t = TestDir::new();
    encrypted(&t);
    let r = t.run(&[
        "get",
        "--identity",
        key1().to_str().unwrap(),
        "s.yaml",
        "weather.nope",
    ]);
    r.leaks_none(&[SECRET]);
    snapbox::assert_data_eq!(transcript(&r), snapshot("error-path-not-found"));
}

#[test]
fn error_no_recipients() {
    let t = TestDir::new();
    t.write("s.yaml", "a: b\n");
    let r = t.run(&["encrypt", "s.yaml"]);
    snapbox::assert_data_eq!(transcript(&r), snapshot("error-no-recipients"));
}

#[test]
fn error_not_confirmed() {
    let t = TestDir::new();
    encrypted(&t);
    t.write(
        ".botsecrets.yaml",
        &format!("creation_rules:\n  - age: {RECIPIENT1},{RECIPIENT2}\n"),
    );
    let r = t.run_no_tty(&["updatekeys", "s.yaml"], &[]);
    snapbox::assert_data_eq!(transcript(&r), snapshot("error-not-confirmed"));
}

#[test]
fn error_unset_missing_path() {
    let t = TestDir::new();
    encrypted(&t);
    let r = t.run(&[
        "unset",
        "--identity",
        key1().to_str().unwrap(),
        "s.yaml",
        "nope",
    ]);
    snapbox::assert_data_eq!(transcript(&r), snapshot("error-unset-missing-path"));
}

#[test]
fn error_usage() {
    let t = TestDir::new();
    let r = t.run(&["decrypt", "--no-such-flag"]);
    snapbox::assert_data_eq!(transcript(&r), snapshot("error-usage"));
}

#[test]
fn error_recipients_remove_the_last_and_a_stranger() {
    let t = TestDir::new();
    encrypted(&t);
    let key = key1();
    let key = key.to_str().unwrap();
    let r = t.run(&[
        "recipients",
        "remove",
        "--identity",
        key,
        "s.yaml",
        RECIPIENT1,
    ]);
    r.leaks_none(&[SECRET]);
    snapbox::assert_data_eq!(transcript(&r), snapshot("error-remove-last-recipient"));
    let r = t.run(&[
        "recipients",
        "remove",
        "--identity",
        key,
        "s.yaml",
        RECIPIENT2,
    ]);
    r.leaks_none(&[SECRET]);
    snapbox::assert_data_eq!(transcript(&r), snapshot("error-remove-not-a-recipient"));
}
