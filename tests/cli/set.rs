//! `set`, `unset`, `get`: scriptable edits with minimal diffs, in every
//! format.

use std::time::Duration;

use crate::util::*;

/// (file, plaintext, path of an existing value, its key as it appears on
/// its line, the metadata's lastmodified/mac key names in this format)
const FILES: &[(&str, &str, &str, &str, [&str; 3])] = &[
    (
        "s.yaml",
        "a: one\nb:\n  c: two\n  d: [x, z]\ne: three\n",
        "b.c",
        "c",
        ["lastmodified", "mac", "botsecrets_seal"],
    ),
    (
        "s.json",
        "{\n  \"a\": \"one\",\n  \"b\": {\"c\": \"two\"},\n  \"e\": \"three\"\n}\n",
        "b.c",
        "b",
        ["lastmodified", "mac", "botsecrets_seal"],
    ),
    (
        "s.toml",
        "a = \"one\"\ne = \"three\"\n\n[b]\nc = \"two\"\n",
        "b.c",
        "c",
        ["lastmodified", "mac", "botsecrets_seal"],
    ),
    (
        "s.env",
        "A=one\nC=two\nE=three\n",
        "C",
        "C",
        ["sops_lastmodified", "sops_mac", "sops_botsecrets_seal"],
    ),
    (
        "s.ini",
        "[a]\nx = one\n\n[b]\nc = two\ne = three\n",
        "b.c",
        "c",
        ["lastmodified", "mac", "botsecrets_seal"],
    ),
];

#[test]
fn set_changes_one_line_plus_lastmodified_and_mac_in_every_format() {
    for (file, plain, path, key, meta) in FILES {
        let t = TestDir::new();
        t.write(file, plain);
        t.run(&["encrypt", "--age", RECIPIENT1, "-i", file]).ok();
        let before = t.read(file);
        std::thread::sleep(Duration::from_millis(1100));
        let k = key1();
        t.run_stdin(
            &[
                "set",
                "--identity",
                k.to_str().unwrap(),
                "--stdin",
                file,
                path,
            ],
            "new-secret\n",
        )
        .ok();
        let after = t.read(file);
        let mut changed = changed_keys(&before, &after);
        changed.sort();
        let mut expected = vec![
            key.to_string(),
            meta[0].to_string(),
            meta[1].to_string(),
            meta[2].to_string(),
        ];
        expected.sort();
        assert_eq!(changed, expected, "{file}:\n{before}\n---\n{after}");
        assert!(!after.contains("new-secret"));
        let r = t.run(&["get", "--identity", k.to_str().unwrap(), file, path]);
        assert_eq!(r.ok().stdout(), "new-secret", "{file}");
        // Everything else decrypts as before.
        let dec = t.decrypt(file).ok().stdout();
        assert_eq!(dec.replace("new-secret", "two"), *plain, "{file}");
    }
}

#[test]
fn set_json_values_are_typed() {
    let t = TestDir::new();
    t.write("s.yaml", "port: 1\nflag: x\n");
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"])
        .ok();
    let k = key1();
    let k = k.to_str().unwrap();
    t.run(&["set", "--identity", k, "--json", "s.yaml", "port", "8080"])
        .ok();
    t.run(&["set", "--identity", k, "--json", "s.yaml", "flag", "true"])
        .ok();
    assert!(t.read("s.yaml").contains("type:int]") && t.read("s.yaml").contains("type:bool]"));
    assert_eq!(
        t.decrypt("s.yaml").ok().stdout(),
        "port: 8080\nflag: true\n"
    );
    let r = t.run(&[
        "set",
        "--identity",
        k,
        "--json",
        "s.yaml",
        "port",
        "{\"a\": 1}",
    ]);
    r.fails_with(1);
    assert!(r.stderr().contains("--json takes a JSON scalar"));
}

#[test]
fn set_never_prints_the_value_and_needs_one() {
    let t = TestDir::new();
    t.write("s.yaml", "a: b\n");
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"])
        .ok();
    let before = t.read("s.yaml");
    let r = t.run(&[
        "set",
        "--identity",
        key2().to_str().unwrap(),
        "s.yaml",
        "a",
        "hunter2-new",
    ]);
    r.fails_with(128).leaks_none(&["hunter2-new"]);
    assert_eq!(t.read("s.yaml"), before);
    t.run(&["set", "s.yaml", "a"]).fails_with(1);
}

