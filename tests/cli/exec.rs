//! `botsecrets exec`: names, values, merge, selection, the environment,
//! execve semantics (PID, signals, exit codes), failures before the command
//! starts, and no file written.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{key1, key2, strace_botsecrets, Run, TestDir};

/// Encrypts `plain` for key 1 into `name` (the plaintext goes to `plain.<name>`).
pub(crate) fn secrets(t: &TestDir, name: &str, plain: &str) {
    let text = t.encrypt(&format!("plain.{name}"), plain);
    t.write(name, &text);
    std::fs::remove_file(t.path(&format!("plain.{name}"))).unwrap();
}

/// `botsecrets exec --identity key1 ARGS...`.
pub(crate) fn exec_cmd(t: &TestDir, args: &[&str]) -> Command {
    let mut c = t.cmd();
    c.args(["exec", "--identity", key1().to_str().unwrap()]);
    c.args(args);
    c
}

pub(crate) fn run(mut c: Command) -> Run {
    Run(c.output().expect("run botsecrets"))
}

/// The child's environment as (name, value) pairs, via `env -0`.
fn child_env(r: &Run) -> Vec<(String, String)> {
    r.ok();
    r.stdout()
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn get<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
    env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

const FLEET: &str = r#"{
  "weather": {"api-key": "w-$ecret 'q' \"d\""},
  "bots": [{"token": "tok0"}, {"token": "tok1"}],
  "port": 8080,
  "ratio": 0.25,
  "enabled": true,
  "gone": null,
  "empty": "",
  "pem": "-----BEGIN-----\nline2\n-----END-----\n",
  "9lives": "cat"
}"#;

#[test]
fn nested_keys_lists_and_types_become_variables() {
    let t = TestDir::new();
    secrets(&t, "s.json", FLEET);
    let r = run(exec_cmd(&t, &["--file", "s.json", "--", "env", "-0"]));
    let env = child_env(&r);
    assert_eq!(get(&env, "WEATHER_API_KEY"), Some("w-$ecret 'q' \"d\""));
    assert_eq!(get(&env, "BOTS_0_TOKEN"), Some("tok0"));
    assert_eq!(get(&env, "BOTS_1_TOKEN"), Some("tok1"));
    assert_eq!(get(&env, "PORT"), Some("8080"));
    assert_eq!(get(&env, "RATIO"), Some("0.25"));
    assert_eq!(get(&env, "ENABLED"), Some("true"));
    assert_eq!(get(&env, "EMPTY"), Some(""));
    assert_eq!(
        get(&env, "PEM"),
        Some("-----BEGIN-----\nline2\n-----END-----\n")
    );
    assert_eq!(get(&env, "_9LIVES"), Some("cat"));
    assert_eq!(get(&env, "GONE"), None, "nulls are skipped");
    assert!(
        !env.iter().any(|(k, _)| [
            "SOPS_MAC",
            "SOPS_LASTMODIFIED",
            "SOPS_VERSION",
            "SOPS_AGE_0_ENC"
        ]
        .contains(&k.as_str())),
        "metadata never becomes variables"
    );
}

#[test]
fn dotenv_files_give_what_a_loader_reads() {
    let t = TestDir::new();
    secrets(
        &t,
        "s.env",
        "# a comment\nA=\"x y\"\nexport B='lit $x'\nC=plain # note\nD=\n",
    );
    let r = run(exec_cmd(&t, &["--file", "s.env", "--", "env", "-0"]));
    let env = child_env(&r);
    assert_eq!(get(&env, "A"), Some("x y"));
    assert_eq!(get(&env, "B"), Some("lit $x"));
    assert_eq!(get(&env, "C"), Some("plain"));
    assert_eq!(get(&env, "D"), Some(""));
}

