//! Tests of the duplicate-key check: escaped twins, nested objects, large
//! objects (the hash index), hash collisions, and which error wins when a
//! duplicate and a syntax error are both in the text.

use super::*;

fn err_of(text: &str) -> FormatError {
    Json.parse(text).expect_err("must fail")
}

/// The message a user sees for `text`, which must fail.
fn message(text: &str) -> String {
    err_of(text).to_string()
}

/// `n` members `"k0": 0, ...` one a line, each line ending in a comma.
fn many(n: usize) -> String {
    (0..n).map(|i| format!("\"k{i}\": {i},\n")).collect()
}

#[test]
fn an_escaped_key_equals_its_unescaped_twin() {
    assert_eq!(
        message("{\"a\":1,\"\\u0061\":2}"),
        "duplicate key a at line 1"
    );
    assert_eq!(
        message("{\"\\u0061\":1,\"a\":2}"),
        "duplicate key a at line 1"
    );
    assert_eq!(
        message("{\"\\u0061\":1,\n\"\\u0061\":2}"),
        "duplicate key a at line 2"
    );
    assert_eq!(
        message("{\"a/b\":1,\n\n\"a\\/b\":2}"),
        "duplicate key a/b at line 3"
    );
    // A surrogate pair and the character itself.
    assert_eq!(
        message("{\"\u{1F600}\":1,\n\"\\ud83d\\ude00\":2}"),
        "duplicate key \u{1F600} at line 2"
    );
    // Past the scanned keys, through the index.
    let text = format!("{{\n\"a\": 1,\n{}\"\\u0061\": 2}}", many(40));
    assert_eq!(message(&text), "duplicate key a at line 43");
    let text = format!("{{\n\"\\u0061\": 1,\n{}\"a\": 2}}", many(40));
    assert_eq!(message(&text), "duplicate key a at line 43");
}

#[test]
fn keys_differing_only_after_an_escape_are_distinct() {
    assert!(Json
        .parse("{\"a\":1,\"\\u0061b\":2,\"ab\\n\":3,\"abc\":4}")
        .is_ok());
    let text = format!("{{{}\"\\u0061\\u0062\": 1, \"a\\u0062c\": 2}}", many(20));
    assert!(Json.parse(&text).is_ok());
}

#[test]
fn duplicates_are_per_object_at_every_depth() {
    // The same key in sibling objects, in parent and child: no duplicate.
    let ok = [
        "{\"a\": {\"x\": 1}, \"b\": {\"x\": 2}}",
        "{\"x\": {\"x\": 1, \"y\": 2}, \"y\": 3}",
        "{\"l\": [{\"x\": 1}, {\"x\": 2}], \"x\": 3}",
    ];
    for text in ok {
        assert!(Json.parse(text).is_ok(), "{text}");
    }
    let big_child = format!("{{\"a\": 1, \"c\": {{{}\"a\": 1}}, \"b\": 2}}", many(30));
    assert!(Json.parse(&big_child).is_ok());

    assert_eq!(
        message("{\"a\": {\"b\": {\"c\": 1,\n\"c\": 2}}}"),
        "duplicate key a.b.c at line 2"
    );
    // After a large nested object, the parent still knows its own keys.
    let text = format!("{{\"a\": 1, \"c\": {{\n{}\"z\": 0}},\n\"a\": 2}}", many(30));
    assert_eq!(message(&text), "duplicate key a at line 33");
    // In a large object, after a nested one, inside an array.
    let text = format!(
        "{{\"l\": [1, {{\n{}\"o\": {{\"k1\": 1}},\n\"k1\": 2}}]}}",
        many(12)
    );
    assert_eq!(message(&text), "duplicate key l[1].k1 at line 15");
    // The first key of a large object, repeated last.
    let text = format!("{{\n{}\"k0\": 0}}", many(1000));
    assert_eq!(message(&text), "duplicate key k0 at line 1002");
}

