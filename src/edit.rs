//! The one place plaintext touches disk: `edit`'s workspace.
//!
//! A private directory (mode 0700, random name) in the first usable base
//! (`$XDG_RUNTIME_DIR`, then `/dev/shm`, then the temp dir: the caller passes
//! them), holding one file (mode 0600, created exclusively) named like the
//! original so editors pick the syntax. Dropping the workspace overwrites
//! the file with zeros and removes the whole directory (editors leave swap
//! and backup files beside the file). The caller makes sure the drop runs on
//! every exit path, signals included.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::format::FormatKind;

/// A private directory holding the plaintext being edited.
pub struct Workspace {
    dir: PathBuf,
    file: PathBuf,
}

impl Workspace {
    /// Creates the directory in the first of `bases` where that works, and
    /// writes `contents` to `file_name` inside it.
    pub fn create(bases: &[PathBuf], file_name: &str, contents: &[u8]) -> io::Result<Self> {
        let mut last_err = io::Error::new(
            io::ErrorKind::NotFound,
            "no directory for the plaintext workspace",
        );
        for base in bases {
            if !base.is_dir() {
                continue;
            }
            let dir = match tempfile::Builder::new()
                .prefix("botsecrets-edit-")
                .permissions(fs::Permissions::from_mode(0o700))
                .tempdir_in(base)
            {
                Ok(d) => d.keep(),
                Err(e) => {
                    last_err = e;
                    continue;
                }
            };
            let ws = Self {
                file: dir.join(file_name),
                dir,
            };
            // SECURITY: create_new + 0600 from the first byte; the directory
            // is already 0700, this is belt and braces.
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&ws.file)?;
            f.write_all(contents)?;
            f.sync_all()?;
            return Ok(ws);
        }
        Err(last_err)
    }

    /// The plaintext file's path (handed to the editor).
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The private directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads the file again by path (editors often save by rename).
    pub fn read(&self) -> io::Result<Zeroizing<String>> {
        let bytes = Zeroizing::new(fs::read(&self.file)?);
        match std::str::from_utf8(&bytes) {
            Ok(s) => Ok(Zeroizing::new(s.to_owned())),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the edited file is not UTF-8",
            )),
        }
    }
}

/// Removes a workspace directory, overwriting regular files first.
pub fn destroy(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if let Ok(meta) = fs::symlink_metadata(&path) {
                if meta.is_file() {
                    if let Ok(mut f) = fs::OpenOptions::new().write(true).open(&path) {
                        let _ = f.write_all(&vec![0u8; usize::try_from(meta.len()).unwrap_or(0)]);
                        let _ = f.sync_all();
                    }
                }
            }
        }
    }
    let _ = fs::remove_dir_all(dir);
}

impl Drop for Workspace {
    fn drop(&mut self) {
        destroy(&self.dir);
    }
}

/// A digest of the plaintext, to tell whether the editor changed it.
pub fn fingerprint(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// The editor command: the first non-empty of the given settings
/// (`$BOTSECRETS_EDITOR`, `$VISUAL`, `$EDITOR`, in that order), split the
/// way a shell splits words (so `code --wait` works); `vi` when none is set.
pub fn editor_argv(settings: &[Option<String>]) -> Result<Vec<String>, String> {
    for s in settings.iter().flatten() {
        if s.trim().is_empty() {
            continue;
        }
        let words =
            shell_words::split(s).map_err(|e| format!("cannot parse the editor setting: {e}"))?;
        if !words.is_empty() {
            return Ok(words);
        }
    }
    Ok(vec!["vi".to_owned()])
}

/// The editors [`without_copies`] knows how to stop writing copies of the
/// plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditorKind {
    /// Vim (`vim`, `vi` when it is vim, `gvim`, `view`, `vim.basic`, ...).
    Vim,
    /// Neovim (`nvim`).
    Neovim,
    /// Anything else: its leak vectors are documented in docs/edit.md.
    Other,
}

/// Which editor a program is, by its file name (`/usr/bin/vim.basic` is
/// vim). `vi` and `view` are vim only when `resolved` (the program found on
/// `PATH`, symlinks followed) says so: nvi and busybox vi take no vim
/// options.
pub fn editor_kind(program: &str, resolved: Option<&Path>) -> EditorKind {
    let by_name = |name: &str| {
        let name = name.strip_suffix(".exe").unwrap_or(name);
        if name.starts_with("nvim") {
            EditorKind::Neovim
        } else if name.starts_with("vim")
            || matches!(
                name,
                "gvim" | "mvim" | "rvim" | "gview" | "rview" | "vimdiff"
            )
        {
            EditorKind::Vim
        } else {
            EditorKind::Other
        }
    };
    let base = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned()
    };
    match by_name(&base(Path::new(program))) {
        EditorKind::Other => resolved.map_or(EditorKind::Other, |r| by_name(&base(r))),
        kind => kind,
    }
}

