//! Identities: what unwraps a data key, with its public form and where it
//! came from (for "no identity matches" messages).
//!
//! [`load_identities`] takes the bytes of one source (a file, a variable,
//! a command's output) and recognizes:
//! - identity text: `AGE-SECRET-KEY-1...` and `AGE-PLUGIN-...` lines,
//!   blank lines and `#` comments (as age-keygen and plugins write them);
//! - an SSH private key (`ssh-ed25519`, `ssh-rsa`), possibly
//!   passphrase-protected;
//! - a passphrase-encrypted identity file (`age -p`, armored or binary),
//!   unlocked on first use, only when no other identity opened the file.
//!
//! SECURITY: nothing here prints or returns key material; error messages
//! name the source and the line, never the line's text.

use std::io::Read;
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};

use age::armor::ArmoredReader;
use age_core::format::{FileKey, Stanza, FILE_KEY_BYTES};
use age_core::primitives::{aead_decrypt, bech32_decode, hkdf};
use base64::Engine;
use zeroize::{Zeroize, Zeroizing};

use super::plugin::PluginIdentity;
use super::ssh::{looks_like_ssh_key, SshIdentity};
use super::{Callbacks, KeyError, PromptError};

/// How many times a wrong passphrase is asked again.
const ATTEMPTS: usize = 3;

enum Kind {
    X25519(X25519),
    Ssh(SshIdentity),
    Plugin(PluginIdentity),
    Passphrase(PassphraseFile),
}

/// An identity that can unwrap data keys, and where it came from.
pub struct Identity {
    kind: Kind,
    /// Where it was loaded from (`--identity FILE`, `BOTSECRETS_AGE_KEY`, ...).
    pub source: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identity({} from {})", self.public(), self.source)
    }
}

impl Identity {
    /// Wraps an X25519 identity.
    pub fn from_x25519(identity: age::x25519::Identity, source: impl Into<String>) -> Self {
        Self {
            kind: Kind::X25519(X25519::new(identity, None)),
            source: source.into(),
        }
    }

    /// The public form, for messages: the recipient (`age1...`,
    /// `ssh-ed25519 AAAA...`) or a description when it is not known yet.
    pub fn public(&self) -> String {
        match &self.kind {
            Kind::X25519(i) => i.recipient().to_owned(),
            Kind::Ssh(s) => s.public(),
            Kind::Plugin(p) => p.public(),
            Kind::Passphrase(p) => p.public(),
        }
    }

    /// Whether this identity is (or holds) the key of `recipient`.
    pub fn owns(&self, recipient: &str) -> bool {
        let same = |r: &str| super::same_recipient(r, recipient);
        match &self.kind {
            Kind::X25519(i) => same(i.recipient()),
            Kind::Ssh(s) => s.recipient().is_some_and(same),
            Kind::Plugin(p) => p.recipient().is_some_and(same),
            Kind::Passphrase(p) => p.owns(recipient),
        }
    }

    /// Whether this identity is probably `recipient`'s key, without
    /// deriving anything: for the order in which stanzas are tried, never
    /// for a decision. An X25519 identity not derived yet answers by the
    /// `# public key:` comment above it (unverified, hence "probably").
    pub fn probably_owns(&self, recipient: &str) -> bool {
        match &self.kind {
            Kind::X25519(i) if i.recipient.get().is_none() => match &i.claimed {
                Some(claimed) => {
                    recipient.starts_with("age1") && bech32_32(recipient).as_ref() == Some(claimed)
                }
                None => self.owns(recipient),
            },
            _ => self.owns(recipient),
        }
    }

    /// Whether using this identity would ask the user (a passphrase file
    /// not unlocked yet). Such identities are tried last.
    pub fn would_prompt(&self) -> bool {
        matches!(&self.kind, Kind::Passphrase(p) if p.is_locked())
    }

    /// Why this identity could not be used, if it was tried and failed
    /// (wrong passphrase, no terminal, missing plugin).
    pub fn failure(&self) -> Option<String> {
        match &self.kind {
            Kind::X25519(_) => None,
            Kind::Ssh(s) => s.failure(),
            Kind::Plugin(p) => p.failure(),
            Kind::Passphrase(p) => p.failure(),
        }
    }
}

