//! Test harness: a temp directory per test, the binary with a clean
//! environment, the throwaway test keys, and interop tool discovery.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's testdata directory.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// The throwaway key that opens every sops sample.
pub fn key1() -> PathBuf {
    testdata().join("sops/age-key.txt")
}

/// Its recipient.
pub const RECIPIENT1: &str = "age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n";

/// The second throwaway key.
pub fn key2() -> PathBuf {
    testdata().join("sops/age-key2.txt")
}

/// Its recipient.
pub const RECIPIENT2: &str = "age1u4p50cvf23gprufg0lu7d6wmlqm76njluxatc0tuhyrkpa53dfhsk8pnve";

/// A scratch directory; `HOME` and `XDG_CONFIG_HOME` of the commands run
/// through it point inside it, so a developer's own keys never leak in.
pub struct TestDir {
    pub dir: tempfile::TempDir,
}

impl TestDir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        p
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }

    /// `botsecrets ARGS` with a clean environment, run in this directory.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_botsecrets"));
        c.current_dir(self.dir.path());
        for var in [
            "BOTSECRETS_AGE_KEY",
            "BOTSECRETS_AGE_KEY_FILE",
            "BOTSECRETS_AGE_RECIPIENTS",
            "SOPS_AGE_KEY",
            "SOPS_AGE_KEY_FILE",
            "SOPS_AGE_KEY_CMD",
            "SOPS_AGE_RECIPIENTS",
            "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
            "BOTSECRETS_AGE_KEY_CMD",
            "BOTSECRETS_AGE_SSH_PRIVATE_KEY_FILE",
            "BOTSECRETS_FILE",
            "BOTSECRETS_EDITOR",
            "VISUAL",
            "EDITOR",
        ] {
            c.env_remove(var);
        }
        c.env("HOME", self.path("home"));
        c.env("XDG_CONFIG_HOME", self.path("home/.config"));
        // edit's workspace goes here, so tests can see it come and go.
        let run = self.path("run");
        std::fs::create_dir_all(&run).unwrap();
        c.env("XDG_RUNTIME_DIR", run);
        c
    }

    /// Files left in the edit workspace base (should be none).
    pub fn workspace_leftovers(&self) -> Vec<String> {
        std::fs::read_dir(self.path("run"))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().into_string().unwrap())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Runs `botsecrets args...`.
    pub fn run(&self, args: &[&str]) -> Run {
        Run(self.cmd().args(args).output().expect("run botsecrets"))
    }

    /// Runs `botsecrets args...` detached from any controlling terminal
    /// (through `setsid`), so a prompt cannot reach a developer's TTY.
    pub fn run_no_tty(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let plain = self.cmd();
        let mut c = Command::new("setsid");
        c.arg("--wait").arg(plain.get_program()).args(args);
        c.current_dir(self.dir.path());
        for (k, v) in plain.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        for (k, v) in env {
            c.env(k, v);
        }
        c.stdin(std::process::Stdio::null());
        Run(c.output().expect("run setsid botsecrets"))
    }

    /// Runs with stdin.
    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        use std::io::Write;
        let mut child = self
            .cmd()
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // A command that refuses before reading stdin closes the pipe
        // first: that broken pipe is the command's answer, not a failure.
        if let Err(e) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
        Run(child.wait_with_output().unwrap())
    }

    /// Encrypts `plain` (written as `name`) for key 1; returns the text.
    pub fn encrypt(&self, name: &str, plain: &str) -> String {
        self.write(name, plain);
        let r = self.run(&["encrypt", "--age", RECIPIENT1, name]);
        r.ok();
        r.stdout()
    }

    /// Decrypts file `name` with key 1.
    pub fn decrypt(&self, name: &str) -> Run {
        self.run(&["decrypt", "--identity", key1().to_str().unwrap(), name])
    }
}

