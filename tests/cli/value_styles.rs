//! Values come back in the style they had (issue 14 item 2): TOML's four
//! string kinds, INI and dotenv quotes, plain scalars inside YAML flow
//! collections. The style is carried around the `ENC[...]` string in the
//! encrypted file (where sops reads the same string), so decrypt gives the
//! bytes back; other readers (python's tomllib, configparser, python-dotenv)
//! read the encrypted and decrypted files as intended.

use crate::util::*;

/// Encrypts `plain` as `name` in place, asserts no secret leaks into the
/// file or the output, and returns the encrypted text.
fn encrypt_in_place(t: &TestDir, name: &str, plain: &str, secrets: &[&str]) -> String {
    t.write(name, plain);
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", name])
        .ok()
        .leaks_none(secrets);
    let enc = t.read(name);
    for s in secrets {
        assert!(!enc.contains(s), "{name} leaks {s:?}:\n{enc}");
    }
    enc
}

/// Asserts no secret appears on stderr (decrypt prints them on stdout).
#[track_caller]
fn stderr_quiet(r: &Run, secrets: &[&str]) {
    for s in secrets {
        assert!(!r.stderr().contains(s), "stderr leaks {s:?}");
    }
}

/// Runs a python3 snippet with the file as `sys.argv[1]`; its stdout.
/// `None` (skipped) when no python is found.
fn python(bin: &str, code: &str, file: &std::path::Path) -> Option<String> {
    let py = tool(bin)?;
    let out = std::process::Command::new(py)
        .args(["-c", code])
        .arg(file)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

const TOML_KINDS: &str = "basic = \"s3cret-a \\\"q\\\" \\u00e9\"\n\
lit = 's3cret-b C:\\dir\\x'\n\
ml = \"\"\"\ns3cret-c\n  two \"quoted\" \\\\ back\n\"\"\"\n\
mll = '''\ns3cret-d C:\\raw\\n stays\n'''\n\
same_line = '''s3cret-e\nsecond line'''\n\
escaped = \"s3cret-f\\nwith a break\"\n\
inline = { a = 's3cret-g', b = \"s3cret-h\" }\n\
list = ['s3cret-i', \"\"\"s3cret-j\"\"\", '''s3cret-k''']\n\
num = 5\n";

/// What `TOML_KINDS` gives back: every kind as it was (only escapes are
/// rewritten canonically: `\u00e9` becomes `é`).
const TOML_KINDS_BACK: &str = "basic = \"s3cret-a \\\"q\\\" é\"\n\
lit = 's3cret-b C:\\dir\\x'\n\
ml = \"\"\"\ns3cret-c\n  two \"quoted\" \\\\ back\n\"\"\"\n\
mll = '''\ns3cret-d C:\\raw\\n stays\n'''\n\
same_line = '''s3cret-e\nsecond line'''\n\
escaped = \"s3cret-f\\nwith a break\"\n\
inline = { a = 's3cret-g', b = \"s3cret-h\" }\n\
list = ['s3cret-i', \"\"\"s3cret-j\"\"\", '''s3cret-k''']\n\
num = 5\n";

const TOML_SECRETS: &[&str] = &[
    "s3cret-a", "s3cret-b", "s3cret-c", "s3cret-d", "s3cret-e", "s3cret-f", "s3cret-g", "s3cret-h",
    "s3cret-i", "s3cret-j", "s3cret-k",
];

#[test]
fn toml_strings_keep_their_kind_through_encrypt_and_decrypt() {
    let t = TestDir::new();
    let enc = encrypt_in_place(&t, "c.toml", TOML_KINDS, TOML_SECRETS);
    // The kind is carried around the ENC[...] string.
    for kind in [
        "basic = \"ENC[",
        "lit = 'ENC[",
        "ml = \"\"\"\nENC[",
        "mll = '''\nENC[",
        "same_line = '''ENC[",
        "escaped = \"ENC[",
        "{ a = 'ENC[",
        ", '''ENC[",
    ] {
        assert!(enc.contains(kind), "{kind:?} not in:\n{enc}");
    }
    let dec = t.decrypt("c.toml");
    dec.ok();
    stderr_quiet(&dec, TOML_SECRETS);
    assert_eq!(dec.stdout(), TOML_KINDS_BACK);
    // Byte for byte when the escapes are canonical already.
    t.write("back.toml", TOML_KINDS_BACK);
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "back.toml"])
        .ok();
    assert_eq!(t.decrypt("back.toml").ok().stdout(), TOML_KINDS_BACK);
}

#[test]
fn toml_kinds_that_cannot_hold_the_new_value_fall_back_to_a_basic_string() {
    let t = TestDir::new();
    encrypt_in_place(&t, "f.toml", "lit = 'old'\nmll = '''\nold\n'''\n", &[]);
    let key = key1();
    let key = key.to_str().unwrap();
    t.run(&["set", "--identity", key, "f.toml", "lit", "it's s3cret-q"])
        .ok()
        .leaks_none(&["s3cret-q"]);
    t.run(&[
        "set",
        "--identity",
        key,
        "f.toml",
        "mll",
        "has ''' s3cret-r",
    ])
    .ok()
    .leaks_none(&["s3cret-r"]);
    assert_eq!(
        t.decrypt("f.toml").ok().stdout(),
        "lit = \"it's s3cret-q\"\nmll = \"has ''' s3cret-r\"\n"
    );
}

#[test]
fn python_reads_encrypted_and_decrypted_toml_as_intended() {
    let t = TestDir::new();
    let enc = encrypt_in_place(&t, "c.toml", TOML_KINDS, TOML_SECRETS);
    let code = "import sys, tomllib, json\n\
        d = tomllib.load(open(sys.argv[1], 'rb'))\n\
        d.pop('sops', None)\n\
        print(json.dumps(d, sort_keys=True))";
    let Some(encrypted) = python("python3", code, &t.path("c.toml")) else {
        return;
    };
    // Every string of the encrypted file is exactly its ENC[...] value.
    let v: serde_json::Value = serde_json::from_str(&encrypted).unwrap();
    for k in ["basic", "lit", "ml", "mll", "same_line", "escaped"] {
        let s = v[k].as_str().unwrap();
        assert!(
            s.starts_with("ENC[AES256_GCM,") && s.ends_with(']'),
            "{k}: {s}"
        );
    }
    assert!(enc.contains("num = \"ENC["));
    let plain = t.write("p.toml", TOML_KINDS);
    t.write("d.toml", &t.decrypt("c.toml").ok().stdout());
    assert_eq!(
        python("python3", code, &t.path("d.toml")),
        python("python3", code, &plain)
    );
}
