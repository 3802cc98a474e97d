//! Structural edits (`insert`, `remove`) for TOML: whole key lines and
//! whole `[table]` sections in table context, items with one comma inside
//! arrays and inline tables. Positions come from a walk over `toml_edit`'s
//! spans; nothing is re-serialized.

use std::ops::Range;

use toml_edit::{ArrayOfTables, Document, Item, Table, Value};

use super::{key_text, to_error, Toml, FORMAT};
use crate::format::text::{
    after_line_of, line_removal, line_start_of, newline_style, whole_lines, with_blank_lines_before,
};
use crate::format::{
    flow_item_removal, insert_keys, insert_leaf, unrepresentable, FormatError, LeafStyle,
    ParsedFile, Replacement, Splice, Syntax,
};
use crate::path::{KeyPath, Segment};

/// A `key = value` line of a (non-inline) table.
struct Entry {
    path: KeyPath,
    /// The whole lines of the entry.
    lines: Range<usize>,
}

/// The document's line structure.
#[derive(Default)]
struct Structure {
    entries: Vec<Entry>,
    /// Explicit headers (`[a]`, `[[b]]`), the metadata's included: path and
    /// header line start, in document order.
    sections: Vec<(KeyPath, usize)>,
}

fn internal() -> FormatError {
    FormatError::Internal("toml item without a span")
}

impl Structure {
    fn table(&mut self, text: &str, t: &Table, path: &mut KeyPath) -> Result<(), FormatError> {
        for (k, item) in t.iter() {
            path.push_key(k);
            match item {
                Item::None => {}
                Item::Value(v) => {
                    let key = t.key(k).and_then(|k| k.span()).ok_or_else(internal)?;
                    let end = v.span().ok_or_else(internal)?.end;
                    self.entries.push(Entry {
                        path: path.clone(),
                        lines: whole_lines(text, key.start, end),
                    });
                }
                Item::Table(sub) => {
                    if !sub.is_implicit() && !sub.is_dotted() {
                        let h = sub.span().ok_or_else(internal)?;
                        self.sections
                            .push((path.clone(), line_start_of(text, h.start)));
                    }
                    self.table(text, sub, path)?;
                }
                Item::ArrayOfTables(a) => self.tables(text, a, path)?,
            }
            path.pop();
        }
        Ok(())
    }

    fn tables(
        &mut self,
        text: &str,
        a: &ArrayOfTables,
        path: &mut KeyPath,
    ) -> Result<(), FormatError> {
        for (i, sub) in a.iter().enumerate() {
            path.push_index(i);
            let h = sub.span().ok_or_else(internal)?;
            self.sections
                .push((path.clone(), line_start_of(text, h.start)));
            self.table(text, sub, path)?;
            path.pop();
        }
        Ok(())
    }

    fn build(text: &str, doc: &Document<&str>) -> Result<Self, FormatError> {
        let mut s = Structure::default();
        s.table(text, doc.as_table(), &mut KeyPath::root())?;
        s.sections.sort_by_key(|(_, at)| *at);
        Ok(s)
    }

    /// Where section `i` (or the root, `None`) ends: the next header's line.
    fn section_end(&self, i: Option<usize>, text: &str) -> usize {
        let next = i.map_or(0, |i| i + 1);
        self.sections.get(next).map_or(text.len(), |(_, at)| *at)
    }

    /// The end of the last entry line in section `i` (root: `None`).
    fn last_entry_end(&self, i: Option<usize>, text: &str) -> Option<usize> {
        let start = i.map_or(0, |i| self.sections[i].1 + 1);
        let end = self.section_end(i, text);
        self.entries
            .iter()
            .filter(|e| e.lines.start >= start && e.lines.start < end)
            .map(|e| e.lines.end)
            .max()
    }
}

fn dotted(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| key_text(k))
        .collect::<Vec<_>>()
        .join(".")
}

