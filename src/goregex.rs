//! Regular expressions with Go's meaning, for the patterns sops reads:
//! the selection rules (`encrypted_regex`, `unencrypted_regex` and the
//! comment ones) and the rules file's `path_regex`.
//!
//! sops matches them with Go's `regexp` (RE2 syntax), the `regex` crate
//! reads nearly the same syntax with some other meanings, and a pattern
//! that selects other keys than sops does leaves other values in clear. So
//! a pattern is rewritten before `regex` compiles it, where the two differ
//! without an error:
//! - `\d`, `\w`, `\s` (and `\D`, `\W`, `\S`) are ASCII in Go
//!   (`[0-9]`, `[0-9A-Za-z_]`, `[\t\n\f\r ]`) and Unicode in `regex`:
//!   `unencrypted_regex: ^\w+$` left `café: ...` in clear where sops
//!   encrypts it;
//! - `\b` and `\B` are ASCII word boundaries in Go;
//! - inside a bracket class, Go reads `[` (not opening `[:name:]`), `&&`,
//!   `--` and `~~` as the characters themselves, where `regex` reads a
//!   nested class and set operations;
//! - `\Q...\E` quotes text in Go.
//!
//! - octal escapes (`\141`) and `\p{^Greek}`, which `regex` does not read,
//!   become `\x{61}` and `\P{Greek}`.
//!
//! Everything else is passed as written: what `regex` refuses is refused
//! (with its message about the pattern as the user wrote it), and the rest
//! means the same in both (flags, repetition, groups, `\pL`, `\p{Greek}`,
//! POSIX classes, which are ASCII in both).

use std::fmt;

use regex::Regex;

/// A pattern in Go's syntax, compiled with Go's meaning.
#[derive(Clone)]
pub struct GoRegex {
    /// The pattern as written (what the metadata and messages show).
    source: String,
    /// The rewritten pattern, compiled.
    regex: Regex,
}

/// Why a pattern was refused: a sentence about the pattern as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoRegexError(String);

impl fmt::Display for GoRegexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GoRegexError {}

impl GoRegex {
    /// Compiles `pattern` (Go syntax) with Go's meaning.
    pub fn new(pattern: &str) -> Result<Self, GoRegexError> {
        let rewritten = rewrite(pattern)?;
        match Regex::new(&rewritten) {
            Ok(regex) => Ok(GoRegex {
                source: pattern.to_owned(),
                regex,
            }),
            // The message `regex` gives quotes the pattern it compiled;
            // ask it about the pattern as written instead, so the caret
            // points into the user's text.
            Err(e) => Err(GoRegexError(match Regex::new(pattern) {
                Err(own) => own.to_string(),
                Ok(_) => e.to_string(),
            })),
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern matches anywhere in `text` (Go's
    /// `regexp.MatchString`: unanchored).
    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

impl fmt::Debug for GoRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("GoRegex").field(&self.source).finish()
    }
}

/// Go's `\d`, `\w` and `\s` as the members of a bracket class.
fn perl_class(c: char) -> Option<&'static str> {
    match c {
        'd' | 'D' => Some("0-9"),
        'w' | 'W' => Some("0-9A-Za-z_"),
        's' | 'S' => Some(r"\t\n\x0C\r "),
        _ => None,
    }
}

/// The pattern in the `regex` crate's syntax, meaning what Go means.
fn rewrite(pattern: &str) -> Result<String, GoRegexError> {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                None => out.push('\\'),
                Some(e) => {
                    if let Some(members) = perl_class(e) {
                        let negate = if e.is_ascii_uppercase() { "^" } else { "" };
                        out.push_str(&format!("[{negate}{members}]"));
                    } else if e == 'b' || e == 'B' {
                        out.push_str(&format!("(?-u:\\{e})"));
                    } else if e == 'Q' {
                        quote(&mut chars, &mut out);
                    } else if e == 'p' || e == 'P' {
                        unicode_class(e, &mut chars, &mut out);
                    } else if let Some(code) = octal(e, &mut chars) {
                        ClassChar::Code(code).write(&mut out);
                    } else {
                        out.push('\\');
                        out.push(e);
                    }
                }
            },
            '[' => class(&mut chars, &mut out)?,
            _ => out.push(c),
        }
    }
    Ok(out)
}

/// Go's octal escape after its backslash: `\0` with up to two more
/// octal digits, or a digit 1-7 followed by one or two more (a single
/// `\1`-`\7` is a backreference, refused by both). `regex` has no octal
/// (it reads `\141` as a backreference), so it becomes `\x{61}`.
fn octal(first: char, chars: &mut Chars<'_>) -> Option<u32> {
    let digit = |c: Option<&char>| c.filter(|c| ('0'..='7').contains(*c)).copied();
    if !('0'..='7').contains(&first) || (first != '0' && digit(chars.peek()).is_none()) {
        return None;
    }
    let mut code = first.to_digit(8)?;
    for _ in 0..2 {
        match digit(chars.peek()) {
            Some(d) => {
                code = code * 8 + d.to_digit(8)?;
                chars.next();
            }
            None => break,
        }
    }
    Some(code)
}

