//! Where formats and crypto meet: encrypting a plaintext file, opening an
//! encrypted one (data key, values, MAC), and writing its plaintext.
//!
//! Every function takes and returns text; files, flags and environment are
//! the caller's. Invariants:
//! - the output of [`encrypt`] is the input with value/comment spans replaced
//!   and a metadata block added, and it is re-parsed before being returned
//!   (a mismatch is an internal error, never a silently bad file);
//! - [`open`] verifies the MAC (unless told not to) before any plaintext
//!   leaves this module;
//! - errors carry key paths and line numbers, never values.

use serde_json::Value;
use zeroize::Zeroizing;

use crate::crypto::mac::{self, MacHasher};
use crate::crypto::value::{is_encrypted, IvSource, ValueCipher};
use crate::crypto::{shamir, DataKey, EncryptedValue, TypeTag, ValueError};
use crate::format::{
    self, apply_splices, FormatError, FormatKind, LeafKind, ParsedFile, Replacement, Splice,
    ValueType,
};
use crate::keys::{self, Identity, Recipient, UnwrapFailure};
use crate::metadata::{self, AgeStanza, KeyGroup, Metadata, MetadataError, Selection};
use crate::path::KeyPath;
use crate::seal::{self as sealing, SealPolicy, SealStatus};
use crate::secret::{SecretText, SecretTree};

/// Errors of the document layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// The text is not valid in its format.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The file already has a `sops` metadata block.
    #[error("already encrypted (it has sops metadata); decrypt it first or use edit/set")]
    AlreadyEncrypted,
    /// The file has no `sops` metadata block.
    #[error("not encrypted: no sops metadata found")]
    NotEncrypted,
    /// The metadata block is invalid.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// No recipients were given for a new file.
    #[error("no recipients: pass --age with at least one age recipient")]
    NoRecipients,
    /// Wrapping the data key failed.
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    /// No identity could open the data key.
    #[error("{}", no_identity_message(.recipients, .tried))]
    NoMatchingIdentity {
        /// The file's recipients.
        recipients: Vec<String>,
        /// The identities tried: (recipient, source).
        tried: Vec<(String, String)>,
    },
    /// A wrapped data key is corrupt.
    #[error("the data key wrapped for {recipient} is corrupt: {reason}")]
    CorruptKey {
        /// Whose stanza.
        recipient: String,
        /// age's reason.
        reason: String,
    },
    /// An `ENC[...]` value is malformed or fails authentication.
    #[error("cannot decrypt the value at {path} (line {line}): {source}")]
    Value {
        /// Key path of the value.
        path: KeyPath,
        /// 1-based line.
        line: usize,
        /// What went wrong.
        source: ValueError,
    },
    /// The selection rule and the values disagree (strict selection): an
    /// `ENC[...]` value or comment where the rule says clear, or a clear
    /// non-empty value where it says encrypted. sops never writes such a
    /// file; a writer without the key can make one by editing the rule.
    #[error("the selection rule and the values disagree at {path} (line {line}): {found}; the metadata may have been changed without the key")]
    SelectionMismatch {
        /// Key path of the value or comment.
        path: KeyPath,
        /// 1-based line.
        line: usize,
        /// Which way they disagree.
        found: Mismatch,
    },
    /// The MAC is missing.
    #[error("the file has no MAC (sops.mac is empty); use --ignore-mac to read it anyway")]
    MacMissing,
    /// The stored MAC cannot be decrypted.
    #[error("the MAC cannot be decrypted (sops.mac or sops.lastmodified was altered)")]
    MacUndecryptable,
    /// The MAC does not match the values.
    #[error("MAC mismatch: the file's values were altered after it was encrypted")]
    MacMismatch,
    /// The seal does not match the file: its structure or metadata (key
    /// names, clear values, empty entries, selection rule, recipients,
    /// threshold) changed after a key holder wrote it.
    #[error("the seal does not verify: the file's key names, clear values, selection rule or recipients were changed without the key (sops.botsecrets_seal)")]
    SealMismatch,
    /// The file has no seal and the policy requires one.
    #[error("the file has no seal (sops.botsecrets_seal) and its rules require one: sops or another tool wrote it, or the seal was stripped")]
    SealMissing,
    /// `--extract` named a path that is not in the file.
    #[error("key path {0} not found")]
    PathNotFound(KeyPath),
    /// Shamir shares could not be combined.
    #[error("cannot rebuild the data key from key groups: {0}")]
    Shamir(String),
    /// A bug caught by a self-check.
    #[error("internal error: {0}; the file was not written")]
    Internal(String),
}

/// How a leaf disagrees with the file's selection rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// An `ENC[...]` value at a path the rule leaves clear.
    EncryptedValue,
    /// An `ENC[...]` comment where the rule leaves comments clear.
    EncryptedComment,
    /// A clear non-empty value at a path the rule encrypts.
    ClearValue,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mismatch::EncryptedValue => "the value is encrypted but the rule says it is clear",
            Mismatch::EncryptedComment => "the comment is encrypted but the rule says it is clear",
            Mismatch::ClearValue => "the value is in the clear but the rule says it is encrypted",
        })
    }
}

fn no_identity_message(recipients: &[String], tried: &[(String, String)]) -> String {
    let mut msg = format!(
        "no identity matches this file's recipients: {}",
        recipients.join(", ")
    );
    if tried.is_empty() {
        msg.push_str("; no identities were found");
    } else {
        let tried: Vec<String> = tried
            .iter()
            .map(|(r, s)| format!("{r} (from {s})"))
            .collect();
        msg.push_str(&format!("; tried {}", tried.join(", ")));
    }
    msg
}

/// Something the user should know that did not stop the operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A YAML alias points at encrypted values: botsecrets reads the file,
    /// sops does not (it decrypts the alias at its own path).
    AliasOfEncryptedValues {
        /// Where the alias is.
        alias: KeyPath,
        /// Where the anchor is.
        anchor: KeyPath,
    },
    /// The MAC was not checked (`--ignore-mac`).
    MacNotVerified,
    /// The file has no seal; the policy allows that, with this warning.
    SealMissing,
    /// The seal is missing where required, or does not verify, and the
    /// caller asked to read the file anyway (`--ignore-mac`).
    SealNotVerified(SealStatus),
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::AliasOfEncryptedValues { alias, anchor } => write!(
                f,
                "the alias at {alias} points at encrypted values under {anchor}: botsecrets can read this file but sops cannot; use --expand-aliases for a sops-compatible file"
            ),
            Warning::MacNotVerified => f.write_str("the MAC was NOT verified (--ignore-mac): values may have been altered"),
            Warning::SealMissing => f.write_str("the file has no seal (sops.botsecrets_seal): sops or another tool wrote it, or the seal was stripped, so its key names, clear values, selection rule and recipients are not authenticated"),
            Warning::SealNotVerified(SealStatus::Broken) => f.write_str("the seal does NOT verify (read anyway because of --ignore-mac): key names, clear values, the selection rule or the recipients were changed without the key"),
            Warning::SealNotVerified(_) => f.write_str("the file has NO seal although its rules require one (read anyway because of --ignore-mac)"),
        }
    }
}

/// How to encrypt a new file.
pub struct EncryptOptions<'a> {
    /// Who can read the file.
    pub recipients: &'a [Recipient],
    /// Which values are encrypted.
    pub selection: Selection,
    /// Whether the MAC covers only encrypted values.
    pub mac_only_encrypted: bool,
    /// YAML: replace aliases by copies of their anchors first.
    pub expand_aliases: bool,
    /// `lastmodified` to record (RFC 3339 UTC); see [`metadata::now_rfc3339`].
    pub now: String,
}

/// The result of an encryption.
pub struct Encrypted {
    /// The encrypted file's text.
    pub text: String,
    /// Things the user should be told.
    pub warnings: Vec<Warning>,
}

