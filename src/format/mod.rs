//! The format layer: reads a file's text into a flat list of leaves with byte
//! spans, and writes by splicing new text into those spans.
//!
//! A format knows text and nothing about crypto. Parsing gives a
//! [`ParsedFile`]: every scalar value and every comment, in document order,
//! each with its [`KeyPath`], its type as the format resolves it, its decoded
//! text and the byte range that holds it; plus the `sops` metadata block(s),
//! read into a generic tree. Writing never re-serializes a document: the
//! caller asks the format for the text that shows a new value at a leaf's
//! position ([`Syntax::render`]) and for the text of a new metadata block
//! ([`Syntax::metadata_splices`]), then applies those [`Splice`]s to the
//! original text. Everything outside the replaced spans stays byte for byte.
//!
//! Invariants every format keeps (the conformance suite checks them):
//! - `leaves` are in document order and their spans do not overlap;
//! - the metadata subtree (top-level `sops` key, `[sops]` section/table,
//!   `sops_*` dotenv lines) is never reported as leaves;
//! - parsing the output of a splice gives the same paths, kinds and spans
//!   shifted by the splice lengths;
//! - error messages never contain value or comment text.

pub mod dotenv;
mod flat;
pub mod ini;
pub mod json;
pub mod loaded;
mod repeats;
#[cfg(test)]
pub(crate) mod testutil;
pub mod text;
pub mod toml;
pub mod yaml;

use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;

use crate::path::KeyPath;
use crate::secret::{LeafText, SecretText, SharedText};

pub use loaded::{loaded_values, LoadedPath};
/// Kept at its old path: callers outside the format layer name it here.
pub use text::line_col;

/// The file formats botsecrets reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FormatKind {
    /// YAML 1.2 (`.yaml`, `.yml`), multi-document streams included.
    Yaml,
    /// JSON (`.json`); top level must be an object.
    Json,
    /// TOML (`.toml`); a botsecrets extension of the sops format.
    Toml,
    /// dotenv (`.env`, `*.env`, `.env.*`).
    Dotenv,
    /// INI (`.ini`).
    Ini,
}

impl FormatKind {
    /// All formats, in the order shown to users.
    pub const ALL: [FormatKind; 5] = [
        FormatKind::Yaml,
        FormatKind::Json,
        FormatKind::Toml,
        FormatKind::Dotenv,
        FormatKind::Ini,
    ];

    /// The name used by `--input-type` / `--output-type`.
    pub fn name(self) -> &'static str {
        match self {
            FormatKind::Yaml => "yaml",
            FormatKind::Json => "json",
            FormatKind::Toml => "toml",
            FormatKind::Dotenv => "dotenv",
            FormatKind::Ini => "ini",
        }
    }

    /// Parses a `--input-type` name (`yaml`, `yml`, `json`, `toml`,
    /// `dotenv`, `env`, `ini`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Some(FormatKind::Yaml),
            "json" => Some(FormatKind::Json),
            "toml" => Some(FormatKind::Toml),
            "dotenv" | "env" => Some(FormatKind::Dotenv),
            "ini" => Some(FormatKind::Ini),
            _ => None,
        }
    }

    /// Detects the format from a file name: its extension, or a dotenv
    /// name such as `.env`, `.env.production` or `prod.env`.
    pub fn from_path(path: &Path) -> Option<Self> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        if name == ".env" || name.starts_with(".env.") || name.ends_with(".env") {
            return Some(FormatKind::Dotenv);
        }
        let ext = name.rsplit_once('.')?.1;
        match ext {
            "yaml" | "yml" => Some(FormatKind::Yaml),
            "json" => Some(FormatKind::Json),
            "toml" => Some(FormatKind::Toml),
            "ini" => Some(FormatKind::Ini),
            _ => None,
        }
    }

    /// The syntax implementation for this format.
    pub fn syntax(self) -> &'static dyn Syntax {
        match self {
            FormatKind::Yaml => &yaml::Yaml,
            FormatKind::Json => &json::Json,
            FormatKind::Toml => &toml::Toml,
            FormatKind::Dotenv => &dotenv::Dotenv,
            FormatKind::Ini => &ini::Ini,
        }
    }
}

