//! `botsecrets keygen`: a new age X25519 identity, written like age-keygen
//! does (`# created`, `# public key` comments, then the key), to a new file
//! of mode 0600 or to stdout.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use age::secrecy::ExposeSecret;
use anyhow::Result;
use botsecrets::keys;
use botsecrets::metadata::now_rfc3339;
use zeroize::Zeroizing;

use super::args::KeygenArgs;
use super::report::UserError;

/// Runs `keygen`.
pub fn run(args: &KeygenArgs) -> Result<()> {
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
