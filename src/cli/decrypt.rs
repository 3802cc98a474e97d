//! `botsecrets decrypt`: verify the MAC, then print (or write) the
//! plaintext file or one value of it.

use anyhow::{Context, Result};
use botsecrets::convert;
use botsecrets::document::{DocumentError, Sealed};

use botsecrets::format::FormatKind;
use botsecrets::path::KeyPath;
use zeroize::Zeroizing;

use super::args::DecryptArgs;
use super::report::UserError;
use super::{inputs, output};

/// Runs `decrypt`.
pub fn run(args: &DecryptArgs) -> Result<()> {
    // --in-place replaces the input: it is read under the writers' lock.
    let mut input = if args.output.in_place {
        inputs::read_input_locked(&args.input)?
    } else {
        inputs::read_input(&args.input)?
    };
    let name = input.display_name();
    let extract = args
        .extract
        .as_deref()
        .map(KeyPath::parse)
        .transpose()
        .map_err(|e| UserError::usage(e.to_string()))?;
    let identities = inputs::identities(&args.identity.identities)?;
    // The text moves into the file; `input` keeps its path and lock.
    let file = Sealed::parse(std::mem::take(&mut input.text), input.format)
        .with_context(|| name.clone())?;
    // A scope reader may read its scopes (not replace the file with them).
    let open = if args.output.in_place {
        super::open::open
    } else {
        super::open::open_reading
    };
    let opened = open(
        &file,
        &identities,
        input.path.as_deref(),
        args.ignore_mac,
        &name,
    )?;
    let output_type = args
        .output_type
        .as_deref()
        .map(|t| match FormatKind::from_name(t) {
            Some(k @ (FormatKind::Json | FormatKind::Yaml)) => Ok(k),
            _ => Err(UserError::usage(format!(
                "cannot convert to {t:?}: --output-type takes json or yaml"
            ))),
        })
        .transpose()?;
    let text = match extract {
        Some(path) => {
            let tree = match opened
                .extract(&path)
                .map_err(|e| super::open::named(e, input.path.as_deref()))
            {
                Ok(tree) => tree,
                // A missing key path, with the closest existing ones; only
                // once the file verified (a tampered file is refused as
                // tampered first).
                Err(e @ DocumentError::PathNotFound(_)) => {
                    super::suggest::check_key_path(file.text(), input.format, &path, &name)?;
                    return Err(anyhow::Error::new(e).context(name));
                }
                Err(e) => return Err(anyhow::Error::new(e).context(name)),
            };
            Zeroizing::new(super::render::value_for_print(tree.expose(), input.format))
        }
        None if output_type.is_some_and(|k| k != input.format) => {
            Zeroizing::new(match output_type {
                // One JSON value per document of a YAML stream (sops 3.11
                // prints only the first and drops the rest).
                Some(FormatKind::Json) => opened
                    .to_trees()
                    .iter()
                    .map(|tree| convert::to_json(tree.expose()))
                    .collect(),
                _ => convert::to_yaml(opened.to_tree().expose()),
            })
        }
        None => opened.plaintext().with_context(|| name.clone())?,
    };
    let written = output::emit(&args.output, &input, &text, true);
    // The plaintexts are wiped as they drop; the file itself is not freed
    // (the process ends now, and freeing a large file's parse was 4% of a
    // decrypt). SECURITY: it holds only what is on disk (ciphertexts and
    // values stored in the clear), so nothing secret is left unwiped.
    drop(text);
    drop(opened);
    std::mem::forget(file);
    written
}
