//! Command-line syntax (clap derive) for every subcommand.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Keep a bot fleet's API keys safe in git: value-encrypted YAML, JSON,
/// TOML, dotenv and INI files in the SOPS format, for age recipients.
#[derive(Parser, Debug)]
#[command(name = "botsecrets", version, about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Generate an age identity (X25519) for a person or a bot.
    Keygen(KeygenArgs),
    /// Encrypt the values of a plaintext file.
    Encrypt(EncryptArgs),
    /// Decrypt an encrypted file (after verifying its MAC).
    Decrypt(DecryptArgs),
    /// Who can read a file: list, add or remove recipients.
    #[command(subcommand)]
    Recipients(RecipientsCommand),
    /// Make files' recipients match their rule in .botsecrets.yaml /
    /// .sops.yaml (shows the change and asks; the data key is rotated when
    /// anyone loses access).
    Updatekeys(UpdatekeysArgs),
    /// Seal files that have no seal (sops wrote them): shows what the seal
    /// will vouch for (recipients, selection rule, MAC mode, values), asks,
    /// then writes the seal.
    Seal(SealArgs),
    /// Give files a new data key: every value is re-encrypted; the
    /// recipients stay as they are.
    Rotate(RotateArgs),
    /// Edit the plaintext in your editor; re-encrypted on save.
    Edit(EditArgs),
    /// Set one value (new keys are added); other values keep their ciphertext.
    Set(SetArgs),
    /// Remove one key (or a whole subtree).
    Unset(UnsetArgs),
    /// Print one value (the same as `decrypt --extract`).
    Get(GetArgs),
    /// Run a command with the secrets in its environment (execve: it
    /// becomes the command; nothing is written to disk).
    Exec(ExecArgs),
    /// Print the secrets as dotenv, shell, JSON or a Kubernetes Secret.
    Export(ExportArgs),
    /// Check that files are encrypted and intact, and that no plaintext API
    /// key is about to be committed (the pre-commit hook, and CI).
    Check(CheckArgs),
    /// Who can read each secret, when its value last changed (from the git
    /// history, decrypted in memory) and which are overdue for rotation.
    Audit(AuditArgs),
    /// Git integration: pre-commit hook, diff driver and merge driver.
    #[command(subcommand)]
    Git(GitCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish,
    /// powershell); see `botsecrets completions --help` for where it goes.
    Completions(CompletionsArgs),
    /// Print the man page (roff): `botsecrets man | man -l -`, or save it
    /// as botsecrets.1 in a man directory.
    Man,
    /// Set up this git repository: a starter .botsecrets.yaml, your
    /// identity (created or reused), `git install`, .gitignore lines.
    /// Never overwrites; running it again changes nothing.
    Init(InitArgs),
}

/// `init`.
#[derive(Args, Debug)]
pub struct InitArgs {
    /// Use this identity file's recipient (it must exist). Default:
    /// ~/.config/botsecrets/keys.txt, created when missing.
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
}

/// `completions`.
#[derive(Args, Debug)]
#[command(
    after_help = "Install, e.g.:\n  bash: botsecrets completions bash > ~/.local/share/bash-completion/completions/botsecrets\n  zsh:  botsecrets completions zsh > ~/.zfunc/_botsecrets  (with fpath+=~/.zfunc before compinit)\n  fish: botsecrets completions fish > ~/.config/fish/completions/botsecrets.fish"
)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: ShellArg,
}

/// The shells `completions` writes for.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ShellArg {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
    /// Elvish.
    Elvish,
    /// PowerShell.
    Powershell,
}

