//! The YAML format: a splice engine over granit-parser events.
//!
//! Parsing walks the event stream (byte spans, comments as events, flow or
//! block style of each collection) into [`Leaf`]s: every scalar and every
//! comment outside the `sops` metadata, in document order, with its key path,
//! go-yaml v3 type (as sops resolves it), decoded value and byte span.
//! Writing replaces spans only; everything else stays byte for byte.
//!
//! Invariants and decisions a user may notice:
//! - Every document's top level must be a mapping; duplicate keys, complex
//!   (collection) keys, aliases used as keys and aliases into the metadata
//!   are errors; so are keys that do not read as strings (`200:`, `true:`),
//!   which sops refuses.
//! - Types follow go-yaml v3 (sops): `yes`/`no`/`on`/`off` are strings;
//!   `0x1F`, `0o17` and `017` are ints (canonical decimal in the leaf);
//!   integers beyond i64 are floats (sops itself refuses them); `1e400` is a
//!   string; dates and date-times in go-yaml's accepted layouts are times,
//!   reported as Go `RFC3339Nano`; quoted and block scalars are strings;
//!   `!!str`/`!!int`/... are honoured; `!!binary` and custom tags are
//!   strings with their text as written (the tag stays in the file, which
//!   sops will try to base64-decode on its side).
//! - Comments: value = text after `#`; path = the mapping or list that
//!   contains the comment (by position and indentation, as sops assigns
//!   them: checked against sops-made files). A comment after a flow
//!   collection on its line belongs to that collection (sops does so).
//!   sops writes comments inside lists as `- ENC[...,type:comment]` items;
//!   those are read as comment leaves spanning the whole `- ...` item, so
//!   they decrypt back to `# ...` lines and do not count as list indices.
//! - A comment on a block scalar's header line (`key: | # c`) is rejected
//!   with a clear error: it sits inside the value's span and could be
//!   neither encrypted nor kept.
//! - Block scalar spans run from the `|`/`>` header to the end of the last
//!   content line; the final line break stays outside.
//! - The metadata tree is typed like data (plain ints/floats -> numbers,
//!   `true`/`false` -> booleans, `null`/empty -> null, everything else,
//!   timestamps included, strings), so a written tree reads back equal.
//! - Canonical rendering: plain when it reads back as the same string,
//!   else double-quoted; multi-line strings in block context as literal
//!   blocks `|`/`|-`/`|+`, content indented one indentation step (detected,
//!   default 2) below the owning key or `-`; every plain or block rendering
//!   is re-parsed before use and falls back to double quotes.
//! - The metadata block is laid out as go-yaml v3 lays it out (sops'
//!   bytes), with the file's indentation step (default 4); CRLF files get
//!   CRLF lines.

mod alias;
mod edit;
mod emit;
mod events;
mod fast;
mod merge;
mod parse;
mod resolve;

pub use alias::expand_aliases;

use super::text::{keep_missing_newline, newline_style};
use super::{
    FormatError, FormatKind, Leaf, LeafKind, LoadedPath, ParsedFile, Replacement, Splice, Syntax,
    ValueType,
};
use crate::path::KeyPath;
use crate::secret::SharedText;
use emit::{double_quoted, literal_block, plain_safe};
use resolve::{parse_timestamp, resolve_plain, Resolved};

pub(crate) const FORMAT: &str = "yaml";

/// What [`Syntax::metadata_splices`] needs to know of a parsed text's
/// layout besides its leaves.
#[derive(Debug)]
pub struct Layout {
    text_len: usize,
    docs: Vec<parse::DocInfo>,
    step: Option<usize>,
}

/// The yaml syntax.
pub struct Yaml;

/// The leaves of `text` (which is `shared`'s text when given) with the
/// layout facts the writer needs beside them.
fn parse_with_layout(text: &str, shared: Option<&SharedText>) -> Result<ParsedFile, FormatError> {
    let full = parse::parse_full_in(text, shared)?;
    let mut file = full.file;
    file.yaml_layout = Some(Box::new(Layout {
        text_len: text.len(),
        docs: full.docs,
        step: full.step,
    }));
    Ok(file)
}