/// A finished command.
pub struct Run(pub Output);

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8(self.0.stdout.clone()).unwrap()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8(self.0.stderr.clone()).unwrap()
    }
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    /// Asserts success, printing stderr otherwise.
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert!(
            self.0.status.success(),
            "expected success, got {}: {}",
            self.code(),
            self.stderr()
        );
        self
    }
    /// Asserts the exit code.
    #[track_caller]
    pub fn fails_with(&self, code: i32) -> &Self {
        assert_eq!(self.code(), code, "stderr: {}", self.stderr());
        self
    }
    /// Asserts none of `secrets` appears in stdout or stderr.
    #[track_caller]
    pub fn leaks_none(&self, secrets: &[&str]) -> &Self {
        for s in secrets {
            assert!(!self.stdout().contains(s), "stdout leaks {s:?}");
            assert!(!self.stderr().contains(s), "stderr leaks {s:?}");
        }
        self
    }
}

/// A fake editor script from testdata/editors.
pub fn editor(name: &str) -> String {
    testdata()
        .join("editors")
        .join(name)
        .to_str()
        .unwrap()
        .to_owned()
}

/// The lines that differ between two texts of the same line count, as the
/// key each line starts with (the changed keys of a minimal diff).
pub fn changed_keys(before: &str, after: &str) -> Vec<String> {
    assert_eq!(
        before.lines().count(),
        after.lines().count(),
        "line count changed:\n{before}\n---\n{after}"
    );
    before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, _)| {
            let t = a.trim_start().trim_start_matches(['"', '-', ' ']);
            t.split([':', '=', '"', ' ']).next().unwrap().to_owned()
        })
        .collect()
}

/// Whether interop tools must be present (CI sets it).
pub fn interop_required() -> bool {
    std::env::var("BOTSECRETS_REQUIRE_INTEROP").is_ok_and(|v| v == "1")
}

/// Finds an interop tool on PATH; `None` (with a printed reason) when it is
/// missing on a developer machine, a panic when interop is required.
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    match found {
        Some(p) => Some(p),
        None if interop_required() => {
            panic!("{name} is required (BOTSECRETS_REQUIRE_INTEROP=1) but not on PATH")
        }
        None => {
            skipped(name);
            None
        }
    }
}

/// Interop tests skipped so far in this run: (test, tool).
static SKIPS: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

/// Records and shows a skipped interop test. The line is written to the
/// real stderr, not through `eprintln!`, which the test harness captures
/// (and shows only for failures): `cargo test` must say what it skipped.
fn skipped(tool: &str) {
    use std::io::Write;
    static SUMMARY: std::sync::Once = std::sync::Once::new();
    SUMMARY.call_once(|| {
        // SAFETY: atexit is given a plain function that takes no arguments.
        #[allow(unsafe_code)]
        unsafe {
            atexit(skip_summary)
        };
    });
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    let mut skips = SKIPS.lock().unwrap();
    if !skips.iter().any(|(t, n)| *t == test && n == tool) {
        let _ = writeln!(
            std::io::stderr(),
            "SKIP {test}: {tool} is not on PATH (an interop test; see \"Install\" in the README)"
        );
        skips.push((test, tool.to_owned()));
    }
}

#[allow(unsafe_code)]
unsafe extern "C" {
    fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
}

/// At exit, after the harness's own summary: how many interop tests were
/// skipped, and why.
extern "C" fn skip_summary() {
    use std::io::Write;
    let Ok(skips) = SKIPS.lock() else { return };
    let mut tests: Vec<&str> = skips.iter().map(|(t, _)| t.as_str()).collect();
    tests.sort();
    tests.dedup();
    let mut tools: Vec<&str> = skips.iter().map(|(_, t)| t.as_str()).collect();
    tools.sort();
    tools.dedup();
    let _ = writeln!(
        std::io::stderr(),
        "\ninterop: {} test(s) skipped because {} not on PATH (counted as passed); install the tools (see \"Install\" in the README, or run `bash .ci/run`), or set BOTSECRETS_REQUIRE_INTEROP=1 to make a missing tool fail",
        tests.len(),
        match tools.as_slice() {
            [one] => format!("{one} is"),
            many => format!("{} are", many.join(", ")),
        }
    );
}

/// Runs `sops` with the test key and no update check.
pub fn sops(sops: &Path, key: &Path, args: &[&str]) -> Output {
    Command::new(sops)
        .args(args)
        .env("SOPS_AGE_KEY_FILE", key)
        .env_remove("SOPS_AGE_KEY")
        .env("SOPS_DISABLE_VERSION_CHECK", "1")
        .output()
        .expect("run sops")
}

