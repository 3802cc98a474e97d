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

/// `git check-attr diff merge` of `rel`, as "diff=X merge=Y".
fn attrs_of(r: &Repo, rel: &str) -> String {
    let out = r.git(&["check-attr", "diff", "merge", "--", rel]);
    out.ok();
    let vals: Vec<String> = out
        .stdout()
        .lines()
        .map(|l| {
            let mut parts = l.rsplitn(3, ": ");
            let v = parts.next().unwrap().to_owned();
            let a = parts.next().unwrap().to_owned();
            format!("{a}={v}")
        })
        .collect();
    vals.join(" ")
}

#[test]
fn git_install_writes_rule_patterns_so_new_files_are_covered() {
    let r = Repo::new();
    r.t.write(
        ".botsecrets.yaml",
        &format!("creation_rules:\n  - path_regex: ^bots/.*\\.yaml$\n    age: {RECIPIENT1}\n  - path_regex: \\d+\\.env$\n    age: {RECIPIENT1}\n"),
    );
    r.t.write("bots/a.yaml", &format!("token: {TOKEN}\n"));
    r.bs(&["encrypt", "-i", "bots/a.yaml"]).ok();
    r.t.write("x1.env", "K=v\n");
    r.bs(&["encrypt", "-i", "x1.env"]).ok();
    let out = r.bs(&["git", "install"]);
    out.ok();
    assert!(
        out.stdout()
            .contains("1 pattern(s) from the creation rules: /bots/**/*.yaml"),
        "{}",
        out.stdout()
    );
    let attrs = r.t.read(".gitattributes");
    assert!(
        attrs.contains("\n/bots/**/*.yaml diff=botsecrets merge=botsecrets\n"),
        "{attrs}"
    );
    // The regex outside the translatable subset: its file is listed.
    assert!(
        attrs.contains("\n/x1.env diff=botsecrets merge=botsecrets\n"),
        "{attrs}"
    );
    assert!(!attrs.contains("/bots/a.yaml"), "{attrs}");
    // A file added after install, deeper down, is covered without
    // running install again.
    r.t.write("bots/eu/new.yaml", &format!("token: {TOKEN}\n"));
    let enc = r.bs(&["encrypt", "-i", "bots/eu/new.yaml"]);
    enc.ok();
    assert_eq!(
        attrs_of(&r, "bots/eu/new.yaml"),
        "diff=botsecrets merge=botsecrets"
    );
    assert_eq!(
        r.t.read(".gitattributes"),
        attrs,
        "a covered file was added again"
    );
    assert!(!enc.stderr().contains(".gitattributes"), "{}", enc.stderr());
    // git agrees with the rule: a plain file elsewhere is not covered.
    assert_eq!(
        attrs_of(&r, "notbots/x.yaml"),
        "diff=unspecified merge=unspecified"
    );
    // And the diff driver shows the new file decrypted.
    r.git(&["add", "-A"]).ok();
    r.git(&["commit", "-qm", "init", "--no-verify"]).ok();
    r.bs_key(&["set", "bots/eu/new.yaml", "token", "changed-value"])
        .ok();
    let mut c = Command::new("git");
    c.args(["diff", "bots/eu/new.yaml"]);
    r.env(&mut c);
    c.env("BOTSECRETS_AGE_KEY_FILE", key1());
    let diff = String::from_utf8(c.output().unwrap().stdout).unwrap();
    assert!(
        diff.contains(&format!("-token: {TOKEN}")) && diff.contains("+token: changed-value"),
        "{diff}"
    );
}

