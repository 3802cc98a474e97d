//! Leak prevention (issue 12): the corpus in testdata/leaks (every kind
//! found, every benign look-alike not), secrets-named files, non-UTF-8
//! files, the three allow mechanisms, and `check --history` in real git
//! repositories. Credentials in the corpus are stored split by `@@` and
//! joined here, at run time.

use std::path::Path;
use std::process::Command;

use crate::util::*;

const SPLIT: &str = "@@";

/// One manifest row: file, kind, expected detector (`-`: none), encoding.
struct Row {
    file: String,
    kind: String,
    expect: String,
}

/// Writes the corpus, whole, under `dest`; returns the rows and every
/// credential it holds (each split token, joined).
fn materialize(dest: &Path) -> (Vec<Row>, Vec<String>) {
    let corpus = testdata().join("leaks");
    let manifest = std::fs::read_to_string(corpus.join("manifest.tsv")).unwrap();
    let mut rows = Vec::new();
    let mut secrets = Vec::new();
    for line in manifest
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let f: Vec<&str> = line.split('\t').collect();
        let (file, kind, expect, encoding) = (f[0], f[1], f[2], f[3]);
        let stored = std::fs::read_to_string(corpus.join(file)).unwrap();
        for (i, _) in stored.match_indices(SPLIT) {
            let start = stored[..i]
                .rfind(|c: char| c.is_whitespace() || "'\"=(`:".contains(c))
                .map_or(0, |p| p + 1);
            let end = stored[i..]
                .find(|c: char| c.is_whitespace() || "'\"`),;".contains(c))
                .map_or(stored.len(), |p| i + p);
            secrets.push(stored[start..end].replace(SPLIT, ""));
        }
        let text = stored.replace(SPLIT, "");
        let bytes: Vec<u8> = match encoding {
            "utf16le" => [0xff, 0xfe]
                .into_iter()
                .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
                .collect(),
            "latin1" => text
                .chars()
                .map(|c| u8::try_from(u32::from(c)).expect("a Latin-1 character"))
                .collect(),
            "gzip" => {
                use std::io::Write;
                let mut e =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(text.as_bytes()).unwrap();
                e.finish().unwrap()
            }
            _ => text.into_bytes(),
        };
        let out = dest.join(file);
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        std::fs::write(out, bytes).unwrap();
        rows.push(Row {
            file: file.to_owned(),
            kind: kind.to_owned(),
            expect: expect.to_owned(),
        });
    }
    secrets.retain(|s| s.len() >= 12);
    (rows, secrets)
}

#[test]
fn corpus_every_kind_is_found_and_no_look_alike_is() {
    let t = TestDir::new();
    let (rows, secrets) = materialize(&t.path("corpus"));
    let r = t.run(&["check", "--json", "corpus"]);
    r.fails_with(210);
    let v: serde_json::Value = serde_json::from_str(&r.stdout()).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let rules_of = |file: &str| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f["file"] == format!("corpus/{file}"))
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut kinds = std::collections::BTreeSet::new();
    let mut benign = 0;
    for row in &rows {
        let got = rules_of(&row.file);
        if row.expect == "-" {
            benign += 1;
            assert!(got.is_empty(), "false positive in {}: {got:?}", row.file);
        } else {
            kinds.insert(row.kind.clone());
            assert!(
                got.contains(&row.expect),
                "{} ({}) not found in {}: {got:?}",
                row.expect,
                row.kind,
                row.file
            );
        }
    }
    assert_eq!((kinds.len(), benign), (39, 22));
    // Messages: at most a redacted prefix; never a value.
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert!(refs.len() > 50, "{}", refs.len());
    r.leaks_none(&refs);
    let text = t.run(&["check", "corpus"]);
    text.fails_with(210);
    text.leaks_none(&refs);
    let out = text.stdout();
    assert!(
        out.contains(
            "corpus/positive/github-classic.py:3: github-token: a GitHub token (ghp_****) [fp-"
        ),
        "{out}"
    );
    assert!(
        out.contains("corpus/positive/secrets/staging.yaml: secrets-file"),
        "{out}"
    );
    assert!(
        out.contains("corpus/positive/encoded/utf16.txt:2: github-token"),
        "{out}"
    );
    assert!(out.contains("    fix: "), "{out}");
}

