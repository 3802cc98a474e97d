//! The fast source against granit: over the yaml-test-suite, every YAML
//! file in testdata, the benchmark's files and thousands of mutations of
//! them, an accepted text must give granit's exact events and spans (byte
//! offsets included, which `Marker`'s equality ignores), and a text granit
//! refuses must be declined. Files that must take the fast path are
//! checked to take it, so the speed cannot vanish silently.

use std::path::{Path, PathBuf};

use granit_parser::{Event, Parser, Span};

use super::{Declined, Fast};

type Evs<'a> = Vec<(Event<'a>, Span)>;

thread_local! {
    /// The line in fast.rs of the last decline.
    pub(super) static LAST_DECLINE: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

fn granit(text: &str) -> Result<Evs<'_>, ()> {
    let mut o = granit_parser::Options::default();
    o.block_scalar_eof_without_line_feed = true;
    Parser::new_from_str_with_options(text, o)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ())
}

fn fast(text: &str) -> Result<Evs<'_>, Declined> {
    let mut f = Fast::new(text)?;
    let mut out = Vec::new();
    while let Some(ev) = f.next_event()? {
        out.push(ev);
    }
    Ok(out)
}

fn offsets(s: &Span) -> (Option<usize>, Option<usize>) {
    (s.start.byte_offset(), s.end.byte_offset())
}

/// Whether the fast source took `text`; panics on any difference.
fn check(name: &str, text: &str) -> bool {
    let Ok(mine) = fast(text) else {
        return false;
    };
    let Ok(theirs) = granit(text) else {
        panic!("{name}: the fast source accepted a text granit refuses:\n{text:?}");
    };
    for (i, (a, b)) in mine.iter().zip(theirs.iter()).enumerate() {
        if a != b || offsets(&a.1) != offsets(&b.1) {
            panic!(
                "{name}: event {i} differs:\n fast:   {:?} {:?}\n granit: {:?} {:?}\ntext: {text:?}",
                a,
                offsets(&a.1),
                b,
                offsets(&b.1)
            );
        }
    }
    assert_eq!(
        mine.len(),
        theirs.len(),
        "{name}: event counts differ:\n fast: {mine:?}\n granit: {theirs:?}\ntext: {text:?}"
    );
    true
}

pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

pub(crate) fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

/// The benchmark's plain file (bench/run.py `make_yaml`).
pub(crate) fn bench_yaml(n: usize) -> String {
    let mut lines = vec!["# generated benchmark secrets".to_owned()];
    let (mut i, mut group) = (0, 0);
    while i < n {
        lines.push(format!("bot_{group:06}:"));
        for field in ["api_key", "token", "port", "enabled", "ratio"] {
            if i >= n {
                break;
            }
            let value = match field {
                "api_key" => format!("sk-live-{group:06}-{}", "x".repeat(24)),
                "token" => format!("tok_{group:08}_abcdefghijklmnop"),
                "port" => (1024 + group % 60000).to_string(),
                "enabled" => "true".to_owned(),
                _ => "0.25".to_owned(),
            };
            lines.push(format!("  {field}: {value}"));
            i += 1;
        }
        group += 1;
    }
    lines.join("\n") + "\n"
}

/// The shape of the benchmark's encrypted file: `ENC[...]` values and a
/// sops block with an `enc: |` armor.
pub(crate) fn bench_encrypted(n: usize) -> String {
    let mut s = String::from("#ENC[AES256_GCM,data:Zm9v,iv:YWJj,tag:ZGVm,type:comment]\n");
    for g in 0..n.div_ceil(5) {
        s.push_str(&format!("bot_{g:06}:\n"));
        for f in ["api_key", "token", "port", "enabled", "ratio"] {
            s.push_str(&format!(
                "    {f}: ENC[AES256_GCM,data:aGVsbG8gd29ybGQ=,iv:MDEyMzQ1Njc4OWFiY2RlZg==,tag:MDEyMzQ1Njc4OWFiY2RlZg==,type:str]\n"
            ));
        }
    }
    s.push_str(
        "sops:\n    age:\n        - recipient: age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n\n          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n            YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBhYmMK\n            -----END AGE ENCRYPTED FILE-----\n    lastmodified: \"2026-01-01T00:00:00Z\"\n    mac: ENC[AES256_GCM,data:YQ==,iv:Yg==,tag:Yw==,type:str]\n    unencrypted_suffix: _unencrypted\n    version: 3.11.0\n",
    );
    s
}

