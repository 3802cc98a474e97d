//! recipients list/add/remove, updatekeys and rotate: who can read a file
//! after each, what ciphertext changed, and that sops still reads it.

use crate::util::*;

const PLAIN: &str = "# old key: sk-old\nweather:\n  api_key: wk-123\nslack:\n  token: xoxb-9\n  channel_unencrypted: ops\n";

fn both() -> String {
    format!("{RECIPIENT1},{RECIPIENT2}")
}

fn setup(t: &TestDir) {
    t.write("s.yaml", PLAIN);
    t.run(&["encrypt", "--age", &both(), "-i", "s.yaml"]).ok();
}

fn decrypt_with(t: &TestDir, key: &std::path::Path, file: &str) -> Run {
    t.run(&["decrypt", "--identity", key.to_str().unwrap(), file])
}

#[test]
fn list_shows_recipients_without_a_key() {
    let t = TestDir::new();
    setup(&t);
    let r = t.run(&["recipients", "list", "s.yaml"]);
    r.ok();
    assert_eq!(r.stdout(), format!("{RECIPIENT1}\n{RECIPIENT2}\n"));
}

#[test]
fn add_rewraps_the_data_key_and_keeps_every_value() {
    let t = TestDir::new();
    t.write("s.yaml", PLAIN);
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"])
        .ok();
    let before = t.read("s.yaml");
    decrypt_with(&t, &key2(), "s.yaml").fails_with(128);
    let r = t.run(&[
        "recipients",
        "add",
        "--identity",
        key1().to_str().unwrap(),
        "s.yaml",
        RECIPIENT2,
    ]);
    r.ok();
    let after = t.read("s.yaml");
    assert_eq!(enc_lines(&before), enc_lines(&after));
    assert_eq!(decrypt_with(&t, &key2(), "s.yaml").stdout(), PLAIN);
    assert_eq!(decrypt_with(&t, &key1(), "s.yaml").stdout(), PLAIN);
    // Adding again is a no-op that says so.
    let r = t.run(&["recipients", "add", "s.yaml", RECIPIENT2]);
    r.ok();
    assert!(r.stderr().contains("already a recipient"));
    assert_eq!(t.read("s.yaml"), after);
    // An invalid recipient is rejected with the accepted forms.
    let r = t.run(&["recipients", "add", "s.yaml", "bob@example.com"]);
    r.fails_with(111);
    assert!(r.stderr().contains("ssh-ed25519") && r.stderr().contains("age1yubikey1"));
}