/// The type of a scalar as its format resolves it; these are sops' value
/// types (the `type:` field of an `ENC[...]` value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// A string (`type:str`).
    Str,
    /// An integer (`type:int`).
    Int,
    /// A floating-point number (`type:float`).
    Float,
    /// A boolean (`type:bool`).
    Bool,
    /// A timestamp (`type:time`, YAML and TOML datetimes).
    Time,
}

/// What a leaf is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LeafKind {
    /// A scalar value of the given type.
    Value(ValueType),
    /// A null (YAML `null`/`~`/empty, JSON `null`): never encrypted, never
    /// part of the MAC.
    Null,
    /// A comment.
    Comment,
}

/// Rendering context a format records for a leaf, so that a replacement
/// value can be written validly at that position.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeafStyle {
    /// The leaf sits inside a flow collection (`{..}` / `[..]` in YAML,
    /// any inline value in JSON/TOML): replacements must be quoted and on
    /// one line.
    pub flow: bool,
    /// The column (in characters) of the key or `-` that owns this value;
    /// block scalars are indented relative to it. A u32, like
    /// [`Leaf::document`], so that a leaf is 72 bytes, not 96 (see
    /// `format::to_u32`).
    pub indent: u32,
    /// The value was written as a block scalar (YAML `|`/`>`), whose span
    /// starts at the header and ends before the final line break.
    pub block: bool,
    /// YAML: the comment is the first `- ENC[...,type:comment]` item of a
    /// list that has no other items (sops writes `k: [] # c` so): written
    /// back, it must keep the list a list (`[] # c`), not leave a null.
    pub empty_list: bool,
}

/// One scalar value or comment of a document.
#[derive(Debug)]
pub struct Leaf {
    /// Where the value sits. For a comment: the path of the mapping or list
    /// that contains it (the root for top-level comments).
    pub path: KeyPath,
    /// Value type, null or comment.
    pub kind: LeafKind,
    /// The decoded text:
    /// - strings: the string after unescaping (YAML block scalars include
    ///   their final line break as the scalar does);
    /// - ints: canonical decimal (`0x1F` -> `31`);
    /// - floats: the source text when it is plain decimal
    ///   (`-?digits[.digits][e[+-]digits]`), else Rust's `f64` display;
    /// - bools: `true` / `false`;
    /// - times: RFC 3339 with nanoseconds trimmed, as Go's
    ///   `time.RFC3339Nano` prints it (`2024-01-02T00:00:00Z`);
    /// - nulls: empty;
    /// - comments: the text after the comment marker, with no line break
    ///   (for YAML/TOML/dotenv `# x` gives ` x`; for INI see `ini.rs`).
    ///
    /// A parse of shared text ([`Syntax::parse_shared`]) holds the values
    /// that are slices of the file as ranges into it, not copies.
    pub value: LeafText,
    /// The bytes that hold the value (quotes and block-scalar header
    /// included) or the whole comment (marker included, line break
    /// excluded). Anchors and tags of a YAML scalar are outside the span.
    pub span: Range<usize>,
    /// How to write a replacement at this position.
    pub style: LeafStyle,
    /// Index of the YAML document in a stream (0 in every other format).
    pub document: u32,
}

// Every leaf of a file is held at once (a million at the benchmark's
// largest): keep it at 72 bytes (it was 96).
const _: () = assert!(std::mem::size_of::<Leaf>() <= 72);

/// A column or document index as stored in a [`Leaf`]. Saturates: a
/// column past 4G needs a line over 4 GiB and a document index past it a
/// stream over 16 GiB, far beyond the input limit's default; a saturated
/// column could only make an encrypted output fail its safety re-parse.
pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A YAML alias (`*name`) and what it points at.
#[derive(Debug, Clone)]
pub struct AliasRef {
    /// Where the alias sits (its key path).
    pub path: KeyPath,
    /// Document index.
    pub document: usize,
    /// The index into [`ParsedFile::leaves`] at which the alias occurs in
    /// document order (the number of leaves before it).
    pub position: usize,
    /// The leaves of the anchored node, as a range of indices into
    /// [`ParsedFile::leaves`] (comments inside it included).
    pub target: Range<usize>,
    /// The path of the anchored node.
    pub target_path: KeyPath,
    /// The bytes of the `*name` token.
    pub span: Range<usize>,
}

