//! A hand-written event source for the common subset of block YAML: block
//! mappings and sequences, one-line plain and quoted scalars, literal block
//! scalars, comments, `---` and `...`. It yields exactly the `(Event,
//! Span)` sequence granit-parser yields for the same text (positions,
//! comment placements, indentation hints), at a fraction of the cost per
//! byte; on anything outside the subset it declines, and the caller reads
//! the whole text with granit instead. The differential test in
//! `fast/tests.rs` holds it to granit's output.
//!
//! Erring towards declining is the design: a decline costs only speed, a
//! wrong event a wrong splice. Flow collections other than the empty
//! `[]` and `{}` sops writes, tabs, carriage returns, control and
//! non-printable characters, anchors, aliases, tags,
//! folded or indented block scalars, multi-line flow scalars, directives,
//! explicit keys, empty sequence entries and empty documents all decline.

use std::borrow::Cow;
use std::collections::VecDeque;

use granit_parser::{Event, Marker, Placement, ScalarStyle, Span, StructureStyle};

/// The text is outside the subset; read it with granit.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Declined;

/// A decline; tests learn which rule declined (the source line).
macro_rules! declined {
    () => {{
        #[cfg(test)]
        tests::LAST_DECLINE.with(|c| c.set(line!()));
        Declined
    }};
}

type Ev<'a> = (Event<'a>, Span);
type R<T> = Result<T, Declined>;

/// granit stops with an error after this many comments in a row
/// (`Options::max_buffered_comment_events` is 96); long runs decline.
const MAX_COMMENT_RUN: usize = 64;
/// granit's simple-key lookahead is 1024 characters.
const MAX_KEY_LEN: usize = 1000;
/// granit refuses more than 255 nested block collections.
const MAX_DEPTH: usize = 200;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Map,
    Seq,
}

struct Level {
    kind: Kind,
    /// Column of the keys or dashes.
    indent: usize,
    /// A sequence at its parent key's column (`a:\n- x`).
    indentless: bool,
}

#[derive(Clone, Copy)]
struct Line {
    start: usize,
    /// Offset of the line break, or the text's end.
    end: usize,
    /// 1-based.
    no: usize,
    /// Character index of `start`.
    char0: usize,
    ascii: bool,
}

#[derive(PartialEq, Eq)]
enum Doc {
    /// Before any document (only comments and blank lines so far).
    None,
    /// Open; `rooted` once its root collection started.
    Open {
        rooted: bool,
    },
    /// Closed by `...`: only comments, blank lines or `---` may follow.
    Ended,
    Done,
}

/// A comment waiting for the next token (its placement depends on the
/// line of that token, and an empty value before it comes first).
struct Pending<'a> {
    body: &'a str,
    span: Span,
    line: usize,
    right: bool,
}

/// The fast event source; see the module docs.
pub(super) struct Fast<'a> {
    text: &'a str,
    bytes: &'a [u8],
    ascii: bool,
    /// The next unread line.
    pos: usize,
    line_no: usize,
    char0: usize,
    /// The last line, when the text does not end with a line break.
    last: Option<Line>,
    out: VecDeque<Ev<'a>>,
    comments: Vec<Pending<'a>>,
    stack: Vec<Level>,
    /// Offset of the `:` of a key whose value is not known yet.
    pending_key: Option<(Line, usize)>,
    doc: Doc,
    started: bool,
}

