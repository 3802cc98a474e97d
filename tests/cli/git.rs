//! `check`, `git install`, the textconv diff driver and the merge driver,
//! in real temporary git repositories with the real `git`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::*;

/// A git repository in a TestDir, with a rules file for `secrets.*` and
/// the botsecrets binary first on PATH (hooks and drivers call it by name).
struct Repo {
    t: TestDir,
}

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_botsecrets"))
        .parent()
        .unwrap()
        .to_path_buf()
}

impl Repo {
    fn new() -> Self {
        let t = TestDir::new();
        let r = Repo { t };
        r.git(&["init", "-q", "-b", "main", "."]).ok();
        r.git(&["config", "user.name", "Test"]).ok();
        r.git(&["config", "user.email", "test@example.com"]).ok();
        r.t.write(
            ".sops.yaml",
            &format!(
                "creation_rules:\n  - path_regex: secrets\\.(yaml|env)$\n    age: {RECIPIENT1}\n"
            ),
        );
        r
    }

    /// The environment every command gets: a clean one (no user config, no
    /// keys), PATH with botsecrets first.
    fn env(&self, c: &mut Command, key: bool) {
        let plain = self.t.cmd();
        for (k, v) in plain.get_envs() {
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
        if key {
            c.env("BOTSECRETS_AGE_KEY_FILE", key1());
        }
        c.current_dir(self.t.dir.path());
    }

    fn git_with(&self, key: bool, args: &[&str]) -> Run {
        let mut c = Command::new("git");
        c.args(args);
        self.env(&mut c, key);
        Run(c.output().expect("run git"))
    }

    /// git with the key.
    fn git(&self, args: &[&str]) -> Run {
        self.git_with(true, args)
    }

    fn bs_with(&self, key: bool, args: &[&str]) -> Run {
        let mut c = Command::new(env!("CARGO_BIN_EXE_botsecrets"));
        c.args(args);
        self.env(&mut c, key);
        Run(c.output().expect("run botsecrets"))
    }

    /// botsecrets with the key.
    fn bs(&self, args: &[&str]) -> Run {
        self.bs_with(true, args)
    }

    fn commit_all(&self, msg: &str) -> Run {
        self.git(&["add", "-A"]).ok();
        self.git(&["commit", "-q", "-m", msg])
    }

    /// An encrypted secrets.yaml, committed, with botsecrets installed.
    fn with_secrets() -> Self {
        let r = Repo::new();
        r.t.write(
            "secrets.yaml",
            "# bot fleet\nweather:\n    api_key: WEATHER-ONE\ntelegram: TELEGRAM-ONE\nslack: SLACK-ONE\n",
        );
        r.bs(&["encrypt", "--in-place", "secrets.yaml"]).ok();
        r.bs(&["git", "install"]).ok();
        r.commit_all("init").ok();
        r
    }

    fn set(&self, path: &str, value: &str) {
        self.bs(&["set", "secrets.yaml", path, value]).ok();
    }
}

fn out_of(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Every file under `dir`, recursively.
fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            all_files(&e.path(), out);
        } else if ft.is_file() {
            out.push(e.path());
        }
    }
}

