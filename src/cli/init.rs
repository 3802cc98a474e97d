//! `botsecrets init`: set a repository up in one step. A starter
//! `.botsecrets.yaml`, the user's identity (created or reused), `git
//! install`, and `.gitignore` lines for plaintext outputs.
//!
//! Invariants: nothing that exists is overwritten (a rules file, an
//! identity, a line of `.gitignore` are kept as they are; `.gitignore` is
//! only appended to), and a second run changes no byte. Each step says
//! whether it created or kept its file.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use age::secrecy::ExposeSecret;
use anyhow::Result;
use botsecrets::fsio::{self, WriteMode};
use botsecrets::keys;
use botsecrets::metadata::now_rfc3339;
use zeroize::Zeroizing;

use super::args::{GitInstallArgs, InitArgs};
use super::report::UserError;

/// The first line of the lines `init` adds to `.gitignore`.
const IGNORE_MARKER: &str = "# botsecrets: plaintext outputs and identities (never commit these)";

/// The `.gitignore` lines: decrypted copies by the usual names, the
/// directory the README suggests for `export --output`, identity files.
const IGNORE_LINES: [&str; 6] = [
    "*.plain.*",
    "*.dec.*",
    "*.decrypted.*",
    "/.botsecrets-out/",
    "*.agekey",
    "keys.txt",
];

/// The starter rules file for `recipient`.
pub fn starter_rules(recipient: &str, who: &str) -> String {
    format!(
        r#"# botsecrets rules: who can read which secrets files (docs/rules.md).
# The first rule whose path_regex matches a file's path (relative to this
# directory) decides its recipients; `botsecrets check` and the pre-commit
# hook refuse such a file unencrypted.
#
# Recipients may be named, grouped, and given per-bot scopes (one file,
# each bot reads only its keys); rules then use the names:
#
# keys:
#   alice: age1...          # a person: `botsecrets keygen -y ~/.config/botsecrets/keys.txt`
#   weather-bot: age1...    # a bot's own identity: `botsecrets keygen -o weather-bot.agekey`
# groups:
#   admins: [alice]
# creation_rules:
#   - path_regex: ^bots/
#     age: [admins]         # the owners: read and write every value
#     scopes:               # readers of these paths only (`exec`, `export`, `get`)
#       weather: {{ readers: [weather-bot], paths: [weather.api_key] }}
creation_rules:
  # Per-environment rules go above this one (the first match wins), e.g.:
  # - path_regex: ^prod/
  #   age:
  #     - age1...           # the production bot
  #     - {recipient}
  # Shamir key groups (any 2 of 3 groups must agree to decrypt):
  # - path_regex: ^vault/
  #   shamir_threshold: 2
  #   key_groups:
  #     - age: [age1...]
  #     - age: [age1...]
  #     - age: [age1...]
  #
  # Files named secrets.yaml, secrets.env, ... anywhere in the repository.
  - path_regex: secrets\.(yaml|yml|json|toml|env|ini)$
    age:
      - {recipient}   # {who}
    # Map key paths to the variable names `exec` and `export` set:
    # env:
    #   aws.access_key_id: AWS_ACCESS_KEY_ID
"#
    )
}

/// What a step did, for the summary.
fn said(created: bool) -> &'static str {
    if created {
        "created"
    } else {
        "kept, it exists"
    }
}

