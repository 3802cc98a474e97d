//! sops' flat-key codec for metadata, shared by the dotenv and INI formats
//! (COMPAT(sops): `stores/flatten.go`). Both formats hold only flat
//! `key=value` pairs, so sops flattens the metadata tree into keys such as
//! `age__list_0__map_enc` and writes line breaks inside values as literal
//! `\n`.
//!
//! Reading is tolerant as sops' is (every scalar comes back a string), but
//! bounded: a list index larger than the number of entries is an error, so
//! a hostile file cannot make the reader allocate without limit. Errors name
//! the format and line, never a value.

use serde_json::{Map, Value};

use super::FormatError;
use crate::path::KeyPath;

/// COMPAT(sops): literal `\n` (backslash, `n`) decodes to a line break.
pub(crate) fn decode_newlines(raw: &str) -> String {
    raw.replace("\\n", "\n")
}

/// COMPAT(sops): line breaks are written as literal `\n`.
pub(crate) fn encode_newlines(value: &str) -> String {
    value.replace('\n', "\\n")
}

/// One flattened metadata entry as read from a file.
pub(crate) struct FlatEntry {
    /// The flattened key without the store prefix (`age__list_0__map_enc`).
    pub(crate) key: String,
    /// The value, line breaks already decoded.
    pub(crate) value: String,
    /// 1-based line, for errors.
    pub(crate) line: usize,
}

const MAP_SEP: &str = "__map_";
const LIST_SEP: &str = "__list_";

enum Token {
    Map(String),
    List(usize),
}