#[test]
fn hook_blocks_plaintext_secrets_and_lets_encrypted_files_through() {
    let r = Repo::new();
    r.bs(&["git", "install"]).ok();
    // A plaintext file the rules say must be encrypted.
    r.t.write("secrets.yaml", "stripe: sk_live_0123456789abcdefghijkl\n");
    r.git(&["add", "-A"]).ok();
    let c = r.git(&["commit", "-q", "-m", "oops"]);
    assert_ne!(c.code(), 0, "the commit went through: {}", out_of(&c.0));
    let said = out_of(&c.0);
    assert!(said.contains("secrets.yaml: not-encrypted"), "{said}");
    assert!(
        said.contains("botsecrets encrypt --in-place secrets.yaml"),
        "{said}"
    );
    c.leaks_none(&["sk_live_0123456789abcdefghijkl"]);
    assert!(r.git(&["rev-parse", "--verify", "-q", "HEAD"]).code() != 0);

    // An API key in an ordinary file, and a .env with values.
    r.bs(&["encrypt", "--in-place", "secrets.yaml"]).ok();
    r.t.write(
        "bot.py",
        "TOKEN = 'ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ'\n",
    );
    r.t.write("config/.env", "DB_PASSWORD=hunter2hunter2\n");
    r.git(&["add", "-A"]).ok();
    let c = r.git(&["commit", "-q", "-m", "oops"]);
    assert_ne!(c.code(), 0);
    let said = out_of(&c.0);
    assert!(said.contains("bot.py:1: github-token"), "{said}");
    assert!(said.contains("config/.env:1: dotenv-value"), "{said}");
    assert!(!said.contains("secrets.yaml:"), "{said}");
    c.leaks_none(&["ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", "hunter2hunter2"]);

    // The encrypted file (and the fixed files) go through.
    r.git(&["rm", "-q", "--cached", "bot.py", "config/.env"])
        .ok();
    std::fs::remove_file(r.t.path("bot.py")).unwrap();
    std::fs::remove_file(r.t.path("config/.env")).unwrap();
    let c = r.git(&["commit", "-q", "-m", "encrypted"]);
    c.ok();
    // The staged content counts, not the working tree: a plaintext edit
    // staged, then the working tree fixed, is still blocked.
    let enc = r.t.read("secrets.yaml");
    r.t.write("secrets.yaml", "stripe: plain\n");
    r.git(&["add", "secrets.yaml"]).ok();
    r.t.write("secrets.yaml", &enc);
    let c = r.git(&["commit", "-q", "-m", "staged plaintext"]);
    assert_ne!(c.code(), 0);
    assert!(out_of(&c.0).contains("the staged version is not"));
}

#[test]
fn check_reports_json_allows_reviewed_lines_and_scans_binary_files() {
    let r = Repo::new();
    // Not AWS's documented example key (that one is never a finding).
    let aws_id = ["AK", "IA", "Q3ZR7LMX2VP4KT6Y"].concat();
    r.t.write("notes.md", &format!("ok\nkey {aws_id}\n"));
    std::fs::write(
        r.t.path("blob.bin"),
        [0xff, 0xfe, b'A', b'K', b'I', b'A', 0],
    )
    .unwrap();
    r.t.write("secrets.env", "TOKEN=xoxb-1234567890-abcdefghij\n");
    r.bs(&["encrypt", "--in-place", "secrets.env"]).ok();
    r.git(&["add", "-A"]).ok();
    let c = r.bs(&["check", "--json"]);
    c.fails_with(210);
    let v: serde_json::Value = serde_json::from_str(&c.stdout()).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{v}");
    assert_eq!(findings[0]["file"], "notes.md");
    assert_eq!(findings[0]["line"], 2);
    assert_eq!(findings[0]["rule"], "aws-access-key");
    assert!(findings[0]["fix"]
        .as_str()
        .unwrap()
        .contains("encrypted file"));
    // Binary files are scanned (issue 12), never skipped.
    assert_eq!(v["skipped"], serde_json::json!([]));
    c.leaks_none(&[&aws_id, "xoxb-1234567890-abcdefghij"]);
    r.bs(&["check", "--allow", "notes.md:2"]).ok();
    r.bs(&["check", "--allow", "notes.md"]).ok();
    r.bs(&["check", "--allow", "notes.md:1"]).fails_with(210);
    // Without a key the structure is still checked, and the MAC is noted.
    let c = r.bs_with(false, &["check", "secrets.env"]);
    c.ok();
    assert!(c.stderr().contains("MACs not checked"), "{}", c.stderr());
    // A damaged value: structure (everyone) and MAC (key holders).
    let enc = r.t.read("secrets.env");
    let broken = enc.replacen("type:str]", "type:nope]", 1);
    r.t.write("secrets.env", &broken);
    let c = r.bs_with(false, &["check", "secrets.env"]);
    c.fails_with(210);
    assert!(
        c.stdout().contains("secrets.env:1: bad-value"),
        "{}",
        c.stdout()
    );
    let tampered = {
        let start = enc.find("data:").unwrap() + 5;
        let mut b = enc.clone().into_bytes();
        b[start] = if b[start] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).unwrap()
    };
    r.t.write("secrets.env", &tampered);
    r.bs_with(false, &["check", "secrets.env"]).ok();
    let c = r.bs(&["check", "secrets.env"]);
    c.fails_with(210);
    c.leaks_none(&["xoxb-1234567890-abcdefghij"]);
}

