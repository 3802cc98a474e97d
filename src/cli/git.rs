//! `botsecrets git install | textconv | merge`: the git plumbing around the
//! library's merge and install text. Runs the `git` found on PATH.
//!
//! The hook and the drivers call `botsecrets` by name (PATH lookup), not by
//! the absolute path of the binary that ran `install`: the same repository
//! config then works after an upgrade, on another machine, in CI and in a
//! container, wherever botsecrets is installed. `install` warns when
//! `botsecrets` is not on PATH.

use std::path::Path;
use std::process::Command;

use anyhow::Result;
use botsecrets::document::{DocumentError, OpenOptions, Sealed};
use botsecrets::format::FormatKind;
use botsecrets::fsio::WriteMode;
use botsecrets::git::merge::{self, MergeError};
use botsecrets::metadata::now_rfc3339;
use zeroize::Zeroizing;

use super::args::{GitCommand, MergeArgs, TextconvArgs};
use super::gitinstall;
use super::inputs;
use super::inputs::quiet_identities;
use super::report::{code, UserError};

/// Runs `git ...`.
pub fn run(cmd: &GitCommand) -> Result<()> {
    match cmd {
        GitCommand::Install(a) => gitinstall::install(a),
        GitCommand::Textconv(a) => textconv(a),
        GitCommand::Merge(a) => merge_driver(a),
    }
}

/// textconv: never fails, so `git diff` never breaks. An encrypted file
/// is shown decrypted when a quiet identity opens it (and its MAC and seal
/// verify), else as it is; either way followed by a summary of its
/// metadata, so that a commit changing only recipients, the selection rule
/// or the MAC mode shows lines in `git diff` (docs/git.md).
fn textconv(args: &TextconvArgs) -> Result<()> {
    use std::io::Write;
    // Bounded, and never a FIFO or a device: git must not hang.
    let bytes = match inputs::read_file(&args.file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("botsecrets: textconv: {e:#}");
            return Ok(());
        }
    };
    let (decrypted, trailer) = match std::str::from_utf8(&bytes) {
        Ok(text) => textconv_text(&args.file, text),
        Err(_) => (None, Vec::new()),
    };
    let mut out = std::io::stdout().lock();
    let shown: &[u8] = match &decrypted {
        Some(plain) => plain.as_bytes(),
        None => &bytes,
    };
    let mut written = out.write_all(shown);
    if !trailer.is_empty() {
        let mut tail = String::new();
        if !shown.is_empty() && !shown.ends_with(b"\n") {
            tail.push('\n');
        }
        tail.push_str("# --- botsecrets: metadata (not part of the file) ---\n");
        for l in &trailer {
            tail.push_str("# ");
            tail.push_str(l);
            tail.push('\n');
        }
        written = written.and_then(|_| out.write_all(tail.as_bytes()));
    }
    let _ = written.and_then(|_| out.flush());
    Ok(())
}

