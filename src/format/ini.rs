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
//!   A quoted value (`"..."`, `'...'`, `` `...` ``, `"""..."""`) keeps its
//!   quotes around the `ENC[...]`, which go-ini removes (so sops reads the
//!   same string), and decrypts back into them when they can hold the
//!   value as go-ini reads it (`in_quotes`); configparser, which keeps
//!   quotes, then reads the same text as before.
//! - Other plaintext values are written so that go-ini reads them back to
//!   the same text: plain when possible; in backquotes when they hold `#` or `;`,
//!   surrounding whitespace, surrounding quotes, or end in `\`; as
//!   `"""..."""` when they hold a line break or a backquote. A value that
//!   holds `"""` and needs that form cannot be written.
//! - Metadata: a `[sops]` section at the end (after a blank line), keys
//!   sorted, `=` aligned as go-ini pretty-prints it, line breaks as literal
//!   `\n`. sops 3.11 decrypts files with this layout (checked by
//!   experiment: `testdata/ini/basic.rewritten.enc.ini`).

mod edit;
#[cfg(test)]
mod edit_tests;
#[cfg(test)]
mod tests;

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
                value: SecretText::new(c.value).into(),
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
                    value: SecretText::new(pv.value).into(),
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
                // COMPAT(sops): a quoted value keeps its quotes around the
                // ENC[...] (go-ini removes them, so sops reads the same
                // string), and decrypting gives them back.
                let v = quotes_of(span_text)
                    .and_then(|q| in_quotes(q, s))
                    .unwrap_or_else(|| (*s).to_owned());
                Ok(space_after_delimiter(text, leaf, &v))
            }
            (_, Replacement::Value(_, t)) => {
                if let Some(v) = quotes_of(span_text).and_then(|q| in_quotes(q, t)) {
                    return Ok(space_after_delimiter(text, leaf, &v));
                }
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
            return Ok(super::text::removal_keeps_missing_newline(
                text,
                self.metadata_removal(parsed),
            ));
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
                    text: super::text::keep_missing_newline(
                        text,
                        &existing.span,
                        format!("{lead}{section}"),
                    ),
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
                let range = text.len()..text.len();
                vec![Splice {
                    text: super::text::keep_missing_newline(text, &range, insert),
                    range,
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

/// The quotes around a value as written (`span_text` is its span):
/// `"""`, `` ` ``, `"` or `'`; `None` for an unquoted value.
fn quotes_of(span_text: &str) -> Option<&'static str> {
    if span_text.len() >= 6 && span_text.starts_with("\"\"\"") && span_text.ends_with("\"\"\"") {
        Some("\"\"\"")
    } else if span_text.len() >= 2 && span_text.starts_with('`') && span_text.ends_with('`') {
        Some("`")
    } else if has_surrounded_quote(span_text, '"') {
        Some("\"")
    } else if has_surrounded_quote(span_text, '\'') {
        Some("'")
    } else {
        None
    }
}

/// `t` in the quotes `q`, when go-ini reads that back as exactly `t`:
/// `"..."` and `'...'` hold no comment marker, line break or other such
/// quote (go-ini cuts the comment first, then removes one pair of quotes
/// that occur nowhere else); `` `...` `` holds no backquote, `"""..."""`
/// no `"""` and no `"` at its end (both may span lines).
fn in_quotes(q: &str, t: &str) -> Option<String> {
    let ok = match q {
        "\"" | "'" => !t.contains(q) && !t.contains(['#', ';', '\n', '\r']),
        "`" => !t.contains('`'),
        _ => !t.contains("\"\"\"") && !t.ends_with('"') && !t.is_empty(),
    };
    ok.then(|| format!("{q}{t}{q}"))
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