/// An empty mapping or list: it has no leaf, but it is part of the
/// document's structure (the seal covers it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmptyCollection {
    /// Where it sits.
    pub path: KeyPath,
    /// Document index.
    pub document: usize,
    /// The number of leaves before it in document order.
    pub position: usize,
    /// A mapping (`{}`) rather than a list (`[]`).
    pub is_map: bool,
}

/// The `sops` metadata of one document: where it is and what it says.
#[derive(Debug)]
pub struct MetadataBlock {
    /// The bytes to remove to drop the block entirely (for YAML: from the
    /// start of the `sops:` line through the block's last line break).
    pub span: Range<usize>,
    /// The metadata as a generic tree (objects keep field order; scalars
    /// are strings, numbers or booleans as the format read them).
    pub tree: serde_json::Value,
}

/// A parsed document.
#[derive(Debug, Default)]
pub struct ParsedFile {
    /// Every scalar and comment outside the metadata, in document order.
    pub leaves: Vec<Leaf>,
    /// The metadata block of each document that has one (YAML streams
    /// repeat it per document; the first one is authoritative).
    pub metadata: Vec<MetadataBlock>,
    /// YAML aliases; empty for other formats.
    pub aliases: Vec<AliasRef>,
    /// Empty mappings and lists below the top level (`a: {}`, `"b": []`),
    /// which hold no leaf; in document order. Only the seal reads them.
    pub empties: Vec<EmptyCollection>,
    /// Empty collections the seal does not cover, for the data views only
    /// (`--output-type`, `get`): TOML's `a = []`, `t = {}` and empty
    /// `[table]`s. COMPAT: seals written before TOML reported its empties
    /// hash none, so counting them now would break every such seal.
    pub unsealed_empties: Vec<EmptyCollection>,
    /// Number of documents (1 except for YAML streams).
    pub documents: usize,
    /// YAML: the layout facts the parse found (document ends, indentation),
    /// so that writing metadata for this same text needs no second parse.
    pub(crate) yaml_layout: Option<Box<yaml::Layout>>,
}

impl ParsedFile {
    /// The metadata that counts (the first document's), if any.
    pub fn metadata_tree(&self) -> Option<&serde_json::Value> {
        self.metadata.first().map(|b| &b.tree)
    }

    /// Every non-comment leaf as sops sees it, in document order: aliases
    /// are expanded in place, with the expanded leaves' paths rewritten to
    /// the alias position. Yields `(path, leaf index)`; a leaf's own path is
    /// borrowed (only alias copies own theirs: cloning every path cost ~4%
    /// of a decrypt).
    pub fn values_in_order(&self) -> Vec<(Cow<'_, KeyPath>, usize)> {
        let mut out = Vec::with_capacity(self.leaves.len());
        let mut aliases = self.aliases.iter().peekable();
        for (i, leaf) in self.leaves.iter().enumerate() {
            while let Some(alias) = aliases.next_if(|a| a.position <= i) {
                self.push_alias(alias, &mut out);
            }
            if leaf.kind != LeafKind::Comment {
                out.push((Cow::Borrowed(&leaf.path), i));
            }
        }
        for alias in aliases {
            self.push_alias(alias, &mut out);
        }
        out
    }

