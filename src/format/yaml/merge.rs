//! YAML merge keys (`<<: *defaults`, `<<: [*a, *b]`): the parser keeps
//! `<<` as an ordinary key, as go-yaml v3 and so sops do (the leaves, AAD
//! and MAC are sops'); a program that loads the file sees the merged values
//! in the mapping that merges them. This is the path half of that rule;
//! [`crate::format::loaded_values`] decides which value wins.

use crate::path::{KeyPath, Segment};

/// `path` with every merge key removed (the `<<` segment, and the index
/// after it for a list of merges), or `None` when it has none.
pub(crate) fn strip_merge_keys(path: &KeyPath) -> Option<KeyPath> {
    let segs = path.segments();
    if !segs
        .iter()
        .any(|s| matches!(s, Segment::Key(k) if k == "<<"))
    {
        return None;
    }
    let mut out = Vec::with_capacity(segs.len());
    let mut i = 0;
    while i < segs.len() {
        if matches!(&segs[i], Segment::Key(k) if k == "<<") {
            i += 1;
            if matches!(segs.get(i), Some(Segment::Index(_))) {
                i += 1;
            }
            continue;
        }
        out.push(segs[i].clone());
        i += 1;
    }
    Some(KeyPath::from_segments(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> KeyPath {
        KeyPath::parse(s).unwrap()
    }

    #[test]
    fn yaml_merge_keys_are_applied() {
        assert_eq!(strip_merge_keys(&p("w.<<.region")), Some(p("w.region")));
        assert_eq!(strip_merge_keys(&p("w.<<[1].r")), Some(p("w.r")));
        assert_eq!(strip_merge_keys(&p("w.r")), None);
    }
}
