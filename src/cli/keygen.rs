//! `botsecrets keygen`: a new age X25519 identity, written like age-keygen
//! does (`# created`, `# public key` comments, then the key), to a new file
//! of mode 0600 or to stdout; with `-y`, the recipients of an existing
//! identity file. Writing an identity inside a git working tree gets a
//! warning: a private key must never be committed.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use age::secrecy::ExposeSecret;
use anyhow::Result;
use botsecrets::keys;
use botsecrets::metadata::now_rfc3339;
use zeroize::Zeroizing;

use super::args::KeygenArgs;
use super::report::UserError;

/// `keygen -y`: the public side of each identity in the file (or stdin).
fn recipients(input: Option<&std::path::Path>) -> Result<()> {
    let cb = super::inputs::callbacks();
    let ids = match input.filter(|p| p.as_os_str() != "-") {
        Some(path) => super::inputs::load_identity_file(path, "keygen -y", &cb)?,
        None => {
            let bytes = super::inputs::read_stdin()?;
            keys::load_identities(&bytes, "stdin", "keygen -y stdin", &cb)
                .map_err(|e| UserError::identity(e.to_string()))?
        }
    };
    if ids.is_empty() {
        return Err(UserError::identity("no identity in the input".to_owned()).into());
    }
    let mut out = std::io::stdout().lock();
    for id in ids {
        writeln!(out, "{}", id.public())?;
    }
    out.flush()?;
    Ok(())
}

/// Warns when `path` is inside a git working tree.
fn warn_work_tree(path: &std::path::Path) {
    use super::worktree::Standing;
    match super::worktree::standing(path) {
        Standing::Outside => {}
        Standing::Ignored { top } => eprintln!(
            "botsecrets: warning: {} is inside the git working tree {} (git ignores it now); keep identities outside repositories, e.g. in ~/.config/botsecrets/keys.txt",
            path.display(),
            top.display()
        ),
        Standing::Tracked { top } => eprintln!(
            "botsecrets: warning: {} is inside the git working tree {} and git does not ignore it: `git add` would commit this private key; move it out (e.g. to ~/.config/botsecrets/keys.txt) or add it to .gitignore",
            path.display(),
            top.display()
        ),
    }
}

/// Runs `keygen`.
pub fn run(args: &KeygenArgs) -> Result<()> {
    if args.recipient {
        return recipients(args.input.as_deref());
    }
    let (secret, recipient) = keys::generate_x25519();
    let file = Zeroizing::new(format!(
        "# created: {}\n# public key: {recipient}\n{}\n",
        now_rfc3339(),
        secret.expose_secret()
    ));
    match &args.output {
        Some(path) => {
            // SECURITY: create_new refuses to overwrite (and to follow a
            // planted symlink); mode 0600 from the first byte.
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| {
                    if e.kind() == std::io::ErrorKind::AlreadyExists {
                        UserError::exists(path)
                    } else {
                        UserError::write(path, e)
                    }
                })?;
            f.write_all(file.as_bytes())
                .map_err(|e| UserError::write(path, e))?;
            f.sync_all().map_err(|e| UserError::write(path, e))?;
            println!("{recipient}");
            warn_work_tree(path);
        }
        None => {
            eprintln!("Public key: {recipient}");
            let mut out = std::io::stdout().lock();
            out.write_all(file.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(())
}
