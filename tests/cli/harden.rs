//! Issue #10, items 9-12: `exec`/`export` refuse environment names that
//! change how programs run; `edit` keeps vim from writing copies of the
//! plaintext; a private key where a recipient belongs is never echoed; and
//! edge inputs (empty block scalars at the end, byte order marks) encrypt
//! as sops does instead of failing with an internal error.

use crate::util::*;

const BOM: &str = "\u{feff}";

// ---------------------------------------------------------------------------
// Item 12: parser edge inputs.

/// Inputs that failed with "internal error" (or were misread) before, per
/// file name; each must encrypt, decrypt back to the same bytes, and (where
/// sops has the format) give what sops gives.
const EDGE_INPUTS: &[(&str, &str)] = &[
    ("t.yaml", "a: |\n"),
    ("t.yaml", "a: >-\n"),
    ("t.yaml", "a: |+\n"),
    ("t.yaml", "a: >\n"),
    ("t.yaml", "b: x\na: |\n"),
    ("t.yaml", "a: |\n\n\n"),
    ("t.yaml", "l:\n- |\n"),
    ("t.yaml", "a:\n  b: |-\n"),
    ("t.yaml", "a: &x |\n"),
    ("t.yaml", "a: |+\n  x\n\n"),
    ("t.yaml", "a: >+\n  x\n\n\n"),
    ("t.yaml", "a: |+\n\n\n"),
    ("t.yaml", "a: |+\n  x\n\n# after\n"),
    ("t.yaml", "\u{feff}a: x\n"),
    ("t.yaml", "\u{feff}a: x\nb:\n  c: y\n"),
    ("t.yaml", "\u{feff}---\na: x\n"),
    ("t.yaml", "\u{feff}# c\na: x\n"),
    ("t.yaml", "\u{feff}a: |\n"),
    ("t.env", "\u{feff}K=v\n"),
    ("t.env", "\u{feff}export K=v\nL=w\n"),
    ("t.ini", "\u{feff}[s]\nk = v\n"),
    ("t.ini", "\u{feff}k = v\n"),
    ("t.ini", "\u{feff}; c\n[s]\nk = v\n"),
    ("t.toml", "\u{feff}k = \"v\"\n"),
    ("t.toml", "\u{feff}[s]\nk = \"v\"\n"),
];

/// The same inputs without a final line break (where that is still valid).
fn edge_inputs() -> Vec<(&'static str, String)> {
    let mut out: Vec<(&str, String)> = EDGE_INPUTS
        .iter()
        .map(|(n, t)| (*n, (*t).to_owned()))
        .collect();
    for (n, t) in EDGE_INPUTS {
        if n.ends_with(".yaml") {
            out.push((n, t.trim_end_matches('\n').to_owned()));
        }
    }
    out
}

#[test]
fn edge_inputs_encrypt_and_decrypt_back() {
    let t = TestDir::new();
    for (name, plain) in edge_inputs() {
        t.write(name, &plain);
        let enc = t.run(&["encrypt", "--age", RECIPIENT1, name]);
        assert!(
            enc.0.status.success(),
            "{plain:?}: exit {}: {}",
            enc.code(),
            enc.stderr()
        );
        assert!(!enc.stderr().contains("internal error"), "{plain:?}");
        let text = enc.stdout();
        // The byte order mark stays the file's first bytes.
        assert_eq!(
            text.starts_with(BOM),
            plain.starts_with(BOM),
            "{plain:?}:\n{text}"
        );
        t.write("enc", &text);
        let dec = t.run(&[
            "decrypt",
            "--identity",
            key1().to_str().unwrap(),
            "--input-type",
            &name[2..],
            "enc",
        ]);
        dec.ok();
        let back = dec.stdout();
        if plain.starts_with(BOM) {
            assert!(back.starts_with(BOM), "{plain:?}: {back:?}");
        }
        let kind = botsecrets::format::FormatKind::from_path(std::path::Path::new(name)).unwrap();
        assert_eq!(
            values_of(&back, kind),
            values_of(&plain, kind),
            "{plain:?} decrypts to {back:?}"
        );
    }
}