/// `check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Check what is staged for commit (the index), not the working tree:
    /// the files `git diff --cached` lists (added, copied, modified,
    /// renamed), as they are in the index.
    #[arg(long)]
    pub staged: bool,
    /// Print the findings as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Accept a reviewed finding: its fingerprint (fp-..., as printed; the
    /// same secret anywhere), a whole file (PATH) or one line (PATH:LINE).
    /// Repeatable.
    #[arg(long, value_name = "FINGERPRINT|PATH[:LINE]")]
    pub allow: Vec<String>,
    /// Scan git history instead of files: every blob reachable from the
    /// revisions given as arguments (default: all refs) once, in memory.
    /// Reports commit, path, line, detector and whether the secret is
    /// still at HEAD.
    #[arg(long, conflicts_with = "staged")]
    pub history: bool,
    /// Files or directories to check. Default: with --staged, every staged
    /// file; otherwise every file git tracks under the working directory.
    /// With --history: revisions (REVS, as `git rev-list` takes them).
    #[arg(value_name = "PATH|REV")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub identity: IdentityArgs,
}

/// `audit`.
#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Encrypted files to audit. Default: every encrypted file in the
    /// repository (tracked, or new and not ignored).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// The CI gate: exit 221 when a secret is overdue under the rules'
    /// rotation policy, or a revoked key can still read a file.
    #[arg(long)]
    pub check: bool,
    #[command(flatten)]
    pub identity: IdentityArgs,
}

/// `git ...`.
#[derive(Subcommand, Debug)]
pub enum GitCommand {
    /// Set up this repository: pre-commit hook, diff and merge drivers in
    /// .git/config, and .gitattributes lines for the secrets files.
    Install(GitInstallArgs),
    /// Diff driver (git runs it): print FILE decrypted for a key holder, or
    /// unchanged (ciphertext) for anyone else. Always exits 0.
    Textconv(TextconvArgs),
    /// Merge driver (git runs it): three-way merge of the decrypted values;
    /// the result is written re-encrypted into OURS.
    Merge(MergeArgs),
}

/// `git install`.
#[derive(Args, Debug)]
pub struct GitInstallArgs {
    /// Remove what `git install` wrote (and only that).
    #[arg(long)]
    pub uninstall: bool,
}

/// `git textconv`.
#[derive(Args, Debug)]
pub struct TextconvArgs {
    /// The file git hands over.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// `git merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The common ancestor's version (%O).
    #[arg(value_name = "BASE")]
    pub base: PathBuf,
    /// Our version (%A); the result is written here.
    #[arg(value_name = "OURS")]
    pub ours: PathBuf,
    /// Their version (%B).
    #[arg(value_name = "THEIRS")]
    pub theirs: PathBuf,
    /// The file's path in the repository (%P): its name gives the format.
    #[arg(value_name = "PATHNAME")]
    pub pathname: Option<String>,
}

/// `edit`.
#[derive(Args, Debug)]
pub struct EditArgs {
    /// The encrypted file; created (from a short template) when missing.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The format, when the file name does not tell.
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Recipients for a new file (comma-separated; names and groups from
    /// the rules file work too); ignored for an existing file, which keeps
    /// its own.
    #[arg(short = 'a', long = "age", value_name = "RECIPIENTS")]
    pub age: Vec<String>,
    #[command(flatten)]
    pub identity: IdentityArgs,
}

/// `set`.
#[derive(Args, Debug)]
pub struct SetArgs {
    /// The encrypted file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Where: `a.b[0]` or `["a"]["b"][0]`; missing map keys are created.
    #[arg(value_name = "PATH")]
    pub path: String,
    /// The value (a string unless --json). Prefer --stdin: a value on the
    /// command line lands in shell history and is visible in `ps`.
    #[arg(
        value_name = "VALUE",
        required_unless_present = "stdin",
        conflicts_with = "stdin"
    )]
    pub value: Option<String>,
    /// Read the value from stdin (one trailing line break is dropped).
    #[arg(long)]
    pub stdin: bool,
    /// Read the value as a JSON scalar: `8080`, `true`, `null`, `"text"`.
    #[arg(long)]
    pub json: bool,
    /// The format, when the file name does not tell.
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    #[command(flatten)]
    pub identity: IdentityArgs,
}

/// `unset`.
#[derive(Args, Debug)]
pub struct UnsetArgs {
    /// The encrypted file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// What to remove: `a.b[0]` or `["a"]["b"][0]`.
    #[arg(value_name = "PATH")]
    pub path: String,
    /// Succeed (without rewriting) when the path does not exist.
    #[arg(long)]
    pub idempotent: bool,
    /// The format, when the file name does not tell.
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    #[command(flatten)]
    pub identity: IdentityArgs,
}