/// The identity: `--identity FILE` (must exist), else the default key file
/// (created when missing). Returns (path, recipient, created).
fn identity(args: &InitArgs) -> Result<(PathBuf, String, bool)> {
    let (path, given) = match &args.identity {
        Some(p) => (p.clone(), true),
        None => {
            let dir = super::inputs::config_dir().ok_or_else(|| {
                UserError::identity(
                    "no HOME or XDG_CONFIG_HOME to keep the identity in; pass --identity FILE"
                        .to_owned(),
                )
            })?;
            (dir.join("botsecrets").join("keys.txt"), false)
        }
    };
    if path.exists() || given {
        let ids = super::inputs::load_identity_file(&path, "init", &super::inputs::callbacks())?;
        let first = ids.first().ok_or_else(|| {
            UserError::identity(format!("{}: no identity in the file", path.display()))
        })?;
        return Ok((path, first.public(), false));
    }
    if let Some(parent) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(|e| UserError::write(parent, e))?;
    }
    let (secret, recipient) = keys::generate_x25519();
    let text = Zeroizing::new(format!(
        "# created: {}\n# public key: {recipient}\n{}\n",
        now_rfc3339(),
        secret.expose_secret()
    ));
    // SECURITY: create_new (never overwrites, never follows a planted
    // symlink), mode 0600 from the first byte.
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| UserError::write(&path, e))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| UserError::write(&path, e))?;
    Ok((path, recipient, true))
}

/// Appends the missing ignore lines; how many were added.
fn gitignore(top: &Path) -> Result<usize> {
    let path = top.join(".gitignore");
    let existing = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(UserError::io(&path, e).into()),
    };
    let have: Vec<&str> = existing.lines().map(str::trim).collect();
    let missing: Vec<&str> = IGNORE_LINES
        .into_iter()
        .filter(|l| !have.contains(l))
        .collect();
    if missing.is_empty() {
        return Ok(0);
    }
    let mut new = existing.clone();
    if !new.is_empty() && !new.ends_with('\n') {
        new.push('\n');
    }
    if !have.contains(&IGNORE_MARKER) {
        new.push_str(IGNORE_MARKER);
        new.push('\n');
    }
    for l in &missing {
        new.push_str(l);
        new.push('\n');
    }
    fsio::write_file(&path, new.as_bytes(), WriteMode::Keep(0o644))?;
    Ok(missing.len())
}

/// Runs `init`.
pub fn run(args: &InitArgs) -> Result<()> {
    let top = super::gitcmd::toplevel().map_err(|_| {
        UserError::usage(
            "not inside a git repository: run `git init` first (init sets up a repository)",
        )
    })?;
    let (key_path, recipient, key_created) = identity(args)?;
    let who = format!(
        "{} ({})",
        std::env::var("USER").unwrap_or_else(|_| "you".into()),
        key_path.display()
    );
    // Rules: never replace one (a .sops.yaml is read by botsecrets as it is).
    let rules_path = botsecrets::rules::RULES_FILE_NAMES
        .iter()
        .map(|n| top.join(n))
        .find(|p| p.exists());
    let (rules_path, rules_created) = match rules_path {
        Some(p) => (p, false),
        None => {
            let p = top.join(botsecrets::rules::RULES_FILE_NAMES[0]);
            fsio::create_file(
                &p,
                starter_rules(&recipient, &who).as_bytes(),
                WriteMode::Keep(0o644),
            )?;
            (p, true)
        }
    };
    let ignored = gitignore(&top)?;
    println!("rules: {} ({})", rules_path.display(), said(rules_created));
    println!(
        "identity: {} ({}); recipient {recipient}",
        key_path.display(),
        if key_created {
            "created, mode 0600: back it up, it is the only way to read your secrets"
        } else {
            "reused"
        }
    );
    println!(
        ".gitignore: {}",
        if ignored == 0 {
            "kept (has the lines)".to_owned()
        } else {
            format!("{ignored} line(s) added for plaintext outputs and identities")
        }
    );
    if !rules_created {
        let text = botsecrets::rules::read(&rules_path).unwrap_or_default();
        if !text.contains(&recipient) {
            eprintln!(
                "botsecrets: note: your recipient {recipient} is not in {}; add it to a rule's age: list to read new files",
                rules_path.display()
            );
        }
    }
    // Last: it may stop on a foreign pre-commit hook (exit 211), after the
    // steps above are done; running init again after fixing it is safe.
    super::gitinstall::install(&GitInstallArgs { uninstall: false })?;
    println!("next: put secrets in secrets.yaml (or .env, .json, ...) and run `botsecrets encrypt --in-place secrets.yaml`, or start one with `botsecrets edit secrets.yaml`");
    Ok(())
}
