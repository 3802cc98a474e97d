//! A fleet in a real git repository (issue 11, "How to show it"): two
//! humans, CI and an orchestrator own the file; a monitor and two workers
//! each read only their scope. Each bot execs with exactly its values,
//! owners and sops read everything, `check` catches scope drift, and a
//! worker removed from the workers scope loses access to new versions while
//! the other keeps it; the checklist lists only the workers' values.

use crate::conveniences::Repo;
use crate::scopes::keygen;
use crate::util::*;

const PLAIN: &str = "db:\n  url: postgres://app:pw-db-1@db/app\nsentry:\n  dsn: https://k-sentry@o1.ingest/2\nslack:\n  bot_token: xoxb-fleet-3\nweather:\n  api_key: wk-fleet-4\ncaptcha:\n  secret: cs-fleet-5\n";

const SECRETS: [&str; 5] = [
    "postgres://app:pw-db-1@db/app",
    "https://k-sentry@o1.ingest/2",
    "xoxb-fleet-3",
    "wk-fleet-4",
    "cs-fleet-5",
];

struct Keys {
    /// (key file, recipient) per member, outside the repository.
    alice: (String, String),
    bob: (String, String),
    ci: (String, String),
    orchestrator: (String, String),
    worker1: (String, String),
    worker2: (String, String),
    monitor: (String, String),
}

fn rules(k: &Keys, workers: &str) -> String {
    format!(
        "keys:\n  alice: {}\n  bob: {}\n  ci: {}\n  orchestrator: {}\n  worker-1: {}\n  worker-2: {}\n  monitor: {}\ngroups:\n  humans: [alice, bob]\n  workers: [{workers}]\ncreation_rules:\n  - path_regex: ^secrets/.*\\.yaml$\n    age: [humans, ci, orchestrator]\n    scopes:\n      monitor: {{ readers: [monitor], paths: [sentry.dsn, slack.bot_token] }}\n      workers: {{ readers: [workers], paths: [weather, captcha] }}\n",
        k.alice.1,
        k.bob.1,
        k.ci.1,
        k.orchestrator.1,
        k.worker1.1,
        k.worker2.1,
        k.monitor.1,
    )
}

