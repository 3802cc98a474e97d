//! Adversarial review of per-bot scopes and names (issue 11): what a
//! writer without a key can make an owner's write do by editing
//! `sops.botsecrets_scopes` (sealed and unsealed files), what a scope
//! reader can get beyond its scope, and rules files built to hang the
//! name resolution. Each test asserts what a user sees: exit code, message,
//! file bytes, and that the attacker's identity reads nothing new.

use crate::scopes::keygen;
use crate::util::*;

const PLAIN: &str = "db:\n  password: hunter2-db\nsentry:\n  dsn: https://sentry.example/42\nweather: wk-weather-1\n";

/// Every secret of PLAIN.
const SECRETS: [&str; 3] = ["hunter2-db", "https://sentry.example/42", "wk-weather-1"];

struct Repo {
    t: TestDir,
    owner: String,
    monitor: String,
    evil: String,
    evil_r: String,
}

/// `.botsecrets.yaml`: alice owns `secrets*.yaml`; monitor reads
/// sentry.dsn, worker reads weather. `extra` goes into the rule.
fn rules(monitor_r: &str, worker_r: &str, extra: &str) -> String {
    format!(
        "keys:\n  alice: {RECIPIENT1}\n  monitor: {monitor_r}\n  worker: {worker_r}\ncreation_rules:\n  - path_regex: secrets[a-z]*\\.yaml$\n    age: [alice]\n{extra}    scopes:\n      monitor: {{ readers: [monitor], paths: [sentry.dsn] }}\n      workers: {{ readers: [worker], paths: [weather] }}\n"
    )
}

/// A repository with `secrets.yaml` encrypted under the rule (sealed);
/// `extra` is added to the rule (e.g. `seal: optional`).
fn repo(extra: &str) -> Repo {
    let t = TestDir::new();
    let (monitor, monitor_r) = keygen(&t, "monitor");
    let (_, worker_r) = keygen(&t, "worker");
    let (evil, evil_r) = keygen(&t, "evil");
    t.write(".botsecrets.yaml", &rules(&monitor_r, &worker_r, extra));
    t.write("secrets.yaml", PLAIN);
    t.run(&["encrypt", "--in-place", "secrets.yaml"]).ok();
    Repo {
        owner: key1().to_str().unwrap().to_owned(),
        t,
        monitor,
        evil,
        evil_r,
    }
}

/// The byte range of scope `name`'s entry in `text`.
fn scope_block(text: &str, name: &str) -> std::ops::Range<usize> {
    let start = text.find(&format!("    - name: {name}\n")).unwrap();
    let mut end = start;
    for (n, line) in text[start..].split_inclusive('\n').enumerate() {
        let next_scope = n > 0 && line.starts_with("    - name: ");
        let next_field = line.starts_with("  ") && !line.starts_with("   ");
        if next_scope || next_field {
            break;
        }
        end += line.len();
    }
    start..end
}

/// The line of `block` that starts (after indentation) with `field`.
fn field_line<'a>(block: &'a str, field: &str) -> &'a str {
    block
        .lines()
        .find(|l| l.trim_start().starts_with(field))
        .unwrap()
}

/// The first stanza of a scope block, from `- recipient:` to its END line.
fn first_stanza(block: &str) -> String {
    let at = block.find("        - recipient: ").unwrap();
    let end = block[at..]
        .find("-----END AGE ENCRYPTED FILE-----\n")
        .unwrap();
    block[at..at + end + "-----END AGE ENCRYPTED FILE-----\n".len()].to_owned()
}

fn without_seal(text: &str) -> String {
    let out: String = text
        .split_inclusive('\n')
        .filter(|l| !l.starts_with("  botsecrets_seal: "))
        .collect();
    assert_ne!(out, text);
    out
}