#[test]
fn remove_always_rotates_and_prints_the_checklist() {
    let t = TestDir::new();
    setup(&t);
    let before = t.read("s.yaml");
    let r = t.run(&[
        "recipients",
        "remove",
        "--identity",
        key1().to_str().unwrap(),
        "s.yaml",
        RECIPIENT2,
    ]);
    r.ok().leaks_none(&["wk-123", "xoxb-9", "sk-old"]);
    assert_eq!(r.stdout(), "- [ ] weather.api_key\n- [ ] slack.token\n");
    assert!(
        r.stderr().contains("rotated the data key"),
        "{}",
        r.stderr()
    );
    assert!(r.stderr().contains("1 encrypted comment"), "{}", r.stderr());
    let after = t.read("s.yaml");
    // Every encrypted value (and the comment) has new ciphertext.
    let (b, a) = (enc_lines(&before), enc_lines(&after));
    assert_eq!(b.len(), 3);
    for (x, y) in b.iter().zip(&a) {
        assert_ne!(x, y);
    }
    assert!(after.contains("channel_unencrypted: ops"));
    // The removed identity cannot decrypt; the remaining one can.
    let r = decrypt_with(&t, &key2(), "s.yaml");
    r.fails_with(128);
    assert!(r.stderr().contains(RECIPIENT1), "{}", r.stderr());
    assert_eq!(decrypt_with(&t, &key1(), "s.yaml").stdout(), PLAIN);
    assert_eq!(
        t.run(&["recipients", "list", "s.yaml"]).stdout(),
        format!("{RECIPIENT1}\n")
    );
    // sops reads the result.
    let Some(sops_bin) = tool("sops") else { return };
    let out = sops(
        &sops_bin,
        &key1(),
        &["decrypt", t.path("s.yaml").to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = sops(
        &sops_bin,
        &key2(),
        &["decrypt", t.path("s.yaml").to_str().unwrap()],
    );
    assert!(!out.status.success());
}

#[test]
fn remove_refuses_unknown_and_last_recipients() {
    let t = TestDir::new();
    t.write("s.yaml", PLAIN);
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"])
        .ok();
    let before = t.read("s.yaml");
    let r = t.run(&["recipients", "remove", "s.yaml", RECIPIENT2]);
    r.fails_with(1);
    assert!(r.stderr().contains("is not a recipient"), "{}", r.stderr());
    let r = t.run(&["recipients", "remove", "s.yaml", RECIPIENT1]);
    r.fails_with(111);
    assert!(r.stderr().contains("no recipients"), "{}", r.stderr());
    assert_eq!(t.read("s.yaml"), before);
}

#[test]
fn rotate_changes_every_value_and_keeps_the_recipients() {
    let t = TestDir::new();
    setup(&t);
    let before = t.read("s.yaml");
    let r = t.run(&["rotate", "--identity", key2().to_str().unwrap(), "s.yaml"]);
    r.ok();
    let after = t.read("s.yaml");
    for (x, y) in enc_lines(&before).iter().zip(&enc_lines(&after)) {
        assert_ne!(x, y);
    }
    assert_eq!(decrypt_with(&t, &key1(), "s.yaml").stdout(), PLAIN);
    assert_eq!(decrypt_with(&t, &key2(), "s.yaml").stdout(), PLAIN);
    let Some(sops_bin) = tool("sops") else { return };
    let out = sops(
        &sops_bin,
        &key2(),
        &["decrypt", t.path("s.yaml").to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn rotate_notes_a_rule_mismatch() {
    let t = TestDir::new();
    setup(&t);
    t.write(
        ".botsecrets.yaml",
        &format!("creation_rules:\n  - age: {RECIPIENT1}\n"),
    );
    let r = t.run(&["rotate", "--identity", key1().to_str().unwrap(), "s.yaml"]);
    r.ok();
    assert!(
        r.stderr().contains("run `botsecrets updatekeys s.yaml`"),
        "{}",
        r.stderr()
    );
    // The recipients did not change.
    assert_eq!(
        t.run(&["recipients", "list", "s.yaml"]).stdout(),
        format!("{RECIPIENT1}\n{RECIPIENT2}\n")
    );
}

#[test]
fn updatekeys_asks_refuses_without_a_terminal_and_rotates_on_removal() {
    let t = TestDir::new();
    setup(&t);
    t.write(
        ".botsecrets.yaml",
        &format!("creation_rules:\n  - age: {RECIPIENT1}\n"),
    );
    let before = t.read("s.yaml");
    let r = t.run_no_tty(&["updatekeys", "s.yaml"], &[]);
    r.fails_with(209);
    assert!(
        r.stderr().contains(&format!("  - {RECIPIENT2}")),
        "{}",
        r.stderr()
    );
    assert!(r.stderr().contains("--yes"));
    assert_eq!(t.read("s.yaml"), before);
    let r = t.run(&[
        "updatekeys",
        "--yes",
        "--identity",
        key1().to_str().unwrap(),
        "s.yaml",
    ]);
    r.ok();
    assert_eq!(r.stdout(), "- [ ] weather.api_key\n- [ ] slack.token\n");
    let after = t.read("s.yaml");
    for (x, y) in enc_lines(&before).iter().zip(&enc_lines(&after)) {
        assert_ne!(x, y);
    }
    decrypt_with(&t, &key2(), "s.yaml").fails_with(128);
    assert_eq!(decrypt_with(&t, &key1(), "s.yaml").stdout(), PLAIN);
    // Already in line: nothing to do.
    let r = t.run(&["updatekeys", "s.yaml"]);
    r.ok();
    assert!(
        r.stderr().contains("already matches rule 1"),
        "{}",
        r.stderr()
    );
    assert_eq!(t.read("s.yaml"), after);
}

#[test]
fn updatekeys_adding_only_keeps_the_values() {
    let t = TestDir::new();
    t.write("s.yaml", PLAIN);
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"])
        .ok();
    t.write(
        ".sops.yaml",
        &format!("creation_rules:\n  - age: [{RECIPIENT1}, {RECIPIENT2}]\n"),
    );
    let before = t.read("s.yaml");
    let r = t.run(&[
        "updatekeys",
        "-y",
        "--identity",
        key1().to_str().unwrap(),
        "s.yaml",
    ]);
    r.ok();
    assert_eq!(enc_lines(&before), enc_lines(&t.read("s.yaml")));
    assert_eq!(decrypt_with(&t, &key2(), "s.yaml").stdout(), PLAIN);
}

#[test]
fn updatekeys_confirms_on_a_terminal() {
    let t = TestDir::new();
    t.write("s.yaml", PLAIN);
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"])
        .ok();
    t.write(
        ".botsecrets.yaml",
        &format!("creation_rules:\n  - age: {RECIPIENT1},{RECIPIENT2}\n"),
    );
    let mut cmd = t.cmd();
    cmd.args([
        "updatekeys",
        "--identity",
        key1().to_str().unwrap(),
        "s.yaml",
    ]);
    let mut p = rexpect::session::spawn_command(cmd, Some(30_000)).expect("pty");
    p.exp_string(&format!("+ {RECIPIENT2}")).unwrap();
    p.exp_string("Apply to s.yaml? [y/N]").unwrap();
    p.send_line("y").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(decrypt_with(&t, &key2(), "s.yaml").stdout(), PLAIN);
}

#[test]
fn shamir_files_keep_their_groups_on_remove() {
    let t = TestDir::new();
    let k3 = t.path("k3.txt");
    t.run(&["keygen", "-o", k3.to_str().unwrap()]).ok();
    let r3 = std::fs::read_to_string(&k3)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(str::to_owned))
        .unwrap();
    t.write(
        ".botsecrets.yaml",
        &format!(
            "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age: [{RECIPIENT1}, {r3}]\n      - age: [{RECIPIENT2}]\n"
        ),
    );
    t.write("s.yaml", PLAIN);
    t.run(&["encrypt", "-i", "s.yaml"]).ok();
    let both = format!(
        "{}\n{}",
        std::fs::read_to_string(key1()).unwrap(),
        std::fs::read_to_string(key2()).unwrap()
    );
    t.write("both.txt", &both);
    let r = t.run(&[
        "recipients",
        "remove",
        "--identity",
        "both.txt",
        "s.yaml",
        &r3,
    ]);
    r.ok();
    let enc = t.read("s.yaml");
    assert!(
        enc.contains("shamir_threshold: 2") && !enc.contains(&r3),
        "{enc}"
    );
    assert_eq!(
        t.run(&["decrypt", "--identity", "both.txt", "s.yaml"])
            .stdout(),
        PLAIN
    );
    // A group may not become empty.
    let r = t.run(&[
        "recipients",
        "remove",
        "--identity",
        "both.txt",
        "s.yaml",
        RECIPIENT2,
    ]);
    r.fails_with(111);
    assert!(r.stderr().contains("key group 2 empty"), "{}", r.stderr());
    // Adding to a Shamir file needs --group.
    t.run(&["recipients", "add", "s.yaml", &r3]).fails_with(1);
    t.run(&[
        "recipients",
        "add",
        "--group",
        "2",
        "--identity",
        "both.txt",
        "s.yaml",
        &r3,
    ])
    .ok();
    let list = t.run(&["recipients", "list", "s.yaml"]).stdout();
    assert!(
        list.contains(&format!("group 2:\n  {RECIPIENT2}\n  {r3}")),
        "{list}"
    );
}

#[test]
fn removing_a_recipient_the_rules_still_list_warns() {
    let t = TestDir::new();
    t.write(
        ".botsecrets.yaml",
        &format!("creation_rules:\n  - path_regex: \\.yaml$\n    age: {RECIPIENT1},{RECIPIENT2}\n"),
    );
    t.write("s.yaml", "token: t1\n");
    t.run(&["encrypt", "-i", "s.yaml"]).ok();
    let r = t.run(&[
        "recipients",
        "remove",
        "--identity",
        key1().to_str().unwrap(),
        "s.yaml",
        RECIPIENT2,
    ]);
    r.ok();
    assert!(
        r.stderr().contains(&format!(
            "{RECIPIENT2} is still a recipient in its creation rule"
        )),
        "{}",
        r.stderr()
    );
    assert!(r.stderr().contains("updatekeys"));
}
