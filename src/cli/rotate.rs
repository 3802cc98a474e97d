//! `botsecrets rotate FILE...`: a new data key for each file, every value
//! and comment re-encrypted; the recipients stay as they are.
//!
//! Decision: rotation never changes who can read a file (that is
//! `updatekeys` / `recipients`). It does read the rules, best effort: when
//! the file's recipients differ from its rule, a note says so.

use anyhow::Result;

use super::access::{self, contains, EncryptedFile};
use super::args::RotateArgs;
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
        access::rekey_and_write(
            &file,
            opened,
            &recipients,
            file.metadata().shamir_threshold,
            true,
        )?;
        eprintln!("botsecrets: {name}: rotated the data key; {count} value(s) re-encrypted");
        match rules::for_file(path) {
            Ok(rule) => {
                let target: Vec<Vec<String>> = rule
                    .key_groups
                    .iter()
                    .map(|g| g.iter().map(ToString::to_string).collect())
                    .collect();
                let same = target.len() == groups.len()
                    && target
                        .iter()
                        .zip(&groups)
                        .all(|(t, g)| t.len() == g.len() && t.iter().all(|r| contains(g, r)));
                if !same {
                    eprintln!(
                        "botsecrets: note: {name}: its recipients differ from {}; run `botsecrets updatekeys {name}` to apply the rule",
                        rule.description
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
