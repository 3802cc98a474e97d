//! `botsecrets check`: are the files about to be committed (or in CI, the
//! tracked files) safe?
//!
//! Per file, one of three checks:
//! - an encrypted file (it has `sops` metadata, or looks encrypted: it holds
//!   `ENC[...]` values or a metadata marker): its structure, for everyone
//!   (it parses, the metadata is there and valid, every `ENC[...]`
//!   well-formed, the selection rule and the values agree); its values and
//!   MAC, for those holding a key (no key: a note, not a failure); and the
//!   key patterns over its clear values; whether its recipients are those
//!   its rule names (drift: a finding, under `--staged` a note). A damaged one (truncated, broken
//!   `sops` block, not UTF-8) is a finding, never skipped;
//! - a file a creation rule covers (a rule with a `path_regex`; a catch-all
//!   rule only names recipients) that is not encrypted: a finding;
//! - any other file: the detectors of `botsecrets::scan`, and its rules for
//!   files named like secrets files (dotenv values, `secrets.*`, ...).
//!
//! A file that is not UTF-8 text (or holds NUL bytes): one that looks
//! encrypted was damaged (a finding); any other is scanned as the engine
//! decodes it (UTF-16, Latin-1, gzip, binary strings), or reported
//! `unscanned`. The summary counts those and the files skipped (not regular
//! files, submodules), and says why. `--history` scans git history instead
//! (`super::history`). SECURITY: a finding names the file, the line, the
//! rule and at most a redacted prefix, never the text that matched.

use std::path::{Path, PathBuf};

use anyhow::Result;
use botsecrets::document::{self, DocumentError, OpenOptions, Sealed};
use botsecrets::format::FormatKind;
use botsecrets::keys::Identity;
use botsecrets::rules::{self, is_rules_file, RulesCache};
use botsecrets::scan;
use botsecrets::seal::SealPolicy;

use super::allow::parse_allow;
use super::args::CheckArgs;
use super::gitcmd::{git, nul_list, toplevel};
use super::inputs::quiet_identities;
use super::report::{code, UserError};