/// Systematic damage and variation of one text.
pub(crate) fn mutations(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = Vec::new();
    let join = |v: &[&str]| v.concat();
    let every = (lines.len() / 40).max(1);
    for i in (0..lines.len()).step_by(every) {
        let mut v = lines.clone();
        v.remove(i);
        out.push(join(&v));
        let mut v = lines.clone();
        v.insert(i, lines[i]);
        out.push(join(&v));
        for (from, to) in [
            ("", " "),
            ("", "  "),
            (" ", ""),
            ("  ", ""),
            ("", "\t"),
            ("", "# c\n"),
            ("", "\n"),
            ("", "- "),
            ("", "---\n"),
            ("", "...\n"),
        ] {
            if let Some(rest) = lines[i].strip_prefix(from) {
                let mut v: Vec<String> = lines.iter().map(|s| (*s).to_owned()).collect();
                v[i] = format!("{to}{rest}");
                out.push(v.concat());
            }
        }
        let body = lines[i].trim_end_matches('\n');
        for tail in [" # c", "#c", " ", ":", ": x", " |", " \"q\"", " '", "\r"] {
            let mut v: Vec<String> = lines.iter().map(|s| (*s).to_owned()).collect();
            v[i] = format!("{body}{tail}\n");
            out.push(v.concat());
        }
        for (a, b) in [
            (": ", ":"),
            (": ", ": \""),
            (": ", ": |\n"),
            (": ", ": |-\n  "),
            ("- ", "-"),
            ("- ", "- - "),
            ("- ", "- a: "),
            ("'", "\""),
            ("\"", "'"),
            ("\\", "\\q"),
            ("|", "|+"),
            ("|", ">"),
            ("|", "|2"),
        ] {
            if lines[i].contains(a) {
                let mut v: Vec<String> = lines.iter().map(|s| (*s).to_owned()).collect();
                v[i] = lines[i].replacen(a, b, 1);
                out.push(v.concat());
            }
        }
    }
    let step = (text.len() / 60).max(1);
    for cut in (0..text.len()).step_by(step) {
        if text.is_char_boundary(cut) {
            out.push(text[..cut].to_owned());
        }
    }
    out.push(text.trim_end_matches('\n').to_owned());
    out.push(format!("{text}\n\n"));
    out.push(format!("{text}# last\n"));
    out.push(format!("\u{feff}{text}"));
    out.push(format!("---\n{text}"));
    out.push(format!("{text}---\n{text}"));
    out.push(format!("{text}...\n"));
    out
}

