//! Opening: the data key unwrapped, the seal checked, every value and
//! comment decrypted, the MAC verified; then [`Opened`], the file with its
//! plaintext, and everything done with it: the plaintext file, one value,
//! a re-encryption after an edit, `set`/`unset`, a new set of recipients.

use serde_json::Value;
use zeroize::Zeroizing;

use super::*;
use crate::crypto::mac::{self};
use crate::crypto::value::{is_encrypted, ValueCipher};
use crate::crypto::{shamir, DataKey, EncryptedValue, TypeTag, ValueError};
use crate::format::{
    self, apply_splices, FormatError, LeafKind, ParsedFile, Replacement, Splice, ValueType,
};
use crate::keys::{self, Identity, Recipient, UnwrapFailure};
use crate::metadata::{self, AgeStanza, KeyGroup, Metadata};
use crate::path::KeyPath;
use crate::seal::{SealPolicy, SealStatus};
use crate::secret::{SecretText, SecretTree};

/// The result of [`Opened::rekey`].
pub struct Rekeyed {
    /// The new encrypted text.
    pub text: String,
    /// Foreign key types (pgp, kms, ...) that could not be kept.
    pub dropped: Vec<String>,
}

/// A decrypted value or comment.
struct Plain {
    /// Its type as recorded in the ciphertext (or resolved by the format).
    ty: ValueType,
    /// The canonical plaintext.
    text: SecretText,
    /// Whether it was encrypted in the file.
    was_encrypted: bool,
}

/// An encrypted file opened with its data key: every leaf's plaintext.
///
/// It borrows the [`Sealed`] file it was opened from, so its plaintext is
/// always written back into that file's own text (no text is passed back
/// in). The data key and the plaintext are private: what leaves is the
/// plaintext file, single values, or a new encrypted text.
pub struct Opened<'a> {
    /// The file as read (encrypted text, parse, metadata).
    file: &'a Sealed,
    /// The data key (a scope reader's file has none: see `scope`).
    key: Option<DataKey>,
    /// Opened by a scope reader: only its scopes' values, no data key.
    scope: Option<scopes::ScopeView>,
    /// The scopes the next write stores ([`Opened::set_scopes`]); `None`:
    /// the file's own.
    target_scopes: Option<Vec<ScopeSpec>>,
    /// The scopes of another version of the file taken over with its IVs
    /// ([`Opened::adopt_ivs`]): a merged scope equal to theirs keeps
    /// their blob.
    adopted_scopes: Vec<scopes::OldScope>,
    /// Per leaf: the plaintext (None for nulls).
    plain: Vec<Option<Plain>>,
    /// Warnings (e.g. MAC not verified, no seal).
    warnings: Vec<Warning>,
    /// What the seal check found (a broken seal is only seen here when the
    /// caller asked to ignore the MAC; otherwise opening failed).
    seal: SealStatus,
    /// IVs taken over from another version of the file with the same data
    /// key ([`Opened::adopt_ivs`]); empty unless a merge asked for them.
    adopted: IvStash,
}

/// Recovers the data key from the metadata with `identities`: one group
/// holds the key itself; several groups each hold a Shamir share, and any
/// `shamir_threshold` of them (all, when unset) rebuild the key.
///
/// Identities that would ask the user (a passphrase-protected identity
/// file not unlocked yet) are tried only when the others are not enough.
pub fn unwrap_data_key(meta: &Metadata, identities: &[Identity]) -> Result<DataKey, DocumentError> {
    let groups = meta.key_groups.len();
    let needed = if groups <= 1 {
        1
    } else if meta.shamir_threshold == 0 {
        groups
    } else {
        (meta.shamir_threshold as usize).max(2)
    };
    let quiet: Vec<&Identity> = identities.iter().filter(|i| !i.would_prompt()).collect();
    let all: Vec<&Identity> = identities.iter().collect();
    let mut payloads: Vec<Option<Zeroizing<Vec<u8>>>> = vec![None; groups];
    for pass in [&quiet, &all] {
        for (slot, group) in payloads.iter_mut().zip(&meta.key_groups) {
            if slot.is_none() {
                *slot = unwrap_group(group, pass)?;
            }
        }
        if payloads.iter().flatten().count() >= needed || quiet.len() == all.len() {
            break;
        }
    }
    let found: Vec<Zeroizing<Vec<u8>>> = payloads.into_iter().flatten().collect();
    if groups <= 1 {
        if let Some(bytes) = found.first() {
            return DataKey::from_slice(bytes).ok_or_else(|| DocumentError::CorruptKey {
                recipient: meta.recipients().next().unwrap_or_default().to_owned(),
                reason: keys::KeyDamage::NotAKey,
            });
        }
    } else if found.len() >= needed {
        return shamir::combine(&found[..needed]).map_err(|e| DocumentError::Shamir(e.into()));
    }
    Err(DocumentError::NoMatchingIdentity {
        recipients: meta.recipients().map(str::to_owned).collect(),
        tried: identities
            .iter()
            .map(|i| {
                let public = match i.failure() {
                    Some(why) => format!("{} [{why}]", i.public()),
                    None => i.public(),
                };
                (public, i.source.clone())
            })
            .collect(),
    })
}

/// The payload of one key group, if one of `identities` opens one of its
/// stanzas.
pub(super) fn unwrap_group(
    group: &KeyGroup,
    identities: &[&Identity],
) -> Result<Option<Zeroizing<Vec<u8>>>, DocumentError> {
    // Each stanza tried costs a scalar multiplication (about 0.6M
    // instructions, a fifth of exec's start): in a fleet's file with ten
    // recipients, a bot whose stanza is last paid ten. The stanzas whose
    // recipient an identity probably owns are tried first. The recipient
    // labels are the writer's word, so this pass only takes a success; on
    // anything else the tries in file order below decide, as before.
    let ours = |s: &&AgeStanza| identities.iter().any(|i| i.probably_owns(&s.recipient));
    for stanza in group.age.iter().filter(ours) {
        match keys::unwrap_bytes(&stanza.enc, identities) {
            Ok(bytes) => return Ok(Some(bytes)),
            Err(UnwrapFailure::NoMatch) => continue,
            Err(UnwrapFailure::Corrupt(_)) => break,
        }
    }
    for stanza in &group.age {
        match keys::unwrap_bytes(&stanza.enc, identities) {
            Ok(bytes) => return Ok(Some(bytes)),
            Err(UnwrapFailure::NoMatch) => continue,
            // A corrupt stanza matters only if it is ours: another
            // recipient's damaged stanza must not lock us out.
            Err(UnwrapFailure::Corrupt(reason)) => {
                if identities.iter().any(|i| i.owns(&stanza.recipient)) {
                    return Err(DocumentError::CorruptKey {
                        recipient: stanza.recipient.clone(),
                        reason,
                    });
                }
            }
        }
    }
    Ok(None)
}

