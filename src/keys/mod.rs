//! age recipients and identities: parsing them, wrapping a data key to a
//! recipient and unwrapping it with identities.
//!
//! COMPAT(sops): each recipient gets its own armored age file whose payload
//! is the raw 32-byte data key (never one file for several recipients).
//! This module opens no files itself; callers hand it text.

use std::io::{Read, Write};
use std::str::FromStr;

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use zeroize::Zeroizing;

use crate::crypto::DataKey;

/// An age recipient a data key can be wrapped to.
#[derive(Clone)]
pub enum Recipient {
    /// A native X25519 recipient (`age1...`).
    X25519(age::x25519::Recipient),
    /// An SSH public key (`ssh-ed25519 ...`, `ssh-rsa ...`).
    Ssh(Box<age::ssh::Recipient>),
}

/// A recipient or identity string could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A recipient string parses as none of the accepted forms.
    #[error("invalid recipient {recipient:?}: expected an age X25519 recipient (age1...) or an SSH public key (ssh-ed25519 ... / ssh-rsa ...)")]
    InvalidRecipient {
        /// The offending recipient (public, safe to show).
        recipient: String,
    },
    /// A line of an identity source is not an identity. The line itself is
    /// not shown: it may be a mistyped secret key.
    #[error("{source_name}, line {line}: not an age identity (expected AGE-SECRET-KEY-1...)")]
    InvalidIdentity {
        /// Where the identity text came from (a file path or a variable name).
        source_name: String,
        /// 1-based line number.
        line: usize,
    },
    /// Wrapping the data key failed.
    #[error("could not wrap the data key for {recipient}: {reason}")]
    Wrap {
        /// The recipient.
        recipient: String,
        /// Why (from age; contains no secret).
        reason: String,
    },
}

impl Recipient {
    /// Parses a recipient string.
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let s = s.trim();
        if s.starts_with("age1") {
            if let Ok(r) = age::x25519::Recipient::from_str(s) {
                return Ok(Recipient::X25519(r));
            }
        } else if s.starts_with("ssh-") {
            if let Ok(r) = age::ssh::Recipient::from_str(s) {
                return Ok(Recipient::Ssh(Box::new(r)));
            }
        }
        Err(KeyError::InvalidRecipient {
            recipient: s.to_owned(),
        })
    }

    /// Parses a comma-separated list (as `--age` takes), skipping blanks.
    pub fn parse_list(s: &str) -> Result<Vec<Self>, KeyError> {
        s.split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(Self::parse)
            .collect()
    }

    /// Wraps `key` to this recipient as an ASCII-armored age file.
    pub fn wrap(&self, key: &DataKey) -> Result<String, KeyError> {
        wrap_bytes(self, key.expose()).map_err(|reason| KeyError::Wrap {
            recipient: self.to_string(),
            reason,
        })
    }

    fn as_dyn(&self) -> &dyn age::Recipient {
        match self {
            Recipient::X25519(r) => r,
            Recipient::Ssh(r) => r.as_ref(),
        }
    }
}

impl std::fmt::Display for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Recipient::X25519(r) => write!(f, "{r}"),
            Recipient::Ssh(r) => write!(f, "{r}"),
        }
    }
}

impl std::fmt::Debug for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Recipient({self})")
    }
}

/// Wraps raw payload bytes (a data key, or a Shamir share) to a recipient.
pub fn wrap_bytes(recipient: &Recipient, payload: &[u8]) -> Result<String, String> {
    let encryptor = age::Encryptor::with_recipients(std::iter::once(recipient.as_dyn()))
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let armor =
        ArmoredWriter::wrap_output(&mut out, Format::AsciiArmor).map_err(|e| e.to_string())?;
    let mut writer = encryptor.wrap_output(armor).map_err(|e| e.to_string())?;
    writer.write_all(payload).map_err(|e| e.to_string())?;
    writer
        .finish()
        .and_then(|armor| armor.finish())
        .map_err(|e| e.to_string())?;
    String::from_utf8(out).map_err(|_| "armor is not UTF-8".to_owned())
}

/// An identity that can unwrap data keys, with its public recipient (when
/// known) and where it came from, for error messages.
pub struct Identity {
    inner: Box<dyn age::Identity + Send + Sync>,
    /// The matching recipient string, e.g. `age1...`.
    pub recipient: Option<String>,
    /// Where it was loaded from (`--identity FILE`, `BOTSECRETS_AGE_KEY`, ...).
    pub source: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identity({:?} from {})", self.recipient, self.source)
    }
}

