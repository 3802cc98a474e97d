//! The rules file: who a new file is encrypted for, and how.
//!
//! `.botsecrets.yaml`, else `.sops.yaml` (so existing sops repositories
//! work unchanged), found by walking up from **the file's** directory, not
//! the working directory (getsops/sops#242): in each directory,
//! `.botsecrets.yaml` first, then `.sops.yaml`; the nearest one wins.
//!
//! `creation_rules` are tried in order and the first match wins; a rule
//! without `path_regex` matches every file. `path_regex` is matched
//! (unanchored, as sops does) against the file's path relative to the
//! rules file's directory, with `/` separators. A rule names age recipients
//! (`age`: a comma-separated string or a list) or `key_groups` (each with
//! an `age` list, optionally `merge`d from other groups) and
//! `shamir_threshold`; at most one selection option; `mac_only_encrypted`.
//!
//! The rules file is parsed with the project's own YAML layer (leaves with
//! key paths and byte spans), so every error names a line and column.
//! Keys of other sops key types (`pgp`, `kms`, ...) are accepted and
//! ignored; in `.sops.yaml` unknown keys are ignored as sops ignores them,
//! in `.botsecrets.yaml` they are an error (a typo must not widen access).
//!
//! A rule may also say `seal: optional` (`.botsecrets.yaml` only; the
//! default there is `required`): see [`RulesFile::seal_policy`].
//!
//! A top-level `allow:` list holds fingerprints (`fp-` and 16 hex digits)
//! of reviewed leak-scanner findings that `check` accepts.
//! For `audit` (both file names: sops ignores what it does not know): a
//! rule's `rotation:` policy ([`rotation`]), a top-level `keys:` map naming
//! recipients (`alice: age1...`; names shown where a recipient is listed),
//! and a top-level `revoked:` list (names from `keys:`, or raw recipients)
//! of keys that must no longer read anything.
//! A rule may map key paths to environment variable names for `exec` and
//! `export` (`env: {aws.access_key_id: AWS_ACCESS_KEY_ID}`): see
//! [`RulesFile::env_names`].
//!
//! This module reads only the files it finds from the path it is handed;
//! it reads no environment variable.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde_json::{Map, Value};

use crate::format::{self, FormatError, FormatKind, LeafKind, ValueType};
use crate::keys::{KeyError, Recipient};
use crate::metadata::Selection;
use crate::path::{KeyPath, Segment};
use crate::seal::SealPolicy;

pub mod rotation;
pub use rotation::Rotation;

/// The rules file names, in order of preference within one directory.
pub const RULES_FILE_NAMES: [&str; 2] = [".botsecrets.yaml", ".sops.yaml"];

/// How far up the tree the search goes (sops stops at 100 too).
const MAX_DEPTH: usize = 100;

/// Errors of the rules layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RulesError {
    /// The rules file is not valid YAML.
    // The cause is in the text, not also a `source()` (printed once).
    #[error("{}: {error}", file.display())]
    Syntax {
        /// The rules file.
        file: PathBuf,
        /// Where and what.
        error: FormatError,
    },
    /// The rules file is valid YAML but not a valid rules file.
    #[error("{}: line {line}, column {column}: {reason}", file.display())]
    Invalid {
        /// The rules file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        reason: String,
    },
    /// A private key where the rules file wants a recipient (never shown;
    /// `reason` names its public recipient).
    #[error("{}: line {line}, column {column}: {reason}", file.display())]
    PrivateKey {
        /// The rules file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What it is and its recipient.
        reason: String,
    },
    /// The rules file cannot be read. The cause is typed (its kind is
    /// kept) and shown in the text only, not also as a `source()`.
    #[error("{}: {}", file.display(), .error.reason())]
    Io {
        /// The rules file.
        file: PathBuf,
        /// Why.
        error: crate::fsio::FsError,
    },
    /// The rules file is not UTF-8 text.
    #[error("{}: not UTF-8 text", file.display())]
    NotText {
        /// The rules file.
        file: PathBuf,
    },
    /// No rules file above the file.
    #[error("no .botsecrets.yaml or .sops.yaml found in {} or any directory above it", dir.display())]
    NotFound {
        /// Where the search started.
        dir: PathBuf,
    },
    /// No rule matches the file.
    #[error("{}: no creation rule matches {target}; tried {}", file.display(), tried.join(", "))]
    NoMatch {
        /// The rules file.
        file: PathBuf,
        /// The path matched (relative to the rules file's directory).
        target: String,
        /// The rules tried, described.
        tried: Vec<String>,
    },
    /// The matching rule names no age recipients.
    #[error("{}: rule {rule} (line {line}) matches {target} but names no age recipients (botsecrets encrypts only for age keys)", file.display())]
    NoAgeRecipients {
        /// The rules file.
        file: PathBuf,
        /// 1-based rule number.
        rule: usize,
        /// Its line.
        line: usize,
        /// The file's relative path.
        target: String,
    },
}

