//! `audit` and `check`'s overdue report, in real temporary git
//! repositories whose commits are backdated (GIT_AUTHOR_DATE and
//! GIT_COMMITTER_DATE), so that ages in days are exact.

use std::process::Command;

use crate::util::*;

const DAY: i64 = 86_400;

/// The secret values the tests store; none may ever be printed.
const SECRETS: [&str; 4] = [
    "tok-ORIGINAL-100",
    "pw-ORIGINAL-100",
    "pw-CHANGED-5",
    "pw-UNCOMMITTED",
];

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

struct Repo {
    t: TestDir,
}

impl Repo {
    fn new(rules: &str) -> Self {
        let r = Repo { t: TestDir::new() };
        r.git(&["init", "-q", "-b", "main", "."], 0);
        r.t.write(".botsecrets.yaml", rules);
        r
    }

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
            .env("GIT_AUTHOR_NAME", "Alice Admin")
            .env("GIT_AUTHOR_EMAIL", "alice@example.com")
            .env("GIT_COMMITTER_NAME", "Alice Admin")
            .env("GIT_COMMITTER_EMAIL", "alice@example.com");
        if key {
            c.env("BOTSECRETS_AGE_KEY_FILE", key1());
        }
        c.current_dir(self.t.dir.path());
    }

    /// git, with author and committer dates `days_ago` days back (0: now).
    fn git(&self, args: &[&str], days_ago: i64) -> Run {
        let mut c = Command::new("git");
        c.args(args);
        self.env(&mut c, false);
        if days_ago > 0 {
            let date = format!("@{} +0000", now() - days_ago * DAY);
            c.env("GIT_AUTHOR_DATE", &date)
                .env("GIT_COMMITTER_DATE", &date);
        }
        let r = Run(c.output().expect("run git"));
        r.ok();
        r
    }

    fn commit(&self, msg: &str, days_ago: i64, author: &str) {
        self.git(&["add", "-A"], 0);
        self.git(
            &[
                "-c",
                &format!("user.name={author}"),
                "commit",
                "-q",
                "--author",
                &format!("{author} <{}@example.com>", author.to_lowercase()),
                "-m",
                msg,
            ],
            days_ago,
        );
    }

    fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"], 0)
            .stdout()
            .trim()
            .to_owned()
    }

    fn bs_with(&self, key: bool, args: &[&str]) -> Run {
        let mut c = Command::new(env!("CARGO_BIN_EXE_botsecrets"));
        c.args(args);
        self.env(&mut c, key);
        Run(c.output().expect("run botsecrets"))
    }

    fn bs(&self, args: &[&str]) -> Run {
        self.bs_with(true, args)
    }

    fn bs_stdin(&self, args: &[&str], stdin: &str) -> Run {
        use std::io::Write;
        let mut c = Command::new(env!("CARGO_BIN_EXE_botsecrets"));
        c.args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        self.env(&mut c, true);
        let mut child = c.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        Run(child.wait_with_output().unwrap())
    }
}

fn rules(policy: &str) -> String {
    format!("creation_rules:\n  - path_regex: secrets\\.yaml$\n    age: {RECIPIENT1}\n{policy}")
}

/// The history: both values set 100 days ago, a data-key rotation
/// 10 days ago, the password changed 5 days ago. Returns the commits.
fn history(policy: &str) -> (Repo, [String; 3]) {
    let r = Repo::new(&rules(policy));
    r.t.write(
        "secrets.yaml",
        &format!(
            "api:\n  token: {}\ndb:\n  password: {}\n",
            SECRETS[0], SECRETS[1]
        ),
    );
    r.bs(&["encrypt", "--in-place", "secrets.yaml"]).ok();
    r.commit("add the secrets", 100, "Alice");
    let first = r.head();
    let before = r.t.read("secrets.yaml");
    r.bs(&["rotate", "secrets.yaml"]).ok();
    assert!(
        enc_lines(&before)
            .iter()
            .all(|l| !r.t.read("secrets.yaml").contains(l.as_str())),
        "rotate must change every ciphertext"
    );
    r.commit("rotate the data key", 10, "Bob");
    let rotated = r.head();
    r.bs_stdin(
        &["set", "secrets.yaml", "db.password", "--stdin"],
        SECRETS[2],
    )
    .ok();
    r.commit("new db password", 5, "Carol");
    let changed = r.head();
    (r, [first, rotated, changed])
}

fn secret<'a>(doc: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    doc["files"][0]["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"] == path)
        .unwrap_or_else(|| panic!("no {path} in {doc}"))
}

