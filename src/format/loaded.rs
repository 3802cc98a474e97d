//! A file's values as a program that loads it sees them, where the format's
//! semantics make that differ from what the file spells out: a YAML merge
//! key (`<<: *defaults`) puts the merged values in the mapping that merges
//! them; dotenv loaders read `export NAME=...` as `NAME` and strip quotes.
//!
//! Each format states its rule through [`Syntax::loaded_path`] and
//! [`Syntax::loaded_value`]; [`loaded_values`] applies the rule to a whole
//! file. `exec` (variable names and values) and `get` / `decrypt --extract`
//! (a path the file does not spell out) both go through here, so they
//! cannot disagree about which value a path names.
//!
//! Invariants: a value written in a mapping wins over a merged one at the
//! same path; among merges the first wins (the YAML merge-key spec); merged
//! values come after the file's other values; a renamed value keeps its
//! place. The leaves themselves (and so encryption, the MAC and the seal)
//! never see this view: it is for reading only.

use super::Syntax;
use crate::path::{KeyPath, Segment};

/// How a program that loads a file names the value at a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadedPath {
    /// As the file spells it.
    Same,
    /// Under another name, in the same place (dotenv `export NAME` is
    /// `NAME`; a byte order mark before the first key is not part of it).
    Renamed(KeyPath),
    /// Merged in from elsewhere (through a YAML merge key): a value written
    /// at the same path wins over it.
    Merged(KeyPath),
}

/// `values` (in document order, as [`super::ParsedFile::values_in_order`]
/// gives them) renamed and merged as a program that loads the file sees
/// them; see the module docs for the order and which value wins.
pub fn loaded_values<T>(
    syntax: &dyn Syntax,
    values: impl IntoIterator<Item = (KeyPath, T)>,
) -> Vec<(KeyPath, T)> {
    let mut out: Vec<(KeyPath, T)> = Vec::new();
    let mut merged: Vec<(KeyPath, T)> = Vec::new();
    for (path, item) in values {
        match syntax.loaded_path(&path) {
            LoadedPath::Same => out.push((path, item)),
            LoadedPath::Renamed(p) => out.push((p, item)),
            LoadedPath::Merged(p) => merged.push((p, item)),
        }
    }
    for m in merged {
        if !out.iter().any(|(p, _)| *p == m.0) {
            out.push(m);
        }
    }
    out
}

/// The first key without a leading byte order mark, if it had one.
///
/// COMPAT(sops): sops' readers keep a leading U+FEFF in the first key (its
/// AAD has it, so the key path must too); a program still wants `K`, not
/// `\u{feff}K`.
pub(crate) fn without_bom(path: &KeyPath) -> Option<KeyPath> {
    match path.segments() {
        [Segment::Key(k), rest @ ..] if k.starts_with('\u{feff}') => {
            let mut segs = vec![Segment::Key(k.trim_start_matches('\u{feff}').into())];
            segs.extend(rest.iter().cloned());
            Some(KeyPath::from_segments(segs))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::FormatKind;

    fn p(s: &str) -> KeyPath {
        KeyPath::parse(s).unwrap()
    }

    fn view(kind: FormatKind, paths: &[&str]) -> Vec<(String, usize)> {
        loaded_values(
            kind.syntax(),
            paths.iter().enumerate().map(|(i, s)| (p(s), i)),
        )
        .into_iter()
        .map(|(path, i)| (path.to_string(), i))
        .collect()
    }

    #[test]
    fn yaml_merges_come_last_and_lose_to_written_keys() {
        assert_eq!(
            view(
                FormatKind::Yaml,
                &["w.<<.region", "w.<<.token", "w.token", "x"]
            ),
            [("w.token", 2), ("x", 3), ("w.region", 0)].map(|(a, b)| (a.to_owned(), b))
        );
        assert_eq!(
            view(FormatKind::Yaml, &["w.<<[0].r", "w.<<[1].r", "w.<<[1].z"]),
            [("w.r", 0), ("w.z", 2)].map(|(a, b)| (a.to_owned(), b))
        );
    }

    #[test]
    fn other_formats_keep_a_merge_key_as_data() {
        for kind in [FormatKind::Json, FormatKind::Toml, FormatKind::Ini] {
            assert_eq!(
                view(kind, &["w.<<.region"]),
                [("w.<<.region".to_owned(), 0)],
                "{kind:?}"
            );
        }
    }

    #[test]
    fn byte_order_marks_leave_the_first_key() {
        let bom = KeyPath::root().child_key("\u{feff}K");
        for kind in [FormatKind::Json, FormatKind::Dotenv, FormatKind::Ini] {
            assert_eq!(
                kind.syntax().loaded_path(&bom),
                LoadedPath::Renamed(p("K")),
                "{kind:?}"
            );
        }
        assert_eq!(
            FormatKind::Json.syntax().loaded_path(&p("K")),
            LoadedPath::Same
        );
    }
}
