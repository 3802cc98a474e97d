//! How a single extracted value or subtree is printed.

use botsecrets::convert;
use botsecrets::format::FormatKind;
use serde_json::Value;

/// A scalar prints as its bare text (no newline, as sops does, so
/// `$(botsecrets decrypt --extract k f)` is the value); a subtree prints in
/// the file's own family: JSON for JSON files, YAML otherwise.
pub fn value_for_print(value: &Value, format: FormatKind) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        tree if format == FormatKind::Json => convert::to_json(tree),
        tree => convert::to_yaml(tree),
    }
}
