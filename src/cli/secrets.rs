//! What `exec` and `export` share: reading the secrets files, opening them
//! (every file read before any is decrypted, all decrypted before anything
//! runs or is printed), the selection flags, and the exit codes of
//! `exec`'s library errors.

use std::path::PathBuf;

use anyhow::{Context, Result};
use botsecrets::document::{Opened, Sealed};
use botsecrets::exec::{self, ExecError, Source};
use botsecrets::format::FormatKind;
use botsecrets::keys::Identity;

use super::args::{InputArgs, SelectArgs};
use super::inputs;
use super::report::{code, UserError};

/// Secrets files as read (not yet decrypted), in the order given.
pub struct Files {
    files: Vec<(String, Option<PathBuf>, Sealed)>,
}

/// Secrets files opened (decrypted, MAC verified), in the order given.
pub struct Loaded<'a> {
    files: Vec<(&'a str, FormatKind, Opened<'a>)>,
}

impl Loaded<'_> {
    /// The files as sources of variables.
    pub fn sources(&self) -> Vec<Source<'_>> {
        self.files
            .iter()
            .map(|(name, format, opened)| Source {
                name: (*name).to_owned(),
                format: *format,
                opened,
            })
            .collect()
    }
}

impl Files {
    /// Reads and parses every file (all before any is decrypted).
    pub fn read(files: &[PathBuf], input_type: Option<&str>) -> Result<Self> {
        let mut out = Vec::with_capacity(files.len());
        for file in files {
            let input = inputs::read_input(&InputArgs {
                file: file.clone(),
                input_type: input_type.map(str::to_owned),
            })?;
            let name = input.display_name();
            let sealed = Sealed::parse(input.text, input.format).with_context(|| name.clone())?;
            out.push((name, input.path, sealed));
        }
        Ok(Self { files: out })
    }

    /// Decrypts and MAC-checks every file (all before anything runs).
    pub fn open(&self, identities: &[Identity]) -> Result<Loaded<'_>> {
        let mut out = Vec::with_capacity(self.files.len());
        for (name, path, sealed) in &self.files {
            // No --ignore-mac here: a file that fails its MAC never reaches
            // a program's environment.
            let opened = super::open::open(sealed, identities, path.as_deref(), false, name)?;
            out.push((name.as_str(), sealed.format(), opened));
        }
        Ok(Loaded { files: out })
    }
}

/// The selection flags as the library takes them.
pub fn selection(args: &SelectArgs) -> exec::Selection {
    exec::Selection {
        only: args
            .only
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        prefix: args.prefix.clone(),
        allow: args
            .allow_env
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
    }
}

/// A library error with its exit code.
pub fn exec_error(e: ExecError) -> anyhow::Error {
    let (code, hint) = match &e {
        ExecError::Missing { .. } => (code::PATH_NOT_FOUND, None),
        ExecError::BadPrefix(_) => (code::GENERIC, None),
        ExecError::RefusedName { name, .. } => {
            return UserError {
                code: code::REFUSED_ENV,
                message: e.to_string(),
                hint: Some(format!(
                    "nothing was run; if the key is yours and the command needs it, pass --allow-env {name} (or --prefix, or leave it out with --only); see docs/exec.md"
                )),
            }
            .into();
        }
        ExecError::Collision { .. } => (
            code::INPUT,
            Some("each variable must come from one key path; rename a key (or use separate files and --only)"),
        ),
        _ => (code::INPUT, None),
    };
    UserError {
        code,
        message: e.to_string(),
        hint: hint.map(str::to_owned),
    }
    .into()
}
