//! TOML: leaves with byte spans read through `toml_edit`, written by
//! splicing over those spans (the document is never re-serialized).
//!
//! sops has no TOML store (getsops/sops#369); these rules are botsecrets'
//! own, modelled on the YAML store:
//! - **Leaves.** Every scalar is a leaf: strings (basic, literal, multi-line)
//!   are `Str` with the decoded text; integers are `Int` in canonical decimal
//!   (`0xff` -> `255`, `1_000` -> `1000`); floats are `Float`, the source text
//!   when it is plain decimal (`-?digits[.digits][e[+-]digits]`), else the
//!   canonical form (`inf`, `-inf`, `nan`, Rust's shortest display with `.0`
//!   added when it would read as an integer: `1_000.0` -> `1000.0`,
//!   `+1.5` -> `1.5`); booleans are `Bool`; datetimes are `Time`. TOML has
//!   no null.
//! - **Times.** An offset datetime becomes RFC 3339 as Go's `RFC3339Nano`
//!   prints it: `T` separator, seconds always, fraction without trailing
//!   zeros, `Z` for a zero offset (`1979-05-27 07:32Z` ->
//!   `1979-05-27T07:32:00Z`). Local forms keep their kind, normalised the
//!   same way, because turning them into UTC instants would change what the
//!   file says: local datetime `1979-05-27T07:32:00`, local date
//!   `1979-05-27`, local time `07:32:00.5`. Each canonical form renders back
//!   as a bare TOML datetime of the same kind.
//! - **Paths.** Table keys and array indices; dotted keys are nested keys
//!   (`a.b = 1` is `a:b`), `[[x]]` elements and inline tables included. AAD
//!   as everywhere: the keys joined by `:`, indices left out.
//! - **Comments** are leaves too (encrypted in place as `#ENC[...]`), value =
//!   the text after `#`, span = `#` to the end of the line (line break, and a
//!   `\r` before it, excluded). They are found by a small lexer over the
//!   original text that skips every kind of string. A comment's path is the
//!   innermost array or inline table whose brackets hold it, else the table
//!   whose header (`[a.b]` -> `a:b`, `[[s]]` -> `s[i]`) precedes it, else the
//!   root. So a comment line just above `[b]` belongs to the table before it.
//! - **Metadata** is the top-level `sops` table, written as `[sops]` with its
//!   scalar fields (same names as YAML: `lastmodified`, `mac`, `version`,
//!   `unencrypted_suffix`, ...), then sub-tables, with arrays of objects as
//!   arrays of tables (`[[sops.age]]` with `recipient` and `enc`). Strings
//!   holding line breaks (the armored `enc`) are multi-line basic strings
//!   (`"""`); CRLF inside the metadata's multi-line strings reads back as LF.
//!   JSON nulls are left out (TOML has none). The block is appended at the
//!   end after one blank line; its span runs from its first header line to
//!   the next non-`sops` header (or the end), so it must be contiguous, and
//!   `sops` as an inline table or dotted root key is refused. Removing an
//!   appended block also removes the blank line before it (and the line break
//!   that was added when the file did not end with one). A `sops` key below
//!   the top level is ordinary data.
//! - **String kinds.** A string keeps the kind it is written in (basic
//!   `".."`, literal `'..'`, multi-line `"""..."""` / `'''..'''`, and whether
//!   a line break follows the opening quotes): encrypting writes the
//!   `ENC[...]` in that kind (every kind holds it unchanged, and every TOML
//!   reader reads the same string), and decrypting reads the kind back off
//!   the `ENC[...]` string and writes the value in it. Escapes are written
//!   canonically (`\u00e9` comes back as `é`). When the kind cannot hold
//!   the value (a `'` or control character in a literal string, `'''` in a
//!   multi-line literal one), or no kind is known (a new key), the value is
//!   a one-line basic string with escapes, or a `"""` block when it holds a
//!   line break outside an array or inline table (line breaks are written
//!   as the value has them, `\n` or `\r\n`).
//! - **Other values.** Ints, floats, bools and datetimes are
//!   written bare when they are valid TOML of that type (floats from other
//!   formats are converted: `5432` -> `5432.0`, `.inf` -> `inf`), else as a
//!   string. Comments are `#` + text, on one line.
//! - `style.flow` is true inside arrays and inline tables; `style.indent` is
//!   0 (TOML has no block scalars).