/// `\pL`, `\p{Greek}` and their negations after the backslash, for
/// `regex`: the same, except Go's `\p{^Greek}` (a negation inside the
/// braces), which `regex` does not read, becomes `\P{Greek}`.
fn unicode_class(p: char, chars: &mut Chars<'_>, out: &mut String) {
    if chars.peek() != Some(&'{') {
        out.push('\\');
        out.push(p);
        out.extend(chars.next());
        return;
    }
    chars.next();
    let mut name = String::new();
    for c in chars.by_ref() {
        if c == '}' {
            break;
        }
        name.push(c);
    }
    let (p, name) = match name.strip_prefix('^') {
        Some(rest) if p == 'p' => ('P', rest),
        Some(rest) => ('p', rest),
        None => (p, name.as_str()),
    };
    out.push_str(&format!("\\{p}{{{name}}}"));
}

/// `\Q...\E` (or to the end): the text between, escaped.
fn quote(chars: &mut Chars<'_>, out: &mut String) {
    let mut text = String::new();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&'E') {
            chars.next();
            break;
        }
        text.push(c);
    }
    out.push_str(&regex::escape(&text));
}

/// A character of a bracket class: written plainly, or as a backslash
/// escape (`\]`, `\n`, `\x41`; hex digits that follow are plain
/// characters, written as they are).
enum ClassChar {
    Plain(char),
    Escape(char),
    /// An octal escape, written as `\x{..}`.
    Code(u32),
}

impl ClassChar {
    fn read(c: char, chars: &mut Chars<'_>) -> Result<Self, GoRegexError> {
        if c == '\\' {
            let e = chars.next().ok_or_else(missing_bracket)?;
            Ok(match octal(e, chars) {
                Some(code) => ClassChar::Code(code),
                None => ClassChar::Escape(e),
            })
        } else {
            Ok(ClassChar::Plain(c))
        }
    }