/// COMPAT(sops): `stores/flatten.go` `tokenize`: the first segment is a map
/// key, then every `__map_`/`__list_` starts a new segment.
fn tokenize(path: &str) -> Option<Vec<Token>> {
    #[derive(Clone, Copy)]
    enum State {
        Normal,
        Map,
        List,
    }
    let mut tokens = Vec::new();
    let mut state = State::Normal;
    let mut last = 0;
    let mut i = 0;
    let finish = |state: State, last: usize, i: usize, tokens: &mut Vec<Token>| -> Option<()> {
        match state {
            State::Normal => tokens.push(Token::Map(path[last..i].to_owned())),
            State::Map => tokens.push(Token::Map(path[last + MAP_SEP.len()..i].to_owned())),
            State::List => {
                let index = path[last + LIST_SEP.len()..i].parse::<usize>().ok()?;
                tokens.push(Token::List(index));
            }
        }
        Some(())
    };
    while i < path.len() {
        if path[i..].starts_with(MAP_SEP) {
            finish(state, last, i, &mut tokens)?;
            last = i;
            state = State::Map;
            i += MAP_SEP.len();
        } else if path[i..].starts_with(LIST_SEP) {
            finish(state, last, i, &mut tokens)?;
            last = i;
            state = State::List;
            i += LIST_SEP.len();
        } else {
            // Separators are ASCII, so stepping by one char keeps us on a
            // char boundary.
            i += path[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    finish(state, last, i, &mut tokens)?;
    Some(tokens)
}

/// Builds the metadata tree from flattened entries. Scalars stay strings.
/// List indices are bounded by the number of entries, so a hostile index
/// cannot make us allocate without limit.
pub(crate) fn unflatten(entries: &[FlatEntry], format: &'static str) -> Result<Value, FormatError> {
    let mut root = Value::Object(Map::new());
    for entry in entries {
        let bad = |reason: &str| FormatError::Unsupported {
            format,
            line: entry.line,
            reason: reason.to_owned(),
        };
        let tokens =
            tokenize(&entry.key).ok_or_else(|| bad("invalid list index in a metadata key"))?;
        if tokens
            .iter()
            .any(|t| matches!(t, Token::List(i) if *i > entries.len()))
        {
            return Err(bad("list index out of range in a metadata key"));
        }
        let mut node = &mut root;
        for (n, token) in tokens.iter().enumerate() {
            let last = n + 1 == tokens.len();
            let slot = match token {
                Token::Map(k) => {
                    if node.is_null() {
                        *node = Value::Object(Map::new());
                    }
                    let Value::Object(map) = node else {
                        return Err(bad("conflicting metadata keys"));
                    };
                    map.entry(k.clone()).or_insert(Value::Null)
                }
                Token::List(i) => {
                    if node.is_null() {
                        *node = Value::Array(Vec::new());
                    }
                    let Value::Array(list) = node else {
                        return Err(bad("conflicting metadata keys"));
                    };
                    if list.len() <= *i {
                        list.resize(*i + 1, Value::Null);
                    }
                    &mut list[*i]
                }
            };
            if last {
                if !slot.is_null() {
                    return Err(bad("repeated or conflicting metadata key"));
                }
                *slot = Value::String(entry.value.clone());
            }
            node = slot;
        }
    }
    Ok(root)
}

/// Flattens a metadata tree as sops does (`FlattenMetadata`,
/// `EncodeNonStrings`): `__map_`/`__list_` segments, booleans as
/// `true`/`false`, numbers as their decimal text, nulls and empty
/// collections dropped. Values keep their line breaks; the entries are
/// sorted by key (Go's `sort.Strings`: bytewise).
pub(crate) fn flatten(
    tree: &Value,
    format: &'static str,
) -> Result<Vec<(String, String)>, FormatError> {
    let Value::Object(map) = tree else {
        return Err(FormatError::Unrepresentable {
            format,
            path: KeyPath::root().child_key("sops"),
            reason: "the metadata must be an object".into(),
        });
    };
    fn walk(prefix: String, value: &Value, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    walk(format!("{prefix}{MAP_SEP}{k}"), v, out);
                }
            }
            Value::Array(list) => {
                for (i, v) in list.iter().enumerate() {
                    walk(format!("{prefix}{LIST_SEP}{i}"), v, out);
                }
            }
            Value::String(s) => out.push((prefix, s.clone())),
            Value::Bool(b) => out.push((prefix, b.to_string())),
            Value::Number(n) => out.push((prefix, n.to_string())),
            Value::Null => {}
        }
    }
    let mut out = Vec::new();
    for (k, v) in map {
        walk(k.clone(), v, &mut out);
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(flat: &[(String, String)]) -> Vec<FlatEntry> {
        flat.iter()
            .enumerate()
            .map(|(i, (k, v))| FlatEntry {
                key: k.clone(),
                value: v.clone(),
                line: i + 1,
            })
            .collect()
    }

    #[test]
    fn flattens_sorted_and_reads_back() {
        let tree = serde_json::json!({
            "version": "3.11.0",
            "age": [{"recipient": "age1x", "enc": "a\nb"}],
            "mac_only_encrypted": true,
            "empty": null,
        });
        let flat = flatten(&tree, "dotenv").unwrap();
        let keys: Vec<&str> = flat.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "age__list_0__map_enc",
                "age__list_0__map_recipient",
                "mac_only_encrypted",
                "version"
            ]
        );
        let back = unflatten(&entries(&flat), "dotenv").unwrap();
        assert_eq!(
            back,
            serde_json::json!({
                "age": [{"enc": "a\nb", "recipient": "age1x"}],
                "mac_only_encrypted": "true",
                "version": "3.11.0",
            })
        );
        assert_eq!(decode_newlines(&encode_newlines("a\nb")), "a\nb");
    }

    #[test]
    fn refuses_huge_and_conflicting_indices() {
        let one = |k: &str| vec![(k.to_owned(), "x".to_owned())];
        assert!(unflatten(&entries(&one("age__list_99")), "ini").is_err());
        assert!(unflatten(&entries(&one("age__list_x")), "ini").is_err());
        let both = vec![
            ("a".to_owned(), "x".to_owned()),
            ("a__map_b".to_owned(), "y".to_owned()),
        ];
        assert!(unflatten(&entries(&both), "ini").is_err());
    }
}