/// Small texts that exercise one rule each.
pub(crate) const CASES: &[&str] = &[
    "a: 1\n",
    "a:\nb: 1\n",
    "a: # c\nb:\n",
    "a: # c\n  b: 1\n",
    "a: \"q\" # c\n\"k k\": 'it''s'\n",
    "a: |\n  x\n\n\n  y\n\n  e: 1\n",
    "a:\n  b: |-\n    x\n\n  c: 1\n",
    "a: |+\n  x\n\n\nb: 1\n",
    "a: |+\n  x\n\n",
    "a: |\n  x",
    "a: |\n  x\n",
    "a: |-\n  x",
    "a: |  # c\n  x\n",
    "a: |\n  x\n# c\n",
    "a: |\n  x\n  # c\n",
    "a:\n  b: |\n    x\n  # c\n  d: 1\n",
    "--- # c\na: 1\n...\n---\nb: 2\n",
    "---\na: 1\n---\nb: 1\n",
    "a: 1\n...\n# c\n",
    "a: 1\n# c1\n# c2\n",
    "a: 1\n# c1\n\n# c2\n\n",
    "a: 1\n# c",
    "a:\n  - x\n  - y: 1\n    z:\n      - q\nb: 2\n",
    "# top\n\na: 1 # r\n  # ind\nb:\n  # in b\n  c: 2\n",
    "a:\n  b: 1\n# c\nd: 2\n",
    "a:\n  b: 1\n    # deeper\n  c: 2\n  # c2\nd: |\n  x\n # lower\n",
    "\u{feff}a: 1\nb: 2\n",
    "- a: 1\n  b: 2\n- c: 3\n- - x\n  - y\n- a:\n    b: 1\n",
    "a: é\nb: ü # ß\n'ä': \"\\u00e9\\x41\\n\"\n",
    "a: 1\nb: 2",
    "a: \"x\"",
    "a: 1 # c",
    "a:\n- x\n- y\nb: 1\n",
    "a:\n- b: 1\n  c: 2\n- d\ne: 3\n",
    "a:\n  - |\n    x\n  - y\n",
    "a: http://x:8080/y?z#w\nb: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n",
    "a: x: y\n",
    "a: [1, 2]\n",
    "a: []\nb: {} # c\nc:\n  - []\n- x: {}\n",
    "a: []\nb: {} # c\nc:\n  - []\n  - x: {}\n    y: []\n",
    "a: [ ]\nb: []x\nc: [] x\n",
    "a: &x 1\nb: *x\n",
    "a: b\n  c\n",
    "a:\n  b\n",
    "  a: 1\n",
    "a: 1\n b: 2\n",
    "a:\n    b: 1\n  c: 2\n",
    "a: -1\nb: - x\n",
    "a: 'x\n  y'\n",
    "a: \"\\t\\\\\\\"\\/\"\n",
    "",
    "# only\n",
    "---\n",
    "a: 1\n---\n",
    "# a\n---\n# b\na: 1 # c\n... # d\n# e\n---\n# f\nb: 2\n...\n",
    "a:\n  b:\n    c:\n  d:\ne:\n",
    "a:\n  - b: |\n      x\n    c: 'y'\n  - \"z\"\n",
    "a: |-\n  x\n\n\n",
    "a: |+\n  x\n  \n \n",
    "a: |\n   x\n  y\n",
    "k: \"\\u00e9\\x7f\\x80\\ud800\"\n",
    "a: 1 # c  \n# d  \n  #\nb: x :y\n<<: {}\nc: x  \n",
    "- a: |\n   x\n- b: |-\n    y\n  c: 1\n- - - z\n",
    "a:\n  b: 1\n   c: 2\n",
    "- a: 1\n - b\n",
    "a:: 1\nb: c:d\n\"a\\\"b\": 'it''s' # c\n",
    "a:\n\n\n  b: 1\n\n",
    "a: |\n  x\n\n\n",
    "- a\n  # c\n- b\n# d\n- c\n",
    "a:\n  - b\n  # c\nd: 1\n",
    "a:\n- x\n# c\nb: 1\n",
    "\u{feff}# é\na: é\n",
    "-a: 1\na-: 2\n.a: 3\n~: 4\n",
    "a: \"x\\\\\"\nb: \"\nc: 'x'y\n",
    "a: 1\n... # c\n",
    "a:\n      b: 1\n      c:\n        - x\n        -  y\n",
    "a: |\n  x\n  \n  y\n",
    "a: |\n    x\n  y\n",
    "a: \"é\\u00e9\" # é\nb: 'ü'\n",
];

/// Texts built to hit granit's limits.
pub(crate) fn limits() -> Vec<String> {
    let deep = |n: usize| -> String {
        (0..n)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect::<String>()
            + &" ".repeat(n)
            + "v: 1\n"
    };
    let comments = |n: usize| "# c\n".repeat(n) + "a: 1\n";
    let long_key = |n: usize| format!("{}: 1\n", "k".repeat(n));
    vec![
        deep(100),
        deep(199),
        deep(254),
        deep(300),
        comments(60),
        comments(64),
        comments(96),
        comments(200),
        long_key(999),
        long_key(1024),
        long_key(2000),
        format!("a: {}\n", "v".repeat(5000)),
    ]
}

#[test]
fn limits_match_granit() {
    for (i, t) in limits().iter().enumerate() {
        check(&format!("limit {i}"), t);
    }
}

#[test]
fn small_cases_match_granit() {
    let mut fast_n = 0;
    for (i, c) in CASES.iter().enumerate() {
        if check(&format!("case {i}"), c) {
            fast_n += 1;
        }
        for (j, m) in mutations(c).iter().enumerate() {
            check(&format!("case {i} mutation {j}"), m);
        }
    }
    println!("fast path: {fast_n} of {} small cases", CASES.len());
    assert!(fast_n >= 50, "only {fast_n} small cases took the fast path");
}

#[test]
fn corpus_and_mutations_match_granit() {
    let mut files = Vec::new();
    yaml_files(&root(), &mut files);
    assert!(files.len() > 300, "testdata has {} YAML files", files.len());
    let (mut inputs, mut taken) = (0usize, 0usize);
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let name = f.display().to_string();
        inputs += 1;
        taken += usize::from(check(&name, &text));
        for (j, m) in mutations(&text).iter().enumerate() {
            inputs += 1;
            taken += usize::from(check(&format!("{name} mutation {j}"), m));
        }
    }
    for n in [1, 7, 100] {
        for (name, text) in [
            ("bench plain", bench_yaml(n)),
            ("bench encrypted", bench_encrypted(n)),
        ] {
            for (j, m) in mutations(&text).iter().enumerate() {
                inputs += 1;
                taken += usize::from(check(&format!("{name} {n} mutation {j}"), m));
            }
        }
    }
    println!(
        "fast path: {taken} of {inputs} inputs matched granit event for event; the rest declined"
    );
    assert!(inputs > 5000, "only {inputs} inputs");
}

