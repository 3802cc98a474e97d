//! Secrets as environment variables: the names a file's key paths become,
//! the merge of several files, `--only` / `--prefix` selection, and the
//! environment a command is started with. Shared by `exec` and `export`.
//!
//! Naming rules (docs/exec.md is the user-facing copy):
//! - the path's segments are joined with `_`: map keys as written, list
//!   items by their index (`bots: [{token: x}]` -> `BOTS_0_TOKEN`);
//! - ASCII letters are upper-cased, and every character outside
//!   `[A-Z0-9_]` becomes one `_` (`weather: {api-key: x}` ->
//!   `WEATHER_API_KEY`; `clé` -> `CL_`);
//! - `--prefix P` is prepended; a name that then starts with a digit gets a
//!   `_` in front (`0: x` -> `_0`, but with `--prefix APP_` -> `APP_0`);
//! - dotenv keys written `export NAME=...` are read as `NAME`, as dotenv
//!   loaders do;
//! - YAML merge keys are applied: `worker: {<<: *defaults, token: x}` gives
//!   `WORKER_REGION` and `WORKER_TOKEN` (a key written in the map wins over
//!   a merged one). Merged values come after the file's other values;
//! - the file's storage suffix (its `unencrypted_suffix`, `_unencrypted` by
//!   default, or its `encrypted_suffix`) is dropped from every key that
//!   ends with it (`s3.bucket_unencrypted` -> `S3_BUCKET`) unless
//!   [`Selection::keep_suffix`]. This is safe only because the seal
//!   authenticates key names: a keyless writer cannot rename `x_unencrypted`
//!   to shadow `x`, and two paths that now give one name still collide;
//! - an explicit name ([`Selection::rename`]: `--rename PATH=NAME`, or a
//!   rule's `env:` map) replaces the derived one, prefix not applied.
//!
//! Values: strings as they are (multi-line included; for dotenv files, what
//! a dotenv loader reads, see [`crate::format::dotenv::loader_value`]),
//! numbers and booleans as written, empty strings as empty variables; nulls,
//! comments and the metadata never become variables.
//!
//! Invariants:
//! - two different key paths giving the same name are an error naming both,
//!   whether they are in one file or in two; the *same* key path in a later
//!   file replaces the earlier value (later files win);
//! - every check (collisions, `--only`, NUL bytes, empty names) is done
//!   here, before the caller starts anything;
//! - errors carry names, key paths and file names, never values.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};

use crate::document::Opened;
use crate::format::{self, FormatKind, ValueType};
use crate::path::{KeyPath, Segment};
use crate::secret::SecretText;

/// Errors turning files into variables.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExecError {
    /// Two key paths give the same variable name.
    #[error("two key paths give the variable {name}: {first} ({first_file}) and {second} ({second_file}); rename one of the keys")]
    Collision {
        /// The variable name.
        name: String,
        /// The first key path.
        first: KeyPath,
        /// Its file.
        first_file: String,
        /// The second key path.
        second: KeyPath,
        /// Its file.
        second_file: String,
    },
    /// A key path gives an empty name (an empty key at the top level).
    #[error("the key path {path} ({file}) gives an empty variable name; rename the key")]
    EmptyName {
        /// The key path.
        path: KeyPath,
        /// Its file.
        file: String,
    },
    /// A value holds a NUL byte, which no environment variable can hold.
    #[error("the value at {path} ({file}) contains a NUL byte, which an environment variable cannot hold")]
    NulByte {
        /// The key path.
        path: KeyPath,
        /// Its file.
        file: String,
    },
    /// The selection (`Selection::only`) asked for keys that are not there.
    #[error("{} not found in {} (give a variable name like WEATHER_API_KEY or a key path like weather.api_key)", quote_list(.missing), .files.join(", "))]
    Missing {
        /// What was asked for and not found.
        missing: Vec<String>,
        /// The files searched.
        files: Vec<String>,
    },
    /// The prefix is not usable in a variable name.
    #[error("{0:?} is not usable as a variable-name prefix: use only letters, digits and _")]
    BadPrefix(String),
    /// A name given for a key path (a rename, a file variable) is not a
    /// variable name.
    #[error("{name:?} is not a variable name (letters, digits and _, not starting with a digit)")]
    BadName {
        /// Where the name was given.
        given: Naming,
        /// The name.
        name: String,
    },
    /// A key path named by `--rename` or `--as-file` is in none of the
    /// files (or is not a single value).
    #[error("{path} is not a value in {} (give the key path of one value, like aws.access_key_id)", .files.join(", "))]
    NotAValue {
        /// Where the key path was given.
        given: Naming,
        /// The key path.
        path: KeyPath,
        /// The files searched.
        files: Vec<String>,
    },
    /// A variable that changes how the loader, a shell or an interpreter
    /// runs (see [`REFUSED_NAMES`]), not explicitly allowed.
    #[error("the key path {path} ({file}) gives the variable {name}, which {reason}; refusing to set it")]
    RefusedName {
        /// The variable name.
        name: String,
        /// The key path it comes from.
        path: KeyPath,
        /// Its file.
        file: String,
        /// What the variable does (from [`REFUSED_NAMES`]).
        reason: &'static str,
    },
}

