//! `check --history`: every blob reachable from some revisions, scanned
//! once, in memory.
//!
//! The CLI runs git (this module runs nothing and reads no files):
//! `git rev-list --objects --filter=object:type=blob REVS` lists the blobs,
//! `git log -m --raw -z --reverse REVS` says which commit (the oldest)
//! brought each one in and at which path, and one `git cat-file --batch`
//! streams their bytes, in the order asked, to [`BatchReader`]. Nothing is
//! checked out and nothing is written to disk; each blob's bytes are wiped
//! once scanned.

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead};

use zeroize::Zeroizing;

use super::Finding;

/// A blob to scan, with where it first appeared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// Its object id (hex).
    pub oid: String,
    /// The oldest commit (of those listed) that has it at `path`; `None`
    /// when the log did not name one (a blob only a tag points to).
    pub commit: Option<String>,
    /// A path it has in that commit.
    pub path: String,
}

/// Blob ids and paths from `git rev-list --objects --filter=object:type=blob`
/// (commit lines, which have no path, are left out).
pub fn parse_rev_list(out: &[u8]) -> Vec<(String, String)> {
    out.split(|b| *b == b'\n')
        .filter_map(|line| {
            let line = String::from_utf8_lossy(line);
            let (oid, path) = line.split_once(' ')?;
            (!path.is_empty()).then(|| (oid.to_owned(), path.to_owned()))
        })
        .collect()
}

/// (commit, new blob id, path) from `git log --format=%x01%H -m --raw -z
/// --no-abbrev --no-renames`, in log order. Deletions and submodules
/// (no blob) are left out.
pub fn parse_log_raw(out: &[u8]) -> Vec<(String, String, String)> {
    let mut items = Vec::new();
    let mut commit = String::new();
    let mut tokens = out.split(|b| *b == 0).peekable();
    while let Some(tok) = tokens.next() {
        let tok = String::from_utf8_lossy(tok);
        let tok = tok.trim_start_matches('\n');
        if let Some(c) = tok.strip_prefix('\u{1}') {
            commit = c.trim().to_owned();
        } else if let Some(raw) = tok.strip_prefix(':') {
            let Some(path) = tokens.next() else { break };
            let fields: Vec<&str> = raw.split(' ').collect();
            // :old_mode new_mode old_oid new_oid status
            if fields.len() < 5 {
                continue;
            }
            let (mode, oid) = (fields[1], fields[3]);
            if mode == "160000" || mode == "000000" || oid.bytes().all(|b| b == b'0') {
                continue;
            }
            items.push((
                commit.clone(),
                oid.to_owned(),
                String::from_utf8_lossy(path).into_owned(),
            ));
        }
    }
    items
}

/// The blobs to scan: each of `listed` once, attributed to the first
/// commit in `log` (oldest first) that has it, in that order (so findings
/// come oldest first); blobs the log does not name come last.
pub fn plan(listed: &[(String, String)], log: &[(String, String, String)]) -> Vec<Blob> {
    let mut first: HashMap<&str, (usize, &str, &str)> = HashMap::new();
    for (i, (c, oid, path)) in log.iter().enumerate() {
        first
            .entry(oid.as_str())
            .or_insert((i, c.as_str(), path.as_str()));
    }
    let mut seen = HashSet::new();
    let mut out: Vec<(usize, Blob)> = Vec::new();
    for (oid, path) in listed {
        if !seen.insert(oid.as_str()) {
            continue;
        }
        let (at, commit, path) = match first.get(oid.as_str()) {
            Some((i, c, p)) => (*i, Some((*c).to_owned()), (*p).to_owned()),
            None => (usize::MAX, None, path.clone()),
        };
        out.push((
            at,
            Blob {
                oid: oid.clone(),
                commit,
                path,
            },
        ));
    }
    out.sort_by_key(|(at, _)| *at);
    out.into_iter().map(|(_, b)| b).collect()
}

/// Reads `git cat-file --batch` output: for each id asked, a header
/// `<oid> <type> <size>` and the bytes, or `<oid> missing`.
pub struct BatchReader<R: BufRead> {
    inner: R,
}

/// One object from the batch.
pub enum BatchItem {
    /// Its id and bytes (wiped on drop).
    Object(String, Zeroizing<Vec<u8>>),
    /// The object does not exist (or is not readable).
    Missing(String),
}

impl<R: BufRead> BatchReader<R> {
    /// Wraps the batch's stdout.
    pub fn new(inner: R) -> Self {
        Self { inner }
    }

    /// The next object, or `None` at the end of the stream.
    pub fn next_item(&mut self) -> io::Result<Option<BatchItem>> {
        let mut header = String::new();
        if self.inner.read_line(&mut header)? == 0 {
            return Ok(None);
        }
        let header = header.trim_end();
        let fields: Vec<&str> = header.split(' ').collect();
        match fields.as_slice() {
            [oid, "missing"] | [oid, "ambiguous"] => {
                Ok(Some(BatchItem::Missing((*oid).to_owned())))
            }
            [oid, _kind, size] => {
                let size: usize = size.parse().map_err(|_| {
                    io::Error::other(format!("git cat-file: bad header {header:?}"))
                })?;
                let mut bytes = Zeroizing::new(vec![0u8; size]);
                self.inner.read_exact(&mut bytes)?;
                let mut nl = [0u8; 1];
                self.inner.read_exact(&mut nl)?;
                Ok(Some(BatchItem::Object((*oid).to_owned(), bytes)))
            }
            _ => Err(io::Error::other(format!(
                "git cat-file: unexpected header {header:?}"
            ))),
        }
    }
}

