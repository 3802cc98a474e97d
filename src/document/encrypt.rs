//! Writing encrypted text: a new file ([`encrypt`], [`encrypt_for_groups`])
//! and the shared core of every rewrite (`write_encrypted`): each selected
//! leaf encrypted (reusing the IV of an unchanged value, [`IvStash`]), the
//! MAC and the seal computed, the metadata written, and the output parsed
//! again and checked before it is returned.

use zeroize::Zeroizing;

use super::open::splice_into;
use super::*;
use crate::crypto::mac::{self, MacHasher};
use crate::crypto::value::{is_encrypted, IvSource, ValueCipher};
use crate::crypto::{shamir, DataKey, EncryptedValue, TypeTag};
use crate::format::{
    self, apply_splices, FormatKind, LeafKind, ParsedFile, Replacement, Splice, ValueType,
};
use crate::keys::{self, Recipient};
use crate::metadata::{self, AgeStanza, KeyGroup, Metadata, Selection};
use crate::seal::{self as sealing};
use crate::secret::{SecretText, SourceText};

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
pub(super) fn typed_plaintext(ty: ValueType, value: &str) -> (TypeTag, &str) {
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
pub(super) fn value_from_plaintext(
    tag: TypeTag,
    text: Zeroizing<String>,
) -> (ValueType, SecretText) {
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

    pub(super) fn remember(&mut self, aad: &str, tag: TypeTag, plaintext: &[u8], iv: [u8; 32]) {
        self.ivs
            .entry(Self::digest(aad, tag, plaintext))
            .or_default()
            .push_back(iv);
    }

    /// Adds `other`'s IVs. SECURITY: an IV already remembered for the same
    /// digest is not added twice, so each is still handed out at most once.
    pub(super) fn absorb(&mut self, other: IvStash) {
        for (digest, ivs) in other.ivs {
            let mine = self.ivs.entry(digest).or_default();
            for iv in ivs {
                if !mine.contains(&iv) {
                    mine.push_back(iv);
                }
            }
        }
    }

    /// Whether no IV is remembered (a new file).
    pub(super) fn is_empty(&self) -> bool {
        self.ivs.values().all(|ivs| ivs.is_empty())
    }

    pub(super) fn take(&mut self, aad: &str, tag: TypeTag, plaintext: &[u8]) -> Option<[u8; 32]> {
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
    encrypt_scoped(text, kind, opts, groups, shamir_threshold, &[])
}

/// [`encrypt_for_groups`] with access scopes (a rule's `scopes:`): each
/// scope's values are stored once more under the scope's own data key,
/// wrapped to its readers. A scope path that matches no key, or that is
/// outside the file's data, is an error.
pub fn encrypt_scoped(
    text: &str,
    kind: FormatKind,
    opts: &EncryptOptions<'_>,
    groups: &[Vec<Recipient>],
    shamir_threshold: u32,
    scopes: &[ScopeSpec],
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
    let mut parsed = kind.syntax().parse(text)?;
    if !parsed.metadata.is_empty() {
        return Err(DocumentError::AlreadyEncrypted);
    }
    // Held while the output is written: without the unused capacity of a
    // list grown by doubling (a large block shrinks in place).
    parsed.leaves.shrink_to_fit();
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
        scopes: Vec::new(),
    };
    let (text, warnings) = write_encrypted(
        text,
        kind,
        parsed,
        &key,
        &mut meta,
        &mut IvStash::default(),
        ScopeWrite {
            specs: scopes,
            old: &[],
            rotate: true,
        },
    )?;
    Ok(Encrypted { text, warnings })
}

/// Wraps `key` for key groups: one non-empty group wraps the key itself;
/// several split it with Shamir (threshold 0 = all groups) and each group
/// wraps its share. Empty groups are skipped. Returns the stanzas per group
/// and the threshold to record (0 when not split).
pub(super) fn wrap_groups(
    key: &DataKey,
    groups: &[Vec<Recipient>],
    shamir_threshold: u32,
) -> Result<(Vec<Vec<AgeStanza>>, u32), DocumentError> {
    let groups: Vec<&Vec<Recipient>> = groups.iter().filter(|g| !g.is_empty()).collect();
    let (shares, threshold) = if groups.len() > 1 {
        let parts =
            u8::try_from(groups.len()).map_err(|_| DocumentError::Shamir(GroupsError::TooMany))?;
        let threshold = if shamir_threshold == 0 {
            u32::from(parts)
        } else {
            shamir_threshold
        };
        let small = u8::try_from(threshold)
            .ok()
            .filter(|t| (2..=parts).contains(t));
        let Some(small) = small else {
            return Err(DocumentError::Shamir(GroupsError::Threshold {
                threshold,
                groups: groups.len(),
            }));
        };
        let shares =
            shamir::split(key, parts, small).map_err(|e| DocumentError::Shamir(e.into()))?;
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

/// What a write does with access scopes: the scopes to store, their
/// previous state (to keep unchanged scopes byte for byte), and whether
/// every scope gets a new data key.
pub(super) struct ScopeWrite<'a> {
    pub(super) specs: &'a [ScopeSpec],
    pub(super) old: &'a [scopes::OldScope],
    pub(super) rotate: bool,
}

/// The shared core of every write: encrypts each selected leaf of the
/// plaintext `parsed` with `key` (reusing stashed IVs for unchanged
/// values), computes the MAC and the seal, stores them in `meta` and writes
/// `meta` as the file's metadata. The output is re-parsed and checked
/// before returning (its seal recomputed from the output must match).
/// `parsed` is taken by value so that it is freed before that re-parse: two
/// parses of a large file at once were the peak of an encrypt.
pub(super) fn write_encrypted(
    text: &str,
    kind: FormatKind,
    input: ParsedFile,
    key: &DataKey,
    meta: &mut Metadata,
    stash: &mut IvStash,
    scope_write: ScopeWrite<'_>,
) -> Result<(String, Vec<Warning>), DocumentError> {
    let parsed = &input;
    let syntax = kind.syntax();
    let selection = meta.selection.clone();
    let selected = selected_leaves(text, kind, parsed, &selection);
    // Which leaves are encrypted, with which tag, is known before any is:
    // the MAC, the seal and the metadata need no ciphertext, so the values
    // are encrypted straight into the output last (a splice per value held
    // every rendered `ENC[...]` twice: at a million keys a sixth of the
    // peak).
    let enc_tags: Vec<Option<TypeTag>> = parsed
        .leaves
        .iter()
        .zip(&selected)
        .map(|(leaf, selected)| match leaf.kind {
            _ if !selected || leaf.value.is_empty() => None,
            LeafKind::Null => None,
            LeafKind::Comment => Some(TypeTag::Comment),
            LeafKind::Value(ty) => Some(typed_plaintext(ty, leaf.value.expose()).0),
        })
        .collect();
    let encrypted_leaf: Vec<bool> = enc_tags.iter().map(Option::is_some).collect();

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
    meta.scopes = scopes::build(
        parsed,
        &selected,
        key,
        scope_write.specs,
        scope_write.old,
        scope_write.rotate,
    )?;
    let mac_plain = || {
        compute_mac(
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
        )
    };
    // On a large file the state of the digest halfway is kept, so that the
    // check of the output hashes its two halves on two cores.
    let large = parsed.leaves.len() >= PARALLEL_VALUES;
    let cut = large.then_some(parsed.leaves.len() / 2);
    let digest = || {
        let enc_tags = &enc_tags;
        seal_digest_kept(parsed, meta, move |i| enc_tags[i].map(TypeTag::as_str), cut)
    };
    // A large new file is written on both cores from the start: the MAC
    // (the cheaper digest) on the second thread, the seal digest on this
    // one, each then rendering values until they meet, so that neither
    // waits for the other; the metadata, which needs both digests, is
    // written last ([`render_balanced`]).
    let mut balanced = None;
    let (mac_plain, (digest, kept)) = if !large {
        (mac_plain(), digest())
    } else if let Some(bounds) = stash.is_empty().then(|| chunk_bounds(parsed)).flatten() {
        let b = render_balanced(
            text, syntax, parsed, &enc_tags, key, &bounds, digest, mac_plain,
        )?;
        let digests = (b.second_work, b.first_work);
        balanced = Some((b.first, b.rest, b.end));
        digests
    } else {
        // The seal does not cover the MAC (nor the MAC the seal): the two
        // digests are computed on both cores.
        std::thread::scope(|s| {
            let mac = s.spawn(mac_plain);
            let digest = digest();
            (super::open::join(mac), digest)
        })
    };
    meta.mac = EncryptedValue::encrypt(
        key,
        mac_plain.as_bytes(),
        TypeTag::Str,
        &metadata::mac_aad(&meta.lastmodified),
    )
    .to_string();
    meta.seal = Some(
        EncryptedValue::encrypt(
            key,
            sealing::hex(&digest).as_bytes(),
            TypeTag::Str,
            &metadata::mac_aad(&meta.lastmodified),
        )
        .to_string(),
    );
    let mut meta_splices = syntax.metadata_splices(text, parsed, Some(&meta.to_tree()))?;
    meta_splices.sort_by_key(|s| (s.range.start, s.range.end));
    // The metadata goes after the last leaf (every format's place for it in
    // a new file) or the balanced parts are given up (freed first) for the
    // general path (a stream's metadata in its first document).
    let balanced =
        balanced.filter(|(_, _, end)| meta_splices.iter().all(|m| m.range.start >= *end));
    let (mut out, rest) = match balanced {
        Some((first, mut rest, end)) => {
            let cipher = ValueCipher::new(key);
            let from = rest.text.len();
            Renderer::new(text, syntax, &cipher).write_run(
                &mut rest.text,
                end,
                text.len(),
                std::iter::empty(),
                &meta_splices,
                None,
            )?;
            rest.pieces.push(from..rest.text.len());
            (first, rest)
        }
        None => encrypted_text(text, syntax, parsed, &enc_tags, meta_splices, key, stash)?,
    };
    drop(enc_tags);
    // Of the input's parse the check needs only the kinds and the empty
    // collections (the seal digest covers every path): freed before the
    // check's re-parse (at a million keys the input parse was a third of
    // the peak).
    let before = Expected::of(parsed);
    drop(input);
    // The second thread's part is appended only now: while it is copied it
    // is held twice (half the output), which on top of the input's parse
    // was over the bound at a million keys.
    for piece in rest.pieces {
        out.push_str(&rest.text[piece]);
    }
    drop(rest.text);
    // The check's parse shares the output's text: its leaves are the
    // `ENC[...]` strings, which as copies were a fifth of the peak.
    let out = SourceText::shared(out);
    let after = kind.syntax().parse_shared(&out).map_err(unparsable)?;
    check_parsed_output(
        after,
        &before,
        &encrypted_leaf,
        meta,
        &digest,
        kept.as_ref(),
    )?;
    let out = SourceText::into_inner(out)
        .map(|mut text| std::mem::take(&mut *text))
        .ok_or_else(|| DocumentError::Internal("the encrypted output is still shared".into()))?;
    Ok((out, warnings))
}

/// Below this many encrypted values a file is encrypted on one thread: a
/// thread's start costs more than it saves on a small file (the threshold
/// of the two-thread opening).
const PARALLEL_VALUES: usize = 2048;

/// Encrypts and renders one value at a time: the key schedule shared, the
/// random IVs and the AAD buffer its own (one per thread).
///
/// SECURITY: each renderer draws its IVs from the operating system's
/// generator into its own buffer, so two threads never hand out the same
/// batch (a 256-bit random IV, as in one pass).
struct Renderer<'a> {
    text: &'a str,
    syntax: &'a dyn format::Syntax,
    cipher: &'a ValueCipher,
    ivs: IvSource,
    aad: String,
}

impl<'a> Renderer<'a> {
    fn new(text: &'a str, syntax: &'a dyn format::Syntax, cipher: &'a ValueCipher) -> Self {
        Self {
            text,
            syntax,
            cipher,
            ivs: IvSource::default(),
            aad: String::new(),
        }
    }

    /// `leaf` encrypted with `tag` (an IV from `stash` where it has one)
    /// and rendered for its span.
    fn piece(
        &mut self,
        leaf: &format::Leaf,
        tag: TypeTag,
        stash: Option<&mut IvStash>,
    ) -> Result<String, DocumentError> {
        let plain = match leaf.kind {
            LeafKind::Value(ty) => typed_plaintext(ty, leaf.value.expose()).1,
            _ => leaf.value.expose(),
        };
        leaf.path.write_aad(&mut self.aad);
        let iv = stash
            .and_then(|stash| stash.take(&self.aad, tag, plain.as_bytes()))
            .unwrap_or_else(|| self.ivs.next_iv());
        let enc = EncryptedValue::encrypt_with(self.cipher, plain.as_bytes(), tag, &self.aad, iv)
            .to_text();
        Ok(self
            .syntax
            .render(self.text, leaf, &Replacement::Encrypted(&enc))?)
    }

    /// Appends `text[from..to]` to `out` with each of `values` (in
    /// document order) encrypted at its span and the `meta` splices (in
    /// order) in place; a splice goes before a value whose (start, end)
    /// is greater, as in one pass over the whole file.
    fn write_run<'l>(
        &mut self,
        out: &mut String,
        from: usize,
        to: usize,
        values: impl Iterator<Item = (&'l format::Leaf, TypeTag)>,
        meta: &[Splice],
        mut stash: Option<&mut IvStash>,
    ) -> Result<(), DocumentError> {
        let text = self.text;
        let mut meta = meta.iter().peekable();
        let mut at = from;
        for (leaf, tag) in values {
            let piece = self.piece(leaf, tag, stash.as_deref_mut())?;
            let key = (leaf.span.start, leaf.span.end);
            while let Some(m) = meta.next_if(|m| (m.range.start, m.range.end) < key) {
                splice_into(out, &mut at, text, &m.range, &m.text)?;
            }
            splice_into(out, &mut at, text, &leaf.span, &piece)?;
        }
        for m in meta {
            splice_into(out, &mut at, text, &m.range, &m.text)?;
        }
        if at > to {
            return Err(format::FormatError::Internal("overlapping or out-of-range splice").into());
        }
        out.push_str(&text[at..to]);
        Ok(())
    }
}

/// The output text, in two parts to be joined: each leaf with a tag in `enc_tags` encrypted with `key`
/// (an IV from `stash` where it has one) and rendered at its span, and the
/// metadata `meta` spliced in. Leaves are in document order with disjoint
/// spans (every format's invariant), so the output is written in one pass
/// without holding a splice per value; anything unexpected takes the general
/// path, which also orders the errors.
///
/// A large new file is written on both cores: the text is cut at the start
/// of the middle value, each thread writes its part into its own buffer,
/// and the second part (returned apart, to be appended to the first once
/// the input's parse is freed) follows the first, so the output is the one
/// pass's, byte for byte but for the random IVs (and the first error in
/// document order wins). A rewrite that reuses IVs stays on one thread:
/// the stash hands each IV out once, in document order.
fn encrypted_text(
    text: &str,
    syntax: &dyn format::Syntax,
    parsed: &ParsedFile,
    enc_tags: &[Option<TypeTag>],
    mut meta: Vec<Splice>,
    key: &DataKey,
    stash: &mut IvStash,
) -> Result<(String, Rest), DocumentError> {
    let cipher = ValueCipher::new(key);
    let to_encrypt = || {
        parsed
            .leaves
            .iter()
            .zip(enc_tags)
            .filter_map(|(leaf, tag)| tag.map(|tag| (leaf, tag)))
    };
    let in_order = parsed
        .leaves
        .windows(2)
        .all(|w| (w[0].span.start, w[0].span.end) <= (w[1].span.start, w[1].span.end));
    if !in_order {
        let mut renderer = Renderer::new(text, syntax, &cipher);
        for (leaf, tag) in to_encrypt() {
            meta.push(Splice {
                range: leaf.span.clone(),
                text: renderer.piece(leaf, tag, Some(stash))?,
            });
        }
        return Ok((apply_splices(text, &mut meta)?, Rest::default()));
    }
    meta.sort_by_key(|s| (s.range.start, s.range.end));
    let count = to_encrypt().count();
    let half = count / 2;
    let cut = to_encrypt().nth(half).map(|(leaf, _)| leaf);
    if let Some(cut) = cut.filter(|_| count >= PARALLEL_VALUES && stash.is_empty()) {
        let key = (cut.span.start, cut.span.end);
        let at = cut.span.start;
        let split = meta.partition_point(|m| (m.range.start, m.range.end) < key);
        let (meta_a, meta_b) = meta.split_at(split);
        // Nothing of the first part may reach past the cut (one pass
        // would report that overlap as it comes: left to it).
        let fits = meta_a.iter().all(|m| m.range.end <= at)
            && to_encrypt().take(half).all(|(leaf, _)| leaf.span.end <= at);
        if fits {
            let size_a: usize = at
                + to_encrypt()
                    .take(half)
                    .map(|(l, _)| growth(l))
                    .sum::<usize>();
            let size_b: usize = text.len() - at
                + to_encrypt()
                    .skip(half)
                    .map(|(l, _)| growth(l))
                    .sum::<usize>();
            let metas = meta.len() * 4096;
            let (first, second) = std::thread::scope(|s| {
                let second = s.spawn(|| {
                    let mut out = String::with_capacity(size_b + metas);
                    Renderer::new(text, syntax, &cipher)
                        .write_run(
                            &mut out,
                            at,
                            text.len(),
                            to_encrypt().skip(half),
                            meta_b,
                            None,
                        )
                        .map(|()| out)
                });
                // Sized for both parts: the second is appended in place.
                let mut out = String::with_capacity(size_a + size_b + metas);
                let first = Renderer::new(text, syntax, &cipher)
                    .write_run(&mut out, 0, at, to_encrypt().take(half), meta_a, None)
                    .map(|()| out);
                (first, super::open::join(second))
            });
            let second = second?;
            return Ok((
                first?,
                Rest {
                    pieces: std::iter::once(0..second.len()).collect(),
                    text: second,
                },
            ));
        }
    }
    let size: usize = text.len() + to_encrypt().map(|(l, _)| growth(l)).sum::<usize>();
    let mut out = String::with_capacity(size + meta.len() * 4096);
    Renderer::new(text, syntax, &cipher).write_run(
        &mut out,
        0,
        text.len(),
        to_encrypt(),
        &meta,
        Some(stash),
    )?;
    Ok((out, Rest::default()))
}

/// About how much longer a value gets encrypted: an `ENC[...]` is about
/// 110 bytes and 4/3 of its plaintext. Outputs are sized with it so that
/// they are not copied while they grow.
fn growth(leaf: &format::Leaf) -> usize {
    120 + leaf.value.len() / 3 * 4
}

/// The second thread's part of an output, appended to the first part's
/// once the input's parse is freed: `pieces` of `text`, in this order.
/// One buffer, not one per piece: freeing pieces of a few megabytes
/// raised glibc's mmap threshold, and the check's re-parse then kept
/// 20 MiB more at a million keys.
#[derive(Default)]
struct Rest {
    text: String,
    pieces: Vec<std::ops::Range<usize>>,
}

/// How many parts the balanced write cuts a large file into.
const CHUNKS: usize = 64;

/// The text offsets of the balanced write's parts: part c is the text from
/// `bounds[c]` to `bounds[c + 1]` (the first from the start, the last to
/// the end of the last leaf), holding leaves `c * n / CHUNKS ..`. None when
/// a leaf reaches past the start of the next part or the leaves are out
/// of order (the general path reports that).
fn chunk_bounds(parsed: &ParsedFile) -> Option<Vec<usize>> {
    let leaves = &parsed.leaves;
    let n = leaves.len();
    let mut bounds = vec![0];
    let mut reach = 0;
    let mut next = 1;
    for (i, leaf) in leaves.iter().enumerate() {
        if next < CHUNKS && i == next * n / CHUNKS {
            if leaf.span.start < reach {
                return None;
            }
            bounds.push(leaf.span.start);
            next += 1;
        }
        if leaf.span.start < reach {
            return None;
        }
        reach = leaf.span.end;
    }
    (bounds.len() == CHUNKS).then(|| {
        bounds.push(reach);
        bounds
    })
}

/// The balanced write's result: the first thread's parts (from the start
/// of the text), the second thread's, where they end in the text, and
/// what each thread computed first.
struct Balanced<A, B> {
    first: String,
    rest: Rest,
    end: usize,
    first_work: A,
    second_work: B,
}

/// Encrypts and renders the leaves of a new file on two threads, each
/// after its own work: this one runs `first_work` (the seal digest) and
/// writes the first parts of `bounds` straight into its output, the
/// second runs `second_work` (the MAC) and writes the other parts into a
/// buffer of its own. Where they meet is set beforehand from the
/// estimated cost of each side ([`balance`]), so that neither waits long
/// for the other and the work of each thread is the same from run to run
/// (instruction counts stay comparable). The parts are joined in order,
/// so the text is one pass's byte for byte (but for the random IVs) up to
/// the end of the last leaf; the first error in document order wins (each
/// thread writes its parts in order and stops at its first error).
#[allow(clippy::too_many_arguments)]
fn render_balanced<A: Send, B: Send>(
    text: &str,
    syntax: &dyn format::Syntax,
    parsed: &ParsedFile,
    enc_tags: &[Option<TypeTag>],
    key: &DataKey,
    bounds: &[usize],
    first_work: impl FnOnce() -> A + Send,
    second_work: impl FnOnce() -> B + Send,
) -> Result<Balanced<A, B>, DocumentError> {
    let cipher = ValueCipher::new(key);
    let n = parsed.leaves.len();
    let parts = bounds.len() - 1;
    let part = |c: usize| c * n / parts..(c + 1) * n / parts;
    // The leaves of part `c` that are encrypted, with their tags.
    let values = |c: usize| {
        parsed.leaves[part(c)]
            .iter()
            .zip(&enc_tags[part(c)])
            .filter_map(|(leaf, tag)| tag.map(|tag| (leaf, tag)))
    };
    let write = |renderer: &mut Renderer<'_>, out: &mut String, c: usize| {
        renderer.write_run(out, bounds[c], bounds[c + 1], values(c), &[], None)
    };
    let size_of = |parts: std::ops::Range<usize>| -> usize {
        parts
            .map(|c| {
                let values: usize = values(c).map(|(l, _)| growth(l)).sum();
                bounds[c + 1] - bounds[c] + values
            })
            .sum()
    };
    // The meeting point is worked out by the second thread after its
    // (shorter) work, and sent to this one, which needs it after its own.
    let (meeting, met) = std::sync::mpsc::sync_channel(1);
    let (cipher, write, size_of) = (&cipher, &write, &size_of);
    let (first, second) = std::thread::scope(|s| {
        let second = s.spawn(move || {
            let done = second_work();
            let meet = balance(parsed, enc_tags, parts);
            // Only a panic here leaves the first thread without it.
            let _ = meeting.send(meet);
            let mut renderer = Renderer::new(text, syntax, cipher);
            let mut rest = Rest {
                text: String::with_capacity(size_of(meet..parts) + 64 * 1024),
                pieces: Vec::new(),
            };
            for c in meet..parts {
                let from = rest.text.len();
                if let Err(e) = write(&mut renderer, &mut rest.text, c) {
                    return (done, Err(e));
                }
                rest.pieces.push(from..rest.text.len());
            }
            (done, Ok(rest))
        });
        let done = first_work();
        // Without an answer (the second thread panicked, which the join
        // below goes on with) this thread would write every part.
        let meet = met.recv().unwrap_or(parts);
        // Sized for the whole output: the second thread's parts and the
        // metadata are appended in place.
        let mut out = String::with_capacity(size_of(0..parts) + 64 * 1024);
        let mut renderer = Renderer::new(text, syntax, cipher);
        let result = (0..meet).try_for_each(|c| write(&mut renderer, &mut out, c));
        ((done, result.map(|()| out)), super::open::join(second))
    });
    let (first_work, first) = first;
    let (second_work, rest) = second;
    Ok(Balanced {
        first: first?,
        rest: rest?,
        end: bounds[parts],
        first_work,
        second_work,
    })
}

