//! Where formats and crypto meet: encrypting a plaintext file, opening an
//! encrypted one (data key, values, MAC), and writing its plaintext.
//!
//! Every function takes and returns text; files, flags and environment are
//! the caller's. Invariants:
//! - the output of [`encrypt`] is the input with value/comment spans replaced
//!   and a metadata block added, and it is re-parsed before being returned
//!   (a mismatch is an internal error, never a silently bad file);
//! - [`Sealed::open`] verifies the seal and the MAC (unless told not to)
//!   before any plaintext leaves this module; an [`Opened`] file borrows
//!   its [`Sealed`] file, so its plaintext is always spliced into that
//!   file's own text;
//! - errors carry key paths and line numbers, never values.
//!
//! Files by job: `sealed.rs` (a file without a key), `open.rs` (opening,
//! and what an opened file does: plaintext, reencrypt, rekey, set, unset),
//! `encrypt.rs` (new files and the shared write path), `select.rs` (the
//! selection rule and strict selection), `sealing.rs` (the seal's digest
//! of a document), `tests.rs`.

use crate::crypto::ValueError;
use crate::format::FormatError;
use crate::keys;
use crate::metadata::MetadataError;
use crate::path::KeyPath;
use crate::seal::SealStatus;

mod encrypt;
mod open;
#[cfg(test)]
mod scope_tests;
mod scopes;
mod sealed;
mod sealing;
mod select;
#[cfg(test)]
mod tests;

