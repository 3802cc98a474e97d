//! The seal (issue #10, item 2): a writer without the key changes a sealed
//! file's structure or metadata (renames a clear key, adds `key: ""` or
//! `null`, adds a recipient stanza, changes the threshold, widens the clear
//! set) and every command that opens the file refuses it with exit 213,
//! leaks nothing and writes nothing. A missing seal: 214 under
//! `.botsecrets.yaml`, a warning under `.sops.yaml`. The `seal` command,
//! sops interop, and the textconv metadata summary (item 4).

use std::time::Duration;

use botsecrets::format::{apply_splices, FormatKind};

use crate::util::*;

const SECRET: &str = "s3cr3t-TOKEN-value";

struct Case {
    file: &'static str,
    kind: FormatKind,
    plain: &'static str,
    /// The path `get` reads.
    get: &'static str,
    /// (clear key as written, its value as written).
    clear: (&'static str, &'static str),
    /// The encrypted key's name as written before its value.
    secret_key: &'static str,
    /// Text that adds an entry, and where it goes (after this text).
    add_after: &'static str,
    empty: &'static str,
    null: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        file: "s.yaml",
        kind: FormatKind::Yaml,
        plain: "token: s3cr3t-TOKEN-value\nhost_unencrypted: db.local\n",
        get: "token",
        clear: ("host_unencrypted:", "db.local"),
        secret_key: "token:",
        add_after: "",
        empty: "ld_preload_unencrypted: \"\"\n",
        null: Some("ld_preload_unencrypted: null\n"),
    },
    Case {
        file: "s.json",
        kind: FormatKind::Json,
        plain: "{\n  \"token\": \"s3cr3t-TOKEN-value\",\n  \"host_unencrypted\": \"db.local\"\n}\n",
        get: "token",
        clear: ("\"host_unencrypted\":", "db.local"),
        secret_key: "\"token\":",
        add_after: "{\n",
        empty: "  \"ld_preload_unencrypted\": \"\",\n",
        null: Some("  \"ld_preload_unencrypted\": null,\n"),
    },
    Case {
        file: "s.env",
        kind: FormatKind::Dotenv,
        plain: "TOKEN=s3cr3t-TOKEN-value\nHOST_unencrypted=db.local\n",
        get: "TOKEN",
        clear: ("HOST_unencrypted=", "db.local"),
        secret_key: "TOKEN=",
        add_after: "",
        empty: "LD_PRELOAD_unencrypted=\n",
        null: None,
    },
];

fn id() -> String {
    key1().to_str().unwrap().to_owned()
}

/// Encrypts the case for key 1 (optionally mac_only_encrypted) in `t`.
fn sealed(t: &TestDir, c: &Case, mac_only: bool) -> String {
    t.write(c.file, c.plain);
    let mut args = vec!["encrypt", "--age", RECIPIENT1, "-i", c.file];
    if mac_only {
        args.push("--mac-only-encrypted");
    }
    t.run(&args).ok();
    let enc = t.read(c.file);
    assert!(enc.contains("botsecrets_seal"), "{enc}");
    enc
}

/// The file with its metadata tree changed by `f` (as an attacker editing
/// the text would write it).
fn with_metadata(text: &str, kind: FormatKind, f: impl FnOnce(&mut serde_json::Value)) -> String {
    let syn = kind.syntax();
    let parsed = syn.parse(text).unwrap();
    let mut tree = parsed.metadata_tree().unwrap().clone();
    f(&mut tree);
    let mut s = syn.metadata_splices(text, &parsed, Some(&tree)).unwrap();
    apply_splices(text, &mut s).unwrap()
}

/// The age stanzas of a file's metadata tree.
fn stanzas(tree: &mut serde_json::Value) -> &mut Vec<serde_json::Value> {
    tree.get_mut("age").unwrap().as_array_mut().unwrap()
}

/// Adds `what` to the data after `c.add_after` (the start for "").
fn add_entry(enc: &str, c: &Case, what: &str) -> String {
    let at = enc.find(c.add_after).unwrap() + c.add_after.len();
    format!("{}{what}{}", &enc[..at], &enc[at..])
}

