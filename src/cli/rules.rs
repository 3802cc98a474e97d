//! Finds the creation rule for a file (the rules file is looked up from the
//! file's own directory, whatever the working directory).

use std::path::{Path, PathBuf};

use anyhow::Result;
use botsecrets::keys::Recipient;
use botsecrets::metadata::Selection;
use botsecrets::rules;
use botsecrets::seal::SealPolicy;

/// The rule chosen for a file, owned.
pub struct Chosen {
    /// The rule's key groups (one group for a plain `age` list).
    pub key_groups: Vec<Vec<Recipient>>,
    /// Its Shamir threshold (0 = all groups).
    pub shamir_threshold: u32,
    /// Its selection option, if any.
    pub selection: Option<Selection>,
    /// `mac_only_encrypted`.
    pub mac_only_encrypted: bool,
    /// `rule N (line L, ...) of FILE`, for messages.
    pub description: String,
    /// Its scopes.
    pub scopes: Vec<botsecrets::document::ScopeSpec>,
}

/// The absolute path of `file`.
pub fn absolute(file: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    rules::absolute(file, &cwd)
}

/// The rule for `file` (which need not exist yet).
pub fn for_file(file: &Path) -> Result<Chosen> {
    let abs = absolute(file);
    let rules_file = rules::load_for(&abs)?;
    let matched = rules_file.rule_for(&abs)?;
    let rule = matched.rule;
    Ok(Chosen {
        key_groups: rule.key_groups.clone(),
        shamir_threshold: rule.shamir_threshold,
        selection: rule.selection.clone(),
        mac_only_encrypted: rule.mac_only_encrypted,
        description: format!("{} of {}", rule.describe(), rules_file.path.display()),
        scopes: rule.scope_specs(),
    })
}

/// The seal policy for `file` (`None`: stdin, decided as for a file in the
/// working directory); see [`rules::seal_policy`].
pub fn seal_policy(file: Option<&Path>) -> SealPolicy {
    let abs = match file {
        Some(f) => absolute(f),
        None => absolute(Path::new("stdin")),
    };
    rules::seal_policy(&abs)
}