use encrypt::*;
pub use encrypt::{
    encrypt, encrypt_for_groups, encrypt_scoped, EncryptOptions, Encrypted, IvStash,
};
pub use open::{scalar_json, unwrap_data_key, OpenOptions, Opened, Rekeyed};
pub use scopes::{
    is_scope_reader, scope_drift, specs_without, ScopeDrift, ScopeReaders, ScopeRevoked, ScopeSpec,
};
pub use sealed::{check_structure, decrypt, looks_encrypted, Sealed};
use sealing::*;
use select::*;

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
    /// A `set` or `unset` the format cannot make (e.g. a key under a
    /// scalar); the file is unchanged.
    #[error(transparent)]
    Edit(FormatError),
    /// The file has no `sops` metadata block.
    #[error("not encrypted: no sops metadata found")]
    NotEncrypted,
    /// The metadata block is invalid.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// No recipients were given for a new file.
    #[error("no recipients: a new file needs at least one age recipient")]
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
        /// What is wrong (age's error, typed).
        reason: keys::KeyDamage,
    },
    /// An `ENC[...]` value is malformed or fails authentication.
    // The cause is in the text, so it is not also a `source()`: `{:#}`
    // would print it twice.
    #[error("cannot decrypt the value at {path} (line {line}): {error}")]
    Value {
        /// Key path of the value.
        path: KeyPath,
        /// 1-based line.
        line: usize,
        /// What went wrong.
        error: ValueError,
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
    #[error("the file has no MAC (sops.mac is empty)")]
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
    #[error("the seal does not verify: the file's key names, clear values, selection rule, recipients or scopes were changed without the key (sops.botsecrets_seal)")]
    SealMismatch,
    /// The file has no seal and the policy requires one.
    #[error("the file has no seal (sops.botsecrets_seal) and its rules require one: sops or another tool wrote it, or the seal was stripped")]
    SealMissing,
    /// `--extract` named a path that is not in the file.
    #[error("key path {0} not found")]
    PathNotFound(KeyPath),
    /// Shamir shares could not be combined.
    #[error("cannot rebuild the data key from key groups: {0}")]
    Shamir(GroupsError),
    /// A scope path (from the rule) names no key of the file.
    #[error("scope {scope}: the path {path} matches no key in the file")]
    ScopePathNoMatch {
        /// The scope.
        scope: String,
        /// Its path.
        path: KeyPath,
    },
    /// A scope path is outside the file's data (the root, or the `sops`
    /// metadata).
    #[error("scope {scope}: the path {path} is outside the file's data (a scope names keys of the file, not the whole file or its sops metadata)")]
    ScopePathOutside {
        /// The scope.
        scope: String,
        /// Its path.
        path: KeyPath,
    },
    /// A scope was asked for by a name the file does not have.
    #[error("the file has no scope {name:?}; its scopes: {}", if .scopes.is_empty() { "none".to_owned() } else { .scopes.join(", ") })]
    UnknownScope {
        /// The name asked for.
        name: String,
        /// The file's scopes.
        scopes: Vec<String>,
    },
    /// A stored scope cannot be read by its reader.
    #[error("scope {scope} is damaged: {reason}")]
    ScopeDamaged {
        /// The scope.
        scope: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The identity reads only some scopes of the file and is not an
    /// owner: it cannot write the file or read it whole.
    #[error("{}", not_an_owner_message(.reads, .scopes, None))]
    NotAnOwner {
        /// The scopes this identity reads.
        reads: Vec<String>,
        /// Every scope of the file and its readers.
        scopes: Vec<ScopeReaders>,
    },
    /// A scope reader asked for a path outside its scopes.
    #[error("{}", not_an_owner_message(.reads, .scopes, Some(.path)))]
    OutsideScope {
        /// What was asked for.
        path: KeyPath,
        /// The scopes this identity reads.
        reads: Vec<String>,
        /// Every scope of the file and its readers.
        scopes: Vec<ScopeReaders>,
    },
    /// A write would keep scopes whose readers and paths no verified seal
    /// vouches for (anyone who can edit the file could have listed itself).
    #[error("the file's scopes ({}) are not covered by a verified seal, so their readers and paths may have been changed without the key; nothing was written (a write would give their values to whoever they list)", .scopes.join(", "))]
    ScopesUnsealed {
        /// The file's scope names.
        scopes: Vec<String>,
    },
    /// A bug caught by a self-check.
    #[error("internal error: {0}; the file was not written")]
    Internal(String),
}

/// Why key groups (Shamir shares) cannot be made or combined.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GroupsError {
    /// More key groups than shares can be made for.
    #[error("at most 255 key groups")]
    TooMany,
    /// The threshold does not fit the number of groups.
    #[error("a threshold of {threshold} needs between 2 and {groups} key groups")]
    Threshold {
        /// The threshold asked for.
        threshold: u32,
        /// How many groups there are.
        groups: usize,
    },
    /// The shares do not split or combine.
    #[error(transparent)]
    Shares(#[from] crate::crypto::shamir::ShamirError),
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

fn not_an_owner_message(
    reads: &[String],
    scopes: &[ScopeReaders],
    path: Option<&KeyPath>,
) -> String {
    let what = match path {
        Some(p) => format!(
            "{p} is outside the scope{} this identity reads",
            plural(reads)
        ),
        None => format!(
            "this identity reads only the scope{} {} of this file",
            plural(reads),
            reads.join(", ")
        ),
    };
    let all: Vec<String> = scopes.iter().map(ToString::to_string).collect();
    let reads_shown = match path {
        Some(_) => format!(" ({})", reads.join(", ")),
        None => String::new(),
    };
    format!(
        "{what}{reads_shown}: it is not an owner, so it can read only its scope's values and cannot write the file; scopes: {}",
        all.join("; ")
    )
}

fn plural(items: &[String]) -> &'static str {
    if items.len() == 1 {
        ""
    } else {
        "s"
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
                "the alias at {alias} points at encrypted values under {anchor}: botsecrets can read this file but sops cannot"
            ),
            Warning::MacNotVerified => f.write_str("the MAC was NOT verified: values may have been altered"),
            Warning::SealMissing => f.write_str("the file has no seal (sops.botsecrets_seal): sops or another tool wrote it, or the seal was stripped, so its key names, clear values, selection rule and recipients are not authenticated"),
            Warning::SealNotVerified(SealStatus::Broken) => f.write_str("the seal does NOT verify (read anyway, as asked): key names, clear values, the selection rule or the recipients were changed without the key"),
            Warning::SealNotVerified(_) => f.write_str("the file has NO seal although its rules require one (read anyway, as asked)"),
        }
    }
}

impl DocumentError {
    /// The error with each scope reader shown by name where `name_of`
    /// knows one (`monitor (age1...)`); other errors unchanged.
    pub fn name_readers(mut self, name_of: impl Fn(&str) -> Option<String>) -> Self {
        if let DocumentError::NotAnOwner { scopes, .. }
        | DocumentError::OutsideScope { scopes, .. } = &mut self
        {
            for s in scopes {
                for r in &mut s.readers {
                    if let Some(n) = name_of(r) {
                        *r = format!("{n} ({r})");
                    }
                }
            }
        }
        self
    }

    /// Whether this error, found in a file whose seal does not verify, says
    /// more precisely what changed than "the seal does not verify".
    fn explains_a_broken_seal(&self) -> bool {
        matches!(
            self,
            DocumentError::Value {
                error: ValueError::Malformed(_)
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