#[test]
fn archives_are_reported_unscanned_not_skipped() {
    let t = TestDir::new();
    std::fs::write(t.path("bundle.zip"), b"PK\x03\x04\x14\0\0\0\x08\0rest").unwrap();
    let r = t.run(&["check", "bundle.zip"]);
    r.fails_with(210);
    assert!(
        r.stdout()
            .contains("bundle.zip: unscanned: not scanned: a zip archive"),
        "{}",
        r.stdout()
    );
    t.run(&["check", "--allow", "bundle.zip", "bundle.zip"])
        .ok();
}

/// A token assembled at run time.
fn token(seed: u32) -> String {
    let alnum = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    let body: String = (0..36)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            alnum[(x % 62) as usize] as char
        })
        .collect();
    ["gh", "p_", &body].concat()
}

#[test]
fn a_reviewed_finding_is_allowed_by_fingerprint_marker_or_rules_file() {
    let t = TestDir::new();
    let tok = token(1);
    t.write("bot.py", &format!("TOKEN = '{tok}'\n"));
    let r = t.run(&["check", "--json", "bot.py"]);
    r.fails_with(210).leaks_none(&[&tok, &tok[4..]]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout()).unwrap();
    let fp = v["findings"][0]["fingerprint"].as_str().unwrap().to_owned();
    assert!(fp.starts_with("fp-") && fp.len() == 19, "{fp}");
    assert!(r.stderr().contains("--allow FINGERPRINT"), "{}", r.stderr());
    // --allow FINGERPRINT: the same secret, wherever it is.
    t.write("other.sh", &format!("export T={tok}\n"));
    t.run(&["check", "--allow", &fp, "bot.py", "other.sh"]).ok();
    t.run(&["check", "--allow", "fp-0000000000000000", "bot.py"])
        .fails_with(210);
    // The rules file's allow list.
    t.write(
        ".botsecrets.yaml",
        &format!("allow:\n  - {fp}\ncreation_rules:\n  - age: {RECIPIENT1}\n"),
    );
    t.run(&["check", "bot.py", "other.sh"]).ok();
    t.write(
        ".botsecrets.yaml",
        &format!("allow: [{tok}]\ncreation_rules:\n  - age: {RECIPIENT1}\n"),
    );
    let bad = t.run(&["check", "bot.py"]);
    bad.fails_with(5).leaks_none(&[&tok]);
    std::fs::remove_file(t.path(".botsecrets.yaml")).unwrap();
    // The inline marker.
    t.write("bot.py", &format!("TOKEN = '{tok}'  # botsecrets:allow\n"));
    t.run(&["check", "bot.py"]).ok();
}

/// A git repository with a clean environment.
struct Repo {
    t: TestDir,
}

impl Repo {
    fn new() -> Self {
        let r = Repo { t: TestDir::new() };
        r.git(&["init", "-q", "-b", "main", "."]);
        r
    }

    fn env(&self, c: &mut Command) {
        let plain = self.t.cmd();
        for (k, v) in plain.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c.env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .current_dir(self.t.dir.path());
    }

    fn git(&self, args: &[&str]) -> String {
        let mut c = Command::new("git");
        c.args(args);
        self.env(&mut c);
        let r = Run(c.output().unwrap());
        r.ok();
        r.stdout().trim().to_owned()
    }

    fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", msg]);
        self.git(&["rev-parse", "HEAD"])
    }

    fn bs(&self, args: &[&str]) -> Run {
        let mut c = Command::new(env!("CARGO_BIN_EXE_botsecrets"));
        c.args(args);
        self.env(&mut c);
        Run(c.output().unwrap())
    }
}

#[test]
fn secrets_named_files_without_a_rule_stop_the_commit() {
    let r = Repo::new();
    r.t.write(
        ".botsecrets.yaml",
        &format!("creation_rules:\n  - path_regex: ^prod\\.yaml$\n    age: {RECIPIENT1}\n"),
    );
    r.t.write("secrets/staging.yaml", "db:\n  password: hunter2\n");
    r.t.write(".env.example", "API_KEY=changeme\n");
    r.git(&["add", "-A"]);
    let c = r.bs(&["check", "--staged"]);
    c.fails_with(210).leaks_none(&["hunter2"]);
    assert!(
        c.stdout().contains(
            "secrets/staging.yaml: secrets-file: a file named like a secrets file, not encrypted"
        ),
        "{}",
        c.stdout()
    );
    assert!(c
        .stdout()
        .contains("botsecrets encrypt --in-place secrets/staging.yaml"));
    assert!(!c.stdout().contains(".env.example"), "{}", c.stdout());
    r.git(&["rm", "-q", "--cached", "secrets/staging.yaml"]);
    r.bs(&["check", "--staged"]).ok();
}

