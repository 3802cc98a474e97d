//! `botsecrets set`, `unset` and `get`: scriptable changes to one value.
//!
//! The change itself is the library's ([`botsecrets::document::Opened::set`],
//! `unset`): the plaintext is changed by splicing and re-encrypted with the
//! same data key, so every other value keeps its exact ciphertext and the
//! diff is the changed line plus `lastmodified` and `mac`. Here: the value
//! from the flags or stdin, the lock, the write.

use anyhow::{Context, Result};
use botsecrets::document::{DocumentError, Sealed};
use botsecrets::format::ValueType;
use botsecrets::metadata::now_rfc3339;
use botsecrets::path::KeyPath;
use zeroize::Zeroizing;

use super::args::{GetArgs, IdentityArgs, SetArgs, UnsetArgs};
use super::report::UserError;
use super::{inputs, open, output};

/// An encrypted file read for a change (or, for `get`, to look at).
struct Target {
    /// Held until the write (the one lock every writer takes); the text
    /// was read through it.
    lock: Option<botsecrets::fsio::LockedFile>,
    name: String,
    file: Sealed,
}

impl Target {
    /// Opens the file (identities loaded after it was read, as always).
    fn read(
        lock: bool,
        file: &std::path::Path,
        input_type: Option<&str>,
        identity: &IdentityArgs,
    ) -> Result<(Self, Vec<botsecrets::keys::Identity>)> {
        let name = file.display().to_string();
        let format = inputs::format_for(Some(file), input_type)?;
        let (bytes, lock) = if lock {
            let locked = inputs::lock_file(file)?;
            (Zeroizing::new(locked.contents().to_vec()), Some(locked))
        } else {
            (inputs::read_file(file)?, None)
        };
        let text = inputs::utf8(bytes, &name)?;
        let identities = inputs::identities(&identity.identities)?;
        let sealed = Sealed::parse(text, format).with_context(|| name.clone())?;
        Ok((
            Self {
                lock,
                name,
                file: sealed,
            },
            identities,
        ))
    }

    /// Writes `new_text` over the file, under the lock it was read with.
    fn write(&self, new_text: &str) -> Result<()> {
        // Concurrency: the lock was held since the read; `replace` still
        // refuses if a tool that does not lock changed the file meanwhile.
        match &self.lock {
            Some(lock) => Ok(lock.replace(new_text.as_bytes(), output::write_mode(false))?),
            None => Err(
                UserError::usage(format!("internal error: {} was not locked", self.name)).into(),
            ),
        }
    }
}

fn parse_path(s: &str) -> Result<KeyPath> {
    KeyPath::parse(s).map_err(|e| UserError::usage(e.to_string()).into())
}

/// The value to set and its type.
fn read_value(args: &SetArgs) -> Result<(ValueType, Zeroizing<String>)> {
    let raw = if args.stdin {
        let mut buf = inputs::utf8(inputs::read_stdin()?, "the value on stdin")?;
        // One trailing line break is the shell's, not the secret's.
        if buf.ends_with('\n') {
            buf.pop();
            if buf.ends_with('\r') {
                buf.pop();
            }
        }
        buf
    } else {
        Zeroizing::new(args.value.clone().unwrap_or_default())
    };
    if !args.json {
        return Ok((ValueType::Str, raw));
    }
    let bad = || {
        UserError::usage("--json takes a JSON scalar: a string, number, true/false or null (use `edit` for lists and maps)")
    };
    let v: serde_json::Value = serde_json::from_str(&raw).map_err(|_| bad())?;
    Ok(match v {
        serde_json::Value::String(s) => (ValueType::Str, Zeroizing::new(s)),
        serde_json::Value::Bool(b) => (ValueType::Bool, Zeroizing::new(b.to_string())),
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => {
            (ValueType::Int, Zeroizing::new(n.to_string()))
        }
        serde_json::Value::Number(n) => (ValueType::Float, Zeroizing::new(n.to_string())),
        _ => return Err(bad().into()),
    })
}

/// Runs `set`.
pub fn run_set(args: &SetArgs) -> Result<()> {
    let path = parse_path(&args.path)?;
    let (ty, value) = read_value(args)?;
    let (target, ids) = Target::read(true, &args.file, args.input_type.as_deref(), &args.identity)?;
    let opened = open::open(&target.file, &ids, Some(&args.file), false, &target.name)?;
    let new_text = opened
        .set(&path, ty, &value, &now_rfc3339())
        .with_context(|| target.name.clone())?;
    target.write(&new_text)?;
    super::gitattr::after_write(&args.file);
    Ok(())
}

/// Runs `unset`.
pub fn run_unset(args: &UnsetArgs) -> Result<()> {
    let path = parse_path(&args.path)?;
    let (target, ids) = Target::read(true, &args.file, args.input_type.as_deref(), &args.identity)?;
    let opened = open::open(&target.file, &ids, Some(&args.file), false, &target.name)?;
    let new_text = match opened.unset(&path, &now_rfc3339()) {
        Ok(t) => t,
        Err(DocumentError::PathNotFound(_)) if args.idempotent => return Ok(()),
        Err(e @ DocumentError::PathNotFound(_)) => {
            // The closest existing key paths (key names are in the clear);
            // only now that the file verified, so a tampered file is
            // refused as tampered, not answered with suggestions.
            let text = target.file.text();
            super::suggest::check_key_path(text, target.file.format(), &path, &target.name)?;
            return Err(anyhow::Error::new(e).context(target.name.clone()));
        }
        Err(e) => return Err(anyhow::Error::new(e).context(target.name.clone())),
    };
    target.write(&new_text)?;
    super::gitattr::after_write(&args.file);
    Ok(())
}

/// Runs `get`.
pub fn run_get(args: &GetArgs) -> Result<()> {
    let path = parse_path(&args.path)?;
    let (target, ids) = Target::read(
        false,
        &args.file,
        args.input_type.as_deref(),
        &args.identity,
    )?;
    let opened = open::open_reading(&target.file, &ids, Some(&args.file), false, &target.name)?;
    let tree = match opened
        .extract(&path)
        .map_err(|e| open::named(e, Some(&args.file)))
    {
        Ok(tree) => tree,
        Err(e @ DocumentError::PathNotFound(_)) => {
            let text = target.file.text();
            super::suggest::check_key_path(text, target.file.format(), &path, &target.name)?;
            return Err(anyhow::Error::new(e).context(target.name.clone()));
        }
        Err(e) => return Err(anyhow::Error::new(e).context(target.name.clone())),
    };
    let text = Zeroizing::new(super::render::value_for_print(
        tree.expose(),
        target.file.format(),
    ));
    let mut out = std::io::stdout().lock();
    std::io::Write::write_all(&mut out, text.as_bytes())?;
    std::io::Write::flush(&mut out)?;
    Ok(())
}