/// The keyless writer's edits of `sops.botsecrets_scopes`, each as
/// (name, edited text). `other` is another file of the same rule.
fn tampers(r: &Repo, text: &str, other: &str) -> Vec<(&'static str, String)> {
    let mon = scope_block(text, "monitor");
    let wor = scope_block(text, "workers");
    let mon_text = &text[mon.clone()];
    let wor_text = &text[wor.clone()];
    let stanza = first_stanza(mon_text);
    let evil_stanza = {
        let first = stanza.lines().next().unwrap();
        stanza.replacen(first, &format!("        - recipient: {}", r.evil_r), 1)
    };
    let mut out = Vec::new();
    // Its own recipient added to a scope (any stanza: a copy of another).
    let at =
        mon.start + mon_text.find("      recipients:\n").unwrap() + "      recipients:\n".len();
    out.push((
        "reader added",
        format!("{}{evil_stanza}{}", &text[..at], &text[at..]),
    ));
    // A new scope naming its key over db.password (monitor's fields copied).
    let evil_scope = mon_text
        .replace("name: monitor", "name: evil")
        .replace("- sentry.dsn", "- db.password")
        .replacen(&stanza, &evil_stanza, 1);
    out.push((
        "scope added",
        format!("{}{evil_scope}{}", &text[..wor.end], &text[wor.end..]),
    ));
    // A scope's paths widened.
    out.push((
        "paths widened",
        text.replacen(
            "        - sentry.dsn\n",
            "        - sentry.dsn\n        - db.password\n",
            1,
        ),
    ));
    // Two scopes' blobs swapped, and their keys.
    for (what, field) in [("blobs swapped", "blob: "), ("keys swapped", "key: ")] {
        let (a, b) = (field_line(mon_text, field), field_line(wor_text, field));
        let m = mon_text.replacen(a, b, 1);
        let w = wor_text.replacen(b, a, 1);
        out.push((
            what,
            format!(
                "{}{m}{}{w}{}",
                &text[..mon.start],
                &text[mon.end..wor.start],
                &text[wor.end..]
            ),
        ));
    }
    // A scope entry copied from another file with the same name and paths.
    let o = scope_block(other, "monitor");
    out.push((
        "scope copied from another file",
        format!("{}{}{}", &text[..mon.start], &other[o], &text[mon.end..]),
    ));
    // The scopes deleted.
    let start = text.find("  botsecrets_scopes:\n").unwrap();
    out.push((
        "scopes deleted",
        format!("{}{}", &text[..start], &text[wor.end..]),
    ));
    out
}

/// Another file of the same rule (for copying scope entries from).
fn other_file(r: &Repo) -> String {
    r.t.write("secretsb.yaml", PLAIN);
    r.t.run(&["encrypt", "--in-place", "secretsb.yaml"]).ok();
    r.t.read("secretsb.yaml")
}

/// The owner's writes, each as (name, run).
fn owner_writes(r: &Repo) -> Vec<(&'static str, Run)> {
    let t = &r.t;
    let mut edit = t.cmd();
    edit.env("EDITOR", editor("replace.sh"))
        .env("EDIT_FROM", "wk-weather-1")
        .env("EDIT_TO", "wk-weather-2")
        .args(["edit", "--identity", &r.owner, "secrets.yaml"]);
    vec![
        (
            "set",
            t.run(&[
                "set",
                "--identity",
                &r.owner,
                "secrets.yaml",
                "db.password",
                "\"new-pw\"",
            ]),
        ),
        (
            "rotate",
            t.run(&["rotate", "--identity", &r.owner, "secrets.yaml"]),
        ),
        ("edit", Run(edit.output().unwrap())),
        (
            "recipients add",
            t.run(&[
                "recipients",
                "add",
                "--identity",
                &r.owner,
                "secrets.yaml",
                RECIPIENT2,
            ]),
        ),
    ]
}

/// Makes the test directory a git repository (`check` needs one).
fn git_init(t: &TestDir) {
    git(t, &["init", "-q"]);
}

/// Runs git in the test directory.
fn git(t: &TestDir, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(t.path(""))
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}");
}