    fn push_alias(&self, alias: &AliasRef, out: &mut Vec<(Cow<'_, KeyPath>, usize)>) {
        for j in alias.target.clone() {
            let leaf = &self.leaves[j];
            if leaf.kind == LeafKind::Comment {
                continue;
            }
            let rest = &leaf.path.segments()[alias.target_path.segments().len()..];
            let mut segments = alias.path.segments().to_vec();
            segments.extend_from_slice(rest);
            out.push((Cow::Owned(KeyPath::from_segments(segments)), j));
        }
    }
}

/// What to write at a leaf's position.
pub enum Replacement<'a> {
    /// An `ENC[...]` string, for a value or a comment.
    Encrypted(&'a str),
    /// A plaintext value of the given type, written in the format's
    /// canonical style (YAML: plain when it reads back as the same type and
    /// text, else quoted; multi-line strings as block scalars in block
    /// context).
    Value(ValueType, &'a str),
    /// A plaintext comment (the text after the marker).
    Comment(&'a str),
}

/// A replacement of a byte range of the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splice {
    /// The bytes replaced (empty for an insertion).
    pub range: Range<usize>,
    /// The new text.
    pub text: String,
}

/// Applies non-overlapping splices to `text` (in any order given).
///
/// # Panics
/// Never for splices produced by a format from the same text; overlapping
/// or out-of-range splices are a bug and are reported as an error instead.
pub fn apply_splices(text: &str, splices: &mut [Splice]) -> Result<String, FormatError> {
    splices.sort_by_key(|s| (s.range.start, s.range.end));
    let mut out =
        String::with_capacity(text.len() + splices.iter().map(|s| s.text.len()).sum::<usize>());
    let mut at = 0;
    for s in splices.iter() {
        if s.range.start < at || s.range.end > text.len() || s.range.start > s.range.end {
            return Err(FormatError::Internal("overlapping or out-of-range splice"));
        }
        out.push_str(&text[at..s.range.start]);
        out.push_str(&s.text);
        at = s.range.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// Errors of the format layer. They name lines, columns and key paths, never
/// the text of a value or comment.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The text is not valid in the format.
    #[error("invalid {format} at line {line}, column {column}: {reason}")]
    Syntax {
        /// Format name.
        format: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong (no value text).
        reason: String,
    },
    /// The same key appears twice in one mapping / section.
    #[error("duplicate key {path} at line {line}")]
    DuplicateKey {
        /// The duplicated key's path.
        path: KeyPath,
        /// 1-based line of the second occurrence.
        line: usize,
    },
    /// Valid syntax that botsecrets (and sops) cannot store, such as a
    /// top-level list or a non-string key.
    #[error("unsupported {format} at line {line}: {reason}")]
    Unsupported {
        /// Format name.
        format: &'static str,
        /// 1-based line.
        line: usize,
        /// What is not supported.
        reason: String,
    },
    /// A value cannot be written in this format (e.g. a nested map into
    /// dotenv).
    #[error("cannot write {path} as {format}: {reason}")]
    Unrepresentable {
        /// Format name.
        format: &'static str,
        /// Key path of the value.
        path: KeyPath,
        /// Why.
        reason: String,
    },
    /// No entry at this path (for a structural removal).
    #[error("no entry at {0}")]
    PathNotFound(KeyPath),
    /// A bug: the format produced an inconsistent splice.
    #[error("internal error in the format layer: {0}")]
    Internal(&'static str),
}

/// One file format's reading and writing rules.
pub trait Syntax: Sync {
    /// The format this implements.
    fn kind(&self) -> FormatKind;

    /// Parses `text` into leaves and metadata.
    fn parse(&self, text: &str) -> Result<ParsedFile, FormatError>;

    /// [`Syntax::parse`] of a text the leaves may share: a value that is a
    /// slice of the text is held as a range of it instead of a copy. The
    /// leaves keep `text` alive. The default copies, as `parse` does.
    fn parse_shared(&self, text: &SharedText) -> Result<ParsedFile, FormatError> {
        self.parse(text.as_str())
    }

    /// The text that replaces `leaf.span` so that the file holds `with`.
    fn render(
        &self,
        text: &str,
        leaf: &Leaf,
        with: &Replacement<'_>,
    ) -> Result<String, FormatError>;

    /// The splices that make the file's metadata `tree` (replacing each
    /// existing block, or appending one per document where there is none),
    /// or that remove every metadata block when `tree` is `None`.
    ///
    /// `tree` is an object whose field order is the order to write; string
    /// values may contain line breaks (the armored age keys).
    fn metadata_splices(
        &self,
        text: &str,
        parsed: &ParsedFile,
        tree: Option<&serde_json::Value>,
    ) -> Result<Vec<Splice>, FormatError>;

    /// The splices that remove every metadata block of `parsed`: what
    /// [`Syntax::metadata_splices`] gives for no tree. Each format records
    /// a block's span as exactly the bytes whose removal leaves the file as
    /// if it had never had the block, so removal needs no format rule.
    fn metadata_removal(&self, parsed: &ParsedFile) -> Vec<Splice> {
        parsed
            .metadata
            .iter()
            .map(|b| Splice {
                range: b.span.clone(),
                text: String::new(),
            })
            .collect()
    }

    /// Splices that add a new scalar entry: `path` names a key that does not
    /// exist yet (its last segment is a map key); missing parent maps are
    /// created. The value is written with [`Syntax::render`]-style canonical
    /// text for `value` (a [`Replacement::Value`]). Inserted after the last
    /// existing entry of the parent, with the file's own indentation,
    /// separators and line breaks. A path through a list, or whose parent is
    /// a scalar, is [`FormatError::Unrepresentable`] (naming the path); so is
    /// a path that already exists.
    ///
    /// `text` is the plaintext file and `parsed` its parse.
    fn insert(
        &self,
        text: &str,
        parsed: &ParsedFile,
        path: &KeyPath,
        value: &Replacement<'_>,
    ) -> Result<Vec<Splice>, FormatError>;

    /// Splices that remove the entry at `path` (a scalar leaf, a whole
    /// map/list subtree, or a list item) with its line(s) and any separator
    /// (JSON commas), so the result is laid out as if the entry had never
    /// been there. Comments on the removed lines go with it; own-line
    /// comments above stay. Removing the last entry of a map leaves an empty
    /// map written validly. [`FormatError::PathNotFound`] when there is no
    /// such entry (the metadata is never an entry).
    fn remove(
        &self,
        text: &str,
        parsed: &ParsedFile,
        path: &KeyPath,
    ) -> Result<Vec<Splice>, FormatError>;

    /// How a program that loads a file of this format names the value at
    /// `path` (see [`loaded`]). The default: as the file spells it, but a
    /// byte order mark before the first key is not part of its name.
    fn loaded_path(&self, path: &KeyPath) -> LoadedPath {
        loaded::without_bom(path).map_or(LoadedPath::Same, LoadedPath::Renamed)
    }

    /// The text a program that loads a file of this format sees for a
    /// value of type `ty` whose text (as sops reads it) is `raw`. The
    /// default: the text itself.
    fn loaded_value<'a>(&self, ty: ValueType, raw: &'a str) -> Cow<'a, str> {
        let _ = ty;
        Cow::Borrowed(raw)
    }
}

// ---- Helpers for structural edits (line-based formats share them; the
// text-level ones are in `text.rs`).

/// The bytes to remove to drop item `i` of a flow collection (JSON object
/// or array, YAML/TOML flow collection) with exactly one separator: items
/// given as `start..end` (key start to value end), `inside` the bytes
/// between the brackets. A first or middle item takes everything up to the
/// next item; the last one everything from the previous item's end; a sole
/// item everything inside the brackets, so that `{}` / `[]` remains.
pub(crate) fn flow_item_removal(
    items: &[Range<usize>],
    i: usize,
    inside: Range<usize>,
) -> Range<usize> {
    if items.len() == 1 {
        inside
    } else if i + 1 < items.len() {
        items[i].start..items[i + 1].start
    } else {
        items[i - 1].end..items[i].end
    }
}

/// The error for an edit whose path runs through a list or a scalar.
pub(crate) fn unrepresentable(format: &'static str, path: &KeyPath, reason: &str) -> FormatError {
    FormatError::Unrepresentable {
        format,
        path: path.clone(),
        reason: reason.to_owned(),
    }
}

/// The map keys of an insertion path, or an error for a path through a
/// list, an empty path, or one into the metadata.
pub(crate) fn insert_keys<'p>(
    format: &'static str,
    path: &'p KeyPath,
) -> Result<Vec<&'p str>, FormatError> {
    let mut keys = Vec::new();
    for s in path.segments() {
        match s {
            crate::path::Segment::Key(k) => keys.push(k.as_str()),
            crate::path::Segment::Index(_) => {
                return Err(unrepresentable(
                    format,
                    path,
                    "a new entry cannot be added through a list",
                ))
            }
        }
    }
    if keys.is_empty() {
        return Err(unrepresentable(format, path, "the path is empty"));
    }
    if keys[0] == "sops" {
        return Err(unrepresentable(
            format,
            path,
            "the sops key is reserved for the metadata",
        ));
    }
    Ok(keys)
}

