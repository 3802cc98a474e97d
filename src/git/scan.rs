//! Finds high-confidence plaintext secrets in files that should not hold
//! them: a small, documented set of patterns for common API key formats
//! (docs/git.md lists them), plus dotenv files with clear values.
//!
//! SECURITY: a finding names the file, the line and the rule, never the
//! matched text.

use std::sync::OnceLock;

use regex::Regex;

/// One pattern: an id, what it finds, and the regex.
struct Pattern {
    id: &'static str,
    what: &'static str,
    regex: &'static str,
}

/// The patterns, each specific enough that a match is very likely real.
const PATTERNS: &[Pattern] = &[
    Pattern {
        id: "aws-access-key",
        what: "an AWS access key id",
        regex: r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    },
    Pattern {
        id: "github-token",
        what: "a GitHub token",
        regex: r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b",
    },
    Pattern {
        id: "slack-token",
        what: "a Slack token",
        regex: r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
    },
    Pattern {
        id: "slack-webhook",
        what: "a Slack webhook URL",
        regex: r"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+",
    },
    Pattern {
        id: "stripe-key",
        what: "a Stripe live key",
        regex: r"\b(?:sk|rk)_live_[A-Za-z0-9]{16,}",
    },
    Pattern {
        id: "openai-key",
        what: "an OpenAI-style API key",
        regex: r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}",
    },
    Pattern {
        id: "private-key",
        what: "a private key block",
        regex: r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
    },
    Pattern {
        id: "age-secret-key",
        what: "an age secret key",
        regex: r"AGE-SECRET-KEY-1[0-9A-Z]{58}",
    },
];

fn compiled() -> &'static Vec<(&'static Pattern, Regex)> {
    static CELL: OnceLock<Vec<(&'static Pattern, Regex)>> = OnceLock::new();
    CELL.get_or_init(|| {
        PATTERNS
            .iter()
            .map(|p| (p, Regex::new(p.regex).expect("built-in pattern compiles")))
            .collect()
    })
}

fn enc_token() -> &'static Regex {
    static CELL: OnceLock<Regex> = OnceLock::new();
    CELL.get_or_init(|| Regex::new(r"ENC\[AES256_GCM,[^\]]*\]").expect("pattern compiles"))
}

/// A plaintext secret found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// 1-based line.
    pub line: usize,
    /// The rule's id (`aws-access-key`, `dotenv-value`, ...).
    pub rule: &'static str,
    /// What was found, in words (never the text itself).
    pub what: &'static str,
}

/// The id and description of every pattern, for docs and `--help`.
pub fn rules() -> impl Iterator<Item = (&'static str, &'static str)> {
    PATTERNS
        .iter()
        .map(|p| (p.id, p.what))
        .chain(std::iter::once((
            "dotenv-value",
            "a value in a dotenv file",
        )))
}

/// Whether a name is a dotenv file with real values (not an example).
pub fn is_dotenv_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let dotenv = name == ".env" || name.starts_with(".env.") || name.ends_with(".env");
    let example = [".example", ".sample", ".template", ".dist", ".defaults"]
        .iter()
        .any(|s| name.ends_with(s));
    dotenv && !example
}

/// Scans a plaintext file. `file_name` decides the dotenv rule. Lines with
/// `botsecrets:allow` are skipped (a reviewed false positive), and so are
/// `ENC[...]` values.
pub fn scan(file_name: &str, text: &str) -> Vec<Hit> {
    scan_with(text, is_dotenv_name(file_name))
}

/// [`scan`] of a file that is not UTF-8 text (Latin-1, binary): invalid
/// bytes become U+FFFD first, so the ASCII key formats are still found.
pub fn scan_bytes(file_name: &str, bytes: &[u8]) -> Vec<Hit> {
    scan(file_name, &String::from_utf8_lossy(bytes))
}

/// Scans with the key patterns only (no dotenv rule): for the clear values
/// of an encrypted file, whose encrypted ones are `ENC[...]`.
pub fn scan_patterns(text: &str) -> Vec<Hit> {
    scan_with(text, false)
}

fn scan_with(text: &str, dotenv: bool) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.contains("botsecrets:allow") {
            continue;
        }
        // Random base64 inside a value's ciphertext must not look like a key.
        let masked;
        let line = if line.contains("ENC[AES256_GCM,") {
            masked = enc_token().replace_all(line, "ENC[]");
            masked.as_ref()
        } else {
            line
        };
        for (p, re) in compiled() {
            if re.is_match(line) {
                hits.push(Hit {
                    line: i + 1,
                    rule: p.id,
                    what: p.what,
                });
            }
        }
        if dotenv {
            let trimmed = line.trim_start();
            if trimmed.starts_with('#') || trimmed.starts_with("sops_") {
                continue;
            }
            if let Some((_, value)) = trimmed.split_once('=') {
                let value = value.trim().trim_matches(['"', '\'']);
                if !value.is_empty() && !value.starts_with("ENC[") {
                    hits.push(Hit {
                        line: i + 1,
                        rule: "dotenv-value",
                        what: "a value in a dotenv file",
                    });
                }
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_kind_without_echoing_it() {
        let text = [
            "aws = AKIAIOSFODNN7EXAMPLE",
            "gh: ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
            "slack: xoxb-1234567890-abcdefghij",
            "hook: https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "stripe: sk_live_0123456789abcdefghij",
            "openai: sk-proj-abcdefghijklmnopqrstuvwxyz0123456789",
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ",
            "fine: hello",
            "ok: AKIAIOSFODNN7EXAMPLE # botsecrets:allow",
            "enc: ENC[AES256_GCM,data:c2stcHJvai0=,iv:x,tag:y,type:str]",
        ]
        .join("\n");
        let hits = scan("config.yaml", &text);
        let rules: Vec<&str> = hits.iter().map(|h| h.rule).collect();
        assert_eq!(
            rules,
            [
                "aws-access-key",
                "github-token",
                "slack-token",
                "slack-webhook",
                "stripe-key",
                "openai-key",
                "private-key",
                "age-secret-key"
            ]
        );
        assert_eq!(
            hits.iter().map(|h| h.line).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6, 7, 8]
        );
        assert!(format!("{hits:?}").find("AKIA").is_none());
    }

    #[test]
    fn tokens_in_latin1_files_are_found() {
        let mut bytes = b"caf\xe9 = 1\ntoken = ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ\n".to_vec();
        bytes.extend(b"\xff\xfe");
        let hits = scan_bytes("notes.ini", &bytes);
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].line, hits[0].rule), (2, "github-token"));
    }

    #[test]
    fn dotenv_values_count_unless_example_or_encrypted() {
        let text = "# comment\nA=\nB=\"\"\nC=real\nD=ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\nsops_version=3.11.0\n";
        assert_eq!(
            scan(".env", text)
                .iter()
                .map(|h| h.line)
                .collect::<Vec<_>>(),
            [4]
        );
        assert_eq!(scan("prod.env", text).len(), 1);
        assert!(scan(".env.example", text).is_empty());
        assert!(scan("notes.txt", text).is_empty());
    }
}