/// The variables `exec` gives `env` from the file, sorted.
fn exec_vars(repo: &Repo, key: &str) -> Vec<String> {
    let r = repo.bs(&[
        "exec",
        "--identity",
        key,
        "--file",
        "secrets/app.yaml",
        "--pristine",
        "--",
        "env",
    ]);
    r.ok();
    let mut vars: Vec<String> = r
        .stdout()
        .lines()
        .filter(|l| {
            ["DB_", "SENTRY_", "SLACK_", "WEATHER_", "CAPTCHA_"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(str::to_owned)
        .collect();
    vars.sort();
    vars
}

#[test]
fn a_fleet_reads_by_scope_and_a_removed_worker_loses_new_versions() {
    let keys_dir = TestDir::new();
    let k = Keys {
        alice: keygen(&keys_dir, "alice"),
        bob: keygen(&keys_dir, "bob"),
        ci: keygen(&keys_dir, "ci"),
        orchestrator: keygen(&keys_dir, "orchestrator"),
        worker1: keygen(&keys_dir, "worker-1"),
        worker2: keygen(&keys_dir, "worker-2"),
        monitor: keygen(&keys_dir, "monitor"),
    };
    let repo = Repo::new();
    repo.t
        .write(".botsecrets.yaml", &rules(&k, "worker-1, worker-2"));
    repo.t.write("secrets/app.yaml", PLAIN);
    repo.bs(&["encrypt", "--in-place", "secrets/app.yaml"]).ok();
    repo.git(&["add", "."]).ok();
    repo.git(&["commit", "-qm", "secrets", "--no-verify"]).ok();
    repo.bs(&["check"]).ok().leaks_none(&SECRETS);
    // A scope reader's audit compares by ciphertext, as without a key,
    // not as if the file failed to verify.
    let r = repo.bs(&["audit", "--identity", &k.monitor.0, "secrets/app.yaml"]);
    r.ok().leaks_none(&SECRETS);
    assert!(
        !r.stderr().contains("did not parse or verify"),
        "{}",
        r.stderr()
    );

    // An owner's audit names, per secret, the owners and only the scope
    // readers whose scope covers it.
    let r = repo.bs(&[
        "audit",
        "--json",
        "--identity",
        &k.alice.0,
        "secrets/app.yaml",
    ]);
    let doc: serde_json::Value =
        serde_json::from_str(&r.ok().leaks_none(&SECRETS).stdout()).unwrap();
    let readers_of = |path: &str| -> Vec<String> {
        let secret = doc["files"][0]["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["path"] == path)
            .unwrap_or_else(|| panic!("no {path} in {doc}"));
        secret["readers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| match r["scope"].as_str() {
                Some(scope) => format!("{}@{scope}", r["name"].as_str().unwrap()),
                None => r["name"].as_str().unwrap().to_owned(),
            })
            .collect()
    };
    let owners = ["alice", "bob", "ci", "orchestrator"];
    assert_eq!(readers_of("db.url"), owners);
    assert_eq!(
        readers_of("sentry.dsn"),
        [&owners[..], &["monitor@monitor"]].concat()
    );
    assert_eq!(
        readers_of("weather.api_key"),
        [&owners[..], &["worker-1@workers", "worker-2@workers"]].concat()
    );

    // Each bot gets exactly its values.
    assert_eq!(
        exec_vars(&repo, &k.monitor.0),
        [
            "SENTRY_DSN=https://k-sentry@o1.ingest/2",
            "SLACK_BOT_TOKEN=xoxb-fleet-3"
        ]
    );
    let workers = ["CAPTCHA_SECRET=cs-fleet-5", "WEATHER_API_KEY=wk-fleet-4"];
    assert_eq!(exec_vars(&repo, &k.worker1.0), workers);
    assert_eq!(exec_vars(&repo, &k.worker2.0), workers);
    // Owners read everything, with botsecrets and with sops.
    for owner in [&k.alice, &k.bob, &k.ci, &k.orchestrator] {
        assert_eq!(exec_vars(&repo, &owner.0).len(), 5);
        let r = repo.bs(&["decrypt", "--identity", &owner.0, "secrets/app.yaml"]);
        assert_eq!(r.ok().stdout(), PLAIN);
    }
    if let Some(sops) = tool("sops") {
        let out = sops_env(
            &sops,
            &[("SOPS_AGE_KEY_FILE", &k.bob.0)],
            &["decrypt", repo.t.path("secrets/app.yaml").to_str().unwrap()],
        );
        assert!(out.status.success());
        let data = String::from_utf8(out.stdout).unwrap();
        for s in SECRETS {
            assert!(data.contains(s), "{data}");
        }
    }
    // `recipients list` shows the scopes.
    let r = repo.bs(&["recipients", "list", "secrets/app.yaml"]);
    assert!(
        r.ok().stdout().contains(&format!(
            "# scope workers (weather, captcha), read by:\n#   worker-1 ({})\n#   worker-2 ({})\n",
            k.worker1.1, k.worker2.1
        )),
        "{}",
        r.stdout()
    );

    // worker-2 is removed from the workers group: check reports the drift.
    repo.t.write(".botsecrets.yaml", &rules(&k, "worker-1"));
    let r = repo.bs(&["check"]);
    r.fails_with(210).leaks_none(&SECRETS);
    assert!(
        format!("{}{}", r.stdout(), r.stderr())
            .contains("scope workers readers not in the rule: worker-2 (age1"),
        "{}{}",
        r.stdout(),
        r.stderr()
    );
    let before = repo.t.read("secrets/app.yaml");
    let r = repo.bs(&[
        "updatekeys",
        "--yes",
        "--identity",
        &k.alice.0,
        "secrets/app.yaml",
    ]);
    r.ok().leaks_none(&SECRETS);
    // The checklist: only what the workers could read, then a summary,
    // naming who lost access.
    assert!(
        r.stderr().contains("removed worker-2 (age1"),
        "{}",
        r.stderr()
    );
    assert_eq!(r.stdout(), "- [ ] weather.api_key\n- [ ] captcha.secret\n");
    assert!(
        r.stderr()
            .contains("secrets/app.yaml: 2 secret(s) to rotate for 1 revoked scope reader(s)"),
        "{}",
        r.stderr()
    );
    repo.git(&["commit", "-qam", "revoke worker-2", "--no-verify"])
        .ok();
    repo.bs(&["check"]).ok();
    let after = repo.t.read("secrets/app.yaml");
    // The file's data key is untouched: the main values keep their bytes.
    assert_eq!(enc_lines(&before)[..5], enc_lines(&after)[..5]);
    // worker-2 cannot read the new version; worker-1 and the monitor can.
    repo.bs(&[
        "get",
        "--identity",
        &k.worker2.0,
        "secrets/app.yaml",
        "weather.api_key",
    ])
    .fails_with(128)
    .leaks_none(&SECRETS);
    assert_eq!(exec_vars(&repo, &k.worker1.0), workers);
    assert_eq!(exec_vars(&repo, &k.monitor.0).len(), 2);
}
