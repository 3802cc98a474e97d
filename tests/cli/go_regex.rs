//! Selection regexes and `path_regex` mean what they mean to sops (Go's
//! RE2), not what the `regex` crate would make of the same text: with
//! `unencrypted_regex: ^\w+$`, `café: ...` was left in clear where sops
//! encrypts it (`\w` is ASCII in Go). The real sops is the oracle: for
//! each pattern, both tools encrypt the same file and must encrypt the
//! same values.

use crate::util::*;

/// Keys that tell Go's meaning from the `regex` crate's: non-ASCII
/// letters and digits, class punctuation, word boundaries next to é.
const KEYS: &[&str] = &[
    "café",
    "cafe_2",
    "٣",
    "3",
    "naïve.key",
    "plain.key",
    "ékeyé",
    "a key here",
    "monkeys",
    "[a[",
    "a&b",
    "~",
    ",",
    "-a",
    "]a",
    "b",
    "]",
    "ab_",
    "é",
    "λ",
    "ABC",
    "a.b*",
    "axb",
    "[x] and more",
    "password",
    "stringData",
    "api_secret",
    "x9",
    "x\u{a0}y",
    "\u{342}",
];

/// Patterns both tools accept, each near one of the differences.
const PATTERNS: &[&str] = &[
    r"^\w+$",
    r"^\W",
    r"^\d$",
    r"^\D$",
    r"\s",
    r"^\S+$",
    r"^[\w.]+$",
    r"^[^\W]+$",
    r"^[\S\d]+$",
    r"\bkey\b",
    r"\Bkey\B",
    r"^[[a]+$",
    r"^[a&&b]+$",
    r"^[a~~b]+$",
    r"^[+--]+$",
    r"^[a-]+$",
    r"^[]a]+$",
    r"^[^]a]$",
    r"^[[:alpha:]_]+$",
    r"^[\p{Greek}]$",
    r"^\pL+$",
    r"^\Qa.b*\E$",
    r"^\Q[x]",
    r"(?i)^PASS",
    r"^(data|stringData)$",
    r"_secret$",
    r"^\141\142_$",
    r"^[\141-\142]+$",
    r"^\p{^Greek}$",
    r"^[\P{^Greek}]$",
    r"^\p{Any}$",
];

/// For each top-level line of an encrypted YAML text, whether its value is
/// encrypted (the keys are in the input's order in both tools' output).
fn encrypted_lines(text: &str) -> Vec<bool> {
    text.lines()
        .take_while(|l| !l.starts_with("sops:"))
        .map(|l| l.contains(": ENC["))
        .collect()
}

fn plaintext() -> String {
    KEYS.iter()
        .map(|k| format!("{}: v\n", serde_json::to_string(k).unwrap()))
        .collect()
}

#[test]
fn selection_regexes_select_what_sops_selects() {
    let Some(sops_bin) = tool("sops") else { return };
    let t = TestDir::new();
    t.write("in.yaml", &plaintext());
    let input = t.path("in.yaml");
    let input = input.to_str().unwrap();
    let mut compared = 0;
    let mut wrong = Vec::new();
    for option in ["--encrypted-regex", "--unencrypted-regex"] {
        for pattern in PATTERNS {
            let what = format!("{option} '{pattern}'");
            let theirs = sops_env(
                &sops_bin,
                &[],
                &["encrypt", "--age", RECIPIENT1, option, pattern, input],
            );
            assert!(
                theirs.status.success(),
                "sops refused {what}: {}",
                String::from_utf8_lossy(&theirs.stderr)
            );
            let ours = t.run(&["encrypt", "--age", RECIPIENT1, option, pattern, "in.yaml"]);
            compared += 1;
            if ours.code() != 0 {
                wrong.push(format!("{what}: refused: {}", ours.stderr().trim()));
                continue;
            }
            let theirs = encrypted_lines(&String::from_utf8(theirs.stdout).unwrap());
            let ours_lines = encrypted_lines(&ours.stdout());
            assert_eq!(theirs.len(), KEYS.len(), "{what}");
            let differ: Vec<_> = KEYS
                .iter()
                .zip(theirs.iter().zip(&ours_lines))
                .filter(|(_, (a, b))| a != b)
                .map(|(k, (a, _))| format!("{k:?} (sops encrypts it: {a})"))
                .collect();
            if !differ.is_empty() {
                wrong.push(format!("{what}: {differ:?}"));
            }
        }
    }
    assert_eq!(compared, 2 * PATTERNS.len());
    assert!(
        wrong.is_empty(),
        "{} of {compared} differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn path_regex_matches_the_files_sops_matches() {
    let Some(sops_bin) = tool("sops") else { return };
    let t = TestDir::new();
    t.write(
        ".sops.yaml",
        &format!("creation_rules:\n  - path_regex: '^\\w+\\.yaml$'\n    age: {RECIPIENT1}\n"),
    );
    for (name, sops_matches) in [("cafe.yaml", true), ("café.yaml", false)] {
        t.write(name, "token: s3cret\n");
        let theirs = sops_env(
            &sops_bin,
            &[],
            &[
                "--config",
                t.path(".sops.yaml").to_str().unwrap(),
                "encrypt",
                t.path(name).to_str().unwrap(),
            ],
        );
        assert_eq!(theirs.status.success(), sops_matches, "sops on {name}");
        let ours = t.run(&["encrypt", name]);
        assert_eq!(
            ours.0.status.success(),
            sops_matches,
            "{name}: {}",
            ours.stderr()
        );
        if !sops_matches {
            assert!(
                ours.stderr().contains("no creation rule matches"),
                "{}",
                ours.stderr()
            );
            ours.leaks_none(&["s3cret"]);
        }
    }
}

#[test]
fn a_bad_pattern_on_the_command_line_names_the_flag_and_quotes_the_pattern() {
    let t = TestDir::new();
    t.write("in.yaml", "token: s3cret\n");
    let r = t.run(&[
        "encrypt",
        "--age",
        RECIPIENT1,
        "--encrypted-regex",
        r"^(\w+",
        "in.yaml",
    ]);
    r.fails_with(1);
    let err = r.stderr();
    assert!(
        err.starts_with("botsecrets: --encrypted-regex: not a valid regular expression: "),
        "{err}"
    );
    // The pattern as typed, not its rewrite for the regex crate.
    assert!(err.contains(r"^(\w+"), "{err}");
    assert!(!err.contains("0-9A-Za-z_"), "{err}");
    assert_eq!(r.stdout(), "");
    assert_eq!(t.read("in.yaml"), "token: s3cret\n");
}