/// sops decrypts what botsecrets wrote to the data it gets from its own
/// encryption of the same input (yaml, dotenv and ini: sops has no toml).
#[test]
fn edge_inputs_match_sops() {
    let Some(sops_bin) = tool("sops") else { return };
    let t = TestDir::new();
    for (name, plain) in edge_inputs() {
        if name.ends_with(".toml") {
            continue;
        }
        t.write(name, &plain);
        let ours = t.run(&["encrypt", "--age", RECIPIENT1, name]);
        ours.ok();
        let ours_file = t.write(&format!("ours.{}", &name[2..]), &ours.stdout());
        let theirs = sops(
            &sops_bin,
            &key1(),
            &[
                "encrypt",
                "--age",
                RECIPIENT1,
                t.path(name).to_str().unwrap(),
            ],
        );
        assert!(theirs.status.success(), "sops encrypt {plain:?}");
        let theirs_file = t.write(
            &format!("theirs.{}", &name[2..]),
            &String::from_utf8(theirs.stdout).unwrap(),
        );
        let a = sops(
            &sops_bin,
            &key1(),
            &["decrypt", ours_file.to_str().unwrap()],
        );
        let b = sops(
            &sops_bin,
            &key1(),
            &["decrypt", theirs_file.to_str().unwrap()],
        );
        assert!(
            a.status.success(),
            "sops cannot decrypt ours for {plain:?}: {}",
            String::from_utf8_lossy(&a.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&a.stdout),
            String::from_utf8_lossy(&b.stdout),
            "{plain:?}"
        );
        // And botsecrets reads the file sops made.
        let kind = botsecrets::format::FormatKind::from_path(std::path::Path::new(name)).unwrap();
        let mine = t.run(&[
            "decrypt",
            "--identity",
            key1().to_str().unwrap(),
            theirs_file.to_str().unwrap(),
        ]);
        mine.ok();
        assert_eq!(
            values_of(&mine.stdout(), kind),
            values_of(&String::from_utf8_lossy(&b.stdout), kind),
            "{plain:?}"
        );
    }
}

#[test]
fn a_bom_is_not_part_of_a_variable_name() {
    let t = TestDir::new();
    for (name, plain) in [
        ("b.env", "\u{feff}K=v\n"),
        ("b.yaml", "\u{feff}K: v\n"),
        ("b.toml", "\u{feff}K = \"v\"\n"),
    ] {
        t.write(name, plain);
        t.run(&["encrypt", "--age", RECIPIENT1, "-i", name]).ok();
        let out = t.run(&[
            "export",
            "--identity",
            key1().to_str().unwrap(),
            name,
            "--format",
            "json",
        ]);
        out.ok();
        assert_eq!(out.stdout(), "{\n  \"K\": \"v\"\n}\n", "{name}");
        let run = t.run(&[
            "exec",
            "--identity",
            key1().to_str().unwrap(),
            "-f",
            name,
            "--",
            "sh",
            "-c",
            "printf %s \"$K\"",
        ]);
        run.ok();
        assert_eq!(run.stdout(), "v", "{name}");
    }
}

#[test]
fn unencryptable_yaml_and_bom_json_are_refused_not_internal_errors() {
    let t = TestDir::new();
    // A flow-style top level gets its metadata as one more flow entry
    // (issue 14; tests/cli/yaml_layout.rs checks sops reads it).
    t.write("f.yaml", "{a: x}\n");
    let r = t.run(&["encrypt", "--age", RECIPIENT1, "-i", "f.yaml"]);
    r.ok();
    assert_eq!(t.decrypt("f.yaml").ok().stdout(), "{a: x}\n");
    // sops refuses a JSON file with a byte order mark; so does botsecrets.
    t.write("b.json", "\u{feff}{\"a\": \"x\"}\n");
    let r = t.run(&["encrypt", "--age", RECIPIENT1, "b.json"]);
    r.fails_with(2);
    assert!(r.stderr().contains("byte order mark"), "{}", r.stderr());
}

mod no_internal_errors {
    use super::*;
    use proptest::prelude::*;

