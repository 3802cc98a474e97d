//! The three-way merge behind the git merge driver: base, ours and theirs
//! are decrypted in memory, merged per key path, and the result is
//! re-encrypted with the minimal-diff rule.
//!
//! Per key path (a scalar leaf; lists by index): changed on one side takes
//! that side; changed identically on both is fine; changed differently on
//! both is a conflict. Added and removed keys follow the same rule (absent
//! is a value). A list changed on both sides is merged as a whole (index
//! shifts make per-index merges unsafe): the same change is fine, anything
//! else is a conflict. Comments are merged as a whole too.
//!
//! The result starts from one side's plaintext (the "layout": ours, unless
//! only theirs changed comments or theirs carries the keys) and the other
//! side's changes are spliced into it with the format's render / insert /
//! remove, so the layout of the file is kept. The merged text is re-parsed
//! and must hold exactly the merged values; anything else is a conflict,
//! never a silently wrong file.
//!
//! Which data key and metadata the result gets: ours, unless only theirs
//! changed the recipients or the data key (a rotation, perhaps to revoke
//! someone): then theirs, so a merge never undoes a rotation. Both changing
//! them differently is a conflict.
//!
//! SECURITY: the selection rule and `mac_only_encrypted` always stay ours.
//! Their version changing them is refused, never adopted: a
//! writer without the key can edit the rule into one the values still
//! agree with (`encrypted_regex: ^(a|b)$` listing exactly today's encrypted
//! keys), and adopting it would leave every key added later in the clear.
//!
//! SECURITY: plaintext lives in zeroizing strings and never leaves this
//! module except as the re-encrypted result; conflicts name key paths,
//! never values.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use zeroize::Zeroizing;

use crate::document::{DocumentError, Opened};
use crate::format::{
    apply_splices, FormatError, FormatKind, LeafKind, ParsedFile, Replacement, Splice,
};
use crate::path::{KeyPath, Segment};

/// Which side of the merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The branch being merged into (`%A`).
    Ours,
    /// The branch being merged (`%B`).
    Theirs,
}

/// Why a key path could not be merged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConflictReason {
    /// Both sides changed the value, differently.
    BothChanged,
    /// One side changed the value, the other removed it.
    ChangedAndRemoved,
    /// Both sides added the key, with different values.
    BothAdded,
    /// Both sides changed the same list differently.
    ListChanged,
    /// Both sides changed comments, differently.
    Comments,
    /// Both sides changed the recipients, the selection rule or the data
    /// key, differently.
    Recipients,
    /// Their version changed the selection rule or MAC mode: a merge never
    /// takes those from the other side.
    Selection,
    /// The change cannot be written automatically (why, without values).
    Unmergeable(String),
}

/// A key path that needs a human.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The key path (or `(comments)`, `(sops metadata)`), as shown to users.
    pub path: String,
    /// Why.
    pub reason: ConflictReason,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match &self.reason {
            ConflictReason::BothChanged => "changed differently on both sides".to_owned(),
            ConflictReason::ChangedAndRemoved => {
                "changed on one side and removed on the other".to_owned()
            }
            ConflictReason::BothAdded => "added on both sides with different values".to_owned(),
            ConflictReason::ListChanged => {
                "the list was changed differently on both sides (lists merge as a whole)".to_owned()
            }
            ConflictReason::Comments => {
                "comments were changed differently on both sides".to_owned()
            }
            ConflictReason::Recipients => {
                "the recipients, selection rule or data key were changed differently on both sides"
                    .to_owned()
            }
            ConflictReason::Selection => {
                "their version changed the selection rule or MAC mode; a merge never takes those from the other side (if the change is meant, make it on this branch with a key)"
                    .to_owned()
            }
            ConflictReason::Unmergeable(why) => format!("cannot be merged automatically: {why}"),
        };
        write!(f, "{}: {why}", self.path)
    }
}

