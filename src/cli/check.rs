//! `botsecrets check`: are the files about to be committed (or in CI, the
//! tracked files) safe?
//!
//! Per file, one of three checks:
//! - an encrypted file (it has `sops` metadata, or looks encrypted: it holds
//!   `ENC[...]` values or a metadata marker): its structure, for everyone
//!   (it parses, the metadata is there and valid, every `ENC[...]`
//!   well-formed, the selection rule and the values agree); its values and
//!   MAC, for those holding a key (no key: a note, not a failure); and the
//!   key patterns over its clear values. A damaged one (truncated, broken
//!   `sops` block, not UTF-8) is a finding, never skipped;
//! - a file a creation rule covers (a rule with a `path_regex`; a catch-all
//!   rule only names recipients) that is not encrypted: a finding;
//! - any other file: the key patterns of `git::scan`, and the dotenv rule.
//!
//! A file that is not UTF-8 text is scanned for the key patterns with its
//! invalid bytes replaced (a token in a Latin-1 file is found); the summary
//! counts those and the files skipped (not regular files, submodules), and
//! says why. SECURITY: a finding names the file, the line and the rule,
//! never the text that matched.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use botsecrets::document::{self, DocumentError, OpenOptions};
use botsecrets::format::FormatKind;
use botsecrets::git::scan;
use botsecrets::keys::Identity;
use botsecrets::metadata::Metadata;
use botsecrets::rules::{self, RulesError, RulesFile};
use botsecrets::seal::SealPolicy;

use super::args::CheckArgs;
use super::git::{git, nul_list, quiet_identities, toplevel};
use super::report::{code, UserError};

/// One problem.
struct Finding {
    file: String,
    line: Option<usize>,
    rule: String,
    message: String,
    fix: String,
}

/// A file to check: how to name it, where it is, and its bytes.
struct Candidate {
    display: String,
    abs: PathBuf,
    bytes: Vec<u8>,
}

/// A file that was not checked at all, and why.
struct Skipped {
    display: String,
    reason: &'static str,
}

/// What was gathered: the files to check and those skipped.
#[derive(Default)]
struct Gathered {
    files: Vec<Candidate>,
    skipped: Vec<Skipped>,
}

/// `; 2 not UTF-8 (key patterns only); 1 skipped (1 not a regular file)`,
/// or nothing.
fn summary_extra(not_utf8: usize, skipped: &[Skipped]) -> String {
    let mut out = String::new();
    if not_utf8 > 0 {
        out.push_str(&format!(
            "; {not_utf8} not UTF-8 text (scanned for key patterns only)"
        ));
    }
    if !skipped.is_empty() {
        let mut why: std::collections::BTreeMap<&str, usize> = Default::default();
        for s in skipped {
            *why.entry(s.reason).or_default() += 1;
        }
        let why: Vec<String> = why.iter().map(|(r, n)| format!("{n} {r}")).collect();
        out.push_str(&format!("; {} skipped ({})", skipped.len(), why.join(", ")));
    }
    out
}

/// Whether `path` is a rules file (never required to be encrypted).
pub fn is_rules_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| rules::RULES_FILE_NAMES.contains(&n))
}

/// Rules files read once per run.
#[derive(Default)]
pub struct RulesCache {
    files: HashMap<PathBuf, RulesFile>,
}

