//! Walks granit-parser events into leaves, metadata blocks, aliases and the
//! per-document layout facts the writer needs.
//!
//! Invariants: leaves come out in document order with non-overlapping
//! spans (checked; a violation is an internal error, never a bad splice);
//! nothing under a document's top-level `sops` key becomes a leaf; errors
//! carry positions and key paths only.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

use granit_parser::{Event, Placement, ScalarStyle, Span, StructureStyle, Tag};

pub(crate) use super::events::events;
use super::events::{Lookahead, SliceLookahead, Stream};
use super::resolve::{meta_scalar, resolve_plain, type_scalar, Resolved};
pub(crate) use crate::format::text::bom_len;
use crate::format::text::{floor_char_boundary, line_start_of};
use crate::format::{
    to_u32, AliasRef, FormatError, Leaf, LeafKind, LeafStyle, MetadataBlock, ParsedFile, ValueType,
};
use crate::path::KeyPath;
use crate::secret::{LeafText, SecretText, SharedText};

mod layout;
mod split;

const FORMAT: &str = "yaml";

/// Layout facts about one document, for appending metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DocInfo {
    /// End of the document's last content (metadata excluded).
    pub content_end: usize,
    /// Column of the top-level mapping's keys.
    pub top_indent: Option<usize>,
    /// The metadata block's span, if any.
    pub meta_span: Option<Range<usize>>,
    /// Where the root is a flow mapping (`{a: x}`), its start: a block
    /// `sops:` cannot be appended to it.
    pub flow_root: Option<usize>,
    /// The offset of a flow root's closing `}`: the metadata goes in
    /// before it, as one more flow entry.
    pub flow_root_end: Option<usize>,
}

/// Everything a parse yields.
pub(crate) struct Full<'a> {
    pub file: ParsedFile,
    pub docs: Vec<DocInfo>,
    /// Indentation step seen in the data (then in the metadata).
    pub step: Option<usize>,
    /// The events, for alias expansion.
    pub events: Vec<(Event<'a>, Span)>,
    /// Anchor id -> range of event indices of the anchored node.
    pub anchor_events: HashMap<usize, Range<usize>>,
    /// Alias span -> (anchor id).
    pub alias_tokens: Vec<(Range<usize>, usize)>,
}

/// Byte offset -> 0-based column in characters (a leading byte order mark
/// is not a column: `\u{feff}a: x` has `a` at column 0).
pub(crate) fn col_of(text: &str, off: usize) -> usize {
    let off = floor_char_boundary(text, off);
    text[line_start(text, off)..off].chars().count()
}

/// The column where the block mapping entry whose key scalar starts at
/// `off` begins: the key's own column, or that of the properties (`&a`,
/// `!!str`) or explicit-key indicator (`? `) before it on its line. The
/// mapping's indentation is that column, not the scalar's (the metadata
/// written at the scalar's column would not parse).
fn key_col(text: &str, off: usize) -> usize {
    let off = floor_char_boundary(text, off);
    let prefix = &text[line_start(text, off)..off];
    // Most keys have only indentation before them: the column is its
    // length (one scan of the line, not three).
    if prefix.bytes().all(|b| b == b' ') {
        return prefix.len();
    }
    let kcol = prefix.chars().count();
    // Past the indentation and any `- ` of compact sequence entries.
    let mut rest = prefix.trim_start_matches(' ');
    while let Some(r) = rest.strip_prefix('-') {
        if !r.starts_with([' ', '\t']) {
            break;
        }
        rest = r.trim_start_matches([' ', '\t']);
    }
    if rest.starts_with(['&', '!', '?']) {
        kcol - rest.chars().count()
    } else {
        kcol
    }
}

/// The end of a clipped or stripped block scalar's span `..e` without the
/// blank lines after its content, which the parser counts in: they are
/// layout (the blank line after each `run: |` step of a workflow), and a
/// replacement must not eat them. A kept (`|+`) scalar's blank lines are
/// its value; with an explicit indentation indicator, or no content line,
/// the span stays as it is. A line of spaces deeper than the content's
/// indentation is content, not blank.
fn trailing_blank_lines_out(text: &str, indicators: &str, header_end: usize, e: usize) -> usize {
    if indicators.contains(['+', '1', '2', '3', '4', '5', '6', '7', '8', '9']) || e <= header_end {
        return e;
    }
    let body = &text[header_end..e];
    let Some(indent) = body
        .split('\n')
        .find(|l| l.trim_end_matches('\r').bytes().any(|c| c != b' '))
        .map(|l| l.len() - l.trim_start_matches(' ').len())
    else {
        return e;
    };
    let mut end = e;
    while end > header_end {
        let start = line_start_of(text, end);
        if start <= header_end {
            break;
        }
        let line = text[start..end].trim_end_matches('\r');
        if line.bytes().any(|c| c != b' ') || line.len() > indent {
            break;
        }
        // Back over this blank line and the break before it.
        end = start - 1;
        if end > header_end && text.as_bytes()[end - 1] == b'\r' {
            end -= 1;
        }
    }
    end
}

