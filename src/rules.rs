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
//! Names ([`names`]): a top-level `keys:` map naming recipients (`alice:
//! age1...`) and `groups:` (`humans: [alice, bob]`); in `.botsecrets.yaml`
//! a rule's `age:` takes names, groups and raw keys, all resolved by
//! [`Names::resolve`] (in `.sops.yaml` only raw keys, as sops reads it).
//! YAML aliases are expanded before the file is read.
//! For `audit` (both file names: sops ignores what it does not know): a
//! rule's `rotation:` policy ([`rotation`]), the names shown where a
//! recipient is listed, and a top-level `revoked:` list (names, groups or
//! raw recipients) of keys that must no longer read anything.
//! A rule may map key paths to environment variable names for `exec` and
//! `export` (`env: {aws.access_key_id: AWS_ACCESS_KEY_ID}`): see
//! [`RulesFile::env_names`].
//!
//! This module reads only the files it finds from the path it is handed;
//! it reads no environment variable.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::goregex::GoRegex;

use crate::format::FormatError;
use crate::keys::Recipient;
use crate::metadata::Selection;
use crate::path::KeyPath;
use crate::seal::SealPolicy;

pub mod names;
mod parse;
pub mod rotation;
pub use names::{Group, NameError, Names};
pub use parse::parse;
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
    pub path_regex: Option<GoRegex>,
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
    /// `scopes:`: per-bot scopes inside the file (docs/rules.md "Scopes").
    pub scopes: Vec<RuleScope>,
}

/// One scope of a rule: its readers and the key paths they read.
#[derive(Debug, Clone)]
pub struct RuleScope {
    /// The scope's name.
    pub name: String,
    /// Who reads it (names and groups resolved).
    pub readers: Vec<Recipient>,
    /// The key paths it takes in (a path may name a subtree).
    pub paths: Vec<KeyPath>,
    /// Its line in the rules file.
    pub line: usize,
}

impl RuleScope {
    /// The scope as the document layer takes it.
    pub fn spec(&self) -> crate::document::ScopeSpec {
        crate::document::ScopeSpec {
            name: self.name.clone(),
            readers: self.readers.clone(),
            paths: self.paths.clone(),
        }
    }
}

impl CreationRule {
    /// The rule's scopes as the document layer takes them.
    pub fn scope_specs(&self) -> Vec<crate::document::ScopeSpec> {
        self.scopes.iter().map(RuleScope::spec).collect()
    }
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
    /// `groups:`: names of lists of names, in the order written.
    pub groups: Vec<Group>,
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
        let Some(rf) = self.rules_file(abs)? else {
            return Ok(None);
        };
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

