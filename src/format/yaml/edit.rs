//! Structural edits (`insert`, `remove`) for YAML, over a light tree of the
//! first document built from granit events: block entries are added and
//! deleted as whole lines at the collection's indentation, flow entries as
//! items with one comma.

use std::ops::Range;

use granit_parser::{Event, ScalarStyle, StructureStyle};

use super::emit::{double_quoted, plain_safe};
use super::parse::{self, col_of, line_start};
use super::{Yaml, FORMAT};
use crate::format::text::{after_line_of, line_removal, newline_style};
use crate::format::{
    flow_item_removal, insert_keys, insert_leaf, unrepresentable, FormatError, LeafStyle,
    ParsedFile, Replacement, Splice, Syntax,
};
use crate::path::{KeyPath, Segment};

enum Kind {
    Scalar,
    /// Entries: key, key start, key end, value.
    Map(Vec<(String, usize, usize, Node)>),
    /// Items: start (the `-` in block style), value.
    Seq(Vec<(usize, Node)>),
}

struct Node {
    kind: Kind,
    flow: bool,
    /// Flow collections: the bracket offsets.
    open: usize,
    close: usize,
    /// End of the node's last token.
    end: usize,
}

impl Node {
    fn collection(is_map: bool, flow: bool, open: usize) -> Self {
        Node {
            kind: if is_map {
                Kind::Map(Vec::new())
            } else {
                Kind::Seq(Vec::new())
            },
            flow,
            open,
            close: open,
            end: open,
        }
    }
}

/// The `-` before `at` on its line, skipping spaces and node properties.
fn dash_before(text: &str, at: usize) -> Option<usize> {
    let head = &text[line_start(text, at)..at];
    let mut rest = head.trim_end();
    loop {
        let (before, tok) = match rest.rfind([' ', '\t']) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => ("", rest),
        };
        if tok == "-" {
            return Some(line_start(text, at) + before.len() + usize::from(!before.is_empty()));
        }
        if !(tok.starts_with('&') || tok.starts_with('!')) || tok.is_empty() {
            return None;
        }
        rest = before.trim_end();
    }
}

/// A mapping key: text, start, end.
type Key = (String, usize, usize);

/// The first document's root node (`None` for an empty document).
fn tree(text: &str) -> Result<Option<Node>, FormatError> {
    let events = parse::events(text)?;
    // Open collections, each with the key read and waiting for its value.
    let mut stack: Vec<(Node, Option<Key>)> = Vec::new();
    let mut root = None;
    for (ev, span) in &events {
        let r = span
            .byte_range()
            .ok_or(FormatError::Internal("parser event without byte offsets"))?;
        let node = match ev {
            Event::DocumentEnd if root.is_some() || !stack.is_empty() => break,
            Event::MappingStart(style, ..) | Event::SequenceStart(style, ..) => {
                let is_map = matches!(ev, Event::MappingStart(..));
                stack.push((
                    Node::collection(is_map, *style == StructureStyle::Flow, r.start),
                    None,
                ));
                continue;
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let Some((mut n, _)) = stack.pop() else {
                    return Err(FormatError::Internal("unbalanced collection end"));
                };
                if n.flow {
                    n.close = r.start;
                    n.end = r.end;
                }
                n
            }
            Event::Scalar(v, style, ..) => {
                let end = if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                    r.start + text[r.start..r.end.min(text.len())].trim_end().len()
                } else {
                    r.end
                };
                if let Some((top, pending @ None)) = stack.last_mut() {
                    if matches!(top.kind, Kind::Map(_)) {
                        *pending = Some((v.to_string(), r.start, r.end));
                        top.end = top.end.max(r.end);
                        continue;
                    }
                }
                Node {
                    kind: Kind::Scalar,
                    flow: false,
                    open: r.start,
                    close: r.start,
                    end,
                }
            }
            Event::Alias(_) => Node {
                kind: Kind::Scalar,
                flow: false,
                open: r.start,
                close: r.start,
                end: r.end,
            },
            _ => continue,
        };
        // Attach the finished node to its parent.
        match stack.last_mut() {
            None => {
                if root.is_none() {
                    root = Some(node);
                }
            }
            Some((parent, pending)) => {
                parent.end = parent.end.max(node.end);
                match &mut parent.kind {
                    Kind::Map(entries) => {
                        let (k, ks, ke) = pending
                            .take()
                            .ok_or(FormatError::Internal("complex yaml key"))?;
                        parent.end = parent.end.max(ke);
                        entries.push((k, ks, ke, node));
                    }
                    Kind::Seq(items) => {
                        let start = if parent.flow {
                            node.open
                        } else {
                            dash_before(text, node.open).unwrap_or(node.open)
                        };
                        items.push((start, node));
                    }
                    Kind::Scalar => {}
                }
            }
        }
    }
    Ok(root)
}

