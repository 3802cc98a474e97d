//! Interop with the real tools, both directions: sops-made files decrypt
//! with botsecrets to the data `sops decrypt` gives; files botsecrets
//! encrypts decrypt with `sops decrypt` to the original data, and each
//! wrapped data key opens with `age -d`.

use botsecrets::format::FormatKind;

use crate::util::*;

fn sops_sample(name: &str) -> std::path::PathBuf {
    testdata().join("sops").join(name)
}

/// botsecrets and sops decrypt the sops-made sample to the same values.
fn same_as_sops(name: &str, kind: FormatKind) {
    let Some(sops_bin) = tool("sops") else { return };
    let t = TestDir::new();
    let text = std::fs::read_to_string(sops_sample(name)).unwrap();
    t.write(name, &text);
    let ours = t.decrypt(name);
    ours.ok();
    let theirs = sops(
        &sops_bin,
        &key1(),
        &["decrypt", sops_sample(name).to_str().unwrap()],
    );
    assert!(
        theirs.status.success(),
        "sops failed: {}",
        String::from_utf8_lossy(&theirs.stderr)
    );
    let theirs = String::from_utf8(theirs.stdout).unwrap();
    assert_eq!(
        values_of(&ours.stdout(), kind),
        values_of(&theirs, kind),
        "{name}"
    );
}

#[test]
fn sops_yaml_samples_decrypt_like_sops() {
    for name in [
        "basic.enc.yaml",
        "basic.edited.enc.yaml",
        "multidoc.enc.yaml",
        "maconly.enc.yaml",
    ] {
        same_as_sops(name, FormatKind::Yaml);
    }
}

#[test]
fn sops_json_sample_decrypts_like_sops() {
    same_as_sops("basic.enc.json", FormatKind::Json);
}

#[test]
fn sops_dotenv_and_ini_samples_decrypt_like_sops() {
    same_as_sops("basic.enc.env", FormatKind::Dotenv);
    same_as_sops("basic.enc.ini", FormatKind::Ini);
}

/// Quotes in dotenv values are part of the value, in both tools, both
/// ways; what a program sees (exec) is what a dotenv loader reads.
#[test]
fn dotenv_quotes_are_kept_like_sops_and_unquoted_for_programs() {
    let plain = "A=\"a b\"\nB='x'\nC=plain\n";
    let t = TestDir::new();
    t.write("q.env", plain);
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "q.env"]).ok();
    assert_eq!(t.decrypt("q.env").ok().stdout(), plain);
    let out = t
        .cmd()
        .args([
            "exec",
            "--identity",
            key1().to_str().unwrap(),
            "--file",
            "q.env",
            "--",
            "sh",
            "-c",
            "printf '%s|%s|%s' \"$A\" \"$B\" \"$C\"",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "a b|x|plain");
    let Some(sops_bin) = tool("sops") else { return };
    let theirs = sops(
        &sops_bin,
        &key1(),
        &["decrypt", t.path("q.env").to_str().unwrap()],
    );
    assert!(theirs.status.success());
    assert_eq!(
        String::from_utf8(theirs.stdout).unwrap(),
        plain,
        "sops keeps the quotes too"
    );
    // And the other way: sops encrypts the quotes as part of the value.
    let src = t.write("s.env", plain);
    let enc = sops(
        &sops_bin,
        &key1(),
        &["encrypt", "--age", RECIPIENT1, src.to_str().unwrap()],
    );
    t.write("from-sops.env", &String::from_utf8(enc.stdout).unwrap());
    assert_eq!(t.decrypt("from-sops.env").ok().stdout(), plain);
}

#[test]
fn sops_shamir_sample_needs_both_keys() {
    let t = TestDir::new();
    let text = std::fs::read_to_string(sops_sample("shamir.enc.yaml")).unwrap();
    t.write("shamir.enc.yaml", &text);
    let both = format!(
        "{}\n{}",
        std::fs::read_to_string(key1()).unwrap(),
        std::fs::read_to_string(key2()).unwrap()
    );
    let r = t
        .cmd()
        .args(["decrypt", "shamir.enc.yaml"])
        .env("BOTSECRETS_AGE_KEY", both)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let plain = std::fs::read_to_string(sops_sample("shamir.yaml")).unwrap();
    assert_eq!(
        values_of(&String::from_utf8(r.stdout).unwrap(), FormatKind::Yaml),
        values_of(&plain, FormatKind::Yaml)
    );
    let r = t.decrypt("shamir.enc.yaml");
    r.fails_with(128);
}

