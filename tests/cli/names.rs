//! Issue 11, names: `keys:` and `groups:` in `.botsecrets.yaml`, names in
//! a rule's `age:` (and key groups'), YAML anchors, the errors (line and
//! column, no secret echoed), `.sops.yaml` keeping sops' schema; names
//! shown wherever a recipient is shown and accepted where one is taken;
//! drift (`check`, `updatekeys --check`); `recipients list` of several
//! files. Real git repositories, real keys made with `botsecrets keygen`.

use std::path::PathBuf;

use crate::conveniences::Repo;
use crate::util::*;

const PLAIN: &str = "db:\n  url: postgres://u:pw-7781@db/app\nweather:\n  api_key: wk-5521\n";
const SECRETS: [&str; 2] = ["pw-7781", "wk-5521"];

/// A repository and a fleet of named keys (made with `keygen`, kept
/// outside the repository).
struct Fleet {
    repo: Repo,
    _keys: TestDir,
    people: Vec<(String, String, PathBuf)>,
}

impl Fleet {
    fn new(names: &[&str]) -> Self {
        let repo = Repo::new();
        let keys = TestDir::new();
        let mut people = Vec::new();
        for n in names {
            let path = keys.path(&format!("{n}.txt"));
            let r = keys.run(&["keygen", "-o", path.to_str().unwrap()]);
            r.ok();
            people.push((n.to_string(), r.stdout().trim().to_owned(), path));
        }
        Fleet {
            repo,
            _keys: keys,
            people,
        }
    }

    fn t(&self) -> &TestDir {
        &self.repo.t
    }

    fn recipient(&self, name: &str) -> &str {
        &self.people.iter().find(|p| p.0 == name).unwrap().1
    }

    fn key(&self, name: &str) -> &str {
        self.people
            .iter()
            .find(|p| p.0 == name)
            .unwrap()
            .2
            .to_str()
            .unwrap()
    }

    /// `keys:` naming every member of the fleet.
    fn keys_block(&self) -> String {
        let mut s = String::from("keys:\n");
        for (n, r, _) in &self.people {
            s.push_str(&format!("  {n}: {r}\n"));
        }
        s
    }

    /// Writes `.botsecrets.yaml`: the fleet's `keys:` then `rest`.
    fn rules(&self, rest: &str) {
        self.t()
            .write(".botsecrets.yaml", &format!("{}{rest}", self.keys_block()));
    }

    /// Encrypts `PLAIN` as `name` by its rule.
    fn encrypt(&self, name: &str) {
        self.t().write(name, PLAIN);
        self.repo.bs(&["encrypt", "-i", name]).ok();
    }

    /// The file's recipients as `recipients list` prints them (no key).
    fn listed(&self, name: &str) -> String {
        let r = self.repo.bs(&["recipients", "list", name]);
        r.ok();
        r.stdout()
    }

    /// Whether `who` can decrypt `file`.
    fn reads(&self, who: &str, file: &str) -> bool {
        let r = self
            .repo
            .bs(&["decrypt", "--identity", self.key(who), file]);
        r.leaks_none(if r.0.status.success() { &[] } else { &SECRETS });
        r.0.status.success()
    }
}

#[test]
fn a_rule_names_keys_groups_and_raw_keys_mixed() {
    let f = Fleet::new(&["alice", "bob", "ci", "worker-1"]);
    f.rules(&format!(
        "groups:\n  humans: [alice, bob]\n  bots: [ci, humans]\ncreation_rules:\n  - path_regex: ^prod/\n    age: bots\n  - path_regex: ^dev/\n    age: \"humans, {RECIPIENT1}\"\n  - path_regex: ^split/\n    key_groups:\n      - age: [humans]\n      - age: [worker-1]\n"
    ));
    f.encrypt("prod/a.yaml");
    f.encrypt("dev/a.yaml");
    f.encrypt("split/a.yaml");
    for who in ["alice", "bob", "ci"] {
        assert!(f.reads(who, "prod/a.yaml"), "{who}");
    }
    assert!(!f.reads("worker-1", "prod/a.yaml"));
    assert!(f.reads("bob", "dev/a.yaml") && !f.reads("ci", "dev/a.yaml"));
    assert!(f.t().decrypt("dev/a.yaml").0.status.success());
    // Names in key groups too: group 1 is the humans, group 2 the worker.
    let listed = f.listed("split/a.yaml");
    let (g1, g2) = listed.split_once("group 2:").unwrap();
    assert!(
        g1.contains(f.recipient("alice")) && g1.contains(f.recipient("bob")),
        "{listed}"
    );
    assert!(
        g2.contains(f.recipient("worker-1")) && !g2.contains(f.recipient("alice")),
        "{listed}"
    );
}

