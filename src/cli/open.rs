//! The one way every command opens an encrypted file: the seal policy
//! from its rules file, and the warnings (a missing seal, `--ignore-mac`)
//! printed once, with the CLI's advice.

use std::path::Path;

use anyhow::{Context, Result};
use botsecrets::document::{OpenOptions, Opened, Sealed, Warning};
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
    };
    open_with(file, identities, &opts, name)
}

/// [`open`] with the options given.
pub fn open_with<'a>(
    file: &'a Sealed,
    identities: &[Identity],
    opts: &OpenOptions,
    name: &str,
) -> Result<Opened<'a>> {
    let opened = file
        .open(identities, opts)
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
