//! `botsecrets recipients list|add|remove`: who can read a file.
//!
//! The change and its plan are the library's ([`botsecrets::access`]):
//! adding re-wraps the existing data key (values keep their ciphertext);
//! removing rotates it, because whoever loses access may have kept the old
//! one. Here: the flags, the messages, and the checklist of every secret a
//! removed recipient could read, to rotate at its provider.

use anyhow::{Context, Result};
use botsecrets::document;

use botsecrets::access::{self, Plan};

use super::access::{self as shared, EncryptedFile};
use super::args::{RecipientsChangeArgs, RecipientsCommand, RecipientsListArgs};
use super::inputs;

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
    let foreign: Vec<(usize, &String, usize)> = file
        .metadata()
        .key_groups
        .iter()
        .enumerate()
        .flat_map(|(i, g)| {
            g.foreign
                .iter()
                .map(move |(kind, keys)| (i, kind, keys.as_array().map_or(1, Vec::len)))
        })
        .collect();
    if args.json {
        let mut doc = serde_json::json!({
            "file": file.name(),
            "groups": groups,
            "threshold": file.sealed.threshold(),
            "foreign": foreign
                .iter()
                .map(|(i, kind, n)| serde_json::json!({"group": i + 1, "kind": kind, "count": n}))
                .collect::<Vec<_>>(),
        });
        // Only files with scopes have the key (the shape of others is as it was).
        let scopes = &file.metadata().scopes;
        if !scopes.is_empty() {
            doc["scopes"] = scopes
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "name": s.name,
                        "paths": s.paths,
                        "readers": s.recipients.iter().map(|r| r.recipient.as_str()).collect::<Vec<_>>(),
                    })
                })
                .collect();
        }
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
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
    for (i, kind, n) in foreign {
        let group = if groups.len() > 1 {
            format!(" in group {}", i + 1)
        } else {
            String::new()
        };
        println!("# also {n} {kind} key(s){group}, not managed by botsecrets");
    }
    // Scope readers read only the scope's paths (they are not owners).
    for scope in &file.metadata().scopes {
        println!(
            "# scope {} ({}), read by:",
            scope.name,
            scope.paths.join(", ")
        );
        for r in &scope.recipients {
            println!("#   {}", r.recipient);
        }
    }
    Ok(())
}

fn add(args: &RecipientsChangeArgs) -> Result<()> {
    let file = EncryptedFile::lock(&args.file)?;
    let name = file.name();
    let new = inputs::recipient_args(&args.recipients)?;
    let current = file.sealed.groups();
    let change = access::add(current.clone(), &new, args.group)
        .map_err(|e| shared::access_error(&name, e))?;
    for r in &change.already {
        eprintln!("botsecrets: {name}: {r} is already a recipient");
    }
    if change.added.is_empty() {
        return Ok(());
    }
    let threshold = file.metadata().shamir_threshold;
    let plan = Plan::new(&current, threshold, &change.groups, threshold);
    let recipients = shared::parse_groups(&file, &change.groups)?;
    let identities = inputs::identities(&args.identity.identities)?;
    let opened = file.open(&identities)?;
    shared::apply(&file, opened, &plan, &recipients, threshold)?;
    eprintln!(
        "botsecrets: {name}: added {} (the data key was re-wrapped; values unchanged)",
        change.added.join(", ")
    );
    Ok(())
}

fn remove(args: &RecipientsChangeArgs) -> Result<()> {
    let file = EncryptedFile::lock(&args.file)?;
    let name = file.name();
    let wanted: Vec<String> = args
        .recipients
        .iter()
        .flat_map(|a| a.split(','))
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    access::chosen_group(file.metadata().key_groups.len(), args.group)
        .map_err(|e| shared::access_error(&name, e))?;
    // SECURITY: a private key given here is refused, never echoed below.
    for r in &wanted {
        if let Some(e) = botsecrets::keys::recipient::private_key(r) {
            return Err(super::inputs::recipient_error("RECIPIENT", e).into());
        }
    }
    let current = file.sealed.groups();
    // A scope reader who is not an owner leaves its scopes only: each of
    // those scopes gets a new key, the file's data key stays.
    let meta = file.metadata();
    let is_owner = |r: &String| {
        meta.recipients()
            .any(|x| botsecrets::keys::same_recipient(x, r))
    };
    let (scopes, revoked) = document::specs_without(meta, &wanted).with_context(|| name.clone())?;
    let owners: Vec<String> = wanted
        .iter()
        .filter(|r| is_owner(r) || !document::is_scope_reader(meta, r))
        .cloned()
        .collect();
    if owners.is_empty() {
        let identities = inputs::identities(&args.identity.identities)?;
        let mut opened = file.open(&identities)?;
        opened.set_scopes(scopes);
        shared::write_sealed(&file, opened)?;
        shared::print_scope_checklist(&file, &revoked);
        warn_if_still_in_rules(&args.file, &name, &wanted);
        return Ok(());
    }
    let groups = access::remove(current.clone(), &owners, args.group)
        .map_err(|e| shared::access_error(&name, e))?;
    let threshold = meta.shamir_threshold;
    let plan = Plan::new(&current, threshold, &groups, threshold);
    let recipients = shared::parse_groups(&file, &groups)?;
    let identities = inputs::identities(&args.identity.identities)?;
    let mut opened = file.open(&identities)?;
    opened.set_scopes(scopes);
    let paths = opened.encrypted_paths();
    let comments = opened.encrypted_comments();
    shared::apply(&file, opened, &plan, &recipients, threshold)?;
    shared::print_checklist(&name, &owners, &paths, comments);
    warn_if_still_in_rules(&args.file, &name, &wanted);
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
            .chain(rule.scopes.iter().flat_map(|s| &s.readers))
            .any(|x| botsecrets::keys::same_recipient(&x.to_string(), r));
        if listed {
            eprintln!(
                "botsecrets: warning: {name}: {r} is still a recipient in its creation rule ({}); remove it there too, or the next `botsecrets updatekeys` adds it back",
                rule.description
            );
        }
    }
}