/// One creation rule.
#[derive(Debug)]
pub struct CreationRule {
    /// 1-based position in `creation_rules`.
    pub number: usize,
    /// Line of the rule in the rules file.
    pub line: usize,
    /// `path_regex`, if any.
    pub path_regex: Option<Regex>,
    /// Key groups; one group for a plain `age` list; empty if the rule
    /// names no age recipients.
    pub key_groups: Vec<Vec<Recipient>>,
    /// Shares needed when there are several groups (0 = all).
    pub shamir_threshold: u32,
    /// The selection option, if the rule sets one.
    pub selection: Option<Selection>,
    /// `mac_only_encrypted`.
    pub mac_only_encrypted: bool,
    /// `seal: optional`: a file without a seal is opened with a warning
    /// even under `.botsecrets.yaml` (default: `required` there).
    pub seal_optional: bool,
    /// `rotation:`, the age policy `audit` enforces.
    pub rotation: Option<Rotation>,
    /// `env:`: the variable name `exec`/`export` give a key path, in the
    /// order written.
    pub env: Vec<EnvName>,
}

/// One entry of a rule's `env:` map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvName {
    /// The key path (`aws.access_key_id`).
    pub path: KeyPath,
    /// The variable name it gets (`AWS_ACCESS_KEY_ID`).
    pub name: String,
    /// Its line in the rules file.
    pub line: usize,
}

/// Whether `name` can be an environment variable name a shell can use:
/// `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl CreationRule {
    /// A short description for messages: `rule 2 (line 7, path_regex ^prod/)`.
    pub fn describe(&self) -> String {
        match &self.path_regex {
            Some(r) => format!(
                "rule {} (line {}, path_regex {})",
                self.number,
                self.line,
                r.as_str()
            ),
            None => format!("rule {} (line {}, any file)", self.number, self.line),
        }
    }

    /// Every recipient of the rule, across groups.
    pub fn recipients(&self) -> impl Iterator<Item = &Recipient> {
        self.key_groups.iter().flatten()
    }
}

/// A parsed rules file.
#[derive(Debug)]
pub struct RulesFile {
    /// Its path.
    pub path: PathBuf,
    /// Its directory (what `path_regex` is relative to).
    pub dir: PathBuf,
    /// The creation rules, in order.
    pub rules: Vec<CreationRule>,
    /// `allow:`: fingerprints of reviewed scanner findings (lowercase).
    pub allow: Vec<String>,
    /// `keys:`: names of recipients, in the order written.
    pub keys: Vec<(String, Recipient)>,
    /// `revoked:`: keys that must no longer be a reader of any file.
    pub revoked: Vec<Revoked>,
}

/// An entry of the `revoked:` list.
#[derive(Debug)]
pub struct Revoked {
    /// Its name, when the entry is a name from `keys:`.
    pub name: Option<String>,
    /// The recipient.
    pub recipient: Recipient,
    /// 1-based line in the rules file.
    pub line: usize,
}

/// The rule chosen for a file.
#[derive(Debug)]
pub struct Matched<'a> {
    /// The rule.
    pub rule: &'a CreationRule,
    /// The file's path relative to the rules file's directory.
    pub target: String,
}

/// The absolute, symlink-resolved form of `file` (which need not exist;
/// its directory must). Relative paths are taken from `cwd`.
pub fn absolute(file: &Path, cwd: &Path) -> PathBuf {
    let joined = if file.is_absolute() {
        file.to_path_buf()
    } else {
        cwd.join(file)
    };
    match (joined.parent(), joined.file_name()) {
        (Some(parent), Some(name)) => match std::fs::canonicalize(parent) {
            Ok(dir) => dir.join(name),
            Err(_) => joined.clone(),
        },
        _ => joined,
    }
}

/// Finds the rules file for `file` (an absolute path): the nearest
/// `.botsecrets.yaml` or `.sops.yaml` in its directory or above.
pub fn find(file: &Path) -> Result<PathBuf, RulesError> {
    let start = file.parent().unwrap_or(file);
    for dir in start.ancestors().take(MAX_DEPTH) {
        for name in RULES_FILE_NAMES {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(RulesError::NotFound {
        dir: start.to_path_buf(),
    })
}

/// Finds, reads and parses the rules file for `file` (absolute).
pub fn load_for(file: &Path) -> Result<RulesFile, RulesError> {
    let path = find(file)?;
    let text = read(&path)?;
    parse(&text, &path)
}

/// Whether `path` is a rules file (never required to be encrypted).
pub fn is_rules_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| RULES_FILE_NAMES.contains(&n))
}

/// Rules files read once per run (`check` and `git install` ask about
/// every file of a repository).
#[derive(Default)]
pub struct RulesCache {
    files: HashMap<PathBuf, RulesFile>,
}

