//! How things are printed: a single extracted value or subtree, and what a
//! seal vouches for (the `seal` and `updatekeys` summaries, textconv's
//! trailer).

use botsecrets::convert;
use botsecrets::format::FormatKind;
use botsecrets::metadata::{effective_threshold, Metadata};
use serde_json::Value;

use super::names::Names;

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

/// The lines that say what a seal of `meta` vouches for (also the textconv
/// summary's body): recipients per group, threshold, selection rule, MAC
/// mode.
/// Each recipient by name where the rules name it.
pub fn describe(meta: &Metadata, names: &Names) -> Vec<String> {
    let mut lines = Vec::new();
    let groups = meta.key_groups.len();
    for (i, g) in meta.key_groups.iter().enumerate() {
        let group = if groups > 1 {
            format!(" (group {})", i + 1)
        } else {
            String::new()
        };
        for s in &g.age {
            lines.push(format!("recipient: {}{group}", names.show(&s.recipient)));
        }
        for (kind, entries) in &g.foreign {
            for id in foreign_names(entries) {
                lines.push(format!("recipient: {kind} {id}{group}"));
            }
        }
    }
    let threshold = effective_threshold(groups, meta.shamir_threshold);
    if threshold > 0 {
        lines.push(format!("threshold: {threshold} of {groups} key groups"));
    }
    let (option, value) = meta.selection.field();
    lines.push(format!("selection: {option}: {value}"));
    lines.push(format!(
        "mac: {}",
        if meta.mac_only_encrypted {
            "encrypted values only (mac_only_encrypted)"
        } else {
            "all values"
        }
    ));
    // Scopes are covered by the seal too: a change shows in `git diff`.
    for scope in &meta.scopes {
        let readers: Vec<String> = scope
            .recipients
            .iter()
            .map(|r| names.show(&r.recipient))
            .collect();
        lines.push(format!(
            "scope {}: paths {}; readers {}",
            scope.name,
            scope.paths.join(", "),
            readers.join(", ")
        ));
    }
    lines
}

/// A short public name for each foreign key entry (pgp `fp`, kms `arn`...).
fn foreign_names(entries: &serde_json::Value) -> Vec<String> {
    let items: Vec<&serde_json::Value> = match entries {
        serde_json::Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    items
        .into_iter()
        .map(|e| {
            for k in [
                "fp",
                "arn",
                "resource_id",
                "vault_url",
                "vault_address",
                "key_id",
            ] {
                if let Some(v) = e.get(k).and_then(|v| v.as_str()) {
                    return v.to_owned();
                }
            }
            "(entry)".to_owned()
        })
        .collect()
}