/// The files the speed is for take the fast path: sops-made files, the
/// benchmark's plain and encrypted shapes.
#[test]
fn sops_and_bench_files_take_the_fast_path() {
    let mut must = Vec::new();
    for dir in ["sops", "interop"] {
        let mut v = Vec::new();
        yaml_files(&root().join(dir), &mut v);
        must.extend(v.into_iter().filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.contains(".enc.") || n.starts_with("basic")
        }));
    }
    assert!(!must.is_empty());
    for f in &must {
        let text = std::fs::read_to_string(f).expect("read");
        assert!(
            check(&f.display().to_string(), &text),
            "{} does not take the fast path (declined at fast.rs:{})",
            f.display(),
            LAST_DECLINE.with(|c| c.get())
        );
    }
    for n in [1, 5, 1000] {
        assert!(check("bench plain", &bench_yaml(n)), "bench plain {n}");
        assert!(
            check("bench encrypted", &bench_encrypted(n)),
            "bench enc {n}"
        );
    }
}

/// What a parse gave, for comparing the fast and the granit walks.
fn parse_outcome(
    r: Result<crate::format::yaml::parse::Full<'_>, crate::format::FormatError>,
) -> String {
    match r {
        Ok(full) => format!(
            "{:?}\n{:?}\n{:?}\n{:?}",
            crate::format::testutil::summary(&full.file),
            full.file.leaves,
            full.docs,
            full.step
        ),
        Err(e) => format!("error: {e}"),
    }
}

/// End to end: `parse_full` (fast source, granit after a decline) gives
/// what the walk over granit's events gives, leaves, layout and errors
/// alike, also where the fast source declines only after many events.
#[test]
fn parse_full_is_unchanged_by_the_fast_source() {
    use crate::format::yaml::parse::{parse_full, parse_full_with_events};
    let mut files = Vec::new();
    yaml_files(&root(), &mut files);
    let mut texts: Vec<(String, String)> = CASES
        .iter()
        .map(|c| ("case".to_owned(), (*c).to_owned()))
        .collect();
    for f in &files {
        if let Ok(t) = std::fs::read_to_string(f) {
            let name = f.display().to_string();
            for (j, m) in mutations(&t).into_iter().enumerate().step_by(7) {
                texts.push((format!("{name} mutation {j}"), m));
            }
            texts.push((name, t));
        }
    }
    let late = format!("{}a: &x 1\nb: *x\n", bench_yaml(50));
    texts.push(("late decline".to_owned(), late.clone()));
    texts.push((
        "late decline, dup key".to_owned(),
        format!("{}bot_000000: 1\n{late}", bench_yaml(50)),
    ));
    for (name, text) in &texts {
        let fast = parse_outcome(parse_full(text));
        let slow = parse_outcome(parse_full_with_events(text));
        assert_eq!(fast, slow, "{name}: parse differs for {text:?}");
    }
}

/// A control character, DEL or carriage return at any offset of a long
/// line (the sixteen-byte steps and the tail) declines; a line break at
/// any offset ends the line.
#[test]
fn control_characters_decline_at_every_offset() {
    for n in 0..40 {
        for c in ['\u{1}', '\u{7f}', '\r', '\t', '\u{0}', '\u{1f}'] {
            // ASCII texts and others take different checks.
            for lead in ["", "é: 1\n"] {
                let t = format!("{lead}a: {}{c}{}\nb: 1\n", "x".repeat(n), "y".repeat(n % 7));
                assert!(fast(&t).is_err(), "{t:?} was not declined");
            }
        }
        for c in [' ', '~', '\u{80}', 'é'] {
            let t = format!("a: x{}{c}{}\nb: 1\n", "x".repeat(n), "y".repeat(n % 7));
            let declined = matches!(c, '\u{80}');
            assert_eq!(fast(&t).is_err(), declined, "{t:?}");
        }
        let t = format!("a: {}\nb: {}\n", "x".repeat(n + 1), "y".repeat(n % 17 + 1));
        assert!(check("offsets", &t), "{t:?} did not take the fast path");
    }
}