/// Where the flow-mapping entry whose key starts at `key` begins, for its
/// removal: at the `,` that separates it from the entry before, else right
/// after the whitespace-free text before it (the `{`).
fn flow_entry_start(text: &str, key: usize) -> usize {
    let before = text[..key].trim_end();
    if before.ends_with(',') {
        before.len() - 1
    } else {
        before.len()
    }
}

fn line_of(text: &str, off: usize) -> usize {
    crate::format::line_col(text, off).0
}

/// Start of the line holding `off`; the first line starts after a byte
/// order mark, so that edits of it keep the mark.
pub(crate) fn line_start(text: &str, off: usize) -> usize {
    let off = floor_char_boundary(text, off);
    match line_start_of(text, off) {
        0 => bom_len(text).min(off),
        start => start,
    }
}

/// Offset after the line break ending the line that holds `off` (or the
/// text's end).
pub(crate) fn after_line(text: &str, off: usize) -> usize {
    let off = floor_char_boundary(text, off);
    text[off..].find('\n').map_or(text.len(), |i| off + i + 1)
}

fn range(span: &Span) -> Result<Range<usize>, FormatError> {
    span.byte_range()
        .ok_or(FormatError::Internal("parser event without byte offsets"))
}

struct Frame<'t> {
    path: KeyPath,
    flow: bool,
    is_map: bool,
    /// Key column (maps) or `-` column (sequences).
    indent: usize,
    indent_known: bool,
    /// Column of the key or `-` that owns this collection.
    owner_col: Option<usize>,
    /// Keys borrow the text unless they had escapes to decode (no
    /// allocation per key).
    pending_key: Option<(Cow<'t, str>, usize)>,
    keys: KeySet<'t>,
    next_index: usize,
    meta: bool,
    json: Option<serde_json::Value>,
    anchor: usize,
    leaf_lo: usize,
    event_lo: usize,
    /// Where the collection starts (its `{`/`[` for flow ones).
    start: usize,
}

/// The keys of one mapping, for the duplicate check: a short list scanned
/// in order (most mappings have a handful of keys; hashing each one cost
/// more than comparing), a hash set once it grows.
#[derive(Default)]
struct KeySet<'t> {
    few: Vec<Cow<'t, str>>,
    many: Option<HashSet<Cow<'t, str>>>,
}

impl<'t> KeySet<'t> {
    const FEW: usize = 16;

    /// Adds `key`; false (and no change) when it is already there. One
    /// lookup, not a `contains` then an `insert` (two hashes of each key
    /// of a large mapping).
    fn insert_new(&mut self, key: Cow<'t, str>) -> bool {
        if let Some(set) = &mut self.many {
            set.insert(key)
        } else if self.few.contains(&key) {
            false
        } else if self.few.len() < Self::FEW {
            self.few.push(key);
            true
        } else {
            let mut set: HashSet<Cow<'t, str>> = self.few.drain(..).collect();
            set.insert(key);
            self.many = Some(set);
            true
        }
    }

    fn is_empty(&self) -> bool {
        self.few.is_empty() && self.many.is_none()
    }

    fn len(&self) -> usize {
        self.many.as_ref().map_or(self.few.len(), HashSet::len)
    }

    fn contains(&self, key: &str) -> bool {
        match &self.many {
            Some(set) => set.contains(key),
            None => self.few.iter().any(|k| k == key),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Cow<'t, str>> {
        self.few.iter().chain(self.many.iter().flatten())
    }
}

impl Frame<'_> {
    fn child_path(&self) -> KeyPath {
        match &self.pending_key {
            Some((k, _)) if self.is_map => self.path.child_key(k.as_ref()),
            _ if self.is_map => self.path.clone(),
            _ => self.path.child_index(self.next_index),
        }
    }
    /// The column that owns the next value.
    fn owner(&self) -> usize {
        match &self.pending_key {
            Some((_, c)) if self.is_map => *c,
            _ => self.indent,
        }
    }
}

