//! Who can read a file: the [`Plan`] of a change to its key groups, and
//! the edits `recipients add` / `remove` make to them.
//!
//! A plan compares a file's key groups (recipient strings as written in
//! the file, [`crate::document::Sealed::groups`]) with the target groups
//! and says who is added, who is removed, whether the groups or the
//! threshold change, and whether the data key must be rotated. The policy
//! lives here, once, for every command:
//!
//! SECURITY: anyone who loses access forces a rotation. A removed recipient
//! (from any group, even one who stays in another) may have kept the data
//! key, and a change of groups or threshold changes who can rebuild it;
//! only a fresh data key makes what is written from now on unreadable to
//! them. Adding recipients only re-wraps the existing data key (values keep
//! their ciphertext: the diff is the `sops` block).

use crate::keys::{same_recipient, KeyError, Recipient};
use crate::metadata::{effective_threshold, Metadata};
use crate::rules::CreationRule;

/// A recipient in a key group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The recipient as written (`age1...`, `ssh-ed25519 ...`).
    pub recipient: String,
    /// Its key group (0-based).
    pub group: usize,
}

/// A change of the key groups or of the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Regroup {
    /// Groups before.
    pub from_groups: usize,
    /// Effective threshold before (0: not split).
    pub from_threshold: u32,
    /// Groups after.
    pub to_groups: usize,
    /// Effective threshold after.
    pub to_threshold: u32,
}

/// What changes when a file's key groups become the target groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Recipients a target group has that the file's same group lacks.
    pub added: Vec<Member>,
    /// Recipients a file's group has that the same target group lacks.
    pub removed: Vec<Member>,
    /// Removed recipients who are in no target group at all: they lose
    /// access to the file (the checklist of secrets to rotate is theirs).
    pub lost: Vec<String>,
    /// The number of groups or the threshold changes.
    pub regrouped: Option<Regroup>,
    /// Whether the data key is rotated (see the module's policy).
    pub rotate: bool,
}

impl Plan {
    /// The plan from `current` groups (threshold as recorded in the file)
    /// to `target` groups (threshold as the rule gives it; 0 = all).
    /// Recipients are compared as keys ([`same_recipient`]), not as text.
    pub fn new(
        current: &[Vec<String>],
        current_threshold: u32,
        target: &[Vec<String>],
        target_threshold: u32,
    ) -> Self {
        let contains = |list: &[String], r: &str| list.iter().any(|x| same_recipient(x, r));
        let from = effective_threshold(current.len(), current_threshold);
        let to = effective_threshold(target.len(), target_threshold);
        let regrouped = (current.len() != target.len() || from != to).then_some(Regroup {
            from_groups: current.len(),
            from_threshold: from,
            to_groups: target.len(),
            to_threshold: to,
        });
        let mut added = Vec::new();
        for (group, g) in target.iter().enumerate() {
            let before = current.get(group).map(Vec::as_slice).unwrap_or_default();
            for r in g {
                if !contains(before, r) {
                    added.push(Member {
                        recipient: r.clone(),
                        group,
                    });
                }
            }
        }
        let everyone: Vec<String> = target.iter().flatten().cloned().collect();
        let mut removed = Vec::new();
        let mut lost = Vec::new();
        for (group, g) in current.iter().enumerate() {
            let after = target.get(group).map(Vec::as_slice).unwrap_or_default();
            for r in g {
                if !contains(after, r) {
                    removed.push(Member {
                        recipient: r.clone(),
                        group,
                    });
                    if !contains(&everyone, r) {
                        lost.push(r.clone());
                    }
                }
            }
        }
        let rotate = regrouped.is_some() || !removed.is_empty();
        Self {
            added,
            removed,
            lost,
            regrouped,
            rotate,
        }
    }

    /// A rotation that keeps every recipient (the `rotate` command).
    pub fn rotation() -> Self {
        Self {
            added: Vec::new(),
            removed: Vec::new(),
            lost: Vec::new(),
            regrouped: None,
            rotate: true,
        }
    }

    /// Whether the plan changes who can read the file (a rotation alone
    /// does not).
    pub fn changes_access(&self) -> bool {
        !self.added.is_empty() || !self.removed.is_empty() || self.regrouped.is_some()
    }
}