/// `sops decrypt` of `t`'s file `name` with key 1; `None` (skipped, or a
/// failure under BOTSECRETS_REQUIRE_INTEROP=1) without sops.
pub fn sops_decrypt(t: &TestDir, name: &str) -> Option<String> {
    let sops_bin = tool("sops")?;
    let out = sops(
        &sops_bin,
        &key1(),
        &["decrypt", t.path(name).to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "sops cannot decrypt {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

/// Replaces every `ENC[...]` token by `ENC` so layouts can be compared.
pub fn mask_enc(text: &str) -> String {
    let re = regex::Regex::new(r"ENC\[AES256_GCM,data:[^\]]*\]").unwrap();
    re.replace_all(text, "ENC").into_owned()
}

/// The typed values of a file as (path, type, canonical text), comments
/// excluded, with floats in sops' MAC form so float64 rounding in sops 3.11
/// does not count as a difference.
pub fn values_of(
    text: &str,
    kind: botsecrets::format::FormatKind,
) -> Vec<(String, String, String)> {
    use botsecrets::format::{LeafKind, ValueType};
    let parsed = kind.syntax().parse(text).expect("parses");
    parsed
        .values_in_order()
        .into_iter()
        .filter(|(_, i)| {
            parsed.leaves[*i].document == 0 || kind == botsecrets::format::FormatKind::Yaml
        })
        .map(|(path, i)| {
            let leaf = &parsed.leaves[i];
            let (ty, v) = match leaf.kind {
                LeafKind::Null => ("null", String::new()),
                LeafKind::Value(ValueType::Float) | LeafKind::Value(ValueType::Int) => (
                    "number",
                    botsecrets::crypto::mac::go_float_text(leaf.value.expose()),
                ),
                LeafKind::Value(ValueType::Bool) => ("bool", leaf.value.expose().to_owned()),
                LeafKind::Value(ValueType::Time) => ("time", leaf.value.expose().to_owned()),
                LeafKind::Value(ValueType::Str) => ("str", leaf.value.expose().to_owned()),
                LeafKind::Comment => ("comment", String::new()),
            };
            (format!("{}#{}", leaf.document, path), ty.to_owned(), v)
        })
        .collect()
}

/// Runs `sops` with the given environment (key variables of the caller are
/// removed first).
pub fn sops_env(sops: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = Command::new(sops);
    c.args(args)
        .env_remove("SOPS_AGE_KEY")
        .env_remove("SOPS_AGE_KEY_FILE")
        .env_remove("SOPS_AGE_KEY_CMD")
        .env_remove("SOPS_AGE_SSH_PRIVATE_KEY_FILE")
        .env("SOPS_DISABLE_VERSION_CHECK", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run sops")
}

/// The lines holding `ENC[` values of a file, by key (`key: ENC[...]`),
/// metadata excluded: to compare ciphertexts before and after a change.
pub fn enc_lines(text: &str) -> Vec<String> {
    text.lines()
        .take_while(|l| !l.starts_with("sops:"))
        .filter(|l| l.contains("ENC["))
        .map(str::to_owned)
        .collect()
}

/// `strace OPTIONS -o LOG botsecrets ARGS`, run as `t.cmd()` runs (its
/// directory and clean environment): the command's output and strace's
/// log. `None` without strace, or where ptrace is not permitted (some
/// containers), which is a failure under BOTSECRETS_REQUIRE_INTEROP=1.
pub fn strace_botsecrets(t: &TestDir, options: &[&str], args: &[&str]) -> Option<(Output, String)> {
    let strace = tool("strace")?;
    // In the test's HOME, not beside the files tests list.
    std::fs::create_dir_all(t.path("home")).unwrap();
    let log = t.path("home/strace.log");
    let _ = std::fs::remove_file(&log);
    let bin = t.cmd();
    let mut c = Command::new(strace);
    c.args(options)
        .arg("-o")
        .arg(&log)
        .arg(bin.get_program())
        .args(args);
    for (k, v) in bin.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c.current_dir(t.dir.path());
    let out = c.output().expect("run strace");
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if log.is_empty() || (!out.status.success() && stderr.contains("ptrace")) {
        assert!(!interop_required(), "strace cannot trace here: {stderr}");
        eprintln!("SKIP: strace cannot trace in this environment");
        return None;
    }
    Some((out, log))
}
