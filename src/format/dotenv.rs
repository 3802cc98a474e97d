//! The dotenv format, byte-compatible with sops' dotenv store in both
//! directions, while keeping the file's layout.
//!
//! # Reading (sops' rules, `stores/dotenv/store.go`)
//! - The text is split on `\n` only. COMPAT(sops): a `\r` before the `\n`
//!   belongs to the value (or comment) exactly as in sops, so values, AAD and
//!   MAC of a CRLF file are the ones sops computes. Encrypting a CRLF file
//!   therefore writes `KEY=ENC[...]` lines without `\r` (the `\r` is inside
//!   the ciphertext), and decrypting puts it back: the plaintext round trip
//!   is byte-exact. Every byte outside value and comment spans is kept.
//! - A line that is empty or only whitespace is kept in the file and is not
//!   a leaf (sops drops empty lines and rejects whitespace-only ones).
//! - A line whose first non-blank character is `#` is a comment leaf at the
//!   root path (AAD `:`); its value is the text after the `#` (so `# a`
//!   gives ` a`), its span runs from the `#` to the end of the line.
//!   COMPAT(sops): sops only knows comments in column 1; an indented comment
//!   is a syntax error for sops (or, if it holds a `=`, a key), so files that
//!   indent comments are not readable by sops anyway.
//! - Any other line is split at the first `=`: the key is everything before
//!   it, verbatim (`export TOKEN=x` has the key `export TOKEN`, AAD
//!   `export TOKEN:`); the value is everything after it, verbatim, with each
//!   literal `\n` (backslash, `n`) decoded to a line break. Quotes are part
//!   of the value: `PASS="a b"` holds the 5 characters `"a b"`, as in sops.
//!   Every value is a string; `EMPTY=` is an empty string leaf (empty values
//!   are never encrypted). A line without `=`, an empty key and a repeated
//!   key are errors.
//! - Keys starting with `sops_` are the metadata, never leaves. They are
//!   unflattened into a tree (`sops_age__list_0__map_enc` ->
//!   `{"age": [{"enc": ..}]}`), literal `\n` decoded, every scalar kept as a
//!   string (the metadata reader is tolerant). They must form one contiguous
//!   run of lines (sops writes them last, sorted); scattered `sops_` lines
//!   are reported as unsupported.
//!
//! # Writing
//! - An `ENC[...]` string replaces the value span; a comment becomes
//!   `#ENC[...]`.
//! - A plaintext value is written verbatim with its line breaks as literal
//!   `\n` (COMPAT(sops)). A value that itself contains a backslash followed
//!   by `n` cannot round-trip (it reads back as a line break), in sops as
//!   here.
//! - Metadata is written as sops does: flattened, `sops_` prefixed, sorted by
//!   key, line breaks as literal `\n`, booleans `true`/`false`, numbers in
//!   decimal; it replaces the existing run of `sops_` lines or is appended at
//!   the end of the file. Metadata lines always end in `\n`, even in a CRLF
//!   file, because sops cannot parse a `lastmodified` ending in `\r`.
//!
//! # What a program sees
//! The leaf value is the raw text sops encrypts (`"a b"` with its quotes).
//! [`loader_value`] gives what a dotenv loader (docker compose,
//! python-dotenv) sets instead: `"a b"` -> `a b`, `"x\"y"` -> `x"y`,
//! `'lit\t'` -> `lit\t` (no escapes), `abc  # note` -> `abc`. `exec` uses
//! it. One difference from python-dotenv remains: the literal `\n` of
//! a single-quoted or unquoted value was already turned into a line break
//! by the sops rule above, so `'a\nb'` gives a line break here.

mod duplicates;
#[cfg(test)]
mod edit_tests;
mod loader;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::ops::Range;

use serde_json::Value;

use super::flat::{decode_newlines, encode_newlines, flatten, unflatten, FlatEntry};
use super::loaded::without_bom;
use super::text::{after_line_break, line_col, line_removal, lines};
use super::{
    insert_keys, insert_leaf, unrepresentable, FormatError, FormatKind, Leaf, LeafKind, LeafStyle,
    LoadedPath, MetadataBlock, ParsedFile, Replacement, Splice, Syntax, ValueType,
};
use crate::path::{KeyPath, Segment};
use crate::secret::{LeafText, SecretText, SharedText};
use duplicates::KeyLines;
use loader::export_name;
pub use loader::loader_value;

/// The dotenv syntax.
pub struct Dotenv;

const FORMAT: &str = "dotenv";
/// COMPAT(sops): the prefix of metadata keys (`stores.SopsMetadataKey + "_"`).
const SOPS_PREFIX: &str = "sops_";

fn syntax(line: usize, column: usize, reason: &str) -> FormatError {
    FormatError::Syntax {
        format: FORMAT,
        line,
        column,
        reason: reason.to_owned(),
    }
}