struct MetaState {
    start: usize,
    end: usize,
    key_col: usize,
    /// Depth of the root frame's stack when the value started.
    done: bool,
    tree: serde_json::Value,
    /// An entry of a flow root (`{..., sops: {...}}`): the span runs from
    /// the `,` before the key to the value's end, not by lines.
    flow: bool,
}

enum Node<'e, 't> {
    Scalar(&'e Cow<'t, str>, ScalarStyle, usize, Option<&'e Tag>),
    Start(bool, StructureStyle, usize),
    Alias(usize),
}

/// Parses `text` completely; [`Full::events`] is left empty (see
/// [`parse_full_with_events`]).
pub(crate) fn parse_full(text: &str) -> Result<Full<'_>, FormatError> {
    parse_full_in(text, None)
}

/// [`parse_full`] of `text`, which is `shared`'s text when given: the
/// leaves then hold their values as ranges of it where they can.
pub(crate) fn parse_full_in<'t>(
    text: &'t str,
    shared: Option<&'t SharedText>,
) -> Result<Full<'t>, FormatError> {
    // A large text in two halves on two threads, where that is sure to
    // give this very result (see `split`); else on this thread.
    if let Some(full) = split::parse_parallel(text, shared) {
        return Ok(full);
    }
    parse_one(text, shared)
}

/// [`parse_full_in`] on this thread only.
pub(crate) fn parse_one<'t>(
    text: &'t str,
    shared: Option<&'t SharedText>,
) -> Result<Full<'t>, FormatError> {
    let mut stream = Stream::new(text);
    let full = walk_stream(text, shared, &mut stream);
    if stream.declined() {
        // The fast source met something outside its subset: the walk so
        // far is void; granit reads the whole text again. The partial
        // result goes first, or a late decline would hold two parses.
        drop(full);
        return walk_stream(text, shared, &mut Stream::granit(text));
    }
    full
}

fn walk_stream<'a>(
    text: &'a str,
    shared: Option<&'a SharedText>,
    stream: &mut Stream<'a>,
) -> Result<Full<'a>, FormatError> {
    let mut w = Walker::new(text);
    w.shared = shared;
    let mut i = 0;
    while let Some((ev, span)) = stream.next()? {
        if let Err(e) = w.event(&ev, &span, i, stream) {
            // A syntax error anywhere wins over what the walker found, as
            // when the whole stream was read first.
            while stream.next()?.is_some() {}
            return Err(e);
        }
        i += 1;
    }
    w.finish(Vec::new())
}

/// Parses `text` completely, keeping the event stream (alias expansion
/// walks it).
pub(crate) fn parse_full_with_events(text: &str) -> Result<Full<'_>, FormatError> {
    let events = events(text)?;
    let mut w = Walker::new(text);
    for (i, (ev, span)) in events.iter().enumerate() {
        w.event(
            ev,
            span,
            i,
            &mut SliceLookahead {
                events: &events,
                at: i,
            },
        )?;
    }
    w.finish(events)
}

impl<'t> Walker<'t> {
    fn new(text: &'t str) -> Self {
        Walker {
            text,
            shared: None,
            leaves: Vec::new(),
            empties: Vec::new(),
            metadata: Vec::new(),
            aliases: Vec::new(),
            docs: Vec::new(),
            stack: Vec::new(),
            doc: None,
            meta: None,
            last_end: 0,
            last_flow_end: None,
            anchors: HashMap::new(),
            anchor_keys: HashSet::new(),
            anchor_events: HashMap::new(),
            alias_tokens: Vec::new(),
            step_data: None,
            step_meta: None,
            spare_keys: Vec::new(),
            keep_root_keys: false,
            root_keys: None,
        }
    }

    /// The result of walking every event.
    fn finish<'a>(mut self, events: Vec<(Event<'a>, Span)>) -> Result<Full<'a>, FormatError> {
        let w = &mut self;
        // A byte order mark is kept only as the file's first bytes; YAML
        // also allows one before a later document, where the appended
        // metadata would put it inside a document.
        let bom = bom_len(w.text);
        for (i, _) in w.text[bom..].match_indices('\u{feff}') {
            let at = bom + i;
            let inside = |r: &Range<usize>| r.start <= at && at < r.end;
            if !w.leaves.iter().any(|l| inside(&l.span))
                && !w.metadata.iter().any(|m| inside(&m.span))
            {
                return Err(
                    w.unsupported(at, "a byte order mark (U+FEFF) after the start of the file")
                );
            }
        }
        if w.docs.is_empty() {
            // A stream with only comments (or nothing) is one empty document.
            let end = w.leaves.iter().map(|l| l.span.end).max().unwrap_or(0);
            w.docs.push(DocInfo {
                content_end: end,
                top_indent: None,
                meta_span: None,
                flow_root: None,
                flow_root_end: None,
            });
        }
        let ndocs = w.docs.len();
        for leaf in &mut w.leaves {
            leaf.document = leaf.document.min(to_u32(ndocs - 1));
        }
        for empty in &mut w.empties {
            empty.document = empty.document.min(ndocs - 1);
        }
        for pair in w.leaves.windows(2) {
            if pair[1].span.start < pair[0].span.end {
                return Err(FormatError::Internal("overlapping leaves"));
            }
        }
        let step = w.step_data.or(w.step_meta);
        Ok(Full {
            file: ParsedFile {
                leaves: self.leaves,
                empties: self.empties,
                unsealed_empties: Vec::new(),
                metadata: self.metadata,
                aliases: self.aliases,
                documents: ndocs,
                yaml_layout: None,
            },
            docs: self.docs,
            step,
            anchor_events: self.anchor_events,
            alias_tokens: self.alias_tokens,
            events,
        })
    }
}

