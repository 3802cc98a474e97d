//! Writes a plain data tree (decrypted values) as JSON or block-style YAML,
//! for `--extract` of a subtree and for format conversion. This is a
//! canonical writer, not a layout-keeping one: it is used only where there
//! is no original layout to keep.

use serde_json::Value;

/// Pretty JSON with two-space indentation and a final newline.
pub fn to_json(value: &Value) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
    s.push('\n');
    s
}

/// Block-style YAML with two-space indentation and a final newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0),
        other => {
            out.push_str(&scalar(other, 0));
            out.push('\n');
        }
    }
    out
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize) {
    for (k, v) in map {
        out.push_str(&" ".repeat(indent));
        out.push_str(&yaml_string(k, indent, true));
        out.push(':');
        write_child(out, v, indent);
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for v in items {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        write_child(out, v, indent);
    }
}

fn write_child(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, indent + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq(out, a, indent + 2);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other, indent + 2));
            out.push('\n');
        }
    }
}

fn scalar(v: &Value, indent: usize) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => yaml_string(s, indent, false),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
    }
}

/// Whether `s` reads back as the same string when written plain.
fn plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let keyword = matches!(
        s.to_ascii_lowercase().as_str(),
        "true"
            | "false"
            | "null"
            | "~"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "y"
            | "n"
            | ".inf"
            | "-.inf"
            | ".nan"
    );
    let numeric_start =
        first.is_ascii_digit() || ((first == '-' || first == '+' || first == '.') && s.len() > 1);
    !keyword
        && !numeric_start
        && (first.is_alphabetic() || first == '_' || first == '/')
        && s.chars()
            .all(|c| c.is_alphanumeric() || "_-./@+=".contains(c))
}

fn yaml_string(s: &str, indent: usize, is_key: bool) -> String {
    if plain_safe(s) {
        return s.to_owned();
    }
    if !is_key
        && s.contains('\n')
        && !s.contains('\r')
        && s.lines()
            .all(|l| !l.starts_with(' ') && !l.starts_with('\t'))
    {
        let chomp = if !s.ends_with('\n') {
            "-"
        } else if s.ends_with("\n\n") {
            "+"
        } else {
            ""
        };
        let mut block = format!("|{chomp}\n");
        let body = s.strip_suffix('\n').unwrap_or(s);
        for line in body.split('\n') {
            if !line.is_empty() {
                block.push_str(&" ".repeat(indent));
                block.push_str(line);
            }
            block.push('\n');
        }
        block.pop();
        return block;
    }
    // A JSON string is a valid YAML double-quoted scalar.
    serde_json::to_string(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_scalars_read_back_as_strings() {
        let v = json!({"a": "x", "b": "8080", "c": "true", "d": "a: b", "e": 5, "f": [1, "y"], "g": {"h": null}, "i": "l1\nl2\n"});
        assert_eq!(
            to_yaml(&v),
            "a: x\nb: \"8080\"\nc: \"true\"\nd: \"a: b\"\ne: 5\nf:\n  - 1\n  - \"y\"\ng:\n  h: null\ni: |\n  l1\n  l2\n"
        );
    }
}