/// The bytes sops encrypts (and hashes) for a value of a type.
fn typed_plaintext(ty: ValueType, value: &str) -> (TypeTag, &str) {
    match ty {
        ValueType::Str => (TypeTag::Str, value),
        ValueType::Int => (TypeTag::Int, value),
        ValueType::Float => (TypeTag::Float, value),
        // COMPAT(sops): Python-era `True`/`False`.
        ValueType::Bool => (
            TypeTag::Bool,
            if mac::parse_go_bool(value).unwrap_or(false) {
                "True"
            } else {
                "False"
            },
        ),
        ValueType::Time => (TypeTag::Time, value),
    }
}

/// The value type and canonical text of a decrypted value (the text itself
/// except for bools), whose plaintext was checked against its tag
/// ([`TypeTag::check`]).
fn value_from_plaintext(tag: TypeTag, text: Zeroizing<String>) -> (ValueType, SecretText) {
    let ty = match tag {
        TypeTag::Int => ValueType::Int,
        TypeTag::Float => ValueType::Float,
        TypeTag::Bool => {
            let canonical = if mac::parse_go_bool(&text).unwrap_or(false) {
                "true"
            } else {
                "false"
            };
            return (ValueType::Bool, SecretText::from_str(canonical));
        }
        TypeTag::Time => ValueType::Time,
        TypeTag::Str | TypeTag::Comment | TypeTag::Bytes => ValueType::Str,
    };
    (ty, SecretText::from_zeroizing(text))
}

/// Remembers the IV of every value of an opened file, keyed by a digest of
/// (AAD, type, plaintext), so that re-encrypting an unchanged value gives
/// byte-identical ciphertext (minimal git diffs, as `sops edit` does).
///
/// SECURITY: an IV is reused only for the identical (key, AAD, type,
/// plaintext), which reproduces the identical ciphertext and reveals
/// nothing new; each remembered IV is handed out at most once, so two equal
/// values that had distinct ciphertexts keep distinct ones. Only digests are
/// kept, never plaintext.
#[derive(Default)]
pub struct IvStash {
    ivs: std::collections::HashMap<[u8; 32], std::collections::VecDeque<[u8; 32]>>,
}

impl IvStash {
    fn digest(aad: &str, tag: TypeTag, plaintext: &[u8]) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update((aad.len() as u64).to_be_bytes());
        h.update(aad.as_bytes());
        h.update(tag.as_str().as_bytes());
        h.update([0]);
        h.update(plaintext);
        h.finalize().into()
    }

    fn remember(&mut self, aad: &str, tag: TypeTag, plaintext: &[u8], iv: [u8; 32]) {
        self.ivs
            .entry(Self::digest(aad, tag, plaintext))
            .or_default()
            .push_back(iv);
    }

    /// Adds `other`'s IVs. SECURITY: an IV already remembered for the same
    /// digest is not added twice, so each is still handed out at most once.
    fn absorb(&mut self, other: IvStash) {
        for (digest, ivs) in other.ivs {
            let mine = self.ivs.entry(digest).or_default();
            for iv in ivs {
                if !mine.contains(&iv) {
                    mine.push_back(iv);
                }
            }
        }
    }

    fn take(&mut self, aad: &str, tag: TypeTag, plaintext: &[u8]) -> Option<[u8; 32]> {
        if self.ivs.is_empty() {
            // A new file: nothing to reuse, no digest to compute.
            return None;
        }
        self.ivs
            .get_mut(&Self::digest(aad, tag, plaintext))?
            .pop_front()
    }
}

/// Encrypts a plaintext file for `opts.recipients`.
pub fn encrypt(
    text: &str,
    kind: FormatKind,
    opts: &EncryptOptions<'_>,
) -> Result<Encrypted, DocumentError> {
    encrypt_for_groups(text, kind, opts, &[opts.recipients.to_vec()], 0)
}

/// Encrypts a plaintext file for key groups (a rule's `key_groups`): one
/// group is plain recipients; several split the data key with Shamir,
/// `shamir_threshold` of them (all, when 0) needed to open the file.
/// `opts.recipients` is ignored.
pub fn encrypt_for_groups(
    text: &str,
    kind: FormatKind,
    opts: &EncryptOptions<'_>,
    groups: &[Vec<Recipient>],
    shamir_threshold: u32,
) -> Result<Encrypted, DocumentError> {
    if groups.iter().all(|g| g.is_empty()) {
        return Err(DocumentError::NoRecipients);
    }
    let expanded;
    let text = if opts.expand_aliases && kind == FormatKind::Yaml {
        expanded = format::yaml::expand_aliases(text)?;
        expanded.as_str()
    } else {
        text
    };
    let parsed = kind.syntax().parse(text)?;
    if !parsed.metadata.is_empty() {
        return Err(DocumentError::AlreadyEncrypted);
    }
    let key = DataKey::generate();
    let (wrapped, threshold) = wrap_groups(&key, groups, shamir_threshold)?;
    let mut meta = Metadata {
        uses_key_groups: wrapped.len() > 1,
        key_groups: wrapped
            .into_iter()
            .map(|age| KeyGroup {
                age,
                foreign: Default::default(),
            })
            .collect(),
        shamir_threshold: threshold,
        lastmodified: opts.now.clone(),
        mac: String::new(),
        seal: None,
        selection: opts.selection.clone(),
        mac_only_encrypted: opts.mac_only_encrypted,
        version: metadata::FORMAT_VERSION.to_owned(),
    };
    let (text, warnings) = write_encrypted(
        text,
        kind,
        &parsed,
        &key,
        &mut meta,
        &mut IvStash::default(),
    )?;
    Ok(Encrypted { text, warnings })
}

/// Wraps `key` for key groups: one non-empty group wraps the key itself;
/// several split it with Shamir (threshold 0 = all groups) and each group
/// wraps its share. Empty groups are skipped. Returns the stanzas per group
/// and the threshold to record (0 when not split).
fn wrap_groups(
    key: &DataKey,
    groups: &[Vec<Recipient>],
    shamir_threshold: u32,
) -> Result<(Vec<Vec<AgeStanza>>, u32), DocumentError> {
    let groups: Vec<&Vec<Recipient>> = groups.iter().filter(|g| !g.is_empty()).collect();
    let (shares, threshold) = if groups.len() > 1 {
        let parts = u8::try_from(groups.len())
            .map_err(|_| DocumentError::Shamir("at most 255 key groups".into()))?;
        let threshold = if shamir_threshold == 0 {
            u32::from(parts)
        } else {
            shamir_threshold
        };
        let small = u8::try_from(threshold)
            .ok()
            .filter(|t| (2..=parts).contains(t));
        let Some(small) = small else {
            return Err(DocumentError::Shamir(format!(
                "a threshold of {threshold} needs between 2 and {} key groups",
                groups.len()
            )));
        };
        let shares =
            shamir::split(key, parts, small).map_err(|e| DocumentError::Shamir(e.to_string()))?;
        (shares, threshold)
    } else {
        (vec![Zeroizing::new(key.expose().to_vec())], 0)
    };
    let mut out = Vec::with_capacity(groups.len());
    for (group, share) in groups.iter().zip(&shares) {
        let mut stanzas = Vec::with_capacity(group.len());
        for r in group.iter() {
            let enc = keys::wrap_bytes(r, share).map_err(|reason| keys::KeyError::Wrap {
                recipient: r.to_string(),
                reason,
            })?;
            stanzas.push(AgeStanza {
                recipient: r.to_string(),
                enc,
            });
        }
        out.push(stanzas);
    }
    Ok((out, threshold))
}

