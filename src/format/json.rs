//! JSON (RFC 8259): a small, strict, hand-written parser that reports the
//! byte span of every scalar, and the splices that write values and the
//! `sops` member back into the original text.
//!
//! Why by hand: the grammar is tiny, and a recursive-descent scanner gives
//! exact byte spans, precise line/column errors (never quoting the input) and
//! strictness (duplicate keys, depth limit) directly. jsonc-parser's CST is
//! lossless but would have to be walked back to byte offsets and told to be
//! strict option by option.
//!
//! Rules (the invariants tests pin):
//! - The top level must be an object (else `Unsupported`). Duplicate keys in
//!   any object are an error (`DuplicateKey`; COMPAT(sops): 3.11 keeps both
//!   members, which makes the AAD of two values equal). Strict RFC 8259: no comments,
//!   no trailing commas, no leading zeros, no raw control characters in
//!   strings, only the standard escapes, no unpaired surrogates, nothing but
//!   whitespace after the top-level object, no byte order mark. Nesting deeper
//!   than [`MAX_DEPTH`] is an error, not a stack overflow.
//! - Leaves: strings are `Value(Str)` with the unescaped text; numbers are
//!   `Value(Float)` whether integral or not (COMPAT(sops): 3.11 types every
//!   JSON number `float`) with the *source text* as value, so `1.50` and
//!   `12345678901234567890` keep their digits; `true`/`false` are
//!   `Value(Bool)`; `null` is `Null`. The span is the token (quotes
//!   included). Paths are keys and array indices. Every leaf has
//!   `style.flow = true`; `style.indent` is 0 (JSON values are never
//!   indented relative to their key). JSON has no comments.
//! - The top-level `"sops"` member is the metadata: its value is read into a
//!   `serde_json::Value` and gives no leaves. `MetadataBlock.span` covers the
//!   member, one adjacent comma and the whitespace that goes with it, so that
//!   removing it leaves the file as it would be without the member (the
//!   first/middle member takes its following comma and the whitespace up to
//!   the next key; the last member takes the preceding comma and whitespace;
//!   a sole member takes everything from `{` to its value's end, plus the
//!   whitespace after it up to the last line break before `}`).
//! - Writing the metadata copies the file's layout: the indentation unit of
//!   the top-level members (tabs, 2 or 4 spaces...), its line breaks, its
//!   `:` spacing. A one-line object gets a one-line member. A new member goes
//!   last. An empty `{}` gets a one-line member; an empty object spanning
//!   lines gets a tab-indented one (sops' default).
//! - Rendering a value: strings with minimal escapes (non-ASCII kept);
//!   numbers as given when they are valid JSON numbers, else as a string;
//!   booleans as `true`/`false`; times as strings. Comments cannot be written.

#[cfg(test)]
mod dup_tests;
mod edit;
#[cfg(test)]
mod edit_tests;
mod emit;
#[cfg(test)]
pub(crate) mod tests;

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::ops::Range;

use super::repeats::{first_repeat, Mark};
use super::text::{go_bool_text, line_col};
use super::{
    EmptyCollection, FormatError, FormatKind, Leaf, LeafKind, LeafStyle, MetadataBlock, ParsedFile,
    Replacement, Splice, Syntax, ValueType,
};
use crate::path::{KeyPath, Segment};
use crate::secret::{LeafText, SecretText, SharedText};
pub use emit::quote;
use emit::{detect_layout, is_json_number, write_tree, Layout, Pretty};

/// The deepest nesting of objects and arrays accepted.
pub const MAX_DEPTH: usize = 512;

const FORMAT: &str = "json";

/// The json syntax.
pub struct Json;

/// A member of the top-level object, as the metadata code needs it.
#[derive(Debug, Clone)]
struct Member {
    /// Offset of the key's opening quote.
    key_start: usize,
    /// Offset just after the key's closing quote.
    key_end: usize,
    /// The value's bytes.
    value: Range<usize>,
    /// Whether the key is `sops`.
    is_sops: bool,
}

/// What one scan of the text finds.
struct Scan {
    leaves: Vec<Leaf>,
    empties: Vec<EmptyCollection>,
    members: Vec<Member>,
    /// Offsets of the top-level `{` and `}`.
    open: usize,
    close: usize,
}

