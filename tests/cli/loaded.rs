//! What a program that loads a file sees (YAML merge keys applied, dotenv
//! `export` names) is the same for `exec` and for `get` /
//! `decrypt --extract`: the format layer owns the rule, so the two commands
//! cannot disagree.

use crate::util::{key1, Run, TestDir};

/// Encrypts `plain` for key 1 into `name`, leaving no plaintext copy.
fn secrets(t: &TestDir, name: &str, plain: &str) {
    let text = t.encrypt(&format!("plain.{name}"), plain);
    t.write(name, &text);
    std::fs::remove_file(t.path(&format!("plain.{name}"))).unwrap();
}

fn get(t: &TestDir, file: &str, path: &str) -> Run {
    t.run(&["get", "--identity", key1().to_str().unwrap(), file, path])
}

fn extract(t: &TestDir, file: &str, path: &str) -> Run {
    t.run(&[
        "decrypt",
        "--identity",
        key1().to_str().unwrap(),
        "--extract",
        path,
        file,
    ])
}

/// The variable lines `exec ... -- env` prints for names starting `prefix`.
fn exec_env(t: &TestDir, file: &str, prefix: &str) -> Vec<String> {
    let r = t.run(&[
        "exec",
        "--identity",
        key1().to_str().unwrap(),
        "--file",
        file,
        "--",
        "env",
    ]);
    r.ok();
    let mut lines: Vec<String> = r
        .stdout()
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

#[test]
fn exec_and_get_agree_on_a_yaml_merge_key() {
    let t = TestDir::new();
    secrets(&t, "s.yaml", "base: &b {region: eu}\nworker: {<<: *b}\n");
    assert_eq!(exec_env(&t, "s.yaml", "WORKER_"), ["WORKER_REGION=eu"]);
    let r = get(&t, "s.yaml", "worker.region");
    r.ok();
    assert_eq!(r.stdout(), "eu");
    let r = extract(&t, "s.yaml", "worker.region");
    r.ok();
    assert_eq!(r.stdout(), "eu");
}

#[test]
fn a_written_key_wins_over_a_merged_one_in_get_as_in_exec() {
    let t = TestDir::new();
    secrets(
        &t,
        "s.yaml",
        "base: &b\n  region: eu\n  token: base-tok\nworker:\n  <<: *b\n  token: own-tok\n",
    );
    assert_eq!(
        exec_env(&t, "s.yaml", "WORKER_"),
        ["WORKER_REGION=eu", "WORKER_TOKEN=own-tok"]
    );
    assert_eq!(get(&t, "s.yaml", "worker.token").ok().stdout(), "own-tok");
    assert_eq!(get(&t, "s.yaml", "worker.region").ok().stdout(), "eu");
    // The path as the file spells it (and as sops names it) still works.
    assert_eq!(get(&t, "s.yaml", "worker.<<.region").ok().stdout(), "eu");
    assert_eq!(
        get(&t, "s.yaml", "worker.<<.token").ok().stdout(),
        "base-tok"
    );
}

#[test]
fn among_merges_the_first_wins_and_a_missing_path_still_fails() {
    let t = TestDir::new();
    secrets(
        &t,
        "s.yaml",
        "a: &a {region: eu}\nb: &b {region: us, zone: z1}\nw:\n  <<: [*a, *b]\n",
    );
    assert_eq!(exec_env(&t, "s.yaml", "W_"), ["W_REGION=eu", "W_ZONE=z1"]);
    assert_eq!(get(&t, "s.yaml", "w.region").ok().stdout(), "eu");
    assert_eq!(get(&t, "s.yaml", "w.zone").ok().stdout(), "z1");
    let r = get(&t, "s.yaml", "w.nope");
    assert_ne!(r.code(), 0);
    r.leaks_none(&["eu", "us", "z1"]);
}

#[test]
fn a_merge_key_in_json_is_an_ordinary_key() {
    let t = TestDir::new();
    secrets(&t, "s.json", "{\"w\": {\"<<\": {\"region\": \"eu\"}}}\n");
    let r = get(&t, "s.json", "w.region");
    assert_ne!(r.code(), 0, "{}", r.stdout());
    r.leaks_none(&["eu"]);
    assert_eq!(get(&t, "s.json", "w.<<.region").ok().stdout(), "eu");
}

#[test]
fn get_finds_a_dotenv_export_key_by_the_name_exec_gives_it() {
    let t = TestDir::new();
    secrets(&t, ".env", "export TOKEN=\"a b\"\nPLAIN=x\n");
    assert_eq!(exec_env(&t, ".env", "TOKEN="), ["TOKEN=a b"]);
    // `get` prints the value as the file (and sops) holds it, quotes and
    // all; only the name is the loader's.
    assert_eq!(get(&t, ".env", "TOKEN").ok().stdout(), "\"a b\"");
    assert_eq!(get(&t, ".env", "export TOKEN").ok().stdout(), "\"a b\"");
}
