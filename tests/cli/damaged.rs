//! `check` and damaged files (issue #10, item 7): an encrypted file that no
//! longer parses, has a broken `sops` block or is not UTF-8 is a finding,
//! never skipped; non-UTF-8 files are still scanned for key patterns; the
//! summary says what was skipped and why.

use std::collections::BTreeSet;

use crate::util::*;

const PLAIN: &str = "# bots\npassword: hunter2-secret\nport: 8080\nuser_unencrypted: bob\nlist:\n    - a\n    - b\n";

/// Runs `check --json` on every file in `dir` (with key 1 when `key`);
/// returns the files with findings and the parsed output.
fn check_all(t: &TestDir, names: &[String], key: bool) -> (BTreeSet<String>, serde_json::Value) {
    let mut args = vec!["check".to_owned(), "--json".to_owned()];
    if key {
        args.extend(["--identity".to_owned(), key1().to_str().unwrap().to_owned()]);
    }
    args.extend(names.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = t.run(&args);
    r.leaks_none(&["hunter2-secret"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout()).expect("json");
    let found = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_owned())
        .collect();
    (found, v)
}

#[test]
fn damaged_encrypted_files_are_findings_never_skipped() {
    let t = TestDir::new();
    let enc = t.encrypt("orig.yaml", PLAIN).into_bytes();
    std::fs::create_dir_all(t.path("d")).unwrap();
    let mut truncated = Vec::new();
    let mut all = Vec::new();
    let put = |name: String, bytes: &[u8], list: &mut Vec<String>| {
        std::fs::write(t.path(&name), bytes).unwrap();
        list.push(name);
    };
    // Truncations after the first ENC[...] prefix: parse errors, a
    // missing or broken sops block. (Not inside the last line, `version:
    // 3.11.0`, whose value nothing depends on.)
    let start = "#ENC[AES256_GCM,".len();
    let end = enc[..enc.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap();
    for (n, cut) in (start..end).step_by(5).enumerate() {
        put(format!("d/t{n:03}.yaml"), &enc[..cut], &mut truncated);
    }
    // Invalid UTF-8 anywhere.
    for (n, at) in (0..enc.len()).step_by(17).enumerate() {
        let mut b = enc.clone();
        b[at] = 0xff;
        put(format!("d/u{n:03}.yaml"), &b, &mut truncated);
    }
    // Flipped bytes in every ENC[...] (values, comment, MAC), the
    // recipient and the wrapped data key.
    let text = String::from_utf8(enc.clone()).unwrap();
    let mut offset = 0;
    let mut n = 0;
    for line in text.split_inclusive('\n') {
        let damageable = line.contains("ENC[")
            || line.contains("recipient:")
            || (line.starts_with("            ") && !line.contains("-----"));
        if damageable {
            let from = line.find(|c: char| c != ' ' && c != '-').unwrap();
            for i in from..line.trim_end().len() {
                let at = offset + i;
                let mut b = enc.clone();
                b[at] ^= 0x01;
                put(format!("d/f{n:04}.yaml"), &b, &mut all);
                n += 1;
            }
        }
        offset += line.len();
    }
    all.extend(truncated.iter().cloned());
    assert!(all.len() > 1000, "{}", all.len());
    let (found, v) = check_all(&t, &all, true);
    let missed: Vec<&String> = all.iter().filter(|f| !found.contains(*f)).collect();
    // A flip the format cannot see (a base64 bit that decoding drops, as
    // Go's lenient decoder does) must leave the very same plaintext.
    for f in &missed {
        let d = t.decrypt(f);
        assert_eq!(
            d.ok().stdout(),
            PLAIN,
            "{f} passed check but reads differently"
        );
    }
    assert!(missed.len() < 40, "passed check: {missed:?}");
    assert_eq!(v["checked"], all.len());
    assert_eq!(v["skipped"], serde_json::json!([]));
    // Without a key, truncated and non-UTF-8 files are still findings.
    let (found, _) = check_all(&t, &truncated, false);
    let missed: Vec<&String> = truncated.iter().filter(|f| !found.contains(*f)).collect();
    assert!(missed.is_empty(), "passed check without a key: {missed:?}");
    // The rule ids say what happened.
    let rules: BTreeSet<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect();
    for rule in [
        "bad-syntax",
        "bad-metadata",
        "bad-encoding",
        "bad-value",
        "bad-key",
        "mac-mismatch",
    ] {
        assert!(rules.contains(rule), "{rule} not in {rules:?}");
    }
}

#[test]
fn a_token_in_a_latin1_file_is_found_and_the_summary_says_what_was_skipped() {
    let t = TestDir::new();
    std::fs::create_dir_all(t.path("repo")).unwrap();
    std::fs::write(
        t.path("repo/notes.txt"),
        b"caf\xe9 cr\xe8me\ntoken: ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ\n",
    )
    .unwrap();
    std::fs::write(t.path("repo/logo.png"), [0x89, b'P', b'N', b'G', 0xff, 0]).unwrap();
    std::os::unix::fs::symlink("notes.txt", t.path("repo/link.txt")).unwrap();
    let r = t.run(&["check", "repo"]);
    r.fails_with(210)
        .leaks_none(&["ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"]);
    assert!(
        r.stdout().contains("repo/notes.txt:2: github-token"),
        "{}",
        r.stdout()
    );
    assert!(
        r.stderr().contains(
            "check: 1 problem(s) in 1 file(s); 2 not UTF-8 text (scanned as decoded); 1 skipped (1 symlink or special file)"
        ),
        "{}",
        r.stderr()
    );
    // Clean: the summary still counts them.
    std::fs::remove_file(t.path("repo/notes.txt")).unwrap();
    let r = t.run(&["check", "repo"]);
    r.ok();
    assert!(
        r.stderr().contains(
            "check: 1 file(s) checked, no problems; 1 not UTF-8 text (scanned as decoded); 1 skipped (1 symlink or special file)"
        ),
        "{}",
        r.stderr()
    );
    let r = t.run(&["check", "--json", "repo"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout()).unwrap();
    assert_eq!(v["not_utf8"], serde_json::json!(["repo/logo.png"]));
    assert_eq!(v["skipped"][0]["file"], "repo/link.txt");
}
