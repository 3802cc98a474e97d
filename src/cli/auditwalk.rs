//! The audit walk shared by `audit` and `check`: the git plumbing (one
//! `git log` per file, one `git cat-file --batch` process for every blob
//! of the run), the rules read once per run, and the overdue secrets
//! `check` reports. The blobs stay in memory; the library opens them
//! (`botsecrets::audit`). SECURITY: nothing here prints a value; no
//! plaintext is written anywhere.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use anyhow::{Context, Result};
use botsecrets::audit::{self, AuditError, BlobFailure, Blobs, Finding, Reader, Secret, WalkInput};
use botsecrets::document::DocumentError;
use botsecrets::format::FormatKind;
use botsecrets::keys::Identity;
use botsecrets::metadata::Metadata;
use botsecrets::path::KeyPath;
use botsecrets::rules::{self, RulesError, RulesFile};
use zeroize::Zeroizing;

use super::gitcmd::{git, toplevel, worktree_files};
use super::report::UserError;

/// `git cat-file --batch`, one process for the whole run.
pub(super) struct CatFile {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl CatFile {
    fn start(top: &Path) -> Result<Self> {
        let mut child = Command::new("git")
            .args(["cat-file", "--batch"])
            .current_dir(top)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| UserError::usage(format!("cannot run git: {e}")))?;
        let stdin = child.stdin.take().context("git cat-file: no stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("git cat-file: no stdout")?);
        Ok(Self {
            child,
            stdin,
            stdout,
        })
    }
}

impl Drop for CatFile {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Blobs for CatFile {
    fn blob(&mut self, id: &str) -> Result<Zeroizing<Vec<u8>>, AuditError> {
        let fail = |reason: BlobFailure| AuditError::Blob {
            id: id.to_owned(),
            reason,
        };
        writeln!(self.stdin, "{id}")
            .and_then(|_| self.stdin.flush())
            .map_err(|e| fail(BlobFailure::Io(e)))?;
        let mut header = String::new();
        self.stdout
            .read_line(&mut header)
            .map_err(|e| fail(BlobFailure::Io(e)))?;
        let parts: Vec<&str> = header.split_whitespace().collect();
        let unexpected = || fail(BlobFailure::Unexpected(header.trim().to_owned()));
        let size: usize = match parts[..] {
            [_, "blob", size] => size.parse().map_err(|_| unexpected())?,
            _ => return Err(unexpected()),
        };
        // SECURITY: historical ciphertext only, but kept zeroized anyway.
        let mut buf = Zeroizing::new(vec![0u8; size + 1]);
        self.stdout
            .read_exact(&mut buf)
            .map_err(|e| fail(BlobFailure::Io(e)))?;
        buf.truncate(size);
        Ok(buf)
    }
}

/// One file audited.
pub(super) struct FileReport {
    pub(super) display: String,
    pub(super) rules: Option<PathBuf>,
    pub(super) rule: Option<String>,
    pub(super) readers: Vec<Reader>,
    pub(super) sealed: bool,
    pub(super) versions: usize,
    pub(super) undecryptable: usize,
    pub(super) unverified: usize,
    pub(super) secrets: Vec<Secret>,
    pub(super) findings: Vec<Finding>,
}

/// Everything a run found.
pub(super) struct Audit {
    pub(super) files: Vec<FileReport>,
    /// Covered files that are not encrypted (check reports them).
    pub(super) skipped: Vec<String>,
    pub(super) keyless: bool,
}

/// Rules files read once per run; `None` where there is none.
#[derive(Default)]
pub(super) struct Rules(HashMap<PathBuf, RulesFile>);

impl Rules {
    fn for_file(&mut self, abs: &Path) -> Result<Option<&RulesFile>> {
        let found = match rules::find(abs) {
            Ok(p) => p,
            Err(RulesError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if !self.0.contains_key(&found) {
            let text = rules::read(&found)?;
            self.0.insert(found.clone(), rules::parse(&text, &found)?);
        }
        Ok(self.0.get(&found))
    }
}

/// Key paths seen per (rules file, rule number) during a run.
pub(super) type Known = HashMap<(PathBuf, usize), Vec<KeyPath>>;

/// Seconds since the epoch.
pub(super) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Identities that need nobody to type a passphrase: every historical
/// version is opened with them, and asking once per version is no use.
pub(super) fn identities(flags: &[PathBuf]) -> Result<Vec<Identity>> {
    let ids = match super::inputs::identities(flags) {
        Ok(ids) => ids,
        // No identity at all: the ciphertext's dates, said in a note.
        Err(_) if flags.is_empty() => Vec::new(),
        Err(e) => return Err(e),
    };
    Ok(ids.into_iter().filter(|i| !i.would_prompt()).collect())
}

/// The encrypted files the rules cover in the repository at `top` (and
/// any other encrypted file git knows), as (display, absolute); the covered
/// ones that are not encrypted go to `skipped`.
pub(super) fn default_files(
    top: &Path,
    skipped: &mut Vec<String>,
) -> Result<Vec<(String, PathBuf)>> {
    let mut cache = botsecrets::rules::RulesCache::default();
    let mut out = Vec::new();
    for name in worktree_files(top)? {
        let abs = top.join(&name);
        if FormatKind::from_path(&abs).is_none() || botsecrets::rules::is_rules_file(&abs) {
            continue;
        }
        let covered = cache.covering_rule(&abs)?.is_some();
        let encrypted = read_text(&abs).is_some_and(|t| metadata_of(&abs, &t).is_some());
        if encrypted {
            out.push((name, abs));
        } else if covered && abs.is_file() {
            skipped.push(name);
        }
    }
    Ok(out)
}

pub(super) fn read_text(abs: &Path) -> Option<Zeroizing<String>> {
    let bytes = super::inputs::read_file(abs).ok()?;
    super::inputs::utf8(bytes, "").ok()
}

/// The metadata of an encrypted file's text; `None` if it is not one.
pub(super) fn metadata_of(abs: &Path, text: &str) -> Option<Metadata> {
    let kind = FormatKind::from_path(abs)?;
    if !text.contains("sops") {
        return None;
    }
    let parsed = kind.syntax().parse(text).ok()?;
    Metadata::from_tree(parsed.metadata_tree()?).ok()
}

/// Audits `files` (display name, absolute path) in the repository at `top`.
pub(super) fn audit_files(
    top: &Path,
    files: &[(String, PathBuf)],
    ids: &[Identity],
    rules: &mut Rules,
    known: &mut Known,
    progress: bool,
) -> Result<Vec<FileReport>> {
    let mut blobs = CatFile::start(top)?;
    let now = now();
    let mut out = Vec::new();
    for (n, (display, abs)) in files.iter().enumerate() {
        if progress {
            eprint!(
                "\rbotsecrets: audit: {}/{} {display:.60}\x1b[K",
                n + 1,
                files.len()
            );
        }
        let kind = super::inputs::format_for(Some(abs), None)?;
        let bytes = super::inputs::read_file(abs)?;
        let text = super::inputs::utf8(bytes, display)?;
        let meta = metadata_of(abs, &text)
            .ok_or(DocumentError::NotEncrypted)
            .with_context(|| display.clone())?;
        let rel = abs
            .strip_prefix(top)
            .map(|r| r.to_string_lossy().into_owned())
            .unwrap_or_else(|_| display.clone());
        let log = audit::parse_log(&git(top, &to_refs(&audit::log_args(&rel)))?)?;
        let history = audit::walk(
            &WalkInput {
                kind,
                log: &log,
                current: Some(&text),
                now,
                identities: ids,
            },
            &mut blobs,
        )
        .with_context(|| display.clone())?;
        let rf = rules.for_file(abs)?;
        let rule = rf.and_then(|f| f.rule_by_path(abs));
        let readers = audit::readers(&meta, rf);
        let secrets = audit::assess(&history, rule, &readers, now);
        let findings = audit::findings(&meta, &readers, rf, abs);
        out.push(FileReport {
            display: display.clone(),
            rules: rf.map(|f| f.path.clone()),
            rule: rule.map(|r| r.describe()),
            readers,
            sealed: meta.seal.is_some(),
            versions: history.versions,
            undecryptable: history.undecryptable,
            unverified: history.unverified,
            secrets,
            findings,
        });
        // For the policy check below: every path of the file.
        let rule_no = rule.map(|r| r.number);
        if let (Some(f), Some(no)) = (rf, rule_no) {
            known
                .entry((f.path.clone(), no))
                .or_default()
                .extend(history.all_paths.iter().cloned());
        }
    }
    if progress {
        eprint!("\r\x1b[K");
    }
    Ok(out)
}

pub(super) fn to_refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Key paths of the files the rules cover that were not audited (when
/// FILES were given): what a policy's `paths:` may name.
pub(super) fn note_known_paths(
    files: &[(String, PathBuf)],
    rules: &mut Rules,
    known: &mut Known,
) -> Result<()> {
    for (_, abs) in files {
        let Some(text) = read_text(abs) else { continue };
        let Some(kind) = FormatKind::from_path(abs) else {
            continue;
        };
        let Ok(parsed) = kind.syntax().parse(&text) else {
            continue;
        };
        let Some(rf) = rules.for_file(abs)? else {
            continue;
        };
        let Some(rule) = rf.rule_by_path(abs) else {
            continue;
        };
        let paths: Vec<KeyPath> = parsed
            .values_in_order()
            .into_iter()
            .map(|(p, _)| p.into_owned())
            .collect();
        known
            .entry((rf.path.clone(), rule.number))
            .or_default()
            .extend(paths);
    }
    Ok(())
}

/// A rotation policy naming a path no file has is a rules error (exit 5).
pub(super) fn check_policies(rules: &Rules, known: &Known) -> Result<()> {
    for (path, rf) in &rules.0 {
        let mine: HashMap<usize, Vec<KeyPath>> = known
            .iter()
            .filter(|((p, _), _)| p == path)
            .map(|((_, n), v)| (*n, v.clone()))
            .collect();
        audit::check_policy_paths(rf, &mine)?;
    }
    Ok(())
}

pub(super) fn run_audit(files: &[PathBuf], flags: &[PathBuf], progress: bool) -> Result<Audit> {
    let top = toplevel()?;
    let top = std::fs::canonicalize(&top).unwrap_or(top);
    let cwd = std::env::current_dir()?;
    let mut skipped = Vec::new();
    let covered = default_files(&top, &mut skipped)?;
    let chosen: Vec<(String, PathBuf)> = if files.is_empty() {
        covered.clone()
    } else {
        skipped.clear();
        files
            .iter()
            .map(|f| (f.display().to_string(), rules::absolute(f, &cwd)))
            .collect()
    };
    let ids = identities(flags)?;
    let mut rules = Rules::default();
    let mut known = Known::new();
    let reports = audit_files(&top, &chosen, &ids, &mut rules, &mut known, progress)?;
    if !files.is_empty() {
        let others: Vec<(String, PathBuf)> = covered
            .into_iter()
            .filter(|(_, a)| !chosen.iter().any(|(_, c)| c == a))
            .collect();
        note_known_paths(&others, &mut rules, &mut known)?;
    }
    check_policies(&rules, &known)?;
    Ok(Audit {
        files: reports,
        skipped,
        keyless: ids.is_empty(),
    })
}

/// One overdue secret, for `check`.
pub(super) struct Overdue {
    /// The file, as named.
    pub file: String,
    /// The message: path, age, limit, readers.
    pub message: String,
}

/// The overdue secrets of `files` (display, absolute) whose rules have a
/// rotation policy; nothing outside a git repository. For `check`.
pub(super) fn overdue(files: &[(String, PathBuf)], flags: &[PathBuf]) -> Result<Vec<Overdue>> {
    let Ok(top) = toplevel() else {
        return Ok(Vec::new());
    };
    let top = std::fs::canonicalize(&top).unwrap_or(top);
    let mut rules = Rules::default();
    let mut wanted = Vec::new();
    for (display, abs) in files {
        let has_policy = match rules.for_file(abs) {
            Ok(Some(rf)) => rf.rule_by_path(abs).is_some_and(|r| r.rotation.is_some()),
            _ => false,
        };
        if has_policy && read_text(abs).is_some_and(|t| metadata_of(abs, &t).is_some()) {
            wanted.push((display.clone(), abs.clone()));
        }
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let ids = identities(flags)?;
    let reports = audit_files(&top, &wanted, &ids, &mut rules, &mut Known::new(), false)?;
    Ok(reports
        .iter()
        .flat_map(|f| {
            f.secrets
                .iter()
                .filter(|s| s.is_overdue())
                .map(|s| Overdue {
                    file: f.display.clone(),
                    message: s.age_line(),
                })
        })
        .collect())
}
