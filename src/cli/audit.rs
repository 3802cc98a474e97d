//! `botsecrets audit [FILES]`: per file and per secret, who can read it,
//! when its value last changed (commit, author, age) and the rotation
//! policy's verdict; then the findings beyond age. `--check` is the CI
//! gate (exit 221 when a secret is overdue or a revoked key still reads a
//! file); `check` uses [`overdue`] for its own report.
//!
//! The git plumbing lives here: one `git log` per file, one `git cat-file
//! --batch` process for every blob of the run. The blobs stay in memory;
//! the library opens them (`botsecrets::audit`). SECURITY: nothing printed
//! holds a value; no plaintext is written anywhere.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use anyhow::{Context, Result};
use botsecrets::audit::{
    self, AuditError, Blobs, Finding, FindingKind, Reader, Secret, Status, WalkInput,
};
use botsecrets::document::DocumentError;
use botsecrets::format::FormatKind;
use botsecrets::keys::Identity;
use botsecrets::metadata::Metadata;
use botsecrets::path::KeyPath;
use botsecrets::rules::{self, RulesError, RulesFile};
use zeroize::Zeroizing;

use super::args::AuditArgs;
use super::gitcmd::{git, nul_list, toplevel};
use super::report::{code, UserError};

/// The widest the table gets.
const WIDTH: usize = 100;

/// `git cat-file --batch`, one process for the whole run.
struct CatFile {
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
        let fail = |reason: String| AuditError::Blob {
            id: id.to_owned(),
            reason,
        };
        writeln!(self.stdin, "{id}")
            .and_then(|_| self.stdin.flush())
            .map_err(|e| fail(e.to_string()))?;
        let mut header = String::new();
        self.stdout
            .read_line(&mut header)
            .map_err(|e| fail(e.to_string()))?;
        let parts: Vec<&str> = header.split_whitespace().collect();
        let size: usize = match parts[..] {
            [_, "blob", size] => size.parse().map_err(|_| fail("bad size".into()))?,
            _ => return Err(fail(format!("git answered {:?}", header.trim()))),
        };
        // SECURITY: historical ciphertext only, but kept zeroized anyway.
        let mut buf = Zeroizing::new(vec![0u8; size + 1]);
        self.stdout
            .read_exact(&mut buf)
            .map_err(|e| fail(e.to_string()))?;
        buf.truncate(size);
        Ok(buf)
    }
}

/// One file audited.
struct FileReport {
    display: String,
    rules: Option<PathBuf>,
    rule: Option<String>,
    readers: Vec<Reader>,
    sealed: bool,
    versions: usize,
    undecryptable: usize,
    unverified: usize,
    secrets: Vec<Secret>,
    findings: Vec<Finding>,
}

/// Everything a run found.
struct Audit {
    files: Vec<FileReport>,
    /// Covered files that are not encrypted (check reports them).
    skipped: Vec<String>,
    keyless: bool,
}

/// Rules files read once per run; `None` where there is none.
#[derive(Default)]
struct Rules(HashMap<PathBuf, RulesFile>);

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
type Known = HashMap<(PathBuf, usize), Vec<KeyPath>>;

