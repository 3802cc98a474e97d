//! Gathers what the library needs from the outside world: the input text
//! and its format, identities from flags, environment variables and default
//! key files, and recipients. The library never reads the environment.

use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use anyhow::{bail, Result};
use botsecrets::format::FormatKind;
use botsecrets::fsio::{self, LockedFile};
use botsecrets::keys::{self, Callbacks, Identity, PromptError, Prompter, Recipient};

use super::args::InputArgs;
use super::report::{code, UserError};

/// How long a writer waits for another to release a file's lock before
/// giving up with exit 207: long enough for a `set` or a `rotate` to
/// finish, short enough not to hang a script behind an open `edit`.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The most one input (a file or stdin) may hold: BOTSECRETS_MAX_INPUT_BYTES
/// if set, else 256 MiB.
pub fn input_limit() -> Result<u64> {
    match std::env::var("BOTSECRETS_MAX_INPUT_BYTES") {
        Ok(v) if !v.trim().is_empty() => v.trim().parse::<u64>().map_err(|_| {
            UserError::usage(format!(
                "BOTSECRETS_MAX_INPUT_BYTES={v:?}: expected a number of bytes"
            ))
            .into()
        }),
        _ => Ok(fsio::MAX_INPUT),
    }
}

/// Locks an encrypted file for a change and reads it through the lock
/// (waiting up to [`LOCK_WAIT`] for another writer).
pub fn lock_file(path: &Path) -> Result<LockedFile> {
    Ok(LockedFile::open(path, LOCK_WAIT, input_limit()?)?)
}

/// Reads a regular file, bounded.
pub fn read_file(path: &Path) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    Ok(fsio::read_file(path, input_limit()?)?)
}

/// Reads stdin to its end, bounded.
pub fn read_stdin() -> Result<zeroize::Zeroizing<Vec<u8>>> {
    Ok(fsio::read_stream(
        std::io::stdin().lock(),
        input_limit()?,
        "(stdin)",
    )?)
}

/// Bytes as text, without copying; `what` names them in the error.
pub fn utf8(
    mut bytes: zeroize::Zeroizing<Vec<u8>>,
    what: &str,
) -> Result<zeroize::Zeroizing<String>> {
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(s) => Ok(zeroize::Zeroizing::new(s)),
        Err(e) => {
            // SECURITY: the bytes may be plaintext: wipe them.
            drop(zeroize::Zeroizing::new(e.into_bytes()));
            Err(UserError::parse(format!(
                "{what}: not UTF-8 text (binary files are not supported)"
            ))
            .into())
        }
    }
}

/// An input file's text, where it came from, and its format.
pub struct Input {
    /// The text (may be plaintext: never log it).
    pub text: zeroize::Zeroizing<String>,
    /// The file path, or `None` for stdin.
    pub path: Option<PathBuf>,
    /// The format.
    pub format: FormatKind,
    /// The lock, for an input read to be replaced (`--in-place`).
    pub lock: Option<LockedFile>,
}

impl Input {
    /// How to name the input in messages.
    pub fn display_name(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => "(stdin)".to_owned(),
        }
    }
}

/// The format for a path, from `--input-type` or the file name.
pub fn format_for(path: Option<&Path>, input_type: Option<&str>) -> Result<FormatKind> {
    let supported = "yaml, json, toml, dotenv, ini";
    if let Some(name) = input_type {
        return FormatKind::from_name(name).ok_or_else(|| {
            UserError::usage(format!(
                "unknown input type {name:?}; supported: {supported}"
            ))
            .into()
        });
    }
    match path {
        None => Err(UserError::usage("reading stdin needs --input-type (yaml, json, toml, dotenv, ini)").into()),
        Some(p) => FormatKind::from_path(p).ok_or_else(|| {
            UserError::usage(format!(
                "{}: cannot tell the format from the file name; supported extensions: .yaml .yml .json .toml .env .ini (and .env.*); or pass --input-type",
                p.display()
            ))
            .into()
        }),
    }
}