#[test]
fn encrypt_edit_and_set_add_an_uncovered_file_once_the_drivers_are_installed() {
    let r = Repo::new();
    // Before `git install`: .gitattributes is not touched.
    r.t.write("a.json", "{\"k\": \"v\"}\n");
    let enc = r.bs(&["encrypt", "--age", RECIPIENT1, "-i", "a.json"]);
    enc.ok();
    assert!(!r.t.path(".gitattributes").exists());
    // `check` notes it (a note, not a finding).
    r.git(&["add", "-A"]).ok();
    let check = r.bs(&["check"]);
    check.ok();
    assert!(
        check.stderr().contains(
            "note: a.json is encrypted but has no `diff=botsecrets merge=botsecrets` attributes"
        ),
        "{}",
        check.stderr()
    );
    r.bs(&["git", "install"]).ok();
    assert_eq!(attrs_of(&r, "a.json"), "diff=botsecrets merge=botsecrets");
    assert!(!r.bs(&["check"]).stderr().contains("has no `diff"));
    // A new file, not covered by any rule: encrypt adds it.
    r.t.write("conf/b.yaml", &format!("token: {TOKEN}\n"));
    let enc = r.bs(&["encrypt", "--age", RECIPIENT1, "-i", "conf/b.yaml"]);
    enc.ok().leaks_none(&[TOKEN]);
    assert!(
        enc.stderr()
            .contains("note: added /conf/b.yaml to .gitattributes"),
        "{}",
        enc.stderr()
    );
    assert_eq!(
        attrs_of(&r, "conf/b.yaml"),
        "diff=botsecrets merge=botsecrets"
    );
    let attrs = r.t.read(".gitattributes");
    // set on a file whose line was removed puts it back, once.
    let without = attrs.replace("/conf/b.yaml diff=botsecrets merge=botsecrets\n", "");
    r.t.write(".gitattributes", &without);
    let set = r.bs_key(&["set", "conf/b.yaml", "token", "new-value-1"]);
    set.ok();
    assert!(
        set.stderr().contains("added /conf/b.yaml"),
        "{}",
        set.stderr()
    );
    assert_eq!(r.t.read(".gitattributes"), attrs);
    r.bs_key(&["set", "conf/b.yaml", "token", "new-value-2"])
        .ok();
    assert_eq!(r.t.read(".gitattributes"), attrs);
    // edit too (a file encrypted to stdout, so nothing added it yet).
    r.t.write("d.plain.json", "{\"k\": \"old-value\"}\n");
    let text = r
        .bs(&["encrypt", "--age", RECIPIENT1, "d.plain.json"])
        .stdout();
    r.t.write("d.json", &text);
    assert_eq!(attrs_of(&r, "d.json"), "diff=unspecified merge=unspecified");
    let mut c = Command::new(env!("CARGO_BIN_EXE_botsecrets"));
    c.args(["edit", "d.json"]);
    r.env(&mut c);
    c.env("BOTSECRETS_AGE_KEY_FILE", key1())
        .env("EDITOR", editor("replace.sh"))
        .env("EDIT_FROM", "old-value")
        .env("EDIT_TO", "new-value");
    Run(c.output().unwrap()).ok();
    assert_eq!(attrs_of(&r, "d.json"), "diff=botsecrets merge=botsecrets");
    // An ignored file is left alone.
    r.t.write(".gitignore", "ignored.json\n");
    r.t.write("ignored.json", "{\"k\": \"v\"}\n");
    let before = r.t.read(".gitattributes");
    r.bs(&["encrypt", "--age", RECIPIENT1, "-i", "ignored.json"])
        .ok();
    assert_eq!(r.t.read(".gitattributes"), before);
}

#[test]
fn the_real_pre_commit_framework_runs_the_hook_definition() {
    let Some(pre_commit) = tool("pre-commit") else {
        return;
    };
    // A repository holding the project's .pre-commit-hooks.yaml, as
    // pre-commit clones it from a `repos:` entry.
    let hooks = Repo::new();
    let def = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    hooks.t.write(".pre-commit-hooks.yaml", &def);
    hooks.git(&["add", "-A"]).ok();
    hooks.git(&["commit", "-qm", "hooks"]).ok();
    let rev = hooks.git(&["rev-parse", "HEAD"]).stdout().trim().to_owned();

    let r = Repo::new();
    r.t.write(
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: botsecrets-check\n",
            hooks.t.dir.path().display()
        ),
    );
    r.t.write(
        ".sops.yaml",
        &format!("creation_rules:\n  - path_regex: secrets\\.yaml$\n    age: {RECIPIENT1}\n"),
    );
    r.t.write("secrets.yaml", &format!("token: {TOKEN}\n"));
    r.git(&["add", "-A"]).ok();
    let run = |r: &Repo| {
        let mut c = Command::new(&pre_commit);
        c.args(["run", "--all-files"]);
        r.env(&mut c);
        c.env("PRE_COMMIT_HOME", r.t.path("pre-commit-home"));
        Run(c.output().unwrap())
    };
    // An unencrypted secrets file: the hook fails, naming it, not the value.
    let out = run(&r);
    out.fails_with(1).leaks_none(&[TOKEN]);
    assert!(
        out.stdout().contains("botsecrets check"),
        "{}",
        out.stdout()
    );
    assert!(out.stdout().contains("Failed"), "{}", out.stdout());
    assert!(out.stdout().contains("secrets.yaml"), "{}", out.stdout());
    // Encrypted: it passes.
    r.bs(&["encrypt", "-i", "secrets.yaml"]).ok();
    r.git(&["add", "-A"]).ok();
    let out = run(&r);
    out.ok();
    assert!(out.stdout().contains("Passed"), "{}", out.stdout());
}