/// Seconds since the epoch.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Identities that need nobody to type a passphrase: every historical
/// version is opened with them, and asking once per version is no use.
fn identities(flags: &[PathBuf]) -> Result<Vec<Identity>> {
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
fn default_files(top: &Path, skipped: &mut Vec<String>) -> Result<Vec<(String, PathBuf)>> {
    let mut cache = botsecrets::rules::RulesCache::default();
    let mut out = Vec::new();
    let names = nul_list(&git(
        top,
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    )?);
    for name in names {
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

fn read_text(abs: &Path) -> Option<Zeroizing<String>> {
    let bytes = super::inputs::read_file(abs).ok()?;
    super::inputs::utf8(bytes, "").ok()
}

/// The metadata of an encrypted file's text; `None` if it is not one.
fn metadata_of(abs: &Path, text: &str) -> Option<Metadata> {
    let kind = FormatKind::from_path(abs)?;
    if !text.contains("sops") {
        return None;
    }
    let parsed = kind.syntax().parse(text).ok()?;
    Metadata::from_tree(parsed.metadata_tree()?).ok()
}

/// Audits `files` (display name, absolute path) in the repository at `top`.
fn audit_files(
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

fn to_refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Key paths of the files the rules cover that were not audited (when
/// FILES were given): what a policy's `paths:` may name.
fn note_known_paths(
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
fn check_policies(rules: &Rules, known: &Known) -> Result<()> {
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

fn run_audit(files: &[PathBuf], flags: &[PathBuf], progress: bool) -> Result<Audit> {
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
pub struct Overdue {
    /// The file, as named.
    pub file: String,
    /// The message: path, age, limit, readers.
    pub message: String,
}

/// The overdue secrets of `files` (display, absolute) whose rules have a
/// rotation policy; nothing outside a git repository. For `check`.
pub fn overdue(files: &[(String, PathBuf)], flags: &[PathBuf]) -> Result<Vec<Overdue>> {
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
                .filter(|s| s.status == Status::Overdue)
                .map(|s| Overdue {
                    file: f.display.clone(),
                    message: overdue_line(s),
                })
        })
        .collect())
}

/// `stripe.secret_key: 100 days old, limit 30d; readers: alice, ci`.
fn overdue_line(s: &Secret) -> String {
    let readers: Vec<String> = s.readers.iter().map(Reader::described).collect();
    format!(
        "{}: {}{} days old, limit {}; readers: {}",
        s.path,
        if s.changed.approximate { "about " } else { "" },
        s.age_days,
        s.limit.as_ref().map_or("-", |l| l.text.as_str()),
        readers.join(", ")
    )
}

/// Runs `audit`.
pub fn run(args: &AuditArgs) -> Result<()> {
    let progress = !args.json && std::io::stderr().is_terminal();
    let report = run_audit(&args.files, &args.identity.identities, progress)?;
    let mut rows: Vec<(&FileReport, &Secret)> = report
        .files
        .iter()
        .flat_map(|f| f.secrets.iter().map(move |s| (f, s)))
        .collect();
    // Oldest first; then by file and path.
    rows.sort_by(|(fa, a), (fb, b)| {
        a.changed
            .time
            .cmp(&b.changed.time)
            .then_with(|| fa.display.cmp(&fb.display))
            .then_with(|| a.path.to_string().cmp(&b.path.to_string()))
    });
    let overdue: Vec<&(&FileReport, &Secret)> = rows
        .iter()
        .filter(|(_, s)| s.status == Status::Overdue)
        .collect();
    let revoked: Vec<(&str, &Finding)> = report
        .files
        .iter()
        .flat_map(|f| f.findings.iter().map(move |x| (f.display.as_str(), x)))
        .filter(|(_, x)| x.kind == FindingKind::Revoked)
        .collect();
    let findings = report.files.iter().map(|f| f.findings.len()).sum::<usize>();
    let approximate = rows.iter().filter(|(_, s)| s.changed.approximate).count();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json(&report, &rows))?);
    } else {
        print_human(&report, &rows);
    }
    let summary = format!(
        "audit: {} file(s), {} secret(s), {} overdue, {} approximate, {} finding(s)",
        report.files.len(),
        rows.len(),
        overdue.len(),
        approximate,
        findings
    );
    if args.check && (!overdue.is_empty() || !revoked.is_empty()) {
        let mut lines = Vec::new();
        for (f, s) in &overdue {
            lines.push(format!("  overdue: {}: {}", f.display, overdue_line(s)));
        }
        for (file, x) in &revoked {
            lines.push(format!("  revoked: {file}: {}", x.message));
        }
        return Err(UserError::with_code(
            code::AUDIT_OVERDUE,
            format!(
                "{summary}; {} secret(s) overdue for rotation, {} file(s) still readable by a revoked key:\n{}",
                overdue.len(),
                revoked.len(),
                lines.join("\n")
            ),
            Some("rotate each value at its provider, then store the new one (`botsecrets set FILE PATH --stdin`); remove revoked keys with `botsecrets recipients remove FILE KEY` or `botsecrets updatekeys FILE`"),
        )
        .into());
    }
    eprintln!("botsecrets: {summary}");
    Ok(())
}

fn reader_json(r: &Reader) -> serde_json::Value {
    serde_json::json!({"recipient": r.recipient, "name": r.name})
}

fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn date(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .map(|d| d.date().to_string())
        .unwrap_or_default()
}

fn secret_json(s: &Secret) -> serde_json::Value {
    let c = &s.changed;
    serde_json::json!({
        "path": s.path.to_string(),
        "changed": rfc3339(c.time),
        "commit": c.commit.as_ref().map(|c| c.id.clone()),
        "author": c.commit.as_ref().map(|c| c.author.clone()),
        "author_email": c.commit.as_ref().map(|c| c.email.clone()),
        "uncommitted": c.commit.is_none(),
        "approximate": c.approximate,
        "age_days": s.age_days,
        "limit": s.limit.as_ref().map(|l| l.text.clone()),
        "limit_days": s.limit.as_ref().map(|l| l.days),
        "status": s.status.as_str(),
        "readers": s.readers.iter().map(reader_json).collect::<Vec<_>>(),
    })
}

fn json(report: &Audit, rows: &[(&FileReport, &Secret)]) -> serde_json::Value {
    let files: Vec<serde_json::Value> = report
        .files
        .iter()
        .map(|f| {
            serde_json::json!({
                "file": f.display,
                "rules": f.rules.as_ref().map(|p| p.display().to_string()),
                "rule": f.rule,
                "readers": f.readers.iter().map(reader_json).collect::<Vec<_>>(),
                "sealed": f.sealed,
                "versions": f.versions,
                "undecryptable_versions": f.undecryptable,
                "unverified_versions": f.unverified,
                "secrets": f.secrets.iter().map(secret_json).collect::<Vec<_>>(),
                "findings": f.findings.iter().map(|x| serde_json::json!({"kind": x.kind.as_str(), "message": x.message})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let overdue: Vec<serde_json::Value> = rows
        .iter()
        .filter(|(_, s)| s.status == Status::Overdue)
        .map(|(f, s)| {
            serde_json::json!({
                "file": f.display,
                "path": s.path.to_string(),
                "age_days": s.age_days,
                "limit_days": s.limit.as_ref().map(|l| l.days),
                "approximate": s.changed.approximate,
                "readers": s.readers.iter().map(reader_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({
        "files": files,
        "overdue": overdue,
        "not_encrypted": report.skipped,
        "keyless": report.keyless,
    })
}

/// Cuts `s` to `width` characters, marking the cut with `…`.
fn cut(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn pad(s: &str, width: usize) -> String {
    let s = cut(s, width);
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(width - n))
}

/// `FILE\0PATH` as `FILE: PATH` in `width` characters: the file's name is
/// cut first (the key path says which secret), then the path.
fn fit_secret(cell: &str, width: usize) -> String {
    let Some((file, path)) = cell.split_once('\0') else {
        return cut(cell, width);
    };
    let (f, p) = (file.chars().count(), path.chars().count());
    if f + 2 + p <= width {
        return format!("{file}: {path}");
    }
    let room = width.saturating_sub(p + 2).max(8.min(f));
    format!(
        "{}: {}",
        cut(file, room),
        cut(path, width.saturating_sub(room + 2))
    )
}

fn print_human(report: &Audit, rows: &[(&FileReport, &Secret)]) {
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|(f, s)| {
            let c = &s.changed;
            let readers: Vec<String> = s.readers.iter().map(Reader::label).collect();
            [
                format!("{}{}d", if c.approximate { "~" } else { "" }, s.age_days),
                s.status.as_str().replace("no policy", "-"),
                s.limit.as_ref().map_or("-".into(), |l| l.text.clone()),
                format!("{}\0{}", f.display, s.path),
                match &c.commit {
                    Some(_) => date(c.time),
                    None => "uncommitted".into(),
                },
                c.commit
                    .as_ref()
                    .map_or("-".into(), |c| c.id.chars().take(7).collect()),
                c.commit.as_ref().map_or("-".into(), |c| c.author.clone()),
                readers.join(", "),
            ]
        })
        .collect();
    let head = [
        "AGE", "STATUS", "LIMIT", "SECRET", "CHANGED", "COMMIT", "AUTHOR", "READERS",
    ];
    // Fixed columns at their widest (capped), the secret and the readers
    // share what is left of WIDTH.
    let caps = [6, 7, 5, usize::MAX, 11, 7, 10, usize::MAX];
    let mut widths = [0usize; 8];
    for (i, h) in head.iter().enumerate() {
        // The secret's cell holds `\0` where `: ` goes.
        let widest = cells
            .iter()
            .map(|c| c[i].chars().count() + usize::from(i == 3))
            .max()
            .unwrap_or(0);
        widths[i] = widest.max(h.len()).min(caps[i]);
    }
    let fixed: usize = [0, 1, 2, 4, 5, 6].iter().map(|&i| widths[i]).sum::<usize>() + 2 * 7;
    // The secret's name matters more than the readers' (listed in full
    // below the table): the readers get what the secrets leave, at least 10.
    let left = WIDTH.saturating_sub(fixed).max(30);
    widths[3] = widths[3].min(left - widths[7].min(10)).max(6);
    widths[7] = widths[7].min(left.saturating_sub(widths[3])).max(7);
    let line = |c: &[String]| {
        let mut out = String::new();
        for (i, cell) in c.iter().enumerate() {
            let fitted;
            let cell = if i == 3 {
                fitted = fit_secret(cell, widths[3]);
                &fitted
            } else {
                cell
            };
            if i > 0 {
                out.push_str("  ");
            }
            if i == 0 {
                out.push_str(&format!("{:>w$}", cut(cell, widths[0]), w = widths[0]));
            } else if i == c.len() - 1 {
                out.push_str(&cut(cell, widths[i]));
            } else {
                out.push_str(&pad(cell, widths[i]));
            }
        }
        out.trim_end().to_owned()
    };
    let mut out = std::io::stdout().lock();
    if rows.is_empty() {
        let _ = writeln!(out, "no encrypted secrets found");
    } else {
        let _ = writeln!(out, "{}", line(&head.map(str::to_owned)));
        for c in &cells {
            let _ = writeln!(out, "{}", line(c));
        }
    }
    if rows.iter().any(|(_, s)| s.changed.approximate) {
        let _ = writeln!(
            out,
            "\n~ approximate: told from the ciphertext, because you could not decrypt (or verify) some versions; a rotation of the data key may count as a change"
        );
    }
    let _ = writeln!(out, "\nreaders:");
    for f in &report.files {
        let readers: Vec<String> = f.readers.iter().map(Reader::described).collect();
        let _ = writeln!(out, "  {}: {}", f.display, readers.join(", "));
    }
    let mut by_file: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &report.files {
        for x in &f.findings {
            by_file.entry(&f.display).or_default().push(x);
        }
    }
    if !by_file.is_empty() {
        let _ = writeln!(out, "\nfindings:");
        for (file, list) in by_file {
            for x in list {
                let _ = writeln!(out, "  {file}: {}: {}", x.kind.as_str(), x.message);
            }
        }
    }
    for f in &report.files {
        if f.unverified > 0 {
            let _ = writeln!(
                out,
                "note: {}: {} of {} versions did not parse or verify (MAC, seal, selection); compared by ciphertext",
                f.display, f.unverified, f.versions
            );
        }
    }
    for name in &report.skipped {
        let _ = writeln!(out, "note: {name}: a creation rule covers it but it is not encrypted (`botsecrets check` reports it)");
    }
    if report.keyless {
        let _ = writeln!(
            out,
            "note: no identity found (set BOTSECRETS_AGE_KEY_FILE or pass --identity): every date is told from the ciphertext"
        );
    }
}
