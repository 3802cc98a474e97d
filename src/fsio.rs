//! Every read and every replacement of a file botsecrets works on goes
//! through here, so the rules hold for every command:
//!
//! - **Bounded input**: only regular files are read (a FIFO, a device, a
//!   directory or a socket is refused before it is opened, and the open
//!   itself is non-blocking, so a FIFO never hangs us), and never more than
//!   a limit the caller gives ([`MAX_INPUT`] by default): a larger input is
//!   an error, not an out-of-memory.
//! - **One lock for every writer** ([`LockedFile`]): an exclusive `flock`
//!   on the file itself, then a check that the path still names the locked
//!   inode. A writer replaces the file by renaming a new inode over the
//!   path *while it holds the lock on the old one*, so a process that was
//!   waiting on the old inode finds, once it has it, that the path now
//!   names another file, and starts again on the new one: whoever holds the
//!   lock on the inode the path names is the only botsecrets writer of that
//!   path. The contents are read through the locked handle and read again
//!   just before the rename, so a change by a tool that does not lock (an
//!   editor, `git checkout`) is refused, never overwritten.
//! - **Replacements keep what users rely on**: owner and group, mode, ACLs
//!   and other extended attributes are copied to the new file before it is
//!   renamed into place. A read-only file, a file with other hard links
//!   (the other names would keep the old contents: for `encrypt --in-place`
//!   the plaintext) and anything that is not a regular file are refused.
//! - **Nothing is named before it is complete**: the new contents go to an
//!   unnamed `O_TMPFILE` inode in the target's directory (Linux), fsynced,
//!   then linked in; a process killed while writing leaves no file. Where
//!   `O_TMPFILE` is not supported, a randomly named temporary file of mode
//!   0600 is used and removed on failure.
//!
//! This module reads no environment variable: limits and waits are the
//! caller's.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::fs::{FlockOperation, Mode, OFlags};
use zeroize::Zeroizing;

/// The default limit on one input (a file or stdin): 256 MiB. Secrets
/// files are a few kilobytes; the limit only stops a device, a runaway
/// generator or a hostile file from filling memory.
pub const MAX_INPUT: u64 = 256 * 1024 * 1024;

/// How often a waiting writer tries the lock again.
const LOCK_POLL: Duration = Duration::from_millis(20);

