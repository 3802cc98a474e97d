//! Encrypting a large file on both cores (issue #14): above the threshold
//! the values are encrypted in two halves on two threads, and the result
//! must be what one pass writes: the same layout, every value encrypted,
//! readable by sops 3.11 and by botsecrets back to the input byte for byte.

use crate::util::*;

/// More values than the two-thread threshold (2048), of every type, with a
/// comment first; `secretvalue` marks the strings (to check for leaks).
pub fn large_yaml(n: usize) -> String {
    let mut text = String::from("# fleet secrets\n");
    for i in 0..n {
        text.push_str(&match i % 4 {
            0 => format!("api_key_{i:05}: sk-live-{i:05}-secretvalue\n"),
            1 => format!("port_{i:05}: {}\n", 1024 + i),
            2 => format!("enabled_{i:05}: {}\n", i % 8 == 2),
            // Floats sops writes back as they were.
            _ => format!("ratio_{i:05}: {}.25\n", i % 10),
        });
    }
    text
}

pub fn large_env(n: usize) -> String {
    (0..n)
        .map(|i| format!("KEY_{i:05}=value-{i:05}-secretvalue\n"))
        .collect()
}

/// Encrypts `plain` as `name`; checks the output's layout is the input's
/// with each value replaced by one `ENC[...]`, no secret shows, and both
/// botsecrets and sops decrypt it to `plain` byte for byte.
fn round_trip(name: &str, plain: &str, sep: &str) {
    let t = TestDir::new();
    t.write(name, plain);
    let r = t.run(&["encrypt", "--age", RECIPIENT1, "-i", name]);
    r.ok().leaks_none(&["secretvalue"]);
    let enc = t.read(name);
    assert!(!enc.contains("secretvalue"), "a value left in clear");
    // The layout: line for line the input's, each value one ENC[...] (the
    // two halves joined in order, nothing lost or doubled at the cut).
    let masked = mask_enc(&enc);
    let body: Vec<&str> = masked.lines().take(plain.lines().count()).collect();
    let want: Vec<String> = plain
        .lines()
        .map(|l| match l.split_once(sep) {
            Some((k, _)) if !l.starts_with('#') => format!("{k}{sep}ENC"),
            _ => "#ENC".to_owned(),
        })
        .collect();
    assert_eq!(body, want, "layout of {name}");
    let back = t.decrypt(name);
    back.ok();
    assert_eq!(back.stdout(), plain, "botsecrets decrypt of {name}");
    let Some(theirs) = sops_decrypt(&t, name) else {
        return;
    };
    assert_eq!(theirs, plain, "sops decrypt of {name}");
}

#[test]
fn a_large_yaml_file_round_trips_through_sops_and_botsecrets() {
    round_trip("fleet.yaml", &large_yaml(5001), ": ");
}

#[test]
fn a_large_dotenv_file_round_trips_through_sops_and_botsecrets() {
    round_trip("fleet.env", &large_env(4097), "=");
}

/// Threads `botsecrets encrypt` starts for `plain` (clone calls under
/// strace), or None without strace.
fn threads_started(plain: &str) -> Option<usize> {
    let t = TestDir::new();
    let file = t.write("f.yaml", plain);
    threads_of(
        &t,
        &["encrypt", "--age", RECIPIENT1, file.to_str().unwrap()],
    )
}

/// Threads `botsecrets ARGS` starts (clone calls under strace; `t` holds
/// the log), or None without strace.
pub fn threads_of(t: &TestDir, args: &[&str]) -> Option<usize> {
    let (out, log) = strace_botsecrets(t, &["-f", "-e", "trace=clone,clone3"], args)?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        log.lines()
            .filter(|l| l.contains("clone") && l.contains("CLONE_THREAD"))
            .count(),
    )
}

#[test]
fn a_large_file_is_encrypted_on_several_threads_and_a_small_one_on_one() {
    let Some(large) = threads_started(&large_yaml(4096)) else {
        return;
    };
    // One for the MAC and then the values from the back (while this one
    // computes the seal digest and takes the values from the front), one
    // for the second half of the safety re-parse of the output (about
    // 500 KiB; the input, about 100 KiB, is below the YAML parallel
    // parse's 128 KiB), one for the second half of the output's seal check.
    assert_eq!(large, 3, "threads for a large file");
    assert_eq!(threads_started(&large_yaml(100)), Some(0), "a small file");
}

/// A large YAML stream has metadata in each document, not only after the
/// last value: the two threads' parts are given up for the one-pass
/// path, and the output is still right (botsecrets and sops read it).
#[test]
fn a_large_yaml_stream_round_trips_through_sops_and_botsecrets() {
    let docs: Vec<String> = (0..2)
        .map(|d| {
            (0..1500)
                .map(|i| format!("k{d}_{i:05}: v{i}-secretvalue\n"))
                .collect()
        })
        .collect();
    let plain = format!("---\n{}---\n{}", docs[0], docs[1]);
    let t = TestDir::new();
    t.write("stream.yaml", &plain);
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "stream.yaml"])
        .ok()
        .leaks_none(&["secretvalue"]);
    let enc = t.read("stream.yaml");
    assert!(!enc.contains("secretvalue"), "a value left in clear");
    assert_eq!(enc.matches("\nsops:\n").count(), 2, "metadata per document");
    let back = t.decrypt("stream.yaml");
    back.ok();
    assert_eq!(back.stdout(), plain);
    let Some(theirs) = sops_decrypt(&t, "stream.yaml") else {
        return;
    };
    // sops drops the stream's leading `---`.
    assert_eq!(theirs, plain[4..]);
}
