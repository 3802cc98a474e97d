//! Names in a rules file: `keys:` (a name for one recipient) and `groups:`
//! (a name for a list of names, groups or raw recipients), and the one
//! resolution every list of recipients in `.botsecrets.yaml` goes through
//! (a rule's `age:`, a key group's `age:`, `revoked:`; scope readers join
//! here too): [`Names::resolve`].
//!
//! A word is a raw recipient when it looks like one (`age1...`, `ssh-...`,
//! or a pasted private key, refused as such); anything else is a name.
//! Groups are checked when the file is read, whether a rule uses them or
//! not: every member known, no cycle, no name both a key and a group.

use crate::keys::{KeyError, Recipient};

/// A `groups:` entry.
#[derive(Debug, Clone)]
pub struct Group {
    /// Its name.
    pub name: String,
    /// Its members as written: names of keys or groups, or raw recipients.
    pub members: Vec<String>,
    /// 1-based line of its entry.
    pub line: usize,
}

/// The names a rules file defines.
#[derive(Debug, Default, Clone, Copy)]
pub struct Names<'a> {
    /// `keys:`: name -> recipient.
    pub keys: &'a [(String, Recipient)],
    /// `groups:`.
    pub groups: &'a [Group],
}

/// Why a name or key does not resolve.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// Neither a key's nor a group's name, and not a recipient.
    #[error("unknown name {}: not a name under keys: or groups:{}", shown_name(.name), known_list(.known))]
    Unknown {
        /// The word (a name: it does not look like a key).
        name: String,
        /// The names that exist.
        known: Vec<String>,
    },
    /// Groups that contain each other.
    #[error("groups form a cycle: {}", .chain.join(" -> "))]
    Cycle {
        /// The names around the cycle, the first repeated at the end.
        chain: Vec<String>,
    },
    /// A raw recipient that does not parse (never echoes a private key).
    #[error(transparent)]
    Key(KeyError),
}

/// A word that is not a key, for messages: in full when it reads as a
/// name; SECURITY: anything else (a pasted token?) is cut short.
fn shown_name(word: &str) -> String {
    let namelike = word.len() <= 64
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
        && crate::scan::scan_text(".botsecrets.yaml", &format!("name: {word}\n")).is_empty();
    if namelike {
        format!("{word:?}")
    } else {
        format!("{:?}", crate::keys::recipient::shown(word))
    }
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        " (the rules file names none)".to_owned()
    } else {
        format!(" (known: {})", known.join(", "))
    }
}

/// Whether `word` is written as a key (a recipient, or a pasted private
/// key) rather than a name.
pub fn looks_like_key(word: &str) -> bool {
    let w = word.trim();
    w.starts_with("age1")
        || w.starts_with("ssh-")
        || crate::keys::recipient::private_key(w).is_some()
}

/// Why `name` cannot be a name in `keys:` or `groups:`, if it cannot.
pub fn bad_name(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("a name must not be empty")
    } else if name.contains(|c: char| c == ',' || c.is_whitespace()) {
        Some("a name must not contain commas or spaces (age: lists are split at commas)")
    } else if looks_like_key(name) {
        Some("a name must not look like a key (age1..., ssh-...)")
    } else {
        None
    }
}

