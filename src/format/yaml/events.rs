//! The granit-parser event stream the YAML walker reads: parser options,
//! one-event lookahead (over a live stream, or over events already
//! collected), and parse errors turned into [`FormatError`]s that name a
//! position and a generic reason, never the text.

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
pub(super) struct Stream<'a> {
    parser: Parser<'a, granit_parser::StrInput<'a>>,
    ahead: std::collections::VecDeque<(Event<'a>, Span)>,
}

impl<'a> Stream<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Self {
            parser: Parser::new_from_str_with_options(text, parser_options()),
            ahead: std::collections::VecDeque::new(),
        }
    }

    fn pull(&mut self) -> Result<Option<(Event<'a>, Span)>, FormatError> {
        self.parser.next().transpose().map_err(|e| syntax_error(&e))
    }

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
