//! `exec`'s hand-over (execvpe with an environment built once, instead of
//! std's `Command::exec`): the command is looked up on the PATH it gets,
//! a script without `#!` runs under /bin/sh as execvp runs it, and the
//! environment it sees is exactly the inherited one with the secrets set
//! over it, byte for byte.

use std::os::unix::fs::PermissionsExt;

use crate::exec::{exec_cmd, run, secrets};
use crate::util::TestDir;

fn executable(t: &TestDir, name: &str, text: &str) {
    let p = t.write(name, text);
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_bare_name_is_found_on_the_path_the_command_gets() {
    let t = TestDir::new();
    executable(&t, "bin/only-here", "#!/bin/sh\necho \"found: $TOKEN\"\n");
    let bin = t.path("bin");
    let path = format!("{}:/usr/bin:/bin", bin.display());
    secrets(
        &t,
        "s.json",
        &format!(r#"{{"path": "{path}", "token": "tok-9f8e7d"}}"#),
    );
    // botsecrets' own PATH does not have the directory; the secret PATH
    // (allowed explicitly) does, and the lookup uses it.
    let mut c = exec_cmd(
        &t,
        &["--allow-env", "PATH", "--file", "s.json", "--", "only-here"],
    );
    c.env("PATH", "/usr/bin:/bin");
    let r = run(c);
    r.ok();
    assert_eq!(r.stdout(), "found: tok-9f8e7d\n");
    assert!(!r.stderr().contains("tok-9f8e7d"));

    // Without it, the command is not on botsecrets' PATH: 127, as a shell.
    let mut c = exec_cmd(
        &t,
        &["--file", "s.json", "--only", "TOKEN", "--", "only-here"],
    );
    c.env("PATH", "/usr/bin:/bin");
    let r = run(c);
    r.fails_with(127);
    assert!(
        r.stderr().contains("only-here: command not found on PATH"),
        "{}",
        r.stderr()
    );
    assert!(!r.stderr().contains("tok-9f8e7d"));
}

#[test]
fn a_script_without_an_interpreter_line_runs_under_sh() {
    let t = TestDir::new();
    executable(&t, "plain-script", "echo \"sh ran me: $TOKEN\"\n");
    secrets(&t, "s.json", r#"{"token": "tok-31337"}"#);
    let r = run(exec_cmd(&t, &["--file", "s.json", "--", "./plain-script"]));
    r.ok();
    assert_eq!(r.stdout(), "sh ran me: tok-31337\n");
}

#[test]
fn the_environment_is_the_inherited_one_with_the_secrets_over_it() {
    let t = TestDir::new();
    secrets(
        &t,
        "s.json",
        r#"{"token": "tok-a1b2", "multi": "line 1\nline 2=x", "empty": "", "shadowed": "new"}"#,
    );
    let mut c = exec_cmd(&t, &["--file", "s.json", "--", "env", "-0"]);
    c.env("SHADOWED", "old").env("KEEP_ME", "a=b=c");
    let r = run(c);
    r.ok();
    let got: Vec<&str> =
        r.0.stdout
            .split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| std::str::from_utf8(s).unwrap())
            .collect();
    for want in [
        "TOKEN=tok-a1b2",
        "MULTI=line 1\nline 2=x",
        "EMPTY=",
        "SHADOWED=new",
        "KEEP_ME=a=b=c",
    ] {
        assert_eq!(
            got.iter().filter(|kv| **kv == want).count(),
            1,
            "{want:?} in {got:?}"
        );
    }
    assert!(!got.contains(&"SHADOWED=old"));
    // Sorted by name, one entry each, as std's Command passed it.
    let names: Vec<&str> = got.iter().map(|kv| kv.split('=').next().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(names, sorted);
    assert!(!r.stderr().contains("tok-a1b2"));

    // --pristine: the secrets and PATH, nothing else.
    let mut c = exec_cmd(
        &t,
        &["--pristine", "--file", "s.json", "--", "/usr/bin/env", "-0"],
    );
    c.env("PATH", "/usr/bin:/bin");
    let r = run(c);
    r.ok();
    let mut names: Vec<&str> =
        r.0.stdout
            .split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| std::str::from_utf8(s).unwrap().split('=').next().unwrap())
            .collect();
    names.sort_unstable();
    assert_eq!(names, ["EMPTY", "MULTI", "PATH", "SHADOWED", "TOKEN"]);
}