    fn fragment() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "a: |",
            "a: >-",
            "a: |+",
            "b: >+",
            "c: x",
            "d:",
            "  e: |",
            "  f: y",
            "- |",
            "- z",
            "  ",
            "",
            "# c",
            "\u{feff}",
            "---",
            "k: |2",
            "  text",
            "g: &x |",
            "h: !!str |",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        /// Whatever these fragments make, encrypt succeeds or refuses with a
        /// user error (exit 2); it never reports an internal error.
        #[test]
        fn yaml_fragments_never_give_an_internal_error(
            lines in prop::collection::vec(fragment(), 1..6),
            final_newline in any::<bool>(),
        ) {
            let mut text = lines.join("\n");
            if final_newline {
                text.push('\n');
            }
            let t = TestDir::new();
            t.write("p.yaml", &text);
            let r = t.run(&["encrypt", "--age", RECIPIENT1, "p.yaml"]);
            prop_assert!(!r.stderr().contains("internal error"), "{:?}: {}", text, r.stderr());
            prop_assert!(r.code() == 0 || r.code() == 2, "{:?}: {}", text, r.stderr());
        }
    }
}

// ---------------------------------------------------------------------------
// Item 9: names that change how programs run.

/// An encrypted file, then a clear key injected by a writer without a key:
/// under `mac_only_encrypted` a clear value is outside the MAC, so the file
/// still verifies and the code before this change set the variable.
fn injected(t: &TestDir, key: &str, value: &str) {
    t.write("s.yaml", "token: tok-secret-1\n");
    t.run(&[
        "encrypt",
        "--age",
        RECIPIENT1,
        "--mac-only-encrypted",
        "--unencrypted-regex",
        "^ld_preload$",
        "-i",
        "s.yaml",
    ])
    .ok();
    let text = t.read("s.yaml");
    t.write("s.yaml", &format!("{key}: {value}\n{text}"));
}

/// A file whose key holder wrote `key` as an ordinary (encrypted) secret:
/// the name is refused whoever wrote it.
fn with_key(t: &TestDir, key: &str, value: &str) {
    t.write("s.yaml", &format!("{key}: {value}\ntoken: tok-secret-1\n"));
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"])
        .ok();
}

#[test]
fn exec_refuses_an_injected_ld_preload_before_running_anything() {
    let t = TestDir::new();
    injected(&t, "ld_preload", "/tmp/evil-secret-lib.so");
    let marker = t.path("ran");
    let r = t.run(&[
        "exec",
        "--identity",
        key1().to_str().unwrap(),
        "-f",
        "s.yaml",
        "--",
        "touch",
        marker.to_str().unwrap(),
    ]);
    r.leaks_none(&["/tmp/evil-secret-lib.so", "tok-secret-1"]);
    assert!(!marker.exists(), "the command ran");
    // The seal (issue #10 item 2, exits 213/214) may refuse the injected key
    // first; without it, this refusal must.
    if r.code() != 213 && r.code() != 214 {
        r.fails_with(217);
        assert!(
            r.stderr()
                .contains("the key path ld_preload (s.yaml) gives the variable LD_PRELOAD"),
            "{}",
            r.stderr()
        );
        assert!(
            r.stderr().contains("--allow-env LD_PRELOAD"),
            "{}",
            r.stderr()
        );
    }
}

#[test]
fn each_listed_name_is_refused_by_exec_and_export() {
    for (key, var) in [
        ("path", "PATH"),
        ("node_options", "NODE_OPTIONS"),
        ("bash_env", "BASH_ENV"),
        ("https_proxy", "HTTPS_PROXY"),
        ("pythonstartup", "PYTHONSTARTUP"),
    ] {
        let t = TestDir::new();
        with_key(&t, key, "value-secret-x");
        let r = t.run(&[
            "exec",
            "--identity",
            key1().to_str().unwrap(),
            "-f",
            "s.yaml",
            "--",
            "true",
        ]);
        r.fails_with(217)
            .leaks_none(&["value-secret-x", "tok-secret-1"]);
        assert!(
            r.stderr().contains(&format!("gives the variable {var},")),
            "{}",
            r.stderr()
        );
        for format in ["dotenv", "shell", "json"] {
            let r = t.run(&[
                "export",
                "--identity",
                key1().to_str().unwrap(),
                "s.yaml",
                "--format",
                format,
            ]);
            r.fails_with(217)
                .leaks_none(&["value-secret-x", "tok-secret-1"]);
            assert!(r.stdout().is_empty());
        }
    }
}

