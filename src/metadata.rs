//! The `sops` metadata block: read tolerantly, written exactly.
//!
//! Reading accepts any field order, empty or null key lists, numbers or
//! booleans written as strings, `key_groups` or top-level `age`, and a
//! missing selection rule (= `unencrypted_suffix: _unencrypted`). Writing
//! produces the field order sops 3.11 emits: `age` (or `key_groups` and
//! `shamir_threshold`), `lastmodified`, `mac`, foreign key lists (kept as
//! read), the selection rule, `mac_only_encrypted`, `version` — plus
//! botsecrets' own `botsecrets_seal` right after `mac` (sops ignores it
//! when reading and drops it when it rewrites a file).

use serde_json::{Map, Value};

use crate::goregex::GoRegex;
use crate::path::KeyPath;

/// The sops format version botsecrets writes. `type:time` values need
/// sops >= 3.10; 3.11 is what the interop tests run.
pub const FORMAT_VERSION: &str = "3.11.0";

/// The suffix sops applies when a file names no selection rule.
pub const DEFAULT_UNENCRYPTED_SUFFIX: &str = "_unencrypted";

/// One age recipient and the data key wrapped to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgeStanza {
    /// The recipient string (`age1...`, `ssh-ed25519 ...`).
    pub recipient: String,
    /// The armored age file holding the data key (or a Shamir share).
    pub enc: String,
}

/// A key group: every member wraps the same key (or share).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KeyGroup {
    /// age recipients.
    pub age: Vec<AgeStanza>,
    /// Key types botsecrets does not use (pgp, kms, ...), kept as read so a
    /// rewrite does not drop other people's access.
    pub foreign: Map<String, Value>,
}

/// The metadata field that holds the access scopes (`sops.botsecrets_scopes`,
/// see docs/format.md "Scopes"). sops ignores it when it reads a file and
/// drops it when it rewrites one.
pub const SCOPES_FIELD: &str = "botsecrets_scopes";

/// One access scope as stored: some of the file's values stored once more,
/// as one AEAD blob under the scope's own data key, wrapped to its readers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeEntry {
    /// The scope's name (from the rule).
    pub name: String,
    /// Its key paths, in the dotted form `get` takes, as the rule gives them.
    pub paths: Vec<String>,
    /// The scope's data key wrapped to each reader (age stanzas, as sops
    /// stores a file's recipients).
    pub recipients: Vec<AgeStanza>,
    /// The scope's data key encrypted under the file's data key
    /// (`ENC[...]`), so that owners can keep the scope in step.
    pub key: String,
    /// The scope's values: `ENC[...]` under the scope's data key, the
    /// additional data binding the scope's name and paths.
    pub blob: String,
}

/// Which values are encrypted: sops' six mutually exclusive options.
#[derive(Debug, Clone)]
pub enum Selection {
    /// Not encrypted if any key on the path ends with the suffix.
    UnencryptedSuffix(String),
    /// Encrypted only if some key on the path ends with the suffix.
    EncryptedSuffix(String),
    /// Not encrypted if any key on the path matches.
    UnencryptedRegex(GoRegex),
    /// Encrypted only if some key on the path matches.
    EncryptedRegex(GoRegex),
    /// Comment-driven (sops' `unencrypted_comment_regex`).
    UnencryptedCommentRegex(GoRegex),
    /// Comment-driven (sops' `encrypted_comment_regex`).
    EncryptedCommentRegex(GoRegex),
}

impl Default for Selection {
    fn default() -> Self {
        Selection::UnencryptedSuffix(DEFAULT_UNENCRYPTED_SUFFIX.to_owned())
    }
}

impl PartialEq for Selection {
    fn eq(&self, other: &Self) -> bool {
        self.field() == other.field()
    }
}