/// Where a name for a key path was given: a rename of a variable, or a
/// variable holding the path of a file with the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// `Selection::rename`.
    Rename,
    /// `Selection::as_file`.
    AsFile,
}

impl std::fmt::Display for Naming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Naming::Rename => "a renamed variable",
            Naming::AsFile => "a variable holding a file's path",
        })
    }
}

/// Variables `exec` and `export` refuse to set unless the user allows the
/// name explicitly: each changes how the dynamic loader, a shell or an
/// interpreter runs, or which commands, libraries, proxies or certificates
/// a program uses. A writer without a key can add or rename a clear key
/// (`ld_preload: /tmp/x.so` becomes `LD_PRELOAD`), so such a name in a
/// secrets file is never trusted by default.
///
/// A pattern ending in `*` matches every name with that prefix. Names are
/// compared without regard to ASCII case (curl reads `http_proxy`).
/// docs/exec.md lists this table; a unit test keeps the two in step.
pub const REFUSED_NAMES: &[(&str, &str)] = &[
    // The dynamic loader and the C library.
    ("LD_*", "changes how the dynamic loader links programs (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT load code)"),
    ("DYLD_*", "changes how the macOS dynamic loader links programs (DYLD_INSERT_LIBRARIES loads code)"),
    ("GCONV_PATH", "makes glibc load character-set converters (code) from a directory"),
    ("GLIBC_TUNABLES", "changes glibc's internals (CVE-2023-4911 was exploited through it)"),
    ("MALLOC_*", "changes glibc's allocator (MALLOC_TRACE writes a file)"),
    ("GETCONF_DIR", "makes getconf run programs from a directory"),
    ("HOSTALIASES", "redirects host names the resolver looks up"),
    ("LOCALDOMAIN", "changes the resolver's search domains"),
    ("RES_OPTIONS", "changes the resolver's options"),
    ("RESOLV_HOST_CONF", "changes the resolver's host configuration file"),
    ("NIS_PATH", "changes where NIS+ lookups go"),
    ("LOCPATH", "makes glibc load locale data from a directory"),
    ("NLSPATH", "makes programs load message catalogs (format strings) from a path"),
    ("TZDIR", "makes glibc load time-zone files from a directory"),
    ("TMPDIR", "changes where programs write temporary files"),
    // Shells.
    ("PATH", "decides which program a command name runs"),
    ("IFS", "changes how shells split words"),
    ("ENV", "names a file POSIX shells run at start-up"),
    ("BASH_ENV", "names a file bash runs before any script"),
    ("BASH_FUNC_*", "defines bash functions that replace commands"),
    ("BASH_XTRACEFD", "sends bash's trace output to a file descriptor"),
    ("BASHOPTS", "turns on bash options in every script"),
    ("SHELLOPTS", "turns on shell options (xtrace) in every script"),
    ("PS4", "is expanded (and can run commands) when a shell traces"),
    ("PROMPT_COMMAND", "is run by bash before each prompt"),
    ("CDPATH", "changes where a shell's cd goes"),
    ("GLOBIGNORE", "changes which files a shell's globs match"),
    ("ZDOTDIR", "names the directory whose start-up files zsh runs"),
    ("SHELL", "is the shell programs start for commands"),
    // Programs that other programs start.
    ("EDITOR", "is the editor programs start"),
    ("VISUAL", "is the editor programs start"),
    ("PAGER", "is the pager programs start"),
    ("BROWSER", "is the browser programs start"),
    ("LESSOPEN", "is a command less runs on every file"),
    ("LESSCLOSE", "is a command less runs on every file"),
    ("SSH_ASKPASS", "is a program ssh starts for passwords"),
    ("BOTSECRETS_AGE_KEY_CMD", "is a command botsecrets runs for a key"),
    ("SOPS_AGE_KEY_CMD", "is a command sops runs for a key"),
    ("BOTSECRETS_EDITOR", "is the editor botsecrets starts"),
    // git.
    ("GIT_SSH", "is the program git runs to connect"),
    ("GIT_SSH_COMMAND", "is the command git runs to connect"),
    ("GIT_PROXY_COMMAND", "is the command git runs to connect"),
    ("GIT_ASKPASS", "is a program git starts for passwords"),
    ("GIT_EDITOR", "is the editor git starts"),
    ("GIT_PAGER", "is the pager git starts"),
    ("GIT_EXTERNAL_DIFF", "is a program git runs for diffs"),
    ("GIT_EXEC_PATH", "decides where git finds its own programs"),
    ("GIT_CONFIG*", "adds git configuration (core.sshCommand, hooks: commands git runs)"),
    ("GIT_DIR", "points git at another repository (its hooks and config)"),
    ("GIT_WORK_TREE", "points git at another working tree"),
    ("GIT_TEMPLATE_DIR", "decides which hooks new repositories get"),
    ("GIT_TRACE*", "makes git write traces to a file it names"),
    ("GIT_SSL_NO_VERIFY", "turns off TLS certificate checks in git"),
    ("GIT_SSL_CAINFO", "replaces the certificates git trusts"),
    ("GIT_SSL_CAPATH", "replaces the certificates git trusts"),
    ("GIT_ALLOW_PROTOCOL", "allows git transports (ext:: runs commands)"),
    // Interpreters.
    ("PYTHON*", "changes how Python starts (PYTHONPATH, PYTHONSTARTUP, PYTHONHOME, PYTHONINSPECT, PYTHONWARNINGS load code)"),
    ("PERL5LIB", "makes perl load modules from a directory"),
    ("PERLLIB", "makes perl load modules from a directory"),
    ("PERL5OPT", "adds command-line options (-M loads code) to every perl"),
    ("PERL5DB", "is code perl's debugger runs"),
    ("RUBYOPT", "adds command-line options (-r loads code) to every ruby"),
    ("RUBYLIB", "makes ruby load libraries from a directory"),
    ("NODE_OPTIONS", "adds command-line options (--require loads code) to every node"),
    ("NODE_PATH", "makes node load modules from a directory"),
    ("NODE_TLS_REJECT_UNAUTHORIZED", "turns off TLS certificate checks in node"),
    ("NODE_EXTRA_CA_CERTS", "adds certificates node trusts"),
    ("JAVA_TOOL_OPTIONS", "adds options (-javaagent loads code) to every JVM"),
    ("_JAVA_OPTIONS", "adds options (-javaagent loads code) to every JVM"),
    ("JDK_JAVA_OPTIONS", "adds options (-javaagent loads code) to every java"),
    ("CLASSPATH", "decides where the JVM loads classes from"),
    ("DOTNET_STARTUP_HOOKS", "makes .NET load assemblies (code) at start-up"),
    ("CORECLR_*", "makes .NET load a profiler (code)"),
    ("LUA_INIT*", "is code lua runs at start-up"),
    ("LUA_PATH*", "makes lua load modules from a path"),
    ("LUA_CPATH*", "makes lua load native modules from a path"),
    ("PHPRC", "names the php.ini php reads (auto_prepend_file runs code)"),
    ("PHP_INI_SCAN_DIR", "adds php.ini files php reads"),
    // TLS and proxies.
    ("OPENSSL_CONF", "names the OpenSSL configuration (it can load engines: code)"),
    ("OPENSSL_ENGINES", "decides where OpenSSL loads engines (code) from"),
    ("OPENSSL_MODULES", "decides where OpenSSL loads providers (code) from"),
    ("SSL_CERT_FILE", "replaces the certificates OpenSSL trusts"),
    ("SSL_CERT_DIR", "replaces the certificates OpenSSL trusts"),
    ("CURL_CA_BUNDLE", "replaces the certificates curl trusts"),
    ("REQUESTS_CA_BUNDLE", "replaces the certificates Python requests trusts"),
    ("HTTP_PROXY", "sends a program's HTTP traffic through a proxy"),
    ("HTTPS_PROXY", "sends a program's HTTPS connections through a proxy"),
    ("ALL_PROXY", "sends a program's connections through a proxy"),
    ("FTP_PROXY", "sends a program's FTP traffic through a proxy"),
];