struct Walker<'t> {
    text: &'t str,
    /// `text` as shared by the leaves, when the caller gave it so: values
    /// that are slices of it are kept as ranges (see [`LeafText`]).
    shared: Option<&'t SharedText>,
    leaves: Vec<Leaf>,
    empties: Vec<crate::format::EmptyCollection>,
    metadata: Vec<MetadataBlock>,
    aliases: Vec<AliasRef>,
    docs: Vec<DocInfo>,
    stack: Vec<Frame<'t>>,
    /// Index of the open document.
    doc: Option<usize>,
    meta: Option<MetaState>,
    /// End of the last non-comment token.
    last_end: usize,
    last_flow_end: Option<(KeyPath, usize)>,
    /// Anchor id -> (leaf range, path), for aliases.
    anchors: HashMap<usize, (Range<usize>, KeyPath)>,
    /// Anchor ids defined on keys (or inside metadata).
    anchor_keys: HashSet<usize>,
    anchor_events: HashMap<usize, Range<usize>>,
    alias_tokens: Vec<(Range<usize>, usize)>,
    step_data: Option<usize>,
    step_meta: Option<usize>,
    /// Key lists of closed mappings, emptied, for the next ones: a list
    /// per mapping grew twice (two allocations) for five keys.
    spare_keys: Vec<Vec<Cow<'t, str>>>,
    /// Keep the keys of a closed root mapping in `root_keys` (a part of a
    /// parallel parse: its keys are checked against the other part's).
    keep_root_keys: bool,
    root_keys: Option<KeySet<'t>>,
}

impl<'t> Walker<'t> {
    fn unsupported(&self, off: usize, reason: &str) -> FormatError {
        FormatError::Unsupported {
            format: FORMAT,
            line: line_of(self.text, off),
            reason: reason.to_owned(),
        }
    }

    fn cur_doc(&self) -> usize {
        self.doc.unwrap_or(self.docs.len())
    }

    fn touch(&mut self, end: usize) {
        if self.meta.as_ref().is_some_and(|m| !m.done) {
            if let Some(m) = &mut self.meta {
                m.end = m.end.max(end);
            }
        } else if let Some(d) = self.doc.and_then(|d| self.docs.get_mut(d)) {
            d.content_end = d.content_end.max(end);
        }
    }

    fn event(
        &mut self,
        ev: &Event<'t>,
        span: &Span,
        i: usize,
        look: &mut dyn Lookahead,
    ) -> Result<(), FormatError> {
        if !matches!(
            ev,
            Event::Comment(..) | Event::MappingEnd | Event::SequenceEnd
        ) {
            self.last_flow_end = None;
        }
        match ev {
            Event::StreamStart | Event::StreamEnd | Event::Anchor(..) => {}
            Event::DocumentStart(..) => {
                let r = range(span)?;
                self.docs.push(DocInfo::default());
                self.doc = Some(self.docs.len() - 1);
                self.touch(r.end);
                self.stack.clear();
            }
            Event::DocumentEnd => {
                self.doc = None;
            }
            Event::Comment(body, placement) => self.comment(look, body, *placement, span)?,
            Event::Scalar(v, style, anchor, tag) => {
                self.node(i, Node::Scalar(v, *style, *anchor, tag.as_deref()), span)?
            }
            Event::MappingStart(style, anchor, _) => {
                self.node(i, Node::Start(true, *style, *anchor), span)?
            }
            Event::SequenceStart(style, anchor, _) => {
                self.node(i, Node::Start(false, *style, *anchor), span)?
            }
            Event::Alias(id) => self.node(i, Node::Alias(*id), span)?,
            Event::UnresolvedAlias(_) => {
                let r = range(span)?;
                return Err(self.unsupported(r.start, "alias to an unknown anchor"));
            }
            Event::MappingEnd | Event::SequenceEnd => self.end(i, span)?,
            _ => {}
        }
        Ok(())
    }

