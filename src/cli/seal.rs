//! `botsecrets seal FILE...`: seals a file on purpose after showing what
//! the seal will vouch for (what every command checks is the library's;
//! opening with the rules' seal policy is `cli/open.rs`).

use anyhow::{Context, Result};
use botsecrets::document::OpenOptions;
use botsecrets::keys::Identity;
use botsecrets::seal::{SealPolicy, SealStatus};

use super::access::{write_sealed, EncryptedFile};
use super::args::SealArgs;
use super::inputs::{self, confirm};
use super::render::describe;

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
            .map_err(|e| super::open::named(e, Some(&file.path)))
            .with_context(|| name.clone())?;
        if opened.seal_status() == SealStatus::Verified {
            eprintln!("botsecrets: {name}: already sealed (the seal verifies)");
            continue;
        }
        let values = opened.values().len();
        let encrypted = opened.encrypted_paths().len();
        eprintln!("botsecrets: {name}: the seal will vouch for:");
        let names = super::names::Names::for_file(&file.path);
        for l in describe(opened.metadata(), &names) {
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
        // The user vouched for the scopes as listed above: keep them (a
        // write keeps unsealed scopes only when asked to explicitly).
        let (scopes, _) = botsecrets::document::specs_without(opened.metadata(), &[])
            .with_context(|| name.clone())?;
        let mut opened = opened;
        opened.set_scopes(scopes);
        write_sealed(&file, opened)?;
        eprintln!("botsecrets: {name}: {was}");
    }
    Ok(())
}
