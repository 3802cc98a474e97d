//! `git install` (and `init`'s last step): the pre-commit hook, the
//! textconv and merge drivers in the repository config, and the
//! `.gitattributes` lines for the secrets files. A shared helper, so that
//! neither the `git` nor the `init` command module imports the other.

use std::path::{Path, PathBuf};

use anyhow::Result;
use botsecrets::document::Sealed;
use botsecrets::format::FormatKind;
use botsecrets::fsio::{self, WriteMode};
use botsecrets::git::install as text;

use super::args::GitInstallArgs;
use super::gitcmd::{git, git_line, nul_list, toplevel, worktree_files};
use super::inputs;
use super::report::{code, UserError};

/// The config entries `install` writes: (key, value).
const CONFIG: [(&str, &str); 3] = [
    ("diff.botsecrets.textconv", "botsecrets git textconv"),
    (
        "merge.botsecrets.name",
        "botsecrets: three-way merge of decrypted values",
    ),
    (
        "merge.botsecrets.driver",
        "botsecrets git merge %O %A %B %P",
    ),
];

/// The hooks directory (honours core.hooksPath).
fn hooks_dir(top: &Path) -> Result<PathBuf> {
    let p = PathBuf::from(git_line(top, &["rev-parse", "--git-path", "hooks"])?);
    Ok(if p.is_absolute() { p } else { top.join(p) })
}

/// Whether `file` (text) is an encrypted file of a known format.
fn is_encrypted_file(path: &Path, text: &str) -> bool {
    FormatKind::from_path(path).is_some_and(|kind| Sealed::is_encrypted(text, kind))
}

/// Tracked and untracked, not ignored files (repository-relative) to give
/// our attributes: those a
/// creation rule with a `path_regex` covers, and those encrypted now.
fn secrets_files(top: &Path) -> Result<Vec<String>> {
    let mut cache = botsecrets::rules::RulesCache::default();
    let mut out = Vec::new();
    for name in worktree_files(top)? {
        let abs = top.join(&name);
        if FormatKind::from_path(&abs).is_none() || botsecrets::rules::is_rules_file(&abs) {
            continue;
        }
        let covered = cache.covering_rule(&abs)?.is_some();
        let encrypted = !covered
            && inputs::read_file(&abs)
                .ok()
                .and_then(|b| String::from_utf8(b.to_vec()).ok())
                .is_some_and(|t| is_encrypted_file(&abs, &t));
        if covered || encrypted {
            out.push(name);
        }
    }
    Ok(out)
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

pub fn install(args: &GitInstallArgs) -> Result<()> {
    let top = toplevel()?;
    if args.uninstall {
        return uninstall(&top);
    }
    // 1. The hook first: a foreign hook stops everything before any change.
    let hooks = hooks_dir(&top)?;
    let hook = hooks.join("pre-commit");
    let mut notes = Vec::new();
    match std::fs::read_to_string(&hook) {
        Ok(existing) if text::is_our_hook(&existing) => {
            if existing != text::hook_script() {
                write_hook(&hook)?;
            }
        }
        Ok(existing) if text::runs_check(&existing) => {
            notes.push(format!(
                "{} already runs `{}`; left as it is",
                hook.display(),
                text::HOOK_COMMAND
            ));
        }
        Ok(_) => {
            return Err(UserError::with_code(
                code::FOREIGN_HOOK,
                format!(
                    "{} exists and was not written by botsecrets; nothing was changed",
                    hook.display()
                ),
                Some(&format!(
                    "add this line to that hook, then run `botsecrets git install` again:\n    {} || exit 1",
                    text::HOOK_COMMAND
                )),
            )
            .into());
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&hooks).map_err(|e| UserError::write(&hooks, e))?;
            write_hook(&hook)?;
        }
        Err(e) => return Err(UserError::io(&hook, e).into()),
    }
    // 2. Config, local to this repository.
    for (key, value) in CONFIG {
        git(&top, &["config", "--local", key, value])?;
    }
    // 3. .gitattributes.
    let files = secrets_files(&top)?;
    let attrs = top.join(".gitattributes");
    let existing = match std::fs::read_to_string(&attrs) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(UserError::io(&attrs, e).into()),
    };
    // Patterns from the rules' path_regex (where one translates to globs),
    // so files added later are covered; the other files one by one.
    let listed = nul_list(&git(
        &top,
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    )?);
    let super::gitattr::InstallText {
        text: new,
        patterns,
        files,
    } = super::gitattr::install_text(&top, &existing, &files, &listed)?;
    if new != existing {
        fsio::write_file(&attrs, new.as_bytes(), WriteMode::Keep(0o644))?;
    }
    println!("pre-commit hook: {}", hook.display());
    println!("diff and merge drivers: .git/config (diff.botsecrets, merge.botsecrets)");
    if !patterns.is_empty() {
        println!(
            ".gitattributes: {} pattern(s) from the creation rules: {}",
            patterns.len(),
            patterns.join(", ")
        );
    }
    println!(
        ".gitattributes: {} file(s){}: {}",
        files.len(),
        if patterns.is_empty() {
            ""
        } else {
            " no pattern covers"
        },
        if files.is_empty() && patterns.is_empty() {
            "none yet (encrypt, edit and set add new files once the drivers are installed)"
                .to_owned()
        } else if files.is_empty() {
            "none".to_owned()
        } else {
            files.join(", ")
        }
    );
    for n in notes {
        eprintln!("botsecrets: note: {n}");
    }
    if !on_path("botsecrets") {
        eprintln!("botsecrets: warning: `botsecrets` is not on PATH; the hook and the drivers call it by name, so put it on PATH (e.g. in ~/.local/bin)");
    }
    Ok(())
}