#[test]
fn argv_is_passed_without_a_shell() {
    let t = TestDir::new();
    secrets(&t, "s.json", r#"{"k": "v"}"#);
    let r = run(exec_cmd(
        &t,
        &[
            "--file", "s.json", "--", "printf", "%s|", "a b", "$K", "*", "--file",
        ],
    ));
    r.ok();
    assert_eq!(r.stdout(), "a b|$K|*|--file|");
}

#[test]
fn exit_code_is_the_commands() {
    let t = TestDir::new();
    secrets(&t, "s.json", r#"{"k": "v"}"#);
    let r = run(exec_cmd(
        &t,
        &["--file", "s.json", "--", "sh", "-c", "exit 7"],
    ));
    r.fails_with(7);
    assert_eq!(r.stderr(), "");
}

#[test]
fn becomes_the_command_same_pid_and_signals_reach_it() {
    let t = TestDir::new();
    secrets(&t, "s.json", r#"{"k": "v"}"#);
    let mut child = exec_cmd(&t, &["--file", "s.json", "--", "sleep", "30"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if cmdline == b"sleep\x0030\x00" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "PID {pid} never became `sleep 30`: {:?}",
            String::from_utf8_lossy(&cmdline)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // No helper process: the PID itself runs sleep, with no children.
    let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    assert_eq!(children.trim(), "", "exec left a child process behind");
    let kill = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(15), "{status:?}");
}

/// The ignored-signal mask of a `/proc/<pid>/status` `SigIgn:` line, less
/// signals 32 and 33. Those are glibc's own (cancellation and set*id
/// broadcast; glibc's `sigaction` refuses them and its `SIGRTMIN` is above
/// them). glibc's `posix_spawn`, which the test harness starts commands
/// with, hands them to the child ignored, while a static glibc (the
/// binary, `.cargo/config.toml`) takes 33 over at start, so a command under
/// `exec` finds it at its default instead.
fn ignored_signals(status_line: &str) -> u64 {
    let hex = status_line
        .trim()
        .strip_prefix("SigIgn:")
        .expect(status_line)
        .trim();
    let mask = u64::from_str_radix(hex, 16).unwrap();
    mask & !(0b11 << 31)
}

#[test]
fn signal_dispositions_are_reset_for_the_command() {
    // Rust ignores SIGPIPE at startup; the command must not inherit that.
    let t = TestDir::new();
    secrets(&t, "s.json", r#"{"k": "v"}"#);
    let direct = Command::new("grep")
        .args(["SigIgn", "/proc/self/status"])
        .output()
        .unwrap();
    let r = run(exec_cmd(
        &t,
        &[
            "--file",
            "s.json",
            "--",
            "grep",
            "SigIgn",
            "/proc/self/status",
        ],
    ));
    r.ok();
    let direct = String::from_utf8(direct.stdout).unwrap();
    assert_eq!(
        ignored_signals(&r.stdout()),
        ignored_signals(&direct),
        "{direct}"
    );
}

#[test]
fn secrets_override_inherited_and_verbose_lists_names_only() {
    let t = TestDir::new();
    secrets(&t, "s.json", r#"{"token": "s3cr3t-value", "other": "x"}"#);
    let mut c = exec_cmd(&t, &["--verbose", "--file", "s.json", "--", "env", "-0"]);
    c.env("TOKEN", "inherited-value").env("KEEP_ME", "1");
    let r = run(c);
    let env = child_env(&r);
    assert_eq!(get(&env, "TOKEN"), Some("s3cr3t-value"));
    assert_eq!(get(&env, "KEEP_ME"), Some("1"));
    let err = r.stderr();
    assert!(
        err.contains("overriding inherited variables: TOKEN"),
        "{err}"
    );
    assert!(err.contains("TOKEN <- token in s.json"), "{err}");
    assert!(
        !err.contains("s3cr3t") && !err.contains("inherited-value"),
        "{err}"
    );
}

#[test]
fn pristine_keeps_only_the_secrets_and_path() {
    let t = TestDir::new();
    secrets(&t, "s.json", r#"{"token": "t"}"#);
    let mut c = exec_cmd(&t, &["--pristine", "--file", "s.json", "--", "env", "-0"]);
    c.env("AWS_SECRET_ACCESS_KEY", "leak");
    let r = run(c);
    let env = child_env(&r);
    let mut names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
    names.sort();
    assert_eq!(names, ["PATH", "TOKEN"], "{env:?}");
    assert_eq!(get(&env, "PATH"), std::env::var("PATH").ok().as_deref());
}

#[test]
fn only_and_prefix_select_and_rename() {
    let t = TestDir::new();
    secrets(&t, "s.json", FLEET);
    let r = run(exec_cmd(
        &t,
        &[
            "--pristine",
            "--file",
            "s.json",
            "--only",
            "weather,BOTS_1_TOKEN",
            "--only",
            "port",
            "--prefix",
            "APP_",
            "--",
            "env",
            "-0",
        ],
    ));
    let env = child_env(&r);
    let mut names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "APP_BOTS_1_TOKEN",
            "APP_PORT",
            "APP_WEATHER_API_KEY",
            "PATH"
        ]
    );
}

#[test]
fn a_missing_only_key_fails_before_the_command_runs() {
    let t = TestDir::new();
    secrets(&t, "s.json", FLEET);
    let r = run(exec_cmd(
        &t,
        &[
            "--file",
            "s.json",
            "--only",
            "weather,nope.key",
            "--",
            "touch",
            "ran",
        ],
    ));
    r.fails_with(91);
    assert!(
        r.stderr().contains("\"nope.key\" not found in s.json"),
        "{}",
        r.stderr()
    );
    assert!(!t.path("ran").exists(), "the command ran");
}

#[test]
fn a_collision_names_both_paths_before_the_command_runs() {
    let t = TestDir::new();
    secrets(&t, "s.json", r#"{"a": {"b-c": "1"}, "A_B_C": "2"}"#);
    let r = run(exec_cmd(&t, &["--file", "s.json", "--", "touch", "ran"]));
    r.fails_with(2).leaks_none(&["\"1\"", "\"2\""]);
    assert!(
        r.stderr()
            .contains("two key paths give the variable A_B_C: a.b-c (s.json) and A_B_C (s.json)"),
        "{}",
        r.stderr()
    );
    assert!(!t.path("ran").exists());
}

#[test]
fn files_merge_in_order_and_collide_across_files() {
    let t = TestDir::new();
    secrets(&t, "base.json", r#"{"token": "old", "db": {"url": "u"}}"#);
    secrets(&t, "prod.env", "token=new\n");
    secrets(&t, "clash.env", "DB_URL=other\n");
    let r = run(exec_cmd(
        &t,
        &[
            "-v",
            "--file",
            "base.json",
            "--file",
            "prod.env",
            "--",
            "env",
            "-0",
        ],
    ));
    let env = child_env(&r);
    assert_eq!(get(&env, "TOKEN"), Some("new"));
    assert_eq!(get(&env, "DB_URL"), Some("u"));
    assert!(
        r.stderr().contains("TOKEN <- token in prod.env (replaces"),
        "{}",
        r.stderr()
    );

    let r = run(exec_cmd(
        &t,
        &[
            "--file",
            "base.json",
            "--file",
            "clash.env",
            "--",
            "touch",
            "ran",
        ],
    ));
    r.fails_with(2);
    assert!(
        r.stderr()
            .contains("DB_URL: db.url (base.json) and DB_URL (clash.env)"),
        "{}",
        r.stderr()
    );
    assert!(!t.path("ran").exists());
}

#[test]
fn default_files_botsecrets_file_then_secrets_star() {
    let t = TestDir::new();
    // None: the error says where it looked.
    let r = run(exec_cmd(&t, &["--", "true"]));
    r.fails_with(100);
    let dir = t.dir.path().canonicalize().unwrap();
    assert!(
        r.stderr()
            .contains("secrets.yaml, secrets.yml, secrets.json, secrets.toml, secrets.env"),
        "{}",
        r.stderr()
    );
    assert!(r.stderr().contains(dir.to_str().unwrap()), "{}", r.stderr());

    secrets(&t, "secrets.json", r#"{"from_default": "1"}"#);
    let env = child_env(&run(exec_cmd(&t, &["--", "env", "-0"])));
    assert_eq!(get(&env, "FROM_DEFAULT"), Some("1"));

    secrets(&t, "a.json", r#"{"a": "1"}"#);
    secrets(&t, "b.env", "B=2\n");
    let mut c = exec_cmd(&t, &["--", "env", "-0"]);
    c.env("BOTSECRETS_FILE", "a.json:b.env");
    let env = child_env(&run(c));
    assert_eq!(get(&env, "A"), Some("1"));
    assert_eq!(get(&env, "B"), Some("2"));
    assert_eq!(get(&env, "FROM_DEFAULT"), None);

    secrets(&t, "secrets.env", "X=1\n");
    let r = run(exec_cmd(&t, &["--", "true"]));
    r.fails_with(1);
    assert!(
        r.stderr().contains("secrets.json, secrets.env"),
        "{}",
        r.stderr()
    );
}

#[test]
fn decryption_failures_mean_the_command_never_starts() {
    let t = TestDir::new();
    secrets(
        &t,
        "s.json",
        r#"{"token": "t", "note_unencrypted": "hello"}"#,
    );
    // Wrong key.
    let mut c = t.cmd();
    c.args([
        "exec",
        "--identity",
        key2().to_str().unwrap(),
        "--file",
        "s.json",
        "--",
        "touch",
        "ran",
    ]);
    run(c).fails_with(128);
    assert!(!t.path("ran").exists());
    // A clear value altered: the MAC no longer matches.
    let tampered = t.read("s.json").replace("hello", "hellO");
    t.write("s.json", &tampered);
    let r = run(exec_cmd(&t, &["--file", "s.json", "--", "touch", "ran"]));
    r.fails_with(51);
    assert!(!t.path("ran").exists());
    // A missing file.
    run(exec_cmd(&t, &["--file", "nope.json", "--", "touch", "ran"])).fails_with(100);
    assert!(!t.path("ran").exists());
}

#[test]
fn command_not_found_127_not_executable_126() {
    let t = TestDir::new();
    secrets(&t, "s.json", r#"{"k": "v"}"#);
    let r = run(exec_cmd(
        &t,
        &["--file", "s.json", "--", "botsecrets-no-such-command"],
    ));
    r.fails_with(127);
    assert!(r
        .stderr()
        .contains("botsecrets-no-such-command: command not found"));
    t.write("script.sh", "#!/bin/sh\necho hi\n");
    let r = run(exec_cmd(&t, &["--file", "s.json", "--", "./script.sh"]));
    r.fails_with(126);
    assert!(
        r.stderr().contains("./script.sh: permission denied"),
        "{}",
        r.stderr()
    );
    run(exec_cmd(&t, &["--file", "s.json", "--", "./missing.sh"])).fails_with(127);
}

#[test]
fn a_bad_prefix_is_a_usage_error() {
    let t = TestDir::new();
    secrets(&t, "s.json", r#"{"k": "v"}"#);
    run(exec_cmd(
        &t,
        &["--file", "s.json", "--prefix", "A=", "--", "true"],
    ))
    .fails_with(1);
}

/// The syscalls `strace -f -e trace=TRACE` sees of `botsecrets exec
/// --identity key1 --file FILE -- COMMAND` (run in `t`) up to the
/// command's execve, or `None` where strace is missing or cannot trace.
pub(crate) fn traced_exec(
    t: &TestDir,
    trace: &str,
    file: &str,
    command: &str,
) -> Option<Vec<String>> {
    let key = key1();
    let (out, log) = strace_botsecrets(
        t,
        &["-f", "-qq", "-e", &format!("trace={trace}")],
        &[
            "exec",
            "--identity",
            key.to_str().unwrap(),
            "--file",
            file,
            "--",
            command,
        ],
    )?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Only botsecrets' own syscalls: up to the execve of the command.
    let ours: Vec<String> = log
        .lines()
        .take_while(|l| {
            !l.contains("execve(\"/usr/bin/true\"") && !l.contains("execve(\"/bin/true\"")
        })
        .map(str::to_owned)
        .collect();
    assert!(
        ours.len() < log.lines().count(),
        "no execve of true in:\n{log}"
    );
    Some(ours)
}

/// `strace -f -e trace=%file,...` of `exec`: up to the command's execve,
/// botsecrets creates, writes, renames or removes no file and makes no
/// FIFO or directory.
#[test]
fn nothing_is_written_to_disk() {
    let t = TestDir::new();
    secrets(&t, "s.json", FLEET);
    let Some(ours) = traced_exec(&t, "%file,%desc,memfd_create", "s.json", "true") else {
        return;
    };
    let writes: Vec<&String> = ours.iter().filter(|l| writes_to_disk(l)).collect();
    assert!(writes.is_empty(), "exec touched the disk:\n{writes:#?}");
    // Sanity: the trace did see the secrets file being read.
    assert!(ours.iter().any(|l| l.contains("s.json")), "{ours:#?}");
}

/// Whether an strace line (`PID syscall(args) = ret`) creates, writes,
/// renames or removes a file.
fn writes_to_disk(line: &str) -> bool {
    let Some(call) = line.split_whitespace().nth(1) else {
        return false;
    };
    let name = call.split('(').next().unwrap_or("");
    const CREATES: &[&str] = &[
        "creat",
        "mkdir",
        "mkdirat",
        "mknod",
        "mknodat",
        "rename",
        "renameat",
        "renameat2",
        "unlink",
        "unlinkat",
        "rmdir",
        "link",
        "linkat",
        "symlink",
        "symlinkat",
        "truncate",
        "ftruncate",
        "memfd_create",
        "fallocate",
    ];
    let failed = line.contains(") = -1 ");
    if CREATES.contains(&name) {
        return !failed;
    }
    let opens = matches!(name, "open" | "openat" | "openat2");
    opens
        && ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TMPFILE", "O_TRUNC"]
            .iter()
            .any(|f| line.contains(f))
        && !line.contains("\"/dev/null\"")
        && !line.contains("\"/dev/tty\"")
}

#[test]
fn the_disk_write_detector_detects() {
    assert!(writes_to_disk(
        r#"123 openat(AT_FDCWD, "x.tmp", O_WRONLY|O_CREAT|O_CLOEXEC, 0600) = 3"#
    ));
    assert!(writes_to_disk(
        r#"123 renameat2(AT_FDCWD, "a", AT_FDCWD, "b", 0) = 0"#
    ));
    assert!(writes_to_disk(
        r#"123 mknodat(AT_FDCWD, "fifo", S_IFIFO|0600) = 0"#
    ));
    assert!(!writes_to_disk(
        r#"123 openat(AT_FDCWD, "s.json", O_RDONLY|O_CLOEXEC) = 3"#
    ));
}

const YAML_FLEET: &str = "# fleet secrets\nweather:\n  api-key: w-key # inline comment\n  url: https://api.example\ndefaults: &defaults\n  region: eu-west\nworker:\n  <<: *defaults\n  token: tok\nbots:\n  - name: alpha\n    token: a-tok\n  - name: beta\n    token: b-tok\npem: |\n  -----BEGIN-----\n  line2\n  -----END-----\nport: 8080\nenabled: true\nnothing: ~\nempty: \"\"\nquoted: 'it''s $x'\n#old_key: leaked-if-exported\n";

#[test]
fn yaml_files_nested_lists_block_scalars_and_comments() {
    let t = TestDir::new();
    secrets(&t, "secrets.yaml", YAML_FLEET);
    let r = run(exec_cmd(&t, &["--pristine", "--", "env", "-0"]));
    let env = child_env(&r);
    assert_eq!(get(&env, "WEATHER_API_KEY"), Some("w-key"));
    assert_eq!(get(&env, "WEATHER_URL"), Some("https://api.example"));
    assert_eq!(get(&env, "BOTS_0_NAME"), Some("alpha"));
    assert_eq!(get(&env, "BOTS_1_TOKEN"), Some("b-tok"));
    assert_eq!(
        get(&env, "PEM"),
        Some("-----BEGIN-----\nline2\n-----END-----\n")
    );
    assert_eq!(get(&env, "PORT"), Some("8080"));
    assert_eq!(get(&env, "ENABLED"), Some("true"));
    assert_eq!(get(&env, "EMPTY"), Some(""));
    assert_eq!(get(&env, "QUOTED"), Some("it's $x"));
    assert_eq!(get(&env, "NOTHING"), None);
    assert_eq!(get(&env, "DEFAULTS_REGION"), Some("eu-west"));
    // The merge key is applied, not turned into `WORKER____REGION`.
    assert_eq!(get(&env, "WORKER_REGION"), Some("eu-west"));
    assert_eq!(get(&env, "WORKER_TOKEN"), Some("tok"));
    assert!(!env.iter().any(|(k, _)| k.contains("__")), "{env:?}");
    assert!(
        !env.iter()
            .any(|(_, v)| v.contains("leaked") || v.contains("comment")),
        "a comment became a variable: {env:?}"
    );
    assert!(!env.iter().any(|(k, _)| k.starts_with("SOPS")));
}

#[test]
fn yaml_merge_keys_let_written_keys_win() {
    let t = TestDir::new();
    secrets(
        &t,
        "s.yaml",
        "base: &b\n  region: eu\n  token: base-tok\nworker:\n  <<: *b\n  token: own-tok\n",
    );
    let r = run(exec_cmd(&t, &["--file", "s.yaml", "--", "env", "-0"]));
    let env = child_env(&r);
    assert_eq!(get(&env, "WORKER_TOKEN"), Some("own-tok"));
    assert_eq!(get(&env, "WORKER_REGION"), Some("eu"));
    assert_eq!(get(&env, "BASE_TOKEN"), Some("base-tok"));
}

#[test]
fn toml_and_ini_files() {
    let t = TestDir::new();
    secrets(
        &t,
        "s.toml",
        "[weather]\napi_key = \"w\"\nport = 1\n[[bots]]\ntoken = \"t0\"\n",
    );
    secrets(&t, "s.ini", "[db]\npassword = p4ss\n");
    let r = run(exec_cmd(
        &t,
        &["--file", "s.toml", "--file", "s.ini", "--", "env", "-0"],
    ));
    let env = child_env(&r);
    assert_eq!(get(&env, "WEATHER_API_KEY"), Some("w"));
    assert_eq!(get(&env, "WEATHER_PORT"), Some("1"));
    assert_eq!(get(&env, "BOTS_0_TOKEN"), Some("t0"));
    assert_eq!(get(&env, "DB_PASSWORD"), Some("p4ss"));
}