struct Parser<'a> {
    text: &'a str,
    /// `text` as shared by the leaves, when the caller gave it so.
    shared: Option<&'a SharedText>,
    b: &'a [u8],
    pos: usize,
    leaves: Vec<Leaf>,
    empties: Vec<EmptyCollection>,
    /// Keyed hash of key texts, for the duplicate check (keyed so that a
    /// file cannot choose keys that collide).
    hasher: RandomState,
    /// The keys of the objects being parsed, innermost last, each marked
    /// by its hash and the start of its literal (16 bytes, no copy of the
    /// key): each object owns the tail from where it started (see
    /// [`Parser::object`]).
    keys: Vec<Mark>,
    /// Where the scan stood when it met the error being returned (for a
    /// duplicate, the second key's start): a large object's deferred
    /// duplicate check reports its own error instead only if it is earlier.
    fail_at: Cell<usize>,
}

/// Up to this many keys an object checks each key against the earlier
/// ones as it reads it; a larger object sorts its marks once at the end
/// (see [`Parser::first_duplicate`]): at a million keys a hash set's
/// random inserts miss the cache, appending marks does not.
const SCAN_KEYS: usize = 8;

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            shared: None,
            b: text.as_bytes(),
            pos: 0,
            leaves: Vec::new(),
            empties: Vec::new(),
            hasher: RandomState::new(),
            keys: Vec::new(),
            fail_at: Cell::new(0),
        }
    }

    /// The decoded text of the (valid) string literal at `at`.
    fn string_at(&mut self, at: usize) -> Result<Cow<'a, str>, FormatError> {
        let pos = self.pos;
        self.pos = at;
        let s = self.string();
        self.pos = pos;
        s
    }

    /// Whether `key`, with `hash`, starting at `start`, was seen before in
    /// the object whose marks begin at `base`; records it if not.
    fn seen_before(
        &mut self,
        base: usize,
        key: &str,
        hash: u64,
        start: usize,
    ) -> Result<bool, FormatError> {
        for i in base..self.keys.len() {
            let m = self.keys[i];
            // Equal hashes are a duplicate only if the texts are equal.
            if m.hash == hash && *self.string_at(m.position)? == *key {
                return Ok(true);
            }
        }
        self.keys.push(Mark {
            hash,
            position: start,
        });
        Ok(false)
    }

    /// The start of the earliest key, among the marks from `base`, whose
    /// text equals an earlier one's: the duplicate a key-by-key check
    /// would have met first. Sorts the marks.
    fn first_duplicate(&mut self, base: usize) -> Result<Option<usize>, FormatError> {
        let mut marks = std::mem::take(&mut self.keys);
        let found = first_repeat(&mut marks[base..], |a, b| {
            Ok(*self.string_at(a)? == *self.string_at(b)?)
        });
        self.keys = marks;
        found
    }

    /// The duplicate-key error for the key at `start` in the object at
    /// `path`.
    fn duplicate(&mut self, path: &[Segment], start: usize) -> Result<FormatError, FormatError> {
        let key = self.string_at(start)?.into_owned();
        self.fail_at.set(start);
        Ok(FormatError::DuplicateKey {
            path: KeyPath::from_segments(path.to_vec()).child_key(key),
            line: line_col(self.text, start).0,
        })
    }

    // SECURITY: the reason is always a fixed string; no input text.
    fn err(&self, at: usize, reason: &str) -> FormatError {
        self.fail_at.set(self.pos);
        let (line, column) = line_col(self.text, at);
        FormatError::Syntax {
            format: FORMAT,
            line,
            column,
            reason: reason.to_owned(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn push_empty(&mut self, path: &[Segment], collect: bool, is_map: bool) {
        if collect && !path.is_empty() {
            self.empties.push(EmptyCollection {
                path: KeyPath::from_segments(path.to_vec()),
                document: 0,
                position: self.leaves.len(),
                is_map,
            });
        }
    }

    fn push_leaf(&mut self, path: &[Segment], kind: LeafKind, value: LeafText, span: Range<usize>) {
        self.leaves.push(Leaf {
            path: KeyPath::from_segments(path.to_vec()),
            kind,
            value,
            span,
            style: LeafStyle {
                flow: true,
                indent: 0,
                block: false,
                empty_list: false,
            },
            document: 0,
        });
    }

    /// Parses one value at `self.pos` (whitespace already skipped).
    fn value(
        &mut self,
        path: &mut Vec<Segment>,
        depth: usize,
        collect: bool,
    ) -> Result<(), FormatError> {
        let start = self.pos;
        match self.peek() {
            None => Err(self.err(start, "unexpected end of input, expected a value")),
            Some(b'{') => self.object(path, depth + 1, collect, None),
            Some(b'[') => self.array(path, depth + 1, collect),
            Some(b'"') => {
                let s = self.string()?;
                if collect {
                    // Without escapes the value is the text between the quotes.
                    let value = match s {
                        Cow::Borrowed(inner) => LeafText::slice_or_copy(self.shared, inner),
                        Cow::Owned(s) => LeafText::from(SecretText::new(s)),
                    };
                    self.push_leaf(
                        path,
                        LeafKind::Value(ValueType::Str),
                        value,
                        start..self.pos,
                    );
                }
                Ok(())
            }
            Some(b'-' | b'0'..=b'9') => {
                self.number()?;
                if collect {
                    let src = LeafText::slice_or_copy(self.shared, &self.text[start..self.pos]);
                    // COMPAT(sops): 3.11 types every JSON number `float`.
                    self.push_leaf(
                        path,
                        LeafKind::Value(ValueType::Float),
                        src,
                        start..self.pos,
                    );
                }
                Ok(())
            }
            Some(b't' | b'f' | b'n') => {
                let (word, kind) = match self.peek() {
                    Some(b't') => ("true", LeafKind::Value(ValueType::Bool)),
                    Some(b'f') => ("false", LeafKind::Value(ValueType::Bool)),
                    _ => ("null", LeafKind::Null),
                };
                if !self.b[start..].starts_with(word.as_bytes()) {
                    return Err(self.err(start, "invalid literal, expected true, false or null"));
                }
                self.pos += word.len();
                if collect {
                    let v = if kind == LeafKind::Null { "" } else { word };
                    self.push_leaf(path, kind, SecretText::from_str(v).into(), start..self.pos);
                }
                Ok(())
            }
            Some(_) => Err(self.err(start, "unexpected character, expected a value")),
        }
    }

    fn object(
        &mut self,
        path: &mut Vec<Segment>,
        depth: usize,
        collect: bool,
        top: Option<&mut Vec<Member>>,
    ) -> Result<(), FormatError> {
        if depth > MAX_DEPTH {
            return Err(self.err(self.pos, "objects and arrays are nested too deeply"));
        }
        self.pos += 1; // `{`
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.push_empty(path, collect, true);
            return Ok(());
        }
        // The duplicate check: marks on the shared `keys` stack (from
        // `base`; nested objects push above and truncate back), no copy of
        // a key. The first SCAN_KEYS keys are checked one by one; past
        // them the marks are sorted once, at the `}` or at an error inside,
        // and the earlier of the two errors in the text is the one given.
        let base = self.keys.len();
        let outer = path.len();
        let result = self.members(path, depth, collect, top, base);
        // An error leaves the keys it was under on the path.
        path.truncate(outer);
        let large = self.keys.len() - base > SCAN_KEYS;
        let result = match result {
            Ok(()) if large => match self.first_duplicate(base)? {
                Some(at) => Err(self.duplicate(path, at)?),
                None => Ok(()),
            },
            Err(e) if large => {
                let failed = self.fail_at.get();
                match self.first_duplicate(base)? {
                    Some(at) if at < failed => Err(self.duplicate(path, at)?),
                    _ => Err(e),
                }
            }
            other => other,
        };
        self.keys.truncate(base);
        result
    }

    /// The members of the object whose `{` has been read, up to its `}`.
    fn members(
        &mut self,
        path: &mut Vec<Segment>,
        depth: usize,
        collect: bool,
        mut top: Option<&mut Vec<Member>>,
        base: usize,
    ) -> Result<(), FormatError> {
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.err(self.pos, "expected a string key"));
            }
            let key_start = self.pos;
            let key = self.string()?;
            let key_end = self.pos;
            let hash = self.hasher.hash_one(&*key);
            if self.keys.len() - base >= SCAN_KEYS {
                self.keys.push(Mark {
                    hash,
                    position: key_start,
                });
            } else if self.seen_before(base, &key, hash, key_start)? {
                return Err(self.duplicate(path, key_start)?);
            }
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.err(self.pos, "expected ':' after an object key"));
            }
            self.pos += 1;
            self.skip_ws();
            let is_sops = top.is_some() && key == "sops";
            let value_start = self.pos;
            path.push(Segment::Key(key.as_ref().into()));
            self.value(path, depth, collect && !is_sops)?;
            path.pop();
            if let Some(members) = top.as_deref_mut() {
                members.push(Member {
                    key_start,
                    key_end,
                    value: value_start..self.pos,
                    is_sops,
                });
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        return Err(self.err(self.pos, "trailing comma in an object"));
                    }
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                None => return Err(self.err(self.pos, "unterminated object")),
                Some(_) => return Err(self.err(self.pos, "expected ',' or '}' in an object")),
            }
        }
    }

    fn array(
        &mut self,
        path: &mut Vec<Segment>,
        depth: usize,
        collect: bool,
    ) -> Result<(), FormatError> {
        if depth > MAX_DEPTH {
            return Err(self.err(self.pos, "objects and arrays are nested too deeply"));
        }
        self.pos += 1; // `[`
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.push_empty(path, collect, false);
            return Ok(());
        }
        let mut index = 0;
        loop {
            path.push(Segment::Index(index));
            self.value(path, depth, collect)?;
            path.pop();
            index += 1;
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        return Err(self.err(self.pos, "trailing comma in an array"));
                    }
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                None => return Err(self.err(self.pos, "unterminated array")),
                Some(_) => return Err(self.err(self.pos, "expected ',' or ']' in an array")),
            }
        }
    }

    /// Parses a string literal at `self.pos` and returns its decoded text:
    /// the text between the quotes when there is no escape, so that keys
    /// and values cost no allocation.
    fn string(&mut self) -> Result<Cow<'a, str>, FormatError> {
        let start = self.pos;
        self.pos += 1; // `"`
        let mut out: Option<String> = None;
        loop {
            let run = self.pos;
            self.pos += plain_run(&self.b[run..]);
            // The run stops at an ASCII byte or the end: char boundaries.
            let text: &'a str = self.text;
            let piece = &text[run..self.pos];
            if self.peek() == Some(b'"') {
                self.pos += 1;
                return Ok(match out {
                    None => Cow::Borrowed(piece),
                    Some(mut s) => {
                        s.push_str(piece);
                        Cow::Owned(s)
                    }
                });
            }
            let out = out.get_or_insert_with(String::new);
            out.push_str(piece);
            match self.peek() {
                None => return Err(self.err(start, "unterminated string")),
                Some(b'\\') => {
                    let esc = self.pos;
                    self.pos += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let hi = self.hex4(esc)?;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                if self.b.get(self.pos..self.pos + 2) != Some(b"\\u") {
                                    return Err(self.err(esc, "unpaired surrogate in \\u escape"));
                                }
                                self.pos += 2;
                                let lo = self.hex4(esc)?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err(esc, "unpaired surrogate in \\u escape"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else if (0xDC00..0xE000).contains(&hi) {
                                return Err(self.err(esc, "unpaired surrogate in \\u escape"));
                            } else {
                                hi
                            };
                            let Some(c) = char::from_u32(cp) else {
                                return Err(self.err(esc, "invalid \\u escape"));
                            };
                            out.push(c);
                            continue;
                        }
                        _ => return Err(self.err(esc, "invalid escape sequence in string")),
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(_) => return Err(self.err(self.pos, "control character in string")),
            }
        }
    }

    fn hex4(&mut self, esc: usize) -> Result<u32, FormatError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err(esc, "invalid \\u escape, expected 4 hex digits")),
            };
            v = v * 16 + u32::from(d);
            self.pos += 1;
        }
        Ok(v)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<(), FormatError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.err(start, "leading zero in a number"));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err(start, "invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.err(start, "invalid number, expected digits after '.'"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.err(start, "invalid number, expected digits in the exponent"));
            }
        }
        Ok(())
    }
}

