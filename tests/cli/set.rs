//! `set`, `unset`, `get`: scriptable edits with minimal diffs, in every
//! format.

use std::time::Duration;

use crate::util::*;

/// (file, plaintext, path of an existing value, its key as it appears on
/// its line, the metadata's lastmodified/mac key names in this format)
const FILES: &[(&str, &str, &str, &str, [&str; 2])] = &[
    (
        "s.yaml",
        "a: one\nb:\n  c: two\n  d: [x, z]\ne: three\n",
        "b.c",
        "c",
        ["lastmodified", "mac"],
    ),
    (
        "s.json",
        "{\n  \"a\": \"one\",\n  \"b\": {\"c\": \"two\"},\n  \"e\": \"three\"\n}\n",
        "b.c",
        "b",
        ["lastmodified", "mac"],
    ),
    (
        "s.toml",
        "a = \"one\"\ne = \"three\"\n\n[b]\nc = \"two\"\n",
        "b.c",
        "c",
        ["lastmodified", "mac"],
    ),
    (
        "s.env",
        "A=one\nC=two\nE=three\n",
        "C",
        "C",
        ["sops_lastmodified", "sops_mac"],
    ),
    (
        "s.ini",
        "[a]\nx = one\n\n[b]\nc = two\ne = three\n",
        "b.c",
        "c",
        ["lastmodified", "mac"],
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
        let mut expected = vec![key.to_string(), meta[0].to_string(), meta[1].to_string()];
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
