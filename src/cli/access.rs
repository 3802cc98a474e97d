//! What `recipients`, `updatekeys` and `rotate` share: reading an encrypted
//! file, applying an access plan ([`botsecrets::access::Plan`], decided by
//! the library) and writing the file back atomically, the messages of a
//! refused change, and the checklist of secrets to rotate at their
//! providers after someone lost access.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use botsecrets::access::{self, AccessError, Plan};
use botsecrets::document::{Opened, Sealed};
use botsecrets::format::FormatKind;
use botsecrets::keys::Recipient;
use botsecrets::metadata::{now_rfc3339, Metadata};
use botsecrets::path::KeyPath;

/// An encrypted file as read from disk.
pub struct EncryptedFile {
    /// Its path.
    pub path: PathBuf,
    /// The file as read (text, format, metadata), not yet opened.
    pub sealed: Sealed,
    /// The writers' lock, when read for a change ([`EncryptedFile::lock`]).
    lock: Option<botsecrets::fsio::LockedFile>,
}

impl EncryptedFile {
    /// Reads and parses `path` (its format from the name), without the
    /// lock: to look at it. [`EncryptedFile::write`] then takes the lock and
    /// refuses if the file changed since; a command that changes the file
    /// should read it with [`EncryptedFile::lock`] instead.
    pub fn read(path: &Path) -> Result<Self> {
        let format = super::inputs::format_for(Some(path), None)?;
        let bytes = super::inputs::read_file(path)?;
        Self::parse(path, format, bytes, None)
    }

    /// Locks `path` for a change (waiting briefly for another writer),
    /// then reads and parses it through the lock, which is held until this
    /// is dropped.
    pub fn lock(path: &Path) -> Result<Self> {
        let format = super::inputs::format_for(Some(path), None)?;
        let lock = super::inputs::lock_file(path)?;
        let bytes = zeroize::Zeroizing::new(lock.contents().to_vec());
        Self::parse(path, format, bytes, Some(lock))
    }

    fn parse(
        path: &Path,
        format: FormatKind,
        bytes: zeroize::Zeroizing<Vec<u8>>,
        lock: Option<botsecrets::fsio::LockedFile>,
    ) -> Result<Self> {
        let name = path.display().to_string();
        let text = super::inputs::utf8(bytes, &name)?;
        let sealed = Sealed::parse(text, format).with_context(|| name.clone())?;
        Ok(Self {
            path: path.to_path_buf(),
            sealed,
            lock,
        })
    }

    /// The name for messages.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// Its metadata.
    pub fn metadata(&self) -> &Metadata {
        self.sealed.metadata()
    }

    /// Opens the file with `identities` (MAC and seal verified, the seal
    /// policy from its rules).
    pub fn open(&self, identities: &[botsecrets::keys::Identity]) -> Result<Opened<'_>> {
        super::open::open(
            &self.sealed,
            identities,
            Some(&self.path),
            false,
            &self.name(),
        )
    }

    /// Writes `text` over the file, atomically, keeping its owner, group,
    /// mode and xattrs, under the writers' lock: the one it was read with,
    /// else taken now. Refused (exit 207) if the file is no longer what was
    /// read.
    pub fn write(&self, text: &str) -> Result<()> {
        let mode = super::output::write_mode(false);
        if let Some(lock) = &self.lock {
            return Ok(lock.replace(text.as_bytes(), mode)?);
        }
        let lock = super::inputs::lock_file(&self.path)?;
        if lock.contents() != self.sealed.text().as_bytes() {
            return Err(botsecrets::fsio::FsError::Changed {
                path: self.path.clone(),
            }
            .into());
        }
        Ok(lock.replace(text.as_bytes(), mode)?)
    }
}

/// Parses the file's recipient strings into recipients to wrap for.
pub fn parse_groups(file: &EncryptedFile, groups: &[Vec<String>]) -> Result<Vec<Vec<Recipient>>> {
    access::parse_groups(groups).map_err(|e| access_error(&file.name(), e))
}

/// A recipients change that cannot be made, named by its file; its exit
/// code and hint come from `report::classify`, like every library error.
pub fn access_error(name: &str, e: AccessError) -> anyhow::Error {
    anyhow::Error::new(e).context(name.to_owned())
}

