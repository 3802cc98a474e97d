//! age recipients and identities: parsing them, wrapping a data key to a
//! recipient and unwrapping it with identities.
//!
//! COMPAT(sops): each recipient gets its own armored age file whose payload
//! is the raw 32-byte data key (never one file for several recipients).
//! This module opens no files and reads no environment: callers hand it
//! text (or bytes) and a [`Callbacks`] that knows how to ask the user for a
//! passphrase, if anyone can be asked.
//!
//! - [`recipient`]: X25519, SSH and plugin recipients;
//! - [`identity`]: identities from text, SSH private keys and
//!   passphrase-encrypted identity files, and where each came from;
//! - [`ssh`], [`plugin`]: the two kinds that need more than the age crate
//!   gives (a passphrase asked once, only for a stanza that is the key's own;
//!   a clean error when a plugin binary is missing).

use std::io::{Read, Write};
use std::sync::Arc;

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use age::secrecy::SecretString;
use zeroize::Zeroizing;

pub mod identity;
pub mod plugin;
pub mod recipient;
pub mod ssh;

pub use identity::{load_identities, parse_identities, Identity};
pub use recipient::{same_recipient, Recipient, ACCEPTED_RECIPIENTS};

/// A recipient or identity string could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A recipient string parses as none of the accepted forms.
    #[error("invalid recipient {recipient:?}: {reason}")]
    InvalidRecipient {
        /// The offending recipient as it may be shown: in full only when it
        /// looks like a public key, else its first characters (it may be a
        /// mistyped or misplaced secret).
        recipient: String,
        /// Why, with the accepted forms.
        reason: String,
    },
    /// A private key (an age identity, an SSH private key) where a
    /// recipient belongs. SECURITY: the key is never part of the message;
    /// its public recipient is, when it can be computed.
    #[error("{kind} (a private key) was given where a recipient belongs; it is not shown{}; treat the private key as exposed and rotate it", recipient.as_ref().map(|r| format!(", and its recipient is {r}")).unwrap_or_default())]
    IdentityAsRecipient {
        /// What it is: "an age identity", "an SSH private key", ...
        kind: &'static str,
        /// Its public recipient, when it can be computed.
        recipient: Option<String>,
    },
    /// A line of an identity source is not an identity. The line itself is
    /// not shown: it may be a mistyped secret key.
    #[error("{source_name}, line {line}: not an age identity (expected AGE-SECRET-KEY-1... or AGE-PLUGIN-...)")]
    InvalidIdentity {
        /// Where the identity text came from (a file path or a variable name).
        source_name: String,
        /// 1-based line number.
        line: usize,
    },
    /// A key file could not be used as a whole (unsupported SSH key type,
    /// an age-encrypted file that is not passphrase-encrypted, ...).
    #[error("{source_name}: {reason}")]
    UnusableKeyFile {
        /// Where it came from.
        source_name: String,
        /// Why (never key material).
        reason: String,
    },
    /// Wrapping the data key failed.
    #[error("could not wrap the data key for {recipient}: {reason}")]
    Wrap {
        /// The recipient.
        recipient: String,
        /// Why (from age; contains no secret).
        reason: WrapFailure,
    },
}

/// Why a prompt could not give an answer.
#[derive(Debug, Clone)]
pub enum PromptError {
    /// There is no terminal to ask on.
    NoTerminal,
    /// Asking failed (or the user gave up).
    Failed(String),
}

/// How the library asks the user something (a passphrase, a plugin's
/// question). The binary implements it on the terminal; the library itself
/// never touches a TTY.
pub trait Prompter: Send + Sync {
    /// Asks for a secret (a passphrase or PIN), not echoed.
    fn passphrase(&self, prompt: &str) -> Result<SecretString, PromptError>;
    /// Shows a message (from a plugin, e.g. "touch your YubiKey").
    fn message(&self, text: &str);
    /// Asks a yes/no question; `None` when it cannot be asked.
    fn confirm(&self, _message: &str, _yes: &str, _no: Option<&str>) -> Option<bool> {
        None
    }
    /// Asks for a public (echoed) string; `None` when it cannot be asked.
    fn public_string(&self, _description: &str) -> Option<String> {
        None
    }
}