#[test]
fn history_reports_each_leak_once_with_commit_path_line_and_head() {
    let r = Repo::new();
    let (a, b) = (token(2), token(3));
    r.t.write("bot.yaml", &format!("name: bot\ntoken: {a}\n"));
    r.t.write("copy.yaml", &format!("name: bot\ntoken: {a}\n"));
    let c1 = r.commit("add bot");
    r.t.write("bot.yaml", "name: bot\ntoken: ${TOKEN}\n");
    std::fs::remove_file(r.t.path("copy.yaml")).unwrap();
    r.t.write("notes/ops.md", &format!("# ops\n\nuse {b}\n"));
    let c2 = r.commit("move the token out");
    // A branch with a leak that main never had.
    r.git(&["checkout", "-q", "-b", "side"]);
    r.t.write("side.txt", &format!("k {}\n", token(4)));
    r.commit("side");
    r.git(&["checkout", "-q", "main"]);

    let h = r.bs(&["check", "--history"]);
    h.fails_with(210).leaks_none(&[&a, &b, &a[4..], &b[4..]]);
    let out = h.stdout();
    assert!(
        out.contains(&format!(
            "{}:bot.yaml:2: github-token: a GitHub token (ghp_****) [fp-",
            &c1[..12]
        )),
        "{out}"
    );
    assert!(out.contains("(not at HEAD)"), "{out}");
    assert!(
        out.contains(&format!("{}:notes/ops.md:3: github-token", &c2[..12])),
        "{out}"
    );
    assert!(out.contains("(still at HEAD)"), "{out}");
    assert!(out.contains("side.txt:1:"), "{out}");
    // The same blob at two paths is one blob: reported once.
    assert_eq!(out.matches(":2: github-token").count(), 1, "{out}");
    assert!(
        out.contains("rewriting history does not un-leak a key that was pushed"),
        "{out}"
    );
    let err = h.stderr();
    assert!(err.contains("rotate each at its provider"), "{err}");
    assert!(
        err.contains("botsecrets: check --history: 4 blob(s) from 3 commit(s) scanned in"),
        "{err}"
    );
    assert!(err.contains("3 finding(s), 1 still at HEAD"), "{err}");

    // --json, and revisions.
    let j = r.bs(&["check", "--history", "--json", "main"]);
    j.fails_with(210);
    let v: serde_json::Value = serde_json::from_str(&j.stdout()).unwrap();
    let f = v["findings"].as_array().unwrap();
    assert_eq!(f.len(), 2, "{v}");
    assert_eq!(f[0]["commit"], c1.as_str());
    assert_eq!(f[0]["path"], "bot.yaml");
    assert_eq!(f[0]["line"], 2);
    assert_eq!(f[0]["rule"], "github-token");
    assert_eq!(f[0]["redacted"], "ghp_****");
    assert_eq!(f[0]["at_head"], false);
    assert_eq!(f[1]["at_head"], true);
    let only_first = r.bs(&["check", "--history", "--json", &c1]);
    let v1: serde_json::Value = serde_json::from_str(&only_first.stdout()).unwrap();
    assert_eq!(v1["findings"].as_array().unwrap().len(), 1, "{v1}");
    assert_eq!(v1["findings"][0]["at_head"], false);

    // Reviewed: allowed by fingerprint.
    let fps: Vec<String> = f
        .iter()
        .map(|x| x["fingerprint"].as_str().unwrap().to_owned())
        .collect();
    r.bs(&[
        "check",
        "--history",
        "main",
        "--allow",
        &fps[0],
        "--allow",
        &fps[1],
    ])
    .ok();
    // Nothing was checked out or written.
    assert_eq!(r.git(&["status", "--porcelain"]), "");
}

#[test]
fn history_sees_secrets_files_and_non_utf8_blobs() {
    let r = Repo::new();
    r.t.write("secrets/prod.env", "DB_PASSWORD=hunter2\n");
    let mut utf16 = vec![0xff, 0xfe];
    utf16.extend(
        format!("t={}\r\n", token(5))
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    std::fs::write(r.t.path("win.txt"), utf16).unwrap();
    r.commit("one");
    let h = r.bs(&["check", "--history"]);
    h.fails_with(210).leaks_none(&["hunter2", &token(5)]);
    let out = h.stdout();
    assert!(out.contains(":secrets/prod.env:1: dotenv-value"), "{out}");
    assert!(out.contains(":win.txt:1: github-token"), "{out}");
    // No history at all: nothing to report.
    let empty = Repo::new();
    empty.bs(&["check", "--history"]).ok();
}