/// The attacker's key reads nothing of the file.
#[track_caller]
fn evil_reads_nothing(r: &Repo, what: &str) {
    for path in ["db.password", "sentry.dsn"] {
        let g =
            r.t.run(&["get", "--identity", &r.evil, "secrets.yaml", path]);
        assert_ne!(g.code(), 0, "{what}: the attacker reads {path}");
        g.leaks_none(&SECRETS);
    }
}

#[test]
fn a_sealed_files_scope_edits_are_refused_by_every_owner_write() {
    let r = repo("");
    let t = &r.t;
    let orig = t.read("secrets.yaml");
    let other = other_file(&r);
    for (what, tampered) in tampers(&r, &orig, &other) {
        assert_ne!(tampered, orig, "{what}");
        t.write("secrets.yaml", &tampered);
        for (cmd, run) in owner_writes(&r) {
            assert_eq!(run.code(), 213, "{what}, {cmd}: {}", run.stderr());
            assert!(run.stderr().contains("recipients or scopes were changed"));
            run.leaks_none(&SECRETS);
            assert_eq!(t.read("secrets.yaml"), tampered, "{what}, {cmd} wrote");
        }
        // updatekeys: the seal refuses the file, or (when the public
        // metadata matches the rule: swapped blobs or keys) nothing is
        // written at all.
        let u = t.run(&[
            "updatekeys",
            "--identity",
            &r.owner,
            "--yes",
            "secrets.yaml",
        ]);
        let refused = u.code() == 213;
        let untouched = u.code() == 0 && u.stderr().contains("already matches");
        assert!(refused || untouched, "{what}, updatekeys: {}", u.stderr());
        assert_eq!(t.read("secrets.yaml"), tampered, "{what}, updatekeys wrote");
        evil_reads_nothing(&r, what);
    }
}

#[test]
fn an_unsealed_files_scopes_are_never_kept_by_an_owners_write() {
    // `seal: optional`: a missing seal is only a warning, so the scopes'
    // readers and paths are whatever a keyless writer made them.
    let r = repo("    seal: optional\n");
    let t = &r.t;
    git_init(t);
    let orig = t.read("secrets.yaml");
    let other = other_file(&r);
    for (what, tampered) in tampers(&r, &orig, &other) {
        if what == "scopes deleted" {
            continue; // no scopes left to trust: below
        }
        let tampered = without_seal(&tampered);
        t.write("secrets.yaml", &tampered);
        for (cmd, run) in owner_writes(&r) {
            assert_eq!(run.code(), 214, "{what}, {cmd}: {}", run.stderr());
            assert!(
                run.stderr().contains("not covered by a verified seal")
                    && run.stderr().contains("updatekeys"),
                "{what}, {cmd}: {}",
                run.stderr()
            );
            run.leaks_none(&SECRETS);
            assert_eq!(t.read("secrets.yaml"), tampered, "{what}, {cmd} wrote");
        }
        evil_reads_nothing(&r, what);
        // updatekeys rebuilds the scopes strictly from the rule.
        t.run(&[
            "updatekeys",
            "--identity",
            &r.owner,
            "--yes",
            "secrets.yaml",
        ])
        .ok();
        let text = t.read("secrets.yaml");
        assert!(!text.contains(&r.evil_r), "{what}: {text}");
        assert!(!text.contains("name: evil") && !text.contains("- db.password"));
        evil_reads_nothing(&r, what);
        let g = t.run(&[
            "get",
            "--identity",
            &r.monitor,
            "secrets.yaml",
            "sentry.dsn",
        ]);
        assert_eq!(g.ok().stdout(), "https://sentry.example/42", "{what}");
        let g = t.run(&[
            "get",
            "--identity",
            &r.monitor,
            "secrets.yaml",
            "db.password",
        ]);
        g.fails_with(225).leaks_none(&["hunter2-db"]);
        git(
            t,
            &["add", ".botsecrets.yaml", "secrets.yaml", "secretsb.yaml"],
        );
        let c = t.run(&["check"]);
        assert!(c.ok().stderr().contains("no problems"), "{}", c.stderr());
    }
    // Deleted scopes: the owner's write has none to keep; check reports the
    // drift and updatekeys restores them from the rule.
    let tampered = tampers(&r, &orig, &other).pop().unwrap().1;
    t.write("secrets.yaml", &without_seal(&tampered));
    t.run(&[
        "set",
        "--identity",
        &r.owner,
        "secrets.yaml",
        "db.password",
        "\"pw2\"",
    ])
    .ok();
    git(t, &["add", "secrets.yaml"]);
    let c = t.run(&["check"]);
    c.fails_with(210);
    assert!(c.stdout().contains("scopes dropped"), "{}", c.stdout());
    t.run(&[
        "updatekeys",
        "--identity",
        &r.owner,
        "--yes",
        "secrets.yaml",
    ])
    .ok();
    let g = t.run(&[
        "get",
        "--identity",
        &r.monitor,
        "secrets.yaml",
        "sentry.dsn",
    ]);
    assert_eq!(g.ok().stdout(), "https://sentry.example/42");
    evil_reads_nothing(&r, "scopes deleted");
}