/// The shared core of every write: encrypts each selected leaf of the
/// plaintext `parsed` with `key` (reusing stashed IVs for unchanged
/// values), computes the MAC and the seal, stores them in `meta` and writes
/// `meta` as the file's metadata. The output is re-parsed and checked
/// before returning (its seal recomputed from the output must match).
fn write_encrypted(
    text: &str,
    kind: FormatKind,
    parsed: &ParsedFile,
    key: &DataKey,
    meta: &mut Metadata,
    stash: &mut IvStash,
) -> Result<(String, Vec<Warning>), DocumentError> {
    let syntax = kind.syntax();
    let selection = meta.selection.clone();
    let mut splices = Vec::with_capacity(parsed.leaves.len() + 1);
    let mut encrypted_leaf = vec![false; parsed.leaves.len()];
    let mut enc_tags: Vec<Option<&'static str>> = vec![None; parsed.leaves.len()];
    let selected = selected_leaves(text, kind, parsed, &selection);
    let cipher = ValueCipher::new(key);
    let mut ivs = IvSource::default();
    let mut aad = String::new();
    for (i, leaf) in parsed.leaves.iter().enumerate() {
        if !selected[i] || leaf.value.is_empty() {
            continue;
        }
        let (tag, plain) = match leaf.kind {
            LeafKind::Null => continue,
            LeafKind::Comment => (TypeTag::Comment, leaf.value.expose()),
            LeafKind::Value(ty) => typed_plaintext(ty, leaf.value.expose()),
        };
        leaf.path.write_aad(&mut aad);
        let iv = stash
            .take(&aad, tag, plain.as_bytes())
            .unwrap_or_else(|| ivs.next_iv());
        let enc =
            EncryptedValue::encrypt_with(&cipher, plain.as_bytes(), tag, &aad, iv).to_string();
        splices.push(Splice {
            range: leaf.span.clone(),
            text: syntax.render(text, leaf, &Replacement::Encrypted(&enc))?,
        });
        encrypted_leaf[i] = true;
        enc_tags[i] = Some(tag.as_str());
    }

    let mac_plain = compute_mac(
        parsed,
        meta.mac_only_encrypted,
        &selection,
        &selected,
        |i| {
            let leaf = &parsed.leaves[i];
            match leaf.kind {
                LeafKind::Value(ty) => Some((ty, leaf.value.expose())),
                _ => None,
            }
        },
    );
    let mut warnings = Vec::new();
    let in_order = if parsed.aliases.is_empty() {
        Vec::new()
    } else {
        parsed.values_in_order()
    };
    for alias in &parsed.aliases {
        let points_at_encrypted = alias.target.clone().any(|j| encrypted_leaf[j]);
        let encrypted_at_alias = in_order.iter().any(|(path, j)| {
            alias.target.contains(j)
                && path.starts_with(&alias.path)
                && !parsed.leaves[*j].value.is_empty()
                && selection.should_encrypt(path)
        });
        if points_at_encrypted || encrypted_at_alias {
            warnings.push(Warning::AliasOfEncryptedValues {
                alias: alias.path.clone(),
                anchor: alias.target_path.clone(),
            });
        }
    }
    meta.mac = EncryptedValue::encrypt(
        key,
        mac_plain.as_bytes(),
        TypeTag::Str,
        &metadata::mac_aad(&meta.lastmodified),
    )
    .to_string();
    let digest = seal_digest(parsed, meta, |i| enc_tags[i]);
    meta.seal = Some(
        EncryptedValue::encrypt(
            key,
            sealing::hex(&digest).as_bytes(),
            TypeTag::Str,
            &metadata::mac_aad(&meta.lastmodified),
        )
        .to_string(),
    );
    splices.extend(syntax.metadata_splices(text, parsed, Some(&meta.to_tree()))?);
    let out = apply_splices(text, &mut splices)?;
    check_encrypted_output(&out, kind, parsed, &encrypted_leaf, meta, &digest)?;
    Ok((out, warnings))
}

/// The `type:` of an `ENC[...]` text as written (the seal hashes the text,
/// so a changed tag breaks it even where the value would still open).
fn written_type_tag(raw: &str) -> &str {
    raw.rfind(",type:")
        .and_then(|at| raw.get(at + 6..raw.len().saturating_sub(1)))
        .unwrap_or("")
}

/// The seal digest of `parsed` under `meta`: `enc_tag(i)` is leaf i's
/// type tag when it is encrypted, `None` when it is clear.
fn seal_digest<'a>(
    parsed: &'a ParsedFile,
    meta: &Metadata,
    enc_tag: impl Fn(usize) -> Option<&'a str>,
) -> [u8; 64] {
    use sealing::{Item, ItemKind};
    let mut items = Vec::with_capacity(parsed.leaves.len() + parsed.empties.len());
    let mut empties = parsed.empties.iter().peekable();
    let empty_item = |e: &'a format::EmptyCollection| Item {
        document: e.document,
        path: &e.path,
        kind: if e.is_map {
            ItemKind::EmptyMap
        } else {
            ItemKind::EmptyList
        },
        tag: "",
        value: "",
    };
    for (i, leaf) in parsed.leaves.iter().enumerate() {
        while let Some(e) = empties.next_if(|e| e.position <= i) {
            items.push(empty_item(e));
        }
        let raw = leaf.value.expose();
        let (kind, tag) = match (leaf.kind, enc_tag(i)) {
            (LeafKind::Comment, Some(tag)) => (ItemKind::EncryptedComment, tag),
            (LeafKind::Comment, None) => (ItemKind::ClearComment, ""),
            (LeafKind::Null, _) => (ItemKind::Null, ""),
            (LeafKind::Value(_), Some(tag)) => (ItemKind::Encrypted, tag),
            (LeafKind::Value(ty), None) if raw.is_empty() => {
                (ItemKind::EmptyString, sealing::value_type_tag(ty))
            }
            (LeafKind::Value(ty), None) => (ItemKind::Clear, sealing::value_type_tag(ty)),
        };
        items.push(Item {
            document: leaf.document,
            path: &leaf.path,
            kind,
            tag,
            value: raw,
        });
    }
    items.extend(empties.map(empty_item));
    sealing::digest(meta, items)
}

/// The seal digest of an encrypted file as it is on disk.
fn seal_digest_of_encrypted(parsed: &ParsedFile, meta: &Metadata) -> [u8; 64] {
    seal_digest(parsed, meta, |i| {
        let leaf = &parsed.leaves[i];
        let raw = leaf.value.expose();
        match leaf.kind {
            LeafKind::Comment | LeafKind::Value(ValueType::Str) if is_encrypted(raw) => {
                Some(written_type_tag(raw))
            }
            _ => None,
        }
    })
}

/// Checks the stored seal of an encrypted file against its structure.
fn seal_status(parsed: &ParsedFile, meta: &Metadata, key: &DataKey) -> SealStatus {
    let Some(stored) = &meta.seal else {
        return SealStatus::Missing;
    };
    let stored = match EncryptedValue::parse(stored)
        .and_then(|v| v.decrypt_text(key, &metadata::mac_aad(&meta.lastmodified)))
    {
        Ok(s) => s,
        Err(_) => return SealStatus::Broken,
    };
    let computed = sealing::hex(&seal_digest_of_encrypted(parsed, meta));
    if mac::macs_equal(&computed, &stored) {
        SealStatus::Verified
    } else {
        SealStatus::Broken
    }
}

