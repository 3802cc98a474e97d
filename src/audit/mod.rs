//! `audit`: who can read each secret, when its **value** last changed, and
//! which secrets are overdue for rotation under the rules' policy.
//!
//! - [`log`]: the one `git log` per file that lists its versions;
//! - [`history`]: the versions opened in memory and compared per key path
//!   (a re-encryption, rotation, recipient change or move is not a change);
//! - here: readers, the policy's verdict per secret ([`assess`]), and the
//!   findings beyond age ([`findings`]): unsealed files, drift from the
//!   rule, recipients no rule names, revoked keys still reading.
//!
//! Readers are the file's owners (its recipients) and each scope's readers
//! (for the paths their scope covers), named from the rules' `keys:`.
//! Nothing here runs a process or prints: the CLI feeds the git output and
//! the blobs in. SECURITY: no value, and no digest of one, leaves this
//! module; reports carry key paths, commits, dates and recipients.

use std::collections::HashMap;
use std::path::Path;

use crate::keys::same_recipient;
use crate::metadata::Metadata;
use crate::path::KeyPath;
use crate::rules::rotation::Limit;
use crate::rules::{CreationRule, RulesError, RulesFile};

pub mod history;
pub mod log;

pub use history::{walk, Blobs, Change, FileHistory, PathHistory, WalkInput};
pub use log::{log_args, parse_log, Commit, LogEntry};

/// Errors of the audit layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// git printed something this module does not understand.
    #[error("unexpected output from git log: {0}")]
    GitOutput(String),
    /// A blob could not be read from git.
    #[error("cannot read blob {id} from git: {reason}")]
    Blob {
        /// The blob id.
        id: String,
        /// Why.
        reason: BlobFailure,
    },
    /// No random salt for the value digests.
    #[error("the system's random number generator failed: {0}")]
    Random(getrandom::Error),
}

/// Why a blob could not be read from git (the cause is in the text, once).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlobFailure {
    /// Talking to `git cat-file` failed.
    #[error("{0}")]
    Io(std::io::Error),
    /// git's answer was not a blob header (`<id> blob <size>`).
    #[error("git answered {0:?}")]
    Unexpected(String),
}

/// Who can read a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    /// The recipient (`age1...`, `ssh-ed25519 ...`).
    pub recipient: String,
    /// Its name in the rules' `keys:`, if any.
    pub name: Option<String>,
    /// `None` for an owner (reads every value); else the scope it reads.
    pub scope: Option<ReaderScope>,
}

/// The scope a scope reader reads: its name and the paths it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderScope {
    /// The scope's name.
    pub name: String,
    /// Its key paths (each may name a subtree).
    pub paths: Vec<KeyPath>,
}

impl Reader {
    /// The short form for a table: the name, else the recipient cut to
    /// `age10fsp0t…sxyvm9n`.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => crate::keys::recipient::abbreviated(&self.recipient),
        }
    }

    /// `alice (age1...)`, or the recipient alone; a scope reader's with
    /// `[scope NAME]` after it.
    pub fn described(&self) -> String {
        let who = match &self.name {
            Some(n) => format!("{n} ({})", self.recipient),
            None => self.recipient.clone(),
        };
        match &self.scope {
            Some(s) => format!("{who} [scope {}]", s.name),
            None => who,
        }
    }

    /// Whether this reader can read the secret at `path`: an owner reads
    /// all; a scope reader what its scope's paths cover.
    pub fn reads(&self, path: &KeyPath) -> bool {
        match &self.scope {
            None => true,
            Some(s) => s.paths.iter().any(|p| path.starts_with(p)),
        }
    }
}

/// The readers of a file: its age recipients (every key group, once each),
/// then each scope's readers, once per scope.
pub fn readers(meta: &Metadata, rules: Option<&RulesFile>) -> Vec<Reader> {
    let name = |r: &str| rules.and_then(|f| f.name_of(r)).map(str::to_owned);
    let mut out: Vec<Reader> = Vec::new();
    for r in meta.recipients() {
        if out.iter().any(|o| same_recipient(&o.recipient, r)) {
            continue;
        }
        out.push(Reader {
            recipient: r.to_owned(),
            name: name(r),
            scope: None,
        });
    }
    for scope in &meta.scopes {
        let paths: Vec<KeyPath> = scope
            .paths
            .iter()
            .filter_map(|p| KeyPath::parse(p).ok())
            .collect();
        for stanza in &scope.recipients {
            let r = stanza.recipient.as_str();
            // An owner reads the scope's values already.
            if meta.recipients().any(|o| same_recipient(o, r)) {
                continue;
            }
            out.push(Reader {
                recipient: r.to_owned(),
                name: name(r),
                scope: Some(ReaderScope {
                    name: scope.name.clone(),
                    paths: paths.clone(),
                }),
            });
        }
    }
    out
}

/// The policy's verdict on one secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Within its limit.
    Ok,
    /// Older than its limit.
    Overdue,
    /// No limit applies.
    NoPolicy,
}

impl Status {
    /// `ok`, `overdue`, `no policy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Overdue => "overdue",
            Status::NoPolicy => "no policy",
        }
    }
}

/// One secret, assessed.
#[derive(Debug, Clone)]
pub struct Secret {
    /// Its key path.
    pub path: KeyPath,
    /// Its value's last change.
    pub changed: Change,
    /// Whole days since then.
    pub age_days: i64,
    /// The limit that applies.
    pub limit: Option<Limit>,
    /// The verdict.
    pub status: Status,
    /// Who can read it.
    pub readers: Vec<Reader>,
}

