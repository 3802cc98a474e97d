//! `botsecrets check`: are the files about to be committed (or in CI, the
//! tracked files) safe?
//!
//! Per file, one of three checks:
//! - an encrypted file (it has `sops` metadata): its structure, for
//!   everyone (metadata, every `ENC[...]` well-formed, no plaintext where
//!   its rule wants ciphertext); its MAC, for those holding a key (no key:
//!   a note, not a failure); and the key patterns over its clear values;
//! - a file a creation rule covers (a rule with a `path_regex`; a catch-all
//!   rule only names recipients) that is not encrypted: a finding;
//! - any other file: the key patterns of `git::scan`, and the dotenv rule.
//!
//! Binary (non-UTF-8) files are skipped. SECURITY: a finding names the
//! file, the line and the rule, never the text that matched.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use botsecrets::document::{self, DocumentError};
use botsecrets::format::FormatKind;
use botsecrets::git::scan;
use botsecrets::keys::Identity;
use botsecrets::rules::{self, RulesError, RulesFile};

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
            let text = std::fs::read_to_string(&found).map_err(|e| RulesError::Io {
                file: found.clone(),
                reason: e.to_string(),
            })?;
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
}

/// Runs `check`.
pub fn run(args: &CheckArgs) -> Result<()> {
    let cwd = std::env::current_dir()?;
    let candidates = gather(args, &cwd)?;
    let allow = parse_allow(&args.allow, &cwd)?;
    let mut cache = RulesCache::default();
    let mut ids = Identities::NotLoaded;
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    let mut skipped = Vec::new();
    let checked = candidates.len();
    for c in candidates {
        let Ok(text) = String::from_utf8(c.bytes) else {
            skipped.push(c.display);
            continue;
        };
        let text = zeroize::Zeroizing::new(text);
        let mut found = check_file(
            &c.display, &c.abs, &text, args, &mut cache, &mut ids, &mut notes,
        )?;
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
        let doc = serde_json::json!({
            "findings": list,
            "checked": checked - skipped.len(),
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
    if findings.is_empty() {
        if !args.json {
            eprintln!(
                "botsecrets: check: {} file(s) checked, no problems",
                checked - skipped.len()
            );
        }
        return Ok(());
    }
    let files: std::collections::BTreeSet<&str> =
        findings.iter().map(|f| f.file.as_str()).collect();
    Err(UserError::with_code(
        code::CHECK_FAILED,
        format!(
            "check: {} problem(s) in {} file(s){}",
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
    let parsed_encrypted = kind.is_some_and(|k| {
        text.contains("sops") && k.syntax().parse(text).is_ok_and(|p| !p.metadata.is_empty())
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
                DocumentError::MacMissing | DocumentError::MacUndecryptable => ("bad-mac", restore.clone()),
                _ => ("bad-metadata", restore.clone()),
            };
            out.push(finding(p.line(), rule, p.to_string(), fix));
        }
        if problems.is_empty() {
            if let Some(ids) = ids.get(&args.identity.identities) {
                match document::open(text, kind, ids, false) {
                    Ok(_) => {}
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

/// The files to check.
fn gather(args: &CheckArgs, cwd: &Path) -> Result<Vec<Candidate>> {
    let wanted: Vec<PathBuf> = args.paths.iter().map(|p| rules::absolute(p, cwd)).collect();
    let mut out = Vec::new();
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
                continue;
            };
            out.push(Candidate {
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
                walk(abs, &given.display().to_string(), &mut files)?;
            } else {
                files.push((given.display().to_string(), abs.clone()));
            }
        }
    }
    for (display, abs) in files {
        match std::fs::read(&abs) {
            Ok(bytes) => out.push(Candidate {
                display,
                abs,
                bytes,
            }),
            // A tracked file deleted in the working tree.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && args.paths.is_empty() => {}
            Err(e) => return Err(UserError::io(&abs, e).into()),
        }
    }
    Ok(out)
}

/// Every file under `dir` (not following symlinks, skipping `.git`).
fn walk(dir: &Path, display: &str, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
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
                walk(&path, &shown, out)?;
            }
        } else if ft.is_file() {
            out.push((shown, path));
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
