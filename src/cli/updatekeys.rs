//! `botsecrets updatekeys FILE...`: make each file's recipients match its
//! creation rule.
//!
//! The plan of each file is the library's ([`botsecrets::access::Plan`]):
//! who is added and removed, and whether the data key is rotated (whenever
//! anyone loses access, unlike `sops updatekeys`). Here every plan is
//! shown, then confirmed on the terminal (`--yes` for scripts); with
//! neither, every plan is printed and nothing is changed (exit 209).
//! `--dry-run` prints the plans (`--json` for machines) and changes
//! nothing. A file that cannot be read or has no rule is reported, and the
//! other files still get their plan.

use anyhow::{Context, Result};
use botsecrets::access::{Member, Plan};
use botsecrets::document::{OpenOptions, ScopeDrift};
use botsecrets::keys::Identity;
use botsecrets::metadata::{effective_threshold, AgeStanza, KeyGroup};
use botsecrets::seal::SealPolicy;

use super::access::{self, EncryptedFile};
use super::args::UpdatekeysArgs;
use super::names::Names;
use super::report::{code, UserError};
use super::rules::Chosen;
use super::{inputs, render, report, rules};

/// One file and what would change.
struct Planned {
    file: EncryptedFile,
    /// The rules file's names, for every recipient shown.
    names: Names,
    rule: Chosen,
    plan: Plan,
    /// The lines that show the plan (stderr, or JSON's `lines`).
    lines: Vec<String>,
    /// How the file's scopes differ from the rule's.
    scopes: Vec<ScopeDrift>,
}

impl Planned {
    /// Whether the write would only add a seal.
    fn seal_only(&self) -> bool {
        !self.plan.changes_access()
    }

    /// Whether there is nothing to do.
    fn up_to_date(&self) -> bool {
        self.seal_only() && self.file.sealed.is_sealed() && self.scopes.is_empty()
    }

    /// Per scope, the readers the rule removes from it.
    fn revoked_readers(&self) -> Vec<(&str, &[String])> {
        self.scopes
            .iter()
            .filter_map(|d| match d {
                ScopeDrift::Readers(name, _, removed) if !removed.is_empty() => {
                    Some((name.as_str(), removed.as_slice()))
                }
                _ => None,
            })
            .collect()
    }
}

/// Runs `updatekeys`.
pub fn run(args: &UpdatekeysArgs) -> Result<()> {
    // Every file is planned first, each under its lock (held until it is
    // written), so a file that fails does not hide the others' plans.
    let mut planned = Vec::new();
    let mut failed: Vec<anyhow::Error> = Vec::new();
    for path in &args.files {
        match plan_file(path) {
            Ok(p) => planned.push(p),
            Err(e) => failed.push(e),
        }
    }
    if args.check {
        return check(&planned, failed);
    }
    let can_ask = args.yes || inputs::has_tty();
    // On a terminal each plan is shown right before its question.
    let interactive = can_ask && !args.yes && !args.dry_run;
    if args.json {
        print_json(&planned, &failed)?;
    } else if !interactive {
        for p in &planned {
            show(p);
        }
    }
    if args.dry_run || !can_ask {
        let pending: Vec<String> = planned
            .iter()
            .filter(|p| !p.up_to_date())
            .map(|p| p.file.name())
            .collect();
        let last = failed.pop();
        for e in failed {
            report::print(e);
        }
        if let Some(e) = last {
            if !pending.is_empty() && !args.dry_run {
                report::print(e);
            } else {
                return Err(e);
            }
        }
        if args.dry_run || pending.is_empty() {
            return Ok(());
        }
        return Err(UserError {
            code: code::NOT_CONFIRMED,
            message: format!(
                "{}: not changed: confirmation needed and there is no terminal to ask on",
                pending.join(", ")
            ),
            hint: Some("review the change above, then run again with --yes".into()),
        }
        .into());
    }
    let mut identities: Option<Vec<Identity>> = None;
    let (mut changed, mut to_rotate) = (0, 0);
    for p in planned {
        if interactive {
            show(&p);
        }
        if p.up_to_date() {
            continue;
        }
        let name = p.file.name();
        if !inputs::confirm(&name, &format!("Apply to {name}?"), args.yes)? {
            eprintln!("botsecrets: {name}: not changed");
            continue;
        }
        if identities.is_none() {
            identities = Some(inputs::identities(&args.identity.identities)?);
        }
        match apply(&p, identities.as_deref().unwrap_or_default(), !args.json) {
            Ok(n) => {
                changed += 1;
                to_rotate += n;
            }
            Err(e) => failed.push(e),
        }
    }
    if changed > 0 {
        eprintln!(
            "botsecrets: updatekeys: {changed} file(s) updated, {to_rotate} secret(s) to rotate at their providers"
        );
    }
    let last = failed.pop();
    for e in failed {
        report::print(e);
    }
    last.map_or(Ok(()), Err)
}

