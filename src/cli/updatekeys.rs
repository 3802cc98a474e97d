//! `botsecrets updatekeys FILE...`: make each file's recipients match its
//! creation rule. The change is shown and confirmed on the terminal
//! (`--yes` for scripts; with neither, nothing is changed). When anyone
//! loses access (a recipient removed, key groups or threshold changed) the
//! data key is rotated, unlike `sops updatekeys`, and the secrets they
//! could read are listed.

use anyhow::{Context, Result};
use botsecrets::keys::Identity;

use super::access::{self, contains, EncryptedFile};
use super::args::UpdatekeysArgs;
use super::{inputs, rules, seal};
use botsecrets::document::OpenOptions;
use botsecrets::metadata::effective_threshold;
use botsecrets::seal::SealPolicy;

/// Runs `updatekeys`.
pub fn run(args: &UpdatekeysArgs) -> Result<()> {
    let mut identities: Option<Vec<Identity>> = None;
    for path in &args.files {
        let file = EncryptedFile::lock(path)?;
        let rule = rules::for_file(path)?;
        let name = file.name();
        let current = file.sealed.groups();
        let target: Vec<Vec<String>> = rule
            .key_groups
            .iter()
            .map(|g| g.iter().map(ToString::to_string).collect())
            .collect();
        let threshold = effective_threshold(target.len(), rule.shamir_threshold);
        let mut lines = Vec::new();
        let mut removed = Vec::new();
        let regroup = current.len() != target.len() || file.sealed.threshold() != threshold;
        if regroup {
            lines.push(format!(
                "  key groups: {} (threshold {}) -> {} (threshold {})",
                current.len(),
                file.sealed.threshold(),
                target.len(),
                threshold
            ));
        }
        let all_target: Vec<String> = target.iter().flatten().cloned().collect();
        for (i, g) in target.iter().enumerate() {
            let before = current.get(i).cloned().unwrap_or_default();
            for r in g {
                if !contains(&before, r) {
                    lines.push(format!("  + {r}{}", group_note(target.len(), i)));
                }
            }
        }
        for (i, g) in current.iter().enumerate() {
            let after = target.get(i).cloned().unwrap_or_default();
            for r in g {
                if !contains(&after, r) {
                    lines.push(format!("  - {r}{}", group_note(current.len(), i)));
                    if !contains(&all_target, r) {
                        removed.push(r.clone());
                    }
                }
            }
        }
        let seal_only = lines.is_empty();
        if seal_only && file.metadata().seal.is_some() {
            eprintln!("botsecrets: {name}: already matches {}", rule.description);
            continue;
        }
        if file.metadata().seal.is_none() {
            // The write seals the file: say what the seal will vouch for.
            lines.push("  + seal (the file has none); it will vouch for:".into());
            let mut after = file.metadata().clone();
            if !seal_only {
                after.key_groups = target
                    .iter()
                    .map(|g| botsecrets::metadata::KeyGroup {
                        age: g
                            .iter()
                            .map(|r| botsecrets::metadata::AgeStanza {
                                recipient: r.clone(),
                                enc: String::new(),
                            })
                            .collect(),
                        foreign: Default::default(),
                    })
                    .collect();
                after.shamir_threshold = threshold;
            }
            for l in seal::describe(&after) {
                lines.push(format!("      {l}"));
            }
            lines.push("      and every key name, kind and clear value as they are now".into());
        }
        let rotate = regroup || lines.iter().any(|l| l.starts_with("  - "));
        eprintln!("botsecrets: {name}: to match {}:", rule.description);
        for l in &lines {
            eprintln!("{l}");
        }
        if rotate {
            eprintln!("  (someone loses access: the data key will be rotated and every value re-encrypted)");
        }
        if !seal::confirm(&name, &format!("Apply to {name}?"), args.yes)? {
            eprintln!("botsecrets: {name}: not changed");
            continue;
        }
        if identities.is_none() {
            identities = Some(inputs::identities(&args.identity.identities)?);
        }
        // updatekeys seals what it writes: a missing seal is what it adds
        // (shown above), a broken one is refused.
        let opened = file
            .sealed
            .open(
                identities.as_deref().unwrap_or_default(),
                &OpenOptions::with_seal(SealPolicy::Warn),
            )
            .with_context(|| name.clone())?;
        if seal_only {
            seal::write_sealed(&file, opened)?;
            eprintln!("botsecrets: {name}: sealed");
            continue;
        }
        let paths = opened.encrypted_paths();
        let comments = opened.encrypted_comments();
        access::rekey_and_write(
            &file,
            opened,
            &rule.key_groups,
            rule.shamir_threshold,
            rotate,
        )?;
        if removed.is_empty() {
            eprintln!(
                "botsecrets: {name}: updated{}",
                if rotate {
                    " and rotated the data key"
                } else {
                    ""
                }
            );
        } else {
            access::print_checklist(&name, &removed, &paths, comments);
        }
    }
    Ok(())
}

fn group_note(groups: usize, i: usize) -> String {
    if groups > 1 {
        format!("  (group {})", i + 1)
    } else {
        String::new()
    }
}
