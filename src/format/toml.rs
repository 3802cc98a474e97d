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
//! - **Rendering.** ENC strings and plain strings are one-line basic strings
//!   with escapes, except a plain string holding a line break outside an
//!   array or inline table, which is a `"""` block (its first line break is
//!   the one after the opening quotes; line breaks are written as the value
//!   has them, `\n` or `\r\n`). Ints, floats, bools and datetimes are
//!   written bare when they are valid TOML of that type (floats from other
//!   formats are converted: `5432` -> `5432.0`, `.inf` -> `inf`), else as a
//!   string. Comments are `#` + text, on one line.
//! - `style.flow` is true inside arrays and inline tables; `style.indent` is
//!   0 (TOML has no block scalars).

use std::fmt::Write as _;
use std::ops::Range;

use toml_edit::{Datetime, Document, Item, Offset, Table, Value};

use super::text::{go_bool_text, is_plain_decimal, line_start_of, newline_style};
use super::{
    line_col, FormatError, FormatKind, Leaf, LeafKind, LeafStyle, MetadataBlock, ParsedFile,
    Replacement, Splice, Syntax, ValueType,
};
use crate::path::KeyPath;

mod edit;
use crate::secret::SecretText;

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
                self.containers.push((span, path.clone()));
                for (i, x) in a.iter().enumerate() {
                    path.push_index(i);
                    self.value(text, x, path, true)?;
                    path.pop();
                }
                return Ok(());
            }
            Value::InlineTable(t) => {
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
            value: SecretText::new(value),
            span,
            style: LeafStyle {
                flow,
                indent: 0,
                block: false,
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

/// `at`, moved back to a char boundary (error spans are byte offsets).
fn floor(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn syntax(text: &str, at: usize, reason: &str) -> FormatError {
    let (line, column) = line_col(text, floor(text, at));
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
    let at = floor(text, e.span().map_or(0, |s| s.start));
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
    let start = line_start_of(text, floor(text, span.start));
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

/// A one-line basic string.
fn basic_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(c, &mut out);
    }
    out.push('"');
    out
}

fn push_escaped(c: char, out: &mut String) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        c if (c as u32) < 0x20 || c == '\u{7f}' => {
            let _ = write!(out, "\\u{:04X}", c as u32);
        }
        c => out.push(c),
    }
}

/// A multi-line basic string whose content is exactly `s`. `newline`
/// follows the opening quotes (and is trimmed by readers); line breaks in
/// `s` are written as they are (`\n` or `\r\n`), a lone `\r` escaped.
fn multiline_string(s: &str, newline: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str("\"\"\"");
    out.push_str(newline);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => out.push('\n'),
            '\r' if chars.peek() == Some(&'\n') => out.push('\r'),
            // A quote is escaped when it could start `"""` or touch the
            // closing delimiter.
            '"' if matches!(chars.peek(), None | Some('"')) => out.push_str("\\\""),
            '"' => out.push('"'),
            c => push_escaped(c, &mut out),
        }
    }
    out.push_str("\"\"\"");
    out
}

/// Parses `v = <t>` and returns the value when `t` is exactly one bare TOML
/// value (no line breaks, comments or extra keys can sneak in).
fn bare_value(t: &str) -> Option<Value> {
    if t.is_empty() || t.contains(['\n', '\r', '#']) {
        return None;
    }
    let src = format!("v = {t}");
    let doc = Document::parse(src.as_str()).ok()?;
    if doc.as_table().len() != 1 {
        return None;
    }
    let v = doc.get("v")?.as_value()?;
    (v.span()? == (4..src.len())).then(|| v.clone())
}

/// A float from any format as TOML float text, if it is a number.
fn toml_float(t: &str) -> Option<String> {
    if matches!(bare_value(t), Some(Value::Float(_))) {
        return Some(t.to_owned());
    }
    let f = match t {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+Inf" => f64::INFINITY,
        "-.inf" | "-.Inf" | "-.INF" | "-Inf" => f64::NEG_INFINITY,
        ".nan" | ".NaN" | ".NAN" | "NaN" => f64::NAN,
        _ => t.parse::<f64>().ok()?,
    };
    Some(float_text(f))
}

fn is_bare_key(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

fn key_text(k: &str) -> String {
    if is_bare_key(k) {
        k.to_owned()
    } else {
        basic_string(k)
    }
}

fn is_table_like(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Object(_) => true,
        serde_json::Value::Array(a) => !a.is_empty() && a.iter().all(|x| x.is_object()),
        _ => false,
    }
}

