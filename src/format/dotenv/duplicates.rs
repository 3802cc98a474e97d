//! Finds a repeated key among a dotenv file's lines once they are all
//! read, by sorting (hash, line) pairs, instead of probing a hash set per
//! line: at a million keys the set was far larger than the cache, every
//! probe a miss, and the probes a sixth of an encrypt's time, which grew
//! faster than the file. A sort touches memory in order.
//!
//! The answer is the one a set probed line by line gives: the first line
//! whose key an earlier line already had.

use std::hash::BuildHasher;

use crate::format::to_u32;

/// One key line: its key's hash, its leaf and its line number.
struct Entry {
    hash: u64,
    leaf: u32,
    line: u32,
}

/// The keys of a dotenv file's lines, in file order.
pub(super) struct KeyLines {
    // SECURITY: keyed per run, so a writer cannot line up colliding keys.
    hasher: std::collections::hash_map::RandomState,
    entries: Vec<Entry>,
}

impl KeyLines {
    /// Room for `capacity` keys.
    pub(super) fn with_capacity(capacity: usize) -> Self {
        Self {
            hasher: Default::default(),
            entries: Vec::with_capacity(capacity),
        }
    }

    /// Records that leaf `leaf`, on line `line`, has key `key`. (Leaf and
    /// line numbers fit in 32 bits: four billion lines would not fit in
    /// memory first.)
    pub(super) fn push(&mut self, key: &str, leaf: usize, line: usize) {
        self.entries.push(Entry {
            hash: self.hasher.hash_one(key),
            leaf: to_u32(leaf),
            line: to_u32(line),
        });
    }

    /// The first line whose key an earlier line had, as (leaf, line);
    /// `key_of(leaf)` gives a leaf's key. Sorts the entries.
    pub(super) fn first_repeat<'k>(
        &mut self,
        key_of: impl Fn(usize) -> &'k str,
    ) -> Option<(usize, usize)> {
        self.entries.sort_unstable_by_key(|e| (e.hash, e.line));
        let mut first: Option<&Entry> = None;
        for run in self.entries.chunk_by(|a, b| a.hash == b.hash) {
            // Almost every run is one key; a longer one is mostly one key
            // repeated, rarely a collision of different keys.
            for (i, later) in run.iter().enumerate().skip(1) {
                let key = key_of(later.leaf as usize);
                if run[..i].iter().any(|e| key_of(e.leaf as usize) == key)
                    && first.is_none_or(|f| later.line < f.line)
                {
                    first = Some(later);
                }
            }
        }
        first.map(|e| (e.leaf as usize, e.line as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repeat(keys: &[&str]) -> Option<(usize, usize)> {
        let mut k = KeyLines::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            k.push(key, i, i + 1);
        }
        k.first_repeat(|leaf| keys[leaf])
    }

    #[test]
    fn the_first_line_that_repeats_a_key_is_found() {
        assert_eq!(repeat(&["A", "B", "C"]), None);
        assert_eq!(repeat(&["A", "B", "A"]), Some((2, 3)));
        // B repeats on line 4 before A does on line 5.
        assert_eq!(repeat(&["A", "B", "C", "B", "A"]), Some((3, 4)));
        // Three times: the second one is where it repeats.
        assert_eq!(repeat(&["X", "A", "A", "A"]), Some((2, 3)));
        assert_eq!(repeat(&[]), None);
    }

    #[test]
    fn agrees_with_a_set_probed_line_by_line() {
        // Pseudo-random key lists over a small alphabet, so repeats are
        // common and at every position.
        let mut seed = 0x9e37_79b9_u32;
        for _ in 0..500 {
            let n = (seed % 40) as usize;
            let keys: Vec<String> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    format!("K{}", (seed >> 24) % 30)
                })
                .collect();
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            let mut seen = std::collections::HashSet::new();
            let expected = keys
                .iter()
                .position(|k| !seen.insert(*k))
                .map(|i| (i, i + 1));
            assert_eq!(repeat(&keys), expected, "{keys:?}");
            seed = seed.wrapping_add(7);
        }
    }
}
