//! A file with many recipients: the stanza whose recipient an identity
//! owns is tried first (each try is a scalar multiplication), but the
//! labels are only a hint. These tests hold the outcome to what it was
//! when every stanza was tried in file order: our stanza last still opens,
//! a label moved onto another recipient's stanza still opens, and a key
//! file whose `# public key:` comment is wrong still opens.

use crate::util::{key1, tool, TestDir, RECIPIENT1};

/// `n` new age keys made by `age-keygen`: (key file name, recipient).
fn keys(t: &TestDir, n: usize) -> Option<Vec<(String, String)>> {
    let keygen = tool("age-keygen")?;
    let mut out = Vec::new();
    for i in 0..n {
        let name = format!("key{i}.txt");
        let status = std::process::Command::new(&keygen)
            .arg("-o")
            .arg(t.path(&name))
            .output()
            .expect("run age-keygen");
        assert!(status.status.success());
        let text = t.read(&name);
        let recipient = text
            .lines()
            .find_map(|l| l.strip_prefix("# public key: "))
            .expect("age-keygen writes the public key")
            .to_owned();
        out.push((name, recipient));
    }
    Some(out)
}

/// `s.yaml` encrypted to five new keys and then key 1, last.
fn five_then_ours(t: &TestDir) -> Option<Vec<(String, String)>> {
    let others = keys(t, 5)?;
    t.write("s.yaml", "token: tok-5e1f0a\n");
    let mut list: Vec<&str> = others.iter().map(|(_, r)| r.as_str()).collect();
    list.push(RECIPIENT1);
    t.run(&["encrypt", "-i", "--age", &list.join(","), "s.yaml"])
        .ok();
    Some(others)
}

#[test]
fn our_stanza_last_of_six_opens() {
    let t = TestDir::new();
    let Some(others) = five_then_ours(&t) else {
        return;
    };
    let r = t.decrypt("s.yaml");
    r.ok();
    assert_eq!(r.stdout(), "token: tok-5e1f0a\n");
    // And every other recipient opens it too (their stanzas come first).
    let r = t.run(&["decrypt", "--identity", &others[2].0, "s.yaml"]);
    r.ok();
    assert_eq!(r.stdout(), "token: tok-5e1f0a\n");
}

#[test]
fn a_label_moved_onto_another_stanza_still_opens_ours() {
    let t = TestDir::new();
    let Some(others) = five_then_ours(&t) else {
        return;
    };
    // Swap the labels of the first stanza (another key's) and ours: the
    // stanza labelled ours is now another key's, tried first and failed.
    let text = t.read("s.yaml");
    let swapped = text
        .replace(&others[0].1, "@@FIRST@@")
        .replace(RECIPIENT1, &others[0].1)
        .replace("@@FIRST@@", RECIPIENT1);
    assert_ne!(swapped, text);
    t.write("s.yaml", &swapped);
    let r = t.run(&[
        "decrypt",
        "--ignore-mac",
        "--identity",
        key1().to_str().unwrap(),
        "s.yaml",
    ]);
    assert!(
        !r.stderr().contains("no identity") && r.stdout().contains("tok-5e1f0a"),
        "the relabelled file did not open with key 1: {}",
        r.stderr()
    );
}

#[test]
fn a_wrong_public_key_comment_changes_nothing() {
    let t = TestDir::new();
    let Some(others) = five_then_ours(&t) else {
        return;
    };
    // Key 1's file, claiming to be the first other key.
    let key = std::fs::read_to_string(key1()).unwrap();
    let lying = key.replace(RECIPIENT1, &others[0].1);
    assert_ne!(lying, key);
    t.write("lying-key.txt", &lying);
    let r = t.run(&["decrypt", "--identity", "lying-key.txt", "s.yaml"]);
    r.ok();
    assert_eq!(r.stdout(), "token: tok-5e1f0a\n");
}