/// Non-ASCII characters granit refuses or treats specially (C1 controls,
/// NEL, line and paragraph separators, a byte order mark past the start,
/// non-characters). Control bytes are checked line by line.
fn unicode_ok(text: &str) -> bool {
    !text.chars().any(|c| {
        matches!(
            c,
            '\u{80}'..='\u{9f}' | '\u{feff}' | '\u{2028}' | '\u{2029}' | '\u{fffe}' | '\u{ffff}'
        )
    })
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Eight bytes at `i` (the caller checked the length).
#[inline(always)]
fn word(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(w)
}

/// The bytes of `x` equal to `c` flagged in their high bits; the lowest
/// flag is exact (a borrow only runs upwards), which is all we read.
#[inline(always)]
fn eq_mask(x: u64, c: u8) -> u64 {
    let v = x ^ (LO * u64::from(c));
    v.wrapping_sub(LO) & !v & HI
}

/// The bytes of `x` below 0x20 flagged (lowest flag exact).
#[inline(always)]
fn control_mask(x: u64) -> u64 {
    x.wrapping_sub(LO * 0x20) & !x & HI
}

/// The bytes of `x` below 0x20 or equal to 0x7f (DEL) flagged, where every
/// byte of `x` is ASCII: no sum carries into the next byte.
#[inline(always)]
fn ascii_control_mask(x: u64) -> u64 {
    (!(x + LO * 0x60) | (x + LO)) & HI
}

/// The offset of the line break ending the line from `from` (or the
/// text's end); a control character or DEL on the way declines. Eight
/// bytes a step: this and [`find_space`] are most of the scan.
fn line_end(b: &[u8], from: usize, ascii: bool) -> R<usize> {
    let mut i = from;
    while i + 8 <= b.len() {
        let x = word(b, i);
        let m = if ascii {
            ascii_control_mask(x)
        } else {
            control_mask(x) | eq_mask(x, 0x7f)
        };
        if m != 0 {
            let j = i + (m.trailing_zeros() / 8) as usize;
            return if b[j] == b'\n' {
                Ok(j)
            } else {
                Err(declined!())
            };
        }
        i += 8;
    }
    while i < b.len() {
        match b[i] {
            b'\n' => return Ok(i),
            c if c < 0x20 || c == 0x7f => return Err(declined!()),
            _ => i += 1,
        }
    }
    Ok(b.len())
}

/// The first space in `from..end`, else `end`.
fn find_space(b: &[u8], from: usize, end: usize) -> usize {
    let mut i = from;
    while i + 8 <= end {
        let m = eq_mask(word(b, i), b' ');
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < end && b[i] != b' ' {
        i += 1;
    }
    i
}

/// The first `:` or `#` in `from..end`, else `end`.
fn find_colon_hash(b: &[u8], from: usize, end: usize) -> usize {
    let mut i = from;
    while i + 8 <= end {
        let x = word(b, i);
        let m = eq_mask(x, b':') | eq_mask(x, b'#');
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < end && !matches!(b[i], b':' | b'#') {
        i += 1;
    }
    i
}

fn is_blank_line(s: &[u8]) -> bool {
    s.iter().all(|&c| c == b' ')
}

impl<'a> Fast<'a> {
    /// A source over `text`, or a decline when a check of the whole text
    /// already rules it out.
    pub(super) fn new(text: &'a str) -> R<Self> {
        let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let ascii = text.is_ascii();
        if !ascii && !unicode_ok(&text[bom..]) {
            return Err(declined!());
        }
        // A final line of only spaces without a line break: granit's
        // handling of it after block scalars is not worth copying.
        let tail = &text.as_bytes()[text.rfind('\n').map_or(bom, |i| i + 1)..];
        if !tail.is_empty() && is_blank_line(tail) {
            return Err(declined!());
        }
        Ok(Fast {
            text,
            bytes: text.as_bytes(),
            ascii,
            pos: bom,
            line_no: 1,
            char0: usize::from(bom > 0),
            last: None,
            out: VecDeque::new(),
            comments: Vec::new(),
            stack: Vec::new(),
            pending_key: None,
            doc: Doc::None,
            started: false,
        })
    }

    /// The next event, `None` after the stream's end.
    #[inline]
    pub(super) fn next_event(&mut self) -> R<Option<Ev<'a>>> {
        loop {
            if let Some(ev) = self.out.pop_front() {
                return Ok(Some(ev));
            }
            if self.doc == Doc::Done {
                return Ok(None);
            }
            self.step()?;
        }
    }

    fn cur_line(&self) -> R<Line> {
        let end = line_end(self.bytes, self.pos, self.ascii)?;
        Ok(Line {
            start: self.pos,
            end,
            no: self.line_no,
            char0: self.char0,
            ascii: self.ascii || self.text[self.pos..end].is_ascii(),
        })
    }

    fn advance(&mut self, l: &Line) {
        if l.end < self.bytes.len() {
            self.pos = l.end + 1;
            self.line_no += 1;
            self.char0 += self.chars(l, l.end) + 1;
        } else {
            self.pos = self.bytes.len();
            self.last = Some(*l);
        }
    }

    /// Characters from the line's start to `off`.
    #[inline]
    fn chars(&self, l: &Line, off: usize) -> usize {
        if l.ascii {
            off - l.start
        } else {
            self.text[l.start..off].chars().count()
        }
    }

    #[inline]
    fn mark(&self, l: &Line, off: usize) -> Marker {
        let col = self.chars(l, off);
        Marker::new(l.char0 + col, l.no, col).with_byte_offset(Some(off))
    }

    #[inline]
    fn span(&self, l: &Line, a: usize, b: usize) -> Span {
        Span::new(self.mark(l, a), self.mark(l, b))
    }

    fn eof_mark(&self) -> Marker {
        match &self.last {
            Some(l) => self.mark(l, self.bytes.len()),
            None => {
                Marker::new(self.char0, self.line_no, 0).with_byte_offset(Some(self.bytes.len()))
            }
        }
    }

    /// Queues a non-comment event after the buffered comments.
    #[inline]
    fn emit(&mut self, next_line: Option<usize>, ev: Event<'a>, span: Span) {
        if !self.comments.is_empty() {
            self.flush_placed(next_line);
        }
        self.out.push_back((ev, span));
    }

    /// Queues the buffered comments, placed against a next token on line
    /// `next` (`None`: the stream's end follows).
    fn flush_placed(&mut self, next: Option<usize>) {
        let comments = std::mem::take(&mut self.comments);
        let n = comments.len();
        let lines: Vec<usize> = comments.iter().map(|c| c.line).collect();
        for (i, c) in comments.into_iter().enumerate() {
            let placement = if c.right {
                Placement::Right
            } else {
                match if i + 1 < n { Some(lines[i + 1]) } else { next } {
                    None => Placement::Last,
                    Some(l) if l == c.line + 1 => Placement::Above,
                    Some(_) => Placement::Free,
                }
            };
            self.out
                .push_back((Event::Comment(Cow::Borrowed(c.body), placement), c.span));
        }
    }

    fn comment(&mut self, l: &Line, at: usize, right: bool) -> R<()> {
        if self.comments.len() >= MAX_COMMENT_RUN {
            return Err(declined!());
        }
        self.comments.push(Pending {
            body: &self.text[at + 1..l.end],
            span: self.span(l, at, l.end),
            line: l.no,
            right,
        });
        Ok(())
    }

    /// The empty value of a key with nothing after its `:` (before any
    /// comment that follows it).
    fn close_pending_key(&mut self) {
        if let Some((l, colon)) = self.pending_key.take() {
            let m = self.mark(&l, colon);
            self.out.push_back((
                Event::Scalar(Cow::Borrowed("~"), ScalarStyle::Plain, 0, None),
                Span::empty(m),
            ));
        }
    }

    /// Ends every open collection and the document at `m`, the position
    /// of the token on line `next` (or of the stream's end).
    fn end_document(&mut self, m: Marker, next: Option<usize>) -> R<()> {
        if self.doc == (Doc::Open { rooted: false }) {
            return Err(declined!());
        }
        self.close_pending_key();
        while let Some(level) = self.stack.pop() {
            let ev = match level.kind {
                Kind::Map => Event::MappingEnd,
                Kind::Seq => Event::SequenceEnd,
            };
            self.emit(next, ev, Span::empty(m));
        }
        Ok(())
    }

    fn step(&mut self) -> R<()> {
        if !self.started {
            self.started = true;
            let m = Marker::new(0, 1, 0).with_byte_offset(Some(0));
            self.out.push_back((Event::StreamStart, Span::empty(m)));
            return Ok(());
        }
        if self.pos >= self.bytes.len() {
            return self.finish();
        }
        let l = self.cur_line()?;
        let s = &self.bytes[l.start..l.end];
        let ind = s.iter().take_while(|&&c| c == b' ').count();
        if ind == s.len() {
            self.advance(&l);
            return Ok(());
        }
        let at = l.start + ind;
        if s[ind] == b'#' {
            self.comment(&l, at, false)?;
            self.advance(&l);
            return Ok(());
        }
        if ind == 0 && (s.starts_with(b"---") || s.starts_with(b"...")) {
            if s.len() > 3 && s[3] != b' ' {
                return Err(declined!());
            }
            let after = self.skip_spaces(&l, l.start + 3);
            if after < l.end && self.bytes[after] != b'#' {
                return Err(declined!());
            }
            let m = self.mark(&l, at);
            match self.doc {
                Doc::Open { .. } => {
                    self.end_document(m, Some(l.no))?;
                    if s[0] == b'-' {
                        self.emit(Some(l.no), Event::DocumentEnd, Span::empty(m));
                    }
                }
                Doc::None | Doc::Ended if s[0] == b'.' => return Err(declined!()),
                _ => {}
            }
            if s[0] == b'-' {
                let sp = self.span(&l, at, at + 3);
                self.emit(Some(l.no), Event::DocumentStart(true, None), sp);
                self.doc = Doc::Open { rooted: false };
            } else {
                let sp = self.span(&l, at, at + 3);
                self.emit(Some(l.no), Event::DocumentEnd, sp);
                self.doc = Doc::Ended;
            }
            if after < l.end {
                self.comment(&l, after, true)?;
            }
            self.advance(&l);
            return Ok(());
        }
        self.content(&l, ind)?;
        Ok(())
    }

    fn finish(&mut self) -> R<()> {
        let m = self.eof_mark();
        match self.doc {
            Doc::Open { .. } => {
                self.end_document(m, Some(m.line()))?;
                self.emit(Some(m.line()), Event::DocumentEnd, Span::empty(m));
            }
            Doc::Ended => {}
            Doc::None | Doc::Done => return Err(declined!()),
        }
        self.flush_placed(None);
        self.out.push_back((Event::StreamEnd, Span::empty(m)));
        self.doc = Doc::Done;
        Ok(())
    }

    fn skip_spaces(&self, l: &Line, mut p: usize) -> usize {
        while p < l.end && self.bytes[p] == b' ' {
            p += 1;
        }
        p
    }

    /// Whether a `-` at `p` is a sequence entry indicator.
    fn is_dash(&self, l: &Line, p: usize) -> bool {
        self.bytes[p] == b'-' && (p + 1 == l.end || self.bytes[p + 1] == b' ')
    }

    /// One line with content at column `ind`.
    fn content(&mut self, l: &Line, ind: usize) -> R<()> {
        let at = l.start + ind;
        let next = Some(l.no);
        let m = self.mark(l, at);
        match self.doc {
            Doc::None => {
                if ind != 0 {
                    return Err(declined!());
                }
                self.emit(next, Event::DocumentStart(false, None), Span::empty(m));
                self.doc = Doc::Open { rooted: false };
            }
            Doc::Ended | Doc::Done => return Err(declined!()),
            Doc::Open { .. } => {}
        }
        let dash = self.is_dash(l, at);
        if self.doc == (Doc::Open { rooted: false }) {
            if ind != 0 {
                return Err(declined!());
            }
            self.doc = Doc::Open { rooted: true };
            return self.open_collection(l, at, dash);
        }
        loop {
            let Some(top) = self.stack.last() else {
                // The root ended: more content would be a second root.
                return Err(declined!());
            };
            let (kind, indent, indentless) = (top.kind, top.indent, top.indentless);
            if ind < indent {
                self.close_pending_key();
                self.stack.pop();
                let ev = match kind {
                    Kind::Map => Event::MappingEnd,
                    Kind::Seq => Event::SequenceEnd,
                };
                self.emit(next, ev, Span::empty(m));
                continue;
            }
            if ind > indent {
                if kind == Kind::Map && self.pending_key.is_some() {
                    self.pending_key = None;
                    return self.open_collection(l, at, dash);
                }
                return Err(declined!());
            }
            match kind {
                Kind::Map if dash => {
                    if self.pending_key.take().is_none() || self.stack.len() >= MAX_DEPTH {
                        return Err(declined!());
                    }
                    // An indentless sequence starts at its first entry's
                    // content, not at the dash.
                    let item = self.skip_spaces(l, at + 1);
                    if item == l.end {
                        return Err(declined!());
                    }
                    self.stack.push(Level {
                        kind: Kind::Seq,
                        indent: ind,
                        indentless: true,
                    });
                    let sm = self.mark(l, item);
                    self.emit(
                        next,
                        Event::SequenceStart(StructureStyle::Block, 0, None),
                        Span::empty(sm),
                    );
                    return self.seq_entry(l, at);
                }
                Kind::Map => {
                    self.close_pending_key();
                    return self.map_entry(l, at);
                }
                Kind::Seq if dash => return self.seq_entry(l, at),
                Kind::Seq if indentless => {
                    self.stack.pop();
                    self.emit(next, Event::SequenceEnd, Span::empty(m));
                }
                Kind::Seq => return Err(declined!()),
            }
        }
    }

    /// A collection whose first entry is at `at` (a dash or a key).
    fn open_collection(&mut self, l: &Line, at: usize, dash: bool) -> R<()> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(declined!());
        }
        let m = self.mark(l, at);
        let col = m.col();
        if dash {
            self.stack.push(Level {
                kind: Kind::Seq,
                indent: col,
                indentless: false,
            });
            self.emit(
                Some(l.no),
                Event::SequenceStart(StructureStyle::Block, 0, None),
                Span::empty(m),
            );
            self.seq_entry(l, at)
        } else {
            self.stack.push(Level {
                kind: Kind::Map,
                indent: col,
                indentless: false,
            });
            self.emit(
                Some(l.no),
                Event::MappingStart(StructureStyle::Block, 0, None),
                Span::empty(m),
            );
            self.map_entry(l, at)
        }
    }

    /// A sequence entry whose dash is at `at`.
    fn seq_entry(&mut self, l: &Line, at: usize) -> R<()> {
        let item = self.skip_spaces(l, at + 1);
        if item == l.end || self.bytes[item] == b'#' {
            return Err(declined!());
        }
        let owner = self.mark(l, at).col();
        if self.is_dash(l, item) {
            return self.open_collection(l, item, true);
        }
        if self.key_end(l, item)?.is_some() {
            return self.open_collection(l, item, false);
        }
        self.value(l, item, owner)
    }

    /// Where the mapping key at `p` ends and its `:` is, if the text at
    /// `p` is a key.
    fn key_end(&self, l: &Line, p: usize) -> R<Option<(usize, usize)>> {
        let b = self.bytes;
        match b[p] {
            b'"' | b'\'' => {
                let (_, end) = self.quoted(l, p)?;
                if end < l.end && b[end] == b':' {
                    if end + 1 < l.end && b[end + 1] != b' ' {
                        return Err(declined!());
                    }
                    Ok(Some((end, end)))
                } else {
                    Ok(None)
                }
            }
            _ => {
                let mut i = find_colon_hash(b, p, l.end);
                while i < l.end {
                    match b[i] {
                        b':' if i + 1 == l.end || b[i + 1] == b' ' => {
                            if i == p || b[i - 1] == b' ' {
                                return Err(declined!());
                            }
                            return Ok(Some((i, i)));
                        }
                        b'#' if i > p && b[i - 1] == b' ' => return Ok(None),
                        _ => i = find_colon_hash(b, i + 1, l.end),
                    }
                }
                Ok(None)
            }
        }
    }

    /// A mapping entry whose key starts at `at`.
    fn map_entry(&mut self, l: &Line, at: usize) -> R<()> {
        let Some((kend, colon)) = self.key_end(l, at)? else {
            return Err(declined!());
        };
        let col = self.mark(l, at).col();
        let key = match self.bytes[at] {
            b'"' | b'\'' => self.quoted(l, at)?.0,
            _ => {
                self.plain_ok(l, at, kend)?;
                (Cow::Borrowed(&self.text[at..kend]), ScalarStyle::Plain)
            }
        };
        if kend - at > MAX_KEY_LEN {
            return Err(declined!());
        }
        let sp = self.span(l, at, kend).with_indent(Some(col));
        self.emit(Some(l.no), Event::Scalar(key.0, key.1, 0, None), sp);
        let v = self.skip_spaces(l, colon + 1);
        if v == l.end {
            self.pending_key = Some((*l, colon));
            self.advance(l);
            return Ok(());
        }
        if self.bytes[v] == b'#' {
            self.pending_key = Some((*l, colon));
            self.comment(l, v, true)?;
            self.advance(l);
            return Ok(());
        }
        if self.is_dash(l, v) {
            return Err(declined!());
        }
        self.value(l, v, col)
    }

    /// Checks a plain scalar's text `p..e` (one line, already cut at a
    /// comment or `: `).
    #[inline]
    fn plain_ok(&self, _l: &Line, p: usize, e: usize) -> R<()> {
        let b = self.bytes;
        match b[p] {
            b'-' if p + 1 >= e || matches!(b[p + 1], b' ' | b'-') => return Err(declined!()),
            b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
            | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' => return Err(declined!()),
            _ => {}
        }
        Ok(())
    }

    /// A scalar value starting at `p`, owned by a key or dash at column
    /// `owner`; then the rest of the line.
    fn value(&mut self, l: &Line, p: usize, owner: usize) -> R<()> {
        let b = self.bytes;
        let next = Some(l.no);
        let end;
        match b[p] {
            b'|' => return self.block_scalar(l, p, owner),
            // sops writes empty lists and maps as `[]` and `{}`.
            b'[' | b'{' if p + 1 < l.end && b[p + 1] == b[p] + 2 => {
                let (start, stop) = if b[p] == b'[' {
                    (
                        Event::SequenceStart(StructureStyle::Flow, 0, None),
                        Event::SequenceEnd,
                    )
                } else {
                    (
                        Event::MappingStart(StructureStyle::Flow, 0, None),
                        Event::MappingEnd,
                    )
                };
                let sp = self.span(l, p, p + 1);
                self.emit(next, start, sp);
                let sp = self.span(l, p + 1, p + 2);
                self.emit(next, stop, sp);
                end = p + 2;
            }
            b'"' | b'\'' => {
                let ((v, style), e) = self.quoted(l, p)?;
                let sp = self.span(l, p, e);
                self.emit(next, Event::Scalar(v, style, 0, None), sp);
                end = e;
            }
            _ => {
                // Up to ` #` or the line's end; `: ` or a final `:` would
                // be a mapping granit refuses here.
                // Both ends involve a space, and an `ENC[...]` value has
                // none: look only at spaces (and at a final `:`).
                let mut i = find_space(b, p + 1, l.end);
                let mut cut = l.end;
                while i < l.end {
                    if b[i - 1] == b':' {
                        return Err(declined!());
                    }
                    if i + 1 < l.end && b[i + 1] == b'#' {
                        cut = i;
                        break;
                    }
                    i = find_space(b, i + 1, l.end);
                }
                let mut e = cut;
                while b[e - 1] == b' ' {
                    e -= 1;
                }
                if b[e - 1] == b':' {
                    return Err(declined!());
                }
                self.plain_ok(l, p, e)?;
                let sp = self.span(l, p, e);
                self.emit(
                    next,
                    Event::Scalar(Cow::Borrowed(&self.text[p..e]), ScalarStyle::Plain, 0, None),
                    sp,
                );
                end = e;
            }
        }
        let rest = self.skip_spaces(l, end);
        if rest < l.end {
            if b[rest] != b'#' || rest == end {
                return Err(declined!());
            }
            self.comment(l, rest, true)?;
        }
        self.advance(l);
        Ok(())
    }

    /// A one-line quoted scalar at `p`: its value and style, and the
    /// offset after the closing quote.
    fn quoted(&self, l: &Line, p: usize) -> R<((Cow<'a, str>, ScalarStyle), usize)> {
        let b = self.bytes;
        let q = b[p];
        let mut i = p + 1;
        let mut owned: Option<String> = None;
        let mut from = i;
        loop {
            if i >= l.end {
                return Err(declined!());
            }
            let c = b[i];
            if c == q {
                if q == b'\'' && i + 1 < l.end && b[i + 1] == b'\'' {
                    let o = owned.get_or_insert_with(String::new);
                    o.push_str(&self.text[from..=i]);
                    i += 2;
                    from = i;
                    continue;
                }
                break;
            }
            if q == b'"' && c == b'\\' {
                let o = owned.get_or_insert_with(String::new);
                o.push_str(&self.text[from..i]);
                let e = *b.get(i + 1).filter(|_| i + 1 < l.end).ok_or(declined!())?;
                let mut hex = |n: usize| -> R<char> {
                    let h = self.text.get(i + 2..i + 2 + n).ok_or(declined!())?;
                    if i + 2 + n > l.end || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
                        return Err(declined!());
                    }
                    let v = u32::from_str_radix(h, 16).map_err(|_| declined!())?;
                    let ch = char::from_u32(v).ok_or(declined!())?;
                    if (ch as u32) < 0x20 && ch != '\n' {
                        // Control characters: granit's view of them is
                        // not worth copying.
                        return Err(declined!());
                    }
                    i += n;
                    Ok(ch)
                };
                let ch = match e {
                    b'\\' => '\\',
                    b'"' => '"',
                    b'/' => '/',
                    b'n' => '\n',
                    b't' => '\t',
                    b'x' => hex(2)?,
                    b'u' => hex(4)?,
                    _ => return Err(declined!()),
                };
                o.push(ch);
                i += 2;
                from = i;
                continue;
            }
            i += 1;
        }
        let style = if q == b'"' {
            ScalarStyle::DoubleQuoted
        } else {
            ScalarStyle::SingleQuoted
        };
        let v = match owned {
            Some(mut o) => {
                o.push_str(&self.text[from..i]);
                Cow::Owned(o)
            }
            None => Cow::Borrowed(&self.text[from..i]),
        };
        Ok(((v, style), i + 1))
    }

    /// A literal block scalar whose `|` is at `p`, owned by a key or dash
    /// at column `owner`. Reads its body lines; the line that ends it is
    /// left for the next step.
    fn block_scalar(&mut self, l: &Line, p: usize, owner: usize) -> R<()> {
        let b = self.bytes;
        let mut h = p + 1;
        let chomp = match b.get(h) {
            Some(b'-') if h < l.end => {
                h += 1;
                b'-'
            }
            Some(b'+') if h < l.end => {
                h += 1;
                b'+'
            }
            _ => b' ',
        };
        let c = self.skip_spaces(l, h);
        let header_comment = if c < l.end {
            if b[c] != b'#' || c == h {
                return Err(declined!());
            }
            Some(c)
        } else {
            None
        };
        let header = *l;
        self.advance(l);
        if self.pos >= b.len() {
            return Err(declined!());
        }
        let first = self.cur_line()?;
        let fs = &b[first.start..first.end];
        let indent = fs.iter().take_while(|&&c| c == b' ').count();
        if indent == fs.len() || indent <= owner {
            return Err(declined!());
        }
        let start = self.mark(&first, first.start + indent);
        let mut value = String::new();
        let mut blanks = 0usize;
        let mut any = false;
        let mut last_broken = false;
        let end_mark;
        loop {
            if self.pos >= b.len() {
                end_mark = self.eof_mark();
                break;
            }
            let ln = self.cur_line()?;
            let s = &b[ln.start..ln.end];
            let sp = s.iter().take_while(|&&c| c == b' ').count();
            if sp == s.len() {
                if sp > indent {
                    return Err(declined!());
                }
                blanks += 1;
                self.advance(&ln);
                continue;
            }
            if sp < indent {
                end_mark = self.mark(&ln, ln.start + sp);
                break;
            }
            if any {
                value.push('\n');
            }
            for _ in 0..blanks {
                value.push('\n');
            }
            blanks = 0;
            any = true;
            value.push_str(&self.text[ln.start + indent..ln.end]);
            last_broken = ln.end < b.len();
            self.advance(&ln);
        }
        match chomp {
            b'-' => {}
            b'+' => {
                if last_broken {
                    value.push('\n');
                }
                for _ in 0..blanks {
                    value.push('\n');
                }
            }
            _ => {
                if last_broken {
                    value.push('\n');
                }
            }
        }
        let span = Span::new(start, end_mark).with_indent(Some(indent));
        self.emit(
            Some(header.no),
            Event::Scalar(Cow::Owned(value), ScalarStyle::Literal, 0, None),
            span,
        );
        if let Some(c) = header_comment {
            let sp = self.span(&header, c, header.end);
            self.out.push_back((
                Event::Comment(
                    Cow::Borrowed(&self.text[c + 1..header.end]),
                    Placement::Right,
                ),
                sp,
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(super) mod tests;
