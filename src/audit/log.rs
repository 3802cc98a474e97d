//! The one `git log` per file that lists its versions: which arguments to
//! run it with, and how to read its output.
//!
//! `--follow` keeps the history across moves; `--first-parent` (with merges
//! diffed against their first parent) makes it one line of versions, each
//! the file as the main line had it, so a side branch's older value never
//! sits between two main-line versions. A change made on a branch is
//! therefore dated and attributed to the merge that brought it in.
//! `--raw -z --no-abbrev` gives each version's blob id and path unquoted.

use super::AuditError;

/// One field separator per header field, a record mark per commit.
const FORMAT: &str = "--format=%x01%H%x00%ct%x00%an%x00%ae%x00";

/// The arguments of `git` that list the versions of `path` (relative to
/// the top of the working tree), newest first.
pub fn log_args(path: &str) -> Vec<String> {
    [
        "-c",
        "log.showSignature=false",
        "log",
        "--follow",
        "--first-parent",
        "--diff-merges=first-parent",
        "--no-abbrev",
        "--raw",
        "-z",
        "--no-color",
        FORMAT,
        "--",
        path,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// A commit, as audit reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The full commit id.
    pub id: String,
    /// Committer time, seconds since the epoch (what `git log` orders by).
    pub time: i64,
    /// Author name.
    pub author: String,
    /// Author email.
    pub email: String,
}

/// One version of the file: the commit that made it and the blob it left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The commit.
    pub commit: Commit,
    /// The file's blob after the commit; `None` when the commit deleted it.
    pub blob: Option<String>,
    /// The file's path in that commit.
    pub path: String,
}

/// Reads the output of `git` run with [`log_args`]: the versions, newest
/// first.
pub fn parse_log(bytes: &[u8]) -> Result<Vec<LogEntry>, AuditError> {
    let bad = |why: &str| AuditError::GitOutput(why.to_owned());
    let mut out = Vec::new();
    for record in bytes.split(|b| *b == 1).filter(|r| !r.is_empty()) {
        let mut fields = record
            .split(|b| *b == 0)
            .map(|f| String::from_utf8_lossy(f).trim().to_owned());
        let (Some(id), Some(time), Some(author), Some(email)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(bad("a commit header is incomplete"));
        };
        if id.len() < 40 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("a commit id is malformed"));
        }
        let time: i64 = time
            .parse()
            .map_err(|_| bad("a commit time is malformed"))?;
        let commit = Commit {
            id,
            time,
            author,
            email,
        };
        // `:old_mode new_mode old_blob new_blob STATUS`, then one path
        // (two for a rename or copy). With --follow only the file's entry.
        let rest: Vec<String> = fields.filter(|f| !f.is_empty()).collect();
        let Some(meta_at) = rest.iter().position(|f| f.starts_with(':')) else {
            continue;
        };
        let meta: Vec<&str> = rest[meta_at].split_whitespace().collect();
        let [_, new_mode, _, new_blob, status] = meta[..] else {
            return Err(bad("a raw diff line is malformed"));
        };
        let paths = if status.starts_with(['R', 'C']) { 2 } else { 1 };
        let Some(path) = rest.get(meta_at + paths) else {
            return Err(bad("a raw diff line has no path"));
        };
        let deleted = status.starts_with('D') || new_blob.bytes().all(|b| b == b'0');
        // A submodule or a symlink is no secrets file.
        let blob = (!deleted && new_mode.starts_with("100")).then(|| new_blob.to_owned());
        out.push(LogEntry {
            commit,
            blob,
            path: path.clone(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "a4e4286936c0aad66b453320ba9c1b3019154407";
    const B: &str = "4bcfe98e640c8284511312660fb8709b0afa888e";
    const Z: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn versions_renames_and_deletions() {
        let mut text = String::new();
        text.push_str(&format!(
            "\x01{A}\x001700000000\x00Alice Example\x00alice@example.com\x00\n:100644 100644 {B} {B} R100\x00old.yaml\x00new.yaml\x00"
        ));
        text.push_str(&format!(
            "\x01{B}\x001690000000\x00Bob\x00bob@example.com\x00\n:100644 000000 {B} {Z} D\x00old.yaml\x00"
        ));
        text.push_str(&format!(
            "\x01{A}\x001680000000\x00Bob\x00bob@example.com\x00\n:000000 100644 {Z} {B} A\x00old.yaml\x00"
        ));
        let log = parse_log(text.as_bytes()).unwrap();
        assert_eq!(log.len(), 3);
        assert_eq!(log[0].path, "new.yaml");
        assert_eq!(log[0].blob.as_deref(), Some(B));
        assert_eq!(log[0].commit.author, "Alice Example");
        assert_eq!(log[0].commit.time, 1_700_000_000);
        assert_eq!(log[1].blob, None);
        assert_eq!(log[2].path, "old.yaml");
        assert!(parse_log(b"\x01zz\x00").is_err());
        assert_eq!(parse_log(b"").unwrap(), vec![]);
    }
}