/// Why a merge did not produce a file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// Key paths that need a human.
    #[error("{} conflicting key path(s): {}", .0.len(), .0.iter().map(|c| c.path.as_str()).collect::<Vec<_>>().join(", "))]
    Conflicts(Vec<Conflict>),
    /// A side could not be parsed or re-encrypted.
    #[error(transparent)]
    Document(#[from] DocumentError),
}

impl From<FormatError> for MergeError {
    fn from(e: FormatError) -> Self {
        MergeError::Document(e.into())
    }
}

/// A value as compared by the merge: its kind and canonical text.
type Val<'a> = (LeafKind, &'a str);
/// Where a value sits: (YAML document, key path).
type Loc = (usize, KeyPath);

fn values(parsed: &ParsedFile) -> BTreeMap<Loc, Val<'_>> {
    parsed
        .leaves
        .iter()
        .filter(|l| l.kind != LeafKind::Comment)
        .map(|l| {
            (
                (l.document as usize, l.path.clone()),
                (l.kind, l.value.expose()),
            )
        })
        .collect()
}

fn comments(parsed: &ParsedFile) -> Vec<(usize, &KeyPath, &str)> {
    parsed
        .leaves
        .iter()
        .filter(|l| l.kind == LeafKind::Comment)
        .map(|l| (l.document as usize, &l.path, l.value.expose()))
        .collect()
}

fn show(loc: &Loc) -> String {
    if loc.0 == 0 {
        loc.1.to_string()
    } else {
        format!("document {}: {}", loc.0 + 1, loc.1)
    }
}

/// The outermost list a path goes through: the prefix before its first
/// index.
fn list_root(loc: &Loc) -> Option<Loc> {
    let segs = loc.1.segments();
    let i = segs.iter().position(|s| matches!(s, Segment::Index(_)))?;
    Some((loc.0, KeyPath::from_segments(segs[..i].to_vec())))
}

fn under(loc: &Loc, prefix: &Loc) -> bool {
    loc.0 == prefix.0 && loc.1.starts_with(&prefix.1)
}