    /// The rules file that governs `abs`, read once; `None` without one. A
    /// malformed rules file is an error.
    pub fn rules_file(&mut self, abs: &Path) -> Result<Option<&RulesFile>, RulesError> {
        let found = match find(abs) {
            Ok(p) => p,
            Err(RulesError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        if !self.files.contains_key(&found) {
            let text = read(&found)?;
            self.files.insert(found.clone(), parse(&text, &found)?);
        }
        Ok(self.files.get(&found))
    }

    /// How the scopes of the encrypted file `abs` (metadata `meta`) differ
    /// from its rule's (none without a rules file or a matching rule). A
    /// malformed rules file is an error.
    pub fn scope_drift(
        &mut self,
        abs: &Path,
        meta: &crate::metadata::Metadata,
    ) -> Result<Vec<crate::document::ScopeDrift>, RulesError> {
        let Some(file) = self.rules_file(abs)? else {
            return Ok(Vec::new());
        };
        let Ok(matched) = file.rule_for(abs) else {
            return Ok(Vec::new());
        };
        Ok(crate::document::scope_drift(
            meta,
            &matched.rule.scope_specs(),
        ))
    }

    /// Whether the rules file for `abs` lists `fingerprint` under `allow:`.
    /// A malformed rules file is an error.
    pub fn allowed(&mut self, abs: &Path, fingerprint: &str) -> Result<bool, RulesError> {
        Ok(self
            .rules_file(abs)?
            .is_some_and(|rf| rf.allow.iter().any(|f| f == fingerprint)))
    }
}

/// The rules file that governs one file, looked up once (one walk up the
/// tree, one read) so that everything a command asks of it (the seal
/// policy, `env:` names, names in messages) comes from that one lookup.
#[derive(Debug)]
pub enum Lookup {
    /// No rules file in the file's directory or above.
    NotFound,
    /// Found, read and parsed.
    Parsed(RulesFile),
    /// Found at `path`, but it cannot be read or does not parse.
    Broken {
        /// The rules file found.
        path: PathBuf,
        /// Why it cannot be used.
        error: RulesError,
    },
}

/// Finds, reads and parses the rules file for `file` (absolute), keeping a
/// failure to read or parse it for whoever needs to report it.
pub fn lookup(file: &Path) -> Lookup {
    let Ok(path) = find(file) else {
        return Lookup::NotFound;
    };
    match read(&path).and_then(|text| parse(&text, &path)) {
        Ok(rules_file) => Lookup::Parsed(rules_file),
        Err(error) => Lookup::Broken { path, error },
    }
}

impl Lookup {
    /// The parsed rules file, if there is one that parses.
    pub fn rules(&self) -> Option<&RulesFile> {
        match self {
            Lookup::Parsed(rules_file) => Some(rules_file),
            _ => None,
        }
    }

    /// The seal policy for `file` (absolute) under this rules file; see
    /// [`seal_policy`].
    pub fn seal_policy(&self, file: &Path) -> SealPolicy {
        match self {
            Lookup::Parsed(rules_file) => rules_file.seal_policy(file),
            Lookup::Broken { path, .. }
                if path.file_name().is_some_and(|n| n == RULES_FILE_NAMES[0]) =>
            {
                SealPolicy::Required
            }
            _ => SealPolicy::Warn,
        }
    }
}

/// The seal policy for `file` (absolute): required under a
/// `.botsecrets.yaml` unless the file's rule says `seal: optional`; a
/// warning under `.sops.yaml` or without a rules file. A `.botsecrets.yaml`
/// that cannot be read or parsed still requires the seal (a broken rules
/// file must not turn it off).
pub fn seal_policy(file: &Path) -> SealPolicy {
    lookup(file).seal_policy(file)
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
        let (rel, rule) = self.first_by_path(file);
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
        match self.rule_by_path(file) {
            Some(r) if r.seal_optional => SealPolicy::Warn,
            _ => SealPolicy::Required,
        }
    }

    /// The `env:` names of the first rule whose `path_regex` matches `file`
    /// (absolute), matched by path alone as for the seal policy; empty when
    /// no rule matches.
    pub fn env_names(&self, file: &Path) -> &[EnvName] {
        self.rule_by_path(file).map_or(&[], |r| r.env.as_slice())
    }
}

impl RulesFile {
    /// The first rule whose `path_regex` matches `file` (absolute), by its
    /// path alone (a rule without age recipients included).
    pub fn rule_by_path(&self, file: &Path) -> Option<&CreationRule> {
        self.first_by_path(file).1
    }

    /// `file` (absolute) relative to the rules file's directory, with `/`
    /// separators (the whole path when it lies outside), and the first rule
    /// whose `path_regex` matches it. Every lookup by path goes through
    /// here, so the seal policy, `env:` names and recipients of a file
    /// always come from the same rule.
    fn first_by_path(&self, file: &Path) -> (String, Option<&CreationRule>) {
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
        (rel, rule)
    }

    /// The `keys:` name of `recipient`, if the rules file names it.
    pub fn name_of(&self, recipient: &str) -> Option<&str> {
        self.keys
            .iter()
            .find(|(_, r)| r.same_as(recipient))
            .map(|(n, _)| n.as_str())
    }

    /// A recipient for messages: `bob (age1u4p50c…k8pnve)` when `keys:`
    /// names it, else the recipient in full.
    pub fn shown(&self, recipient: &str) -> String {
        match self.name_of(recipient) {
            Some(n) => format!("{n} ({})", crate::keys::recipient::abbreviated(recipient)),
            None => recipient.to_owned(),
        }
    }

    /// The names of `keys:` and `groups:`.
    pub fn names(&self) -> Names<'_> {
        Names {
            keys: &self.keys,
            groups: &self.groups,
        }
    }

    /// The recipients `word` stands for: a name of `keys:` or `groups:`
    /// (groups expanded) or a raw recipient. The same resolution as a
    /// rule's `age:` in `.botsecrets.yaml`; for commands that take a
    /// recipient (`recipients remove FILE bob`).
    pub fn resolve(&self, word: &str) -> Result<Vec<Recipient>, NameError> {
        self.names().resolve(word)
    }

    /// Whether any creation rule names `recipient`.
    pub fn names_recipient(&self, recipient: &str) -> bool {
        self.rules.iter().any(|rule| {
            rule.recipients().any(|r| r.same_as(recipient))
                || rule
                    .scopes
                    .iter()
                    .flat_map(|s| &s.readers)
                    .any(|r| r.same_as(recipient))
        })
    }
}

#[cfg(test)]
mod tests;