#[test]
fn allow_env_prefix_and_only_let_a_user_through() {
    let t = TestDir::new();
    with_key(&t, "https_proxy", "http://proxy.example:3128");
    let key = key1();
    let id = key.to_str().unwrap();
    let show = "printf '%s|%s' \"$HTTPS_PROXY\" \"$TOKEN\"";
    let r = t.run(&[
        "exec",
        "--identity",
        id,
        "-f",
        "s.yaml",
        "--allow-env",
        "HTTPS_PROXY",
        "--",
        "sh",
        "-c",
        show,
    ]);
    r.ok();
    assert_eq!(r.stdout(), "http://proxy.example:3128|tok-secret-1");
    // The exact name is needed (a prefix changes it, and makes it harmless).
    let r = t.run(&[
        "exec",
        "--identity",
        id,
        "-f",
        "s.yaml",
        "--prefix",
        "APP_",
        "--",
        "sh",
        "-c",
        "printf %s \"$APP_HTTPS_PROXY\"",
    ]);
    r.ok();
    assert_eq!(r.stdout(), "http://proxy.example:3128");
    let r = t.run(&[
        "exec",
        "--identity",
        id,
        "-f",
        "s.yaml",
        "--only",
        "token",
        "--",
        "sh",
        "-c",
        show,
    ]);
    r.ok();
    assert_eq!(r.stdout(), "|tok-secret-1");
    let r = t.run(&[
        "export",
        "--identity",
        id,
        "s.yaml",
        "--format",
        "json",
        "--allow-env",
        "HTTPS_PROXY",
    ]);
    r.ok();
    assert!(r.stdout().contains("\"HTTPS_PROXY\""));
}

#[test]
fn a_dotenv_key_and_a_json_key_map_to_refused_names_too() {
    let t = TestDir::new();
    t.write("a.env", "LD_AUDIT=/x.so\nT=1\n");
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "a.env"]).ok();
    t.write("b.json", "{\"git\": {\"ssh_command\": \"nc evil 1\"}}\n");
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "b.json"])
        .ok();
    for (file, var, path) in [
        ("a.env", "LD_AUDIT", "LD_AUDIT"),
        ("b.json", "GIT_SSH_COMMAND", "git.ssh_command"),
    ] {
        let r = t.run(&[
            "exec",
            "--identity",
            key1().to_str().unwrap(),
            "-f",
            file,
            "--",
            "true",
        ]);
        r.fails_with(217).leaks_none(&["/x.so", "nc evil"]);
        assert!(
            r.stderr().contains(&format!(
                "the key path {path} ({file}) gives the variable {var},"
            )),
            "{}",
            r.stderr()
        );
    }
}

// ---------------------------------------------------------------------------
// Item 11: a private key where a recipient belongs.

/// The secret key of key 1 (its recipient is RECIPIENT1).
fn secret1() -> String {
    std::fs::read_to_string(key1())
        .unwrap()
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap()
        .to_owned()
}

/// Exit 218, the recipient shown, the key not (in either case).
#[track_caller]
fn refused_as_private_key(r: &Run, secret: &str, recipient: &str) {
    r.fails_with(218);
    let err = r.stderr();
    let body = &secret[secret.len() - 40..];
    for s in [secret, body] {
        assert!(!err.contains(s), "stderr leaks the key: {err}");
        assert!(
            !err.to_ascii_lowercase().contains(&s.to_ascii_lowercase()),
            "{err}"
        );
        assert!(!r.stdout().contains(s));
    }
    assert!(
        err.contains("(a private key) was given where a recipient belongs"),
        "{err}"
    );
    assert!(err.contains(recipient), "no recipient in: {err}");
    assert!(err.contains("treat the private key as exposed"), "{err}");
}