#[test]
fn get_is_decrypt_extract() {
    let t = TestDir::new();
    t.write("s.yaml", "a:\n  b: [x, y]\n");
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"])
        .ok();
    let k = key1();
    let k = k.to_str().unwrap();
    assert_eq!(
        t.run(&["get", "--identity", k, "s.yaml", "a.b[1]"])
            .ok()
            .stdout(),
        "y"
    );
    assert_eq!(
        t.run(&["get", "--identity", k, "s.yaml", r#"["a"]["b"][0]"#])
            .ok()
            .stdout(),
        "x"
    );
    t.run(&["get", "--identity", k, "s.yaml", "a.c"])
        .fails_with(91);
}

/// Lines only in `before` and lines only in `after` (as key names).
fn line_changes(before: &str, after: &str) -> (Vec<String>, Vec<String>) {
    let key = |l: &str| {
        let t = l.trim_start().trim_start_matches(['"', '-', ' ']);
        t.split([':', '=', '"', ' ']).next().unwrap().to_owned()
    };
    let b: Vec<&str> = before.lines().collect();
    let a: Vec<&str> = after.lines().collect();
    let mut removed: Vec<String> = b
        .iter()
        .filter(|l| !a.contains(l))
        .map(|l| key(l))
        .collect();
    let mut added: Vec<String> = a
        .iter()
        .filter(|l| !b.contains(l))
        .map(|l| key(l))
        .collect();
    removed.sort();
    added.sort();
    (removed, added)
}

/// (file, plaintext, new path, its key, path to remove, its key, metadata keys)
type StructuralCase = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    [&'static str; 3],
);

#[test]
fn adding_and_removing_keys_touches_only_those_lines() {
    // (file, plaintext, new path, its key, path to remove, its key, metadata keys)
    let cases: &[StructuralCase] = &[
        (
            "s.yaml",
            "a: one\nb:\n  c: two\ne: three\n",
            "b.new_key",
            "new_key",
            "e",
            "e",
            ["lastmodified", "mac", "botsecrets_seal"],
        ),
        (
            "s.json",
            "{\n  \"a\": \"one\",\n  \"b\": {\n    \"c\": \"two\"\n  },\n  \"e\": \"three\"\n}\n",
            "b.new_key",
            "new_key",
            "a",
            "a",
            ["lastmodified", "mac", "botsecrets_seal"],
        ),
        (
            "s.toml",
            "a = \"one\"\ne = \"three\"\n\n[b]\nc = \"two\"\n",
            "b.new_key",
            "new_key",
            "e",
            "e",
            ["lastmodified", "mac", "botsecrets_seal"],
        ),
        (
            "s.env",
            "A=one\nC=two\nE=three\n",
            "NEW_KEY",
            "NEW_KEY",
            "E",
            "E",
            ["sops_lastmodified", "sops_mac", "sops_botsecrets_seal"],
        ),
        (
            "s.ini",
            "[a]\nx = one\n\n[b]\nc = two\ne = three\n",
            "b.new_key",
            "new_key",
            "b.e",
            "e",
            ["lastmodified", "mac", "botsecrets_seal"],
        ),
    ];
    for (file, plain, new_path, new_key, gone_path, gone_key, meta) in cases {
        let t = TestDir::new();
        t.write(file, plain);
        t.run(&["encrypt", "--age", RECIPIENT1, "-i", file]).ok();
        let k = key1();
        let k = k.to_str().unwrap();
        let before = t.read(file);
        std::thread::sleep(Duration::from_millis(1100));
        t.run_stdin(
            &["set", "--identity", k, "--stdin", file, new_path],
            "added-secret\n",
        )
        .ok();
        let added = t.read(file);
        let (removed_lines, added_lines) = line_changes(&before, &added);
        let mut expect_added = vec![
            new_key.to_string(),
            meta[0].to_string(),
            meta[1].to_string(),
            meta[2].to_string(),
        ];
        let mut expect_removed = vec![
            meta[0].to_string(),
            meta[1].to_string(),
            meta[2].to_string(),
        ];
        if file.ends_with(".json") {
            // JSON needs a comma after the previous member: its line changes
            // (punctuation only; its ciphertext is the same).
            expect_added.push("c".into());
            expect_removed.push("c".into());
        }
        expect_added.sort();
        expect_removed.sort();
        assert_eq!(added_lines, expect_added, "{file} insert:\n{added}");
        assert_eq!(removed_lines, expect_removed, "{file} insert");
        if file.ends_with(".json") {
            let c_line = |text: &str| {
                text.lines()
                    .find(|l| l.contains("\"c\""))
                    .unwrap()
                    .trim_end_matches(',')
                    .to_owned()
            };
            assert_eq!(
                c_line(&before),
                c_line(&added),
                "the previous member keeps its ciphertext"
            );
        }
        assert_eq!(
            t.run(&["get", "--identity", k, file, new_path])
                .ok()
                .stdout(),
            "added-secret"
        );

        std::thread::sleep(Duration::from_millis(1100));
        t.run(&["unset", "--identity", k, file, gone_path]).ok();
        let removed = t.read(file);
        let (removed_lines, added_lines) = line_changes(&added, &removed);
        let mut expect_removed = vec![
            gone_key.to_string(),
            meta[0].to_string(),
            meta[1].to_string(),
            meta[2].to_string(),
        ];
        expect_removed.sort();
        assert_eq!(removed_lines, expect_removed, "{file} remove:\n{removed}");
        let mut expect_meta = vec![
            meta[0].to_string(),
            meta[1].to_string(),
            meta[2].to_string(),
        ];
        expect_meta.sort();
        assert_eq!(added_lines, expect_meta, "{file} remove");
        t.run(&["get", "--identity", k, file, gone_path])
            .fails_with(91);
        // unset of a missing path: an error, or a no-op with --idempotent.
        t.run(&["unset", "--identity", k, file, gone_path])
            .fails_with(91);
        t.run(&["unset", "--identity", k, "--idempotent", file, gone_path])
            .ok();
    }
}

#[test]
fn set_creates_missing_parents_with_the_files_indentation() {
    let t = TestDir::new();
    t.write("s.yaml", "top:\n    deep: x\n");
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"])
        .ok();
    let k = key1();
    t.run(&[
        "set",
        "--identity",
        k.to_str().unwrap(),
        "s.yaml",
        "bots.alpha.token",
        "tok",
    ])
    .ok();
    assert_eq!(
        t.decrypt("s.yaml").ok().stdout(),
        "top:\n    deep: x\nbots:\n    alpha:\n        token: tok\n"
    );
}