#[test]
fn the_first_error_in_the_text_is_reported() {
    // A duplicate before a syntax error: the duplicate.
    assert_eq!(
        message("{\"a\": 1,\n\"a\": 2,\n\"b\": tru}"),
        "duplicate key a at line 2"
    );
    // The duplicate key's own value is bad: the key comes first.
    assert_eq!(
        message("{\"a\": 1,\n\"a\": tru}"),
        "duplicate key a at line 2"
    );
    assert_eq!(
        message("{\"a\": 1,\n\"a\": 2,"),
        "duplicate key a at line 2"
    );
    assert_eq!(
        message("{\"a\": 1,\n\"b\": {\"c\": 1, \"c\": 2} x,\n\"a\": 2}"),
        "duplicate key b.c at line 2"
    );
    let text = format!("{{\n{}\"k3\": 1, \"x\": [1,]}}", many(20));
    assert_eq!(message(&text), "duplicate key k3 at line 22");
    // A syntax error before the duplicate, at any depth: the syntax error.
    for text in [
        "{\"a\": 1,\n\"b\": tru,\n\"a\": 2}",
        "{\"a\": 1,\n\"b\": {\"c\": tru},\n\"a\": 2}",
        "{\"a\": 1,\n\"b\": {\"c\": 1} x,\n\"a\": 2}",
    ] {
        match err_of(text) {
            FormatError::Syntax { line, .. } => assert_eq!(line, 2, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    let text = format!("{{\n{}\"k\": 1 1,\n\"k0\": 2}}", many(20));
    match err_of(&text) {
        FormatError::Syntax { line, column, .. } => assert_eq!((line, column), (22, 8)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn duplicate_errors_never_show_values() {
    let text = "{\"token\": \"secret-1\",\n\"token\": \"secret-2\"}";
    let m = message(text);
    assert_eq!(m, "duplicate key token at line 2");
    assert!(!m.contains("secret"));
}

#[test]
fn large_objects_report_the_first_error_in_the_text() {
    let big = many(20);
    // The deferred check of a large object against later errors in it.
    for (text, want) in [
        (
            format!("{{\n{big}\"k0\": 1,}}"),
            "duplicate key k0 at line 22",
        ),
        (
            format!("{{\n{big}\"k0\" 1}}"),
            "duplicate key k0 at line 22",
        ),
        (
            format!("{{\n{big}\"k0\": 1, \"x\": {{\"y\": tru}}}}"),
            "duplicate key k0 at line 22",
        ),
        (format!("{{\n{big}\"k0\": 1"), "duplicate key k0 at line 22"),
        // Parent and child both large, the parent's duplicate first.
        (
            format!("{{\n{big}\"k1\": 1,\n\"c\": {{\n{big}\"k0\": 2}}}}"),
            "duplicate key k1 at line 22",
        ),
        // The child's duplicate first.
        (
            format!("{{\"c\": {{\n{big}\"k0\": 1}},\n{big}\"k0\": 2}}"),
            "duplicate key c.k0 at line 22",
        ),
        (
            format!("{{\"l\": [{{\n{big}\"k5\": 1}}], \"l\": 2}}"),
            "duplicate key l[0].k5 at line 22",
        ),
    ] {
        assert_eq!(message(&text), want, "{text}");
    }
    // A syntax error first, in the object or in a child.
    for text in [
        format!("{{\n{big}\"x\": tru,\n\"k0\": 1}}"),
        format!("{{\n{big}\"x\": {{\"y\": tru}},\n\"k0\": 1}}"),
        format!("{{\n{big}\"x\": {{\n{big}\"y\": tru}},\n\"k0\": 1}}"),
    ] {
        match err_of(&text) {
            FormatError::Syntax { .. } => {}
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn equal_hashes_of_distinct_keys_are_not_duplicates() {
    // Collisions forced through `seen_before`: only equal texts are
    // duplicates.
    let text = "{\"a\":0,\"b\":0,\"\\u0061\":0}";
    let mut p = Parser::new(text);
    assert!(!p.seen_before(0, "a", 7, 1).unwrap());
    assert!(!p.seen_before(0, "b", 7, 7).unwrap());
    assert!(p.seen_before(0, "a", 7, 13).unwrap());
    assert!(p.seen_before(0, "b", 7, 13).unwrap());
}

#[test]
fn the_sorted_check_finds_the_first_duplicate_among_collisions() {
    // One hash for all: the earliest key equal to an earlier one is the
    // second "b", not the second "a".
    let text = "{\"a\":0,\"b\":0,\"c\":0,\"b\":0,\"\\u0061\":0}";
    let starts: Vec<usize> = text.match_indices("\":").map(|(i, _)| i).collect();
    let starts: Vec<usize> = starts
        .iter()
        .map(|&end| text[..end].rfind(",\"").map_or(1, |c| c + 1))
        .collect();
    for hash in [|_: usize| 42u64, |i: usize| i as u64 % 2] {
        let mut p = Parser::new(text);
        for (i, &start) in starts.iter().enumerate() {
            p.keys.push(Mark {
                hash: hash(i),
                position: start,
            });
        }
        let at = p.first_duplicate(0).unwrap();
        assert_eq!(at, Some(starts[3]));
    }
    // Distinct texts under one hash: no duplicate.
    let mut p = Parser::new(text);
    for &start in &starts[..3] {
        p.keys.push(Mark {
            hash: 42,
            position: start,
        });
    }
    assert_eq!(p.first_duplicate(0).unwrap(), None);
}