struct NoPrompter;

impl Prompter for NoPrompter {
    fn passphrase(&self, _prompt: &str) -> Result<SecretString, PromptError> {
        Err(PromptError::NoTerminal)
    }
    fn message(&self, _text: &str) {}
}

/// A cheaply cloned handle to a [`Prompter`], usable as age's callbacks.
#[derive(Clone)]
pub struct Callbacks(Arc<dyn Prompter>);

impl Callbacks {
    /// Callbacks that ask through `prompter`.
    pub fn new(prompter: impl Prompter + 'static) -> Self {
        Self(Arc::new(prompter))
    }

    /// Callbacks that can ask nothing (every passphrase request fails with
    /// [`PromptError::NoTerminal`]).
    pub fn none() -> Self {
        Self(Arc::new(NoPrompter))
    }

    /// Asks for a passphrase.
    pub fn passphrase(&self, prompt: &str) -> Result<SecretString, PromptError> {
        self.0.passphrase(prompt)
    }
}

impl age::Callbacks for Callbacks {
    fn display_message(&self, message: &str) {
        self.0.message(message);
    }
    fn confirm(&self, message: &str, yes_string: &str, no_string: Option<&str>) -> Option<bool> {
        self.0.confirm(message, yes_string, no_string)
    }
    fn request_public_string(&self, description: &str) -> Option<String> {
        self.0.public_string(description)
    }
    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        self.0.passphrase(description).ok()
    }
}

/// Wraps raw payload bytes (a data key, or a Shamir share) to a recipient.
pub fn wrap_bytes(recipient: &Recipient, payload: &[u8]) -> Result<String, WrapFailure> {
    let age_recipient = recipient.to_age().map_err(WrapFailure::Recipient)?;
    let encryptor = age::Encryptor::with_recipients(std::iter::once(age_recipient.as_ref() as _))?;
    let mut out = Vec::new();
    let armor = ArmoredWriter::wrap_output(&mut out, Format::AsciiArmor)?;
    let mut writer = encryptor.wrap_output(armor)?;
    writer.write_all(payload)?;
    writer.finish().and_then(|armor| armor.finish())?;
    String::from_utf8(out).map_err(|_| WrapFailure::NotText)
}

/// Why a data key could not be wrapped for a recipient. The cause is kept
/// typed (age's error, the I/O error) and shown in the text only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WrapFailure {
    /// The recipient cannot be used (a plugin that is not installed).
    #[error("{0}")]
    Recipient(String),
    /// age refused to encrypt (boxed: the error is large, and it is rare).
    #[error(transparent)]
    Age(Box<age::EncryptError>),
    /// Writing the armored output failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The armor is not UTF-8 text.
    #[error("armor is not UTF-8")]
    NotText,
}

impl From<age::EncryptError> for WrapFailure {
    fn from(e: age::EncryptError) -> Self {
        WrapFailure::Age(Box::new(e))
    }
}

/// Why a wrapped data key could not be opened.
#[derive(Debug)]
pub enum UnwrapFailure {
    /// None of the identities matches this stanza's recipient.
    NoMatch,
    /// The stanza is not a valid age file, or its payload is not a data key.
    Corrupt(KeyDamage),
}

/// What is wrong with a wrapped data key (an age stanza). The cause is
/// kept typed (age's error, the I/O error) and shown in the text only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyDamage {
    /// age refused the stanza (bad header, MAC, ...).
    #[error(transparent)]
    Age(#[from] age::DecryptError),
    /// Reading the decrypted payload failed.
    #[error(transparent)]
    Read(std::io::Error),
    /// The stanza is not an armored age file.
    #[error("not an armored age file")]
    NotArmored,
    /// The payload is not a 32-byte data key.
    #[error("the payload is not a 32-byte key")]
    NotAKey,
}