/// Reads the input named by `args`: a regular file or `-` (stdin),
/// bounded by [`input_limit`].
pub fn read_input(args: &InputArgs) -> Result<Input> {
    read_input_for(args, false)
}

/// Reads the input named by `args` to replace it (`--in-place`): locked,
/// and read through the lock.
pub fn read_input_locked(args: &InputArgs) -> Result<Input> {
    read_input_for(args, true)
}

fn read_input_for(args: &InputArgs, locked: bool) -> Result<Input> {
    let is_stdin = args.file.as_os_str() == "-";
    let path = (!is_stdin).then(|| args.file.clone());
    let format = format_for(path.as_deref(), args.input_type.as_deref())?;
    let (bytes, lock) = match &path {
        None if locked => return Err(UserError::usage("--in-place needs a file, not stdin").into()),
        None => (read_stdin()?, None),
        Some(p) if locked => {
            let lock = lock_file(p)?;
            (
                zeroize::Zeroizing::new(lock.contents().to_vec()),
                Some(lock),
            )
        }
        Some(p) => (read_file(p)?, None),
    };
    let name = path
        .as_deref()
        .map_or("(stdin)".into(), |p| p.display().to_string());
    Ok(Input {
        text: utf8(bytes, &name)?,
        path,
        format,
        lock,
    })
}

/// Recipients from `--age` flags, else the environment; `None` when
/// neither names any (the caller then uses the rules file). With `target`
/// (the file to be written), names and groups of its rules file are taken
/// too (`--age bob`).
pub fn recipients_if_given(
    flags: &[String],
    target: Option<&Path>,
) -> Result<Option<Vec<Recipient>>> {
    let mut list: Vec<String> = flags.to_vec();
    let mut from = "--age";
    if list.is_empty() {
        for var in ["BOTSECRETS_AGE_RECIPIENTS", "SOPS_AGE_RECIPIENTS"] {
            if let Ok(v) = std::env::var(var) {
                if !v.trim().is_empty() {
                    list.push(v);
                    from = var;
                    break;
                }
            }
        }
    }
    if list
        .iter()
        .all(|item| item.split(',').all(|w| w.trim().is_empty()))
    {
        return Ok(None);
    }
    let names = target
        .map(super::names::Names::for_file)
        .unwrap_or_default();
    names.recipients(from, &list).map(Some)
}

/// A recipient string that could not be used, as the user sees it: a
/// private key in its place gets its own exit code and what to do.
pub fn recipient_error(from: &str, e: keys::KeyError) -> UserError {
    match &e {
        keys::KeyError::IdentityAsRecipient { recipient, .. } => UserError::with_code(
            super::report::code::PRIVATE_KEY,
            format!("{from}: {e}"),
            Some(&format!(
                "give the recipient{} instead; the private key may now be in shell history, CI logs or a file: make a new identity (`botsecrets keygen -o FILE`), add its recipient to the files (`botsecrets recipients add`), remove the exposed one (`botsecrets recipients remove`, which rotates the data key), and delete the old key where it was written",
                recipient.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
            )),
        ),
        _ => UserError::recipients(format!("{from}: {e}")),
    }
}

/// The configuration directory: `$XDG_CONFIG_HOME`, else `~/.config`
/// (what sops uses on Linux).
pub fn config_dir() -> Option<PathBuf> {
    match std::env::var_os("XDG_CONFIG_HOME") {
        Some(d) if Path::new(&d).is_absolute() => Some(PathBuf::from(d)),
        _ => home().map(|h| h.join(".config")),
    }
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// Asks on the controlling terminal (`/dev/tty`), so prompts work even
/// when stdin and stdout are redirected, and fail cleanly when there is no
/// terminal at all (CI, cron, a container without `-t`).
pub struct TtyPrompter;

fn open_tty() -> Option<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()
}

/// Whether there is a terminal to ask on.
pub fn has_tty() -> bool {
    open_tty().is_some()
}