impl RulesCache {
    /// The rule (`rule N (line L, path_regex R) of FILE`) that says `abs`
    /// must be encrypted: a matching rule with a `path_regex`. A malformed
    /// rules file is an error.
    pub fn covering_rule(&mut self, abs: &Path) -> Result<Option<String>> {
        let found = match rules::find(abs) {
            Ok(p) => p,
            Err(RulesError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if !self.files.contains_key(&found) {
            let text = rules::read(&found)?;
            self.files
                .insert(found.clone(), rules::parse(&text, &found)?);
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

    /// The seal policy for `abs` (see `rules::seal_policy`), from the
    /// cached rules file.
    pub fn seal_policy(&mut self, abs: &Path) -> SealPolicy {
        let found = match rules::find(abs) {
            Ok(p) => p,
            Err(_) => return SealPolicy::Warn,
        };
        if !self.files.contains_key(&found) {
            let parsed = std::fs::read_to_string(&found)
                .ok()
                .and_then(|text| rules::parse(&text, &found).ok());
            match parsed {
                Some(rf) => {
                    self.files.insert(found.clone(), rf);
                }
                None if found
                    .file_name()
                    .is_some_and(|n| n == rules::RULES_FILE_NAMES[0]) =>
                {
                    return SealPolicy::Required
                }
                None => return SealPolicy::Warn,
            }
        }
        self.files[&found].seal_policy(abs)
    }
}

/// Runs `check`.
pub fn run(args: &CheckArgs) -> Result<()> {
    let cwd = std::env::current_dir()?;
    let Gathered {
        files: candidates,
        skipped,
    } = gather(args, &cwd)?;
    let allow = parse_allow(&args.allow, &cwd)?;
    let mut cache = RulesCache::default();
    let mut ids = Identities::NotLoaded;
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    let mut not_utf8 = Vec::new();
    let checked = candidates.len();
    let mut encrypted = Vec::new();
    for c in candidates {
        let mut found = match String::from_utf8(c.bytes) {
            Ok(text) => {
                let text = zeroize::Zeroizing::new(text);
                if document::looks_encrypted(&text) {
                    encrypted.push(c.abs.clone());
                }
                check_file(
                    &c.display, &c.abs, &text, args, &mut cache, &mut ids, &mut notes,
                )?
            }
            Err(e) => {
                not_utf8.push(c.display.clone());
                let bytes = zeroize::Zeroizing::new(e.into_bytes());
                check_not_utf8(&c.display, &c.abs, &bytes, args, &mut cache)?
            }
        };
        found.retain(|f| {
            !allow
                .iter()
                .any(|(p, line)| *p == c.abs && line.is_none_or(|l| Some(l) == f.line))
        });
        findings.extend(found);
    }
    if let Identities::None(why) = &ids {
        notes.insert(0, format!("MACs not checked (structure only): {why}"));
    }
    // Not a finding: the file is safe, only its diffs and merges suffer.
    notes.extend(super::gitattr::missing_notes(&encrypted));
    if args.json {
        let list: Vec<serde_json::Value> = findings
            .iter()
            .map(|f| {
                serde_json::json!({
                    "file": f.file,
                    "line": f.line,
                    "rule": f.rule,
                    "message": f.message,
                    "fix": f.fix,
                })
            })
            .collect();
        let skipped: Vec<serde_json::Value> = skipped
            .iter()
            .map(|s| serde_json::json!({"file": s.display, "reason": s.reason}))
            .collect();
        let doc = serde_json::json!({
            "findings": list,
            "checked": checked,
            "not_utf8": not_utf8,
            "skipped": skipped,
            "notes": notes,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for f in &findings {
            match f.line {
                Some(l) => println!("{}:{l}: {}: {}", f.file, f.rule, f.message),
                None => println!("{}: {}: {}", f.file, f.rule, f.message),
            }
            println!("    fix: {}", f.fix);
        }
        for n in &notes {
            eprintln!("botsecrets: note: {n}");
        }
    }
    let extra = summary_extra(not_utf8.len(), &skipped);
    if findings.is_empty() {
        if !args.json {
            eprintln!("botsecrets: check: {checked} file(s) checked, no problems{extra}");
        }
        return Ok(());
    }
    let files: std::collections::BTreeSet<&str> =
        findings.iter().map(|f| f.file.as_str()).collect();
    Err(UserError::with_code(
        code::CHECK_FAILED,
        format!(
            "check: {} problem(s) in {} file(s){extra}{}",
            findings.len(),
            files.len(),
            if args.staged { "; the commit was stopped" } else { "" }
        ),
        Some("fix each one as shown; for a reviewed false positive add `botsecrets:allow` to the line, or pass --allow FILE[:LINE]"),
    )
    .into())
}

/// Identities, loaded on the first encrypted file.
enum Identities {
    NotLoaded,
    Some(Vec<Identity>),
    None(String),
}

impl Identities {
    fn get(&mut self, flags: &[PathBuf]) -> Option<&[Identity]> {
        if let Identities::NotLoaded = self {
            *self = match quiet_identities(flags) {
                Some(ids) => Identities::Some(ids),
                None => Identities::None(
                    "no identity found (set BOTSECRETS_AGE_KEY_FILE or pass --identity to check them)"
                        .into(),
                ),
            };
        }
        match self {
            Identities::Some(ids) => Some(ids),
            _ => None,
        }
    }
}

fn check_file(
    display: &str,
    abs: &Path,
    text: &str,
    args: &CheckArgs,
    cache: &mut RulesCache,
    ids: &mut Identities,
    notes: &mut Vec<String>,
) -> Result<Vec<Finding>> {
    let mut out = Vec::new();
    let finding = |line, rule: &str, message: String, fix: String| Finding {
        file: display.to_owned(),
        line,
        rule: rule.to_owned(),
        message,
        fix,
    };
    let kind = FormatKind::from_path(abs);
    // SECURITY: a damaged encrypted file (it no longer parses, its sops
    // block is broken or gone) still looks encrypted, and is checked as one:
    // its problems are findings instead of it passing as a plain file.
    let parsed_encrypted = kind.is_some_and(|k| {
        document::looks_encrypted(text)
            || (text.contains("sops")
                && k.syntax().parse(text).is_ok_and(|p| !p.metadata.is_empty()))
    });
    let restore = format!(
        "restore it from version control (`git checkout -- {display}`), or write it again with `botsecrets edit {display}`"
    );
    if let (Some(kind), true) = (kind, parsed_encrypted) {
        let problems = document::check_structure(text, kind);
        for p in &problems {
            let (rule, fix) = match p {
                DocumentError::SelectionMismatch {
                    found: document::Mismatch::ClearValue,
                    ..
                } => (
                    "plaintext-value",
                    format!("this value must be encrypted: restore the file from version control and set the value with `botsecrets set {display} PATH --stdin`"),
                ),
                DocumentError::SelectionMismatch { .. } => (
                    "selection-mismatch",
                    format!("the sops metadata's selection rule was changed: see the raw change with `git log -p --no-textconv -- {display}` and restore the file from version control"),
                ),
                DocumentError::Value { .. } => ("bad-value", restore.clone()),
                DocumentError::Format(_) => ("bad-syntax", restore.clone()),
                DocumentError::NotEncrypted => {
                    out.push(finding(
                        None,
                        "bad-metadata",
                        "the file holds ENC[...] values but no sops metadata: it was damaged, or the metadata was removed".into(),
                        restore.clone(),
                    ));
                    continue;
                }
                DocumentError::MacMissing | DocumentError::MacUndecryptable => ("bad-mac", restore.clone()),
                _ => ("bad-metadata", restore.clone()),
            };
            out.push(finding(p.line(), rule, p.to_string(), fix));
        }
        let unsealed = problems.is_empty()
            && kind
                .syntax()
                .parse(text)
                .ok()
                .and_then(|p| p.metadata_tree().map(Metadata::from_tree))
                .is_some_and(|m| m.is_ok_and(|m| m.seal.is_none()));
        if unsealed {
            let why = "the file has no seal (sops.botsecrets_seal): its key names, clear values, selection rule and recipients are not authenticated";
            let fix = format!("check its history (`git log -p --no-textconv {display}`), then `botsecrets seal {display}`");
            match cache.seal_policy(abs) {
                SealPolicy::Required => out.push(finding(None, "unsealed", why.to_owned(), fix)),
                SealPolicy::Warn => notes.push(format!("{display}: {why}; {fix}")),
            }
        }
        if problems.is_empty() {
            if let Some(ids) = ids.get(&args.identity.identities) {
                match document::open(text, kind, ids, &OpenOptions::with_seal(SealPolicy::Warn)) {
                    Ok(_) => {}
                    Err(e @ DocumentError::SealMismatch) => out.push(finding(
                        None,
                        "seal-mismatch",
                        e.to_string(),
                        format!("see the raw change with `git log -p --no-textconv {display}`; {restore}"),
                    )),
                    // A stanza for one of our own recipients that none of
                    // our identities opens was damaged.
                    Err(e @ DocumentError::NoMatchingIdentity { .. })
                        if own_stanza_broken(&e) =>
                    {
                        out.push(finding(
                            None,
                            "bad-key",
                            "the data key wrapped for your recipient does not open with your identity: the file was damaged".into(),
                            restore.clone(),
                        ))
                    }
                    Err(DocumentError::NoMatchingIdentity { .. }) => notes.push(format!(
                        "{display}: MAC not checked: none of your identities is a recipient"
                    )),
                    Err(
                        e @ (DocumentError::MacMismatch
                        | DocumentError::MacUndecryptable
                        | DocumentError::MacMissing),
                    ) => out.push(finding(
                        None,
                        "mac-mismatch",
                        e.to_string(),
                        restore.clone(),
                    )),
                    Err(e) => out.push(finding(
                        e.line(),
                        "bad-value",
                        e.to_string(),
                        restore.clone(),
                    )),
                }
            }
        }
        for hit in scan::scan_patterns(text) {
            out.push(finding(
                Some(hit.line),
                hit.rule,
                format!("{} in a clear value", hit.what),
                format!("encrypt that value: `botsecrets set {display} PATH --stdin` with a key name the selection rule encrypts (not ending in _unencrypted)"),
            ));
        }
        return Ok(out);
    }
    if kind.is_some() && !is_rules_file(abs) {
        if let Some(rule) = cache.covering_rule(abs)? {
            let what = if args.staged {
                "the staged version"
            } else {
                "it"
            };
            out.push(finding(
                None,
                "not-encrypted",
                format!("{rule} says this file is encrypted, but {what} is not"),
                format!("`botsecrets encrypt --in-place {display}`, then `git add {display}`"),
            ));
            return Ok(out);
        }
    }
    let name = abs.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    for hit in scan::scan(name, text) {
        let fix = if hit.rule == "dotenv-value" {
            format!("encrypt the file: `botsecrets encrypt --in-place {display}` (or keep only placeholder values in a `.env.example`)")
        } else {
            "move the secret into an encrypted file (`botsecrets set secrets.yaml KEY --stdin`), and rotate it at the provider if it was ever pushed".to_owned()
        };
        out.push(finding(Some(hit.line), hit.rule, hit.what.to_owned(), fix));
    }
    Ok(out)
}

/// Whether a failure to open names one of the identities tried among the
/// file's recipients (so its stanza is there, but broken).
fn own_stanza_broken(e: &DocumentError) -> bool {
    let DocumentError::NoMatchingIdentity { recipients, tried } = e else {
        return false;
    };
    tried
        .iter()
        .any(|(public, _)| recipients.iter().any(|r| r == public))
}

/// A file that is not UTF-8 text: one that looks encrypted was damaged (a
/// finding); any other is checked as a plain file, its invalid bytes
/// replaced: the creation rules, the key patterns and the dotenv rule.
fn check_not_utf8(
    display: &str,
    abs: &Path,
    bytes: &[u8],
    args: &CheckArgs,
    cache: &mut RulesCache,
) -> Result<Vec<Finding>> {
    let finding = |line, rule: &str, message: String, fix: String| Finding {
        file: display.to_owned(),
        line,
        rule: rule.to_owned(),
        message,
        fix,
    };
    let mut out = Vec::new();
    let kind = FormatKind::from_path(abs);
    let lossy = zeroize::Zeroizing::new(String::from_utf8_lossy(bytes).into_owned());
    if kind.is_some() && document::looks_encrypted(&lossy) {
        out.push(finding(
            None,
            "bad-encoding",
            "the file looks encrypted but is not UTF-8 text: it was damaged".into(),
            format!("restore it from version control (`git checkout -- {display}`)"),
        ));
        for hit in scan::scan_patterns(&lossy) {
            out.push(finding(
                Some(hit.line),
                hit.rule,
                format!("{} in a clear value", hit.what),
                format!("encrypt that value with `botsecrets set {display} PATH --stdin`"),
            ));
        }
        return Ok(out);
    }
    if kind.is_some() && !is_rules_file(abs) {
        if let Some(rule) = cache.covering_rule(abs)? {
            let what = if args.staged {
                "the staged version"
            } else {
                "it"
            };
            out.push(finding(
                None,
                "not-encrypted",
                format!("{rule} says this file is encrypted, but {what} is not (nor UTF-8 text)"),
                format!("convert it to UTF-8, then `botsecrets encrypt --in-place {display}`"),
            ));
            return Ok(out);
        }
    }
    let name = abs.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    for hit in scan::scan_bytes(name, bytes) {
        out.push(finding(
            Some(hit.line),
            hit.rule,
            hit.what.to_owned(),
            "move the secret into an encrypted file (`botsecrets set secrets.yaml KEY --stdin`), and rotate it at the provider if it was ever pushed".to_owned(),
        ));
    }
    Ok(out)
}

/// The files to check.
fn gather(args: &CheckArgs, cwd: &Path) -> Result<Gathered> {
    let wanted: Vec<PathBuf> = args.paths.iter().map(|p| rules::absolute(p, cwd)).collect();
    let mut out = Gathered::default();
    if args.staged {
        let top = toplevel()?;
        let names = nul_list(&git(
            &top,
            &[
                "diff",
                "--cached",
                "--name-only",
                "-z",
                "--diff-filter=ACMR",
            ],
        )?);
        for name in names {
            let abs = rules::absolute(&top.join(&name), cwd);
            if !wanted.is_empty() && !wanted.iter().any(|w| abs.starts_with(w)) {
                continue;
            }
            // Submodules and the like have no blob: nothing to check.
            let Ok(bytes) = git(&top, &["cat-file", "blob", &format!(":{name}")]) else {
                out.skipped.push(Skipped {
                    display: name,
                    reason: "submodule or other non-file entry",
                });
                continue;
            };
            out.files.push(Candidate {
                display: name,
                abs,
                bytes,
            });
        }
        return Ok(out);
    }
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    if args.paths.is_empty() {
        toplevel()?;
        for name in nul_list(&git(cwd, &["ls-files", "-z"])?) {
            let abs = rules::absolute(&cwd.join(&name), cwd);
            files.push((name, abs));
        }
    } else {
        for (given, abs) in args.paths.iter().zip(&wanted) {
            if abs.is_dir() {
                walk(
                    abs,
                    &given.display().to_string(),
                    &mut files,
                    &mut out.skipped,
                )?;
            } else {
                files.push((given.display().to_string(), abs.clone()));
            }
        }
    }
    for (display, abs) in files {
        // Bounded, and only regular files: a FIFO or a device given (or
        // reached through a tracked symlink) is refused at once.
        match super::inputs::read_file(&abs) {
            Ok(mut bytes) => out.files.push(Candidate {
                display,
                abs,
                bytes: std::mem::take(&mut *bytes),
            }),
            // A tracked file deleted in the working tree.
            Err(e)
                if args.paths.is_empty()
                    && matches!(
                        e.downcast_ref::<botsecrets::fsio::FsError>(),
                        Some(botsecrets::fsio::FsError::NotFound { .. })
                    ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Every file under `dir` (not following symlinks, skipping `.git`).
fn walk(
    dir: &Path,
    display: &str,
    out: &mut Vec<(String, PathBuf)>,
    skipped: &mut Vec<Skipped>,
) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| UserError::io(dir, e))?
        .filter_map(|e| e.ok())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        let shown = format!("{}/{name}", display.trim_end_matches('/'));
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            if name != ".git" {
                walk(&path, &shown, out, skipped)?;
            }
        } else if ft.is_file() {
            out.push((shown, path));
        } else {
            skipped.push(Skipped {
                display: shown,
                reason: "symlink or special file",
            });
        }
    }
    Ok(())
}

/// `--allow PATH[:LINE]` as (absolute path, line).
fn parse_allow(items: &[String], cwd: &Path) -> Result<Vec<(PathBuf, Option<usize>)>> {
    let mut out = Vec::new();
    for item in items {
        let (path, line) = match item.rsplit_once(':') {
            Some((p, l))
                if !p.is_empty() && !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()) =>
            {
                let line = l
                    .parse::<usize>()
                    .map_err(|_| UserError::usage(format!("--allow {item}: bad line number")))?;
                (p, Some(line))
            }
            _ => (item.as_str(), None),
        };
        out.push((rules::absolute(Path::new(path), cwd), line));
    }
    Ok(out)
}