/// The files `init` touches, with their bytes.
fn init_state(r: &Repo) -> Vec<(String, String)> {
    [
        ".botsecrets.yaml",
        ".gitignore",
        ".gitattributes",
        ".git/hooks/pre-commit",
        "home/.config/botsecrets/keys.txt",
    ]
    .iter()
    .map(|n| {
        (
            n.to_string(),
            std::fs::read_to_string(r.t.path(n)).unwrap_or_default(),
        )
    })
    .collect()
}

#[test]
fn init_sets_a_repository_up_idempotently_and_never_overwrites() {
    let r = Repo::new();
    r.t.write(".gitignore", "node_modules/\n");
    let out = r.bs(&["init"]);
    out.ok();
    let stdout = out.stdout();
    assert!(stdout.contains(".botsecrets.yaml (created)"), "{stdout}");
    assert!(stdout.contains("keys.txt (created, mode 0600"), "{stdout}");
    assert!(stdout.contains("pre-commit hook:"), "{stdout}");
    // The identity: 0600 in a 0700 directory; its recipient is in the rule.
    let key = r.t.path("home/.config/botsecrets/keys.txt");
    assert_eq!(mode(&key), 0o600);
    assert_eq!(mode(key.parent().unwrap()), 0o700);
    let recipient = r
        .bs(&["keygen", "-y", key.to_str().unwrap()])
        .stdout()
        .trim()
        .to_owned();
    assert!(stdout.contains(&recipient));
    let rules = r.t.read(".botsecrets.yaml");
    assert!(
        rules.contains(&format!("      - {recipient}   #")),
        "{rules}"
    );
    assert!(
        rules.contains("# groups:") && rules.contains("#     scopes:") && rules.contains("# keys:"),
        "{rules}"
    );
    // .gitignore: appended to, the old line kept.
    let ignore = r.t.read(".gitignore");
    assert!(
        ignore.starts_with("node_modules/\n# botsecrets: plaintext outputs"),
        "{ignore}"
    );
    assert!(ignore.contains("\n*.agekey\n"), "{ignore}");
    // It works: a secrets file is encrypted by the rule, for the new key,
    // and its attributes come from the rule's pattern.
    r.t.write("secrets.yaml", &format!("token: {TOKEN}\n"));
    r.bs(&["encrypt", "-i", "secrets.yaml"]).ok();
    let dec = r.bs(&["decrypt", "secrets.yaml"]);
    dec.ok();
    assert_eq!(dec.stdout(), format!("token: {TOKEN}\n"));
    assert_eq!(
        attrs_of(&r, "deploy/secrets.env"),
        "diff=botsecrets merge=botsecrets"
    );
    assert!(r
        .git(&["config", "--get", "merge.botsecrets.driver"])
        .stdout()
        .contains("botsecrets git merge"));
    // Again: no byte changes, and it says what it kept.
    let before = init_state(&r);
    let again = r.bs(&["init"]);
    again.ok();
    assert_eq!(init_state(&r), before);
    assert!(
        again.stdout().contains("(kept, it exists)") && again.stdout().contains("(reused)"),
        "{}",
        again.stdout()
    );
    assert!(
        again.stdout().contains(".gitignore: kept"),
        "{}",
        again.stdout()
    );

    // An existing rules file (here sops') is never replaced; a recipient
    // missing from it is pointed out.
    let r = Repo::new();
    let sops_rules = format!("creation_rules:\n  - age: {RECIPIENT2}\n");
    r.t.write(".sops.yaml", &sops_rules);
    let out = r.bs(&["init", "--identity", key1().to_str().unwrap()]);
    out.ok();
    assert_eq!(r.t.read(".sops.yaml"), sops_rules);
    assert!(!r.t.path(".botsecrets.yaml").exists());
    assert!(!r.t.path("home/.config/botsecrets/keys.txt").exists());
    assert!(
        out.stderr()
            .contains(&format!("your recipient {RECIPIENT1} is not in")),
        "{}",
        out.stderr()
    );
    // Outside a repository: says so.
    let t = TestDir::new();
    let out = t.run(&["init"]);
    out.fails_with(1);
    assert!(
        out.stderr().contains("not inside a git repository"),
        "{}",
        out.stderr()
    );
    assert!(!t.path(".botsecrets.yaml").exists());
}

