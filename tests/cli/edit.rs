//! `botsecrets edit`, driven by fake editors from testdata/editors.

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::time::Duration;

use crate::util::*;

const PLAIN: &str =
    "# bot secrets\ntoken: tok-secret-1\nport: 8080\nnested:\n  key: nested-secret\n";

fn encrypted(t: &TestDir) -> String {
    t.write("s.yaml", PLAIN);
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"])
        .ok();
    t.read("s.yaml")
}

fn edit(t: &TestDir, editor_script: &str) -> std::process::Command {
    let mut c = t.cmd();
    c.args(["edit", "--identity", key1().to_str().unwrap(), "s.yaml"])
        .env("EDITOR", editor(editor_script));
    c
}

#[test]
fn one_changed_value_is_a_minimal_diff() {
    let t = TestDir::new();
    let before = encrypted(&t);
    // lastmodified has one-second resolution.
    std::thread::sleep(Duration::from_millis(1100));
    let out = edit(&t, "replace.sh")
        .env("EDIT_FROM", "8080")
        .env("EDIT_TO", "9090")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = t.read("s.yaml");
    assert_eq!(
        changed_keys(&before, &after),
        ["port", "lastmodified", "mac", "botsecrets_seal"]
    );
    assert_eq!(
        t.decrypt("s.yaml").ok().stdout(),
        PLAIN.replace("8080", "9090")
    );
    assert!(t.workspace_leftovers().is_empty());
}

#[test]
fn workspace_is_private_outside_the_tree_and_removed() {
    let t = TestDir::new();
    encrypted(&t);
    let record = t.path("record.txt");
    let out = edit(&t, "record.sh")
        .env("RECORD", &record)
        .env("EDIT_FROM", "8080")
        .env("EDIT_TO", "9090")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rec = std::fs::read_to_string(&record).unwrap();
    let lines: Vec<&str> = rec.lines().collect();
    let file = std::path::Path::new(lines[0]);
    assert!(
        file.starts_with(t.path("run")),
        "workspace in XDG_RUNTIME_DIR: {}",
        lines[0]
    );
    assert_eq!(
        file.file_name().unwrap(),
        "s.yaml",
        "extension kept for the editor"
    );
    assert_eq!(lines[1], "600");
    assert_eq!(lines[2], "700");
    assert!(
        !file.exists() && !file.parent().unwrap().exists(),
        "workspace removed"
    );
    assert!(t.workspace_leftovers().is_empty());
}

#[test]
fn unchanged_content_is_not_rewritten() {
    let t = TestDir::new();
    let before = encrypted(&t);
    let mtime = std::fs::metadata(t.path("s.yaml")).unwrap().mtime_nsec();
    std::thread::sleep(Duration::from_millis(20));
    let out = edit(&t, "unchanged.sh").output().unwrap();
    assert_eq!(out.status.code(), Some(200));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no changes; the file was not rewritten"));
    assert_eq!(t.read("s.yaml"), before);
    assert_eq!(
        std::fs::metadata(t.path("s.yaml")).unwrap().mtime_nsec(),
        mtime
    );
    assert!(t.workspace_leftovers().is_empty());
}

#[test]
fn editor_failure_writes_nothing() {
    let t = TestDir::new();
    let before = encrypted(&t);
    let out = edit(&t, "fail.sh").output().unwrap();
    assert_eq!(out.status.code(), Some(208));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("the editor exited with exit status: 3; nothing was written"));
    assert_eq!(t.read("s.yaml"), before);
    assert!(t.workspace_leftovers().is_empty());
}

#[test]
fn invalid_content_without_a_tty_aborts() {
    let t = TestDir::new();
    let before = encrypted(&t);
    let out = edit(&t, "invalid.sh")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the edited text is invalid: invalid yaml at line "),
        "{err}"
    );
    assert!(
        err.contains("aborted; the file was left as it was"),
        "{err}"
    );
    assert_eq!(t.read("s.yaml"), before);
    assert!(t.workspace_leftovers().is_empty());
}