/// Whether byte `c` ends a run of a string literal's plain text.
fn stops_run(c: u8) -> bool {
    c == b'"' || c == b'\\' || c < 0x20
}

/// The length of the run of `b` before its first `"`, `\` or control
/// character. String values (sops' `ENC[...]` above all) are most of a
/// file's bytes, so it tests eight at a time: a word holds a stop byte iff
/// one of its bytes is zero after XOR with `"` or `\`, or is below 0x20
/// (the exact "has a zero / less than n byte" tests, n <= 128).
fn plain_run(b: &[u8]) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let quote = w ^ (LO * u64::from(b'"'));
        let slash = w ^ (LO * u64::from(b'\\'));
        let stop = (quote.wrapping_sub(LO) & !quote)
            | (slash.wrapping_sub(LO) & !slash)
            | (w.wrapping_sub(LO * 0x20) & !w);
        if stop & HI != 0 {
            break;
        }
        i += 8;
    }
    i + b[i..]
        .iter()
        .position(|&c| stops_run(c))
        .unwrap_or(b.len() - i)
}

/// Parses the whole text: the top-level object's members, and the leaves
/// when `collect` is set.
fn scan(text: &str, collect: bool) -> Result<Scan, FormatError> {
    scan_in(text, None, collect)
}

/// [`scan`] of `text`, which is `shared`'s text when given: the leaves then
/// hold their values as ranges of it where they can.
fn scan_in<'a>(
    text: &'a str,
    shared: Option<&'a SharedText>,
    collect: bool,
) -> Result<Scan, FormatError> {
    let mut p = Parser::new(text);
    p.shared = shared;
    p.skip_ws();
    match p.peek() {
        Some(b'{') => {}
        Some(b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
            return Err(FormatError::Unsupported {
                format: FORMAT,
                line: line_col(text, p.pos).0,
                reason: "the top level must be an object".into(),
            })
        }
        None => return Err(p.err(p.pos, "empty document, expected an object")),
        Some(0xEF) if text[p.pos..].starts_with('\u{feff}') => {
            return Err(p.err(p.pos, "byte order mark is not allowed"))
        }
        Some(_) => return Err(p.err(p.pos, "unexpected character, expected an object")),
    }
    let open = p.pos;
    let mut members = Vec::new();
    // The working path is a list that grows and shrinks in place; each
    // leaf gets an exactly sized copy.
    let mut path = Vec::new();
    p.object(&mut path, 1, collect, Some(&mut members))?;
    let close = p.pos - 1;
    p.skip_ws();
    if p.pos != text.len() {
        return Err(p.err(p.pos, "unexpected characters after the top-level object"));
    }
    Ok(Scan {
        leaves: p.leaves,
        empties: p.empties,
        members,
        open,
        close,
    })
}

