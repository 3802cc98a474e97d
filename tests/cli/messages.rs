//! Error messages as a whole (issue 16): every cause printed once.

use crate::util::*;

#[test]
fn a_malformed_value_names_its_cause_once() {
    let t = TestDir::new();
    let enc = t.encrypt("s.yaml", "token: abc123\n");
    // Damage the base64 of the value's data.
    let at = enc.find("ENC[AES256_GCM,data:").unwrap() + "ENC[AES256_GCM,data:".len();
    let mut bad = enc.clone();
    bad.replace_range(at..at + 1, "!");
    t.write("s.yaml", &bad);
    let r = t.decrypt("s.yaml");
    r.fails_with(25).leaks_none(&["abc123"]);
    let first = r.stderr().lines().next().unwrap_or_default().to_owned();
    assert_eq!(
        first,
        "botsecrets: s.yaml: cannot decrypt the value at token (line 1): malformed ENC[...] value: data is not base64"
    );
}

#[test]
fn a_broken_rules_file_names_its_cause_once() {
    let t = TestDir::new();
    t.write(".botsecrets.yaml", "creation_rules: [\n");
    t.write("s.yaml", "a: b\n");
    let r = t.run(&["encrypt", "s.yaml"]);
    r.fails_with(5);
    let first = r.stderr().lines().next().unwrap_or_default().to_owned();
    assert!(
        first.ends_with(
            ".botsecrets.yaml: invalid yaml at line 1, column 17: unclosed flow collection"
        ),
        "{first}"
    );
}
