//! Writing JSON text: the layout a file already has (indentation unit,
//! line breaks, `:` spacing), strings with minimal escapes, and the metadata
//! tree written in that layout. Nothing here reads a value's meaning: it only
//! spells text.

use super::*;

/// How the top-level object is laid out.
pub(super) struct Layout {
    /// `None` for a one-line object.
    pub(super) pretty: Option<Pretty>,
    /// Between a key and its value (`": "`, `":"`).
    pub(super) colon: String,
    /// Between members on one line (`", "`, `","`).
    pub(super) comma: String,
}

pub(super) struct Pretty {
    pub(super) unit: String,
    pub(super) newline: &'static str,
}

pub(super) fn detect_layout(text: &str, scan: &Scan) -> Layout {
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
    // Copy the runs between escapes whole: every escaped character is
    // ASCII, so the cuts fall on char boundaries.
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\t' => "\\t",
            b'\r' => "\\r",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        if escape.is_empty() {
            out.push_str(&format!("\\u{b:04x}"));
        } else {
            out.push_str(escape);
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
    out.push('"');
    out
}

/// Whether `s` is exactly a JSON number token.
pub(super) fn is_json_number(s: &str) -> bool {
    let mut p = Parser::new(s);
    p.number().is_ok() && p.pos == s.len()
}

/// Writes a metadata value; `level` is the nesting level of the value.
pub(super) fn write_tree(v: &serde_json::Value, level: usize, layout: &Layout, out: &mut String) {
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