/// How to open a file.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenOptions {
    /// Read the file even if its MAC (or seal) does not verify, with loud
    /// warnings instead of errors (the forensic `--ignore-mac`).
    pub ignore_mac: bool,
    /// What to do when the file has no seal.
    pub seal: SealPolicy,
    /// Whether an identity that only reads some of the file's scopes may
    /// open it (for reading those scopes' values: exec, export, get,
    /// decrypt). Otherwise such an identity gets
    /// [`DocumentError::NotAnOwner`].
    pub scope_read: bool,
}

impl OpenOptions {
    /// The MAC and seal verified; a missing seal refused or warned about
    /// per `seal`.
    pub fn with_seal(seal: SealPolicy) -> Self {
        Self {
            ignore_mac: false,
            seal,
            scope_read: false,
        }
    }
}

/// Opens an encrypted file ([`Sealed::open`]): unwraps the data key,
/// verifies the seal (before any value is decrypted), decrypts every value
/// and comment, and verifies the MAC. With `opts.ignore_mac` a failed MAC
/// or seal check is a warning.
pub(super) fn open<'a>(
    file: &'a Sealed,
    identities: &[Identity],
    opts: &OpenOptions,
) -> Result<Opened<'a>, DocumentError> {
    let ignore_mac = opts.ignore_mac;
    let (text, kind) = (file.text(), file.format());
    let (parsed, meta) = (file.parsed(), file.metadata());
    // SECURITY: strict selection before the key is even unwrapped, so no
    // command gets past a rule that disagrees with the values.
    let selected = selected_leaves(text, kind, parsed, &meta.selection);
    if let Some(e) = selection_mismatches(text, parsed, &selected).next() {
        return Err(e);
    }
    // SECURITY: a scope reader never unwraps the file's data key; it gets
    // its scopes' values, or a refusal naming the scopes.
    if !meta.scopes.is_empty()
        && !scopes::owns_the_file(meta, identities)
        && scopes::reads_a_scope(meta, identities)
    {
        return open_scope(file, identities, opts);
    }
    let key = match unwrap_data_key(meta, identities) {
        Err(DocumentError::NoMatchingIdentity { .. }) if !meta.scopes.is_empty() => {
            // An identity that does not know its own recipient (a plugin)
            // may still read a scope.
            if let Ok(opened) = open_scope(file, identities, opts) {
                return Ok(opened);
            }
            unwrap_data_key(meta, identities)?
        }
        other => other?,
    };
    // SECURITY: the seal is checked before the result of anything else is
    // used: a changed structure (a renamed or added clear key, a widened
    // clear set, an added recipient) is refused as such. When the seal is
    // broken, a more specific finding about the same change wins (a
    // malformed ENC[...], plaintext where ciphertext belongs, a MAC that
    // fails while every value opened), as sops would report it.
    let mut warnings = Vec::new();
    if meta.seal.is_none() && opts.seal == SealPolicy::Required && !ignore_mac {
        return Err(DocumentError::SealMissing);
    }
    let (seal, values) = seal_and_values(text, parsed, meta, &key, &selected, ignore_mac);
    match (seal, opts.seal, ignore_mac) {
        (SealStatus::Verified, _, _) => {}
        (SealStatus::Broken, _, false) => {
            return Err(match values {
                Err(e) if e.explains_a_broken_seal() => e,
                _ => DocumentError::SealMismatch,
            })
        }
        (SealStatus::Missing, SealPolicy::Warn, _) => warnings.push(Warning::SealMissing),
        (status, _, _) => warnings.push(Warning::SealNotVerified(status)),
    }
    let plain = values?;
    if ignore_mac {
        warnings.push(Warning::MacNotVerified);
    }
    Ok(Opened {
        file,
        key: Some(key),
        scope: None,
        target_scopes: None,
        adopted_scopes: Vec::new(),
        plain,
        warnings,
        seal,
        adopted: IvStash::default(),
    })
}

/// Opens a file as a reader of some of its scopes: only their keys are
/// unwrapped and their blobs decrypted. Without `opts.scope_read`, the
/// refusal [`DocumentError::NotAnOwner`].
fn open_scope<'a>(
    file: &'a Sealed,
    identities: &[Identity],
    opts: &OpenOptions,
) -> Result<Opened<'a>, DocumentError> {
    let meta = file.metadata();
    let view = scopes::open_as_reader(meta, identities)?.ok_or_else(|| {
        DocumentError::NoMatchingIdentity {
            recipients: meta.recipients().map(str::to_owned).collect(),
            tried: Vec::new(),
        }
    })?;
    if !opts.scope_read {
        return Err(DocumentError::NotAnOwner {
            reads: view.names.clone(),
            scopes: scopes::scope_readers(meta),
        });
    }
    Ok(Opened {
        file,
        key: None,
        scope: Some(view),
        target_scopes: None,
        adopted_scopes: Vec::new(),
        plain: Vec::new(),
        warnings: Vec::new(),
        // A scope reader cannot check the owners' seal (it is under the
        // file's data key); its blob is authenticated by its own AEAD.
        seal: SealStatus::Missing,
        adopted: IvStash::default(),
    })
}

/// Below this many leaves a file is opened on one thread: a thread's
/// start costs more than it saves on a small file.
const PARALLEL_LEAVES: usize = 2048;

