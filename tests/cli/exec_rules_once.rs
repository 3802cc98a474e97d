//! `exec` looks up a secrets file's rules file once (one walk up the tree,
//! one read) and takes its `env:` names, its seal policy and its names for
//! messages from that one lookup; it used to walk up three times per file.

use std::process::Command;

use crate::util::{key1, key2, Run, TestDir, RECIPIENT1};

const TOKEN: &str = "tok-once-5b7c1d";

fn exec_cmd(t: &TestDir, key: &std::path::Path, args: &[&str]) -> Command {
    let mut c = t.cmd();
    c.args(["exec", "--identity", key.to_str().unwrap()]);
    c.args(args);
    c
}

/// The file-related syscalls of `exec -f s.yaml -- /bin/true` up to the
/// command's execve, or `None` where strace cannot trace.
fn traced(t: &TestDir) -> Option<Vec<String>> {
    crate::exec::traced_exec(t, "%file", "s.yaml", "/bin/true")
}

/// How many of `lines` name `path` (as a quoted syscall argument).
fn mentions(lines: &[String], path: &std::path::Path) -> usize {
    let quoted = format!("\"{}\"", path.display());
    lines.iter().filter(|l| l.contains(&quoted)).count()
}

#[test]
fn the_rules_file_is_found_and_read_once() {
    let t = TestDir::new();
    t.write(
        ".botsecrets.yaml",
        &format!("creation_rules:\n  - age: {RECIPIENT1}\n    env:\n      api.token: API_TOKEN\n"),
    );
    t.write("s.yaml", &format!("api:\n  token: {TOKEN}\n"));
    t.run(&["encrypt", "-i", "s.yaml"]).ok();
    let Some(lines) = traced(&t) else { return };
    let rules = std::fs::canonicalize(t.dir.path())
        .unwrap()
        .join(".botsecrets.yaml");
    // Found (one test that it is a file) and read (a check that it is a
    // regular file, one open) once: not once for the `env:` names and again
    // for the seal policy.
    let opens = lines
        .iter()
        .filter(|l| l.contains("open") && l.contains(".botsecrets.yaml"))
        .count();
    assert_eq!(opens, 1, "{lines:#?}");
    assert_eq!(mentions(&lines, &rules), 3, "{lines:#?}");
}

#[test]
fn without_a_rules_file_each_directory_is_searched_once() {
    let t = TestDir::new();
    let text = t.encrypt("plain.yaml", &format!("token: {TOKEN}\n"));
    t.write("s.yaml", &text);
    let Some(lines) = traced(&t) else { return };
    let dir = std::fs::canonicalize(t.dir.path()).unwrap();
    for name in [".botsecrets.yaml", ".sops.yaml"] {
        assert_eq!(mentions(&lines, &dir.join(name)), 1, "{lines:#?}");
    }
}

#[test]
fn what_exec_takes_from_the_rules_file_is_unchanged() {
    let t = TestDir::new();
    t.write(
        ".botsecrets.yaml",
        &format!(
            "keys:\n  alice: {RECIPIENT1}\ncreation_rules:\n  - age: alice\n    env:\n      api.token: API_TOKEN\n"
        ),
    );
    t.write("s.yaml", &format!("api:\n  token: {TOKEN}\n"));
    t.run(&["encrypt", "-i", "s.yaml"]).ok();
    // env: names.
    let r = Run(exec_cmd(
        &t,
        &key1(),
        &["-f", "s.yaml", "--", "sh", "-c", "echo \"$API_TOKEN\""],
    )
    .output()
    .unwrap());
    r.ok();
    assert_eq!(r.stdout(), format!("{TOKEN}\n"));
    // Names in messages: the recipient the other key cannot stand for is
    // shown by its name from the rules file.
    let r = Run(exec_cmd(&t, &key2(), &["-f", "s.yaml", "--", "true"])
        .output()
        .unwrap());
    assert!(!r.0.status.success());
    assert!(r.stderr().contains("alice (age1"), "{}", r.stderr());
    r.leaks_none(&[TOKEN]);
    // The seal policy: under .botsecrets.yaml an unsealed file is refused.
    let plain = t.encrypt("bare.yaml", &format!("token: {TOKEN}\n"));
    let unsealed: String = plain
        .lines()
        .filter(|l| !l.trim_start().starts_with("botsecrets_seal"))
        .map(|l| format!("{l}\n"))
        .collect();
    t.write("unsealed.yaml", &unsealed);
    let r = Run(
        exec_cmd(&t, &key1(), &["-f", "unsealed.yaml", "--", "true"])
            .output()
            .unwrap(),
    );
    assert!(!r.0.status.success(), "{}", r.stderr());
    assert!(r.stderr().contains("seal"), "{}", r.stderr());
    r.leaks_none(&[TOKEN]);
    // A rules file that does not parse stops exec with its line.
    t.write(".botsecrets.yaml", "creation_rules: [\n");
    let r = Run(exec_cmd(&t, &key1(), &["-f", "s.yaml", "--", "true"])
        .output()
        .unwrap());
    r.fails_with(5);
    assert!(r.stderr().contains(".botsecrets.yaml"), "{}", r.stderr());
}
