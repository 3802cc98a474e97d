//! Unit tests of INI structural edits (insert, remove) and their
//! remove-insert round trip.

use super::*;
use crate::format::edit_testing::{insert, remove, remove_insert_round_trip, values};
use proptest::prelude::*;

const DOC: &str = "top = 1\n\n[db]\nuser = admin ; who\n; about pass\npass = `a;b`\n\n; about web\n[web]\nurl = http://x\n\n[sops]\nversion = 3.11.0\n";

#[test]
fn inserts_into_sections() {
    assert_eq!(
        insert(&Ini, DOC, "db.port", ValueType::Str, "5432"),
        "top = 1\n\n[db]\nuser = admin ; who\n; about pass\npass = `a;b`\nport = 5432\n\n; about web\n[web]\nurl = http://x\n\n[sops]\nversion = 3.11.0\n"
    );
    assert_eq!(
        insert(&Ini, DOC, "new.k", ValueType::Str, "v #1"),
        "top = 1\n\n[db]\nuser = admin ; who\n; about pass\npass = `a;b`\n\n; about web\n[web]\nurl = http://x\n\n[new]\nk = `v #1`\n\n[sops]\nversion = 3.11.0\n"
    );
    assert_eq!(
        insert(&Ini, DOC, "DEFAULT.other", ValueType::Str, ""),
        "top = 1\nother =\n\n[db]\nuser = admin ; who\n; about pass\npass = `a;b`\n\n; about web\n[web]\nurl = http://x\n\n[sops]\nversion = 3.11.0\n"
    );
    assert_eq!(
        insert(&Ini, "[a]\r\nx=1", "a.y", ValueType::Str, "2"),
        "[a]\r\nx=1\r\ny=2"
    );
    assert_eq!(
        insert(&Ini, "[a]\n", "a.y", ValueType::Str, "2"),
        "[a]\ny = 2\n"
    );
    assert_eq!(insert(&Ini, "", "a.y", ValueType::Str, "2"), "[a]\ny = 2\n");
    assert_eq!(
        insert(&Ini, "[a]\n", "DEFAULT.y", ValueType::Str, "2"),
        "y = 2\n\n[a]\n"
    );
    let out = insert(&Ini, "[a]\nx = 1\n", "b.y", ValueType::Str, "line1\nline2");
    assert_eq!(out, "[a]\nx = 1\n\n[b]\ny = \"\"\"line1\nline2\"\"\"\n");
    let p = Ini.parse(&out).unwrap();
    assert_eq!(p.leaves[1].value.expose(), "line1\nline2");
}

#[test]
fn removes_keys_and_sections() {
    assert_eq!(
        remove(&Ini, DOC, "db.user"),
        "top = 1\n\n[db]\n; about pass\npass = `a;b`\n\n; about web\n[web]\nurl = http://x\n\n[sops]\nversion = 3.11.0\n"
    );
    // A whole section: its comments before the next header stay.
    assert_eq!(
        remove(&Ini, DOC, "db"),
        "top = 1\n\n; about web\n[web]\nurl = http://x\n\n[sops]\nversion = 3.11.0\n"
    );
    assert_eq!(
        remove(&Ini, DOC, "web"),
        "top = 1\n\n[db]\nuser = admin ; who\n; about pass\npass = `a;b`\n\n; about web\n\n[sops]\nversion = 3.11.0\n"
    );
    assert_eq!(
        remove(&Ini, "[a]\nx = 1\n\n[b]\ny = 2\n", "b"),
        "[a]\nx = 1\n"
    );
    assert_eq!(remove(&Ini, "[a]\nx = 1\n\n[b]\ny = 2", "b"), "[a]\nx = 1");
    // The last key of a section leaves the empty section.
    assert_eq!(remove(&Ini, "[a]\nx = 1\n[b]\n", "a.x"), "[a]\n[b]\n");
    assert_eq!(remove(&Ini, DOC, "DEFAULT").lines().next(), Some(""));
    let multi = "[a]\nx = \"\"\"l1\n[l2]\"\"\" ; c\ny = 2\n";
    assert_eq!(remove(&Ini, multi, "a.x"), "[a]\ny = 2\n");
    assert_eq!(
        values(&Ini.parse(&remove(&Ini, multi, "a")).unwrap()).len(),
        0
    );
}

#[test]
fn errors_name_paths_not_values() {
    let p = Ini.parse(DOC).unwrap();
    for (path, want_unrep) in [
        ("a.b.c", true),
        ("db.user", true),
        ("a", true),
        ("sops.x", true),
    ] {
        let e = Ini
            .insert(
                DOC,
                &p,
                &KeyPath::parse(path).unwrap(),
                &Replacement::Value(ValueType::Str, "secretvalue"),
            )
            .unwrap_err();
        assert_eq!(matches!(e, FormatError::Unrepresentable { .. }), want_unrep);
        assert!(!e.to_string().contains("secretvalue"));
    }
    for bad in ["db.none", "nosection", "sops", "sops.version", "a.b.c"] {
        let e = Ini
            .remove(DOC, &p, &KeyPath::parse(bad).unwrap())
            .unwrap_err();
        assert!(matches!(e, FormatError::PathNotFound(_)), "{bad}");
    }
}

fn doc_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z]{1,3}".prop_map(|s| format!("[{s}]")),
        "[;#][^\n]{0,8}".prop_map(|s| s),
        ("[a-z][a-z0-9_]{0,5}", "[ ]{0,1}", "[^\n\\\\`\"]{0,10}")
            .prop_map(|(k, sp, v)| format!("{k}{sp}={sp}{v}")),
    ]
}

proptest! {
    #[test]
    fn remove_then_insert_keeps_values(lines in proptest::collection::vec(doc_line(), 0..12), meta in any::<bool>()) {
        let mut text = lines.join("\n");
        if meta {
            text.push_str("\n\n[sops]\nversion = 3.11.0\n");
        }
        if Ini.parse(&text).is_err() { return Ok(()); }
        if let Err(e) = remove_insert_round_trip(&Ini, &text) {
            prop_assert!(false, "{}", e);
        }
    }
}