/// At most this many bytes of a plaintext output are written by the
/// second thread: that part is held twice while it is appended to the
/// first, so the share is bounded (at a million keys the output is tens
/// of megabytes, and decrypt must stay under its memory bound).
const SECOND_PART: usize = 2 << 20;

/// The seal status and every value's plaintext (MAC verified unless
/// `ignore_mac`). On a large file both cores work: the seal digest on one
/// thread while the values are decrypted in two halves; the results are
/// the same as one thread's, errors included (the first failing leaf in
/// document order wins, and nothing is used before both are joined).
fn seal_and_values(
    text: &str,
    parsed: &ParsedFile,
    meta: &Metadata,
    key: &DataKey,
    selected: &[bool],
    ignore_mac: bool,
) -> (SealStatus, Result<Vec<Option<Plain>>, DocumentError>) {
    let leaves = &parsed.leaves;
    let cipher = ValueCipher::new(key);
    let (seal, values) = if leaves.len() < PARALLEL_LEAVES {
        (
            seal_status(parsed, meta, key),
            open_leaves(text, leaves, &cipher),
        )
    } else {
        let half = leaves.len() / 2;
        let (seal, first, second) = std::thread::scope(|s| {
            let seal = s.spawn(|| seal_status(parsed, meta, key));
            let second = s.spawn(|| open_leaves(text, &leaves[half..], &cipher));
            let first = open_leaves(text, &leaves[..half], &cipher);
            (join(seal), first, join(second))
        });
        let values = first.and_then(|mut plain| {
            plain.extend(second?);
            Ok(plain)
        });
        (seal, values)
    };
    let values = values.and_then(|plain| {
        if !ignore_mac {
            verify_mac(parsed, meta, key, &plain, selected)?;
        }
        Ok(plain)
    });
    (seal, values)
}

/// A scoped thread's result; its panic goes on in this thread.
pub(super) fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// Each leaf's plaintext (None for nulls), in order; the first leaf that
/// fails is the error.
fn open_leaves(
    text: &str,
    leaves: &[format::Leaf],
    cipher: &ValueCipher,
) -> Result<Vec<Option<Plain>>, DocumentError> {
    let mut plain = Vec::with_capacity(leaves.len());
    let mut aad = String::new();
    for leaf in leaves {
        let raw = leaf.value.expose();
        let line = || format::line_col(text, leaf.span.start).0;
        let value_error = |error| DocumentError::Value {
            path: leaf.path.clone(),
            line: line(),
            error,
        };
        let entry = match leaf.kind {
            LeafKind::Null => None,
            LeafKind::Comment if is_encrypted(raw) => {
                let enc = EncryptedValue::parse(raw).map_err(value_error)?;
                if enc.type_tag() != TypeTag::Comment {
                    return Err(value_error(ValueError::MisplacedType {
                        found: enc.type_tag().as_str(),
                        expected: "a comment",
                    }));
                }
                leaf.path.write_aad(&mut aad);
                let text = enc.into_text(cipher, &aad).map_err(value_error)?;
                Some(Plain {
                    ty: ValueType::Str,
                    text: SecretText::from_zeroizing(text),
                    was_encrypted: true,
                })
            }
            LeafKind::Comment => Some(Plain {
                ty: ValueType::Str,
                text: leaf.value.duplicate(),
                was_encrypted: false,
            }),
            LeafKind::Value(ValueType::Str) if is_encrypted(raw) => {
                let enc = EncryptedValue::parse(raw).map_err(value_error)?;
                leaf.path.write_aad(&mut aad);
                let tag = enc.type_tag();
                if tag == TypeTag::Comment {
                    return Err(value_error(ValueError::MisplacedType {
                        found: tag.as_str(),
                        expected: "a value",
                    }));
                }
                let text = enc.into_text(cipher, &aad).map_err(value_error)?;
                // SECURITY: the tag is not authenticated; a plaintext that
                // is not what its tag says is refused (as sops does), in
                // every command, before anything is printed.
                tag.check(&text).map_err(value_error)?;
                let (ty, text) = value_from_plaintext(tag, text);
                Some(Plain {
                    ty,
                    text,
                    was_encrypted: true,
                })
            }
            // A clear value at an encrypted path was refused above.
            LeafKind::Value(ty) => Some(Plain {
                ty,
                text: leaf.value.duplicate(),
                was_encrypted: false,
            }),
        };
        plain.push(entry);
    }
    Ok(plain)
}

fn verify_mac(
    parsed: &ParsedFile,
    meta: &Metadata,
    key: &DataKey,
    plain: &[Option<Plain>],
    selected: &[bool],
) -> Result<(), DocumentError> {
    if meta.mac.is_empty() {
        return Err(DocumentError::MacMissing);
    }
    let computed = compute_mac(
        parsed,
        meta.mac_only_encrypted,
        &meta.selection,
        selected,
        |i| plain[i].as_ref().map(|p| (p.ty, p.text.expose())),
    );
    let stored = EncryptedValue::parse(&meta.mac)
        .and_then(|v| v.decrypt_text(key, &metadata::mac_aad(&meta.lastmodified)))
        .map_err(|_| DocumentError::MacUndecryptable)?;
    if !mac::macs_equal(&computed, &stored) {
        return Err(DocumentError::MacMismatch);
    }
    Ok(())
}

