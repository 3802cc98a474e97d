//! `botsecrets updatekeys FILE...`: make each file's recipients match its
//! creation rule. The change is shown and confirmed on the terminal
//! (`--yes` for scripts; with neither, nothing is changed). When anyone
//! loses access (a recipient removed, key groups or threshold changed) the
//! data key is rotated, unlike `sops updatekeys`, and the secrets they
//! could read are listed.

use anyhow::Result;
use botsecrets::keys::Identity;

use super::access::{self, contains, effective_threshold, EncryptedFile};
use super::args::UpdatekeysArgs;
use super::report::{code, UserError};
use super::{inputs, rules};

/// Runs `updatekeys`.
pub fn run(args: &UpdatekeysArgs) -> Result<()> {
    let mut identities: Option<Vec<Identity>> = None;
    for path in &args.files {
        let file = EncryptedFile::lock(path)?;
        let rule = rules::for_file(path)?;
        let name = file.name();
        let current = file.groups();
        let target: Vec<Vec<String>> = rule
            .key_groups
            .iter()
            .map(|g| g.iter().map(ToString::to_string).collect())
            .collect();
        let threshold = effective_threshold(target.len(), rule.shamir_threshold);
        let mut lines = Vec::new();
        let mut removed = Vec::new();
        let regroup = current.len() != target.len() || file.threshold() != threshold;
        if regroup {
            lines.push(format!(
                "  key groups: {} (threshold {}) -> {} (threshold {})",
                current.len(),
                file.threshold(),
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
        if lines.is_empty() {
            eprintln!("botsecrets: {name}: already matches {}", rule.description);
            continue;
        }
        let rotate = regroup || lines.iter().any(|l| l.starts_with("  - "));
        eprintln!("botsecrets: {name}: to match {}:", rule.description);
        for l in &lines {
            eprintln!("{l}");
        }
        if rotate {
            eprintln!("  (someone loses access: the data key will be rotated and every value re-encrypted)");
        }
        if !args.yes {
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
            let answer = inputs::ask_line(&format!("Apply to {name}? [y/N] ")).unwrap_or_default();
            if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
                eprintln!("botsecrets: {name}: not changed");
                continue;
            }
        }
        if identities.is_none() {
            identities = Some(inputs::identities(&args.identity.identities)?);
        }
        let opened = file.open(identities.as_deref().unwrap_or_default())?;
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