/// How many of `parts` parts of a new file the first thread of
/// [`render_balanced`] writes, so that its seal digest and its parts cost
/// about what the second thread's MAC and parts cost. The costs are
/// estimates in instructions (SHA-512 about 8 a byte; a value's
/// encryption and rendering about 1,100 and 12 a byte), measured on the
/// benchmark's files: only the balance depends on them, never the output.
fn balance(parsed: &ParsedFile, enc_tags: &[Option<TypeTag>], parts: usize) -> usize {
    let n = parsed.leaves.len();
    let mut seal = 0usize;
    let mut mac = 0usize;
    let mut render = vec![0usize; parts];
    for (c, cost) in render.iter_mut().enumerate() {
        let part = c * n / parts..(c + 1) * n / parts;
        for (leaf, tag) in parsed.leaves[part.clone()].iter().zip(&enc_tags[part]) {
            let path: usize = leaf
                .path
                .segments()
                .iter()
                .map(|s| match s {
                    crate::path::Segment::Key(k) => 5 + k.as_bytes().len(),
                    crate::path::Segment::Index(_) => 9,
                })
                .sum();
            seal += 64 + 8 * path;
            if matches!(leaf.kind, LeafKind::Value(_)) {
                mac += 32 + 8 * leaf.value.len();
            }
            if tag.is_some() {
                *cost += 1100 + 12 * leaf.value.len();
            }
        }
    }
    let total: usize = render.iter().sum();
    // First: seal + r; second: mac + (total - r); equal at r below.
    let first = (total + mac).saturating_sub(seal) / 2;
    let mut done = 0;
    for (c, cost) in render.iter().enumerate() {
        if done + cost / 2 > first {
            return c;
        }
        done += cost;
    }
    parts
}