impl age::Identity for Identity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        match &self.kind {
            Kind::X25519(x) => x.unwrap_stanza(stanza),
            Kind::Ssh(s) => s.unwrap_stanza(stanza),
            Kind::Plugin(p) => p.unwrap_stanza(stanza),
            Kind::Passphrase(p) => p.unwrap_stanzas(std::slice::from_ref(stanza)),
        }
    }

    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, age::DecryptError>> {
        match &self.kind {
            Kind::Plugin(p) => p.unwrap_stanzas(stanzas),
            Kind::Passphrase(p) => p.unwrap_stanzas(stanzas),
            _ => stanzas.iter().find_map(|s| self.unwrap_stanza(s)),
        }
    }
}

/// Parses identity text: `AGE-SECRET-KEY-1...` and `AGE-PLUGIN-...` keys
/// separated by line breaks or spaces; blank lines and `#` comments are
/// skipped. Plugin identities get no way to ask the user anything; use
/// [`load_identities`] for that.
pub fn parse_identities(text: &str, source: &str) -> Result<Vec<Identity>, KeyError> {
    parse_text(text, source, &Callbacks::none())
}

fn parse_text(text: &str, source: &str, callbacks: &Callbacks) -> Result<Vec<Identity>, KeyError> {
    let mut out = Vec::new();
    // The recipient named by the comment just above a key, as age-keygen
    // (`# public key: age1...`) and plugins (`#    Recipient: age1...`)
    // write it.
    let mut public: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let comment = comment.trim();
            for label in ["public key:", "Recipient:", "recipient:"] {
                if let Some(r) = comment.strip_prefix(label) {
                    public = Some(r.trim().to_owned());
                }
            }
            continue;
        }
        let invalid = || KeyError::InvalidIdentity {
            source_name: source.to_owned(),
            line: i + 1,
        };
        for word in line.split_whitespace() {
            if word.starts_with("AGE-PLUGIN-") {
                let id =
                    PluginIdentity::parse(word, public.take(), callbacks).ok_or_else(invalid)?;
                out.push(Identity {
                    kind: Kind::Plugin(id),
                    source: source.to_owned(),
                });
            } else {
                let id = age::x25519::Identity::from_str(word).map_err(|_| invalid())?;
                out.push(Identity {
                    kind: Kind::X25519(X25519::new(id, public.take().as_deref())),
                    source: source.to_owned(),
                });
            }
        }
    }
    Ok(out)
}

/// The stanza tag and HKDF label of X25519 recipients
/// (<https://c2sp.org/age#x25519-recipient-stanza>).
const X25519_TAG: &str = "X25519";
const X25519_LABEL: &[u8] = b"age-encryption.org/v1/X25519";

/// An X25519 identity, with what its stanza unwrap needs prepared once.
///
/// age's own `unwrap_stanza` derives the identity's public key (a
/// fixed-base scalar multiplication, about 0.17M instructions) on every
/// call, for the HKDF salt. Here the public key comes from the
/// `# public key: age1...` comment age-keygen writes above the key, when
/// there is one, and is derived (once) only when there is none or when the
/// comment turns out to be wrong. SECURITY: the comment is never trusted:
/// a wrong public key gives a wrong wrapping key, which the AEAD rejects,
/// and then the derived one is tried, so a stale or forged comment costs
/// one extra HKDF and AEAD and changes no result.
struct X25519 {
    /// age's identity, for its public form in messages.
    identity: age::x25519::Identity,
    /// The same secret scalar, for the Diffie-Hellman of each unwrap.
    secret: x25519_dalek::StaticSecret,
    /// The public key the comment above the key names (a guess).
    claimed: Option<[u8; 32]>,
    /// The public key derived from the secret, once it was needed.
    derived: OnceLock<[u8; 32]>,
    /// Its `age1...` text, once asked for: [`Identity::owns`] is asked for
    /// every recipient of a file and of its scopes, and each derivation is
    /// a scalar multiplication.
    recipient: OnceLock<String>,
}