/// The first letter of each pattern of [`REFUSED_NAMES`], in its order.
const REFUSED_FIRST: [u8; REFUSED_NAMES.len()] = {
    let mut first = [0u8; REFUSED_NAMES.len()];
    let mut i = 0;
    while i < first.len() {
        first[i] = REFUSED_NAMES[i].0.as_bytes()[0];
        i += 1;
    }
    first
};

/// The entry of [`REFUSED_NAMES`] that `name` matches, if any.
pub fn refused_name(name: &str) -> Option<&'static (&'static str, &'static str)> {
    // Every variable of every `exec` is checked against the whole table:
    // no upper-cased copy, and a pattern whose first letter differs is
    // skipped at once (the patterns are upper case).
    let name = name.as_bytes();
    let first = name.first()?.to_ascii_uppercase();
    REFUSED_FIRST
        .iter()
        .zip(REFUSED_NAMES)
        .filter(|(f, _)| **f == first)
        .map(|(_, entry)| entry)
        .find(|(pattern, _)| {
            let pattern = pattern.as_bytes();
            match pattern.split_last() {
                Some((b'*', prefix)) => {
                    name.len() >= prefix.len() && name[..prefix.len()].eq_ignore_ascii_case(prefix)
                }
                _ => name.eq_ignore_ascii_case(pattern),
            }
        })
}

fn quote_list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One opened file, as a source of variables.
pub struct Source<'a> {
    /// How to name the file in messages.
    pub name: String,
    /// Its format (dotenv values are read the way dotenv loaders read them).
    pub format: FormatKind,
    /// The decrypted file (MAC already verified by [`crate::document::Sealed::open`]).
    pub opened: &'a Opened<'a>,
}

/// A variable to set.
pub struct Var {
    /// The variable name (prefix included).
    pub name: String,
    /// The key path it comes from.
    pub path: KeyPath,
    /// Index of the file (in the sources given) it comes from.
    pub source: usize,
    /// Whether it replaced the same key path of an earlier file.
    pub replaced_earlier: bool,
    /// The value.
    pub value: SecretText,
    /// Whether the value was encrypted in its file (a secret), rather than
    /// clear (`_unencrypted`): what `exec --redact` masks.
    pub encrypted: bool,
    /// `--as-file`: the value goes into a file, and the variable `name`
    /// gets that file's path ([`environment`] leaves it out; the caller
    /// sets it).
    pub as_file: bool,
}

