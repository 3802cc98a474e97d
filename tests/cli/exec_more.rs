//! `exec` conveniences (issue 15, items 5 and 6): a mistyped flag is a
//! usage error, `--as-file` (an in-memory file, nothing left after),
//! names without the storage suffix, `--rename` and the rules' `env:` map,
//! and `--redact` (split writes, a pty, signals, the exit status).

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

use crate::util::{key1, strace_botsecrets, tool, Run, TestDir, RECIPIENT1};

const TOKEN: &str = "hunter2-secret-token";

fn secrets(t: &TestDir, name: &str, plain: &str) {
    let text = t.encrypt(&format!("plain.{name}"), plain);
    t.write(name, &text);
    std::fs::remove_file(t.path(&format!("plain.{name}"))).unwrap();
}

fn exec(t: &TestDir, args: &[&str]) -> Run {
    let mut c = t.cmd();
    c.args(["exec", "--identity", key1().to_str().unwrap()]);
    c.args(args);
    c.stdin(Stdio::null());
    Run(c.output().unwrap())
}

/// `NAME=value` lines of the child's environment.
fn env_of(r: &Run) -> Vec<String> {
    r.ok();
    r.stdout().lines().map(str::to_owned).collect()
}

/// Every file under the test directory and under /tmp's botsecrets-looking
/// names, to show nothing was left behind.
fn listing(t: &TestDir) -> Vec<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            out.push(p.display().to_string());
            if p.is_dir() {
                walk(&p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(t.dir.path(), &mut out);
    out.sort();
    out
}

#[test]
fn a_mistyped_flag_before_the_command_is_a_usage_error_with_a_suggestion() {
    let t = TestDir::new();
    secrets(&t, "s.yaml", &format!("token: {TOKEN}\n"));
    let r = exec(&t, &["-f", "s.yaml", "--prisitne", "--", "touch", "ran"]);
    // Usage errors exit 1 everywhere (docs/exit-codes.md), as in sops.
    r.fails_with(1).leaks_none(&[TOKEN]);
    assert!(
        r.stderr()
            .contains("a similar argument exists: '--pristine'"),
        "{}",
        r.stderr()
    );
    assert!(!t.path("ran").exists(), "the typo was run as the command");
    let r = exec(&t, &["-f", "s.yaml", "-x", "--", "touch", "ran"]);
    r.fails_with(1);
    assert!(
        r.stderr().contains("unexpected argument '-x'"),
        "{}",
        r.stderr()
    );
    assert!(!t.path("ran").exists());
    // After `--`, and after the command's name, flags are the command's.
    exec(
        &t,
        &["-f", "s.yaml", "--", "sh", "-c", "touch ran", "--prisitne"],
    )
    .ok();
    assert!(t.path("ran").exists());
    exec(&t, &["-f", "s.yaml", "sh", "-c", "touch ran2", "-x"]).ok();
    assert!(t.path("ran2").exists());
}

#[test]
fn names_drop_the_storage_suffix_and_collisions_stay_errors() {
    let t = TestDir::new();
    secrets(
        &t,
        "s.yaml",
        &format!("s3:\n  bucket_unencrypted: fleet-bucket\n  key: {TOKEN}\nregion_unencrypted: eu-west-1\n"),
    );
    let env = env_of(&exec(&t, &["-f", "s.yaml", "--pristine", "--", "env"]));
    assert!(
        env.contains(&"S3_BUCKET=fleet-bucket".to_owned()),
        "{env:?}"
    );
    assert!(env.contains(&"REGION=eu-west-1".to_owned()), "{env:?}");
    assert!(env.contains(&format!("S3_KEY={TOKEN}")), "{env:?}");
    assert!(!env.iter().any(|l| l.contains("UNENCRYPTED")), "{env:?}");
    let env = env_of(&exec(
        &t,
        &["-f", "s.yaml", "--keep-suffix", "--pristine", "--", "env"],
    ));
    assert!(
        env.contains(&"S3_BUCKET_UNENCRYPTED=fleet-bucket".to_owned()),
        "{env:?}"
    );
    // A file's own suffix (sops' --unencrypted-suffix) is the one dropped.
    t.write("p.yaml", "host_clear: h\n");
    t.run(&[
        "encrypt",
        "--age",
        RECIPIENT1,
        "--unencrypted-suffix",
        "_clear",
        "-i",
        "p.yaml",
    ])
    .ok();
    let env = env_of(&exec(&t, &["-f", "p.yaml", "--pristine", "--", "env"]));
    assert!(env.contains(&"HOST=h".to_owned()), "{env:?}");
    // `bucket` and `bucket_unencrypted` now give one name: an error naming
    // both paths, before anything runs.
    secrets(
        &t,
        "c.yaml",
        &format!("bucket: {TOKEN}\nbucket_unencrypted: b\n"),
    );
    let r = exec(&t, &["-f", "c.yaml", "--", "touch", "ran"]);
    r.fails_with(2).leaks_none(&[TOKEN]);
    assert!(
        r.stderr().contains("two key paths give the variable BUCKET: bucket (c.yaml) and bucket_unencrypted (c.yaml)"),
        "{}",
        r.stderr()
    );
    assert!(!t.path("ran").exists());
    // export names them the same way.
    let r = t.run(&[
        "export",
        "--identity",
        key1().to_str().unwrap(),
        "--format",
        "dotenv",
        "s.yaml",
    ]);
    r.ok();
    assert!(
        r.stdout().contains("S3_BUCKET=\"fleet-bucket\""),
        "{}",
        r.stdout()
    );
}

#[test]
fn rename_and_the_rules_env_map_give_conventional_names() {
    let t = TestDir::new();
    t.write(
        ".botsecrets.yaml",
        &format!(
            "creation_rules:\n  - path_regex: aws\\.yaml$\n    age: {RECIPIENT1}\n    env:\n      aws.access_key_id: AWS_ACCESS_KEY_ID\n      aws.secret_access_key: AWS_SECRET_ACCESS_KEY\n"
        ),
    );
    t.write("aws.yaml", &format!("aws:\n  access_key_id: AKIAEXAMPLE1\n  secret_access_key: {TOKEN}\n  region_unencrypted: eu-west-1\n"));
    t.run(&["encrypt", "-i", "aws.yaml"]).ok();
    let env = env_of(&exec(&t, &["-f", "aws.yaml", "--pristine", "--", "env"]));
    assert!(
        env.contains(&"AWS_ACCESS_KEY_ID=AKIAEXAMPLE1".to_owned()),
        "{env:?}"
    );
    assert!(
        env.contains(&format!("AWS_SECRET_ACCESS_KEY={TOKEN}")),
        "{env:?}"
    );
    assert!(env.contains(&"AWS_REGION=eu-west-1".to_owned()), "{env:?}");
    // --rename wins over the rule, and is not prefixed.
    let env = env_of(&exec(
        &t,
        &[
            "-f",
            "aws.yaml",
            "--prefix",
            "APP_",
            "--rename",
            "aws.access_key_id=KEY_ID",
            "--pristine",
            "--",
            "env",
        ],
    ));
    assert!(env.contains(&"KEY_ID=AKIAEXAMPLE1".to_owned()), "{env:?}");
    assert!(
        env.contains(&"APP_AWS_REGION=eu-west-1".to_owned()),
        "{env:?}"
    );
    // A rename onto another variable's name is a collision.
    let r = exec(
        &t,
        &[
            "-f",
            "aws.yaml",
            "--rename",
            "aws.region_unencrypted=AWS_ACCESS_KEY_ID",
            "--",
            "true",
        ],
    );
    r.fails_with(2).leaks_none(&[TOKEN]);
    assert!(
        r.stderr().contains("give the variable AWS_ACCESS_KEY_ID"),
        "{}",
        r.stderr()
    );
    // A path that is not a value, a bad name, a refused name.
    let r = exec(
        &t,
        &["-f", "aws.yaml", "--rename", "aws.nope=X", "--", "true"],
    );
    r.fails_with(91);
    assert!(
        r.stderr()
            .contains("--rename: aws.nope is not a value in aws.yaml"),
        "{}",
        r.stderr()
    );
    exec(
        &t,
        &[
            "-f",
            "aws.yaml",
            "--rename",
            "aws.access_key_id=1X",
            "--",
            "true",
        ],
    )
    .fails_with(1);
    let r = exec(
        &t,
        &[
            "-f",
            "aws.yaml",
            "--rename",
            "aws.access_key_id=LD_PRELOAD",
            "--",
            "true",
        ],
    );
    r.fails_with(217);
    // A bad env: entry in the rules is a rules error with its line.
    t.write(
        ".botsecrets.yaml",
        &format!("creation_rules:\n  - age: {RECIPIENT1}\n    env:\n      aws.access_key_id: not-a-name\n"),
    );
    let r = exec(&t, &["-f", "aws.yaml", "--", "true"]);
    r.fails_with(5);
    assert!(r.stderr().contains("line 4"), "{}", r.stderr());
}

#[test]
fn as_file_gives_an_in_memory_file_and_leaves_nothing() {
    let t = TestDir::new();
    let json = r#"{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n"}"#;
    secrets(
        &t,
        "s.yaml",
        &format!("gcp:\n  credentials: '{json}'\ntoken: {TOKEN}\n"),
    );
    let before = listing(&t);
    let r = exec(
        &t,
        &[
            "-f",
            "s.yaml",
            "--as-file",
            "GOOGLE_APPLICATION_CREDENTIALS=gcp.credentials",
            "--only",
            "token",
            "--",
            "sh",
            "-c",
            r#"echo "path=$GOOGLE_APPLICATION_CREDENTIALS"; cat "$GOOGLE_APPLICATION_CREDENTIALS"; echo; readlink "$GOOGLE_APPLICATION_CREDENTIALS"; env | grep -c service_account; echo x >> "$GOOGLE_APPLICATION_CREDENTIALS" 2>/dev/null && echo writable || echo sealed"#,
        ],
    );
    r.ok();
    let out = r.stdout();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("path=/proc/self/fd/"), "{out}");
    assert!(out.contains(json), "{out}");
    // A memfd: no name in any file system.
    assert!(
        out.contains("/memfd:botsecrets:GOOGLE_APPLICATION_CREDENTIALS (deleted)"),
        "{out}"
    );
    // The value is not in the environment too, and cannot be changed.
    assert_eq!(lines[lines.len() - 2], "0", "{out}");
    assert_eq!(lines[lines.len() - 1], "sealed", "{out}");
    assert_eq!(listing(&t), before, "a file was left behind");
    // --verbose says so, names only.
    let r = exec(
        &t,
        &[
            "-v",
            "-f",
            "s.yaml",
            "--as-file",
            "F=gcp.credentials",
            "--",
            "true",
        ],
    );
    r.ok().leaks_none(&[TOKEN, "service_account"]);
    assert!(
        r.stderr().contains(
            "F <- gcp.credentials in s.yaml (--as-file: the variable holds the file's path)"
        ),
        "{}",
        r.stderr()
    );
    // The path that is not a value.
    let r = exec(&t, &["-f", "s.yaml", "--as-file", "F=gcp", "--", "true"]);
    r.fails_with(91);
    assert!(
        r.stderr().contains("--as-file: gcp is not a value"),
        "{}",
        r.stderr()
    );
    exec(
        &t,
        &["-f", "s.yaml", "--as-file", "gcp.credentials", "--", "true"],
    )
    .fails_with(1);
}