#[test]
fn the_merge_driver_refuses_their_unsealed_scopes() {
    let r = repo("    seal: optional\n");
    let t = &r.t;
    let orig = t.read("secrets.yaml");
    let other = other_file(&r);
    let (_, tampered) = tampers(&r, &orig, &other).remove(1);
    t.write("base.yaml", &orig);
    t.write("ours.yaml", &orig);
    t.write("theirs.yaml", &without_seal(&tampered));
    let m = Run(t
        .cmd()
        .env("BOTSECRETS_AGE_KEY_FILE", &r.owner)
        .args([
            "git",
            "merge",
            "base.yaml",
            "ours.yaml",
            "theirs.yaml",
            "secrets.yaml",
        ])
        .output()
        .unwrap());
    assert_ne!(m.code(), 0, "{}", m.stderr());
    m.leaks_none(&SECRETS);
    assert_eq!(t.read("ours.yaml"), orig);
}

#[test]
fn under_sops_yaml_or_no_rules_an_unsealed_files_scopes_are_not_kept() {
    let r = repo("");
    let t = &r.t;
    let orig = t.read("secrets.yaml");
    let other = other_file(&r);
    let (_, tampered) = tampers(&r, &orig, &other).remove(1);
    let tampered = without_seal(&tampered);
    std::fs::remove_file(t.path(".botsecrets.yaml")).unwrap();
    for rules in [
        Some(format!(
            "creation_rules:\n  - path_regex: secrets\\.yaml$\n    age: {RECIPIENT1}\n"
        )),
        None,
    ] {
        match &rules {
            Some(text) => {
                t.write(".sops.yaml", text);
            }
            None => std::fs::remove_file(t.path(".sops.yaml")).unwrap(),
        }
        t.write("secrets.yaml", &tampered);
        for (cmd, run) in owner_writes(&r) {
            assert_eq!(run.code(), 214, "{rules:?}, {cmd}: {}", run.stderr());
            run.leaks_none(&SECRETS);
            assert_eq!(t.read("secrets.yaml"), tampered, "{cmd} wrote");
        }
        evil_reads_nothing(&r, "scope added");
    }
}

#[test]
fn sealing_an_unsealed_file_shows_every_scope_reader_it_vouches_for() {
    // By design (docs/rules.md "Scopes"): `seal` vouches for what it shows.
    let r = repo("    seal: optional\n");
    let t = &r.t;
    let orig = t.read("secrets.yaml");
    let other = other_file(&r);
    let (_, tampered) = tampers(&r, &orig, &other).remove(1);
    t.write("secrets.yaml", &without_seal(&tampered));
    let s = t.run_no_tty(&["seal", "--identity", &r.owner, "secrets.yaml"], &[]);
    assert_ne!(s.code(), 0, "{}", s.stderr());
    assert!(
        s.stderr().contains(&format!(
            "scope evil: paths db.password; readers {}",
            r.evil_r
        )),
        "{}",
        s.stderr()
    );
    assert!(
        s.stderr().contains("readers monitor (age1"),
        "{}",
        s.stderr()
    );
    s.leaks_none(&SECRETS);
}