/// `--check`: every plan shown, nothing written; exit 223 when any file's
/// recipients differ from its rule (a missing seal alone is not drift:
/// `check` reports it), else the last file that could not be planned.
fn check(planned: &[Planned], mut failed: Vec<anyhow::Error>) -> Result<()> {
    for p in planned {
        show(p);
    }
    let drifted: Vec<String> = planned
        .iter()
        .filter(|p| p.plan.changes_access())
        .map(|p| p.file.name())
        .collect();
    let last = failed.pop();
    if !drifted.is_empty() {
        for e in failed.into_iter().chain(last) {
            report::print(e);
        }
        return Err(UserError {
            code: code::DRIFT,
            message: format!(
                "{}: the recipients differ from the rules (drift); nothing was changed",
                drifted.join(", ")
            ),
            hint: Some("review the plans above, then run `botsecrets updatekeys` on these files (or change the rules)".into()),
        }
        .into());
    }
    for e in failed {
        report::print(e);
    }
    if let Some(e) = last {
        return Err(e);
    }
    eprintln!(
        "botsecrets: updatekeys --check: {} file(s) match their rules",
        planned.len()
    );
    Ok(())
}

/// Reads `path` under the lock and plans it against its rule.
fn plan_file(path: &std::path::Path) -> Result<Planned> {
    let file = EncryptedFile::lock(path)?;
    let rule = rules::for_file(path)?;
    let names = Names::for_file(path);
    let target = botsecrets::access::group_strings(&rule.key_groups);
    let plan = Plan::new(
        &file.sealed.groups(),
        file.metadata().shamir_threshold,
        &target,
        rule.shamir_threshold,
    );
    let mut lines = Vec::new();
    if let Some(r) = plan.regrouped {
        lines.push(format!(
            "  key groups: {} (threshold {}) -> {} (threshold {})",
            r.from_groups, r.from_threshold, r.to_groups, r.to_threshold
        ));
    }
    let groups_after = target.len();
    let groups_before = file.metadata().key_groups.len();
    for m in &plan.added {
        lines.push(format!(
            "  + {}{}",
            names.show(&m.recipient),
            group_note(groups_after, m)
        ));
    }
    for m in &plan.removed {
        lines.push(format!(
            "  - {}{}",
            names.show(&m.recipient),
            group_note(groups_before, m)
        ));
    }
    if !file.sealed.is_sealed() {
        // The write seals the file: say what the seal will vouch for.
        lines.push("  + seal (the file has none); it will vouch for:".into());
        let mut after = file.metadata().clone();
        if plan.changes_access() {
            after.key_groups = target
                .iter()
                .map(|g| KeyGroup {
                    age: g
                        .iter()
                        .map(|r| AgeStanza {
                            recipient: r.clone(),
                            enc: String::new(),
                        })
                        .collect(),
                    foreign: Default::default(),
                })
                .collect();
            after.shamir_threshold = effective_threshold(target.len(), rule.shamir_threshold);
        }
        for l in render::describe(&after, &names) {
            lines.push(format!("      {l}"));
        }
        lines.push("      and every key name, kind and clear value as they are now".into());
    }
    let scopes = botsecrets::document::scope_drift(file.metadata(), &rule.scopes);
    for d in &scopes {
        lines.push(format!("  scopes: {d}"));
    }
    Ok(Planned {
        file,
        names,
        rule,
        plan,
        lines,
        scopes,
    })
}

/// Prints a file's plan on stderr.
fn show(p: &Planned) {
    let name = p.file.name();
    if p.up_to_date() {
        eprintln!("botsecrets: {name}: already matches {}", p.rule.description);
        return;
    }
    eprintln!("botsecrets: {name}: to match {}:", p.rule.description);
    for l in &p.lines {
        eprintln!("{l}");
    }
    if p.plan.rotate {
        eprintln!(
            "  (someone loses access: the data key will be rotated and every value re-encrypted)"
        );
    }
}

