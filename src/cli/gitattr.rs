//! Keeping `.gitattributes` in step with the secrets files: the patterns
//! `git install` derives from the creation rules, the exact line
//! `encrypt`/`edit`/`set` add for a file no pattern covers (once the
//! drivers are installed), and the note `check` gives for an encrypted
//! file without the attributes. Without them `git diff` shows ciphertext
//! and every merge of the file conflicts on `mac` and `lastmodified`.
//!
//! Everything here is best effort around a write that already succeeded:
//! a failure is a warning, never the command's error.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Result;
use botsecrets::fsio::{self, WriteMode};
use botsecrets::git::attributes;
use botsecrets::git::install as text;
use botsecrets::goregex::GoRegex;
use botsecrets::rules::{self, RULES_FILE_NAMES};

/// Runs git in `dir`; stdout on success.
fn git(dir: &Path, args: &[&str]) -> Option<Vec<u8>> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

fn line(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes)
        .trim_end_matches('\n')
        .to_owned()
}

/// `a/b` of `abs` under `top`, with `/` separators.
fn relative(abs: &Path, top: &Path) -> Option<String> {
    let rel = abs.strip_prefix(top).ok()?;
    Some(
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// Translated rules: each one's directory (relative to the top) and regex.
pub type Covered = Vec<(String, GoRegex)>;

/// The rules' patterns for a repository: the patterns, and for each
/// translated rule its directory (relative to `top`) and regex, to tell
/// which files they cover. `listed` are the repository's files
/// (relative), where rules files in subdirectories are found.
pub fn rule_patterns(top: &Path, listed: &[String]) -> Result<(Vec<String>, Covered)> {
    let mut dirs: Vec<String> = vec![String::new()];
    for name in listed {
        let (dir, file) = name.rsplit_once('/').unwrap_or(("", name));
        if RULES_FILE_NAMES.contains(&file) && !dirs.iter().any(|d| d == dir) {
            dirs.push(dir.to_owned());
        }
    }
    let mut patterns = Vec::new();
    let mut covered = Vec::new();
    for dir in dirs {
        let base = if dir.is_empty() {
            top.to_path_buf()
        } else {
            top.join(&dir)
        };
        // In one directory .botsecrets.yaml wins, as for every command.
        let Some(path) = RULES_FILE_NAMES
            .iter()
            .map(|n| base.join(n))
            .find(|p| p.is_file())
        else {
            continue;
        };
        let parsed = rules::parse(&rules::read(&path)?, &path)?;
        for rule in &parsed.rules {
            let Some(re) = &rule.path_regex else { continue };
            if let Some(p) = attributes::patterns(re.as_str(), &dir) {
                patterns.extend(p);
                covered.push((dir.clone(), re.clone()));
            }
        }
    }
    Ok((patterns, covered))
}

/// Whether a translated rule covers `rel` (relative to the top).
fn is_covered(rel: &str, covered: &[(String, GoRegex)]) -> bool {
    covered.iter().any(|(dir, re)| {
        let inner = if dir.is_empty() {
            Some(rel)
        } else {
            rel.strip_prefix(dir.as_str())
                .and_then(|r| r.strip_prefix('/'))
        };
        inner.is_some_and(|r| re.is_match(r))
    })
}

/// `git install`'s new `.gitattributes` text, the rules' patterns, and
/// the files (relative) that none of them covers.
pub struct InstallText {
    /// The whole new `.gitattributes`.
    pub text: String,
    /// The patterns written.
    pub patterns: Vec<String>,
    /// The files listed one by one.
    pub files: Vec<String>,
}

/// Builds [`InstallText`] from the current `.gitattributes` and the
/// secrets files.
pub fn install_text(
    top: &Path,
    existing: &str,
    files: &[String],
    listed: &[String],
) -> Result<InstallText> {
    let (patterns, covered) = rule_patterns(top, listed)?;
    let exact: Vec<String> = files
        .iter()
        .filter(|f| !is_covered(f, &covered))
        .cloned()
        .collect();
    Ok(InstallText {
        text: text::with_block_patterns(existing, &patterns, &exact),
        patterns,
        files: exact,
    })
}

/// After `encrypt`/`edit`/`set` wrote the encrypted file `path`: when the
/// repository has botsecrets' drivers and no attribute line covers the
/// file, add one (and say so). Ignored files are left alone.
pub fn after_write(path: &Path) {
    if let Err(e) = add_if_missing(path) {
        eprintln!(
            "botsecrets: warning: could not add {} to .gitattributes: {e:#}",
            path.display()
        );
    }
}

fn add_if_missing(path: &Path) -> Result<()> {
    let abs = super::rules::absolute(path);
    let Some(dir) = abs.parent() else {
        return Ok(());
    };
    let Some(top) = git(dir, &["rev-parse", "--show-toplevel"])
        .map(line)
        .map(PathBuf::from)
    else {
        return Ok(());
    };
    // Only once `git install` set the drivers up in this repository.
    if git(&top, &["config", "--get", "diff.botsecrets.textconv"]).is_none() {
        return Ok(());
    }
    let Some(rel) = relative(&abs, &top) else {
        return Ok(());
    };
    if has_attributes(&top, std::slice::from_ref(&rel))
        .first()
        .is_some_and(|ok| *ok)
    {
        return Ok(());
    }
    if git(&top, &["check-ignore", "-q", "--", &rel]).is_some() {
        return Ok(());
    }
    let attrs = top.join(".gitattributes");
    let existing = match std::fs::read_to_string(&attrs) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e.into()),
    };
    let new = text::with_path_added(&existing, &rel);
    if new != existing {
        fsio::write_file(&attrs, new.as_bytes(), WriteMode::Keep(0o644))?;
        eprintln!(
            "botsecrets: note: added {} to .gitattributes ({}: decrypted diffs and per-key merges); commit it with the file",
            text::attribute_pattern(&rel),
            text::ATTR_VALUES
        );
    }
    Ok(())
}