/// Every way to change a sealed file without the key that the seal must
/// catch: (name, tampered text).
fn tampers(c: &Case, enc: &str, mac_only: bool) -> Vec<(String, String)> {
    let mut out = vec![
        (
            "rename a clear key".to_owned(),
            enc.replacen(
                c.clear.0,
                &c.clear.0.replace("host", "path").replace("HOST", "PATH"),
                1,
            ),
        ),
        ("add an empty string".into(), add_entry(enc, c, c.empty)),
    ];
    if let Some(null) = c.null {
        out.push(("add a null".into(), add_entry(enc, c, null)));
    }
    // A stanza for recipient 2, copied from another file.
    let other = TestDir::new();
    other.write(c.file, c.plain);
    other
        .run(&["encrypt", "--age", RECIPIENT2, "-i", c.file])
        .ok();
    let other_text = other.read(c.file);
    let parsed = c.kind.syntax().parse(&other_text).unwrap();
    let stanza = parsed.metadata_tree().unwrap()["age"][0].clone();
    out.push((
        "add a recipient stanza".into(),
        with_metadata(enc, c.kind, |tree| stanzas(tree).push(stanza)),
    ));
    out.push((
        "change the threshold".into(),
        with_metadata(enc, c.kind, |tree| {
            tree.as_object_mut()
                .unwrap()
                .insert("shamir_threshold".into(), serde_json::json!(3));
        }),
    ));
    if mac_only {
        // Widen the clear set: the encrypted value moved under a clear name.
        let k = c.secret_key;
        let widened = if k.ends_with('=') {
            k.replace('=', "_unencrypted=")
        } else if k.ends_with("\":") {
            k.replace("\":", "_unencrypted\":")
        } else {
            k.replace(':', "_unencrypted:")
        };
        out.push(("widen the clear set".into(), enc.replacen(k, &widened, 1)));
    }
    out
}

/// Runs every reading and writing command on the file `c.file` in `t`;
/// each must exit `code`, leak nothing and leave the file as it is.
fn all_refuse(t: &TestDir, c: &Case, code: i32, what: &str) {
    let before = t.read(c.file);
    let id = id();
    let commands: Vec<(&str, Run)> = vec![
        ("decrypt", t.run(&["decrypt", "--identity", &id, c.file])),
        ("get", t.run(&["get", "--identity", &id, c.file, c.get])),
        (
            "exec",
            t.run(&["exec", "--identity", &id, "--file", c.file, "--", "env"]),
        ),
        (
            "export",
            t.run(&["export", "--identity", &id, "--format", "dotenv", c.file]),
        ),
        (
            "set",
            t.run_stdin(
                &["set", "--identity", &id, "--stdin", c.file, c.get],
                "new\n",
            ),
        ),
        ("rotate", t.run(&["rotate", "--identity", &id, c.file])),
    ];
    for (name, r) in commands {
        assert_eq!(
            r.code(),
            code,
            "{} ({what}): {name} exited {}:\n{}{}",
            c.file,
            r.code(),
            r.stdout(),
            r.stderr()
        );
        r.leaks_none(&[SECRET]);
        if code == 213 {
            assert!(
                r.stderr().contains("the seal does not verify")
                    && r.stderr().contains("git log -p --no-textconv"),
                "{} ({what}): {name}: {}",
                c.file,
                r.stderr()
            );
        }
        assert_eq!(t.read(c.file), before, "{} ({what}): {name} wrote", c.file);
    }
}

#[test]
fn every_command_refuses_a_tampered_structure() {
    for c in CASES {
        for mac_only in [false, true] {
            let t = TestDir::new();
            let enc = sealed(&t, c, mac_only);
            for (what, tampered) in tampers(c, &enc, mac_only) {
                assert_ne!(tampered, enc, "{} {what}", c.file);
                t.write(c.file, &tampered);
                // Moving an encrypted value under a clear name is caught
                // by strict selection (212) before the seal is checked.
                let code = if what == "widen the clear set" {
                    212
                } else {
                    213
                };
                let what = format!("{what}, mac_only_encrypted={mac_only}");
                all_refuse(&t, c, code, &what);
            }
        }
    }
}

