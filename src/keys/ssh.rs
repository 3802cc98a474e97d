//! SSH private keys (`ssh-ed25519`, `ssh-rsa`) as identities.
//!
//! A passphrase-protected key is unlocked lazily: only when a stanza's key
//! tag is this key's own (so an encrypted `~/.ssh/id_ed25519` that is not a
//! recipient of the file is never asked about), and at most once per run;
//! the unlocked key is kept for the rest of the run. The public key, which
//! OpenSSH stores unencrypted, names the identity in messages.

use std::sync::Mutex;

use age::secrecy::SecretString;
use age_core::format::{FileKey, Stanza};
use base64::Engine;
use sha2::{Digest, Sha256};

use super::{Callbacks, KeyError, PromptError};

/// How many times a wrong passphrase is asked again.
const ATTEMPTS: usize = 3;

enum State {
    Ready(age::ssh::Identity),
    Locked(age::ssh::Identity),
    Failed(String),
}

/// An SSH identity.
pub struct SshIdentity {
    public: Option<String>,
    tag: Option<String>,
    name: String,
    state: Mutex<State>,
    callbacks: Callbacks,
}

/// Whether `text` looks like an SSH private key file.
pub fn looks_like_ssh_key(text: &[u8]) -> bool {
    let head = &text[..text.len().min(200)];
    let head = String::from_utf8_lossy(head);
    head.contains("-----BEGIN OPENSSH PRIVATE KEY-----")
        || head.contains("-----BEGIN RSA PRIVATE KEY-----")
}

/// The 4-byte key tag age puts in SSH stanzas, base64 without padding.
fn key_tag(public: &str) -> Option<String> {
    let blob = public.split_whitespace().nth(1)?;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .ok()?;
    let digest = Sha256::digest(&blob);
    Some(base64::engine::general_purpose::STANDARD_NO_PAD.encode(&digest[..4]))
}

impl SshIdentity {
    /// Parses an SSH private key file; `name` is the path, for the prompt.
    pub fn parse(
        bytes: &[u8],
        name: &str,
        source: &str,
        callbacks: &Callbacks,
    ) -> Result<Self, KeyError> {
        let unusable = |reason: String| KeyError::UnusableKeyFile {
            source_name: source.to_owned(),
            reason,
        };
        let identity = age::ssh::Identity::from_buffer(bytes, Some(name.to_owned()))
            .map_err(|_| unusable("not a supported SSH private key".to_owned()))?;
        let public = match age::ssh::Recipient::try_from(identity.clone()) {
            Ok(r) => Some(r.to_string()),
            Err(_) => None,
        };
        let state = match identity {
            age::ssh::Identity::Unencrypted(_) => State::Ready(identity),
            age::ssh::Identity::Encrypted(_) => State::Locked(identity),
            age::ssh::Identity::Unsupported(_) => return Err(unusable(
                "unsupported SSH key type: only ssh-ed25519 and ssh-rsa keys can be age identities"
                    .to_owned(),
            )),
        };
        Ok(Self {
            tag: public.as_deref().and_then(key_tag),
            public,
            name: name.to_owned(),
            state: Mutex::new(state),
            callbacks: callbacks.clone(),
        })
    }

    /// The public key (`ssh-ed25519 AAAA...`), or a description.
    pub fn public(&self) -> String {
        self.public
            .clone()
            .unwrap_or_else(|| format!("SSH key {}", self.name))
    }

    /// The recipient string, when known.
    pub fn recipient(&self) -> Option<&str> {
        self.public.as_deref()
    }

    /// Why the key could not be unlocked, if it could not.
    pub fn failure(&self) -> Option<String> {
        match &*self.state.lock().unwrap_or_else(|e| e.into_inner()) {
            State::Failed(reason) => Some(reason.clone()),
            _ => None,
        }
    }

    fn is_own(&self, stanza: &Stanza) -> bool {
        matches!(stanza.tag.as_str(), "ssh-ed25519" | "ssh-rsa")
            && match &self.tag {
                Some(tag) => stanza.args.first() == Some(tag),
                None => true,
            }
    }

    fn unlock(&self, locked: &age::ssh::Identity) -> State {
        let age::ssh::Identity::Encrypted(key) = locked else {
            return State::Failed("not an encrypted key".into());
        };
        let prompt = format!("Passphrase for SSH key {}: ", self.name);
        for _ in 0..ATTEMPTS {
            let passphrase: SecretString =
                match self.callbacks.passphrase(&prompt) {
                    Ok(p) => p,
                    Err(PromptError::NoTerminal) => return State::Failed(
                        "passphrase-protected, and there is no terminal to ask for the passphrase"
                            .into(),
                    ),
                    Err(PromptError::Failed(reason)) => return State::Failed(reason),
                };
            match key.decrypt(passphrase) {
                Ok(k) => return State::Ready(age::ssh::Identity::from(k)),
                Err(_) => self.callbacks_message("wrong passphrase"),
            }
        }
        State::Failed(format!("wrong passphrase ({ATTEMPTS} attempts)"))
    }

    fn callbacks_message(&self, text: &str) {
        age::Callbacks::display_message(&self.callbacks, text);
    }
}

impl age::Identity for SshIdentity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        if !self.is_own(stanza) {
            return None;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let State::Locked(locked) = &*state {
            let next = self.unlock(locked);
            *state = next;
        }
        match &*state {
            State::Ready(identity) => identity.unwrap_stanza(stanza),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_tags_match_age() {
        // The tag is SHA-256 of the SSH wire-format public key, first 4 bytes.
        let tag = key_tag(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN",
        )
        .unwrap();
        assert_eq!(tag.len(), 6);
        assert!(key_tag("ssh-ed25519").is_none());
    }
}