impl Syntax for Yaml {
    fn kind(&self) -> FormatKind {
        FormatKind::Yaml
    }

    fn parse(&self, text: &str) -> Result<ParsedFile, FormatError> {
        parse_with_layout(text, None)
    }

    fn parse_shared(&self, text: &SharedText) -> Result<ParsedFile, FormatError> {
        parse_with_layout(text.as_str(), Some(text))
    }

    fn render(
        &self,
        text: &str,
        leaf: &Leaf,
        with: &Replacement<'_>,
    ) -> Result<String, FormatError> {
        let unrep = |reason: &str| FormatError::Unrepresentable {
            format: FORMAT,
            path: leaf.path.clone(),
            reason: reason.to_owned(),
        };
        match (with, leaf.kind) {
            (Replacement::Encrypted(s), LeafKind::Comment)
            | (Replacement::Comment(s), LeafKind::Comment) => {
                if s.contains(['\n', '\r']) {
                    return Err(unrep("a comment cannot hold a line break"));
                }
                if leaf.style.empty_list {
                    // The list stays a list: `k:` with only a comment
                    // under it would read as null.
                    return Ok(format!("[] #{s}"));
                }
                Ok(format!("#{s}"))
            }
            (Replacement::Comment(_), _) => Err(unrep("a comment at a value's position")),
            (Replacement::Value(..), LeafKind::Comment) => {
                Err(unrep("a value at a comment's position"))
            }
            (Replacement::Encrypted(s), _) => {
                // A quoted value keeps its quotes around the `ENC[...]`, so
                // decrypting can give the style back (sops reads either).
                let quote = quote_of(text, leaf);
                // A plain value that the canonical style would not give back
                // plain (in flow context: every plain value, as its
                // `ENC[...]` must be quoted there) is marked.
                let plain_mark = match quote {
                    None => plain_needs_mark(leaf),
                    Some('"') => text
                        .get(leaf.span.clone())
                        .is_some_and(|raw| plain_unmarked(raw).is_some()),
                    Some(_) => false,
                };
                let body = if let Some(b) = enc_block(text, leaf, s) {
                    b
                } else if quote == Some('\'') && canonical_enc(s) {
                    format!("'{s}'")
                } else if plain_mark && canonical_enc(s) {
                    plain_marked(s).unwrap_or_else(|| format!("\"{s}\""))
                } else if quote == Some('"') && canonical_enc(s) {
                    format!("\"{s}\"")
                // Plain in block context, as sops writes it; flow context
                // needs quotes (`,` `[` `]` would split the scalar).
                } else if !leaf.style.flow && (canonical_enc(s) || plain_safe(s, false)) {
                    (*s).to_owned()
                } else {
                    double_quoted(s)
                };
                Ok(with_null_prefix(text, leaf, body))
            }
            (Replacement::Value(ty, v), _) => {
                let body = render_value(text, leaf, *ty, v)
                    .ok_or_else(|| unrep("the value does not fit its type"))?;
                Ok(with_null_prefix(text, leaf, body))
            }
        }
    }