/// An explicit variable name for a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    /// The key path (one value).
    pub path: KeyPath,
    /// The variable name, used as it is (no prefix).
    pub name: String,
    /// `None`: for every file, and an error when no file has the path
    /// (`--rename`); `Some(i)`: only for source `i`, silently unused when
    /// it lacks the path (a rule's `env:` map covers many files).
    pub source: Option<usize>,
}

/// What to take from the files.
#[derive(Debug, Default, Clone)]
pub struct Selection {
    /// Variable names or key paths to keep (all when empty). A key path
    /// keeps everything under it (`weather` keeps `weather.api_key`).
    pub only: Vec<String>,
    /// Prepended to every name.
    pub prefix: String,
    /// Names of [`REFUSED_NAMES`] the user allows anyway (exact names, as
    /// set, prefix included).
    pub allow: Vec<String>,
    /// Keep the storage suffix (`_unencrypted`) in names.
    pub keep_suffix: bool,
    /// Explicit names; for one path, one without a source (the command
    /// line) wins over one with a source (the rules).
    pub rename: Vec<Rename>,
    /// `--as-file NAME=PATH`: the value at PATH goes into a file, NAME gets
    /// its path. Always taken, whatever `only` says.
    pub as_file: Vec<(String, KeyPath)>,
}

/// The suffix a file's selection rule marks keys with, which names drop.
fn storage_suffix(selection: &crate::metadata::Selection) -> Option<&str> {
    use crate::metadata::Selection as S;
    match selection {
        S::UnencryptedSuffix(s) | S::EncryptedSuffix(s) if !s.is_empty() => Some(s),
        _ => None,
    }
}

/// `path` with `suffix` dropped from every key that ends with it (a key
/// that is only the suffix is kept).
fn strip_suffix(path: &KeyPath, suffix: &str) -> KeyPath {
    KeyPath::from_segments(
        path.segments()
            .iter()
            .map(|seg| match seg {
                Segment::Key(k) => match k.strip_suffix(suffix) {
                    Some(rest) if !rest.is_empty() => Segment::Key(rest.into()),
                    _ => seg.clone(),
                },
                Segment::Index(_) => seg.clone(),
            })
            .collect(),
    )
}

/// The flattened name of a key path, before any prefix (no leading-digit
/// rule; see [`env_name`]).
fn flatten(path: &KeyPath, out: &mut String) {
    for (i, seg) in path.segments().iter().enumerate() {
        if i > 0 {
            out.push('_');
        }
        match seg {
            // One `_` per character outside [A-Za-z0-9_], not per byte.
            Segment::Key(k) => out.extend(k.chars().map(|c| {
                let c = c.to_ascii_uppercase();
                if c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' {
                    c
                } else {
                    '_'
                }
            })),
            Segment::Index(n) => {
                use std::fmt::Write as _;
                let _ = write!(out, "{n}");
            }
        }
    }
}

/// The variable name of a key path with `prefix` (see the module docs).
pub fn env_name(path: &KeyPath, prefix: &str) -> String {
    // One allocation per name, sized for the common case (ASCII keys).
    let len: usize = path
        .segments()
        .iter()
        .map(|seg| match seg {
            Segment::Key(k) => k.len() + 1,
            Segment::Index(_) => 4,
        })
        .sum();
    let mut name = String::with_capacity(1 + prefix.len() + len);
    name.push_str(prefix);
    flatten(path, &mut name);
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}

/// Whether `name` is a variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_variable_name(name: &str) -> bool {
    crate::rules::is_env_name(name)
}

/// Checks a `--prefix`.
pub fn check_prefix(prefix: &str) -> Result<(), ExecError> {
    if prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        Ok(())
    } else {
        Err(ExecError::BadPrefix(prefix.to_owned()))
    }
}

/// One value of a file: the path a program loading it sees, type, text,
/// whether it is encrypted in the file.
type Leaf<'a> = (KeyPath, ValueType, &'a SecretText, bool);

/// A file's values with the paths a program loading it sees: dotenv
/// `export` dropped, YAML merge keys applied (the format layer's rule, which
/// `get` shares; see [`crate::format::loaded`]).
fn leaves<'a>(source: &Source<'a>) -> Vec<Leaf<'a>> {
    let values = source
        .opened
        .values_flagged()
        .into_iter()
        .map(|(p, ty, t, enc)| (p, (ty, t, enc)));
    format::loaded_values(source.format.syntax(), values)
        .into_iter()
        .map(|(p, (ty, t, enc))| (p, ty, t, enc))
        .collect()
}

/// The value a program sees for a leaf (dotenv: what a loader reads).
fn env_value(format: FormatKind, ty: ValueType, text: &SecretText) -> SecretText {
    match format.syntax().loaded_value(ty, text.expose()) {
        Cow::Borrowed(_) => text.duplicate(),
        Cow::Owned(value) => SecretText::new(value),
    }
}