/// botsecrets encrypts `plain`; sops decrypts it to the same values; the
/// data key opens with `age -d` for each recipient.
fn sops_reads_ours(name: &str, plain: &str, kind: FormatKind, extra: &[&str]) {
    let t = TestDir::new();
    t.write(name, plain);
    let both = format!("{RECIPIENT1},{RECIPIENT2}");
    let mut args = vec!["encrypt", "--age", &both, "-i", name];
    args.extend_from_slice(extra);
    t.run(&args).ok();
    let enc = t.read(name);
    let Some(sops_bin) = tool("sops") else { return };
    for key in [key1(), key2()] {
        let out = sops(
            &sops_bin,
            &key,
            &["decrypt", t.path(name).to_str().unwrap()],
        );
        assert!(
            out.status.success(),
            "sops cannot decrypt ours ({name}): {}\n{enc}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs = String::from_utf8(out.stdout).unwrap();
        assert_eq!(values_of(&theirs, kind), values_of(plain, kind), "{name}");
    }
    let Some(age_bin) = tool("age") else { return };
    let parsed = kind.syntax().parse(&enc).unwrap();
    let meta = botsecrets::metadata::Metadata::from_tree(parsed.metadata_tree().unwrap()).unwrap();
    let stanzas = &meta.key_groups[0].age;
    assert_eq!(stanzas.len(), 2);
    for (stanza, key) in stanzas.iter().zip([key1(), key2()]) {
        let armored = t.write("stanza.age", &stanza.enc);
        let out = std::process::Command::new(&age_bin)
            .args(["-d", "-i", key.to_str().unwrap(), armored.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "age -d: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            out.stdout.len(),
            32,
            "the payload is the raw 32-byte data key"
        );
    }
}

fn corpus(name: &str) -> String {
    std::fs::read_to_string(testdata().join("interop").join(name)).unwrap()
}

#[test]
fn sops_decrypts_our_yaml() {
    sops_reads_ours("nested.yaml", &corpus("nested.yaml"), FormatKind::Yaml, &[]);
    sops_reads_ours(
        "anchors.yaml",
        &corpus("anchors.yaml"),
        FormatKind::Yaml,
        &[],
    );
    sops_reads_ours(
        "multidoc.yaml",
        &corpus("multidoc.yaml"),
        FormatKind::Yaml,
        &[],
    );
    sops_reads_ours(
        "basic.yaml",
        &std::fs::read_to_string(sops_sample("basic.yaml")).unwrap(),
        FormatKind::Yaml,
        &[],
    );
}

#[test]
fn sops_decrypts_our_yaml_with_selection_rules() {
    let plain = corpus("nested.yaml");
    sops_reads_ours(
        "r1.yaml",
        &plain,
        FormatKind::Yaml,
        &["--encrypted-regex", "^(api_key|token)$"],
    );
    sops_reads_ours(
        "r2.yaml",
        &plain,
        FormatKind::Yaml,
        &[
            "--encrypted-regex",
            "^(api_key|token)$",
            "--mac-only-encrypted",
        ],
    );
    sops_reads_ours(
        "r3.yaml",
        &plain,
        FormatKind::Yaml,
        &["--unencrypted-suffix", "_public"],
    );
}

#[test]
fn sops_decrypts_our_expanded_aliases() {
    let plain = "base: &b\n  token: t1\n  n: 2\nprod:\n  <<: *b\nother: *b\n";
    sops_reads_ours("alias.yaml", plain, FormatKind::Yaml, &["--expand-aliases"]);
}

#[test]
fn sops_decrypts_our_json() {
    for name in ["nested.json", "minified.json", "tabs.json"] {
        sops_reads_ours(name, &corpus(name), FormatKind::Json, &[]);
    }
    sops_reads_ours(
        "basic.json",
        &std::fs::read_to_string(sops_sample("basic.json")).unwrap(),
        FormatKind::Json,
        &[],
    );
}
