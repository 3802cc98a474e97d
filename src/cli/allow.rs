//! `--allow` items of `check` (and `check --history`): a finding's
//! fingerprint, or a path with an optional line. Shared by both command
//! modules, so neither imports the other.

use std::path::{Path, PathBuf};

use anyhow::Result;
use botsecrets::rules;
use botsecrets::scan::{self, allow::AllowList};

use super::report::UserError;

/// `--allow FINGERPRINT` into the allow list, and `--allow PATH[:LINE]` as
/// (absolute path, line).
pub type PathAllows = Vec<(PathBuf, Option<usize>)>;
pub fn parse_allow(items: &[String], cwd: &Path) -> Result<(PathAllows, AllowList)> {
    let mut out = Vec::new();
    let mut fps = AllowList::default();
    for item in items {
        if scan::allow::is_fingerprint(&item.to_ascii_lowercase()) {
            fps.add(item);
            continue;
        }
        let (path, line) = match item.rsplit_once(':') {
            Some((p, l))
                if !p.is_empty() && !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()) =>
            {
                let line = l
                    .parse::<usize>()
                    .map_err(|_| UserError::usage(format!("--allow {item}: bad line number")))?;
                (p, Some(line))
            }
            _ => (item.as_str(), None),
        };
        out.push((rules::absolute(Path::new(path), cwd), line));
    }
    Ok((out, fps))
}