fn wait_for(path: &std::path::Path) {
    for _ in 0..200 {
        if path.exists() && std::fs::read_to_string(path).is_ok_and(|s| !s.is_empty()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("{} never appeared", path.display());
}

/// Starts `edit` with the sleeping editor in its own process group.
fn start_sleeping(t: &TestDir) -> (std::process::Child, std::path::PathBuf) {
    let record = t.path("record.txt");
    let child = edit(t, "sleep.sh")
        .env("RECORD", &record)
        .process_group(0)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&record);
    let ws_file = std::path::PathBuf::from(std::fs::read_to_string(&record).unwrap().trim());
    assert!(ws_file.exists());
    (child, ws_file)
}

fn kill(signal: &str, target: &str) {
    let st = std::process::Command::new("kill")
        .args([signal, "--", target])
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn sigterm_and_sighup_remove_the_plaintext() {
    use std::os::unix::process::ExitStatusExt;
    for (signal, code) in [("-TERM", 143), ("-HUP", 129)] {
        let t = TestDir::new();
        let before = encrypted(&t);
        let (child, ws_file) = start_sleeping(&t);
        kill(signal, &child.id().to_string());
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{signal}: {:?} {}",
            out.status.signal(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("interrupted; the plaintext was removed")
        );
        assert!(
            !ws_file.exists() && !ws_file.parent().unwrap().exists(),
            "{signal}: workspace removed"
        );
        assert_eq!(t.read("s.yaml"), before);
        assert!(t.workspace_leftovers().is_empty());
    }
}

#[test]
fn ctrl_c_reaches_the_editor_and_nothing_is_left() {
    let t = TestDir::new();
    let before = encrypted(&t);
    let (child, ws_file) = start_sleeping(&t);
    // A terminal sends Ctrl-C to the whole foreground process group.
    kill("-INT", &format!("-{}", child.id()));
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(208),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!ws_file.parent().unwrap().exists());
    assert_eq!(t.read("s.yaml"), before);
}

#[test]
fn a_second_edit_of_the_same_file_is_refused() {
    let t = TestDir::new();
    let before = encrypted(&t);
    let (mut first, _) = start_sleeping(&t);
    let out = edit(&t, "unchanged.sh").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(207),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("another botsecrets process is changing this file"));
    // The first one, terminated, cleans up after itself.
    kill("-TERM", &first.id().to_string());
    assert_eq!(first.wait().unwrap().code(), Some(143));
    assert_eq!(t.read("s.yaml"), before);
    assert!(t.workspace_leftovers().is_empty());
}

#[test]
fn a_missing_file_is_created_from_a_template() {
    let t = TestDir::new();
    let out = t
        .cmd()
        .args(["edit", "--age", RECIPIENT1, "new.yaml"])
        .env("EDITOR", editor("replace.sh"))
        .env("EDIT_FROM", "replace-me")
        .env("EDIT_TO", "sk-real-value")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let enc = t.read("new.yaml");
    assert!(enc.contains("example_api_key: ENC[") && !enc.contains("sk-real-value"));
    let r = t.run(&[
        "get",
        "--identity",
        key1().to_str().unwrap(),
        "new.yaml",
        "example_api_key",
    ]);
    assert_eq!(r.ok().stdout(), "sk-real-value");
}

#[test]
fn a_missing_file_without_recipients_fails_before_the_editor() {
    let t = TestDir::new();
    let record = t.path("record.txt");
    let out = t
        .cmd()
        .args(["edit", "new.yaml"])
        .env("EDITOR", editor("sleep.sh"))
        .env("RECORD", &record)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(111));
    assert!(!record.exists(), "the editor must not have run");
    assert!(!t.path("new.yaml").exists());
}

#[test]
fn editor_settings_split_like_a_shell() {
    let t = TestDir::new();
    encrypted(&t);
    let out = edit(&t, "unused")
        .env_remove("EDITOR")
        .env("VISUAL", format!("sh '{}'", editor("replace.sh")))
        .env("EDIT_FROM", "8080")
        .env("EDIT_TO", "9191")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(t.decrypt("s.yaml").ok().stdout().contains("port: 9191"));
}

#[test]
fn the_reopen_prompt_under_a_terminal() {
    let t = TestDir::new();
    t.write("s.yaml", "token: first\n");
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"])
        .ok();
    let record = t.path("record.txt");
    let mut cmd = edit(&t, "fix-on-second-try.sh");
    cmd.env("RECORD", &record).env("TERM", "dumb");
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    p.exp_string("the edited text is invalid: invalid yaml at line ")
        .unwrap();
    p.exp_string("Reopen the editor to fix it? [Y/n]").unwrap();
    p.send_line("y").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(std::fs::read_to_string(&record).unwrap().lines().count(), 2);
    assert_eq!(t.decrypt("s.yaml").ok().stdout(), "token: fixed-value\n");
}

