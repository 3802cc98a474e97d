//! Text helpers every format shares: line breaks, line boundaries, whole-line
//! removals, line/column positions, and the value spellings sops inherits
//! from Go (`strconv.ParseBool`'s booleans, plain decimal floats).
//!
//! They work on bytes of UTF-8 text and know nothing of any one format's
//! grammar, so each rule is written (and fixed) once. None of them looks at
//! what a value says beyond its spelling, and none can fail: offsets past
//! the end are clamped.

use std::ops::Range;

/// The 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Start of the line that holds byte `at`.
pub(crate) fn line_start_of(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text.as_bytes()[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

/// Offset just past the line break that ends the line holding byte `at`
/// (the text's end on the last line).
pub(crate) fn after_line_of(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text.as_bytes()[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |i| at + i + 1)
}

/// The whole lines holding the bytes `start..end` (`end` exclusive; an
/// empty range takes the line it sits on).
pub(crate) fn whole_lines(text: &str, start: usize, end: usize) -> Range<usize> {
    let last = if end > start { end - 1 } else { end };
    line_start_of(text, start)..after_line_of(text, last)
}

/// [`whole_lines`] to remove: a last line without a line break takes the
/// break before it instead, so the text keeps ending as it did.
pub(crate) fn line_removal(text: &str, start: usize, end: usize) -> Range<usize> {
    let mut r = whole_lines(text, start, end);
    if r.end == text.len() && !text.ends_with('\n') && r.start > 0 {
        r.start -= 1;
        if r.start > 0 && text.as_bytes()[r.start - 1] == b'\r' {
            r.start -= 1;
        }
    }
    r
}

/// The file's line break: `\r\n` when its first line ends so.
pub(crate) fn newline_style(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// Whether the line starting at `start` is empty or whitespace only.
pub(crate) fn is_blank_line(text: &str, start: usize) -> bool {
    text[start..after_line_of(text, start)].trim().is_empty()
}

/// A removal of whole lines `block` that ends where the data ends (`limit`:
/// the text's end or the start of the metadata): the blank lines before it
/// go too, so no blank line is left dangling at the end.
pub(crate) fn with_blank_lines_before(
    text: &str,
    block: Range<usize>,
    limit: usize,
) -> Range<usize> {
    let mut start = block.start;
    if block.end >= limit {
        while start > 0 {
            let prev = line_start_of(text, start - 1);
            if !is_blank_line(text, prev) {
                break;
            }
            start = prev;
        }
    }
    start..block.end
}

/// One line of a text: its 1-based number, the byte offset of its first
/// character, and its content without the final `\n` (a `\r` stays).
pub(crate) struct Line<'a> {
    pub(crate) number: usize,
    pub(crate) start: usize,
    pub(crate) content: &'a str,
}

impl Line<'_> {
    /// Offset just past the content (where the `\n` is, if any).
    pub(crate) fn end(&self) -> usize {
        self.start + self.content.len()
    }
}

/// Splits `text` on `\n`; a final empty piece after the last `\n` is not a
/// line.
pub(crate) fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut number = 1;
    while start < text.len() {
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        out.push(Line {
            number,
            start,
            content: &text[start..end],
        });
        number += 1;
        start = end + 1;
    }
    out
}

/// The byte offset just past the line break that follows `end`, if any.
pub(crate) fn after_line_break(text: &str, end: usize) -> usize {
    if text.as_bytes().get(end) == Some(&b'\n') {
        end + 1
    } else {
        end
    }
}

/// The length of a leading UTF-8 byte order mark (0 or 3).
pub(crate) fn bom_len(text: &str) -> usize {
    if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    }
}

/// `at` clamped to the text and moved back to a character boundary, so that
/// an offset from a parser (or a bug) can never split a character when
/// slicing.
pub(crate) fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Go's `strconv.ParseBool`: the spellings sops reads as booleans.
///
/// COMPAT(sops): sops writes decrypted booleans as `True`/`False` and reads
/// them back (and hashes them for the MAC) through this set.
pub fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// A Go boolean (see [`parse_go_bool`]) as the `true`/`false` JSON and TOML
/// write.
pub(crate) fn go_bool_text(s: &str) -> Option<&'static str> {
    parse_go_bool(s).map(|b| if b { "true" } else { "false" })
}