    fn comment(
        &mut self,
        look: &mut dyn Lookahead,
        body: &str,
        placement: Placement,
        span: &Span,
    ) -> Result<(), FormatError> {
        let r = range(span)?;
        let col = col_of(self.text, r.start);
        // Metadata comments are part of the block, never leaves.
        if let Some(m) = &mut self.meta {
            if !m.done && (placement == Placement::Right || col > m.key_col || r.start < m.end) {
                m.end = m.end.max(r.end);
                return Ok(());
            }
        }
        let (path, flow) = if self.stack.is_empty() {
            (KeyPath::root(), false)
        } else if placement == Placement::Right {
            match &self.last_flow_end {
                // COMPAT(sops): a comment after a flow collection belongs to it.
                Some((p, end)) if !self.text[*end..r.start].contains('\n') => (p.clone(), false),
                _ => {
                    let f = self.stack.last().expect("stack checked non-empty");
                    (f.path.clone(), f.flow)
                }
            }
        } else {
            let top = self.stack.last().expect("stack checked non-empty");
            let pending = if top.is_map {
                top.pending_key.is_some()
            } else {
                true
            };
            if !top.flow && pending && col > top.owner() && look.next_is_collection()? {
                // A head comment of the collection that follows.
                if top.meta || self.meta.as_ref().is_some_and(|m| !m.done) {
                    if let Some(m) = &mut self.meta {
                        m.end = m.end.max(r.end);
                    }
                    return Ok(());
                }
                (top.child_path(), false)
            } else {
                let f = self
                    .stack
                    .iter()
                    .rev()
                    .find(|f| f.flow || f.indent <= col)
                    .unwrap_or(&self.stack[0]);
                if f.meta {
                    if let Some(m) = &mut self.meta {
                        m.end = m.end.max(r.end);
                    }
                    return Ok(());
                }
                (f.path.clone(), f.flow)
            }
        };
        let document = self.cur_doc();
        self.leaves.push(Leaf {
            path,
            kind: LeafKind::Comment,
            value: LeafText::slice_or_copy(self.shared, body),
            span: r.clone(),
            style: LeafStyle {
                flow,
                indent: to_u32(col),
                block: false,
                empty_list: false,
            },
            document: to_u32(document),
        });
        self.touch(r.end);
        Ok(())
    }

    fn in_meta_value(&self) -> bool {
        self.meta.as_ref().is_some_and(|m| !m.done)
    }