impl RulesCache {
    /// The rule (`rule N (line L, path_regex R) of FILE`) that says `abs`
    /// must be encrypted: a matching rule with a `path_regex`. A malformed
    /// rules file is an error.
    pub fn covering_rule(&mut self, abs: &Path) -> Result<Option<String>, RulesError> {
        let found = match find(abs) {
            Ok(p) => p,
            Err(RulesError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        if !self.files.contains_key(&found) {
            let text = read(&found)?;
            self.files.insert(found.clone(), parse(&text, &found)?);
        }
        let rf = &self.files[&found];
        let rule = match rf.rule_for(abs) {
            Ok(m) => m.rule,
            Err(RulesError::NoAgeRecipients { rule, .. }) => &rf.rules[rule - 1],
            Err(_) => return Ok(None),
        };
        let explicit = rule
            .path_regex
            .as_ref()
            .is_some_and(|r| !r.as_str().is_empty());
        Ok(explicit.then(|| format!("{} of {}", rule.describe(), rf.path.display())))
    }

    /// The seal policy for `abs` (see [`seal_policy`]), from the cached
    /// rules file.
    pub fn seal_policy(&mut self, abs: &Path) -> SealPolicy {
        let found = match find(abs) {
            Ok(p) => p,
            Err(_) => return SealPolicy::Warn,
        };
        if !self.files.contains_key(&found) {
            let parsed = read(&found).ok().and_then(|text| parse(&text, &found).ok());
            match parsed {
                Some(rf) => {
                    self.files.insert(found.clone(), rf);
                }
                None if found.file_name().is_some_and(|n| n == RULES_FILE_NAMES[0]) => {
                    return SealPolicy::Required
                }
                None => return SealPolicy::Warn,
            }
        }
        self.files[&found].seal_policy(abs)
    }

    /// Whether the rules file for `abs` lists `fingerprint` under `allow:`.
    /// A malformed rules file is an error.
    pub fn allowed(&mut self, abs: &Path, fingerprint: &str) -> Result<bool, RulesError> {
        let found = match find(abs) {
            Ok(p) => p,
            Err(RulesError::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(e),
        };
        if !self.files.contains_key(&found) {
            let text = read(&found)?;
            self.files.insert(found.clone(), parse(&text, &found)?);
        }
        Ok(self.files[&found].allow.iter().any(|f| f == fingerprint))
    }
}

/// The seal policy for `file` (absolute): required under a
/// `.botsecrets.yaml` unless the file's rule says `seal: optional`; a
/// warning under `.sops.yaml` or without a rules file. A `.botsecrets.yaml`
/// that cannot be read or parsed still requires the seal (a broken rules
/// file must not turn it off).
pub fn seal_policy(file: &Path) -> SealPolicy {
    match load_for(file) {
        Ok(rules_file) => rules_file.seal_policy(file),
        Err(_) => match find(file) {
            Ok(p) if p.file_name().is_some_and(|n| n == RULES_FILE_NAMES[0]) => {
                SealPolicy::Required
            }
            _ => SealPolicy::Warn,
        },
    }
}

/// The largest rules file read: far more than any real one.
const MAX_RULES_FILE: u64 = 16 * 1024 * 1024;

/// Reads a rules file's text: a regular file of bounded size only.
pub fn read(path: &Path) -> Result<String, RulesError> {
    let file = || path.to_path_buf();
    let bytes = crate::fsio::read_file(path, MAX_RULES_FILE).map_err(|error| RulesError::Io {
        file: file(),
        error,
    })?;
    String::from_utf8(bytes.to_vec()).map_err(|_| RulesError::NotText { file: file() })
}

impl RulesFile {
    /// The first rule matching `file` (absolute).
    pub fn rule_for(&self, file: &Path) -> Result<Matched<'_>, RulesError> {
        let rel = match file.strip_prefix(&self.dir) {
            Ok(rel) => rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/"),
            Err(_) => file.to_string_lossy().into_owned(),
        };
        let rule = self
            .rules
            .iter()
            .find(|r| r.path_regex.as_ref().is_none_or(|re| re.is_match(&rel)));
        match rule {
            Some(rule) if rule.key_groups.is_empty() => Err(RulesError::NoAgeRecipients {
                file: self.path.clone(),
                rule: rule.number,
                line: rule.line,
                target: rel,
            }),
            Some(rule) => Ok(Matched { rule, target: rel }),
            None => Err(RulesError::NoMatch {
                file: self.path.clone(),
                target: rel,
                tried: self.rules.iter().map(CreationRule::describe).collect(),
            }),
        }
    }
}

impl RulesFile {
    /// Whether this is a `.botsecrets.yaml` (where the seal is required by
    /// default) rather than a `.sops.yaml`.
    pub fn is_botsecrets(&self) -> bool {
        self.path
            .file_name()
            .is_some_and(|n| n == RULES_FILE_NAMES[0])
    }

    /// The seal policy for `file` (absolute): under `.botsecrets.yaml` a
    /// seal is required unless the first rule whose `path_regex` matches
    /// says `seal: optional`; under `.sops.yaml` a missing seal is a
    /// warning. A rule is matched by its path alone here (a rule without
    /// age recipients still decides the policy of the files it covers).
    pub fn seal_policy(&self, file: &Path) -> SealPolicy {
        if !self.is_botsecrets() {
            return SealPolicy::Warn;
        }
        let rel = match file.strip_prefix(&self.dir) {
            Ok(rel) => rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/"),
            Err(_) => file.to_string_lossy().into_owned(),
        };
        let rule = self
            .rules
            .iter()
            .find(|r| r.path_regex.as_ref().is_none_or(|re| re.is_match(&rel)));
        match rule {
            Some(r) if r.seal_optional => SealPolicy::Warn,
            _ => SealPolicy::Required,
        }
    }

    /// The `env:` names of the first rule whose `path_regex` matches `file`
    /// (absolute), matched by path alone as for the seal policy; empty when
    /// no rule matches.
    pub fn env_names(&self, file: &Path) -> &[EnvName] {
        let rel = match file.strip_prefix(&self.dir) {
            Ok(rel) => rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/"),
            Err(_) => file.to_string_lossy().into_owned(),
        };
        self.rules
            .iter()
            .find(|r| r.path_regex.as_ref().is_none_or(|re| re.is_match(&rel)))
            .map_or(&[], |r| r.env.as_slice())
    }
}

impl RulesFile {
    /// The first rule whose `path_regex` matches `file` (absolute), by its
    /// path alone (a rule without age recipients included).
    pub fn rule_by_path(&self, file: &Path) -> Option<&CreationRule> {
        let rel = match file.strip_prefix(&self.dir) {
            Ok(rel) => rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/"),
            Err(_) => file.to_string_lossy().into_owned(),
        };
        self.rules
            .iter()
            .find(|r| r.path_regex.as_ref().is_none_or(|re| re.is_match(&rel)))
    }

    /// The `keys:` name of `recipient`, if the rules file names it.
    pub fn name_of(&self, recipient: &str) -> Option<&str> {
        self.keys
            .iter()
            .find(|(_, r)| r.same_as(recipient))
            .map(|(n, _)| n.as_str())
    }

    /// Whether any creation rule names `recipient`.
    pub fn names_recipient(&self, recipient: &str) -> bool {
        self.rules
            .iter()
            .any(|rule| rule.recipients().any(|r| r.same_as(recipient)))
    }
}

/// Keys a creation rule may have that botsecrets reads.
const RULE_KEYS: [&str; 14] = [
    "seal",
    "rotation",
    "env",
    "path_regex",
    "age",
    "key_groups",
    "shamir_threshold",
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
    "mac_only_encrypted",
];

/// sops key types botsecrets accepts in a rule or group and ignores.
const FOREIGN_KEYS: [&str; 9] = [
    "pgp",
    "kms",
    "gcp_kms",
    "azure_keyvault",
    "hc_vault_transit_uri",
    "hc_vault",
    "aws_profile",
    "hckms",
    "huaweicloud_kms",
];

/// The rules file as a tree, with the position of every node.
struct Tree {
    root: Value,
    positions: HashMap<KeyPath, (usize, usize)>,
}

fn build_tree(text: &str, file: &Path) -> Result<Tree, RulesError> {
    let parsed = FormatKind::Yaml
        .syntax()
        .parse(text)
        .map_err(|error| RulesError::Syntax {
            file: file.to_path_buf(),
            error,
        })?;
    let mut root = Value::Object(Map::new());
    let mut positions = HashMap::new();
    for (path, i) in parsed.values_in_order() {
        let leaf = &parsed.leaves[i];
        if leaf.document != 0 {
            continue;
        }
        let text_of = leaf.value.expose();
        let value = match leaf.kind {
            LeafKind::Comment => continue,
            LeafKind::Null => Value::Null,
            LeafKind::Value(ValueType::Bool) => Value::Bool(text_of == "true"),
            LeafKind::Value(ValueType::Int) => text_of
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(text_of.to_owned())),
            LeafKind::Value(_) => Value::String(text_of.to_owned()),
        };
        let at = format::line_col(text, leaf.span.start);
        let mut prefix = KeyPath::root();
        positions.entry(prefix.clone()).or_insert(at);
        for seg in path.segments() {
            match seg {
                Segment::Key(k) => prefix.push_key(k.clone()),
                Segment::Index(n) => prefix.push_index(*n),
            }
            positions.entry(prefix.clone()).or_insert(at);
        }
        insert(&mut root, path.segments(), value);
    }
    Ok(Tree { root, positions })
}

fn insert(node: &mut Value, path: &[Segment], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        *node = value;
        return;
    };
    let child = match first {
        Segment::Key(k) => {
            if !node.is_object() {
                *node = Value::Object(Map::new());
            }
            node.as_object_mut()
                .expect("object")
                .entry(k.clone())
                .or_insert(Value::Null)
        }
        Segment::Index(i) => {
            if !node.is_array() {
                *node = Value::Array(Vec::new());
            }
            let arr = node.as_array_mut().expect("array");
            while arr.len() <= *i {
                arr.push(Value::Null);
            }
            &mut arr[*i]
        }
    };
    insert(child, rest, value);
}

