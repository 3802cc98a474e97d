//! Writing TOML text: basic and multi-line strings, keys (bare or quoted),
//! values that are written bare when TOML reads them back as the same type,
//! and the `[sops]` metadata block (scalars first, then sub-tables, arrays
//! of objects as arrays of tables).

use super::*;

/// A one-line basic string.
pub(super) fn basic_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(c, &mut out);
    }
    out.push('"');
    out
}

fn push_escaped(c: char, out: &mut String) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        c if (c as u32) < 0x20 || c == '\u{7f}' => {
            let _ = write!(out, "\\u{:04X}", c as u32);
        }
        c => out.push(c),
    }
}

/// A multi-line basic string whose content is exactly `s`. `newline`
/// follows the opening quotes (and is trimmed by readers; it must not be
/// empty when `s` starts with a line break); line breaks in `s` are written
/// as they are (`\n` or `\r\n`), a lone `\r` escaped.
pub(super) fn multiline_string(s: &str, newline: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str("\"\"\"");
    out.push_str(newline);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => out.push('\n'),
            '\r' if chars.peek() == Some(&'\n') => out.push('\r'),
            // A quote is escaped when it could start `"""` or touch the
            // closing delimiter.
            '"' if matches!(chars.peek(), None | Some('"')) => out.push_str("\\\""),
            '"' => out.push('"'),
            c => push_escaped(c, &mut out),
        }
    }
    out.push_str("\"\"\"");
    out
}

/// The kind of TOML string a value was written as, read from its source
/// text, so that encrypting and decrypting can keep it (see the module doc
/// of `toml.rs`). `lead` is whether a line break follows the opening quotes
/// of a multi-line string (readers trim it, so it is layout, not value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum StrKind {
    Basic,
    Literal,
    MultiBasic { lead: bool },
    MultiLiteral { lead: bool },
}

impl StrKind {
    /// The kind of the string at the start of `src`, if it is one.
    pub(super) fn of(src: &str) -> Option<StrKind> {
        let lead = |rest: &str| rest.starts_with('\n') || rest.starts_with("\r\n");
        if let Some(rest) = src.strip_prefix("\"\"\"") {
            Some(StrKind::MultiBasic { lead: lead(rest) })
        } else if let Some(rest) = src.strip_prefix("'''") {
            Some(StrKind::MultiLiteral { lead: lead(rest) })
        } else if src.starts_with('"') {
            Some(StrKind::Basic)
        } else if src.starts_with('\'') {
            Some(StrKind::Literal)
        } else {
            None
        }
    }

    /// `s` written as a string of this kind, or `None` when this kind
    /// cannot hold it (a literal string cannot escape anything). `newline`
    /// is the line break written after multi-line opening quotes.
    pub(super) fn write(self, s: &str, newline: &str) -> Option<String> {
        // Control characters other than tab (and line breaks in multi-line
        // strings) need escapes, which literal strings do not have.
        let literal_safe = |multi: bool| {
            let b = s.as_bytes();
            b.iter().enumerate().all(|(i, &c)| match c {
                b'\t' => true,
                b'\n' => multi,
                b'\r' => multi && b.get(i + 1) == Some(&b'\n'),
                c => c >= 0x20 && c != 0x7f,
            })
        };
        // A leading line break in the value needs one before it that
        // readers trim.
        let lead = |want: bool| {
            if want || s.starts_with('\n') || s.starts_with("\r\n") {
                newline
            } else {
                ""
            }
        };
        match self {
            StrKind::Basic => Some(basic_string(s)),
            StrKind::Literal => {
                (literal_safe(false) && !s.contains('\'')).then(|| format!("'{s}'"))
            }
            StrKind::MultiLiteral { lead: l } => {
                // No `'''` inside, and none touching the closing quotes.
                (literal_safe(true) && !s.contains("'''") && !s.ends_with('\''))
                    .then(|| format!("'''{}{s}'''", lead(l)))
            }
            StrKind::MultiBasic { lead: l } => Some(multiline_string(s, lead(l))),
        }
    }
}

