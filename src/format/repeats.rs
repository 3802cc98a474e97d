//! Finds the first repeated key among many, once they are all read, by
//! sorting (hash, position) marks, instead of probing a hash set per key:
//! at a million keys the set was far larger than the cache, every probe a
//! miss, and the probes grew faster than the file (dotenv's lines, a JSON
//! object's members). A sort touches memory in order.
//!
//! The answer is the one a set probed key by key gives: the earliest key
//! whose text an earlier key already had.

/// A key: the keyed hash of its text and its position in the file (its
/// order among the keys; equal positions do not occur).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mark {
    pub(crate) hash: u64,
    pub(crate) position: usize,
}

/// The position of the earliest mark whose key equals an earlier mark's;
/// `same(a, b)` compares the texts of the keys at two positions (only
/// asked when their hashes are equal). Sorts `marks`.
pub(crate) fn first_repeat<E>(
    marks: &mut [Mark],
    mut same: impl FnMut(usize, usize) -> Result<bool, E>,
) -> Result<Option<usize>, E> {
    marks.sort_unstable_by_key(|m| (m.hash, m.position));
    let mut first: Option<usize> = None;
    // Almost every run of equal hashes is one key; a longer one is mostly
    // one key repeated, rarely a collision of different keys.
    for run in marks.chunk_by(|a, b| a.hash == b.hash) {
        for (i, later) in run.iter().enumerate().skip(1) {
            // The run is in file order: the rest come later still.
            if first.is_some_and(|f| f < later.position) {
                break;
            }
            for earlier in &run[..i] {
                if same(earlier.position, later.position)? {
                    first = Some(later.position);
                    break;
                }
            }
            if first == Some(later.position) {
                break;
            }
        }
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::hash::BuildHasher;

    use super::*;

    /// The position of the first repeat in `keys`, with every key given
    /// the hash `hash(key)` (a bad hash makes collisions of different keys).
    fn repeat(keys: &[&str], hash: impl Fn(&str) -> u64) -> Option<usize> {
        let mut marks: Vec<Mark> = keys
            .iter()
            .enumerate()
            .map(|(position, k)| Mark {
                hash: hash(k),
                position,
            })
            .collect();
        let Ok(found) = first_repeat(&mut marks, |a, b| Ok::<_, Infallible>(keys[a] == keys[b]));
        found
    }

    fn length_hash(key: &str) -> u64 {
        key.len() as u64
    }

    #[test]
    fn the_first_key_that_repeats_is_found_also_among_collisions() {
        for hash in [length_hash as fn(&str) -> u64, |k: &str| {
            k.as_bytes()[0].into()
        }] {
            assert_eq!(repeat(&["A", "B", "C"], hash), None);
            assert_eq!(repeat(&["A", "B", "A"], hash), Some(2));
            assert_eq!(repeat(&["A", "B", "C", "B", "A"], hash), Some(3));
            assert_eq!(repeat(&["X", "A", "A", "A"], hash), Some(2));
            assert_eq!(repeat(&[], hash), None);
        }
        // Colliding different keys are not repeats.
        assert_eq!(repeat(&["AB", "CD", "EF"], length_hash), None);
        assert_eq!(repeat(&["AB", "CD", "EF", "CD"], length_hash), Some(3));
    }

    #[test]
    fn agrees_with_a_set_probed_key_by_key() {
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
            let expected = keys.iter().position(|k| !seen.insert(*k));
            assert_eq!(repeat(&keys, length_hash), expected, "{keys:?}");
            let keyed = std::collections::hash_map::RandomState::new();
            assert_eq!(repeat(&keys, |k| keyed.hash_one(k)), expected, "{keys:?}");
            seed = seed.wrapping_add(7);
        }
    }
}