/// Per leaf of `parsed` (the text `text`): whether the selection rule
/// encrypts it.
///
/// COMPAT(sops): the path rules decide from the leaf's key path. The
/// comment rules decide, as sops' `shouldBeEncrypted` does, from the
/// comments "in scope": at each nesting level, the run of comments just
/// before the item being walked (a non-comment item ends the run), a
/// comment seeing itself. `unencrypted_comment_regex`: clear if any comment
/// in scope matches (so the matching comment stays clear).
/// `encrypted_comment_regex`: encrypted only if a comment in scope other
/// than the leaf itself matches (so the marker comment stays clear). A
/// comment at the end of a value's line counts as written before that
/// value, as sops reads it. In an encrypted file, encrypted comments never
/// match, exactly as for sops, which decides from the file's text too.
/// Known difference: an empty collection (`a: {}`) yields no leaf, so it
/// does not end a run of comments here; sops ends it.
///
/// COMPAT(sops): INI is walked as sops' INI store builds its tree: go-ini
/// attaches the comment lines before a key (and its inline comment) to
/// that key as ONE comment, and sops puts that comment item *after* the
/// key; comments before a section header belong to the section and come
/// first in it. So `; marker` above `b = 2` selects the key after `b`, as
/// sops does (checked against sops 3.11), and the lines of one such comment
/// count as one comment ("seeing itself").
///
/// SECURITY: strict selection ([`selection_mismatches`]) refuses files
/// whose values disagree with this, so it must agree with sops for every
/// file sops writes.
fn selected_leaves(
    text: &str,
    kind: FormatKind,
    parsed: &ParsedFile,
    selection: &Selection,
) -> Vec<bool> {
    use crate::path::Segment;
    let leaves = &parsed.leaves;
    let (regex, unencrypted) = match selection {
        Selection::UnencryptedCommentRegex(r) => (r, true),
        Selection::EncryptedCommentRegex(r) => (r, false),
        _ => {
            return leaves
                .iter()
                .map(|l| selection.should_encrypt(&l.path))
                .collect()
        }
    };
    let ini = kind == FormatKind::Ini;
    let order = if ini {
        ini_walk_order(text, leaves)
    } else {
        let mut order: Vec<usize> = (0..leaves.len()).collect();
        for i in 1..leaves.len() {
            let (prev, cur) = (&leaves[i - 1], &leaves[i]);
            let trailing = cur.kind == LeafKind::Comment
                && prev.kind != LeafKind::Comment
                && prev.document == cur.document
                && text
                    .get(prev.span.end..cur.span.start)
                    .is_some_and(|between| !between.contains('\n'));
            if trailing {
                order.swap(i - 1, i);
            }
        }
        order
    };
    // Which comment each comment "is" for the rule's "seeing itself": its
    // own index, or for INI the first line of its run (one go-ini comment).
    let mut itself: Vec<usize> = (0..leaves.len()).collect();
    // Per first comment of a run: whether any line of the run matches.
    let mut group_matches = vec![false; leaves.len()];
    if ini {
        for w in order.windows(2) {
            if leaves[w[0]].kind == LeafKind::Comment && leaves[w[1]].kind == LeafKind::Comment {
                itself[w[1]] = itself[w[0]];
            }
        }
        for (i, leaf) in leaves.iter().enumerate() {
            if leaf.kind == LeafKind::Comment && regex.is_match(leaf.value.expose()) {
                group_matches[itself[i]] = true;
            }
        }
    }
    #[derive(Default)]
    struct Frame {
        current: Option<Segment>,
        comments: Vec<usize>,
    }
    let mut frames: Vec<Frame> = Vec::new();
    let mut document = usize::MAX;
    let mut out = vec![false; leaves.len()];
    for &i in &order {
        let leaf = &leaves[i];
        if leaf.document != document {
            frames.clear();
            document = leaf.document;
        }
        let segments = leaf.path.segments();
        for (depth, segment) in segments.iter().enumerate() {
            if frames.len() <= depth {
                frames.push(Frame::default());
            }
            if frames[depth].current.as_ref() != Some(segment) {
                // A new item at this level: the previous item (if any) ended
                // the run of comments before it.
                if frames[depth].current.is_some() {
                    frames[depth].comments.clear();
                }
                frames[depth].current = Some(segment.clone());
                frames.truncate(depth + 1);
            }
        }
        let is_comment = leaf.kind == LeafKind::Comment;
        let levels = if is_comment {
            let depth = segments.len();
            frames.truncate(depth + 1);
            if frames.len() <= depth {
                frames.push(Frame::default());
            }
            if frames[depth].current.take().is_some() {
                frames[depth].comments.clear();
            }
            frames[depth].comments.push(i);
            depth + 1
        } else {
            frames.truncate(segments.len());
            segments.len()
        };
        let mut in_scope = frames[..levels].iter().flat_map(|f| f.comments.iter());
        let matches = |c: &&usize| regex.is_match(leaves[**c].value.expose());
        out[i] = if unencrypted {
            // A comment that is one go-ini comment with a matching line
            // matches as a whole.
            !(in_scope.any(|c| matches(&c)) || (is_comment && group_matches[itself[i]]))
        } else {
            in_scope.any(|c| itself[*c] != itself[i] && matches(&c))
        };
    }
    out
}

/// The order sops walks an INI file's leaves in (see [`selected_leaves`]):
/// the comments before a key, with no section header in between, move
/// after that key (its inline comment already follows it); every other
/// comment keeps its place.
fn ini_walk_order(text: &str, leaves: &[format::Leaf]) -> Vec<usize> {
    let header_between = |from: usize, to: usize| {
        text.get(from..to)
            .is_some_and(|t| t.lines().any(|l| l.trim_start().starts_with('[')))
    };
    let mut order = Vec::with_capacity(leaves.len());
    let mut pending: Vec<usize> = Vec::new();
    let mut last_key: Option<usize> = None;
    for (i, leaf) in leaves.iter().enumerate() {
        if leaf.kind == LeafKind::Comment {
            let inline = pending.is_empty()
                && last_key.is_some_and(|k| {
                    text.get(leaves[k].span.end..leaf.span.start)
                        .is_some_and(|t| !t.contains('\n'))
                });
            if inline {
                order.push(i);
            } else {
                pending.push(i);
            }
            continue;
        }
        last_key = Some(i);
        // The key's own comment: the pending comments after the last
        // section header before the key, in the key's section.
        let segments = leaf.path.segments();
        let parent = &segments[..segments.len().saturating_sub(1)];
        let mut own = pending.len();
        while own > 0 {
            let c = &leaves[pending[own - 1]];
            let next_start = pending
                .get(own)
                .map_or(leaf.span.start, |&n| leaves[n].span.start);
            if c.path.segments() != parent || header_between(c.span.end, next_start) {
                break;
            }
            own -= 1;
        }
        order.extend_from_slice(&pending[..own]);
        order.push(i);
        order.extend_from_slice(&pending[own..]);
        pending.clear();
    }
    order.extend(pending);
    order
}

/// Re-parses an encrypted output and checks it holds what was intended.
fn check_encrypted_output(
    out: &str,
    kind: FormatKind,
    before: &ParsedFile,
    encrypted_leaf: &[bool],
    meta: &Metadata,
    digest: &[u8; 64],
) -> Result<(), DocumentError> {
    let after = kind.syntax().parse(out).map_err(|e| {
        DocumentError::Internal(format!("the encrypted output does not parse ({e})"))
    })?;
    if after.leaves.len() != before.leaves.len() || after.metadata.is_empty() {
        return Err(DocumentError::Internal(
            "the encrypted output has a different structure".into(),
        ));
    }
    for ((a, b), enc) in after.leaves.iter().zip(&before.leaves).zip(encrypted_leaf) {
        let same_kind =
            a.kind == b.kind || (*enc && matches!(a.kind, LeafKind::Value(ValueType::Str)));
        if a.path != b.path || !same_kind || (*enc && !is_encrypted(a.value.expose())) {
            return Err(DocumentError::Internal(format!(
                "the encrypted output differs at {}",
                b.path
            )));
        }
    }
    if after.empties != before.empties || &seal_digest_of_encrypted(&after, meta) != digest {
        return Err(DocumentError::Internal(
            "the seal of the encrypted output does not match its structure".into(),
        ));
    }
    Ok(())
}

/// Computes the uppercase-hex MAC over `parsed`'s values in sops order;
/// `plain(i)` gives leaf i's type and plaintext (None for nulls and
/// comments, which the MAC skips).
fn compute_mac<'a>(
    parsed: &ParsedFile,
    mac_only_encrypted: bool,
    selection: &Selection,
    selected: &[bool],
    plain: impl Fn(usize) -> Option<(ValueType, &'a str)>,
) -> String {
    let mut hasher = MacHasher::new(mac_only_encrypted);
    for (path, i) in parsed.values_in_order() {
        if parsed.leaves[i].kind == LeafKind::Comment {
            continue;
        }
        let encrypted = if selection.is_comment_based() {
            selected[i]
        } else {
            selection.should_encrypt(&path)
        };
        if mac_only_encrypted && !encrypted {
            continue;
        }
        if let Some((ty, text)) = plain(i) {
            let (tag, bytes) = typed_plaintext(ty, text);
            hasher.update(tag, bytes);
        }
    }
    hasher.finish()
}

/// The result of [`Opened::rekey`].
pub struct Rekeyed {
    /// The new encrypted text.
    pub text: String,
    /// Foreign key types (pgp, kms, ...) that could not be kept.
    pub dropped: Vec<String>,
}

