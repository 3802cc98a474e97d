//! The plaintext-secret scan of `check` and the pre-commit hook, as it was
//! first called: now a thin view of the engine in [`crate::scan`] (the
//! detector table, secrets-named files, fingerprints), kept so callers of
//! `git::scan` see the same findings as `check`.
//!
//! SECURITY: a finding names the file, the line and the rule, never the
//! matched text.

use crate::scan;

/// A plaintext secret found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// 1-based line (0 for a finding about the whole file).
    pub line: usize,
    /// The rule's id (`aws-access-key`, `dotenv-value`, ...).
    pub rule: &'static str,
    /// What was found, in words (never the text itself).
    pub what: &'static str,
}

impl From<scan::Finding> for Hit {
    fn from(f: scan::Finding) -> Self {
        Hit {
            line: f.line.unwrap_or(0),
            rule: f.detector,
            what: f.what,
        }
    }
}

/// The id and description of every rule, for docs and `--help`.
pub fn rules() -> impl Iterator<Item = (&'static str, &'static str)> {
    scan::rules()
}

/// Whether a name is a dotenv file with real values (not a template).
pub fn is_dotenv_name(name: &str) -> bool {
    scan::secrets_name(name) == Some(scan::SecretsName::Dotenv)
}

/// Scans a plaintext file (see [`scan::scan_plain`]).
pub fn scan(file_name: &str, text: &str) -> Vec<Hit> {
    scan::scan_plain(file_name, text)
        .into_iter()
        .map(Hit::from)
        .collect()
}

/// Scans with the detectors only (no name rules): for the clear values of
/// an encrypted file, whose encrypted ones are `ENC[...]`.
pub fn scan_patterns(text: &str) -> Vec<Hit> {
    scan::scan_text("", text)
        .into_iter()
        .map(Hit::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_matches_the_engine() {
        let token = ["gh", "p_", "q8Zr2LmX0vP4kT7yN3bWc1Fh6Jd9Sa5Ge0Ru"].concat();
        let text = format!("fine: hello\ngh: {token}\nok: AKIAIOSFODNN7EXAMPLE\n");
        assert_eq!(
            scan("config.yaml", &text),
            [Hit {
                line: 2,
                rule: "github-token",
                what: "a GitHub token"
            }]
        );
        assert_eq!(scan(".env", "A=1\n")[0].rule, "dotenv-value");
        assert!(scan(".env.example", "A=1\n").is_empty());
        assert!(scan_patterns("k: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n").is_empty());
        assert!(is_dotenv_name("prod.env") && !is_dotenv_name("notes.txt"));
        assert!(rules().any(|(id, _)| id == "secrets-file"));
    }
}
