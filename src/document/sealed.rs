//! [`Sealed`]: an encrypted file as read, without any key (text, format,
//! parse, metadata), and the checks anyone can make on it: is a text an
//! encrypted file, does it look like a damaged one, is its structure sound.

use zeroize::Zeroizing;

use super::*;
use crate::crypto::value::is_encrypted;
use crate::crypto::{EncryptedValue, ValueError};
use crate::format::{self, FormatKind, LeafKind, ParsedFile, ValueType};
use crate::keys::{Identity, Recipient};
use crate::metadata::{self, Metadata, MetadataError};
use crate::secret::{SharedText, SourceText};

/// An encrypted file as read, opened without a key: its text, format,
/// parse and `sops` metadata. Everything that needs no key is here (its
/// recipients, its structure); [`Sealed::open`] gives the plaintext.
pub struct Sealed {
    /// Shared with the parse: its `ENC[...]` values are ranges of it.
    text: SharedText,
    format: FormatKind,
    parsed: ParsedFile,
    metadata: Metadata,
}

impl Sealed {
    /// Parses `text` as an encrypted file of `format`: an error if it is
    /// not valid in its format ([`DocumentError::Format`]), has no `sops`
    /// metadata ([`DocumentError::NotEncrypted`]) or invalid metadata.
    pub fn parse(
        text: impl Into<Zeroizing<String>>,
        format: FormatKind,
    ) -> Result<Self, DocumentError> {
        let text = SourceText::shared(text);
        let mut parsed = format.syntax().parse_shared(&text)?;
        // The leaves stay for the whole command; a list grown by doubling
        // has up to half its capacity unused (a large block shrinks in
        // place, without a copy).
        parsed.leaves.shrink_to_fit();
        let tree = parsed.metadata_tree().ok_or(DocumentError::NotEncrypted)?;
        let metadata = Metadata::from_tree(tree)?;
        Ok(Self {
            text,
            format,
            parsed,
            metadata,
        })
    }

    /// Whether `text` is an encrypted file of `kind`: it parses and has
    /// `sops` metadata. (A damaged one may not: see [`looks_encrypted`].)
    pub fn is_encrypted(text: &str, kind: FormatKind) -> bool {
        // Every format's metadata has the word; most files are rejected
        // without a parse.
        text.contains("sops")
            && kind
                .syntax()
                .parse(text)
                .is_ok_and(|p| !p.metadata.is_empty())
    }

    /// The text as read (ciphertext, clear values, metadata).
    pub fn text(&self) -> &str {
        self.text.as_str()
    }

    /// Its format.
    pub fn format(&self) -> FormatKind {
        self.format
    }

    /// Its `sops` metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    pub(super) fn parsed(&self) -> &ParsedFile {
        &self.parsed
    }

    /// Whether the file carries a seal (verified only by [`Sealed::open`]).
    pub fn is_sealed(&self) -> bool {
        self.metadata.seal.is_some()
    }

    /// The age recipients of each key group, as written in the file.
    pub fn groups(&self) -> Vec<Vec<String>> {
        self.metadata
            .key_groups
            .iter()
            .map(|g| g.age.iter().map(|s| s.recipient.clone()).collect())
            .collect()
    }

    /// The Shamir threshold that applies: 0 when the key is not split.
    pub fn threshold(&self) -> u32 {
        metadata::effective_threshold(
            self.metadata.key_groups.len(),
            self.metadata.shamir_threshold,
        )
    }

    /// The key paths of the encrypted values the scope `name` takes in
    /// (first document, in document order), read without a key: what the
    /// scope's readers could read, for a revocation's checklist.
    pub fn scope_secret_paths(&self, name: &str) -> Vec<KeyPath> {
        let Some(scope) = self.metadata.scopes.iter().find(|s| s.name == name) else {
            return Vec::new();
        };
        let paths: Vec<KeyPath> = scope
            .paths
            .iter()
            .filter_map(|p| KeyPath::parse(p).ok())
            .collect();
        let mut seen = std::collections::HashSet::new();
        self.parsed
            .leaves
            .iter()
            .filter(|l| {
                l.document == 0
                    && matches!(l.kind, LeafKind::Value(_))
                    && is_encrypted(l.value.expose())
                    && paths.iter().any(|p| l.path.starts_with(p))
            })
            .filter(|l| seen.insert(&l.path))
            .map(|l| l.path.clone())
            .collect()
    }

    /// The key paths of every encrypted value (each once, in document
    /// order), read without a key: what an owner could read, for a
    /// revocation's checklist before the file is opened.
    pub fn secret_paths(&self) -> Vec<KeyPath> {
        let mut seen = std::collections::HashSet::new();
        self.parsed
            .leaves
            .iter()
            .filter(|l| matches!(l.kind, LeafKind::Value(_)) && is_encrypted(l.value.expose()))
            .filter(|l| seen.insert(&l.path))
            .map(|l| l.path.clone())
            .collect()
    }

    /// The structure checks of [`check_structure`], on this file.
    pub fn check_structure(&self) -> Vec<DocumentError> {
        check_structure(self.text.as_str(), self.format)
    }

    /// Opens the file with `identities`: the data key unwrapped, the seal
    /// checked before any value is decrypted, every value and comment
    /// decrypted, the MAC verified. With `opts.ignore_mac` a failed MAC or
    /// seal check is a warning.
    pub fn open(
        &self,
        identities: &[Identity],
        opts: &OpenOptions,
    ) -> Result<Opened<'_>, DocumentError> {
        open::open(self, identities, opts)
    }
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
/// ([`Sealed::open`]).
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
                reason: crate::keys::KeyDamage::NotArmored,
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
            if let Err(error) = EncryptedValue::parse(raw) {
                problems.push(DocumentError::Value {
                    path: leaf.path.clone(),
                    line: format::line_col(text, leaf.span.start).0,
                    error,
                });
            }
        } else if raw.contains(",iv:") && raw.contains(",tag:") && raw.contains(",type:") {
            // An ENC[...] whose prefix was damaged reads as a clear value
            // or comment (sops reads a comment it cannot decrypt as clear).
            problems.push(DocumentError::Value {
                path: leaf.path.clone(),
                line: format::line_col(text, leaf.span.start).0,
                error: ValueError::Malformed("missing ENC[AES256_GCM,data: prefix"),
            });
        }
    }
    problems.sort_by_key(|p| p.line());
    problems
}

/// Decrypts a whole file to its plaintext text (the `decrypt` command).
pub fn decrypt(
    text: &str,
    kind: FormatKind,
    identities: &[Identity],
    opts: &OpenOptions,
) -> Result<(Zeroizing<String>, Vec<Warning>), DocumentError> {
    let file = Sealed::parse(text.to_owned(), kind)?;
    let opened = file.open(identities, opts)?;
    let out = opened.plaintext()?;
    Ok((out, opened.warnings().to_vec()))
}
