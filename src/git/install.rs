//! The text that `botsecrets git install` writes into a repository, and how
//! it recognises its own text again: the pre-commit hook (marked by a
//! comment) and the `.gitattributes` block (between two marker lines).
//! Pure functions; the CLI does the file and `git config` work.
//!
//! Invariants: installing twice gives the same bytes; removing the block
//! from a file we appended it to gives the file back as it was; text we did
//! not write is never changed.

/// The marker line of our hook.
pub const HOOK_MARKER: &str = "# botsecrets: pre-commit hook";

/// The command the hook runs (and that a user adds to their own hook).
pub const HOOK_COMMAND: &str = "botsecrets check --staged";

/// The first line of our `.gitattributes` block.
pub const ATTR_BEGIN: &str = "# botsecrets: begin";
/// The last line of our `.gitattributes` block.
pub const ATTR_END: &str = "# botsecrets: end";

/// The pre-commit hook.
pub fn hook_script() -> String {
    format!(
        "#!/bin/sh\n\
         {HOOK_MARKER} (written by `botsecrets git install`; `botsecrets git install --uninstall` removes it)\n\
         # Blocks commits of unencrypted secrets files and plaintext API keys.\n\
         if ! command -v botsecrets >/dev/null 2>&1; then\n\
         \x20   echo 'botsecrets pre-commit hook: botsecrets is not on PATH; install it, or commit with --no-verify to skip the check' >&2\n\
         \x20   exit 1\n\
         fi\n\
         exec {HOOK_COMMAND}\n"
    )
}

/// Whether a hook file is ours.
pub fn is_our_hook(text: &str) -> bool {
    text.lines().any(|l| l.starts_with(HOOK_MARKER))
}

/// Whether a hook someone else wrote already runs our check (they added the
/// line by hand).
pub fn runs_check(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .any(|l| !l.starts_with('#') && l.contains(HOOK_COMMAND))
}

/// A `.gitattributes` pattern that matches exactly `path` (relative to the
/// repository root, `/` separators): anchored with `/`, glob characters
/// escaped, and C-quoted when it has spaces or quotes.
pub fn attribute_pattern(path: &str) -> String {
    let mut p = String::from("/");
    for c in path.chars() {
        if matches!(c, '*' | '?' | '[' | '\\' | '!' | '#') {
            p.push('\\');
        }
        p.push(c);
    }
    if p.contains([' ', '"', '\t']) {
        let mut q = String::from("\"");
        for c in p.chars() {
            match c {
                '"' => q.push_str("\\\""),
                '\\' => q.push_str("\\\\"),
                '\t' => q.push_str("\\t"),
                c => q.push(c),
            }
        }
        q.push('"');
        q
    } else {
        p
    }
}

/// What every line of our block ends with.
pub const ATTR_VALUES: &str = "diff=botsecrets merge=botsecrets";

/// The lines of our block for these paths (sorted, deduplicated).
fn block(paths: &[String]) -> String {
    block_with(&[], paths)
}

/// Our block: first the patterns derived from the rules (in order), then
/// the exact paths no pattern covers (sorted, deduplicated).
fn block_with(patterns: &[String], paths: &[String]) -> String {
    let mut paths: Vec<&String> = paths.iter().collect();
    paths.sort();
    paths.dedup();
    let mut out = if patterns.is_empty() {
        format!(
            "{ATTR_BEGIN} (written by `botsecrets git install`; re-run it after adding a secrets file)\n"
        )
    } else {
        format!(
            "{ATTR_BEGIN} (written by `botsecrets git install`: patterns from the creation rules, then files they do not cover)\n"
        )
    };
    let mut seen = Vec::new();
    for p in patterns {
        if !seen.contains(&p) {
            out.push_str(&format!("{p} {ATTR_VALUES}\n"));
            seen.push(p);
        }
    }
    for p in paths {
        out.push_str(&attribute_pattern(p));
        out.push(' ');
        out.push_str(ATTR_VALUES);
        out.push('\n');
    }
    out.push_str(ATTR_END);
    out.push('\n');
    out
}

/// [`with_block`] with rule patterns before the exact paths.
pub fn with_block_patterns(existing: &str, patterns: &[String], paths: &[String]) -> String {
    let new = block_with(patterns, paths);
    match find_block(existing) {
        Some(range) => {
            let mut out = existing.to_owned();
            out.replace_range(range, &new);
            out
        }
        None if existing.is_empty() => new,
        None if existing.ends_with('\n') => format!("{existing}{new}"),
        None => format!("{existing}\n{new}"),
    }
}