impl<'a> Opened<'a> {
    /// The file this was opened from.
    pub fn file(&self) -> &'a Sealed {
        self.file
    }

    /// The file's metadata.
    pub fn metadata(&self) -> &'a Metadata {
        self.file.metadata()
    }

    /// What the caller should be told (MAC not verified, no seal...).
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// What the seal check found (a broken seal is seen here only when the
    /// caller asked to ignore the MAC; otherwise opening failed).
    pub fn seal_status(&self) -> SealStatus {
        self.seal
    }

    fn parsed(&self) -> &'a ParsedFile {
        self.file.parsed()
    }

    /// The scopes this identity reads, when it is a scope reader and not
    /// an owner (`None` for an owner).
    pub fn reader_scopes(&self) -> Option<&[String]> {
        self.scope.as_ref().map(|v| v.names.as_slice())
    }

    /// Restricts this owner's view to the scope `name`: from now on it
    /// gives exactly what the scope's readers get (from the scope's stored
    /// blob), and cannot be written back (`export --scope`).
    pub fn restrict_to_scope(&mut self, name: &str) -> Result<(), DocumentError> {
        if let Some(view) = &self.scope {
            if view.names.iter().any(|n| n == name) {
                return Ok(());
            }
        }
        let view = scopes::owner_view(self.metadata(), self.owner_key()?, name)?;
        self.scope = Some(view);
        self.key = None;
        self.plain = Vec::new();
        Ok(())
    }

    /// The data key, for owners; a scope reader's refusal otherwise.
    fn owner_key(&self) -> Result<&DataKey, DocumentError> {
        match (&self.key, &self.scope) {
            (Some(k), _) => Ok(k),
            (None, view) => Err(DocumentError::NotAnOwner {
                reads: view.as_ref().map(|v| v.names.clone()).unwrap_or_default(),
                scopes: scopes::scope_readers(self.metadata()),
            }),
        }
    }

    /// The scopes the next write stores instead of the file's own (a
    /// rule's `scopes:`, applied by `updatekeys`).
    pub fn set_scopes(&mut self, specs: Vec<ScopeSpec>) {
        self.target_scopes = Some(specs);
    }

    /// Refuses when the file's own scopes are not vouched for by a
    /// verified seal (no seal, or a broken one read with `ignore_mac`):
    /// a write that kept them would wrap their keys to whoever they list.
    /// A caller that passes the file's own scopes to
    /// [`Opened::set_scopes`] checks this first.
    pub fn require_sealed_scopes(&self) -> Result<(), DocumentError> {
        let meta = self.metadata();
        // SECURITY: without a verified seal the scopes' readers and paths
        // are attacker-controlled text: an owner's `set` would otherwise
        // wrap a fresh scope key to an added reader and put any value
        // (db.password) in its blob, then seal the result.
        if meta.scopes.is_empty() || self.seal == SealStatus::Verified {
            return Ok(());
        }
        Err(DocumentError::ScopesUnsealed {
            scopes: meta.scopes.iter().map(|s| s.name.clone()).collect(),
        })
    }

    /// The scopes a write stores, and their recovered state.
    fn scopes_to_write(&self) -> Result<(Vec<ScopeSpec>, Vec<scopes::OldScope>), DocumentError> {
        let key = self.owner_key()?;
        let specs = match &self.target_scopes {
            Some(s) => s.clone(),
            None => {
                self.require_sealed_scopes()?;
                scopes::specs_of(self.metadata())?
            }
        };
        let mut old = scopes::recover(self.metadata(), key);
        old.extend(self.adopted_scopes.iter().map(scopes::OldScope::duplicate));
        Ok((specs, old))
    }

    /// The IVs of the values as they were, for minimal-diff re-encryption.
    /// Built on demand (only writes need it, and hashing every value cost a
    /// plain `decrypt` ~7%): each encrypted leaf's `ENC[...]` is parsed
    /// again for its IV and type. A bool's canonical text may differ from
    /// the bytes that were encrypted (`True` vs `true`), so bools are
    /// decrypted again; for every other type the plaintext is the bytes.
    fn iv_stash(&self) -> IvStash {
        let mut stash = IvStash::default();
        for (leaf, plain) in self.parsed().leaves.iter().zip(&self.plain) {
            let Some(plain) = plain.as_ref().filter(|p| p.was_encrypted) else {
                continue;
            };
            // Parsed and decrypted once already in `open`.
            let Ok(enc) = EncryptedValue::parse(leaf.value.expose()) else {
                continue;
            };
            let aad = leaf.path.aad();
            if enc.type_tag() == TypeTag::Bool {
                let Some(key) = &self.key else { continue };
                if let Ok(text) = enc.decrypt_text(key, &aad) {
                    stash.remember(&aad, enc.type_tag(), text.as_bytes(), enc.iv());
                }
            } else {
                stash.remember(
                    &aad,
                    enc.type_tag(),
                    plain.text.expose().as_bytes(),
                    enc.iv(),
                );
            }
        }
        stash
    }

    /// The plaintext file: every encrypted value and comment written back in
    /// canonical style, the metadata removed, everything else as it was.
    pub fn plaintext(&self) -> Result<Zeroizing<String>, DocumentError> {
        if self.scope.is_some() {
            return Ok(scopes::render_restricted(
                self.file.format(),
                self.to_tree().expose(),
            ));
        }
        let (text, kind) = (self.file.text(), self.file.format());
        // Leaves come in document order with disjoint spans (every format's
        // invariant), so the output is written in one pass, each rendered
        // value wiped as soon as it is copied, instead of holding a splice
        // per value (100k values: 100k Strings alive at once). Anything
        // unexpected takes the general path, which also orders the errors.
        let syntax = kind.syntax();
        let in_order = self
            .parsed()
            .leaves
            .windows(2)
            .all(|w| (w[0].span.start, w[0].span.end) <= (w[1].span.start, w[1].span.end));
        let meta = match syntax.metadata_splices(text, self.parsed(), None) {
            Ok(meta) if in_order => meta,
            _ => return self.plaintext_by_splices(),
        };
        let mut meta = meta;
        meta.sort_by_key(|s| (s.range.start, s.range.end));
        // Sized for the plaintext, not the encrypted text (a decrypted
        // value is far shorter than its `ENC[...]`: at a million keys the
        // encrypted text's size was a fifth of the peak memory); a value
        // rendered longer than estimated grows the buffer by a wiped copy.
        let shorter = |(leaf, with): (&format::Leaf, Replacement<'_>)| {
            let plain = match with {
                Replacement::Value(_, v) | Replacement::Comment(v) => v.len(),
                _ => 0,
            };
            leaf.span.len().saturating_sub(plain + 8)
        };
        let leaves = &self.parsed().leaves;
        let size = text.len()
            - self
                .replacements(0..leaves.len())
                .map(shorter)
                .sum::<usize>()
                .min(text.len());
        let mut out = Zeroizing::new(String::with_capacity(size));
        if let Some((cut, at, second_size)) = self.render_cut(size, shorter) {
            // A large file is written on both cores: the second thread
            // writes the text from the start of leaf `cut` on, the first
            // the text before it; the second part is appended to the
            // first, so the output is one pass's byte for byte (and the
            // first error in document order wins).
            let split = meta.partition_point(|m| (m.range.start, m.range.end) < (at, at));
            let (meta_a, meta_b) = meta.split_at(split);
            if meta_a.iter().all(|m| m.range.end <= at) {
                let (first, second) = std::thread::scope(|s| {
                    let second = s.spawn(|| {
                        let mut rest = Zeroizing::new(String::with_capacity(second_size));
                        self.write_plain(&mut rest, at, cut..leaves.len(), meta_b)
                            .map(|()| rest)
                    });
                    let first = self.write_plain(&mut out, 0, 0..cut, meta_a);
                    (first, join(second))
                });
                first?;
                let rest = second?;
                reserve_wiped(&mut out, &0, &(0..0), rest.len());
                out.push_str(&rest);
                return Ok(out);
            }
        }
        self.write_plain(&mut out, 0, 0..leaves.len(), &meta)?;
        Ok(out)
    }

    /// Where to cut the plaintext output of a file whose output is about
    /// `size` bytes for two threads: `(leaf index, text offset, size of
    /// the part from there)` of the first replaced leaf whose part from there on is at most half the
    /// output and at most [`SECOND_PART`] bytes (a bounded share: the
    /// second part is held twice while it is appended, and a million keys
    /// must stay under the memory bound). None for a small file, or when
    /// a leaf reaches past the cut.
    fn render_cut(
        &self,
        size: usize,
        shorter: impl Fn((&format::Leaf, Replacement<'_>)) -> usize,
    ) -> Option<(usize, usize, usize)> {
        let leaves = &self.parsed().leaves;
        if leaves.len() < PARALLEL_LEAVES {
            return None;
        }
        let share = (size / 2).min(SECOND_PART);
        // The output's size up to each leaf: its offset less what the
        // values before it shrink.
        let mut shrunk = 0;
        let mut end_before = 0;
        for (i, (leaf, with)) in leaves.iter().zip(&self.plain).enumerate() {
            let Some(with) = self.replacement(leaf, with.as_ref()) else {
                end_before = end_before.max(leaf.span.end);
                continue;
            };
            let start = leaf.span.start;
            let rest = size.saturating_sub(start.saturating_sub(shrunk));
            if rest <= share {
                return (i > 0 && end_before <= start).then_some((i, start, rest));
            }
            shrunk += shorter((leaf, with));
            end_before = end_before.max(leaf.span.end);
        }
        None
    }

    /// Appends to `out` the plaintext of the text from `from` to the end
    /// of `leaves` (the text's end when they are the last): each replaced
    /// leaf rendered at its span, each rendered value wiped as soon as it
    /// is copied, and the `meta` splices (in order) in place.
    fn write_plain(
        &self,
        out: &mut Zeroizing<String>,
        from: usize,
        leaves: std::ops::Range<usize>,
        meta: &[Splice],
    ) -> Result<(), DocumentError> {
        let text = self.file.text();
        let syntax = self.file.format().syntax();
        let last = leaves.end >= self.parsed().leaves.len();
        let to = match self.parsed().leaves.get(leaves.end) {
            Some(next) if !last => next.span.start,
            _ => text.len(),
        };
        let mut meta = meta.iter().peekable();
        let mut at = from;
        for (leaf, with) in self.replacements(leaves) {
            let piece = Zeroizing::new(syntax.render(text, leaf, &with)?);
            let key = (leaf.span.start, leaf.span.end);
            while let Some(m) = meta.next_if(|m| (m.range.start, m.range.end) < key) {
                reserve_wiped(out, &at, &m.range, m.text.len());
                splice_into(out, &mut at, text, &m.range, &m.text)?;
            }
            reserve_wiped(out, &at, &leaf.span, piece.len());
            splice_into(out, &mut at, text, &leaf.span, &piece)?;
        }
        for m in meta {
            reserve_wiped(out, &at, &m.range, m.text.len());
            splice_into(out, &mut at, text, &m.range, &m.text)?;
        }
        if at > to {
            return Err(FormatError::Internal("overlapping or out-of-range splice").into());
        }
        let rest = to - at;
        reserve_wiped(out, &at, &(to..to), rest);
        out.push_str(&text[at..to]);
        Ok(())
    }

    /// Each of `leaves` to write back in plaintext, with what to write.
    fn replacements(
        &self,
        leaves: std::ops::Range<usize>,
    ) -> impl Iterator<Item = (&format::Leaf, Replacement<'_>)> {
        self.parsed().leaves[leaves.clone()]
            .iter()
            .zip(&self.plain[leaves])
            .filter_map(|(leaf, plain)| Some((leaf, self.replacement(leaf, plain.as_ref())?)))
    }

    /// What to write back for `leaf` with plaintext `plain`, if anything.
    fn replacement<'p>(
        &self,
        leaf: &format::Leaf,
        plain: Option<&'p Plain>,
    ) -> Option<Replacement<'p>> {
        let plain = plain.filter(|p| p.was_encrypted)?;
        Some(if leaf.kind == LeafKind::Comment {
            Replacement::Comment(plain.text.expose())
        } else {
            Replacement::Value(plain.ty, plain.text.expose())
        })
    }

    /// [`Opened::plaintext`] by collecting every splice first.
    fn plaintext_by_splices(&self) -> Result<Zeroizing<String>, DocumentError> {
        let (text, kind) = (self.file.text(), self.file.format());
        let syntax = kind.syntax();
        let mut splices = Vec::new();
        for (leaf, with) in self.replacements(0..self.plain.len()) {
            splices.push(Splice {
                range: leaf.span.clone(),
                text: syntax.render(text, leaf, &with)?,
            });
        }
        splices.extend(syntax.metadata_splices(text, self.parsed(), None)?);
        let out = Zeroizing::new(apply_splices(text, &mut splices)?);
        for s in &mut splices {
            zeroize::Zeroize::zeroize(&mut s.text);
        }
        Ok(out)
    }

    /// Re-encrypts an edited plaintext of this file with the same data key,
    /// recipients and rule: values and comments whose (path, type,
    /// plaintext) did not change keep their exact ciphertext, so the diff of
    /// a one-value change is that value, `lastmodified` and `mac`.
    pub fn reencrypt(mut self, new_plaintext: &str, now: &str) -> Result<String, DocumentError> {
        let (specs, old) = self.scopes_to_write()?;
        let kind = self.file.format();
        let parsed = kind.syntax().parse(new_plaintext)?;
        if !parsed.metadata.is_empty() {
            return Err(DocumentError::AlreadyEncrypted);
        }
        let mut meta = self.metadata().clone();
        meta.lastmodified = now.to_owned();
        meta.version = metadata::newer_version(&meta.version);
        let mut stash = self.iv_stash();
        stash.absorb(std::mem::take(&mut self.adopted));
        let (text, _warnings) = write_encrypted(
            new_plaintext,
            kind,
            parsed,
            self.owner_key()?,
            &mut meta,
            &mut stash,
            ScopeWrite {
                specs: &specs,
                old: &old,
                rotate: false,
            },
        )?;
        Ok(text)
    }

    /// Re-seals the file for a new set of key groups (one group = plain
    /// recipients; several = Shamir split with `shamir_threshold`).
    ///
    /// With `rotate`, a fresh data key is generated and every value and
    /// comment is re-encrypted with fresh IVs, so nobody who only knew the
    /// old data key can read what is written from now on. Without it, the
    /// existing data key is re-wrapped (values keep their ciphertext).
    /// Key types botsecrets cannot wrap for (pgp, kms, ...) are kept only
    /// when the data key does not change; [`Rekeyed::dropped`] lists the
    /// groups' foreign keys that had to go.
    pub fn rekey(
        self,
        groups: &[Vec<Recipient>],
        shamir_threshold: u32,
        rotate: bool,
        now: &str,
    ) -> Result<Rekeyed, DocumentError> {
        if groups.iter().all(|g| g.is_empty()) {
            return Err(DocumentError::NoRecipients);
        }
        let (specs, old) = self.scopes_to_write()?;
        let kind = self.file.format();
        let plain = self.plaintext()?;
        let parsed = kind.syntax().parse(&plain)?;
        let mut dropped = Vec::new();
        let (key, mut stash) = if rotate {
            (DataKey::generate(), IvStash::default())
        } else {
            let key = DataKey::from_slice(self.owner_key()?.expose()).expect("32 bytes");
            (key, self.iv_stash())
        };
        let mut meta = self.metadata().clone();
        let old_groups = std::mem::take(&mut meta.key_groups);
        meta.lastmodified = now.to_owned();
        meta.version = metadata::newer_version(&meta.version);
        let (wrapped, threshold) = wrap_groups(&key, groups, shamir_threshold)?;
        let count = wrapped.len();
        meta.shamir_threshold = threshold;
        meta.uses_key_groups = count > 1 || meta.uses_key_groups;
        meta.key_groups = Vec::with_capacity(count);
        for (i, stanzas) in wrapped.into_iter().enumerate() {
            let foreign = match old_groups.get(i) {
                Some(old) if !rotate && count == old_groups.len() => old.foreign.clone(),
                Some(old) => {
                    dropped.extend(old.foreign.keys().cloned());
                    Default::default()
                }
                None => Default::default(),
            };
            meta.key_groups.push(KeyGroup {
                age: stanzas,
                foreign,
            });
        }
        let (text, _warnings) = write_encrypted(
            &plain,
            kind,
            parsed,
            &key,
            &mut meta,
            &mut stash,
            ScopeWrite {
                specs: &specs,
                old: &old,
                rotate,
            },
        )?;
        Ok(Rekeyed { text, dropped })
    }

    /// Whether `other` was opened with the same data key.
    pub fn same_key(&self, other: &Opened<'_>) -> bool {
        use subtle::ConstantTimeEq;
        match (&self.key, &other.key) {
            (Some(a), Some(b)) => bool::from(a.expose().ct_eq(b.expose())),
            _ => false,
        }
    }

    /// Takes over the remembered IVs of `other` when it has the same data
    /// key, so that [`Opened::reencrypt`] also keeps `other`'s ciphertext
    /// for values that come from it (a merge: their unchanged values stay
    /// byte-identical to theirs). Does nothing for another data key.
    pub fn adopt_ivs(&mut self, other: &Opened<'_>) {
        if !self.same_key(other) {
            return;
        }
        let theirs = other.iv_stash();
        self.adopted.absorb(theirs);
        if let Some(key) = &other.key {
            self.adopted_scopes = scopes::recover(other.metadata(), key);
        }
    }

    /// Sets the value at `path` (first document) to `value` of type `ty`,
    /// and re-encrypts as [`Opened::reencrypt`] does (every other value
    /// keeps its ciphertext). An existing value is replaced in place; a new
    /// key is inserted, at any depth, with the file's own indentation.
    pub fn set(
        self,
        path: &KeyPath,
        ty: ValueType,
        value: &str,
        now: &str,
    ) -> Result<String, DocumentError> {
        self.owner_key()?;
        let plain = self.plaintext()?;
        let syntax = self.file.format().syntax();
        let parsed = syntax.parse(&plain).map_err(DocumentError::Edit)?;
        let existing = parsed
            .leaves
            .iter()
            .find(|l| l.document == 0 && l.kind != LeafKind::Comment && &l.path == path);
        let with = Replacement::Value(ty, value);
        let splices = match existing {
            Some(leaf) => vec![Splice {
                range: leaf.span.clone(),
                text: syntax
                    .render(&plain, leaf, &with)
                    .map_err(DocumentError::Edit)?,
            }],
            None => syntax
                .insert(&plain, &parsed, path, &with)
                .map_err(DocumentError::Edit)?,
        };
        self.reencrypt_spliced(&plain, splices, now)
    }

    /// Removes the entry at `path` (first document) with its lines, and
    /// re-encrypts as [`Opened::reencrypt`] does.
    /// [`DocumentError::PathNotFound`] when there is no such entry.
    pub fn unset(self, path: &KeyPath, now: &str) -> Result<String, DocumentError> {
        self.owner_key()?;
        let plain = self.plaintext()?;
        let syntax = self.file.format().syntax();
        let parsed = syntax.parse(&plain).map_err(DocumentError::Edit)?;
        let splices = syntax.remove(&plain, &parsed, path).map_err(|e| match e {
            FormatError::PathNotFound(p) => DocumentError::PathNotFound(p),
            e => DocumentError::Edit(e),
        })?;
        self.reencrypt_spliced(&plain, splices, now)
    }

    /// Applies `splices` to this file's plaintext `plain` and re-encrypts
    /// the result; the splices and the new plaintext are wiped.
    fn reencrypt_spliced(
        self,
        plain: &str,
        mut splices: Vec<Splice>,
        now: &str,
    ) -> Result<String, DocumentError> {
        let new_plain = apply_splices(plain, &mut splices).map(Zeroizing::new);
        for s in &mut splices {
            zeroize::Zeroize::zeroize(&mut s.text);
        }
        self.reencrypt(&new_plain.map_err(DocumentError::Edit)?, now)
    }

    /// The decrypted values (no comments, no nulls) as `(path, type, text)`,
    /// in document order with aliases expanded, first document only.
    pub fn values(&self) -> Vec<(KeyPath, ValueType, &SecretText)> {
        self.values_and_own_flags()
            .into_iter()
            .map(|(path, ty, text, _)| (path, ty, text))
            .collect()
    }

    /// [`Opened::values`], each with whether its path is among
    /// [`Opened::encrypted_paths`]: what `exec` needs, without a set of
    /// every path (a tenth of its work before the hand-over).
    pub fn values_flagged(&self) -> Vec<(KeyPath, ValueType, &SecretText, bool)> {
        let values = self.values_and_own_flags();
        if self.scope.is_none() && self.parsed().documents == 1 {
            // One document: each path names one leaf, whose own flag is
            // the answer.
            return values;
        }
        // A path of the first document may be encrypted in a later one
        // only: the general rule, through the set.
        let encrypted: std::collections::HashSet<KeyPath> =
            self.encrypted_paths().into_iter().collect();
        values
            .into_iter()
            .map(|(path, ty, text, _)| {
                let enc = encrypted.contains(&path);
                (path, ty, text, enc)
            })
            .collect()
    }

    /// [`Opened::values`], each with whether its own leaf was encrypted.
    fn values_and_own_flags(&self) -> Vec<(KeyPath, ValueType, &SecretText, bool)> {
        if let Some(view) = &self.scope {
            return view
                .values
                .iter()
                .map(|v| (v.path.clone(), v.ty, &v.text, v.encrypted))
                .collect();
        }
        self.parsed()
            .values_in_order()
            .into_iter()
            .filter_map(|(path, i)| {
                let leaf = &self.parsed().leaves[i];
                let plain = self.plain[i].as_ref()?;
                (leaf.document == 0).then_some((
                    path.into_owned(),
                    plain.ty,
                    &plain.text,
                    plain.was_encrypted,
                ))
            })
            .collect()
    }

    /// The key paths of every value that is encrypted in the file (all
    /// documents, aliases expanded, each path once), in document order:
    /// what anyone holding the data key could read.
    pub fn encrypted_paths(&self) -> Vec<KeyPath> {
        if let Some(view) = &self.scope {
            return view
                .values
                .iter()
                .filter(|v| v.encrypted)
                .map(|v| v.path.clone())
                .collect();
        }
        let mut seen = std::collections::HashSet::new();
        self.parsed()
            .values_in_order()
            .into_iter()
            .filter(|(_, i)| self.plain[*i].as_ref().is_some_and(|p| p.was_encrypted))
            .map(|(path, _)| path.into_owned())
            .filter(|path| seen.insert(path.clone()))
            .collect()
    }

    /// How many comments are encrypted in the file.
    pub fn encrypted_comments(&self) -> usize {
        self.parsed()
            .leaves
            .iter()
            .zip(&self.plain)
            .filter(|(l, p)| {
                l.kind == LeafKind::Comment && p.as_ref().is_some_and(|p| p.was_encrypted)
            })
            .count()
    }

    /// One value or subtree (first document) as a JSON-like tree, for
    /// `--extract` and format conversion.
    ///
    /// A path as the file spells it comes first (COMPAT(sops): sops keeps a
    /// YAML merge key `<<` as an ordinary key). A path the file does not
    /// spell out is looked up as a program that loads the file names it
    /// ([`format::loaded_values`]: YAML merge keys applied, dotenv `export`
    /// dropped), so `get worker.region` finds what `exec` sets as
    /// `WORKER_REGION`.
    pub fn extract(&self, path: &KeyPath) -> Result<SecretTree, DocumentError> {
        let not_found = || DocumentError::PathNotFound(path.clone());
        if let Some(view) = &self.scope {
            // SECURITY: a scope reader gets only paths inside its scopes;
            // anything else is refused before anything is looked up.
            if !view.paths.iter().any(|p| path.starts_with(p)) {
                return Err(DocumentError::OutsideScope {
                    path: path.clone(),
                    reads: view.names.clone(),
                    scopes: scopes::scope_readers(self.metadata()),
                });
            }
            let tree = self.to_tree();
            let node = subtree(tree.expose(), path).ok_or_else(not_found)?;
            return Ok(SecretTree(node.clone()));
        }
        let tree = self.to_tree();
        if let Some(node) = subtree(tree.expose(), path) {
            return Ok(SecretTree(node.clone()));
        }
        let loaded = self.tree_of(format::loaded_values(
            self.file.format().syntax(),
            self.parsed()
                .values_in_order()
                .into_iter()
                .map(|(p, i)| (p.into_owned(), i)),
        ));
        let node = subtree(loaded.expose(), path).ok_or_else(not_found)?;
        Ok(SecretTree(node.clone()))
    }

    /// The first document's data as a JSON tree (nulls and empty
    /// collections included, comments left out). Scalars are JSON strings,
    /// numbers and booleans by type.
    pub fn to_tree(&self) -> SecretTree {
        if let Some(view) = &self.scope {
            let mut root = Value::Object(Default::default());
            for v in &view.values {
                insert_at(
                    &mut root,
                    v.path.segments(),
                    scalar_json(v.ty, v.text.expose()),
                );
            }
            return SecretTree(root);
        }
        self.tree_of(self.parsed().values_in_order())
    }

    /// Every document's data as a JSON tree, as [`Opened::to_tree`] (one
    /// tree except for a YAML stream of several documents).
    pub fn to_trees(&self) -> Vec<SecretTree> {
        let values = self.parsed().values_in_order();
        (0..self.parsed().documents.max(1))
            .map(|d| self.document_tree(&values, d))
            .collect()
    }

    /// The tree of the first document's leaves `values` (`(path, leaf
    /// index)`, in the order to insert them).
    fn tree_of<P: std::borrow::Borrow<KeyPath>>(&self, values: Vec<(P, usize)>) -> SecretTree {
        self.document_tree(&values, 0)
    }

    /// The tree of document `document`'s leaves among `values`, with its
    /// empty collections (`{}`, `[]`) where they sit.
    fn document_tree<P: std::borrow::Borrow<KeyPath>>(
        &self,
        values: &[(P, usize)],
        document: usize,
    ) -> SecretTree {
        let mut root = Value::Object(Default::default());
        let parsed = self.parsed();
        let mut all: Vec<&format::EmptyCollection> = parsed
            .empties
            .iter()
            .chain(&parsed.unsealed_empties)
            .filter(|e| e.document == document)
            .collect();
        // Stable: the two lists never hold the same collection.
        all.sort_by_key(|e| e.position);
        let mut empties = all.into_iter().peekable();
        let empty = |e: &format::EmptyCollection| {
            if e.is_map {
                Value::Object(Default::default())
            } else {
                Value::Array(Vec::new())
            }
        };
        for (path, i) in values {
            let path: &KeyPath = path.borrow();
            let leaf = &self.parsed().leaves[*i];
            if leaf.document as usize != document {
                continue;
            }
            while let Some(e) = empties.next_if(|e| e.position <= *i) {
                insert_at(&mut root, e.path.segments(), empty(e));
            }
            let value = match (&self.plain[*i], leaf.kind) {
                (None, _) => Value::Null,
                (Some(p), _) => scalar_json(p.ty, p.text.expose()),
            };
            insert_at(&mut root, path.segments(), value);
        }
        for e in empties {
            insert_at(&mut root, e.path.segments(), empty(e));
        }
        SecretTree(root)
    }
}

