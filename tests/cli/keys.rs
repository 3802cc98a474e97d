//! Key kinds: SSH identities (plain and passphrase-protected, default
//! locations), passphrase-encrypted age identity files (prompted on a
//! pseudo-terminal), a fake age plugin on PATH, key commands, and the
//! "no identity matches" message.

use std::path::{Path, PathBuf};

use crate::util::*;

const PLAIN: &str = "api:\n  key: sk-live-123\n";

/// `ssh-keygen -t KIND` into `dir/name` with `passphrase`; returns the
/// public key text, or `None` (skip) without ssh-keygen.
fn ssh_keygen(t: &TestDir, kind: &str, name: &str, passphrase: &str) -> Option<String> {
    let keygen = tool("ssh-keygen")?;
    let path = t.path(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    let mut c = std::process::Command::new(keygen);
    c.args(["-q", "-t", kind, "-N", passphrase, "-C", "bot@test", "-f"])
        .arg(&path);
    if kind == "rsa" {
        c.args(["-b", "2048"]);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        std::fs::read_to_string(path.with_extension("pub"))
            .unwrap()
            .trim()
            .to_owned(),
    )
}

fn encrypt_for(t: &TestDir, recipient: &str) {
    t.write("s.yaml", PLAIN);
    t.run(&["encrypt", "--age", recipient, "-i", "s.yaml"]).ok();
}

#[test]
fn ssh_ed25519_and_rsa_identities_interop_with_sops() {
    let t = TestDir::new();
    for kind in ["ed25519", "rsa"] {
        let Some(public) = ssh_keygen(&t, kind, &format!("id_{kind}"), "") else {
            return;
        };
        encrypt_for(&t, &public);
        let key = t.path(&format!("id_{kind}"));
        let r = t.run(&["decrypt", "--identity", key.to_str().unwrap(), "s.yaml"]);
        r.ok();
        assert_eq!(r.stdout(), PLAIN);
        for var in [
            "BOTSECRETS_AGE_SSH_PRIVATE_KEY_FILE",
            "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
        ] {
            let r = Run(t
                .cmd()
                .env(var, &key)
                .args(["decrypt", "s.yaml"])
                .output()
                .unwrap());
            r.ok();
            assert_eq!(r.stdout(), PLAIN);
        }
        if let Some(sops) = tool("sops") {
            let out = sops_env(
                &sops,
                &[("SOPS_AGE_SSH_PRIVATE_KEY_FILE", key.to_str().unwrap())],
                &["decrypt", t.path("s.yaml").to_str().unwrap()],
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
                values_of(PLAIN, botsecrets::format::FormatKind::Yaml)
            );
        }
    }
}

#[test]
fn default_ssh_key_in_home_is_used() {
    let t = TestDir::new();
    let Some(public) = ssh_keygen(&t, "ed25519", "home/.ssh/id_ed25519", "") else {
        return;
    };
    encrypt_for(&t, &public);
    let r = t.run(&["decrypt", "s.yaml"]);
    r.ok();
    assert_eq!(r.stdout(), PLAIN);
}

#[test]
fn no_identity_message_lists_recipients_and_public_forms_with_sources() {
    let t = TestDir::new();
    let Some(public) = ssh_keygen(&t, "ed25519", "id_ed25519", "") else {
        return;
    };
    encrypt_for(&t, RECIPIENT1);
    let key = t.path("id_ed25519");
    let r = t.run(&[
        "decrypt",
        "--identity",
        key.to_str().unwrap(),
        "--identity",
        key2().to_str().unwrap(),
        "s.yaml",
    ]);
    r.fails_with(128);
    let err = r.stderr();
    let ssh_public = public
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        err.contains(&format!(
            "no identity matches this file's recipients: {RECIPIENT1}"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{ssh_public} (from --identity {}", key.display())),
        "{err}"
    );
    assert!(
        err.contains(&format!("{RECIPIENT2} (from --identity")),
        "{err}"
    );
}

#[test]
fn passphrase_protected_ssh_key_prompts_on_a_terminal_and_fails_cleanly_without() {
    let t = TestDir::new();
    let Some(public) = ssh_keygen(&t, "ed25519", "id_ed25519", "correct horse") else {
        return;
    };
    encrypt_for(&t, &public);
    let key = t.path("id_ed25519");
    let mut cmd = t.cmd();
    cmd.args(["decrypt", "--identity", key.to_str().unwrap(), "s.yaml"]);
    let mut p = rexpect::session::spawn_command(cmd, Some(30_000)).expect("pty");
    p.exp_string("Passphrase for SSH key").unwrap();
    p.send_line("correct horse").unwrap();
    p.exp_string("sk-live-123").unwrap();
    p.exp_eof().unwrap();

    let r = t.run_no_tty(
        &["decrypt", "--identity", key.to_str().unwrap(), "s.yaml"],
        &[],
    );
    r.fails_with(128);
    assert!(
        r.stderr()
            .contains("passphrase-protected, and there is no terminal to ask for the passphrase"),
        "{}",
        r.stderr()
    );
}

#[test]
fn an_unrelated_passphrase_protected_default_ssh_key_is_never_asked_about() {
    let t = TestDir::new();
    if ssh_keygen(&t, "ed25519", "home/.ssh/id_ed25519", "secret").is_none() {
        return;
    }
    encrypt_for(&t, RECIPIENT1);
    let r = t.run_no_tty(
        &["decrypt", "s.yaml"],
        &[("BOTSECRETS_AGE_KEY_FILE", key1().to_str().unwrap())],
    );
    r.ok();
    assert_eq!(r.stdout(), PLAIN);
}

/// A passphrase-encrypted identity file made by the real `age -p` (driven
/// on a pty); `None` without age.
fn age_p(t: &TestDir, secret_key: &Path, passphrase: &str) -> Option<PathBuf> {
    let age = tool("age")?;
    let out = t.path("key.age");
    let mut cmd = std::process::Command::new(age);
    cmd.args(["-p", "-a", "-o"]).arg(&out).arg(secret_key);
    let mut p = rexpect::session::spawn_command(cmd, Some(30_000)).expect("pty");
    p.exp_string("passphrase").unwrap();
    p.send_line(passphrase).unwrap();
    p.exp_string("passphrase").unwrap();
    p.send_line(passphrase).unwrap();
    p.exp_eof().unwrap();
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    Some(out)
}

#[test]
fn passphrase_encrypted_identity_file_from_age_p() {
    let t = TestDir::new();
    let Some(enc_key) = age_p(&t, &key1(), "s3cret pass") else {
        return;
    };
    encrypt_for(&t, RECIPIENT1);
    let mut cmd = t.cmd();
    cmd.args(["decrypt", "--identity", enc_key.to_str().unwrap(), "s.yaml"]);
    let mut p = rexpect::session::spawn_command(cmd, Some(60_000)).expect("pty");
    p.exp_string("Passphrase for identity file").unwrap();
    p.send_line("wrong").unwrap();
    p.exp_string("wrong passphrase").unwrap();
    p.exp_string("Passphrase for identity file").unwrap();
    p.send_line("s3cret pass").unwrap();
    p.exp_string("sk-live-123").unwrap();
    p.exp_eof().unwrap();

    let r = t.run_no_tty(
        &["decrypt", "s.yaml"],
        &[("BOTSECRETS_AGE_KEY_FILE", enc_key.to_str().unwrap())],
    );
    r.fails_with(128);
    assert!(r.stderr().contains("no terminal"), "{}", r.stderr());
    // When another identity opens the file, the passphrase is not asked.
    let r = t.run_no_tty(
        &["decrypt", "s.yaml"],
        &[
            ("BOTSECRETS_AGE_KEY_FILE", enc_key.to_str().unwrap()),
            ("SOPS_AGE_KEY_FILE", key1().to_str().unwrap()),
        ],
    );
    r.ok();
}

/// A bin directory holding the fake plugin, and PATH with it first.
fn plugin_path(t: &TestDir) -> String {
    let bin = t.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(
        testdata().join("plugin/age-plugin-xyz"),
        bin.join("age-plugin-xyz"),
    )
    .unwrap();
    let old = std::env::var("PATH").unwrap_or_default();
    format!("{}:{old}", bin.display())
}

const PLUGIN_RECIPIENT: &str = "age1xyz1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5z5tpwxqergd3c8g7rusqdjqtvx";

#[test]
fn plugin_recipients_and_identities_go_through_the_plugin_binary() {
    if tool("python3").is_none() {
        return;
    }
    let t = TestDir::new();
    let path = plugin_path(&t);
    let log = t.path("plugin.log");
    t.write("s.yaml", PLAIN);
    let r = Run(t
        .cmd()
        .env("PATH", &path)
        .env("FAKE_PLUGIN_LOG", &log)
        .args([
            "encrypt",
            "--age",
            &format!("{PLUGIN_RECIPIENT},{RECIPIENT1}"),
            "-i",
            "s.yaml",
        ])
        .output()
        .unwrap());
    r.ok();
    let id = testdata().join("plugin/identity.txt");
    let r = Run(t
        .cmd()
        .env("PATH", &path)
        .env("FAKE_PLUGIN_LOG", &log)
        .args(["decrypt", "--identity", id.to_str().unwrap(), "s.yaml"])
        .output()
        .unwrap());
    r.ok();
    assert_eq!(r.stdout(), PLAIN);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "recipient-v1\nidentity-v1\n"
    );
    // Without the plugin on PATH: a clean error naming it.
    let r = t.run(&["decrypt", "--identity", id.to_str().unwrap(), "s.yaml"]);
    r.fails_with(128);
    assert!(
        r.stderr().contains(&format!(
            "tried {PLUGIN_RECIPIENT} [age-plugin-xyz not found on PATH"
        )),
        "{}",
        r.stderr()
    );
    assert!(
        r.stderr().contains("age-plugin-xyz not found on PATH"),
        "{}",
        r.stderr()
    );
    t.write("p.yaml", PLAIN);
    let r = t.run(&["encrypt", "--age", PLUGIN_RECIPIENT, "p.yaml"]);
    r.fails_with(111);
    assert!(
        r.stderr().contains("age-plugin-xyz not found on PATH"),
        "{}",
        r.stderr()
    );
    // sops drives the same plugin.
    if let Some(sops) = tool("sops") {
        let out = sops_env(
            &sops,
            &[("PATH", &path), ("SOPS_AGE_KEY_FILE", id.to_str().unwrap())],
            &["decrypt", t.path("s.yaml").to_str().unwrap()],
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
            values_of(PLAIN, botsecrets::format::FormatKind::Yaml)
        );
    }
}

#[test]
fn key_commands_supply_identities() {
    let t = TestDir::new();
    encrypt_for(&t, RECIPIENT1);
    for var in ["BOTSECRETS_AGE_KEY_CMD", "SOPS_AGE_KEY_CMD"] {
        let cmd = format!("cat '{}'", key1().display());
        let r = Run(t
            .cmd()
            .env(var, &cmd)
            .args(["decrypt", "s.yaml"])
            .output()
            .unwrap());
        r.ok();
        assert_eq!(r.stdout(), PLAIN);
    }
    let r = Run(t
        .cmd()
        .env("BOTSECRETS_AGE_KEY_CMD", "false")
        .args(["decrypt", "s.yaml"])
        .output()
        .unwrap());
    r.fails_with(128);
    assert!(
        r.stderr()
            .contains("BOTSECRETS_AGE_KEY_CMD: the command \"false\" failed (exit status 1)"),
        "{}",
        r.stderr()
    );
    let r = Run(t
        .cmd()
        .env("BOTSECRETS_AGE_KEY_CMD", "no-such-command-xyz")
        .args(["decrypt", "s.yaml"])
        .output()
        .unwrap());
    r.fails_with(128);
    assert!(r.stderr().contains("cannot run"), "{}", r.stderr());
}

#[test]
fn invalid_recipients_list_the_accepted_forms() {
    let t = TestDir::new();
    t.write("s.yaml", PLAIN);
    let r = t.run(&["encrypt", "--age", "ssh-dss AAAA", "s.yaml"]);
    r.fails_with(111);
    let err = r.stderr();
    for form in [
        "age1...",
        "ssh-ed25519 AAAA...",
        "ssh-rsa AAAA...",
        "age1yubikey1...",
    ] {
        assert!(err.contains(form), "{err}");
    }
}