/// Prints every plan (and every file that could not be planned) as JSON.
fn print_json(planned: &[Planned], failed: &[anyhow::Error]) -> Result<()> {
    let mut files: Vec<serde_json::Value> = planned
        .iter()
        .map(|p| {
            let member = |m: &Member| {
                serde_json::json!({
                    "recipient": m.recipient,
                    "name": p.names.name(&m.recipient),
                    "group": m.group + 1,
                })
            };
            serde_json::json!({
                "file": p.file.name(),
                "rule": p.rule.description,
                "up_to_date": p.up_to_date(),
                "added": p.plan.added.iter().map(member).collect::<Vec<_>>(),
                "removed": p.plan.removed.iter().map(member).collect::<Vec<_>>(),
                "lose_access": p.plan.lost,
                // What the recipients losing access could read: every
                // encrypted value (paths are public; read without a key).
                "secrets_to_rotate": if p.plan.lost.is_empty() {
                    Vec::new()
                } else {
                    p.file.sealed.secret_paths().iter().map(ToString::to_string).collect::<Vec<_>>()
                },
                "regrouped": p.plan.regrouped.map(|r| serde_json::json!({
                    "from_groups": r.from_groups,
                    "from_threshold": r.from_threshold,
                    "to_groups": r.to_groups,
                    "to_threshold": r.to_threshold,
                })),
                "rotate": p.plan.rotate,
                "adds_seal": !p.file.sealed.is_sealed(),
                "scopes": p.scopes.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "scope_revocations": p.revoked_readers().iter().map(|(scope, readers)| serde_json::json!({
                    "scope": scope,
                    "removed": readers,
                    "secrets": p.file.sealed.scope_secret_paths(scope).iter().map(ToString::to_string).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    files.extend(
        failed
            .iter()
            .map(|e| serde_json::json!({ "error": format!("{e:#}") })),
    );
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({ "files": files }))?
    );
    Ok(())
}

/// Opens a confirmed file and writes its plan.
fn apply(p: &Planned, identities: &[Identity], list: bool) -> Result<usize> {
    let name = p.file.name();
    // updatekeys seals what it writes: a missing seal is what it adds
    // (shown above), a broken one is refused.
    let mut opened = p
        .file
        .sealed
        .open(identities, &OpenOptions::with_seal(SealPolicy::Warn))
        .map_err(|e| super::open::named(e, Some(&p.file.path)))
        .with_context(|| name.clone())?;
    // The rule's scopes are written (restored after a sops rewrite, or
    // changed with the rule): a scope that loses a reader gets a new key.
    opened.set_scopes(p.rule.scopes.clone());
    if p.seal_only() {
        access::write_sealed(&p.file, opened)?;
        if p.scopes.is_empty() {
            eprintln!("botsecrets: {name}: sealed");
        } else {
            eprintln!("botsecrets: {name}: scopes updated to match its rule");
        }
        return Ok(scope_checklist(p, list));
    }
    let paths = opened.encrypted_paths();
    let comments = opened.encrypted_comments();
    access::apply(
        &p.file,
        opened,
        &p.plan,
        &p.rule.key_groups,
        p.rule.shamir_threshold,
    )?;
    let mut to_rotate = 0;
    if p.plan.lost.is_empty() {
        eprintln!(
            "botsecrets: {name}: updated{}",
            if p.plan.rotate {
                " and rotated the data key"
            } else {
                ""
            }
        );
    } else {
        to_rotate += access::print_checklist(
            &name,
            &p.names.show_each(&p.plan.lost),
            &paths,
            comments,
            list,
        );
    }
    Ok(to_rotate + scope_checklist(p, list))
}

/// The checklist of a scope reader's revocation (see
/// [`access::print_scope_checklist`]).
fn scope_checklist(p: &Planned, list: bool) -> usize {
    let revoked: Vec<(String, Vec<String>)> = p
        .revoked_readers()
        .into_iter()
        .map(|(s, r)| (s.to_owned(), r.to_vec()))
        .collect();
    access::print_scope_checklist(&p.file, &p.names, &revoked, list)
}

fn group_note(groups: usize, m: &Member) -> String {
    if groups > 1 {
        format!("  (group {})", m.group + 1)
    } else {
        String::new()
    }
}