#[test]
fn yaml_anchors_and_aliases_work_in_the_rules_file() {
    let f = Fleet::new(&["alice", "bob"]);
    f.rules(
        "creation_rules:\n  - path_regex: ^a/\n    age: &owners [alice, bob]\n    encrypted_regex: &sel ^(url|api_key)$\n  - path_regex: ^b/\n    age: *owners\n    encrypted_regex: *sel\n",
    );
    f.encrypt("b/s.yaml");
    assert!(f.reads("alice", "b/s.yaml") && f.reads("bob", "b/s.yaml"));
    assert!(f
        .t()
        .read("b/s.yaml")
        .contains("encrypted_regex: ^(url|api_key)$"));
}

#[test]
fn name_errors_give_line_and_column() {
    let f = Fleet::new(&["alice"]);
    let t = f.t();
    t.write("s.yaml", PLAIN);
    let cases = [
        (
            "creation_rules:\n  - age: [alice, bobb]\n",
            "line 4, column 18: unknown name \"bobb\": not a name under keys: or groups: (known: alice)",
        ),
        (
            "groups:\n  a: [alice, b]\n  b: [a]\ncreation_rules:\n  - age: a\n",
            "line 4, column 14: groups form a cycle: a -> b -> a",
        ),
        (
            "groups:\n  alice: [alice]\ncreation_rules:\n  - age: alice\n",
            "line 4, column 11: \"alice\" is both a key (line 2) and a group",
        ),
    ];
    for (rest, want) in cases {
        f.rules(rest);
        let r = f.repo.bs(&["encrypt", "s.yaml"]);
        r.fails_with(5).leaks_none(&SECRETS);
        assert!(r.stderr().contains(want), "{want}\n{}", r.stderr());
        assert!(r.stderr().contains(".botsecrets.yaml"), "{}", r.stderr());
    }
    // A name bound to a malformed key.
    t.write(
        ".botsecrets.yaml",
        "keys:\n  bob: age1notakey\ncreation_rules:\n  - age: bob\n",
    );
    let r = f.repo.bs(&["encrypt", "s.yaml"]);
    r.fails_with(5);
    assert!(
        r.stderr().contains("line 2, column 8: invalid recipient"),
        "{}",
        r.stderr()
    );
}

#[test]
fn a_name_bound_to_a_private_key_is_refused_and_never_echoed() {
    let f = Fleet::new(&["alice"]);
    let secret = std::fs::read_to_string(f.key("alice")).unwrap();
    let secret = secret
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap()
        .to_owned();
    f.t().write(
        ".botsecrets.yaml",
        &format!("keys:\n  alice: {secret}\ncreation_rules:\n  - age: alice\n"),
    );
    f.t().write("s.yaml", PLAIN);
    let r = f.repo.bs(&["encrypt", "s.yaml"]);
    r.fails_with(218).leaks_none(&[&secret, &secret[..30]]);
    assert!(r.stderr().contains("line 2, column 10"), "{}", r.stderr());
    // Its public recipient is named instead.
    assert!(r.stderr().contains(f.recipient("alice")), "{}", r.stderr());
}

#[test]
fn sops_yaml_keeps_sops_schema_names_are_refused_with_the_reason() {
    let f = Fleet::new(&["alice"]);
    let t = f.t();
    t.write(
        ".sops.yaml",
        &format!(
            "keys:\n  alice: {}\ncreation_rules:\n  - age: alice\n",
            f.recipient("alice")
        ),
    );
    t.write("s.yaml", PLAIN);
    let r = f.repo.bs(&["encrypt", "s.yaml"]);
    r.fails_with(5);
    assert!(
        r.stderr().contains("line 4, column 10: invalid recipient"),
        "{}",
        r.stderr()
    );
    assert!(
        r.stderr()
            .contains("names from keys: and groups: work in .botsecrets.yaml only"),
        "{}",
        r.stderr()
    );
    // sops agrees: a name is no age recipient to it.
    if let Some(sops) = tool("sops") {
        let out = std::process::Command::new(sops)
            .args(["encrypt", "s.yaml"])
            .current_dir(t.dir.path())
            .env("SOPS_DISABLE_VERSION_CHECK", "1")
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("alice"), "{err}");
    }
}