/// The bytes to remove to drop member `i` (see the module doc).
fn removal_span(text: &str, scan: &Scan, i: usize) -> Range<usize> {
    let m = &scan.members[i];
    if scan.members.len() == 1 {
        let after = &text[m.value.end..scan.close];
        match after.rfind('\n') {
            Some(nl) => {
                let mut cut = m.value.end + nl;
                if cut > m.value.end && text.as_bytes()[cut - 1] == b'\r' {
                    cut -= 1;
                }
                scan.open + 1..cut
            }
            None => scan.open + 1..m.value.end,
        }
    } else if i + 1 < scan.members.len() {
        m.key_start..scan.members[i + 1].key_start
    } else {
        scan.members[i - 1].value.end..m.value.end
    }
}

/// A JSON value's structure, for structural edits.
enum Node {
    Scalar(Range<usize>),
    /// `open`/`close` are the bracket offsets; members are `(key, key
    /// start, value)`.
    Object {
        open: usize,
        close: usize,
        members: Vec<(String, usize, Node)>,
    },
    Array {
        open: usize,
        close: usize,
        items: Vec<Node>,
    },
}

impl Node {
    fn span(&self) -> Range<usize> {
        match self {
            Node::Scalar(r) => r.clone(),
            Node::Object { open, close, .. } | Node::Array { open, close, .. } => *open..close + 1,
        }
    }
}

