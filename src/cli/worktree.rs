//! Is a path inside a git working tree, and is it ignored there? Asked
//! before botsecrets writes a plaintext secret or an identity to a path
//! the user named (`export --output`, `keygen -o`), because a file there
//! is one `git add -A` away from being committed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where a path stands with git.
#[derive(Debug, PartialEq, Eq)]
pub enum Standing {
    /// Not in a git working tree (or git is not installed).
    Outside,
    /// In the working tree at `top`, and git-ignored.
    Ignored { top: PathBuf },
    /// In the working tree at `top`, not ignored: `git add` would take it.
    Tracked { top: PathBuf },
}

/// Where `path` (need not exist; its directory must) stands.
pub fn standing(path: &Path) -> Standing {
    let abs = super::rules::absolute(path);
    let Some(dir) = abs.parent() else {
        return Standing::Outside;
    };
    let top = Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .current_dir(dir)
        .stderr(Stdio::null())
        .output();
    let top = match top {
        Ok(o) if o.status.success() => {
            PathBuf::from(String::from_utf8_lossy(&o.stdout).trim_end_matches('\n'))
        }
        _ => return Standing::Outside,
    };
    // `git check-ignore` exits 0 when the path is ignored, 1 when not.
    let ignored = Command::new("git")
        .arg("check-ignore")
        .arg("-q")
        .arg("--")
        .arg(&abs)
        .current_dir(dir)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ignored {
        Standing::Ignored { top }
    } else {
        Standing::Tracked { top }
    }
}