mod edit;
#[cfg(test)]
mod edit_tests;
mod emit;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::ops::Range;

use toml_edit::{Datetime, Document, Item, Offset, Table, Value};

use super::text::{
    floor_char_boundary, go_bool_text, is_plain_decimal, line_start_of, newline_style,
};
use super::{
    line_col, EmptyCollection, FormatError, FormatKind, Leaf, LeafKind, LeafStyle, MetadataBlock,
    ParsedFile, Replacement, Splice, Syntax, ValueType,
};
use crate::path::KeyPath;
use crate::secret::SecretText;
use emit::{
    bare_value, basic_string, key_text, multiline_string, render_metadata, toml_float, StrKind,
};

const FORMAT: &str = "toml";

/// The toml syntax.
pub struct Toml;

/// What one walk over the parsed document collects.
#[derive(Default)]
struct Walker {
    leaves: Vec<Leaf>,
    /// Explicit `[table]` / `[[array]]` headers: span and path.
    sections: Vec<(Range<usize>, KeyPath)>,
    /// Arrays and inline tables: span and path.
    containers: Vec<(Range<usize>, KeyPath)>,
    /// Empty arrays, inline tables and `[table]`s: where each starts, its
    /// path, and whether it is a table.
    empties: Vec<(usize, KeyPath, bool)>,
}

impl Walker {
    fn table(&mut self, text: &str, t: &Table, path: &mut KeyPath) -> Result<(), FormatError> {
        for (k, item) in t.iter() {
            path.push_key(k);
            self.item(text, item, path)?;
            path.pop();
        }
        Ok(())
    }

    fn item(&mut self, text: &str, item: &Item, path: &mut KeyPath) -> Result<(), FormatError> {
        match item {
            Item::None => {}
            Item::Value(v) => self.value(text, v, path, false)?,
            Item::Table(t) => {
                if !t.is_implicit() && !t.is_dotted() {
                    if let Some(span) = t.span() {
                        if t.is_empty() && !path.is_root() {
                            self.empties.push((span.start, path.clone(), true));
                        }
                        self.sections.push((span, path.clone()));
                    }
                }
                self.table(text, t, path)?;
            }
            Item::ArrayOfTables(a) => {
                for (i, t) in a.iter().enumerate() {
                    path.push_index(i);
                    if let Some(span) = t.span() {
                        self.sections.push((span, path.clone()));
                    }
                    self.table(text, t, path)?;
                    path.pop();
                }
            }
        }
        Ok(())
    }

    fn value(
        &mut self,
        text: &str,
        v: &Value,
        path: &mut KeyPath,
        flow: bool,
    ) -> Result<(), FormatError> {
        let span = v
            .span()
            .filter(|s| s.start <= s.end && s.end <= text.len())
            .ok_or(FormatError::Internal("toml value without a span"))?;
        let (ty, value) = match v {
            Value::String(f) => (ValueType::Str, f.value().clone()),
            Value::Integer(f) => (ValueType::Int, f.value().to_string()),
            Value::Float(f) => (
                ValueType::Float,
                canonical_float(text.get(span.clone()).unwrap_or(""), *f.value()),
            ),
            Value::Boolean(f) => (ValueType::Bool, f.value().to_string()),
            Value::Datetime(f) => (ValueType::Time, canonical_datetime(f.value())),
            Value::Array(a) => {
                if a.is_empty() {
                    self.empties.push((span.start, path.clone(), false));
                }
                self.containers.push((span, path.clone()));
                for (i, x) in a.iter().enumerate() {
                    path.push_index(i);
                    self.value(text, x, path, true)?;
                    path.pop();
                }
                return Ok(());
            }
            Value::InlineTable(t) => {
                if t.is_empty() {
                    self.empties.push((span.start, path.clone(), true));
                }
                self.containers.push((span, path.clone()));
                for (k, x) in t.iter() {
                    path.push_key(k);
                    self.value(text, x, path, true)?;
                    path.pop();
                }
                return Ok(());
            }
        };
        self.leaves.push(Leaf {
            path: path.clone(),
            kind: LeafKind::Value(ty),
            value: SecretText::new(value).into(),
            span,
            style: LeafStyle {
                flow,
                indent: 0,
                block: false,
                empty_list: false,
            },
            document: 0,
        });
        Ok(())
    }
}