    fn metadata_splices(
        &self,
        text: &str,
        parsed: &ParsedFile,
        tree: Option<&serde_json::Value>,
    ) -> Result<Vec<Splice>, FormatError> {
        let Some(tree) = tree else {
            return Ok(super::text::removal_keeps_missing_newline(
                text,
                self.metadata_removal(parsed),
            ));
        };
        // The layout facts (document ends, indentation) of `parsed`, which
        // is the parse of `text` (as for every format); re-parsed only when
        // `parsed` did not come from `Yaml::parse` of a text this long.
        let reparsed;
        let layout = match &parsed.yaml_layout {
            Some(l) if l.text_len == text.len() => &**l,
            _ => {
                let full = parse::parse_full(text)?;
                reparsed = Layout {
                    text_len: text.len(),
                    docs: full.docs,
                    step: full.step,
                };
                &reparsed
            }
        };
        let mut out = Vec::new();
        let nl = newline_style(text);
        let step = layout.step.unwrap_or(4);
        for d in &layout.docs {
            if d.flow_root.is_some() {
                out.push(flow_metadata_splice(text, d, tree, nl)?);
                continue;
            }
            let block = emit::metadata_block(tree, d.top_indent.unwrap_or(0), step, nl);
            if let Some(r) = &d.meta_span {
                out.push(Splice {
                    range: r.clone(),
                    text: keep_missing_newline(text, r, block),
                });
                continue;
            }
            // After a byte order mark: it stays the file's first bytes.
            let at = if d.content_end == 0 {
                parse::bom_len(text)
            } else {
                parse::after_line(text, d.content_end - 1)
            };
            let mut insert = String::new();
            if at > 0 && !text[..at].ends_with('\n') {
                insert.push_str(nl);
            }
            insert.push_str(&block);
            out.push(Splice {
                text: keep_missing_newline(text, &(at..at), insert),
                range: at..at,
            });
        }
        Ok(out)
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

    /// A merge key's values are the merging mapping's (no byte order mark
    /// rule: the YAML parser never puts one in a key).
    fn loaded_path(&self, path: &KeyPath) -> LoadedPath {
        merge::strip_merge_keys(path).map_or(LoadedPath::Same, LoadedPath::Merged)
    }
}

/// The metadata of a document whose root is a flow mapping (`{a: x}`): one
/// more entry, `sops: {...}` in JSON (which is flow YAML) on a line of its
/// own before the closing `}`, replacing the entry that is there.
///
/// COMPAT(sops): sops reads the `sops` key of a flow root like any other
/// (it rewrites the whole file in block style on its own writes).
fn flow_metadata_splice(
    text: &str,
    d: &parse::DocInfo,
    tree: &serde_json::Value,
    nl: &str,
) -> Result<Splice, FormatError> {
    let json = serde_json::to_string(tree)
        .map_err(|_| FormatError::Internal("the metadata does not serialize"))?;
    // The entry's own comma: before it, or after it when the mapping
    // already ended in a trailing comma (which decrypting then keeps).
    let (range, before, after) = match (&d.meta_span, d.flow_root_end) {
        (Some(r), _) => (
            r.clone(),
            text[r.start..].starts_with(','),
            text[..r.end].ends_with(','),
        ),
        (None, Some(end)) => {
            let prior = text[..end].trim_end();
            (end..end, !prior.ends_with(['{', ',']), prior.ends_with(','))
        }
        (None, None) => return Err(FormatError::Internal("a flow root without its end")),
    };
    let comma = |on: bool| if on { "," } else { "" };
    Ok(Splice {
        range,
        text: format!("{}{nl}sops: {json}{}", comma(before), comma(after)),
    })
}

/// A block scalar's header kind (`|` or `>`), whether it keeps (`+`), and
/// the indentation of its content (the least of its non-blank lines).
fn block_header(text: &str, leaf: &Leaf) -> Option<(char, bool, usize)> {
    if !leaf.style.block || leaf.style.flow {
        return None;
    }
    let span = text.get(leaf.span.clone())?;
    let kind = span.chars().next().filter(|c| matches!(c, '|' | '>'))?;
    let header_end = span.find('\n')?;
    let keep = span[..header_end].contains('+');
    let indent = span[header_end + 1..]
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| l.bytes().any(|c| c != b' '))
        .map(|l| l.len() - l.trim_start_matches(' ').len())
        .min()?;
    (indent > leaf.style.indent as usize || leaf.style.indent == 0 && indent > 0)
        .then_some((kind, keep, indent))
}

/// The encrypted form of a block scalar that keeps its header: `|-` or
/// `>-` with the `ENC[...]` line under it, at the content's indentation
/// (sops reads the same string). A kept (`|+`) block's trailing blank
/// lines are its value: they go into the `ENC[...]` and come back from it.
fn enc_block(text: &str, leaf: &Leaf, enc: &str) -> Option<String> {
    let (kind, keep, indent) = block_header(text, leaf)?;
    // At the end of a file without a final newline the value's last break
    // is the parser's guess (see parse.rs, clipped_at_eof): left plain.
    let at_eof = text[leaf.span.end.min(text.len())..].trim().is_empty() && !text.ends_with('\n');
    if at_eof || !canonical_enc(enc) {
        return None;
    }
    let nl = newline_style(text);
    let mut out = format!("{kind}-{nl}{}{enc}", " ".repeat(indent));
    // A kept block's own blank lines are its value (in the ENC[...] now);
    // other blank lines in the span stay.
    if !keep && text[..leaf.span.end.min(text.len())].ends_with('\n') {
        out.push_str(nl);
    }
    Some(out)
}