/// Unwraps one armored age stanza with any of `identities`; returns the raw
/// payload (a 32-byte key, or a 33-byte Shamir share).
pub fn unwrap_bytes(
    enc: &str,
    identities: &[&Identity],
) -> Result<Zeroizing<Vec<u8>>, UnwrapFailure> {
    let reader = ArmoredReader::new(enc.as_bytes());
    // `new_buffered`: the armored reader is a `BufRead`, so age reads the
    // header a line at a time; `new` re-parses it after every few bytes it
    // asks for (about 160 attempts, 0.3M instructions, for one stanza).
    let decryptor =
        age::Decryptor::new_buffered(reader).map_err(|e| UnwrapFailure::Corrupt(e.into()))?;
    let mut stream = match decryptor.decrypt(identities.iter().map(|i| *i as &dyn age::Identity)) {
        Ok(s) => s,
        Err(age::DecryptError::NoMatchingKeys) => return Err(UnwrapFailure::NoMatch),
        Err(e) => return Err(UnwrapFailure::Corrupt(e.into())),
    };
    let mut out = Zeroizing::new(Vec::with_capacity(33));
    stream
        .read_to_end(&mut out)
        .map_err(|e| UnwrapFailure::Corrupt(KeyDamage::Read(e)))?;
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
    use crate::crypto::DataKey;
    use age::secrecy::ExposeSecret;

    const KEY1: &str = include_str!("../../testdata/sops/age-key.txt");

    fn refs(ids: &[Identity]) -> Vec<&Identity> {
        ids.iter().collect()
    }

    #[test]
    fn wrap_then_unwrap() {
        let (secret, recipient) = generate_x25519();
        let ids = parse_identities(secret.expose_secret(), "test").unwrap();
        assert_eq!(ids[0].public(), recipient);
        let key = DataKey::generate();
        let armored = Recipient::parse(&recipient).unwrap().wrap(&key).unwrap();
        assert!(armored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
        assert!(armored.ends_with("-----END AGE ENCRYPTED FILE-----\n"));
        let back = unwrap_bytes(&armored, &refs(&ids)).unwrap();
        assert_eq!(back.as_slice(), key.expose());
        let other = parse_identities(KEY1, "key1").unwrap();
        assert!(matches!(
            unwrap_bytes(&armored, &refs(&other)),
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
            "keys.txt, line 2: not an age identity (expected AGE-SECRET-KEY-1... or AGE-PLUGIN-...)"
        );
    }

    #[test]
    fn recipients_are_validated() {
        assert!(
            Recipient::parse("age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n")
                .is_ok()
        );
        assert!(Recipient::parse("age1nope").is_err());
        let err = Recipient::parse("bob").unwrap_err().to_string();
        assert!(err.contains("ssh-ed25519"), "{err}");
        assert!(err.contains("age1yubikey1"), "{err}");
        let list = Recipient::parse_list(
            "age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n, age1u4p50cvf23gprufg0lu7d6wmlqm76njluxatc0tuhyrkpa53dfhsk8pnve",
        )
        .unwrap();
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn plugin_recipients_parse_and_fail_cleanly_without_the_plugin() {
        let r = Recipient::parse(plugin::tests::FAKE_RECIPIENT).unwrap();
        assert!(matches!(r, Recipient::Plugin(_)));
        let err = r.wrap(&DataKey::generate()).unwrap_err().to_string();
        assert!(err.contains("age-plugin-xyz not found on PATH"), "{err}");
    }

    #[test]
    fn ssh_recipients_compare_without_comment() {
        assert!(same_recipient(
            "ssh-ed25519 AAAAC3Nza me@host",
            "ssh-ed25519 AAAAC3Nza"
        ));
        assert!(!same_recipient("age1a", "age1b"));
    }
}
