//! `botsecrets edit`: decrypt into a private workspace, run the editor,
//! re-encrypt what was saved.
//!
//! Invariants: plaintext exists on disk only inside the workspace (a 0700
//! directory outside the working tree) and only while the editor runs; the
//! workspace is removed on every exit path (saved, unchanged, editor
//! failure, invalid content, SIGTERM/SIGHUP; Ctrl-C goes to the editor,
//! which decides, as git does); unchanged values keep their ciphertext; the
//! encrypted file is locked against a second botsecrets and checked for
//! outside changes before the atomic write.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use botsecrets::document::{self, EncryptOptions};
use botsecrets::edit::{self, Workspace};
use botsecrets::hygiene;
use botsecrets::metadata::{now_rfc3339, Selection};
use zeroize::Zeroizing;

use super::args::EditArgs;
use super::inputs;
use super::output;
use super::report::{code, UserError};

/// Where the workspace may go, best first: a per-user tmpfs, shared
/// memory, then the temp dir. Never the working tree.
fn workspace_bases() -> Vec<PathBuf> {
    let mut bases = Vec::new();
    if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        bases.push(PathBuf::from(d));
    }
    bases.push(PathBuf::from("/dev/shm"));
    bases.push(std::env::temp_dir());
    bases
}

/// `program` as `execvp` would find it on `PATH`, symlinks followed (so
/// that `vi` is known to be vim, or not).
fn on_path(program: &str) -> Option<PathBuf> {
    let found = if program.contains('/') {
        PathBuf::from(program)
    } else {
        std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|d| d.join(program))
            .find(|p| p.is_file())?
    };
    std::fs::canonicalize(found).ok()
}

/// State shared with the signal thread.
struct Guard {
    /// The workspace directory to destroy on a fatal signal.
    dir: PathBuf,
    /// The editor's PID while it runs (0 otherwise).
    editor: AtomicI32,
    /// Set by the signal thread once it has taken over the exit.
    terminating: AtomicBool,
    /// Held while the encrypted file is being written, so a signal never
    /// interrupts the write half-way.
    writing: Mutex<()>,
    file: String,
}

/// Handles SIGTERM and SIGHUP (and holds SIGINT) while plaintext exists.
fn install_signal_thread(guard: Arc<Guard>) -> Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT])
        .context("cannot install signal handlers")?;
    std::thread::spawn(move || {
        for sig in signals.forever() {
            if sig == SIGINT {
                // Ctrl-C reaches the editor too (same process group); the
                // editor decides. If it dies of it, the editor-failure path
                // cleans up.
                continue;
            }
            let _lock = guard.writing.lock();
            guard.terminating.store(true, Ordering::SeqCst);
            let pid = guard.editor.load(Ordering::SeqCst);
            if pid > 0 {
                if let (Some(pid), Some(signal)) = (
                    rustix::process::Pid::from_raw(pid),
                    rustix::process::Signal::from_named_raw(sig),
                ) {
                    let _ = rustix::process::kill_process(pid, signal);
                }
            }
            edit::destroy(&guard.dir);
            eprintln!("botsecrets: {}: interrupted; the plaintext was removed and the file was not changed", guard.file);
            std::process::exit(128 + sig);
        }
    });
    Ok(())
}

/// Asks on the terminal whether to reopen the editor. `false` without a TTY.
fn ask_reopen() -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    let Ok(mut tty) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
    else {
        return false;
    };
    let _ = write!(tty, "Reopen the editor to fix it? [Y/n] ");
    let _ = tty.flush();
    let mut answer = String::new();
    if std::io::BufReader::new(&tty)
        .read_line(&mut answer)
        .is_err()
    {
        return false;
    }
    !matches!(answer.trim().to_ascii_lowercase().as_str(), "n" | "no")
}

/// Who a new file is encrypted for, and how.
struct NewFilePlan {
    groups: Vec<Vec<botsecrets::keys::Recipient>>,
    threshold: u32,
    selection: Option<Selection>,
    mac_only_encrypted: bool,
    scopes: Vec<document::ScopeSpec>,
}

/// `--age` (or the recipients variables) if given, else the creation rule
/// that matches the new file's path.
fn new_file_plan(age: &[String], path: &Path) -> Result<NewFilePlan> {
    if let Some(recipients) = inputs::recipients_if_given(age, Some(path))? {
        return Ok(NewFilePlan {
            groups: vec![recipients],
            threshold: 0,
            selection: None,
            mac_only_encrypted: false,
            scopes: Vec::new(),
        });
    }
    let rule = super::rules::for_file(path).map_err(|e| {
        match e.downcast_ref::<botsecrets::rules::RulesError>() {
            Some(botsecrets::rules::RulesError::NotFound { .. }) => UserError::recipients(format!(
                "no recipients for a new file: pass --age age1... (or set BOTSECRETS_AGE_RECIPIENTS), or create a rules file: {e}"
            ))
            .into(),
            _ => e,
        }
    })?;
    Ok(NewFilePlan {
        groups: rule.key_groups,
        threshold: rule.shamir_threshold,
        selection: rule.selection,
        mac_only_encrypted: rule.mac_only_encrypted,
        scopes: rule.scopes,
    })
}