fn key_text(k: &str, flow: bool) -> String {
    if plain_safe(k, flow) {
        k.to_owned()
    } else {
        double_quoted(k)
    }
}

pub(super) fn insert(
    syn: &Yaml,
    text: &str,
    parsed: &ParsedFile,
    path: &KeyPath,
    value: &Replacement<'_>,
) -> Result<Vec<Splice>, FormatError> {
    let keys = insert_keys(FORMAT, path)?;
    let nl = newline_style(text);
    let step = parse::parse_full(text)?.step.unwrap_or(2).clamp(1, 9);
    let root = tree(text)?;
    let mut cur = match &root {
        Some(n) => n,
        None if parsed.documents > 1 => {
            return Err(unrepresentable(FORMAT, path, "the first document is empty"))
        }
        None => {
            // An empty document: the entry opens a root mapping.
            let block = block_entry(syn, &keys, 0, step, nl, value, path)?;
            let mut t = String::new();
            if !text.is_empty() && !text.ends_with('\n') {
                t.push_str(nl);
            }
            t.push_str(&block);
            return Ok(vec![Splice {
                range: text.len()..text.len(),
                text: t,
            }]);
        }
    };
    let mut depth = 0;
    while depth < keys.len() {
        let Kind::Map(entries) = &cur.kind else {
            unreachable!("only mappings are descended into")
        };
        let Some((_, _, _, v)) = entries.iter().find(|(k, ..)| k == keys[depth]) else {
            break;
        };
        if depth + 1 == keys.len() {
            return Err(unrepresentable(FORMAT, path, "the key already exists"));
        }
        match v.kind {
            Kind::Map(_) => cur = v,
            Kind::Seq(_) => {
                return Err(unrepresentable(
                    FORMAT,
                    path,
                    "a new entry cannot be added through a list",
                ))
            }
            Kind::Scalar => return Err(unrepresentable(FORMAT, path, "the parent is a scalar")),
        }
        depth += 1;
    }
    let missing = &keys[depth..];
    let Kind::Map(entries) = &cur.kind else {
        unreachable!()
    };
    if cur.flow {
        let leaf = insert_leaf(
            path,
            0..0,
            LeafStyle {
                flow: true,
                indent: 0,
                block: false,
                empty_list: false,
            },
        );
        let v = syn.render("", &leaf, value)?;
        let mut entry = v;
        for k in missing.iter().skip(1).rev() {
            entry = format!("{{{}: {entry}}}", key_text(k, true));
        }
        let entry = format!("{}: {entry}", key_text(missing[0], true));
        let (at, t) = match entries.last() {
            Some((.., v)) => (v.end, format!(", {entry}")),
            None => (cur.open + 1, entry),
        };
        return Ok(vec![Splice {
            range: at..at,
            text: t,
        }]);
    }
    let data: Vec<_> = entries
        .iter()
        .filter(|(k, ..)| depth > 0 || k != "sops")
        .collect();
    let first = entries
        .first()
        .ok_or(FormatError::Internal("empty block mapping"))?;
    let col = col_of(text, first.1);
    let block = block_entry(syn, missing, col, step, nl, value, path)?;
    let at = match data.last() {
        Some((_, ks, ke, v)) => after_line_of(text, v.end.max(*ke).max(*ks + 1) - 1),
        None => line_start(text, first.1),
    };
    let t = if at > 0 && !text[..at].ends_with('\n') {
        format!("{nl}{}", block.strip_suffix(nl).unwrap_or(&block))
    } else {
        block
    };
    Ok(vec![Splice {
        range: at..at,
        text: t,
    }])
}