#[test]
fn ages_come_from_the_plaintext_not_the_ciphertext() {
    let (r, [first, rotated, changed]) = history("");
    let out = r.bs(&["audit", "--json"]);
    out.ok().leaks_none(&SECRETS);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    let token = secret(&doc, "api.token");
    assert_eq!(token["age_days"], 100, "{doc}");
    assert_eq!(token["commit"], first.as_str());
    assert_eq!(token["author"], "Alice");
    assert_eq!(token["approximate"], false);
    assert_eq!(token["status"], "no policy");
    let password = secret(&doc, "db.password");
    assert_eq!(password["age_days"], 5);
    assert_eq!(password["commit"], changed.as_str());
    assert_eq!(password["author"], "Carol");
    assert_eq!(doc["files"][0]["readers"][0]["recipient"], RECIPIENT1);
    assert_eq!(doc["files"][0]["versions"], 3);
    assert!(
        !out.stdout().contains(&rotated),
        "the rotation is no change"
    );

    // The human table: oldest first, within 100 columns.
    let out = r.bs(&["audit"]);
    out.ok().leaks_none(&SECRETS);
    let text = out.stdout();
    let rows: Vec<&str> = text.lines().take(3).collect();
    assert!(rows[0].starts_with(" AGE  STATUS"), "{text}");
    assert!(rows[1].contains("100d") && rows[1].contains("secrets.yaml: api.token"));
    assert!(
        rows[1].contains(&first[..7]) && rows[1].contains("Alice"),
        "{text}"
    );
    assert!(rows[2].contains("5d") && rows[2].contains("db.password"));
    assert!(rows[2].contains(&changed[..7]) && rows[2].contains("Carol"));
    assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
    assert!(
        out.stderr()
            .contains("audit: 1 file(s), 2 secret(s), 0 overdue, 0 approximate"),
        "{}",
        out.stderr()
    );
}

#[test]
fn check_fails_naming_only_the_overdue_secret() {
    let (r, _) = history("    rotation:\n      max_age: 30d\n");
    let out = r.bs(&["audit", "--check"]);
    out.fails_with(221).leaks_none(&SECRETS);
    let err = out.stderr();
    assert!(
        err.contains(
            "overdue: secrets.yaml: api.token: 100 days old, limit 30d; readers: age10fsp"
        ),
        "{err}"
    );
    assert!(!err.contains("db.password"), "{err}");
    assert!(err.contains("1 secret(s) overdue"), "{err}");
    // Without --check the report is the same, and succeeds.
    let out = r.bs(&["audit"]);
    out.ok();
    assert!(out.stdout().lines().nth(1).unwrap().contains("overdue"));

    // `check` reports it: a failure in CI use, a warning for a commit.
    let out = r.bs(&["check"]);
    out.fails_with(210).leaks_none(&SECRETS);
    assert!(
        out.stdout()
            .contains("secrets.yaml: overdue: api.token: 100 days old, limit 30d"),
        "{}",
        out.stdout()
    );
    assert!(!out.stdout().contains("db.password"));
    r.t.write("other.txt", "nothing secret\n");
    r.git(&["add", "other.txt"], 0);
    let out = r.bs(&["check", "--staged"]);
    out.ok();
    let out = r.bs(&["check", "--staged", "secrets.yaml"]);
    out.ok();
}

#[test]
fn check_staged_warns_about_overdue_secrets_it_was_given() {
    let (r, _) = history("    rotation:\n      max_age: 30d\n");
    r.bs(&["set", "secrets.yaml", "unrelated", "x"]).ok();
    r.git(&["add", "secrets.yaml"], 0);
    let out = r.bs(&["check", "--staged"]);
    out.ok().leaks_none(&SECRETS);
    assert!(
        out.stderr()
            .contains("warning: secrets.yaml: overdue: api.token: 100 days old, limit 30d"),
        "{}",
        out.stderr()
    );
}

#[test]
fn per_path_limits_and_uncommitted_changes() {
    let (r, _) = history("    rotation:\n      max_age: 200d\n      paths:\n        db: 3d\n");
    let out = r.bs(&["audit", "--check"]);
    out.fails_with(221);
    assert!(out.stderr().contains("db.password: 5 days old, limit 3d"));
    assert!(!out.stderr().contains("api.token:"));
    // A change in the working tree is "now": nothing is overdue.
    r.bs_stdin(
        &["set", "secrets.yaml", "db.password", "--stdin"],
        SECRETS[3],
    )
    .ok();
    let out = r.bs(&["audit", "--check", "--json"]);
    out.ok().leaks_none(&SECRETS);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    let password = secret(&doc, "db.password");
    assert_eq!(password["age_days"], 0);
    assert_eq!(password["uncommitted"], true);
    assert_eq!(password["commit"], serde_json::Value::Null);
    assert_eq!(password["limit"], "3d");
    assert_eq!(password["status"], "ok");
}