/// The plaintext to show (None: show the file as it is) and the metadata
/// summary lines (empty for a file that is not encrypted).
fn textconv_text(file: &Path, text: &str) -> (Option<Zeroizing<String>>, Vec<String>) {
    // git names its temporary copy `XXXXXX_<name>`: the extension stays.
    let Some(kind) = FormatKind::from_path(file) else {
        return (None, Vec::new());
    };
    if !text.contains("sops") {
        return (None, Vec::new());
    }
    let Ok(file) = Sealed::parse(text.to_owned(), kind) else {
        return (None, Vec::new());
    };
    // git runs textconv at the top of the working tree: the names of the
    // repository's rules file apply (as its seal policy does below).
    let names = super::names::Names::for_file(Path::new("textconv"));
    let mut lines = super::render::describe(file.metadata(), &names);
    let Some(ids) = quiet_identities(&[]) else {
        lines.push("seal: not checked (no key)".into());
        return (None, lines);
    };
    // git runs textconv at the top of the working tree: the policy of the
    // repository's rules file applies.
    let opts = OpenOptions::with_seal(super::rules::seal_policy(None));
    let (plain, status) = match file.open(&ids, &opts) {
        Ok(opened) => match opened.plaintext() {
            Ok(plain) => (Some(plain), opened.seal_status().to_string()),
            Err(e) => (None, format!("{} (not shown: {e})", opened.seal_status())),
        },
        Err(DocumentError::SealMismatch) => {
            eprintln!("botsecrets: textconv: the seal does not verify; showing the ciphertext");
            (
                None,
                "BROKEN: changed without the key (see `git log -p --no-textconv`)".into(),
            )
        }
        // The seal covers the selection rule, so a rule that disagrees
        // with the values means the sealed structure was changed.
        Err(e @ DocumentError::SelectionMismatch { .. }) => {
            eprintln!("botsecrets: textconv: {e}; showing the ciphertext");
            (None, format!("BROKEN: {e}"))
        }
        Err(DocumentError::SealMissing) => (
            None,
            "missing, and the rules require one (showing the ciphertext)".into(),
        ),
        Err(DocumentError::NoMatchingIdentity { .. }) => (None, "not checked (no key)".into()),
        Err(DocumentError::NotAnOwner { .. }) => (
            None,
            "not checked (this identity reads only a scope of the file)".into(),
        ),
        Err(e) => {
            eprintln!("botsecrets: textconv: {e}; showing the ciphertext");
            (None, format!("not checked ({e})"))
        }
    };
    lines.push(format!("seal: {status}"));
    (plain, lines)
}

/// How a side of the merge was read.
enum Read {
    Text(Zeroizing<String>),
    Fallback(String),
}

fn read_side(mut bytes: Zeroizing<Vec<u8>>, what: &str) -> Read {
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(t) => Read::Text(Zeroizing::new(t)),
        Err(e) => {
            drop(Zeroizing::new(e.into_bytes()));
            Read::Fallback(format!("{what} version is not UTF-8 text"))
        }
    }
}

fn merge_driver(args: &MergeArgs) -> Result<()> {
    let name = args
        .pathname
        .clone()
        .unwrap_or_else(|| args.ours.display().to_string());
    let Some(kind) = FormatKind::from_path(Path::new(&name)) else {
        return fallback(args, &name, "the format cannot be told from the file name");
    };
    // Our version is replaced by the result: it is read, and written, under
    // the lock every writer takes.
    let ours = inputs::lock_file(&args.ours)?;
    let mut texts = Vec::new();
    for (path, what) in [
        (&args.base, "the base"),
        (&args.ours, "our"),
        (&args.theirs, "their"),
    ] {
        let bytes = if path == &args.ours {
            Zeroizing::new(ours.contents().to_vec())
        } else {
            inputs::read_file(path)?
        };
        match read_side(bytes, what) {
            Read::Text(t) => texts.push(t),
            Read::Fallback(why) => return fallback(args, &name, &why),
        }
    }
    let encrypted = |t: &str| Sealed::is_encrypted(t, kind);
    let base_present = !texts[0].trim().is_empty();
    for (i, what) in [(0, "the base"), (1, "our"), (2, "their")] {
        if (i > 0 || base_present) && !encrypted(&texts[i]) {
            return fallback(
                args,
                &name,
                &format!("{what} version is not an encrypted file"),
            );
        }
    }
    let Some(ids) = inputs::identities(&[]).ok() else {
        return fallback(args, &name, "no identity found to decrypt it");
    };
    let opts = OpenOptions::with_seal(super::rules::seal_policy(Some(Path::new(&name))));
    // Each side parsed (they all parsed above, so only invalid metadata
    // fails here), then opened; both failures are reported alike.
    let mut sealed = Vec::new();
    for (i, what) in [(0, "base"), (1, "our"), (2, "their")] {
        if i == 0 && !base_present {
            sealed.push(None);
            continue;
        }
        match Sealed::parse(texts[i].clone(), kind) {
            Ok(f) => sealed.push(Some(f)),
            Err(e) => return side_error(args, &name, what, e),
        }
    }
    let mut opened = Vec::new();
    for (file, what) in sealed.iter().zip(["base", "our", "their"]) {
        let Some(file) = file else {
            opened.push(None);
            continue;
        };
        match file.open(&ids, &opts) {
            Ok(o) => {
                super::open::print_warnings(&format!("{name} ({what} version)"), o.warnings());
                opened.push(Some(o))
            }
            Err(e) => return side_error(args, &name, what, e),
        }
    }
    let mut opened = opened.into_iter();
    let (b, o, t) = (
        opened.next().flatten(),
        opened.next().flatten(),
        opened.next().flatten(),
    );
    let (Some(o), Some(t)) = (o, t) else {
        return Err(UserError::usage("internal error: a side was not opened").into());
    };
    match merge::merge(b, o, t, &now_rfc3339()) {
        Ok(merged) => {
            ours.replace(merged.as_bytes(), WriteMode::Keep(0o644))?;
            eprintln!("botsecrets: merged {name} (values merged per key path, re-encrypted)");
            Ok(())
        }
        Err(MergeError::Conflicts(conflicts)) => {
            eprintln!(
                "botsecrets: {name}: merge conflict in {} key path(s) (no plaintext was written; the file holds our encrypted version):",
                conflicts.len()
            );
            for c in &conflicts {
                eprintln!("    {c}");
            }
            Err(UserError::with_code(
                code::GENERIC,
                format!("{name}: not merged"),
                Some(&format!(
                    "resolve with `botsecrets edit {name}` (see their version with `git show :3:{name} | botsecrets decrypt --input-type {} -`), then `git add {name}`",
                    kind.name()
                )),
            )
            .into())
        }
        Err(MergeError::Document(e)) => Err(anyhow::Error::new(e)
            .context(format!("{name}: cannot merge; the file holds our version"))),
        Err(e) => Err(anyhow::Error::new(e).context(name)),
    }
}