/// `alice (age1xxxxxx…yyyyyyy)`, as messages abbreviate a named recipient.
fn shown(name: &str, recipient: &str) -> String {
    let head: String = recipient.chars().take(10).collect();
    let tail: String = recipient
        .chars()
        .skip(recipient.chars().count() - 7)
        .collect();
    format!("{name} ({head}…{tail})")
}

#[test]
fn names_show_in_lists_plans_checklists_and_no_identity_errors() {
    let f = Fleet::new(&["alice", "bob", "ci", "stranger"]);
    let (alice, bob, ci) = (f.recipient("alice"), f.recipient("bob"), f.recipient("ci"));
    f.rules("groups:\n  humans: [alice, bob]\ncreation_rules:\n  - age: [humans, ci]\n");
    f.encrypt("a.yaml");
    f.encrypt("b.yaml");
    // recipients list: by name, the key in full.
    assert_eq!(
        f.listed("a.yaml"),
        format!("alice ({alice})\nbob ({bob})\nci ({ci})\n")
    );
    // No identity matches: the file's recipients by name.
    let r = f
        .repo
        .bs(&["decrypt", "--identity", f.key("stranger"), "a.yaml"]);
    r.fails_with(128).leaks_none(&SECRETS);
    assert!(
        r.stderr().contains(&format!(
            "no identity matches this file's recipients: {}, {}, {}",
            shown("alice", alice),
            shown("bob", bob),
            shown("ci", ci)
        )),
        "{}",
        r.stderr()
    );
    // updatekeys plan and --json, after ci leaves the rule.
    f.rules("groups:\n  humans: [alice, bob]\ncreation_rules:\n  - age: [humans]\n");
    let r = f.repo.bs(&["updatekeys", "--dry-run", "a.yaml"]);
    r.ok();
    assert!(
        r.stderr().contains(&format!("  - {}\n", shown("ci", ci))),
        "{}",
        r.stderr()
    );
    let r = f.repo.bs(&["updatekeys", "--dry-run", "--json", "a.yaml"]);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout()).unwrap();
    assert_eq!(doc["files"][0]["removed"][0]["name"], "ci");
    assert_eq!(doc["files"][0]["removed"][0]["recipient"], ci);
    // The checklist after the change names who lost access.
    let r = f.repo.bs(&[
        "updatekeys",
        "--yes",
        "--identity",
        f.key("alice"),
        "a.yaml",
    ]);
    r.ok().leaks_none(&SECRETS);
    assert!(
        r.stderr()
            .contains(&format!("a.yaml: removed {} and rotated", shown("ci", ci))),
        "{}",
        r.stderr()
    );
    assert_eq!(r.stdout(), "- [ ] db.url\n- [ ] weather.api_key\n");
}

#[test]
fn recipients_add_and_remove_take_names_and_groups() {
    let f = Fleet::new(&["alice", "bob", "ci", "worker-1", "worker-2"]);
    let t = f.t();
    f.rules("groups:\n  workers: [worker-1, worker-2]\ncreation_rules:\n  - age: [alice]\n");
    f.encrypt("s.yaml");
    let alice = f.key("alice");
    // add: a name and a group.
    let r = f.repo.bs(&[
        "recipients",
        "add",
        "s.yaml",
        "bob,workers",
        "--identity",
        alice,
    ]);
    r.ok();
    assert!(
        r.stderr().contains(&format!(
            "added {}, {}, {}",
            shown("bob", f.recipient("bob")),
            shown("worker-1", f.recipient("worker-1")),
            shown("worker-2", f.recipient("worker-2"))
        )),
        "{}",
        r.stderr()
    );
    assert!(f.reads("worker-2", "s.yaml") && f.reads("bob", "s.yaml"));
    // remove by name: rotated, the checklist names them.
    let r = f.repo.bs(&[
        "recipients",
        "remove",
        "s.yaml",
        "worker-1",
        "--identity",
        alice,
    ]);
    r.ok().leaks_none(&SECRETS);
    assert!(
        r.stderr().contains(&format!(
            "removed {} and rotated",
            shown("worker-1", f.recipient("worker-1"))
        )),
        "{}",
        r.stderr()
    );
    assert_eq!(r.stdout(), "- [ ] db.url\n- [ ] weather.api_key\n");
    assert!(!f.reads("worker-1", "s.yaml") && f.reads("worker-2", "s.yaml"));
    // An unknown name is refused, the file unchanged.
    let before = t.read("s.yaml");
    let r = f.repo.bs(&[
        "recipients",
        "remove",
        "s.yaml",
        "worker-3",
        "--identity",
        alice,
    ]);
    r.fails_with(111);
    assert!(
        r.stderr().contains("unknown name \"worker-3\""),
        "{}",
        r.stderr()
    );
    assert_eq!(t.read("s.yaml"), before);
    // A private key given as the name is refused, never echoed.
    let secret = std::fs::read_to_string(f.key("bob")).unwrap();
    let secret = secret
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap();
    let r = f.repo.bs(&[
        "recipients",
        "remove",
        "s.yaml",
        secret,
        "--identity",
        alice,
    ]);
    r.fails_with(218).leaks_none(&[secret]);
    assert_eq!(t.read("s.yaml"), before);
}

