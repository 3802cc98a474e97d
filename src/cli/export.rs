//! `botsecrets export`: the variables `exec` would set, printed to stdout as
//! dotenv, shell, JSON or a Kubernetes Secret, not to a terminal unless
//! `--force` (secrets in scrollback are a leak); or with `--output FILE`
//! written atomically with mode 0600 (`> file` would make it 0644), and
//! never into a git working tree where git would pick it up.

use std::io::{IsTerminal, Write};

use std::path::Path;

use anyhow::Result;
use botsecrets::export::{self, ExportError, ExportFormat, SecretMeta};

use super::args::{ExportArgs, ExportFormatArg};
use super::inputs;
use super::report::{code, UserError};
use super::secrets::{exec_error, selection, Files};
use super::worktree::{self, Standing};
use botsecrets::fsio::{self, WriteMode};

/// `--output` inside a git working tree must be a path git ignores.
fn check_output(out: &Path) -> Result<()> {
    if let Standing::Tracked { top } = worktree::standing(out) {
        return Err(UserError::with_code(
            code::IN_WORK_TREE,
            format!(
                "refusing to write plaintext secrets to {}: it is inside the git working tree {} and git does not ignore it, so `git add` would commit the secrets",
                out.display(),
                top.display()
            ),
            Some("write it outside the repository (e.g. /dev/shm or $XDG_RUNTIME_DIR), or add the path to .gitignore first"),
        )
        .into());
    }
    Ok(())
}

fn format_of(arg: ExportFormatArg) -> ExportFormat {
    match arg {
        ExportFormatArg::Dotenv => ExportFormat::Dotenv,
        ExportFormatArg::Shell => ExportFormat::Shell,
        ExportFormatArg::Json => ExportFormat::Json,
        ExportFormatArg::K8sSecret => ExportFormat::K8sSecret,
    }
}

fn export_error(e: ExportError) -> anyhow::Error {
    let message = e.to_string();
    let (code, hint) = super::report::classify(&e.into());
    UserError {
        code,
        message,
        hint: hint.map(Into::into),
    }
    .into()
}

/// Runs `export`.
pub fn run(args: &ExportArgs) -> Result<()> {
    let format = format_of(args.format);
    let meta = SecretMeta {
        name: args.name.clone(),
        namespace: args.namespace.clone(),
    };
    // Every flag is checked before anything is decrypted.
    export::check(format, &meta).map_err(export_error)?;
    botsecrets::exec::check_prefix(&args.select.prefix).map_err(exec_error)?;
    if args.files.iter().filter(|f| f.as_os_str() == "-").count() > 1 {
        return Err(UserError::usage("stdin (-) can be read only once").into());
    }
    if let Some(out) = &args.output {
        check_output(out)?;
    }
    let mut stdout = std::io::stdout().lock();
    if args.output.is_none() && stdout.is_terminal() && !args.force {
        return Err(UserError {
            hint: Some(
                "pipe it (`| kubectl apply -f -`, `> /dev/shm/x`), or pass --force to print it here"
                    .into(),
            ),
            ..UserError::usage("refusing to print secrets to a terminal")
        }
        .into());
    }
    let identities = inputs::identities(&args.identity.identities)?;
    let read = Files::read(&args.files, args.input_type.as_deref())?;
    let mut loaded = read.open(&identities)?;
    if let Some(scope) = &args.scope {
        loaded.restrict_to_scope(scope)?;
    }
    let vars = botsecrets::exec::variables(&loaded.sources(), &selection(&args.select, &loaded)?)
        .map_err(exec_error)?;
    let text = zeroize::Zeroizing::new(export::render(&vars, format, &meta).map_err(export_error)?);
    if let Some(out) = &args.output {
        fsio::write_file(out, text.as_bytes(), WriteMode::Private)?;
        return Ok(());
    }
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}
