//! `botsecrets set`, `unset` and `get`: scriptable changes to one value.
//!
//! `set` and `unset` decrypt in memory, change the plaintext text by
//! splicing (the format layer's render/insert/remove), and re-encrypt with
//! the same data key: every other value keeps its exact ciphertext, so the
//! diff is the changed line plus `lastmodified` and `mac`.

use anyhow::{Context, Result};
use botsecrets::document;
use botsecrets::format::{apply_splices, FormatKind, LeafKind, Replacement, Splice, ValueType};
use botsecrets::metadata::now_rfc3339;
use botsecrets::path::KeyPath;
use zeroize::Zeroizing;

use super::args::{GetArgs, IdentityArgs, SetArgs, UnsetArgs};
use super::report::{code, UserError};
use super::{inputs, output};

/// An encrypted file opened for a change.
struct Target {
    /// Held until the write (the one lock every writer takes); the text
    /// was read through it.
    lock: Option<botsecrets::fsio::LockedFile>,
    path: std::path::PathBuf,
    name: String,
    format: FormatKind,
    text: Zeroizing<String>,
    opened: document::Opened,
}

fn open_target(
    lock: bool,
    file: &std::path::Path,
    input_type: Option<&str>,
    identity: &IdentityArgs,
    must_have: Option<&KeyPath>,
) -> Result<Target> {
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
    let opened = super::seal::open(&text, format, &identities, Some(file), false, &name)?;
    // A missing key path, with the closest existing ones (key names are in
    // the clear); only once the file verified: a tampered file is refused
    // as tampered, not answered with suggestions.
    if let Some(path) = must_have {
        super::suggest::check_key_path(&text, format, path, &name)?;
    }
    Ok(Target {
        lock,
        path: file.to_path_buf(),
        name,
        format,
        text,
        opened,
    })
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

/// Re-encrypts `new_plain` for `target` and writes it atomically.
fn write_back(target: Target, new_plain: &str) -> Result<()> {
    let name = target.name.clone();
    let path = target.path.clone();
    let new_text = target
        .opened
        .reencrypt(new_plain, target.format, &now_rfc3339())
        .with_context(|| name.clone())?;
    // Concurrency: the lock was held since the read; `replace` still
    // refuses if a tool that does not lock changed the file meanwhile.
    match &target.lock {
        Some(lock) => Ok(lock.replace(new_text.as_bytes(), output::write_mode(false))?),
        None => Err(
            UserError::usage(format!("internal error: {} was not locked", path.display())).into(),
        ),
    }
}

/// Runs `set`.
pub fn run_set(args: &SetArgs) -> Result<()> {
    let path = parse_path(&args.path)?;
    let (ty, value) = read_value(args)?;
    let target = open_target(
        true,
        &args.file,
        args.input_type.as_deref(),
        &args.identity,
        None,
    )?;
    let plain = target
        .opened
        .plaintext(&target.text, target.format)
        .with_context(|| target.name.clone())?;
    let syntax = target.format.syntax();
    let parsed = syntax.parse(&plain).with_context(|| target.name.clone())?;
    let existing = parsed
        .leaves
        .iter()
        .find(|l| l.document == 0 && l.kind != LeafKind::Comment && l.path == path);
    let mut splices = match existing {
        Some(leaf) => vec![Splice {
            range: leaf.span.clone(),
            text: syntax
                .render(&plain, leaf, &Replacement::Value(ty, &value))
                .with_context(|| target.name.clone())?,
        }],
        None => syntax
            .insert(&plain, &parsed, &path, &Replacement::Value(ty, &value))
            .with_context(|| target.name.clone())?,
    };
    let new_plain =
        Zeroizing::new(apply_splices(&plain, &mut splices).with_context(|| target.name.clone())?);
    drop(plain);
    let path = target.path.clone();
    write_back(target, &new_plain)?;
    super::gitattr::after_write(&path);
    Ok(())
}

/// Runs `unset`.
pub fn run_unset(args: &UnsetArgs) -> Result<()> {
    let path = parse_path(&args.path)?;
    let must_have = (!args.idempotent).then_some(&path);
    let target = open_target(
        true,
        &args.file,
        args.input_type.as_deref(),
        &args.identity,
        must_have,
    )?;
    let plain = target
        .opened
        .plaintext(&target.text, target.format)
        .with_context(|| target.name.clone())?;
    let syntax = target.format.syntax();
    let parsed = syntax.parse(&plain).with_context(|| target.name.clone())?;
    let mut splices = match syntax.remove(&plain, &parsed, &path) {
        Ok(s) => s,
        Err(botsecrets::format::FormatError::PathNotFound(_)) if args.idempotent => return Ok(()),
        Err(botsecrets::format::FormatError::PathNotFound(p)) => {
            return Err(UserError::with_code(
                code::PATH_NOT_FOUND,
                format!("{}: key path {p} not found", target.name),
                None,
            )
            .into())
        }
        Err(e) => return Err(anyhow::Error::new(e).context(target.name.clone())),
    };
    let new_plain =
        Zeroizing::new(apply_splices(&plain, &mut splices).with_context(|| target.name.clone())?);
    drop(plain);
    write_back(target, &new_plain)
}

/// Runs `get`.
pub fn run_get(args: &GetArgs) -> Result<()> {
    let path = parse_path(&args.path)?;
    let target = open_target(
        false,
        &args.file,
        args.input_type.as_deref(),
        &args.identity,
        Some(&path),
    )?;
    let tree = target
        .opened
        .extract(&path)
        .with_context(|| target.name.clone())?;
    let text = Zeroizing::new(super::render::value_for_print(tree.expose(), target.format));
    let mut out = std::io::stdout().lock();
    std::io::Write::write_all(&mut out, text.as_bytes())?;
    std::io::Write::flush(&mut out)?;
    Ok(())
}
