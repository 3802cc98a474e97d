//! `botsecrets audit [FILES]`: per file and per secret, who can read it,
//! when its value last changed (commit, author, age) and the rotation
//! policy's verdict; then the findings beyond age. `--check` is the CI
//! gate (exit 221 when a secret is overdue or a revoked key still reads a
//! file); `check` uses the same walk (`auditwalk.rs`) for its own report.
//!
//! The git plumbing lives here: one `git log` per file, one `git cat-file
//! --batch` process for every blob of the run. The blobs stay in memory;
//! the library opens them (`botsecrets::audit`). SECURITY: nothing printed
//! holds a value; no plaintext is written anywhere.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

use anyhow::Result;
use botsecrets::audit::{Finding, FindingKind, Reader, Secret, Status};

use super::args::AuditArgs;
use super::auditwalk::{run_audit, Audit, FileReport};
use super::report::{code, UserError};

/// The widest the table gets.
const WIDTH: usize = 100;

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
            lines.push(format!("  overdue: {}: {}", f.display, s.age_line()));
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
    serde_json::json!({
        "recipient": r.recipient,
        "name": r.name,
        "scope": r.scope.as_ref().map(|s| &s.name),
    })
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