/// A value decrypted at a block scalar that holds an `ENC[...]` line: in
/// that block's style (`|` or a one-paragraph `>`), at the `ENC` line's
/// indentation, chomping from the value; proven by a parse.
fn block_from_enc(text: &str, leaf: &Leaf, v: &str) -> Option<String> {
    let (kind, _, indent) = block_header(text, leaf)?;
    let inner = text.get(leaf.span.clone())?.split_once('\n')?.1.trim();
    if !canonical_enc(inner) {
        return None;
    }
    let nl = newline_style(text);
    let body = v.trim_end_matches('\n');
    let trailing = v.len() - body.len();
    let simple_line = !body.is_empty()
        && !body.contains('\n')
        && !body.starts_with([' ', '\t'])
        && !body.ends_with([' ', '\t'])
        && body.chars().all(|c| !c.is_control());
    let make = |ind: usize, owner: usize, nl: &str| -> Option<String> {
        if simple_line && (trailing <= 1 || kind == '>') {
            let chomp = match trailing {
                0 => "-",
                1 => "",
                _ => "+",
            };
            let k = if kind == '>' { '>' } else { '|' };
            let mut out = format!("{k}{chomp}{nl}{}{body}", " ".repeat(ind));
            // `+`: the extra line breaks are empty lines; the last one is
            // the line break after the span.
            for _ in 1..trailing {
                out.push_str(nl);
            }
            Some(out)
        } else {
            literal_block(v, ind, ind.checked_sub(owner)?, nl)
        }
    };
    // Proven in a neutral context first: `k:` at column 0.
    let probe = make(indent - leaf.style.indent as usize, 0, "\n")?;
    let doc = format!("k: {probe}\n");
    let full = parse::parse_full(&doc).ok()?;
    let l = full
        .file
        .leaves
        .iter()
        .find(|l| l.kind != LeafKind::Comment)?;
    if l.kind != LeafKind::Value(ValueType::Str) || l.value.expose() != v {
        return None;
    }
    make(indent, leaf.style.indent as usize, nl)
}

/// The quote (`'` or `"`) a string leaf was written with, if any.
fn quote_of(text: &str, leaf: &Leaf) -> Option<char> {
    if leaf.style.block || leaf.kind == LeafKind::Comment {
        return None;
    }
    text.get(leaf.span.clone())
        .and_then(|t| t.chars().next())
        .filter(|c| matches!(c, '\'' | '"'))
}

/// `v` in the quote style its leaf had in an encrypted file (`'ENC[...]'`
/// or `"ENC[...]"`), when that style can hold it on one line.
fn requoted(text: &str, leaf: &Leaf, v: &str) -> Option<String> {
    let enc = text.get(leaf.span.clone())?;
    let inner = enc.get(1..enc.len().checked_sub(1)?)?;
    let quote = quote_of(text, leaf)?;
    if quote == '"' {
        if let Some(unmarked) = plain_unmarked(inner) {
            // A plain value's (see `PLAIN_MARK`): plain again when it reads
            // back as the same string, else the canonical style.
            return if canonical_enc(&unmarked) {
                as_plain(v, leaf.style.flow)
            } else {
                None
            };
        }
    }
    if !canonical_enc(inner) {
        return None;
    }
    match quote {
        '"' => Some(double_quoted(v)),
        _ if !v.contains(['\n', '\r', '\t'])
            && v.chars().all(|c| !c.is_control() && c != '\u{feff}') =>
        {
            Some(format!("'{}'", v.replace('\'', "''")))
        }
        _ => None,
    }
}