impl X25519 {
    fn new(identity: age::x25519::Identity, comment: Option<&str>) -> Self {
        // age keeps its scalar private; its canonical text (already
        // validated by age's parser) gives the same 32 bytes.
        let text = age::secrecy::ExposeSecret::expose_secret(&identity.to_string()).to_owned();
        let text = Zeroizing::new(text);
        let mut bytes =
            bech32_32(&text).expect("age's canonical identity text is Bech32 of 32 bytes");
        let secret = x25519_dalek::StaticSecret::from(bytes);
        bytes.zeroize();
        Self {
            identity,
            secret,
            claimed: comment
                .filter(|c| c.starts_with("age1"))
                .and_then(bech32_32),
            derived: OnceLock::new(),
            recipient: OnceLock::new(),
        }
    }

    fn recipient(&self) -> &str {
        self.recipient
            .get_or_init(|| self.identity.to_public().to_string())
    }

    fn derived(&self) -> &[u8; 32] {
        self.derived
            .get_or_init(|| x25519_dalek::PublicKey::from(&self.secret).to_bytes())
    }

    /// age's X25519 `unwrap_stanza`, with the same checks and results
    /// (<https://c2sp.org/age#x25519-recipient-stanza>), through the same
    /// primitives (x25519-dalek, and age-core's HKDF and AEAD).
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        if stanza.tag != X25519_TAG {
            return None;
        }
        // A canonical stanza: one argument, the unpadded base64 of the
        // 32-byte ephemeral share; a body of the wrapped 16-byte file key
        // and its 16-byte tag.
        let epk = match &stanza.args[..] {
            [arg] => {
                let mut buf = [0u8; 33];
                match base64::engine::general_purpose::STANDARD_NO_PAD.decode_slice(arg, &mut buf) {
                    Ok(32) => <[u8; 32]>::try_from(&buf[..32]).ok()?,
                    _ => return Some(Err(age::DecryptError::InvalidHeader)),
                }
            }
            _ => return Some(Err(age::DecryptError::InvalidHeader)),
        };
        if stanza.body.len() != FILE_KEY_BYTES + 16 {
            return Some(Err(age::DecryptError::InvalidHeader));
        }
        let shared = self
            .secret
            .diffie_hellman(&x25519_dalek::PublicKey::from(epk));
        // SECURITY: an all-zero shared secret (a low-order share) is
        // refused, as age refuses it.
        if !shared.was_contributory() {
            return Some(Err(age::DecryptError::InvalidHeader));
        }
        let open = |public: &[u8; 32]| {
            let mut salt = [0u8; 64];
            salt[..32].copy_from_slice(&epk);
            salt[32..].copy_from_slice(public);
            let key = Zeroizing::new(hkdf(&salt, X25519_LABEL, shared.as_bytes()));
            aead_decrypt(&key, FILE_KEY_BYTES, &stanza.body).ok()
        };
        // A failure to open is not an error: the stanza may be another
        // recipient's (X25519 stanzas do not say whose they are).
        let mut plain = match self.claimed.as_ref().and_then(open) {
            Some(p) => p,
            None if self.claimed.as_ref() == Some(self.derived()) => return None,
            None => open(self.derived())?,
        };
        Some(Ok(FileKey::init_with_mut(|key| {
            key.copy_from_slice(&plain);
            plain.zeroize();
        })))
    }
}

/// The 32 bytes of a Bech32 string (`AGE-SECRET-KEY-1...`, `age1...`),
/// whatever its prefix; `None` if it is not Bech32 or not 32 bytes.
fn bech32_32(text: &str) -> Option<[u8; 32]> {
    bech32_decode(
        text,
        |_| (),
        |_| Ok(()),
        |_, bytes| {
            let mut out = [0u8; 32];
            let mut n = 0;
            for b in bytes {
                *out.get_mut(n).ok_or(())? = b;
                n += 1;
            }
            if n == 32 {
                Ok(out)
            } else {
                out.zeroize();
                Err(())
            }
        },
    )
    .ok()
}

/// Whether `bytes` are an age-encrypted file (armored or binary).
fn looks_like_age_file(bytes: &[u8]) -> bool {
    let trimmed = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&bytes[..0], |start| &bytes[start..]);
    trimmed.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
        || trimmed.starts_with(b"age-encryption.org/")
}

