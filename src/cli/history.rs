//! `botsecrets check --history [REVS]`: runs git for the library's history
//! scan (`botsecrets::scan::history`) and reports.
//!
//! Three listing commands (`rev-list --objects`, `log --raw`, `ls-tree
//! HEAD`) and ONE `git cat-file --batch`, fed the blob ids from a thread
//! while this one reads: every blob once, in memory, never checked out or
//! written anywhere. SECURITY: findings carry the commit, path, line,
//! detector, fingerprint and a redacted prefix, never the value.

use std::collections::HashSet;
use std::io::{BufReader, IsTerminal, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result};
use botsecrets::scan::history::{self, BatchReader, Blob};

use super::allow::parse_allow;
use super::args::CheckArgs;
use super::gitcmd::{git, toplevel};
use super::report::{code, UserError};
use botsecrets::rules::RulesCache;

/// Runs `check --history`.
pub fn run(args: &CheckArgs) -> Result<()> {
    let revs: Vec<String> = args
        .paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if let Some(r) = revs.iter().find(|r| r.starts_with('-')) {
        return Err(UserError::usage(format!(
            "check --history: {r:?} is not a revision (use `--history -- REVS` only for revision names)"
        ))
        .into());
    }
    let started = Instant::now();
    let top = toplevel()?;
    let cwd = std::env::current_dir()?;
    let (path_allows, fp_allows) = parse_allow(&args.allow, &cwd)?;
    let mut revs: Vec<&str> = revs.iter().map(String::as_str).collect();
    if revs.is_empty() {
        revs.push("--all");
    }
    let mut rl = vec!["rev-list", "--objects", "--filter=object:type=blob"];
    rl.extend(&revs);
    rl.push("--");
    let listed = history::parse_rev_list(&git(&top, &rl)?);
    let mut lg = vec![
        "-c",
        "core.quotePath=false",
        "log",
        "--format=%x01%H",
        "-m",
        "--raw",
        "-z",
        "--no-abbrev",
        "--no-renames",
        "--reverse",
    ];
    lg.extend(&revs);
    lg.push("--");
    let log_raw = git(&top, &lg)?;
    let commits = log_raw.iter().filter(|b| **b == 1).count();
    let log = history::parse_log_raw(&log_raw);
    drop(log_raw);
    let blobs = history::plan(&listed, &log);
    drop((listed, log));

    // HEAD's blobs, to say what is still there.
    let mut head = HashSet::new();
    let mut head_extra = Vec::new();
    if git(&top, &["rev-parse", "--verify", "-q", "HEAD^{tree}"]).is_ok() {
        let known: HashSet<&str> = blobs.iter().map(|b| b.oid.as_str()).collect();
        for entry in git(&top, &["ls-tree", "-r", "-z", "HEAD"])?.split(|b| *b == 0) {
            let entry = String::from_utf8_lossy(entry);
            let Some((meta, path)) = entry.split_once('\t') else {
                continue;
            };
            let mut f = meta.split(' ');
            let (Some(_mode), Some("blob"), Some(oid)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            if head.insert(oid.to_owned()) && !known.contains(oid) {
                head_extra.push(Blob {
                    oid: oid.to_owned(),
                    commit: None,
                    path: path.to_owned(),
                });
            }
        }
    }

    let found = stream(&top, &blobs, &head_extra, &head)?;
    let mut cache = RulesCache::default();
    let mut kept = Vec::new();
    for h in found {
        let abs = top.join(&h.path);
        let fp = &h.finding.fingerprint;
        let by_path = path_allows
            .iter()
            .any(|(p, line)| *p == abs && line.is_none_or(|l| Some(l) == h.finding.line));
        if !by_path && !fp_allows.allows(fp) && !cache.allowed(&abs, fp)? {
            kept.push(h);
        }
    }
    let found = kept;
    let at_head = found.iter().filter(|h| h.at_head).count();
    let fix = |h: &history::HistoryFinding| {
        let file = matches!(h.finding.detector, "secrets-file" | "dotenv-value");
        if file && h.at_head {
            "encrypt the file (`botsecrets encrypt --in-place PATH`), and rotate every value it held at its provider"
        } else if file {
            "rotate every value the file held at its provider: it is gone from HEAD but not from history, and rewriting history does not un-leak a key that was pushed"
        } else if h.at_head {
            "rotate it at the provider now, then take it out of the file (keep it in an encrypted file: `botsecrets set secrets.yaml KEY --stdin`)"
        } else {
            "rotate it at the provider: it is gone from HEAD but not from history, and rewriting history does not un-leak a key that was pushed"
        }
    };
    let secs = started.elapsed().as_secs_f64();
    if args.json {
        let list: Vec<serde_json::Value> = found
            .iter()
            .map(|h| {
                let f = &h.finding;
                serde_json::json!({
                    "commit": h.commit,
                    "path": h.path,
                    "line": f.line,
                    "rule": f.detector,
                    "message": f.what,
                    "redacted": f.redacted,
                    "fingerprint": f.fingerprint,
                    "at_head": h.at_head,
                    "fix": fix(h),
                })
            })
            .collect();
        let doc = serde_json::json!({
            "findings": list,
            "blobs": blobs.len(),
            "commits": commits,
            "seconds": (secs * 1000.0).round() / 1000.0,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for h in &found {
            let f = &h.finding;
            let commit = h.commit.as_deref().map_or("(no commit)".to_owned(), |c| {
                c[..c.len().min(12)].to_owned()
            });
            let line = f.line.map(|l| format!("{l}:")).unwrap_or_default();
            let what = if f.redacted.is_empty() {
                f.what.to_owned()
            } else {
                format!("{} ({})", f.what, f.redacted)
            };
            let status = if h.at_head {
                "still at HEAD"
            } else {
                "not at HEAD"
            };
            println!(
                "{commit}:{}:{line} {}: {what} [{}] ({status})",
                h.path, f.detector, f.fingerprint
            );
            println!("    fix: {}", fix(h));
        }
    }
    eprintln!(
        "botsecrets: check --history: {} blob(s) from {commits} commit(s) scanned in {secs:.1}s; {} finding(s), {at_head} still at HEAD",
        blobs.len(),
        found.len()
    );
    if found.is_empty() {
        return Ok(());
    }
    Err(UserError::with_code(
        code::CHECK_FAILED,
        format!(
            "check --history: {} secret(s) reached the repository's history",
            found.len()
        ),
        Some("rotate each at its provider first: deleting the file or rewriting history (git filter-repo) does not un-leak a key that was pushed; then allow the reviewed fingerprints with --allow FINGERPRINT or under `allow:` in .botsecrets.yaml"),
    )
    .into())
}

/// Streams `blobs`, then `head_extra`, through one `git cat-file --batch`.
fn stream(
    top: &Path,
    blobs: &[Blob],
    head_extra: &[Blob],
    head: &HashSet<String>,
) -> Result<Vec<history::HistoryFinding>> {
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .current_dir(top)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| UserError::usage(format!("cannot run git: {e}")))?;
    let mut stdin = child.stdin.take().context("git cat-file: no stdin")?;
    let ids: Vec<String> = blobs
        .iter()
        .chain(head_extra)
        .map(|b| b.oid.clone())
        .collect();
    // A thread feeds the ids while this one reads: neither pipe fills up.
    let feeder = std::thread::spawn(move || -> std::io::Result<()> {
        let mut w = std::io::BufWriter::new(&mut stdin);
        for id in ids {
            w.write_all(id.as_bytes())?;
            w.write_all(b"\n")?;
        }
        w.flush()
    });
    let stdout = child.stdout.take().context("git cat-file: no stdout")?;
    let mut reader = BatchReader::new(BufReader::with_capacity(1 << 20, stdout));
    let total = blobs.len() + head_extra.len();
    let tty = std::io::stderr().is_terminal();
    let result = history::scan_stream(&mut reader, blobs, head_extra, head, |done| {
        if tty && (done % 500 == 0 || done == total) {
            eprint!("\rbotsecrets: scanning history: {done}/{total} blobs");
            if done == total {
                eprintln!();
            }
        }
    });
    drop(reader);
    let fed = feeder.join();
    let status = child.wait()?;
    let found = result.context("reading git cat-file --batch")?;
    if !status.success() || !matches!(fed, Ok(Ok(()))) {
        return Err(UserError::usage("git cat-file --batch failed").into());
    }
    Ok(found)
}
