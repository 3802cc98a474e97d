//! The one way every command opens an encrypted file: the seal policy
//! from its rules file, and the warnings (a missing seal, `--ignore-mac`)
//! printed once, with the CLI's advice.

use std::path::Path;

use anyhow::{Context, Result};
use botsecrets::document::{DocumentError, OpenOptions, Opened, Sealed, Warning};
use botsecrets::keys::Identity;

use super::rules;

/// Opens `file` (the file at `path`, `None` for stdin) with the seal policy
/// its rules give, and prints the warnings (a missing seal, `--ignore-mac`)
/// on stderr. Errors carry `name`.
pub fn open<'a>(
    file: &'a Sealed,
    identities: &[Identity],
    path: Option<&Path>,
    ignore_mac: bool,
    name: &str,
) -> Result<Opened<'a>> {
    let opts = OpenOptions {
        ignore_mac,
        seal: rules::seal_policy(path),
        scope_read: false,
    };
    open_with(file, identities, &opts, path, name)
}

/// [`open`] for the commands that only read values (exec, export, get,
/// decrypt): an identity that reads only some scopes of the file opens it
/// too, and sees only those scopes' values.
pub fn open_reading<'a>(
    file: &'a Sealed,
    identities: &[Identity],
    path: Option<&Path>,
    ignore_mac: bool,
    name: &str,
) -> Result<Opened<'a>> {
    let opts = OpenOptions {
        ignore_mac,
        seal: rules::seal_policy(path),
        scope_read: true,
    };
    open_with(file, identities, &opts, path, name)
}

/// A scope reader's refusal with each reader named where the rules file
/// above `path` names it (`monitor (age1...)`); other errors unchanged.
pub fn named(e: DocumentError, path: Option<&Path>) -> DocumentError {
    if !matches!(
        e,
        DocumentError::NotAnOwner { .. } | DocumentError::OutsideScope { .. }
    ) {
        return e;
    }
    match path.and_then(|p| botsecrets::rules::load_for(&rules::absolute(p)).ok()) {
        Some(rules_file) => e.name_readers(|r| rules_file.name_of(r).map(str::to_owned)),
        None => e,
    }
}

/// [`open`] with the options given.
pub fn open_with<'a>(
    file: &'a Sealed,
    identities: &[Identity],
    opts: &OpenOptions,
    path: Option<&Path>,
    name: &str,
) -> Result<Opened<'a>> {
    let opened = file
        .open(identities, opts)
        .map_err(|e| named(e, path))
        .with_context(|| name.to_owned())?;
    print_warnings(name, opened.warnings());
    Ok(opened)
}

/// Prints warnings from opening a file.
pub fn print_warnings(name: &str, warnings: &[Warning]) {
    for w in warnings {
        match w {
            Warning::SealMissing => eprintln!(
                "botsecrets: warning: {name}: {w}; after checking it (e.g. `git log -p --no-textconv {name}`), seal it with `botsecrets seal {name}`"
            ),
            _ => eprintln!("botsecrets: WARNING: {name}: {}", super::report::warning_text(w)),
        }
    }
}