/// Loads the identities of one source: identity text, an SSH private key,
/// or a passphrase-encrypted identity file (see the module docs). `name`
/// is the file path (for prompts); `source` says where it came from.
pub fn load_identities(
    bytes: &[u8],
    name: &str,
    source: &str,
    callbacks: &Callbacks,
) -> Result<Vec<Identity>, KeyError> {
    if looks_like_age_file(bytes) {
        let file = PassphraseFile::new(bytes, name, source, callbacks)?;
        return Ok(vec![Identity {
            kind: Kind::Passphrase(file),
            source: source.to_owned(),
        }]);
    }
    if looks_like_ssh_key(bytes) {
        let ssh = SshIdentity::parse(bytes, name, source, callbacks)?;
        return Ok(vec![Identity {
            kind: Kind::Ssh(ssh),
            source: source.to_owned(),
        }]);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| KeyError::UnusableKeyFile {
        source_name: source.to_owned(),
        reason: "not an identity file (not text, not an age-encrypted file)".into(),
    })?;
    parse_text(text, source, callbacks)
}

enum PassState {
    Locked(Zeroizing<Vec<u8>>),
    Unlocked(Vec<Identity>),
    Failed(String),
}

/// A passphrase-encrypted identity file (`age -p`), unlocked on first use.
struct PassphraseFile {
    name: String,
    source: String,
    state: Mutex<PassState>,
    callbacks: Callbacks,
}

