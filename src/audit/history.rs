//! When each secret's **value** last changed: the file's versions are
//! opened in memory, oldest first, and compared per key path.
//!
//! Each distinct version (by blob id) is opened once with the user's
//! identities: MAC verified, a missing seal allowed (old versions may
//! predate the seal, or sops wrote them). Its values become salted digests
//! (a random salt per run; the plaintext is dropped, and zeroized, at once)
//! and its ciphertexts digests too. Two consecutive versions are compared:
//! - both opened: by plaintext and type, so a data-key rotation, a
//!   re-encryption, a recipient change or a move is not a change;
//! - otherwise (not a recipient then, or the version does not verify): by
//!   ciphertext. Equal ciphertext is the same value; a different one is
//!   counted as a change, marked **approximate** (it may be a rotation).
//!
//! A path that first appears in a version changed there. Text in the
//! working tree that differs from the last commit is one more version,
//! dated "now" and attributed to no commit.
//!
//! Nothing here touches the disk: the blobs come from a [`Blobs`].

use std::collections::HashMap;
use std::rc::Rc;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::log::{Commit, LogEntry};
use super::AuditError;
use crate::crypto::value::is_encrypted;
use crate::document::{self, DocumentError, OpenOptions};
use crate::format::{FormatKind, LeafKind};
use crate::keys::Identity;
use crate::path::KeyPath;
use crate::seal::{value_type_tag, SealPolicy};

/// Where the file's past versions come from (`git cat-file --batch` in the
/// CLI; a map in tests).
pub trait Blobs {
    /// The bytes of blob `id`.
    fn blob(&mut self, id: &str) -> Result<Zeroizing<Vec<u8>>, AuditError>;
}

/// Where a value last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The commit; `None` for an uncommitted change in the working tree.
    pub commit: Option<Commit>,
    /// When (seconds since the epoch): the commit's time, or "now".
    pub time: i64,
    /// Told from the ciphertext only: the value, or only its encryption,
    /// changed here.
    pub approximate: bool,
}

/// One secret's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathHistory {
    /// Its key path.
    pub path: KeyPath,
    /// Its last change.
    pub changed: Change,
}

/// A file's history, per secret.
#[derive(Debug, Default)]
pub struct FileHistory {
    /// The encrypted values of the newest version, in document order.
    pub secrets: Vec<PathHistory>,
    /// Every key path of the newest version (clear ones too): what a
    /// policy's `paths:` may name.
    pub all_paths: Vec<KeyPath>,
    /// Versions looked at (the working tree included).
    pub versions: usize,
    /// Versions none of the identities opened (compared by ciphertext).
    pub undecryptable: usize,
    /// Versions that did not parse or verify (MAC, seal, selection; also
    /// compared by ciphertext where they parse).
    pub unverified: usize,
}

/// What [`walk`] needs.
pub struct WalkInput<'a> {
    /// The file's format.
    pub kind: FormatKind,
    /// The versions, newest first (as `git log` lists them).
    pub log: &'a [LogEntry],
    /// The file in the working tree now (`None`: deleted or not there).
    pub current: Option<&'a str>,
    /// Now, in seconds since the epoch.
    pub now: i64,
    /// The user's identities.
    pub identities: &'a [Identity],
}

/// One version reduced to digests.
#[derive(Default)]
struct Print {
    /// Per path (first document, aliases expanded), in document order.
    paths: Vec<KeyPath>,
    cipher: HashMap<KeyPath, [u8; 32]>,
    /// `None` when the version was not opened.
    plain: Option<HashMap<KeyPath, [u8; 32]>>,
    /// The paths whose value is encrypted.
    encrypted: Vec<KeyPath>,
}

enum Opened {
    Yes,
    NoKey,
    NotVerified,
}

