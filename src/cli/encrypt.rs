//! `botsecrets encrypt`: value-encrypt a plaintext file for its recipients:
//! `--age` (or BOTSECRETS_AGE_RECIPIENTS / SOPS_AGE_RECIPIENTS), else the
//! matching rule of the rules file found above the file.

use anyhow::{Context, Result};
use botsecrets::document::{self, EncryptOptions};
use botsecrets::metadata::{now_rfc3339, MetadataError, Selection};

use super::args::EncryptArgs;
use super::report::UserError;
use super::{inputs, output, rules};

/// The selection rule the flags ask for, if any.
fn selection(args: &EncryptArgs) -> Result<Option<Selection>> {
    let chosen = [
        ("unencrypted_suffix", &args.unencrypted_suffix),
        ("encrypted_suffix", &args.encrypted_suffix),
        ("unencrypted_regex", &args.unencrypted_regex),
        ("encrypted_regex", &args.encrypted_regex),
        ("unencrypted_comment_regex", &args.unencrypted_comment_regex),
        ("encrypted_comment_regex", &args.encrypted_comment_regex),
    ]
    .into_iter()
    .find_map(|(field, v)| v.as_ref().map(|v| (field, v)));
    chosen
        .map(|(field, value)| {
            // The value came from a flag: name the flag, not the
            // metadata field it will become.
            Selection::from_field(field, value).map_err(|e| {
                let reason = match e {
                    MetadataError::Invalid { reason, .. } => reason,
                    other => other.to_string(),
                };
                UserError::usage(format!("--{}: {reason}", field.replace('_', "-"))).into()
            })
        })
        .transpose()
}

/// Runs `encrypt`.
pub fn run(args: &EncryptArgs) -> Result<()> {
    // --in-place replaces the input: it is read under the writers' lock.
    let input = if args.output.in_place {
        inputs::read_input_locked(&args.input)?
    } else {
        inputs::read_input(&args.input)?
    };
    let name = input.display_name();
    let flag_selection = selection(args)?;
    let mut opts = EncryptOptions {
        recipients: &[],
        selection: flag_selection.clone().unwrap_or_default(),
        mac_only_encrypted: args.mac_only_encrypted,
        expand_aliases: args.expand_aliases,
        now: now_rfc3339(),
    };
    // The rule (and the names of `--age bob`) are those of the file being
    // written: --output if given, else the input.
    let written = args.output.output.as_ref().or(input.path.as_ref());
    let (groups, threshold, scopes) = match inputs::recipients_if_given(
        &args.age,
        written.map(|p| p.as_path()),
    )? {
        Some(recipients) => (vec![recipients], 0, Vec::new()),
        None => {
            let target = written.ok_or_else(|| {
                UserError::recipients(
                    "no recipients: pass --age age1... (a rules file is looked up from a file's path, and stdin has none)".to_owned(),
                )
            })?;
            let rule = rules::for_file(target).map_err(|e| {
                match e.downcast_ref::<botsecrets::rules::RulesError>() {
                    Some(botsecrets::rules::RulesError::NotFound { .. }) => UserError::recipients(format!(
                        "no recipients: pass --age age1... (or set BOTSECRETS_AGE_RECIPIENTS), or create a rules file: {e}"
                    ))
                    .into(),
                    _ => e,
                }
            })?;
            if flag_selection.is_none() {
                if let Some(s) = rule.selection {
                    opts.selection = s;
                }
            }
            opts.mac_only_encrypted |= rule.mac_only_encrypted;
            (rule.key_groups, rule.shamir_threshold, rule.scopes)
        }
    };
    let encrypted = document::encrypt_scoped(
        &input.text,
        input.format,
        &opts,
        &groups,
        threshold,
        &scopes,
    )
    .with_context(|| name.clone())?;
    for w in &encrypted.warnings {
        eprintln!(
            "botsecrets: warning: {name}: {}",
            super::report::warning_text(w)
        );
    }
    output::emit(&args.output, &input, &encrypted.text, false)?;
    let written = if args.output.in_place {
        input.path.as_ref()
    } else {
        args.output.output.as_ref()
    };
    if let Some(path) = written {
        super::gitattr::after_write(path);
    }
    Ok(())
}