impl Selection {
    /// The metadata field name and its value.
    pub fn field(&self) -> (&'static str, &str) {
        match self {
            Selection::UnencryptedSuffix(s) => ("unencrypted_suffix", s),
            Selection::EncryptedSuffix(s) => ("encrypted_suffix", s),
            Selection::UnencryptedRegex(r) => ("unencrypted_regex", r.as_str()),
            Selection::EncryptedRegex(r) => ("encrypted_regex", r.as_str()),
            Selection::UnencryptedCommentRegex(r) => ("unencrypted_comment_regex", r.as_str()),
            Selection::EncryptedCommentRegex(r) => ("encrypted_comment_regex", r.as_str()),
        }
    }

    /// Builds a selection from a field name and value (regexes compiled).
    pub fn from_field(name: &str, value: &str) -> Result<Self, MetadataError> {
        let regex = || {
            GoRegex::new(value).map_err(|e| MetadataError::Invalid {
                field: name.to_owned(),
                reason: format!("not a valid regular expression: {e}"),
            })
        };
        Ok(match name {
            "unencrypted_suffix" => Selection::UnencryptedSuffix(value.to_owned()),
            "encrypted_suffix" => Selection::EncryptedSuffix(value.to_owned()),
            "unencrypted_regex" => Selection::UnencryptedRegex(regex()?),
            "encrypted_regex" => Selection::EncryptedRegex(regex()?),
            "unencrypted_comment_regex" => Selection::UnencryptedCommentRegex(regex()?),
            "encrypted_comment_regex" => Selection::EncryptedCommentRegex(regex()?),
            _ => {
                return Err(MetadataError::Invalid {
                    field: name.to_owned(),
                    reason: "not a selection rule".into(),
                })
            }
        })
    }

    /// All selection field names.
    pub const FIELDS: [&'static str; 6] = [
        "unencrypted_suffix",
        "encrypted_suffix",
        "unencrypted_regex",
        "encrypted_regex",
        "unencrypted_comment_regex",
        "encrypted_comment_regex",
    ];

    /// Whether the rule decides by comments (the caller must then decide
    /// per leaf; see `document.rs`).
    pub fn is_comment_based(&self) -> bool {
        matches!(
            self,
            Selection::UnencryptedCommentRegex(_) | Selection::EncryptedCommentRegex(_)
        )
    }

    /// Whether a value (or a comment, with the path of its container) at
    /// `path` is encrypted under this rule.
    ///
    /// COMPAT(sops): only map keys count (`shouldBeEncrypted` in sops.go);
    /// a comment follows the rule for the path of the collection that holds
    /// it (verified with sops 3.11). The comment-regex rules are decided by
    /// the caller, which knows the comments; here they encrypt everything.
    pub fn should_encrypt(&self, path: &KeyPath) -> bool {
        match self {
            // On the keys' bytes: no UTF-8 check per key (see `Key::ends_with`).
            Selection::UnencryptedSuffix(s) => !path.key_segments().any(|k| k.ends_with(s)),
            Selection::EncryptedSuffix(s) => path.key_segments().any(|k| k.ends_with(s)),
            Selection::UnencryptedRegex(r) => !path.keys().any(|k| r.is_match(k)),
            Selection::EncryptedRegex(r) => path.keys().any(|k| r.is_match(k)),
            Selection::UnencryptedCommentRegex(_) | Selection::EncryptedCommentRegex(_) => true,
        }
    }
}

/// The metadata of an encrypted file.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    /// Key groups; a file with a top-level `age` list has exactly one.
    pub key_groups: Vec<KeyGroup>,
    /// Shares needed to rebuild the data key (0 = not split).
    pub shamir_threshold: u32,
    /// RFC 3339 UTC time of the last write; the MAC's AAD.
    pub lastmodified: String,
    /// The encrypted MAC.
    pub mac: String,
    /// The encrypted seal (`botsecrets_seal`, see [`crate::seal`]); `None`
    /// when the file has none (sops wrote it, or it was stripped).
    pub seal: Option<String>,
    /// Which values are encrypted.
    pub selection: Selection,
    /// Whether the MAC covers only encrypted values.
    pub mac_only_encrypted: bool,
    /// The sops version recorded in the file.
    pub version: String,
    /// Whether the file used `key_groups` (kept on rewrite).
    pub uses_key_groups: bool,
    /// The access scopes (`botsecrets_scopes`); empty when the file has
    /// none (or sops rewrote it and dropped them).
    pub scopes: Vec<ScopeEntry>,
}