/// A decrypted value or comment.
pub struct Plain {
    /// Its type as recorded in the ciphertext (or resolved by the format).
    pub ty: ValueType,
    /// The canonical plaintext.
    pub text: SecretText,
    /// Whether it was encrypted in the file.
    pub was_encrypted: bool,
}

/// An encrypted file opened with its data key: every leaf's plaintext.
pub struct Opened {
    /// The parsed (encrypted) text.
    pub parsed: ParsedFile,
    /// The metadata.
    pub metadata: Metadata,
    /// The data key.
    pub key: DataKey,
    /// Per leaf: the plaintext (None for nulls).
    pub plain: Vec<Option<Plain>>,
    /// Warnings (e.g. MAC not verified, no seal).
    pub warnings: Vec<Warning>,
    /// What the seal check found (a broken seal is only seen here when the
    /// caller asked to ignore the MAC; otherwise opening failed).
    pub seal: SealStatus,
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
                reason: "the payload is not a 32-byte key".into(),
            });
        }
    } else if found.len() >= needed {
        return shamir::combine(&found[..needed]).map_err(|e| DocumentError::Shamir(e.to_string()));
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
fn unwrap_group(
    group: &KeyGroup,
    identities: &[&Identity],
) -> Result<Option<Zeroizing<Vec<u8>>>, DocumentError> {
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
}

impl OpenOptions {
    /// The MAC and seal verified; a missing seal refused or warned about
    /// per `seal`.
    pub fn with_seal(seal: SealPolicy) -> Self {
        Self {
            ignore_mac: false,
            seal,
        }
    }
}

/// Opens an encrypted file: unwraps the data key, verifies the seal (before
/// any value is decrypted), decrypts every value and comment, and verifies
/// the MAC. With `opts.ignore_mac` a failed MAC or seal check is a warning.
pub fn open(
    text: &str,
    kind: FormatKind,
    identities: &[Identity],
    opts: &OpenOptions,
) -> Result<Opened, DocumentError> {
    let ignore_mac = opts.ignore_mac;
    let parsed = kind.syntax().parse(text)?;
    let tree = parsed.metadata_tree().ok_or(DocumentError::NotEncrypted)?;
    let meta = Metadata::from_tree(tree)?;
    // SECURITY: strict selection before the key is even unwrapped, so no
    // command gets past a rule that disagrees with the values.
    let selected = selected_leaves(text, kind, &parsed, &meta.selection);
    if let Some(e) = selection_mismatches(text, &parsed, &selected).next() {
        return Err(e);
    }
    let key = unwrap_data_key(&meta, identities)?;
    // SECURITY: the seal is checked before the result of anything else is
    // used: a changed structure (a renamed or added clear key, a widened
    // clear set, an added recipient) is refused as such. When the seal is
    // broken, a more specific finding about the same change wins (a
    // malformed ENC[...], plaintext where ciphertext belongs, a MAC that
    // fails while every value opened), as sops would report it.
    let mut warnings = Vec::new();
    let seal = seal_status(&parsed, &meta, &key);
    if seal == SealStatus::Missing && opts.seal == SealPolicy::Required && !ignore_mac {
        return Err(DocumentError::SealMissing);
    }
    let values = open_values(text, &parsed, &meta, &key, &selected, ignore_mac);
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
        parsed,
        metadata: meta,
        key,
        plain,
        warnings,
        seal,
        adopted: IvStash::default(),
    })
}