/// Merges three plaintexts of one format. `base` is `None` when the file
/// has no common ancestor (added on both sides). `prefer` is the side whose
/// layout the result starts from when comments do not decide.
pub fn merge_plaintexts(
    kind: FormatKind,
    base: Option<&str>,
    ours: &str,
    theirs: &str,
    prefer: Side,
) -> Result<Zeroizing<String>, MergeError> {
    let syntax = kind.syntax();
    let bp = base.map(|t| syntax.parse(t)).transpose()?;
    let op = syntax.parse(ours)?;
    let tp = syntax.parse(theirs)?;
    let bv = bp.as_ref().map(values).unwrap_or_default();
    let ov = values(&op);
    let tv = values(&tp);

    let mut conflicts = Vec::new();
    let changed = |side: &BTreeMap<Loc, Val<'_>>| -> BTreeSet<Loc> {
        bv.keys()
            .chain(side.keys())
            .filter(|k| bv.get(*k) != side.get(*k))
            .cloned()
            .collect()
    };
    let (co, ct) = (changed(&ov), changed(&tv));
    let lists_o: BTreeSet<Loc> = co.iter().filter_map(list_root).collect();
    let lists_t: BTreeSet<Loc> = ct.iter().filter_map(list_root).collect();
    let mut locked_lists = Vec::new();
    for root in lists_o.intersection(&lists_t) {
        let same = ov
            .iter()
            .filter(|(k, _)| under(k, root))
            .eq(tv.iter().filter(|(k, _)| under(k, root)));
        if !same {
            conflicts.push(Conflict {
                path: show(root),
                reason: ConflictReason::ListChanged,
            });
        }
        locked_lists.push(root.clone());
    }

    // The merged values.
    let mut result: BTreeMap<Loc, Val<'_>> = BTreeMap::new();
    let all: BTreeSet<&Loc> = bv.keys().chain(ov.keys()).chain(tv.keys()).collect();
    for loc in all {
        let (b, o, t) = (bv.get(loc), ov.get(loc), tv.get(loc));
        let r = if o == t {
            o
        } else if b == o {
            t
        } else if b == t {
            o
        } else if locked_lists.iter().any(|root| under(loc, root)) {
            // Reported once for the whole list.
            continue;
        } else {
            let reason = match (b, o, t) {
                (None, _, _) => ConflictReason::BothAdded,
                (Some(_), None, _) | (Some(_), _, None) => ConflictReason::ChangedAndRemoved,
                _ => ConflictReason::BothChanged,
            };
            conflicts.push(Conflict {
                path: show(loc),
                reason,
            });
            continue;
        };
        if let Some(v) = r {
            result.insert(loc.clone(), *v);
        }
    }

    // Which layout to start from: comments decide, as a whole.
    let cb = bp.as_ref().map(comments).unwrap_or_default();
    let (cmo, cmt) = (comments(&op), comments(&tp));
    let layout = if cmo == cmt {
        prefer
    } else if cmt == cb {
        Side::Ours
    } else if cmo == cb {
        Side::Theirs
    } else {
        conflicts.push(Conflict {
            path: "(comments)".into(),
            reason: ConflictReason::Comments,
        });
        prefer
    };
    if !conflicts.is_empty() {
        return Err(MergeError::Conflicts(conflicts));
    }
    let (start, start_parsed, other_parsed) = match layout {
        Side::Ours => (ours, &op, &tp),
        Side::Theirs => (theirs, &tp, &op),
    };
    let merged = apply_changes(kind, start, start_parsed, other_parsed, &result)?;
    // Self-check: the merged text holds exactly the merged values.
    let check = syntax.parse(&merged)?;
    let got = values(&check);
    if got != result {
        let mut diff: Vec<Conflict> = got
            .keys()
            .chain(result.keys())
            .filter(|k| got.get(*k) != result.get(*k))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|k| Conflict {
                path: show(k),
                reason: ConflictReason::Unmergeable(
                    "the merged file would not hold the merged value".into(),
                ),
            })
            .collect();
        diff.truncate(20);
        return Err(MergeError::Conflicts(diff));
    }
    Ok(merged)
}