impl Names<'_> {
    /// The recipient of the key named `name`.
    pub fn key(&self, name: &str) -> Option<&Recipient> {
        self.keys.iter().find(|(n, _)| n == name).map(|(_, r)| r)
    }

    /// The group named `name`.
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// Every name, keys first, in the order written.
    pub fn all(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|(n, _)| n.clone())
            .chain(self.groups.iter().map(|g| g.name.clone()))
            .collect()
    }

    /// The recipients `word` stands for: a raw recipient, a key's name, or
    /// a group's name (expanded through its groups, in order, each
    /// recipient once).
    pub fn resolve(&self, word: &str) -> Result<Vec<Recipient>, NameError> {
        let mut out = Vec::new();
        let mut done = std::collections::HashSet::new();
        self.resolve_into(word.trim(), &mut Vec::new(), &mut done, &mut out)?;
        Ok(out)
    }

    /// Resolves `member` of the group `group`, so a member leading back to
    /// its group is a cycle through it (`a -> b -> a`).
    pub fn resolve_member(&self, group: &str, member: &str) -> Result<Vec<Recipient>, NameError> {
        let mut out = Vec::new();
        let mut done = std::collections::HashSet::new();
        self.resolve_into(
            member.trim(),
            &mut vec![group.to_owned()],
            &mut done,
            &mut out,
        )?;
        Ok(out)
    }

    /// `done`: the groups already expanded into `out` by this resolution.
    fn resolve_into(
        &self,
        word: &str,
        stack: &mut Vec<String>,
        done: &mut std::collections::HashSet<String>,
        out: &mut Vec<Recipient>,
    ) -> Result<(), NameError> {
        let push = |r: Recipient, out: &mut Vec<Recipient>| {
            if !out.iter().any(|o| o.same_as(&r.to_string())) {
                out.push(r);
            }
        };
        if looks_like_key(word) {
            push(Recipient::parse(word).map_err(NameError::Key)?, out);
            return Ok(());
        }
        if let Some(r) = self.key(word) {
            push(r.clone(), out);
            return Ok(());
        }
        let Some(group) = self.group(word) else {
            return Err(NameError::Unknown {
                name: word.to_owned(),
                known: self.all(),
            });
        };
        if let Some(at) = stack.iter().position(|n| n == word) {
            let mut chain = stack[at..].to_vec();
            chain.push(word.to_owned());
            return Err(NameError::Cycle { chain });
        }
        // SECURITY: a group met again adds nothing new (its recipients are
        // in `out` already); expanding it again made groups that each list
        // the previous level twice cost 2^depth (a rules-file "billion
        // laughs" without aliases: 16 levels took 8 s, 40 would never end).
        if done.contains(word) {
            return Ok(());
        }
        stack.push(word.to_owned());
        for m in &group.members {
            self.resolve_into(m.trim(), stack, done, out)?;
        }
        stack.pop();
        done.insert(word.to_owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R1: &str = "age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n";
    const R2: &str = "age1u4p50cvf23gprufg0lu7d6wmlqm76njluxatc0tuhyrkpa53dfhsk8pnve";

    fn group(name: &str, members: &[&str]) -> Group {
        Group {
            name: name.into(),
            members: members.iter().map(|m| m.to_string()).collect(),
            line: 1,
        }
    }

    #[test]
    fn names_groups_and_keys_resolve_once_each() {
        let keys = vec![
            ("alice".to_owned(), Recipient::parse(R1).unwrap()),
            ("bob".to_owned(), Recipient::parse(R2).unwrap()),
        ];
        let groups = vec![
            group("humans", &["alice", "bob"]),
            group("all", &["humans", "alice", R2]),
        ];
        let names = Names {
            keys: &keys,
            groups: &groups,
        };
        let got: Vec<String> = names
            .resolve("all")
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(got, [R1, R2]);
        assert_eq!(names.resolve(R2).unwrap().len(), 1);
        let err = names.resolve("carol").unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown name \"carol\": not a name under keys: or groups: (known: alice, bob, humans, all)"
        );
    }

    #[test]
    fn a_pasted_token_is_not_echoed_as_an_unknown_name() {
        let names = Names::default();
        let token = "ghp_R4nd0mT0k3nV4lu3Xq9Zk2Lm8Np5Wc7Yb1Hd6";
        let err = names.resolve(token).unwrap_err().to_string();
        assert!(!err.contains(token), "{err}");
        assert!(err.contains("unknown name \"ghp_..."), "{err}");
    }

    #[test]
    fn groups_met_again_are_expanded_once() {
        // 2^40 paths from a40 to the one key: each group expanded once.
        let keys = vec![("k".to_owned(), Recipient::parse(R1).unwrap())];
        let mut groups = vec![group("a0", &["k"]), group("b0", &["k"])];
        for i in 1..=40 {
            let below = [format!("a{}", i - 1), format!("b{}", i - 1)];
            let below: Vec<&str> = below.iter().map(String::as_str).collect();
            groups.push(group(&format!("a{i}"), &below));
            groups.push(group(&format!("b{i}"), &below));
        }
        let names = Names {
            keys: &keys,
            groups: &groups,
        };
        assert_eq!(names.resolve("a40").unwrap().len(), 1);
        let groups = vec![group("a", &["b", "b"]), group("b", &["k", "a"])];
        let names = Names {
            keys: &keys,
            groups: &groups,
        };
        let err = names.resolve("a").unwrap_err().to_string();
        assert_eq!(err, "groups form a cycle: a -> b -> a");
    }

    #[test]
    fn a_cycle_is_named() {
        let groups = vec![group("a", &["b"]), group("b", &["c"]), group("c", &["a"])];
        let names = Names {
            keys: &[],
            groups: &groups,
        };
        let err = names.resolve("a").unwrap_err().to_string();
        assert_eq!(err, "groups form a cycle: a -> b -> c -> a");
    }
}