/// The canonical text of a float that is not written in plain decimal.
fn float_text(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        let s = format!("{f}");
        if s.contains(['.', 'e', 'E']) {
            s
        } else {
            s + ".0"
        }
    }
}

fn canonical_float(src: &str, f: f64) -> String {
    if is_plain_decimal(src, b"eE") {
        src.to_owned()
    } else {
        float_text(f)
    }
}

/// RFC 3339 text of a TOML datetime, as Go's `RFC3339Nano` writes it; local
/// forms keep their kind (see the module doc).
fn canonical_datetime(d: &Datetime) -> String {
    let mut s = String::new();
    if let Some(date) = d.date {
        let _ = write!(s, "{:04}-{:02}-{:02}", date.year, date.month, date.day);
    }
    if let Some(t) = d.time {
        if d.date.is_some() {
            s.push('T');
        }
        let _ = write!(
            s,
            "{:02}:{:02}:{:02}",
            t.hour,
            t.minute,
            t.second.unwrap_or(0)
        );
        if let Some(ns) = t.nanosecond.filter(|ns| *ns > 0) {
            let frac = format!("{ns:09}");
            s.push('.');
            s.push_str(frac.trim_end_matches('0'));
        }
    }
    match d.offset {
        None => {}
        Some(Offset::Z) | Some(Offset::Custom { minutes: 0 }) => s.push('Z'),
        Some(Offset::Custom { minutes }) => {
            let sign = if minutes < 0 { '-' } else { '+' };
            let m = minutes.unsigned_abs();
            let _ = write!(s, "{sign}{:02}:{:02}", m / 60, m % 60);
        }
    }
    s
}