/// Turns `start` (parsed as `parsed`) into a text holding `target`'s values:
/// changed values re-rendered in place, removed entries deleted (a whole
/// subtree at once when nothing under it survives), new entries inserted in
/// `other`'s order.
fn apply_changes(
    kind: FormatKind,
    start: &str,
    parsed: &ParsedFile,
    other: &ParsedFile,
    target: &BTreeMap<Loc, Val<'_>>,
) -> Result<Zeroizing<String>, MergeError> {
    let syntax = kind.syntax();
    let have = values(parsed);
    let unmergeable = |loc: &Loc, why: String| {
        MergeError::Conflicts(vec![Conflict {
            path: show(loc),
            reason: ConflictReason::Unmergeable(why),
        }])
    };

    // 1. Values changed in place.
    let mut splices = Vec::new();
    for leaf in parsed.leaves.iter().filter(|l| l.kind != LeafKind::Comment) {
        let loc = (leaf.document as usize, leaf.path.clone());
        let Some(want) = target.get(&loc) else {
            continue;
        };
        if have.get(&loc) == Some(want) {
            continue;
        }
        let LeafKind::Value(ty) = want.0 else {
            return Err(unmergeable(&loc, "a value became null".into()));
        };
        let text = syntax
            .render(start, leaf, &Replacement::Value(ty, want.1))
            .map_err(|e| unmergeable(&loc, e.to_string()))?;
        splices.push(Splice {
            range: leaf.span.clone(),
            text,
        });
    }
    let mut text = Zeroizing::new(apply_splices(start, &mut splices)?);

    // 2. Removals: the shortest prefix under which nothing survives, last
    //    first so that list indices before it stay valid.
    let mut removals = BTreeSet::new();
    for loc in have.keys().filter(|k| !target.contains_key(*k)) {
        let segs = loc.1.segments();
        let prefix = (1..=segs.len())
            .map(|n| (loc.0, KeyPath::from_segments(segs[..n].to_vec())))
            .find(|q| !target.keys().any(|k| under(k, q)))
            .unwrap_or_else(|| loc.clone());
        removals.insert(prefix);
    }
    // Drop prefixes inside another removed prefix.
    let removals: Vec<Loc> = removals
        .iter()
        .filter(|q| !removals.iter().any(|p| p != *q && under(q, p)))
        .cloned()
        .collect();
    for loc in removals.iter().rev() {
        if loc.0 != 0 {
            return Err(unmergeable(
                loc,
                "a key was removed in a later YAML document".into(),
            ));
        }
        let now = syntax.parse(&text)?;
        let mut s = syntax
            .remove(&text, &now, &loc.1)
            .map_err(|e| unmergeable(loc, e.to_string()))?;
        text = Zeroizing::new(apply_splices(&text, &mut s)?);
    }

    // 3. Insertions, in the other side's document order.
    let other_order: Vec<Loc> = other
        .leaves
        .iter()
        .filter(|l| l.kind != LeafKind::Comment)
        .map(|l| (l.document as usize, l.path.clone()))
        .collect();
    let mut inserts: Vec<&Loc> = target.keys().filter(|k| !have.contains_key(*k)).collect();
    inserts.sort_by_key(|k| {
        other_order
            .iter()
            .position(|o| o == *k)
            .unwrap_or(usize::MAX)
    });
    for loc in inserts {
        let want = target[loc];
        if loc.0 != 0 {
            return Err(unmergeable(
                loc,
                "a key was added in a later YAML document".into(),
            ));
        }
        let LeafKind::Value(ty) = want.0 else {
            return Err(unmergeable(loc, "a null was added".into()));
        };
        let now = syntax.parse(&text)?;
        let mut s = syntax
            .insert(&text, &now, &loc.1, &Replacement::Value(ty, want.1))
            .map_err(|e| unmergeable(loc, e.to_string()))?;
        text = Zeroizing::new(apply_splices(&text, &mut s)?);
    }
    Ok(text)
}

/// What a side's keys look like, to tell whether it changed them.
fn key_signature(o: &Opened<'_>) -> (Vec<Vec<String>>, u32, (&'static str, String), bool) {
    let m = o.metadata();
    let mut groups: Vec<Vec<String>> = m
        .key_groups
        .iter()
        .map(|g| {
            let mut r: Vec<String> = g.age.iter().map(|s| s.recipient.clone()).collect();
            r.sort();
            r
        })
        .collect();
    // Who reads which scope is part of the keys: a side that changed a
    // scope (a revoked reader) carries the merge, as for recipients.
    for scope in &m.scopes {
        let mut r: Vec<String> = scope
            .recipients
            .iter()
            .map(|s| s.recipient.clone())
            .collect();
        r.sort();
        let mut sig = vec![format!("scope {}", scope.name)];
        sig.extend(scope.paths.iter().map(|p| format!("path {p}")));
        sig.extend(r);
        groups.push(sig);
    }
    let (field, value) = m.selection.field();
    (
        groups,
        m.shamir_threshold,
        (field, value.to_owned()),
        m.mac_only_encrypted,
    )
}

