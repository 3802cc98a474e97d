//! The one way every command opens an encrypted file: the seal policy
//! from its rules file, and the warnings (a missing seal, `--ignore-mac`)
//! printed once, with the CLI's advice.

use std::path::Path;

use anyhow::{Context, Result};
use botsecrets::document::{DocumentError, OpenOptions, Opened, Sealed, Warning};
use botsecrets::keys::Identity;
use botsecrets::rules::{Lookup, RulesFile};

use super::names::Names;
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
    open_with(
        file,
        identities,
        &options(path, ignore_mac, false),
        path,
        name,
    )
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
    open_with(
        file,
        identities,
        &options(path, ignore_mac, true),
        path,
        name,
    )
}

/// [`open_reading`] under the rules file already looked up for the file
/// (`abs`, its absolute path): its seal policy, and its names in the
/// messages, without looking for it again (exec and export look it up once
/// per file, for its `env:` names too).
pub fn open_reading_under<'a>(
    file: &'a Sealed,
    identities: &[Identity],
    lookup: &Lookup,
    abs: &Path,
    name: &str,
) -> Result<Opened<'a>> {
    let opts = OpenOptions {
        ignore_mac: false,
        seal: lookup.seal_policy(abs),
        scope_read: true,
    };
    open_naming(file, identities, &opts, name, |e| {
        named_by(e, lookup.rules())
    })
}

/// The options for the file at `path`: its rules' seal policy, and whether
/// a scope reader may open it (`scope_read`: the reading commands only).
fn options(path: Option<&Path>, ignore_mac: bool, scope_read: bool) -> OpenOptions {
    OpenOptions {
        ignore_mac,
        seal: rules::seal_policy(path),
        scope_read,
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
    open_naming(file, identities, opts, name, |e| named(e, path))
}

/// Opens `file`, its errors passed through `naming` (recipients by name)
/// and carrying `name`, and prints its warnings.
fn open_naming<'a>(
    file: &'a Sealed,
    identities: &[Identity],
    opts: &OpenOptions,
    name: &str,
    naming: impl FnOnce(DocumentError) -> DocumentError,
) -> Result<Opened<'a>> {
    let opened = file
        .open(identities, opts)
        .map_err(naming)
        .with_context(|| name.to_owned())?;
    print_warnings(name, opened.warnings());
    Ok(opened)
}

/// "No identity matches", and a scope reader's refusal, with each
/// recipient by name where the file's rules name it
/// (`bob (age1u4p50c…k8pnve)`); other errors unchanged.
pub fn named(e: DocumentError, path: Option<&Path>) -> DocumentError {
    match e {
        DocumentError::NotAnOwner { .. }
        | DocumentError::OutsideScope { .. }
        | DocumentError::NoMatchingIdentity { .. } => {
            let names = Names::for_file(path.unwrap_or(Path::new("stdin")));
            named_by(e, names.rules())
        }
        e => e,
    }
}

/// [`named`] with the names of `rules` (none: recipients as they are).
fn named_by(e: DocumentError, rules: Option<&RulesFile>) -> DocumentError {
    let show = |r: &str| super::names::shown(rules, r);
    match e {
        DocumentError::NotAnOwner { .. } | DocumentError::OutsideScope { .. } => {
            e.name_readers(|r| rules.and_then(|rf| rf.name_of(r)).map(str::to_owned))
        }
        DocumentError::NoMatchingIdentity { recipients, tried } => {
            DocumentError::NoMatchingIdentity {
                recipients: recipients.iter().map(|r| show(r)).collect(),
                tried: tried
                    .into_iter()
                    .map(|(r, source)| (show(&r), source))
                    .collect(),
            }
        }
        e => e,
    }
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