impl Secret {
    /// Whether the rotation policy finds it overdue.
    pub fn is_overdue(&self) -> bool {
        self.status == Status::Overdue
    }

    /// One line on its age against its limit, and its readers:
    /// `stripe.secret_key: 100 days old, limit 30d; readers: alice, ci`.
    pub fn age_line(&self) -> String {
        let readers: Vec<String> = self.readers.iter().map(Reader::described).collect();
        format!(
            "{}: {}{} days old, limit {}; readers: {}",
            self.path,
            if self.changed.approximate {
                "about "
            } else {
                ""
            },
            self.age_days,
            self.limit.as_ref().map_or("-", |l| l.text.as_str()),
            readers.join(", ")
        )
    }
}

/// Whole days from `time` to `now` (never negative: a clock skew is 0).
pub fn age_days(now: i64, time: i64) -> i64 {
    (now - time).max(0) / 86_400
}

/// Each secret of `history` under `rule`'s rotation policy. A secret is
/// overdue when its age in whole days is more than its limit (`30d`: day
/// 30 is still fine, day 31 is overdue).
pub fn assess(
    history: &FileHistory,
    rule: Option<&CreationRule>,
    readers: &[Reader],
    now: i64,
) -> Vec<Secret> {
    history
        .secrets
        .iter()
        .map(|s| {
            let age_days = age_days(now, s.changed.time);
            let limit = rule
                .and_then(|r| r.rotation.as_ref())
                .and_then(|p| p.limit_for(&s.path))
                .cloned();
            let status = match &limit {
                None => Status::NoPolicy,
                Some(l) if age_days > i64::from(l.days) => Status::Overdue,
                Some(_) => Status::Ok,
            };
            Secret {
                path: s.path.clone(),
                changed: s.changed.clone(),
                age_days,
                limit,
                status,
                readers: readers
                    .iter()
                    .filter(|r| r.reads(&s.path))
                    .cloned()
                    .collect(),
            }
        })
        .collect()
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKind {
    /// The file has no seal.
    Unsealed,
    /// The file's recipients differ from its rule's.
    Drift,
    /// A recipient that no creation rule names.
    UnknownRecipient,
    /// A key the rules file lists under `revoked:` still reads the file.
    Revoked,
}

impl FindingKind {
    /// `unsealed`, `drift`, `unknown-recipient`, `revoked`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Unsealed => "unsealed",
            FindingKind::Drift => "drift",
            FindingKind::UnknownRecipient => "unknown-recipient",
            FindingKind::Revoked => "revoked",
        }
    }
}

/// A problem with a file beyond its secrets' age.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// What, naming readers (never a value).
    pub message: String,
}

/// The findings beyond age for the file at `abs` with metadata `meta`.
pub fn findings(
    meta: &Metadata,
    readers: &[Reader],
    rules: Option<&RulesFile>,
    abs: &Path,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if meta.seal.is_none() {
        out.push(Finding {
            kind: FindingKind::Unsealed,
            message: "the file has no seal (sops.botsecrets_seal): its key names, clear values, selection rule and recipients are not authenticated".into(),
        });
    }
    let Some(rules) = rules else {
        return out;
    };
    let reader = |r: &str| Reader {
        recipient: r.to_owned(),
        name: rules.name_of(r).map(str::to_owned),
        scope: None,
    };
    if let Ok(m) = rules.rule_for(abs) {
        let drift = crate::access::drift(meta, m.rule);
        if !drift.is_empty() {
            out.push(Finding {
                kind: FindingKind::Drift,
                message: format!(
                    "the readers differ from {} of {}: {}",
                    m.rule.describe(),
                    rules.path.display(),
                    drift.summary(|r| reader(r).described())
                ),
            });
        }
    }
    for r in readers {
        if !rules.names_recipient(&r.recipient) {
            out.push(Finding {
                kind: FindingKind::UnknownRecipient,
                message: format!(
                    "{} can read this file but no creation rule of {} names it",
                    r.described(),
                    rules.path.display()
                ),
            });
        }
    }
    for revoked in &rules.revoked {
        let recipient = revoked.recipient.to_string();
        if let Some(r) = readers
            .iter()
            .find(|r| same_recipient(&r.recipient, &recipient))
        {
            let who = match &revoked.name {
                Some(n) => format!("{n} ({})", r.recipient),
                None => r.described(),
            };
            out.push(Finding {
                kind: FindingKind::Revoked,
                message: format!(
                    "{who} is revoked (line {} of {}) but can still read this file",
                    revoked.line,
                    rules.path.display()
                ),
            });
        }
    }
    out
}

/// Checks that every `rotation.paths` entry of every rule names a path (or
/// a prefix of one) that at least one of the rule's files has. `known`
/// maps a rule's number to the key paths of the files it covers; a rule
/// with no entry there covers no file looked at and is not judged.
pub fn check_policy_paths(
    rules: &RulesFile,
    known: &HashMap<usize, Vec<KeyPath>>,
) -> Result<(), RulesError> {
    for rule in &rules.rules {
        let (Some(rotation), Some(paths)) = (&rule.rotation, known.get(&rule.number)) else {
            continue;
        };
        for entry in &rotation.paths {
            if !paths.iter().any(|p| p.starts_with(&entry.path)) {
                return Err(RulesError::Invalid {
                    file: rules.path.clone(),
                    line: entry.limit.line,
                    column: entry.limit.column,
                    reason: format!(
                        "rotation.paths names {}, which no file of {} has",
                        entry.path,
                        rule.describe()
                    ),
                });
            }
        }
    }
    Ok(())
}