#[test]
fn a_scope_reader_gets_nothing_outside_its_scope() {
    let r = repo("    env: { db.password: SENTRY_DSN_COPY }\n");
    let t = &r.t;
    let m = r.monitor.as_str();
    let others = ["hunter2-db", "wk-weather-1"];
    for path in ["db.password", "db", "weather"] {
        t.run(&["get", "--identity", m, "secrets.yaml", path])
            .fails_with(225)
            .leaks_none(&others);
    }
    // Even the parent of its own path: the reader asks for its paths only.
    t.run(&["get", "--identity", m, "secrets.yaml", "sentry"])
        .fails_with(225)
        .leaks_none(&others);
    for extract in ["[\"db\"][\"password\"]", "[\"db\"]", "[\"weather\"]"] {
        t.run(&[
            "decrypt",
            "--identity",
            m,
            "--extract",
            extract,
            "secrets.yaml",
        ])
        .fails_with(225)
        .leaks_none(&others);
    }
    // The rule's env: mapping names db.password: exec and export still
    // give only the scope's value.
    let e = t.run(&[
        "exec",
        "--identity",
        m,
        "--file",
        "secrets.yaml",
        "--pristine",
        "--",
        "env",
    ]);
    e.ok().leaks_none(&others);
    assert!(e.stdout().contains("SENTRY_DSN=https://sentry.example/42"));
    assert!(!e.stdout().contains("SENTRY_DSN_COPY"), "{}", e.stdout());
    for format in ["dotenv", "json", "k8s-secret", "yaml"] {
        let x = t.run(&[
            "export",
            "--identity",
            m,
            "--format",
            format,
            "secrets.yaml",
        ]);
        if x.code() == 0 {
            x.leaks_none(&others);
        } else {
            x.leaks_none(&SECRETS);
        }
    }
    t.run(&[
        "export",
        "--identity",
        m,
        "--scope",
        "workers",
        "secrets.yaml",
    ])
    .leaks_none(&others);
    // `--only` of another key.
    t.run(&[
        "exec",
        "--identity",
        m,
        "--file",
        "secrets.yaml",
        "--only",
        "db.password",
        "--",
        "env",
    ])
    .leaks_none(&others);
}

#[test]
fn a_scope_reader_who_widens_its_paths_reads_nothing() {
    let r = repo("");
    let t = &r.t;
    let text = t.read("secrets.yaml");
    for widened in [
        text.replacen(
            "        - sentry.dsn\n",
            "        - sentry.dsn\n        - db.password\n",
            1,
        ),
        text.replacen("        - sentry.dsn\n", "        - sentry\n", 1),
        text.replacen("        - sentry.dsn\n", "        - db\n", 1),
    ] {
        assert_ne!(widened, text);
        t.write("secrets.yaml", &widened);
        for args in [
            vec![
                "get",
                "--identity",
                &r.monitor,
                "secrets.yaml",
                "db.password",
            ],
            vec!["decrypt", "--identity", &r.monitor, "secrets.yaml"],
            vec![
                "export",
                "--identity",
                &r.monitor,
                "--format",
                "dotenv",
                "secrets.yaml",
            ],
        ] {
            let run = t.run(&args);
            assert_ne!(run.code(), 0, "{args:?}");
            run.leaks_none(&SECRETS);
        }
    }
}