/// The node at `path` below `node`.
fn subtree<'v>(node: &'v Value, path: &KeyPath) -> Option<&'v Value> {
    let mut node = node;
    for seg in path.segments() {
        node = match seg {
            crate::path::Segment::Key(k) => node.get(k.as_str()),
            crate::path::Segment::Index(i) => node.get(*i),
        }?;
    }
    Some(node)
}

/// Appends `text[*at..range.start]` and `with` to `out` and moves `at` to
/// the range's end; the checks (and error) of [`apply_splices`].
/// Makes room in `out` for the text between `at` and `range.start` plus
/// `with` bytes. SECURITY: `out` holds plaintext, and a `String` that grows
/// by itself leaves its old buffer unwiped in freed memory; this grows it
/// by copying into a larger wiped-on-drop buffer and wiping the old one.
fn reserve_wiped(
    out: &mut Zeroizing<String>,
    at: &usize,
    range: &std::ops::Range<usize>,
    with: usize,
) {
    let need = range.start.saturating_sub(*at) + with;
    if out.capacity() - out.len() >= need {
        return;
    }
    let mut bigger = String::with_capacity((out.capacity() * 2).max(out.len() + need));
    bigger.push_str(out);
    // The old buffer is wiped when the old Zeroizing drops here.
    *out = Zeroizing::new(bigger);
}

