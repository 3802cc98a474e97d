//! What a dotenv loader (docker compose, python-dotenv) makes of a line,
//! as opposed to what sops stores: the name it gives `export NAME` and the
//! value it sets (quotes stripped, escapes of double-quoted values
//! processed, an unquoted ` # note` dropped). `exec` and `get` see them
//! through [`crate::format::Syntax::loaded_path`] and
//! [`crate::format::Syntax::loaded_value`]; the leaves (and so the AAD and
//! MAC) keep sops' raw text.

use crate::path::{KeyPath, Segment};

/// The name a dotenv loader gives the key `export NAME` (`export` and the
/// blanks after it dropped), or `None` for any other path.
pub(super) fn export_name(path: &KeyPath) -> Option<KeyPath> {
    match path.segments() {
        [Segment::Key(k)] => match k.strip_prefix("export") {
            Some(rest) if rest.starts_with([' ', '\t']) => {
                Some(KeyPath::from_segments(vec![Segment::Key(
                    rest.trim_start().into(),
                )]))
            }
            _ => None,
        },
        _ => None,
    }
}

/// What a common dotenv loader (docker compose, python-dotenv) would set for
/// a leaf value, whose text is the raw value as sops sees it (with literal
/// `\n` already decoded to line breaks):
/// - `"..."`: the text between the quotes, with `\n`, `\"` and `\\` processed;
///   anything after the closing quote (a ` # comment`) is ignored;
/// - `'...'`: the text between the quotes, literally;
/// - unquoted: up to an unquoted ` #comment`, trailing whitespace trimmed.
///
/// Surrounding whitespace and the `\r` of a CRLF line are dropped first. An
/// opening quote without its closing quote is read as unquoted text.
pub fn loader_value(raw: &str) -> String {
    let s = raw.strip_suffix('\r').unwrap_or(raw).trim();
    if let Some(rest) = s.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return out,
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('"') => out.push('"'),
                    Some('\\') => out.push('\\'),
                    Some(other) => {
                        out.push('\\');
                        out.push(other);
                    }
                    None => out.push('\\'),
                },
                other => out.push(other),
            }
        }
        // No closing quote: fall through to the unquoted reading.
    } else if let Some(rest) = s.strip_prefix('\'') {
        if let Some(end) = rest.find('\'') {
            return rest[..end].to_owned();
        }
    }
    let cut = s
        .char_indices()
        .find(|&(i, c)| c == '#' && i > 0 && s[..i].ends_with([' ', '\t']))
        .map_or(s.len(), |(i, _)| i);
    s[..cut].trim_end().to_owned()
}