/// Reads the structure of the value at `p.pos` (the text is valid JSON).
fn node(p: &mut Parser<'_>) -> Result<Node, FormatError> {
    p.skip_ws();
    let open = p.pos;
    match p.peek() {
        Some(b'{') => {
            p.pos += 1;
            let mut members = Vec::new();
            loop {
                p.skip_ws();
                match p.peek() {
                    Some(b'}') => break,
                    Some(b',') => p.pos += 1,
                    Some(b'"') => {
                        let key_start = p.pos;
                        let key = p.string()?.into_owned();
                        p.skip_ws();
                        p.pos += 1; // `:`
                        let v = node(p)?;
                        members.push((key, key_start, v));
                    }
                    _ => return Err(FormatError::Internal("json structure")),
                }
            }
            p.pos += 1;
            Ok(Node::Object {
                open,
                close: p.pos - 1,
                members,
            })
        }
        Some(b'[') => {
            p.pos += 1;
            let mut items = Vec::new();
            loop {
                p.skip_ws();
                match p.peek() {
                    Some(b']') => break,
                    Some(b',') => p.pos += 1,
                    Some(_) => items.push(node(p)?),
                    None => return Err(FormatError::Internal("json structure")),
                }
            }
            p.pos += 1;
            Ok(Node::Array {
                open,
                close: p.pos - 1,
                items,
            })
        }
        _ => {
            p.value(&mut Vec::new(), 0, false)?;
            Ok(Node::Scalar(open..p.pos))
        }
    }
}