/// A refused or failed read or write. Messages name the file and the
/// situation, never the contents.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// The file does not exist.
    #[error("{}: no such file or directory", path.display())]
    NotFound {
        /// The file.
        path: PathBuf,
    },
    /// Reading failed.
    #[error("{}: {}", path.display(), reason(error))]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: io::Error,
    },
    /// Writing failed; nothing was replaced.
    #[error("cannot write {}: {}", path.display(), reason(error))]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        error: io::Error,
    },
    /// An input that is not a regular file (a FIFO, a device, ...).
    #[error("{}: not a regular file ({kind}); only regular files and `-` (stdin) are read", path.display())]
    NotRegular {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// An input larger than the limit.
    #[error("{what}: larger than the input limit of {}; nothing was read", size_text(*limit))]
    TooLarge {
        /// The file, or `(stdin)`.
        what: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// Another writer holds the lock (and kept it past the wait).
    #[error("{}: another botsecrets process is changing this file", path.display())]
    Busy {
        /// The file.
        path: PathBuf,
    },
    /// The file changed since it was read.
    #[error("{}: the file changed on disk meanwhile; nothing was written", path.display())]
    Changed {
        /// The file.
        path: PathBuf,
    },
    /// A file that was to be created appeared meanwhile.
    #[error("{}: the file appeared on disk meanwhile; nothing was written", path.display())]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The owner has no write permission.
    #[error("{}: the file is read-only (its owner has no write permission); it was not changed", path.display())]
    ReadOnly {
        /// The file.
        path: PathBuf,
    },
    /// The file has other hard links.
    #[error("{}: the file has {others} other hard link(s); replacing it would leave the old contents under the other name(s), so it was not changed", path.display())]
    HardLinks {
        /// The file.
        path: PathBuf,
        /// How many other names it has.
        others: u64,
    },
    /// A write target that is not a regular file.
    #[error("{}: not a regular file ({kind}); it was not replaced", path.display())]
    NotRegularTarget {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// The new file could not be given the old one's owner and group.
    #[error("{}: cannot give the new version the file's owner and group ({uid}:{gid}); it was not changed", path.display())]
    Owner {
        /// The file.
        path: PathBuf,
        /// The owner.
        uid: u32,
        /// The group.
        gid: u32,
    },
}

impl FsError {
    /// The message without the file name (for errors that name it
    /// themselves).
    pub fn reason(&self) -> String {
        match self {
            FsError::Read { error, .. } => reason(error),
            FsError::NotRegular { kind, .. } => format!("not a regular file ({kind})"),
            FsError::TooLarge { limit, .. } => {
                format!("larger than the input limit of {}", size_text(*limit))
            }
            other => other.to_string(),
        }
    }
}

fn reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// `256 MiB` for whole mebibytes, else `N bytes`.
pub fn size_text(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

fn kind_of(ft: fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

fn read_error(path: &Path, error: io::Error) -> FsError {
    if error.kind() == io::ErrorKind::NotFound {
        FsError::NotFound {
            path: path.to_path_buf(),
        }
    } else {
        FsError::Read {
            path: path.to_path_buf(),
            error,
        }
    }
}

/// Refuses anything but a regular file, from `stat` (symlinks followed),
/// before any open.
fn regular_input(path: &Path) -> Result<fs::Metadata, FsError> {
    let meta = fs::metadata(path).map_err(|e| read_error(path, e))?;
    if !meta.is_file() {
        return Err(FsError::NotRegular {
            path: path.to_path_buf(),
            kind: kind_of(meta.file_type()),
        });
    }
    Ok(meta)
}

/// Opens for reading without blocking (a FIFO swapped in after the `stat`
/// must not hang us) and checks again on the handle.
fn open_regular(path: &Path) -> Result<(File, fs::Metadata), FsError> {
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| read_error(path, e.into()))?;
    let file = File::from(fd);
    let meta = file.metadata().map_err(|e| read_error(path, e))?;
    if !meta.is_file() {
        return Err(FsError::NotRegular {
            path: path.to_path_buf(),
            kind: kind_of(meta.file_type()),
        });
    }
    Ok((file, meta))
}

/// Reads at most `limit` bytes of `reader`; more is [`FsError::TooLarge`].
/// `what` names the input in errors. `size_hint` avoids reallocations
/// (each of which would leave a copy of the contents behind in freed
/// memory).
fn read_bounded(
    mut reader: impl Read,
    size_hint: u64,
    limit: u64,
    what: &str,
    path: &Path,
) -> Result<Zeroizing<Vec<u8>>, FsError> {
    let mut buf = Zeroizing::new(Vec::with_capacity(
        usize::try_from(size_hint.min(limit).saturating_add(1)).unwrap_or(0),
    ));
    // A file of known size is read straight into `buf`, at most its
    // capacity, so it never grows here (no copy left in freed memory), and
    // no 64 KiB chunk is allocated, zeroed and wiped for a small file (most
    // of the cost of reading one before `exec` hands over).
    if buf.capacity() > 0 {
        let room = buf.capacity();
        buf.resize(room, 0);
        let mut filled = 0;
        while filled < room {
            match reader.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(read_error(path, e)),
            }
        }
        buf.truncate(filled);
        if buf.len() as u64 > limit {
            return Err(FsError::TooLarge {
                what: what.to_owned(),
                limit,
            });
        }
        if buf.len() < buf.capacity() {
            // The end of the file (it was the size it said, or shrank).
            return Ok(buf);
        }
    }
    // SECURITY: read in chunks into zeroized storage, so a buffer that has
    // to grow is wiped before it is freed.
    let mut chunk = Zeroizing::new(vec![0u8; 64 * 1024]);
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(path, e)),
        };
        if buf.len() as u64 + n as u64 > limit {
            return Err(FsError::TooLarge {
                what: what.to_owned(),
                limit,
            });
        }
        if buf.len() + n > buf.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity((buf.len() + n) * 2));
            bigger.extend_from_slice(&buf);
            buf = bigger;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(buf)
}

/// Reads the regular file `path` (symlinks followed), at most `limit`
/// bytes. Anything else is refused before it is read.
pub fn read_file(path: &Path, limit: u64) -> Result<Zeroizing<Vec<u8>>, FsError> {
    regular_input(path)?;
    let (file, meta) = open_regular(path)?;
    let what = path.display().to_string();
    if meta.len() > limit {
        return Err(FsError::TooLarge { what, limit });
    }
    read_bounded(file, meta.len(), limit, &what, path)
}