#[test]
fn a_scope_readers_get_and_export_never_need_the_files_data_key() {
    let r = repo("");
    let t = &r.t;
    // Break the owner's wrapped data key: only an owner's path would fail.
    let text = t.read("secrets.yaml");
    let at = text.find("  age:\n").unwrap();
    let line = text[at..]
        .lines()
        .find(|l| l.trim().starts_with("YWdl"))
        .unwrap()
        .to_owned();
    t.write(
        "secrets.yaml",
        &text.replacen(&line, &line.replace('Y', "Z"), 1),
    );
    assert_ne!(t.decrypt("secrets.yaml").code(), 0);
    let g = t.run(&[
        "get",
        "--identity",
        &r.monitor,
        "secrets.yaml",
        "sentry.dsn",
    ]);
    assert_eq!(g.ok().stdout(), "https://sentry.example/42");
    let x = t.run(&[
        "export",
        "--identity",
        &r.monitor,
        "--format",
        "dotenv",
        "secrets.yaml",
    ]);
    assert!(x.ok().stdout().contains("SENTRY_DSN="), "{}", x.stdout());
    let d = t.run(&["decrypt", "--identity", &r.monitor, "secrets.yaml"]);
    assert!(d.ok().stdout().contains("https://sentry.example/42"));
}