#[test]
fn recipients_list_takes_several_files_with_names_and_json() {
    let f = Fleet::new(&["alice", "ci"]);
    let (alice, ci) = (f.recipient("alice"), f.recipient("ci"));
    f.rules(&format!(
        "creation_rules:\n  - path_regex: ^a\n    age: [alice, ci]\n  - age: [alice, {RECIPIENT2}]\n"
    ));
    f.encrypt("a.yaml");
    f.encrypt("b.yaml");
    let r = f.repo.bs(&["recipients", "list", "a.yaml", "b.yaml"]);
    r.ok();
    assert_eq!(
        r.stdout(),
        format!(
            "a.yaml:\n  alice ({alice})\n  ci ({ci})\nb.yaml:\n  alice ({alice})\n  {RECIPIENT2}\n"
        )
    );
    let r = f
        .repo
        .bs(&["recipients", "list", "--json", "a.yaml", "b.yaml"]);
    r.ok();
    let doc: serde_json::Value = serde_json::from_str(&r.stdout()).unwrap();
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["file"], "a.yaml");
    assert_eq!(
        files[1]["owners"],
        serde_json::json!([
            {"recipient": alice, "name": "alice", "group": 1},
            {"recipient": RECIPIENT2, "name": null, "group": 1},
        ])
    );
}

#[test]
fn check_reports_drift_by_name_without_a_key() {
    let f = Fleet::new(&["alice", "bob", "ci"]);
    let (bob, ci) = (f.recipient("bob"), f.recipient("ci"));
    f.rules("creation_rules:\n  - path_regex: ^secrets/\n    age: [alice, ci]\n");
    f.encrypt("secrets/a.yaml");
    f.encrypt("secrets/b.yaml");
    f.repo.git(&["add", "-A"]).ok();
    f.repo.bs(&["check"]).ok();
    // CI is removed from the rule, bob added; updatekeys forgotten.
    f.rules("creation_rules:\n  - path_regex: ^secrets/\n    age: [alice, bob]\n");
    f.repo.git(&["add", "-A"]).ok();
    let r = f.repo.bs(&["check"]);
    r.fails_with(210).leaks_none(&SECRETS);
    let out = r.stdout();
    for file in ["secrets/a.yaml", "secrets/b.yaml"] {
        let want = format!(
            "{file}: drift: its recipients differ from rule 1 (line 6, path_regex ^secrets/) of {}: not in the rule: {}; missing: {}",
            f.t().path(".botsecrets.yaml").canonicalize().unwrap().display(),
            shown("ci", ci),
            shown("bob", bob)
        );
        assert!(out.contains(&want), "{want}\n{out}");
    }
    assert!(
        out.contains("fix: `botsecrets updatekeys secrets/a.yaml`"),
        "{out}"
    );
    // --json too.
    let r = f.repo.bs(&["check", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout()).unwrap();
    let drift: Vec<&serde_json::Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "drift")
        .collect();
    assert_eq!(drift.len(), 2, "{doc}");
    // Fixed: check passes again.
    f.repo
        .bs(&[
            "updatekeys",
            "--yes",
            "--identity",
            f.key("alice"),
            "secrets/a.yaml",
            "secrets/b.yaml",
        ])
        .ok();
    f.repo.git(&["add", "-A"]).ok();
    f.repo.bs(&["check"]).ok();
    assert!(!f.reads("ci", "secrets/a.yaml") && f.reads("bob", "secrets/b.yaml"));
}