#[test]
fn an_identity_in_age_or_the_recipient_variables_is_refused_unechoed() {
    let t = TestDir::new();
    t.write("s.yaml", "token: tok-secret-1\n");
    let secret = secret1();
    let r = t.run(&["encrypt", "--age", &secret, "s.yaml"]);
    refused_as_private_key(&r, &secret, RECIPIENT1);
    assert!(
        r.stderr().starts_with("botsecrets: --age: "),
        "{}",
        r.stderr()
    );
    // Among others, and lower-cased.
    let list = format!("{RECIPIENT2},{}", secret.to_ascii_lowercase());
    let r = t.run(&["encrypt", "--age", &list, "s.yaml"]);
    refused_as_private_key(&r, &secret, RECIPIENT1);
    // A whole key file pasted into a variable (comments and all).
    let file = std::fs::read_to_string(key1()).unwrap();
    for var in ["BOTSECRETS_AGE_RECIPIENTS", "SOPS_AGE_RECIPIENTS"] {
        for value in [secret.clone(), file.clone()] {
            let r = Run(t
                .cmd()
                .args(["encrypt", "s.yaml"])
                .env(var, &value)
                .output()
                .unwrap());
            refused_as_private_key(&r, &secret, RECIPIENT1);
            assert!(r.stderr().contains(var), "{}", r.stderr());
        }
    }
    // edit of a new file, recipients add and remove.
    let r = t.run(&["edit", "--age", &secret, "new.yaml"]);
    refused_as_private_key(&r, &secret, RECIPIENT1);
    t.run(&["encrypt", "--age", RECIPIENT2, "-i", "s.yaml"])
        .ok();
    for cmd in ["add", "remove"] {
        let r = t.run(&[
            "recipients",
            cmd,
            "--identity",
            key2().to_str().unwrap(),
            "s.yaml",
            &secret,
        ]);
        refused_as_private_key(&r, &secret, RECIPIENT1);
    }
    assert!(t.read("s.yaml").contains(RECIPIENT2));
    assert!(!t.read("s.yaml").contains(RECIPIENT1));
}

#[test]
fn an_identity_in_a_rules_file_is_refused_unechoed() {
    let secret = secret1();
    for (name, rules) in [
        (
            ".botsecrets.yaml",
            format!("creation_rules:\n  - age: {secret}\n"),
        ),
        (
            ".sops.yaml",
            format!("creation_rules:\n  - age: >-\n      {RECIPIENT2},\n      {secret}\n"),
        ),
        (
            ".sops.yaml",
            format!(
                "creation_rules:\n  - path_regex: secrets\\.yaml$\n    key_groups:\n      - age:\n          - {RECIPIENT2}\n          - {secret}\n"
            ),
        ),
    ] {
        let t = TestDir::new();
        t.write(name, &rules);
        t.write("secrets.yaml", "token: tok-secret-1\n");
        let r = t.run(&["encrypt", "secrets.yaml"]);
        refused_as_private_key(&r, &secret, RECIPIENT1);
        assert!(r.stderr().contains(name), "{}", r.stderr());
        // check reads the rules file for a clear file it may cover.
        let r = t.run(&["check", "secrets.yaml"]);
        refused_as_private_key(&r, &secret, RECIPIENT1);
    }
}

