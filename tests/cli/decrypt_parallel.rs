//! Decrypting a large file on both cores (issue #14): above the threshold
//! the plaintext is rendered in two parts on two threads and joined in
//! order, and the output must be what one pass writes: for a file sops
//! made, byte for byte what `sops decrypt` prints.

use crate::encrypt_parallel::{large_env, large_yaml, threads_of};
use crate::util::*;

/// sops encrypts `plain` as `name`; botsecrets decrypts it to what sops
/// decrypts it to, byte for byte, without showing a secret on stderr.
fn same_as_sops(name: &str, plain: &str) {
    let Some(sops_bin) = tool("sops") else { return };
    let t = TestDir::new();
    let file = t.write(name, plain);
    let made = sops(
        &sops_bin,
        &key1(),
        &["encrypt", "--age", RECIPIENT1, "-i", file.to_str().unwrap()],
    );
    assert!(
        made.status.success(),
        "sops cannot encrypt {name}: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let theirs = sops(&sops_bin, &key1(), &["decrypt", file.to_str().unwrap()]);
    assert!(theirs.status.success(), "sops cannot decrypt {name}");
    let ours = t.decrypt(name);
    ours.ok();
    assert!(
        !ours.stderr().contains("secretvalue"),
        "stderr shows a secret"
    );
    assert_eq!(
        ours.stdout(),
        String::from_utf8(theirs.stdout).unwrap(),
        "botsecrets and sops decrypt {name} differently"
    );
}

#[test]
fn a_large_sops_yaml_file_decrypts_as_sops_decrypts_it() {
    same_as_sops("fleet.yaml", &large_yaml(5001));
}

#[test]
fn a_large_sops_dotenv_file_decrypts_as_sops_decrypts_it() {
    same_as_sops("fleet.env", &large_env(4097));
}

/// Comments (encrypted, as sops does) and clear values on both sides of
/// the cut come back in place.
#[test]
fn a_large_file_with_comments_and_clear_values_decrypts_to_its_input() {
    let t = TestDir::new();
    let mut plain = String::from("# fleet\n");
    for i in 0..4000 {
        if i % 97 == 0 {
            plain.push_str(&format!("# group {i}\n"));
        }
        if i % 10 == 3 {
            plain.push_str(&format!("note_{i:04}_unencrypted: clear {i}\n"));
        } else {
            plain.push_str(&format!("key_{i:04}: \"v{i}: secretvalue\"\n"));
        }
    }
    plain.push_str("# end\n");
    t.write("big.yaml", &plain);
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "big.yaml"])
        .ok();
    let back = t.decrypt("big.yaml");
    back.ok();
    assert!(
        !back.stderr().contains("secretvalue"),
        "stderr shows a secret"
    );
    assert_eq!(back.stdout(), plain);
}

#[test]
fn a_large_file_is_decrypted_on_several_threads_and_a_small_one_on_one() {
    let t = TestDir::new();
    t.write("big.yaml", &large_yaml(4096));
    t.write("small.yaml", &large_yaml(100));
    for f in ["big.yaml", "small.yaml"] {
        t.run(&["encrypt", "--age", RECIPIENT1, "-i", f]).ok();
    }
    let key = key1();
    let threads = |f: &str| {
        let path = t.path(f);
        threads_of(
            &t,
            &[
                "decrypt",
                "--identity",
                key.to_str().unwrap(),
                path.to_str().unwrap(),
            ],
        )
    };
    let Some(large) = threads("big.yaml") else {
        return;
    };
    // The second half of the parse (the file is about 500 KiB: above the
    // YAML parallel parse's 128 KiB), the seal digest, the second half of
    // the values, the second part of the plaintext.
    assert_eq!(large, 4, "threads for a large file");
    assert_eq!(threads("small.yaml"), Some(0), "a small file");
}