struct Reader<'a> {
    file: &'a Path,
    tree: &'a Tree,
    strict: bool,
}

impl Reader<'_> {
    fn err(&self, at: &KeyPath, reason: impl Into<String>) -> RulesError {
        let (line, column) = self.tree.positions.get(at).copied().unwrap_or((1, 1));
        RulesError::Invalid {
            file: self.file.to_path_buf(),
            line,
            column,
            reason: reason.into(),
        }
    }

    fn line(&self, at: &KeyPath) -> usize {
        self.tree.positions.get(at).map_or(1, |p| p.0)
    }

    fn string(&self, v: &Value, at: &KeyPath) -> Result<String, RulesError> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(self.err(at, format!("{at} must be a string"))),
        }
    }

    /// `age`: a comma-separated string or a list of strings.
    fn recipients(&self, v: &Value, at: &KeyPath) -> Result<Vec<Recipient>, RulesError> {
        let mut texts = Vec::new();
        match v {
            Value::Null => {}
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let at = at.child_index(i);
                    let s = self.string(item, &at)?;
                    texts.extend(split_list(&s).into_iter().map(|r| (r, at.clone())));
                }
            }
            other => {
                let s = self.string(other, at)?;
                texts.extend(split_list(&s).into_iter().map(|r| (r, at.clone())));
            }
        }
        let mut out: Vec<Recipient> = Vec::new();
        for (text, at) in texts {
            let r = Recipient::parse(&text).map_err(|e| match e {
                KeyError::IdentityAsRecipient { .. } => {
                    let (line, column) = self.tree.positions.get(&at).copied().unwrap_or((1, 1));
                    RulesError::PrivateKey {
                        file: self.file.to_path_buf(),
                        line,
                        column,
                        reason: e.to_string(),
                    }
                }
                _ => self.err(&at, e.to_string()),
            })?;
            // COMPAT(sops): keys in a group are de-duplicated.
            if !out.iter().any(|o| o.same_as(&r.to_string())) {
                out.push(r);
            }
        }
        Ok(out)
    }

    fn check_keys(
        &self,
        obj: &Map<String, Value>,
        at: &KeyPath,
        allowed: &[&str],
        what: &str,
    ) -> Result<(), RulesError> {
        if !self.strict {
            return Ok(());
        }
        for key in obj.keys() {
            if !allowed.contains(&key.as_str()) && !FOREIGN_KEYS.contains(&key.as_str()) {
                return Err(self.err(
                    &at.child_key(key.clone()),
                    format!(
                        "unknown key {key:?} in {what}; expected one of: {}",
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn group(&self, v: &Value, at: &KeyPath, depth: usize) -> Result<Vec<Recipient>, RulesError> {
        let obj = v
            .as_object()
            .ok_or_else(|| self.err(at, format!("{at} must be a mapping (a key group)")))?;
        self.check_keys(obj, at, &["age", "merge"], "a key group")?;
        let mut out = match obj.get("age") {
            Some(v) => self.recipients(v, &at.child_key("age"))?,
            None => Vec::new(),
        };
        if let Some(merge) = obj.get("merge") {
            let merge_at = at.child_key("merge");
            if depth > 10 {
                return Err(self.err(&merge_at, "merge nests too deeply"));
            }
            let items = merge
                .as_array()
                .ok_or_else(|| self.err(&merge_at, "merge must be a list of key groups"))?;
            for (i, item) in items.iter().enumerate() {
                for r in self.group(item, &merge_at.child_index(i), depth + 1)? {
                    if !out.iter().any(|o| o.same_as(&r.to_string())) {
                        out.push(r);
                    }
                }
            }
        }
        Ok(out)
    }

    fn rule(&self, v: &Value, at: &KeyPath, number: usize) -> Result<CreationRule, RulesError> {
        let obj = v
            .as_object()
            .ok_or_else(|| self.err(at, format!("creation rule {number} must be a mapping")))?;
        self.check_keys(obj, at, &RULE_KEYS, "a creation rule")?;
        let path_regex = match obj.get("path_regex") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let rat = at.child_key("path_regex");
                let s = self.string(v, &rat)?;
                if s.is_empty() {
                    None
                } else {
                    Some(Regex::new(&s).map_err(|e| {
                        self.err(
                            &rat,
                            format!("path_regex is not a valid regular expression: {e}"),
                        )
                    })?)
                }
            }
        };
        let mut selection = None;
        let mut seen = Vec::new();
        for field in Selection::FIELDS {
            if let Some(v) = obj.get(field) {
                let fat = at.child_key(field);
                let s = self.string(v, &fat)?;
                if s.is_empty() {
                    continue;
                }
                seen.push(field);
                if seen.len() > 1 {
                    return Err(self.err(
                        &fat,
                        format!("a rule may set only one of {}", seen.join(", ")),
                    ));
                }
                selection = Some(
                    Selection::from_field(field, &s).map_err(|e| self.err(&fat, e.to_string()))?,
                );
            }
        }
        let mac_only_encrypted = match obj.get("mac_only_encrypted") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(self.err(
                    &at.child_key("mac_only_encrypted"),
                    "mac_only_encrypted must be true or false",
                ))
            }
        };
        let seal_optional = match obj.get("seal") {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) if s == "required" => false,
            Some(Value::String(s)) if s == "optional" => true,
            Some(_) => {
                return Err(self.err(&at.child_key("seal"), "seal must be required or optional"))
            }
        };
        let env = self.env(obj.get("env"), &at.child_key("env"))?;
        let shamir_threshold = match obj.get("shamir_threshold") {
            None | Some(Value::Null) => 0,
            Some(Value::Number(n)) if n.as_u64().is_some_and(|n| n <= 255) => {
                n.as_u64().and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
            }
            Some(_) => {
                return Err(self.err(
                    &at.child_key("shamir_threshold"),
                    "shamir_threshold must be a whole number",
                ))
            }
        };
        // COMPAT(sops): with key_groups, the rule's top-level keys are ignored.
        let key_groups = match obj.get("key_groups") {
            Some(Value::Array(groups)) if !groups.is_empty() => {
                let gat = at.child_key("key_groups");
                let mut out = Vec::new();
                for (i, g) in groups.iter().enumerate() {
                    let this = gat.child_index(i);
                    let recipients = self.group(g, &this, 0)?;
                    if recipients.is_empty() {
                        return Err(self.err(
                            &this,
                            format!(
                                "key group {} of rule {number} has no age recipients (botsecrets wraps only for age keys)",
                                i + 1
                            ),
                        ));
                    }
                    out.push(recipients);
                }
                out
            }
            Some(Value::Array(_)) | None | Some(Value::Null) => match obj.get("age") {
                Some(v) => {
                    let r = self.recipients(v, &at.child_key("age"))?;
                    if r.is_empty() {
                        Vec::new()
                    } else {
                        vec![r]
                    }
                }
                None => Vec::new(),
            },
            Some(_) => {
                return Err(self.err(
                    &at.child_key("key_groups"),
                    "key_groups must be a list of key groups",
                ))
            }
        };
        if key_groups.len() > 1 && shamir_threshold as usize > key_groups.len() {
            return Err(self.err(
                &at.child_key("shamir_threshold"),
                format!(
                    "shamir_threshold {shamir_threshold} is more than the {} key groups",
                    key_groups.len()
                ),
            ));
        }
        let rotation = match obj.get("rotation") {
            None | Some(Value::Null) => None,
            Some(v) => Some(self.rotation(v, &at.child_key("rotation"))?),
        };
        Ok(CreationRule {
            number,
            line: self.line(at),
            path_regex,
            key_groups,
            shamir_threshold,
            selection,
            mac_only_encrypted,
            seal_optional,
            rotation,
            env,
        })
    }

    /// `rotation: { max_age: 90d, paths: { KEY.PATH: 30d } }`. Its keys are
    /// checked in both rules files: a typo must not turn the gate off.
    fn rotation(&self, v: &Value, at: &KeyPath) -> Result<Rotation, RulesError> {
        let obj = v.as_object().ok_or_else(|| {
            self.err(
                at,
                "rotation must be a mapping, e.g. { max_age: 90d, paths: { stripe.secret_key: 30d } }",
            )
        })?;
        for key in obj.keys() {
            if key != "max_age" && key != "paths" {
                return Err(self.err(
                    &at.child_key(key.clone()),
                    format!("unknown key {key:?} in rotation; expected one of: max_age, paths"),
                ));
            }
        }
        let max_age = match obj.get("max_age") {
            None | Some(Value::Null) => None,
            Some(v) => Some(self.limit(v, &at.child_key("max_age"))?),
        };
        let mut paths = Vec::new();
        match obj.get("paths") {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                let pat = at.child_key("paths");
                for (key, v) in map {
                    let kat = pat.child_key(key.clone());
                    let path = KeyPath::parse(key).map_err(|e| self.err(&kat, e.to_string()))?;
                    paths.push(rotation::PathLimit {
                        path,
                        limit: self.limit(v, &kat)?,
                    });
                }
            }
            Some(_) => {
                return Err(self.err(
                    &at.child_key("paths"),
                    "rotation.paths must be a mapping of key paths to durations",
                ))
            }
        }
        Ok(Rotation { max_age, paths })
    }

    fn limit(&self, v: &Value, at: &KeyPath) -> Result<rotation::Limit, RulesError> {
        let text = self.string(v, at)?;
        let days =
            rotation::parse_days(&text).map_err(|why| self.err(at, format!("{at}: {why}")))?;
        let (line, column) = self.tree.positions.get(at).copied().unwrap_or((1, 1));
        Ok(rotation::Limit {
            days,
            text: text.trim().to_owned(),
            line,
            column,
        })
    }

    /// `keys: { NAME: RECIPIENT }`.
    fn keys(&self, v: &Value, at: &KeyPath) -> Result<Vec<(String, Recipient)>, RulesError> {
        let obj = v
            .as_object()
            .ok_or_else(|| self.err(at, "keys must be a mapping of names to recipients"))?;
        let mut out = Vec::new();
        for (name, v) in obj {
            let kat = at.child_key(name.clone());
            let mut r = self.recipients(v, &kat)?;
            if r.len() != 1 {
                return Err(self.err(&kat, format!("keys.{name} must be one recipient")));
            }
            out.push((name.clone(), r.remove(0)));
        }
        Ok(out)
    }

    /// `revoked: [NAME or RECIPIENT, ...]`.
    fn revoked(
        &self,
        v: &Value,
        at: &KeyPath,
        keys: &[(String, Recipient)],
    ) -> Result<Vec<Revoked>, RulesError> {
        let items = match v {
            Value::Null => return Ok(Vec::new()),
            Value::Array(items) => items,
            _ => {
                return Err(self.err(
                    at,
                    "revoked must be a list of names (from keys:) or recipients",
                ))
            }
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let iat = at.child_index(i);
            let text = self.string(item, &iat)?;
            let line = self.line(&iat);
            if let Some((name, r)) = keys.iter().find(|(n, _)| *n == text.trim()) {
                out.push(Revoked {
                    name: Some(name.clone()),
                    recipient: r.clone(),
                    line,
                });
                continue;
            }
            if Recipient::parse(text.trim()).is_err()
                && crate::keys::recipient::private_key(text.trim()).is_none()
            {
                return Err(self.err(
                    &iat,
                    format!(
                        "revoked entry {:?} is neither a name under keys: nor a recipient",
                        // SECURITY: what was pasted may be a secret.
                        crate::keys::recipient::shown(text.trim())
                    ),
                ));
            }
            for recipient in self.recipients(item, &iat)? {
                out.push(Revoked {
                    name: None,
                    recipient,
                    line,
                });
            }
        }
        Ok(out)
    }

    /// `env:`: a mapping from key paths to variable names.
    fn env(&self, v: Option<&Value>, at: &KeyPath) -> Result<Vec<EnvName>, RulesError> {
        let obj = match v {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Object(obj)) => obj,
            Some(_) => {
                return Err(self.err(
                    at,
                    "env must be a mapping of key paths to variable names (aws.access_key_id: AWS_ACCESS_KEY_ID)",
                ))
            }
        };
        let mut out: Vec<EnvName> = Vec::new();
        for (key, value) in obj {
            let eat = at.child_key(key.clone());
            let name = match value {
                Value::String(s) => s.clone(),
                _ => {
                    return Err(self.err(
                        &eat,
                        format!("env: {key} must name one variable (write a nested key path as one key: `a.b: NAME`)"),
                    ))
                }
            };
            let path = KeyPath::parse(key)
                .map_err(|e| self.err(&eat, format!("env: {key:?} is not a key path: {e}")))?;
            if !is_env_name(&name) {
                return Err(self.err(
                    &eat,
                    format!("env: {name:?} is not a variable name (letters, digits and _, not starting with a digit)"),
                ));
            }
            if let Some(other) = out.iter().find(|e| e.name == name) {
                return Err(self.err(
                    &eat,
                    format!(
                        "env: {} and {} both give the variable {name}",
                        other.path, path
                    ),
                ));
            }
            out.push(EnvName {
                path,
                name,
                line: self.line(&eat),
            });
        }
        Ok(out)
    }
}

