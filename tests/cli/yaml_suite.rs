//! The yaml-test-suite as a conformance test (issue 14, "YAML coverage").
//!
//! Every case of `testdata/yaml-test-suite/` is run through the real binary:
//! - a case with an `error` file (invalid YAML) must be refused with exit 2
//!   and a message that is not an internal error;
//! - a case whose documents are not all mappings (a scalar or a sequence at
//!   the top level) must be refused with exit 2; an empty document (no node
//!   at all, JSON `null`) is read as an empty mapping, as sops reads it;
//! - an in-scope case (every document a mapping) that sops 3.11 encrypts
//!   (the list in `sops-encrypts.txt`, made once by `sops-encrypts.py`)
//!   must be encrypted, and decrypting it must give the data of `in.json`;
//!   an in-scope case sops refuses may be refused (exit 2), or else it too
//!   must round-trip;
//! - no case may end in an internal error (exit 1 "internal error").
//!
//! The decrypted data is read back with the library's own YAML reader
//! (leaves, aliases and empty collections) and compared with `in.json`
//! per document; numbers compare by value. The test prints how many
//! in-scope cases come back byte for byte.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use botsecrets::format::{FormatKind, LeafKind, ValueType};
use botsecrets::path::Segment;
use serde_json::Value;

use crate::util::*;

fn suite() -> PathBuf {
    testdata().join("yaml-test-suite")
}

/// Every case directory (with an `in.yaml`), as a path relative to the
/// suite (`229Q`, `4MUZ/00`, ...).
fn cases() -> Vec<String> {
    fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().unwrap().is_dir())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().into_string().unwrap();
            let rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if e.path().join("in.yaml").exists() {
                out.push(rel.clone());
            }
            walk(&e.path(), &rel, out);
        }
    }
    let mut out = Vec::new();
    walk(&suite(), "", &mut out);
    out
}

/// Cases sops encrypts that botsecrets refuses on purpose, and a part of
/// the message they must get. An alias as a key (`*a : x`) names an
/// encrypted value: sops writes that value's plaintext as the key, in the
/// clear. An alias to a key (`&k key:` ... `v: *k`) is a value that is
/// not a leaf, so it could be neither encrypted nor kept.
const REFUSED_ON_PURPOSE: &[(&str, &str)] = &[
    ("26DV", "an alias (*name) as a mapping key"),
    ("E76Z", "an alias (*name) as a mapping key"),
    ("HMQ5", "an alias (*name) to a mapping key"),
];

fn sops_encrypts() -> BTreeSet<String> {
    std::fs::read_to_string(suite().join("sops-encrypts.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// The JSON values of `in.json`, one per document.
fn json_docs(text: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .map(|v| v.unwrap())
        .collect()
}

/// The data of each document of `text` as the library reads it.
fn yaml_docs(text: &str) -> Result<Vec<Value>, String> {
    let parsed = FormatKind::Yaml
        .syntax()
        .parse(text)
        .map_err(|e| e.to_string())?;
    let mut docs = vec![Value::Object(Default::default()); parsed.documents.max(1)];
    // Empty collections first (their position only orders them; object
    // equality ignores order), then the values.
    for e in &parsed.empties {
        let v = if e.is_map {
            Value::Object(Default::default())
        } else {
            Value::Array(Vec::new())
        };
        insert_at(&mut docs[e.document], e.path.segments(), v);
    }
    for (path, i) in parsed.values_in_order() {
        let leaf = &parsed.leaves[i];
        let v = match leaf.kind {
            LeafKind::Null => Value::Null,
            LeafKind::Comment => continue,
            LeafKind::Value(ValueType::Str) => Value::String(leaf.value.expose().to_owned()),
            // A YAML 1.2 (core schema) reader, as in.json was made, reads
            // timestamps as strings: the text as written.
            LeafKind::Value(ValueType::Time) => Value::String(text[leaf.span.clone()].to_owned()),
            LeafKind::Value(ValueType::Bool) => Value::Bool(leaf.value.expose() == "true"),
            LeafKind::Value(_) => match serde_json::from_str::<Value>(leaf.value.expose()) {
                Ok(n @ Value::Number(_)) => n,
                _ => Value::String(format!("<number {}>", leaf.value.expose().len())),
            },
        };
        insert_at(&mut docs[leaf.document as usize], path.segments(), v);
    }
    Ok(docs)
}

fn insert_at(node: &mut Value, path: &[Segment], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        *node = value;
        return;
    };
    match first {
        Segment::Key(k) => {
            if !node.is_object() {
                *node = Value::Object(Default::default());
            }
            let child = node
                .as_object_mut()
                .unwrap()
                .entry(k.clone())
                .or_insert(Value::Null);
            insert_at(child, rest, value);
        }
        Segment::Index(i) => {
            if !node.is_array() {
                *node = Value::Array(Vec::new());
            }
            let a = node.as_array_mut().unwrap();
            while a.len() <= *i {
                a.push(Value::Null);
            }
            insert_at(&mut a[*i], rest, value);
        }
    }
}

/// Data equality with numbers compared by value (`450.00` is `450`).
fn same_data(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x.to_string() == y.to_string() || x.as_f64().is_some() && x.as_f64() == y.as_f64()
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_data(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_data(v, w)))
        }
        _ => a == b,
    }
}

#[derive(Default)]
struct Tally {
    failures: Vec<String>,
    refused_errors: usize,
    refused_out_of_scope: usize,
    in_scope: usize,
    in_scope_refused: usize,
    round_trips: usize,
    byte_for_byte: usize,
}