/// Runs `edit`.
pub fn run(args: &EditArgs) -> Result<()> {
    let path = &args.file;
    let name = path.display().to_string();
    let format = inputs::format_for(Some(path), args.input_type.as_deref())?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| format!("secrets.{}", format.name()));
    // A dangling symlink or a FIFO "exists" too: it is refused below,
    // never replaced by a new file.
    let exists = std::fs::symlink_metadata(path).is_ok();

    let _core = hygiene::disable_core_dumps();
    let mut lock = None;
    let sealed;
    let opened;
    let plaintext: Zeroizing<String>;
    let recipients;
    if exists {
        let locked = inputs::lock_file(path)?;
        let text = inputs::utf8(Zeroizing::new(locked.contents().to_vec()), &name)?;
        lock = Some(locked);
        let identities = inputs::identities(&args.identity.identities)?;
        sealed = document::Sealed::parse(text, format).with_context(|| name.clone())?;
        let o = super::open::open(&sealed, &identities, Some(path), false, &name)?;
        plaintext = o.plaintext().with_context(|| name.clone())?;
        opened = Some(o);
        recipients = None;
    } else {
        // No recipients is an error before the editor opens.
        recipients = Some(new_file_plan(&args.age, path)?);
        plaintext = Zeroizing::new(edit::template(format).to_owned());
        opened = None;
    }

    let editor = edit::editor_argv(&[
        std::env::var("BOTSECRETS_EDITOR").ok(),
        std::env::var("VISUAL").ok(),
        std::env::var("EDITOR").ok(),
    ])
    .map_err(|e| UserError::with_code(code::NO_EDITOR, e, None))?;
    // SECURITY: vi/vim/nvim get options that stop swap, backup, undo and
    // viminfo/ShaDa copies of the plaintext (docs/edit.md).
    let kind = edit::editor_kind(&editor[0], on_path(&editor[0]).as_deref());
    let editor = edit::without_copies(editor, kind);

    let ws = Workspace::create(&workspace_bases(), &file_name, plaintext.as_bytes())
        .context("cannot create a private directory for the plaintext")?;
    let guard = Arc::new(Guard {
        dir: ws.dir().to_path_buf(),
        editor: AtomicI32::new(0),
        terminating: AtomicBool::new(false),
        writing: Mutex::new(()),
        file: name.clone(),
    });
    install_signal_thread(guard.clone())?;
    let before = edit::fingerprint(&plaintext);

    let edited = loop {
        let mut child = std::process::Command::new(&editor[0])
            .args(&editor[1..])
            .arg(ws.file())
            .spawn()
            .map_err(|e| {
                UserError::with_code(
                    code::NO_EDITOR,
                    format!("cannot start the editor {:?}: {e}", editor[0]),
                    Some("set BOTSECRETS_EDITOR, VISUAL or EDITOR to your editor (GUI editors need a wait flag, e.g. `code --wait`)"),
                )
            })?;
        guard.editor.store(child.id() as i32, Ordering::SeqCst);
        let status = child.wait().context("waiting for the editor")?;
        guard.editor.store(0, Ordering::SeqCst);
        if guard.terminating.load(Ordering::SeqCst) {
            // The signal thread is cleaning up and will exit the process
            // with the signal's status; the editor died because of it.
            loop {
                std::thread::park();
            }
        }
        if !status.success() {
            return Err(UserError::with_code(
                code::EDITOR_FAILED,
                format!("{name}: the editor exited with {status}; nothing was written"),
                None,
            )
            .into());
        }
        let text = ws.read().context("cannot read the edited file")?;
        if edit::fingerprint(&text) == before {
            return Err(UserError::with_code(
                code::UNCHANGED,
                format!("{name}: no changes; the file was not rewritten"),
                None,
            )
            .into());
        }
        match format.syntax().parse(&text) {
            Ok(parsed) if parsed.metadata.is_empty() => break text,
            Ok(_) => eprintln!(
                "botsecrets: {name}: the edited text must not contain a sops metadata block"
            ),
            Err(e) => eprintln!("botsecrets: {name}: the edited text is invalid: {e}"),
        }
        if !ask_reopen() {
            return Err(UserError::with_code(
                code::INPUT,
                format!("{name}: aborted; the file was left as it was"),
                None,
            )
            .into());
        }
    };

    let now = now_rfc3339();
    let new_text = match opened {
        Some(o) => o.reencrypt(&edited, &now).with_context(|| name.clone())?,
        None => {
            let recipients = recipients.expect("a new file has a plan");
            let opts = EncryptOptions {
                recipients: &[],
                selection: recipients.selection.clone().unwrap_or_default(),
                mac_only_encrypted: recipients.mac_only_encrypted,
                expand_aliases: false,
                now,
            };
            document::encrypt_scoped(
                &edited,
                format,
                &opts,
                &recipients.groups,
                recipients.threshold,
                &recipients.scopes,
            )
            .with_context(|| name.clone())?
            .text
        }
    };
    drop(edited);

    let _writing = guard.writing.lock();
    // Concurrency: we held the lock since the read, but a tool that does
    // not lock (another editor, `git checkout`) may have changed the file:
    // then nothing is written. A new file must still not exist.
    let mode = output::write_mode(false);
    let written = match &lock {
        Some(lock) => lock.replace(new_text.as_bytes(), mode),
        None => botsecrets::fsio::create_file(path, new_text.as_bytes(), mode),
    };
    match written {
        Ok(()) => {}
        Err(
            botsecrets::fsio::FsError::Changed { .. } | botsecrets::fsio::FsError::Exists { .. },
        ) => {
            return Err(UserError::with_code(
                code::BUSY,
                format!("{name}: the file changed on disk while you were editing; your edit was not written"),
                Some("run `botsecrets edit` again to edit the new version"),
            )
            .into());
        }
        Err(e) => return Err(e.into()),
    }
    drop(ws);
    super::gitattr::after_write(path);
    Ok(())
}