#[test]
fn as_file_writes_nothing_to_disk_under_strace() {
    let t = TestDir::new();
    secrets(&t, "s.yaml", &format!("key: {TOKEN}\n"));
    let key = key1();
    let Some((out, trace)) = strace_botsecrets(
        &t,
        &["-f", "-qq", "-e", "trace=openat,open,creat,memfd_create"],
        &[
            "exec",
            "--identity",
            key.to_str().unwrap(),
            "-f",
            "s.yaml",
            "--as-file",
            "K=key",
            "--",
            "cat",
            "/proc/self/fd/3",
        ],
    ) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), TOKEN);
    assert!(trace.contains("memfd_create(\"botsecrets:K\""), "{trace}");
    for line in trace.lines() {
        assert!(
            !(line.contains("O_CREAT") || line.contains("creat(")),
            "a file was created: {line}"
        );
    }
}

/// `exec --redact ARGS`, its output piped.
fn redact(t: &TestDir, script: &str) -> Run {
    exec(t, &["-f", "s.yaml", "--redact", "--", "sh", "-c", script])
}

#[test]
fn redact_masks_secrets_also_split_across_writes() {
    let t = TestDir::new();
    secrets(
        &t,
        "s.yaml",
        &format!(
            "token: {TOKEN}\nother: second-secret\nshort: abc12\nregion_unencrypted: eu-west-1\n"
        ),
    );
    let r = redact(
        &t,
        r#"echo "token=$TOKEN other=$OTHER short=$SHORT region=$REGION"
printf 'err: %s\n' "$OTHER" >&2
printf 'hunter2-se'; sleep 0.3; printf 'cret-token!\n'
printf '%s' "$TOKEN" | head -c 3 >&2; sleep 0.3; printf '%s\n' "$TOKEN" | tail -c +4 >&2
exit 7"#,
    );
    r.fails_with(7).leaks_none(&[TOKEN, "second-secret"]);
    assert_eq!(
        r.stdout(),
        "token=[redacted:TOKEN] other=[redacted:OTHER] short=abc12 region=eu-west-1\n[redacted:TOKEN]!\n"
    );
    assert_eq!(r.stderr(), "err: [redacted:OTHER]\n[redacted:TOKEN]\n");
}