/// What marks the `ENC[...]` of a value that was a plain scalar, where it
/// is double-quoted (every plain value in a flow collection, where a plain
/// `ENC[...]` would split at its commas; in block context a plain string
/// the canonical style would quote, like `off`, `yes` or `16:9`, which
/// YAML 1.1 readers type otherwise): the last `=` of the tag's padding (a
/// 16-byte tag always ends in `==`) written as the escape `\x3D`.
/// COMPAT(sops): every YAML reader decodes it, so sops reads the same
/// `ENC[...]` string; `ENC[AES256_GCM,` stays greppable.
const PLAIN_MARK: (&str, &str) = ("==,type:", "=\\x3D,type:");

/// Whether a plain leaf's `ENC[...]` must carry [`PLAIN_MARK`] for its
/// plain style to come back.
fn plain_needs_mark(leaf: &Leaf) -> bool {
    leaf.kind == LeafKind::Value(ValueType::Str)
        && !leaf.style.block
        && (leaf.style.flow || !plain_safe(leaf.value.expose(), false))
}

/// `"ENC[...]"` with the mark; `None` when `s` has no tag padding to mark.
fn plain_marked(s: &str) -> Option<String> {
    let at = s.find(PLAIN_MARK.0)?;
    Some(format!(
        "\"{}{}{}\"",
        &s[..at],
        PLAIN_MARK.1,
        &s[at + PLAIN_MARK.0.len()..]
    ))
}

/// The `ENC[...]` of a marked scalar's raw text; `None` without the mark.
fn plain_unmarked(raw: &str) -> Option<String> {
    let at = raw.find(PLAIN_MARK.1)?;
    Some(format!(
        "{}{}{}",
        &raw[..at],
        PLAIN_MARK.0,
        &raw[at + PLAIN_MARK.1.len()..]
    ))
}

/// `v` as a plain scalar, as it was written before it was encrypted, when
/// it reads back as the same string (go-yaml typing, as sops reads it; a
/// plain value YAML 1.1 readers type otherwise, like `off` or `16:9`, was
/// so in the original too).
fn as_plain(v: &str, flow: bool) -> Option<String> {
    if simple_plain_string(v) {
        return Some(v.to_owned());
    }
    let edges_ok = !v.starts_with(char::is_whitespace) && !v.ends_with(char::is_whitespace);
    let one_line = !v.contains(['\n', '\r']);
    (edges_ok
        && one_line
        && reparse(v, flow).is_some_and(|(k, s)| k == LeafKind::Value(ValueType::Str) && s == v))
    .then(|| v.to_owned())
}

/// `body` behind its [`null_prefix`] (no copy when there is none, as for
/// nearly every value).
fn with_null_prefix(text: &str, leaf: &Leaf, body: String) -> String {
    match null_prefix(text, leaf) {
        "" => body,
        prefix => format!("{prefix}{body}"),
    }
}

/// An empty null (`key:`) has an empty span right after the indicator; a
/// value written there needs a separating space.
fn null_prefix(text: &str, leaf: &Leaf) -> &'static str {
    if leaf.span.is_empty()
        && text[..leaf.span.start.min(text.len())]
            .chars()
            .next_back()
            .is_some_and(|c| !c.is_whitespace())
    {
        " "
    } else {
        ""
    }
}

