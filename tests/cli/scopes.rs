//! Per-bot scopes inside one file (issue 11 items 2, 4 and 5): storage in
//! `sops.botsecrets_scopes`, the seal over it, scope readers' commands
//! (exactly their values; anything else exit 225), owners' writes that
//! keep scopes in step with minimal diffs, sops interop, and revoking a
//! scope reader (only that scope's key changes).

use crate::util::*;

/// Makes a key in the test dir; returns (key file, recipient).
pub fn keygen(t: &TestDir, name: &str) -> (String, String) {
    let file = format!("{name}.key");
    let r = t.run(&["keygen", "-o", &file]);
    r.ok();
    (
        t.path(&file).to_str().unwrap().to_owned(),
        r.stdout().trim().to_owned(),
    )
}

const PLAIN: &str = "db:\n  password: hunter2-db\nsentry:\n  dsn: https://sentry.example/42\nslack:\n  bot_token: xoxb-slack-7\n  channel: ops-room\nweather: wk-weather-1\n";

/// Every secret of PLAIN.
const SECRETS: [&str; 5] = [
    "hunter2-db",
    "https://sentry.example/42",
    "xoxb-slack-7",
    "ops-room",
    "wk-weather-1",
];

struct Fleet {
    t: TestDir,
    owner: String,
    monitor: String,
    monitor_r: String,
    worker: String,
    worker_r: String,
}

fn rules(monitor_r: &str, worker_r: &str, monitor_readers: &str) -> String {
    format!(
        "keys:\n  alice: {RECIPIENT1}\n  monitor: {monitor_r}\n  worker: {worker_r}\ncreation_rules:\n  - path_regex: secrets\\.(yaml|json|env|ini|toml)$\n    age: [{RECIPIENT1}]\n    scopes:\n      monitor: {{ readers: [{monitor_readers}], paths: [sentry.dsn, slack] }}\n      workers: {{ readers: [worker], paths: [weather] }}\n"
    )
}

fn fleet() -> Fleet {
    let t = TestDir::new();
    let (monitor, monitor_r) = keygen(&t, "monitor");
    let (worker, worker_r) = keygen(&t, "worker");
    t.write(".botsecrets.yaml", &rules(&monitor_r, &worker_r, "monitor"));
    t.write("secrets.yaml", PLAIN);
    t.run(&["encrypt", "--in-place", "secrets.yaml"]).ok();
    Fleet {
        owner: key1().to_str().unwrap().to_owned(),
        t,
        monitor,
        monitor_r,
        worker,
        worker_r,
    }
}

