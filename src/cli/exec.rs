//! `botsecrets exec`: decrypt the secrets files in memory, check every name,
//! then *become* the command (execve) with the secrets in its environment.
//!
//! Everything that can fail (no file, wrong key, MAC, collisions, `--only`)
//! fails before the command is started. Nothing is written to disk: the
//! files and key files are only read, and the values go from memory
//! straight into `execve`'s environment. On success this never returns.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use botsecrets::exec;
use zeroize::Zeroizing;

use super::args::ExecArgs;
use super::inputs;
use super::report::{code, UserError};
use super::secrets::{exec_error, parse_as_file, selection, Files};

/// Exit code when the command is not found (as shells do).
const NOT_FOUND: u8 = 127;
/// Exit code when the command cannot be executed (as shells do).
const NOT_EXECUTABLE: u8 = 126;

/// The file names `exec` looks for in the working directory.
const DEFAULT_NAMES: [&str; 5] = [
    "secrets.yaml",
    "secrets.yml",
    "secrets.json",
    "secrets.toml",
    "secrets.env",
];

/// The files to read when no `--file` is given: `BOTSECRETS_FILE` (a
/// colon-separated list), else the single `secrets.*` in the working
/// directory.
fn default_files() -> Result<Vec<PathBuf>> {
    if let Some(list) = std::env::var_os("BOTSECRETS_FILE") {
        let files: Vec<PathBuf> = std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !files.is_empty() {
            return Ok(files);
        }
    }
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let found: Vec<&str> = DEFAULT_NAMES
        .into_iter()
        .filter(|n| cwd.join(n).is_file())
        .collect();
    match found.as_slice() {
        [one] => Ok(vec![PathBuf::from(one)]),
        [] => Err(UserError {
            code: code::NO_FILE,
            message: format!(
                "no secrets file: no --file, BOTSECRETS_FILE is not set, and none of {} is in {}",
                DEFAULT_NAMES.join(", "),
                cwd.display()
            ),
            hint: Some(
                "pass --file FILE (repeatable) or set BOTSECRETS_FILE=FILE[:FILE...]".into(),
            ),
        }
        .into()),
        several => Err(UserError::usage(format!(
            "several secrets files in {}: {}; choose with --file (repeatable) or BOTSECRETS_FILE",
            cwd.display(),
            several.join(", ")
        ))
        .into()),
    }
}

/// Why `execve` failed, as a shell would say it, with its exit code.
fn exec_failure(program: &Path, e: &std::io::Error) -> UserError {
    let shown = program.display();
    let has_slash = program.as_os_str().as_encoded_bytes().contains(&b'/');
    let (code, message) = match e.kind() {
        std::io::ErrorKind::NotFound if !has_slash => {
            (NOT_FOUND, format!("{shown}: command not found on PATH"))
        }
        std::io::ErrorKind::NotFound if program.is_file() => (
            NOT_FOUND,
            format!("{shown}: its interpreter (the #! line) was not found"),
        ),
        std::io::ErrorKind::NotFound => (NOT_FOUND, format!("{shown}: no such file")),
        std::io::ErrorKind::PermissionDenied => (
            NOT_EXECUTABLE,
            format!("{shown}: permission denied (not an executable file)"),
        ),
        _ => (NOT_EXECUTABLE, format!("{shown}: cannot execute: {e}")),
    };
    UserError {
        code,
        message,
        hint: None,
    }
}

