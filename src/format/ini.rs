//! The INI format: reads sops' INI store (go-ini, `gopkg.in/ini.v1` with its
//! default options) byte-compatibly, writes files sops reads to the same
//! data, and keeps the layout.
//!
//! # Reading (go-ini's rules, checked against sops 3.11)
//! - `[name]` starts a section; the name is everything between `[` and the
//!   last `]`, verbatim. Keys before any section are in section `DEFAULT`.
//!   A value's path is `[section, key]` (AAD `section:key:`).
//! - `key = value`, `key=value` and `key: value` (the first `=` or `:`
//!   separates); key and value are trimmed. Keys may be quoted with `"`,
//!   `"""` or `` ` `` (needed for keys holding `=` or `:`).
//! - Values, exactly as go-ini reads them (COMPAT(sops)):
//!   - `` `...` `` and `"""..."""` are taken verbatim between the quotes and
//!     may span lines;
//!   - otherwise the first `#` or `;` anywhere starts an inline comment
//!     (`url = http://x/#frag` is the value `http://x/` and the comment
//!     `#frag`), then one pair of surrounding `"` or `'` is removed when the
//!     quote occurs nowhere else (`"s3cret"` -> `s3cret`);
//!   - a value ending in `\` continues on the next lines (each trimmed,
//!     joined without separator, no comment processing), until a line not
//!     ending in `\` or a blank line.
//!
//!   Every value is a string (`port = 8080` is `type:str`). The span is the
//!   value text (quotes included), without the inline comment.
//! - Comments: a line whose first non-blank character is `;` or `#`, and an
//!   inline comment after a value or a section header. Each is one leaf:
//!   its value is the text with the leading run of markers and spaces
//!   removed (`; note` -> `note`, `;;; x` -> `x`, `#x` -> `x`; go-ini's
//!   `stripCommentChar`), its span runs from the marker to the last
//!   non-blank character. Its path is the section it belongs to in go-ini:
//!   the section of the key that follows it, or the section whose header
//!   follows it; a comment followed by nothing but `[sops]` or the end of the
//!   file keeps the section it is in (sops drops such comments).
//!   COMPAT(sops): go-ini joins all comment lines before a key (and the
//!   key's inline comment) into ONE comment, and sops encrypts it as one
//!   `; ENC[...]` line. We keep one leaf per line so the layout survives;
//!   files sops wrote decrypt exactly (their encrypted comments are single
//!   lines, and a decrypted multi-line comment is rendered back as several
//!   comment lines, as sops does). The price: when sops decrypts a file we
//!   encrypted, only the first line of each comment group comes back (sops
//!   silently drops the others; values and MAC are unaffected).
//! - A line that is not a section, key or comment is a syntax error (go-ini
//!   rejects it too). Stricter than go-ini: text after a closing value quote
//!   or `]` that is not a comment is an error (go-ini ignores it, and it
//!   would otherwise stay unencrypted), duplicate keys in a section and
//!   duplicate sections are errors (go-ini merges sections and keeps the
//!   last value), and auto-increment keys (`- = x`) are unsupported.
//! - The `[sops]` section is the metadata: its keys are unflattened into a
//!   tree (`age__list_0__map_enc` -> `{"age":[{"enc":..}]}`, any order),
//!   literal `\n` decoded (values written as `"""..."""` by sops
//!   3.13.0/3.13.1 are read too); scalars stay strings. Its block spans the
//!   blank line right before `[sops]` (if any) through the line break after
//!   its last key.
//! - CRLF: a `\r` is trimmed like any whitespace (go-ini does the same), so
//!   it stays outside every span.
//!
//! # Writing
//! - `ENC[...]` replaces the value or goes after the comment's own marker
//!   (`; ENC[...]`, `#ENC[...]`: whatever the line had; sops reads both).
//! - Plaintext values are written so that go-ini reads them back to the same
//!   text: plain when possible; in backquotes when they hold `#` or `;`,
//!   surrounding whitespace, surrounding quotes, or end in `\`; as
//!   `"""..."""` when they hold a line break or a backquote. A value that
//!   holds `"""` and needs that form cannot be written.
//! - Metadata: a `[sops]` section at the end (after a blank line), keys
//!   sorted, `=` aligned as go-ini pretty-prints it, line breaks as literal
//!   `\n`. sops 3.11 decrypts files with this layout (checked by
//!   experiment: `testdata/ini/basic.rewritten.enc.ini`).

use std::collections::HashSet;
use std::ops::Range;

use serde_json::Value;

use super::flat::{decode_newlines, encode_newlines, flatten, unflatten, FlatEntry};
use super::text::{
    after_line_break, after_line_of, is_blank_line, line_removal, line_start_of, lines,
    newline_style, whole_lines, with_blank_lines_before, Line,
};
use super::{
    insert_keys, insert_leaf, unrepresentable, FormatError, FormatKind, Leaf, LeafKind, LeafStyle,
    MetadataBlock, ParsedFile, Replacement, Splice, Syntax, ValueType,
};
use crate::path::KeyPath;
use crate::secret::SecretText;

/// The ini syntax.
pub struct Ini;

const FORMAT: &str = "ini";
/// COMPAT(sops): go-ini's name for keys before any section.
const DEFAULT_SECTION: &str = "DEFAULT";
const SOPS_SECTION: &str = "sops";

fn syntax(line: usize, column: usize, reason: &str) -> FormatError {
    FormatError::Syntax {
        format: FORMAT,
        line,
        column,
        reason: reason.to_owned(),
    }
}

fn is_marker(c: char) -> bool {
    c == ';' || c == '#'
}

/// COMPAT(sops): `stripCommentChar`: drop the leading run of `;` and spaces
/// (or `#` and spaces) of a comment that starts with that marker.
fn strip_comment(comment: &str) -> &str {
    if comment.starts_with(';') {
        comment.trim_start_matches([';', ' '])
    } else if comment.starts_with('#') {
        comment.trim_start_matches(['#', ' '])
    } else {
        comment
    }
}

/// COMPAT(sops): go-ini's `hasSurroundedQuote`.
fn has_surrounded_quote(s: &str, q: char) -> bool {
    s.len() >= 2 && s.starts_with(q) && s.ends_with(q) && s[1..].find(q) == Some(s.len() - 2)
}

/// A comment seen but not yet given its path (that depends on what follows).
struct PendingComment {
    span: Range<usize>,
    value: String,
}

/// A parsed value and what follows it on its last line.
struct ParsedValue {
    value: String,
    span: Range<usize>,
    comment: Option<PendingComment>,
    /// Index (into the line list) of the value's last line.
    last_line: usize,
}