#[test]
fn a_missing_key_path_suggests_the_closest_existing_paths() {
    let t = TestDir::new();
    t.write(
        "s.yaml",
        &format!("weather:\n  api_key: {TOKEN}\n  url: https://w.example\ntelegram:\n  token: t-secret-1\nempty: {{}}\n"),
    );
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"])
        .ok();
    let before = t.read("s.yaml");
    let k = key1();
    let k = k.to_str().unwrap();
    for args in [
        vec!["get", "--identity", k, "s.yaml", "wether.api_key"],
        vec![
            "decrypt",
            "--identity",
            k,
            "--extract",
            "wether.api_key",
            "s.yaml",
        ],
        vec!["unset", "--identity", k, "s.yaml", "wether.api_key"],
    ] {
        let r = t.run(&args);
        r.fails_with(91).leaks_none(&[TOKEN, "t-secret-1"]);
        assert!(
            r.stderr()
                .contains("s.yaml: key path wether.api_key not found"),
            "{}",
            r.stderr()
        );
        assert!(
            r.stderr().contains("hint: did you mean weather.api_key?"),
            "{}",
            r.stderr()
        );
    }
    assert_eq!(t.read("s.yaml"), before);
    // The last part alone finds it too; nothing close lists the top keys.
    let r = t.run(&["get", "--identity", k, "s.yaml", "telegram.tokn"]);
    assert!(
        r.stderr().contains("did you mean telegram.token?"),
        "{}",
        r.stderr()
    );
    let r = t.run(&["get", "--identity", k, "s.yaml", "zzzzzzzz"]);
    r.fails_with(91);
    assert!(
        r.stderr()
            .contains("its top-level keys are: weather, telegram, empty"),
        "{}",
        r.stderr()
    );
    // Existing paths (a subtree, a value) still work with the key.
    let k = key1();
    t.run(&[
        "get",
        "--identity",
        k.to_str().unwrap(),
        "s.yaml",
        "weather",
    ])
    .ok();
    let r = t.run(&[
        "get",
        "--identity",
        k.to_str().unwrap(),
        "s.yaml",
        "weather.api_key",
    ]);
    assert_eq!(r.ok().stdout(), TOKEN);
    t.run(&[
        "unset",
        "--idempotent",
        "--identity",
        k.to_str().unwrap(),
        "s.yaml",
        "nope",
    ])
    .ok();
}

#[test]
fn a_missing_file_suggests_near_names_in_its_directory() {
    let t = TestDir::new();
    t.write("bots/secrets.yaml", "a: b\n");
    t.write("bots/other.json", "{}\n");
    let r = t.run(&["decrypt", "bots/secrets.yml"]);
    r.fails_with(100);
    assert!(
        r.stderr().contains("hint: did you mean bots/secrets.yaml?"),
        "{}",
        r.stderr()
    );
    let r = t.run(&["recipients", "list", "bots/secret.yaml"]);
    r.fails_with(100);
    assert!(
        r.stderr().contains("did you mean bots/secrets.yaml?"),
        "{}",
        r.stderr()
    );
    // Nothing near: no guess.
    let r = t.run(&["decrypt", "bots/zzzzzz.toml"]);
    r.fails_with(100);
    assert!(!r.stderr().contains("did you mean"), "{}", r.stderr());
}