fn run_case(case: &str, sops: &BTreeSet<String>, tally: &Mutex<Tally>) {
    let dir = suite().join(case);
    let input = std::fs::read(dir.join("in.yaml")).unwrap();
    let invalid = dir.join("error").exists();
    let expected = std::fs::read_to_string(dir.join("in.json"))
        .ok()
        .map(|t| json_docs(&t));
    // In scope: every document a mapping (an empty document reads as one).
    let in_scope = expected.as_ref().is_some_and(|docs| {
        docs.iter().any(Value::is_object) && docs.iter().all(|d| d.is_object() || d.is_null())
    });
    let empty_only = expected
        .as_ref()
        .is_some_and(|docs| docs.iter().all(Value::is_null));
    let fail = |msg: String| {
        tally
            .lock()
            .unwrap()
            .failures
            .push(format!("{case}: {msg}"))
    };

    let t = TestDir::new();
    std::fs::write(t.path("in.yaml"), &input).unwrap();
    let enc = t.run(&["encrypt", "--age", RECIPIENT1, "in.yaml"]);
    let stderr = enc.stderr();
    if stderr.contains("internal error") || enc.code() == 101 {
        return fail(format!(
            "encrypt: internal error: {}",
            stderr.lines().next().unwrap_or("")
        ));
    }
    if invalid {
        if enc.code() != 2 {
            return fail(format!("invalid YAML accepted (exit {})", enc.code()));
        }
        tally.lock().unwrap().refused_errors += 1;
        return;
    }
    if enc.code() == 0 && REFUSED_ON_PURPOSE.iter().any(|(c, _)| *c == case) {
        return fail("encrypted, but it is listed as refused on purpose".into());
    }
    if enc.code() != 0 {
        if enc.code() != 2 {
            return fail(format!(
                "refused with exit {}: {}",
                enc.code(),
                stderr.lines().next().unwrap_or("")
            ));
        }
        if let Some((_, why)) = REFUSED_ON_PURPOSE.iter().find(|(c, _)| *c == case) {
            if !stderr.contains(why) {
                return fail(format!("refused without saying {why:?}: {stderr}"));
            }
            tally.lock().unwrap().in_scope_refused += 1;
            return;
        }
        if in_scope {
            if sops.contains(case) {
                return fail(format!(
                    "sops encrypts it, botsecrets refuses: {}",
                    stderr.lines().next().unwrap_or("")
                ));
            }
            tally.lock().unwrap().in_scope_refused += 1;
        } else {
            tally.lock().unwrap().refused_out_of_scope += 1;
        }
        return;
    }
    // Encrypted. Out of scope only when every document is empty, or when
    // the suite has no JSON form (a key that JSON cannot hold); a scalar or
    // a list at the top level must have been refused.
    if expected.is_some() && !in_scope && !empty_only {
        return fail("a top level that is not a mapping was accepted".into());
    }
    std::fs::write(t.path("in.enc.yaml"), enc.stdout()).unwrap();
    let dec = t.decrypt("in.enc.yaml");
    if dec.code() != 0 {
        return fail(format!(
            "decrypt failed with exit {}: {}",
            dec.code(),
            dec.stderr().lines().next().unwrap_or("")
        ));
    }
    let out = dec.stdout();
    if let (Some(want), true) = (&expected, in_scope) {
        match yaml_docs(&out) {
            Err(e) => return fail(format!("the decrypted text does not parse: {e}")),
            Ok(got) => {
                // An empty document holds no data: it compares as `{}`.
                let want: Vec<Value> = want
                    .iter()
                    .map(|d| {
                        if d.is_null() {
                            Value::Object(Default::default())
                        } else {
                            d.clone()
                        }
                    })
                    .collect();
                let got: Vec<Value> = got.into_iter().take(want.len()).collect();
                if got.len() != want.len() || !got.iter().zip(&want).all(|(a, b)| same_data(a, b)) {
                    return fail(format!(
                        "decrypts to other data:\n  got  {}\n  want {}",
                        Value::Array(got),
                        Value::Array(want)
                    ));
                }
            }
        }
    }
    let mut t = tally.lock().unwrap();
    if in_scope {
        t.in_scope += 1;
        t.round_trips += 1;
        if out.as_bytes() == input.as_slice() {
            t.byte_for_byte += 1;
        }
    }
}

#[test]
fn yaml_test_suite() {
    let cases = cases();
    assert!(
        cases.len() > 400,
        "the suite is in testdata ({})",
        cases.len()
    );
    let sops = sops_encrypts();
    assert!(sops.len() > 100, "sops-encrypts.txt lists the sops cases");
    let tally = Mutex::new(Tally::default());
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                run_case(case, &sops, &tally);
            });
        }
    });
    let t = tally.into_inner().unwrap();
    println!(
        "yaml-test-suite: {} cases; {} invalid refused; {} out of scope refused; \
         {} in scope round-trip ({} byte for byte), {} in scope refused (sops refuses them, or REFUSED_ON_PURPOSE)",
        cases.len(),
        t.refused_errors,
        t.refused_out_of_scope,
        t.round_trips,
        t.byte_for_byte,
        t.in_scope_refused,
    );
    assert!(
        t.failures.is_empty(),
        "{} failures:\n{}",
        t.failures.len(),
        t.failures.join("\n")
    );
}
