//! The granit-parser event stream the YAML walker reads: parser options,
//! one-event lookahead (over a live stream, or over events already
//! collected), and parse errors turned into [`FormatError`]s that name a
//! position and a generic reason, never the text. The live stream reads
//! with the fast source for common block YAML first ([`super::fast`]).

use granit_parser::{Event, Parser, Span};

use crate::format::FormatError;

use super::FORMAT;

fn parser_options() -> granit_parser::Options {
    let mut o = granit_parser::Options::default();
    // COMPAT(sops): go-yaml (a libyaml port) adds no line feed to a block
    // scalar whose last line ends the input without one.
    o.block_scalar_eof_without_line_feed = true;
    o
}

/// The granit event stream, with errors mapped to [`FormatError::Syntax`].
pub(crate) fn events(text: &str) -> Result<Vec<(Event<'_>, Span)>, FormatError> {
    Parser::new_from_str_with_options(text, parser_options())
        .map(|ev| ev.map_err(|e| syntax_error(&e)))
        .collect()
}

fn syntax_error(e: &granit_parser::ScanError) -> FormatError {
    let m = e.marker();
    FormatError::Syntax {
        format: FORMAT,
        line: m.line().max(1),
        column: m.col() + 1,
        reason: generic_reason(e.kind()),
    }
}

/// What the walker may ask about the events after the current one.
pub(super) trait Lookahead {
    /// Whether the next event that is not a comment starts a collection.
    fn next_is_collection(&mut self) -> Result<bool, FormatError>;
}

fn starts_collection(ev: &Event<'_>) -> bool {
    matches!(ev, Event::MappingStart(..) | Event::SequenceStart(..))
}

/// Lookahead into a collected event list, after index `at`.
pub(super) struct SliceLookahead<'e, 'a> {
    pub(super) events: &'e [(Event<'a>, Span)],
    pub(super) at: usize,
}

impl Lookahead for SliceLookahead<'_, '_> {
    fn next_is_collection(&mut self) -> Result<bool, FormatError> {
        Ok(self.events[self.at + 1..]
            .iter()
            .find(|(e, _)| !matches!(e, Event::Comment(..)))
            .is_some_and(|(e, _)| starts_collection(e)))
    }
}

/// The events straight from the parser, buffering only what a lookahead
/// needed: a large file's events never all sit in memory (collecting them
/// cost more than the rest of a 100k-key decrypt's memory, and the copying
/// and page faults of the growing list a third of its parse time).
///
/// [`Stream::new`] reads with the fast source ([`super::fast`]) first. When
/// that declines, possibly after events were handed out, the stream ends
/// early and [`Stream::declined`] says so: the caller must discard what it
/// built and walk again over [`Stream::granit`].
pub(super) struct Stream<'a> {
    source: Source<'a>,
    ahead: std::collections::VecDeque<(Event<'a>, Span)>,
    declined: bool,
}

// One per parse, on the stack: boxing a variant would cost an allocation
// per parse, and `reparse` parses once per rendered value.
#[allow(clippy::large_enum_variant)]
enum Source<'a> {
    Fast(super::fast::Fast<'a>),
    Granit(Parser<'a, granit_parser::StrInput<'a>>),
    /// The fast source declined.
    Done,
}

impl<'a> Stream<'a> {
    /// The fast source where it accepts the text, else granit.
    pub(super) fn new(text: &'a str) -> Self {
        match super::fast::Fast::new(text) {
            Ok(fast) => Self::with(Source::Fast(fast)),
            Err(super::fast::Declined) => Self::granit(text),
        }
    }

    /// The fast source only, `None` where it declines the text at once: a
    /// part of a text parsed in parallel ([`super::parse`]) that the fast
    /// source does not take is no answer (the whole text is parsed again).
    pub(super) fn fast_only(text: &'a str) -> Option<Self> {
        super::fast::Fast::new(text)
            .ok()
            .map(|fast| Self::with(Source::Fast(fast)))
    }

    /// granit only.
    pub(super) fn granit(text: &'a str) -> Self {
        Self::with(Source::Granit(Parser::new_from_str_with_options(
            text,
            parser_options(),
        )))
    }

    fn with(source: Source<'a>) -> Self {
        Self {
            source,
            ahead: std::collections::VecDeque::new(),
            declined: false,
        }
    }

    /// Whether the fast source gave up: the events so far are no answer.
    pub(super) fn declined(&self) -> bool {
        self.declined
    }

    #[inline]
    fn pull(&mut self) -> Result<Option<(Event<'a>, Span)>, FormatError> {
        match &mut self.source {
            Source::Fast(fast) => match fast.next_event() {
                Ok(ev) => Ok(ev),
                Err(super::fast::Declined) => {
                    self.declined = true;
                    self.source = Source::Done;
                    Ok(None)
                }
            },
            Source::Granit(parser) => parser.next().transpose().map_err(|e| syntax_error(&e)),
            Source::Done => Ok(None),
        }
    }

    #[inline]
    pub(super) fn next(&mut self) -> Result<Option<(Event<'a>, Span)>, FormatError> {
        match self.ahead.pop_front() {
            Some(e) => Ok(Some(e)),
            None => self.pull(),
        }
    }
}

impl Lookahead for Stream<'_> {
    fn next_is_collection(&mut self) -> Result<bool, FormatError> {
        if let Some((e, _)) = self
            .ahead
            .iter()
            .find(|(e, _)| !matches!(e, Event::Comment(..)))
        {
            return Ok(starts_collection(e));
        }
        while let Some(ev) = self.pull()? {
            let found = (!matches!(ev.0, Event::Comment(..))).then(|| starts_collection(&ev.0));
            self.ahead.push_back(ev);
            if let Some(found) = found {
                return Ok(found);
            }
        }
        Ok(false)
    }
}

/// SECURITY: granit's messages may quote the character found in the source
/// (a piece of a secret); only the error kind's *name* is kept, as words.
fn generic_reason(kind: &granit_parser::ErrorKind) -> String {
    let dbg = format!("{kind:?}");
    let name: String = dbg
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push(' ');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    if out.is_empty() {
        out.push_str("syntax error");
    }
    out
}