/// [`Json::parse`] of `text`, which is `shared`'s text when given.
fn parse_in(text: &str, shared: Option<&SharedText>) -> Result<ParsedFile, FormatError> {
    let scan = scan_in(text, shared, true)?;
    let mut metadata = Vec::new();
    if let Some(i) = scan.members.iter().position(|m| m.is_sops) {
        let m = &scan.members[i];
        let tree: serde_json::Value =
            serde_json::from_str(&text[m.value.clone()]).map_err(|_| {
                // The text is valid JSON here; serde_json only refuses
                // nesting beyond its own recursion limit.
                FormatError::Unsupported {
                    format: FORMAT,
                    line: line_col(text, m.key_start).0,
                    reason: "the sops metadata is nested too deeply".into(),
                }
            })?;
        metadata.push(MetadataBlock {
            span: removal_span(text, &scan, i),
            tree,
        });
    }
    Ok(ParsedFile {
        leaves: scan.leaves,
        empties: scan.empties,
        unsealed_empties: Vec::new(),
        metadata,
        aliases: Vec::new(),
        documents: 1,
        yaml_layout: None,
    })
}

impl Syntax for Json {
    fn kind(&self) -> FormatKind {
        FormatKind::Json
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
        match with {
            Replacement::Encrypted(s) => Ok(quote(s)),
            Replacement::Value(ValueType::Str | ValueType::Time, t) => Ok(quote(t)),
            Replacement::Value(ValueType::Int | ValueType::Float, t) => {
                if is_json_number(t) {
                    Ok((*t).to_owned())
                } else {
                    Ok(quote(t))
                }
            }
            Replacement::Value(ValueType::Bool, t) => go_bool_text(t)
                .map(str::to_owned)
                .ok_or_else(|| FormatError::Unrepresentable {
                    format: FORMAT,
                    path: leaf.path.clone(),
                    reason: "the value is not a boolean".into(),
                }),
            Replacement::Comment(_) => Err(FormatError::Unrepresentable {
                format: FORMAT,
                path: leaf.path.clone(),
                reason: "JSON has no comments".into(),
            }),
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
        let scan = scan(text, false)?;
        let layout = detect_layout(text, &scan);
        let mut value = String::new();
        write_tree(tree, 1, &layout, &mut value);
        if let Some(m) = scan.members.iter().find(|m| m.is_sops) {
            return Ok(vec![Splice {
                range: m.value.clone(),
                text: value,
            }]);
        }
        let mut member = String::new();
        let at = match scan.members.last() {
            Some(last) => {
                member.push(',');
                match &layout.pretty {
                    Some(p) => {
                        member.push_str(p.newline);
                        member.push_str(&p.unit);
                    }
                    None => member.push_str(layout.comma.trim_start_matches(',')),
                }
                last.value.end
            }
            None => {
                if let Some(p) = &layout.pretty {
                    member.push_str(p.newline);
                    member.push_str(&p.unit);
                }
                scan.open + 1
            }
        };
        member.push_str("\"sops\"");
        member.push_str(&layout.colon);
        member.push_str(&value);
        Ok(vec![Splice {
            range: at..at,
            text: member,
        }])
    }

    fn insert(
        &self,
        text: &str,
        _parsed: &ParsedFile,
        path: &KeyPath,
        value: &Replacement<'_>,
    ) -> Result<Vec<Splice>, FormatError> {
        self.insert_member(text, path, value)
    }

    fn remove(
        &self,
        text: &str,
        _parsed: &ParsedFile,
        path: &KeyPath,
    ) -> Result<Vec<Splice>, FormatError> {
        self.remove_node(text, path)
    }
}
