//! Recipients: the public keys a data key is wrapped to. X25519
//! (`age1...`), SSH (`ssh-ed25519 ...`, `ssh-rsa ...`) and age plugin
//! recipients (`age1<plugin>1...`, wrapped by running `age-plugin-<plugin>`).
//!
//! A recipient string that is none of these is rejected with the accepted
//! forms listed; nothing is guessed.

use std::str::FromStr;

use super::{Callbacks, KeyError};

/// The accepted recipient forms, for error messages.
pub const ACCEPTED_RECIPIENTS: &str = "an age X25519 recipient (age1...), an SSH public key (ssh-ed25519 AAAA... or ssh-rsa AAAA...), or an age plugin recipient (age1<plugin>1..., e.g. age1yubikey1...)";

/// An age recipient a data key can be wrapped to.
#[derive(Clone)]
pub enum Recipient {
    /// A native X25519 recipient (`age1...`).
    X25519(age::x25519::Recipient),
    /// An SSH public key (`ssh-ed25519 ...`, `ssh-rsa ...`).
    Ssh(Box<age::ssh::Recipient>),
    /// A plugin recipient (`age1yubikey1...`): wrapping runs the plugin.
    Plugin(age::plugin::Recipient),
}

impl Recipient {
    /// Parses a recipient string.
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let s = s.trim();
        let invalid = |reason: &str| KeyError::InvalidRecipient {
            recipient: s.to_owned(),
            reason: reason.to_owned(),
        };
        if s.starts_with("age1pq1") {
            return Err(invalid(
                "post-quantum age recipients (age1pq1...) are not supported yet",
            ));
        }
        if s.starts_with("age1") {
            if let Ok(r) = age::x25519::Recipient::from_str(s) {
                return Ok(Recipient::X25519(r));
            }
            if let Ok(r) = age::plugin::Recipient::from_str(s) {
                return Ok(Recipient::Plugin(r));
            }
        } else if s.starts_with("ssh-") {
            // COMPAT(sops): a trailing comment (`ssh-ed25519 AAAA... me@host`)
            // is allowed, as in authorized_keys.
            if let Ok(r) = age::ssh::Recipient::from_str(s) {
                return Ok(Recipient::Ssh(Box::new(r)));
            }
            let mut words = s.split_whitespace();
            if let (Some(kind), Some(key)) = (words.next(), words.next()) {
                if let Ok(r) = age::ssh::Recipient::from_str(&format!("{kind} {key}")) {
                    return Ok(Recipient::Ssh(Box::new(r)));
                }
            }
        }
        Err(invalid(&format!("expected {ACCEPTED_RECIPIENTS}")))
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
    pub fn wrap(&self, key: &crate::crypto::DataKey) -> Result<String, KeyError> {
        super::wrap_bytes(self, key.expose()).map_err(|reason| KeyError::Wrap {
            recipient: self.to_string(),
            reason,
        })
    }

    /// The age recipient to encrypt with. A plugin recipient needs its
    /// plugin binary on `PATH`.
    pub(crate) fn to_age(&self) -> Result<Box<dyn age::Recipient + Send>, String> {
        Ok(match self {
            Recipient::X25519(r) => Box::new(r.clone()),
            Recipient::Ssh(r) => Box::new(r.as_ref().clone()),
            Recipient::Plugin(r) => Box::new(
                age::plugin::RecipientPluginV1::new(
                    r.plugin(),
                    std::slice::from_ref(r),
                    &[],
                    Callbacks::none(),
                )
                .map_err(|_| super::plugin::missing_message(r.plugin()))?,
            ),
        })
    }

    /// Whether this is the same key as the recipient string `other` (SSH
    /// keys compare without their comment).
    pub fn same_as(&self, other: &str) -> bool {
        same_recipient(&self.to_string(), other)
    }
}

/// Whether two recipient strings name the same key: equal, or for SSH keys
/// equal in type and key data (the comment does not count).
pub fn same_recipient(a: &str, b: &str) -> bool {
    let key = |s: &str| -> String {
        let s = s.trim();
        if s.starts_with("ssh-") {
            s.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
        } else {
            s.to_owned()
        }
    };
    key(a) == key(b)
}

impl std::fmt::Display for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Recipient::X25519(r) => write!(f, "{r}"),
            Recipient::Ssh(r) => write!(f, "{r}"),
            Recipient::Plugin(r) => write!(f, "{r}"),
        }
    }
}

impl std::fmt::Debug for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Recipient({self})")
    }
}
