//! Turns an error into what the user sees: `botsecrets: <what failed>`, an
//! optional `hint:` line saying what to do, and a documented exit code
//! (docs/exit-codes.md). A broken pipe on stdout is not an error.
//!
//! SECURITY: messages come from library errors, which carry key paths and
//! line numbers, never values.

use std::path::Path;
use std::process::ExitCode;

use std::borrow::Cow;

use botsecrets::access::AccessError;
use botsecrets::document::{DocumentError, Warning};
use botsecrets::exec::ExecError;
use botsecrets::export::ExportError;
use botsecrets::format::FormatError;
use botsecrets::fsio::FsError;
use botsecrets::keys::KeyError;
use botsecrets::rules::RulesError;
use botsecrets::Error;

/// Exit codes. Where sops has a code for the same failure we use it, so
/// scripts written for sops keep working.
pub mod code {
    /// Anything else, including command-line usage errors.
    pub const GENERIC: u8 = 1;
    /// The input could not be read or parsed.
    pub const INPUT: u8 = 2;
    /// The output could not be written.
    pub const OUTPUT: u8 = 3;
    /// The rules file (.botsecrets.yaml / .sops.yaml) is malformed or
    /// unreadable (sops: error reading config).
    pub const RULES: u8 = 5;
    /// No rules file was found, or no rule matches the file, or the rule
    /// names no age recipients (sops: config not found).
    pub const NO_RULE: u8 = 61;
    /// An encrypted value failed to decrypt (altered, moved, wrong key).
    pub const VALUE: u8 = 25;
    /// The MAC does not match, or cannot be decrypted.
    pub const MAC_MISMATCH: u8 = 51;
    /// The MAC is missing.
    pub const MAC_MISSING: u8 = 52;
    /// A key path given to --extract does not exist.
    pub const PATH_NOT_FOUND: u8 = 91;
    /// The input file does not exist.
    pub const NO_FILE: u8 = 100;
    /// No recipients to encrypt for (or an invalid one).
    pub const NO_RECIPIENTS: u8 = 111;
    /// No identity could open the file's data key.
    pub const NO_IDENTITY: u8 = 128;
    /// The file is already encrypted.
    pub const ALREADY_ENCRYPTED: u8 = 203;
    /// The file is not encrypted (no sops metadata).
    pub const NOT_ENCRYPTED: u8 = 204;
    /// The metadata is invalid or from an unsupported version.
    pub const BAD_METADATA: u8 = 205;
    /// Refused to overwrite an existing file.
    pub const EXISTS: u8 = 206;
    /// `edit`: nothing changed, the file was not rewritten (sops: 200).
    pub const UNCHANGED: u8 = 200;
    /// `edit`: no editor could be started (sops: 201).
    pub const NO_EDITOR: u8 = 201;
    /// Another botsecrets process kept the file locked past the wait, or
    /// it changed on disk since it was read; nothing was written.
    pub const BUSY: u8 = 207;
    /// `edit`: the editor exited with an error; nothing was written.
    pub const EDITOR_FAILED: u8 = 208;
    /// A change needed confirmation and got none (no terminal, no --yes).
    pub const NOT_CONFIRMED: u8 = 209;
    /// `check` found problems (unencrypted or damaged files, plaintext
    /// secrets).
    pub const CHECK_FAILED: u8 = 210;
    /// `git install` found a pre-commit hook it did not write.
    pub const FOREIGN_HOOK: u8 = 211;
    /// The selection rule and the values disagree (an `ENC[...]` where the
    /// rule says clear, or plaintext where it says encrypted).
    pub const SELECTION_MISMATCH: u8 = 212;
    /// The seal does not verify: the structure or metadata was changed
    /// without the key.
    pub const SEAL_MISMATCH: u8 = 213;
    /// The file has no seal and its rules (`.botsecrets.yaml`) require one.
    pub const SEAL_MISSING: u8 = 214;
    /// A write target refused: read-only, other hard links, not a regular
    /// file, or its owner could not be kept.
    pub const REFUSED_TARGET: u8 = 215;
    /// An input refused: not a regular file (FIFO, device, directory) or
    /// over the size limit.
    pub const REFUSED_INPUT: u8 = 216;
    /// `exec`/`export` refused a variable that changes how programs run
    /// (LD_PRELOAD, PATH, ...) and that `--allow-env` does not name.
    pub const REFUSED_ENV: u8 = 217;
    /// A private key (an identity) was given where a recipient belongs.
    pub const PRIVATE_KEY: u8 = 218;
    /// `audit --check`: a secret is overdue for rotation, or a revoked key
    /// can still read a file.
    pub const AUDIT_OVERDUE: u8 = 221;
    /// Refused to write plaintext secrets into a git working tree at a path
    /// git does not ignore (`export --output`).
    pub const IN_WORK_TREE: u8 = 222;
    /// `updatekeys --check`: a file's recipients differ from its rule
    /// (drift); nothing was written.
    pub const DRIFT: u8 = 223;
    /// A scope reader (an identity that reads only some scopes of a file,
    /// not an owner) asked for something outside its scopes, or to write.
    pub const SCOPE_READER: u8 = 225;
}