/// What the check of an encrypted output compares with: the plaintext
/// parse's leaf kinds and empty collections (its paths are in the seal
/// digest the check recomputes).
pub(super) struct Expected {
    kinds: Vec<LeafKind>,
    empties: Vec<format::EmptyCollection>,
}

impl Expected {
    /// What the encrypted output of `parsed` must show.
    pub(super) fn of(parsed: &ParsedFile) -> Self {
        Self {
            kinds: parsed.leaves.iter().map(|l| l.kind).collect(),
            empties: parsed.empties.clone(),
        }
    }
}

/// Re-parses an encrypted output and checks it holds what was intended.
#[cfg(test)]
pub(super) fn check_encrypted_output(
    out: &str,
    kind: FormatKind,
    before: &Expected,
    encrypted_leaf: &[bool],
    meta: &Metadata,
    digest: &[u8; 64],
    kept: Option<&Midstate>,
) -> Result<(), DocumentError> {
    let after = kind.syntax().parse(out).map_err(unparsable)?;
    check_parsed_output(after, before, encrypted_leaf, meta, digest, kept)
}

fn unparsable(e: format::FormatError) -> DocumentError {
    DocumentError::Internal(format!("the encrypted output does not parse ({e})"))
}

/// [`check_encrypted_output`] of the output's parse `after`. With `kept`
/// (the digest's state halfway, from a large input) the seal is compared
/// in two halves on two cores ([`split_seal_matches`]): the same proof as
/// one pass, in half the time.
fn check_parsed_output(
    after: ParsedFile,
    before: &Expected,
    encrypted_leaf: &[bool],
    meta: &Metadata,
    digest: &[u8; 64],
    kept: Option<&Midstate>,
) -> Result<(), DocumentError> {
    if after.leaves.len() != before.kinds.len() || after.metadata.is_empty() {
        return Err(DocumentError::Internal(
            "the encrypted output has a different structure".into(),
        ));
    }
    for ((a, b), enc) in after.leaves.iter().zip(&before.kinds).zip(encrypted_leaf) {
        let same_kind = a.kind == *b || (*enc && matches!(a.kind, LeafKind::Value(ValueType::Str)));
        // A changed path changes the seal digest, checked below.
        if !same_kind || (*enc && !is_encrypted(a.value.expose())) {
            return Err(DocumentError::Internal(format!(
                "the encrypted output differs at {}",
                a.path
            )));
        }
    }
    let sealed_alike = || match kept {
        Some(kept) => split_seal_matches(&after, meta, digest, kept),
        None => &seal_digest_of_encrypted(&after, meta) == digest,
    };
    if after.empties != before.empties || !sealed_alike() {
        return Err(DocumentError::Internal(
            "the seal of the encrypted output does not match its structure".into(),
        ));
    }
    Ok(())
}