/// Runs `exec`; returns only on failure.
pub fn run(args: &ExecArgs) -> Result<()> {
    exec::check_prefix(&args.select.prefix).map_err(exec_error)?;
    // SECURITY: no core dump while plaintext is in memory; the limit is
    // restored right before the hand-over, because RLIMIT_CORE is inherited
    // across execve and the bot should get the limit it would have had.
    let core = botsecrets::hygiene::disable_core_dumps();
    let files = if args.files.is_empty() {
        default_files()?
    } else {
        args.files.clone()
    };
    let identities = inputs::identities(&args.identity.identities)?;
    let read = Files::read(&files, None)?;
    let loaded = read.open(&identities)?;
    let sources = loaded.sources();
    let mut sel = selection(&args.select, &loaded)?;
    sel.as_file = args
        .as_file
        .iter()
        .map(|a| parse_as_file(a))
        .collect::<Result<_>>()?;
    let vars = exec::variables(&sources, &sel).map_err(exec_error)?;
    let mut env = exec::environment(std::env::vars_os(), &vars, args.pristine);
    // --as-file: each value in an in-memory file the command inherits.
    let mut files_kept = Vec::new();
    for v in vars.iter().filter(|v| v.as_file) {
        let fd = memory_file(&v.name, v.value.expose().as_bytes())?;
        env.vars.push((
            v.name.clone().into(),
            format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd)).into(),
        ));
        files_kept.push(fd);
    }
    // --redact masks the values that were encrypted (secrets), not clear
    // ones (`region_unencrypted: eu-west-1` would mask ordinary output).
    let secrets: Vec<(String, Zeroizing<String>)> = if args.redact {
        vars.iter()
            .filter(|v| v.encrypted)
            .map(|v| (v.name.clone(), Zeroizing::new(v.value.expose().to_owned())))
            .collect()
    } else {
        Vec::new()
    };
    if args.verbose {
        // SECURITY: names and key paths only, never values.
        for v in &vars {
            let from = &sources[v.source].name;
            let replaced = if v.replaced_earlier {
                " (replaces the same key of an earlier file)"
            } else {
                ""
            };
            let file = if v.as_file {
                " (--as-file: the variable holds the file's path)"
            } else {
                ""
            };
            eprintln!(
                "botsecrets: exec: {} <- {} in {from}{replaced}{file}",
                v.name, v.path
            );
        }
        if !env.overridden.is_empty() {
            eprintln!(
                "botsecrets: exec: overriding inherited variables: {}",
                env.overridden.join(", ")
            );
        }
        if args.pristine {
            eprintln!(
                "botsecrets: exec: --pristine: inherited variables dropped except {}",
                exec::PRISTINE_KEEPS.join(", ")
            );
        }
    }
    // The decrypted documents and keys are wiped (their drops zeroize)
    // before botsecrets goes on as --redact's parent; only the environment
    // copies go on.
    if args.redact {
        drop(sources);
        drop(vars);
        drop(loaded);
        drop(read);
        drop(identities);
        return run_redacted(args, env.vars, secrets, files_kept, core);
    }
    core.restore();

    let (program, rest) = args.command.split_first().expect("clap requires a command");

    // No shell: argv as given. PATH lookup of a bare name happens in
    // execvp, on the PATH the command gets (which --pristine keeps).
    // SECURITY: the wipe comes after the execve, and only when it failed:
    // a successful execve discards this address space (Linux gives no
    // process a page without zeroing it first), and the environment copies
    // of the values stay in this memory up to the execve in any case, so
    // wiping the rest first protected nothing and cost 0.12M instructions
    // (100 keys). When the execve fails, everything is wiped before the
    // error is reported.
    let err = super::handover::exec(program, rest, env.vars);
    drop(sources);
    drop(vars);
    drop(loaded);
    drop(read);
    drop(identities);
    drop(files_kept);
    Err(exec_failure(Path::new(program), &err).into())
}

/// `exec --redact`: the command runs as a child whose output is masked;
/// botsecrets exits as it did. Core dumps stay off here while the secrets
/// are held; the child gets the limit botsecrets was started with.
fn run_redacted(
    args: &ExecArgs,
    env: Vec<(std::ffi::OsString, std::ffi::OsString)>,
    secrets: Vec<(String, Zeroizing<String>)>,
    files_kept: Vec<std::os::fd::OwnedFd>,
    core: botsecrets::hygiene::CoreDumpGuard,
) -> Result<()> {
    let (program, rest) = args.command.split_first().expect("clap requires a command");
    let mut cmd = Command::new(program);
    cmd.args(rest).env_clear().envs(env);
    let limit = core.saved_limit();
    match super::redact::run(cmd, super::redact::Secrets::new(secrets), limit) {
        Ok(status) => {
            drop(files_kept);
            super::redact::exit_like(status)
        }
        Err(e) => Err(exec_failure(Path::new(program), &e).into()),
    }
}

/// An in-memory file (memfd) holding `contents`, sealed against changes,
/// and inherited across execve (no close-on-exec): the command opens it
/// as /proc/self/fd/N. It lives only as long as a process holds it open;
/// nothing is ever written to a file system.
fn memory_file(name: &str, contents: &[u8]) -> Result<std::os::fd::OwnedFd> {
    use rustix::fs::{self as rfs, MemfdFlags, SealFlags};
    let fail = |e: rustix::io::Errno| -> anyhow::Error {
        UserError::with_code(
            code::OUTPUT,
            format!("--as-file {name}: cannot create an in-memory file: {e}"),
            None,
        )
        .into()
    };
    // SECURITY: no MFD_CLOEXEC on purpose: the command must inherit it.
    let fd =
        rfs::memfd_create(format!("botsecrets:{name}"), MemfdFlags::ALLOW_SEALING).map_err(fail)?;
    let mut written = 0;
    while written < contents.len() {
        written += rustix::io::write(&fd, &contents[written..]).map_err(fail)?;
    }
    // The command reads what the file said, and cannot change it for a
    // process it starts.
    rfs::fcntl_add_seals(
        &fd,
        SealFlags::WRITE | SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL,
    )
    .map_err(fail)?;
    Ok(fd)
}