/// Reads a stream (stdin) to its end, at most `limit` bytes; `what` names
/// it in errors.
pub fn read_stream(
    reader: impl Read,
    limit: u64,
    what: &str,
) -> Result<Zeroizing<Vec<u8>>, FsError> {
    read_bounded(reader, 0, limit, what, Path::new(what))
}

/// How a replacement treats the old file's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Ciphertext or other text that is not secret: an existing file keeps
    /// its owner, group, mode, ACLs and extended attributes; a new file
    /// gets this mode (exactly: the umask does not apply).
    Keep(u32),
    /// Plaintext secrets: mode 0600 whatever the old file's mode, and no
    /// ACL or extended attribute carried over (an ACL could give others
    /// read access). The owner and group are kept where we may.
    Private,
}

/// An encrypted file locked for a change, with the contents read through
/// the locked handle. The lock is released when this is dropped.
#[derive(Debug)]
pub struct LockedFile {
    file: File,
    /// As given, for messages.
    path: PathBuf,
    /// Symlinks resolved: the file that is replaced.
    target: PathBuf,
    dev: u64,
    ino: u64,
    contents: Zeroizing<Vec<u8>>,
}

impl LockedFile {
    /// Locks `path` for a change, waiting up to `wait` for another writer,
    /// and reads it (at most `limit` bytes).
    ///
    /// Refused: anything but a regular file (before it is opened), a
    /// read-only file, a file with other hard links, a file over `limit`.
    /// [`FsError::Busy`] when the lock stays taken for `wait`.
    pub fn open(path: &Path, wait: Duration, limit: u64) -> Result<Self, FsError> {
        let deadline = Instant::now() + wait;
        loop {
            regular_input(path)?;
            let target = fs::canonicalize(path).map_err(|e| read_error(path, e))?;
            let (file, _) = open_regular(&target)?;
            lock(&file, path, deadline)?;
            // The lock holds only if the path still names the inode we
            // locked: a writer that finished meanwhile renamed a new one
            // in. Then start again on the new one.
            let meta = file.metadata().map_err(|e| read_error(path, e))?;
            let moved = match fs::metadata(&target) {
                Ok(now) => now.dev() != meta.dev() || now.ino() != meta.ino(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => true,
                Err(e) => return Err(read_error(path, e)),
            };
            if moved {
                // Bounded too: a path replaced again and again by another
                // tool must not keep us here.
                if Instant::now() >= deadline {
                    return Err(FsError::Busy {
                        path: path.to_path_buf(),
                    });
                }
                continue;
            }
            check_replaceable(path, &meta)?;
            if meta.len() > limit {
                return Err(FsError::TooLarge {
                    what: path.display().to_string(),
                    limit,
                });
            }
            let contents =
                read_bounded(&file, meta.len(), limit, &path.display().to_string(), path)?;
            return Ok(Self {
                file,
                path: path.to_path_buf(),
                target,
                dev: meta.dev(),
                ino: meta.ino(),
                contents,
            });
        }
    }

    /// The contents as read under the lock (may be plaintext: never log).
    pub fn contents(&self) -> &[u8] {
        &self.contents
    }

    /// The path as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces the file with `contents`, if it is still what was read:
    /// the same inode at the path, the same bytes, still one link and
    /// writable. Otherwise [`FsError::Changed`] and nothing is written.
    pub fn replace(&self, contents: &[u8], mode: WriteMode) -> Result<(), FsError> {
        let changed = || FsError::Changed {
            path: self.path.clone(),
        };
        match fs::metadata(&self.target) {
            Ok(now) if now.dev() == self.dev && now.ino() == self.ino => {}
            Ok(_) => return Err(changed()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(changed()),
            Err(e) => return Err(read_error(&self.path, e)),
        }
        let meta = self
            .file
            .metadata()
            .map_err(|e| read_error(&self.path, e))?;
        check_replaceable(&self.path, &meta)?;
        if meta.len() != self.contents.len() as u64 {
            return Err(changed());
        }
        let mut again = Zeroizing::new(vec![0u8; self.contents.len()]);
        let mut off = 0;
        while off < again.len() {
            match self.file.read_at(&mut again[off..], off as u64) {
                Ok(0) => return Err(changed()),
                Ok(n) => off += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(read_error(&self.path, e)),
            }
        }
        let mut extra = [0u8; 1];
        if again[..] != self.contents[..]
            || self
                .file
                .read_at(&mut extra, off as u64)
                .map_err(|e| read_error(&self.path, e))?
                != 0
        {
            return Err(changed());
        }
        install(
            &self.path,
            &self.target,
            contents,
            Some((&self.file, &meta)),
            mode,
            Install::Replace,
        )
    }
}

/// Takes the exclusive lock on `file`, polling until `deadline`.
fn lock(file: &File, path: &Path, deadline: Instant) -> Result<(), FsError> {
    loop {
        match rustix::fs::flock(file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(()),
            Err(rustix::io::Errno::WOULDBLOCK) if Instant::now() < deadline => {
                std::thread::sleep(LOCK_POLL);
            }
            Err(rustix::io::Errno::WOULDBLOCK) => {
                return Err(FsError::Busy {
                    path: path.to_path_buf(),
                })
            }
            Err(rustix::io::Errno::INTR) => {}
            // A filesystem without flock: the re-read before the rename
            // still refuses to overwrite a change.
            Err(_) => return Ok(()),
        }
    }
}

/// Refuses to replace a file that is read-only or has other hard links.
fn check_replaceable(path: &Path, meta: &fs::Metadata) -> Result<(), FsError> {
    if !meta.is_file() {
        return Err(FsError::NotRegularTarget {
            path: path.to_path_buf(),
            kind: kind_of(meta.file_type()),
        });
    }
    // COMPAT(sops): sops refuses a file it cannot open for writing; the
    // owner's write bit decides here, also for root, who could write
    // anything.
    if meta.mode() & 0o200 == 0 {
        return Err(FsError::ReadOnly {
            path: path.to_path_buf(),
        });
    }
    if meta.nlink() > 1 {
        return Err(FsError::HardLinks {
            path: path.to_path_buf(),
            others: meta.nlink() - 1,
        });
    }
    Ok(())
}

/// Writes `contents` to `path`, replacing a file there or creating it. An
/// existing file must be a regular, writable file with no other hard
/// links; its metadata is kept as `mode` says. For `--output` targets and
/// files no other writer changes; an encrypted file being changed goes
/// through [`LockedFile`].
pub fn write_file(path: &Path, contents: &[u8], mode: WriteMode) -> Result<(), FsError> {
    let target = match fs::canonicalize(path) {
        Ok(real) => real,
        Err(e) if e.kind() == io::ErrorKind::NotFound => path.to_path_buf(),
        Err(e) => return Err(write_error(path, e)),
    };
    match fs::metadata(&target) {
        Ok(meta) => {
            check_replaceable(path, &meta)?;
            // The handle carries the xattrs to copy.
            let (file, meta) = open_regular(&target)?;
            install(
                path,
                &target,
                contents,
                Some((&file, &meta)),
                mode,
                Install::Replace,
            )
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            install(path, &target, contents, None, mode, Install::Replace)
        }
        Err(e) => Err(write_error(path, e)),
    }
}

/// Creates `path` with `contents`; [`FsError::Exists`] if anything is
/// there by the time the file is linked in (even a file created
/// meanwhile). Nothing is ever replaced.
pub fn create_file(path: &Path, contents: &[u8], mode: WriteMode) -> Result<(), FsError> {
    install(path, path, contents, None, mode, Install::New)
}

fn write_error(path: &Path, error: io::Error) -> FsError {
    FsError::Write {
        path: path.to_path_buf(),
        error,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Install {
    /// Rename over whatever is there.
    Replace,
    /// Fail if anything is there.
    New,
    /// Link to the name if nothing is there, else rename over it.
    NewOrReplace,
}

/// Writes the new version next to `target` and puts it in place.
fn install(
    path: &Path,
    target: &Path,
    contents: &[u8],
    old: Option<(&File, &fs::Metadata)>,
    mode: WriteMode,
    how: Install,
) -> Result<(), FsError> {
    let werr = |e: io::Error| write_error(path, e);
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .ok_or_else(|| werr(io::Error::other("the path names no file")))?;
    let dir_fd = rustix::fs::open(
        &dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| werr(e.into()))?;

    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(mut tmp) = unnamed_temp(&dir_fd) {
        prepare(path, &mut tmp, contents, old, mode)?;
        let how = match (how, old) {
            // Nothing there to replace: link straight to the name, so the
            // contents never have another one.
            (Install::Replace, None) => Install::NewOrReplace,
            (how, _) => how,
        };
        match link_unnamed(&tmp, &dir_fd, name, how) {
            Ok(()) => {
                sync_dir(&dir_fd);
                return Ok(());
            }
            Err(LinkError::Exists) => {
                return Err(FsError::Exists {
                    path: path.to_path_buf(),
                })
            }
            Err(LinkError::Io(e)) => return Err(werr(e)),
            // No way to name an unnamed file here (no /proc): write it
            // again the portable way.
            Err(LinkError::Unsupported) => {}
        }
    }

    // tempfile creates the file 0600 with O_EXCL and a random name, and
    // removes it if anything below fails.
    let file_name = name.to_string_lossy();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{file_name}."))
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(werr)?;
    prepare(path, tmp.as_file_mut(), contents, old, mode)?;
    match how {
        Install::Replace | Install::NewOrReplace => {
            tmp.persist(target).map_err(|e| werr(e.error))?;
        }
        Install::New => match tmp.persist_noclobber(target) {
            Ok(_) => {}
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => {
                return Err(FsError::Exists {
                    path: path.to_path_buf(),
                })
            }
            Err(e) => return Err(werr(e.error)),
        },
    }
    sync_dir(&dir_fd);
    Ok(())
}

/// Makes the rename itself durable (best effort).
fn sync_dir(dir: &rustix::fd::OwnedFd) {
    let _ = rustix::fs::fsync(dir);
}

/// Writes the contents, gives the file its owner, group, mode and xattrs,
/// and fsyncs it.
fn prepare(
    path: &Path,
    tmp: &mut File,
    contents: &[u8],
    old: Option<(&File, &fs::Metadata)>,
    mode: WriteMode,
) -> Result<(), FsError> {
    let werr = |e: io::Error| write_error(path, e);
    tmp.write_all(contents).map_err(werr)?;
    if let Some((_, meta)) = old {
        let mine = tmp.metadata().map_err(werr)?;
        if (mine.uid(), mine.gid()) != (meta.uid(), meta.gid()) {
            match std::os::unix::fs::fchown(&*tmp, Some(meta.uid()), Some(meta.gid())) {
                Ok(()) => {}
                // SECURITY: a plaintext output owned by whoever wrote it
                // (mode 0600) gives no one else access: fine. An encrypted
                // file must not silently change hands.
                Err(_) if mode == WriteMode::Private => {}
                Err(_) => {
                    return Err(FsError::Owner {
                        path: path.to_path_buf(),
                        uid: meta.uid(),
                        gid: meta.gid(),
                    })
                }
            }
        }
    }
    // After the chown, which may clear set-id bits.
    let bits = match (mode, old) {
        (WriteMode::Private, _) => 0o600,
        (WriteMode::Keep(_), Some((_, meta))) => meta.mode() & 0o7777,
        (WriteMode::Keep(new), None) => new,
    };
    tmp.set_permissions(fs::Permissions::from_mode(bits))
        .map_err(werr)?;
    if let (WriteMode::Keep(_), Some((file, _))) = (mode, old) {
        copy_xattrs(file, tmp).map_err(werr)?;
    }
    tmp.sync_all().map_err(werr)?;
    Ok(())
}

/// Copies every extended attribute (a POSIX ACL is one) of `from` to `to`.
/// Those of the `security.` and `trusted.` namespaces are the system's (an
/// SELinux label comes from the directory) and copied only where allowed.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn copy_xattrs(from: &File, to: &File) -> io::Result<()> {
    let size = match rustix::fs::flistxattr_query(from) {
        Ok(0) => return Ok(()),
        Ok(n) => n,
        Err(rustix::io::Errno::NOTSUP) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let mut names = vec![0u8; size];
    let n = rustix::fs::flistxattr(from, &mut names[..])?;
    names.truncate(n);
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name: &std::ffi::OsStr = std::os::unix::ffi::OsStrExt::from_bytes(name);
        let system = name
            .to_str()
            .is_some_and(|n| n.starts_with("security.") || n.starts_with("trusted."));
        let len = match rustix::fs::fgetxattr_query(from, name) {
            Ok(n) => n,
            Err(rustix::io::Errno::NODATA) => continue,
            Err(_) if system => continue,
            Err(e) => return Err(e.into()),
        };
        let mut value = vec![0u8; len];
        let got = match rustix::fs::fgetxattr(from, name, &mut value[..]) {
            Ok(n) => n,
            Err(_) if system => continue,
            Err(e) => return Err(e.into()),
        };
        value.truncate(got);
        match rustix::fs::fsetxattr(to, name, &value, rustix::fs::XattrFlags::empty()) {
            Ok(()) => {}
            Err(_) if system => {}
            Err(e) => {
                return Err(io::Error::new(
                    io::Error::from(e).kind(),
                    format!(
                        "cannot copy the extended attribute {} to the new version: {e}",
                        name.to_string_lossy()
                    ),
                ))
            }
        }
    }
    Ok(())
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn copy_xattrs(_from: &File, _to: &File) -> io::Result<()> {
    Ok(())
}

/// An unnamed file in `dir` (`O_TMPFILE`), mode 0600; `None` where the
/// filesystem or kernel does not support it.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn unnamed_temp(dir: &rustix::fd::OwnedFd) -> Option<File> {
    rustix::fs::openat(
        dir,
        ".",
        OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )
    .ok()
    .map(File::from)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
enum LinkError {
    Exists,
    Unsupported,
    Io(io::Error),
}

/// Gives the unnamed `tmp` its name: linked straight to the target when it
/// must be new, else linked under a random name and renamed over it.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn link_unnamed(
    tmp: &File,
    dir_fd: &rustix::fd::OwnedFd,
    name: &std::ffi::OsStr,
    how: Install,
) -> Result<(), LinkError> {
    use rustix::io::Errno;
    match how {
        Install::New => {
            return match link_as(tmp, dir_fd, name) {
                Ok(()) => Ok(()),
                Err(Errno::EXIST) => Err(LinkError::Exists),
                Err(e) => Err(classify_link(e)),
            }
        }
        Install::NewOrReplace => match link_as(tmp, dir_fd, name) {
            Ok(()) => return Ok(()),
            // Created meanwhile: replace it as we would have.
            Err(Errno::EXIST) => {}
            Err(e) => return Err(classify_link(e)),
        },
        Install::Replace => {}
    }
    // The only moment the new contents have a name other than the
    // target's: between these two calls.
    for _ in 0..8 {
        let mut rand = [0u8; 6];
        getrandom::fill(&mut rand).map_err(|e| LinkError::Io(io::Error::other(e.to_string())))?;
        let hex: String = rand.iter().map(|b| format!("{b:02x}")).collect();
        let tmp_name = format!(".{}.{hex}.tmp", name.to_string_lossy());
        match link_as(tmp, dir_fd, std::ffi::OsStr::new(&tmp_name)) {
            Ok(()) => {}
            Err(Errno::EXIST) => continue,
            Err(e) => return Err(classify_link(e)),
        }
        return match rustix::fs::renameat(dir_fd, tmp_name.as_str(), dir_fd, name) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ =
                    rustix::fs::unlinkat(dir_fd, tmp_name.as_str(), rustix::fs::AtFlags::empty());
                Err(LinkError::Io(e.into()))
            }
        };
    }
    Err(LinkError::Io(io::Error::other(
        "cannot find a free temporary name",
    )))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn classify_link(e: rustix::io::Errno) -> LinkError {
    use rustix::io::Errno;
    match e {
        Errno::NOENT | Errno::PERM | Errno::NOTSUP | Errno::INVAL | Errno::XDEV => {
            LinkError::Unsupported
        }
        e => LinkError::Io(e.into()),
    }
}

/// `linkat` of an unnamed file: through `/proc/self/fd` (allowed to every
/// user), else `AT_EMPTY_PATH` (needs a capability on older kernels).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn link_as(
    tmp: &File,
    dir_fd: &rustix::fd::OwnedFd,
    name: &std::ffi::OsStr,
) -> Result<(), rustix::io::Errno> {
    use std::os::fd::AsRawFd;
    let proc_path = format!("/proc/self/fd/{}", tmp.as_raw_fd());
    match rustix::fs::linkat(
        rustix::fs::CWD,
        proc_path.as_str(),
        dir_fd,
        name,
        rustix::fs::AtFlags::SYMLINK_FOLLOW,
    ) {
        Err(rustix::io::Errno::NOENT) => {
            rustix::fs::linkat(tmp, "", dir_fd, name, rustix::fs::AtFlags::EMPTY_PATH)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests;
