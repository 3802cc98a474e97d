//! `decrypt --output-type json` (issue 14 item 4): empty collections stay
//! in the data, and every document of a YAML stream is printed, one JSON
//! value per document (sops 3.11 prints the first document only, silently
//! dropping the rest; for a one-document file both print the same data).

use crate::util::*;

const STREAM: &str = "a: 1\nempty_map: {}\nempty_list: []\nn:\n  inner: {}\n  l: [[], {}, s3cret-x]\ns: s3cret-y\n---\nb: two\nnone: []\n---\nc: [3]\n";

fn json_values(out: &str) -> Vec<serde_json::Value> {
    serde_json::Deserializer::from_str(out)
        .into_iter::<serde_json::Value>()
        .map(|v| v.unwrap())
        .collect()
}

#[test]
fn json_output_keeps_empty_collections_and_every_document() {
    let t = TestDir::new();
    t.write("s.yaml", STREAM);
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"])
        .ok();
    let r = t.run(&[
        "decrypt",
        "--identity",
        key1().to_str().unwrap(),
        "--output-type",
        "json",
        "s.yaml",
    ]);
    r.ok();
    assert!(!r.stderr().contains("s3cret"), "{}", r.stderr());
    let out = r.stdout();
    assert_eq!(
        json_values(&out),
        [
            serde_json::json!({"a": 1, "empty_map": {}, "empty_list": [], "n": {"inner": {}, "l": [[], {}, "s3cret-x"]}, "s": "s3cret-y"}),
            serde_json::json!({"b": "two", "none": []}),
            serde_json::json!({"c": [3]}),
        ],
        "{out}"
    );
    // Key order as in the file; each document a pretty JSON value.
    assert!(
        out.starts_with("{\n  \"a\": 1,\n  \"empty_map\": {},\n  \"empty_list\": [],\n"),
        "{out}"
    );
    assert!(out.contains("\n}\n{\n  \"b\": \"two\",\n"), "{out}");
    // The first document is what sops prints for the same file.
    let Some(sops_bin) = tool("sops") else { return };
    let plain = t.write("p.yaml", STREAM);
    let enc = sops(
        &sops_bin,
        &key1(),
        &["encrypt", "--age", RECIPIENT1, plain.to_str().unwrap()],
    );
    assert!(
        enc.status.success(),
        "{}",
        String::from_utf8_lossy(&enc.stderr)
    );
    t.write("theirs.yaml", &String::from_utf8(enc.stdout).unwrap());
    let theirs = sops(
        &sops_bin,
        &key1(),
        &[
            "decrypt",
            "--output-type",
            "json",
            t.path("theirs.yaml").to_str().unwrap(),
        ],
    );
    assert!(theirs.status.success());
    let theirs = json_values(&String::from_utf8(theirs.stdout).unwrap());
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0], json_values(&out)[0]);
}

#[test]
fn json_and_yaml_conversions_keep_empty_collections_from_json() {
    let t = TestDir::new();
    let plain = "{\"a\": {}, \"b\": [], \"c\": {\"d\": [{}], \"e\": \"s3cret-z\"}}\n";
    t.write("j.json", plain);
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "j.json"])
        .ok();
    let r = t.run(&[
        "decrypt",
        "--identity",
        key1().to_str().unwrap(),
        "--output-type",
        "yaml",
        "j.json",
    ]);
    r.ok();
    assert_eq!(
        r.stdout(),
        "a: {}\nb: []\nc:\n  d:\n    - {}\n  e: s3cret-z\n"
    );
}

#[test]
fn toml_empty_arrays_and_tables_stay_in_json_output() {
    let t = TestDir::new();
    t.write(
        "s.toml",
        "title = \"s3cret-t\"\nports = []\nmeta = {}\nnested = { inner = [], k = \"s3cret-k\" }\n\n[empty]\n\n[db]\npassword = \"s3cret-p\"\nnone = []\n",
    );
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.toml"])
        .ok();
    let r = t.run(&[
        "decrypt",
        "--identity",
        key1().to_str().unwrap(),
        "--output-type",
        "json",
        "s.toml",
    ]);
    r.ok();
    assert!(!r.stderr().contains("s3cret"), "{}", r.stderr());
    assert_eq!(
        json_values(&r.stdout()),
        [serde_json::json!({
            "title": "s3cret-t",
            "ports": [],
            "meta": {},
            "nested": {"inner": [], "k": "s3cret-k"},
            "empty": {},
            "db": {"password": "s3cret-p", "none": []},
        })]
    );
    // The file itself still decrypts byte for byte.
    let r = t.run(&["decrypt", "--identity", key1().to_str().unwrap(), "s.toml"]);
    assert_eq!(
        r.ok().stdout(),
        "title = \"s3cret-t\"\nports = []\nmeta = {}\nnested = { inner = [], k = \"s3cret-k\" }\n\n[empty]\n\n[db]\npassword = \"s3cret-p\"\nnone = []\n"
    );
}