fn digest(salt: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

fn print(
    text: &str,
    kind: FormatKind,
    identities: &[Identity],
    salt: &[u8; 32],
) -> (Print, Opened) {
    // SECURITY: old versions are verified (MAC, seal when present, strict
    // selection) like any file; only a missing seal is let through.
    let opts = OpenOptions::with_seal(SealPolicy::Warn);
    let mut out = Print::default();
    let Ok(parsed) = kind.syntax().parse(text) else {
        return (out, Opened::NotVerified);
    };
    let opened = document::Sealed::parse(text.to_owned(), kind).and_then(|sealed| {
        let opened = sealed.open(identities, &opts)?;
        let mut plain = HashMap::new();
        for (path, ty, value) in opened.values() {
            plain.insert(
                path,
                digest(
                    salt,
                    &[value_type_tag(ty).as_bytes(), value.expose().as_bytes()],
                ),
            );
        }
        Ok(plain)
    });
    let (plain, how) = match opened {
        Ok(plain) => (Some(plain), Opened::Yes),
        // A scope reader holds no key to the whole file either.
        Err(DocumentError::NoMatchingIdentity { .. } | DocumentError::NotAnOwner { .. }) => {
            (None, Opened::NoKey)
        }
        Err(_) => (None, Opened::NotVerified),
    };
    for (path, i) in parsed.values_in_order() {
        let leaf = &parsed.leaves[i];
        if leaf.document != 0 || leaf.kind == LeafKind::Comment {
            continue;
        }
        let raw = leaf.value.expose();
        let path = path.into_owned();
        if out.cipher.contains_key(&path) {
            continue;
        }
        // Clear values are public: their digest needs no salt, but one
        // function keeps it simple.
        out.cipher
            .insert(path.clone(), digest(salt, &[raw.as_bytes()]));
        if is_encrypted(raw) {
            out.encrypted.push(path.clone());
        }
        out.paths.push(path);
    }
    out.plain = plain;
    (out, how)
}

/// Walks the history of one file; see the module documentation.
pub fn walk(input: &WalkInput<'_>, blobs: &mut dyn Blobs) -> Result<FileHistory, AuditError> {
    let mut salt = [0u8; 32];
    getrandom::fill(&mut salt).map_err(AuditError::Random)?;
    let mut history = FileHistory::default();
    let mut cache: HashMap<String, Rc<Print>> = HashMap::new();
    let mut since: HashMap<KeyPath, Change> = HashMap::new();
    let mut prev: Option<Rc<Print>> = None;
    let mut newest_blob: Option<Zeroizing<Vec<u8>>> = None;
    let count = |how: &Opened, history: &mut FileHistory| match how {
        Opened::Yes => {}
        Opened::NoKey => history.undecryptable += 1,
        Opened::NotVerified => history.unverified += 1,
    };
    let newest = input.log.first().and_then(|e| e.blob.clone());
    for entry in input.log.iter().rev() {
        let p = match &entry.blob {
            None => Rc::new(Print::default()),
            Some(id) => match cache.get(id) {
                Some(p) => p.clone(),
                None => {
                    let bytes = blobs.blob(id)?;
                    let p = match std::str::from_utf8(&bytes) {
                        Ok(text) => {
                            let (p, how) = print(text, input.kind, input.identities, &salt);
                            count(&how, &mut history);
                            p
                        }
                        Err(_) => {
                            history.unverified += 1;
                            Print::default()
                        }
                    };
                    if newest.as_deref() == Some(id.as_str()) {
                        newest_blob = Some(bytes);
                    }
                    let p = Rc::new(p);
                    cache.insert(id.clone(), p.clone());
                    p
                }
            },
        };
        history.versions += 1;
        step(
            &mut since,
            prev.as_deref(),
            &p,
            Some(&entry.commit),
            entry.commit.time,
        );
        prev = Some(p);
    }
    if let (Some(id), None) = (&newest, &newest_blob) {
        // It was read (and cached) as an older version already.
        newest_blob = Some(blobs.blob(id)?);
    }
    let committed_same = match (input.current, &newest_blob) {
        (Some(text), Some(bytes)) => text.as_bytes() == bytes.as_slice(),
        (None, None) => true,
        _ => false,
    };
    if !committed_same || input.log.is_empty() {
        let p = match input.current {
            Some(text) => {
                let (p, how) = print(text, input.kind, input.identities, &salt);
                count(&how, &mut history);
                p
            }
            None => Print::default(),
        };
        history.versions += 1;
        step(&mut since, prev.as_deref(), &p, None, input.now);
        prev = Some(Rc::new(p));
    }
    if let Some(last) = prev {
        history.all_paths = last.paths.clone();
        history.secrets = last
            .encrypted
            .iter()
            .filter_map(|path| {
                since.get(path).map(|c| PathHistory {
                    path: path.clone(),
                    changed: c.clone(),
                })
            })
            .collect();
    }
    Ok(history)
}

/// Moves `since` from `prev` to `cur`.
fn step(
    since: &mut HashMap<KeyPath, Change>,
    prev: Option<&Print>,
    cur: &Print,
    commit: Option<&Commit>,
    time: i64,
) {
    let mut next = HashMap::with_capacity(cur.paths.len());
    for path in &cur.paths {
        let here = |approximate| Change {
            commit: commit.cloned(),
            time,
            approximate,
        };
        let change = match prev {
            Some(p) if p.cipher.contains_key(path) => {
                let (same, approximate) = match (&p.plain, &cur.plain) {
                    (Some(a), Some(b)) => (a.get(path) == b.get(path), false),
                    _ => (p.cipher.get(path) == cur.cipher.get(path), true),
                };
                match since.remove(path) {
                    Some(old) if same => old,
                    _ => here(approximate),
                }
            }
            _ => here(false),
        };
        next.insert(path.clone(), change);
    }
    *since = next;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::EncryptOptions;
    use crate::keys::{self, Recipient};
    use crate::metadata::Selection;

    struct Map(HashMap<String, String>);

    impl Blobs for Map {
        fn blob(&mut self, id: &str) -> Result<Zeroizing<Vec<u8>>, AuditError> {
            Ok(Zeroizing::new(self.0[id].as_bytes().to_vec()))
        }
    }

    fn encrypt(text: &str, r: &Recipient) -> String {
        let opts = EncryptOptions {
            recipients: std::slice::from_ref(r),
            selection: Selection::default(),
            mac_only_encrypted: false,
            expand_aliases: false,
            now: "2026-01-01T00:00:00Z".into(),
        };
        document::encrypt(text, FormatKind::Yaml, &opts)
            .unwrap()
            .text
    }

    fn entry(n: i64, blob: &str) -> LogEntry {
        LogEntry {
            commit: Commit {
                id: format!("{n:040}"),
                time: n * 86_400,
                author: "A".into(),
                email: "a@example.com".into(),
            },
            blob: Some(blob.to_owned()),
            path: "s.yaml".into(),
        }
    }

    /// v1 {a: 1, b: 2}; v2 the same values under a new data key; v3 b
    /// changed (new data key again). Newest first, as git lists them.
    fn three_versions(r: &Recipient) -> (Vec<LogEntry>, Map, String) {
        let v1 = encrypt("a: one\nb: two\n", r);
        let v2 = encrypt("a: one\nb: two\n", r);
        let v3 = encrypt("a: one\nb: three\n", r);
        let map = Map(HashMap::from([
            ("1".to_owned(), v1),
            ("2".to_owned(), v2),
            ("3".to_owned(), v3.clone()),
        ]));
        (
            vec![entry(30, "3"), entry(20, "2"), entry(10, "1")],
            map,
            v3,
        )
    }

    fn days(h: &FileHistory) -> Vec<(String, i64, bool)> {
        h.secrets
            .iter()
            .map(|s| {
                (
                    s.path.to_string(),
                    s.changed.time / 86_400,
                    s.changed.approximate,
                )
            })
            .collect()
    }

    #[test]
    fn plaintext_decides_and_a_new_data_key_is_no_change() {
        use age::secrecy::ExposeSecret;
        let (secret, recipient) = keys::generate_x25519();
        let r = Recipient::parse(&recipient).unwrap();
        let ids = keys::parse_identities(secret.expose_secret(), "test").unwrap();
        let (log, mut map, v3) = three_versions(&r);
        let input = WalkInput {
            kind: FormatKind::Yaml,
            log: &log,
            current: Some(&v3),
            now: 40 * 86_400,
            identities: &ids,
        };
        let h = walk(&input, &mut map).unwrap();
        assert_eq!(days(&h), [("a".into(), 10, false), ("b".into(), 30, false)]);
        assert_eq!((h.versions, h.undecryptable, h.unverified), (3, 0, 0));
        assert_eq!(
            h.secrets[1].changed.commit.as_ref().unwrap().id,
            format!("{:040}", 30)
        );

        // Without a key: the ciphertext's history, marked approximate.
        let input = WalkInput {
            identities: &[],
            ..input
        };
        let h = walk(&input, &mut map).unwrap();
        assert_eq!(days(&h), [("a".into(), 30, true), ("b".into(), 30, true)]);
        assert_eq!(h.undecryptable, 3);

        // An uncommitted change in the working tree is "now".
        let v4 = encrypt("a: four\nb: three\n", &r);
        let input = WalkInput {
            current: Some(&v4),
            identities: &ids,
            ..input
        };
        let h = walk(&input, &mut map).unwrap();
        assert_eq!(days(&h), [("a".into(), 40, false), ("b".into(), 30, false)]);
        assert!(h.secrets[0].changed.commit.is_none());
        assert_eq!(h.versions, 4);
    }
}
