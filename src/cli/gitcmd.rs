//! Running `git`: one place for the subprocess helpers that `check` and
//! `git install` share (a command module never imports another).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use super::report::UserError;

/// Runs git with `args` in `dir`; its stdout on success.
pub fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| UserError::usage(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(UserError::usage(format!(
            "git {} failed: {}",
            args.first().unwrap_or(&""),
            err.trim()
        ))
        .into());
    }
    Ok(out.stdout)
}

pub fn git_line(dir: &Path, args: &[&str]) -> Result<String> {
    let out = git(dir, args)?;
    Ok(String::from_utf8_lossy(&out)
        .trim_end_matches('\n')
        .to_owned())
}

/// The top of the working tree that holds the current directory.
pub fn toplevel() -> Result<PathBuf> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    git_line(&cwd, &["rev-parse", "--show-toplevel"])
        .map(PathBuf::from)
        .map_err(|_| {
            UserError::usage("not inside a git repository (run it in a git working tree)").into()
        })
}

/// Splits NUL-separated git output.
pub fn nul_list(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// The files git knows in the working tree at `top`: tracked ones and new
/// ones it does not ignore (what `git add -A` would take), relative paths.
pub fn worktree_files(top: &Path) -> Result<Vec<String>> {
    Ok(nul_list(&git(
        top,
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    )?))
}
