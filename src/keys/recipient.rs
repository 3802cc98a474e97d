//! Recipients: the public keys a data key is wrapped to. X25519
//! (`age1...`), SSH (`ssh-ed25519 ...`, `ssh-rsa ...`) and age plugin
//! recipients (`age1<plugin>1...`, wrapped by running `age-plugin-<plugin>`).
//!
//! A recipient string that is none of these is rejected with the accepted
//! forms listed; nothing is guessed.
//!
//! SECURITY: a private key pasted where a recipient belongs (an age
//! identity, an SSH private key block) is refused as such, and never echoed:
//! the error carries only its public recipient. Any other string that is not
//! a recipient is shown in full only when it looks like a public key.

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
        if let Some(e) = private_key(s) {
            return Err(e);
        }
        let invalid = |reason: &str| KeyError::InvalidRecipient {
            recipient: shown(s),
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

/// How a string that is not a recipient may be shown in an error: in full
/// when it looks like a public key (`age1...`, `ssh-...`), else only its
/// first characters.
pub fn shown(s: &str) -> String {
    let public = (s.starts_with("age1") || s.starts_with("ssh-"))
        && s.len() <= 2048
        && !s.contains(['\n', '\r']);
    if public {
        return s.to_owned();
    }
    let head: String = s.chars().take(4).collect();
    if head.len() == s.len() {
        head
    } else {
        format!(
            "{head}... ({} characters, not shown in full)",
            s.chars().count()
        )
    }
}

/// A recipient cut short for messages and tables: `age10fsp0t…sxyvm9n`
/// (the first 10 and last 7 characters), or whole when it is short.
pub fn abbreviated(recipient: &str) -> String {
    let chars: Vec<char> = recipient.chars().collect();
    if chars.len() <= 20 {
        return recipient.to_owned();
    }
    let head: String = chars[..10].iter().collect();
    let tail: String = chars[chars.len() - 7..].iter().collect();
    format!("{head}…{tail}")
}

/// A private key in `s` (an age identity, also inside a pasted key file;
/// an age plugin identity; an SSH or PEM private key block), as the error to
/// give instead of echoing it.
pub fn private_key(s: &str) -> Option<KeyError> {
    const AGE: &str = "AGE-SECRET-KEY-";
    let upper = zeroize::Zeroizing::new(s.to_ascii_uppercase());
    if let Some(at) = upper.find(AGE) {
        // The bech32 token (also inside a pasted key file with comments).
        let token: String = upper[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let token = zeroize::Zeroizing::new(token);
        let recipient = age::x25519::Identity::from_str(&token)
            .ok()
            .map(|id| id.to_public().to_string());
        return Some(KeyError::IdentityAsRecipient {
            kind: "an age identity",
            recipient,
        });
    }
    if upper.contains("AGE-PLUGIN-") {
        return Some(KeyError::IdentityAsRecipient {
            kind: "an age plugin identity",
            recipient: None,
        });
    }
    if upper.contains("PRIVATE KEY-----") {
        let recipient = age::ssh::Identity::from_buffer(s.as_bytes(), None)
            .ok()
            .and_then(|id| age::ssh::Recipient::try_from(id).ok())
            .map(|r| r.to_string());
        return Some(KeyError::IdentityAsRecipient {
            kind: "an SSH (or PEM) private key",
            recipient,
        });
    }
    None
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_keys_are_named_by_their_recipient_only() {
        let secret = "AGE-SECRET-KEY-17Q23CNK957JNKWTD0GQE8LMW7NVADW04E9E5ECUL8CJL2DWZ47ZQ72QJ65";
        for given in [
            secret.to_owned(),
            secret.to_ascii_lowercase(),
            format!("# public key: age1...\n{secret}\n"),
        ] {
            let err = Recipient::parse(&given).unwrap_err();
            let text = err.to_string();
            assert!(matches!(err, KeyError::IdentityAsRecipient { .. }));
            assert!(!text.to_ascii_uppercase().contains(&secret[15..]), "{text}");
            assert!(
                text.contains("age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n"),
                "{text}"
            );
        }
        // A damaged identity is still an identity, and still not shown.
        let err = Recipient::parse(&secret[..60]).unwrap_err();
        assert!(matches!(
            err,
            KeyError::IdentityAsRecipient {
                recipient: None,
                ..
            }
        ));
        assert!(!err.to_string().contains(&secret[15..60]));
    }

    #[test]
    fn only_public_looking_strings_are_shown_in_full() {
        assert_eq!(shown("age1bogus"), "age1bogus");
        assert_eq!(shown("ssh-ed25519 AAAA"), "ssh-ed25519 AAAA");
        assert_eq!(
            shown("ghp_0123456789"),
            "ghp_... (14 characters, not shown in full)"
        );
        assert_eq!(shown("bob"), "bob");
    }
}