/// `k1:\n  k2: value\n` at column `col`, every line ending with `nl`.
fn block_entry(
    syn: &Yaml,
    keys: &[&str],
    col: usize,
    step: usize,
    nl: &str,
    value: &Replacement<'_>,
    path: &KeyPath,
) -> Result<String, FormatError> {
    let mut out = String::new();
    let mut ind = col;
    for (i, k) in keys.iter().enumerate() {
        out.push_str(&" ".repeat(ind));
        out.push_str(&key_text(k, false));
        out.push(':');
        if i + 1 < keys.len() {
            out.push_str(nl);
            ind += step;
        }
    }
    // Render in a neutral document with the file's step and line break, at
    // the key's column, so block scalars get the right indentation.
    let probe = format!("a:{nl}{}k: {nl}", " ".repeat(step));
    let at = probe.len() - nl.len();
    let leaf = insert_leaf(
        path,
        at..at,
        LeafStyle {
            flow: false,
            indent: crate::format::to_u32(ind),
            block: false,
            empty_list: false,
        },
    );
    let v = syn.render(&probe, &leaf, value)?;
    out.push(' ');
    out.push_str(&v);
    out.push_str(nl);
    Ok(out)
}

pub(super) fn remove(
    _syn: &Yaml,
    text: &str,
    _parsed: &ParsedFile,
    path: &KeyPath,
) -> Result<Vec<Splice>, FormatError> {
    let not_found = || FormatError::PathNotFound(path.clone());
    if path.keys().next().is_none_or(|k| k == "sops")
        || matches!(path.segments().first(), Some(Segment::Index(_)))
    {
        return Err(not_found());
    }
    let root = tree(text)?.ok_or_else(not_found)?;
    let mut cur = &root;
    // The key that owns `cur` (its start and end), for an emptied block.
    let mut owner: Option<(usize, usize)> = None;
    let segs = path.segments();
    for (depth, seg) in segs.iter().enumerate() {
        #[allow(clippy::type_complexity)]
        let (items, i, child, key): (
            Vec<Range<usize>>,
            usize,
            &Node,
            Option<(usize, usize)>,
        ) = match (&cur.kind, seg) {
            (Kind::Map(entries), Segment::Key(k)) => {
                let i = entries
                    .iter()
                    .position(|e| e.0 == *k)
                    .ok_or_else(not_found)?;
                let items = entries
                    .iter()
                    .map(|(_, ks, ke, v)| *ks..v.end.max(*ke))
                    .collect();
                let e = &entries[i];
                (items, i, &e.3, Some((e.1, e.2)))
            }
            (Kind::Seq(xs), Segment::Index(ix)) => {
                let x = xs.get(*ix).ok_or_else(not_found)?;
                let items = xs.iter().map(|(s, v)| *s..v.end.max(*s + 1)).collect();
                (items, *ix, &x.1, None)
            }
            _ => return Err(not_found()),
        };
        if depth + 1 < segs.len() {
            cur = child;
            owner = key;
            continue;
        }
        if cur.flow {
            return Ok(vec![Splice {
                range: flow_item_removal(&items, i, cur.open + 1..cur.close),
                text: String::new(),
            }]);
        }
        let me = items[i].clone();
        let at_line_start = text[line_start(text, me.start)..me.start].trim().is_empty();
        let empty = if matches!(cur.kind, Kind::Map(_)) {
            "{}"
        } else {
            "[]"
        };
        if !at_line_start {
            // First entry of a collection that starts after a `- `.
            return Ok(vec![match items.get(i + 1) {
                Some(next) => Splice {
                    range: me.start..next.start,
                    text: String::new(),
                },
                None => Splice {
                    range: me.clone(),
                    text: empty.to_owned(),
                },
            }]);
        }
        let mut out = vec![Splice {
            range: line_removal(text, me.start, me.end),
            text: String::new(),
        }];
        if items.len() == 1 {
            if let Some((_, ke)) = owner {
                // `key:` keeps an empty collection: ` {}` before any comment.
                let line_end = after_line_of(text, ke);
                let rest = &text[ke..line_end];
                let mut cut = rest
                    .find(" #")
                    .or_else(|| rest.find("\t#"))
                    .unwrap_or(rest.len());
                cut = rest[..cut].trim_end().len();
                out.push(Splice {
                    range: ke + cut..ke + cut,
                    text: format!(" {empty}"),
                });
            }
        }
        return Ok(out);
    }
    Err(not_found())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::edit_testing::{insert, remove, remove_insert_round_trip, values};
    use crate::format::ValueType;
    use proptest::prelude::*;

    const DOC: &str = "# top\nname: app # inline\ndb:\n    user: admin\n    # about pass\n    pass: \"s3 cret\"\n    deep:\n        k: 1\nlist:\n    - a\n    - b: 1\n      c: 2\n    - c\nflow: {a: 1, b: [x, y]}\nsops:\n    version: 3.11.0\n";

    #[test]
    fn inserts_in_block_and_flow_mappings() {
        let s = ValueType::Str;
        assert_eq!(
            insert(&Yaml, DOC, "db.port", ValueType::Int, "5432"),
            DOC.replace("        k: 1\n", "        k: 1\n    port: 5432\n")
        );
        assert_eq!(
            insert(&Yaml, DOC, "top", s, "true"),
            DOC.replace("y]}\n", "y]}\ntop: \"true\"\n")
        );
        assert_eq!(
            insert(&Yaml, DOC, "db.new.sub", s, "x"),
            DOC.replace("        k: 1\n", "        k: 1\n    new:\n        sub: x\n")
        );
        assert_eq!(
            insert(&Yaml, DOC, "flow.c.d", s, "a, b"),
            DOC.replace("[x, y]}", "[x, y], c: {d: \"a, b\"}}")
        );
        assert_eq!(
            insert(&Yaml, DOC, "db.text", s, "l1\nl2\n"),
            DOC.replace(
                "        k: 1\n",
                "        k: 1\n    text: |\n        l1\n        l2\n"
            )
        );
        assert_eq!(
            insert(&Yaml, "a:\r\n  b: 1\r\n", "a.c", s, "x"),
            "a:\r\n  b: 1\r\n  c: x\r\n"
        );
        assert_eq!(insert(&Yaml, "a: 1", "b.c", s, "x"), "a: 1\nb:\n  c: x");
        assert_eq!(insert(&Yaml, "", "b", s, "x"), "b: x\n");
        assert_eq!(insert(&Yaml, "a: {}\n", "a.b", s, "x"), "a: {b: x}\n");
        assert_eq!(
            insert(&Yaml, "a: 1\n---\nb: 2\n", "c", s, "x"),
            "a: 1\nc: x\n---\nb: 2\n"
        );
        assert_eq!(
            insert(&Yaml, "sops:\n  version: 1\n", "a", s, "x"),
            "a: x\nsops:\n  version: 1\n"
        );
    }

    #[test]
    fn removes_lines_subtrees_items_and_flow_entries() {
        assert_eq!(
            remove(&Yaml, DOC, "name"),
            DOC.replace("name: app # inline\n", "")
        );
        assert_eq!(
            remove(&Yaml, DOC, "db.pass"),
            DOC.replace("    pass: \"s3 cret\"\n", "")
        );
        assert_eq!(
            remove(&Yaml, DOC, "db"),
            DOC.replace(
                "db:\n    user: admin\n    # about pass\n    pass: \"s3 cret\"\n    deep:\n        k: 1\n",
                ""
            )
        );
        assert_eq!(
            remove(&Yaml, DOC, "db.deep.k"),
            DOC.replace("deep:\n        k: 1\n", "deep: {}\n")
        );
        assert_eq!(remove(&Yaml, DOC, "list[0]"), DOC.replace("    - a\n", ""));
        assert_eq!(
            remove(&Yaml, DOC, "list[1]"),
            DOC.replace("    - b: 1\n      c: 2\n", "")
        );
        assert_eq!(
            remove(&Yaml, DOC, "list[1].b"),
            DOC.replace("- b: 1\n      c: 2", "- c: 2")
        );
        assert_eq!(
            remove(&Yaml, DOC, "list[1].c"),
            DOC.replace("      c: 2\n", "")
        );
        assert_eq!(
            remove(&Yaml, DOC, "flow.a"),
            DOC.replace("{a: 1, b:", "{b:")
        );
        assert_eq!(
            remove(&Yaml, DOC, "flow.b[1]"),
            DOC.replace("[x, y]", "[x]")
        );
        assert_eq!(remove(&Yaml, "a: {b: 1}\n", "a.b"), "a: {}\n");
        assert_eq!(remove(&Yaml, "l:\n- x\n", "l[0]"), "l: []\n");
        assert_eq!(remove(&Yaml, "l:\n  - k: v\n", "l[0].k"), "l:\n  - {}\n");
        assert_eq!(
            remove(&Yaml, "a:\r\n  b: 1\r\n  c: 2\r\n", "a.b"),
            "a:\r\n  c: 2\r\n"
        );
        assert_eq!(remove(&Yaml, "a: 1\nb: 2", "b"), "a: 1");
        let out = remove(&Yaml, "a:\n  b: |\n    x\n    y\n  c: 1\n", "a.b");
        assert_eq!(out, "a:\n  c: 1\n");
        let p = Yaml
            .parse(&remove(&Yaml, "a: 1\n---\na: 2\n", "a"))
            .unwrap();
        assert_eq!(values(&p).len(), 1);
    }

    #[test]
    fn errors_name_paths_not_values() {
        let p = Yaml.parse(DOC).unwrap();
        for path in [
            "list.x",
            "name.x",
            "name",
            "sops.x",
            "list[0].x",
            "flow.b.x",
        ] {
            let e = Yaml
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
            "list[3]",
            "name.x",
            "sops",
            "sops.version",
            "flow.b[2]",
        ] {
            let e = Yaml
                .remove(DOC, &p, &KeyPath::parse(bad).unwrap())
                .unwrap_err();
            assert!(matches!(e, FormatError::PathNotFound(_)), "{bad}");
        }
    }

    fn scalar() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z][a-z ]{0,5}[a-z]".prop_map(|s| s),
            "-?[0-9]{1,4}".prop_map(|s| s),
            Just("1.5".to_owned()),
            Just("true".to_owned()),
            Just("2024-01-02".to_owned()),
            "[a-z #:]{0,6}".prop_map(|s| double_quoted(&s)),
            Just("|\n  l1\n  l2".to_owned()),
        ]
    }

    #[derive(Debug, Clone)]
    enum Y {
        S(String),
        M(Vec<(String, Y)>),
        F(Vec<(String, String)>),
        L(Vec<String>),
    }

    fn y() -> impl Strategy<Value = Y> {
        let leaf = prop_oneof![
            scalar().prop_map(Y::S),
            prop::collection::vec(("[a-z]{1,2}", "[a-z0-9]{1,3}"), 0..3).prop_map(Y::F),
            prop::collection::vec("[a-z0-9]{1,3}", 1..3).prop_map(Y::L),
        ];
        leaf.prop_recursive(3, 12, 4, |inner| {
            prop::collection::vec(("[a-z]{1,2}", inner), 1..4).prop_map(Y::M)
        })
    }

    fn write(entries: &[(String, Y)], ind: usize, out: &mut String) {
        let mut seen = std::collections::HashSet::new();
        for (k, v) in entries {
            if !seen.insert(k.clone()) {
                continue;
            }
            let pad = " ".repeat(ind);
            match v {
                Y::S(s) => {
                    let s = s.replace('\n', &format!("\n{pad}"));
                    out.push_str(&format!("{pad}{k}: {s}\n"));
                }
                Y::F(kv) => {
                    let mut seen = std::collections::HashSet::new();
                    let parts: Vec<String> = kv
                        .iter()
                        .filter(|(k, _)| seen.insert(k.clone()))
                        .map(|(k, v)| format!("{k}: {v}"))
                        .collect();
                    out.push_str(&format!("{pad}{k}: {{{}}}\n", parts.join(", ")));
                }
                Y::L(items) => {
                    out.push_str(&format!("{pad}{k}:\n"));
                    for i in items {
                        out.push_str(&format!("{pad}- {i}\n"));
                    }
                }
                Y::M(m) => {
                    out.push_str(&format!("{pad}{k}:\n"));
                    write(m, ind + 2, out);
                }
            }
        }
    }

    proptest! {
        #[test]
        fn remove_then_insert_keeps_values(
            entries in prop::collection::vec(("[a-z]{1,2}", y()), 1..5),
            comment in any::<bool>(),
            meta in any::<bool>(),
            crlf in any::<bool>(),
        ) {
            let mut text = String::new();
            if comment {
                text.push_str("# head\n");
            }
            write(&entries, 0, &mut text);
            if meta {
                text.push_str("sops:\n    version: 3.11.0\n");
            }
            if crlf {
                text = text.replace('\n', "\r\n");
            }
            if let Err(e) = Yaml.parse(&text) {
                prop_assert!(false, "generated text does not parse: {}\n{}", e, text);
            }
            if let Err(e) = remove_insert_round_trip(&Yaml, &text) {
                prop_assert!(false, "{}", e);
            }
        }
    }
}
