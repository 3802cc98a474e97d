//! Unit tests of JSON structural edits (insert, remove) and their
//! remove-insert round trip.

use super::*;
use crate::format::edit_testing::{insert, remove, remove_insert_round_trip};
use proptest::prelude::*;
use std::collections::HashSet;

const DOC: &str = "{\n  \"db\": {\n    \"user\": \"admin\",\n    \"port\": 5432\n  },\n  \"list\": [1, {\"k\": \"v\"}, 3],\n  \"empty\": {},\n  \"sops\": {\"version\": \"3.11.0\"}\n}\n";

#[test]
fn inserts_members_in_the_file_layout() {
    let s = ValueType::Str;
    assert_eq!(
        insert(&Json, DOC, "db.pass", s, "p\"w"),
        DOC.replace("5432\n", "5432,\n    \"pass\": \"p\\\"w\"\n")
    );
    assert_eq!(
        insert(&Json, DOC, "top", ValueType::Float, "1.50"),
        DOC.replace("\"3.11.0\"}\n", "\"3.11.0\"},\n  \"top\": 1.50\n")
    );
    assert_eq!(
        insert(&Json, DOC, "a.b.c", ValueType::Bool, "true"),
        DOC.replace(
            "\"3.11.0\"}\n",
            "\"3.11.0\"},\n  \"a\": {\n    \"b\": {\n      \"c\": true\n    }\n  }\n"
        )
    );
    assert_eq!(
        insert(&Json, DOC, "empty.x", s, "1"),
        DOC.replace("\"empty\": {}", "\"empty\": {\"x\": \"1\"}")
    );
    assert_eq!(
        insert(&Json, "{\"a\":1}", "b.c", s, "x"),
        "{\"a\":1,\"b\":{\"c\":\"x\"}}"
    );
    assert_eq!(insert(&Json, "{}", "b", s, "x"), "{\"b\": \"x\"}");
    assert_eq!(
        insert(&Json, "{\r\n}\r\n", "b", s, "x"),
        "{\r\n\t\"b\": \"x\"\r\n}\r\n"
    );
    assert_eq!(
        insert(&Json, "{\r\n\t\"a\": {\r\n\t}\r\n}", "a.b", s, "x"),
        "{\r\n\t\"a\": {\r\n\t\t\"b\": \"x\"\r\n\t}\r\n}"
    );
}

#[test]
fn removes_members_items_and_subtrees() {
    assert_eq!(
        remove(&Json, DOC, "db.port"),
        DOC.replace(",\n    \"port\": 5432", "")
    );
    assert_eq!(
        remove(&Json, DOC, "db.user"),
        DOC.replace("\"user\": \"admin\",\n    ", "")
    );
    assert_eq!(
        remove(&Json, DOC, "db"),
        DOC.replace(
            "\"db\": {\n    \"user\": \"admin\",\n    \"port\": 5432\n  },\n  ",
            ""
        )
    );
    assert_eq!(
        remove(&Json, DOC, "list[1]"),
        DOC.replace("[1, {\"k\": \"v\"}, 3]", "[1, 3]")
    );
    assert_eq!(
        remove(&Json, DOC, "list[2]"),
        DOC.replace("[1, {\"k\": \"v\"}, 3]", "[1, {\"k\": \"v\"}]")
    );
    assert_eq!(
        remove(&Json, DOC, "list[1].k"),
        DOC.replace("{\"k\": \"v\"}", "{}")
    );
    let once = remove(&Json, DOC, "db.port");
    let twice = remove(&Json, &once, "db.user");
    assert_eq!(
        twice,
        DOC.replace("{\n    \"user\": \"admin\",\n    \"port\": 5432\n  }", "{}")
    );
    assert_eq!(remove(&Json, "{\"a\": 1}", "a"), "{}");
}

#[test]
fn errors_name_paths_not_values() {
    let p = Json.parse(DOC).unwrap();
    for path in ["list.x", "db.user.x", "db.user", "sops.x", "list[0].x"] {
        let e = Json
            .insert(
                DOC,
                &p,
                &KeyPath::parse(path).unwrap(),
                &Replacement::Value(ValueType::Str, "secretvalue"),
            )
            .unwrap_err();
        assert!(matches!(e, FormatError::Unrepresentable { .. }), "{path}");
        assert!(!e.to_string().contains("secretvalue"));
    }
    for bad in ["nope", "list[3]", "db.user.x", "sops", "list.k"] {
        let e = Json
            .remove(DOC, &p, &KeyPath::parse(bad).unwrap())
            .unwrap_err();
        assert!(matches!(e, FormatError::PathNotFound(_)), "{bad}");
    }
}

proptest! {
    #[test]
    fn remove_then_insert_keeps_values(
        members in prop::collection::vec(("[a-z]{1,3}", tests::j()), 0..6),
        ws in prop_oneof![Just(""), Just(" "), Just("\n\t"), Just("\r\n  ")],
    ) {
        let mut seen = HashSet::new();
        let members: Vec<(String, tests::J)> =
            members.into_iter().filter(|(k, _)| seen.insert(k.clone())).collect();
        let mut text = String::new();
        tests::write(&tests::J::Obj(members), ws, &mut text);
        if let Err(e) = remove_insert_round_trip(&Json, &text) {
            prop_assert!(false, "{}", e);
        }
    }
}