/// Canonical text for a plaintext value at `leaf`, or `None` if `v` is not
/// a valid value of type `ty`.
fn render_value(text: &str, leaf: &Leaf, ty: ValueType, v: &str) -> Option<String> {
    let flow = leaf.style.flow;
    let candidate = match ty {
        ValueType::Str => return Some(render_str(text, leaf, v)),
        ValueType::Int => match resolve_plain(v.trim()) {
            Resolved::Int(c) => c,
            _ => return None,
        },
        ValueType::Float => render_float(v)?,
        ValueType::Bool => match v {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => "true".to_owned(),
            "0" | "f" | "F" | "FALSE" | "false" | "False" => "false".to_owned(),
            _ => return None,
        },
        ValueType::Time => {
            let canon = parse_timestamp(v)?;
            // A date alone (`2001-01-23`) is stored as midnight UTC (sops
            // reads only RFC 3339); it comes back as the date it was, which
            // YAML 1.2 readers read as the same string as before.
            let date = canon
                .strip_suffix("T00:00:00Z")
                .filter(|d| resolve_plain(d) == Resolved::Time(canon.clone()));
            if let Some(d) = date {
                d.to_owned()
            } else if resolve_plain(v) == Resolved::Time(canon.clone()) {
                v.to_owned()
            } else {
                canon
            }
        }
    };
    // The typing rules decide what a plain scalar reads back as; a
    // candidate that is not a simple token is proven by a re-parse instead.
    // (`plain_safe` cannot serve here: it accepts only what reads back as a
    // string, so every typed value used to be re-parsed.)
    if simple_typed_token(&candidate, flow) {
        let same = matches!(
            (ty, resolve_plain(&candidate)),
            (ValueType::Int, resolve::Resolved::Int(_))
                | (ValueType::Float, resolve::Resolved::Float(_))
                | (ValueType::Bool, resolve::Resolved::Bool(_))
                | (ValueType::Time, resolve::Resolved::Time(_))
        );
        return same.then_some(candidate);
    }
    let (kind, _) = reparse(&candidate, flow)?;
    (kind == LeafKind::Value(ty)).then_some(candidate)
}

/// Whether `s` is an `ENC[...]` value as botsecrets and sops write it
/// (base64 fields, a lowercase type): such a value is always plain-safe in
/// block context -- it starts with a letter, has no space, `#` or `: `,
/// does not end with `:` and reads back as a string -- and checking that
/// is cheaper than `plain_safe`, for every value encrypted.
fn canonical_enc(s: &str) -> bool {
    s.starts_with("ENC[AES256_GCM,data:")
        && s.ends_with(']')
        && s.bytes().all(|b| ENC_BYTE[usize::from(b)])
}

/// The bytes of a canonical `ENC[...]`, as a table: one load a byte, not a
/// chain of range tests (it was most of an encrypt's rendering).
const ENC_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        #[allow(clippy::cast_possible_truncation)]
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || matches!(c, b'+' | b'/' | b'=' | b'[' | b']' | b',' | b':' | b'_');
        b += 1;
    }
    t
};

/// Whether `v` is one plain-scalar token in `k: v` (or `k: [v]` when
/// `flow`): made only of ASCII letters, digits and `.+-_:`, so the parser
/// reads it back as exactly `v` and its type is `resolve_plain(v)` -- what a
/// re-parse would find. No space, so no `: ` or ` #`; no leading `:` or
/// trailing `:`; a leading `-`, `+` or `.` needs a following character;
/// document markers and, in flow context, `:` are left to the re-parse.
fn simple_typed_token(v: &str, flow: bool) -> bool {
    let b = v.as_bytes();
    let Some(&first) = b.first() else {
        return false;
    };
    b.iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'+' | b'-' | b'_' | b':'))
        && first != b':'
        && (b.len() >= 2 || !matches!(first, b'-' | b'+' | b'.'))
        && !v.ends_with(':')
        && !v.starts_with("---")
        && !v.starts_with("...")
        && (!flow || !v.contains(':'))
}

/// A float as YAML text that reads back as a float of the same value.
pub(crate) fn render_float(v: &str) -> Option<String> {
    let f: f64 = v.trim().parse().ok()?;
    if f.is_nan() {
        return Some(".nan".to_owned());
    }
    if f.is_infinite() {
        return Some(if f > 0.0 { ".inf" } else { "-.inf" }.to_owned());
    }
    match resolve_plain(v) {
        Resolved::Float(_) => Some(v.to_owned()),
        Resolved::Int(_) if !v.contains(['x', 'o', 'b', 'X']) => Some(format!("{f:?}")),
        _ => {
            let s = format!("{f:?}");
            matches!(resolve_plain(&s), Resolved::Float(_)).then_some(s)
        }
    }
}