#[test]
fn redact_keeps_a_terminal_for_the_command() {
    let Some(script) = tool("script") else { return };
    let t = TestDir::new();
    secrets(&t, "s.yaml", &format!("token: {TOKEN}\n"));
    let inner = format!(
        "{} exec --identity {} -f s.yaml --redact -- sh -c 'test -t 1 && echo out-is-a-tty; test -t 2 && echo err-is-a-tty; echo \"t=$TOKEN\"; printf \"a\\nb\\n\"'",
        env!("CARGO_BIN_EXE_botsecrets"),
        key1().display()
    );
    let mut c = Command::new(script);
    c.args(["-qefc", &inner, "/dev/null"]);
    for (k, v) in t.cmd().get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c.current_dir(t.dir.path()).stdin(Stdio::null());
    let out = c.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains(TOKEN), "{text}");
    // The terminal turns \n into \r\n once (ours), not twice.
    assert!(
        text.contains("out-is-a-tty\r\nerr-is-a-tty\r\nt=[redacted:TOKEN]\r\na\r\nb\r\n"),
        "{text:?}"
    );
}

#[test]
fn redact_forwards_signals_and_keeps_the_exit_status() {
    let t = TestDir::new();
    secrets(&t, "s.yaml", &format!("token: {TOKEN}\n"));
    let mut c = t.cmd();
    c.args([
        "exec",
        "--identity",
        key1().to_str().unwrap(),
        "-f",
        "s.yaml",
        "--redact",
        "--",
        "sh",
        "-c",
        r#"trap 'echo "got TERM with $TOKEN"; exit 3' TERM; echo ready; sleep 10 >/dev/null 2>&1 & wait"#,
    ]);
    c.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    let mut child = c.spawn().unwrap();
    // Wait for "ready", then signal botsecrets itself.
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 64];
    use std::io::Read;
    while !String::from_utf8_lossy(&seen).contains("ready") {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "no ready");
        seen.extend_from_slice(&buf[..n]);
    }
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    stdout.read_to_end(&mut seen).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3));
    assert_eq!(
        String::from_utf8_lossy(&seen),
        "ready\ngot TERM with [redacted:TOKEN]\n"
    );

    // A command killed by a signal: botsecrets dies of the same signal.
    let mut c = t.cmd();
    c.args([
        "exec",
        "--identity",
        key1().to_str().unwrap(),
        "-f",
        "s.yaml",
        "--redact",
        "--",
        "sh",
        "-c",
        "kill -USR1 $$",
    ]);
    let status = c.stdin(Stdio::null()).output().unwrap().status;
    assert_eq!(status.signal(), Some(10), "{status:?}");
    // A command that is not found: 127, as without --redact.
    let r = exec(
        &t,
        &["-f", "s.yaml", "--redact", "--", "no-such-command-xyz"],
    );
    r.fails_with(127);
}
