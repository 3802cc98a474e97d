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

use std::collections::HashSet;
use std::ops::Range;

use super::text::{go_bool_text, line_col};
use super::{
    EmptyCollection, FormatError, FormatKind, Leaf, LeafKind, LeafStyle, MetadataBlock, ParsedFile,
    Replacement, Splice, Syntax, ValueType,
};
use crate::path::KeyPath;
use crate::secret::SecretText;

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
    b: &'a [u8],
    pos: usize,
    leaves: Vec<Leaf>,
    empties: Vec<EmptyCollection>,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            b: text.as_bytes(),
            pos: 0,
            leaves: Vec::new(),
            empties: Vec::new(),
        }
    }

    // SECURITY: the reason is always a fixed string; no input text.
    fn err(&self, at: usize, reason: &str) -> FormatError {
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

    fn push_empty(&mut self, path: &KeyPath, collect: bool, is_map: bool) {
        if collect && !path.is_root() {
            self.empties.push(EmptyCollection {
                path: path.clone(),
                document: 0,
                position: self.leaves.len(),
                is_map,
            });
        }
    }

    fn push_leaf(&mut self, path: &KeyPath, kind: LeafKind, value: String, span: Range<usize>) {
        self.leaves.push(Leaf {
            path: path.clone(),
            kind,
            value: SecretText::new(value),
            span,
            style: LeafStyle {
                flow: true,
                indent: 0,
                block: false,
            },
            document: 0,
        });
    }

    /// Parses one value at `self.pos` (whitespace already skipped).
    fn value(
        &mut self,
        path: &mut KeyPath,
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
                    self.push_leaf(path, LeafKind::Value(ValueType::Str), s, start..self.pos);
                }
                Ok(())
            }
            Some(b'-' | b'0'..=b'9') => {
                self.number()?;
                if collect {
                    let src = self.text[start..self.pos].to_owned();
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
                    self.push_leaf(path, kind, v.to_owned(), start..self.pos);
                }
                Ok(())
            }
            Some(_) => Err(self.err(start, "unexpected character, expected a value")),
        }
    }

    fn object(
        &mut self,
        path: &mut KeyPath,
        depth: usize,
        collect: bool,
        mut top: Option<&mut Vec<Member>>,
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
        let mut seen: HashSet<String> = HashSet::new();
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.err(self.pos, "expected a string key"));
            }
            let key_start = self.pos;
            let key = self.string()?;
            let key_end = self.pos;
            if seen.contains(&key) {
                return Err(FormatError::DuplicateKey {
                    path: path.child_key(key),
                    line: line_col(self.text, key_start).0,
                });
            }
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.err(self.pos, "expected ':' after an object key"));
            }
            self.pos += 1;
            self.skip_ws();
            let is_sops = top.is_some() && key == "sops";
            let value_start = self.pos;
            path.push_key(key.clone());
            self.value(path, depth, collect && !is_sops)?;
            path.pop();
            seen.insert(key);
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
        path: &mut KeyPath,
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
            path.push_index(index);
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

    /// Parses a string literal at `self.pos` and returns its decoded text.
    fn string(&mut self) -> Result<String, FormatError> {
        let start = self.pos;
        self.pos += 1; // `"`
        let mut out = String::new();
        loop {
            let run = self.pos;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // The run stops at an ASCII byte or the end: char boundaries.
            out.push_str(&self.text[run..self.pos]);
            match self.peek() {
                None => return Err(self.err(start, "unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
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

/// Parses the whole text: the top-level object's members, and the leaves
/// when `collect` is set.
fn scan(text: &str, collect: bool) -> Result<Scan, FormatError> {
    let mut p = Parser::new(text);
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
    let mut path = KeyPath::root();
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
                        let key = p.string()?;
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
            p.value(&mut KeyPath::root(), 0, false)?;
            Ok(Node::Scalar(open..p.pos))
        }
    }
}

/// The indentation of the line holding `at` (its leading whitespace).
fn indent_at(text: &str, at: usize) -> &str {
    let start = super::text::line_start_of(text, at);
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
    fn insert_member(
        &self,
        text: &str,
        path: &KeyPath,
        value: &Replacement<'_>,
    ) -> Result<Vec<Splice>, FormatError> {
        let keys = super::insert_keys(FORMAT, path)?;
        let leaf = super::insert_leaf(
            path,
            0..0,
            LeafStyle {
                flow: true,
                indent: 0,
                block: false,
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
                        return Err(super::unrepresentable(
                            FORMAT,
                            path,
                            "the key already exists",
                        ));
                    }
                    match &members[i].2 {
                        Node::Object { .. } => {}
                        Node::Array { .. } => {
                            return Err(super::unrepresentable(
                                FORMAT,
                                path,
                                "a new entry cannot be added through a list",
                            ))
                        }
                        Node::Scalar(_) => {
                            return Err(super::unrepresentable(
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
                    newline: super::text::newline_style(text),
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

    fn remove_node(&self, text: &str, path: &KeyPath) -> Result<Vec<Splice>, FormatError> {
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
                    range: super::flow_item_removal(&items, i, open + 1..close),
                    text: String::new(),
                }]);
            }
            cur = child;
        }
        Err(not_found())
    }
}

/// How the top-level object is laid out.
struct Layout {
    /// `None` for a one-line object.
    pretty: Option<Pretty>,
    /// Between a key and its value (`": "`, `":"`).
    colon: String,
    /// Between members on one line (`", "`, `","`).
    comma: String,
}

struct Pretty {
    unit: String,
    newline: &'static str,
}

fn detect_layout(text: &str, scan: &Scan) -> Layout {
    let Some(first) = scan.members.first() else {
        let inside = &text[scan.open + 1..scan.close];
        return Layout {
            pretty: inside.contains('\n').then(|| Pretty {
                unit: "\t".into(),
                newline: if inside.contains("\r\n") {
                    "\r\n"
                } else {
                    "\n"
                },
            }),
            colon: ": ".into(),
            comma: ", ".into(),
        };
    };
    let lead = &text[scan.open + 1..first.key_start];
    let colon_src = &text[first.key_end..first.value.start];
    let colon = if colon_src.contains(['\n', '\r']) {
        ": ".to_owned()
    } else {
        colon_src.to_owned()
    };
    let pretty = lead.rfind('\n').map(|nl| Pretty {
        unit: lead[nl + 1..].to_owned(),
        newline: if lead.contains("\r\n") { "\r\n" } else { "\n" },
    });
    let comma = match scan.members.get(1) {
        Some(second) if !text[first.value.end..second.key_start].contains('\n') => {
            text[first.value.end..second.key_start].to_owned()
        }
        _ if colon.ends_with(' ') => ", ".to_owned(),
        _ => ",".to_owned(),
    };
    Layout {
        pretty,
        colon,
        comma,
    }
}

/// Writes `s` as a JSON string literal with minimal escapes.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `s` is exactly a JSON number token.
fn is_json_number(s: &str) -> bool {
    let mut p = Parser::new(s);
    p.number().is_ok() && p.pos == s.len()
}

/// Writes a metadata value; `level` is the nesting level of the value.
fn write_tree(v: &serde_json::Value, level: usize, layout: &Layout, out: &mut String) {
    use serde_json::Value as V;
    match v {
        V::Null => out.push_str("null"),
        V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        V::Number(n) => out.push_str(&n.to_string()),
        V::String(s) => out.push_str(&quote(s)),
        V::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                sep(i, level + 1, layout, out);
                write_tree(item, level + 1, layout, out);
            }
            close(level, layout, out);
            out.push(']');
        }
        V::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                sep(i, level + 1, layout, out);
                out.push_str(&quote(k));
                out.push_str(&layout.colon);
                write_tree(item, level + 1, layout, out);
            }
            close(level, layout, out);
            out.push('}');
        }
    }
}