/// Whether `s` is a plain decimal `-?digits[.digits][X[+-]digits]`, where
/// the exponent marker `X` is one of `exponent` (YAML's leaves take only
/// `e`, TOML's `e` and `E`; each format keeps the text it has always kept,
/// because a leaf's text is what the MAC covers).
pub(crate) fn is_plain_decimal(s: &str, exponent: &[u8]) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if b.get(i).is_some_and(|c| exponent.contains(c)) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

/// Whether a block written at `range` would end a text that has no final
/// line break.
fn ends_text_without_newline(text: &str, range: &Range<usize>) -> bool {
    range.end >= text.len() && !text.is_empty() && !text.ends_with('\n')
}

/// The metadata text `new` for `range`, without its final line break when
/// it ends a file that had none: the file keeps its missing final newline,
/// and [`removal_keeps_missing_newline`] gives it back on decrypt. (sops
/// always ends its files with a line break, so its files never look so.)
pub(crate) fn keep_missing_newline(text: &str, range: &Range<usize>, mut new: String) -> String {
    if ends_text_without_newline(text, range) {
        if new.ends_with("\r\n") {
            new.truncate(new.len() - 2);
        } else if new.ends_with('\n') {
            new.truncate(new.len() - 1);
        }
    }
    new
}

/// Metadata removals, each taking the line break before its block too when
/// the block ends the file without one (see [`keep_missing_newline`]).
pub(crate) fn removal_keeps_missing_newline(
    text: &str,
    mut splices: Vec<crate::format::Splice>,
) -> Vec<crate::format::Splice> {
    for s in &mut splices {
        let r = &mut s.range;
        if ends_text_without_newline(text, r) && r.start > 0 && text[..r.start].ends_with('\n') {
            r.start -= 1;
            if text[..r.start].ends_with('\r') {
                r.start -= 1;
            }
        }
    }
    splices
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars() {
        assert_eq!(line_col("ab\nçd", 5), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
    }

    #[test]
    fn newline_style_follows_the_first_line() {
        assert_eq!(newline_style("a\r\nb\n"), "\r\n");
        assert_eq!(newline_style("a\nb\r\n"), "\n");
        assert_eq!(newline_style("\n"), "\n");
        assert_eq!(newline_style("abc"), "\n");
    }

    #[test]
    fn line_starts_clamp_and_find_the_break_before() {
        assert_eq!(line_start_of("ab\ncd", 4), 3);
        assert_eq!(line_start_of("ab\ncd", 3), 3);
        assert_eq!(line_start_of("ab\ncd", 2), 0);
        assert_eq!(line_start_of("ab\ncd", 99), 3);
    }

    #[test]
    fn go_booleans_are_strconv_parse_bool() {
        for t in ["1", "t", "T", "true", "TRUE", "True"] {
            assert_eq!(parse_go_bool(t), Some(true), "{t}");
            assert_eq!(go_bool_text(t), Some("true"), "{t}");
        }
        for f in ["0", "f", "F", "false", "FALSE", "False"] {
            assert_eq!(parse_go_bool(f), Some(false), "{f}");
            assert_eq!(go_bool_text(f), Some("false"), "{f}");
        }
        for n in ["yes", "tRUE", "", " true", "2"] {
            assert_eq!(parse_go_bool(n), None, "{n}");
        }
    }

    #[test]
    fn plain_decimals() {
        for ok in ["0", "-1", "1.5", "1e5", "-1.25e-3", "12e+7"] {
            assert!(is_plain_decimal(ok, b"e"), "{ok}");
            assert!(is_plain_decimal(ok, b"eE"), "{ok}");
        }
        assert!(is_plain_decimal("1E5", b"eE"));
        assert!(!is_plain_decimal("1E5", b"e"));
        for bad in [
            "", "-", "+1", "1.", ".5", "1e", "1e+", "0x1", "1_000", "inf", "1.5 ",
        ] {
            assert!(!is_plain_decimal(bad, b"eE"), "{bad}");
        }
    }
}