#[test]
fn textconv_shows_values_to_key_holders_and_ciphertext_to_others() {
    let r = Repo::with_secrets();
    r.set("telegram", "TELEGRAM-TWO");
    r.commit_all("rotate telegram").ok();
    let with_key = r.git(&["show", "HEAD", "--", "secrets.yaml"]);
    with_key.ok();
    let shown = with_key.stdout();
    assert!(shown.contains("-telegram: TELEGRAM-ONE"), "{shown}");
    assert!(shown.contains("+telegram: TELEGRAM-TWO"), "{shown}");
    assert!(!shown.contains("ENC["), "{shown}");
    // A working-tree change in `git diff`, and `git log -p`.
    r.set("slack", "SLACK-TWO");
    let d = r.git(&["diff"]);
    d.ok();
    assert!(d.stdout().contains("+slack: SLACK-TWO"), "{}", d.stdout());
    assert!(r
        .git(&["log", "-p"])
        .stdout()
        .contains("+telegram: TELEGRAM-TWO"));
    // Without a key: the ciphertext, and no error.
    let no_key = r.git_with(false, &["show", "HEAD", "--", "secrets.yaml"]);
    no_key.ok();
    let shown = no_key.stdout();
    assert!(shown.contains("+telegram: ENC[AES256_GCM,"), "{shown}");
    no_key.leaks_none(&["TELEGRAM-ONE", "TELEGRAM-TWO"]);
    // textconv itself: exit 0 and the file unchanged without a key, also
    // for files that are not encrypted at all.
    let raw = r.t.read("secrets.yaml");
    let c = r.bs_with(false, &["git", "textconv", "secrets.yaml"]);
    c.ok();
    let shown = c.stdout();
    assert!(shown.starts_with(&raw), "{shown}");
    assert!(
        shown[raw.len()..].ends_with("# seal: not checked (no key)\n"),
        "{shown}"
    );
    r.t.write("plain.txt", "hello\n");
    assert_eq!(
        r.bs(&["git", "textconv", "plain.txt"]).ok().stdout(),
        "hello\n"
    );
    r.bs(&["git", "textconv", "missing.yaml"]).ok();
}

#[test]
fn branches_changing_different_keys_merge_cleanly() {
    let r = Repo::with_secrets();
    r.git(&["checkout", "-q", "-b", "feature"]).ok();
    r.set("weather.api_key", "WEATHER-TWO");
    r.commit_all("weather").ok();
    r.git(&["checkout", "-q", "main"]).ok();
    r.set("telegram", "TELEGRAM-TWO");
    r.set("discord", "DISCORD-NEW");
    r.commit_all("telegram").ok();
    let before = r.t.read("secrets.yaml");
    let m = r.git(&["merge", "-q", "--no-edit", "feature"]);
    m.ok();
    m.leaks_none(&["WEATHER-TWO", "TELEGRAM-TWO", "DISCORD-NEW"]);
    let merged = r.t.read("secrets.yaml");
    let d = r.bs(&["decrypt", "secrets.yaml"]);
    d.ok();
    assert_eq!(
        d.stdout(),
        "# bot fleet\nweather:\n    api_key: WEATHER-TWO\ntelegram: TELEGRAM-TWO\nslack: SLACK-ONE\ndiscord: DISCORD-NEW\n"
    );
    // Minimal diff against our side: the weather line, lastmodified, mac,
    // seal.
    // (lastmodified may be the same second.)
    let mut changed = changed_keys(&before, &merged);
    changed.retain(|k| k != "lastmodified");
    assert_eq!(changed, ["api_key", "mac", "botsecrets_seal"]);
    assert!(r.git(&["status", "--porcelain"]).stdout().trim().is_empty());
    // The merge commit is there, with the merged file.
    assert!(r.git(&["log", "--oneline"]).stdout().lines().count() == 4);
    if let Some(sops) = tool("sops") {
        let o = crate::util::sops(
            &sops,
            &key1(),
            &["decrypt", r.t.path("secrets.yaml").to_str().unwrap()],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8(o.stdout).unwrap();
        assert!(
            text.contains("WEATHER-TWO")
                && text.contains("TELEGRAM-TWO")
                && text.contains("DISCORD-NEW"),
            "{text}"
        );
    }
}

#[test]
fn a_merge_keeps_their_new_recipients() {
    let r = Repo::with_secrets();
    r.git(&["checkout", "-q", "-b", "feature"]).ok();
    r.bs(&["recipients", "add", "secrets.yaml", RECIPIENT2])
        .ok();
    r.commit_all("add a bot").ok();
    r.git(&["checkout", "-q", "main"]).ok();
    r.set("slack", "SLACK-TWO");
    r.commit_all("slack").ok();
    r.git(&["merge", "-q", "--no-edit", "feature"]).ok();
    let list = r.bs(&["recipients", "list", "secrets.yaml"]);
    assert!(list.ok().stdout().contains(RECIPIENT2), "{}", list.stdout());
    let d = r.bs(&[
        "decrypt",
        "--identity",
        key2().to_str().unwrap(),
        "secrets.yaml",
    ]);
    assert!(d.ok().stdout().contains("slack: SLACK-TWO"));
}

#[test]
fn a_true_conflict_writes_no_plaintext_and_explains_itself() {
    let r = Repo::with_secrets();
    r.git(&["checkout", "-q", "-b", "feature"]).ok();
    r.set("telegram", "TELEGRAM-THEIRS");
    r.set("weather.api_key", "WEATHER-THEIRS");
    r.commit_all("theirs").ok();
    r.git(&["checkout", "-q", "main"]).ok();
    r.set("telegram", "TELEGRAM-OURS");
    r.commit_all("ours").ok();
    let ours = r.t.read("secrets.yaml");
    let m = r.git(&["merge", "--no-edit", "feature"]);
    assert_ne!(m.code(), 0);
    let said = out_of(&m.0);
    assert!(
        said.contains("telegram: changed differently on both sides"),
        "{said}"
    );
    assert!(said.contains("botsecrets edit secrets.yaml"), "{said}");
    assert!(!said.contains("weather.api_key:"), "{said}");
    let secrets = [
        "TELEGRAM-THEIRS",
        "TELEGRAM-OURS",
        "WEATHER-THEIRS",
        "WEATHER-ONE",
        "TELEGRAM-ONE",
        "SLACK-ONE",
    ];
    m.leaks_none(&secrets);
    // Our encrypted version is in the working tree, untouched.
    assert_eq!(r.t.read("secrets.yaml"), ours);
    // No plaintext anywhere: not in a file of the working tree or .git,
    // not in any object git stored.
    let mut files = Vec::new();
    all_files(r.t.dir.path(), &mut files);
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        for s in secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "{} holds {s}",
                f.display()
            );
        }
    }
    let objects = r.git(&["cat-file", "--batch-all-objects", "--batch"]);
    let all = String::from_utf8_lossy(&objects.0.stdout).into_owned();
    for s in secrets {
        assert!(!all.contains(s), "a git object holds {s}");
    }
    assert!(r
        .git(&["status", "--porcelain"])
        .stdout()
        .contains("UU secrets.yaml"));
}