impl PassphraseFile {
    fn new(
        bytes: &[u8],
        name: &str,
        source: &str,
        callbacks: &Callbacks,
    ) -> Result<Self, KeyError> {
        let unusable = |reason: &str| KeyError::UnusableKeyFile {
            source_name: source.to_owned(),
            reason: reason.to_owned(),
        };
        let decryptor = age::Decryptor::new(ArmoredReader::new(bytes))
            .map_err(|_| unusable("not a valid age-encrypted identity file"))?;
        if !decryptor.is_scrypt() {
            return Err(unusable(
                "an age-encrypted file, but not passphrase-encrypted (age -p); decrypt it first",
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            source: source.to_owned(),
            state: Mutex::new(PassState::Locked(Zeroizing::new(bytes.to_vec()))),
            callbacks: callbacks.clone(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PassState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_locked(&self) -> bool {
        matches!(&*self.lock(), PassState::Locked(_))
    }

    fn public(&self) -> String {
        match &*self.lock() {
            PassState::Unlocked(ids) if !ids.is_empty() => ids
                .iter()
                .map(Identity::public)
                .collect::<Vec<_>>()
                .join(", "),
            PassState::Unlocked(_) => "passphrase-protected identity file (empty)".into(),
            _ => format!("passphrase-protected identity file {}", self.name),
        }
    }

    fn owns(&self, recipient: &str) -> bool {
        match &*self.lock() {
            PassState::Unlocked(ids) => ids.iter().any(|i| i.owns(recipient)),
            _ => false,
        }
    }

    fn failure(&self) -> Option<String> {
        match &*self.lock() {
            PassState::Failed(reason) => Some(reason.clone()),
            _ => None,
        }
    }

    fn unlock(&self, bytes: &[u8]) -> PassState {
        let prompt = format!("Passphrase for identity file {}: ", self.name);
        for _ in 0..ATTEMPTS {
            let passphrase =
                match self.callbacks.passphrase(&prompt) {
                    Ok(p) => p,
                    Err(PromptError::NoTerminal) => return PassState::Failed(
                        "passphrase-protected, and there is no terminal to ask for the passphrase"
                            .into(),
                    ),
                    Err(PromptError::Failed(reason)) => return PassState::Failed(reason),
                };
            let decryptor = match age::Decryptor::new(ArmoredReader::new(bytes)) {
                Ok(d) => d,
                Err(e) => return PassState::Failed(e.to_string()),
            };
            let mut scrypt = age::scrypt::Identity::new(passphrase);
            // `age -p` uses 2^18; allow a little more, never unbounded.
            scrypt.set_max_work_factor(22);
            let mut reader = match decryptor.decrypt(std::iter::once(&scrypt as &dyn age::Identity))
            {
                Ok(r) => r,
                Err(age::DecryptError::ExcessiveWork { .. }) => {
                    return PassState::Failed(
                        "the identity file's passphrase work factor is too high".into(),
                    )
                }
                Err(_) => {
                    age::Callbacks::display_message(&self.callbacks, "wrong passphrase");
                    continue;
                }
            };
            let mut plain = Zeroizing::new(Vec::new());
            if let Err(e) = reader.read_to_end(&mut plain) {
                return PassState::Failed(e.to_string());
            }
            return match load_inner(&plain, &self.name, &self.source, &self.callbacks) {
                Ok(ids) => PassState::Unlocked(ids),
                Err(e) => PassState::Failed(e.to_string()),
            };
        }
        PassState::Failed(format!("wrong passphrase ({ATTEMPTS} attempts)"))
    }

    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, age::DecryptError>> {
        let mut state = self.lock();
        if let PassState::Locked(bytes) = &*state {
            let next = self.unlock(bytes);
            *state = next;
        }
        match &*state {
            PassState::Unlocked(ids) => ids
                .iter()
                .find_map(|i| age::Identity::unwrap_stanzas(i, stanzas)),
            _ => None,
        }
    }
}

/// The identities inside an unlocked identity file (text or an SSH key;
/// never another encrypted layer).
fn load_inner(
    plain: &[u8],
    name: &str,
    source: &str,
    callbacks: &Callbacks,
) -> Result<Vec<Identity>, KeyError> {
    if looks_like_ssh_key(plain) {
        let ssh = SshIdentity::parse(plain, name, source, callbacks)?;
        return Ok(vec![Identity {
            kind: Kind::Ssh(ssh),
            source: source.to_owned(),
        }]);
    }
    let text = std::str::from_utf8(plain).map_err(|_| KeyError::UnusableKeyFile {
        source_name: source.to_owned(),
        reason: "the decrypted identity file is not text".into(),
    })?;
    parse_text(text, source, callbacks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{unwrap_bytes, Prompter, Recipient};
    use age::secrecy::{ExposeSecret, SecretString};
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    struct Fixed(&'static str, Arc<AtomicUsize>);
    impl Prompter for Fixed {
        fn passphrase(&self, _prompt: &str) -> Result<SecretString, PromptError> {
            self.1.fetch_add(1, Ordering::SeqCst);
            Ok(SecretString::from(self.0.to_owned()))
        }
        fn message(&self, _text: &str) {}
    }

    fn passphrase_file(secret: &str, passphrase: &str) -> Vec<u8> {
        let recipient = age::scrypt::Recipient::new(SecretString::from(passphrase.to_owned()));
        let enc = age::Encryptor::with_recipients(std::iter::once(&recipient as _)).unwrap();
        let mut out = Vec::new();
        let armor =
            age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
                .unwrap();
        let mut w = enc.wrap_output(armor).unwrap();
        w.write_all(secret.as_bytes()).unwrap();
        w.finish().unwrap().finish().unwrap();
        out
    }

    #[test]
    fn passphrase_files_unlock_once_and_only_when_needed() {
        let (secret, recipient) = crate::keys::generate_x25519();
        let file = passphrase_file(&format!("{}\n", secret.expose_secret()), "pw");
        let asked = Arc::new(AtomicUsize::new(0));
        let cb = Callbacks::new(Fixed("pw", asked.clone()));
        let ids = load_identities(&file, "k.age", "--identity k.age", &cb).unwrap();
        assert!(ids[0].would_prompt());
        assert_eq!(asked.load(Ordering::SeqCst), 0);
        let key = crate::crypto::DataKey::generate();
        let r = Recipient::parse(&recipient).unwrap();
        for _ in 0..2 {
            let wrapped = r.wrap(&key).unwrap();
            let back = unwrap_bytes(&wrapped, &[&ids[0]]).unwrap();
            assert_eq!(back.as_slice(), key.expose());
        }
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        assert_eq!(ids[0].public(), recipient);
        assert!(ids[0].owns(&recipient));
    }

    #[test]
    fn passphrase_files_fail_cleanly_without_a_terminal_or_with_a_wrong_passphrase() {
        let (secret, recipient) = crate::keys::generate_x25519();
        let file = passphrase_file(secret.expose_secret(), "pw");
        let wrapped = Recipient::parse(&recipient)
            .unwrap()
            .wrap(&crate::crypto::DataKey::generate())
            .unwrap();
        let ids = load_identities(&file, "k.age", "f", &Callbacks::none()).unwrap();
        assert!(unwrap_bytes(&wrapped, &[&ids[0]]).is_err());
        assert!(ids[0].failure().unwrap().contains("no terminal"));
        let asked = Arc::new(AtomicUsize::new(0));
        let cb = Callbacks::new(Fixed("nope", asked.clone()));
        let ids = load_identities(&file, "k.age", "f", &cb).unwrap();
        assert!(unwrap_bytes(&wrapped, &[&ids[0]]).is_err());
        assert_eq!(ids[0].failure().unwrap(), "wrong passphrase (3 attempts)");
        assert_eq!(asked.load(Ordering::SeqCst), 3);
    }

    /// What an unwrap gave, comparable across implementations: the file
    /// key's bytes, "not mine" or "invalid".
    fn outcome(r: Option<Result<FileKey, age::DecryptError>>) -> String {
        match r {
            None => "none".into(),
            Some(Ok(k)) => format!("key {:?}", k.expose_secret()),
            Some(Err(e)) => format!("error {e:?}"),
        }
    }

    /// The X25519 stanza of one age encryption to `recipient`.
    fn x25519_stanza(recipient: &str) -> Stanza {
        let r = age::x25519::Recipient::from_str(recipient).unwrap();
        let key = FileKey::new(Box::new([7; 16]));
        let (mut stanzas, _) = age::Recipient::wrap_file_key(&r, &key).unwrap();
        stanzas.remove(0)
    }

    fn copy(s: &Stanza) -> Stanza {
        Stanza {
            tag: s.tag.clone(),
            args: s.args.clone(),
            body: s.body.clone(),
        }
    }

    /// The X25519 fast path gives age's own answer on every stanza: its
    /// own, another key's, and malformed ones; whether the `# public key:`
    /// comment above the key is right, stale (another key's), not a key,
    /// or missing.
    #[test]
    fn x25519_unwrap_agrees_with_age_whatever_the_comment_says() {
        let (secret, recipient) = crate::keys::generate_x25519();
        let (_, other) = crate::keys::generate_x25519();
        let age_id = age::x25519::Identity::from_str(secret.expose_secret()).unwrap();
        let mine = x25519_stanza(&recipient);
        let theirs = x25519_stanza(&other);
        let mut low_order = copy(&mine);
        low_order.args = vec![base64::engine::general_purpose::STANDARD_NO_PAD.encode([0u8; 32])];
        let mut padded = copy(&mine);
        padded.args[0].push('=');
        let mut short_body = copy(&mine);
        short_body.body.pop();
        let mut two_args = copy(&mine);
        two_args.args.push("x".into());
        let mut other_tag = copy(&mine);
        other_tag.tag = "scrypt".into();
        let stanzas = [
            &mine,
            &theirs,
            &low_order,
            &padded,
            &short_body,
            &two_args,
            &other_tag,
        ];
        let comments = [
            format!("# public key: {recipient}\n"),
            format!("# public key: {other}\n"),
            "# public key: age1notakey\n".to_owned(),
            String::new(),
        ];
        for comment in &comments {
            let text = format!("{comment}{}\n", secret.expose_secret());
            let ids = parse_identities(&text, "k").unwrap();
            assert_eq!(ids[0].public(), recipient);
            for stanza in stanzas {
                let ours = outcome(age::Identity::unwrap_stanza(&ids[0], stanza));
                let age_says = outcome(age::Identity::unwrap_stanza(&age_id, stanza));
                assert_eq!(ours, age_says, "{comment:?} {:?}", stanza.tag);
            }
            assert!(outcome(age::Identity::unwrap_stanza(&ids[0], &mine)).starts_with("key "));
        }
    }

    #[test]
    fn plugin_lines_and_their_recipient_comments() {
        let text = format!(
            "#    Recipient: {}\n{}\n",
            crate::keys::plugin::tests::FAKE_RECIPIENT,
            crate::keys::plugin::tests::FAKE_IDENTITY
        );
        let ids = parse_identities(&text, "f").unwrap();
        assert_eq!(ids[0].public(), crate::keys::plugin::tests::FAKE_RECIPIENT);
    }
}