/// Splits `age1a, age1b` (sops' comma-separated form).
fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Parses the text of the rules file at `path`.
pub fn parse(text: &str, path: &Path) -> Result<RulesFile, RulesError> {
    let tree = build_tree(text, path)?;
    let strict = path.file_name().is_some_and(|n| n == ".botsecrets.yaml");
    let reader = Reader {
        file: path,
        tree: &tree,
        strict,
    };
    let root = KeyPath::root();
    let top = tree
        .root
        .as_object()
        .ok_or_else(|| reader.err(&root, "the rules file must be a mapping"))?;
    reader.check_keys(
        top,
        &root,
        &[
            "creation_rules",
            "destination_rules",
            "stores",
            "allow",
            "keys",
            "revoked",
        ],
        "the rules file",
    )?;
    let allow_at = root.child_key("allow");
    let allow = match top.get("allow") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let at = allow_at.child_index(i);
                let fp = reader.string(v, &at)?.trim().to_ascii_lowercase();
                if crate::scan::allow::is_fingerprint(&fp) {
                    Ok(fp)
                } else {
                    Err(reader.err(
                        &at,
                        format!("{at} must be a finding's fingerprint (fp- and 16 hex digits, as `check` prints it)"),
                    ))
                }
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(reader.err(&allow_at, "allow must be a list of fingerprints")),
    };
    let rules_at = root.child_key("creation_rules");
    let rules = match top.get("creation_rules") {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| reader.rule(v, &rules_at.child_index(i), i + 1))
            .collect::<Result<Vec<_>, _>>()?,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(reader.err(&rules_at, "creation_rules must be a list of rules")),
    };
    let keys = match top.get("keys") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => reader.keys(v, &root.child_key("keys"))?,
    };
    let revoked = match top.get("revoked") {
        None => Vec::new(),
        Some(v) => reader.revoked(v, &root.child_key("revoked"), &keys)?,
    };
    Ok(RulesFile {
        keys,
        revoked,
        path: path.to_path_buf(),
        dir: path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
        rules,
        allow,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const R1: &str = "age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n";
    const R2: &str = "age1u4p50cvf23gprufg0lu7d6wmlqm76njluxatc0tuhyrkpa53dfhsk8pnve";

    fn rules(text: &str) -> Result<RulesFile, RulesError> {
        parse(text, Path::new("/repo/.botsecrets.yaml"))
    }

    #[test]
    fn first_match_wins_and_paths_are_relative() {
        let f = rules(&format!(
            "creation_rules:\n  - path_regex: ^prod/\n    age: {R1}\n  - age: [{R1}, {R2}]\n    encrypted_regex: ^pass\n"
        ))
        .unwrap();
        let m = f.rule_for(Path::new("/repo/prod/a.yaml")).unwrap();
        assert_eq!(m.rule.number, 1);
        assert_eq!(m.target, "prod/a.yaml");
        let m = f.rule_for(Path::new("/repo/dev/prod/a.yaml")).unwrap();
        assert_eq!(m.rule.number, 2);
        assert_eq!(m.rule.recipients().count(), 2);
        assert!(matches!(
            m.rule.selection,
            Some(Selection::EncryptedRegex(_))
        ));
    }

    #[test]
    fn no_match_lists_the_rules() {
        let f = rules(&format!(
            "creation_rules:\n  - path_regex: ^prod/\n    age: {R1}\n"
        ))
        .unwrap();
        let err = f
            .rule_for(Path::new("/repo/x.yaml"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "/repo/.botsecrets.yaml: no creation rule matches x.yaml; tried rule 1 (line 2, path_regex ^prod/)"
        );
    }

    #[test]
    fn errors_have_line_and_column() {
        let err = rules("creation_rules:\n  - path_regex: [\n").unwrap_err();
        assert!(err.to_string().contains("line"), "{err}");
        let err = rules("creation_rules:\n  - age: bob\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("/repo/.botsecrets.yaml: line 2, column 10: invalid recipient \"bob\""),
            "{err}"
        );
        let err = rules("creation_rules:\n  - path_regexp: x\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown key \"path_regexp\""), "{err}");
        // sops ignores unknown keys; so does the .sops.yaml reader.
        assert!(parse(
            "creation_rules:\n  - path_regexp: x\n",
            Path::new("/repo/.sops.yaml")
        )
        .is_ok());
        let err = rules(&format!(
            "creation_rules:\n  - age: {R1}\n    encrypted_regex: a\n    unencrypted_suffix: b\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("a rule may set only one of"), "{err}");
    }

    #[test]
    fn allow_lists_fingerprints_only() {
        let f = rules(&format!(
            "allow:\n  - fp-0123456789ABCDEF\ncreation_rules:\n  - age: {R1}\n"
        ))
        .unwrap();
        assert_eq!(f.allow, ["fp-0123456789abcdef"]);
        let err = rules("allow: [ghp_notafingerprint]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1"), "{err}");
        assert!(err.contains("fingerprint"), "{err}");
        assert!(!err.contains("ghp_"), "{err}");
    }

    #[test]
    fn seal_policy_follows_the_rules_file() {
        let f = rules(&format!(
            "creation_rules:\n  - path_regex: ^legacy/\n    seal: optional\n    age: {R1}\n  - age: {R1}\n"
        ))
        .unwrap();
        assert_eq!(
            f.seal_policy(Path::new("/repo/legacy/a.yaml")),
            SealPolicy::Warn
        );
        assert_eq!(
            f.seal_policy(Path::new("/repo/a.yaml")),
            SealPolicy::Required
        );
        let sops = parse(
            &format!("creation_rules:\n  - age: {R1}\n"),
            Path::new("/repo/.sops.yaml"),
        )
        .unwrap();
        assert_eq!(
            sops.seal_policy(Path::new("/repo/a.yaml")),
            SealPolicy::Warn
        );
        let err = rules(&format!(
            "creation_rules:\n  - age: {R1}\n    seal: maybe\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("seal must be required or optional"), "{err}");
    }

    #[test]
    fn rotation_policy_and_its_errors() {
        let f = rules(&format!(
            "creation_rules:\n  - age: {R1}\n    rotation:\n      max_age: 90d\n      paths:\n        stripe.secret_key: 30d\n"
        ))
        .unwrap();
        let rot = f.rules[0].rotation.as_ref().unwrap();
        assert_eq!(rot.max_age.as_ref().unwrap().days, 90);
        assert_eq!(rot.paths[0].path.to_string(), "stripe.secret_key");
        assert_eq!(
            (rot.paths[0].limit.line, rot.paths[0].limit.column),
            (6, 28)
        );
        let err = rules(&format!(
            "creation_rules:\n  - age: {R1}\n    rotation:\n      max_age: 3 months\n"
        ))
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "/repo/.botsecrets.yaml: line 4, column 16: creation_rules[0].rotation.max_age: \"3 months\" is not a duration; write whole days or weeks, e.g. 90d or 12w"
        );
        let err = rules(&format!(
            "creation_rules:\n  - age: {R1}\n    rotation: {{max_age: 90d, max_ages: 1d}}\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("line 3") && err.contains("unknown key \"max_ages\" in rotation"),
            "{err}"
        );
        // .sops.yaml too: sops ignores the key, botsecrets enforces it.
        let err = parse(
            &format!("creation_rules:\n  - age: {R1}\n    rotation: {{max_age: 90}}\n"),
            Path::new("/repo/.sops.yaml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("line 3") && err.contains("has no unit"),
            "{err}"
        );
    }

    #[test]
    fn keys_and_revoked() {
        let f = rules(&format!(
            "keys:\n  alice: {R1}\nrevoked: [alice, {R2}]\ncreation_rules:\n  - age: {R1}\n"
        ))
        .unwrap();
        assert_eq!(f.name_of(R1), Some("alice"));
        assert_eq!(f.name_of(R2), None);
        assert_eq!(f.revoked.len(), 2);
        assert_eq!(f.revoked[0].name.as_deref(), Some("alice"));
        assert_eq!(f.revoked[1].recipient.to_string(), R2);
        assert!(f.names_recipient(R1) && !f.names_recipient(R2));
        let err = rules(&format!("revoked: [bob]\ncreation_rules:\n  - age: {R1}\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 1, column 11: revoked entry \"bob\" is neither a name under keys: nor a recipient"),
            "{err}"
        );
    }

    #[test]
    fn key_groups_and_threshold() {
        let f = rules(&format!(
            "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age:\n          - {R1}\n      - age: [{R2}]\n        pgp: [ABC]\n"
        ))
        .unwrap();
        let r = &f.rules[0];
        assert_eq!(r.key_groups.len(), 2);
        assert_eq!(r.shamir_threshold, 2);
        let f = rules("creation_rules:\n  - pgp: ABC\n").unwrap();
        assert!(matches!(
            f.rule_for(Path::new("/repo/a.yaml")),
            Err(RulesError::NoAgeRecipients { .. })
        ));
    }
}