/// A comment that starts at byte `at` and ends at `end` (trailing blanks
/// already excluded).
fn comment_at(text: &str, at: usize, end: usize) -> PendingComment {
    PendingComment {
        span: at..end,
        value: strip_comment(&text[at..end]).to_owned(),
    }
}

/// Checks what follows a closing quote or `]` on a line: nothing, or a
/// comment (returned).
fn trailing(
    text: &str,
    from: usize,
    line_end: usize,
    line: usize,
    column: usize,
) -> Result<Option<PendingComment>, FormatError> {
    let rest = &text[from..line_end];
    let trimmed = rest.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.starts_with(is_marker) {
        let at = from + (rest.len() - rest.trim_start().len());
        return Ok(Some(comment_at(text, at, from + rest.trim_end().len())));
    }
    Err(syntax(
        line,
        column,
        "unexpected text after the closing quote or ]",
    ))
}

/// Reads a value starting at byte `start` of line `li` (go-ini `readValue`).
fn parse_value(
    text: &str,
    all: &[Line<'_>],
    li: usize,
    start: usize,
) -> Result<ParsedValue, FormatError> {
    let line = &all[li];
    let rem = &text[start..line.end()];
    let lstrip = rem.trim_start();
    let vstart = start + (rem.len() - lstrip.len());
    let column = |at: usize| text[line.start..at].chars().count() + 1;
    if lstrip.trim_end().is_empty() {
        // At the end of the line, so `k = ` becomes `k = v`.
        let at = start + rem.strip_suffix('\r').unwrap_or(rem).len();
        return Ok(ParsedValue {
            value: String::new(),
            span: at..at,
            comment: None,
            last_line: li,
        });
    }
    let has_newline = text.as_bytes().get(line.end()) == Some(&b'\n');
    let quote = if lstrip.starts_with("\"\"\"") && (lstrip.len() > 3 || has_newline) {
        Some("\"\"\"")
    } else if lstrip.starts_with('`') {
        Some("`")
    } else {
        None
    };
    if let Some(q) = quote {
        let inner_start = vstart + q.len();
        let inner = &text[inner_start..line.end()];
        if let Some(pos) = inner.rfind(q) {
            let close = inner_start + pos + q.len();
            let comment = trailing(text, close, line.end(), line.number, column(close))?;
            return Ok(ParsedValue {
                value: inner[..pos].to_owned(),
                span: vstart..close,
                comment,
                last_line: li,
            });
        }
        // Multi-line: the value runs, line breaks included, up to the last
        // quote on the first line that has one.
        let mut value = String::from(&text[inner_start..after_line_break(text, line.end())]);
        for (lj, next) in all.iter().enumerate().skip(li + 1) {
            if let Some(pos) = next.content.rfind(q) {
                value.push_str(&next.content[..pos]);
                let close = next.start + pos + q.len();
                let col = text[next.start..close].chars().count() + 1;
                let comment = trailing(text, close, next.end(), next.number, col)?;
                return Ok(ParsedValue {
                    value,
                    span: vstart..close,
                    comment,
                    last_line: lj,
                });
            }
            value.push_str(&text[next.start..after_line_break(text, next.end())]);
        }
        return Err(syntax(line.number, column(vstart), "missing closing quote"));
    }
    let t = lstrip.trim_end();
    if let Some(first) = t.strip_suffix('\\') {
        // Continuation lines: no comment or quote processing.
        let mut value = first.to_owned();
        let mut end = vstart + t.len();
        let mut last_line = li;
        for (lj, next) in all.iter().enumerate().skip(li + 1) {
            let trimmed = next.content.trim();
            if trimmed.is_empty() {
                break;
            }
            value.push_str(trimmed);
            let lead = next.content.len() - next.content.trim_start().len();
            end = next.start + lead + trimmed.len();
            last_line = lj;
            match value.strip_suffix('\\') {
                Some(v) => value.truncate(v.len()),
                None => break,
            }
        }
        return Ok(ParsedValue {
            value,
            span: vstart..end,
            comment: None,
            last_line,
        });
    }
    let (raw, comment) = match t.find(is_marker) {
        Some(i) => (
            t[..i].trim_end(),
            Some(comment_at(text, vstart + i, vstart + t.len())),
        ),
        None => (t, None),
    };
    let value = if has_surrounded_quote(raw, '\'') || has_surrounded_quote(raw, '"') {
        raw[1..raw.len() - 1].to_owned()
    } else {
        raw.to_owned()
    };
    Ok(ParsedValue {
        value,
        span: vstart..vstart + raw.len(),
        comment,
        last_line: li,
    })
}

/// The parser's running state.
struct State {
    parsed: ParsedFile,
    section: String,
    /// The last section that is not `[sops]` (where trailing comments go).
    data_section: String,
    in_sops: bool,
    sections: HashSet<String>,
    keys: HashSet<String>,
    pending: Vec<PendingComment>,
    meta: Vec<FlatEntry>,
    meta_span: Option<Range<usize>>,
}

impl State {
    fn push_comments(&mut self, section: &str) {
        for c in self.pending.drain(..) {
            self.parsed.leaves.push(Leaf {
                path: KeyPath::root().child_key(section),
                kind: LeafKind::Comment,
                value: SecretText::new(c.value),
                span: c.span,
                style: LeafStyle::default(),
                document: 0,
            });
        }
    }
}

impl Syntax for Ini {
    fn kind(&self) -> FormatKind {
        FormatKind::Ini
    }

    fn parse(&self, text: &str) -> Result<ParsedFile, FormatError> {
        let mut all = lines(text);
        // COMPAT(sops): go-ini skips a UTF-8 byte order mark; it is kept in
        // the text (spans start after it) but is not part of the first line.
        if let Some(first) = all.first_mut() {
            if let Some(rest) = first.content.strip_prefix('\u{feff}') {
                first.start += '\u{feff}'.len_utf8();
                first.content = rest;
            }
        }
        let mut st = State {
            parsed: ParsedFile {
                documents: 1,
                ..ParsedFile::default()
            },
            section: DEFAULT_SECTION.to_owned(),
            data_section: DEFAULT_SECTION.to_owned(),
            in_sops: false,
            sections: HashSet::new(),
            keys: HashSet::new(),
            pending: Vec::new(),
            meta: Vec::new(),
            meta_span: None,
        };
        let mut li = 0;
        while li < all.len() {
            let line = &all[li];
            let content = line.content;
            let trimmed = content.trim_start();
            let lead = content.len() - trimmed.len();
            let at = line.start + lead;
            let col = content[..lead].chars().count() + 1;
            if trimmed.trim_end().is_empty() {
                li += 1;
                continue;
            }
            if trimmed.starts_with(is_marker) {
                let end = line.start + content.trim_end().len();
                // Inside `[sops]`, a comment followed by another metadata
                // key is part of the block (dropped from `pending` there).
                st.pending.push(comment_at(text, at, end));
                li += 1;
                continue;
            }
            if trimmed.starts_with('[') {
                let Some(close) = trimmed.rfind(']') else {
                    return Err(syntax(line.number, col, "unclosed section header"));
                };
                let name = &trimmed[1..close];
                if name.is_empty() {
                    return Err(syntax(line.number, col, "empty section name"));
                }
                let close_at = at + close + 1;
                let inline = trailing(
                    text,
                    close_at,
                    line.end(),
                    line.number,
                    text[line.start..close_at].chars().count() + 1,
                )?;
                let is_default_again = name == DEFAULT_SECTION && !st.sections.contains(name);
                if st.sections.contains(name) && !is_default_again {
                    return Err(FormatError::DuplicateKey {
                        path: KeyPath::root().child_key(name),
                        line: line.number,
                    });
                }
                st.sections.insert(name.to_owned());
                st.keys.clear();
                if name == SOPS_SECTION {
                    let ds = st.data_section.clone();
                    st.push_comments(&ds);
                    // The block takes the blank line right before it.
                    let mut start = line.start;
                    if li > 0 && all[li - 1].content.trim().is_empty() {
                        start = all[li - 1].start;
                    }
                    st.meta_span = Some(start..after_line_break(text, line.end()));
                    st.in_sops = true;
                    // An inline comment on `[sops]` is part of the block.
                } else {
                    st.push_comments(name);
                    if let Some(c) = inline {
                        st.pending.push(c);
                        st.push_comments(name);
                    }
                    st.in_sops = false;
                    st.data_section = name.to_owned();
                }
                st.section = name.to_owned();
                li += 1;
                continue;
            }
            // A key line.
            let (key, value_start) = read_key(text, line, at, col)?;
            if key == "-" {
                return Err(FormatError::Unsupported {
                    format: FORMAT,
                    line: line.number,
                    reason: "auto-increment keys (-) are not supported".into(),
                });
            }
            let pv = parse_value(text, &all, li, value_start)?;
            if !st.keys.insert(key.clone()) {
                return Err(FormatError::DuplicateKey {
                    path: KeyPath::root().child_key(&st.section).child_key(key),
                    line: line.number,
                });
            }
            if st.in_sops {
                // Comments between metadata keys belong to the block.
                st.pending.clear();
                let last = &all[pv.last_line];
                if let Some(span) = &mut st.meta_span {
                    span.end = after_line_break(text, last.end());
                }
                st.meta.push(FlatEntry {
                    key,
                    value: decode_newlines(&pv.value),
                    line: line.number,
                });
            } else {
                st.sections.insert(st.section.clone());
                let section = st.section.clone();
                st.push_comments(&section);
                st.parsed.leaves.push(Leaf {
                    path: KeyPath::root().child_key(&section).child_key(key),
                    kind: LeafKind::Value(ValueType::Str),
                    value: SecretText::new(pv.value),
                    span: pv.span,
                    style: LeafStyle::default(),
                    document: 0,
                });
                if let Some(c) = pv.comment {
                    st.pending.push(c);
                    st.push_comments(&section);
                }
            }
            li = pv.last_line + 1;
        }
        let ds = st.data_section.clone();
        st.push_comments(&ds);
        if let Some(span) = st.meta_span.take() {
            let tree = unflatten(&st.meta, FORMAT)?;
            st.parsed.metadata.push(MetadataBlock { span, tree });
        }
        Ok(st.parsed)
    }

    fn render(
        &self,
        text: &str,
        leaf: &Leaf,
        with: &Replacement<'_>,
    ) -> Result<String, FormatError> {
        let span_text = text
            .get(leaf.span.clone())
            .ok_or(FormatError::Internal("leaf span outside the text"))?;
        match (leaf.kind, with) {
            (LeafKind::Comment, Replacement::Encrypted(s)) => {
                if s.contains('\n') {
                    return Err(FormatError::Internal("an ENC value holds a line break"));
                }
                Ok(format!("{}{s}", comment_prefix(span_text)))
            }
            (LeafKind::Comment, Replacement::Comment(t)) => {
                Ok(render_comment(text, leaf, span_text, t))
            }
            (LeafKind::Comment, Replacement::Value(..)) => {
                Err(FormatError::Internal("a value rendered at a comment"))
            }
            (_, Replacement::Comment(_)) => {
                Err(FormatError::Internal("a comment rendered at a value"))
            }
            (_, Replacement::Encrypted(s)) => {
                if s.contains(['\n', '#', ';']) {
                    return Err(FormatError::Internal(
                        "an ENC value with # ; or a line break",
                    ));
                }
                Ok(space_after_delimiter(text, leaf, s))
            }
            (_, Replacement::Value(_, t)) => {
                let v = render_value(t).ok_or_else(|| FormatError::Unrepresentable {
                    format: FORMAT,
                    path: leaf.path.clone(),
                    reason: "a multi-line value holding \"\"\" cannot be written in INI".into(),
                })?;
                Ok(space_after_delimiter(text, leaf, &v))
            }
        }
    }

    fn metadata_splices(
        &self,
        text: &str,
        parsed: &ParsedFile,
        tree: Option<&Value>,
    ) -> Result<Vec<Splice>, FormatError> {
        let Some(tree) = tree else {
            return Ok(self.metadata_removal(parsed));
        };
        let flat = flatten(tree, FORMAT)?;
        let width = flat.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        let mut section = String::from("[sops]\n");
        for (key, value) in &flat {
            let bad_key = key.is_empty()
                || key.trim() != key
                || key.contains(['=', ':', '\n', '\r', '"', '`'])
                || key.starts_with(['[', ';', '#']);
            let path = || {
                KeyPath::root()
                    .child_key(SOPS_SECTION)
                    .child_key(key.as_str())
            };
            if bad_key {
                return Err(FormatError::Unrepresentable {
                    format: FORMAT,
                    path: path(),
                    reason: "metadata key not writable as an INI key".into(),
                });
            }
            let v = render_value(&encode_newlines(value)).ok_or_else(|| {
                FormatError::Unrepresentable {
                    format: FORMAT,
                    path: path(),
                    reason: "metadata value not writable in INI".into(),
                }
            })?;
            section.push_str(key);
            section.extend(std::iter::repeat_n(' ', width - key.len()));
            section.push_str(" = ");
            section.push_str(&v);
            section.push('\n');
        }
        Ok(match parsed.metadata.first() {
            Some(existing) => {
                let old = &text[existing.span.clone()];
                let lead = if old.starts_with("\r\n") {
                    "\r\n"
                } else if old.starts_with('\n') {
                    "\n"
                } else {
                    ""
                };
                vec![Splice {
                    range: existing.span.clone(),
                    text: format!("{lead}{section}"),
                }]
            }
            None => {
                let mut insert = String::new();
                if !text.is_empty() {
                    if !text.ends_with('\n') {
                        insert.push('\n');
                    }
                    insert.push('\n');
                }
                insert.push_str(&section);
                vec![Splice {
                    range: text.len()..text.len(),
                    text: insert,
                }]
            }
        })
    }

    fn insert(
        &self,
        text: &str,
        parsed: &ParsedFile,
        path: &KeyPath,
        value: &Replacement<'_>,
    ) -> Result<Vec<Splice>, FormatError> {
        self.insert_entry(text, parsed, path, value)
    }

    fn remove(
        &self,
        text: &str,
        parsed: &ParsedFile,
        path: &KeyPath,
    ) -> Result<Vec<Splice>, FormatError> {
        self.remove_entry(text, parsed, path)
    }
}

/// Where the sections of a file are, for structural edits.
struct Layout {
    /// Data section headers: name and the header line's bytes.
    headers: Vec<(String, Range<usize>)>,
    /// Where the data ends: the metadata block's start, or the text's end.
    limit: usize,
    /// Between a key and its value (`" = "` unless the file does otherwise).
    delimiter: String,
    newline: &'static str,
}

fn layout(text: &str, parsed: &ParsedFile) -> Layout {
    let meta = parsed.metadata.first().map(|m| m.span.clone());
    let inside_value = |at: usize| {
        parsed
            .leaves
            .iter()
            .any(|l| l.kind != LeafKind::Comment && l.span.start < at && at < l.span.end)
    };
    let mut headers = Vec::new();
    for line in lines(text) {
        if meta.as_ref().is_some_and(|m| m.contains(&line.start)) || inside_value(line.start) {
            continue;
        }
        let t = line.content.trim();
        if let (Some(rest), Some(close)) = (t.strip_prefix('['), t.rfind(']')) {
            if close > 0 {
                headers.push((
                    rest[..close - 1].to_owned(),
                    line.start..after_line_break(text, line.end()),
                ));
            }
        }
    }
    // The file's own `key = value` spacing, from its first value.
    let delimiter = parsed
        .leaves
        .iter()
        .filter(|l| l.kind != LeafKind::Comment)
        .find_map(|l| {
            let key = l.path.keys().last()?;
            let head = text[line_start_of(text, l.span.start)..l.span.start].trim_start();
            let d = head.strip_prefix(key)?;
            ["=", " = ", ":", ": ", " : "]
                .contains(&d)
                .then(|| d.to_owned())
        })
        .unwrap_or_else(|| " = ".to_owned());
    Layout {
        headers,
        limit: meta.map_or(text.len(), |m| m.start),
        delimiter,
        newline: newline_style(text),
    }
}

impl Ini {
    fn insert_entry(
        &self,
        text: &str,
        parsed: &ParsedFile,
        path: &KeyPath,
        value: &Replacement<'_>,
    ) -> Result<Vec<Splice>, FormatError> {
        let keys = insert_keys(FORMAT, path)?;
        let [section, key] = keys[..] else {
            return Err(unrepresentable(
                FORMAT,
                path,
                "an INI path is a section and a key",
            ));
        };
        let bad_key = key.is_empty()
            || key.trim() != key
            || key == "-"
            || key.contains(['=', ':', '\n', '\r'])
            || key.starts_with(['[', ';', '#', '"', '`']);
        let bad_section =
            section.is_empty() || section.trim() != section || section.contains([']', '\n', '\r']);
        if bad_key || bad_section {
            return Err(unrepresentable(
                FORMAT,
                path,
                "not a valid INI section or key",
            ));
        }
        if parsed
            .leaves
            .iter()
            .any(|l| l.kind != LeafKind::Comment && l.path == *path)
        {
            return Err(unrepresentable(FORMAT, path, "the key already exists"));
        }
        let v = self.render(text, &insert_leaf(path, 0..0, LeafStyle::default()), value)?;
        let lay = layout(text, parsed);
        let nl = lay.newline;
        let entry = if v.is_empty() {
            format!("{key}{}", lay.delimiter.trim_end())
        } else {
            format!("{key}{}{v}", lay.delimiter)
        };
        let last_key = parsed
            .leaves
            .iter()
            .filter(|l| l.kind != LeafKind::Comment && l.path.keys().next() == Some(section))
            .map(|l| whole_lines(text, l.span.start, l.span.end).end)
            .next_back();
        let header = lay.headers.iter().find(|(n, _)| n == section);
        let at = match (last_key, header) {
            (Some(at), _) => Some(at),
            (None, Some((_, h))) => Some(h.end),
            (None, None) if section == DEFAULT_SECTION => {
                // Keys before the first header.
                let at = lay
                    .headers
                    .first()
                    .map_or(0, |(_, h)| h.start)
                    .min(lay.limit);
                let mut t = format!("{entry}{nl}");
                if at < text.len() && !text[at..].starts_with(['\r', '\n']) {
                    t.push_str(nl);
                }
                return Ok(vec![Splice {
                    range: at..at,
                    text: t,
                }]);
            }
            (None, None) => None,
        };
        if let Some(at) = at {
            let t = if at > 0 && !text[..at].ends_with('\n') {
                format!("{nl}{entry}")
            } else {
                format!("{entry}{nl}")
            };
            return Ok(vec![Splice {
                range: at..at,
                text: t,
            }]);
        }
        // A new section, at the end of the data.
        let at = lay.limit;
        let mut t = String::new();
        let before = &text[..at];
        if !before.is_empty() && !before.ends_with('\n') {
            t.push_str(nl);
        }
        let last_blank = before.is_empty()
            || before.trim_end_matches(['\r', '\n']).len() + 2 * nl.len() <= before.len()
            || before.trim().is_empty();
        if !last_blank {
            t.push_str(nl);
        }
        t.push('[');
        t.push_str(section);
        t.push(']');
        t.push_str(nl);
        t.push_str(&entry);
        t.push_str(nl);
        Ok(vec![Splice {
            range: at..at,
            text: t,
        }])
    }

    fn remove_entry(
        &self,
        text: &str,
        parsed: &ParsedFile,
        path: &KeyPath,
    ) -> Result<Vec<Splice>, FormatError> {
        let not_found = || FormatError::PathNotFound(path.clone());
        let keys: Vec<&str> = path.keys().collect();
        if keys.len() != path.segments().len() || keys.first() == Some(&SOPS_SECTION) {
            return Err(not_found());
        }
        let in_section = |l: &&Leaf| {
            l.kind != LeafKind::Comment && l.path.keys().next() == keys.first().copied()
        };
        match keys[..] {
            [_, _] => {
                let leaf = parsed
                    .leaves
                    .iter()
                    .find(|l| l.kind != LeafKind::Comment && l.path == *path)
                    .ok_or_else(not_found)?;
                Ok(vec![Splice {
                    range: line_removal(text, leaf.span.start, leaf.span.end),
                    text: String::new(),
                }])
            }
            [section] => {
                let lay = layout(text, parsed);
                let Some(i) = lay.headers.iter().position(|(n, _)| n == section) else {
                    // `DEFAULT` without a header: its key lines.
                    let out: Vec<Splice> = parsed
                        .leaves
                        .iter()
                        .filter(in_section)
                        .map(|l| Splice {
                            range: line_removal(text, l.span.start, l.span.end),
                            text: String::new(),
                        })
                        .collect();
                    return if out.is_empty() {
                        Err(not_found())
                    } else {
                        Ok(out)
                    };
                };
                let header = lay.headers[i].1.clone();
                let next = lay
                    .headers
                    .get(i + 1)
                    .map_or(lay.limit, |(_, h)| h.start)
                    .min(lay.limit.max(header.end));
                // Through the last key line; the comments before the next
                // header belong to it and stay; blank lines after go.
                let mut end = parsed
                    .leaves
                    .iter()
                    .filter(in_section)
                    .map(|l| whole_lines(text, l.span.start, l.span.end).end)
                    .filter(|e| *e <= next)
                    .max()
                    .unwrap_or(header.end)
                    .max(header.end);
                while end < next && is_blank_line(text, end) {
                    end = after_line_of(text, end);
                }
                let limit = if end >= lay.limit {
                    lay.limit
                } else {
                    text.len()
                };
                let mut range = with_blank_lines_before(text, header.start..end, limit);
                if range.end == text.len() && !text.ends_with('\n') && range.start > 0 {
                    range = line_removal(text, range.start, range.end);
                }
                Ok(vec![Splice {
                    range,
                    text: String::new(),
                }])
            }
            _ => Err(not_found()),
        }
    }
}

/// Reads a key (go-ini `readKeyName`) on a line whose first non-blank byte
/// is at `at`; returns the key and where its value starts.
fn read_key(
    text: &str,
    line: &Line<'_>,
    at: usize,
    col: usize,
) -> Result<(String, usize), FormatError> {
    let rest = &text[at..line.end()];
    let quote = if rest.starts_with("\"\"\"") && rest.len() > 6 {
        Some("\"\"\"")
    } else if rest.starts_with('"') {
        Some("\"")
    } else if rest.starts_with('`') {
        Some("`")
    } else {
        None
    };
    let (key, after) = match quote {
        Some(q) => {
            let inner = &rest[q.len()..];
            let Some(pos) = inner.find(q) else {
                return Err(syntax(line.number, col, "missing closing key quote"));
            };
            (inner[..pos].trim(), q.len() + pos + q.len())
        }
        None => ("", 0),
    };
    let tail = &rest[after..];
    let Some(delim) = tail.find(['=', ':']) else {
        return Err(syntax(
            line.number,
            col,
            "expected key = value, [section] or a comment",
        ));
    };
    let key = match quote {
        Some(_) => {
            if !tail[..delim].trim().is_empty() {
                return Err(syntax(
                    line.number,
                    col,
                    "unexpected text after a quoted key",
                ));
            }
            key
        }
        None => tail[..delim].trim(),
    };
    if key.is_empty() {
        return Err(syntax(line.number, col, "empty key"));
    }
    Ok((key.to_owned(), at + after + delim + 1))
}

/// The marker run a comment's text starts with (`; `, `#`, `;;; `): what
/// [`strip_comment`] removes.
fn comment_prefix(span_text: &str) -> &str {
    let stripped = strip_comment(span_text);
    &span_text[..span_text.len() - stripped.len()]
}

/// A plaintext comment at a comment leaf: the line's own marker, then the
/// text; further lines of a multi-line comment (as go-ini joins them) are
/// written as comment lines of their own, the way go-ini writes them.
fn render_comment(text: &str, leaf: &Leaf, span_text: &str, t: &str) -> String {
    let prefix = comment_prefix(span_text);
    let line_start = line_start_of(text, leaf.span.start);
    let indent = &text[line_start..leaf.span.start];
    let indent = if indent.trim().is_empty() { indent } else { "" };
    let crlf = text[leaf.span.end..]
        .split('\n')
        .next()
        .is_some_and(|rest| rest.ends_with('\r'))
        && text[leaf.span.end..].contains('\n');
    let eol = if crlf { "\r\n" } else { "\n" };
    let mut out = String::new();
    for (i, l) in t.split('\n').enumerate() {
        let l = l.strip_suffix('\r').unwrap_or(l);
        if i == 0 {
            out.push_str(prefix);
            out.push_str(l);
            continue;
        }
        out.push_str(eol);
        out.push_str(indent);
        // SECURITY: every line stays a comment line.
        match l.chars().next() {
            Some(c) if is_marker(c) => {
                out.push(c);
                out.push(' ');
                out.push_str(l[1..].trim());
            }
            _ => {
                out.push_str("; ");
                out.push_str(l.trim());
            }
        }
    }
    out
}

/// `k =` with an empty value gets `k = v`, not `k =v`.
fn space_after_delimiter(text: &str, leaf: &Leaf, v: &str) -> String {
    let after_delim =
        leaf.span.is_empty() && !v.is_empty() && text[..leaf.span.start].ends_with(['=', ':']);
    if after_delim {
        format!(" {v}")
    } else {
        v.to_owned()
    }
}

/// A value written so that go-ini reads it back as `t`; `None` when it
/// cannot be.
fn render_value(t: &str) -> Option<String> {
    if t.contains('\n') || t.contains('`') {
        if t.contains("\"\"\"") {
            return None;
        }
        return Some(format!("\"\"\"{t}\"\"\""));
    }
    let needs_quotes = t.contains(is_marker)
        || t.trim() != t
        || has_surrounded_quote(t, '"')
        || has_surrounded_quote(t, '\'')
        || t.ends_with('\\')
        || t.starts_with("\"\"\"");
    Some(if needs_quotes {
        format!("`{t}`")
    } else {
        t.to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::apply_splices;
    use proptest::prelude::*;

    const SAMPLE: &str = include_str!("../../testdata/sops/basic.enc.ini");
    const PLAIN: &str = include_str!("../../testdata/sops/basic.ini");
    const KEY: &str = "446cff9d679364f9e8fc3ed1377a5b0eb21163152abceabf1ea186bbdb8df516";
    const FAKE: &str = "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]";

    fn parse(text: &str) -> ParsedFile {
        Ini.parse(text).expect("parses")
    }

    use crate::format::testutil::summary;

    fn splice_all(text: &str, p: &ParsedFile, enc: &str) -> String {
        let mut splices: Vec<Splice> = p
            .leaves
            .iter()
            .map(|l| Splice {
                range: l.span.clone(),
                text: Ini.render(text, l, &Replacement::Encrypted(enc)).unwrap(),
            })
            .collect();
        apply_splices(text, &mut splices).unwrap()
    }

    fn restore(enc: &str, q: &ParsedFile, orig: &ParsedFile) -> String {
        let mut back: Vec<Splice> = q
            .leaves
            .iter()
            .zip(&orig.leaves)
            .map(|(l, o)| {
                let with = match o.kind {
                    LeafKind::Comment => Replacement::Comment(o.value.expose()),
                    _ => Replacement::Value(ValueType::Str, o.value.expose()),
                };
                Splice {
                    range: l.span.clone(),
                    text: Ini.render(enc, l, &with).unwrap(),
                }
            })
            .collect();
        apply_splices(enc, &mut back).unwrap()
    }

    fn s(aad: &str, kind: LeafKind, v: &str) -> (String, LeafKind, String) {
        (aad.into(), kind, v.into())
    }
    const STR: LeafKind = LeafKind::Value(ValueType::Str);
    const COM: LeafKind = LeafKind::Comment;

    #[test]
    fn parses_the_sops_sample_and_every_value_decrypts() {
        let p = parse(SAMPLE);
        let mut got = Vec::new();
        for leaf in &p.leaves {
            let (plain, ty) =
                crate::format::testutil::sops_decrypt(leaf.value.expose(), KEY, &leaf.path.aad())
                    .unwrap_or_else(|| panic!("{} does not decrypt", leaf.path));
            assert_eq!(ty, if leaf.kind == COM { "comment" } else { "str" });
            got.push((leaf.path.aad(), leaf.kind, plain));
        }
        assert_eq!(
            got,
            vec![
                s("database:user:", STR, "admin"),
                s("database:", COM, "comment about pass"),
                s("database:pass:", STR, "s3cret"),
                s("server:port:", STR, "8080"),
            ]
        );
        // The plaintext input reads to the same leaves.
        assert_eq!(summary(&parse(PLAIN)), got);
        let tree = p.metadata_tree().unwrap();
        assert_eq!(
            tree["age"][0]["recipient"],
            "age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n"
        );
        let enc = tree["age"][0]["enc"].as_str().unwrap();
        assert!(enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\nYWdl"));
        assert!(enc.ends_with("-----END AGE ENCRYPTED FILE-----\n"));
        assert_eq!(tree["lastmodified"], "2026-11-29T16:35:47Z");
        assert_eq!(tree["version"], "3.11.0");
        assert_eq!(tree["unencrypted_suffix"], "_unencrypted");
        let (mac, _) = crate::format::testutil::sops_decrypt(
            tree["mac"].as_str().unwrap(),
            KEY,
            "2026-11-29T16:35:47Z",
        )
        .unwrap();
        assert_eq!(mac.len(), 128);
        // The block: the blank line before [sops] through the end.
        let span = p.metadata[0].span.clone();
        assert!(SAMPLE[span.clone()].starts_with("\n[sops]\nlastmodified "));
        assert_eq!(span.end, SAMPLE.len());
        // The comment keeps its `; ` marker in the span.
        assert!(SAMPLE[p.leaves[1].span.clone()].starts_with("; ENC[AES256_GCM,data:rQAV"));
    }

    #[test]
    fn sops_agrees_with_our_paths_on_a_tricky_file() {
        // testdata/ini/rules.ini encrypted by sops 3.11 (rules.enc.ini);
        // data key recovered with age (see testdata/ini/README.md).
        let key = "5e82f15d32c3c9a401149b2725dc3c5651b2a4c17e3602bbd9e6682b76d00270";
        let plain = parse(include_str!("../../testdata/ini/rules.ini"));
        let enc = parse(include_str!("../../testdata/ini/rules.enc.ini"));
        let mut values = Vec::new();
        let mut comments = Vec::new();
        for leaf in &enc.leaves {
            let v = leaf.value.expose();
            let text = if v.is_empty() {
                String::new()
            } else {
                crate::format::testutil::sops_decrypt(v, key, &leaf.path.aad())
                    .unwrap_or_else(|| panic!("{} does not decrypt", leaf.path))
                    .0
            };
            if leaf.kind == COM {
                comments.push((leaf.path.aad(), text));
            } else {
                values.push((leaf.path.aad(), text));
            }
        }
        // Every value sops encrypted is the value we read, at our path.
        let ours: Vec<_> = plain
            .leaves
            .iter()
            .filter(|l| l.kind != COM)
            .map(|l| (l.path.aad(), l.value.expose().to_owned()))
            .collect();
        assert_eq!(values, ours);
        // sops joins go-ini comment groups; each group is at our section.
        let c = |a: &str, t: &str| (a.to_owned(), t.to_owned());
        assert_eq!(
            comments,
            vec![
                c("database:", "top\n# top2"),
                c("database:", "inline"),
                c("database:", "c1\n;c2"),
                c("database:", "y\""),
                c("database:", "triple\n#frag"),
                c("server:", "trailing"),
            ]
        );
        let ours: Vec<_> = plain
            .leaves
            .iter()
            .filter(|l| l.kind == COM)
            .map(|l| (l.path.aad(), l.value.expose().to_owned()))
            .collect();
        assert_eq!(
            ours,
            vec![
                c("database:", "top"),
                c("database:", "top2"),
                c("database:", "inline"),
                c("database:", "c1"),
                c("database:", "c2"),
                c("database:", "y\""),
                c("database:", "triple"),
                c("database:", "frag"),
                c("server:", "trailing"),
            ]
        );
    }

    #[test]
    fn go_ini_value_rules() {
        let text = "; top\n\n# top2\n[database]\nuser = admin ; inline\n; c1\n\n;c2\n\
                    pass = \"s3cret\"\nq = 'it''s'\nbt = `a;b`\ncont = foo\\\n  bar\n\
                    empty =\ncolon: v\n  indented = yes\n;;; triple\nurl = http://x/#frag\n\
                    ml = \"\"\"l1\nl2\"\"\" # after\n[server]\nport = 8080\n; trailing\n";
        let p = parse(text);
        assert_eq!(
            summary(&p),
            vec![
                s("database:", COM, "top"),
                s("database:", COM, "top2"),
                s("database:user:", STR, "admin"),
                s("database:", COM, "inline"),
                s("database:", COM, "c1"),
                s("database:", COM, "c2"),
                s("database:pass:", STR, "s3cret"),
                s("database:q:", STR, "'it''s'"),
                s("database:bt:", STR, "a;b"),
                s("database:cont:", STR, "foobar"),
                s("database:empty:", STR, ""),
                s("database:colon:", STR, "v"),
                s("database:indented:", STR, "yes"),
                s("database:", COM, "triple"),
                s("database:url:", STR, "http://x/"),
                s("database:", COM, "frag"),
                s("database:ml:", STR, "l1\nl2"),
                s("database:", COM, "after"),
                s("server:port:", STR, "8080"),
                s("server:", COM, "trailing"),
            ]
        );
        let spans: Vec<&str> = p.leaves.iter().map(|l| &text[l.span.clone()]).collect();
        assert_eq!(spans[3], "; inline");
        assert_eq!(spans[6], "\"s3cret\"");
        assert_eq!(spans[8], "`a;b`");
        assert_eq!(spans[9], "foo\\\n  bar");
        assert_eq!(spans[16], "\"\"\"l1\nl2\"\"\"");
        assert_eq!(spans[13], ";;; triple");
        // Keys before any section live in DEFAULT; CRLF stays outside spans.
        let p = parse("a = 1\r\n; c\r\n[s]\r\nb=2\r\n");
        assert_eq!(
            summary(&p),
            vec![
                s("DEFAULT:a:", STR, "1"),
                s("s:", COM, "c"),
                s("s:b:", STR, "2")
            ]
        );
        assert_eq!(&"a = 1\r\n"[p.leaves[0].span.clone()], "1");
    }

    #[test]
    fn splice_round_trip_keeps_everything_outside_spans() {
        let text = "; head\n[a]\nk = v ; inline\n  # indented\nq: \"quoted\"\nml = `x\ny`\n\n[b]\r\nz=1\r\ne =\n";
        let p = parse(text);
        let out = splice_all(text, &p, FAKE);
        assert_eq!(
            out,
            format!(
                "; {FAKE}\n[a]\nk = {FAKE} ; {FAKE}\n  # {FAKE}\nq: {FAKE}\nml = {FAKE}\n\n[b]\r\nz={FAKE}\r\ne = {FAKE}\n"
            )
        );
        let q = parse(&out);
        assert_eq!(q.leaves.len(), p.leaves.len());
        for (a, b) in p.leaves.iter().zip(&q.leaves) {
            assert_eq!((&a.path, a.kind), (&b.path, b.kind));
            assert_eq!(b.value.expose(), FAKE);
        }
        // Decrypting gives back the canonical plaintext.
        assert_eq!(
            restore(&out, &q, &p),
            "; head\n[a]\nk = v ; inline\n  # indented\nq: quoted\nml = \"\"\"x\ny\"\"\"\n\n[b]\r\nz=1\r\ne = \n"
        );
    }

    #[test]
    fn renders_values_go_ini_reads_back() {
        let cases = [
            ("plain", "plain"),
            ("a;b", "`a;b`"),
            ("x#y", "`x#y`"),
            (" pad ", "` pad `"),
            ("\"q\"", "`\"q\"`"),
            ("'q'", "`'q'`"),
            ("ends\\", "`ends\\`"),
            ("l1\nl2", "\"\"\"l1\nl2\"\"\""),
            ("back`tick", "\"\"\"back`tick\"\"\""),
            ("half\"", "half\""),
            ("", ""),
        ];
        for (value, written) in cases {
            assert_eq!(render_value(value).as_deref(), Some(written), "{value:?}");
            let text = format!("[s]\nk = {written}\n");
            let p = parse(&text);
            assert_eq!(p.leaves[0].value.expose(), value, "{text:?}");
            assert_eq!(p.leaves.len(), 1, "{text:?}");
        }
        assert_eq!(render_value("a\"\"\"\nb"), None);
        let p = parse("[s]\nk = x\n");
        assert!(matches!(
            Ini.render(
                "[s]\nk = x\n",
                &p.leaves[0],
                &Replacement::Value(ValueType::Str, "\"\"\"\n")
            ),
            Err(FormatError::Unrepresentable { .. })
        ));
    }

    #[test]
    fn renders_comments_with_their_own_marker() {
        let text = "[s]\n;x\n  # y\r\nk = 1\n";
        let p = parse(text);
        let r = |i: usize, t: &str| {
            Ini.render(text, &p.leaves[i], &Replacement::Comment(t))
                .unwrap()
        };
        assert_eq!(r(0, "new"), ";new");
        assert_eq!(r(1, "new"), "# new");
        // A comment sops joined (go-ini groups comment lines) comes back as
        // several comment lines, like sops writes it.
        assert_eq!(r(0, "a\n; b\nc"), ";a\n; b\n; c");
        assert_eq!(r(1, "a\n#b"), "# a\r\n  # b");
        let e = Ini
            .render(text, &p.leaves[0], &Replacement::Encrypted(FAKE))
            .unwrap();
        assert_eq!(e, format!(";{FAKE}"));
    }

    #[test]
    fn metadata_rewrite_is_read_by_sops_fixture() {
        // testdata/ini/basic.rewritten.enc.ini is basic.enc.ini with its
        // [sops] section re-rendered by metadata_splices; `sops decrypt`
        // (3.11) decrypts it to basic.dec.ini (see testdata/ini/README.md).
        let p = parse(SAMPLE);
        let tree = p.metadata_tree().unwrap();
        let mut s = Ini.metadata_splices(SAMPLE, &p, Some(tree)).unwrap();
        let out = apply_splices(SAMPLE, &mut s).unwrap();
        assert_eq!(
            out,
            include_str!("../../testdata/ini/basic.rewritten.enc.ini")
        );
        assert_eq!(
            &out[..p.metadata[0].span.start],
            &SAMPLE[..p.metadata[0].span.start]
        );
        let q = parse(&out);
        assert_eq!(q.metadata_tree(), Some(tree));
        assert_eq!(summary(&q), summary(&p));
    }

    #[test]
    fn metadata_append_replace_remove_round_trip() {
        let tree = serde_json::json!({
            "age": [{"recipient": "age1x", "enc": "-----BEGIN-----\nAAA\n-----END-----\n"}],
            "lastmodified": "2026-01-01T00:00:00Z",
            "encrypted_regex": "^(a|b);",
            "version": "3.11.0",
        });
        let text = "[s]\nk = v\n";
        let p = parse(text);
        let mut a = Ini.metadata_splices(text, &p, Some(&tree)).unwrap();
        let with = apply_splices(text, &mut a).unwrap();
        assert_eq!(
            with,
            "[s]\nk = v\n\n[sops]\n\
             age__list_0__map_enc       = -----BEGIN-----\\nAAA\\n-----END-----\\n\n\
             age__list_0__map_recipient = age1x\n\
             encrypted_regex            = `^(a|b);`\n\
             lastmodified               = 2026-01-01T00:00:00Z\n\
             version                    = 3.11.0\n"
        );
        let q = parse(&with);
        assert_eq!(summary(&q), summary(&p));
        assert_eq!(q.metadata_tree(), Some(&tree));
        // Replace.
        let newer = serde_json::json!({"version": "3.12.0"});
        let mut r = Ini.metadata_splices(&with, &q, Some(&newer)).unwrap();
        let replaced = apply_splices(&with, &mut r).unwrap();
        assert_eq!(replaced, "[s]\nk = v\n\n[sops]\nversion = 3.12.0\n");
        // Remove: back to the original bytes.
        let rp = parse(&replaced);
        let mut d = Ini.metadata_splices(&replaced, &rp, None).unwrap();
        assert_eq!(apply_splices(&replaced, &mut d).unwrap(), text);
        // Append to an empty file.
        let mut e = Ini.metadata_splices("", &parse(""), Some(&newer)).unwrap();
        assert_eq!(
            apply_splices("", &mut e).unwrap(),
            "[sops]\nversion = 3.12.0\n"
        );
    }

    #[test]
    fn reads_triple_quoted_metadata_and_sections_after_it() {
        // sops 3.13.0/3.13.1 wrote multi-line values in """...""".
        let text = "[a]\nk = 1\n\n[sops]\nage__list_0__map_enc = \"\"\"-----BEGIN-----\nAAA\n-----END-----\n\"\"\"\n; note\nversion = 3.13.0\n; before b\n[b]\nj = 2\n";
        let p = parse(text);
        let tree = p.metadata_tree().unwrap();
        assert_eq!(
            tree["age"][0]["enc"],
            "-----BEGIN-----\nAAA\n-----END-----\n"
        );
        assert_eq!(tree["version"], "3.13.0");
        assert_eq!(
            summary(&p),
            vec![
                s("a:k:", STR, "1"),
                s("b:", COM, "before b"),
                s("b:j:", STR, "2")
            ]
        );
        assert!(text[p.metadata[0].span.clone()].ends_with("version = 3.13.0\n"));
        let mut d = Ini.metadata_splices(text, &p, None).unwrap();
        assert_eq!(
            apply_splices(text, &mut d).unwrap(),
            "[a]\nk = 1\n; before b\n[b]\nj = 2\n"
        );
    }

    #[test]
    fn bad_input_errors_name_lines_not_values() {
        let cases: &[(&str, usize)] = &[
            ("[s]\nk = 1\nsecretvalue\n", 3),
            ("[s]\n= secretvalue\n", 2),
            ("[s]\nk = 1\nk = secretvalue\n", 3),
            ("[s]\nk = 1\n[s]\nj = secretvalue\n", 3),
            ("[s\nk = secretvalue\n", 1),
            ("[]\nk = secretvalue\n", 1),
            ("[s] secretvalue\n", 1),
            ("[s]\nk = `secretvalue` junk\n", 2),
            ("[s]\nk = \"\"\"secretvalue\nmore\n", 2),
            ("[s]\n\"secretvalue = 1\n", 2),
            ("[s]\n- = secretvalue\n", 2),
            ("a = 1\n[DEFAULT]\nb = secretvalue\n", 2),
            ("[sops]\nx__list_y = secretvalue\n", 2),
        ];
        for (text, line) in cases {
            let err = Ini.parse(text).unwrap_err();
            let msg = err.to_string();
            assert!(!msg.contains("secretvalue"), "{msg}");
            assert!(msg.contains(&format!("line {line}")), "{text:?}: {msg}");
        }
        // An explicit [DEFAULT] before any key is fine.
        assert_eq!(
            summary(&parse("[DEFAULT]\na = 1\n")),
            vec![s("DEFAULT:a:", STR, "1")]
        );
    }

    fn doc_line() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            "[a-z]{1,4}".prop_map(|s| format!("[{s}]")),
            "[ ]{0,2}[;#][^\n]{0,12}".prop_map(|s| s),
            (
                "[A-Za-z_][A-Za-z0-9_.]{0,6}",
                "[ ]{0,2}",
                "[=:]",
                "[^\n\\\\`\"]{0,16}"
            )
                .prop_map(|(k, sp, d, v)| format!("{k}{sp}{d}{sp}{v}")),
            ("[a-z]{1,4}", "[^\n`]{0,10}").prop_map(|(k, v)| format!("{k} = `{v}`")),
        ]
    }

    proptest! {
        #[test]
        fn parse_splice_parse_keeps_leaves(lines in proptest::collection::vec(doc_line(), 0..12), crlf in any::<bool>()) {
            let text = lines.join(if crlf { "\r\n" } else { "\n" });
            let Ok(p) = Ini.parse(&text) else { return Ok(()) };
            let out = splice_all(&text, &p, FAKE);
            let q = Ini.parse(&out).expect("spliced output parses");
            prop_assert_eq!(p.leaves.len(), q.leaves.len());
            for (a, b) in p.leaves.iter().zip(&q.leaves) {
                prop_assert_eq!(&a.path, &b.path);
                prop_assert_eq!(a.kind, b.kind);
                prop_assert_eq!(b.value.expose(), FAKE);
            }
            // Rendering the plaintext back reads to the same leaves.
            let restored = restore(&out, &q, &p);
            let r = Ini.parse(&restored).expect("restored text parses");
            prop_assert_eq!(summary(&r), summary(&p));
        }

        #[test]
        fn never_panics(text in "[^\u{0}]{0,64}") {
            let _ = Ini.parse(&text);
        }
    }
}

#[cfg(test)]
mod edit_tests {
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
}