/// A synthetic leaf at `path`, for rendering an inserted value.
pub(crate) fn insert_leaf(path: &KeyPath, span: Range<usize>, style: LeafStyle) -> Leaf {
    Leaf {
        path: path.clone(),
        kind: LeafKind::Value(ValueType::Str),
        value: SecretText::from_str("").into(),
        span,
        style,
        document: 0,
    }
}

/// Test helpers for structural edits.
#[cfg(test)]
pub(crate) mod edit_testing {
    use super::*;
    use std::collections::BTreeSet;

    /// Every value leaf as `(path, kind, value)`, comments left out.
    pub(crate) fn values(p: &ParsedFile) -> BTreeSet<(String, String, String)> {
        p.leaves
            .iter()
            .filter(|l| l.kind != LeafKind::Comment)
            .map(|l| {
                (
                    l.path.to_string(),
                    format!("{:?}", l.kind),
                    l.value.expose().to_owned(),
                )
            })
            .collect()
    }

    /// Parses a dotted path (`a.b[0]`).
    pub(crate) fn path(s: &str) -> KeyPath {
        KeyPath::parse(s).expect("path")
    }

    /// `text` with `path` removed.
    pub(crate) fn remove(syn: &dyn Syntax, text: &str, p: &str) -> String {
        let parsed = syn.parse(text).expect("input parses");
        let mut s = syn.remove(text, &parsed, &path(p)).expect("remove");
        let out = apply_splices(text, &mut s).expect("splices apply");
        if let Err(e) = syn.parse(&out) {
            panic!("output of removing {p} does not parse: {e}\n{out}");
        }
        out
    }