pub(super) fn splice_into(
    out: &mut String,
    at: &mut usize,
    text: &str,
    range: &std::ops::Range<usize>,
    with: &str,
) -> Result<(), FormatError> {
    if range.start < *at || range.end > text.len() || range.start > range.end {
        return Err(FormatError::Internal("overlapping or out-of-range splice"));
    }
    out.push_str(&text[*at..range.start]);
    out.push_str(with);
    *at = range.end;
    Ok(())
}

/// A typed scalar as a JSON value.
pub fn scalar_json(ty: ValueType, text: &str) -> Value {
    match ty {
        ValueType::Int | ValueType::Float => serde_json::from_str::<serde_json::Number>(text)
            .map(Value::Number)
            .unwrap_or_else(|_| Value::String(text.to_owned())),
        ValueType::Bool => Value::Bool(text == "true"),
        ValueType::Str | ValueType::Time => Value::String(text.to_owned()),
    }
}

pub(super) fn insert_at(node: &mut Value, path: &[crate::path::Segment], value: Value) {
    use crate::path::Segment;
    let Some((first, rest)) = path.split_first() else {
        *node = value;
        return;
    };
    let child = match first {
        Segment::Key(k) => {
            if !node.is_object() {
                *node = Value::Object(Default::default());
            }
            let obj = node.as_object_mut().expect("just made an object");
            obj.entry(k.clone()).or_insert(Value::Null)
        }
        Segment::Index(i) => {
            if !node.is_array() {
                *node = Value::Array(Vec::new());
            }
            let arr = node.as_array_mut().expect("just made an array");
            while arr.len() <= *i {
                arr.push(Value::Null);
            }
            &mut arr[*i]
        }
    };
    insert_at(child, rest, value);
}