#[test]
fn a_clear_value_may_change_in_a_mac_only_encrypted_file() {
    for c in CASES {
        let t = TestDir::new();
        let enc = sealed(&t, c, true);
        let edited = enc.replacen(c.clear.1, "db.remote", 1);
        assert_ne!(edited, enc);
        t.write(c.file, &edited);
        let r = t.decrypt(c.file);
        r.ok();
        assert!(r.stdout().contains("db.remote"), "{}", r.stdout());
        assert!(!r.stderr().contains("seal"), "{}", r.stderr());
        // And a write keeps it sealed.
        t.run_stdin(
            &["set", "--identity", &id(), "--stdin", c.file, c.get],
            "v2\n",
        )
        .ok();
        assert!(t.read(c.file).contains("botsecrets_seal"));
        t.run(&["get", "--identity", &id(), c.file, c.get]).ok();
    }
}

/// The file without its seal line(s).
fn stripped(text: &str) -> String {
    text.lines()
        .filter(|l| !l.contains("botsecrets_seal"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn a_stripped_seal_is_refused_under_botsecrets_yaml_and_a_warning_under_sops_yaml() {
    for c in CASES {
        let t = TestDir::new();
        let enc = sealed(&t, c, false);
        let bare = stripped(&enc);
        assert!(!bare.contains("botsecrets_seal"));
        // Under .botsecrets.yaml: required.
        t.write(
            ".botsecrets.yaml",
            &format!("creation_rules:\n  - age: {RECIPIENT1}\n"),
        );
        t.write(c.file, &bare);
        all_refuse(&t, c, 214, "stripped seal");
        let r = t.decrypt(c.file);
        assert!(
            r.stderr().contains("has no seal") && r.stderr().contains("botsecrets seal"),
            "{}",
            r.stderr()
        );
        // `seal: optional` in the file's rule: a warning again.
        t.write(
            ".botsecrets.yaml",
            &format!("creation_rules:\n  - age: {RECIPIENT1}\n    seal: optional\n"),
        );
        let r = t.decrypt(c.file);
        r.ok();
        assert!(r.stderr().contains("warning"), "{}", r.stderr());
        // Under .sops.yaml alone: a warning, and the command works.
        std::fs::remove_file(t.path(".botsecrets.yaml")).unwrap();
        t.write(
            ".sops.yaml",
            &format!("creation_rules:\n  - age: {RECIPIENT1}\n"),
        );
        let r = t.decrypt(c.file);
        r.ok();
        assert!(
            r.stderr().contains("warning") && r.stderr().contains("has no seal"),
            "{}",
            r.stderr()
        );
        assert!(r.stdout().contains(SECRET));
        let r = t.run(&["get", "--identity", &id(), c.file, c.get]);
        assert_eq!(r.ok().stdout(), SECRET);
        assert!(r.stderr().contains("has no seal"), "{}", r.stderr());
    }
}

#[test]
fn ignore_mac_reads_a_broken_seal_with_a_loud_warning() {
    let c = &CASES[0];
    let t = TestDir::new();
    let enc = sealed(&t, c, false);
    t.write(
        c.file,
        &enc.replace("host_unencrypted:", "path_unencrypted:"),
    );
    let r = t.run(&["decrypt", "--ignore-mac", "--identity", &id(), c.file]);
    r.ok();
    assert!(
        r.stderr().contains("seal does NOT verify"),
        "{}",
        r.stderr()
    );
}

#[test]
fn check_reports_unsealed_and_broken_files() {
    let t = TestDir::new();
    let c = &CASES[0];
    let enc = sealed(&t, c, false);
    t.write(
        ".botsecrets.yaml",
        &format!("creation_rules:\n  - age: {RECIPIENT1}\n"),
    );
    t.write(c.file, &stripped(&enc));
    let r = t.run(&["check", c.file]);
    r.fails_with(210);
    assert!(
        r.stdout().contains("unsealed") || r.stderr().contains("unsealed"),
        "{}{}",
        r.stdout(),
        r.stderr()
    );
    // Under .sops.yaml: a note, not a finding.
    std::fs::remove_file(t.path(".botsecrets.yaml")).unwrap();
    t.write(
        ".sops.yaml",
        &format!("creation_rules:\n  - age: {RECIPIENT1}\n"),
    );
    let r = t.run(&["check", c.file]);
    r.ok();
    assert!(r.stderr().contains("has no seal"), "{}", r.stderr());
    // A broken seal, with a key: a finding.
    t.write(
        c.file,
        &enc.replace("host_unencrypted:", "path_unencrypted:"),
    );
    let r = t.run(&["check", "--identity", &id(), c.file]);
    r.fails_with(210);
    let all = format!("{}{}", r.stdout(), r.stderr());
    assert!(all.contains("seal-mismatch"), "{all}");
    r.leaks_none(&[SECRET]);
}

#[test]
fn rewrites_stay_sealed_and_minimal() {
    let c = &CASES[0];
    let t = TestDir::new();
    sealed(&t, c, false);
    std::thread::sleep(Duration::from_millis(1100));
    t.run(&["rotate", "--identity", &id(), c.file]).ok();
    t.run(&["get", "--identity", &id(), c.file, c.get]).ok();
    std::thread::sleep(Duration::from_millis(1100));
    let rotated = t.read(c.file);
    t.run(&["recipients", "add", "--identity", &id(), c.file, RECIPIENT2])
        .ok();
    let added = t.read(c.file);
    assert!(added.contains("botsecrets_seal"));
    // recipient 2 can read it and the seal verifies for them.
    let r = t.run(&["get", "--identity", key2().to_str().unwrap(), c.file, c.get]);
    assert_eq!(r.ok().stdout(), SECRET);
    // Unchanged values kept their ciphertext.
    assert_eq!(enc_lines(&rotated), enc_lines(&added));
}

#[test]
fn the_seal_command_shows_what_it_vouches_for_and_asks() {
    let c = &CASES[0];
    let t = TestDir::new();
    let enc = sealed(&t, c, false);
    let bare = stripped(&enc);
    t.write(c.file, &bare);
    // No terminal, no --yes: refused, nothing written.
    let r = t.run_no_tty(&["seal", "--identity", &id(), c.file], &[]);
    r.fails_with(209);
    assert!(
        r.stderr().contains(&format!("recipient: {RECIPIENT1}")),
        "{}",
        r.stderr()
    );
    assert!(
        r.stderr()
            .contains("selection: unencrypted_suffix: _unencrypted"),
        "{}",
        r.stderr()
    );
    assert!(r.stderr().contains("mac: all values"), "{}", r.stderr());
    assert!(
        r.stderr().contains("values: 2 (1 encrypted, 1 clear)"),
        "{}",
        r.stderr()
    );
    assert_eq!(t.read(c.file), bare);
    // --yes seals it; the values keep their ciphertext.
    let r = t.run(&["seal", "--yes", "--identity", &id(), c.file]);
    r.ok();
    r.leaks_none(&[SECRET]);
    let now = t.read(c.file);
    assert!(now.contains("botsecrets_seal"));
    assert_eq!(enc_lines(&now), enc_lines(&bare));
    t.write(
        ".botsecrets.yaml",
        &format!("creation_rules:\n  - age: {RECIPIENT1}\n"),
    );
    t.decrypt(c.file).ok();
    // A sealed file: nothing to do.
    let r = t.run(&["seal", "--identity", &id(), c.file]);
    r.ok();
    assert!(r.stderr().contains("already sealed"), "{}", r.stderr());
    // A broken seal is not papered over.
    t.write(
        c.file,
        &now.replace("host_unencrypted:", "path_unencrypted:"),
    );
    t.run(&["seal", "--yes", "--identity", &id(), c.file])
        .fails_with(213);
}

#[test]
fn the_seal_command_asks_on_a_terminal() {
    let c = &CASES[0];
    let t = TestDir::new();
    let enc = sealed(&t, c, false);
    t.write(c.file, &stripped(&enc));
    for (answer, sealed_after) in [("n", false), ("y", true)] {
        let mut cmd = t.cmd();
        cmd.args(["seal", "--identity", &id(), c.file]);
        let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
        p.exp_string("Seal s.yaml? [y/N]").unwrap();
        p.send_line(answer).unwrap();
        p.exp_eof().unwrap();
        assert_eq!(t.read(c.file).contains("botsecrets_seal"), sealed_after);
    }
}

#[test]
fn updatekeys_seals_an_unsealed_file() {
    let c = &CASES[0];
    let t = TestDir::new();
    let enc = sealed(&t, c, false);
    t.write(c.file, &stripped(&enc));
    t.write(
        ".botsecrets.yaml",
        &format!("creation_rules:\n  - age: {RECIPIENT1}\n"),
    );
    t.decrypt(c.file).fails_with(214);
    let r = t.run(&["updatekeys", "--yes", "--identity", &id(), c.file]);
    r.ok();
    assert!(r.stderr().contains("+ seal"), "{}", r.stderr());
    assert!(t.read(c.file).contains("botsecrets_seal"));
    t.decrypt(c.file).ok();
}

/// sops decrypts (and exec-envs) our sealed files in its four formats; a
/// file sops rewrites loses the seal, and botsecrets says so.
#[test]
fn sops_reads_sealed_files_and_drops_the_seal_when_it_rewrites() {
    let inis = Case {
        file: "s.ini",
        kind: FormatKind::Ini,
        plain: "[app]\ntoken = s3cr3t-TOKEN-value\nhost_unencrypted = db.local\n",
        get: "app.token",
        clear: ("host_unencrypted =", "db.local"),
        secret_key: "token =",
        add_after: "",
        empty: "",
        null: None,
    };
    let Some(sops_bin) = tool("sops") else { return };
    for c in CASES.iter().chain([&inis]) {
        let t = TestDir::new();
        sealed(&t, c, false);
        let path = t.path(c.file);
        let path = path.to_str().unwrap();
        let out = sops(&sops_bin, &key1(), &["decrypt", path]);
        assert!(
            out.status.success(),
            "{}: {}",
            c.file,
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            values_of(&theirs, c.kind),
            values_of(c.plain, c.kind),
            "{}",
            c.file
        );
        // COMPAT(sops): exec-env needs flat data; INI values sit in sections,
        // which sops refuses ("complex value") with or without a seal.
        if c.kind != FormatKind::Ini {
            let out = sops(&sops_bin, &key1(), &["exec-env", path, "env"]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let env = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(env.contains(SECRET), "{}", c.file);
        }
        // sops rewrites it: the seal is gone.
        let set_path = match c.kind {
            FormatKind::Ini => "[\"app\"][\"token\"]".to_owned(),
            _ => format!("[\"{}\"]", c.get),
        };
        let out = sops(&sops_bin, &key1(), &["set", path, &set_path, "\"other\""]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rewritten = t.read(c.file);
        assert!(
            !rewritten.contains("botsecrets_seal"),
            "{}: {rewritten}",
            c.file
        );
        let r = t.decrypt(c.file);
        r.ok();
        assert!(r.stderr().contains("has no seal"), "{}", r.stderr());
        t.write(
            ".botsecrets.yaml",
            &format!("creation_rules:\n  - age: {RECIPIENT1}\n"),
        );
        t.decrypt(c.file).fails_with(214);
    }
    // updatekeys and rotate by sops drop it too.
    let c = &CASES[0];
    let t = TestDir::new();
    sealed(&t, c, false);
    let path = t.path(c.file);
    let out = sops(
        &sops_bin,
        &key1(),
        &["rotate", "-i", path.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!t.read(c.file).contains("botsecrets_seal"));
}

#[test]
fn toml_round_trips_the_seal() {
    let t = TestDir::new();
    t.write(
        "s.toml",
        "token = \"s3cr3t-TOKEN-value\"\nempty = {}\n[db]\nhost_unencrypted = \"x\"\n",
    );
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.toml"])
        .ok();
    let enc = t.read("s.toml");
    assert!(enc.contains("botsecrets_seal = \"ENC[AES256_GCM,"), "{enc}");
    t.write(
        ".botsecrets.yaml",
        &format!("creation_rules:\n  - age: {RECIPIENT1}\n"),
    );
    t.decrypt("s.toml").ok();
    t.run_stdin(
        &["set", "--identity", &id(), "--stdin", "s.toml", "token"],
        "v\n",
    )
    .ok();
    t.decrypt("s.toml").ok();
    t.write(
        "s.toml",
        &t.read("s.toml")
            .replace("host_unencrypted", "port_unencrypted"),
    );
    t.decrypt("s.toml").fails_with(213);
}

/// Runs `program args` in `t` with the test environment, botsecrets first
/// on PATH, and (with `key`) key 1 available to textconv.
fn in_repo(t: &TestDir, key: bool, program: &str, args: &[&str]) -> Run {
    let plain = t.cmd();
    let mut c = std::process::Command::new(program);
    c.args(args).current_dir(t.dir.path());
    for (k, v) in plain.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_botsecrets"))
        .parent()
        .unwrap()
        .to_path_buf();
    let mut dirs = vec![bin];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    c.env("PATH", std::env::join_paths(dirs).unwrap())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_PAGER", "cat")
        .env("PAGER", "cat");
    if key {
        c.env("BOTSECRETS_AGE_KEY_FILE", key1());
    }
    Run(c.output().unwrap())
}

/// The `+`/`-` lines of `git show HEAD` (headers left out).
fn shown_changes(t: &TestDir, key: bool) -> Vec<String> {
    let r = in_repo(
        t,
        key,
        "git",
        &["show", "--format=", "HEAD", "--", "secrets.yaml"],
    );
    r.ok();
    r.stdout()
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn git_shows_metadata_only_commits_through_textconv() {
    if tool("git").is_none() {
        return;
    }
    let t = TestDir::new();
    let git = |args: &[&str]| in_repo(&t, true, "git", args);
    git(&["init", "-q", "-b", "main", "."]).ok();
    git(&["config", "user.name", "Test"]).ok();
    git(&["config", "user.email", "test@example.com"]).ok();
    t.write(
        ".sops.yaml",
        &format!("creation_rules:\n  - path_regex: secrets\\.yaml$\n    age: {RECIPIENT1}\n"),
    );
    t.write(
        "secrets.yaml",
        "token: s3cr3t-TOKEN-value\nhost: db.local\n",
    );
    in_repo(
        &t,
        true,
        env!("CARGO_BIN_EXE_botsecrets"),
        &["encrypt", "-i", "secrets.yaml"],
    )
    .ok();
    in_repo(
        &t,
        true,
        env!("CARGO_BIN_EXE_botsecrets"),
        &["git", "install"],
    )
    .ok();
    git(&["add", "-A"]).ok();
    git(&["commit", "-q", "-m", "init"]).ok();
    let bs = |args: &[&str]| in_repo(&t, true, env!("CARGO_BIN_EXE_botsecrets"), args);

    // 1. Only a recipient added: the values read the same.
    bs(&["recipients", "add", "secrets.yaml", RECIPIENT2]).ok();
    git(&["commit", "-q", "-am", "add a recipient"]).ok();
    let with_key = shown_changes(&t, true);
    assert_eq!(
        with_key,
        [format!("+# recipient: {RECIPIENT2}")],
        "{with_key:?}"
    );
    let no_key = shown_changes(&t, false);
    assert!(
        no_key.contains(&format!("+# recipient: {RECIPIENT2}")),
        "{no_key:?}"
    );
    assert!(in_repo(&t, false, "git", &["show", "HEAD"])
        .stdout()
        .contains("# seal: not checked (no key)"));

    // 2. Only the selection rule changed (re-encrypted by a key holder):
    // the same plaintext, another rule.
    let plain = bs(&["decrypt", "secrets.yaml"]).stdout();
    t.write("secrets.yaml", &plain);
    bs(&[
        "encrypt",
        "-i",
        "--age",
        &format!("{RECIPIENT1},{RECIPIENT2}"),
        "--encrypted-regex",
        "^token$",
        "secrets.yaml",
    ])
    .ok();
    git(&["commit", "-q", "-am", "encrypt only the token"]).ok();
    let with_key = shown_changes(&t, true);
    assert_eq!(
        with_key,
        [
            "-# selection: unencrypted_suffix: _unencrypted".to_owned(),
            "+# selection: encrypted_regex: ^token$".to_owned()
        ],
        "{with_key:?}"
    );

    // 3. The same change by a writer without the key: the seal breaks, and
    // the diff says so (and shows no plaintext).
    let enc = t.read("secrets.yaml");
    t.write(
        "secrets.yaml",
        &enc.replace("encrypted_regex: ^token$", "encrypted_regex: ^nomatch$"),
    );
    // (The pre-commit hook of a key holder refuses it: seal-mismatch.)
    git(&["commit", "-q", "-am", "widen"]).fails_with(1);
    git(&["commit", "-q", "--no-verify", "-am", "widen"]).ok();
    let r = in_repo(&t, true, "git", &["show", "HEAD"]);
    r.ok();
    // The old, sealed version shows decrypted; the tampered one does not.
    assert!(
        !r.stdout()
            .lines()
            .any(|l| l.starts_with('+') && l.contains(SECRET)),
        "{}",
        r.stdout()
    );
    assert!(r.stdout().contains("+# seal: BROKEN"), "{}", r.stdout());
    assert!(
        r.stdout()
            .contains("+# selection: encrypted_regex: ^nomatch$"),
        "{}",
        r.stdout()
    );
}
