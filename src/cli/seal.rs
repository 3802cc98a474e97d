//! The seal in the CLI: the one way every command opens an encrypted file
//! (policy from the rules file, warnings printed once), the confirmation
//! shared by `seal` and `updatekeys`, and `botsecrets seal FILE...`, which
//! seals a file on purpose after showing what the seal will vouch for.

use std::path::Path;

use anyhow::{Context, Result};
use botsecrets::document::{OpenOptions, Opened, Sealed, Warning};
use botsecrets::keys::Identity;
use botsecrets::metadata::{effective_threshold, now_rfc3339, Metadata};
use botsecrets::seal::{SealPolicy, SealStatus};

use super::access::EncryptedFile;
use super::args::SealArgs;
use super::report::{code, UserError};
use super::{inputs, rules};

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
            _ => eprintln!("botsecrets: WARNING: {name}: {w}"),
        }
    }
}

/// Asks "Apply to NAME?" on the terminal unless `yes`; `Ok(false)` when
/// the user says no, an error (exit 209) when there is no terminal.
pub fn confirm(name: &str, question: &str, yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    if !inputs::has_tty() {
        return Err(UserError {
            code: code::NOT_CONFIRMED,
            message: format!(
                "{name}: not changed: confirmation needed and there is no terminal to ask on"
            ),
            hint: Some("review the change above, then run again with --yes".into()),
        }
        .into());
    }
    let answer = inputs::ask_line(&format!("{question} [y/N] ")).unwrap_or_default();
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// The lines that say what a seal of `meta` vouches for (also the textconv
/// summary's body): recipients per group, threshold, selection rule, MAC
/// mode.
pub fn describe(meta: &Metadata) -> Vec<String> {
    let mut lines = Vec::new();
    let groups = meta.key_groups.len();
    for (i, g) in meta.key_groups.iter().enumerate() {
        let group = if groups > 1 {
            format!(" (group {})", i + 1)
        } else {
            String::new()
        };
        for s in &g.age {
            lines.push(format!("recipient: {}{group}", s.recipient));
        }
        for (kind, entries) in &g.foreign {
            for id in foreign_names(entries) {
                lines.push(format!("recipient: {kind} {id}{group}"));
            }
        }
    }
    let threshold = effective_threshold(groups, meta.shamir_threshold);
    if threshold > 0 {
        lines.push(format!("threshold: {threshold} of {groups} key groups"));
    }
    let (option, value) = meta.selection.field();
    lines.push(format!("selection: {option}: {value}"));
    lines.push(format!(
        "mac: {}",
        if meta.mac_only_encrypted {
            "encrypted values only (mac_only_encrypted)"
        } else {
            "all values"
        }
    ));
    lines
}

/// A short public name for each foreign key entry (pgp `fp`, kms `arn`...).
fn foreign_names(entries: &serde_json::Value) -> Vec<String> {
    let items: Vec<&serde_json::Value> = match entries {
        serde_json::Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    items
        .into_iter()
        .map(|e| {
            for k in [
                "fp",
                "arn",
                "resource_id",
                "vault_url",
                "vault_address",
                "key_id",
            ] {
                if let Some(v) = e.get(k).and_then(|v| v.as_str()) {
                    return v.to_owned();
                }
            }
            "(entry)".to_owned()
        })
        .collect()
}

/// Writes `opened` back as it is, sealed: the same data key, recipients
/// and wrapped keys, every value keeping its ciphertext (the diff is the
/// seal, `lastmodified` and `mac`).
pub fn write_sealed(file: &EncryptedFile, opened: Opened<'_>) -> Result<()> {
    let plain = opened.plaintext().with_context(|| file.name())?;
    let text = opened
        .reencrypt(&plain, &now_rfc3339())
        .with_context(|| file.name())?;
    file.write(&text)
}

/// Runs `seal`.
pub fn run(args: &SealArgs) -> Result<()> {
    let mut identities: Option<Vec<Identity>> = None;
    for path in &args.files {
        let file = EncryptedFile::lock(path)?;
        let name = file.name();
        let was = if file.sealed.is_sealed() {
            "re-sealed"
        } else {
            "sealed"
        };
        if identities.is_none() {
            identities = Some(inputs::identities(&args.identity.identities)?);
        }
        let ids = identities.as_deref().unwrap_or_default();
        // The seal is what this command adds: a missing one is expected
        // (no warning), a broken one is refused like everywhere else.
        let opened = file
            .sealed
            .open(ids, &OpenOptions::with_seal(SealPolicy::Warn))
            .with_context(|| name.clone())?;
        if opened.seal_status() == SealStatus::Verified {
            eprintln!("botsecrets: {name}: already sealed (the seal verifies)");
            continue;
        }
        let values = opened.values().len();
        let encrypted = opened.encrypted_paths().len();
        eprintln!("botsecrets: {name}: the seal will vouch for:");
        for l in describe(opened.metadata()) {
            eprintln!("  {l}");
        }
        eprintln!(
            "  values: {values} ({encrypted} encrypted, {} clear), with their key names and kinds as they are now",
            values.saturating_sub(encrypted)
        );
        eprintln!(
            "  (check the file's history first, e.g. `git log -p --no-textconv {name}`: anything changed without the key is vouched for from now on)"
        );
        if !confirm(&name, &format!("Seal {name}?"), args.yes)? {
            eprintln!("botsecrets: {name}: not changed");
            continue;
        }
        write_sealed(&file, opened)?;
        eprintln!("botsecrets: {name}: {was}");
    }
    Ok(())
}