/// Where to descend next, from a table or an inline table.
enum Here<'a> {
    Table(&'a Table),
    Inline(&'a toml_edit::InlineTable, Range<usize>),
}

pub(super) fn insert(
    syn: &Toml,
    text: &str,
    parsed: &ParsedFile,
    path: &KeyPath,
    value: &Replacement<'_>,
) -> Result<Vec<Splice>, FormatError> {
    let keys = insert_keys(FORMAT, path)?;
    let doc = Document::parse(text).map_err(|e| to_error(text, &e))?;
    let st = Structure::build(text, &doc)?;
    let nl = newline_style(text);
    let exists = || unrepresentable(FORMAT, path, "the key already exists");
    let mut here = Here::Table(doc.as_table());
    // The explicit table (header path) that holds `here`, and how `here`
    // is reached from it by dotted keys; `None` for an implicit table.
    let mut owner: Option<KeyPath> = Some(KeyPath::root());
    let mut rel: Vec<&str> = Vec::new();
    let mut depth = 0;
    while depth < keys.len() {
        let k = keys[depth];
        let last = depth + 1 == keys.len();
        let child_path = KeyPath::from_segments(
            keys[..=depth]
                .iter()
                .map(|k| Segment::Key((*k).into()))
                .collect(),
        );
        match here {
            Here::Table(t) => match t.get(k) {
                None | Some(Item::None) => break,
                Some(_) if last => return Err(exists()),
                Some(Item::Table(sub)) => {
                    if sub.is_dotted() {
                        rel.push(k);
                    } else if sub.is_implicit() {
                        owner = None;
                    } else {
                        owner = Some(child_path);
                        rel.clear();
                    }
                    here = Here::Table(sub);
                }
                Some(Item::Value(Value::InlineTable(it))) => {
                    let span = it.span().ok_or_else(internal)?;
                    here = Here::Inline(it, span);
                }
                Some(Item::Value(Value::Array(_)) | Item::ArrayOfTables(_)) => {
                    return Err(unrepresentable(
                        FORMAT,
                        path,
                        "a new entry cannot be added through a list",
                    ))
                }
                Some(Item::Value(_)) => {
                    return Err(unrepresentable(FORMAT, path, "the parent is a scalar"))
                }
            },
            Here::Inline(it, _) => match it.get(k) {
                None => break,
                Some(_) if last => return Err(exists()),
                Some(Value::InlineTable(sub)) => {
                    let span = sub.span().ok_or_else(internal)?;
                    here = Here::Inline(sub, span);
                }
                Some(Value::Array(_)) => {
                    return Err(unrepresentable(
                        FORMAT,
                        path,
                        "a new entry cannot be added through a list",
                    ))
                }
                Some(_) => return Err(unrepresentable(FORMAT, path, "the parent is a scalar")),
            },
        }
        depth += 1;
    }
    let missing = &keys[depth..];
    let flow = matches!(here, Here::Inline(..));
    let leaf = insert_leaf(
        path,
        0..0,
        LeafStyle {
            flow,
            indent: 0,
            block: false,
            empty_list: false,
        },
    );
    let v = syn.render(text, &leaf, value)?;
    let splice = |at: usize, t: String| {
        Ok(vec![Splice {
            range: at..at,
            text: t,
        }])
    };
    if let Here::Inline(it, span) = here {
        let entry = format!("{} = {v}", dotted(missing));
        let last = it.iter().filter_map(|(_, x)| x.span()).map(|s| s.end).max();
        return match last {
            Some(end) => splice(end, format!(", {entry}")),
            None => {
                let inside = &text[span.start + 1..span.end - 1];
                let t = if inside.is_empty() {
                    entry
                } else {
                    format!(" {entry}")
                };
                splice(span.start + 1, t)
            }
        };
    }
    // In table context: a key line in the owning section, or a new table.
    if let (Some(owner), true) = (owner, missing.len() == 1 || !rel.is_empty()) {
        let mut ks = rel.clone();
        ks.extend_from_slice(missing);
        let line = format!("{} = {v}", dotted(&ks));
        let section = if owner.is_root() {
            None
        } else {
            Some(
                st.sections
                    .iter()
                    .position(|(p, _)| *p == owner)
                    .ok_or(FormatError::Internal("toml table header not found"))?,
            )
        };
        let at = st
            .last_entry_end(section, text)
            .or_else(|| section.map(|i| after_line_of(text, st.sections[i].1)));
        return match at {
            Some(at) if at > 0 && !text[..at].ends_with('\n') => splice(at, format!("{nl}{line}")),
            Some(at) => splice(at, format!("{line}{nl}")),
            None => {
                // A first root key: before the first header (and the comment
                // lines right above it), else at the end.
                match st.sections.first() {
                    Some((_, h)) => {
                        let mut at = *h;
                        while at > 0 {
                            let prev = line_start_of(text, at - 1);
                            if !text[prev..at].trim_start().starts_with('#') {
                                break;
                            }
                            at = prev;
                        }
                        splice(at, format!("{line}{nl}{nl}"))
                    }
                    None if !text.is_empty() && !text.ends_with('\n') => {
                        splice(text.len(), format!("{nl}{line}"))
                    }
                    None => splice(text.len(), format!("{line}{nl}")),
                }
            }
        };
    }
    // A new `[table]` at the end of the data (before the metadata).
    let (table, key) = keys.split_at(keys.len() - 1);
    let at = parsed.metadata.first().map_or(text.len(), |m| m.span.start);
    let before = &text[..at];
    let mut t = String::new();
    if !before.is_empty() && !before.ends_with('\n') {
        t.push_str(nl);
    }
    let blank_before =
        before.trim().is_empty() || before.ends_with("\n\n") || before.ends_with("\n\r\n");
    if !blank_before {
        t.push_str(nl);
    }
    t.push_str(&format!("[{}]{nl}{} = {v}{nl}", dotted(table), dotted(key)));
    if text[at..].starts_with('[') {
        t.push_str(nl);
    }
    splice(at, t)
}

/// Where a removal path leads.
enum Found {
    /// In table context (a key line, a table, an array of tables or one of
    /// its elements).
    Lines,
    /// Item `i` of an array or inline table: items and the bytes inside the
    /// brackets.
    Flow(Vec<Range<usize>>, usize, Range<usize>),
}

fn flow_items(v: &Value) -> Option<(Vec<Range<usize>>, Range<usize>)> {
    let span = v.span()?;
    let inside = span.start + 1..span.end - 1;
    match v {
        Value::Array(a) => Some((a.iter().filter_map(Value::span).collect(), inside)),
        Value::InlineTable(t) => Some((
            t.iter()
                .filter_map(|(k, x)| Some(t.key(k)?.span()?.start..x.span()?.end))
                .collect(),
            inside,
        )),
        _ => None,
    }
}

fn locate(doc: &Document<&str>, path: &KeyPath) -> Option<Found> {
    enum Loc<'a> {
        Item(&'a Item),
        Table(&'a Table),
        Value(&'a Value),
    }
    let mut cur = Loc::Table(doc.as_table());
    let segs = path.segments();
    for (depth, seg) in segs.iter().enumerate() {
        let last = depth + 1 == segs.len();
        if let Loc::Item(item) = cur {
            cur = match item {
                Item::Table(t) => Loc::Table(t),
                Item::Value(v) => Loc::Value(v),
                Item::ArrayOfTables(a) => match seg {
                    Segment::Index(i) => {
                        let t = a.get(*i)?;
                        if last {
                            return Some(Found::Lines);
                        }
                        cur = Loc::Table(t);
                        continue;
                    }
                    Segment::Key(_) => return None,
                },
                Item::None => return None,
            };
        }
        cur = match (cur, seg) {
            (Loc::Table(t), Segment::Key(k)) => {
                let item = t.get(k)?;
                if last {
                    return Some(Found::Lines);
                }
                Loc::Item(item)
            }
            (Loc::Value(v @ Value::InlineTable(t)), Segment::Key(k)) => {
                let i = t.iter().position(|(x, _)| x == k)?;
                if last {
                    let (items, inside) = flow_items(v)?;
                    return Some(Found::Flow(items, i, inside));
                }
                Loc::Value(t.get(k)?)
            }
            (Loc::Value(v @ Value::Array(a)), Segment::Index(i)) => {
                let x = a.get(*i)?;
                if last {
                    let (items, inside) = flow_items(v)?;
                    return Some(Found::Flow(items, *i, inside));
                }
                Loc::Value(x)
            }
            _ => return None,
        };
    }
    None
}

pub(super) fn remove(
    _syn: &Toml,
    text: &str,
    _parsed: &ParsedFile,
    path: &KeyPath,
) -> Result<Vec<Splice>, FormatError> {
    let not_found = || FormatError::PathNotFound(path.clone());
    if path.keys().next().is_none_or(|k| k == "sops")
        || path
            .segments()
            .first()
            .is_some_and(|s| matches!(s, Segment::Index(_)))
    {
        return Err(not_found());
    }
    let doc = Document::parse(text).map_err(|e| to_error(text, &e))?;
    match locate(&doc, path).ok_or_else(not_found)? {
        Found::Flow(items, i, inside) => Ok(vec![Splice {
            range: flow_item_removal(&items, i, inside),
            text: String::new(),
        }]),
        Found::Lines => {
            let st = Structure::build(text, &doc)?;
            let mut ranges: Vec<Range<usize>> = Vec::new();
            for (i, (p, at)) in st.sections.iter().enumerate() {
                if p.starts_with(path) {
                    let mut end = st.section_end(Some(i), text);
                    // Comment lines right above the next header stay with it.
                    if end < text.len() {
                        while end > *at {
                            let prev = line_start_of(text, end - 1);
                            if prev <= *at || !text[prev..end].trim_start().starts_with('#') {
                                break;
                            }
                            end = prev;
                        }
                    }
                    let mut r = with_blank_lines_before(text, *at..end, text.len());
                    if r.end == text.len() && !text.ends_with('\n') && r.start > 0 {
                        r = line_removal(text, r.start, r.end);
                    }
                    ranges.push(r);
                }
            }
            for e in &st.entries {
                if e.path.starts_with(path)
                    && !ranges
                        .iter()
                        .any(|r| r.start <= e.lines.start && e.lines.end <= r.end)
                {
                    ranges.push(line_removal(text, e.lines.start, e.lines.end));
                }
            }
            if ranges.is_empty() {
                return Err(not_found());
            }
            ranges.sort_by_key(|r| r.start);
            let mut merged: Vec<Range<usize>> = Vec::new();
            for r in ranges {
                match merged.last_mut() {
                    Some(m) if r.start <= m.end => m.end = m.end.max(r.end),
                    _ => merged.push(r),
                }
            }
            Ok(merged
                .into_iter()
                .map(|range| Splice {
                    range,
                    text: String::new(),
                })
                .collect())
        }
    }
}
