//! Unit tests of TOML structural edits (insert, remove) and their
//! remove-insert round trip.

use super::*;
use crate::format::edit_testing::{insert, remove, remove_insert_round_trip, values};
use proptest::prelude::*;

const DOC: &str = "# top\ntitle = \"x\" # t\nowner.name = \"me\"\n\n[db]\nuser = \"admin\"\nports = [1, 2, 3]\ninline = {a = 1, b = 2}\n\n# about web\n[web.front]\nurl = \"http://x\"\n\n[[srv]]\nname = \"a\"\n\n[[srv]]\nname = \"b\"\n\n[sops]\nversion = \"3.11.0\"\n";

#[test]
fn inserts_keys_and_tables() {
    let s = ValueType::Str;
    assert_eq!(
        insert(&Toml, DOC, "db.pass", s, "p\"w"),
        DOC.replace("b = 2}\n", "b = 2}\npass = \"p\\\"w\"\n")
    );
    assert_eq!(
        insert(&Toml, DOC, "version", ValueType::Int, "3"),
        DOC.replace(
            "owner.name = \"me\"\n",
            "owner.name = \"me\"\nversion = 3\n"
        )
    );
    // Under a dotted table: a dotted key in the table that holds it.
    assert_eq!(
        insert(&Toml, DOC, "owner.mail", s, "m"),
        DOC.replace(
            "owner.name = \"me\"\n",
            "owner.name = \"me\"\nowner.mail = \"m\"\n"
        )
    );
    assert_eq!(
        insert(&Toml, DOC, "db.inline.c", ValueType::Bool, "true"),
        DOC.replace("b = 2}", "b = 2, c = true}")
    );
    // Missing tables are appended before [sops]; so is an implicit one.
    assert_eq!(
        insert(&Toml, DOC, "new.deep.k", ValueType::Float, "1.5"),
        DOC.replace("\n[sops]", "\n[new.deep]\nk = 1.5\n\n[sops]")
    );
    assert_eq!(
        insert(&Toml, DOC, "web.k", s, "v"),
        DOC.replace("\n[sops]", "\n[web]\nk = \"v\"\n\n[sops]")
    );
    assert_eq!(
        insert(&Toml, "[a]\r\nx = 1\r\n", "b.c", s, "v"),
        "[a]\r\nx = 1\r\n\r\n[b]\r\nc = \"v\"\r\n"
    );
    assert_eq!(insert(&Toml, "[a]\n", "k", s, "v"), "k = \"v\"\n\n[a]\n");
    assert_eq!(
        insert(&Toml, "# c\n[a]\n", "k", s, "v"),
        "k = \"v\"\n\n# c\n[a]\n"
    );
    assert_eq!(insert(&Toml, "[a]\n", "a.k", s, "v"), "[a]\nk = \"v\"\n");
    assert_eq!(insert(&Toml, "", "a.k", s, "v"), "[a]\nk = \"v\"\n");
    assert_eq!(insert(&Toml, "x = {}", "x.k", s, "v"), "x = {k = \"v\"}");
    let multi = insert(&Toml, "a = 1\n", "b", s, "l1\nl2");
    assert_eq!(
        Toml.parse(&multi).unwrap().leaves[1].value.expose(),
        "l1\nl2"
    );
}

#[test]
fn removes_lines_tables_and_items() {
    assert_eq!(
        remove(&Toml, DOC, "title"),
        DOC.replace("title = \"x\" # t\n", "")
    );
    assert_eq!(
        remove(&Toml, DOC, "owner"),
        DOC.replace("owner.name = \"me\"\n", "")
    );
    assert_eq!(
        remove(&Toml, DOC, "db"),
        DOC.replace(
            "[db]\nuser = \"admin\"\nports = [1, 2, 3]\ninline = {a = 1, b = 2}\n\n",
            ""
        )
    );
    // A table's comments before the next header belong to it.
    assert_eq!(
        remove(&Toml, DOC, "web"),
        DOC.replace("[web.front]\nurl = \"http://x\"\n\n", "")
    );
    assert_eq!(
        remove(&Toml, DOC, "db.ports[1]"),
        DOC.replace("[1, 2, 3]", "[1, 3]")
    );
    assert_eq!(
        remove(&Toml, DOC, "db.ports[2]"),
        DOC.replace("[1, 2, 3]", "[1, 2]")
    );
    assert_eq!(
        remove(&Toml, DOC, "db.inline.a"),
        DOC.replace("{a = 1, b = 2}", "{b = 2}")
    );
    assert_eq!(
        remove(&Toml, DOC, "srv[0]"),
        DOC.replace("[[srv]]\nname = \"a\"\n\n", "")
    );
    assert_eq!(
        remove(&Toml, DOC, "srv"),
        DOC.replace("[[srv]]\nname = \"a\"\n\n[[srv]]\nname = \"b\"\n\n", "")
    );
    // The last key of a table leaves the empty table.
    assert_eq!(
        remove(&Toml, DOC, "web.front.url"),
        DOC.replace("url = \"http://x\"\n", "")
    );
    assert_eq!(
        remove(&Toml, "[a]\nx = 1\n\n[b]\ny = 2\n", "b"),
        "[a]\nx = 1\n"
    );
    assert_eq!(remove(&Toml, "a = 1\nb = 2", "b"), "a = 1");
    let p = Toml.parse(&remove(&Toml, DOC, "db.inline")).unwrap();
    assert!(values(&p)
        .iter()
        .all(|(path, ..)| !path.starts_with("db.inline")));
}

#[test]
fn errors_name_paths_not_values() {
    let p = Toml.parse(DOC).unwrap();
    for path in [
        "db.ports.x",
        "srv.x",
        "title.x",
        "title",
        "sops.x",
        "srv[0].x",
    ] {
        let e = Toml
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
    for bad in [
        "nope",
        "db.ports[3]",
        "title.x",
        "sops",
        "sops.version",
        "srv[2]",
    ] {
        let e = Toml
            .remove(DOC, &p, &KeyPath::parse(bad).unwrap())
            .unwrap_err();
        assert!(matches!(e, FormatError::PathNotFound(_)), "{bad}");
    }
}

proptest! {
    #[test]
    fn remove_then_insert_keeps_values(
        root in tests::body(),
        tables in prop::collection::vec((prop_oneof![Just("[t{}]"), Just("[x.y{}] # h")], tests::body()), 0..3),
        meta in any::<bool>(),
    ) {
        let mut text = root;
        for (i, (header, b)) in tables.iter().enumerate() {
            text.push_str(&header.replace("{}", &i.to_string()));
            text.push('\n');
            text.push_str(b);
        }
        if meta {
            text.push_str("\n[sops]\nversion = \"1\"\n");
        }
        if Toml.parse(&text).is_err() { return Ok(()); }
        if let Err(e) = remove_insert_round_trip(&Toml, &text) {
            prop_assert!(false, "{}", e);
        }
    }
}
