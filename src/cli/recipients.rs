//! `botsecrets recipients list|add|remove`: who can read a file.
//!
//! Adding re-wraps the existing data key for the new recipients (values
//! keep their ciphertext). Removing ALWAYS rotates the data key: a removed
//! recipient who kept a copy of the old data key must not be able to read
//! what is written from now on. It then prints every secret they could
//! read, as a checklist of API keys to rotate at their providers.

use anyhow::Result;

use super::access::{self, contains, EncryptedFile};
use super::args::{RecipientsChangeArgs, RecipientsCommand, RecipientsListArgs};
use super::inputs;
use super::report::UserError;

/// Runs `recipients ...`.
pub fn run(cmd: &RecipientsCommand) -> Result<()> {
    match cmd {
        RecipientsCommand::List(a) => list(a),
        RecipientsCommand::Add(a) => add(a),
        RecipientsCommand::Remove(a) => remove(a),
    }
}

fn list(args: &RecipientsListArgs) -> Result<()> {
    let file = EncryptedFile::read(&args.file)?;
    let groups = file.sealed.groups();
    if groups.len() <= 1 {
        for r in groups.iter().flatten() {
            println!("{r}");
        }
    } else {
        println!(
            "# {} key groups; any {} of them together can open the file",
            groups.len(),
            file.sealed.threshold()
        );
        for (i, g) in groups.iter().enumerate() {
            println!("group {}:", i + 1);
            for r in g {
                println!("  {r}");
            }
        }
    }
    for (i, g) in file.metadata().key_groups.iter().enumerate() {
        for (kind, keys) in &g.foreign {
            let n = keys.as_array().map_or(1, Vec::len);
            let group = if groups.len() > 1 {
                format!(" in group {}", i + 1)
            } else {
                String::new()
            };
            println!("# also {n} {kind} key(s){group}, not managed by botsecrets");
        }
    }
    Ok(())
}

/// The group a change applies to (0-based), from `--group`.
fn chosen_group(file: &EncryptedFile, group: Option<usize>) -> Result<Option<usize>> {
    let count = file.metadata().key_groups.len();
    match group {
        Some(n) if n == 0 || n > count => Err(UserError::usage(format!(
            "{}: --group {n}: the file has {count} key group(s)",
            file.name()
        ))
        .into()),
        Some(n) => Ok(Some(n - 1)),
        None => Ok(None),
    }
}

fn add(args: &RecipientsChangeArgs) -> Result<()> {
    let file = EncryptedFile::lock(&args.file)?;
    let new = inputs::recipient_args(&args.recipients)?;
    let mut groups = file.sealed.groups();
    let target = match chosen_group(&file, args.group)? {
        Some(i) => i,
        None if groups.len() <= 1 => 0,
        None => {
            return Err(UserError::usage(format!(
                "{}: the file has {} key groups (Shamir); pass --group N to say which one gets the new recipients",
                file.name(),
                groups.len()
            ))
            .into())
        }
    };
    if groups.is_empty() {
        groups.push(Vec::new());
    }
    let mut added = Vec::new();
    for r in &new {
        let text = r.to_string();
        if groups.iter().any(|g| contains(g, &text)) {
            eprintln!("botsecrets: {}: {text} is already a recipient", file.name());
            continue;
        }
        groups[target].push(text.clone());
        added.push(text);
    }
    if added.is_empty() {
        return Ok(());
    }
    let recipients = access::parse_groups(&file, &groups)?;
    let identities = inputs::identities(&args.identity.identities)?;
    let opened = file.open(&identities)?;
    access::rekey_and_write(
        &file,
        opened,
        &recipients,
        file.metadata().shamir_threshold,
        false,
    )?;
    eprintln!(
        "botsecrets: {}: added {} (the data key was re-wrapped; values unchanged)",
        file.name(),
        added.join(", ")
    );
    Ok(())
}

fn remove(args: &RecipientsChangeArgs) -> Result<()> {
    let file = EncryptedFile::lock(&args.file)?;
    let only = chosen_group(&file, args.group)?;
    let mut groups = file.sealed.groups();
    let wanted: Vec<String> = args
        .recipients
        .iter()
        .flat_map(|a| a.split(','))
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    // SECURITY: a private key given here is refused, never echoed below.
    for r in &wanted {
        if let Some(e) = botsecrets::keys::recipient::private_key(r) {
            return Err(super::inputs::recipient_error("RECIPIENT", e).into());
        }
    }
    let mut removed = Vec::new();
    for r in &wanted {
        let mut found = false;
        for (i, g) in groups.iter_mut().enumerate() {
            if only.is_some_and(|o| o != i) {
                continue;
            }
            let before = g.len();
            g.retain(|x| !botsecrets::keys::same_recipient(x, r));
            found |= g.len() != before;
        }
        if !found {
            return Err(UserError::usage(format!(
                "{}: {} is not a recipient{}; see `botsecrets recipients list {}`",
                file.name(),
                botsecrets::keys::recipient::shown(r),
                only.map_or(String::new(), |o| format!(" of group {}", o + 1)),
                file.name()
            ))
            .into());
        }
        removed.push(r.clone());
    }
    if groups.iter().all(Vec::is_empty) {
        return Err(UserError::recipients(format!(
            "{}: removing {} would leave the file with no recipients; add the new recipient first",
            file.name(),
            removed.join(", ")
        ))
        .into());
    }
    if let Some(i) = groups.iter().position(Vec::is_empty) {
        return Err(UserError::recipients(format!(
            "{}: removing {} would leave key group {} empty, and the file could not be opened with the Shamir threshold; add a recipient to that group first",
            file.name(),
            removed.join(", "),
            i + 1
        ))
        .into());
    }
    let recipients = access::parse_groups(&file, &groups)?;
    let identities = inputs::identities(&args.identity.identities)?;
    let opened = file.open(&identities)?;
    let paths = opened.encrypted_paths();
    let comments = opened.encrypted_comments();
    access::rekey_and_write(
        &file,
        opened,
        &recipients,
        file.metadata().shamir_threshold,
        true,
    )?;
    access::print_checklist(&file.name(), &removed, &paths, comments);
    warn_if_still_in_rules(&args.file, &file.name(), &removed);
    Ok(())
}

/// A removed recipient still listed in the file's creation rule would come
/// back with the next `updatekeys`: say so. A missing or unmatched rules
/// file is not an error here.
fn warn_if_still_in_rules(path: &std::path::Path, name: &str, removed: &[String]) {
    let Ok(rule) = super::rules::for_file(path) else {
        return;
    };
    for r in removed {
        let listed = rule
            .key_groups
            .iter()
            .flatten()
            .any(|x| botsecrets::keys::same_recipient(&x.to_string(), r));
        if listed {
            eprintln!(
                "botsecrets: warning: {name}: {r} is still a recipient in its creation rule ({}); remove it there too, or the next `botsecrets updatekeys` adds it back",
                rule.description
            );
        }
    }
}
