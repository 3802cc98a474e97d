//! JSON structural edits: inserting a member (with any missing parent
//! objects) and removing a member or array item, in the file's own layout
//! (see [`super::Layout`]). Each edit re-scans the text it is given; the
//! separator rules (one comma per removal) are [`super::removal_span`]'s and
//! `flow_item_removal`'s.

use super::*;

/// The indentation of the line holding `at` (its leading whitespace).
fn indent_at(text: &str, at: usize) -> &str {
    let start = crate::format::text::line_start_of(text, at);
    let line = &text[start..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// Writes `{"k": {"k2": value}}` for the missing keys `keys`, at nesting
/// `indent` (the indentation of the line the object opens on).
fn nested_object(keys: &[&str], value: &str, indent: &str, layout: &Layout) -> String {
    let Some((first, rest)) = keys.split_first() else {
        return value.to_owned();
    };
    let inner = match &layout.pretty {
        Some(p) => format!("{indent}{}", p.unit),
        None => String::new(),
    };
    let body = format!(
        "{}{}{}",
        quote(first),
        layout.colon,
        nested_object(rest, value, &inner, layout)
    );
    match &layout.pretty {
        Some(p) => format!("{{{nl}{inner}{body}{nl}{indent}}}", nl = p.newline),
        None => format!("{{{body}}}"),
    }
}

impl Json {
    pub(super) fn insert_member(
        &self,
        text: &str,
        path: &KeyPath,
        value: &Replacement<'_>,
    ) -> Result<Vec<Splice>, FormatError> {
        let keys = crate::format::insert_keys(FORMAT, path)?;
        let leaf = crate::format::insert_leaf(
            path,
            0..0,
            LeafStyle {
                flow: true,
                indent: 0,
                block: false,
                empty_list: false,
            },
        );
        let rendered = self.render(text, &leaf, value)?;
        let scan = scan(text, false)?;
        let layout = detect_layout(text, &scan);
        let mut p = Parser::new(text);
        let mut cur = node(&mut p)?;
        let mut depth = 0;
        while depth < keys.len() {
            let Node::Object { members, .. } = &cur else {
                unreachable!("only objects are descended into")
            };
            match members.iter().position(|(k, _, _)| k == keys[depth]) {
                None => break,
                Some(i) => {
                    if depth + 1 == keys.len() {
                        return Err(crate::format::unrepresentable(
                            FORMAT,
                            path,
                            "the key already exists",
                        ));
                    }
                    match &members[i].2 {
                        Node::Object { .. } => {}
                        Node::Array { .. } => {
                            return Err(crate::format::unrepresentable(
                                FORMAT,
                                path,
                                "a new entry cannot be added through a list",
                            ))
                        }
                        Node::Scalar(_) => {
                            return Err(crate::format::unrepresentable(
                                FORMAT,
                                path,
                                "the parent is a scalar",
                            ))
                        }
                    }
                    let Node::Object { mut members, .. } = cur else {
                        unreachable!()
                    };
                    cur = members.swap_remove(i).2;
                    depth += 1;
                }
            }
        }
        let Node::Object {
            open,
            close,
            members,
        } = &cur
        else {
            unreachable!()
        };
        let multiline = text[*open..*close].contains('\n');
        let (member_indent, unit_layout) = if multiline {
            let pretty = layout.pretty.as_ref().map_or_else(
                || Pretty {
                    unit: "\t".into(),
                    newline: crate::format::text::newline_style(text),
                },
                |p| Pretty {
                    unit: p.unit.clone(),
                    newline: p.newline,
                },
            );
            let ind = match members.first() {
                Some((_, k, _)) => indent_at(text, *k).to_owned(),
                None => format!("{}{}", indent_at(text, *close), pretty.unit),
            };
            (
                ind,
                Layout {
                    pretty: Some(pretty),
                    colon: layout.colon.clone(),
                    comma: layout.comma.clone(),
                },
            )
        } else {
            (
                String::new(),
                Layout {
                    pretty: None,
                    colon: layout.colon.clone(),
                    comma: layout.comma.clone(),
                },
            )
        };
        let rest = &keys[depth + 1..];
        let member = format!(
            "{}{}{}",
            quote(keys[depth]),
            unit_layout.colon,
            nested_object(rest, &rendered, &member_indent, &unit_layout)
        );
        let (at, t) = match (members.last(), &unit_layout.pretty) {
            (Some((_, _, v)), Some(pr)) => (
                v.span().end,
                format!(",{}{member_indent}{member}", pr.newline),
            ),
            (Some((_, _, v)), None) => (v.span().end, format!("{}{member}", layout.comma)),
            (None, Some(pr)) => (open + 1, format!("{}{member_indent}{member}", pr.newline)),
            (None, None) => (open + 1, member),
        };
        Ok(vec![Splice {
            range: at..at,
            text: t,
        }])
    }

    pub(super) fn remove_node(
        &self,
        text: &str,
        path: &KeyPath,
    ) -> Result<Vec<Splice>, FormatError> {
        use crate::path::Segment;
        let not_found = || FormatError::PathNotFound(path.clone());
        if path.is_root() || path.segments()[0] == Segment::Key("sops".into()) {
            return Err(not_found());
        }
        let mut p = Parser::new(text);
        let mut cur = node(&mut p)?;
        let segs = path.segments();
        for (depth, seg) in segs.iter().enumerate() {
            let (items, open, close): (Vec<Range<usize>>, usize, usize);
            let i;
            let child;
            match (cur, seg) {
                (
                    Node::Object {
                        open: o,
                        close: c,
                        mut members,
                    },
                    Segment::Key(k),
                ) => {
                    i = members
                        .iter()
                        .position(|(mk, _, _)| mk == k)
                        .ok_or_else(not_found)?;
                    items = members.iter().map(|(_, ks, v)| *ks..v.span().end).collect();
                    (open, close) = (o, c);
                    child = members.swap_remove(i).2;
                }
                (
                    Node::Array {
                        open: o,
                        close: c,
                        items: mut xs,
                    },
                    Segment::Index(ix),
                ) => {
                    if *ix >= xs.len() {
                        return Err(not_found());
                    }
                    i = *ix;
                    items = xs.iter().map(Node::span).collect();
                    (open, close) = (o, c);
                    child = xs.swap_remove(i);
                }
                _ => return Err(not_found()),
            }
            if depth + 1 == segs.len() {
                return Ok(vec![Splice {
                    range: crate::format::flow_item_removal(&items, i, open + 1..close),
                    text: String::new(),
                }]);
            }
            cur = child;
        }
        Err(not_found())
    }
}
