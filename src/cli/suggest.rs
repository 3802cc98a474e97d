//! "Did you mean": the closest existing key paths for a path that is not
//! in a file (read from the clear key names of the encrypted text; the
//! callers ask only after the file opened and verified, so a tampered file
//! is refused as tampered), and near names in a directory for a file that
//! does not exist.
//!
//! SECURITY: only key paths and file names are shown, never a value.

use std::path::Path;

use anyhow::Result;
use botsecrets::format::{FormatKind, LeafKind};
use botsecrets::path::KeyPath;

use super::report::{code, UserError};

/// Edit distance (Levenshtein, on characters).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(!ca.eq_ignore_ascii_case(cb));
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Up to three of `candidates` close to `wanted`, closest first. A
/// candidate is close when few edits turn one into the other, or when
/// their last parts are close (`api_key` for `weather.api_key`).
pub fn closest(
    candidates: &[String],
    wanted: &str,
    last_part: impl Fn(&str) -> String,
) -> Vec<String> {
    let limit = |s: &str| (s.chars().count() / 3).max(2);
    let wanted_last = last_part(wanted);
    let mut scored: Vec<(usize, &String)> = candidates
        .iter()
        .filter_map(|c| {
            let whole = distance(c, wanted);
            let last = distance(&last_part(c), &wanted_last) + 1;
            let score = whole.min(last);
            (whole <= limit(wanted) || last <= limit(&wanted_last)).then_some((score, c))
        })
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, c)| c.clone()).collect()
}

/// Every key path of the file's first document (values, empty maps and
/// lists, and every map or list above them); `None` when the text does not
/// parse (the command's own error says why).
fn key_paths(text: &str, format: FormatKind) -> Option<Vec<KeyPath>> {
    let parsed = format.syntax().parse(text).ok()?;
    let mut out: Vec<KeyPath> = Vec::new();
    let mut add = |p: &KeyPath| {
        let mut prefix = KeyPath::root();
        for seg in p.segments() {
            match seg {
                botsecrets::path::Segment::Key(k) => prefix.push_key(k.clone()),
                botsecrets::path::Segment::Index(i) => prefix.push_index(*i),
            }
            if !out.contains(&prefix) {
                out.push(prefix.clone());
            }
        }
    };
    for (path, i) in parsed.values_in_order() {
        let leaf = &parsed.leaves[i];
        if leaf.document == 0 && leaf.kind != LeafKind::Comment {
            add(&path);
        }
    }
    for e in parsed.empties.iter().filter(|e| e.document == 0) {
        add(&e.path);
    }
    Some(out)
}

/// A missing key path is an error (exit 91) naming the closest existing
/// ones, found in the encrypted text's key names.
pub fn check_key_path(text: &str, format: FormatKind, path: &KeyPath, name: &str) -> Result<()> {
    if path.segments().is_empty() {
        return Ok(());
    }
    let Some(paths) = key_paths(text, format) else {
        return Ok(());
    };
    if paths.iter().any(|p| p == path) {
        return Ok(());
    }
    let names: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
    let wanted = path.to_string();
    let near = closest(&names, &wanted, |s| {
        s.rsplit(['.', '[']).next().unwrap_or(s).to_owned()
    });
    let hint = if near.is_empty() {
        let top: Vec<String> = paths
            .iter()
            .filter(|p| p.segments().len() == 1)
            .map(|p| p.to_string())
            .take(10)
            .collect();
        if top.is_empty() {
            "the file holds no keys".to_owned()
        } else {
            format!("its top-level keys are: {}", top.join(", "))
        }
    } else {
        format!("did you mean {}?", near.join(", "))
    };
    Err(UserError::with_code(
        code::PATH_NOT_FOUND,
        format!("{name}: key path {path} not found"),
        Some(&hint),
    )
    .into())
}

/// "did you mean ...?" for a file that does not exist: names in its
/// directory close to its own.
pub fn near_files(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    let dir = parent.unwrap_or(Path::new("."));
    let names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let stem = |s: &str| s.split('.').next().unwrap_or(s).to_owned();
    let near = closest(&names, &name, stem);
    if near.is_empty() {
        return None;
    }
    let shown: Vec<String> = near
        .iter()
        .map(|n| match parent {
            Some(p) => p.join(n).display().to_string(),
            None => n.clone(),
        })
        .collect();
    Some(format!("did you mean {}?", shown.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_prefers_few_edits_and_matching_last_parts() {
        let c: Vec<String> = [
            "weather.api_key",
            "weather.url",
            "telegram.token",
            "db.password",
        ]
        .map(String::from)
        .to_vec();
        let last = |s: &str| s.rsplit('.').next().unwrap().to_owned();
        assert_eq!(closest(&c, "wether.api_key", last), ["weather.api_key"]);
        assert_eq!(closest(&c, "api_key", last), ["weather.api_key"]);
        assert_eq!(closest(&c, "telegram.tokn", last), ["telegram.token"]);
        assert!(closest(&c, "zzzzzz", last).is_empty());
        assert_eq!(distance("secrets.yml", "secrets.yaml"), 1);
    }
}