/// The metadata block is missing, malformed or from an unknown version.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// A required field is missing.
    #[error("metadata field sops.{0} is missing")]
    Missing(&'static str),
    /// A field has the wrong shape.
    #[error("metadata field sops.{field} is invalid: {reason}")]
    Invalid {
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// More than one selection rule is set.
    #[error("metadata sets more than one of {0}; sops allows at most one")]
    ConflictingSelection(String),
    /// The version is not a sops 3.x version.
    #[error("unsupported sops format version {0:?} (botsecrets reads 3.x)")]
    UnknownVersion(String),
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn read_age_list(v: Option<&Value>, field: &str) -> Result<Vec<AgeStanza>, MetadataError> {
    let items = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(MetadataError::Invalid {
                field: field.to_owned(),
                reason: "expected a list".into(),
            })
        }
    };
    items
        .iter()
        .map(|item| {
            let get = |k: &str| item.get(k).and_then(as_text);
            match (get("recipient"), get("enc")) {
                (Some(recipient), Some(enc)) => Ok(AgeStanza { recipient, enc }),
                _ => Err(MetadataError::Invalid {
                    field: field.to_owned(),
                    reason: "each entry needs recipient and enc".into(),
                }),
            }
        })
        .collect()
}

fn foreign_keys(obj: &Map<String, Value>) -> Map<String, Value> {
    const FOREIGN: [&str; 7] = [
        "pgp",
        "kms",
        "gcp_kms",
        "azure_kv",
        "hc_vault",
        "hckms",
        "huaweicloud_kms",
    ];
    obj.iter()
        .filter(|(k, v)| FOREIGN.contains(&k.as_str()) && !is_empty_list(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn is_empty_list(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn stanza_tree(s: &AgeStanza) -> Value {
    let mut m = Map::new();
    m.insert("recipient".into(), Value::String(s.recipient.clone()));
    m.insert("enc".into(), Value::String(s.enc.clone()));
    Value::Object(m)
}

/// The scopes as the metadata tree holds them.
fn scopes_tree(scopes: &[ScopeEntry]) -> Value {
    Value::Array(
        scopes
            .iter()
            .map(|s| {
                let mut m = Map::new();
                m.insert("name".into(), Value::String(s.name.clone()));
                m.insert(
                    "paths".into(),
                    Value::Array(s.paths.iter().cloned().map(Value::String).collect()),
                );
                m.insert(
                    "recipients".into(),
                    Value::Array(s.recipients.iter().map(stanza_tree).collect()),
                );
                m.insert("key".into(), Value::String(s.key.clone()));
                m.insert("blob".into(), Value::String(s.blob.clone()));
                Value::Object(m)
            })
            .collect(),
    )
}

/// Reads `botsecrets_scopes`: a list of `{name, paths, recipients, key,
/// blob}`. Flat formats (dotenv, INI) give every scalar back as a string.
fn read_scopes(v: Option<&Value>) -> Result<Vec<ScopeEntry>, MetadataError> {
    let invalid = |reason: &str| MetadataError::Invalid {
        field: SCOPES_FIELD.to_owned(),
        reason: reason.to_owned(),
    };
    let items = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid("expected a list of scopes")),
    };
    let mut out: Vec<ScopeEntry> = Vec::with_capacity(items.len());
    for item in items {
        let get = |k: &str| item.get(k).and_then(as_text).filter(|s| !s.is_empty());
        let (Some(name), Some(key), Some(blob)) = (get("name"), get("key"), get("blob")) else {
            return Err(invalid(
                "each scope needs name, paths, recipients, key and blob",
            ));
        };
        let paths = match item.get("paths") {
            Some(Value::Array(p)) if !p.is_empty() => p
                .iter()
                .map(|p| as_text(p).ok_or_else(|| invalid("a scope's paths are key paths")))
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(invalid("each scope needs a list of paths")),
        };
        let field = format!("{SCOPES_FIELD}.recipients");
        let recipients = read_age_list(item.get("recipients"), &field)?;
        if out.iter().any(|s| s.name == name) {
            return Err(invalid("two scopes have the same name"));
        }
        out.push(ScopeEntry {
            name,
            paths,
            recipients,
            key,
            blob,
        });
    }
    Ok(out)
}

impl Metadata {
    /// Reads the metadata tree a format produced.
    pub fn from_tree(tree: &Value) -> Result<Self, MetadataError> {
        let obj = tree.as_object().ok_or(MetadataError::Invalid {
            field: "sops".into(),
            reason: "expected a mapping".into(),
        })?;
        let text = |k: &'static str| obj.get(k).and_then(as_text);

        let version = text("version").ok_or(MetadataError::Missing("version"))?;
        if !version.starts_with("3.") {
            return Err(MetadataError::UnknownVersion(version));
        }
        let lastmodified = text("lastmodified").ok_or(MetadataError::Missing("lastmodified"))?;
        let mac = text("mac").unwrap_or_default();
        let seal = text(crate::seal::SEAL_FIELD).filter(|s| !s.is_empty());

        let mut selection = None;
        let mut seen = Vec::new();
        for field in Selection::FIELDS {
            if let Some(value) = text(field).filter(|v| !v.is_empty()) {
                seen.push(field);
                selection = Some(Selection::from_field(field, &value)?);
            }
        }
        if seen.len() > 1 {
            return Err(MetadataError::ConflictingSelection(seen.join(", ")));
        }
        let mac_only_encrypted = match obj.get("mac_only_encrypted") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(v) => match as_text(v).as_deref() {
                Some("true") | Some("True") => true,
                Some("false") | Some("False") | Some("") => false,
                _ => {
                    return Err(MetadataError::Invalid {
                        field: "mac_only_encrypted".into(),
                        reason: "expected true or false".into(),
                    })
                }
            },
        };
        let shamir_threshold =
            match obj.get("shamir_threshold") {
                None | Some(Value::Null) => 0,
                Some(v) => as_text(v).and_then(|t| t.parse::<u32>().ok()).ok_or(
                    MetadataError::Invalid {
                        field: "shamir_threshold".into(),
                        reason: "expected a whole number".into(),
                    },
                )?,
            };

        let (key_groups, uses_key_groups) = match obj.get("key_groups") {
            Some(Value::Array(groups)) if !groups.is_empty() => {
                let groups = groups
                    .iter()
                    .map(|g| {
                        let g = g.as_object().ok_or(MetadataError::Invalid {
                            field: "key_groups".into(),
                            reason: "expected a list of mappings".into(),
                        })?;
                        Ok(KeyGroup {
                            age: read_age_list(g.get("age"), "key_groups.age")?,
                            foreign: foreign_keys(g),
                        })
                    })
                    .collect::<Result<Vec<_>, MetadataError>>()?;
                (groups, true)
            }
            _ => (
                vec![KeyGroup {
                    age: read_age_list(obj.get("age"), "age")?,
                    foreign: foreign_keys(obj),
                }],
                false,
            ),
        };

        let scopes = read_scopes(obj.get(SCOPES_FIELD))?;
        Ok(Self {
            scopes,
            key_groups,
            shamir_threshold,
            lastmodified,
            mac,
            seal,
            selection: selection.unwrap_or_default(),
            mac_only_encrypted,
            version,
            uses_key_groups,
        })
    }

    /// The metadata as an ordered tree, in the field order sops 3.11 writes.
    pub fn to_tree(&self) -> Value {
        let mut obj = Map::new();
        let age_list = |g: &KeyGroup| {
            Value::Array(
                g.age
                    .iter()
                    .map(|s| {
                        let mut m = Map::new();
                        m.insert("recipient".into(), Value::String(s.recipient.clone()));
                        m.insert("enc".into(), Value::String(s.enc.clone()));
                        Value::Object(m)
                    })
                    .collect(),
            )
        };
        let grouped = self.uses_key_groups || self.key_groups.len() > 1;
        if grouped {
            let groups = self
                .key_groups
                .iter()
                .map(|g| {
                    let mut m = Map::new();
                    for (k, v) in &g.foreign {
                        m.insert(k.clone(), v.clone());
                    }
                    m.insert("age".into(), age_list(g));
                    Value::Object(m)
                })
                .collect();
            obj.insert("key_groups".into(), Value::Array(groups));
            if self.shamir_threshold > 0 {
                obj.insert(
                    "shamir_threshold".into(),
                    Value::from(self.shamir_threshold),
                );
            }
        } else if let Some(g) = self.key_groups.first() {
            for (k, v) in &g.foreign {
                obj.insert(k.clone(), v.clone());
            }
            if !g.age.is_empty() {
                obj.insert("age".into(), age_list(g));
            }
        }
        obj.insert(
            "lastmodified".into(),
            Value::String(self.lastmodified.clone()),
        );
        obj.insert("mac".into(), Value::String(self.mac.clone()));
        if let Some(seal) = &self.seal {
            obj.insert(crate::seal::SEAL_FIELD.into(), Value::String(seal.clone()));
        }
        if !self.scopes.is_empty() {
            obj.insert(SCOPES_FIELD.into(), scopes_tree(&self.scopes));
        }
        let (field, value) = self.selection.field();
        obj.insert(field.into(), Value::String(value.to_owned()));
        if self.mac_only_encrypted {
            obj.insert("mac_only_encrypted".into(), Value::Bool(true));
        }
        obj.insert("version".into(), Value::String(self.version.clone()));
        Value::Object(obj)
    }

    /// Every age recipient of the file, across groups.
    pub fn recipients(&self) -> impl Iterator<Item = &str> {
        self.key_groups
            .iter()
            .flat_map(|g| g.age.iter().map(|s| s.recipient.as_str()))
    }
}

/// The version to record when rewriting a file that had `version`: ours,
/// unless the file already names a newer 3.x (sops bumps, never lowers).
pub fn newer_version(version: &str) -> String {
    let parse = |v: &str| -> Vec<u64> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    if version.starts_with("3.") && parse(version) > parse(FORMAT_VERSION) {
        version.to_owned()
    } else {
        FORMAT_VERSION.to_owned()
    }
}

/// The Shamir threshold that applies to `groups` key groups recorded with
/// `threshold`: 0 for one group (the key is not split), else the threshold,
/// or all groups when it is 0.
pub fn effective_threshold(groups: usize, threshold: u32) -> u32 {
    match (groups, threshold) {
        (0 | 1, _) => 0,
        (n, 0) => u32::try_from(n).unwrap_or(u32::MAX),
        (_, t) => t,
    }
}

/// The current time as sops writes `lastmodified`: RFC 3339, UTC, seconds.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(&time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// The MAC's AAD: `lastmodified` re-formatted as RFC 3339 after parsing, as
/// sops does (for files sops or botsecrets wrote, the stored string).
pub fn mac_aad(lastmodified: &str) -> String {
    match time::OffsetDateTime::parse(lastmodified, &time::format_description::well_known::Rfc3339)
    {
        Ok(t) => {
            // Go's RFC3339 layout: seconds, no fraction, `Z` for UTC, else
            // the offset as it was parsed.
            let date_time = t
                .format(&time::macros::format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second]"
                ))
                .unwrap_or_else(|_| lastmodified.to_owned());
            let offset = t.offset();
            if offset.is_utc() {
                format!("{date_time}Z")
            } else {
                let (h, m, _) = offset.as_hms();
                let sign = if offset.is_negative() { '-' } else { '+' };
                format!("{date_time}{sign}{:02}:{:02}", h.abs(), m.abs())
            }
        }
        Err(_) => lastmodified.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "age": [{"recipient": "age1x", "enc": "-----BEGIN AGE ENCRYPTED FILE-----\nAA\n-----END AGE ENCRYPTED FILE-----\n"}],
            "lastmodified": "2026-11-29T16:35:46Z",
            "mac": "ENC[...]",
            "unencrypted_suffix": "_unencrypted",
            "version": "3.11.0"
        })
    }

    #[test]
    fn round_trips_in_sops_order() {
        let m = Metadata::from_tree(&sample()).unwrap();
        assert_eq!(m.to_tree(), sample());
        let keys: Vec<_> = m.to_tree().as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "age",
                "lastmodified",
                "mac",
                "unencrypted_suffix",
                "version"
            ]
        );
    }

    #[test]
    fn the_seal_is_read_and_written_right_after_the_mac() {
        let mut v = sample();
        v["botsecrets_seal"] = json!("ENC[seal]");
        let m = Metadata::from_tree(&v).unwrap();
        assert_eq!(m.seal.as_deref(), Some("ENC[seal]"));
        let keys: Vec<_> = m.to_tree().as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "age",
                "lastmodified",
                "mac",
                "botsecrets_seal",
                "unencrypted_suffix",
                "version"
            ]
        );
        // An empty field is no seal.
        v["botsecrets_seal"] = json!("");
        assert_eq!(Metadata::from_tree(&v).unwrap().seal, None);
    }

    #[test]
    fn reads_tolerantly() {
        let old = json!({
            "kms": [], "gcp_kms": null, "age": [{"enc": "E", "recipient": "age1x"}],
            "version": "3.7.3", "mac": "M", "lastmodified": "2021-01-01T00:00:00Z",
            "mac_only_encrypted": "true", "shamir_threshold": "0"
        });
        let m = Metadata::from_tree(&old).unwrap();
        assert_eq!(m.selection, Selection::default());
        assert!(m.mac_only_encrypted);
        assert_eq!(m.recipients().collect::<Vec<_>>(), ["age1x"]);
        assert!(m.key_groups[0].foreign.is_empty());
    }

    #[test]
    fn rejects_bad_metadata() {
        let mut v = sample();
        v["version"] = json!("4.0.0");
        assert!(matches!(
            Metadata::from_tree(&v),
            Err(MetadataError::UnknownVersion(_))
        ));
        let mut v = sample();
        v.as_object_mut().unwrap().remove("lastmodified");
        assert!(matches!(
            Metadata::from_tree(&v),
            Err(MetadataError::Missing("lastmodified"))
        ));
        let mut v = sample();
        v["encrypted_regex"] = json!("^x$");
        assert!(matches!(
            Metadata::from_tree(&v),
            Err(MetadataError::ConflictingSelection(_))
        ));
    }

    #[test]
    fn selection_rules_follow_sops() {
        let p = |s: &str| KeyPath::parse(s).unwrap();
        let d = Selection::default();
        assert!(d.should_encrypt(&p("a.b")));
        assert!(!d.should_encrypt(&p("a_unencrypted.b")));
        let r = Selection::from_field("encrypted_regex", "^pass").unwrap();
        assert!(r.should_encrypt(&p("db.password")));
        assert!(!r.should_encrypt(&p("db.user")));
        assert!(!r.should_encrypt(&KeyPath::root()));
        let s = Selection::from_field("encrypted_suffix", "_enc").unwrap();
        assert!(s.should_encrypt(&p("x_enc[0].y")));
    }

    #[test]
    fn versions_are_bumped_never_lowered() {
        assert_eq!(newer_version("3.7.3"), "3.11.0");
        assert_eq!(newer_version("3.9.0"), "3.11.0");
        assert_eq!(newer_version("3.13.2"), "3.13.2");
    }

    #[test]
    fn mac_aad_normalises_like_go() {
        assert_eq!(mac_aad("2026-11-29T16:35:46Z"), "2026-11-29T16:35:46Z");
        assert_eq!(
            mac_aad("2026-11-29T17:35:46+01:00"),
            "2026-11-29T17:35:46+01:00"
        );
        assert_eq!(mac_aad("2026-11-29T17:35:46.5Z"), "2026-11-29T17:35:46Z");
        assert_eq!(now_rfc3339().len(), 20);
    }
}