/// Applies `plan`: re-keys `opened` for `groups` (rotating the data key
/// when the plan says so) and writes the file; warns about key types that
/// had to be dropped.
pub fn apply(
    file: &EncryptedFile,
    opened: Opened<'_>,
    plan: &Plan,
    groups: &[Vec<Recipient>],
    threshold: u32,
) -> Result<()> {
    rekey_and_write(file, opened, groups, threshold, plan.rotate)
}

/// Re-keys `opened` for `groups` and writes the file; returns nothing but
/// prints what had to be dropped.
pub fn rekey_and_write(
    file: &EncryptedFile,
    opened: Opened<'_>,
    groups: &[Vec<Recipient>],
    threshold: u32,
    rotate: bool,
) -> Result<()> {
    let rekeyed = opened
        .rekey(groups, threshold, rotate, &now_rfc3339())
        .with_context(|| file.name())?;
    file.write(&rekeyed.text)?;
    if !rekeyed.dropped.is_empty() {
        eprintln!(
            "botsecrets: warning: {}: the file's {} keys were dropped: botsecrets cannot wrap a new data key for them; re-add them with sops if they are still needed",
            file.name(),
            rekeyed.dropped.join(", ")
        );
    }
    Ok(())
}

/// Prints the checklist of secrets `removed` could read: the header on
/// stderr, one `- [ ] path` line per secret on stdout (unless `list` is
/// false: `--json` gave them already), then a summary line. Returns how
/// many secrets there are to rotate.
pub fn print_checklist(
    file: &str,
    removed: &[String],
    paths: &[KeyPath],
    comments: usize,
    list: bool,
) -> usize {
    eprintln!(
        "botsecrets: {file}: removed {} and rotated the data key: every value was re-encrypted",
        removed.join(", ")
    );
    if paths.is_empty() && comments == 0 {
        eprintln!("botsecrets: {file}: the file has no encrypted values");
        return 0;
    }
    eprintln!(
        "botsecrets: {file}: the removed recipients could read these secrets and may have copied them; rotate each one at its provider:"
    );
    if list {
        for p in paths {
            println!("- [ ] {p}");
        }
    }
    if comments > 0 {
        eprintln!(
            "botsecrets: {file}: they could also read {comments} encrypted comment(s); check them for old keys"
        );
    }
    eprintln!(
        "botsecrets: {file}: {} secret(s) to rotate for {} removed recipient(s)",
        paths.len(),
        removed.len()
    );
    paths.len()
}

/// The checklist of scope readers' revocations: per scope that lost
/// readers, only the secrets that scope holds (stdout, `- [ ] path`, when
/// `list`), then a summary line. `revoked`: (scope, readers removed from
/// it). Returns how many secrets there are to rotate.
pub fn print_scope_checklist(
    file: &EncryptedFile,
    names: &super::names::Names,
    revoked: &[(String, Vec<String>)],
    list: bool,
) -> usize {
    let name = file.name();
    let mut total = 0;
    for (scope, readers) in revoked {
        let secrets = file.sealed.scope_secret_paths(scope);
        eprintln!(
            "botsecrets: {name}: removed {} from scope {scope} and gave the scope a new key (the file's data key is unchanged); they could read these secrets and may have copied them; rotate each one at its provider:",
            names.show_all(readers)
        );
        if list {
            for s in &secrets {
                println!("- [ ] {s}");
            }
        }
        total += secrets.len();
    }
    if !revoked.is_empty() {
        eprintln!(
            "botsecrets: {name}: {total} secret(s) to rotate for {} revoked scope reader(s)",
            revoked.iter().map(|(_, r)| r.len()).sum::<usize>()
        );
    }
    total
}

/// Writes `opened` back as it is, sealed: the same data key, recipients
/// and wrapped keys, every value keeping its ciphertext (the diff is the
/// seal, `lastmodified` and `mac`).
pub fn write_sealed(file: &EncryptedFile, opened: Opened<'_>) -> Result<()> {
    let plain = opened.plaintext().with_context(|| file.name())?;
    let text = opened
        .reencrypt(&plain, &now_rfc3339())
        .with_context(|| file.name())?;
    file.write(&text)
}