#[test]
fn updatekeys_check_fails_on_drift_prints_every_plan_and_writes_nothing() {
    let f = Fleet::new(&["alice", "ci"]);
    let t = f.t();
    f.rules("creation_rules:\n  - age: [alice, ci]\n");
    f.encrypt("a.yaml");
    f.encrypt("b.yaml");
    f.encrypt("c.yaml");
    // In step: exit 0, nothing written.
    let r = f.repo.bs(&["updatekeys", "--check", "a.yaml", "b.yaml"]);
    r.ok();
    assert!(
        r.stderr().contains("2 file(s) match their rules"),
        "{}",
        r.stderr()
    );
    f.rules("creation_rules:\n  - age: [alice]\n");
    t.write("plain.yaml", "a: 1\n");
    let before: Vec<String> = ["a.yaml", "b.yaml", "c.yaml"]
        .iter()
        .map(|n| t.read(n))
        .collect();
    let r = f.repo.bs(&[
        "updatekeys",
        "--check",
        "a.yaml",
        "plain.yaml",
        "b.yaml",
        "c.yaml",
    ]);
    r.fails_with(223).leaks_none(&SECRETS);
    let err = r.stderr();
    let minus = format!("  - {}\n", shown("ci", f.recipient("ci")));
    assert_eq!(err.matches(&minus).count(), 3, "{err}");
    for n in ["a.yaml", "b.yaml", "c.yaml"] {
        assert!(
            err.contains(&format!("botsecrets: {n}: to match rule 1")),
            "{err}"
        );
    }
    // The file it cannot handle is reported, the others still planned.
    assert!(err.contains("plain.yaml: not encrypted"), "{err}");
    assert!(
        err.contains("a.yaml, b.yaml, c.yaml: the recipients differ from the rules (drift); nothing was changed"),
        "{err}"
    );
    let after: Vec<String> = ["a.yaml", "b.yaml", "c.yaml"]
        .iter()
        .map(|n| t.read(n))
        .collect();
    assert_eq!(before, after);
    // --dry-run: every plan, exit 0 without a bad file; no terminal and no
    // --yes: every plan, then 209, the bad file reported.
    let r = f
        .repo
        .bs(&["updatekeys", "--dry-run", "a.yaml", "b.yaml", "c.yaml"]);
    r.ok();
    assert_eq!(r.stderr().matches(&minus).count(), 3, "{}", r.stderr());
    let r = t.run_no_tty(
        &["updatekeys", "a.yaml", "plain.yaml", "b.yaml", "c.yaml"],
        &[],
    );
    r.fails_with(209);
    assert_eq!(r.stderr().matches(&minus).count(), 3, "{}", r.stderr());
    assert!(
        r.stderr().contains("plain.yaml: not encrypted"),
        "{}",
        r.stderr()
    );
    let after: Vec<String> = ["a.yaml", "b.yaml", "c.yaml"]
        .iter()
        .map(|n| t.read(n))
        .collect();
    assert_eq!(before, after);
}

#[test]
fn removing_a_person_from_a_group_updates_every_file_whose_rule_uses_it() {
    let f = Fleet::new(&["alice", "bob", "worker-1", "worker-2", "monitor"]);
    let groups = |workers: &str| {
        format!(
            "groups:\n  humans: [alice, bob]\n  workers: [{workers}]\ncreation_rules:\n  - path_regex: ^weather/\n    age: [humans, workers]\n  - path_regex: ^captcha/\n    age: [humans, workers, monitor]\n  - path_regex: ^other/\n    age: [humans]\n"
        )
    };
    f.rules(&groups("worker-1, worker-2"));
    for file in ["weather/s.yaml", "captcha/s.yaml", "other/s.yaml"] {
        f.encrypt(file);
    }
    f.repo.git(&["add", "-A"]).ok();
    f.repo
        .git(&["commit", "-qm", "secrets", "--no-verify"])
        .ok();
    assert!(f.reads("worker-1", "weather/s.yaml") && f.reads("worker-1", "captcha/s.yaml"));
    f.rules(&groups("worker-2"));
    let other = f.t().read("other/s.yaml");
    let files = ["weather/s.yaml", "captcha/s.yaml", "other/s.yaml"];
    let mut args = vec!["updatekeys", "--yes", "--identity", f.key("alice")];
    args.extend(files);
    let r = f.repo.bs(&args);
    r.ok().leaks_none(&SECRETS);
    let who = shown("worker-1", f.recipient("worker-1"));
    assert_eq!(
        r.stderr()
            .matches(&format!("removed {who} and rotated"))
            .count(),
        2,
        "{}",
        r.stderr()
    );
    assert!(
        r.stderr().contains("other/s.yaml: already matches"),
        "{}",
        r.stderr()
    );
    assert_eq!(f.t().read("other/s.yaml"), other);
    for file in ["weather/s.yaml", "captcha/s.yaml"] {
        assert!(!f.reads("worker-1", file), "{file}");
        assert!(f.reads("worker-2", file) && f.reads("bob", file), "{file}");
    }
    assert!(f.reads("monitor", "captcha/s.yaml"));
    let r = f.repo.bs(&[
        "updatekeys",
        "--check",
        "weather/s.yaml",
        "captcha/s.yaml",
        "other/s.yaml",
    ]);
    r.ok();
}