/// `existing` with a line for `path` added at the end of our block (a new
/// block when there is none); unchanged if the block lists it already.
pub fn with_path_added(existing: &str, path: &str) -> String {
    let line = format!("{} {ATTR_VALUES}\n", attribute_pattern(path));
    match find_block(existing) {
        Some(range) => {
            let block = &existing[range.clone()];
            if block.split_inclusive('\n').any(|l| l == line) {
                return existing.to_owned();
            }
            // Before the end marker line.
            let end_at = range.start + block.rfind(ATTR_END).unwrap_or(block.len());
            let mut out = existing.to_owned();
            out.insert_str(end_at, &line);
            out
        }
        None => with_block(existing, &[path.to_owned()]),
    }
}

/// Where our block is in `text`: the byte range of its lines, line breaks
/// included.
fn find_block(text: &str) -> Option<std::ops::Range<usize>> {
    let mut start = None;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if start.is_none() && bare.starts_with(ATTR_BEGIN) {
            start = Some(at);
        } else if start.is_some() && bare == ATTR_END {
            return Some(start.unwrap_or(0)..at + line.len());
        }
        at += line.len();
    }
    None
}

/// `existing` (the current `.gitattributes`, empty if none) with our block
/// for `paths` in place of the old one, or appended.
pub fn with_block(existing: &str, paths: &[String]) -> String {
    let new = block(paths);
    match find_block(existing) {
        Some(range) => {
            let mut out = existing.to_owned();
            out.replace_range(range, &new);
            out
        }
        None if existing.is_empty() => new,
        None if existing.ends_with('\n') => format!("{existing}{new}"),
        None => format!("{existing}\n{new}"),
    }
}

/// `existing` without our block (unchanged when there is none).
pub fn without_block(existing: &str) -> String {
    match find_block(existing) {
        Some(range) => {
            let mut out = existing.to_owned();
            out.replace_range(range, "");
            out
        }
        None => existing.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_is_idempotent_and_removable() {
        let paths = vec!["secrets.yaml".to_owned(), "bots/prod.env".to_owned()];
        let user = "*.png binary\n";
        let once = with_block(user, &paths);
        assert_eq!(with_block(&once, &paths), once);
        assert_eq!(
            once,
            format!(
                "{user}{}",
                block(&["bots/prod.env".into(), "secrets.yaml".into()])
            )
        );
        assert!(once.contains("/secrets.yaml diff=botsecrets merge=botsecrets\n"));
        assert_eq!(without_block(&once), user);
        // Rewritten in place, with text after it kept.
        let after = format!("{once}*.jpg binary\n");
        let updated = with_block(&after, &["x.json".to_owned()]);
        assert!(updated.ends_with("# botsecrets: end\n*.jpg binary\n"));
        assert!(!updated.contains("secrets.yaml"));
        assert_eq!(without_block("no newline"), "no newline");
        assert_eq!(without_block(&with_block("", &paths)), "");
    }

    #[test]
    fn patterns_come_first_and_paths_are_added_once() {
        let with = with_block_patterns(
            "*.png binary\n",
            &["*secrets.yaml".into()],
            &["x.env".into()],
        );
        assert!(with.contains("# botsecrets: begin (written by `botsecrets git install`: patterns from the creation rules, then files they do not cover)\n*secrets.yaml diff=botsecrets merge=botsecrets\n/x.env diff=botsecrets merge=botsecrets\n# botsecrets: end\n"), "{with}");
        let added = with_path_added(&with, "a/b.json");
        assert!(added.ends_with("/x.env diff=botsecrets merge=botsecrets\n/a/b.json diff=botsecrets merge=botsecrets\n# botsecrets: end\n"), "{added}");
        assert_eq!(with_path_added(&added, "a/b.json"), added);
        assert_eq!(
            with_path_added("", "s.yaml"),
            with_block("", &["s.yaml".into()])
        );
        assert_eq!(without_block(&added), "*.png binary\n");
    }

    #[test]
    fn patterns_match_exactly_one_path() {
        assert_eq!(attribute_pattern("a/s.yaml"), "/a/s.yaml");
        assert_eq!(attribute_pattern("we*ird[1].env"), "/we\\*ird\\[1].env");
        assert_eq!(attribute_pattern("my secrets.yaml"), "\"/my secrets.yaml\"");
    }

    #[test]
    fn hooks_are_recognised() {
        assert!(is_our_hook(&hook_script()));
        assert!(runs_check(&hook_script()));
        let foreign = "#!/bin/sh\nmake lint\n";
        assert!(!is_our_hook(foreign) && !runs_check(foreign));
        assert!(runs_check(
            "#!/bin/sh\nmake lint\nbotsecrets check --staged || exit 1\n"
        ));
        assert!(!runs_check("#!/bin/sh\n# botsecrets check --staged\n"));
    }
}