/// How a file's owners differ from what its rule says: the drift that
/// `check` and `audit` report and `updatekeys --check` refuses.
///
/// This is the one place drift is computed; per-rule extensions (scope
/// readers and paths) join here as more fields, so every caller reports
/// them without change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Drift {
    /// Recipients of the file that the rule does not name (each once).
    pub extra: Vec<String>,
    /// Recipients the rule names that the file lacks (each once).
    pub missing: Vec<String>,
    /// The same people, but the key groups or the threshold differ (or
    /// someone is in another group than the rule says).
    pub regrouped: bool,
}

impl Drift {
    /// Whether the file matches its rule.
    pub fn is_empty(&self) -> bool {
        self.extra.is_empty() && self.missing.is_empty() && !self.regrouped
    }

    /// `not in the rule: X; missing: Y` (or that the key groups differ),
    /// each recipient as `show` gives it (by name, where there is one).
    pub fn summary(&self, show: impl Fn(&str) -> String) -> String {
        let list = |v: &[String]| v.iter().map(|r| show(r)).collect::<Vec<_>>().join(", ");
        let mut parts = Vec::new();
        if !self.extra.is_empty() {
            parts.push(format!("not in the rule: {}", list(&self.extra)));
        }
        if !self.missing.is_empty() {
            parts.push(format!("missing: {}", list(&self.missing)));
        }
        if self.regrouped && parts.is_empty() {
            parts.push("the same recipients, but the key groups or the threshold differ".into());
        }
        parts.join("; ")
    }
}

/// The drift of a file (its metadata) from `rule`. Needs no key: the
/// recipients are public metadata.
pub fn drift(meta: &Metadata, rule: &CreationRule) -> Drift {
    let current: Vec<Vec<String>> = meta
        .key_groups
        .iter()
        .map(|g| g.age.iter().map(|s| s.recipient.clone()).collect())
        .collect();
    drift_groups(
        &current,
        meta.shamir_threshold,
        &group_strings(&rule.key_groups),
        rule.shamir_threshold,
    )
}

/// [`drift`] from `current` groups (threshold as recorded) to `target`
/// groups (threshold as a rule gives it).
pub fn drift_groups(
    current: &[Vec<String>],
    current_threshold: u32,
    target: &[Vec<String>],
    target_threshold: u32,
) -> Drift {
    let plan = Plan::new(current, current_threshold, target, target_threshold);
    let once = |from: &[Vec<String>], not_in: &[Vec<String>]| {
        let mut out: Vec<String> = Vec::new();
        for r in from.iter().flatten() {
            let elsewhere = not_in.iter().flatten().any(|x| same_recipient(x, r));
            if !elsewhere && !out.iter().any(|o| same_recipient(o, r)) {
                out.push(r.clone());
            }
        }
        out
    };
    let extra = once(current, target);
    let missing = once(target, current);
    let regrouped = plan.changes_access() && extra.is_empty() && missing.is_empty();
    Drift {
        extra,
        missing,
        regrouped,
    }
}

/// Why a change to the recipients cannot be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccessError {
    /// The file has several key groups and no group was chosen.
    #[error("the file has {groups} key groups (Shamir); the group that gets the new recipients must be chosen")]
    GroupNeeded {
        /// How many groups the file has.
        groups: usize,
    },
    /// The chosen group does not exist.
    #[error("group {group}: the file has {groups} key group(s)")]
    NoSuchGroup {
        /// The group asked for (1-based).
        group: usize,
        /// How many groups the file has.
        groups: usize,
    },
    /// A recipient to remove is not one.
    #[error("{shown} is not a recipient{}", .group.map_or(String::new(), |g| format!(" of group {g}")))]
    NotARecipient {
        /// The recipient, shortened for messages.
        shown: String,
        /// The group searched (1-based), when one was chosen.
        group: Option<usize>,
    },
    /// Removing would leave the file with no recipient.
    #[error("removing {} would leave the file with no recipients", .removed.join(", "))]
    NoneLeft {
        /// The recipients removed.
        removed: Vec<String>,
    },
    /// Removing would leave a Shamir group empty.
    #[error("removing {} would leave key group {group} empty, and the file could not be opened with the Shamir threshold", .removed.join(", "))]
    EmptyGroup {
        /// The recipients removed.
        removed: Vec<String>,
        /// The group left empty (1-based).
        group: usize,
    },
    /// A recipient of the file cannot be parsed (to wrap a new key for).
    #[error("the file's recipient cannot be wrapped for: {0}")]
    Unwrappable(KeyError),
}