#[test]
fn textconv_and_rotate_notes_name_recipients() {
    let f = Fleet::new(&["alice", "ci"]);
    let (alice, ci) = (f.recipient("alice"), f.recipient("ci"));
    f.rules("creation_rules:\n  - age: [alice, ci]\n");
    f.encrypt("s.yaml");
    // textconv's metadata trailer (what `git diff` shows).
    let r = f.repo.bs(&["git", "textconv", "s.yaml"]);
    r.ok();
    assert!(
        r.stdout()
            .contains(&format!("# recipient: {}\n", shown("alice", alice))),
        "{}",
        r.stdout()
    );
    // rotate keeps the recipients, and names who differs from the rule.
    f.rules("creation_rules:\n  - age: [alice]\n");
    let r = f
        .repo
        .bs(&["rotate", "--identity", f.key("alice"), "s.yaml"]);
    r.ok().leaks_none(&SECRETS);
    assert!(
        r.stderr().contains(&format!(
            "note: s.yaml: its recipients differ from rule 1 (line 5, any file) of {} (not in the rule: {}); run `botsecrets updatekeys s.yaml`",
            f.t().path(".botsecrets.yaml").canonicalize().unwrap().display(),
            shown("ci", ci)
        )),
        "{}",
        r.stderr()
    );
}

#[test]
fn age_flag_takes_names_where_a_rules_file_names_keys() {
    let f = Fleet::new(&["alice", "bob", "ci"]);
    f.rules("groups:\n  humans: [alice, bob]\ncreation_rules:\n  - age: [ci]\n");
    f.t().write("s.yaml", PLAIN);
    f.repo
        .bs(&["encrypt", "-i", "--age", "humans", "s.yaml"])
        .ok();
    assert!(f.reads("alice", "s.yaml") && f.reads("bob", "s.yaml") && !f.reads("ci", "s.yaml"));
    let r = f.repo.bs(&["encrypt", "--age", "carol", "s.yaml"]);
    r.fails_with(111);
    assert!(
        r.stderr().contains("--age: unknown name \"carol\""),
        "{}",
        r.stderr()
    );
    // Without a rules file naming keys, a name is no recipient (as before).
    let t = TestDir::new();
    t.write("s.yaml", PLAIN);
    let r = t.run(&["encrypt", "--age", "humans", "s.yaml"]);
    r.fails_with(111);
    assert!(
        r.stderr().contains("--age: invalid recipient"),
        "{}",
        r.stderr()
    );
}

#[test]
fn updatekeys_no_identity_error_names_the_recipients() {
    let f = Fleet::new(&["alice", "ci", "stranger"]);
    f.rules("creation_rules:\n  - age: [alice, ci]\n");
    f.encrypt("s.yaml");
    f.rules("creation_rules:\n  - age: [alice]\n");
    let before = f.t().read("s.yaml");
    let r = f.repo.bs(&[
        "updatekeys",
        "--yes",
        "--identity",
        f.key("stranger"),
        "s.yaml",
    ]);
    r.fails_with(128).leaks_none(&SECRETS);
    assert!(
        r.stderr().contains(&format!(
            "no identity matches this file's recipients: {}, {}",
            shown("alice", f.recipient("alice")),
            shown("ci", f.recipient("ci"))
        )),
        "{}",
        r.stderr()
    );
    assert_eq!(f.t().read("s.yaml"), before);
}
