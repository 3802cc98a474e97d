//! Writing YAML text: scalars in the canonical style, and the `sops`
//! metadata block laid out as go-yaml v3 (sops' encoder) lays it out.
//!
//! Invariants: every string rendered here reads back (go-yaml typing, our
//! parser) as the same string; a plain or block rendering that cannot be
//! proven to do so by a re-parse falls back to double quotes, which are
//! always exact.

use super::resolve::{is_yaml11_special, resolve_plain, Resolved};

/// Whether `s` may be written as a plain scalar and read back as the same
/// string (go-yaml typing included).
pub(crate) fn plain_safe(s: &str, flow: bool) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let last = s.chars().next_back().unwrap_or(first);
    if first.is_whitespace() || last.is_whitespace() {
        return false;
    }
    if s.chars()
        .any(|c| !printable(c) || c == '\n' || c == '\r' || c == '\u{feff}')
    {
        return false;
    }
    let second = s.chars().nth(1);
    match first {
        '-' | '?' | ':' => {
            // Indicators unless followed by a safe non-space character.
            match second {
                None => return false,
                Some(c) if c.is_whitespace() || (flow && ",[]{}".contains(c)) => return false,
                _ => {}
            }
        }
        ',' | '[' | ']' | '{' | '}' | '#' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%'
        | '@' | '`' => return false,
        _ => {}
    }
    if s.contains(": ") || s.contains(":\t") || s.ends_with(':') || s.contains(" #") {
        return false;
    }
    if s.contains("\t#") {
        return false;
    }
    if flow && s.contains([',', '[', ']', '{', '}', ':', '#']) {
        return false;
    }
    if resolve_plain(s) != Resolved::Str || is_yaml11_special(s) {
        return false;
    }
    // A document marker at the start of a line would end the document.
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    true
}

/// YAML's printable set (c-printable), tab included.
fn printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// A double-quoted scalar with YAML escapes; always exact, always one line.
pub(crate) fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            '\u{feff}' => out.push_str("\\uFEFF"),
            c if !printable(c) => {
                let v = c as u32;
                if v <= 0xff {
                    out.push_str(&format!("\\x{v:02X}"));
                } else if v <= 0xffff {
                    out.push_str(&format!("\\u{v:04X}"));
                } else {
                    out.push_str(&format!("\\U{v:08X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A literal block scalar for `s` whose content lines are indented by
/// `content_indent` columns, `relative` columns deeper than the owning key
/// or `-` (used as indentation indicator when needed). The result has no
/// final line break (the caller's text supplies it). `None` when `s` cannot
/// be a literal block.
pub(crate) fn literal_block(
    s: &str,
    content_indent: usize,
    relative: usize,
    nl: &str,
) -> Option<String> {
    if !s.contains('\n')
        || s.chars()
            .any(|c| c == '\r' || c == '\u{feff}' || (c != '\t' && c != '\n' && !printable(c)))
    {
        return None;
    }
    if s.chars()
        .any(|c| matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}'))
    {
        return None;
    }
    let body = s.trim_end_matches('\n');
    if body.is_empty() {
        return None;
    }
    let trailing = s.len() - body.len();
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let lines: Vec<&str> = body.split('\n').collect();
    // Readers take the indentation from the first non-empty line (empty
    // lines are written empty), so only that line's leading blanks need
    // the indicator; more-indented later lines are content.
    let needs_indicator = lines
        .iter()
        .find(|l| !l.is_empty())
        .is_some_and(|l| l.starts_with(' ') || l.starts_with('\t'));
    if needs_indicator && !(1..=9).contains(&relative) {
        return None;
    }
    let mut out = String::from("|");
    if needs_indicator {
        out.push_str(&relative.to_string());
    }
    out.push_str(chomp);
    let pad = " ".repeat(content_indent);
    for l in &lines {
        out.push_str(nl);
        if !l.is_empty() {
            out.push_str(&pad);
            out.push_str(l);
        }
    }
    // `|+`: the extra trailing line breaks become empty lines; the last
    // one is the caller's line break.
    for _ in 1..trailing {
        out.push_str(nl);
    }
    Some(out)
}

/// go-yaml's `increase_indent` for a node that is not the first in a
/// sequence item: the next multiple of `step` above `indent`.
fn deeper(indent: usize, step: usize) -> usize {
    step * ((indent + step) / step)
}

/// A map key or scalar value of the metadata tree, on one line.
fn meta_scalar(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    Some(match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if !s.contains('\n') => key_text(s),
        Value::Array(a) if a.is_empty() => "[]".to_owned(),
        Value::Object(o) if o.is_empty() => "{}".to_owned(),
        _ => return None,
    })
}

fn key_text(s: &str) -> String {
    if plain_safe(s, false) {
        s.to_owned()
    } else {
        double_quoted(s)
    }
}

/// Renders `sops:` + `tree` as a block at column `base`, nested like go-yaml
/// v3 with indentation `step`, every line ending with `nl`.
pub(crate) fn metadata_block(
    tree: &serde_json::Value,
    base: usize,
    step: usize,
    nl: &str,
) -> String {
    let mut out = String::new();
    out.push_str(&" ".repeat(base));
    out.push_str("sops:");
    value_after_key(&mut out, tree, base, step, nl);
    out
}

/// Writes what follows `key:` for a mapping at indentation `indent`.
fn value_after_key(out: &mut String, v: &serde_json::Value, indent: usize, step: usize, nl: &str) {
    use serde_json::Value;
    if let Some(s) = meta_scalar(v) {
        out.push(' ');
        out.push_str(&s);
        out.push_str(nl);
        return;
    }
    match v {
        Value::String(s) => {
            let content = deeper(indent, step);
            block_string(out, s, content, content - indent, nl);
        }
        Value::Object(o) => {
            out.push_str(nl);
            map_entries(out, o, deeper(indent, step), false, step, nl);
        }
        Value::Array(a) => {
            out.push_str(nl);
            seq_items(out, a, deeper(indent, step), step, nl);
        }
        _ => {}
    }
}

fn block_string(out: &mut String, s: &str, content: usize, relative: usize, nl: &str) {
    match literal_block(s, content, relative, nl) {
        Some(b) => {
            out.push(' ');
            out.push_str(&b);
            out.push_str(nl);
        }
        None => {
            out.push(' ');
            out.push_str(&double_quoted(s));
            out.push_str(nl);
        }
    }
}

fn map_entries(
    out: &mut String,
    o: &serde_json::Map<String, serde_json::Value>,
    indent: usize,
    first_inline: bool,
    step: usize,
    nl: &str,
) {
    for (i, (k, v)) in o.iter().enumerate() {
        if !(i == 0 && first_inline) {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&key_text(k));
        out.push(':');
        value_after_key(out, v, indent, step, nl);
    }
}

fn seq_items(out: &mut String, a: &[serde_json::Value], indent: usize, step: usize, nl: &str) {
    use serde_json::Value;
    for v in a {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        if let Some(s) = meta_scalar(v) {
            out.push(' ');
            out.push_str(&s);
            out.push_str(nl);
            continue;
        }
        match v {
            Value::String(s) => block_string(out, s, indent + 2, 2, nl),
            Value::Object(o) => {
                out.push(' ');
                map_entries(out, o, indent + 2, true, step, nl);
            }
            Value::Array(inner) => {
                // go-yaml writes a nested sequence on the next line.
                out.push_str(nl);
                seq_items(out, inner, indent + 2, step, nl);
            }
            _ => {}
        }
    }
}