/// For each of `rels` (relative to `top`): whether git gives it both
/// `diff=botsecrets` and `merge=botsecrets`.
fn has_attributes(top: &Path, rels: &[String]) -> Vec<bool> {
    let mut args = vec!["check-attr", "-z", "diff", "merge", "--"];
    args.extend(rels.iter().map(String::as_str));
    let Some(out) = git(top, &args) else {
        return vec![false; rels.len()];
    };
    // -z: path NUL attribute NUL value NUL, per attribute.
    let fields: Vec<String> = out
        .split(|b| *b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();
    rels.iter()
        .map(|rel| {
            let mut diff = false;
            let mut merge = false;
            for chunk in fields.chunks(3) {
                if let [p, attr, value] = chunk {
                    if p == rel && value == "botsecrets" {
                        diff |= attr == "diff";
                        merge |= attr == "merge";
                    }
                }
            }
            diff && merge
        })
        .collect()
}

/// `check`'s notes: the encrypted files (absolute) that are in a git
/// working tree but lack the attributes.
pub fn missing_notes(files: &[PathBuf]) -> Vec<String> {
    let Some(first) = files.first().and_then(|f| f.parent()) else {
        return Vec::new();
    };
    let Some(top) = git(first, &["rev-parse", "--show-toplevel"])
        .map(line)
        .map(PathBuf::from)
    else {
        return Vec::new();
    };
    let rels: Vec<String> = files.iter().filter_map(|f| relative(f, &top)).collect();
    if rels.is_empty() {
        return Vec::new();
    }
    rels.iter()
        .zip(has_attributes(&top, &rels))
        .filter(|(_, ok)| !ok)
        .map(|(rel, _)| {
            format!("{rel} is encrypted but has no `{}` attributes, so `git diff` shows ciphertext and merges conflict on mac; run `botsecrets git install` (or add `{} {}` to .gitattributes)", text::ATTR_VALUES, text::attribute_pattern(rel), text::ATTR_VALUES)
        })
        .collect()
}
