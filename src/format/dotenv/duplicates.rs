//! A dotenv file's repeated key, found once every line is read
//! ([`crate::format::repeats`]: a sort, where a hash set probed per line
//! missed the cache at a million keys).

use std::convert::Infallible;
use std::hash::BuildHasher;

use crate::format::repeats::{first_repeat, Mark};

/// The keys of a dotenv file's lines, in file order.
pub(super) struct KeyLines {
    // SECURITY: keyed per run, so a writer cannot line up colliding keys.
    hasher: std::collections::hash_map::RandomState,
    marks: Vec<Mark>,
}

impl KeyLines {
    /// Room for `capacity` keys.
    pub(super) fn with_capacity(capacity: usize) -> Self {
        Self {
            hasher: Default::default(),
            marks: Vec::with_capacity(capacity),
        }
    }

    /// Records that leaf `leaf` has key `key` (leaves are in file order).
    pub(super) fn push(&mut self, key: &str, leaf: usize) {
        self.marks.push(Mark {
            hash: self.hasher.hash_one(key),
            position: leaf,
        });
    }

    /// The first leaf whose key an earlier leaf had; `key_of(leaf)` gives
    /// a leaf's key. Sorts the marks.
    pub(super) fn first_repeat<'k>(&mut self, key_of: impl Fn(usize) -> &'k str) -> Option<usize> {
        let Ok(found) = first_repeat(&mut self.marks, |a, b| {
            Ok::<_, Infallible>(key_of(a) == key_of(b))
        });
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repeat(keys: &[&str]) -> Option<usize> {
        let mut k = KeyLines::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            k.push(key, i);
        }
        k.first_repeat(|leaf| keys[leaf])
    }

    #[test]
    fn the_first_line_that_repeats_a_key_is_found() {
        assert_eq!(repeat(&["A", "B", "C"]), None);
        assert_eq!(repeat(&["A", "B", "A"]), Some(2));
        // B repeats on line 4 before A does on line 5.
        assert_eq!(repeat(&["A", "B", "C", "B", "A"]), Some(3));
        // Three times: the second one is where it repeats.
        assert_eq!(repeat(&["X", "A", "A", "A"]), Some(2));
        assert_eq!(repeat(&[]), None);
    }
}