/// `get`.
#[derive(Args, Debug)]
pub struct GetArgs {
    /// The encrypted file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Which value: `a.b[0]` or `["a"]["b"][0]`.
    #[arg(value_name = "PATH")]
    pub path: String,
    /// The format, when the file name does not tell.
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    #[command(flatten)]
    pub identity: IdentityArgs,
}

/// `recipients ...`.
#[derive(Subcommand, Debug)]
pub enum RecipientsCommand {
    /// List the recipients of an encrypted file (needs no key).
    List(RecipientsListArgs),
    /// Add recipients (the data key is re-wrapped for them; values keep
    /// their ciphertext).
    Add(RecipientsChangeArgs),
    /// Remove recipients: ALWAYS rotates the data key, then lists the
    /// secrets they could read, to rotate at their providers.
    Remove(RecipientsChangeArgs),
}

/// `recipients list`.
#[derive(Args, Debug)]
pub struct RecipientsListArgs {
    /// The encrypted files.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Print JSON: the key groups, each owner with its name, the threshold
    /// and the other key types (several files: `{"files": [...]}`).
    #[arg(long)]
    pub json: bool,
}

/// `recipients add` / `recipients remove`.
#[derive(Args, Debug)]
pub struct RecipientsChangeArgs {
    /// The encrypted file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Recipients (age1..., "ssh-ed25519 AAAA...", age1<plugin>1...), or
    /// names and groups from the rules file's keys: and groups:; commas
    /// separate several in one argument.
    #[arg(value_name = "RECIPIENT", required = true)]
    pub recipients: Vec<String>,
    /// For a file with several key groups (Shamir): the group to change
    /// (1-based). Removing finds the recipient in any group.
    #[arg(long, value_name = "N")]
    pub group: Option<usize>,
    #[command(flatten)]
    pub identity: IdentityArgs,
}

/// `updatekeys`.
#[derive(Args, Debug)]
pub struct UpdatekeysArgs {
    /// The encrypted files.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Apply without asking (for scripts). Without it, botsecrets asks on
    /// the terminal, and refuses when there is none.
    #[arg(short, long, conflicts_with = "dry_run")]
    pub yes: bool,
    /// Print every file's plan (who is added and removed, whether the data
    /// key is rotated) and change nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// With --dry-run: print the plans as JSON on stdout.
    #[arg(long, requires = "dry_run")]
    pub json: bool,
    /// Print every file's plan, change nothing, and fail (exit 223) when a
    /// file's recipients differ from its rule (drift): a CI gate.
    #[arg(long, conflicts_with_all = ["yes", "dry_run"])]
    pub check: bool,
    #[command(flatten)]
    pub identity: IdentityArgs,
}

/// `seal`.
#[derive(Args, Debug)]
pub struct SealArgs {
    /// The encrypted files.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Seal without asking (for scripts). Without it, botsecrets asks on
    /// the terminal, and refuses when there is none.
    #[arg(short, long)]
    pub yes: bool,
    #[command(flatten)]
    pub identity: IdentityArgs,
}

/// `rotate`.
#[derive(Args, Debug)]
pub struct RotateArgs {
    /// The encrypted files.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub identity: IdentityArgs,
}

/// `keygen`.
#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Write the identity to FILE (mode 0600; never overwrites) and print
    /// its recipient. Without it, the identity goes to stdout.
    #[arg(short, long, value_name = "FILE", conflicts_with = "recipient")]
    pub output: Option<PathBuf>,
    /// Print the recipient(s) of an existing identity file (INPUT, or
    /// stdin), one a line, like `age-keygen -y`; nothing is generated.
    #[arg(short = 'y', long = "recipient")]
    pub recipient: bool,
    /// With -y: the identity file (`-` or none: stdin). Age keys, an SSH
    /// private key, or a passphrase-encrypted identity file.
    #[arg(value_name = "INPUT", requires = "recipient")]
    pub input: Option<PathBuf>,
}

