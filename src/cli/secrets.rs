//! What `exec` and `export` share: reading the secrets files, opening them
//! (every file read before any is decrypted, all decrypted before anything
//! runs or is printed), the selection flags, and the exit codes of
//! `exec`'s library errors.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use botsecrets::document::{Opened, Sealed};
use botsecrets::exec::{self, ExecError, Source};
use botsecrets::format::FormatKind;
use botsecrets::keys::Identity;
use botsecrets::path::KeyPath;
use botsecrets::rules::{self, Lookup, RulesFile};

use super::args::{InputArgs, SelectArgs};
use super::inputs;
use super::report::{self, UserError};

/// Secrets files as read (not yet decrypted), in the order given.
pub struct Files {
    /// Each file: its name, absolute path (`stdin` in the working
    /// directory for standard input), its rules file and its parse.
    files: Vec<(String, PathBuf, Lookup, Sealed)>,
    /// The `env:` names of each file's rule.
    renames: Vec<exec::Rename>,
}

/// Secrets files opened (decrypted, MAC verified), in the order given.
pub struct Loaded<'a> {
    files: Vec<(&'a str, FormatKind, Opened<'a>)>,
    renames: &'a [exec::Rename],
}

impl Loaded<'_> {
    /// Restricts every file to its scope `name` (`export --scope`).
    pub fn restrict_to_scope(&mut self, name: &str) -> Result<()> {
        for (file, _, opened) in &mut self.files {
            opened
                .restrict_to_scope(name)
                .with_context(|| (*file).to_owned())?;
        }
        Ok(())
    }

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
        let mut renames = Vec::new();
        for file in files {
            let input = inputs::read_input(&InputArgs {
                file: file.clone(),
                input_type: input_type.map(str::to_owned),
            })?;
            let name = input.display_name();
            let sealed = Sealed::parse(input.text, input.format).with_context(|| name.clone())?;
            // The rules file is looked up once per file: its `env:` names
            // here, its seal policy and names when the file is opened.
            let abs = super::rules::absolute(input.path.as_deref().unwrap_or(Path::new("stdin")));
            let lookup = match rules::lookup(&abs) {
                // A bot must not start with names it was not meant to get.
                Lookup::Broken { error, .. } if input.path.is_some() => return Err(error.into()),
                lookup => lookup,
            };
            if input.path.is_some() {
                renames.extend(rule_names(lookup.rules(), &abs, out.len()));
            }
            out.push((name, abs, lookup, sealed));
        }
        Ok(Self {
            files: out,
            renames,
        })
    }

    /// Decrypts and MAC-checks every file (all before anything runs).
    pub fn open(&self, identities: &[Identity]) -> Result<Loaded<'_>> {
        let mut out = Vec::with_capacity(self.files.len());
        for (name, abs, lookup, sealed) in &self.files {
            // No --ignore-mac here: a file that fails its MAC never reaches
            // a program's environment.
            // A scope reader gets its scopes' values only.
            let opened = super::open::open_reading_under(sealed, identities, lookup, abs, name)?;
            out.push((name.as_str(), sealed.format(), opened));
        }
        Ok(Loaded {
            files: out,
            renames: &self.renames,
        })
    }
}

/// The `env:` map of the rule for `abs` (source number `index`) in its
/// rules file: none without a rules file or a matching rule.
fn rule_names(rules: Option<&RulesFile>, abs: &Path, index: usize) -> Vec<exec::Rename> {
    let Some(rules_file) = rules else {
        return Vec::new();
    };
    rules_file
        .env_names(abs)
        .iter()
        .map(|e| exec::Rename {
            path: e.path.clone(),
            name: e.name.clone(),
            source: Some(index),
        })
        .collect()
}

/// The selection flags as the library takes them, with the rules' `env:`
/// names of the files loaded.
pub fn selection(args: &SelectArgs, loaded: &Loaded<'_>) -> Result<exec::Selection> {
    let mut sel = flags_selection(args)?;
    sel.rename.extend(loaded.renames.iter().cloned());
    Ok(sel)
}

/// `PATH=NAME` (split at the last `=`: a name has none, a quoted key path
/// may).
fn parse_rename(item: &str) -> Result<exec::Rename> {
    let bad = || {
        UserError::usage(format!(
            "--rename {item:?}: expected PATH=NAME, e.g. aws.access_key_id=AWS_ACCESS_KEY_ID"
        ))
    };
    let (path, name) = item.rsplit_once('=').ok_or_else(bad)?;
    let path = KeyPath::parse(path.trim())
        .map_err(|e| UserError::usage(format!("--rename {item:?}: {e}")))?;
    if name.is_empty() {
        return Err(bad().into());
    }
    Ok(exec::Rename {
        path,
        name: name.trim().to_owned(),
        source: None,
    })
}

/// `NAME=PATH` (split at the first `=`).
pub fn parse_as_file(item: &str) -> Result<(String, KeyPath)> {
    let (name, path) = item.split_once('=').ok_or_else(|| {
        UserError::usage(format!(
            "--as-file {item:?}: expected NAME=PATH, e.g. GOOGLE_APPLICATION_CREDENTIALS=gcp.service_account"
        ))
    })?;
    let path = KeyPath::parse(path.trim())
        .map_err(|e| UserError::usage(format!("--as-file {item:?}: {e}")))?;
    Ok((name.trim().to_owned(), path))
}

/// The selection flags alone.
fn flags_selection(args: &SelectArgs) -> Result<exec::Selection> {
    Ok(exec::Selection {
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
        keep_suffix: args.keep_suffix,
        rename: args
            .rename
            .iter()
            .map(|r| parse_rename(r))
            .collect::<Result<_>>()?,
        as_file: Vec::new(),
    })
}

/// A library error with its exit code and hint (from report.rs). Where
/// the library's message is about what a flag gave, the flag leads it.
pub fn exec_error(e: ExecError) -> anyhow::Error {
    let flag = |given: &exec::Naming| match given {
        exec::Naming::Rename => "--rename",
        exec::Naming::AsFile => "--as-file",
    };
    let message = match &e {
        ExecError::Missing { .. } => format!("--only: {e}"),
        ExecError::BadPrefix(p) => format!("--prefix {p:?}: use only letters, digits and _"),
        ExecError::BadName { given, .. } | ExecError::NotAValue { given, .. } => {
            format!("{}: {e}", flag(given))
        }
        _ => e.to_string(),
    };
    let (code, hint) = report::classify(&e.into());
    UserError {
        code,
        message,
        hint: hint.map(Into::into),
    }
    .into()
}