/// The spans of every comment (`#` to the end of the line, line break and a
/// `\r` before it excluded). The text is valid TOML, so a `#` outside a
/// string always starts a comment.
fn comment_spans(text: &str) -> Vec<Range<usize>> {
    let b = text.as_bytes();
    let n = b.len();
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        match b[i] {
            b'#' => {
                let start = i;
                while i < n && b[i] != b'\n' {
                    i += 1;
                }
                let mut end = i;
                if end > start + 1 && b[end - 1] == b'\r' {
                    end -= 1;
                }
                out.push(start..end);
            }
            q @ (b'"' | b'\'') => {
                let escapes = q == b'"';
                if b[i..].starts_with(&[q, q, q]) {
                    i += 3;
                    while i < n {
                        if escapes && b[i] == b'\\' {
                            i += 2;
                        } else if b[i..].starts_with(&[q, q, q]) {
                            i += 3;
                            // Up to two more quotes belong to the content.
                            let mut extra = 0;
                            while extra < 2 && i < n && b[i] == q {
                                i += 1;
                                extra += 1;
                            }
                            break;
                        } else {
                            i += 1;
                        }
                    }
                } else {
                    i += 1;
                    while i < n && b[i] != b'\n' {
                        if escapes && b[i] == b'\\' {
                            i += 2;
                        } else if b[i] == q {
                            i += 1;
                            break;
                        } else {
                            i += 1;
                        }
                    }
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// Strips one line break (`\n` or `\r\n`) from the end of `text[..at]`.
fn before_line_break(text: &str, at: usize) -> Option<usize> {
    let head = &text[..at];
    if head.ends_with("\r\n") {
        Some(at - 2)
    } else if head.ends_with('\n') {
        Some(at - 1)
    } else {
        None
    }
}

/// Where the metadata sits: its removal span.
fn metadata_span(text: &str, first_header: usize, end: usize) -> Range<usize> {
    let h = line_start_of(text, first_header);
    if end < text.len() {
        return h..end;
    }
    let mut start = h;
    // The blank line that was written before the block goes with it.
    if let Some(a) = before_line_break(text, start) {
        if let Some(b) = before_line_break(text, a) {
            let _ = b;
            start = a;
        }
    }
    // A file that did not end with a line break got one before the block.
    if !text.ends_with('\n') {
        if let Some(a) = before_line_break(text, start) {
            start = a;
        }
    }
    start..end
}

fn syntax(text: &str, at: usize, reason: &str) -> FormatError {
    let (line, column) = line_col(text, floor_char_boundary(text, at));
    FormatError::Syntax {
        format: FORMAT,
        line,
        column,
        reason: reason.to_owned(),
    }
}

fn unsupported(text: &str, at: usize, reason: &str) -> FormatError {
    FormatError::Unsupported {
        format: FORMAT,
        line: line_col(text, at).0,
        reason: reason.to_owned(),
    }
}

/// Maps a toml_edit error. SECURITY: `TomlError::message()` is built only
/// from toml_parser's static descriptions and expected-token literals
/// (checked in toml_edit 0.25 / toml_parser 1.1); its `Display` quotes the
/// offending line, so it is never used.
fn to_error(text: &str, e: &toml_edit::TomlError) -> FormatError {
    let at = floor_char_boundary(text, e.span().map_or(0, |s| s.start));
    if e.message() == "duplicate key" {
        if let Some(path) = e.span().and_then(|s| duplicate_path(text, s)) {
            return FormatError::DuplicateKey {
                path,
                line: line_col(text, at).0,
            };
        }
    }
    syntax(text, at, e.message())
}

/// The full path of a duplicated key: the header in force (read from the
/// valid text before the line) plus the line's keys up to the duplicate.
fn duplicate_path(text: &str, span: Range<usize>) -> Option<KeyPath> {
    if span.end > text.len() || !text.is_char_boundary(span.end) {
        return None;
    }
    let start = line_start_of(text, floor_char_boundary(text, span.start));
    let line = text.get(start..span.end)?.trim_start();
    let (mut path, keys) = if let Some(header) = line.strip_prefix('[') {
        let header = header.strip_prefix('[').unwrap_or(header);
        (KeyPath::root(), header)
    } else {
        let doc = Document::parse(&text[..start]).ok()?;
        let mut w = Walker::default();
        w.table(&text[..start], doc.as_table(), &mut KeyPath::root())
            .ok()?;
        let path = w
            .sections
            .iter()
            .max_by_key(|(s, _)| s.start)
            .map(|(_, p)| p.clone())
            .unwrap_or_default();
        (path, line)
    };
    for key in toml_edit::Key::parse(keys.trim()).ok()? {
        path.push_key(key.get());
    }
    Some(path)
}

/// The metadata tree of a `sops` item.
fn item_json(text: &str, item: &Item) -> serde_json::Value {
    match item {
        Item::None => serde_json::Value::Null,
        Item::Value(v) => value_json(text, v),
        Item::Table(t) => table_json(text, t),
        Item::ArrayOfTables(a) => {
            serde_json::Value::Array(a.iter().map(|t| table_json(text, t)).collect())
        }
    }
}

fn table_json(text: &str, t: &Table) -> serde_json::Value {
    serde_json::Value::Object(
        t.iter()
            .map(|(k, i)| (k.to_owned(), item_json(text, i)))
            .collect(),
    )
}

fn value_json(text: &str, v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::String(f) => {
            let multi = f
                .span()
                .and_then(|s| text.get(s))
                .is_some_and(|r| r.starts_with("\"\"\"") || r.starts_with("'''"));
            if multi {
                J::String(f.value().replace("\r\n", "\n"))
            } else {
                J::String(f.value().clone())
            }
        }
        Value::Integer(f) => J::from(*f.value()),
        Value::Float(f) => serde_json::Number::from_f64(*f.value())
            .map_or_else(|| J::String(float_text(*f.value())), J::Number),
        Value::Boolean(f) => J::Bool(*f.value()),
        Value::Datetime(f) => J::String(canonical_datetime(f.value())),
        Value::Array(a) => J::Array(a.iter().map(|x| value_json(text, x)).collect()),
        Value::InlineTable(t) => J::Object(
            t.iter()
                .map(|(k, x)| (k.to_owned(), value_json(text, x)))
                .collect(),
        ),
    }
}

impl Syntax for Toml {
    fn kind(&self) -> FormatKind {
        FormatKind::Toml
    }

    fn parse(&self, text: &str) -> Result<ParsedFile, FormatError> {
        let doc = Document::parse(text).map_err(|e| to_error(text, &e))?;
        let root = doc.as_table();
        let mut w = Walker::default();
        let mut path = KeyPath::root();
        for (k, item) in root.iter() {
            if k == "sops" {
                continue;
            }
            path.push_key(k);
            w.item(text, item, &mut path)?;
            path.pop();
        }

        // The metadata: the `sops` table and its sub-tables, contiguous.
        let mut metadata = Vec::new();
        let mut sops_region: Option<Range<usize>> = None;
        if let Some((key, item)) = root.get_key_value("sops") {
            let at = key.span().map_or(0, |s| s.start);
            let ok = match item {
                Item::Table(t) => !t.is_dotted(),
                Item::ArrayOfTables(_) => false,
                _ => false,
            };
            if !ok {
                return Err(unsupported(
                    text,
                    at,
                    "the sops metadata must be a [sops] table",
                ));
            }
            let mut sw = Walker::default();
            sw.item(text, item, &mut KeyPath::root().child_key("sops"))?;
            let Some(first) = sw.sections.iter().map(|(s, _)| s.start).min() else {
                return Err(unsupported(
                    text,
                    at,
                    "the sops metadata must be a [sops] table",
                ));
            };
            let last = sw
                .sections
                .iter()
                .map(|(s, _)| s.start)
                .max()
                .unwrap_or(first);
            // The data headers between the first and last sops header.
            if let Some((s, _)) = w
                .sections
                .iter()
                .find(|(s, _)| s.start > first && s.start < last)
            {
                return Err(unsupported(
                    text,
                    s.start,
                    "the sops metadata tables must not be interleaved with data tables",
                ));
            }
            let end = w
                .sections
                .iter()
                .map(|(s, _)| s.start)
                .filter(|s| *s > last)
                .min()
                .map_or(text.len(), |s| line_start_of(text, s));
            sops_region = Some(line_start_of(text, first)..end);
            metadata.push(MetadataBlock {
                span: metadata_span(text, first, end),
                tree: item_json(text, item),
            });
        }

        // Comments, with the path of what holds them.
        w.sections.sort_by_key(|(s, _)| s.start);
        for span in comment_spans(text) {
            if sops_region
                .as_ref()
                .is_some_and(|r| r.start <= span.start && span.start < r.end)
            {
                continue;
            }
            let p = span.start;
            let container = w
                .containers
                .iter()
                .filter(|(s, _)| s.start < p && p < s.end)
                .max_by_key(|(s, _)| s.start)
                .map(|(_, path)| path.clone());
            let path = container.unwrap_or_else(|| {
                let i = w.sections.partition_point(|(s, _)| s.start <= p);
                i.checked_sub(1)
                    .map(|i| w.sections[i].1.clone())
                    .unwrap_or_default()
            });
            w.leaves.push(Leaf {
                path,
                kind: LeafKind::Comment,
                value: SecretText::from_str(&text[span.start + 1..span.end]).into(),
                span,
                style: LeafStyle::default(),
                document: 0,
            });
        }
        w.leaves.sort_by_key(|l| l.span.start);
        w.empties.sort_by_key(|(start, _, _)| *start);
        let unsealed_empties = w
            .empties
            .into_iter()
            .map(|(start, path, is_map)| EmptyCollection {
                position: w.leaves.partition_point(|l| l.span.start < start),
                path,
                document: 0,
                is_map,
            })
            .collect();
        Ok(ParsedFile {
            leaves: w.leaves,
            empties: Vec::new(),
            unsealed_empties,
            metadata,
            aliases: Vec::new(),
            documents: 1,
            yaml_layout: None,
        })
    }

    fn render(
        &self,
        text: &str,
        leaf: &Leaf,
        with: &Replacement<'_>,
    ) -> Result<String, FormatError> {
        let unrepresentable = |reason: &str| FormatError::Unrepresentable {
            format: FORMAT,
            path: leaf.path.clone(),
            reason: reason.to_owned(),
        };
        let comment = leaf.kind == LeafKind::Comment;
        // The kind of string the leaf is written as now (none for other
        // values, comments, and new keys).
        let kind = match leaf.kind {
            LeafKind::Value(_) => text.get(leaf.span.clone()).and_then(StrKind::of),
            _ => None,
        };
        match with {
            Replacement::Encrypted(s) if comment => {
                if s.contains(['\n', '\r']) {
                    return Err(unrepresentable("a comment must be one line"));
                }
                Ok(format!("#{s}"))
            }
            // The string kind is kept around the ENC[...] (every kind can
            // hold it), so that decrypting can give it back.
            Replacement::Encrypted(s) => Ok(kind
                .and_then(|k| k.write(s, newline_style(text)))
                .unwrap_or_else(|| basic_string(s))),
            Replacement::Comment(c) if comment => {
                if c.chars()
                    .any(|c| (c.is_control() && c != '\t') || c == '\u{7f}')
                {
                    return Err(unrepresentable(
                        "a comment must be one line without control characters",
                    ));
                }
                Ok(format!("#{c}"))
            }
            Replacement::Comment(_) => Err(unrepresentable("a value cannot become a comment")),
            Replacement::Value(..) if comment => {
                Err(unrepresentable("a comment cannot become a value"))
            }
            Replacement::Value(ValueType::Str, t) => {
                if let Some(out) = kind.and_then(|k| k.write(t, newline_style(text))) {
                    Ok(out)
                } else if t.contains('\n') && !leaf.style.flow {
                    Ok(multiline_string(t, newline_style(text)))
                } else {
                    Ok(basic_string(t))
                }
            }
            Replacement::Value(ValueType::Int, t) => match bare_value(t) {
                Some(Value::Integer(_)) => Ok((*t).to_owned()),
                _ => Ok(basic_string(t)),
            },
            Replacement::Value(ValueType::Float, t) => {
                Ok(toml_float(t).unwrap_or_else(|| basic_string(t)))
            }
            Replacement::Value(ValueType::Bool, t) => go_bool_text(t)
                .map(str::to_owned)
                .ok_or_else(|| unrepresentable("the value is not a boolean")),
            Replacement::Value(ValueType::Time, t) => match bare_value(t) {
                Some(Value::Datetime(_)) => Ok((*t).to_owned()),
                _ => Ok(basic_string(t)),
            },
        }
    }

    fn metadata_splices(
        &self,
        text: &str,
        parsed: &ParsedFile,
        tree: Option<&serde_json::Value>,
    ) -> Result<Vec<Splice>, FormatError> {
        let Some(tree) = tree else {
            return Ok(self.metadata_removal(parsed));
        };
        let newline = newline_style(text);
        let mut block = render_metadata(tree, newline)?;
        if let Some(existing) = parsed.metadata.first() {
            let span = existing.span.clone();
            let region = text
                .get(span.clone())
                .ok_or(FormatError::Internal("metadata span out of range"))?;
            let start = span.start + (region.len() - region.trim_start().len());
            let trimmed_end = span.start + region.trim_end().len();
            let end = if text[trimmed_end..].starts_with("\r\n") {
                trimmed_end + 2
            } else if text[trimmed_end..].starts_with('\n') {
                trimmed_end + 1
            } else {
                trimmed_end
            };
            if !text[..end].ends_with('\n') {
                let cut = block.len() - newline.len();
                block.truncate(cut);
            }
            return Ok(vec![Splice {
                range: start..end.max(start),
                text: block,
            }]);
        }
        let mut insert = String::new();
        if !text.is_empty() {
            if !text.ends_with('\n') {
                insert.push_str(newline);
                let cut = block.len() - newline.len();
                block.truncate(cut);
            }
            insert.push_str(newline);
        }
        insert.push_str(&block);
        Ok(vec![Splice {
            range: text.len()..text.len(),
            text: insert,
        }])
    }

    fn insert(
        &self,
        text: &str,
        parsed: &ParsedFile,
        path: &KeyPath,
        value: &Replacement<'_>,
    ) -> Result<Vec<Splice>, FormatError> {
        edit::insert(self, text, parsed, path, value)
    }

    fn remove(
        &self,
        text: &str,
        parsed: &ParsedFile,
        path: &KeyPath,
    ) -> Result<Vec<Splice>, FormatError> {
        edit::remove(self, text, parsed, path)
    }
}