/// `argv` with the options that keep vim or neovim from writing any copy
/// of the file: no swap file (`-n`), no viminfo / ShaDa (`-i NONE`), and,
/// both before the user's vimrc (`--cmd`) and after it (`-c`, which wins
/// over a vimrc that turns them back on), no backup, no undo file, no swap
/// file, no viminfo / ShaDa. Other editors are returned unchanged.
///
/// SECURITY: the workspace is in a tmpfs, but vim's default `backupskip`
/// does not cover `/dev/shm` or `$XDG_RUNTIME_DIR`, and a vimrc's
/// `backupdir`/`undodir`/`directory` put copies under `$HOME`, which
/// outlive the edit.
pub fn without_copies(argv: Vec<String>, kind: EditorKind) -> Vec<String> {
    let info = match kind {
        EditorKind::Vim => "viminfo= viminfofile=NONE",
        EditorKind::Neovim => "shada= shadafile=NONE",
        EditorKind::Other => return argv,
    };
    // One `:set` per option under `silent!`: an option this version lacks
    // (viminfofile is 8.1+) must not stop the others.
    let sets: Vec<String> = [
        "nobackup",
        "nowritebackup",
        "noundofile",
        "noswapfile",
        "updatecount=0",
    ]
    .into_iter()
    .chain(info.split(' '))
    .map(|o| format!("silent! set {o}"))
    .collect();
    let sets = sets.join(" | ");
    // Also per buffer, as it is read: 'swapfile' and 'undofile' are local.
    let autocmd =
        "silent! autocmd BufReadPre,BufNewFile * setlocal noswapfile noundofile".to_owned();
    let mut out = Vec::with_capacity(argv.len() + 10);
    let mut rest = argv.into_iter();
    out.extend(rest.next());
    out.extend([
        "-n".to_owned(),
        "-i".to_owned(),
        "NONE".to_owned(),
        "--cmd".to_owned(),
        sets.clone(),
        "--cmd".to_owned(),
        autocmd,
        "-c".to_owned(),
        sets,
    ]);
    out.extend(rest);
    out
}

/// The starting text of a new file: a short commented example.
pub fn template(kind: FormatKind) -> &'static str {
    match kind {
        FormatKind::Yaml => "# New botsecrets file: every value is encrypted when you save.\n# Keys stay readable; keys ending in _unencrypted stay in clear.\nexample_api_key: replace-me\n",
        FormatKind::Json => "{\n  \"example_api_key\": \"replace-me\"\n}\n",
        FormatKind::Toml => "# New botsecrets file: every value is encrypted when you save.\n# Keys stay readable; keys ending in _unencrypted stay in clear.\nexample_api_key = \"replace-me\"\n",
        FormatKind::Dotenv => "# New botsecrets file: every value is encrypted when you save.\nEXAMPLE_API_KEY=replace-me\n",
        FormatKind::Ini => "; New botsecrets file: every value is encrypted when you save.\n[example]\napi_key = replace-me\n",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn workspace_is_private_and_removed() {
        let base = tempfile::tempdir().unwrap();
        let ws = Workspace::create(
            &[PathBuf::from("/nonexistent"), base.path().to_path_buf()],
            "s.yaml",
            b"a: b\n",
        )
        .unwrap();
        assert_eq!(fs::metadata(ws.dir()).unwrap().mode() & 0o777, 0o700);
        assert_eq!(fs::metadata(ws.file()).unwrap().mode() & 0o777, 0o600);
        assert_eq!(ws.file().file_name().unwrap(), "s.yaml");
        assert_eq!(&*ws.read().unwrap(), "a: b\n");
        fs::write(ws.dir().join(".s.yaml.swp"), "swap").unwrap();
        let dir = ws.dir().to_path_buf();
        drop(ws);
        assert!(!dir.exists());
    }

    #[test]
    fn editor_settings_in_order_and_split_like_a_shell() {
        assert_eq!(
            editor_argv(&[None, Some("code --wait".into()), Some("nano".into())]).unwrap(),
            ["code", "--wait"]
        );
        assert_eq!(
            editor_argv(&[Some("  ".into()), None, Some("'my editor' -x".into())]).unwrap(),
            ["my editor", "-x"]
        );
        assert_eq!(editor_argv(&[None, None, None]).unwrap(), ["vi"]);
        assert!(editor_argv(&[Some("vim 'unterminated".into())]).is_err());
    }

    #[test]
    fn vim_and_neovim_get_options_that_write_no_copies() {
        let kind = |p: &str, r: Option<&str>| editor_kind(p, r.map(Path::new));
        assert_eq!(kind("vim", None), EditorKind::Vim);
        assert_eq!(kind("/usr/local/bin/vim.basic", None), EditorKind::Vim);
        assert_eq!(kind("nvim", None), EditorKind::Neovim);
        assert_eq!(kind("vi", None), EditorKind::Other);
        assert_eq!(kind("vi", Some("/usr/bin/vim.basic")), EditorKind::Vim);
        assert_eq!(kind("vi", Some("/usr/bin/nvi")), EditorKind::Other);
        assert_eq!(kind("nano", Some("/usr/bin/nano")), EditorKind::Other);
        let argv = without_copies(vec!["vim".into(), "+3".into()], EditorKind::Vim);
        assert_eq!(argv[0], "vim");
        assert_eq!(&argv[1..4], ["-n", "-i", "NONE"]);
        assert!(argv.iter().any(|a| a.contains("silent! set noundofile")));
        assert!(argv.iter().any(|a| a.contains("viminfo=")));
        assert_eq!(argv.last().unwrap(), "+3");
        let argv = without_copies(vec!["nvim".into()], EditorKind::Neovim);
        assert!(argv.iter().any(|a| a.contains("shada=")));
        let argv = without_copies(vec!["code".into(), "--wait".into()], EditorKind::Other);
        assert_eq!(argv, ["code", "--wait"]);
    }

    #[test]
    fn templates_parse() {
        for kind in FormatKind::ALL {
            let parsed = kind.syntax().parse(template(kind)).unwrap();
            assert!(!parsed.leaves.is_empty());
        }
    }
}