impl Identity {
    /// Wraps an X25519 identity.
    pub fn from_x25519(identity: age::x25519::Identity, source: impl Into<String>) -> Self {
        Self {
            recipient: Some(identity.to_public().to_string()),
            inner: Box::new(identity),
            source: source.into(),
        }
    }
}

/// Parses identity text: one or more `AGE-SECRET-KEY-1...` keys separated
/// by line breaks or spaces; blank lines and `#` comments are skipped.
pub fn parse_identities(text: &str, source: &str) -> Result<Vec<Identity>, KeyError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        for word in line.split_whitespace() {
            let parsed =
                age::x25519::Identity::from_str(word).map_err(|_| KeyError::InvalidIdentity {
                    source_name: source.to_owned(),
                    line: i + 1,
                })?;
            out.push(Identity::from_x25519(parsed, source));
        }
    }
    Ok(out)
}

/// Why a wrapped data key could not be opened.
#[derive(Debug)]
pub enum UnwrapFailure {
    /// None of the identities matches this stanza's recipient.
    NoMatch,
    /// The stanza is not a valid age file, or its payload is not a data key.
    Corrupt(String),
}

/// Unwraps one armored age stanza with any of `identities`; returns the raw
/// payload (a 32-byte key, or a 33-byte Shamir share).
pub fn unwrap_bytes(
    enc: &str,
    identities: &[Identity],
) -> Result<Zeroizing<Vec<u8>>, UnwrapFailure> {
    let reader = ArmoredReader::new(enc.as_bytes());
    let decryptor =
        age::Decryptor::new(reader).map_err(|e| UnwrapFailure::Corrupt(e.to_string()))?;
    let mut stream = match decryptor.decrypt(
        identities
            .iter()
            .map(|i| i.inner.as_ref() as &dyn age::Identity),
    ) {
        Ok(s) => s,
        Err(age::DecryptError::NoMatchingKeys) => return Err(UnwrapFailure::NoMatch),
        Err(e) => return Err(UnwrapFailure::Corrupt(e.to_string())),
    };
    let mut out = Zeroizing::new(Vec::with_capacity(33));
    stream
        .read_to_end(&mut out)
        .map_err(|e| UnwrapFailure::Corrupt(e.to_string()))?;
    Ok(out)
}

/// A new X25519 identity: `(secret key text, recipient)`.
pub fn generate_x25519() -> (age::secrecy::SecretString, String) {
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    (identity.to_string(), recipient)
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::ExposeSecret;

    const KEY1: &str = include_str!("../../testdata/sops/age-key.txt");

    #[test]
    fn wrap_then_unwrap() {
        let (secret, recipient) = generate_x25519();
        let ids = parse_identities(secret.expose_secret(), "test").unwrap();
        assert_eq!(ids[0].recipient.as_deref(), Some(recipient.as_str()));
        let key = DataKey::generate();
        let armored = Recipient::parse(&recipient).unwrap().wrap(&key).unwrap();
        assert!(armored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
        assert!(armored.ends_with("-----END AGE ENCRYPTED FILE-----\n"));
        let back = unwrap_bytes(&armored, &ids).unwrap();
        assert_eq!(back.as_slice(), key.expose());
        let other = parse_identities(KEY1, "key1").unwrap();
        assert!(matches!(
            unwrap_bytes(&armored, &other),
            Err(UnwrapFailure::NoMatch)
        ));
    }

    #[test]
    fn identity_files_with_comments_and_several_keys() {
        let (a, _) = generate_x25519();
        let text = format!(
            "# created: now\n# public key: x\n{}\n\n{}\n",
            a.expose_secret(),
            KEY1.lines().last().unwrap()
        );
        assert_eq!(parse_identities(&text, "f").unwrap().len(), 2);
        let err = parse_identities("# c\nAGE-SECRET-KEY-1NOPE\n", "keys.txt").unwrap_err();
        assert_eq!(
            err.to_string(),
            "keys.txt, line 2: not an age identity (expected AGE-SECRET-KEY-1...)"
        );
    }

    #[test]
    fn recipients_are_validated() {
        assert!(
            Recipient::parse("age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n")
                .is_ok()
        );
        assert!(Recipient::parse("age1nope").is_err());
        assert!(Recipient::parse("bob").is_err());
        let list = Recipient::parse_list(
            "age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n, age1u4p50cvf23gprufg0lu7d6wmlqm76njluxatc0tuhyrkpa53dfhsk8pnve",
        )
        .unwrap();
        assert_eq!(list.len(), 2);
    }
}