/// Computes the uppercase-hex MAC over `parsed`'s values in sops order;
/// `plain(i)` gives leaf i's type and plaintext (None for nulls and
/// comments, which the MAC skips).
pub(super) fn compute_mac<'a>(
    parsed: &ParsedFile,
    mac_only_encrypted: bool,
    selection: &Selection,
    selected: &[bool],
    plain: impl Fn(usize) -> Option<(ValueType, &'a str)>,
) -> String {
    let mut hasher = MacHasher::new(mac_only_encrypted);
    let mut value = |path: &KeyPath, i: usize| {
        if parsed.leaves[i].kind == LeafKind::Comment {
            return;
        }
        // Which values are encrypted matters only to a MAC of those alone
        // (the rule's test per value was a tenth of the MAC otherwise).
        if mac_only_encrypted {
            let encrypted = if selection.is_comment_based() {
                selected[i]
            } else {
                selection.should_encrypt(path)
            };
            if !encrypted {
                return;
            }
        }
        if let Some((ty, text)) = plain(i) {
            let (tag, bytes) = typed_plaintext(ty, text);
            hasher.update(tag, bytes);
        }
    };
    if parsed.aliases.is_empty() {
        // Without aliases sops' order is the leaves' own: no list of every
        // path (32 bytes a value, at the peak of a decrypt).
        for (i, leaf) in parsed.leaves.iter().enumerate() {
            value(&leaf.path, i);
        }
    } else {
        for (path, i) in parsed.values_in_order() {
            value(&path, i);
        }
    }
    hasher.finish()
}