/// One problem.
struct Finding {
    file: String,
    line: Option<usize>,
    rule: String,
    message: String,
    fix: String,
    /// The scanner's fingerprint (for `--allow` and `allow:`).
    fingerprint: Option<String>,
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
        out.push_str(&format!("; {not_utf8} not UTF-8 text (scanned as decoded)"));
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

/// Runs `check`.
pub fn run(args: &CheckArgs) -> Result<()> {
    let cwd = std::env::current_dir()?;
    let Gathered {
        files: candidates,
        skipped,
    } = gather(args, &cwd)?;
    let (allow, allow_fps) = parse_allow(&args.allow, &cwd)?;
    let mut cache = RulesCache::default();
    let mut ids = Identities::NotLoaded;
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    let mut not_utf8 = Vec::new();
    let checked = candidates.len();
    let names: Vec<(String, PathBuf)> = candidates
        .iter()
        .map(|c| (c.display.clone(), c.abs.clone()))
        .collect();
    let mut encrypted = Vec::new();
    for c in candidates {
        let bytes = zeroize::Zeroizing::new(c.bytes);
        let mut found = match std::str::from_utf8(&bytes) {
            Ok(text) if !text.contains('\0') => {
                if document::looks_encrypted(text) {
                    encrypted.push(c.abs.clone());
                }
                check_file(
                    &c.display, &c.abs, text, args, &mut cache, &mut ids, &mut notes,
                )?
            }
            _ => {
                not_utf8.push(c.display.clone());
                check_not_utf8(&c.display, &c.abs, &bytes, args, &mut cache)?
            }
        };
        found.retain(|f| {
            !allow
                .iter()
                .any(|(p, line)| *p == c.abs && line.is_none_or(|l| Some(l) == f.line))
        });
        for f in found {
            if let Some(fp) = &f.fingerprint {
                if allow_fps.allows(fp) || cache.allowed(&c.abs, fp)? {
                    continue;
                }
            }
            findings.push(f);
        }
    }
    // Secrets overdue under the rules' rotation policy (docs/audit.md): a
    // failure in CI use, only a warning for a commit (--staged), so an
    // overdue key never blocks an unrelated commit.
    for o in super::auditwalk::overdue(&names, &args.identity.identities)? {
        if args.staged {
            let warning = format!("{}: overdue: {}", o.file, o.message);
            if !args.json {
                eprintln!("botsecrets: warning: {warning}");
            }
            notes.push(warning);
        } else {
            findings.push(Finding {
                file: o.file,
                line: None,
                rule: "overdue".into(),
                message: o.message,
                fix: "rotate the value at its provider, store the new one with `botsecrets set FILE PATH --stdin`; `botsecrets audit` lists every secret's age".into(),
                fingerprint: None,
            });
        }
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
                    "fingerprint": f.fingerprint,
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
            let fp = f
                .fingerprint
                .as_ref()
                .map(|fp| format!(" [{fp}]"))
                .unwrap_or_default();
            match f.line {
                Some(l) => println!("{}:{l}: {}: {}{fp}", f.file, f.rule, f.message),
                None => println!("{}: {}: {}{fp}", f.file, f.rule, f.message),
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
        Some("fix each one as shown; for a reviewed false positive add `botsecrets:allow` to the line, pass --allow FINGERPRINT (or FILE[:LINE]), or list the fingerprint under `allow:` in .botsecrets.yaml"),
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
        fingerprint: None,
    };
    let kind = FormatKind::from_path(abs);
    // SECURITY: a damaged encrypted file (it no longer parses, its sops
    // block is broken or gone) still looks encrypted, and is checked as one:
    // its problems are findings instead of it passing as a plain file.
    let parsed_encrypted =
        kind.is_some_and(|k| document::looks_encrypted(text) || Sealed::is_encrypted(text, k));
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
            && Sealed::parse(text.to_owned(), kind).is_ok_and(|f| !f.is_sealed());
        if unsealed {
            let why = "the file has no seal (sops.botsecrets_seal): its key names, clear values, selection rule and recipients are not authenticated";
            let fix = format!("check its history (`git log -p --no-textconv {display}`), then `botsecrets seal {display}`");
            match cache.seal_policy(abs) {
                SealPolicy::Required => out.push(finding(None, "unsealed", why.to_owned(), fix)),
                SealPolicy::Warn => notes.push(format!("{display}: {why}; {fix}")),
            }
        }
        // Scope drift: the file's scopes differ from its rule's (no key
        // needed: names, readers and paths are public metadata).
        if let Ok(file) = Sealed::parse(text.to_owned(), kind) {
            let drifts = cache.scope_drift(abs, file.metadata())?;
            let rules = cache.rules_file(abs)?;
            let show = |r: &str| rules.map_or_else(|| r.to_owned(), |f| f.shown(r));
            for d in drifts {
                out.push(finding(
                    None,
                    "scope-drift",
                    d.readers_shown(show).to_string(),
                    format!(
                        "`botsecrets updatekeys {display}` makes the file's scopes match its rule"
                    ),
                ));
            }
        }
        if problems.is_empty() {
            // Drift fails CI use; for a commit (--staged) it is a note, so
            // a deliberate `recipients add` never blocks the commit.
            if let Some(f) = drift(display, abs, text, kind, cache)? {
                if args.staged {
                    notes.push(format!("{display}: drift: {}; {}", f.message, f.fix));
                } else {
                    out.push(f);
                }
            }
        }
        if problems.is_empty() {
            if let Some(ids) = ids.get(&args.identity.identities) {
                let opts = OpenOptions::with_seal(SealPolicy::Warn);
                let opened =
                    Sealed::parse(text.to_owned(), kind).and_then(|f| f.open(ids, &opts).map(drop));
                match opened {
                    Ok(()) => {}
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
                    Err(DocumentError::NotAnOwner { .. }) => notes.push(format!(
                        "{display}: MAC not checked: your identity reads only a scope of the file"
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
        for hit in scan::scan_text(display, text) {
            out.push(Finding {
                message: format!("{} ({}) in a clear value", hit.what, hit.redacted),
                fingerprint: Some(hit.fingerprint),
                ..finding(
                    hit.line,
                    hit.detector,
                    String::new(),
                    format!("encrypt that value: `botsecrets set {display} PATH --stdin` with a key name the selection rule encrypts (not ending in _unencrypted), and rotate it at the provider if it was ever pushed"),
                )
            });
        }
        return Ok(out);
    }
    if let Some(f) = uncovered(display, abs, kind, args, cache, true)? {
        out.push(f);
        return Ok(out);
    }
    out.extend(
        scan::scan_plain(display, text)
            .into_iter()
            .map(|f| scanner_finding(display, f)),
    );
    Ok(out)
}

/// The finding for an encrypted file whose owners differ from what its
/// rule says (no key needed: recipients are public metadata), naming who
/// is added or missing; `None` when it matches, or no rule matches it.
fn drift(
    display: &str,
    abs: &Path,
    text: &str,
    kind: FormatKind,
    cache: &mut RulesCache,
) -> Result<Option<Finding>> {
    let Ok(sealed) = Sealed::parse(text.to_owned(), kind) else {
        return Ok(None);
    };
    let Some(rules) = cache.rules_file(abs)? else {
        return Ok(None);
    };
    let Ok(matched) = rules.rule_for(abs) else {
        return Ok(None);
    };
    let drift = botsecrets::access::drift(sealed.metadata(), matched.rule);
    if drift.is_empty() {
        return Ok(None);
    }
    Ok(Some(Finding {
        file: display.to_owned(),
        line: None,
        rule: "drift".into(),
        message: format!(
            "its recipients differ from {} of {}: {}",
            matched.rule.describe(),
            rules.path.display(),
            drift.summary(|r| rules.shown(r))
        ),
        fix: format!(
            "`botsecrets updatekeys {display}` makes them match (removing anyone rotates the data key); or change the rule"
        ),
        fingerprint: None,
    }))
}

/// The finding for a file a creation rule says is encrypted but that is
/// plaintext (`utf8`: whether it is at least UTF-8 text), or None when no
/// rule with a `path_regex` covers it (rules files never count).
fn uncovered(
    display: &str,
    abs: &Path,
    kind: Option<FormatKind>,
    args: &CheckArgs,
    cache: &mut RulesCache,
    utf8: bool,
) -> Result<Option<Finding>> {
    if kind.is_none() || is_rules_file(abs) {
        return Ok(None);
    }
    let Some(rule) = cache.covering_rule(abs)? else {
        return Ok(None);
    };
    let what = if args.staged {
        "the staged version"
    } else {
        "it"
    };
    let (message, fix) = if utf8 {
        (
            format!("{rule} says this file is encrypted, but {what} is not"),
            format!("`botsecrets encrypt --in-place {display}`, then `git add {display}`"),
        )
    } else {
        (
            format!("{rule} says this file is encrypted, but {what} is not (nor UTF-8 text)"),
            format!("convert it to UTF-8, then `botsecrets encrypt --in-place {display}`"),
        )
    };
    Ok(Some(Finding {
        file: display.to_owned(),
        line: None,
        rule: "not-encrypted".to_owned(),
        message,
        fix,
        fingerprint: None,
    }))
}

/// A scanner finding as `check` reports it: what, the redacted prefix, and
/// how to fix it.
fn scanner_finding(display: &str, f: scan::Finding) -> Finding {
    let fix = match f.detector {
        "dotenv-value" => format!("encrypt the file: `botsecrets encrypt --in-place {display}` (or keep only placeholder values in a `.env.example`)"),
        "secrets-file" => format!("encrypt it (`botsecrets encrypt --in-place {display}`, and a creation rule whose path_regex names it), or keep only placeholders in a template such as `{display}.example`"),
        "unscanned" => format!("unpack it and check what is inside (`botsecrets check DIR`); once reviewed, pass --allow {display}"),
        _ => "move the secret into an encrypted file (`botsecrets set secrets.yaml KEY --stdin`), and rotate it at the provider if it was ever pushed".to_owned(),
    };
    let message = match f.detector {
        "dotenv-value" | "secrets-file" => f.what.to_owned(),
        "unscanned" => format!("not scanned: {}", f.what),
        _ => format!("{} ({})", f.what, f.redacted),
    };
    Finding {
        file: display.to_owned(),
        line: f.line,
        rule: f.detector.to_owned(),
        message,
        fix,
        fingerprint: Some(f.fingerprint),
    }
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
        fingerprint: None,
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
        out.extend(
            scan::scan_text(display, &lossy)
                .into_iter()
                .map(|f| scanner_finding(display, f)),
        );
        return Ok(out);
    }
    if let Some(f) = uncovered(display, abs, kind, args, cache, false)? {
        out.push(f);
        return Ok(out);
    }
    out.extend(
        scan::scan_bytes(display, bytes)
            .0
            .into_iter()
            .map(|f| scanner_finding(display, f)),
    );
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