    fn node(&mut self, ev_idx: usize, node: Node<'_, 't>, span: &Span) -> Result<(), FormatError> {
        let r = range(span)?;
        let Some(top) = self.stack.last() else {
            // The document's root node.
            return match node {
                Node::Start(true, style, anchor) => {
                    if style == StructureStyle::Flow {
                        if let Some(d) = self.doc.and_then(|d| self.docs.get_mut(d)) {
                            d.flow_root = Some(r.start);
                        }
                    }
                    self.push(
                        ev_idx,
                        true,
                        style,
                        anchor,
                        KeyPath::root(),
                        r.start,
                        None,
                        false,
                    );
                    Ok(())
                }
                Node::Scalar(v, ScalarStyle::Plain, 0, None)
                    if resolve_plain(v) == Resolved::Null =>
                {
                    Ok(())
                }
                _ => {
                    Err(self.unsupported(r.start, "the top level of a document must be a mapping"))
                }
            };
        };
        // A mapping key?
        if top.is_map && top.pending_key.is_none() {
            let key = match node {
                Node::Scalar(v, style, anchor, tag) => {
                    // COMPAT(sops): sops refuses a file with a key that is
                    // not a string (OpenAPI's `200:`) on both encrypt and
                    // decrypt ("Tree contains a non-string key").
                    if let Ok(ty) = type_scalar(v, style, tag) {
                        if ty != Resolved::Str {
                            let what = match ty {
                                Resolved::Null => "null",
                                Resolved::Bool(_) => "a boolean",
                                Resolved::Int(_) => "an integer",
                                Resolved::Float(_) => "a float",
                                Resolved::Time(_) => "a timestamp",
                                Resolved::Str => "a string",
                            };
                            return Err(self.unsupported(
                                r.start,
                                &format!("a mapping key that reads as {what}, not a string: sops cannot read such a file; quote the key (`'200':`)"),
                            ));
                        }
                    }
                    if anchor != 0 {
                        self.anchor_keys.insert(anchor);
                        self.anchors.insert(anchor, (0..0, KeyPath::root()));
                    }
                    match v {
                        Cow::Borrowed(s) => Cow::Borrowed(*s),
                        Cow::Owned(s) => Cow::Owned(s.clone()),
                    }
                }
                // SECURITY: the key would be the anchored value, which is
                // encrypted where it stands (sops writes its plaintext as
                // the key, in the clear).
                Node::Alias(_) => return Err(self.unsupported(r.start, "an alias (*name) as a mapping key: keys stay in the clear, so the anchored value would show as a key; write the key out")),
                Node::Start(..) => {
                    return Err(self.unsupported(r.start, "complex (non-scalar) mapping key"))
                }
            };
            let kcol = key_col(self.text, r.start);
            let top = self.stack.last_mut().expect("non-empty");
            if !top.indent_known && !top.flow {
                top.indent = kcol;
                top.indent_known = true;
            }
            if !top.keys.insert_new(key.clone()) {
                return Err(FormatError::DuplicateKey {
                    path: top.path.child_key(key),
                    line: line_of(self.text, r.start),
                });
            }
            let is_root = self.stack.len() == 1;
            let root_flow = self.stack[0].flow;
            if is_root && key == "sops" {
                let start = if root_flow {
                    flow_entry_start(self.text, r.start)
                } else {
                    line_start(self.text, r.start)
                };
                self.meta = Some(MetaState {
                    start,
                    end: r.end,
                    key_col: kcol,
                    done: false,
                    tree: serde_json::Value::Null,
                    flow: root_flow,
                });
            } else {
                self.touch(r.end);
            }
            if is_root {
                if let Some(d) = self.doc.and_then(|d| self.docs.get_mut(d)) {
                    d.top_indent.get_or_insert(kcol);
                }
            }
            self.last_end = r.end;
            self.stack.last_mut().expect("non-empty").pending_key = Some((key, kcol));
            return Ok(());
        }
        let meta = top.meta || self.in_meta_value() && self.stack.len() == 1;
        let path = top.child_path();
        let flow = top.flow;
        let owner = top.owner();
        let is_seq_item = !top.is_map;
        match node {
            Node::Scalar(v, style, anchor, tag) => {
                let v: &str = v;
                if meta {
                    let (vr, _) = self.scalar_span(v, style, &r)?;
                    let value = meta_scalar(v, style, tag);
                    self.meta_insert(value);
                    if let Some(m) = &mut self.meta {
                        m.end = m.end.max(vr.end);
                    }
                    if anchor != 0 {
                        self.anchor_keys.insert(anchor);
                    }
                    self.last_end = r.end;
                    self.advance();
                    if self.stack.len() == 1 {
                        self.finish_meta();
                    }
                    return Ok(());
                }
                // COMPAT(sops): sops writes comments inside a list as list
                // items `- ENC[...,type:comment]`; read them back as comments.
                if is_seq_item
                    && !flow
                    && style == ScalarStyle::Plain
                    && tag.is_none()
                    && anchor == 0
                    && v.starts_with("ENC[AES256_GCM,")
                    && v.ends_with(",type:comment]")
                {
                    if let Some(dash) = self.dash_before(r.start) {
                        let document = self.cur_doc();
                        self.leaves.push(Leaf {
                            path: self.stack.last().expect("non-empty").path.clone(),
                            kind: LeafKind::Comment,
                            value: LeafText::slice_or_copy(self.shared, v),
                            span: dash..r.end,
                            style: LeafStyle {
                                flow: false,
                                indent: to_u32(owner),
                                block: false,
                                empty_list: false,
                            },
                            document: to_u32(document),
                        });
                        self.touch(r.end);
                        self.last_end = r.end;
                        return Ok(());
                    }
                }
                let (mut vr, block) = self.scalar_span(v, style, &r)?;
                // A scalar that starts and ends on one line (by the
                // parser's line count) has no continuation line: no scan
                // of its bytes for a line break (1.3M instructions in each
                // half of a 10k-key decrypt's parse).
                if !flow && !block && span.start.line() != span.end.line() {
                    self.check_continuation(vr.clone(), owner)?;
                }
                // A tag that forces a non-string type is part of the value:
                // `!!int ENC[...]` would not parse. sops drops tags too.
                if tag.is_some_and(|t| {
                    t.handle() == "tag:yaml.org,2002:"
                        && matches!(t.suffix(), "int" | "float" | "bool" | "null" | "timestamp")
                }) {
                    if let Some(tr) = span.tag_span().and_then(|t| t.byte_range()) {
                        if tr.start < vr.start {
                            vr.start = tr.start;
                        }
                    }
                }
                let kind = match type_scalar(v, style, tag) {
                    Ok(k) => k,
                    Err(reason) => return Err(self.unsupported(r.start, reason)),
                };
                let (kind, value) = match kind {
                    Resolved::Null => (LeafKind::Null, LeafText::default()),
                    Resolved::Bool(b) => (
                        LeafKind::Value(ValueType::Bool),
                        SecretText::new(b.to_string()).into(),
                    ),
                    Resolved::Int(s) => (
                        LeafKind::Value(ValueType::Int),
                        LeafText::shared_if_same(self.shared, s, v),
                    ),
                    Resolved::Float(s) => (
                        LeafKind::Value(ValueType::Float),
                        LeafText::shared_if_same(self.shared, s, v),
                    ),
                    Resolved::Time(s) => (
                        LeafKind::Value(ValueType::Time),
                        LeafText::shared_if_same(self.shared, s, v),
                    ),
                    Resolved::Str if block && self.clipped_at_eof(&vr, v) => {
                        // A block scalar that ends the file without a line
                        // break still has its final one (unless stripped);
                        // the parser leaves it out after a blank-ish line.
                        (
                            LeafKind::Value(ValueType::Str),
                            SecretText::new(format!("{v}\n")).into(),
                        )
                    }
                    // Most values (every `ENC[...]`) are the scalar's text.
                    Resolved::Str => (
                        LeafKind::Value(ValueType::Str),
                        LeafText::slice_or_copy(self.shared, v),
                    ),
                };
                let idx = self.leaves.len();
                let document = self.cur_doc();
                // The path moves into the leaf; only an anchor keeps a copy
                // (a clone per leaf was three allocations a value).
                let anchor_path = (anchor != 0).then(|| path.clone());
                self.leaves.push(Leaf {
                    path,
                    kind,
                    value,
                    span: vr.clone(),
                    style: LeafStyle {
                        flow,
                        indent: to_u32(owner),
                        block,
                        empty_list: false,
                    },
                    document: to_u32(document),
                });
                if let Some(path) = anchor_path {
                    self.anchors.insert(anchor, (idx..idx + 1, path));
                    self.anchor_events.insert(anchor, ev_idx..ev_idx + 1);
                }
                // A kept (`|+`) block scalar's span can end in its own blank
                // lines; the content then runs to the end of that line, where
                // the line break left outside the span is.
                if block && self.text[..vr.end].ends_with('\n') {
                    self.touch(after_line(self.text, vr.end));
                } else {
                    self.touch(vr.end.max(r.start));
                }
                self.last_end = if block { vr.end } else { r.end };
                self.advance();
            }
            Node::Alias(id) => {
                if meta {
                    return Err(self.unsupported(r.start, "alias inside the sops metadata"));
                }
                if self.anchor_keys.contains(&id) {
                    return Err(self.unsupported(r.start, "an alias (*name) to a mapping key or to metadata: keys are not values; write the value out"));
                }
                let Some((target, target_path)) = self.anchors.get(&id).cloned() else {
                    return Err(self.unsupported(r.start, "alias to an anchor that is still open"));
                };
                let document = self.cur_doc();
                self.aliases.push(AliasRef {
                    path,
                    document,
                    position: self.leaves.len(),
                    target,
                    target_path,
                    span: r.clone(),
                });
                self.alias_tokens.push((r.clone(), id));
                self.touch(r.end);
                self.last_end = r.end;
                self.advance();
            }
            Node::Start(is_map, style, anchor) => {
                let owner_col = Some(owner);
                self.push(
                    ev_idx, is_map, style, anchor, path, r.start, owner_col, meta,
                );
                if style == StructureStyle::Flow {
                    self.last_end = r.end;
                }
                let _ = is_seq_item;
            }
        }
        Ok(())
    }