/// Decrypts every value and comment of an opened file and verifies the MAC
/// (unless `ignore_mac`).
fn open_values(
    text: &str,
    parsed: &ParsedFile,
    meta: &Metadata,
    key: &DataKey,
    selected: &[bool],
    ignore_mac: bool,
) -> Result<Vec<Option<Plain>>, DocumentError> {
    let mut plain = Vec::with_capacity(parsed.leaves.len());
    let cipher = ValueCipher::new(key);
    let mut aad = String::new();
    for leaf in &parsed.leaves {
        let raw = leaf.value.expose();
        let line = || format::line_col(text, leaf.span.start).0;
        let value_error = |source| DocumentError::Value {
            path: leaf.path.clone(),
            line: line(),
            source,
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
                let text = enc.into_text(&cipher, &aad).map_err(value_error)?;
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
                let text = enc.into_text(&cipher, &aad).map_err(value_error)?;
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
    if !ignore_mac {
        verify_mac(parsed, meta, key, &plain, selected)?;
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

impl Opened {
    /// The IVs of the values as they were, for minimal-diff re-encryption.
    /// Built on demand (only writes need it, and hashing every value cost a
    /// plain `decrypt` ~7%): each encrypted leaf's `ENC[...]` is parsed
    /// again for its IV and type. A bool's canonical text may differ from
    /// the bytes that were encrypted (`True` vs `true`), so bools are
    /// decrypted again; for every other type the plaintext is the bytes.
    fn iv_stash(&self) -> IvStash {
        let mut stash = IvStash::default();
        for (leaf, plain) in self.parsed.leaves.iter().zip(&self.plain) {
            let Some(plain) = plain.as_ref().filter(|p| p.was_encrypted) else {
                continue;
            };
            // Parsed and decrypted once already in `open`.
            let Ok(enc) = EncryptedValue::parse(leaf.value.expose()) else {
                continue;
            };
            let aad = leaf.path.aad();
            if enc.type_tag() == TypeTag::Bool {
                if let Ok(text) = enc.decrypt_text(&self.key, &aad) {
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
    pub fn plaintext(
        &self,
        text: &str,
        kind: FormatKind,
    ) -> Result<Zeroizing<String>, DocumentError> {
        // Leaves come in document order with disjoint spans (every format's
        // invariant), so the output is written in one pass, each rendered
        // value wiped as soon as it is copied, instead of holding a splice
        // per value (100k values: 100k Strings alive at once). Anything
        // unexpected takes the general path, which also orders the errors.
        let syntax = kind.syntax();
        let in_order = self
            .parsed
            .leaves
            .windows(2)
            .all(|w| (w[0].span.start, w[0].span.end) <= (w[1].span.start, w[1].span.end));
        let meta = match syntax.metadata_splices(text, &self.parsed, None) {
            Ok(meta) if in_order => meta,
            _ => return self.plaintext_by_splices(text, kind),
        };
        let mut meta = {
            let mut meta = meta;
            meta.sort_by_key(|s| (s.range.start, s.range.end));
            meta.into_iter().peekable()
        };
        let mut out = Zeroizing::new(String::with_capacity(text.len()));
        let mut at = 0;
        for (leaf, with) in self.replacements() {
            let piece = Zeroizing::new(syntax.render(text, leaf, &with)?);
            let key = (leaf.span.start, leaf.span.end);
            while let Some(m) = meta.next_if(|m| (m.range.start, m.range.end) < key) {
                splice_into(&mut out, &mut at, text, &m.range, &m.text)?;
            }
            splice_into(&mut out, &mut at, text, &leaf.span, &piece)?;
        }
        for m in meta {
            splice_into(&mut out, &mut at, text, &m.range, &m.text)?;
        }
        out.push_str(&text[at..]);
        Ok(out)
    }

    /// Each leaf to write back in plaintext, with what to write.
    fn replacements(&self) -> impl Iterator<Item = (&format::Leaf, Replacement<'_>)> {
        self.parsed
            .leaves
            .iter()
            .zip(&self.plain)
            .filter_map(|(leaf, plain)| {
                let plain = plain.as_ref().filter(|p| p.was_encrypted)?;
                let with = if leaf.kind == LeafKind::Comment {
                    Replacement::Comment(plain.text.expose())
                } else {
                    Replacement::Value(plain.ty, plain.text.expose())
                };
                Some((leaf, with))
            })
    }

    /// [`Opened::plaintext`] by collecting every splice first.
    fn plaintext_by_splices(
        &self,
        text: &str,
        kind: FormatKind,
    ) -> Result<Zeroizing<String>, DocumentError> {
        let syntax = kind.syntax();
        let mut splices = Vec::new();
        for (leaf, with) in self.replacements() {
            splices.push(Splice {
                range: leaf.span.clone(),
                text: syntax.render(text, leaf, &with)?,
            });
        }
        splices.extend(syntax.metadata_splices(text, &self.parsed, None)?);
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
    pub fn reencrypt(
        mut self,
        new_plaintext: &str,
        kind: FormatKind,
        now: &str,
    ) -> Result<String, DocumentError> {
        let parsed = kind.syntax().parse(new_plaintext)?;
        if !parsed.metadata.is_empty() {
            return Err(DocumentError::AlreadyEncrypted);
        }
        let mut meta = self.metadata.clone();
        meta.lastmodified = now.to_owned();
        meta.version = metadata::newer_version(&meta.version);
        let mut stash = self.iv_stash();
        stash.absorb(std::mem::take(&mut self.adopted));
        let (text, _warnings) = write_encrypted(
            new_plaintext,
            kind,
            &parsed,
            &self.key,
            &mut meta,
            &mut stash,
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
        mut self,
        encrypted_text: &str,
        kind: FormatKind,
        groups: &[Vec<Recipient>],
        shamir_threshold: u32,
        rotate: bool,
        now: &str,
    ) -> Result<Rekeyed, DocumentError> {
        if groups.iter().all(|g| g.is_empty()) {
            return Err(DocumentError::NoRecipients);
        }
        let plain = self.plaintext(encrypted_text, kind)?;
        let parsed = kind.syntax().parse(&plain)?;
        let mut dropped = Vec::new();
        let (key, mut stash) = if rotate {
            (DataKey::generate(), IvStash::default())
        } else {
            let key = DataKey::from_slice(self.key.expose()).expect("32 bytes");
            (key, self.iv_stash())
        };
        let old_groups = std::mem::take(&mut self.metadata.key_groups);
        let mut meta = self.metadata.clone();
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
        let (text, _warnings) =
            write_encrypted(&plain, kind, &parsed, &key, &mut meta, &mut stash)?;
        Ok(Rekeyed { text, dropped })
    }

    /// Whether `other` was opened with the same data key.
    pub fn same_key(&self, other: &Opened) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(self.key.expose().ct_eq(other.key.expose()))
    }

    /// Takes over the remembered IVs of `other` when it has the same data
    /// key, so that [`Opened::reencrypt`] also keeps `other`'s ciphertext
    /// for values that come from it (a merge: their unchanged values stay
    /// byte-identical to theirs). Does nothing for another data key.
    pub fn adopt_ivs(&mut self, other: &mut Opened) {
        if !self.same_key(other) {
            return;
        }
        let theirs = other.iv_stash();
        self.adopted.absorb(theirs);
    }

    /// The decrypted values (no comments, no nulls) as `(path, type, text)`,
    /// in document order with aliases expanded, first document only.
    pub fn values(&self) -> Vec<(KeyPath, ValueType, &SecretText)> {
        self.parsed
            .values_in_order()
            .into_iter()
            .filter_map(|(path, i)| {
                let leaf = &self.parsed.leaves[i];
                let plain = self.plain[i].as_ref()?;
                (leaf.document == 0).then_some((path.into_owned(), plain.ty, &plain.text))
            })
            .collect()
    }

    /// The key paths of every value that is encrypted in the file (all
    /// documents, aliases expanded, each path once), in document order:
    /// what anyone holding the data key could read.
    pub fn encrypted_paths(&self) -> Vec<KeyPath> {
        let mut seen = std::collections::HashSet::new();
        self.parsed
            .values_in_order()
            .into_iter()
            .filter(|(_, i)| self.plain[*i].as_ref().is_some_and(|p| p.was_encrypted))
            .map(|(path, _)| path.into_owned())
            .filter(|path| seen.insert(path.clone()))
            .collect()
    }

    /// How many comments are encrypted in the file.
    pub fn encrypted_comments(&self) -> usize {
        self.parsed
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
    pub fn extract(&self, path: &KeyPath) -> Result<SecretTree, DocumentError> {
        let tree = self.to_tree();
        let mut node = tree.expose();
        for seg in path.segments() {
            let next = match seg {
                crate::path::Segment::Key(k) => node.get(k.as_str()),
                crate::path::Segment::Index(i) => node.get(*i),
            };
            node = next.ok_or_else(|| DocumentError::PathNotFound(path.clone()))?;
        }
        Ok(SecretTree(node.clone()))
    }

    /// The first document's data as a JSON tree (nulls included, comments
    /// left out). Scalars are JSON strings, numbers and booleans by type.
    pub fn to_tree(&self) -> SecretTree {
        let mut root = Value::Object(Default::default());
        for (path, i) in self.parsed.values_in_order() {
            let leaf = &self.parsed.leaves[i];
            if leaf.document != 0 {
                continue;
            }
            let value = match (&self.plain[i], leaf.kind) {
                (None, _) => Value::Null,
                (Some(p), _) => scalar_json(p.ty, p.text.expose()),
            };
            insert_at(&mut root, path.segments(), value);
        }
        SecretTree(root)
    }
}

/// Appends `text[*at..range.start]` and `with` to `out` and moves `at` to
/// the range's end; the checks (and error) of [`apply_splices`].
fn splice_into(
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

fn insert_at(node: &mut Value, path: &[crate::path::Segment], value: Value) {
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

/// Whether `text` looks like an encrypted file, whole or damaged: it holds
/// an `ENC[AES256_GCM,...]` value or a `sops` metadata marker of any format
/// (a `sops:` line, a `"sops":` key, `sops_mac=` / `sops_version=` lines,
/// a `[sops]` section). A file that looks encrypted but does not open as
/// one was damaged (or its metadata removed); `check` reports it instead
/// of treating it as a plaintext file. Works on lossily decoded text.
pub fn looks_encrypted(text: &str) -> bool {
    text.contains("ENC[AES256_GCM,")
        || text.lines().any(|l| {
            let t = l.trim();
            t == "sops:"
                || t == "[sops]"
                || t.starts_with("sops_mac=")
                || t.starts_with("sops_version=")
                || t.strip_prefix("\"sops\"")
                    .is_some_and(|r| r.trim_start().starts_with(':'))
        })
}

/// Checks an encrypted file's structure without any key: the text parses,
/// the `sops` metadata is present and valid, the MAC is present and is a
/// well-formed `ENC[...]`, every `ENC[...]` value and comment is
/// well-formed, and the selection rule and the values agree (no value the
/// rule encrypts is in the clear, no `ENC[...]` where it says clear). Returns every problem found (empty: the structure is sound);
/// whether the values decrypt and the MAC matches needs the data key
/// ([`open`]).
///
/// A file without metadata gives [`DocumentError::NotEncrypted`] alone.
pub fn check_structure(text: &str, kind: FormatKind) -> Vec<DocumentError> {
    let parsed = match kind.syntax().parse(text) {
        Ok(p) => p,
        Err(e) => return vec![e.into()],
    };
    let Some(tree) = parsed.metadata_tree() else {
        return vec![DocumentError::NotEncrypted];
    };
    let meta = match Metadata::from_tree(tree) {
        Ok(m) => m,
        Err(e) => return vec![e.into()],
    };
    let mut problems = Vec::new();
    if meta.recipients().next().is_none() && meta.key_groups.iter().all(|g| g.foreign.is_empty()) {
        problems.push(DocumentError::Metadata(MetadataError::Missing("age")));
    }
    for stanza in meta.key_groups.iter().flat_map(|g| &g.age) {
        if let Err(e) = Recipient::parse(&stanza.recipient) {
            problems.push(DocumentError::Key(e));
        }
        let enc = stanza.enc.trim();
        if !enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----")
            || !enc.ends_with("-----END AGE ENCRYPTED FILE-----")
        {
            problems.push(DocumentError::CorruptKey {
                recipient: stanza.recipient.clone(),
                reason: "not an armored age file".into(),
            });
        }
    }
    if meta.mac.is_empty() {
        problems.push(DocumentError::MacMissing);
    } else if EncryptedValue::parse(&meta.mac).is_err() {
        problems.push(DocumentError::MacUndecryptable);
    }
    let selected = selected_leaves(text, kind, &parsed, &meta.selection);
    problems.extend(selection_mismatches(text, &parsed, &selected));
    for leaf in &parsed.leaves {
        let raw = leaf.value.expose();
        if matches!(
            leaf.kind,
            LeafKind::Comment | LeafKind::Value(ValueType::Str)
        ) && is_encrypted(raw)
        {
            if let Err(source) = EncryptedValue::parse(raw) {
                problems.push(DocumentError::Value {
                    path: leaf.path.clone(),
                    line: format::line_col(text, leaf.span.start).0,
                    source,
                });
            }
        } else if raw.contains(",iv:") && raw.contains(",tag:") && raw.contains(",type:") {
            // An ENC[...] whose prefix was damaged reads as a clear value
            // or comment (sops reads a comment it cannot decrypt as clear).
            problems.push(DocumentError::Value {
                path: leaf.path.clone(),
                line: format::line_col(text, leaf.span.start).0,
                source: ValueError::Malformed("missing ENC[AES256_GCM,data: prefix"),
            });
        }
    }
    problems.sort_by_key(|p| p.line());
    problems
}

/// Strict selection (integrity rule 1): every leaf of an encrypted file
/// where the selection rule and the value disagree, in document order. An
/// `ENC[...]` value or comment the rule leaves clear, or a clear non-empty
/// value the rule encrypts; `selected` is [`selected_leaves`] of `parsed`.
///
/// SECURITY: without this, a writer with no key could rewrite the rule
/// (`encrypted_regex: ^nomatch$`): every `ENC[...]` would still decrypt and
/// the MAC still verify, and the next write by a key holder would store
/// every value in the clear. sops never writes a file this refuses: it
/// decides from the same rule, leaves empty values and nulls clear, and a
/// clear comment is tolerated (sops reads comments it cannot decrypt as
/// clear ones; older sops versions wrote them so).
fn selection_mismatches<'a>(
    text: &'a str,
    parsed: &'a ParsedFile,
    selected: &'a [bool],
) -> impl Iterator<Item = DocumentError> + 'a {
    parsed
        .leaves
        .iter()
        .zip(selected)
        .filter_map(move |(leaf, &selected)| {
            let raw = leaf.value.expose();
            let found = match leaf.kind {
                LeafKind::Null => None,
                LeafKind::Comment => {
                    (is_encrypted(raw) && !selected).then_some(Mismatch::EncryptedComment)
                }
                LeafKind::Value(ValueType::Str) if is_encrypted(raw) => {
                    (!selected).then_some(Mismatch::EncryptedValue)
                }
                LeafKind::Value(_) => (!raw.is_empty() && selected).then_some(Mismatch::ClearValue),
            }?;
            Some(DocumentError::SelectionMismatch {
                path: leaf.path.clone(),
                line: format::line_col(text, leaf.span.start).0,
                found,
            })
        })
}

impl DocumentError {
    /// Whether this error, found in a file whose seal does not verify, says
    /// more precisely what changed than "the seal does not verify".
    fn explains_a_broken_seal(&self) -> bool {
        matches!(
            self,
            DocumentError::Value {
                source: ValueError::Malformed(_)
                    | ValueError::UnknownType
                    | ValueError::NotOfType(_)
                    | ValueError::MisplacedType { .. },
                ..
            } | DocumentError::MacMismatch
                | DocumentError::MacUndecryptable
                | DocumentError::MacMissing
        )
    }

    /// The 1-based line the error is about, when it is about one.
    pub fn line(&self) -> Option<usize> {
        match self {
            DocumentError::Value { line, .. } | DocumentError::SelectionMismatch { line, .. } => {
                Some(*line)
            }
            DocumentError::Format(
                FormatError::Syntax { line, .. }
                | FormatError::DuplicateKey { line, .. }
                | FormatError::Unsupported { line, .. },
            ) => Some(*line),
            _ => None,
        }
    }
}

/// Decrypts a whole file to its plaintext text (the `decrypt` command).
pub fn decrypt(
    text: &str,
    kind: FormatKind,
    identities: &[Identity],
    opts: &OpenOptions,
) -> Result<(Zeroizing<String>, Vec<Warning>), DocumentError> {
    let opened = open(text, kind, identities, opts)?;
    let out = opened.plaintext(text, kind)?;
    Ok((out, opened.warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> (String, Recipient) {
        use age::secrecy::ExposeSecret;
        let (secret, recipient) = keys::generate_x25519();
        (
            secret.expose_secret().to_owned(),
            Recipient::parse(&recipient).unwrap(),
        )
    }

    fn ids(secrets: &[&String]) -> Vec<Identity> {
        let text: Vec<&str> = secrets.iter().map(|s| s.as_str()).collect();
        keys::parse_identities(&text.join("\n"), "test").unwrap()
    }

    fn encrypt_yaml(text: &str, r: &Recipient) -> String {
        let opts = EncryptOptions {
            recipients: std::slice::from_ref(r),
            selection: Selection::default(),
            mac_only_encrypted: false,
            expand_aliases: false,
            now: "2026-01-01T00:00:00Z".into(),
        };
        encrypt(text, FormatKind::Yaml, &opts).unwrap().text
    }

    fn changed_lines(a: &str, b: &str) -> Vec<String> {
        a.lines()
            .zip(b.lines())
            .filter(|(x, y)| x != y)
            .map(|(x, _)| x.trim().split(':').next().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn reencrypt_keeps_unchanged_ciphertext() {
        let (secret, r) = identity();
        let ids = ids(&[&secret]);
        let plain = "# note\na: one\nb: two\nlist:\n  - x\n  - x\n";
        let enc = encrypt_yaml(plain, &r);
        let opened = open(&enc, FormatKind::Yaml, &ids, &OpenOptions::default()).unwrap();
        let same = opened
            .reencrypt(plain, FormatKind::Yaml, "2026-02-02T00:00:00Z")
            .unwrap();
        assert_eq!(
            changed_lines(&enc, &same),
            ["lastmodified", "mac", "botsecrets_seal"]
        );
        let opened = open(&enc, FormatKind::Yaml, &ids, &OpenOptions::default()).unwrap();
        let edited = opened
            .reencrypt(
                &plain.replace("two", "TWO"),
                FormatKind::Yaml,
                "2026-02-02T00:00:00Z",
            )
            .unwrap();
        assert_eq!(
            changed_lines(&enc, &edited),
            ["b", "lastmodified", "mac", "botsecrets_seal"]
        );
        let (out, _) = decrypt(&edited, FormatKind::Yaml, &ids, &OpenOptions::default()).unwrap();
        assert_eq!(&*out, &plain.replace("two", "TWO"));
        // Two equal list items kept their two distinct ciphertexts.
        let items: Vec<&str> = edited.lines().filter(|l| l.starts_with("  - ")).collect();
        assert_ne!(items[0], items[1]);
    }

    #[test]
    fn rekey_with_rotation_changes_every_value_and_locks_out_old_recipients() {
        let (sa, a) = identity();
        let (sb, b) = identity();
        let (ids_a, ids_b) = (ids(&[&sa]), ids(&[&sb]));
        let plain = "a: one\nb: two\n";
        let enc = encrypt_yaml(plain, &a);
        let opened = open(&enc, FormatKind::Yaml, &ids_a, &OpenOptions::default()).unwrap();
        let rotated = opened
            .rekey(
                &enc,
                FormatKind::Yaml,
                &[vec![b.clone()]],
                0,
                true,
                "2026-03-03T00:00:00Z",
            )
            .unwrap();
        for key in ["a", "b"] {
            let before = enc.lines().find(|l| l.starts_with(key)).unwrap();
            let after = rotated.text.lines().find(|l| l.starts_with(key)).unwrap();
            assert_ne!(before, after);
        }
        assert!(matches!(
            open(
                &rotated.text,
                FormatKind::Yaml,
                &ids_a,
                &OpenOptions::default()
            ),
            Err(DocumentError::NoMatchingIdentity { .. })
        ));
        let (out, _) = decrypt(
            &rotated.text,
            FormatKind::Yaml,
            &ids_b,
            &OpenOptions::default(),
        )
        .unwrap();
        assert_eq!(&*out, plain);
    }

    #[test]
    fn rekey_into_shamir_groups_needs_the_threshold() {
        let (sa, a) = identity();
        let (sb, b) = identity();
        let (sc, c) = identity();
        let ids_a = ids(&[&sa]);
        let enc = encrypt_yaml("a: one\n", &a);
        let opened = open(&enc, FormatKind::Yaml, &ids_a, &OpenOptions::default()).unwrap();
        let split = opened
            .rekey(
                &enc,
                FormatKind::Yaml,
                &[vec![a], vec![b], vec![c]],
                2,
                true,
                "2026-03-03T00:00:00Z",
            )
            .unwrap();
        assert!(split.text.contains("shamir_threshold: 2"));
        for pair in [[&sa, &sb], [&sb, &sc], [&sa, &sc]] {
            let (out, _) = decrypt(
                &split.text,
                FormatKind::Yaml,
                &ids(&pair),
                &OpenOptions::default(),
            )
            .unwrap();
            assert_eq!(&*out, "a: one\n");
        }
        assert!(open(
            &split.text,
            FormatKind::Yaml,
            &ids_a,
            &OpenOptions::default()
        )
        .is_err());
    }

    fn seal_result(text: &str, kind: FormatKind, ids: &[Identity]) -> Result<SealStatus, String> {
        match open(text, kind, ids, &OpenOptions::default()) {
            Ok(o) => Ok(o.seal),
            Err(e) => Err(format!("{e:?}")),
        }
    }

    #[test]
    fn the_seal_refuses_structural_changes_the_mac_misses() {
        let (secret, r) = identity();
        let ids = ids(&[&secret]);
        let plain = "a: one\nlist: [x]\nname_unencrypted: clear\nempty: {}\n";
        let enc = encrypt_yaml(plain, &r);
        assert!(enc.contains("\n    botsecrets_seal: ENC[AES256_GCM,"));
        assert_eq!(
            seal_result(&enc, FormatKind::Yaml, &ids),
            Ok(SealStatus::Verified)
        );
        let mismatch = Err("SealMismatch".to_owned());
        for tampered in [
            enc.replace("name_unencrypted:", "other_unencrypted:"),
            enc.replacen("a: ", "x_unencrypted: \"\"\na: ", 1),
            enc.replacen("a: ", "x_unencrypted: null\na: ", 1),
            enc.replacen("a: ", "x_unencrypted: []\na: ", 1),
            enc.replace("empty: {}", "empty: []"),
            enc.replace("empty: {}\n", ""),
            enc.replace(
                "unencrypted_suffix: _unencrypted",
                // A rule the values still agree with: only the seal sees it.
                "unencrypted_regex: ^name_unencrypted$",
            ),
        ] {
            assert_ne!(tampered, enc);
            assert_eq!(
                seal_result(&tampered, FormatKind::Yaml, &ids),
                mismatch,
                "{tampered}"
            );
        }
        // A changed type tag breaks the seal; when the plaintext is not of
        // the new type, the value's own error says so more precisely.
        let retagged = enc.replace("type:str]", "type:int]");
        assert!(
            seal_result(&retagged, FormatKind::Yaml, &ids)
                .is_err_and(|e| e.starts_with("Value {") && e.contains("NotOfType")),
            "{retagged}"
        );
        // A changed clear value breaks the MAC too, which says it first (as
        // sops does).
        // So does turning mac_only_encrypted on (the MAC's prefix changes).
        for changed in [
            enc.replace("name_unencrypted: clear", "name_unencrypted: changed"),
            enc.replace("    version:", "    mac_only_encrypted: true\n    version:"),
        ] {
            assert_eq!(
                seal_result(&changed, FormatKind::Yaml, &ids),
                Err("MacMismatch".to_owned())
            );
        }
        // Stripped: missing, refused where required, a warning elsewhere.
        let stripped: String = enc
            .lines()
            .filter(|l| !l.contains("botsecrets_seal"))
            .map(|l| format!("{l}\n"))
            .collect();
        let o = open(&stripped, FormatKind::Yaml, &ids, &OpenOptions::default()).unwrap();
        assert_eq!(o.seal, SealStatus::Missing);
        assert_eq!(o.warnings, [Warning::SealMissing]);
        assert!(matches!(
            open(
                &stripped,
                FormatKind::Yaml,
                &ids,
                &OpenOptions::with_seal(SealPolicy::Required)
            ),
            Err(DocumentError::SealMissing)
        ));
        // --ignore-mac reads a broken seal with a loud warning.
        let broken = enc.replace("name_unencrypted:", "other_unencrypted:");
        let o = open(
            &broken,
            FormatKind::Yaml,
            &ids,
            &OpenOptions {
                ignore_mac: true,
                seal: SealPolicy::Required,
            },
        )
        .unwrap();
        assert_eq!(o.seal, SealStatus::Broken);
        assert!(o
            .warnings
            .contains(&Warning::SealNotVerified(SealStatus::Broken)));
    }

    #[test]
    fn mac_only_encrypted_files_keep_clear_values_editable_but_not_names() {
        let (secret, r) = identity();
        let ids = ids(&[&secret]);
        let opts = EncryptOptions {
            recipients: std::slice::from_ref(&r),
            selection: Selection::default(),
            mac_only_encrypted: true,
            expand_aliases: false,
            now: "2026-01-01T00:00:00Z".into(),
        };
        let enc = encrypt("a: one\nhost_unencrypted: x\n", FormatKind::Yaml, &opts)
            .unwrap()
            .text;
        let edited = enc.replace("host_unencrypted: x", "host_unencrypted: y");
        assert_eq!(
            seal_result(&edited, FormatKind::Yaml, &ids),
            Ok(SealStatus::Verified)
        );
        let renamed = enc.replace("host_unencrypted:", "path_unencrypted:");
        assert_eq!(
            seal_result(&renamed, FormatKind::Yaml, &ids),
            Err("SealMismatch".to_owned())
        );
        // Widening the clear set: the encrypted `a` renamed into it.
        // Strict selection refuses it before the seal is even checked.
        let widened = enc.replacen("a: ENC", "a_unencrypted: ENC", 1);
        assert!(
            seal_result(&widened, FormatKind::Yaml, &ids)
                .is_err_and(|e| e.starts_with("SelectionMismatch")),
            "{widened}"
        );
    }

    #[test]
    fn rewrites_keep_the_file_sealed_in_every_format() {
        let (secret, r) = identity();
        let ids = ids(&[&secret]);
        let opts = EncryptOptions {
            recipients: std::slice::from_ref(&r),
            selection: Selection::default(),
            mac_only_encrypted: false,
            expand_aliases: false,
            now: "2026-01-01T00:00:00Z".into(),
        };
        for (kind, plain) in [
            (FormatKind::Yaml, "a: 1\nb: {}\nc: []\nd: ~\ne: \"\"\n# c\n"),
            (
                FormatKind::Json,
                "{\"a\": 1, \"b\": {}, \"c\": [], \"d\": null, \"e\": \"\"}\n",
            ),
            (FormatKind::Toml, "a = 1\ne = \"\"\n[t]\nx = true\n"),
            (FormatKind::Dotenv, "A=1\nE=\n# c\n"),
            (FormatKind::Ini, "[s]\na = 1\ne =\n"),
        ] {
            let enc = encrypt(plain, kind, &opts).unwrap().text;
            assert!(enc.contains("botsecrets_seal"), "{kind:?}: {enc}");
            let o = open(
                &enc,
                kind,
                &ids,
                &OpenOptions::with_seal(SealPolicy::Required),
            )
            .unwrap_or_else(|e| panic!("{kind:?}: {e}\n{enc}"));
            assert_eq!(o.seal, SealStatus::Verified, "{kind:?}");
            let again = o.reencrypt(plain, kind, "2026-02-02T00:00:00Z").unwrap();
            let o = open(
                &again,
                kind,
                &ids,
                &OpenOptions::with_seal(SealPolicy::Required),
            )
            .unwrap_or_else(|e| panic!("{kind:?}: {e}\n{again}"));
            assert_eq!(o.seal, SealStatus::Verified, "{kind:?}");
        }
    }
}
