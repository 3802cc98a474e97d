//! age plugin identities (`AGE-PLUGIN-<NAME>-1...`), unwrapped by running
//! `age-plugin-<name>` from `PATH` through the age crate's plugin protocol.
//!
//! A missing plugin binary does not fail loading: the identity records why
//! it cannot be used, and the "no identity matches" error shows it. A plugin
//! is never started for stanzas it cannot own (X25519, SSH, scrypt), so a
//! file with many native recipients does not spawn it once per stanza.

use std::str::FromStr;

use age_core::format::{FileKey, Stanza};

use super::Callbacks;

/// The message for a plugin whose binary is not on `PATH`.
pub fn missing_message(plugin: &str) -> String {
    format!("age-plugin-{plugin} not found on PATH; install the plugin, or put it on PATH")
}

/// A plugin identity with its plugin connection (or why there is none).
pub struct PluginIdentity {
    name: String,
    public: Option<String>,
    inner: Result<age::plugin::IdentityPluginV1<Callbacks>, String>,
}

impl PluginIdentity {
    /// Parses `AGE-PLUGIN-...`; `public` is the recipient when the identity
    /// file says it (a `# public key:` / `# Recipient:` comment).
    pub fn parse(text: &str, public: Option<String>, callbacks: &Callbacks) -> Option<Self> {
        let id = age::plugin::Identity::from_str(text).ok()?;
        let name = id.plugin().to_owned();
        let inner =
            age::plugin::IdentityPluginV1::new(&name, std::slice::from_ref(&id), callbacks.clone())
                .map_err(|_| missing_message(&name));
        Some(Self {
            name,
            public,
            inner,
        })
    }

    /// The public form for messages.
    pub fn public(&self) -> String {
        match &self.public {
            Some(r) => r.clone(),
            None => format!("age-plugin-{} identity", self.name),
        }
    }

    /// The recipient, when known.
    pub fn recipient(&self) -> Option<&str> {
        self.public.as_deref()
    }

    /// Why this identity cannot be used, if it cannot.
    pub fn failure(&self) -> Option<String> {
        self.inner.as_ref().err().cloned()
    }
}

/// Stanza types native to age, which no plugin unwraps.
fn is_native(stanza: &Stanza) -> bool {
    matches!(
        stanza.tag.as_str(),
        "X25519" | "ssh-ed25519" | "ssh-rsa" | "scrypt"
    )
}

impl age::Identity for PluginIdentity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        self.unwrap_stanzas(std::slice::from_ref(stanza))
    }

    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, age::DecryptError>> {
        let plugin = self.inner.as_ref().ok()?;
        let own: Vec<Stanza> = stanzas
            .iter()
            .filter(|s| !is_native(s))
            .map(|s| Stanza {
                tag: s.tag.clone(),
                args: s.args.clone(),
                body: s.body.clone(),
            })
            .collect();
        if own.is_empty() {
            return None;
        }
        plugin.unwrap_stanzas(&own)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    /// A syntactically valid recipient for the fake plugin `xyz`.
    pub(crate) const FAKE_RECIPIENT: &str =
        "age1xyz1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5z5tpwxqergd3c8g7rusqdjqtvx";
    /// A syntactically valid identity for the fake plugin `xyz`.
    pub(crate) const FAKE_IDENTITY: &str =
        "AGE-PLUGIN-XYZ-1V4NXW6RFDF4KCMTWDAC8ZUNNW36HVAMC09A8KLRA0ELCPQVZSWZQYPYJDX";

    #[test]
    fn missing_plugin_is_reported_not_fatal() {
        let id = super::PluginIdentity::parse(FAKE_IDENTITY, None, &super::Callbacks::none())
            .expect("parses");
        assert_eq!(id.public(), "age-plugin-xyz identity");
        // The test environment has no age-plugin-xyz on PATH.
        if std::env::var_os("PATH")
            .is_some_and(|p| !std::env::split_paths(&p).any(|d| d.join("age-plugin-xyz").exists()))
        {
            assert!(id.failure().unwrap().contains("age-plugin-xyz not found"));
        }
    }
}