    /// Moves the top frame past the value just read.
    fn advance(&mut self) {
        if let Some(top) = self.stack.last_mut() {
            if top.is_map {
                top.pending_key = None;
            } else {
                top.next_index += 1;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        ev_idx: usize,
        is_map: bool,
        style: StructureStyle,
        anchor: usize,
        path: KeyPath,
        start: usize,
        owner_col: Option<usize>,
        meta: bool,
    ) {
        let flow = style == StructureStyle::Flow;
        let mut indent = col_of(self.text, start);
        let mut indent_known = flow;
        if !is_map && !flow {
            if let Some(d) = self
                .dash_before(start)
                .or_else(|| self.text[start..].starts_with('-').then_some(start))
            {
                indent = col_of(self.text, d);
                indent_known = true;
            } else {
                indent = indent.saturating_sub(1);
            }
            if let Some(o) = owner_col {
                if indent > o {
                    self.note_step(indent - o, meta);
                }
            }
        }
        self.stack.push(Frame {
            path,
            flow,
            is_map,
            indent,
            indent_known,
            owner_col,
            pending_key: None,
            keys: KeySet {
                few: self.spare_keys.pop().unwrap_or_default(),
                many: None,
            },
            next_index: 0,
            meta,
            json: meta.then(|| {
                if is_map {
                    serde_json::Value::Object(serde_json::Map::new())
                } else {
                    serde_json::Value::Array(Vec::new())
                }
            }),
            anchor,
            leaf_lo: self.leaves.len(),
            event_lo: ev_idx,
            start,
        });
        if meta && anchor != 0 {
            self.anchor_keys.insert(anchor);
        }
    }

    fn note_step(&mut self, d: usize, meta: bool) {
        let slot = if meta {
            &mut self.step_meta
        } else {
            &mut self.step_data
        };
        if slot.is_none() {
            *slot = Some(d);
        }
    }

    fn end(&mut self, ev_idx: usize, span: &Span) -> Result<(), FormatError> {
        let r = range(span)?;
        let Some(frame) = self.stack.pop() else {
            return Err(FormatError::Internal("unbalanced collection end"));
        };
        // Step detection from nested block mappings.
        if frame.is_map && !frame.flow && frame.indent_known {
            if let Some(o) = frame.owner_col {
                if frame.indent > o
                    && !self.stack.is_empty()
                    && self.stack.last().is_some_and(|p| p.is_map)
                {
                    self.note_step(frame.indent - o, frame.meta);
                }
            }
        }
        // A flow collection in block context: its lines are indented below
        // the key or `-` that owns it (the parser lets that through).
        if frame.flow && self.stack.last().is_some_and(|p| !p.flow) {
            if let Some(owner) = frame.owner_col {
                self.check_continuation(frame.start..r.end, owner)?;
            }
        }
        if frame.flow && frame.path.is_root() && self.stack.is_empty() {
            if let Some(d) = self.doc.and_then(|d| self.docs.get_mut(d)) {
                d.flow_root_end = Some(r.start);
            }
        }
        if frame.flow {
            self.touch(r.end);
            self.last_end = r.end;
            if !frame.meta {
                self.last_flow_end = Some((frame.path.clone(), r.end));
            } else if let Some(m) = &mut self.meta {
                m.end = m.end.max(r.end);
            }
        }
        let empty = if frame.is_map {
            frame.keys.is_empty()
        } else {
            frame.next_index == 0
        };
        // COMPAT(sops): `k: [] # c` comes from sops as a list whose only
        // items are `- ENC[...,type:comment]`: no value, but still a list.
        let only_comments = !frame.is_map
            && !frame.flow
            && empty
            && self.leaves[frame.leaf_lo..]
                .iter()
                .any(|l| l.kind == LeafKind::Comment && l.path == frame.path);
        if only_comments {
            if let Some(first) = self.leaves[frame.leaf_lo..].iter_mut().find(|l| {
                l.kind == LeafKind::Comment
                    && l.path == frame.path
                    && self.text[l.span.clone()].starts_with('-')
            }) {
                first.style.empty_list = true;
            }
        }
        if empty && !frame.meta && !frame.path.is_root() {
            self.empties.push(crate::format::EmptyCollection {
                path: frame.path.clone(),
                document: self.cur_doc(),
                position: self.leaves.len(),
                is_map: frame.is_map,
            });
        }
        if frame.anchor != 0 && !frame.meta {
            self.anchors.insert(
                frame.anchor,
                (frame.leaf_lo..self.leaves.len(), frame.path.clone()),
            );
            self.anchor_events
                .insert(frame.anchor, frame.event_lo..ev_idx + 1);
        }
        if self.keep_root_keys && self.stack.is_empty() && frame.is_map {
            self.root_keys = Some(frame.keys);
        } else {
            let mut few = frame.keys.few;
            if few.capacity() > 0 {
                few.clear();
                self.spare_keys.push(few);
            }
        }
        if frame.meta {
            if let Some(json) = frame.json {
                self.meta_insert(json);
            }
            self.advance();
            if self.stack.len() == 1 {
                self.finish_meta();
            }
        } else if !self.stack.is_empty() {
            self.advance();
        }
        Ok(())
    }
}