/// An error decided in the CLI, with its exit code and hint.
#[derive(Debug)]
pub struct UserError {
    /// Exit code.
    pub code: u8,
    /// The message.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}

impl UserError {
    fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hint: None,
        }
    }

    /// Wrong use of the command line.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(code::GENERIC, message)
    }

    /// Unparseable input.
    pub fn parse(message: impl Into<String>) -> Self {
        Self::new(code::INPUT, message)
    }

    /// A recipient problem.
    pub fn recipients(message: String) -> Self {
        Self::new(code::NO_RECIPIENTS, message)
    }

    /// An identity problem.
    pub fn identity(message: String) -> Self {
        Self {
            hint: Some("age identities look like AGE-SECRET-KEY-1...; create one with `botsecrets keygen -o FILE`".into()),
            ..Self::new(code::NO_IDENTITY, message)
        }
    }

    /// Reading `path` failed.
    pub fn io(path: &Path, e: std::io::Error) -> Self {
        let code = if e.kind() == std::io::ErrorKind::NotFound {
            code::NO_FILE
        } else {
            code::INPUT
        };
        Self::new(code, format!("{}: {}", path.display(), io_reason(&e)))
    }

    /// Writing `path` failed.
    pub fn write(path: &Path, e: std::io::Error) -> Self {
        Self::new(
            code::OUTPUT,
            format!("cannot write {}: {}", path.display(), io_reason(&e)),
        )
    }

    /// Any code with a message and an optional hint.
    pub fn with_code(code: u8, message: impl Into<String>, hint: Option<&str>) -> Self {
        Self {
            code,
            message: message.into(),
            hint: hint.map(str::to_owned),
        }
    }

    /// Refused to overwrite.
    pub fn exists(path: &Path) -> Self {
        Self::new(
            code::EXISTS,
            format!("{} already exists; not overwriting it", path.display()),
        )
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// What to do about a private key given where a recipient belongs.
const EXPOSED_HINT: &str = "write its recipient (age1...) there instead; the private key is in a file others may read: make a new identity (`botsecrets keygen -o FILE`), add its recipient (`botsecrets recipients add`), remove the exposed one (`botsecrets recipients remove`, which rotates the data key), and delete the old key from the file and its history";

/// Exit code and hint for a library error: the one place where the
/// library's errors meet exit codes and the CLI's words (flags, commands).
pub fn classify(e: &Error) -> (u8, Option<Cow<'static, str>>) {
    use DocumentError as D;
    use ExecError as X;
    use ExportError as P;
    let (code, hint): (u8, Option<&'static str>) = match e {
        Error::Document(D::Format(FormatError::Internal(_)) | D::Internal(_)) => (code::GENERIC, Some("this is a bug in botsecrets; please report it")),
        Error::Document(D::Format(_)) => (code::INPUT, Some("fix the syntax at the place named, then run the command again")),
        Error::Document(D::AlreadyEncrypted) => (code::ALREADY_ENCRYPTED, Some("use `botsecrets edit` or `botsecrets set` to change an encrypted file")),
        Error::Document(D::NotEncrypted) => (code::NOT_ENCRYPTED, Some("encrypt it first with `botsecrets encrypt --in-place FILE`")),
        Error::Document(D::Metadata(_)) => (code::BAD_METADATA, None),
        Error::Document(D::Key(KeyError::IdentityAsRecipient { .. })) => (code::PRIVATE_KEY, Some(EXPOSED_HINT)),
        Error::Document(D::NoRecipients) => (code::NO_RECIPIENTS, Some("pass --age with at least one age recipient")),
        Error::Document(D::Key(_)) => (code::NO_RECIPIENTS, None),
        Error::Document(D::NoMatchingIdentity { .. } | D::CorruptKey { .. } | D::Shamir(_)) => (
            code::NO_IDENTITY,
            Some("pass --identity FILE, or set BOTSECRETS_AGE_KEY_FILE (or SOPS_AGE_KEY_FILE) to a key file holding one of these recipients' identities"),
        ),
        Error::Document(D::SelectionMismatch { .. }) => (
            code::SELECTION_MISMATCH,
            Some("see the raw change with `git log -p --no-textconv -- FILE`; restore the file (or its sops metadata) from version control"),
        ),
        Error::Document(D::Value { .. }) => (
            code::VALUE,
            Some("the file was altered or damaged; restore it from version control"),
        ),
        Error::Document(D::MacMismatch | D::MacUndecryptable) => (
            code::MAC_MISMATCH,
            Some("the file was altered outside botsecrets/sops; restore it from version control, or inspect it with --ignore-mac"),
        ),
        Error::Document(D::MacMissing) => (code::MAC_MISSING, Some("use --ignore-mac to read it anyway")),
        Error::Document(D::SealMismatch) => (
            code::SEAL_MISMATCH,
            Some("nothing was decrypted or written; `git log -p --no-textconv FILE` shows the raw change; restore the file from version control"),
        ),
        Error::Document(D::SealMissing) => (
            code::SEAL_MISSING,
            Some("check the file's history (`git log -p --no-textconv FILE`), then seal it with `botsecrets seal FILE`; or set `seal: optional` in its rule in .botsecrets.yaml"),
        ),
        Error::Document(D::ScopesUnsealed { .. }) => (
            code::SEAL_MISSING,
            Some("check the file's history (`git log -p --no-textconv FILE`); `botsecrets updatekeys FILE` rebuilds the scopes from the rule and seals the file (or `botsecrets seal FILE` vouches for them as listed)"),
        ),
        Error::Document(D::PathNotFound(_)) => (code::PATH_NOT_FOUND, None),
        Error::Document(D::NotAnOwner { .. } | D::OutsideScope { .. }) => (
            code::SCOPE_READER,
            Some("ask an owner of the file (or use an owner's identity); a scope reader can only exec, export, get and decrypt its scope's values"),
        ),
        Error::Document(D::ScopePathNoMatch { .. } | D::ScopePathOutside { .. }) => (
            code::RULES,
            Some("fix the scope's paths in the rule (key paths as `botsecrets get` takes them, e.g. db.password)"),
        ),
        Error::Document(D::UnknownScope { .. }) => (code::GENERIC, Some("`botsecrets recipients list FILE` shows the file's scopes")),
        Error::Document(D::ScopeDamaged { .. }) => (
            code::VALUE,
            Some("the file was altered or damaged; restore it from version control, or ask an owner to rewrite it (`botsecrets updatekeys FILE`)"),
        ),
        Error::Fs(FsError::NotFound { path }) => {
            // A mistyped file name: near names in its directory.
            return (code::NO_FILE, super::suggest::near_files(path).map(Cow::Owned));
        }
        Error::Fs(FsError::Read { .. }) => (code::INPUT, None),
        Error::Fs(FsError::Write { .. }) => (code::OUTPUT, None),
        Error::Fs(FsError::NotRegular { .. }) => (
            code::REFUSED_INPUT,
            Some("give a regular file, or pipe the data to `-` (stdin)"),
        ),
        Error::Fs(FsError::TooLarge { .. }) => (
            code::REFUSED_INPUT,
            Some("secrets files are small; if this one really is this large, raise the limit with BOTSECRETS_MAX_INPUT_BYTES"),
        ),
        Error::Fs(FsError::Busy { .. }) => (
            code::BUSY,
            Some("wait for it to finish, then run the command again"),
        ),
        Error::Fs(FsError::Changed { .. } | FsError::Exists { .. }) => (
            code::BUSY,
            Some("run the command again on the new version"),
        ),
        Error::Fs(FsError::ReadOnly { .. }) => (
            code::REFUSED_TARGET,
            Some("make it writable (`chmod u+w FILE`) if it should change"),
        ),
        Error::Fs(FsError::HardLinks { .. }) => (
            code::REFUSED_TARGET,
            Some("find the other names with `find / -samefile FILE`; remove them, or break the link with `cp FILE FILE.new && mv FILE.new FILE`"),
        ),
        Error::Fs(FsError::NotRegularTarget { .. }) => (code::REFUSED_TARGET, None),
        Error::Fs(FsError::Owner { .. }) => (
            code::REFUSED_TARGET,
            Some("run the command as the file's owner (or as root)"),
        ),
        Error::Rules(RulesError::NotFound { .. }) => (
            code::NO_RULE,
            Some("pass --age age1..., or create a .botsecrets.yaml with creation_rules (see docs/rules.md)"),
        ),
        Error::Rules(RulesError::PrivateKey { .. }) => (code::PRIVATE_KEY, Some(EXPOSED_HINT)),
        Error::Rules(RulesError::NoMatch { .. } | RulesError::NoAgeRecipients { .. }) => (
            code::NO_RULE,
            Some("add a creation rule for this path (a rule without path_regex matches every file), or pass --age"),
        ),
        Error::Rules(_) => (code::RULES, Some("fix the rules file at the place named (see docs/rules.md)")),
        Error::Exec(X::Missing { .. } | X::NotAValue { .. }) => (code::PATH_NOT_FOUND, None),
        Error::Exec(X::BadPrefix(_) | X::BadName { .. }) => (code::GENERIC, None),
        Error::Exec(X::EmptyName { .. }) => (code::INPUT, Some("rename the key, or give every variable a prefix with --prefix")),
        Error::Exec(X::RefusedName { name, .. }) => return (code::REFUSED_ENV, Some(Cow::Owned(format!(
            "nothing was run; if the key is yours and the command needs it, pass --allow-env {name} (or --prefix, or leave it out with --only); see docs/exec.md"
        )))),
        Error::Exec(X::Collision { .. }) => (
            code::INPUT,
            Some("each variable must come from one key path; rename a key (or use separate files and --only)"),
        ),
        Error::Exec(_) => (code::INPUT, None),
        Error::Export(P::TrailingBackslash { .. }) => (code::INPUT, Some("use --format shell or json, or leave it out with --only")),
        Error::Export(P::NoName) => (code::GENERIC, Some("--format k8s-secret needs --name NAME")),
        Error::Export(P::BadName(_)) => (code::GENERIC, Some("check the name given to --name")),
        Error::Export(P::BadNamespace(_)) => (code::GENERIC, Some("check the namespace given to --namespace")),
        Error::Access(AccessError::GroupNeeded { .. }) => (code::GENERIC, Some("pass --group N to say which key group gets the new recipients")),
        Error::Access(AccessError::NoSuchGroup { .. }) => (code::GENERIC, Some("`botsecrets recipients list FILE` shows the key groups")),
        Error::Access(AccessError::NotARecipient { .. }) => (code::GENERIC, Some("`botsecrets recipients list FILE` shows the recipients")),
        Error::Access(AccessError::NoneLeft { .. }) => (code::NO_RECIPIENTS, Some("add the new recipient first")),
        Error::Access(AccessError::EmptyGroup { .. }) => (code::NO_RECIPIENTS, Some("add a recipient to that group first")),
        Error::Access(_) => (code::NO_RECIPIENTS, None),
        _ => (code::GENERIC, None),
    };
    (code, hint.map(Cow::Borrowed))
}

/// The library error first in `err`'s chain, taken out of it: the
/// chain is searched by reference (the outermost decides), then that
/// type is downcast by value so [`classify`] can match on one [`Error`].
fn library_error(err: anyhow::Error) -> Option<Error> {
    fn take<T>(err: anyhow::Error) -> Option<Error>
    where
        T: Into<Error> + std::fmt::Display + std::fmt::Debug + Send + Sync + 'static,
    {
        err.downcast::<T>().ok().map(Into::into)
    }
    type Take = fn(anyhow::Error) -> Option<Error>;
    let found: Option<Take> = err.chain().find_map(|c| -> Option<Take> {
        if c.is::<Error>() {
            Some(take::<Error>)
        } else if c.is::<DocumentError>() {
            Some(take::<DocumentError>)
        } else if c.is::<FsError>() {
            Some(take::<FsError>)
        } else if c.is::<RulesError>() {
            Some(take::<RulesError>)
        } else if c.is::<ExecError>() {
            Some(take::<ExecError>)
        } else if c.is::<ExportError>() {
            Some(take::<ExportError>)
        } else if c.is::<AccessError>() {
            Some(take::<AccessError>)
        } else {
            None
        }
    });
    found.and_then(|take| take(err))
}

/// Prints `err` and returns the exit code.
pub fn report(err: anyhow::Error) -> ExitCode {
    for cause in err.chain() {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return ExitCode::SUCCESS;
            }
        }
    }
    ExitCode::from(print(err))
}