fn write_hook(hook: &Path) -> Result<()> {
    fsio::write_file(hook, text::hook_script().as_bytes(), WriteMode::Keep(0o755))?;
    // An existing file keeps its mode through the write: make it
    // executable anyway.
    use std::os::unix::fs::PermissionsExt;
    let mut perm = std::fs::metadata(hook)
        .map_err(|e| UserError::io(hook, e))?
        .permissions();
    perm.set_mode(perm.mode() | 0o755);
    std::fs::set_permissions(hook, perm).map_err(|e| UserError::write(hook, e))?;
    Ok(())
}

fn uninstall(top: &Path) -> Result<()> {
    let hook = hooks_dir(top)?.join("pre-commit");
    match std::fs::read_to_string(&hook) {
        Ok(t) if text::is_our_hook(&t) => {
            std::fs::remove_file(&hook).map_err(|e| UserError::write(&hook, e))?;
            println!("removed {}", hook.display());
        }
        Ok(_) => eprintln!(
            "botsecrets: note: {} was not written by botsecrets; left as it is",
            hook.display()
        ),
        Err(_) => {}
    }
    for (key, value) in CONFIG {
        let current = git_line(top, &["config", "--local", "--get", key]).ok();
        if current.as_deref() == Some(value) {
            git(top, &["config", "--local", "--unset", key])?;
        }
    }
    for section in ["diff.botsecrets", "merge.botsecrets"] {
        let regex = format!("^{}\\.", section.replace('.', "\\."));
        let left = git(top, &["config", "--local", "--get-regexp", &regex]).ok();
        if left.is_none_or(|l| l.is_empty()) {
            // The now empty section header; fails harmlessly if absent.
            let _ = git(top, &["config", "--local", "--remove-section", section]);
        }
    }
    let attrs = top.join(".gitattributes");
    if let Ok(existing) = std::fs::read_to_string(&attrs) {
        let new = text::without_block(&existing);
        if new != existing {
            if new.is_empty() {
                std::fs::remove_file(&attrs).map_err(|e| UserError::write(&attrs, e))?;
            } else {
                fsio::write_file(&attrs, new.as_bytes(), WriteMode::Keep(0o644))?;
            }
            println!("removed the botsecrets block from {}", attrs.display());
        }
    }
    Ok(())
}