/// Merges three opened versions of an encrypted file (each opened with its
/// MAC verified) and returns the merged file, re-encrypted (unchanged
/// values keep their ciphertext) with a fresh MAC and `lastmodified = now`.
/// The format is ours.
pub fn merge(
    base: Option<Opened<'_>>,
    ours: Opened<'_>,
    theirs: Opened<'_>,
    now: &str,
) -> Result<String, MergeError> {
    let kind = ours.file().format();
    let changed = |side: &Opened<'_>| match &base {
        None => true,
        Some(b) => key_signature(side) != key_signature(b) || !side.same_key(b),
    };
    let selection = |o: &Opened<'_>| {
        let m = o.metadata();
        let (field, value) = m.selection.field();
        (field, value.to_owned(), m.mac_only_encrypted)
    };
    // Theirs differing from ours is fine only when theirs is the base's
    // (we changed it on our side): the result keeps ours either way.
    let theirs_changed_it = base
        .as_ref()
        .is_none_or(|b| selection(b) != selection(&theirs));
    if selection(&ours) != selection(&theirs) && theirs_changed_it {
        return Err(MergeError::Conflicts(vec![Conflict {
            path: "(sops metadata)".into(),
            reason: ConflictReason::Selection,
        }]));
    }
    let (changed_o, changed_t) = (changed(&ours), changed(&theirs));
    let same_keys = key_signature(&ours) == key_signature(&theirs);
    if changed_o && changed_t && !same_keys {
        return Err(MergeError::Conflicts(vec![Conflict {
            path: "(sops metadata)".into(),
            reason: ConflictReason::Recipients,
        }]));
    }
    let carrier = if changed_t && !changed_o {
        Side::Theirs
    } else {
        Side::Ours
    };
    let base_plain = base.as_ref().map(|b| b.plaintext()).transpose()?;
    let ours_plain = ours.plaintext()?;
    let theirs_plain = theirs.plaintext()?;
    let merged = merge_plaintexts(
        kind,
        base_plain.as_ref().map(|p| p.as_str()),
        &ours_plain,
        &theirs_plain,
        carrier,
    )?;
    let (mut keep, other) = match carrier {
        Side::Ours => (ours, theirs),
        Side::Theirs => (theirs, ours),
    };
    keep.adopt_ivs(&other);
    drop(other);
    Ok(keep.reencrypt(&merged, now)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(base: &str, ours: &str, theirs: &str) -> Result<String, Vec<String>> {
        m_kind(FormatKind::Yaml, Some(base), ours, theirs)
    }

    fn m_kind(
        kind: FormatKind,
        base: Option<&str>,
        ours: &str,
        theirs: &str,
    ) -> Result<String, Vec<String>> {
        match merge_plaintexts(kind, base, ours, theirs, Side::Ours) {
            Ok(t) => Ok(t.to_string()),
            Err(MergeError::Conflicts(c)) => Err(c.iter().map(|c| c.to_string()).collect()),
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    const BASE: &str = "# fleet\nweather:\n  api_key: w1\n  region: eu\ntelegram: t1\n";

    #[test]
    fn changes_to_different_keys_merge() {
        let ours = BASE.replace("w1", "w2");
        let theirs = BASE.replace("t1", "t2");
        assert_eq!(
            m(BASE, &ours, &theirs).unwrap(),
            BASE.replace("w1", "w2").replace("t1", "t2")
        );
    }

    #[test]
    fn one_side_changes_take_that_side_and_identical_changes_are_fine() {
        let ours = BASE.replace("w1", "w2");
        assert_eq!(m(BASE, &ours, BASE).unwrap(), ours);
        assert_eq!(m(BASE, BASE, &ours).unwrap(), ours);
        assert_eq!(m(BASE, &ours, &ours).unwrap(), ours);
    }

    #[test]
    fn different_changes_to_one_key_conflict_without_values() {
        let err = m(BASE, &BASE.replace("w1", "w2"), &BASE.replace("w1", "w3")).unwrap_err();
        assert_eq!(err, ["weather.api_key: changed differently on both sides"]);
        assert!(!err.concat().contains("w2") && !err.concat().contains("w3"));
    }

    #[test]
    fn added_and_removed_keys() {
        // Theirs adds a key and removes another; ours changes a third.
        let ours = BASE.replace("w1", "w2");
        let theirs = "# fleet\nweather:\n  api_key: w1\n  region: eu\n  new: n1\n";
        assert_eq!(
            m(BASE, &ours, theirs).unwrap(),
            "# fleet\nweather:\n  api_key: w2\n  region: eu\n  new: n1\n"
        );
        // Theirs removes a whole map: it goes entirely.
        let theirs = "# fleet\ntelegram: t1\n";
        assert_eq!(
            m(BASE, &BASE.replace("t1", "t9"), theirs).unwrap(),
            "# fleet\ntelegram: t9\n"
        );
        // Changed on one side, removed on the other.
        let err = m(
            BASE,
            &BASE.replace("t1", "t9"),
            "# fleet\nweather:\n  api_key: w1\n  region: eu\n",
        )
        .unwrap_err();
        assert_eq!(
            err,
            ["telegram: changed on one side and removed on the other"]
        );
        // Both add the same key: equal is fine, different conflicts.
        let add = |v: &str| format!("{BASE}slack: {v}\n");
        assert_eq!(m(BASE, &add("s"), &add("s")).unwrap(), add("s"));
        assert_eq!(
            m(BASE, &add("s"), &add("z")).unwrap_err(),
            ["slack: added on both sides with different values"]
        );
    }

    #[test]
    fn lists_merge_as_a_whole_when_both_sides_change_them() {
        let base = "bots:\n  - a\n  - b\nx: 1\n";
        // One side only: fine, even with index shifts.
        assert_eq!(
            m(base, "bots:\n  - b\nx: 1\n", "bots:\n  - a\n  - b\nx: 2\n").unwrap(),
            "bots:\n  - b\nx: 2\n"
        );
        // Both sides: conflict on the list.
        let err = m(base, "bots:\n  - b\nx: 1\n", "bots:\n  - a\n  - B\nx: 1\n").unwrap_err();
        assert_eq!(
            err,
            ["bots: the list was changed differently on both sides (lists merge as a whole)"]
        );
    }

    #[test]
    fn comments_follow_the_side_that_changed_them() {
        let theirs = BASE.replace("# fleet", "# the fleet").replace("t1", "t2");
        let ours = BASE.replace("w1", "w2");
        assert_eq!(
            m(BASE, &ours, &theirs).unwrap(),
            BASE.replace("# fleet", "# the fleet")
                .replace("t1", "t2")
                .replace("w1", "w2")
        );
        let err = m(
            BASE,
            &BASE.replace("fleet", "a"),
            &BASE.replace("fleet", "b"),
        )
        .unwrap_err();
        assert_eq!(
            err,
            ["(comments): comments were changed differently on both sides"]
        );
    }

    #[test]
    fn other_formats_and_no_base() {
        let base = "{\n  \"a\": \"1\",\n  \"b\": \"2\"\n}\n";
        let ours = base.replace("\"1\"", "\"9\"");
        let theirs = "{\n  \"a\": \"1\",\n  \"b\": \"2\",\n  \"c\": \"3\"\n}\n";
        assert_eq!(
            m_kind(FormatKind::Json, Some(base), &ours, theirs).unwrap(),
            "{\n  \"a\": \"9\",\n  \"b\": \"2\",\n  \"c\": \"3\"\n}\n"
        );
        let env = "A=1\nB=2\n";
        assert_eq!(
            m_kind(
                FormatKind::Dotenv,
                Some(env),
                "A=1\nB=3\n",
                "A=0\nB=2\nC=4\n"
            )
            .unwrap(),
            "A=0\nB=3\nC=4\n"
        );
        // Added on both sides (no base): equal keys are fine.
        assert_eq!(
            m_kind(FormatKind::Dotenv, None, "A=1\n", "A=1\nB=2\n").unwrap(),
            "A=1\nB=2\n"
        );
        assert!(m_kind(FormatKind::Dotenv, None, "A=1\n", "A=2\n").is_err());
    }
}