#[test]
fn an_ssh_private_key_where_a_recipient_belongs_is_refused_unechoed() {
    let Some(keygen) = tool("ssh-keygen") else {
        return;
    };
    let t = TestDir::new();
    let out = std::process::Command::new(keygen)
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "bot@test", "-f"])
        .arg(t.path("id"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let private = t.read("id");
    let public = t.read("id.pub");
    let public: Vec<&str> = public.split_whitespace().take(2).collect();
    let public = public.join(" ");
    t.write("s.yaml", "token: tok-secret-1\n");
    let r = Run(t
        .cmd()
        .args(["encrypt", "s.yaml"])
        .env("BOTSECRETS_AGE_RECIPIENTS", &private)
        .output()
        .unwrap());
    r.fails_with(218);
    let body: Vec<&str> = private
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    for line in body {
        assert!(
            !r.stderr().contains(line),
            "stderr leaks the key: {}",
            r.stderr()
        );
    }
    assert!(r.stderr().contains(&public), "{}", r.stderr());
    assert!(r.stderr().contains("treat the private key as exposed"));
}

#[test]
fn a_bad_recipient_that_may_be_a_secret_is_not_echoed_in_full() {
    let t = TestDir::new();
    t.write("s.yaml", "token: tok-secret-1\n");
    let token = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
    let r = t.run(&["encrypt", "--age", token, "s.yaml"]);
    r.fails_with(111).leaks_none(&[token, &token[4..]]);
    assert!(
        r.stderr().contains("invalid recipient \"ghp_..."),
        "{}",
        r.stderr()
    );
    // A public-looking typo is shown as typed, to be fixed.
    let r = t.run(&["encrypt", "--age", "age1bogus", "s.yaml"]);
    r.fails_with(111);
    assert!(r.stderr().contains("invalid recipient \"age1bogus\""));
    // recipients remove of something that is no recipient.
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"])
        .ok();
    let r = t.run(&["recipients", "remove", "s.yaml", token]);
    r.fails_with(1).leaks_none(&[token, &token[4..]]);
}

// ---------------------------------------------------------------------------
// Item 10: vim writes no copy of the plaintext.

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if meta.is_dir() {
            out.extend(files_containing(&p, needle));
        } else if meta.is_file() {
            let bytes = std::fs::read(&p).unwrap_or_default();
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

/// vim (as `$EDITOR` with a path and arguments, and as `vi`) under a
/// terminal, with a vimrc that turns on backup, undo and swap files in
/// `$HOME` and a viminfo there: after a successful edit, no file under
/// `$HOME` or in the workspace base holds the plaintext.
#[test]
fn vim_leaves_no_copy_of_the_plaintext() {
    let Some(vim) = tool("vim") else { return };
    for editor in [format!("{} -p", vim.display()), "vi".to_owned()] {
        if editor == "vi" && editor_is_not_vim() {
            eprintln!("SKIP: vi is not vim here");
            continue;
        }
        let t = TestDir::new();
        let home = t.path("home");
        for d in ["backup", "undo", "swap"] {
            std::fs::create_dir_all(home.join(d)).unwrap();
        }
        t.write(
            "home/.vimrc",
            "set nocompatible\nset backup writebackup undofile swapfile updatecount=1\n\
             set backupdir=$HOME/backup// undodir=$HOME/undo// directory=$HOME/swap//\n\
             set viminfo='100,<500,n$HOME/.viminfo\nset backupskip=\n",
        );
        t.write("s.yaml", "token: tok-secret-1\nport: 8080\n");
        t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"])
            .ok();
        let mut cmd = t.cmd();
        cmd.args(["edit", "--identity", key1().to_str().unwrap(), "s.yaml"])
            .env("EDITOR", &editor)
            .env("TERM", "xterm");
        let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
        p.exp_string("tok-secret-1").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(700));
        // Yank a line too, so a viminfo would hold a register.
        p.send("yy:%s/tok-secret-1/tok-secret-2/\r").unwrap();
        p.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        p.send(":wq\r").unwrap();
        p.flush().unwrap();
        p.exp_eof().unwrap();
        assert_eq!(
            t.decrypt("s.yaml").ok().stdout(),
            "token: tok-secret-2\nport: 8080\n",
            "{editor}"
        );
        for needle in ["tok-secret-1", "tok-secret-2"] {
            let found = files_containing(&home, needle);
            assert!(found.is_empty(), "{editor}: {needle} in {found:?}");
            let found = files_containing(&t.path("run"), needle);
            assert!(found.is_empty(), "{editor}: {needle} in {found:?}");
        }
        assert!(t.workspace_leftovers().is_empty());
    }
}

fn editor_is_not_vim() -> bool {
    std::process::Command::new("vi")
        .arg("--version")
        .output()
        .map(|o| !String::from_utf8_lossy(&o.stdout).contains("VIM"))
        .unwrap_or(true)
}