#[test]
fn without_a_key_the_merge_falls_back_to_a_line_merge_of_the_ciphertext() {
    let r = Repo::with_secrets();
    r.git(&["checkout", "-q", "-b", "feature"]).ok();
    r.set("telegram", "TELEGRAM-THEIRS");
    r.commit_all("theirs").ok();
    r.git(&["checkout", "-q", "main"]).ok();
    r.set("slack", "SLACK-OURS");
    r.commit_all("ours").ok();
    let m = r.git_with(false, &["merge", "--no-edit", "feature"]);
    assert_ne!(m.code(), 0);
    let said = out_of(&m.0);
    assert!(
        said.contains("no identity found to decrypt it; falling back to git's line merge"),
        "{said}"
    );
    let text = r.t.read("secrets.yaml");
    assert!(
        text.contains("<<<<<<< ours") && text.contains("ENC[AES256_GCM,"),
        "{text}"
    );
    m.leaks_none(&["TELEGRAM-THEIRS", "SLACK-OURS"]);
}

#[test]
fn install_and_uninstall_are_idempotent_and_remove_only_their_own_lines() {
    let r = Repo::new();
    r.t.write(".gitattributes", "*.png binary\n");
    r.t.write("secrets.yaml", "a: b\n");
    r.bs(&["encrypt", "--in-place", "secrets.yaml"]).ok();
    r.t.write("other.enc.json", "{\"k\": \"v\"}\n");
    r.bs(&[
        "encrypt",
        "--age",
        RECIPIENT1,
        "--in-place",
        "other.enc.json",
    ])
    .ok();
    r.t.write("config.yaml", "plain: true\n");
    r.git(&["config", "--local", "diff.other.textconv", "cat"])
        .ok();
    r.commit_all("init").ok();
    let config_before = r.git(&["config", "--local", "--list"]).stdout();

    r.bs(&["git", "install"]).ok();
    let attrs = r.t.read(".gitattributes");
    let hook = r.t.read(".git/hooks/pre-commit");
    let config = r.git(&["config", "--local", "--list"]).stdout();
    assert_eq!(
        attrs,
        // The rule's path_regex secrets\.(yaml|env)$ as patterns (issue 15),
        // then the encrypted file no rule covers.
        "*.png binary\n# botsecrets: begin (written by `botsecrets git install`: patterns from the creation rules, then files they do not cover)\n*secrets.yaml diff=botsecrets merge=botsecrets\n*secrets.env diff=botsecrets merge=botsecrets\n/other.enc.json diff=botsecrets merge=botsecrets\n# botsecrets: end\n"
    );
    assert!(hook.contains("botsecrets check --staged"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(r.t.path(".git/hooks/pre-commit"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111);
    assert!(
        config.contains("diff.botsecrets.textconv=botsecrets git textconv\n"),
        "{config}"
    );
    assert!(
        config.contains("merge.botsecrets.driver=botsecrets git merge %O %A %B %P\n"),
        "{config}"
    );
    // Attributes as git sees them.
    let a = r
        .git(&[
            "check-attr",
            "diff",
            "merge",
            "--",
            "secrets.yaml",
            "config.yaml",
        ])
        .stdout();
    assert!(
        a.contains("secrets.yaml: diff: botsecrets")
            && a.contains("config.yaml: diff: unspecified"),
        "{a}"
    );

    // Twice: the same bytes.
    r.bs(&["git", "install"]).ok();
    assert_eq!(r.t.read(".gitattributes"), attrs);
    assert_eq!(r.t.read(".git/hooks/pre-commit"), hook);
    assert_eq!(r.git(&["config", "--local", "--list"]).stdout(), config);

    // Uninstall, twice: back to what was there.
    r.bs(&["git", "install", "--uninstall"]).ok();
    r.bs(&["git", "install", "--uninstall"]).ok();
    assert_eq!(r.t.read(".gitattributes"), "*.png binary\n");
    assert!(!r.t.path(".git/hooks/pre-commit").exists());
    assert_eq!(
        r.git(&["config", "--local", "--list"]).stdout(),
        config_before
    );
    assert!(r.t.read(".git/config").find("botsecrets").is_none());
}

#[test]
fn a_foreign_hook_is_never_overwritten() {
    let r = Repo::new();
    let foreign = "#!/bin/sh\nmake lint\n";
    r.t.write(".git/hooks/pre-commit", foreign);
    let c = r.bs(&["git", "install"]);
    c.fails_with(211);
    assert!(
        c.stderr()
            .contains("was not written by botsecrets; nothing was changed"),
        "{}",
        c.stderr()
    );
    assert!(
        c.stderr().contains("botsecrets check --staged || exit 1"),
        "{}",
        c.stderr()
    );
    assert_eq!(r.t.read(".git/hooks/pre-commit"), foreign);
    assert!(!r.t.path(".gitattributes").exists());
    assert!(
        r.git(&["config", "--local", "--get", "diff.botsecrets.textconv"])
            .code()
            != 0
    );
    // With the line added by hand, install goes ahead and keeps the hook.
    let chained = format!("{foreign}botsecrets check --staged || exit 1\n");
    r.t.write(".git/hooks/pre-commit", &chained);
    r.bs(&["git", "install"]).ok();
    assert_eq!(r.t.read(".git/hooks/pre-commit"), chained);
    r.bs(&["git", "install", "--uninstall"]).ok();
    assert_eq!(r.t.read(".git/hooks/pre-commit"), chained);
}

#[test]
fn install_respects_core_hooks_path() {
    let r = Repo::new();
    r.git(&["config", "core.hooksPath", "githooks"]).ok();
    r.bs(&["git", "install"]).ok();
    assert!(r
        .t
        .read("githooks/pre-commit")
        .contains("botsecrets check --staged"));
    assert!(!r.t.path(".git/hooks/pre-commit").exists());
    r.t.write("secrets.yaml", "a: plain\n");
    r.git(&["add", "-A"]).ok();
    assert_ne!(r.git(&["commit", "-q", "-m", "x"]).code(), 0);
    r.bs(&["git", "install", "--uninstall"]).ok();
    assert!(!r.t.path("githooks/pre-commit").exists());
}

#[test]
fn outside_a_repository_install_says_so() {
    let t = TestDir::new();
    let c = t.run(&["git", "install"]);
    c.fails_with(1);
    assert!(
        c.stderr().contains("not inside a git repository"),
        "{}",
        c.stderr()
    );
}
