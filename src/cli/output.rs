//! Where command output goes: stdout, `--output FILE` or `--in-place`, the
//! last two through `botsecrets::fsio` (atomic, metadata kept, plaintext
//! 0600; `--in-place` replaces the input under the lock it was read with).

use std::io::Write;

use anyhow::Result;
use botsecrets::fsio::{self, WriteMode};

use super::args::OutputArgs;
use super::inputs::Input;
use super::report::UserError;

/// How `--output` / `--in-place` write: plaintext is private (0600, no
/// ACL carried over); ciphertext keeps the old file's metadata, and a new
/// file is 0644.
pub fn write_mode(plaintext: bool) -> WriteMode {
    if plaintext {
        WriteMode::Private
    } else {
        WriteMode::Keep(0o644)
    }
}

/// Writes `text` where `args` say. `plaintext` makes the file 0600.
pub fn emit(args: &OutputArgs, input: &Input, text: &str, plaintext: bool) -> Result<()> {
    let mode = write_mode(plaintext);
    if args.in_place {
        let Some(lock) = &input.lock else {
            return Err(UserError::usage("--in-place needs a file, not stdin").into());
        };
        return Ok(lock.replace(text.as_bytes(), mode)?);
    }
    if let Some(path) = &args.output {
        return Ok(fsio::write_file(path, text.as_bytes(), mode)?);
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}