    /// `text` with a string `value` inserted at `path`.
    pub(crate) fn insert(
        syn: &dyn Syntax,
        text: &str,
        p: &str,
        ty: ValueType,
        value: &str,
    ) -> String {
        let parsed = syn.parse(text).expect("input parses");
        let mut s = syn
            .insert(text, &parsed, &path(p), &Replacement::Value(ty, value))
            .expect("insert");
        let out = apply_splices(text, &mut s).expect("splices apply");
        if let Err(e) = syn.parse(&out) {
            panic!("output of inserting {p} does not parse: {e}\n{out}");
        }
        out
    }

    /// Removing each value leaf outside lists and inserting it back gives
    /// the same values. Returns an error message on failure.
    pub(crate) fn remove_insert_round_trip(syn: &dyn Syntax, text: &str) -> Result<(), String> {
        let p = syn.parse(text).map_err(|e| e.to_string())?;
        let before = values(&p);
        for l in &p.leaves {
            let LeafKind::Value(ty) = l.kind else {
                continue;
            };
            if l.path
                .segments()
                .iter()
                .any(|s| matches!(s, crate::path::Segment::Index(_)))
            {
                continue;
            }
            let mut s = syn
                .remove(text, &p, &l.path)
                .map_err(|e| format!("remove {}: {e}", l.path))?;
            let removed = apply_splices(text, &mut s).map_err(|e| e.to_string())?;
            let q = syn
                .parse(&removed)
                .map_err(|e| format!("after removing {}: {e}\n{removed}", l.path))?;
            if values(&q)
                .iter()
                .any(|(path, _, _)| path == &l.path.to_string())
            {
                return Err(format!("{} still there after removal:\n{removed}", l.path));
            }
            let mut s = syn
                .insert(
                    &removed,
                    &q,
                    &l.path,
                    &Replacement::Value(ty, l.value.expose()),
                )
                .map_err(|e| format!("insert {}: {e}\n{removed}", l.path))?;
            let back = apply_splices(&removed, &mut s).map_err(|e| e.to_string())?;
            let r = syn
                .parse(&back)
                .map_err(|e| format!("after inserting {}: {e}\n{back}", l.path))?;
            if values(&r) != before {
                return Err(format!(
                    "values differ after removing and inserting {}:\n{text}\n---\n{removed}\n---\n{back}\n{:?}\n{:?}",
                    l.path,
                    before,
                    values(&r)
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats_from_names() {
        let f = |n: &str| FormatKind::from_path(Path::new(n));
        assert_eq!(f("secrets.yaml"), Some(FormatKind::Yaml));
        assert_eq!(f("a/b/secrets.enc.YML"), Some(FormatKind::Yaml));
        assert_eq!(f("x.json"), Some(FormatKind::Json));
        assert_eq!(f("Cargo.toml"), Some(FormatKind::Toml));
        assert_eq!(f(".env"), Some(FormatKind::Dotenv));
        assert_eq!(f(".env.production"), Some(FormatKind::Dotenv));
        assert_eq!(f("prod.env"), Some(FormatKind::Dotenv));
        assert_eq!(f("app.ini"), Some(FormatKind::Ini));
        assert_eq!(f("blob.bin"), None);
        assert_eq!(f("README"), None);
    }

    /// A parse of shared text holds slices instead of copies, and must be
    /// the same parse: same leaves (values, kinds, spans), same metadata.
    #[test]
    fn a_shared_parse_is_the_same_parse() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/sops/");
        let mut texts: Vec<(FormatKind, String)> = Vec::new();
        for name in std::fs::read_dir(root).expect("testdata") {
            let path = name.expect("entry").path();
            let Some(kind) = FormatKind::from_path(&path) else {
                continue;
            };
            texts.push((kind, std::fs::read_to_string(&path).expect("text")));
        }
        // Escaped, typed and commented values beside slices of the text.
        texts.push((
            FormatKind::Yaml,
            "# c\na: \"x\\ty\"\nb: 0x1F\nc: 1.50\nd: |\n  e\n".into(),
        ));
        texts.push((
            FormatKind::Json,
            r#"{"a": "x\u0041", "b": 1.5e3, "c": "plain"}"#.into(),
        ));
        texts.push((FormatKind::Dotenv, "# c\nA=x\\ny\nB=plain\n".into()));
        assert!(texts.len() > 8);
        for (kind, text) in texts {
            let Ok(copied) = kind.syntax().parse(&text) else {
                continue;
            };
            let shared = crate::secret::SourceText::shared(text.clone());
            let parsed = kind.syntax().parse_shared(&shared).expect("shared parse");
            assert_eq!(
                testutil::summary(&parsed),
                testutil::summary(&copied),
                "{text}"
            );
            let spans =
                |p: &ParsedFile| p.leaves.iter().map(|l| l.span.clone()).collect::<Vec<_>>();
            assert_eq!(spans(&parsed), spans(&copied));
            assert_eq!(parsed.metadata_tree(), copied.metadata_tree());
            drop(parsed);
            assert!(crate::secret::SourceText::into_inner(shared).is_some());
        }
    }

    #[test]
    fn splices_apply_in_order() {
        let mut s = vec![
            Splice {
                range: 4..5,
                text: "XY".into(),
            },
            Splice {
                range: 0..1,
                text: "".into(),
            },
        ];
        assert_eq!(apply_splices("abcdef", &mut s).unwrap(), "bcdXYf");
        let mut bad = vec![
            Splice {
                range: 0..3,
                text: "".into(),
            },
            Splice {
                range: 2..4,
                text: "".into(),
            },
        ];
        assert!(apply_splices("abcdef", &mut bad).is_err());
    }
}