/// The `KEY=value` lines `exec` gives `env` that come from the file.
fn exec_env(t: &TestDir, key: &str, file: &str) -> Vec<String> {
    let r = t.run(&[
        "exec",
        "--identity",
        key,
        "--file",
        file,
        "--pristine",
        "--",
        "env",
    ]);
    r.ok();
    let mut vars: Vec<String> = r
        .stdout()
        .lines()
        .filter(|l| {
            ["DB_", "SENTRY_", "SLACK_", "WEATHER"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(str::to_owned)
        .collect();
    vars.sort();
    vars
}

/// The `blob:` line of scope `name` in a YAML file.
fn blob_of(text: &str, name: &str) -> String {
    let at = text
        .find(&format!("- name: {name}\n"))
        .expect("scope stored");
    text[at..]
        .lines()
        .find(|l| l.trim_start().starts_with("blob: "))
        .unwrap()
        .to_owned()
}

#[test]
fn encrypt_stores_each_scope_for_its_readers_only() {
    let f = fleet();
    let text = f.t.read("secrets.yaml");
    assert!(text.contains("  botsecrets_scopes:\n    - name: monitor\n      paths:\n        - sentry.dsn\n        - slack\n      recipients:\n        - recipient: "), "{text}");
    assert!(text.contains(&format!("recipient: {}", f.monitor_r)));
    assert!(text.contains(&format!("recipient: {}", f.worker_r)));
    for s in SECRETS {
        assert!(!text.contains(s));
    }
    // recipients list --json shows the scopes.
    let r = f.t.run(&["recipients", "list", "--json", "secrets.yaml"]);
    let doc: serde_json::Value = serde_json::from_str(&r.ok().stdout()).unwrap();
    assert_eq!(
        doc["scopes"][0],
        serde_json::json!({"name": "monitor", "paths": ["sentry.dsn", "slack"], "readers": [{"recipient": f.monitor_r, "name": "monitor"}]})
    );
    // The owners read everything, as before.
    f.t.decrypt("secrets.yaml").ok();
    assert_eq!(f.t.decrypt("secrets.yaml").stdout(), PLAIN);
}

#[test]
fn a_scope_reader_execs_with_exactly_its_values() {
    let f = fleet();
    assert_eq!(
        exec_env(&f.t, &f.monitor, "secrets.yaml"),
        [
            "SENTRY_DSN=https://sentry.example/42",
            "SLACK_BOT_TOKEN=xoxb-slack-7",
            "SLACK_CHANNEL=ops-room"
        ]
    );
    assert_eq!(
        exec_env(&f.t, &f.worker, "secrets.yaml"),
        ["WEATHER=wk-weather-1"]
    );
    let f_owner = exec_env(&f.t, &f.owner, "secrets.yaml");
    assert_eq!(f_owner.len(), 5, "{f_owner:?}");
}

#[test]
fn a_scope_reader_gets_exports_and_decrypts_only_its_scope() {
    let f = fleet();
    let t = &f.t;
    let r = t.run(&[
        "get",
        "--identity",
        &f.monitor,
        "secrets.yaml",
        "slack.bot_token",
    ]);
    r.ok();
    assert_eq!(r.stdout(), "xoxb-slack-7");
    let r = t.run(&["decrypt", "--identity", &f.monitor, "secrets.yaml"]);
    r.ok();
    assert_eq!(
        r.stdout(),
        "sentry:\n  dsn: \"https://sentry.example/42\"\nslack:\n  bot_token: xoxb-slack-7\n  channel: ops-room\n"
    );
    r.leaks_none(&["hunter2-db", "wk-weather-1"]);
    let r = t.run(&[
        "export",
        "--identity",
        &f.worker,
        "--format",
        "dotenv",
        "secrets.yaml",
    ]);
    r.ok();
    assert_eq!(r.stdout(), "WEATHER=\"wk-weather-1\"\n");
}

#[test]
fn a_scope_reader_asking_for_more_is_refused_with_the_scopes_and_no_values() {
    let f = fleet();
    let t = &f.t;
    let r = t.run(&[
        "get",
        "--identity",
        &f.monitor,
        "secrets.yaml",
        "db.password",
    ]);
    r.fails_with(225).leaks_none(&SECRETS);
    let err = r.stderr();
    assert!(
        err.contains(
            "db.password is outside the scope this identity reads (monitor): it is not an owner"
        ),
        "{err}"
    );
    assert!(
        err.contains(&format!("monitor (read by monitor ({}))", f.monitor_r)),
        "{err}"
    );
    assert!(
        err.contains(&format!("workers (read by worker ({}))", f.worker_r)),
        "{err}"
    );
    let before = t.read("secrets.yaml");
    for args in [
        vec![
            "set",
            "--identity",
            &f.monitor,
            "secrets.yaml",
            "sentry.dsn",
            "x",
        ],
        vec![
            "unset",
            "--identity",
            &f.monitor,
            "secrets.yaml",
            "sentry.dsn",
        ],
        vec!["rotate", "--identity", &f.monitor, "secrets.yaml"],
        vec![
            "decrypt",
            "--in-place",
            "--identity",
            &f.monitor,
            "secrets.yaml",
        ],
    ] {
        let r = t.run(&args);
        r.fails_with(225).leaks_none(&SECRETS);
        assert!(
            r.stderr()
                .contains("this identity reads only the scope monitor of this file"),
            "{args:?}: {}",
            r.stderr()
        );
    }
    let r = t.run_stdin(&["edit", "--identity", &f.monitor, "secrets.yaml"], "");
    r.fails_with(225).leaks_none(&SECRETS);
    assert_eq!(t.read("secrets.yaml"), before);
}

#[test]
fn owners_writes_keep_scopes_in_step_and_unchanged_scopes_byte_for_byte() {
    let f = fleet();
    let t = &f.t;
    let before = t.read("secrets.yaml");
    // A value outside every scope: no blob changes.
    t.run(&[
        "set",
        "--identity",
        &f.owner,
        "secrets.yaml",
        "db.password",
        "pw-2",
    ])
    .ok();
    let after = t.read("secrets.yaml");
    assert_eq!(blob_of(&before, "monitor"), blob_of(&after, "monitor"));
    assert_eq!(blob_of(&before, "workers"), blob_of(&after, "workers"));
    // A value of the monitor scope: only the monitor blob changes.
    t.run(&[
        "set",
        "--identity",
        &f.owner,
        "secrets.yaml",
        "slack.channel",
        "ops-2",
    ])
    .ok();
    let third = t.read("secrets.yaml");
    assert_ne!(blob_of(&after, "monitor"), blob_of(&third, "monitor"));
    assert_eq!(blob_of(&after, "workers"), blob_of(&third, "workers"));
    let r = t.run(&[
        "get",
        "--identity",
        &f.monitor,
        "secrets.yaml",
        "slack.channel",
    ]);
    assert_eq!(r.stdout(), "ops-2");
    // unset of a scoped key whose scope path then names nothing.
    let r = t.run(&["unset", "--identity", &f.owner, "secrets.yaml", "weather"]);
    r.fails_with(5).leaks_none(&SECRETS);
    assert!(
        r.stderr()
            .contains("scope workers: the path weather matches no key in the file"),
        "{}",
        r.stderr()
    );
}

#[test]
fn scope_paths_that_name_nothing_or_leave_the_data_are_refused_at_encrypt_time() {
    let t = TestDir::new();
    for (paths, message) in [
        (
            "[db.pasword]",
            "scope s: the path db.pasword matches no key in the file",
        ),
        (
            "[sops.mac]",
            "scope s: the path sops.mac is outside the file's data",
        ),
    ] {
        t.write(
            ".botsecrets.yaml",
            &format!("creation_rules:\n  - age: [{RECIPIENT1}]\n    scopes:\n      s: {{ readers: [{RECIPIENT2}], paths: {paths} }}\n"),
        );
        t.write("s.yaml", PLAIN);
        let r = t.run(&["encrypt", "s.yaml"]);
        r.fails_with(5).leaks_none(&SECRETS);
        assert!(r.stderr().contains(message), "{}", r.stderr());
        assert_eq!(t.read("s.yaml"), PLAIN);
    }
}

#[test]
fn the_seal_covers_scope_readers_paths_and_blobs() {
    let f = fleet();
    let t = &f.t;
    let text = t.read("secrets.yaml");
    // A writer without the key widens a scope, or swaps the blobs.
    let widened = text.replace("        - slack\n", "        - slack\n        - db\n");
    let swapped = {
        let (m, w) = (blob_of(&text, "monitor"), blob_of(&text, "workers"));
        text.replace(&m, "@@").replace(&w, &m).replace("@@", &w)
    };
    for tampered in [widened, swapped] {
        assert_ne!(tampered, text);
        t.write("secrets.yaml", &tampered);
        let r = t.decrypt("secrets.yaml");
        r.fails_with(213).leaks_none(&SECRETS);
    }
}

#[test]
fn scopes_work_in_every_format() {
    let f = fleet();
    let t = &f.t;
    for (name, plain, path, want) in [
        (
            "secrets.json",
            "{\n  \"weather\": \"wk-weather-1\",\n  \"db\": {\"password\": \"x\"}\n}\n",
            "weather",
            "wk-weather-1",
        ),
        (
            "secrets.env",
            "weather=wk-weather-1\nDB=x\n",
            "weather",
            "wk-weather-1",
        ),
        (
            "secrets.toml",
            "weather = \"wk-weather-1\"\n[db]\npassword = \"x\"\n",
            "weather",
            "wk-weather-1",
        ),
        (
            "secrets.ini",
            "[weather]\nkey = wk-weather-1\n[db]\npassword = x\n",
            "weather.key",
            "wk-weather-1",
        ),
    ] {
        t.write(
            ".botsecrets.yaml",
            &format!(
                "keys:\n  worker: {}\ncreation_rules:\n  - age: [{RECIPIENT1}]\n    scopes:\n      workers: {{ readers: [worker], paths: [weather] }}\n",
                f.worker_r
            ),
        );
        t.write(name, plain);
        t.run(&["encrypt", "--in-place", name]).ok();
        let r = t.run(&["get", "--identity", &f.worker, name, path]);
        r.ok();
        assert_eq!(r.stdout(), want, "{name}");
        t.run(&["get", "--identity", &f.worker, name, "db.password"])
            .fails_with(225);
        assert_eq!(t.decrypt(name).ok().stdout(), plain, "{name}");
    }
}

#[test]
fn sops_reads_a_scoped_file_and_drops_the_scopes_which_updatekeys_restores() {
    let Some(sops) = tool("sops") else { return };
    let f = fleet();
    let t = &f.t;
    let out = sops_env(
        &sops,
        &[("SOPS_AGE_KEY_FILE", &f.owner)],
        &["decrypt", t.path("secrets.yaml").to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let data = String::from_utf8(out.stdout).unwrap();
    for s in SECRETS {
        assert!(data.contains(s), "{data}");
    }
    // sops rewrites the file: the scopes (and the seal) are gone.
    let out = sops_env(
        &sops,
        &[("SOPS_AGE_KEY_FILE", &f.owner)],
        &[
            "set",
            t.path("secrets.yaml").to_str().unwrap(),
            "[\"db\"][\"password\"]",
            "\"pw-sops\"",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = t.read("secrets.yaml");
    assert!(!text.contains("botsecrets_scopes"), "{text}");
    t.run(&["get", "--identity", &f.worker, "secrets.yaml", "weather"])
        .fails_with(128);
    let r = t.run(&["updatekeys", "--dry-run", "secrets.yaml"]);
    r.ok();
    assert!(
        r.stderr().contains("scopes dropped by another tool"),
        "{}",
        r.stderr()
    );
    t.run(&[
        "updatekeys",
        "--yes",
        "--identity",
        &f.owner,
        "secrets.yaml",
    ])
    .ok();
    let r = t.run(&["get", "--identity", &f.worker, "secrets.yaml", "weather"]);
    r.ok();
    assert_eq!(r.stdout(), "wk-weather-1");
    let r = t.run(&["get", "--identity", &f.owner, "secrets.yaml", "db.password"]);
    assert_eq!(r.ok().stdout(), "pw-sops");
}

#[test]
fn removing_a_scope_reader_rotates_only_that_scopes_key() {
    let f = fleet();
    let t = &f.t;
    // Two monitors; then the second is removed from the rule.
    let (second, second_r) = keygen(t, "second");
    t.write(
        ".botsecrets.yaml",
        &rules(&f.monitor_r, &f.worker_r, &format!("monitor, {second_r}")),
    );
    t.run(&[
        "updatekeys",
        "--yes",
        "--identity",
        &f.owner,
        "secrets.yaml",
    ])
    .ok();
    let before = t.read("secrets.yaml");
    assert_eq!(
        t.run(&["get", "--identity", &second, "secrets.yaml", "sentry.dsn"])
            .ok()
            .stdout(),
        "https://sentry.example/42"
    );
    t.write(
        ".botsecrets.yaml",
        &rules(&f.monitor_r, &f.worker_r, "monitor"),
    );
    // --json: the same checklist, before anything is written.
    let r = t.run(&["updatekeys", "--dry-run", "--json", "secrets.yaml"]);
    let doc: serde_json::Value = serde_json::from_str(&r.ok().stdout()).unwrap();
    assert_eq!(
        doc["files"][0]["scope_revocations"],
        serde_json::json!([{
            "scope": "monitor",
            "removed": [second_r],
            "secrets": ["sentry.dsn", "slack.bot_token", "slack.channel"],
        }])
    );
    assert_eq!(t.read("secrets.yaml"), before);
    let r = t.run(&[
        "updatekeys",
        "--yes",
        "--identity",
        &f.owner,
        "secrets.yaml",
    ]);
    r.ok().leaks_none(&SECRETS);
    // The checklist: only the monitor scope's secrets, then a summary.
    assert_eq!(
        r.stdout(),
        "- [ ] sentry.dsn\n- [ ] slack.bot_token\n- [ ] slack.channel\n"
    );
    let err = r.stderr();
    assert!(
        err.contains(&format!(
            "removed {second_r} from scope monitor and gave the scope a new key (the file's data key is unchanged)"
        )),
        "{err}"
    );
    assert!(
        err.contains("secrets.yaml: 3 secret(s) to rotate for 1 revoked scope reader(s)"),
        "{err}"
    );
    let after = t.read("secrets.yaml");
    // The file's data key is untouched: every value and its wrapping keep
    // their bytes; the workers scope too; the monitor scope has a new key.
    assert_eq!(enc_lines(&before)[..5], enc_lines(&after)[..5]);
    let main_stanza =
        |s: &str| s[s.find("  age:").unwrap()..s.find("  lastmodified").unwrap()].to_owned();
    assert_eq!(main_stanza(&before), main_stanza(&after));
    assert_eq!(blob_of(&before, "workers"), blob_of(&after, "workers"));
    assert_ne!(blob_of(&before, "monitor"), blob_of(&after, "monitor"));
    assert!(!after.contains(&second_r));
    t.run(&["get", "--identity", &second, "secrets.yaml", "sentry.dsn"])
        .fails_with(128)
        .leaks_none(&SECRETS);
    assert_eq!(
        t.run(&[
            "get",
            "--identity",
            &f.monitor,
            "secrets.yaml",
            "sentry.dsn"
        ])
        .ok()
        .stdout(),
        "https://sentry.example/42"
    );
}

#[test]
fn an_owner_exports_one_scope_for_its_bot() {
    let f = fleet();
    let t = &f.t;
    let r = t.run(&[
        "export",
        "--identity",
        &f.owner,
        "--scope",
        "monitor",
        "--format",
        "k8s-secret",
        "--name",
        "monitor",
        "secrets.yaml",
    ]);
    r.ok().leaks_none(&SECRETS);
    assert_eq!(
        r.stdout(),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: \"monitor\"\ntype: Opaque\ndata:\n  \"SENTRY_DSN\": \"aHR0cHM6Ly9zZW50cnkuZXhhbXBsZS80Mg==\"\n  \"SLACK_BOT_TOKEN\": \"eG94Yi1zbGFjay03\"\n  \"SLACK_CHANNEL\": \"b3BzLXJvb20=\"\n"
    );
    let r = t.run(&[
        "export",
        "--identity",
        &f.owner,
        "--scope",
        "workers",
        "--format",
        "json",
        "secrets.yaml",
    ]);
    assert_eq!(r.ok().stdout(), "{\n  \"WEATHER\": \"wk-weather-1\"\n}\n");
    let r = t.run(&[
        "export",
        "--identity",
        &f.owner,
        "--scope",
        "nope",
        "--format",
        "json",
        "secrets.yaml",
    ]);
    r.fails_with(1).leaks_none(&SECRETS);
    assert!(
        r.stderr()
            .contains("the file has no scope \"nope\"; its scopes: monitor, workers"),
        "{}",
        r.stderr()
    );
}

#[test]
fn rotate_edit_and_the_merge_driver_keep_scopes_in_step() {
    let f = fleet();
    let t = &f.t;
    let get = |key: &str, path: &str| {
        t.run(&["get", "--identity", key, "secrets.yaml", path])
            .ok()
            .stdout()
    };
    // rotate: a new data key, so every scope gets a new key too; the
    // readers keep reading.
    let before = t.read("secrets.yaml");
    t.run(&["rotate", "--identity", &f.owner, "secrets.yaml"])
        .ok();
    let rotated = t.read("secrets.yaml");
    assert_ne!(blob_of(&before, "monitor"), blob_of(&rotated, "monitor"));
    assert_ne!(blob_of(&before, "workers"), blob_of(&rotated, "workers"));
    assert_eq!(get(&f.monitor, "sentry.dsn"), "https://sentry.example/42");
    assert_eq!(get(&f.worker, "weather"), "wk-weather-1");
    // edit: the edited scoped value reaches its readers; the other scope
    // keeps its bytes.
    let out = t
        .cmd()
        .args(["edit", "--identity", &f.owner, "secrets.yaml"])
        .env("EDITOR", editor("replace.sh"))
        .env("EDIT_FROM", "ops-room")
        .env("EDIT_TO", "ops-edited")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let edited = t.read("secrets.yaml");
    assert_eq!(get(&f.monitor, "slack.channel"), "ops-edited");
    assert_eq!(blob_of(&rotated, "workers"), blob_of(&edited, "workers"));
    // The merge driver: ours changes an unscoped value, theirs a monitor
    // value; the merged monitor scope is theirs byte for byte, the workers
    // scope the base's.
    t.write("base.yaml", &edited);
    t.write("ours.yaml", &edited);
    t.write("theirs.yaml", &edited);
    let set = |file: &str, path: &str, value: &str| {
        t.run(&["set", "--identity", &f.owner, file, path, value])
            .ok();
    };
    set("ours.yaml", "db.password", "pw-ours");
    set("theirs.yaml", "slack.bot_token", "xoxb-theirs");
    let theirs = t.read("theirs.yaml");
    let r = t
        .cmd()
        .args([
            "git",
            "merge",
            "base.yaml",
            "ours.yaml",
            "theirs.yaml",
            "secrets.yaml",
        ])
        .env("BOTSECRETS_AGE_KEY_FILE", &f.owner)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let merged = t.read("ours.yaml");
    assert_eq!(blob_of(&merged, "monitor"), blob_of(&theirs, "monitor"));
    assert_eq!(blob_of(&merged, "workers"), blob_of(&edited, "workers"));
    t.write("secrets.yaml", &merged);
    assert_eq!(get(&f.monitor, "slack.bot_token"), "xoxb-theirs");
    // A scope reader's merge falls back to git's line merge, as without a
    // key (it cannot write the file), instead of failing.
    t.write("ours.yaml", &merged);
    let r = t
        .cmd()
        .args([
            "git",
            "merge",
            "ours.yaml",
            "ours.yaml",
            "ours.yaml",
            "secrets.yaml",
        ])
        .env("BOTSECRETS_AGE_KEY_FILE", &f.monitor)
        .output()
        .unwrap();
    let r = Run(r);
    r.ok().leaks_none(&SECRETS);
    assert!(
        r.stderr()
            .contains("none of your identities opens the base version; falling back"),
        "{}",
        r.stderr()
    );
    assert_eq!(get(&f.owner, "db.password"), "pw-ours");
}

#[test]
fn recipients_remove_of_a_scope_reader_rotates_only_its_scope() {
    let f = fleet();
    let t = &f.t;
    let before = t.read("secrets.yaml");
    let r = t.run(&[
        "recipients",
        "remove",
        "--identity",
        &f.owner,
        "secrets.yaml",
        &f.worker_r,
    ]);
    r.ok().leaks_none(&SECRETS);
    assert_eq!(r.stdout(), "- [ ] weather\n");
    let err = r.stderr();
    assert!(
        err.contains("secrets.yaml: 1 secret(s) to rotate for 1 revoked scope reader(s)"),
        "{err}"
    );
    assert!(
        err.contains("is still a recipient in its creation rule"),
        "{err}"
    );
    let after = t.read("secrets.yaml");
    assert_eq!(enc_lines(&before)[..5], enc_lines(&after)[..5]);
    assert_eq!(blob_of(&before, "monitor"), blob_of(&after, "monitor"));
    assert_ne!(blob_of(&before, "workers"), blob_of(&after, "workers"));
    t.run(&["get", "--identity", &f.worker, "secrets.yaml", "weather"])
        .fails_with(128)
        .leaks_none(&SECRETS);
    // The rule still names the worker: check would flag it, updatekeys
    // brings it back.
    let r = t.run(&["updatekeys", "--dry-run", "secrets.yaml"]);
    assert!(
        r.ok().stderr().contains(&format!(
            "scope workers readers missing from the file: {}",
            f.worker_r
        )),
        "{}",
        r.stderr()
    );
}

#[test]
fn sops_reads_scoped_files_of_every_format_and_rotate_drops_the_scopes() {
    let Some(bin) = tool("sops") else { return };
    let t = TestDir::new();
    t.write(
        ".botsecrets.yaml",
        &format!("creation_rules:\n  - age: [{RECIPIENT1}]\n    scopes:\n      w: {{ readers: [{RECIPIENT2}], paths: [weather] }}\n"),
    );
    for (name, plain) in [
        ("s.yaml", "weather: wk-1\ndb: x\n"),
        ("s.json", "{\"weather\": \"wk-1\", \"db\": \"x\"}\n"),
        ("s.env", "weather=wk-1\ndb=x\n"),
        ("s.ini", "[weather]\nk = wk-1\n[db]\np = x\n"),
    ] {
        t.write(name, plain);
        t.run(&["encrypt", "--in-place", name]).ok();
        assert!(t.read(name).contains("botsecrets_scopes"), "{name}");
        let out = sops(&bin, &key1(), &["decrypt", t.path(name).to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("wk-1"),
            "{name}"
        );
    }
    let out = sops(
        &bin,
        &key1(),
        &["rotate", "-i", t.path("s.yaml").to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!t.read("s.yaml").contains("botsecrets_scopes"));
}

#[test]
fn the_diff_summary_shows_the_scopes_and_a_reader_sees_no_values() {
    let f = fleet();
    let t = &f.t;
    let r = t
        .cmd()
        .args(["git", "textconv", "secrets.yaml"])
        .env("BOTSECRETS_AGE_KEY_FILE", &f.monitor)
        .output()
        .unwrap();
    let r = Run(r);
    r.ok().leaks_none(&SECRETS);
    let out = r.stdout();
    assert!(
        out.contains(&format!(
            "scope monitor: paths sentry.dsn, slack; readers monitor ({}",
            &f.monitor_r[..10]
        )),
        "{out}"
    );
    assert!(
        out.contains("seal: not checked (this identity reads only a scope of the file)"),
        "{out}"
    );
    assert_eq!(r.stderr(), "");
}

#[test]
fn scope_mistakes_in_the_rules_file_name_line_and_column() {
    let t = TestDir::new();
    t.write("s.yaml", PLAIN);
    for (scope, message) in [
        (
            "{ readers: [nobody], paths: [db] }",
            "line 5, column 30: unknown name \"nobody\": not a name under keys: or groups: (known: alice)",
        ),
        (
            "{ readers: [alice], paths: [] }",
            "line 5, column 30: scope s needs paths: a non-empty list",
        ),
        (
            "{ readers: [alice], paths: [db], writers: [alice] }",
            "line 5, column 61: unknown key \"writers\" in scope s; expected readers, paths",
        ),
        (
            "{ readers: [alice], paths: [\"db..x\"] }",
            "line 5, column 46: scope s: \"db..x\": invalid key path \"db..x\": empty key between dots",
        ),
    ] {
        t.write(
            ".botsecrets.yaml",
            &format!("keys:\n  alice: {RECIPIENT2}\ncreation_rules:\n  - age: [{RECIPIENT1}]\n    scopes: {{ s: {scope} }}\n"),
        );
        let r = t.run(&["encrypt", "s.yaml"]);
        r.fails_with(5).leaks_none(&SECRETS);
        assert!(r.stderr().contains(message), "{scope}: {}", r.stderr());
    }
}

#[test]
fn check_reports_scopes_a_sops_rewrite_dropped() {
    let Some(bin) = tool("sops") else { return };
    let repo = crate::conveniences::Repo::new();
    let (_, worker_r) = keygen(&TestDir::new(), "worker");
    repo.t.write(
        ".botsecrets.yaml",
        &format!("creation_rules:\n  - path_regex: \\.yaml$\n    age: [{RECIPIENT1}]\n    scopes:\n      workers: {{ readers: [{worker_r}], paths: [weather] }}\n"),
    );
    repo.t.write("secrets.yaml", PLAIN);
    repo.bs(&["encrypt", "--in-place", "secrets.yaml"]).ok();
    repo.git(&["add", "."]).ok();
    repo.bs(&["check"]).ok();
    let out = sops(
        &bin,
        &key1(),
        &[
            "set",
            repo.t.path("secrets.yaml").to_str().unwrap(),
            "[\"weather\"]",
            "\"wk-2\"",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = repo.bs(&["check"]);
    r.fails_with(210).leaks_none(&SECRETS);
    let all = format!("{}{}", r.stdout(), r.stderr());
    assert!(
        all.contains("scopes dropped by another tool (sops rewrote the file)"),
        "{all}"
    );
    assert!(all.contains("botsecrets updatekeys secrets.yaml"), "{all}");
}

#[test]
fn a_scope_readers_exec_never_needs_the_files_data_key() {
    let f = fleet();
    let t = &f.t;
    // Break the owner's wrapped data key (a keyless writer can; the seal
    // does not cover wrapped keys): owners are locked out, the scope's
    // readers are not, because they never unwrap the file's data key.
    let text = t.read("secrets.yaml");
    let at = text.find("  age:\n").unwrap();
    let line = text[at..]
        .lines()
        .find(|l| l.trim().starts_with("YWdl"))
        .unwrap()
        .to_owned();
    let broken = text.replacen(&line, &line.replace('Y', "Z"), 1);
    assert_ne!(broken, text);
    t.write("secrets.yaml", &broken);
    assert_ne!(t.decrypt("secrets.yaml").code(), 0);
    assert_eq!(
        exec_env(t, &f.worker, "secrets.yaml"),
        ["WEATHER=wk-weather-1"]
    );
}

/// A revocation through `updatekeys --yes --json`: stdout is one JSON
/// document naming, per file, the secrets to rotate (not mixed with the
/// text checklist), and stderr ends with a one-line summary.
#[test]
fn updatekeys_json_revocation_lists_the_secrets_and_sums_up() {
    let f = fleet();
    f.t.write("other.yaml", "api: tok-other-9\n");
    f.t.run(&[
        "encrypt",
        "--age",
        &format!("{RECIPIENT1},{RECIPIENT2}"),
        "-i",
        "other.yaml",
    ])
    .ok();
    // The rules drop the worker from its scope (secrets.yaml; the monitor
    // reads it instead), and key2 as an owner of other.yaml (its own rule).
    f.t.write(
        ".botsecrets.yaml",
        &format!(
            "{}  - path_regex: other\\.yaml$\n    age: [{RECIPIENT1}]\n",
            rules(&f.monitor_r, &f.worker_r, "monitor")
                .replace("readers: [worker]", "readers: [monitor]")
        ),
    );
    let r = f.t.run(&[
        "updatekeys",
        "--yes",
        "--json",
        "--identity",
        &f.owner,
        "secrets.yaml",
        "other.yaml",
    ]);
    r.ok().leaks_none(&SECRETS).leaks_none(&["tok-other-9"]);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout())
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", r.stdout()));
    let files = doc["files"].as_array().unwrap();
    assert_eq!(
        files[0]["scope_revocations"][0]["secrets"],
        serde_json::json!(["weather"])
    );
    assert_eq!(files[0]["secrets_to_rotate"], serde_json::json!([]));
    assert_eq!(files[1]["secrets_to_rotate"], serde_json::json!(["api"]));
    let err = r.stderr();
    assert!(
        err.contains("other.yaml: 1 secret(s) to rotate for 1 removed recipient(s)"),
        "{err}"
    );
    assert!(
        err.trim_end().ends_with(
            "botsecrets: updatekeys: 2 file(s) updated, 2 secret(s) to rotate at their providers"
        ),
        "{err}"
    );
    // The worker lost its scope, key2 the other file.
    f.t.run(&["get", "--identity", &f.worker, "secrets.yaml", "weather"])
        .fails_with(128);
    f.t.run(&[
        "decrypt",
        "--identity",
        key2().to_str().unwrap(),
        "other.yaml",
    ])
    .fails_with(128);
}