    fn write(&self, out: &mut String) {
        match *self {
            // `regex` accepts an escape before any ASCII punctuation but
            // `<` and `>`; escaping it all keeps `[`, `-`, `&`, `~` and `^`
            // the characters themselves, as Go reads them here.
            ClassChar::Plain(c) => {
                if c.is_ascii_punctuation() && c != '<' && c != '>' {
                    out.push('\\');
                }
                out.push(c);
            }
            ClassChar::Escape(e) => {
                out.push('\\');
                out.push(e);
            }
            ClassChar::Code(code) => out.push_str(&format!("\\x{{{code:x}}}")),
        }
    }
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn missing_bracket() -> GoRegexError {
    GoRegexError("missing closing ] in a bracket class".into())
}

/// A bracket class, after its `[`: Go's items (characters, escapes,
/// ranges, `[:name:]`, Perl and Unicode classes) written for `regex`.
fn class(chars: &mut Chars<'_>, out: &mut String) -> Result<(), GoRegexError> {
    out.push('[');
    if chars.peek() == Some(&'^') {
        chars.next();
        out.push('^');
    }
    // Go takes a `]` right after `[` or `[^` as the character itself.
    let mut first = true;
    loop {
        let c = chars.next().ok_or_else(missing_bracket)?;
        if c == ']' && !first {
            out.push(']');
            return Ok(());
        }
        first = false;
        // A POSIX class `[:name:]` or `[:^name:]`: the same in both.
        if c == '[' && chars.peek() == Some(&':') {
            let rest: String = chars.clone().collect();
            if let Some(end) = rest.find(":]") {
                out.push('[');
                out.extend(chars.by_ref().take(end + 2));
                continue;
            }
        }
        let lo = ClassChar::read(c, chars)?;
        if let ClassChar::Escape(e) = lo {
            if let Some(members) = perl_class(e) {
                if e.is_ascii_uppercase() {
                    // The complement inside a class: a nested class.
                    out.push_str(&format!("[^{members}]"));
                } else {
                    out.push_str(members);
                }
                continue;
            }
            if e == 'p' || e == 'P' {
                unicode_class(e, chars, out);
                continue;
            }
        }
        lo.write(out);
        // `lo-hi`, unless the `-` is the class's last character.
        let mut ahead = chars.clone();
        if ahead.next() == Some('-') && !matches!(ahead.next(), Some(']') | None) {
            chars.next();
            out.push('-');
            let c = chars.next().ok_or_else(missing_bracket)?;
            ClassChar::read(c, chars)?.write(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        GoRegex::new(pattern).unwrap().is_match(text)
    }

    #[test]
    fn perl_classes_are_ascii_as_in_go() {
        // Go: \d [0-9], \w [0-9A-Za-z_], \s [\t\n\f\r ].
        assert!(!matches(r"^\w+$", "café"));
        assert!(matches(r"^\w+$", "cafe_2"));
        assert!(!matches(r"^\d$", "٣")); // ARABIC-INDIC DIGIT THREE
        assert!(matches(r"^\d$", "3"));
        assert!(!matches(r"^\s$", "\u{a0}"));
        assert!(!matches(r"^\s$", "\u{b}")); // \v is not in Go's \s
        assert!(matches(r"^\s$", "\u{c}"));
        assert!(matches(r"^\W$", "é"));
        assert!(matches(r"^\D$", "٣"));
        assert!(matches(r"^\S$", "\u{a0}"));
    }

    #[test]
    fn inside_a_class_too() {
        assert!(!matches(r"^[\w.]+$", "naïve.key"));
        assert!(matches(r"^[\w.]+$", "plain.key"));
        assert!(matches(r"^[\W]$", "é"));
        assert!(!matches(r"^[^\W]$", "é"));
        assert!(matches(r"^[^\W]$", "e"));
        assert!(matches(r"^[\S\d]+$", "x9"));
    }

    #[test]
    fn word_boundaries_are_ascii() {
        // Go: an ASCII word boundary, so é is not a word character.
        assert!(matches(r"\bkey\b", "ékeyé"));
        assert!(!matches(r"\Bkey\B", "ékeyé"));
        assert!(matches(r"\bkey\b", "a key here"));
        assert!(!matches(r"\bkey\b", "monkeys"));
    }

    #[test]
    fn class_punctuation_is_literal_as_in_go() {
        // Go reads `[`, `&&`, `--` and `~~` in a class as characters.
        assert!(matches(r"^[[a]+$", "[a["));
        assert!(matches(r"^[a&&b]+$", "a&b"));
        assert!(matches(r"^[a~~b]+$", "~"));
        assert!(matches(r"^[+--]+$", ",")); // the range '+' to '-'
        assert!(matches(r"^[a-]+$", "-a"));
        assert!(matches(r"^[]a]+$", "]a"));
        assert!(matches(r"^[^]a]$", "b"));
        assert!(!matches(r"^[^]a]$", "]"));
        assert!(matches(r"^[[:alpha:]_]+$", "ab_"));
        assert!(!matches(r"^[[:alpha:]]$", "é"));
        assert!(matches(r"^[\p{Greek}]$", "λ"));
        assert!(matches(r"^[\pL]$", "é"));
        assert!(matches(r"^[\x41-\x43]+$", "ABC"));
        assert!(matches(r"^[\]\\]+$", r"]\"));
    }

    #[test]
    fn octal_escapes_are_characters() {
        assert!(matches(r"^\141$", "a"));
        assert!(matches(r"^\0$", "\0"));
        assert!(matches(r"^\01a$", "\u{1}a"));
        assert!(matches(r"^[\141-\143]+$", "abc"));
        assert!(matches(r"^\1418$", "a8"));
        // A lone \1 is a backreference: refused (Go refuses it too).
        assert!(GoRegex::new(r"(a)\1").is_err());
    }

    #[test]
    fn quoted_text_is_literal() {
        assert!(matches(r"^\Qa.b*\E$", "a.b*"));
        assert!(!matches(r"^\Qa.b\E$", "axb"));
        assert!(matches(r"^\Q[x]", "[x] and more"));
    }

    #[test]
    fn the_rest_means_the_same() {
        assert!(matches("(?i)^PASS", "password"));
        assert!(matches("^(data|stringData)$", "stringData"));
        assert!(matches("_secret$", "api_secret"));
        assert!(matches(r"\.ya?ml$", "prod/app.yml"));
        assert!(matches(r"^\pL+$", "café"));
        assert!(matches(r"^\p{^Greek}$", "a"));
        assert!(!matches(r"^\p{^Greek}$", "λ"));
        assert!(matches(r"^\P{^Greek}$", "λ"));
        assert!(matches(r"^[\p{^Greek}]$", "a"));
        assert!(matches(r"^\p{Any}$", "\u{342}"));
        assert!(!matches("^a.b$", "a\nb"));
        assert!(matches("(?s)^a.b$", "a\nb"));
    }

    #[test]
    fn errors_are_about_the_pattern_as_written() {
        let e = GoRegex::new(r"^(\w+").unwrap_err().to_string();
        assert!(e.contains(r"^(\w+"), "{e}");
        assert!(!e.contains("0-9A-Za-z_"), "{e}");
        assert_eq!(
            GoRegex::new("[a").unwrap_err().to_string(),
            "missing closing ] in a bracket class"
        );
        assert_eq!(GoRegex::new(r"^\w$").unwrap().as_str(), r"^\w$");
        assert_eq!(
            format!("{:?}", GoRegex::new("x").unwrap()),
            r#"GoRegex("x")"#
        );
    }
}
