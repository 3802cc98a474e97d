//! Gathers what the library needs from the outside world: the input text
//! and its format, identities from flags, environment variables and default
//! key files, and recipients. The library never reads the environment.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use botsecrets::format::FormatKind;
use botsecrets::keys::{self, Identity, Recipient};

use super::args::InputArgs;
use super::report::UserError;

/// An input file's text, where it came from, and its format.
pub struct Input {
    /// The text (may be plaintext: never log it).
    pub text: zeroize::Zeroizing<String>,
    /// The file path, or `None` for stdin.
    pub path: Option<PathBuf>,
    /// The format.
    pub format: FormatKind,
}

impl Input {
    /// How to name the input in messages.
    pub fn display_name(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => "(stdin)".to_owned(),
        }
    }
}

/// The format for a path, from `--input-type` or the file name.
pub fn format_for(path: Option<&Path>, input_type: Option<&str>) -> Result<FormatKind> {
    let supported = "yaml, json, toml, dotenv, ini";
    if let Some(name) = input_type {
        return FormatKind::from_name(name).ok_or_else(|| {
            UserError::usage(format!(
                "unknown input type {name:?}; supported: {supported}"
            ))
            .into()
        });
    }
    match path {
        None => Err(UserError::usage("reading stdin needs --input-type (yaml, json, toml, dotenv, ini)").into()),
        Some(p) => FormatKind::from_path(p).ok_or_else(|| {
            UserError::usage(format!(
                "{}: cannot tell the format from the file name; supported extensions: .yaml .yml .json .toml .env .ini (and .env.*); or pass --input-type",
                p.display()
            ))
            .into()
        }),
    }
}

/// Reads the input named by `args`.
pub fn read_input(args: &InputArgs) -> Result<Input> {
    let is_stdin = args.file.as_os_str() == "-";
    let path = (!is_stdin).then(|| args.file.clone());
    let format = format_for(path.as_deref(), args.input_type.as_deref())?;
    let bytes = if is_stdin {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).context("cannot read stdin")?;
        buf
    } else {
        std::fs::read(&args.file).map_err(|e| UserError::io(&args.file, e))?
    };
    let text = String::from_utf8(bytes).map_err(|_| {
        UserError::parse(format!(
            "{}: not UTF-8 text (binary files are not supported)",
            path.as_deref()
                .map_or("(stdin)".into(), |p| p.display().to_string())
        ))
    })?;
    Ok(Input {
        text: zeroize::Zeroizing::new(text),
        path,
        format,
    })
}

/// Recipients from `--age` flags, else the environment.
pub fn recipients(flags: &[String]) -> Result<Vec<Recipient>> {
    let mut list: Vec<String> = flags.to_vec();
    if list.is_empty() {
        for var in ["BOTSECRETS_AGE_RECIPIENTS", "SOPS_AGE_RECIPIENTS"] {
            if let Ok(v) = std::env::var(var) {
                if !v.trim().is_empty() {
                    list.push(v);
                    break;
                }
            }
        }
    }
    let mut out = Vec::new();
    for item in &list {
        out.extend(Recipient::parse_list(item).map_err(|e| UserError::recipients(e.to_string()))?);
    }
    if out.is_empty() {
        return Err(UserError::recipients(
            "no recipients: pass --age age1... (or set BOTSECRETS_AGE_RECIPIENTS)".to_owned(),
        )
        .into());
    }
    Ok(out)
}

/// The configuration directory: `$XDG_CONFIG_HOME`, else `~/.config`
/// (what sops uses on Linux).
fn config_dir() -> Option<PathBuf> {
    match std::env::var_os("XDG_CONFIG_HOME") {
        Some(d) if Path::new(&d).is_absolute() => Some(PathBuf::from(d)),
        _ => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")),
    }
}

fn load_identity_file(path: &Path, source: &str) -> Result<Vec<Identity>> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| UserError::identity(format!("{source}: {}: {e}", path.display())))?,
    );
    keys::parse_identities(&text, &format!("{source} {}", path.display()))
        .map_err(|e| UserError::identity(e.to_string()).into())
}

/// Identities: `--identity` files if given; else every available source in
/// order: BOTSECRETS_AGE_KEY, BOTSECRETS_AGE_KEY_FILE, SOPS_AGE_KEY,
/// SOPS_AGE_KEY_FILE, then `<config>/botsecrets/keys.txt` and
/// `<config>/sops/age/keys.txt`.
pub fn identities(flags: &[PathBuf]) -> Result<Vec<Identity>> {
    let mut out = Vec::new();
    if !flags.is_empty() {
        for f in flags {
            out.extend(load_identity_file(f, "--identity")?);
        }
        return Ok(out);
    }
    for (key_var, file_var) in [
        ("BOTSECRETS_AGE_KEY", "BOTSECRETS_AGE_KEY_FILE"),
        ("SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE"),
    ] {
        if let Ok(text) = std::env::var(key_var) {
            let text = zeroize::Zeroizing::new(text);
            if !text.trim().is_empty() {
                out.extend(
                    keys::parse_identities(&text, key_var)
                        .map_err(|e| UserError::identity(e.to_string()))?,
                );
            }
        }
        if let Some(file) = std::env::var_os(file_var).filter(|f| !f.is_empty()) {
            out.extend(load_identity_file(Path::new(&file), file_var)?);
        }
    }
    if let Some(dir) = config_dir() {
        for rel in ["botsecrets/keys.txt", "sops/age/keys.txt"] {
            let path = dir.join(rel);
            if path.is_file() {
                out.extend(load_identity_file(&path, "default key file")?);
            }
        }
    }
    if out.is_empty() {
        bail!(UserError::identity(
            "no age identity found: pass --identity FILE, or set BOTSECRETS_AGE_KEY_FILE (or SOPS_AGE_KEY_FILE), or put keys in ~/.config/botsecrets/keys.txt".to_owned()
        ));
    }
    Ok(out)
}