/// [`Dotenv::parse`] of `text`, which is `shared`'s text when given: the
/// values and comments that are slices of it are kept as ranges.
fn parse_in(text: &str, shared: Option<&SharedText>) -> Result<ParsedFile, FormatError> {
    let lines = lines(text);
    // One leaf and one key per line at most. Sized up front because at a
    // million keys growing them cost more than the parse: the leaves were
    // copied at every doubling. Memory the lines do not use is never
    // touched, so it is not resident.
    let mut parsed = ParsedFile {
        documents: 1,
        leaves: Vec::with_capacity(lines.len()),
        ..ParsedFile::default()
    };
    let mut keys = KeyLines::with_capacity(lines.len());
    let read = read_lines(text, shared, &lines, &mut parsed, &mut keys);
    // A repeated key is reported where it repeats, before any later error:
    // the keys read before an error are all from earlier lines.
    if let Some(leaf) = keys.first_repeat(|i| key_of(&parsed.leaves[i].path)) {
        let leaf = &parsed.leaves[leaf];
        return Err(FormatError::DuplicateKey {
            path: leaf.path.clone(),
            // The value starts on its key's line.
            line: line_col(text, leaf.span.start).0,
        });
    }
    let meta = read?;
    if let Some((span, entries)) = meta {
        let tree = unflatten(&entries, FORMAT)?;
        parsed.metadata.push(MetadataBlock { span, tree });
    }
    Ok(parsed)
}

/// A dotenv leaf's key: the one segment of its path.
fn key_of(path: &KeyPath) -> &str {
    match path.segments() {
        [Segment::Key(key)] => key.as_str(),
        _ => "",
    }
}

/// The `sops_` metadata run of a dotenv file: its span and its entries.
type MetaRun = Option<(Range<usize>, Vec<FlatEntry>)>;

