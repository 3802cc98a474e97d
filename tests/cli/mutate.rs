//! Mutation test: a writer without a key edits an encrypted file at random
//! (flipped, inserted and deleted bytes, duplicated, dropped and swapped
//! lines). Whatever the edit, `decrypt` must either refuse it cleanly, or
//! give back exactly the data of the original file: never a panic, never an
//! internal error, never a secret in a message, never other data.
//!
//! The files live under a `.botsecrets.yaml`, so the seal is required: a
//! mutation that damages the seal's own field is a refusal too. Each sample
//! runs in the default mode and with `--mac-only-encrypted`, where editing
//! a clear value without the key is the mode's purpose: there the data must
//! be the original's at every other path.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::util::{key1, TestDir, RECIPIENT1};

/// The secrets of the samples; none may appear in a message.
const SECRETS: &[&str] = &[
    "sk_live_mutation_7Qx9",
    "hunter2-mutation-pass",
    "xoxb-mutation-0042",
    "private comment text",
];

/// (file name, plaintext) per format.
fn samples() -> Vec<(&'static str, String)> {
    vec![
        (
            "s.yaml",
            "# private comment text\nstripe:\n  secret_key: sk_live_mutation_7Qx9\n  region_unencrypted: eu\ndb:\n  password: hunter2-mutation-pass\n  port: 5432\n  pool: [1, 2]\nslack: xoxb-mutation-0042\nempty: ''\nnothing: null\n"
                .to_owned(),
        ),
        (
            "s.json",
            "{\n  \"stripe\": {\"secret_key\": \"sk_live_mutation_7Qx9\", \"region_unencrypted\": \"eu\"},\n  \"db\": {\"password\": \"hunter2-mutation-pass\", \"port\": 5432, \"ok\": true},\n  \"slack\": \"xoxb-mutation-0042\",\n  \"empty\": \"\",\n  \"nothing\": null\n}\n"
                .to_owned(),
        ),
        (
            "s.env",
            "# private comment text\nSTRIPE_SECRET_KEY=sk_live_mutation_7Qx9\nREGION_unencrypted=eu\nDB_PASSWORD=hunter2-mutation-pass\nSLACK=xoxb-mutation-0042\nEMPTY=\n"
                .to_owned(),
        ),
    ]
}

/// One edit a writer without a key might make.
#[derive(Debug, Clone)]
enum Mutation {
    /// XOR the byte at (position % len) with a non-zero mask.
    Flip(usize, u8),
    /// Insert a byte from a small set of syntax-relevant ones.
    Insert(usize, u8),
    /// Delete up to n bytes.
    Delete(usize, usize),
    /// Duplicate a line.
    DuplicateLine(usize),
    /// Delete a line.
    DeleteLine(usize),
    /// Swap two lines.
    SwapLines(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let syntax = prop::sample::select(b" \t\n:,{}[]\"'#=-_|>&*!0aAzZ.".to_vec());
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(p, m)| Mutation::Flip(p, m)),
        (any::<usize>(), syntax).prop_map(|(p, b)| Mutation::Insert(p, b)),
        (any::<usize>(), 1usize..8).prop_map(|(p, n)| Mutation::Delete(p, n)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        any::<usize>().prop_map(Mutation::DeleteLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    let len = bytes.len();
    match *m {
        Mutation::Flip(p, mask) => bytes[p % len] ^= mask,
        Mutation::Insert(p, b) => bytes.insert(p % (len + 1), b),
        Mutation::Delete(p, n) => {
            let start = p % len;
            let end = (start + n).min(len);
            bytes.drain(start..end);
        }
        Mutation::DuplicateLine(_) | Mutation::DeleteLine(_) | Mutation::SwapLines(..) => {
            let mut lines: Vec<Vec<u8>> = bytes
                .split_inclusive(|b| *b == b'\n')
                .map(<[u8]>::to_vec)
                .collect();
            let n = lines.len();
            match *m {
                Mutation::DuplicateLine(i) => {
                    let line = lines[i % n].clone();
                    lines.insert(i % n, line);
                }
                Mutation::DeleteLine(i) => {
                    lines.remove(i % n);
                }
                Mutation::SwapLines(a, b) => lines.swap(a % n, b % n),
                _ => unreachable!(),
            }
            *bytes = lines.concat();
        }
    }
}

#[test]
fn random_edits_are_refused_or_change_nothing() {
    let t = TestDir::new();
    t.write(
        ".botsecrets.yaml",
        &format!("creation_rules:\n  - path_regex: ''\n    age: {RECIPIENT1}\n"),
    );
    let key = key1();
    let key = key.to_str().unwrap();
    for (name, plain) in samples() {
        for mac_only in [false, true] {
            t.write(name, &plain);
            let mut encrypt = vec!["encrypt", "--in-place", name];
            if mac_only {
                encrypt.push("--mac-only-encrypted");
            }
            t.run(&encrypt).ok();
            let original = std::fs::read(t.path(name)).unwrap();
            let want = comparable(
                &t.run(&["decrypt", "--identity", key, "--output-type", "json", name])
                    .ok()
                    .stdout(),
                mac_only,
            );
            let mutated_name = format!("m.{name}");
            let mut runner = TestRunner::new(Config {
                cases: 100,
                failure_persistence: None,
                ..Config::default()
            });
            runner
                .run(&prop::collection::vec(mutation(), 1..4), |edits| {
                    let mut bytes = original.clone();
                    for m in &edits {
                        apply(&mut bytes, m);
                    }
                    std::fs::write(t.path(&mutated_name), &bytes).unwrap();
                    let r = t.run(&[
                        "decrypt",
                        "--identity",
                        key,
                        "--output-type",
                        "json",
                        &mutated_name,
                    ]);
                    let stderr = r.stderr();
                    prop_assert!(
                        !stderr.contains("panicked") && !stderr.contains("internal error"),
                        "{name} {edits:?}: {stderr}"
                    );
                    prop_assert!(r.code() != 101, "{name} {edits:?}: exit 101");
                    for secret in SECRETS {
                        prop_assert!(
                            !stderr.contains(secret),
                            "{name} {edits:?} leaked: {stderr}"
                        );
                    }
                    if r.code() == 0 {
                        // Not printed: the data holds the sample secrets.
                        prop_assert!(
                            comparable(&r.stdout(), mac_only) == want,
                            "{name} (mac only: {mac_only}) {edits:?}: decrypt gave other data"
                        );
                    } else {
                        prop_assert!(r.stdout().is_empty(), "{name} {edits:?}: output on refusal");
                    }
                    Ok(())
                })
                .unwrap_or_else(|e| panic!("{name} (mac only: {mac_only}): {e}"));
        }
    }
}

/// The decrypted JSON as data; in `mac_only_encrypted` files, without the
/// clear (`_unencrypted`) values, which a writer without a key may change.
fn comparable(json: &str, mac_only: bool) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        if let serde_json::Value::Object(map) = v {
            for (k, child) in map.iter_mut() {
                if k.ends_with("_unencrypted") {
                    *child = serde_json::Value::Null;
                } else {
                    strip(child);
                }
            }
        }
    }
    let mut v: serde_json::Value = serde_json::from_str(json).expect("decrypt prints JSON");
    if mac_only {
        strip(&mut v);
    }
    v
}
