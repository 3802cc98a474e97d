//! The access plan in the CLI (issue 16): `updatekeys` shows every file's
//! plan before stopping, keeps going past a file it cannot handle,
//! `--dry-run` (and `--json`) change nothing, and `recipients list --json`.

use crate::util::*;

const PLAIN: &str = "weather:\n  api_key: wk-123\nslack:\n  token: xoxb-9\n";

/// Two files encrypted for both test keys, and a rule naming only key 1.
fn two_files_one_rule(t: &TestDir) {
    for f in ["a.yaml", "b.yaml"] {
        t.write(f, PLAIN);
        t.run(&[
            "encrypt",
            "--age",
            &format!("{RECIPIENT1},{RECIPIENT2}"),
            "-i",
            f,
        ])
        .ok();
    }
    t.write(
        ".botsecrets.yaml",
        &format!("creation_rules:\n  - age: {RECIPIENT1}\n"),
    );
}

#[test]
fn updatekeys_without_a_terminal_shows_every_plan_then_stops() {
    let t = TestDir::new();
    two_files_one_rule(&t);
    let (a, b) = (t.read("a.yaml"), t.read("b.yaml"));
    let r = t.run_no_tty(&["updatekeys", "a.yaml", "b.yaml"], &[]);
    r.fails_with(209);
    let err = r.stderr();
    // Both plans, not only the first file's.
    assert!(err.contains("botsecrets: a.yaml: to match rule 1"), "{err}");
    assert!(err.contains("botsecrets: b.yaml: to match rule 1"), "{err}");
    assert_eq!(
        err.matches(&format!("  - {RECIPIENT2}")).count(),
        2,
        "{err}"
    );
    assert!(
        err.contains("botsecrets: a.yaml, b.yaml: not changed: confirmation needed"),
        "{err}"
    );
    assert_eq!((t.read("a.yaml"), t.read("b.yaml")), (a, b));
}

#[test]
fn updatekeys_reports_a_file_it_cannot_handle_and_plans_the_rest() {
    let t = TestDir::new();
    two_files_one_rule(&t);
    t.write("plain.yaml", "a: 1\n");
    let r = t.run(&[
        "updatekeys",
        "--yes",
        "--identity",
        key1().to_str().unwrap(),
        "plain.yaml",
        "a.yaml",
    ]);
    // The unencrypted file's error and exit code; a.yaml still updated.
    r.fails_with(204);
    assert!(
        r.stderr().contains("plain.yaml: not encrypted"),
        "{}",
        r.stderr()
    );
    assert!(
        r.stderr().contains("a.yaml: to match rule 1"),
        "{}",
        r.stderr()
    );
    assert_eq!(r.stdout(), "- [ ] weather.api_key\n- [ ] slack.token\n");
    t.run(&["decrypt", "--identity", key2().to_str().unwrap(), "a.yaml"])
        .fails_with(128);
}

#[test]
fn updatekeys_dry_run_prints_plans_and_writes_nothing() {
    let t = TestDir::new();
    two_files_one_rule(&t);
    let a = t.read("a.yaml");
    let r = t.run_no_tty(&["updatekeys", "--dry-run", "a.yaml"], &[]);
    r.ok();
    assert!(
        r.stderr().contains(&format!("  - {RECIPIENT2}")),
        "{}",
        r.stderr()
    );
    assert!(r.stderr().contains("the data key will be rotated"));
    assert_eq!(t.read("a.yaml"), a);

    let r = t.run_no_tty(
        &["updatekeys", "--dry-run", "--json", "a.yaml", "b.yaml"],
        &[],
    );
    r.ok();
    let doc: serde_json::Value = serde_json::from_str(&r.stdout()).unwrap();
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["file"], "a.yaml");
    assert_eq!(files[0]["rotate"], true);
    assert_eq!(files[0]["removed"][0]["recipient"], RECIPIENT2);
    assert_eq!(files[0]["lose_access"][0], RECIPIENT2);
    assert_eq!(files[0]["added"], serde_json::json!([]));
    assert_eq!(t.read("a.yaml"), a);
}

#[test]
fn updatekeys_json_needs_dry_run() {
    let t = TestDir::new();
    two_files_one_rule(&t);
    t.run(&["updatekeys", "--json", "a.yaml"]).fails_with(1);
}

#[test]
fn recipients_list_json() {
    let t = TestDir::new();
    two_files_one_rule(&t);
    let r = t.run(&["recipients", "list", "--json", "a.yaml"]);
    r.ok();
    let doc: serde_json::Value = serde_json::from_str(&r.stdout()).unwrap();
    assert_eq!(
        doc,
        serde_json::json!({
            "file": "a.yaml",
            "groups": [[RECIPIENT1, RECIPIENT2]],
            "owners": [
                {"recipient": RECIPIENT1, "name": null, "group": 1},
                {"recipient": RECIPIENT2, "name": null, "group": 1},
            ],
            "threshold": 0,
            "foreign": [],
        })
    );
}