impl Prompter for TtyPrompter {
    fn passphrase(&self, prompt: &str) -> Result<SecretString, PromptError> {
        if !has_tty() {
            return Err(PromptError::NoTerminal);
        }
        rpassword::prompt_password(prompt)
            .map(SecretString::from)
            .map_err(|e| PromptError::Failed(format!("cannot read the passphrase: {e}")))
    }

    fn message(&self, text: &str) {
        eprintln!("botsecrets: {text}");
    }

    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Option<bool> {
        let no = no.unwrap_or("no");
        let answer = ask_line(&format!("{message} [{yes}/{no}] "))?;
        Some(answer.trim().eq_ignore_ascii_case(yes) || answer.trim().eq_ignore_ascii_case("y"))
    }

    fn public_string(&self, description: &str) -> Option<String> {
        ask_line(&format!("{description} ")).map(|a| a.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// Writes `question` to the terminal and reads one line from it; `None`
/// without a terminal.
pub fn ask_line(question: &str) -> Option<String> {
    use std::io::{BufRead, Write};
    let mut tty = open_tty()?;
    tty.write_all(question.as_bytes()).ok()?;
    tty.flush().ok()?;
    let mut line = String::new();
    std::io::BufReader::new(tty).read_line(&mut line).ok()?;
    Some(line)
}

/// The callbacks every identity gets: prompts on the terminal.
pub fn callbacks() -> Callbacks {
    Callbacks::new(TtyPrompter)
}

pub fn load_identity_file(path: &Path, source: &str, cb: &Callbacks) -> Result<Vec<Identity>> {
    let bytes = zeroize::Zeroizing::new(
        std::fs::read(path)
            .map_err(|e| UserError::identity(format!("{source}: {}: {e}", path.display())))?,
    );
    let name = path.display().to_string();
    keys::load_identities(&bytes, &name, &format!("{source} {name}"), cb)
        .map_err(|e| UserError::identity(e.to_string()).into())
}

/// Runs a key command (`BOTSECRETS_AGE_KEY_CMD`, `SOPS_AGE_KEY_CMD`): split
/// like a shell would (no shell runs), stdin and stderr are the user's, and
/// stdout is the identity text.
fn run_key_command(var: &str, cmd: &str, cb: &Callbacks) -> Result<Vec<Identity>> {
    let argv = shell_words::split(cmd)
        .map_err(|e| UserError::identity(format!("{var}: cannot split the command: {e}")))?;
    let Some((program, args)) = argv.split_first() else {
        return Ok(Vec::new());
    };
    let output = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| UserError::identity(format!("{var}: cannot run {program:?}: {e}")))?;
    let stdout = zeroize::Zeroizing::new(output.stdout);
    if !output.status.success() {
        let status = output
            .status
            .code()
            .map_or_else(|| "a signal".to_owned(), |c| format!("status {c}"));
        bail!(UserError::identity(format!(
            "{var}: the command {program:?} failed (exit {status})"
        )));
    }
    keys::load_identities(&stdout, var, var, cb)
        .map_err(|e| UserError::identity(e.to_string()).into())
}

/// Identities: `--identity` files if given; else every available source in
/// order: BOTSECRETS_AGE_KEY, BOTSECRETS_AGE_KEY_FILE,
/// BOTSECRETS_AGE_KEY_CMD, SOPS_AGE_KEY, SOPS_AGE_KEY_FILE,
/// SOPS_AGE_KEY_CMD, `<config>/botsecrets/keys.txt`,
/// `<config>/sops/age/keys.txt`, then the SSH key named by
/// BOTSECRETS_AGE_SSH_PRIVATE_KEY_FILE (else SOPS_AGE_SSH_PRIVATE_KEY_FILE,
/// else `~/.ssh/id_ed25519` and `~/.ssh/id_rsa` when they exist).
///
/// Any source may hold identity text, an SSH private key or a
/// passphrase-encrypted identity file; passphrases are asked on the
/// terminal only when that identity is needed.
pub fn identities(flags: &[PathBuf]) -> Result<Vec<Identity>> {
    let cb = callbacks();
    let mut out = Vec::new();
    if !flags.is_empty() {
        for f in flags {
            out.extend(load_identity_file(f, "--identity", &cb)?);
        }
        return Ok(out);
    }
    for (key_var, file_var, cmd_var) in [
        (
            "BOTSECRETS_AGE_KEY",
            "BOTSECRETS_AGE_KEY_FILE",
            "BOTSECRETS_AGE_KEY_CMD",
        ),
        ("SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY_CMD"),
    ] {
        if let Ok(text) = std::env::var(key_var) {
            let text = zeroize::Zeroizing::new(text);
            if !text.trim().is_empty() {
                out.extend(
                    keys::load_identities(text.as_bytes(), key_var, key_var, &cb)
                        .map_err(|e| UserError::identity(e.to_string()))?,
                );
            }
        }
        if let Some(file) = std::env::var_os(file_var).filter(|f| !f.is_empty()) {
            out.extend(load_identity_file(Path::new(&file), file_var, &cb)?);
        }
        if let Ok(cmd) = std::env::var(cmd_var) {
            if !cmd.trim().is_empty() {
                out.extend(run_key_command(cmd_var, &cmd, &cb)?);
            }
        }
    }
    if let Some(dir) = config_dir() {
        for rel in ["botsecrets/keys.txt", "sops/age/keys.txt"] {
            let path = dir.join(rel);
            if path.is_file() {
                out.extend(load_identity_file(&path, "default key file", &cb)?);
            }
        }
    }
    let ssh_var = [
        "BOTSECRETS_AGE_SSH_PRIVATE_KEY_FILE",
        "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
    ]
    .into_iter()
    .find_map(|v| {
        std::env::var_os(v)
            .filter(|f| !f.is_empty())
            .map(|f| (v, f))
    });
    match ssh_var {
        Some((var, file)) => out.extend(load_identity_file(Path::new(&file), var, &cb)?),
        None => {
            // COMPAT(sops): the default SSH keys are tried when present; one
            // that is not a usable age identity (another key type) is skipped.
            for name in ["id_ed25519", "id_rsa"] {
                let Some(path) = home().map(|h| h.join(".ssh").join(name)) else {
                    continue;
                };
                if path.is_file() {
                    if let Ok(ids) = load_identity_file(&path, "default SSH key", &cb) {
                        out.extend(ids);
                    }
                }
            }
        }
    }
    if out.is_empty() {
        bail!(UserError::identity(
            "no age identity found: pass --identity FILE, or set BOTSECRETS_AGE_KEY_FILE (or SOPS_AGE_KEY_FILE, BOTSECRETS_AGE_KEY_CMD, BOTSECRETS_AGE_SSH_PRIVATE_KEY_FILE), or put keys in ~/.config/botsecrets/keys.txt".to_owned()
        ));
    }
    Ok(out)
}

/// Asks "Apply to NAME?" on the terminal unless `yes`; `Ok(false)` when
/// the user says no, an error (exit 209) when there is no terminal.
pub fn confirm(name: &str, question: &str, yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    if !has_tty() {
        return Err(UserError {
            code: code::NOT_CONFIRMED,
            message: format!(
                "{name}: not changed: confirmation needed and there is no terminal to ask on"
            ),
            hint: Some("review the change above, then run again with --yes".into()),
        }
        .into());
    }
    let answer = ask_line(&format!("{question} [y/N] ")).unwrap_or_default();
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// Identities that can be used without asking anyone (git runs textconv
/// and the hook non-interactively, often under a pager); `None` if there
/// are none.
pub fn quiet_identities(flags: &[PathBuf]) -> Option<Vec<Identity>> {
    let ids: Vec<Identity> = identities(flags)
        .ok()?
        .into_iter()
        .filter(|i| !i.would_prompt())
        .collect();
    (!ids.is_empty()).then_some(ids)
}