/// The group (0-based) a change applies to, from a 1-based choice.
pub fn chosen_group(groups: usize, group: Option<usize>) -> Result<Option<usize>, AccessError> {
    match group {
        Some(n) if n == 0 || n > groups => Err(AccessError::NoSuchGroup { group: n, groups }),
        Some(n) => Ok(Some(n - 1)),
        None => Ok(None),
    }
}

/// The result of [`add`]: the new groups, who was added, and who was
/// already a recipient (and so left out).
pub struct Added {
    /// The key groups after the change.
    pub groups: Vec<Vec<String>>,
    /// The recipients added.
    pub added: Vec<String>,
    /// The recipients that already were recipients.
    pub already: Vec<String>,
}

/// Adds `new` recipients to `groups`, to the chosen `group` (1-based; may
/// be omitted when there is at most one group).
pub fn add(
    mut groups: Vec<Vec<String>>,
    new: &[Recipient],
    group: Option<usize>,
) -> Result<Added, AccessError> {
    let target = match chosen_group(groups.len(), group)? {
        Some(i) => i,
        None if groups.len() <= 1 => 0,
        None => {
            return Err(AccessError::GroupNeeded {
                groups: groups.len(),
            })
        }
    };
    if groups.is_empty() {
        groups.push(Vec::new());
    }
    let (mut added, mut already) = (Vec::new(), Vec::new());
    for r in new {
        let text = r.to_string();
        if groups
            .iter()
            .any(|g| g.iter().any(|x| same_recipient(x, &text)))
        {
            already.push(text);
            continue;
        }
        groups[target].push(text.clone());
        added.push(text);
    }
    Ok(Added {
        groups,
        added,
        already,
    })
}

/// Removes each of `wanted` from `groups` (from the chosen `group` only,
/// 1-based, when given). Every one must be a recipient, and no group may
/// be left empty.
pub fn remove(
    mut groups: Vec<Vec<String>>,
    wanted: &[String],
    group: Option<usize>,
) -> Result<Vec<Vec<String>>, AccessError> {
    let only = chosen_group(groups.len(), group)?;
    let mut removed = Vec::new();
    for r in wanted {
        let mut found = false;
        for (i, g) in groups.iter_mut().enumerate() {
            if only.is_some_and(|o| o != i) {
                continue;
            }
            let before = g.len();
            g.retain(|x| !same_recipient(x, r));
            found |= g.len() != before;
        }
        if !found {
            return Err(AccessError::NotARecipient {
                shown: crate::keys::recipient::shown(r),
                group: only.map(|o| o + 1),
            });
        }
        removed.push(r.clone());
    }
    if groups.iter().all(Vec::is_empty) {
        return Err(AccessError::NoneLeft { removed });
    }
    if let Some(i) = groups.iter().position(Vec::is_empty) {
        return Err(AccessError::EmptyGroup {
            removed,
            group: i + 1,
        });
    }
    Ok(groups)
}

/// The recipients of `groups`, parsed to wrap a data key for.
pub fn parse_groups(groups: &[Vec<String>]) -> Result<Vec<Vec<Recipient>>, AccessError> {
    groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|r| Recipient::parse(r).map_err(AccessError::Unwrappable))
                .collect()
        })
        .collect()
}

