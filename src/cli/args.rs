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
    /// Give files a new data key: every value is re-encrypted; the
    /// recipients stay as they are.
    Rotate(RotateArgs),
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
    /// The encrypted file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// `recipients add` / `recipients remove`.
#[derive(Args, Debug)]
pub struct RecipientsChangeArgs {
    /// The encrypted file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Recipients (age1..., "ssh-ed25519 AAAA...", age1<plugin>1...);
    /// commas separate several in one argument.
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
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
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
    /// Recipients, comma-separated (age1..., ssh-ed25519 ...). Also read
    /// from BOTSECRETS_AGE_RECIPIENTS, then SOPS_AGE_RECIPIENTS; without
    /// any, the matching rule of .botsecrets.yaml / .sops.yaml is used.
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
