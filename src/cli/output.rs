//! Where command output goes: stdout, `--output FILE` or `--in-place`, the
//! last two written atomically.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use botsecrets::atomic::write_atomic;

use super::args::OutputArgs;
use super::inputs::Input;
use super::report::UserError;

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