/// Prints `err` (`botsecrets: ...` and its hint) and returns its exit
/// code: for a command that goes on after one of several files failed.
pub fn print(err: anyhow::Error) -> u8 {
    eprintln!("botsecrets: {err:#}");
    // A CLI decision (outermost) wins over a library error beneath it.
    let user = err.chain().find_map(|c| c.downcast_ref::<UserError>());
    let (code, hint) = match user {
        Some(u) => (u.code, u.hint.clone().map(Cow::Owned)),
        None => library_error(err).map_or((code::GENERIC, None), |e| classify(&e)),
    };
    if let Some(h) = hint {
        eprintln!("hint: {h}");
    }
    code
}

/// A warning in the CLI's words: the library says what happened, this
/// adds the flag that caused it or avoids it.
pub fn warning_text(w: &Warning) -> String {
    use botsecrets::seal::SealStatus;
    match w {
        Warning::AliasOfEncryptedValues { .. } => {
            format!("{w}; use --expand-aliases for a sops-compatible file")
        }
        Warning::MacNotVerified => {
            "the MAC was NOT verified (--ignore-mac): values may have been altered".into()
        }
        Warning::SealNotVerified(SealStatus::Broken) => "the seal does NOT verify (read anyway because of --ignore-mac): key names, clear values, the selection rule or the recipients were changed without the key".into(),
        Warning::SealNotVerified(_) => "the file has NO seal although its rules require one (read anyway because of --ignore-mac)".into(),
        _ => w.to_string(),
    }
}