/// Encrypts a one-key file under `rules`; returns the run. Killed (and
/// the test failed) after 10 s: a rules file must not hang a command.
fn encrypt_under(rules: &str) -> (TestDir, Run) {
    use std::process::Stdio;
    let t = TestDir::new();
    t.write(".botsecrets.yaml", rules);
    t.write("s.yaml", "a: secret-a\n");
    let mut child = t
        .cmd()
        .args(["encrypt", "s.yaml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(10) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("encrypt still running after 10 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let r = Run(child.wait_with_output().unwrap());
    (t, r)
}

#[test]
fn names_that_look_like_keys_and_self_including_groups_are_refused() {
    let rule = "creation_rules:\n  - path_regex: s\\.yaml$\n    age: [g]\n";
    // A name that is a raw key string (it would shadow the key).
    let (_, r) = encrypt_under(&format!(
        "keys:\n  {RECIPIENT1}: {RECIPIENT2}\n  g: {RECIPIENT1}\n{rule}"
    ));
    r.fails_with(5);
    assert!(
        r.stderr().contains("must not look like a key"),
        "{}",
        r.stderr()
    );
    // A group that includes itself, directly and through an anchor.
    for groups in [
        "  g: [alice, g]\n".to_owned(),
        "  h: &m [alice, g]\n  g: *m\n".to_owned(),
    ] {
        let (_, r) = encrypt_under(&format!(
            "keys:\n  alice: {RECIPIENT1}\ngroups:\n{groups}{rule}"
        ));
        r.fails_with(5);
        assert!(r.stderr().contains("groups form a cycle"), "{}", r.stderr());
    }
}

#[test]
fn exponential_rules_files_are_refused_or_resolved_at_once() {
    let start = std::time::Instant::now();
    // Aliases nested 12 deep, 10 wide ("billion laughs"): refused.
    let mut text = format!("keys:\n  alice: {RECIPIENT1}\ngroups:\n  x0: &a0 [alice");
    text.push_str(&", alice".repeat(9));
    text.push_str("]\n");
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        text.push_str(&format!("  x{i}: &a{i} [{refs}]\n"));
    }
    text.push_str("creation_rules:\n  - path_regex: s\\.yaml$\n    age: *a11\n");
    let (_, r) = encrypt_under(&text);
    r.fails_with(5);
    assert!(
        r.stderr().contains("alias expansion too large"),
        "{}",
        r.stderr()
    );
    // Groups 40 levels deep, each naming the two of the level below: 2^40
    // paths to one key, resolved once each.
    let mut text = format!("keys:\n  alice: {RECIPIENT1}\ngroups:\n  a0: [alice]\n  b0: [alice]\n");
    for i in 1..=40 {
        text.push_str(&format!(
            "  a{i}: [a{p}, b{p}]\n  b{i}: [a{p}, b{p}]\n",
            p = i - 1
        ));
    }
    text.push_str("creation_rules:\n  - path_regex: s\\.yaml$\n    age: [a40]\n");
    let (_, r) = encrypt_under(&text);
    assert_eq!(r.ok().stdout().matches("recipient: ").count(), 1);
    // A group of 1,000 names.
    let mut text = String::from("keys:\n");
    let (_, k2) = (0, RECIPIENT2);
    for i in 0..1000 {
        let key = if i % 2 == 0 { RECIPIENT1 } else { k2 };
        text.push_str(&format!("  k{i}: {key}\n"));
    }
    let members: Vec<String> = (0..1000).map(|i| format!("k{i}")).collect();
    text.push_str(&format!("groups:\n  big: [{}]\n", members.join(", ")));
    text.push_str("creation_rules:\n  - path_regex: s\\.yaml$\n    age: [big]\n");
    let (_, r) = encrypt_under(&text);
    assert_eq!(r.ok().stdout().matches("recipient: ").count(), 2);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_forged_scope_fools_only_its_readers_and_owners_refuse_it() {
    // By design (docs/format.md "Scopes"): a scope made from the readers'
    // public keys cannot be told apart by them (they cannot check the
    // owners' seal); every owner's command refuses the file.
    let r = repo("");
    forged_with(&r, &recipient_of(&r.monitor));
}

/// The public recipient of the key file `key`.
fn recipient_of(key: &str) -> String {
    std::fs::read_to_string(key)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(str::to_owned))
        .unwrap()
}

fn forged_with(r: &Repo, monitor_r: &str) {
    let t = &r.t;
    std::fs::create_dir_all(t.path("forge")).unwrap();
    t.write(
        "forge/.botsecrets.yaml",
        &format!(
            "creation_rules:\n  - path_regex: x\\.yaml$\n    age: [{}]\n    scopes:\n      aaa: {{ readers: [{monitor_r}], paths: [sentry] }}\n",
            r.evil_r
        ),
    );
    t.write(
        "forge/x.yaml",
        "sentry:\n  dsn: https://attacker.example/1\n",
    );
    t.run(&["encrypt", "--in-place", "forge/x.yaml"]).ok();
    let forged = t.read("forge/x.yaml");
    let block = &forged[scope_block(&forged, "aaa")];
    let text = t.read("secrets.yaml");
    let at = text.find("  botsecrets_scopes:\n").unwrap() + "  botsecrets_scopes:\n".len();
    t.write(
        "secrets.yaml",
        &format!("{}{block}{}", &text[..at], &text[at..]),
    );
    let g = t.run(&[
        "get",
        "--identity",
        &r.monitor,
        "secrets.yaml",
        "sentry.dsn",
    ]);
    assert_eq!(g.ok().stdout(), "https://attacker.example/1");
    g.leaks_none(&["hunter2-db", "wk-weather-1"]);
    t.run(&["decrypt", "--identity", &r.owner, "secrets.yaml"])
        .fails_with(213)
        .leaks_none(&SECRETS);
    t.run(&[
        "set",
        "--identity",
        &r.owner,
        "secrets.yaml",
        "db.password",
        "\"x\"",
    ])
    .fails_with(213);
}

#[test]
fn a_reader_added_in_the_rules_file_is_named_in_the_plan_before_any_write() {
    // By design (docs/rules.md "Scopes"): the rules file is trusted input;
    // a writer who adds itself to a scope's readers there is named in the
    // plan `updatekeys` prints, and nothing is written without a yes.
    let r = repo("");
    let t = &r.t;
    let before = t.read("secrets.yaml");
    let rules = t.read(".botsecrets.yaml").replace(
        "readers: [monitor]",
        &format!("readers: [monitor, {}]", r.evil_r),
    );
    t.write(".botsecrets.yaml", &rules);
    let u = t.run_no_tty(&["updatekeys", "--identity", &r.owner, "secrets.yaml"], &[]);
    u.fails_with(209).leaks_none(&SECRETS);
    assert!(u.stderr().contains(&r.evil_r[..10]), "{}", u.stderr());
    assert_eq!(t.read("secrets.yaml"), before);
    evil_reads_nothing(&r, "rules edited");
}