/// A side of the merge that cannot be opened: a broken or missing seal
/// (exit 213/214), no identity (git's line merge), anything else (exit 1).
fn side_error(args: &MergeArgs, name: &str, what: &str, e: DocumentError) -> Result<()> {
    match e {
        DocumentError::SealMismatch | DocumentError::SealMissing => {
            let c = if matches!(e, DocumentError::SealMismatch) {
                code::SEAL_MISMATCH
            } else {
                code::SEAL_MISSING
            };
            Err(UserError::with_code(
                c,
                format!("{name}: the {what} version: {e}; nothing was merged"),
                Some("see the raw change with `git log -p --no-textconv FILE`; resolve by hand (your version is in the working tree)"),
            )
            .into())
        }
        // A scope reader cannot write the file: as without a key.
        DocumentError::NoMatchingIdentity { .. } | DocumentError::NotAnOwner { .. } => fallback(
            args,
            name,
            &format!("none of your identities opens the {what} version"),
        ),
        e => Err(UserError::with_code(
            code::GENERIC,
            format!("{name}: the {what} version: {e}; nothing was merged"),
            Some("the file was altered outside botsecrets/sops; resolve by hand (your version is in the working tree)"),
        )
        .into()),
    }
}

/// Without a key (or for a file that is not encrypted): git's own line
/// merge (`git merge-file`) on the files as they are.
fn fallback(args: &MergeArgs, name: &str, why: &str) -> Result<()> {
    eprintln!(
        "botsecrets: {name}: {why}; falling back to git's line merge of the file as it is (for an encrypted file sops.mac and sops.lastmodified will conflict)"
    );
    let status = Command::new("git")
        .arg("merge-file")
        .args(["-L", "ours", "-L", "base", "-L", "theirs"])
        .arg(&args.ours)
        .arg(&args.base)
        .arg(&args.theirs)
        .status()
        .map_err(|e| UserError::usage(format!("cannot run git merge-file: {e}")))?;
    match status.code() {
        Some(0) => Ok(()),
        Some(n) => Err(UserError::with_code(
            n.clamp(1, 127) as u8,
            format!("{name}: conflicts left in the file"),
            Some(&format!(
                "someone holding a key can merge it cleanly; or pick one side with `git checkout --ours {name}` (or --theirs) and re-apply the other side's changes with `botsecrets edit {name}`"
            )),
        )
        .into()),
        None => Err(UserError::usage("git merge-file was killed".to_owned()).into()),
    }
}
