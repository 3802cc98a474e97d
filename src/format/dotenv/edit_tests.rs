//! Unit tests of dotenv structural edits (insert, remove) and their
//! remove-insert round trip.

use super::*;
use crate::format::edit_testing::{insert, remove, remove_insert_round_trip, values};
use proptest::prelude::*;

const DOC: &str =
    "# app\nA=1\nexport B=two words\n\n# tail note\nC=3\nsops_version=3.11.0\nsops_mac=x\n";

#[test]
fn inserts_before_the_metadata() {
    let out = insert(&Dotenv, DOC, "D", ValueType::Str, "multi\nline");
    assert_eq!(
        out,
        "# app\nA=1\nexport B=two words\n\n# tail note\nC=3\nD=multi\\nline\nsops_version=3.11.0\nsops_mac=x\n"
    );
    assert_eq!(insert(&Dotenv, "A=1", "B", ValueType::Str, "x"), "A=1\nB=x");
    assert_eq!(insert(&Dotenv, "", "B", ValueType::Str, "x"), "B=x\n");
    assert_eq!(
        insert(&Dotenv, "A=1\r\n\r\n", "B", ValueType::Str, "x"),
        "A=1\r\nB=x\n\r\n"
    );
    assert_eq!(
        insert(&Dotenv, "sops_version=1\n", "B", ValueType::Str, "x"),
        "B=x\nsops_version=1\n"
    );
}

#[test]
fn removes_lines() {
    assert_eq!(
        remove(&Dotenv, DOC, "C"),
        "# app\nA=1\nexport B=two words\n\n# tail note\nsops_version=3.11.0\nsops_mac=x\n"
    );
    assert_eq!(remove(&Dotenv, DOC, "export B").lines().count(), 7);
    assert_eq!(remove(&Dotenv, "A=1\nB=2", "B"), "A=1");
    assert_eq!(remove(&Dotenv, "A=\nB=2\n", "A"), "B=2\n");
    // Removing the only entry leaves the comments.
    let p = Dotenv.parse("# c\nA=1\n").unwrap();
    assert_eq!(
        values(&Dotenv.parse(&remove(&Dotenv, "# c\nA=1\n", "A")).unwrap()).len(),
        0
    );
    assert!(p.leaves.len() == 2);
}

#[test]
fn errors_name_paths_not_values() {
    let p = Dotenv.parse(DOC).unwrap();
    let path = KeyPath::parse("a.b").unwrap();
    let e = Dotenv
        .insert(
            DOC,
            &p,
            &path,
            &Replacement::Value(ValueType::Str, "secretvalue"),
        )
        .unwrap_err();
    assert!(matches!(e, FormatError::Unrepresentable { .. }));
    assert!(!e.to_string().contains("secretvalue"));
    let a = KeyPath::parse("A").unwrap();
    let e = Dotenv
        .insert(
            DOC,
            &p,
            &a,
            &Replacement::Value(ValueType::Str, "secretvalue"),
        )
        .unwrap_err();
    assert!(!e.to_string().contains("secretvalue"));
    for bad in ["sops_x", "Z", "sops"] {
        let e = Dotenv
            .remove(DOC, &p, &KeyPath::parse(bad).unwrap())
            .unwrap_err();
        assert!(matches!(e, FormatError::PathNotFound(_)), "{bad}");
    }
}

fn doc_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "#[^\n]{0,8}".prop_map(|s| s),
        ("[A-Za-z_][A-Za-z0-9_]{0,6}", "[^\n\\\\]{0,10}").prop_map(|(k, v)| format!("{k}={v}")),
    ]
}

proptest! {
    #[test]
    fn remove_then_insert_keeps_values(lines in proptest::collection::vec(doc_line(), 0..10), meta in any::<bool>()) {
        let mut text = lines.join("\n");
        if meta {
            text.push_str("\nsops_version=3.11.0\n");
        }
        if Dotenv.parse(&text).is_err() { return Ok(()); }
        if let Err(e) = remove_insert_round_trip(&Dotenv, &text) {
            prop_assert!(false, "{}", e);
        }
    }
}