/// Blobs larger than this are reported as unscanned, not read as text.
pub const BLOB_LIMIT: usize = 64 << 20;

/// The findings of one blob (at `path`): a sops-encrypted file's clear
/// values, else everything [`super::scan_bytes`] finds.
pub fn scan_blob(path: &str, bytes: &[u8]) -> Vec<Finding> {
    if bytes.len() > BLOB_LIMIT {
        return vec![super::unscanned(path, "a blob over 64 MiB")];
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        if text.contains("sops") && text.contains("ENC[AES256_GCM,") {
            return super::scan_text(path, text);
        }
    }
    super::scan_bytes(path, bytes).0
}

/// A finding in history.
#[derive(Debug, Clone)]
pub struct HistoryFinding {
    /// The commit that brought the blob in (`None`: unknown).
    pub commit: Option<String>,
    /// The path there.
    pub path: String,
    /// What was found.
    pub finding: Finding,
    /// Whether the same secret (fingerprint) is in a file at HEAD.
    pub at_head: bool,
}

/// Scans the batch stream: `blobs` in order (what was asked of cat-file),
/// then `head_extra` (HEAD's blobs not among them, scanned only to tell
/// what is still at HEAD). `head` is the set of blob ids at HEAD.
/// `progress` is called after each blob with the count done.
pub fn scan_stream<R: BufRead>(
    reader: &mut BatchReader<R>,
    blobs: &[Blob],
    head_extra: &[Blob],
    head: &HashSet<String>,
    mut progress: impl FnMut(usize),
) -> io::Result<Vec<HistoryFinding>> {
    let mut found: Vec<HistoryFinding> = Vec::new();
    let mut head_fps: HashSet<String> = HashSet::new();
    for (i, blob) in blobs.iter().chain(head_extra).enumerate() {
        let item = reader
            .next_item()?
            .ok_or_else(|| io::Error::other("git cat-file ended early"))?;
        let BatchItem::Object(oid, bytes) = item else {
            progress(i + 1);
            continue;
        };
        if oid != blob.oid {
            return Err(io::Error::other("git cat-file answered out of order"));
        }
        let hits = scan_blob(&blob.path, &bytes);
        drop(bytes);
        let in_head = head.contains(&blob.oid);
        for f in hits {
            if in_head {
                head_fps.insert(f.fingerprint.clone());
            }
            if i < blobs.len() {
                found.push(HistoryFinding {
                    commit: blob.commit.clone(),
                    path: blob.path.clone(),
                    finding: f,
                    at_head: false,
                });
            }
        }
        progress(i + 1);
    }
    for f in &mut found {
        f.at_head = head_fps.contains(&f.finding.fingerprint);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_git_outputs_and_plans_each_blob_once() {
        let log = b"\x01c1\0\n:000000 100644 0000 aaaa A\0a.txt\0\x01c2\0\n:100644 100644 aaaa bbbb M\0a.txt\0:000000 100644 0000 aaaa A\0copy.txt\0:100644 000000 bbbb 0000 D\0gone\0:000000 160000 0000 cccc A\0sub\0";
        let items = parse_log_raw(log);
        assert_eq!(
            items,
            [
                ("c1".into(), "aaaa".into(), "a.txt".into()),
                ("c2".into(), "bbbb".into(), "a.txt".into()),
                ("c2".into(), "aaaa".into(), "copy.txt".into()),
            ]
        );
        let listed = parse_rev_list(b"c2\nbbbb a.txt\naaaa copy.txt\naaaa a.txt\ndddd tagged\n");
        let p = plan(&listed, &items);
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].commit.as_deref(), Some("c1"));
        assert_eq!(p[0].path, "a.txt");
        assert_eq!(p[1].oid, "bbbb");
        assert_eq!(p[2].commit, None);
    }

    #[test]
    fn reads_the_batch_and_marks_what_is_still_at_head() {
        let t = ["gh", "p_", "q8Zr2LmX0vP4kT7yN3bWc1Fh6Jd9Sa5Ge0Ru"].concat();
        let one = format!("token {t}\n");
        let stream = format!(
            "aaaa blob {}\n{one}\nbbbb missing\ncccc blob 3\nok\n\n",
            one.len()
        );
        let blobs = [
            Blob {
                oid: "aaaa".into(),
                commit: Some("c1".into()),
                path: "a.txt".into(),
            },
            Blob {
                oid: "bbbb".into(),
                commit: None,
                path: "b".into(),
            },
        ];
        let extra = [Blob {
            oid: "cccc".into(),
            commit: None,
            path: "c".into(),
        }];
        let head: HashSet<String> = ["cccc".to_owned()].into();
        let mut r = BatchReader::new(stream.as_bytes());
        let mut n = 0;
        let f = scan_stream(&mut r, &blobs, &extra, &head, |i| n = i).unwrap();
        assert_eq!(n, 3);
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].path.as_str(), f[0].finding.line, f[0].at_head),
            ("a.txt", Some(1), false)
        );
        let head: HashSet<String> = ["aaaa".to_owned()].into();
        let mut r = BatchReader::new(stream.as_bytes());
        let f = scan_stream(&mut r, &blobs, &extra, &head, |_| {}).unwrap();
        assert!(f[0].at_head);
    }
}
