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
use super::names::Names;

/// Runs `recipients ...`.
pub fn run(cmd: &RecipientsCommand) -> Result<()> {
    match cmd {
        RecipientsCommand::List(a) => list(a),
        RecipientsCommand::Add(a) => add(a),
        RecipientsCommand::Remove(a) => remove(a),
    }
}

fn list(args: &RecipientsListArgs) -> Result<()> {
    let mut docs = Vec::new();
    let several = args.files.len() > 1;
    for path in &args.files {
        let file = EncryptedFile::read(path)?;
        let names = Names::for_file(path);
        if args.json {
            docs.push(list_json(&file, &names));
            continue;
        }
        if several {
            println!("{}:", file.name());
        }
        let indent = if several { "  " } else { "" };
        for line in list_lines(&file, &names) {
            println!("{indent}{line}");
        }
    }
    if args.json {
        // One file: its object (as before); several: `{"files": [...]}`.
        let doc = if several {
            serde_json::json!({ "files": docs })
        } else {
            docs.pop().unwrap_or_default()
        };
        println!("{}", serde_json::to_string_pretty(&doc)?);
    }
    Ok(())
}

/// The key types of each group botsecrets does not manage: (group, kind,
/// how many).
fn foreign(file: &EncryptedFile) -> Vec<(usize, &String, usize)> {
    file.metadata()
        .key_groups
        .iter()
        .enumerate()
        .flat_map(|(i, g)| {
            g.foreign
                .iter()
                .map(move |(kind, keys)| (i, kind, keys.as_array().map_or(1, Vec::len)))
        })
        .collect()
}

/// A file's owners for `--json`: the groups as written, and each owner
/// with its name.
fn list_json(file: &EncryptedFile, names: &Names) -> serde_json::Value {
    let groups = file.sealed.groups();
    let owners: Vec<serde_json::Value> = groups
        .iter()
        .enumerate()
        .flat_map(|(i, g)| {
            g.iter().map(
                move |r| serde_json::json!({"recipient": r, "name": names.name(r), "group": i + 1}),
            )
        })
        .collect();
    let mut doc = serde_json::json!({
        "file": file.name(),
        "groups": groups,
        "owners": owners,
        "threshold": file.sealed.threshold(),
        "foreign": foreign(file)
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
                    "readers": s.recipients.iter().map(|r| serde_json::json!({
                        "recipient": r.recipient,
                        "name": names.name(&r.recipient),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
    }
    doc
}

/// A file's owners as text: one per line, by name where the rules name
/// them (`bob (age1...)`), grouped when the file has several key groups.
fn list_lines(file: &EncryptedFile, names: &Names) -> Vec<String> {
    let groups = file.sealed.groups();
    let mut out = Vec::new();
    if groups.len() <= 1 {
        out.extend(groups.iter().flatten().map(|r| names.listed(r)));
    } else {
        out.push(format!(
            "# {} key groups; any {} of them together can open the file",
            groups.len(),
            file.sealed.threshold()
        ));
        for (i, g) in groups.iter().enumerate() {
            out.push(format!("group {}:", i + 1));
            out.extend(g.iter().map(|r| format!("  {}", names.listed(r))));
        }
    }
    for (i, kind, n) in foreign(file) {
        let group = if groups.len() > 1 {
            format!(" in group {}", i + 1)
        } else {
            String::new()
        };
        out.push(format!(
            "# also {n} {kind} key(s){group}, not managed by botsecrets"
        ));
    }
    // Scope readers read only the scope's paths (they are not owners).
    for scope in &file.metadata().scopes {
        out.push(format!(
            "# scope {} ({}), read by:",
            scope.name,
            scope.paths.join(", ")
        ));
        out.extend(
            scope
                .recipients
                .iter()
                .map(|r| format!("#   {}", names.listed(&r.recipient))),
        );
    }
    out
}

fn add(args: &RecipientsChangeArgs) -> Result<()> {
    let file = EncryptedFile::lock(&args.file)?;
    let name = file.name();
    let names = Names::for_file(&args.file);
    let new = names.recipients("RECIPIENT", &args.recipients)?;
    let current = file.sealed.groups();
    let change = access::add(current.clone(), &new, args.group)
        .map_err(|e| shared::access_error(&name, e))?;
    for r in &change.already {
        eprintln!(
            "botsecrets: {name}: {} is already a recipient",
            names.show(r)
        );
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
        names.show_all(&change.added)
    );
    Ok(())
}

fn remove(args: &RecipientsChangeArgs) -> Result<()> {
    let file = EncryptedFile::lock(&args.file)?;
    let name = file.name();
    let names = Names::for_file(&args.file);
    access::chosen_group(file.metadata().key_groups.len(), args.group)
        .map_err(|e| shared::access_error(&name, e))?;
    // Names and groups of the rules file stand for their keys; raw
    // recipients stay as written (a file's odd one must still be removable).
    // SECURITY: a private key given here is refused, never echoed below.
    let wanted = names.recipient_strings(&args.recipients)?;
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
    // An owner's removal is planned (and a non-recipient refused) before
    // an identity is asked for.
    let owner_change = if owners.is_empty() {
        None
    } else {
        let groups = access::remove(current.clone(), &owners, args.group)
            .map_err(|e| shared::access_error(&name, e))?;
        let threshold = meta.shamir_threshold;
        let plan = Plan::new(&current, threshold, &groups, threshold);
        Some((plan, shared::parse_groups(&file, &groups)?, threshold))
    };
    let identities = inputs::identities(&args.identity.identities)?;
    let mut opened = file.open(&identities)?;
    // The scopes kept are the file's own: only a sealed file's count.
    opened
        .require_sealed_scopes()
        .with_context(|| name.clone())?;
    opened.set_scopes(scopes);
    match owner_change {
        None => {
            shared::write_sealed(&file, opened)?;
            shared::print_scope_checklist(&file, &names, &revoked, true);
        }
        Some((plan, recipients, threshold)) => {
            let paths = opened.encrypted_paths();
            let comments = opened.encrypted_comments();
            shared::apply(&file, opened, &plan, &recipients, threshold)?;
            shared::print_checklist(&name, &names.show_each(&owners), &paths, comments, true);
        }
    }
    warn_if_still_in_rules(&args.file, &name, &wanted, &names);
    Ok(())
}

/// A removed recipient still listed in the file's creation rule would come
/// back with the next `updatekeys`: say so. A missing or unmatched rules
/// file is not an error here.
fn warn_if_still_in_rules(path: &std::path::Path, name: &str, removed: &[String], names: &Names) {
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
                "botsecrets: warning: {name}: {} is still a recipient in its creation rule ({}); remove it there too, or the next `botsecrets updatekeys` adds it back",
                names.show(r),
                rule.description
            );
        }
    }
}
