//! Issue 15's conveniences outside exec: `export --output`, `keygen -y`
//! and its work-tree warning, `init`, `.gitattributes` kept up to date, the
//! real pre-commit framework, and "did you mean".

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::*;

const TOKEN: &str = "hunter2-secret-token";

/// A git repository in a TestDir; commands get a clean environment with
/// botsecrets first on PATH (hooks and drivers call it by name).
pub struct Repo {
    pub t: TestDir,
}

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_botsecrets"))
        .parent()
        .unwrap()
        .to_path_buf()
}

impl Repo {
    pub fn new() -> Self {
        let r = Repo { t: TestDir::new() };
        r.git(&["init", "-q", "-b", "main", "."]).ok();
        r.git(&["config", "user.name", "Test"]).ok();
        r.git(&["config", "user.email", "test@example.com"]).ok();
        r
    }

    fn env(&self, c: &mut Command) {
        for (k, v) in self.t.cmd().get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c.env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_PAGER", "cat")
            .env("PAGER", "cat")
            .env("SOPS_DISABLE_VERSION_CHECK", "1");
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![bin_dir()];
        dirs.extend(std::env::split_paths(&path));
        c.env("PATH", std::env::join_paths(dirs).unwrap());
        c.current_dir(self.t.dir.path());
    }

    pub fn git(&self, args: &[&str]) -> Run {
        let mut c = Command::new("git");
        c.args(args);
        self.env(&mut c);
        Run(c.output().expect("run git"))
    }

    pub fn bs(&self, args: &[&str]) -> Run {
        let mut c = Command::new(env!("CARGO_BIN_EXE_botsecrets"));
        c.args(args);
        self.env(&mut c);
        c.stdin(std::process::Stdio::null());
        Run(c.output().expect("run botsecrets"))
    }

    pub fn bs_key(&self, args: &[&str]) -> Run {
        let mut c = Command::new(env!("CARGO_BIN_EXE_botsecrets"));
        c.args(args);
        self.env(&mut c);
        c.env("BOTSECRETS_AGE_KEY_FILE", key1());
        c.stdin(std::process::Stdio::null());
        Run(c.output().expect("run botsecrets"))
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn export_output_is_private_atomic_and_refused_where_git_would_take_it() {
    let r = Repo::new();
    let t = &r.t;
    let plain = format!("token: {TOKEN}\n");
    t.write("s.yaml", &plain);
    r.bs(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"]).ok();
    // Inside the working tree, not ignored: refused, nothing written.
    let out = r.bs_key(&[
        "export",
        "s.yaml",
        "--format",
        "dotenv",
        "--output",
        "worker.env",
    ]);
    out.fails_with(222).leaks_none(&[TOKEN]);
    assert!(
        out.stderr()
            .contains("worker.env: it is inside the git working tree")
            && out.stderr().contains("git does not ignore it"),
        "{}",
        out.stderr()
    );
    assert!(!t.path("worker.env").exists());
    // Ignored: written, mode 0600, even over an old 0644 file.
    t.write(".gitignore", "*.env\n");
    t.write("worker.env", "OLD=1\n");
    std::fs::set_permissions(t.path("worker.env"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = r.bs_key(&[
        "export",
        "s.yaml",
        "--format",
        "dotenv",
        "--output",
        "worker.env",
    ]);
    out.ok().leaks_none(&[TOKEN]);
    assert_eq!(t.read("worker.env"), format!("TOKEN=\"{TOKEN}\"\n"));
    assert_eq!(mode(&t.path("worker.env")), 0o600);
    // Outside any repository: written; a terminal check does not apply.
    let outside = TestDir::new();
    let target = outside.path("x.json");
    r.bs_key(&[
        "export",
        "s.yaml",
        "--format",
        "json",
        "--output",
        target.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(mode(&target), 0o600);
    assert!(std::fs::read_to_string(&target).unwrap().contains(TOKEN));
    // A failing export writes nothing (no key: exit 128).
    let none = outside.path("none.env");
    r.bs(&[
        "export",
        "--identity",
        "/dev/null",
        "s.yaml",
        "--format",
        "dotenv",
        "--output",
        none.to_str().unwrap(),
    ])
    .fails_with(128);
    assert!(!none.exists());
}

#[test]
fn keygen_y_prints_recipients_and_warns_inside_a_work_tree() {
    let t = TestDir::new();
    let r = t.run(&["keygen", "-y", key1().to_str().unwrap()]);
    r.ok();
    assert_eq!(r.stdout(), format!("{RECIPIENT1}\n"));
    assert!(!r.stdout().contains("AGE-SECRET-KEY"));
    // Several keys in one file, and stdin.
    let both = format!(
        "{}\n{}",
        std::fs::read_to_string(key1()).unwrap(),
        std::fs::read_to_string(key2()).unwrap()
    );
    let r = t.run_stdin(&["keygen", "-y"], &both);
    r.ok();
    assert_eq!(r.stdout(), format!("{RECIPIENT1}\n{RECIPIENT2}\n"));
    let r = t.run_stdin(&["keygen", "-y", "-"], "not a key\n");
    r.fails_with(128);
    // -y does not go with -o.
    t.run(&["keygen", "-y", "-o", "k.txt"]).fails_with(1);

    let repo = Repo::new();
    let r = repo.bs(&["keygen", "-o", "bot.key"]);
    r.ok();
    assert!(
        r.stderr()
            .contains("bot.key is inside the git working tree")
            && r.stderr()
                .contains("`git add` would commit this private key"),
        "{}",
        r.stderr()
    );
    repo.t.write(".gitignore", "*.key\n");
    let r = repo.bs(&["keygen", "-o", "two.key"]);
    r.ok();
    assert!(r.stderr().contains("git ignores it now"), "{}", r.stderr());
    // Outside a repository: no warning.
    let r = t.run(&["keygen", "-o", "k.txt"]);
    r.ok();
    assert_eq!(r.stderr(), "");
}