/// Reads `lines` into `parsed`'s leaves and each key line into `keys`;
/// returns the metadata run. Stops at the first line that is not dotenv.
fn read_lines(
    text: &str,
    shared: Option<&SharedText>,
    lines: &[super::text::Line<'_>],
    parsed: &mut ParsedFile,
    keys: &mut KeyLines,
) -> Result<MetaRun, FormatError> {
    let mut meta: Vec<FlatEntry> = Vec::new();
    // Byte range and line numbers of the run of `sops_` lines.
    let mut meta_span: Option<Range<usize>> = None;
    let mut meta_last_line = 0;
    for line in lines {
        let content = line.content;
        let trimmed = content.trim_start();
        if trimmed.trim_end().is_empty() {
            continue;
        }
        let indent = content.len() - trimmed.len();
        if let Some(comment) = trimmed.strip_prefix('#') {
            let hash = line.start + indent;
            parsed.leaves.push(Leaf {
                path: KeyPath::root(),
                kind: LeafKind::Comment,
                value: LeafText::slice_or_copy(shared, comment),
                span: hash..line.end(),
                style: LeafStyle::default(),
                document: 0,
            });
            continue;
        }
        let Some(eq) = content.find('=') else {
            return Err(syntax(
                line.number,
                indent + 1,
                "expected KEY=value, a comment or a blank line",
            ));
        };
        let key = &content[..eq];
        if key.trim().is_empty() {
            return Err(syntax(line.number, 1, "empty key before ="));
        }
        let raw = &content[eq + 1..];
        if let Some(name) = key.strip_prefix(SOPS_PREFIX) {
            // Metadata line: part of one contiguous run.
            match &mut meta_span {
                Some(span) => {
                    if meta_last_line + 1 != line.number {
                        return Err(FormatError::Unsupported {
                            format: FORMAT,
                            line: line.number,
                            reason: "sops_ metadata lines must be contiguous".into(),
                        });
                    }
                    span.end = after_line_break(text, line.end());
                }
                None => {
                    meta_span = Some(line.start..after_line_break(text, line.end()));
                }
            }
            meta_last_line = line.number;
            // Tolerant reader: a CRLF file's `\r` is not part of metadata.
            let value = raw.strip_suffix('\r').unwrap_or(raw);
            meta.push(FlatEntry {
                key: name.to_owned(),
                value: decode_newlines(value),
                line: line.number,
            });
            continue;
        }
        keys.push(key, parsed.leaves.len());
        let value_start = line.start + eq + 1;
        parsed.leaves.push(Leaf {
            path: KeyPath::root().child_key(key),
            kind: LeafKind::Value(ValueType::Str),
            value: if raw.contains("\\n") {
                SecretText::new(decode_newlines(raw)).into()
            } else {
                LeafText::slice_or_copy(shared, raw)
            },
            span: value_start..line.end(),
            style: LeafStyle::default(),
            document: 0,
        });
    }
    Ok(meta_span.map(|span| (span, meta)))
}

impl Syntax for Dotenv {
    fn kind(&self) -> FormatKind {
        FormatKind::Dotenv
    }

    fn parse(&self, text: &str) -> Result<ParsedFile, FormatError> {
        parse_in(text, None)
    }

    fn parse_shared(&self, text: &SharedText) -> Result<ParsedFile, FormatError> {
        parse_in(text.as_str(), Some(text))
    }

    fn render(
        &self,
        _text: &str,
        leaf: &Leaf,
        with: &Replacement<'_>,
    ) -> Result<String, FormatError> {
        match (leaf.kind, with) {
            (LeafKind::Comment, Replacement::Encrypted(s)) => {
                if s.contains('\n') {
                    return Err(FormatError::Internal("an ENC value holds a line break"));
                }
                Ok(format!("#{s}"))
            }
            (LeafKind::Comment, Replacement::Comment(t)) => {
                // SECURITY: every line of a multi-line comment stays a
                // comment, so no comment text can turn into a key line.
                Ok(t.split('\n')
                    .map(|l| format!("#{l}"))
                    .collect::<Vec<_>>()
                    .join("\n"))
            }
            (LeafKind::Comment, Replacement::Value(..)) => {
                Err(FormatError::Internal("a value rendered at a comment"))
            }
            (_, Replacement::Encrypted(s)) => {
                if s.contains('\n') {
                    return Err(FormatError::Internal("an ENC value holds a line break"));
                }
                Ok((*s).to_owned())
            }
            (_, Replacement::Value(_, t)) => Ok(encode_newlines(t)),
            (_, Replacement::Comment(_)) => {
                Err(FormatError::Internal("a comment rendered at a value"))
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
        let mut block = String::new();
        for (key, value) in flatten(tree, FORMAT)? {
            if key.contains(['=', '\n', '\r']) {
                return Err(FormatError::Unrepresentable {
                    format: FORMAT,
                    path: KeyPath::root().child_key("sops").child_key(key),
                    reason: "a metadata key holds = or a line break".into(),
                });
            }
            block.push_str(SOPS_PREFIX);
            block.push_str(&key);
            block.push('=');
            block.push_str(&encode_newlines(&value));
            block.push('\n');
        }
        Ok(match parsed.metadata.first() {
            Some(existing) => vec![Splice {
                range: existing.span.clone(),
                text: super::text::keep_missing_newline(text, &existing.span, block),
            }],
            None => {
                let mut insert = String::new();
                if !text.is_empty() && !text.ends_with('\n') {
                    insert.push('\n');
                }
                insert.push_str(&block);
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
        let keys = insert_keys(FORMAT, path)?;
        let [key] = keys[..] else {
            return Err(unrepresentable(
                FORMAT,
                path,
                "dotenv keys cannot be nested",
            ));
        };
        if key.trim().is_empty()
            || key.contains(['=', '\n', '\r'])
            || key.trim_start().starts_with('#')
            || key.starts_with(SOPS_PREFIX)
        {
            return Err(unrepresentable(FORMAT, path, "not a valid dotenv key"));
        }
        if parsed
            .leaves
            .iter()
            .any(|l| l.kind != LeafKind::Comment && l.path == *path)
        {
            return Err(unrepresentable(FORMAT, path, "the key already exists"));
        }
        let v = self.render(text, &insert_leaf(path, 0..0, LeafStyle::default()), value)?;
        let meta = parsed.metadata.first().map(|m| m.span.clone());
        let in_meta = |at: usize| meta.as_ref().is_some_and(|m| m.contains(&at));
        // After the last line that is neither blank nor metadata.
        let at = lines(text)
            .iter()
            .rfind(|l| !l.content.trim().is_empty() && !in_meta(l.start))
            .map(|l| after_line_break(text, l.end()))
            .or(meta.map(|m| m.start))
            .unwrap_or(text.len());
        let mut line = String::new();
        if at > 0 && !text[..at].ends_with('\n') {
            // The last line had no line break: it gets one, the new line not.
            line.push('\n');
            line.push_str(key);
            line.push('=');
            line.push_str(&v);
        } else {
            line.push_str(key);
            line.push('=');
            line.push_str(&v);
            line.push('\n');
        }
        Ok(vec![Splice {
            range: at..at,
            text: line,
        }])
    }

    fn remove(
        &self,
        text: &str,
        parsed: &ParsedFile,
        path: &KeyPath,
    ) -> Result<Vec<Splice>, FormatError> {
        let leaf = parsed
            .leaves
            .iter()
            .find(|l| l.kind != LeafKind::Comment && l.path == *path)
            .ok_or_else(|| FormatError::PathNotFound(path.clone()))?;
        let mut range = line_removal(text, leaf.span.start, leaf.span.end);
        // COMPAT(sops): a `\r` before a line break belongs to the previous
        // line's value; removing the last line must leave it there.
        if text[range.clone()].starts_with("\r\n") {
            range.start += 1;
        }
        Ok(vec![Splice {
            range,
            text: String::new(),
        }])
    }

    /// dotenv loaders read `export NAME=...` as `NAME`.
    fn loaded_path(&self, path: &KeyPath) -> LoadedPath {
        let bomless = without_bom(path);
        match export_name(bomless.as_ref().unwrap_or(path)) {
            Some(name) => LoadedPath::Renamed(name),
            None => bomless.map_or(LoadedPath::Same, LoadedPath::Renamed),
        }
    }

    /// What a dotenv loader sets for a string (see [`loader_value`]).
    fn loaded_value<'a>(&self, ty: ValueType, raw: &'a str) -> Cow<'a, str> {
        if ty == ValueType::Str {
            Cow::Owned(loader_value(raw))
        } else {
            Cow::Borrowed(raw)
        }
    }
}