/// The recipient strings of parsed groups (a rule's), as a file writes them.
pub fn group_strings(groups: &[Vec<Recipient>]) -> Vec<Vec<String>> {
    groups
        .iter()
        .map(|g| g.iter().map(ToString::to_string).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n";
    const B: &str = "age1u4p50cvf23gprufg0lu7d6wmlqm76njluxatc0tuhyrkpa53dfhsk8pnve";

    fn g(groups: &[&[&str]]) -> Vec<Vec<String>> {
        groups
            .iter()
            .map(|g| g.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn adding_only_rewraps_the_key() {
        let p = Plan::new(&g(&[&[A]]), 0, &g(&[&[A, B]]), 0);
        assert_eq!(
            p.added,
            [Member {
                recipient: B.into(),
                group: 0
            }]
        );
        assert!(p.removed.is_empty() && p.lost.is_empty() && p.regrouped.is_none());
        assert!(!p.rotate);
        assert!(p.changes_access());
    }

    #[test]
    fn removing_anyone_rotates_and_they_lose_access() {
        let p = Plan::new(&g(&[&[A, B]]), 0, &g(&[&[A]]), 0);
        assert!(p.rotate);
        assert_eq!(p.lost, [B]);
        assert_eq!(p.removed.len(), 1);
    }

    #[test]
    fn moving_between_groups_rotates_without_losing_anyone() {
        // B leaves group 1 for group 2: they keep access, but the shares
        // they could combine change, so the key is rotated.
        let p = Plan::new(&g(&[&[A, B], &[A]]), 2, &g(&[&[A], &[A, B]]), 2);
        assert!(p.rotate);
        assert!(p.lost.is_empty());
        assert!(p.regrouped.is_none());
    }

    #[test]
    fn changing_groups_or_threshold_rotates() {
        let p = Plan::new(&g(&[&[A], &[B]]), 0, &g(&[&[A], &[B]]), 1);
        assert_eq!(
            p.regrouped,
            Some(Regroup {
                from_groups: 2,
                from_threshold: 2,
                to_groups: 2,
                to_threshold: 1
            })
        );
        assert!(p.rotate && p.added.is_empty() && p.removed.is_empty());
        let p = Plan::new(&g(&[&[A, B]]), 0, &g(&[&[A], &[B]]), 0);
        assert!(p.rotate && p.regrouped.is_some() && p.lost.is_empty());
    }

    #[test]
    fn the_same_groups_change_nothing() {
        // An explicit threshold equal to "all" is the same threshold.
        let p = Plan::new(&g(&[&[A], &[B]]), 2, &g(&[&[A], &[B]]), 0);
        assert!(!p.changes_access() && !p.rotate, "{p:?}");
        assert!(Plan::rotation().rotate && !Plan::rotation().changes_access());
    }

    #[test]
    fn drift_names_who_is_extra_and_missing_once_each() {
        let d = drift_groups(&g(&[&[A, B]]), 0, &g(&[&[A]]), 0);
        assert_eq!(
            (d.extra.as_slice(), d.missing.len()),
            (&[B.to_owned()][..], 0)
        );
        assert_eq!(d.summary(|r| r[..6].to_owned()), "not in the rule: age1u4");
        let d = drift_groups(&g(&[&[B], &[B]]), 0, &g(&[&[A, B]]), 0);
        assert_eq!(
            (d.extra.len(), d.missing.as_slice()),
            (0, &[A.to_owned()][..])
        );
        // The same people, other groups: drift, said as such.
        let d = drift_groups(&g(&[&[A, B]]), 0, &g(&[&[A], &[B]]), 0);
        assert!(d.regrouped && !d.is_empty());
        assert_eq!(
            d.summary(str::to_owned),
            "the same recipients, but the key groups or the threshold differ"
        );
        assert!(drift_groups(&g(&[&[A]]), 0, &g(&[&[A]]), 0).is_empty());
    }

    #[test]
    fn remove_refuses_what_would_lock_everyone_out() {
        assert!(matches!(
            remove(g(&[&[A]]), &[A.into()], None),
            Err(AccessError::NoneLeft { .. })
        ));
        assert!(matches!(
            remove(g(&[&[A], &[B]]), &[B.into()], None),
            Err(AccessError::EmptyGroup { group: 2, .. })
        ));
        assert!(matches!(
            remove(g(&[&[A], &[B]]), &[B.into()], Some(1)),
            Err(AccessError::NotARecipient { group: Some(1), .. })
        ));
        assert_eq!(
            remove(g(&[&[A, B]]), &[B.into()], None).unwrap(),
            g(&[&[A]])
        );
    }

    #[test]
    fn add_needs_a_group_for_shamir_files() {
        let b = Recipient::parse(B).unwrap();
        assert!(matches!(
            add(g(&[&[A], &[A]]), std::slice::from_ref(&b), None),
            Err(AccessError::GroupNeeded { groups: 2 })
        ));
        let added = add(g(&[&[A], &[A]]), std::slice::from_ref(&b), Some(2)).unwrap();
        assert_eq!(added.groups, g(&[&[A], &[A, B]]));
        let again = add(added.groups, &[b], Some(1)).unwrap();
        assert_eq!(again.already, [B]);
        assert!(again.added.is_empty());
    }
}