/// Where a command's output goes.
#[derive(Args, Debug)]
pub struct OutputArgs {
    /// Replace the input file (atomically, keeping its mode).
    #[arg(short, long, conflicts_with = "output")]
    pub in_place: bool,
    /// Write to FILE (atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Which file and as what format.
#[derive(Args, Debug)]
pub struct InputArgs {
    /// The file; `-` reads stdin (then --input-type is required).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The input format, when the file name does not tell: yaml, json,
    /// toml, dotenv, ini.
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
}

/// `encrypt`.
#[derive(Args, Debug)]
pub struct EncryptArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Recipients, comma-separated (age1..., ssh-ed25519 ..., or names and
    /// groups from the rules file's keys:/groups:). Also read from
    /// BOTSECRETS_AGE_RECIPIENTS, then SOPS_AGE_RECIPIENTS; without any, the
    /// matching rule of .botsecrets.yaml / .sops.yaml is used.
    #[arg(short = 'a', long = "age", value_name = "RECIPIENTS")]
    pub age: Vec<String>,
    /// Leave values whose key path has a key ending in SUFFIX in the clear
    /// (the default rule, with `_unencrypted`).
    #[arg(long, value_name = "SUFFIX", group = "selection")]
    pub unencrypted_suffix: Option<String>,
    /// Encrypt only values whose key path has a key ending in SUFFIX.
    #[arg(long, value_name = "SUFFIX", group = "selection")]
    pub encrypted_suffix: Option<String>,
    /// Leave values whose key path has a key matching REGEX in the clear.
    #[arg(long, value_name = "REGEX", group = "selection")]
    pub unencrypted_regex: Option<String>,
    /// Encrypt only values whose key path has a key matching REGEX.
    #[arg(long, value_name = "REGEX", group = "selection")]
    pub encrypted_regex: Option<String>,
    /// Leave values after a comment matching REGEX in the clear (and that
    /// comment); sops' unencrypted_comment_regex.
    #[arg(long, value_name = "REGEX", group = "selection")]
    pub unencrypted_comment_regex: Option<String>,
    /// Encrypt only values after a comment matching REGEX; sops'
    /// encrypted_comment_regex.
    #[arg(long, value_name = "REGEX", group = "selection")]
    pub encrypted_comment_regex: Option<String>,
    /// Compute the MAC over encrypted values only, so clear values can be
    /// edited without a key.
    #[arg(long)]
    pub mac_only_encrypted: bool,
    /// YAML: replace aliases by copies of their anchors, so that sops can
    /// read a file whose aliases point at encrypted values.
    #[arg(long)]
    pub expand_aliases: bool,
}

/// Identity sources for commands that decrypt.
#[derive(Args, Debug)]
pub struct IdentityArgs {
    /// An identity file (repeatable): age keys, an SSH private key, or a
    /// passphrase-encrypted identity file. When given, only these are used;
    /// otherwise BOTSECRETS_AGE_KEY(_FILE, _CMD), SOPS_AGE_KEY(_FILE,
    /// _CMD), the default key files and SSH keys are tried in that order.
    #[arg(long = "identity", value_name = "FILE")]
    pub identities: Vec<PathBuf>,
}

/// `decrypt`.
#[derive(Args, Debug)]
pub struct DecryptArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// Print only the value (or subtree) at PATH: `a.b[0]` or `["a"]["b"][0]`.
    #[arg(long, value_name = "PATH")]
    pub extract: Option<String>,
    /// Decrypt even if the MAC is missing or does not match (says so loudly).
    #[arg(long)]
    pub ignore_mac: bool,
    /// Convert the decrypted data to another format: json or yaml (data
    /// only: comments and layout are not carried over).
    #[arg(long, value_name = "TYPE", conflicts_with = "extract")]
    pub output_type: Option<String>,
}