#[test]
fn a_real_vim_under_a_terminal() {
    let Some(vim) = tool("vim") else { return };
    let t = TestDir::new();
    t.write("s.yaml", "token: first\nport: 8080\n");
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"])
        .ok();
    let before = t.read("s.yaml");
    std::thread::sleep(Duration::from_millis(1100));
    let mut cmd = t.cmd();
    cmd.args(["edit", "--identity", key1().to_str().unwrap(), "s.yaml"])
        .env("EDITOR", format!("{} -u NONE -i NONE -N -n", vim.display()))
        .env("TERM", "xterm");
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    // Wait for vim to show the decrypted plaintext, then edit and save.
    p.exp_string("first").unwrap();
    p.exp_string("~").unwrap();
    // Let vim finish its start-up terminal queries before typing.
    std::thread::sleep(Duration::from_millis(500));
    p.send(":%s/first/second/\r").unwrap();
    p.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    p.send(":wq\r").unwrap();
    p.flush().unwrap();
    p.exp_eof().unwrap();
    assert_eq!(
        t.decrypt("s.yaml").ok().stdout(),
        "token: second\nport: 8080\n"
    );
    assert_eq!(
        changed_keys(&before, &t.read("s.yaml")),
        ["token", "lastmodified", "mac", "botsecrets_seal"]
    );
    assert!(t.workspace_leftovers().is_empty());
}

#[test]
fn renaming_a_key_re_encrypts_only_that_value() {
    let t = TestDir::new();
    let before = encrypted(&t);
    std::thread::sleep(Duration::from_millis(1100));
    let out = edit(&t, "replace.sh")
        .env("EDIT_FROM", "^port:")
        .env("EDIT_TO", "listen_port:")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = t.read("s.yaml");
    assert_eq!(
        changed_keys(&before, &after),
        ["port", "lastmodified", "mac", "botsecrets_seal"]
    );
    let new_line = after
        .lines()
        .find(|l| l.starts_with("listen_port:"))
        .unwrap();
    let old_line = before.lines().find(|l| l.starts_with("port:")).unwrap();
    assert_ne!(
        new_line.split_once(": ").unwrap().1,
        old_line.split_once(": ").unwrap().1,
        "new AAD, new ciphertext"
    );
    assert_eq!(
        t.decrypt("s.yaml").ok().stdout(),
        PLAIN.replace("port:", "listen_port:")
    );
}

#[test]
fn set_during_an_edit_is_refused_but_get_works() {
    let t = TestDir::new();
    let before = encrypted(&t);
    let (mut first, _) = start_sleeping(&t);
    let k = key1();
    let r = t.run(&[
        "set",
        "--identity",
        k.to_str().unwrap(),
        "s.yaml",
        "port",
        "1",
    ]);
    r.fails_with(207);
    let r = t.run(&["get", "--identity", k.to_str().unwrap(), "s.yaml", "port"]);
    assert_eq!(r.ok().stdout(), "8080");
    kill("-TERM", &first.id().to_string());
    assert_eq!(first.wait().unwrap().code(), Some(143));
    assert_eq!(t.read("s.yaml"), before);
}

#[test]
fn a_new_file_without_age_uses_the_creation_rule() {
    let t = TestDir::new();
    t.write(
        "bots/.botsecrets.yaml",
        &format!("creation_rules:\n  - path_regex: \\.yaml$\n    age: {RECIPIENT2}\n    encrypted_regex: ^example_api_key$\n"),
    );
    let out = t
        .cmd()
        .args(["edit", "bots/new.yaml"])
        .env("EDITOR", editor("replace.sh"))
        .env("EDIT_FROM", "replace-me")
        .env("EDIT_TO", "sk-from-rule")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let enc = t.read("bots/new.yaml");
    assert!(enc.contains(RECIPIENT2) && !enc.contains(RECIPIENT1));
    assert!(enc.contains("encrypted_regex: ^example_api_key$"));
    let r = t.run(&[
        "get",
        "--identity",
        key2().to_str().unwrap(),
        "bots/new.yaml",
        "example_api_key",
    ]);
    assert_eq!(r.ok().stdout(), "sk-from-rule");
}