/// The variables of `sources`, merged in order, selected and named; every
/// error is found before anything is started.
pub fn variables(sources: &[Source<'_>], selection: &Selection) -> Result<Vec<Var>, ExecError> {
    check_prefix(&selection.prefix)?;
    for r in &selection.rename {
        if !is_variable_name(&r.name) {
            return Err(ExecError::BadName {
                given: Naming::Rename,
                name: r.name.clone(),
            });
        }
    }
    for (name, _) in &selection.as_file {
        if !is_variable_name(name) {
            return Err(ExecError::BadName {
                given: Naming::AsFile,
                name: name.clone(),
            });
        }
    }
    let mut vars: Vec<Var> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut used_rename = vec![false; selection.rename.len()];
    let mut used_file = vec![false; selection.as_file.len()];
    for (index, source) in sources.iter().enumerate() {
        let suffix =
            storage_suffix(&source.opened.metadata().selection).filter(|_| !selection.keep_suffix);
        let leaves = leaves(source);
        // Grown once, not by doubling through a hundred inserts.
        by_name.reserve(leaves.len());
        vars.reserve(leaves.len());
        for (path, ty, text, encrypted) in leaves {
            let as_file = selection.as_file.iter().position(|(_, p)| *p == path);
            // The command line's name wins over the rules' for one path.
            let renamed = selection
                .rename
                .iter()
                .position(|r| r.path == path && r.source.is_none())
                .or_else(|| {
                    selection
                        .rename
                        .iter()
                        .position(|r| r.path == path && r.source == Some(index))
                });
            let name = if let Some(i) = as_file {
                used_file[i] = true;
                selection.as_file[i].0.clone()
            } else if let Some(i) = renamed {
                used_rename[i] = true;
                selection.rename[i].name.clone()
            } else {
                match suffix {
                    Some(sfx) => env_name(&strip_suffix(&path, sfx), &selection.prefix),
                    None => env_name(&path, &selection.prefix),
                }
            };
            if name.is_empty() {
                return Err(ExecError::EmptyName {
                    path,
                    file: source.name.clone(),
                });
            }
            let value = env_value(source.format, ty, text);
            match by_name.get(&name) {
                Some(&at) if vars[at].path == path && vars[at].source != index => {
                    // Later files win for the same key path.
                    vars[at].value = value;
                    vars[at].source = index;
                    vars[at].replaced_earlier = true;
                    vars[at].encrypted = encrypted;
                }
                Some(&at) => {
                    return Err(ExecError::Collision {
                        name,
                        first: vars[at].path.clone(),
                        first_file: sources[vars[at].source].name.clone(),
                        second: path,
                        second_file: source.name.clone(),
                    });
                }
                None => {
                    by_name.insert(name.clone(), vars.len());
                    vars.push(Var {
                        name,
                        path,
                        source: index,
                        replaced_earlier: false,
                        value,
                        encrypted,
                        as_file: as_file.is_some(),
                    });
                }
            }
        }
    }
    let files = || sources.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
    for (i, used) in used_file.iter().enumerate() {
        if !used {
            return Err(ExecError::NotAValue {
                given: Naming::AsFile,
                path: selection.as_file[i].1.clone(),
                files: files(),
            });
        }
    }
    for (i, used) in used_rename.iter().enumerate() {
        if !used && selection.rename[i].source.is_none() {
            return Err(ExecError::NotAValue {
                given: Naming::Rename,
                path: selection.rename[i].path.clone(),
                files: files(),
            });
        }
    }
    let vars = select(vars, sources, selection)?;
    for v in &vars {
        // SECURITY: the final name (mapping and prefix applied) decides:
        // an injected `ld_preload:` key is `LD_PRELOAD` by now.
        if let Some((_, reason)) = refused_name(&v.name) {
            if !selection.allow.contains(&v.name) {
                return Err(ExecError::RefusedName {
                    name: v.name.clone(),
                    path: v.path.clone(),
                    file: sources[v.source].name.clone(),
                    reason,
                });
            }
        }
        if v.value.expose().contains('\0') {
            return Err(ExecError::NulByte {
                path: v.path.clone(),
                file: sources[v.source].name.clone(),
            });
        }
    }
    Ok(vars)
}

/// Applies `--only`: each item is a variable name (with or without the
/// prefix) or a key path (which keeps its whole subtree).
fn select(
    vars: Vec<Var>,
    sources: &[Source<'_>],
    selection: &Selection,
) -> Result<Vec<Var>, ExecError> {
    if selection.only.is_empty() {
        return Ok(vars);
    }
    let wanted: Vec<(&str, Option<KeyPath>)> = selection
        .only
        .iter()
        .map(|item| (item.as_str(), KeyPath::parse(item).ok()))
        .collect();
    let matches = |item: &(&str, Option<KeyPath>), v: &Var| {
        v.name == item.0
            || (!selection.prefix.is_empty()
                && v.name.strip_prefix(selection.prefix.as_str()) == Some(item.0))
            || item.1.as_ref().is_some_and(|p| v.path.starts_with(p))
    };
    let missing: Vec<String> = wanted
        .iter()
        .filter(|item| !vars.iter().any(|v| matches(item, v)))
        .map(|item| item.0.to_owned())
        .collect();
    if !missing.is_empty() {
        return Err(ExecError::Missing {
            missing,
            files: sources.iter().map(|s| s.name.clone()).collect(),
        });
    }
    Ok(vars
        .into_iter()
        .filter(|v| v.as_file || wanted.iter().any(|item| matches(item, v)))
        .collect())
}

/// The environment a command is started with.
pub struct Environment {
    /// Every variable, inherited ones first, then the secrets in order.
    ///
    /// SECURITY: these are plain `OsString`s (what `execve` takes), not
    /// zeroizing buffers; they live only until the process image is
    /// replaced.
    pub vars: Vec<(OsString, OsString)>,
    /// Names of inherited variables that a secret replaced (for
    /// `--verbose`; names only).
    pub overridden: Vec<String>,
}

/// The inherited variable that `--pristine` keeps, so the command (and
/// whatever it starts, `#!/usr/bin/env python3` included) is found as usual.
pub const PRISTINE_KEEPS: &[&str] = &["PATH"];

/// Builds the command's environment: `inherited` (only [`PRISTINE_KEEPS`]
/// of it when `pristine`), with the secrets set over it.
pub fn environment(
    inherited: impl IntoIterator<Item = (OsString, OsString)>,
    vars: &[Var],
    pristine: bool,
) -> Environment {
    let secret_names: HashMap<&OsStr, ()> =
        vars.iter().map(|v| (OsStr::new(&v.name), ())).collect();
    let mut out = Vec::new();
    let mut overridden = Vec::new();
    for (name, value) in inherited {
        if pristine && !PRISTINE_KEEPS.iter().any(|k| OsStr::new(k) == name) {
            continue;
        }
        if secret_names.contains_key(name.as_os_str()) {
            overridden.push(name.to_string_lossy().into_owned());
            continue;
        }
        out.push((name, value));
    }
    for v in vars.iter().filter(|v| !v.as_file) {
        out.push((
            OsString::from(&v.name),
            OsString::from(v.value.expose().to_owned()),
        ));
    }
    Environment {
        vars: out,
        overridden,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{self, EncryptOptions, OpenOptions};
    use crate::keys::{self, Identity, Recipient};
    use crate::metadata::Selection as Rule;

    fn p(s: &str) -> KeyPath {
        KeyPath::parse(s).unwrap()
    }

    #[test]
    fn names_follow_the_rules() {
        assert_eq!(env_name(&p("weather.api-key"), ""), "WEATHER_API_KEY");
        assert_eq!(env_name(&p("bots[0].token"), ""), "BOTS_0_TOKEN");
        assert_eq!(env_name(&p("0"), ""), "_0");
        assert_eq!(env_name(&p("9lives.x"), ""), "_9LIVES_X");
        assert_eq!(env_name(&p("0"), "APP_"), "APP_0");
        assert_eq!(env_name(&p("a.b"), "app_"), "app_A_B");
        assert_eq!(env_name(&p("clé.x y"), ""), "CL__X_Y");
        assert_eq!(env_name(&p(r#"["a.b"]"#), ""), "A_B");
        assert_eq!(env_name(&p("a[1][2]"), ""), "A_1_2");
        assert_eq!(env_name(&p("日本"), ""), "__");
    }

    #[test]
    fn refused_names_match_as_the_table_says() {
        // The table read the plain way: upper-case, then prefix or equality.
        let naive = |name: &str| {
            let upper = name.to_ascii_uppercase();
            REFUSED_NAMES
                .iter()
                .find(|(pattern, _)| match pattern.strip_suffix('*') {
                    Some(prefix) => upper.starts_with(prefix),
                    None => upper == *pattern,
                })
        };
        let mut names = vec![
            "",
            "_",
            "A",
            "PATHX",
            "XPATH",
            "Path",
            "ld_preload",
            "Ld_Library_Path",
            "pythonpath",
            "GIT_CONFIG",
            "git_config_global",
            "GIT_CONF",
            "é",
            "LUA_INIT_5_4",
            "BOTSECRETS_AGE_KEY",
            "_JAVA_OPTIONS",
            "_java_options",
            "TOKEN",
            "BOT_0001_API_KEY",
        ];
        for (pattern, _) in REFUSED_NAMES {
            names.push(pattern);
            names.push(pattern.trim_end_matches('*'));
        }
        let lowered: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        let longer: Vec<String> = names.iter().map(|n| format!("{n}X")).collect();
        let shorter: Vec<String> = names.iter().map(|n| n.chars().skip(1).collect()).collect();
        for name in names
            .iter()
            .copied()
            .chain(lowered.iter().map(String::as_str))
            .chain(longer.iter().map(String::as_str))
            .chain(shorter.iter().map(String::as_str))
        {
            assert_eq!(refused_name(name), naive(name), "{name:?}");
        }
        assert_eq!(refused_name("ld_preload").unwrap().0, "LD_*");
        assert!(refused_name("TOKEN").is_none());
    }

    #[test]
    fn prefix_is_checked() {
        assert!(check_prefix("APP_1").is_ok());
        assert!(check_prefix("").is_ok());
        assert_eq!(check_prefix("A=B"), Err(ExecError::BadPrefix("A=B".into())));
        assert!(check_prefix("A-B").is_err());
    }

    fn key() -> (Identity, Recipient) {
        let (secret, recipient) = keys::generate_x25519();
        use age::secrecy::ExposeSecret;
        let ids = keys::parse_identities(secret.expose_secret(), "test").unwrap();
        let r = Recipient::parse_list(&recipient).unwrap().remove(0);
        (ids.into_iter().next().unwrap(), r)
    }

    fn opened(text: &str, kind: FormatKind) -> Opened<'static> {
        let (id, r) = key();
        let enc = document::encrypt(
            text,
            kind,
            &EncryptOptions {
                recipients: &[r],
                selection: Rule::default(),
                mac_only_encrypted: false,
                expand_aliases: false,
                now: "2024-01-01T00:00:00Z".into(),
            },
        )
        .unwrap();
        // Leaked: fine in a test, and the opened file may borrow it.
        let file = Box::leak(Box::new(document::Sealed::parse(enc.text, kind).unwrap()));
        file.open(&[id], &OpenOptions::default()).unwrap()
    }

    fn pairs(vars: &[Var]) -> Vec<(String, String)> {
        vars.iter()
            .map(|v| (v.name.clone(), v.value.expose().to_owned()))
            .collect()
    }

    fn src<'a>(name: &str, kind: FormatKind, o: &'a Opened<'a>) -> Source<'a> {
        Source {
            name: name.into(),
            format: kind,
            opened: o,
        }
    }

    #[test]
    fn flattens_values_of_every_type_and_skips_nulls() {
        let o = opened(
            r#"{"weather": {"api-key": "k"}, "bots": [{"token": "t0"}, {"token": "t1"}],
                "port": 8080, "ratio": 0.5, "on": true, "none": null, "empty": "",
                "multi": "a\nb"}"#,
            FormatKind::Json,
        );
        let vars = variables(
            &[src("s.json", FormatKind::Json, &o)],
            &Selection::default(),
        )
        .unwrap();
        assert_eq!(
            pairs(&vars),
            [
                ("WEATHER_API_KEY", "k"),
                ("BOTS_0_TOKEN", "t0"),
                ("BOTS_1_TOKEN", "t1"),
                ("PORT", "8080"),
                ("RATIO", "0.5"),
                ("ON", "true"),
                ("EMPTY", ""),
                ("MULTI", "a\nb"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
    }

    #[test]
    fn dotenv_values_are_what_a_loader_reads() {
        let o = opened(
            "A=\"x y\"\nexport B='q'\nC=plain # note\n",
            FormatKind::Dotenv,
        );
        let vars = variables(
            &[src(".env", FormatKind::Dotenv, &o)],
            &Selection::default(),
        )
        .unwrap();
        assert_eq!(
            pairs(&vars),
            [("A", "x y"), ("B", "q"), ("C", "plain")].map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
    }

    #[test]
    fn collisions_name_both_paths() {
        let o = opened(r#"{"a": {"b": "1"}, "a_b": "2"}"#, FormatKind::Json);
        let err = variables(
            &[src("s.json", FormatKind::Json, &o)],
            &Selection::default(),
        )
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "two key paths give the variable A_B: a.b (s.json) and a_b (s.json); rename one of the keys"
        );
    }

    #[test]
    fn later_files_win_for_the_same_path_and_collide_otherwise() {
        let a = opened(r#"{"token": "old", "x": {"y": "1"}}"#, FormatKind::Json);
        let b = opened("token=\"new\"\n", FormatKind::Dotenv);
        let vars = variables(
            &[
                src("a.json", FormatKind::Json, &a),
                src("b.env", FormatKind::Dotenv, &b),
            ],
            &Selection::default(),
        )
        .unwrap();
        assert_eq!(
            pairs(&vars),
            [("TOKEN", "new"), ("X_Y", "1")].map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        assert!(vars[0].replaced_earlier && vars[0].source == 1);

        let c = opened("X_Y=2\n", FormatKind::Dotenv);
        let err = variables(
            &[
                src("a.json", FormatKind::Json, &a),
                src("c.env", FormatKind::Dotenv, &c),
            ],
            &Selection::default(),
        )
        .err()
        .unwrap();
        assert!(matches!(err, ExecError::Collision { .. }));
        assert_eq!(
            err.to_string(),
            "two key paths give the variable X_Y: x.y (a.json) and X_Y (c.env); rename one of the keys"
        );
    }

    #[test]
    fn only_takes_names_and_paths_and_reports_missing() {
        let o = opened(
            r#"{"weather": {"api_key": "w", "url": "u"}, "db": {"pass": "p"}, "other": "o"}"#,
            FormatKind::Json,
        );
        let s = [src("s.json", FormatKind::Json, &o)];
        let sel = |only: &[&str], prefix: &str| Selection {
            only: only.iter().map(|s| s.to_string()).collect(),
            prefix: prefix.into(),
            ..Default::default()
        };
        let names = |v: Vec<Var>| v.into_iter().map(|v| v.name).collect::<Vec<_>>();
        assert_eq!(
            names(variables(&s, &sel(&["weather", "DB_PASS"], "")).unwrap()),
            ["WEATHER_API_KEY", "WEATHER_URL", "DB_PASS"]
        );
        assert_eq!(
            names(variables(&s, &sel(&["db.pass", "BOT_OTHER", "WEATHER_URL"], "BOT_")).unwrap()),
            ["BOT_WEATHER_URL", "BOT_DB_PASS", "BOT_OTHER"]
        );
        let err = variables(&s, &sel(&["nope", "weather.x", "other"], ""))
            .err()
            .unwrap();
        assert_eq!(
            err,
            ExecError::Missing {
                missing: vec!["nope".into(), "weather.x".into()],
                files: vec!["s.json".into()]
            }
        );
    }

    #[test]
    fn nul_bytes_and_empty_names_are_errors_without_values() {
        let o = opened(r#"{"k": "se\u0000cret"}"#, FormatKind::Json);
        let err = variables(
            &[src("s.json", FormatKind::Json, &o)],
            &Selection::default(),
        )
        .err()
        .unwrap();
        assert!(matches!(err, ExecError::NulByte { .. }));
        assert!(!err.to_string().contains("se"), "{err}");
        let o = opened(r#"{"": "x"}"#, FormatKind::Json);
        let err = variables(
            &[src("s.json", FormatKind::Json, &o)],
            &Selection::default(),
        )
        .err()
        .unwrap();
        assert!(matches!(err, ExecError::EmptyName { .. }));
        let ok = variables(
            &[src("s.json", FormatKind::Json, &o)],
            &Selection {
                prefix: "P".into(),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(ok[0].name, "P");
    }

    #[test]
    fn environment_overrides_and_pristine() {
        let o = opened(r#"{"home": "h", "token": "t"}"#, FormatKind::Json);
        let vars = variables(
            &[src("s.json", FormatKind::Json, &o)],
            &Selection::default(),
        )
        .unwrap();
        let inherited = || {
            [("PATH", "/bin"), ("HOME", "/root"), ("LANG", "C")]
                .map(|(a, b)| (OsString::from(a), OsString::from(b)))
        };
        let env = environment(inherited(), &vars, false);
        let flat: Vec<(String, String)> = env
            .vars
            .iter()
            .map(|(a, b)| (a.to_str().unwrap().into(), b.to_str().unwrap().into()))
            .collect();
        assert_eq!(
            flat,
            [
                ("PATH", "/bin"),
                ("LANG", "C"),
                ("HOME", "h"),
                ("TOKEN", "t")
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        assert_eq!(env.overridden, ["HOME"]);
        let env = environment(inherited(), &vars, true);
        let names: Vec<&OsStr> = env.vars.iter().map(|(a, _)| a.as_os_str()).collect();
        assert_eq!(names, ["PATH", "HOME", "TOKEN"]);
        // Under --pristine only PATH was inherited; HOME was not, so it is
        // not reported as overridden.
        assert!(env.overridden.is_empty());
    }

    #[test]
    fn refused_names_match_exactly_or_by_prefix_in_any_case() {
        assert_eq!(refused_name("LD_PRELOAD").unwrap().0, "LD_*");
        assert_eq!(refused_name("ld_library_path").unwrap().0, "LD_*");
        assert_eq!(refused_name("PATH").unwrap().0, "PATH");
        assert_eq!(refused_name("http_proxy").unwrap().0, "HTTP_PROXY");
        assert_eq!(refused_name("GIT_CONFIG_COUNT").unwrap().0, "GIT_CONFIG*");
        assert_eq!(refused_name("PYTHONSTARTUP").unwrap().0, "PYTHON*");
        for ok in [
            "APP_PATH",
            "PATHS",
            "GIT_TOKEN",
            "GITHUB_TOKEN",
            "TOKEN",
            "LDAP_URL",
            "NODE_ENV",
        ] {
            assert!(refused_name(ok).is_none(), "{ok}");
        }
    }

    #[test]
    fn refused_names_are_errors_naming_the_path_unless_allowed() {
        let o = opened(
            r#"{"ld_preload": "/tmp/evil-secret.so", "token": "t"}"#,
            FormatKind::Json,
        );
        let s = [src("s.json", FormatKind::Json, &o)];
        let err = variables(&s, &Selection::default()).err().unwrap();
        assert!(matches!(err, ExecError::RefusedName { .. }));
        assert_eq!(
            err.to_string(),
            "the key path ld_preload (s.json) gives the variable LD_PRELOAD, which changes how the dynamic loader links programs (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT load code); refusing to set it"
        );
        assert!(!err.to_string().contains("evil"));
        let allowed = Selection {
            allow: vec!["LD_PRELOAD".into()],
            ..Default::default()
        };
        assert_eq!(variables(&s, &allowed).unwrap().len(), 2);
        // A prefix makes the name harmless; --only can leave it out.
        let prefixed = Selection {
            prefix: "APP_".into(),
            ..Default::default()
        };
        assert_eq!(variables(&s, &prefixed).unwrap()[0].name, "APP_LD_PRELOAD");
        let only = Selection {
            only: vec!["token".into()],
            ..Default::default()
        };
        assert_eq!(variables(&s, &only).unwrap().len(), 1);
    }

    #[test]
    fn the_refused_names_are_documented() {
        let doc = include_str!("../docs/exec.md");
        for (pattern, _) in REFUSED_NAMES {
            assert!(
                doc.contains(&format!("`{pattern}`")),
                "docs/exec.md lacks `{pattern}`"
            );
        }
    }
}