fn render_str(text: &str, leaf: &Leaf, v: &str) -> String {
    if let Some(q) = requoted(text, leaf, v) {
        return q;
    }
    if let Some(b) = block_from_enc(text, leaf, v) {
        return b;
    }
    let flow = leaf.style.flow;
    if plain_safe(v, flow) && simple_plain_string(v) {
        // Fast path: a word-like string the typing rules read as a string
        // needs no proof by re-parsing (decrypting 10k values re-parsed 10k
        // tiny documents).
        return v.to_owned();
    }
    if plain_safe(v, flow)
        && reparse(v, flow).is_some_and(|(k, s)| k == LeafKind::Value(ValueType::Str) && s == v)
    {
        return v.to_owned();
    }
    if !flow && v.contains('\n') {
        if let Some(b) = block_str(text, leaf, v) {
            return b;
        }
    }
    double_quoted(v)
}

/// Whether `v` is made only of characters that can never start or end a
/// YAML indicator, a comment or a flow separator, and resolves to a string.
fn simple_plain_string(v: &str) -> bool {
    let mut chars = v.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_' || first == '/')
        && v.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '+' | '@' | '=')
        })
        && resolve_plain(v) == resolve::Resolved::Str
}

/// The file's indent step, computed once per text (rendering a file's many
/// block scalars must not re-parse the whole file each time).
fn indent_step(text: &str) -> usize {
    use std::cell::RefCell;
    thread_local! {
        static CACHE: RefCell<Option<(usize, usize, u64, usize)>> = const { RefCell::new(None) };
    }
    let key_hash = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut h);
        h.finish()
    };
    let key = (text.as_ptr() as usize, text.len(), key_hash);
    if let Some(step) = CACHE.with(|c| {
        c.borrow()
            .and_then(|(p, l, h, s)| ((p, l, h) == key).then_some(s))
    }) {
        return step;
    }
    let step = parse::parse_full(text)
        .ok()
        .and_then(|f| f.step)
        .unwrap_or(2)
        .clamp(1, 9);
    CACHE.with(|c| *c.borrow_mut() = Some((key.0, key.1, key.2, step)));
    step
}

/// A literal block for `v` at `leaf`, if the surroundings allow one.
fn block_str(text: &str, leaf: &Leaf, v: &str) -> Option<String> {
    let end = leaf.span.end.min(text.len());
    let rest = &text[end..];
    let eol = rest.find('\n').unwrap_or(rest.len());
    // Nothing but spaces may follow on the line (a comment would become
    // content).
    if !rest[..eol]
        .trim_end_matches('\r')
        .chars()
        .all(|c| c == ' ' || c == '\t')
        || !rest[..eol].trim().is_empty()
    {
        return None;
    }
    let has_break = eol < rest.len();
    let keep = v.ends_with("\n\n") || v.trim_end_matches('\n').len() + 1 < v.len();
    if keep && has_break {
        // `|+` would swallow following blank lines.
        let next = &rest[eol + 1..];
        let next_line = &next[..next.find('\n').unwrap_or(next.len())];
        if next_line.trim().is_empty() && !next.is_empty() {
            return None;
        }
    }
    let nl = newline_style(text);
    let step = indent_step(text);
    // Prove the block in a neutral context first.
    let probe = literal_block(v, step, step, "\n")?;
    let doc = format!("k: {probe}\n");
    let full = parse::parse_full(&doc).ok()?;
    let l = full
        .file
        .leaves
        .iter()
        .find(|l| l.kind != LeafKind::Comment)?;
    if l.kind != LeafKind::Value(ValueType::Str) || l.value.expose() != v {
        return None;
    }
    let mut out = literal_block(v, leaf.style.indent as usize + step, step, nl)?;
    if !has_break {
        out.push_str(nl);
    }
    Some(out)
}

/// Parses `candidate` as a value in a one-key document (in a flow sequence
/// when `flow`); its kind and decoded text.
fn reparse(candidate: &str, flow: bool) -> Option<(LeafKind, String)> {
    let doc = if flow {
        format!("k: [{candidate}]\n")
    } else {
        format!("k: {candidate}\n")
    };
    let full = parse::parse_full(&doc).ok()?;
    let mut values = full
        .file
        .leaves
        .iter()
        .filter(|l| l.kind != LeafKind::Comment);
    let l = values.next()?;
    if values.next().is_some() {
        return None;
    }
    Some((l.kind, l.value.expose().to_owned()))
}

#[cfg(test)]
mod tests;