#[test]
fn without_a_key_the_dates_are_approximate() {
    let (r, [_, rotated, changed]) = history("");
    let out = r.bs_with(false, &["audit", "--json"]);
    out.ok();
    let doc: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    let token = secret(&doc, "api.token");
    assert_eq!(token["age_days"], 10);
    assert_eq!(token["commit"], rotated.as_str());
    assert_eq!(token["approximate"], true);
    assert_eq!(secret(&doc, "db.password")["commit"], changed.as_str());
    assert_eq!(doc["keyless"], true);
    let out = r.bs_with(false, &["audit"]);
    assert!(out.stdout().contains("\n~10d  -"), "{}", out.stdout());
    assert!(out.stdout().contains("~ approximate"));
}

#[test]
fn a_move_is_no_change() {
    let (r, [first, ..]) = history("");
    r.git(&["mv", "secrets.yaml", "prod.secrets.yaml"], 0);
    r.commit("move", 1, "Dave");
    let out = r.bs(&["audit", "--json", "prod.secrets.yaml"]);
    out.ok();
    let doc: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    assert_eq!(secret(&doc, "api.token")["commit"], first.as_str());
    assert_eq!(secret(&doc, "api.token")["age_days"], 100);
}

#[test]
fn findings_unsealed_drift_unknown_and_revoked() {
    let r = Repo::new(&format!(
        "keys:\n  alice: {RECIPIENT1}\n  bob: {RECIPIENT2}\nrevoked: [bob]\ncreation_rules:\n  - path_regex: secrets\\.yaml$\n    age: {RECIPIENT1}\n  - path_regex: other\\.yaml$\n    age: [{RECIPIENT1}]\n"
    ));
    r.t.write("secrets.yaml", &format!("api:\n  token: {}\n", SECRETS[0]));
    r.bs(&["encrypt", "--in-place", "secrets.yaml"]).ok();
    r.bs(&["recipients", "add", "secrets.yaml", RECIPIENT2])
        .ok();
    r.commit("add", 3, "Alice");
    let out = r.bs(&["audit"]);
    out.ok().leaks_none(&SECRETS);
    let text = out.stdout();
    assert!(text.contains("secrets.yaml: alice (age10fsp"), "{text}");
    assert!(
        text.contains("secrets.yaml: drift: the readers differ from rule 1 (line 6, path_regex secrets\\.yaml$)"),
        "{text}"
    );
    assert!(
        text.contains(&format!("not in the rule: bob ({RECIPIENT2})")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "unknown-recipient: bob ({RECIPIENT2}) can read this file but no creation rule"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "revoked: bob ({RECIPIENT2}) is revoked (line 4 of"
        )),
        "{text}"
    );
    assert!(text.contains("alice, bob"), "{text}");
    let out = r.bs(&["audit", "--check"]);
    out.fails_with(221);
    assert!(out
        .stderr()
        .contains("1 file(s) still readable by a revoked key"));

    // A file sops wrote (no seal) is reported as unsealed.
    if let Some(sops) = tool("sops") {
        let plain = r.t.write("plain.yaml", "k: SOPS-VALUE\n");
        let o = sops_env(
            &sops,
            &[],
            &["encrypt", "--age", RECIPIENT1, plain.to_str().unwrap()],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::remove_file(&plain).unwrap();
        r.t.write("legacy.yaml", &String::from_utf8(o.stdout).unwrap());
        let out = r.bs(&["audit", "legacy.yaml"]);
        out.ok().leaks_none(&["SOPS-VALUE"]);
        assert!(
            out.stdout()
                .contains("legacy.yaml: unsealed: the file has no seal"),
            "{}",
            out.stdout()
        );
        assert!(out.stdout().contains("uncommitted"));
    }
}

#[test]
fn policy_errors_name_line_and_column() {
    let r = Repo::new(&rules(""));
    r.t.write("secrets.yaml", "api:\n  token: x\n");
    r.bs(&["encrypt", "--in-place", "secrets.yaml"]).ok();
    r.commit("add", 1, "Alice");
    r.t.write(
        ".botsecrets.yaml",
        &rules("    rotation:\n      max_age: 90\n"),
    );
    let out = r.bs(&["audit"]);
    out.fails_with(5);
    assert!(
        out.stderr()
            .contains(".botsecrets.yaml: line 5, column 16: creation_rules[0].rotation.max_age: \"90\" has no unit"),
        "{}",
        out.stderr()
    );
    r.t.write(
        ".botsecrets.yaml",
        &rules("    rotation:\n      max_age: 90d\n      paths: {stripe.secret_key: 30d}\n"),
    );
    let out = r.bs(&["audit"]);
    out.fails_with(5);
    assert!(
        out.stderr().contains(
            ".botsecrets.yaml: line 6, column 34: rotation.paths names stripe.secret_key, which no file of rule 1"
        ),
        "{}",
        out.stderr()
    );
}