fn sep(i: usize, level: usize, layout: &Layout, out: &mut String) {
    match &layout.pretty {
        Some(p) => {
            if i > 0 {
                out.push(',');
            }
            out.push_str(p.newline);
            for _ in 0..level {
                out.push_str(&p.unit);
            }
        }
        None if i > 0 => out.push_str(&layout.comma),
        None => {}
    }
}

fn close(level: usize, layout: &Layout, out: &mut String) {
    if let Some(p) = &layout.pretty {
        out.push_str(p.newline);
        for _ in 0..level {
            out.push_str(&p.unit);
        }
    }
}

impl Syntax for Json {
    fn kind(&self) -> FormatKind {
        FormatKind::Json
    }

    fn parse(&self, text: &str) -> Result<ParsedFile, FormatError> {
        let scan = scan(text, true)?;
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
            metadata,
            aliases: Vec::new(),
            documents: 1,
            yaml_layout: None,
        })
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::format::apply_splices;
    use crate::path::Segment;
    use proptest::prelude::*;

    const ENC: &str = "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]";

    fn sample(name: &str) -> String {
        let path = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(path).expect("fixture")
    }

    fn parse(text: &str) -> ParsedFile {
        Json.parse(text).expect("parses")
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
            .filter(|l| l.kind != LeafKind::Null)
            .map(|l| Splice {
                range: l.span.clone(),
                text: Json.render(text, l, &Replacement::Encrypted(ENC)).unwrap(),
            })
            .collect();
        apply_splices(text, &mut splices).unwrap()
    }

    fn with_meta(text: &str, tree: Option<&serde_json::Value>) -> String {
        let p = parse(text);
        let mut s = Json.metadata_splices(text, &p, tree).unwrap();
        apply_splices(text, &mut s).unwrap()
    }

    fn meta_tree() -> serde_json::Value {
        serde_json::from_str(
            r#"{"age":[{"recipient":"age1x","enc":"-----BEGIN AGE ENCRYPTED FILE-----\nYWJj\n-----END AGE ENCRYPTED FILE-----\n"}],"lastmodified":"2026-11-29T16:35:46Z","mac":"ENC[AES256_GCM,data:m,iv:i,tag:t,type:str]","unencrypted_suffix":"_unencrypted","version":"3.11.0","n":[],"o":{}}"#,
        )
        .unwrap()
    }

    #[test]
    fn parses_the_plain_sample() {
        let text = sample("sops/basic.json");
        let p = parse(&text);
        use LeafKind::*;
        use ValueType::*;
        let s = |a: &str, k, v: &str| (a.to_owned(), k, v.to_owned());
        assert_eq!(
            summary(&p),
            vec![
                s("db.user", Value(Str), "admin"),
                s("db.pass", Value(Str), "s3cret"),
                s("db.port", Value(Float), "5432"),
                s("db.big", Value(Float), "12345678901234567890"),
                s("db.ratio", Value(Float), "1.50"),
                s("db.on", Value(Bool), "false"),
                s("db.none", Null, ""),
                s("list[0]", Value(Str), "a"),
                s("list[1]", Value(Float), "1"),
                s("list[2].k", Value(Str), "v"),
                s("note_unencrypted", Value(Str), "plain"),
            ]
        );
        assert!(p.metadata.is_empty());
        assert_eq!(&text[p.leaves[0].span.clone()], "\"admin\"");
        assert_eq!(&text[p.leaves[4].span.clone()], "1.50");
        assert!(p.leaves.iter().all(|l| l.style.flow));
    }

    #[test]
    fn parses_the_sops_sample() {
        let text = sample("sops/basic.enc.json");
        let p = parse(&text);
        let paths: Vec<String> = p.leaves.iter().map(|l| l.path.to_string()).collect();
        assert_eq!(
            paths,
            [
                "db.user",
                "db.pass",
                "db.port",
                "db.big",
                "db.ratio",
                "db.on",
                "db.none",
                "list[0]",
                "list[1]",
                "list[2].k",
                "note_unencrypted"
            ]
        );
        assert_eq!(p.leaves[2].kind, LeafKind::Value(ValueType::Str));
        assert!(p.leaves[2].value.expose().ends_with("type:float]"));
        let tree = p.metadata_tree().unwrap();
        assert_eq!(tree["lastmodified"], "2026-11-29T16:35:46Z");
        assert_eq!(tree["version"], "3.11.0");
        assert_eq!(tree["unencrypted_suffix"], "_unencrypted");
        let enc = tree["age"][0]["enc"].as_str().unwrap();
        assert!(enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\nYWdl"));
        assert!(enc.ends_with("-----END AGE ENCRYPTED FILE-----\n"));
        let keys: Vec<&String> = tree.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "age",
                "lastmodified",
                "mac",
                "unencrypted_suffix",
                "version"
            ]
        );
        // The block is the last member: it takes the comma before it.
        let span = p.metadata[0].span.clone();
        assert!(text[span.clone()].starts_with(",\n\t\"sops\": {"));
        assert_eq!(&text[span.end..], "\n}\n");
    }

    #[test]
    fn sops_sample_values_decrypt_with_our_paths() {
        let key = "951a93422fed3fa3d8f7b8c42d2ff3c716bfd6ed36dc04a43ec2a46933b27909";
        let text = sample("sops/basic.enc.json");
        let p = parse(&text);
        let mut got = Vec::new();
        for l in &p.leaves {
            let v = l.value.expose();
            if v.starts_with("ENC[") {
                let plain = crate::format::testutil::sops_decrypt(v, key, &l.path.aad())
                    .map(|(p, _)| p)
                    .unwrap_or_else(|| panic!("{} does not decrypt", l.path));
                got.push((l.path.aad(), plain));
            }
        }
        let want: Vec<(String, String)> = [
            ("db:user:", "admin"),
            ("db:pass:", "s3cret"),
            ("db:port:", "5432"),
            ("db:big:", "12345678901234567000"),
            ("db:ratio:", "1.5"),
            ("db:on:", "False"),
            ("list:", "a"),
            ("list:", "1"),
            ("list:k:", "v"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn encrypting_every_leaf_changes_only_the_spans() {
        let text = sample("sops/basic.json");
        let out = encrypt_all(&text);
        let before = parse(&text);
        let after = parse(&out);
        assert_eq!(before.leaves.len(), after.leaves.len());
        let mut shift: isize = 0;
        let mut at_in = 0;
        for (b, a) in before.leaves.iter().zip(&after.leaves) {
            assert_eq!(b.path, a.path);
            let start_out = (b.span.start as isize + shift) as usize;
            // Everything between spans is byte-identical.
            assert_eq!(
                &text[at_in..b.span.start],
                &out[(at_in as isize + shift) as usize..start_out]
            );
            assert_eq!(a.span.start, start_out);
            if b.kind == LeafKind::Null {
                assert_eq!(a.kind, LeafKind::Null);
            } else {
                assert_eq!(a.kind, LeafKind::Value(ValueType::Str));
                assert_eq!(a.value.expose(), ENC);
            }
            shift += a.span.len() as isize - b.span.len() as isize;
            at_in = b.span.end;
        }
        assert_eq!(&text[at_in..], &out[(at_in as isize + shift) as usize..]);
        assert!(out.contains("\"port\": \"ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\""));
    }

    #[test]
    fn renders_plain_values_back() {
        let text = "{\"a\": 1}";
        let p = parse(text);
        let leaf = &p.leaves[0];
        let r = |w: Replacement<'_>| Json.render(text, leaf, &w).unwrap();
        assert_eq!(
            r(Replacement::Value(ValueType::Str, "a\"b\\c\nd\te\u{1}é")),
            "\"a\\\"b\\\\c\\nd\\te\\u0001é\""
        );
        assert_eq!(r(Replacement::Value(ValueType::Float, "1.50")), "1.50");
        assert_eq!(
            r(Replacement::Value(ValueType::Float, "12345678901234567890")),
            "12345678901234567890"
        );
        assert_eq!(r(Replacement::Value(ValueType::Int, "-3")), "-3");
        assert_eq!(r(Replacement::Value(ValueType::Float, ".inf")), "\".inf\"");
        assert_eq!(r(Replacement::Value(ValueType::Int, "0x1F")), "\"0x1F\"");
        assert_eq!(r(Replacement::Value(ValueType::Bool, "False")), "false");
        assert_eq!(r(Replacement::Value(ValueType::Bool, "true")), "true");
        assert_eq!(
            r(Replacement::Value(ValueType::Time, "2024-01-02T00:00:00Z")),
            "\"2024-01-02T00:00:00Z\""
        );
        assert!(Json.render(text, leaf, &Replacement::Comment("x")).is_err());
        let e = Json
            .render(
                text,
                leaf,
                &Replacement::Value(ValueType::Bool, "secretword"),
            )
            .unwrap_err()
            .to_string();
        assert!(!e.contains("secretword"), "{e}");
        // Each rendering re-parses to the same type and value.
        for (ty, v, kind) in [
            (
                ValueType::Str,
                "multi\nline \u{7f} ✓ \"q\"",
                LeafKind::Value(ValueType::Str),
            ),
            (
                ValueType::Float,
                "-0.5e+10",
                LeafKind::Value(ValueType::Float),
            ),
            (ValueType::Bool, "true", LeafKind::Value(ValueType::Bool)),
        ] {
            let rendered = r(Replacement::Value(ty, v));
            let doc = format!("{{\"a\": {rendered}}}");
            let back = parse(&doc);
            assert_eq!(back.leaves[0].kind, kind);
            assert_eq!(back.leaves[0].value.expose(), v);
        }
    }

    #[test]
    fn metadata_member_matches_sops_bytes() {
        let text = sample("sops/basic.enc.json");
        let p = parse(&text);
        let tree = p.metadata_tree().unwrap().clone();
        let stripped = with_meta(&text, None);
        assert!(!stripped.contains("sops"));
        assert!(stripped.ends_with("\"note_unencrypted\": \"plain\"\n}\n"));
        // Re-adding the same tree gives sops' own bytes back.
        assert_eq!(with_meta(&stripped, Some(&tree)), text);
        // Replacing in place too.
        assert_eq!(with_meta(&text, Some(&tree)), text);
    }

    #[test]
    fn removes_the_member_from_any_position() {
        let cases = [
            (
                "{\n\t\"a\": 1,\n\t\"sops\": {\"x\": 1},\n\t\"b\": 2\n}\n",
                "{\n\t\"a\": 1,\n\t\"b\": 2\n}\n",
            ),
            (
                "{\n  \"sops\": {\n    \"x\": 1\n  },\n  \"a\": 1\n}",
                "{\n  \"a\": 1\n}",
            ),
            (
                "{\n    \"a\": [1],\n    \"sops\": {}\n}\n",
                "{\n    \"a\": [1]\n}\n",
            ),
            ("{\"a\":1,\"sops\":{}}", "{\"a\":1}"),
            ("{\"sops\":{},\"a\":1}", "{\"a\":1}"),
            ("{\"sops\": {}}", "{}"),
            ("{\n\t\"sops\": {}\n}\n", "{\n}\n"),
            (
                "{\r\n\t\"a\": 1,\r\n\t\"sops\": {}\r\n}\r\n",
                "{\r\n\t\"a\": 1\r\n}\r\n",
            ),
        ];
        for (input, want) in cases {
            let out = with_meta(input, None);
            assert_eq!(out, want, "removing from {input:?}");
            assert!(parse(&out).metadata.is_empty());
        }
    }

    #[test]
    fn appends_with_the_file_layout_and_round_trips() {
        let tree = meta_tree();
        let cases = [
            ("{\n\t\"a\": 1\n}\n", "{\n\t\"a\": 1,\n\t\"sops\": {\n\t\t\"age\": [\n\t\t\t{\n\t\t\t\t\"recipient\": \"age1x\",\n"),
            ("{\n  \"a\": 1\n}", "{\n  \"a\": 1,\n  \"sops\": {\n    \"age\": [\n      {\n        \"recipient\": \"age1x\",\n"),
            ("{\n    \"a\": {\"b\": 2}\n}\n", "{\n    \"a\": {\"b\": 2},\n    \"sops\": {\n        \"age\": [\n"),
            ("{\"a\":1}", "{\"a\":1,\"sops\":{\"age\":[{\"recipient\":\"age1x\",\"enc\":\"-----BEGIN AGE ENCRYPTED FILE-----\\nYWJj\\n"),
            ("{\"a\": 1, \"b\": 2}\n", "{\"a\": 1, \"b\": 2, \"sops\": {\"age\": [{\"recipient\": \"age1x\", "),
            ("{}", "{\"sops\": {\"age\": [{"),
            ("{\n}\n", "{\n\t\"sops\": {\n\t\t\"age\": [\n"),
            ("{\r\n\t\"a\": 1\r\n}\r\n", "{\r\n\t\"a\": 1,\r\n\t\"sops\": {\r\n\t\t\"age\": [\r\n"),
        ];
        for (input, prefix) in cases {
            let out = with_meta(input, Some(&tree));
            assert!(
                out.starts_with(prefix),
                "appending to {input:?} gave {out:?}"
            );
            assert_eq!(out.ends_with('\n'), input.ends_with('\n'));
            let p = parse(&out);
            assert_eq!(p.metadata_tree(), Some(&tree));
            assert_eq!(summary(&p), summary(&parse(input)));
            // Replace with the same tree: no change; remove: the input back.
            assert_eq!(with_meta(&out, Some(&tree)), out);
            assert_eq!(with_meta(&out, None), input);
        }
        let pretty = with_meta("{\n\t\"a\": 1\n}\n", Some(&tree));
        assert!(
            pretty.contains("\"n\": [],\n\t\t\"o\": {}\n\t}\n}\n"),
            "{pretty}"
        );
    }

    #[test]
    fn replaces_an_existing_member_in_place() {
        let text = "{\n  \"sops\": {\"version\": \"1\"},\n  \"a\": \"x\"\n}\n";
        let tree = serde_json::json!({"version": "3.11.0", "mac": "m"});
        let out = with_meta(text, Some(&tree));
        assert_eq!(
            out,
            "{\n  \"sops\": {\n    \"version\": \"3.11.0\",\n    \"mac\": \"m\"\n  },\n  \"a\": \"x\"\n}\n"
        );
        assert_eq!(parse(&out).metadata_tree(), Some(&tree));
    }

    fn err_of(text: &str) -> FormatError {
        Json.parse(text).expect_err("must fail")
    }

    #[test]
    fn rejects_bad_input_with_positions_and_no_text() {
        let cases: &[(&str, usize, usize)] = &[
            ("{\"a\": \"secretvalue\",}", 1, 21),
            ("{\n\"a\": 01}", 2, 6),
            ("{\"a\": [1,]}", 1, 10),
            ("{\"a\": \"sec\u{1}ret\"}", 1, 11),
            ("{\"a\": \"secret\\x\"}", 1, 14),
            ("{\"a\": \"\\ud800secret\"}", 1, 8),
            ("{\"a\": \"\\udc00\"}", 1, 8),
            ("{\"a\": 1} secret", 1, 10),
            ("{\"a\": 1 // secret\n}", 1, 9),
            ("{\"a\": secret}", 1, 7),
            ("{\"a\": tru}", 1, 7),
            ("{\"a\": \"secret", 1, 7),
            ("{\"a\": 1.}", 1, 7),
            ("{\"a\": -}", 1, 7),
            ("{\"a\": 1e}", 1, 7),
            ("{'a': 1}", 1, 2),
            ("", 1, 1),
            ("\u{feff}{}", 1, 1),
            ("{\n  \"a\": [\n", 3, 1),
        ];
        for (text, line, column) in cases {
            match err_of(text) {
                FormatError::Syntax {
                    line: l,
                    column: c,
                    reason,
                    ..
                } => {
                    assert_eq!((l, c), (*line, *column), "{text:?}: {reason}");
                    assert!(!reason.contains("secret"));
                }
                other => panic!("{text:?}: {other:?}"),
            }
            assert!(!err_of(text).to_string().contains("secret"));
        }
        match err_of("{\"a\": {\"b\": 1,\n \"b\": 2}}") {
            FormatError::DuplicateKey { path, line } => {
                assert_eq!(path.to_string(), "a.b");
                assert_eq!(line, 2);
            }
            other => panic!("{other:?}"),
        }
        for top in ["[1]", "\"s\"", "3", "null", "true"] {
            assert!(
                matches!(err_of(top), FormatError::Unsupported { .. }),
                "{top}"
            );
        }
        let deep = format!("{{\"a\": {}{}}}", "[".repeat(600), "]".repeat(600));
        assert!(matches!(err_of(&deep), FormatError::Syntax { .. }));
        let ok = format!("{{\"a\": {}{}}}", "[".repeat(500), "]".repeat(500));
        assert!(Json.parse(&ok).is_ok());
    }

    #[test]
    fn decodes_escapes_and_surrogates() {
        let p = parse(r#"{"k\"ey": "\u00e9\ud83d\ude00\/\b\f\r\n\t", "sops2": {"sops": 1}}"#);
        assert_eq!(p.leaves[0].path.segments(), &[Segment::Key("k\"ey".into())]);
        assert_eq!(p.leaves[0].value.expose(), "é😀/\u{8}\u{c}\r\n\t");
        // Only the top-level `sops` is metadata.
        assert_eq!(p.leaves[1].path.to_string(), "sops2.sops");
        assert!(p.metadata.is_empty());
        let nested = parse(r#"{"a": {"sops": "x"}}"#);
        assert_eq!(nested.leaves.len(), 1);
        assert!(nested.metadata.is_empty());
    }

    // ---- proptest: generated documents survive parse -> splice -> parse.

    #[derive(Debug, Clone)]
    pub(crate) enum J {
        Str(String),
        Num(String),
        Bool(bool),
        Null,
        Arr(Vec<J>),
        Obj(Vec<(String, J)>),
    }

    pub(crate) fn j() -> impl Strategy<Value = J> {
        let leaf = prop_oneof![
            "[a-zA-Z0-9 \"\\\\\n\t\u{1}é😀/]{0,8}".prop_map(J::Str),
            "-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,3})?([eE][+-]?[0-9]{1,2})?".prop_map(J::Num),
            any::<bool>().prop_map(J::Bool),
            Just(J::Null),
        ];
        leaf.prop_recursive(4, 32, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(J::Arr),
                prop::collection::vec(("[a-z\"é]{0,4}", inner), 0..5).prop_map(|kv| {
                    let mut seen = HashSet::new();
                    J::Obj(
                        kv.into_iter()
                            .filter(|(k, _)| seen.insert(k.clone()))
                            .collect(),
                    )
                }),
            ]
        })
    }

    pub(crate) fn write(v: &J, ws: &str, out: &mut String) {
        match v {
            J::Str(s) => out.push_str(&quote(s)),
            J::Num(n) => out.push_str(n),
            J::Bool(b) => out.push_str(&b.to_string()),
            J::Null => out.push_str("null"),
            J::Arr(items) => {
                out.push('[');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(ws);
                    write(x, ws, out);
                }
                out.push_str(ws);
                out.push(']');
            }
            J::Obj(kv) => {
                out.push('{');
                for (i, (k, x)) in kv.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(ws);
                    out.push_str(&quote(k));
                    out.push_str(ws);
                    out.push(':');
                    write(x, ws, out);
                }
                out.push_str(ws);
                out.push('}');
            }
        }
    }

    fn count_leaves(v: &J) -> usize {
        match v {
            J::Arr(items) => items.iter().map(count_leaves).sum(),
            J::Obj(kv) => kv.iter().map(|(_, x)| count_leaves(x)).sum(),
            _ => 1,
        }
    }

    proptest! {
        #[test]
        fn generated_documents_round_trip(
            members in prop::collection::vec(("[a-z]{1,3}", j()), 0..6),
            ws in prop_oneof![Just(""), Just(" "), Just("\n\t"), Just("\r\n  ")],
            with_sops in any::<bool>(),
        ) {
            let mut seen = HashSet::new();
            let members: Vec<(String, J)> =
                members.into_iter().filter(|(k, _)| seen.insert(k.clone())).collect();
            let obj = J::Obj(members.clone());
            let mut text = String::new();
            write(&obj, ws, &mut text);
            let p = Json.parse(&text).unwrap();
            prop_assert_eq!(p.leaves.len(), members.iter().map(|(_, x)| count_leaves(x)).sum::<usize>());
            // Values agree with serde_json's reading of the same text.
            let sj: serde_json::Value = serde_json::from_str(&text).unwrap();
            for l in &p.leaves {
                let mut v = &sj;
                for s in l.path.segments() {
                    v = match s { Segment::Key(k) => &v[k.as_str()], Segment::Index(i) => &v[*i] };
                }
                match l.kind {
                    LeafKind::Value(ValueType::Str) => prop_assert_eq!(v.as_str(), Some(l.value.expose())),
                    LeafKind::Value(ValueType::Float) => {
                        // serde_json respells exponents (`0E0` -> `0e+0`).
                        let ours: f64 = l.value.expose().parse().unwrap();
                        prop_assert_eq!(v.to_string().parse::<f64>().unwrap(), ours);
                    }
                    LeafKind::Value(ValueType::Bool) => prop_assert_eq!(v.to_string(), l.value.expose()),
                    LeafKind::Null => prop_assert!(v.is_null()),
                    _ => prop_assert!(false),
                }
            }
            let enc = encrypt_all(&text);
            let q = Json.parse(&enc).unwrap();
            prop_assert_eq!(p.leaves.len(), q.leaves.len());
            for (a, b) in p.leaves.iter().zip(&q.leaves) {
                prop_assert_eq!(&a.path, &b.path);
                if a.kind == LeafKind::Null {
                    prop_assert_eq!(b.kind, LeafKind::Null);
                } else {
                    prop_assert_eq!(b.value.expose(), ENC);
                }
            }
            // Plain values rendered back give the original text.
            let mut back: Vec<Splice> = q.leaves.iter().zip(&p.leaves)
                .filter(|(_, a)| a.kind != LeafKind::Null)
                .map(|(b, a)| {
                    let LeafKind::Value(ty) = a.kind else { unreachable!() };
                    Splice { range: b.span.clone(), text: Json.render(&enc, b, &Replacement::Value(ty, a.value.expose())).unwrap() }
                })
                .collect();
            prop_assert_eq!(apply_splices(&enc, &mut back).unwrap(), text.clone());
            if with_sops {
                let tree = meta_tree();
                let added = with_meta(&text, Some(&tree));
                let r = Json.parse(&added).unwrap();
                prop_assert_eq!(r.metadata_tree(), Some(&tree));
                prop_assert_eq!(summary(&r), summary(&p));
                prop_assert_eq!(with_meta(&added, None), text);
            }
        }

        #[test]
        fn arbitrary_input_never_panics(s in "[{}\\[\\]\",:0-9a-z\\\\ \n.eE+-é😀\u{1}]{0,40}") {
            let _ = Json.parse(&s);
            let t = format!("{{\"a\":{s}}}");
            let _ = Json.parse(&t);
        }
    }
}