/// Parses `v = <t>` and returns the value when `t` is exactly one bare TOML
/// value (no line breaks, comments or extra keys can sneak in).
pub(super) fn bare_value(t: &str) -> Option<Value> {
    if t.is_empty() || t.contains(['\n', '\r', '#']) {
        return None;
    }
    let src = format!("v = {t}");
    let doc = Document::parse(src.as_str()).ok()?;
    if doc.as_table().len() != 1 {
        return None;
    }
    let v = doc.get("v")?.as_value()?;
    (v.span()? == (4..src.len())).then(|| v.clone())
}

/// A float from any format as TOML float text, if it is a number.
pub(super) fn toml_float(t: &str) -> Option<String> {
    if matches!(bare_value(t), Some(Value::Float(_))) {
        return Some(t.to_owned());
    }
    let f = match t {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+Inf" => f64::INFINITY,
        "-.inf" | "-.Inf" | "-.INF" | "-Inf" => f64::NEG_INFINITY,
        ".nan" | ".NaN" | ".NAN" | "NaN" => f64::NAN,
        _ => t.parse::<f64>().ok()?,
    };
    Some(float_text(f))
}

fn is_bare_key(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

pub(super) fn key_text(k: &str) -> String {
    if is_bare_key(k) {
        k.to_owned()
    } else {
        basic_string(k)
    }
}

fn is_table_like(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Object(_) => true,
        serde_json::Value::Array(a) => !a.is_empty() && a.iter().all(|x| x.is_object()),
        _ => false,
    }
}

/// One metadata value written inline; `None` for a null (left out).
fn inline_json(v: &serde_json::Value, newline: &str) -> Option<String> {
    use serde_json::Value as J;
    Some(match v {
        J::Null => return None,
        J::Bool(b) => b.to_string(),
        J::Number(n) => {
            let s = n.to_string();
            match bare_value(&s) {
                Some(Value::Integer(_) | Value::Float(_)) => s,
                _ => basic_string(&s),
            }
        }
        // The metadata's multi-line strings follow the file's line breaks
        // (and read back with LF, see `value_json`).
        J::String(s) if s.contains('\n') => multiline_string(&s.replace('\n', newline), newline),
        J::String(s) => basic_string(s),
        J::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(|x| inline_json(x, newline))
                .collect();
            format!("[{}]", parts.join(", "))
        }
        J::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .filter_map(|(k, x)| {
                    Some(format!("{} = {}", key_text(k), inline_json(x, newline)?))
                })
                .collect();
            if parts.is_empty() {
                "{}".into()
            } else {
                format!("{{ {} }}", parts.join(", "))
            }
        }
    })
}

/// Writes one table of the metadata: its header, its inline fields, then its
/// sub-tables and arrays of tables.
fn write_meta_table(
    path: &[String],
    map: &serde_json::Map<String, serde_json::Value>,
    array: bool,
    newline: &str,
    out: &mut String,
) {
    let header: Vec<String> = path.iter().map(|k| key_text(k)).collect();
    let (open, close) = if array { ("[[", "]]") } else { ("[", "]") };
    out.push_str(open);
    out.push_str(&header.join("."));
    out.push_str(close);
    out.push_str(newline);
    for (k, v) in map {
        if is_table_like(v) {
            continue;
        }
        if let Some(text) = inline_json(v, newline) {
            out.push_str(&key_text(k));
            out.push_str(" = ");
            out.push_str(&text);
            out.push_str(newline);
        }
    }
    for (k, v) in map {
        let mut sub = path.to_vec();
        sub.push(k.clone());
        match v {
            serde_json::Value::Object(m) => write_meta_table(&sub, m, false, newline, out),
            serde_json::Value::Array(items) if is_table_like(v) => {
                for item in items {
                    if let serde_json::Value::Object(m) = item {
                        write_meta_table(&sub, m, true, newline, out);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The `[sops]` block for `tree`, ending with a line break.
pub(super) fn render_metadata(
    tree: &serde_json::Value,
    newline: &str,
) -> Result<String, FormatError> {
    let serde_json::Value::Object(map) = tree else {
        return Err(FormatError::Unrepresentable {
            format: FORMAT,
            path: KeyPath::root().child_key("sops"),
            reason: "the metadata must be an object".into(),
        });
    };
    let mut out = String::new();
    write_meta_table(&["sops".to_owned()], map, false, newline, &mut out);
    Ok(out)
}
