//! `botsecrets keygen`.

use std::os::unix::fs::PermissionsExt;

use crate::util::*;

#[test]
fn writes_a_0600_identity_and_prints_its_recipient() {
    let t = TestDir::new();
    let r = t.run(&["keygen", "-o", "bot.key"]);
    r.ok();
    let recipient = r.stdout().trim().to_owned();
    assert!(recipient.starts_with("age1"), "{recipient}");
    let text = t.read("bot.key");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("# created: "));
    assert_eq!(lines[1], format!("# public key: {recipient}"));
    assert!(lines[2].starts_with("AGE-SECRET-KEY-1"));
    assert_eq!(
        std::fs::metadata(t.path("bot.key"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    // The secret key is never printed when it goes to a file.
    assert!(!r.stdout().contains("AGE-SECRET-KEY"));
}

#[test]
fn refuses_to_overwrite() {
    let t = TestDir::new();
    t.write("bot.key", "precious\n");
    let r = t.run(&["keygen", "-o", "bot.key"]);
    r.fails_with(206);
    assert!(
        r.stderr().contains("bot.key already exists"),
        "{}",
        r.stderr()
    );
    assert_eq!(t.read("bot.key"), "precious\n");
}

#[test]
fn without_output_prints_the_identity() {
    let t = TestDir::new();
    let r = t.run(&["keygen"]);
    r.ok();
    assert!(r.stdout().contains("AGE-SECRET-KEY-1"));
    assert!(r.stderr().starts_with("Public key: age1"));
}

#[test]
fn generated_key_works_with_the_real_age() {
    let Some(age) = tool("age") else { return };
    let t = TestDir::new();
    let recipient = t.run(&["keygen", "-o", "k.txt"]).stdout().trim().to_owned();
    let enc = std::process::Command::new(&age)
        .args(["-r", &recipient, "-o", t.path("m.age").to_str().unwrap()])
        .arg(t.write("m.txt", "hello").to_str().unwrap())
        .output()
        .unwrap();
    assert!(enc.status.success());
    let dec = std::process::Command::new(&age)
        .args([
            "-d",
            "-i",
            t.path("k.txt").to_str().unwrap(),
            t.path("m.age").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(dec.stdout).unwrap(), "hello");
}
