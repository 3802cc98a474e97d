//! `botsecrets rotate FILE...`: a new data key for each file, every value
//! and comment re-encrypted; the recipients stay as they are.
//!
//! Decision: rotation never changes who can read a file (that is
//! `updatekeys` / `recipients`). It does read the rules, best effort: when
//! the file's recipients differ from its rule, a note says so.

use anyhow::Result;

use botsecrets::access::Plan;

use super::access::{self, EncryptedFile};
use super::args::RotateArgs;
use super::names::Names;
use super::{inputs, rules};

/// Runs `rotate`.
pub fn run(args: &RotateArgs) -> Result<()> {
    let identities = inputs::identities(&args.identity.identities)?;
    for path in &args.files {
        let file = EncryptedFile::lock(path)?;
        let name = file.name();
        let groups = file.sealed.groups();
        let recipients = access::parse_groups(&file, &groups)?;
        let opened = file.open(&identities)?;
        let count = opened.encrypted_paths().len();
        let threshold = file.metadata().shamir_threshold;
        access::apply(&file, opened, &Plan::rotation(), &recipients, threshold)?;
        eprintln!("botsecrets: {name}: rotated the data key; {count} value(s) re-encrypted");
        match rules::for_file(path) {
            Ok(rule) => {
                let target = botsecrets::access::group_strings(&rule.key_groups);
                let plan = Plan::new(&groups, threshold, &target, rule.shamir_threshold);
                // Who, not how many are needed: a threshold alone is no note.
                let differs = !plan.added.is_empty()
                    || !plan.removed.is_empty()
                    || target.len() != groups.len();
                if differs {
                    let names = Names::for_file(path);
                    let drift = botsecrets::access::drift_groups(
                        &groups,
                        threshold,
                        &target,
                        rule.shamir_threshold,
                    );
                    eprintln!(
                        "botsecrets: note: {name}: its recipients differ from {} ({}); run `botsecrets updatekeys {name}` to apply the rule",
                        rule.description,
                        drift.summary(|r| names.show(r))
                    );
                }
            }
            Err(e) => {
                if e.downcast_ref::<botsecrets::rules::RulesError>()
                    .is_some_and(|r| !matches!(r, botsecrets::rules::RulesError::NotFound { .. }))
                {
                    eprintln!("botsecrets: note: {name}: rules not checked: {e}");
                }
            }
        }
    }
    Ok(())
}