/// One metadata value written inline; `None` for a null (left out).
fn inline_json(v: &serde_json::Value, newline: &str) -> Option<String> {
    use serde_json::Value as J;
    Some(match v {
        J::Null => return None,
        J::Bool(b) => b.to_string(),
        J::Number(n) => {
            let s = n.to_string();
            match bare_value(&s) {
                Some(Value::Integer(_) | Value::Float(_)) => s,
                _ => basic_string(&s),
            }
        }
        // The metadata's multi-line strings follow the file's line breaks
        // (and read back with LF, see `value_json`).
        J::String(s) if s.contains('\n') => multiline_string(&s.replace('\n', newline), newline),
        J::String(s) => basic_string(s),
        J::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(|x| inline_json(x, newline))
                .collect();
            format!("[{}]", parts.join(", "))
        }
        J::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .filter_map(|(k, x)| {
                    Some(format!("{} = {}", key_text(k), inline_json(x, newline)?))
                })
                .collect();
            if parts.is_empty() {
                "{}".into()
            } else {
                format!("{{ {} }}", parts.join(", "))
            }
        }
    })
}

/// Writes one table of the metadata: its header, its inline fields, then its
/// sub-tables and arrays of tables.
fn write_meta_table(
    path: &[String],
    map: &serde_json::Map<String, serde_json::Value>,
    array: bool,
    newline: &str,
    out: &mut String,
) {
    let header: Vec<String> = path.iter().map(|k| key_text(k)).collect();
    let (open, close) = if array { ("[[", "]]") } else { ("[", "]") };
    out.push_str(open);
    out.push_str(&header.join("."));
    out.push_str(close);
    out.push_str(newline);
    for (k, v) in map {
        if is_table_like(v) {
            continue;
        }
        if let Some(text) = inline_json(v, newline) {
            out.push_str(&key_text(k));
            out.push_str(" = ");
            out.push_str(&text);
            out.push_str(newline);
        }
    }
    for (k, v) in map {
        let mut sub = path.to_vec();
        sub.push(k.clone());
        match v {
            serde_json::Value::Object(m) => write_meta_table(&sub, m, false, newline, out),
            serde_json::Value::Array(items) if is_table_like(v) => {
                for item in items {
                    if let serde_json::Value::Object(m) = item {
                        write_meta_table(&sub, m, true, newline, out);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The `[sops]` block for `tree`, ending with a line break.
fn render_metadata(tree: &serde_json::Value, newline: &str) -> Result<String, FormatError> {
    let serde_json::Value::Object(map) = tree else {
        return Err(FormatError::Unrepresentable {
            format: FORMAT,
            path: KeyPath::root().child_key("sops"),
            reason: "the metadata must be an object".into(),
        });
    };
    let mut out = String::new();
    write_meta_table(&["sops".to_owned()], map, false, newline, &mut out);
    Ok(out)
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
                value: SecretText::from_str(&text[span.start + 1..span.end]),
                span,
                style: LeafStyle::default(),
                document: 0,
            });
        }
        w.leaves.sort_by_key(|l| l.span.start);
        Ok(ParsedFile {
            leaves: w.leaves,
            empties: Vec::new(),
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
        match with {
            Replacement::Encrypted(s) if comment => {
                if s.contains(['\n', '\r']) {
                    return Err(unrepresentable("a comment must be one line"));
                }
                Ok(format!("#{s}"))
            }
            Replacement::Encrypted(s) => Ok(basic_string(s)),
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
                if t.contains('\n') && !leaf.style.flow {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::apply_splices;
    use proptest::prelude::*;

    const ENC: &str = "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]";

    fn fixture(name: &str) -> String {
        let path = format!("{}/testdata/toml/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(path).expect("fixture")
    }

    fn parse(text: &str) -> ParsedFile {
        match Toml.parse(text) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }

    fn summary(p: &ParsedFile) -> Vec<(String, LeafKind, String)> {
        p.leaves
            .iter()
            .map(|l| (l.path.to_string(), l.kind, l.value.expose().to_owned()))
            .collect()
    }

    fn encrypt_all(text: &str) -> String {
        let p = parse(text);
        let mut splices: Vec<Splice> = p
            .leaves
            .iter()
            .map(|l| Splice {
                range: l.span.clone(),
                text: Toml.render(text, l, &Replacement::Encrypted(ENC)).unwrap(),
            })
            .collect();
        apply_splices(text, &mut splices).unwrap()
    }

    fn with_meta(text: &str, tree: Option<&serde_json::Value>) -> String {
        let p = parse(text);
        let mut s = Toml.metadata_splices(text, &p, tree).unwrap();
        apply_splices(text, &mut s).unwrap()
    }

    fn meta_tree() -> serde_json::Value {
        serde_json::from_str(
            r#"{"age":[{"recipient":"age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n","enc":"-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBXQmhPTkNadHRDYlhuU3hr\nd2pDRzViZ1dUdWs3RzI2emN2SGI3OXRZempjCjM5RjNuY1U5eXQwQ3RwR1pONXpY\n-----END AGE ENCRYPTED FILE-----\n"},{"recipient":"age1second","enc":"-----BEGIN AGE ENCRYPTED FILE-----\nQUJD\n-----END AGE ENCRYPTED FILE-----\n"}],"lastmodified":"2026-11-29T16:35:46Z","mac":"ENC[AES256_GCM,data:m,iv:i,tag:t,type:str]","unencrypted_suffix":"_unencrypted","version":"3.11.0","shamir_threshold":2,"mac_only_encrypted":true}"#,
        )
        .unwrap()
    }

    /// Asserts that `after` is `before` with only the leaf spans replaced.
    fn only_spans_differ(before: &str, b: &ParsedFile, after: &str, a: &ParsedFile) {
        assert_eq!(b.leaves.len(), a.leaves.len());
        let mut shift: isize = 0;
        let mut at = 0;
        for (x, y) in b.leaves.iter().zip(&a.leaves) {
            assert_eq!(x.path, y.path);
            let out_start = (x.span.start as isize + shift) as usize;
            assert_eq!(
                &before[at..x.span.start],
                &after[(at as isize + shift) as usize..out_start]
            );
            assert_eq!(y.span.start, out_start);
            shift += y.span.len() as isize - x.span.len() as isize;
            at = x.span.end;
        }
        assert_eq!(&before[at..], &after[(at as isize + shift) as usize..]);
    }

    #[test]
    fn reads_types_paths_and_comments() {
        let text = "# top\r\n\
            title = 'TOML' # trailing\r\n\
            hex = 0xff\r\n\
            big = 1_000\r\n\
            f1 = 1.50\r\n\
            f2 = 1_000.5\r\n\
            f3 = +1.5\r\n\
            f4 = -inf\r\n\
            f5 = nan\r\n\
            f6 = 1e3\r\n\
            f7 = 1_0.0\r\n\
            on = true\r\n\
            a.b.c = \"dot\"\r\n\
            \"quoted.key\" = \"\"\"\r\nl1\r\nl2 # not a comment\"\"\"\r\n\
            lit = '''x # y'''\r\n\
            [server] # header\r\n\
            # own line\r\n\
            ports = [ 8000, # first\r\n  8001 ]\r\n\
            inline = { user = \"u\", pass = \"p#w\" }\r\n\
            sops = \"nested data\"\r\n\
            [[bots]]\r\n\
            name = \"a\"\r\n\
            # in bots[0]\r\n\
            [[bots]]\r\n\
            name = \"b\"\r\n";
        let p = parse(text);
        use LeafKind::*;
        use ValueType::*;
        let s = |a: &str, k, v: &str| (a.to_owned(), k, v.to_owned());
        assert_eq!(
            summary(&p),
            vec![
                s("(root)", Comment, " top"),
                s("title", Value(Str), "TOML"),
                s("(root)", Comment, " trailing"),
                s("hex", Value(Int), "255"),
                s("big", Value(Int), "1000"),
                s("f1", Value(Float), "1.50"),
                s("f2", Value(Float), "1000.5"),
                s("f3", Value(Float), "1.5"),
                s("f4", Value(Float), "-inf"),
                s("f5", Value(Float), "nan"),
                s("f6", Value(Float), "1e3"),
                s("f7", Value(Float), "10.0"),
                s("on", Value(Bool), "true"),
                s("a.b.c", Value(Str), "dot"),
                s("[\"quoted.key\"]", Value(Str), "l1\r\nl2 # not a comment"),
                s("lit", Value(Str), "x # y"),
                s("server", Comment, " header"),
                s("server", Comment, " own line"),
                s("server.ports[0]", Value(Int), "8000"),
                s("server.ports", Comment, " first"),
                s("server.ports[1]", Value(Int), "8001"),
                s("server.inline.user", Value(Str), "u"),
                s("server.inline.pass", Value(Str), "p#w"),
                s("server.sops", Value(Str), "nested data"),
                s("bots[0].name", Value(Str), "a"),
                s("bots[0]", Comment, " in bots[0]"),
                s("bots[1].name", Value(Str), "b"),
            ]
        );
        assert_eq!(&text[p.leaves[1].span.clone()], "'TOML'");
        assert_eq!(&text[p.leaves[2].span.clone()], "# trailing");
        assert!(p.metadata.is_empty());
        assert_eq!(p.leaves[25].path.aad(), "bots:");
        assert!(p.leaves[18].style.flow && !p.leaves[1].style.flow);
    }

    #[test]
    fn datetimes_are_normalised_and_render_back() {
        let cases = [
            ("1979-05-27T07:32:00Z", "1979-05-27T07:32:00Z"),
            ("1979-05-27 07:32:00z", "1979-05-27T07:32:00Z"),
            ("1979-05-27T07:32:00+00:00", "1979-05-27T07:32:00Z"),
            (
                "1979-05-27T00:32:00.999999-07:00",
                "1979-05-27T00:32:00.999999-07:00",
            ),
            (
                "1979-05-27T00:32:00.500+05:30",
                "1979-05-27T00:32:00.5+05:30",
            ),
            ("1979-05-27T00:32:00.000Z", "1979-05-27T00:32:00Z"),
            ("1979-05-27T07:32Z", "1979-05-27T07:32:00Z"),
            ("1979-05-27T07:32:00", "1979-05-27T07:32:00"),
            ("1979-05-27", "1979-05-27"),
            ("07:32:00.25", "07:32:00.25"),
        ];
        for (src, want) in cases {
            let text = format!("t = {src}\n");
            let p = parse(&text);
            assert_eq!(p.leaves[0].kind, LeafKind::Value(ValueType::Time), "{src}");
            assert_eq!(p.leaves[0].value.expose(), want, "{src}");
            let r = Toml
                .render(
                    &text,
                    &p.leaves[0],
                    &Replacement::Value(ValueType::Time, want),
                )
                .unwrap();
            assert_eq!(r, want);
            let back = parse(&format!("t = {r}\n"));
            assert_eq!(back.leaves[0].value.expose(), want);
            // Same kind: local stays local, offset stays offset.
            let kind = |s: &str| {
                s.parse::<Datetime>()
                    .map(|d| (d.date.is_some(), d.time.is_some(), d.offset.is_some()))
                    .unwrap()
            };
            assert_eq!(kind(src), kind(want));
        }
    }

    #[test]
    fn renders_plain_values_back() {
        let text = "s = \"x\"\narr = [\"y\"]\n# c\n";
        let p = parse(text);
        let (s, in_arr, comment) = (&p.leaves[0], &p.leaves[1], &p.leaves[2]);
        let r = |l: &Leaf, w: Replacement<'_>| Toml.render(text, l, &w);
        let ok = |l: &Leaf, w: Replacement<'_>| r(l, w).unwrap();
        use Replacement::Value as V;
        assert_eq!(
            ok(s, V(ValueType::Str, "a\"b\\c\td\u{1}\u{7f}é")),
            "\"a\\\"b\\\\c\\td\\u0001\\u007Fé\""
        );
        assert_eq!(
            ok(s, V(ValueType::Str, "l1\nl2\n")),
            "\"\"\"\nl1\nl2\n\"\"\""
        );
        assert_eq!(
            ok(s, V(ValueType::Str, "q\"\n\"\"\"")),
            "\"\"\"\nq\"\n\\\"\\\"\\\"\"\"\""
        );
        assert_eq!(ok(in_arr, V(ValueType::Str, "l1\nl2")), "\"l1\\nl2\"");
        assert_eq!(ok(s, V(ValueType::Int, "255")), "255");
        assert_eq!(ok(s, V(ValueType::Int, "1\nx = 2")), "\"1\\nx = 2\"");
        assert_eq!(ok(s, V(ValueType::Float, "1.50")), "1.50");
        assert_eq!(ok(s, V(ValueType::Float, "5432")), "5432.0");
        assert_eq!(ok(s, V(ValueType::Float, ".inf")), "inf");
        assert_eq!(ok(s, V(ValueType::Float, "nan")), "nan");
        assert_eq!(ok(s, V(ValueType::Float, "abc")), "\"abc\"");
        assert_eq!(ok(s, V(ValueType::Bool, "True")), "true");
        assert_eq!(
            ok(s, V(ValueType::Time, "2024-01-02T00:00:00Z")),
            "2024-01-02T00:00:00Z"
        );
        assert_eq!(ok(s, V(ValueType::Time, "soon")), "\"soon\"");
        assert_eq!(ok(comment, Replacement::Comment(" hello")), "# hello");
        assert_eq!(ok(comment, Replacement::Encrypted(ENC)), format!("#{ENC}"));
        assert!(r(comment, Replacement::Comment("a\nb")).is_err());
        assert!(r(s, Replacement::Comment("x")).is_err());
        assert!(r(comment, V(ValueType::Str, "x")).is_err());
        let e = r(s, V(ValueType::Bool, "secretword"))
            .unwrap_err()
            .to_string();
        assert!(!e.contains("secretword"));
        // Every rendering reads back as the same type and value.
        for (ty, v) in [
            (ValueType::Str, "multi\nline \"q\" \\ ✓\r\n\t\"\""),
            (ValueType::Str, "\n"),
            (ValueType::Str, ""),
            (ValueType::Int, "-42"),
            (ValueType::Float, "-0.5e10"),
            (ValueType::Float, "inf"),
            (ValueType::Bool, "false"),
            (ValueType::Time, "1979-05-27T00:32:00.999999-07:00"),
        ] {
            for leaf in [s, in_arr] {
                let out = ok(leaf, V(ty, v));
                let mut sp = vec![Splice {
                    range: leaf.span.clone(),
                    text: out,
                }];
                let doc = apply_splices(text, &mut sp).unwrap();
                let back = parse(&doc);
                let l = back.leaves.iter().find(|l| l.path == leaf.path).unwrap();
                assert_eq!(l.kind, LeafKind::Value(ty), "{v:?}");
                assert_eq!(l.value.expose(), v, "{v:?}");
            }
        }
    }

    #[test]
    fn cargo_like_file_encrypts_only_inside_spans() {
        let text = fixture("cargo-like.toml");
        let p = parse(&text);
        assert!(
            p.leaves
                .iter()
                .filter(|l| l.kind == LeafKind::Comment)
                .count()
                >= 10
        );
        let enc = encrypt_all(&text);
        let q = parse(&enc);
        only_spans_differ(&text, &p, &enc, &q);
        for (a, b) in p.leaves.iter().zip(&q.leaves) {
            assert_eq!(a.kind == LeafKind::Comment, b.kind == LeafKind::Comment);
            assert_eq!(b.value.expose(), ENC);
        }
        // Column alignment and trailing comments are untouched.
        assert!(
            enc.contains(&format!("version      = \"{ENC}\" #{ENC}")),
            "{enc}"
        );
        // Metadata appended, then removed: the encrypted file comes back.
        let tree = meta_tree();
        let with = with_meta(&enc, Some(&tree));
        assert!(with.starts_with(&enc));
        assert!(
            with[enc.len()..].starts_with("\n[sops]\nlastmodified = "),
            "{}",
            &with[enc.len()..]
        );
        let r = parse(&with);
        assert_eq!(r.metadata_tree(), Some(&tree));
        assert_eq!(summary(&r), summary(&q));
        assert_eq!(with_meta(&with, None), enc);
        // Decrypt: render the plain values back; canonical ones come back
        // byte for byte.
        let mut back: Vec<Splice> = q
            .leaves
            .iter()
            .zip(&p.leaves)
            .map(|(b, a)| Splice {
                range: b.span.clone(),
                text: match a.kind {
                    LeafKind::Comment => {
                        Toml.render(&enc, b, &Replacement::Comment(a.value.expose()))
                    }
                    LeafKind::Value(ty) => {
                        Toml.render(&enc, b, &Replacement::Value(ty, a.value.expose()))
                    }
                    LeafKind::Null => unreachable!(),
                }
                .unwrap(),
            })
            .collect();
        let dec = apply_splices(&enc, &mut back).unwrap();
        assert_eq!(summary(&parse(&dec)), summary(&p));
        assert_eq!(dec, fixture("cargo-like.canonical.toml"));
    }

    #[test]
    fn metadata_block_layout_and_round_trips() {
        let tree = meta_tree();
        let out = with_meta("a = 1\n", Some(&tree));
        let want = "a = 1\n\n[sops]\nlastmodified = \"2026-11-29T16:35:46Z\"\nmac = \"ENC[AES256_GCM,data:m,iv:i,tag:t,type:str]\"\nunencrypted_suffix = \"_unencrypted\"\nversion = \"3.11.0\"\nshamir_threshold = 2\nmac_only_encrypted = true\n[[sops.age]]\nrecipient = \"age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n\"\nenc = \"\"\"\n-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBXQmhPTkNadHRDYlhuU3hr\nd2pDRzViZ1dUdWs3RzI2emN2SGI3OXRZempjCjM5RjNuY1U5eXQwQ3RwR1pONXpY\n-----END AGE ENCRYPTED FILE-----\n\"\"\"\n[[sops.age]]\nrecipient = \"age1second\"\nenc = \"\"\"\n-----BEGIN AGE ENCRYPTED FILE-----\nQUJD\n-----END AGE ENCRYPTED FILE-----\n\"\"\"\n";
        assert_eq!(out, want);
        for input in [
            "",
            "a = 1",
            "a = 1\n",
            "a = 1\n\n\n",
            "# only a comment",
            "[t]\nx = [1,\n  2]\n# end\n",
            "a = 1\r\n[t]\r\nb = 2\r\n",
            "[[x]]\n[[x]]\ny = '''\nz'''",
        ] {
            let added = with_meta(input, Some(&tree));
            let p = parse(&added);
            assert_eq!(p.metadata_tree(), Some(&tree), "{input:?}");
            assert_eq!(summary(&p), summary(&parse(input)), "{input:?}");
            assert_eq!(
                added.ends_with('\n'),
                input.is_empty() || input.ends_with('\n')
            );
            // Replacing with the same tree changes nothing; a new tree only
            // changes the block; removing gives the input back.
            assert_eq!(with_meta(&added, Some(&tree)), added, "{input:?}");
            let other =
                serde_json::json!({"version": "9", "age": [{"recipient": "r", "enc": "e\n"}]});
            let replaced = with_meta(&added, Some(&other));
            assert_eq!(parse(&replaced).metadata_tree(), Some(&other));
            assert_eq!(with_meta(&replaced, None), input, "{input:?}");
            assert_eq!(with_meta(&added, None), input, "{input:?}");
            if input.contains("\r\n") {
                assert!(added.contains("[sops]\r\nlastmodified"));
                assert!(!added.replace("\r\n", "").contains('\n'));
            }
        }
    }

    #[test]
    fn metadata_in_other_shapes() {
        // A [sops] table followed by data: replaced in place, removed with
        // its trailing blank lines.
        let text = "a = 1\n[sops]\nversion = \"1\" # c\n\n[b]\nx = 2\n";
        let p = parse(text);
        assert_eq!(
            p.metadata_tree(),
            Some(&serde_json::json!({"version": "1"}))
        );
        assert_eq!(summary(&p).len(), 2); // a, b.x: the sops comment is not a leaf
        assert_eq!(with_meta(text, None), "a = 1\n[b]\nx = 2\n");
        let tree = serde_json::json!({"version": "2"});
        assert_eq!(
            with_meta(text, Some(&tree)),
            "a = 1\n[sops]\nversion = \"2\"\n\n[b]\nx = 2\n"
        );
        for bad in [
            "sops = { version = \"1\" }\n",
            "sops.version = \"1\"\n",
            "[sops]\n[a]\n[sops.x]\n",
        ] {
            assert!(
                matches!(Toml.parse(bad), Err(FormatError::Unsupported { .. })),
                "{bad}"
            );
        }
        // Only [[sops.age]] (implicit [sops]) is fine.
        let p = parse("a = 1\n[[sops.age]]\nrecipient = \"r\"\n");
        assert_eq!(
            p.metadata_tree(),
            Some(&serde_json::json!({"age": [{"recipient": "r"}]}))
        );
    }

    #[test]
    fn rejects_bad_input_with_positions_and_no_text() {
        let cases: &[(&str, usize)] = &[
            ("a = \"secret\\q\"\n", 1),
            ("a = \"secret\n", 1),
            ("a = secret\n", 1),
            ("x = 1\n[t\nb = \"secret\"", 2),
            ("a = 1 b = \"secret\"\n", 1),
            ("a = [1,,2] # secret\n", 1),
            ("a = 0x\n", 1),
        ];
        for (text, line) in cases {
            match Toml.parse(text) {
                Err(e @ FormatError::Syntax { .. }) => {
                    let FormatError::Syntax { line: l, .. } = &e else {
                        unreachable!()
                    };
                    assert_eq!(l, line, "{text:?}: {e}");
                    assert!(!e.to_string().contains("secret"), "{e}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
        let dup = |text: &str| match Toml.parse(text) {
            Err(FormatError::DuplicateKey { path, line }) => (path.to_string(), line),
            other => panic!("{text:?}: {other:?}"),
        };
        assert_eq!(dup("a = 1\na = 2\n"), ("a".into(), 2));
        assert_eq!(dup("[t.u]\nx = 1\n\"x\" = 2\n"), ("t.u.x".into(), 3));
        assert_eq!(dup("[t]\nb.c = 1\nb.c = 2\n"), ("t.b.c".into(), 3));
        assert_eq!(dup("[t]\nx = 1\n[t]\n"), ("t".into(), 3));
        assert_eq!(dup("[[s]]\n[[s]]\nk = 1\nk = 2\n"), ("s[1].k".into(), 4));
    }

    /// sops has no TOML sample; the JSON sample's ciphertexts, laid out as
    /// TOML with the same structure (a table, an inline table in an array),
    /// decrypt with the paths this parser gives.
    #[test]
    fn sops_ciphertexts_decrypt_with_toml_paths() {
        use crate::format::json::Json;
        use crate::format::testutil::sops_decrypt;
        let json = std::fs::read_to_string(format!(
            "{}/testdata/sops/basic.enc.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let jp = Json.parse(&json).unwrap();
        let enc = |path: &str| {
            let l = jp
                .leaves
                .iter()
                .find(|l| l.path.to_string() == path)
                .unwrap();
            basic_string(l.value.expose())
        };
        let text = format!(
            "note_unencrypted = {} # c\nlist = [{}, {}, {{ k = {} }}]\n[db]\nuser = {}\npass = {}\nport = {}\nbig = {}\nratio = {}\non = {}\n",
            enc("note_unencrypted"),
            enc("list[0]"),
            enc("list[1]"),
            enc("list[2].k"),
            enc("db.user"),
            enc("db.pass"),
            enc("db.port"),
            enc("db.big"),
            enc("db.ratio"),
            enc("db.on"),
        );
        let p = parse(&text);
        let key = "951a93422fed3fa3d8f7b8c42d2ff3c716bfd6ed36dc04a43ec2a46933b27909";
        let mut plain = Vec::new();
        for l in p
            .leaves
            .iter()
            .filter(|l| l.value.expose().starts_with("ENC["))
        {
            let v = sops_decrypt(l.value.expose(), key, &l.path.aad())
                .map(|(p, _)| p)
                .unwrap_or_else(|| panic!("{} does not decrypt", l.path));
            plain.push((l.path.to_string(), v));
        }
        let want = [
            ("list[0]", "a"),
            ("list[1]", "1"),
            ("list[2].k", "v"),
            ("db.user", "admin"),
            ("db.pass", "s3cret"),
            ("db.port", "5432"),
            ("db.big", "12345678901234567000"),
            ("db.ratio", "1.5"),
            ("db.on", "False"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(plain, want);
    }

    #[test]
    fn comment_lexer_skips_strings() {
        let text = "a = \"#x\\\"#\" # c1\nb = '#'# c2\nc = \"\"\"\n# no\n\\\"\"\"# no\n\"\"\"\"\" # c3\nd = '''\n# no\n''''' # c4\n";
        let p = parse(text);
        let comments: Vec<String> = p
            .leaves
            .iter()
            .filter(|l| l.kind == LeafKind::Comment)
            .map(|l| l.value.expose().to_owned())
            .collect();
        assert_eq!(comments, [" c1", " c2", " c3", " c4"]);
        assert_eq!(p.leaves[4].value.expose(), "# no\n\"\"\"# no\n\"\"");
    }

    // ---- proptest: generated documents survive parse -> splice -> parse.

    fn scalar() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z #\"\\\\é]{0,6}".prop_map(|s| basic_string(&s)),
            "[a-z #\"]{0,6}".prop_map(|s| format!("'{s}'")),
            "[a-z #\"\n]{0,8}".prop_map(|s| multiline_string(&s, "\n")),
            (
                "[a-z #\n]{0,8}",
                prop_oneof![Just(""), Just("'"), Just("''")]
            )
                .prop_map(|(s, q)| format!("'''{s}{q}'''")),
            "-?(0|[1-9][0-9]{0,6})".prop_map(|s| s),
            Just("0xdead_beef".to_owned()),
            Just("1_000".to_owned()),
            "-?[1-9][0-9]{0,3}\\.[0-9]{1,3}(e-?[0-9])?".prop_map(|s| s),
            Just("+inf".to_owned()),
            Just("nan".to_owned()),
            any::<bool>().prop_map(|b| b.to_string()),
            Just("1979-05-27T07:32:00Z".to_owned()),
            Just("1979-05-27 00:32:00.999-07:00".to_owned()),
            Just("1979-05-27".to_owned()),
            Just("07:32:00".to_owned()),
        ]
    }

    fn value() -> impl Strategy<Value = String> {
        scalar().prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                (prop::collection::vec(inner.clone(), 0..4), any::<bool>()).prop_map(|(v, c)| {
                    if c && !v.is_empty() {
                        format!("[ # open\n  {}, # last\n]", v.join(", # mid\n  "))
                    } else {
                        format!("[{}]", v.join(", "))
                    }
                }),
                prop::collection::vec(("[a-z]{1,3}", inner), 0..4).prop_map(|kv| {
                    let mut seen = std::collections::HashSet::new();
                    let parts: Vec<String> = kv
                        .into_iter()
                        .filter(|(k, _)| seen.insert(k.clone()))
                        .map(|(k, v)| format!("k{k} = {v}"))
                        .collect();
                    format!("{{{}}}", parts.join(", "))
                }),
            ]
        })
    }

    pub(super) fn body() -> impl Strategy<Value = String> {
        prop::collection::vec(
            (
                "[a-z]{1,3}",
                value(),
                prop_oneof![Just(""), Just(" # t"), Just("   #"), Just("\n# own")],
                prop_oneof![Just(" = "), Just("     = "), Just("=")],
            ),
            0..5,
        )
        .prop_map(|kv| {
            let mut seen = std::collections::HashSet::new();
            kv.into_iter()
                .filter(|(k, ..)| seen.insert(k.clone()))
                .map(|(k, v, c, eq)| format!("k{k}{eq}{v}{c}\n"))
                .collect()
        })
    }

    proptest! {
        #[test]
        fn generated_documents_round_trip(
            root in body(),
            tables in prop::collection::vec((prop_oneof![Just("[t{}]"), Just("[[arr]]"), Just("[x.y{}] # h")], body()), 0..4),
            crlf in any::<bool>(),
        ) {
            let mut text = root;
            for (i, (header, b)) in tables.iter().enumerate() {
                text.push_str(&header.replace("{}", &i.to_string()));
                text.push('\n');
                text.push_str(b);
            }
            if crlf {
                text = text.replace('\n', "\r\n");
            }
            let p = Toml.parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            // Values agree with toml_edit's own reading (spans hold them).
            for l in &p.leaves {
                if l.kind == LeafKind::Comment {
                    prop_assert!(text[l.span.clone()].starts_with('#'));
                    prop_assert!(!text[l.span.clone()].contains(['\n', '\r']));
                }
            }
            let enc = encrypt_all(&text);
            let q = Toml.parse(&enc).map_err(|e| TestCaseError::fail(format!("{e}\n{enc}")))?;
            only_spans_differ(&text, &p, &enc, &q);
            for (a, b) in p.leaves.iter().zip(&q.leaves) {
                prop_assert_eq!(&a.path, &b.path);
                prop_assert_eq!(a.kind == LeafKind::Comment, b.kind == LeafKind::Comment);
                prop_assert_eq!(b.value.expose(), ENC);
            }
            // Decrypt by rendering the plain values: same leaves again.
            let mut back: Vec<Splice> = q.leaves.iter().zip(&p.leaves).map(|(b, a)| Splice {
                range: b.span.clone(),
                text: match a.kind {
                    LeafKind::Comment => Toml.render(&enc, b, &Replacement::Comment(a.value.expose())),
                    LeafKind::Value(ty) => Toml.render(&enc, b, &Replacement::Value(ty, a.value.expose())),
                    LeafKind::Null => unreachable!(),
                }.unwrap(),
            }).collect();
            let dec = apply_splices(&enc, &mut back).unwrap();
            let d = Toml.parse(&dec).map_err(|e| TestCaseError::fail(format!("{e}\n{dec}")))?;
            prop_assert_eq!(summary(&d), summary(&p));
            // Metadata append / remove.
            let tree = meta_tree();
            let added = with_meta(&enc, Some(&tree));
            let r = Toml.parse(&added).unwrap();
            prop_assert_eq!(r.metadata_tree(), Some(&tree));
            prop_assert_eq!(summary(&r), summary(&q));
            prop_assert_eq!(with_meta(&added, None), enc);
        }

        #[test]
        fn arbitrary_input_never_panics(s in "[\\[\\]{}\"'#=a-z0-9 .,\n\r\t\\\\:é😀\u{1}-]{0,40}") {
            if let Ok(p) = Toml.parse(&s) {
                for l in &p.leaves {
                    let _ = Toml.render(&s, l, &Replacement::Encrypted(ENC));
                }
                let _ = Toml.metadata_splices(&s, &p, None);
            }
        }
    }
}

#[cfg(test)]
mod edit_tests {
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
}
