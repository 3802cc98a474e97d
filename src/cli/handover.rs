//! The hand-over of `exec`: replace this process with the command, argv as
//! given, the environment exactly the one built for it, found on the PATH
//! that environment holds (as `execvp` does, `#!` scripts and the ENOEXEC
//! shell fallback included).
//!
//! This is what `std::process::Command::exec` does, without its copies:
//! `Command` stores every variable in a map (a copy of each name and
//! value), merges it into a second map at exec time (another copy) and
//! only then builds the `NAME=value` strings. For 100 secrets and the
//! inherited environment that was about 0.45M instructions, the largest
//! cost before the hand-over outside decryption; here each variable is
//! copied once, straight into its `NAME=value` string.

// SECURITY: the second module of the binary with unsafe code (the other is
// cli/redact.rs): one call to execvpe(3) and one to signal(2), on arrays
// built and NUL-terminated here, which outlive the call.
#![allow(unsafe_code)]

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// Replaces this process with `program` (`args` after it), environment
/// `env`; returns only when that failed, with why (as `execvp` tells).
pub fn exec(program: &OsStr, args: &[OsString], env: Vec<(OsString, OsString)>) -> std::io::Error {
    let nul = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "nul byte found in provided data",
        )
    };
    let Ok(program) = CString::new(program.as_bytes()) else {
        return nul();
    };
    let mut argv = Vec::with_capacity(args.len() + 1);
    argv.push(program.clone());
    for a in args {
        match CString::new(a.as_bytes()) {
            Ok(a) => argv.push(a),
            Err(_) => return nul(),
        }
    }
    // execvpe searches the PATH of this process, not of `envp`; the command
    // must be found on the PATH it gets (std sets `environ` for that), so a
    // different one (`--allow-env PATH` with a PATH secret) is set here
    // first. Nothing else runs in this process after the execve.
    let path = env
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone());
    if std::env::var_os("PATH") != path {
        match &path {
            Some(p) => std::env::set_var("PATH", p),
            None => std::env::remove_var("PATH"),
        }
    }
    // COMPAT: Command passed the environment sorted by name, one entry per
    // name (the last one set), because it keeps it in a map; the command
    // sees it in the same order. The sort is stable, so after the reversal
    // the last entry of a name comes first and is the one kept.
    let mut env = env;
    env.reverse();
    env.sort_by(|a, b| a.0.cmp(&b.0));
    env.dedup_by(|later, kept| later.0 == kept.0);
    // All `NAME=value\0` strings in one block, allocated once at its final
    // size (so the pointers below stay valid); nothing is freed before the
    // execve (one `CString` per variable was 140 allocations and 280 frees).
    let size = env.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut block: Vec<u8> = Vec::with_capacity(size);
    let mut starts = Vec::with_capacity(env.len());
    for (name, value) in &env {
        let (name, value) = (name.as_bytes(), value.as_bytes());
        if name.contains(&0) || value.contains(&0) {
            return nul();
        }
        starts.push(block.len());
        block.extend_from_slice(name);
        block.push(b'=');
        block.extend_from_slice(value);
        block.push(0);
    }
    let argv_ptrs: Vec<*const libc::c_char> = argv
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let envp_ptrs: Vec<*const libc::c_char> = starts
        .iter()
        .map(|&start| block[start..].as_ptr().cast())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    // SAFETY: every pointer is to a NUL-terminated string owned by `argv`,
    // `block` (never reallocated after `starts` was taken) or `program`,
    // alive until after the call; both arrays end in a null pointer.
    // signal() with SIG_DFL installs no handler.
    unsafe {
        // std ignores SIGPIPE; the command gets the default disposition, as
        // Command::exec gives it.
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::execvpe(program.as_ptr(), argv_ptrs.as_ptr(), envp_ptrs.as_ptr());
    }
    std::io::Error::last_os_error()
}