/// Which variables `exec` and `export` take.
#[derive(Args, Debug)]
pub struct SelectArgs {
    /// Only these: variable names (WEATHER_API_KEY) or key paths
    /// (weather.api_key, which keeps everything under it); comma-separated,
    /// repeatable. A name that matches nothing is an error.
    #[arg(long, value_name = "KEYS", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Prepend P to every variable name.
    #[arg(long, value_name = "P", default_value = "")]
    pub prefix: String,
    /// Set NAME even though it changes how programs run (LD_PRELOAD, PATH,
    /// NODE_OPTIONS, ...: refused by default, see docs/exec.md). The exact
    /// variable name, prefix included; comma-separated, repeatable.
    #[arg(long = "allow-env", value_name = "NAME", value_delimiter = ',')]
    pub allow_env: Vec<String>,
    /// Give the value at key path PATH the variable name NAME, as it is
    /// (no --prefix): `--rename aws.access_key_id=AWS_ACCESS_KEY_ID`.
    /// Repeatable; wins over the rule's `env:` map.
    #[arg(long, value_name = "PATH=NAME")]
    pub rename: Vec<String>,
    /// Keep the storage suffix in names (`s3.bucket_unencrypted` ->
    /// S3_BUCKET_UNENCRYPTED); by default it is dropped (S3_BUCKET).
    #[arg(long)]
    pub keep_suffix: bool,
}

/// `exec`.
#[derive(Args, Debug)]
pub struct ExecArgs {
    /// A secrets file (repeatable; later files win for the same key path).
    /// Default: BOTSECRETS_FILE (a colon-separated list), else the one
    /// secrets.{yaml,yml,json,toml,env} in the working directory.
    #[arg(short, long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Start from an empty environment: only the secrets, and PATH.
    #[arg(long)]
    pub pristine: bool,
    /// List on stderr the variables set and the inherited ones they
    /// override (names only, never values).
    #[arg(short, long)]
    pub verbose: bool,
    /// Give the command the value at key path PATH as a file: the variable
    /// NAME holds its path (/proc/self/fd/N, an in-memory file; nothing is
    /// written to disk, and it is gone when the command exits). Repeatable.
    #[arg(long = "as-file", value_name = "NAME=PATH")]
    pub as_file: Vec<String>,
    /// Pass the command's stdout and stderr through botsecrets, which
    /// replaces every secret value it injected (6 characters or more) with
    /// [redacted:NAME]. Uses a terminal (pty) when stdout is one; signals
    /// are forwarded and the exit status is kept.
    #[arg(long)]
    pub redact: bool,
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// The command and its arguments (run directly, found on PATH; no
    /// shell). Put `--` before it: botsecrets' own flags end there, and a
    /// mistyped flag before it is an error, never run as the command.
    #[arg(
        value_name = "CMD",
        required = true,
        num_args = 1..,
        trailing_var_arg = true
    )]
    pub command: Vec<std::ffi::OsString>,
}

/// `export --format`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ExportFormatArg {
    /// `NAME="..."` lines (docker compose env_file).
    Dotenv,
    /// `export NAME='...'` lines, safe to eval in a POSIX shell.
    Shell,
    /// A flat JSON object.
    Json,
    /// A Kubernetes v1 Secret manifest (for `kubectl apply -f -`).
    K8sSecret,
}

/// `export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The secrets file(s); several merge like `exec --file`. `-` reads
    /// stdin (then --input-type is required).
    #[arg(value_name = "FILE", required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// The output format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: ExportFormatArg,
    /// k8s-secret: the Secret's metadata.name (required for k8s-secret).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// k8s-secret: the Secret's metadata.namespace (omitted if not given).
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Only the values of this scope of each file (what its readers get),
    /// for delivering one bot's secrets; needs an owner's identity.
    #[arg(long, value_name = "NAME")]
    pub scope: Option<String>,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Print even when stdout is a terminal.
    #[arg(long)]
    pub force: bool,
    /// Write to FILE instead of stdout: atomically, mode 0600. Refused
    /// inside a git working tree unless git ignores the path.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The input format, when a file name does not tell.
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    #[command(flatten)]
    pub identity: IdentityArgs,
}
