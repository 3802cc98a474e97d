//! `botsecrets decrypt`: verify the MAC, then print (or write) the
//! plaintext file or one value of it.

use anyhow::{Context, Result};
use botsecrets::document;
use botsecrets::path::KeyPath;
use zeroize::Zeroizing;

use super::args::DecryptArgs;
use super::report::UserError;
use super::{inputs, output};

/// Runs `decrypt`.
pub fn run(args: &DecryptArgs) -> Result<()> {
    let input = inputs::read_input(&args.input)?;
    let identities = inputs::identities(&args.identity.identities)?;
    let name = input.display_name();
    let extract = args
        .extract
        .as_deref()
        .map(KeyPath::parse)
        .transpose()
        .map_err(|e| UserError::usage(e.to_string()))?;
    let opened = document::open(&input.text, input.format, &identities, args.ignore_mac)
        .with_context(|| name.clone())?;
    for w in &opened.warnings {
        eprintln!("botsecrets: WARNING: {name}: {w}");
    }
    let text = match extract {
        Some(path) => {
            let tree = opened.extract(&path).with_context(|| name.clone())?;
            Zeroizing::new(super::render::value_for_print(tree.expose(), input.format))
        }
        None => opened
            .plaintext(&input.text, input.format)
            .with_context(|| name.clone())?,
    };
    output::emit(&args.output, &input, &text, true)
}