#[cfg(test)]
mod edit_tests {
    use super::*;
    use crate::format::edit_testing::{insert, remove, remove_insert_round_trip};
    use proptest::prelude::*;

    const DOC: &str = "{\n  \"db\": {\n    \"user\": \"admin\",\n    \"port\": 5432\n  },\n  \"list\": [1, {\"k\": \"v\"}, 3],\n  \"empty\": {},\n  \"sops\": {\"version\": \"3.11.0\"}\n}\n";

    #[test]
    fn inserts_members_in_the_file_layout() {
        let s = ValueType::Str;
        assert_eq!(
            insert(&Json, DOC, "db.pass", s, "p\"w"),
            DOC.replace("5432\n", "5432,\n    \"pass\": \"p\\\"w\"\n")
        );
        assert_eq!(
            insert(&Json, DOC, "top", ValueType::Float, "1.50"),
            DOC.replace("\"3.11.0\"}\n", "\"3.11.0\"},\n  \"top\": 1.50\n")
        );
        assert_eq!(
            insert(&Json, DOC, "a.b.c", ValueType::Bool, "true"),
            DOC.replace(
                "\"3.11.0\"}\n",
                "\"3.11.0\"},\n  \"a\": {\n    \"b\": {\n      \"c\": true\n    }\n  }\n"
            )
        );
        assert_eq!(
            insert(&Json, DOC, "empty.x", s, "1"),
            DOC.replace("\"empty\": {}", "\"empty\": {\"x\": \"1\"}")
        );
        assert_eq!(
            insert(&Json, "{\"a\":1}", "b.c", s, "x"),
            "{\"a\":1,\"b\":{\"c\":\"x\"}}"
        );
        assert_eq!(insert(&Json, "{}", "b", s, "x"), "{\"b\": \"x\"}");
        assert_eq!(
            insert(&Json, "{\r\n}\r\n", "b", s, "x"),
            "{\r\n\t\"b\": \"x\"\r\n}\r\n"
        );
        assert_eq!(
            insert(&Json, "{\r\n\t\"a\": {\r\n\t}\r\n}", "a.b", s, "x"),
            "{\r\n\t\"a\": {\r\n\t\t\"b\": \"x\"\r\n\t}\r\n}"
        );
    }

