//! The old entry point for atomic writes, kept for callers that predate
//! [`crate::fsio`]: it now goes through [`crate::fsio::write_file`], so it
//! keeps owner, group, mode and xattrs, refuses read-only files and hard
//! links, and never names an incomplete file. It takes no lock: a command
//! that changes an encrypted file uses [`crate::fsio::LockedFile`].

use std::io;
use std::path::Path;

use crate::fsio::{self, WriteMode};

/// Writes `contents` to `path` atomically. An existing file keeps its
/// mode; a new file gets `new_file_mode`. Symlinks are followed.
pub fn write_atomic(path: &Path, contents: &[u8], new_file_mode: u32) -> io::Result<()> {
    fsio::write_file(path, contents, WriteMode::Keep(new_file_mode)).map_err(|e| match e {
        fsio::FsError::Write { error, .. } | fsio::FsError::Read { error, .. } => error,
        other => io::Error::other(other.reason()),
    })
}
