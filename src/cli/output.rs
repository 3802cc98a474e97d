//! Where command output goes: stdout, `--output FILE` or `--in-place`, the
//! last two written atomically.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use anyhow::Result;
use botsecrets::atomic::write_atomic;

use super::args::OutputArgs;
use super::inputs::Input;
use super::report::{code, UserError};

/// Writes `text` where `args` say. `plaintext` makes a new file 0600.
pub fn emit(args: &OutputArgs, input: &Input, text: &str, plaintext: bool) -> Result<()> {
    let new_mode = if plaintext { 0o600 } else { 0o644 };
    if args.in_place {
        let Some(path) = &input.path else {
            return Err(UserError::usage("--in-place needs a file, not stdin").into());
        };
        return write_file(path, text, new_mode);
    }
    if let Some(path) = &args.output {
        return write_file(path, text, new_mode);
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Atomically writes a file.
pub fn write_file(path: &Path, text: &str, new_mode: u32) -> Result<()> {
    write_atomic(path, text.as_bytes(), new_mode).map_err(|e| UserError::write(path, e).into())
}

/// Takes an exclusive, non-blocking lock on the encrypted file.
pub fn lock(path: &Path, name: &str) -> Result<File> {
    let f = File::open(path).map_err(|e| UserError::io(path, e))?;
    match rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(f),
        Err(rustix::io::Errno::WOULDBLOCK) => Err(UserError::with_code(
            code::BUSY,
            format!("{name}: another botsecrets process is changing this file"),
            Some("wait for it to finish, then run the command again"),
        )
        .into()),
        // Filesystems without flock: the outside-change check below still
        // guards the write.
        Err(_) => Ok(f),
    }
}