    #[test]
    fn removes_members_items_and_subtrees() {
        assert_eq!(
            remove(&Json, DOC, "db.port"),
            DOC.replace(",\n    \"port\": 5432", "")
        );
        assert_eq!(
            remove(&Json, DOC, "db.user"),
            DOC.replace("\"user\": \"admin\",\n    ", "")
        );
        assert_eq!(
            remove(&Json, DOC, "db"),
            DOC.replace(
                "\"db\": {\n    \"user\": \"admin\",\n    \"port\": 5432\n  },\n  ",
                ""
            )
        );
        assert_eq!(
            remove(&Json, DOC, "list[1]"),
            DOC.replace("[1, {\"k\": \"v\"}, 3]", "[1, 3]")
        );
        assert_eq!(
            remove(&Json, DOC, "list[2]"),
            DOC.replace("[1, {\"k\": \"v\"}, 3]", "[1, {\"k\": \"v\"}]")
        );
        assert_eq!(
            remove(&Json, DOC, "list[1].k"),
            DOC.replace("{\"k\": \"v\"}", "{}")
        );
        let once = remove(&Json, DOC, "db.port");
        let twice = remove(&Json, &once, "db.user");
        assert_eq!(
            twice,
            DOC.replace("{\n    \"user\": \"admin\",\n    \"port\": 5432\n  }", "{}")
        );
        assert_eq!(remove(&Json, "{\"a\": 1}", "a"), "{}");
    }

    #[test]
    fn errors_name_paths_not_values() {
        let p = Json.parse(DOC).unwrap();
        for path in ["list.x", "db.user.x", "db.user", "sops.x", "list[0].x"] {
            let e = Json
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
        for bad in ["nope", "list[3]", "db.user.x", "sops", "list.k"] {
            let e = Json
                .remove(DOC, &p, &KeyPath::parse(bad).unwrap())
                .unwrap_err();
            assert!(matches!(e, FormatError::PathNotFound(_)), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn remove_then_insert_keeps_values(
            members in prop::collection::vec(("[a-z]{1,3}", tests::j()), 0..6),
            ws in prop_oneof![Just(""), Just(" "), Just("\n\t"), Just("\r\n  ")],
        ) {
            let mut seen = HashSet::new();
            let members: Vec<(String, tests::J)> =
                members.into_iter().filter(|(k, _)| seen.insert(k.clone())).collect();
            let mut text = String::new();
            tests::write(&tests::J::Obj(members), ws, &mut text);
            if let Err(e) = remove_insert_round_trip(&Json, &text) {
                prop_assert!(false, "{}", e);
            }
        }
    }
}
