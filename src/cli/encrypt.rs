//! `botsecrets encrypt`: value-encrypt a plaintext file for its recipients.

use anyhow::{Context, Result};
use botsecrets::document::{self, EncryptOptions};
use botsecrets::metadata::{now_rfc3339, Selection};

use super::args::EncryptArgs;
use super::report::UserError;
use super::{inputs, output};

/// The selection rule the flags ask for (default: `_unencrypted` suffix).
fn selection(args: &EncryptArgs) -> Result<Selection> {
    let chosen = [
        ("unencrypted_suffix", &args.unencrypted_suffix),
        ("encrypted_suffix", &args.encrypted_suffix),
        ("unencrypted_regex", &args.unencrypted_regex),
        ("encrypted_regex", &args.encrypted_regex),
    ]
    .into_iter()
    .find_map(|(field, v)| v.as_ref().map(|v| (field, v)));
    match chosen {
        None => Ok(Selection::default()),
        Some((field, value)) => {
            Selection::from_field(field, value).map_err(|e| UserError::usage(e.to_string()).into())
        }
    }
}

/// Runs `encrypt`.
pub fn run(args: &EncryptArgs) -> Result<()> {
    let input = inputs::read_input(&args.input)?;
    let recipients = inputs::recipients(&args.age)?;
    let opts = EncryptOptions {
        recipients: &recipients,
        selection: selection(args)?,
        mac_only_encrypted: args.mac_only_encrypted,
        expand_aliases: args.expand_aliases,
        now: now_rfc3339(),
    };
    let name = input.display_name();
    let encrypted =
        document::encrypt(&input.text, input.format, &opts).with_context(|| name.clone())?;
    for w in &encrypted.warnings {
        eprintln!("botsecrets: warning: {name}: {w}");
    }
    output::emit(&args.output, &input, &encrypted.text, false)
}
