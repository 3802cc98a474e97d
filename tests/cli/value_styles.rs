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

const INI_QUOTES: &str = "[mysqld]\n\
sql-mode=\"STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION\"\n\
password = 's3cret-a with spaces '\n\
hash = `s3cret-b#not-a-comment`\n\
motd = \"\"\"s3cret-c welcome\"\"\"\n\
quoted = \"s3cret-d\" ; a comment\n\
plain = s3cret-e\n";

#[test]
fn ini_values_keep_their_quotes_and_sops_reads_them() {
    let secrets = [
        "STRICT_TRANS",
        "s3cret-a",
        "s3cret-b",
        "s3cret-c",
        "s3cret-d",
        "s3cret-e",
    ];
    let t = TestDir::new();
    let enc = encrypt_in_place(&t, "my.ini", INI_QUOTES, &secrets);
    for kind in [
        "sql-mode=\"ENC[",
        "password = 'ENC[",
        "hash = `ENC[",
        "motd = \"\"\"ENC[",
        "quoted = \"ENC[",
        "plain = ENC[",
    ] {
        assert!(enc.contains(kind), "{kind:?} not in:\n{enc}");
    }
    let dec = t.decrypt("my.ini");
    dec.ok();
    stderr_quiet(&dec, &secrets);
    assert_eq!(dec.stdout(), INI_QUOTES);
    // sops (go-ini) removes the quotes: it reads the values they hold.
    if let Some(theirs) = sops_decrypt(&t, "my.ini") {
        for line in [
            "sql-mode = STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION\n",
            "password = \"s3cret-a with spaces \"\n",
            "hash     = `s3cret-b#not-a-comment`\n",
            "motd     = s3cret-c welcome\n",
            "quoted   = s3cret-d\n",
        ] {
            assert!(theirs.contains(line), "{line:?} not in:\n{theirs}");
        }
    }
}

#[test]
fn configparser_reads_the_decrypted_ini_as_the_original() {
    let t = TestDir::new();
    encrypt_in_place(&t, "my.ini", INI_QUOTES, &[]);
    t.write("d.ini", &t.decrypt("my.ini").ok().stdout());
    let plain = t.write("p.ini", INI_QUOTES);
    // configparser keeps quotes: `"..."` is part of what it reads.
    let code = "import sys, configparser, json\n\
        c = configparser.ConfigParser(interpolation=None)\n\
        c.read(sys.argv[1])\n\
        print(json.dumps({s: dict(c[s]) for s in c.sections()}, sort_keys=True))";
    let Some(original) = python("python3", code, &plain) else {
        return;
    };
    assert!(
        original.contains("\"sql-mode\": \"\\\"STRICT"),
        "{original}"
    );
    assert_eq!(python("python3", code, &t.path("d.ini")), Some(original));
}

const DOTENV_QUOTES: &str = "# settings\n\
DB_PASS=\"s3cret-a b\"\n\
TOKEN='s3cret-b $NOT_EXPANDED'\n\
export API_KEY=\"s3cret-c \\\"q\\\"\"\n\
PLAIN=s3cret-d # note\n\
\n\
LAST='s3cret-e'";

#[test]
fn dotenv_quotes_and_a_missing_final_newline_come_back() {
    let secrets = ["s3cret-a", "s3cret-b", "s3cret-c", "s3cret-d", "s3cret-e"];
    let t = TestDir::new();
    let enc = encrypt_in_place(&t, "app.env", DOTENV_QUOTES, &secrets);
    assert!(!enc.ends_with('\n'), "{enc}");
    let dec = t.decrypt("app.env");
    dec.ok();
    stderr_quiet(&dec, &secrets);
    assert_eq!(dec.stdout(), DOTENV_QUOTES);
    // sops keeps the quotes as part of the value, as botsecrets does.
    if let Some(theirs) = sops_decrypt(&t, "app.env") {
        for line in [
            "DB_PASS=\"s3cret-a b\"\n",
            "TOKEN='s3cret-b $NOT_EXPANDED'\n",
        ] {
            assert!(theirs.contains(line), "{line:?} not in:\n{theirs}");
        }
    }
    // python-dotenv reads the decrypted file as the original.
    t.write("d.env", &dec.stdout());
    let plain = t.write("p.env", DOTENV_QUOTES);
    let code = "import sys, json\n\
        from dotenv import dotenv_values\n\
        print(json.dumps(dotenv_values(sys.argv[1]), sort_keys=True))";
    let venv = "python3";
    let Some(original) = python_dotenv(venv, code, &plain) else {
        return;
    };
    assert!(
        original.contains("\"TOKEN\": \"s3cret-b $NOT_EXPANDED\""),
        "{original}"
    );
    assert_eq!(python_dotenv(venv, code, &t.path("d.env")), Some(original));
}

/// Runs `code` with a python that has python-dotenv (the sops venv's, whose
/// `bin` is on PATH next to sops); `None` (skipped) when there is none.
fn python_dotenv(bin: &str, code: &str, file: &std::path::Path) -> Option<String> {
    let dir = tool("sops")?.parent()?.to_path_buf();
    let py = dir.join(bin);
    if !py.is_file() {
        return python(bin, code, file);
    }
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

const YAML_FLOW: &str = "on:\n  push:\n    branches: [main, \"release/*\", 'hotfix']\n\
services:\n  web: {image: \"nginx:1.27\", command: [\"npm\", \"start\"], user: s3cret-a}\n\
ports: [\"80:80\", 8080, 16:9]\n\
env: {TOKEN: \"s3cret-b\", MODE: off, NAME: 's3cret-c'}\n\
nested: [[a, \"b\"], {k: \"v\", m: w}]\n";

#[test]
fn yaml_flow_scalars_keep_plain_double_and_single_quoted_style() {
    let secrets = ["s3cret-a", "s3cret-b", "s3cret-c"];
    let t = TestDir::new();
    let enc = encrypt_in_place(&t, "w.yaml", YAML_FLOW, &secrets);
    // Plain and double-quoted values are both `"ENC[...]"` in flow context;
    // a plain one's tag padding ends in the escape `\x3D`.
    let env = enc.lines().find(|l| l.starts_with("env:")).unwrap();
    let re = regex::Regex::new(r#"(\w+): (["'])ENC\[AES256_GCM,[^"']*?(=\\x3D)?,type:str\]["']"#)
        .unwrap();
    let seen: Vec<(String, String, bool)> = re
        .captures_iter(env)
        .map(|c| (c[1].to_owned(), c[2].to_owned(), c.get(3).is_some()))
        .collect();
    assert_eq!(
        seen,
        [
            ("TOKEN".to_owned(), "\"".to_owned(), false),
            ("MODE".to_owned(), "\"".to_owned(), true),
            ("NAME".to_owned(), "'".to_owned(), false),
        ],
        "{env}"
    );
    let dec = t.decrypt("w.yaml");
    dec.ok();
    stderr_quiet(&dec, &secrets);
    assert_eq!(dec.stdout(), YAML_FLOW);
    // sops reads every form as the same string.
    if let Some(theirs) = sops_decrypt(&t, "w.yaml") {
        for line in [
            "        branches:\n            - main\n            - release/*\n            - hotfix\n",
            "        image: nginx:1.27\n        command:\n            - npm\n            - start\n        user: s3cret-a\n",
            "    TOKEN: s3cret-b\n    MODE: \"off\"\n    NAME: s3cret-c\n",
            "ports:\n    - 80:80\n    - 8080\n    - \"16:9\"\n",
        ] {
            assert!(theirs.contains(line), "{line:?} not in:\n{theirs}");
        }
    }
    // PyYAML (YAML 1.1) reads the decrypted file as the original.
    let code = "import sys, yaml\nprint(repr(yaml.safe_load(open(sys.argv[1]))))";
    t.write("d.yaml", &dec.stdout());
    let plain = t.write("p.yaml", YAML_FLOW);
    if let Some(original) = python_dotenv("python3", code, &plain) {
        assert!(original.contains("969"), "{original}");
        assert_eq!(
            python_dotenv("python3", code, &t.path("d.yaml")),
            Some(original)
        );
    }
}

const YAML11_PLAIN: &str = "become: yes\ngather_facts: no\ninitial: off\naspect_ratio: 16:9\n\
quoted_off: 'off'\nquoted_ratio: \"16:9\"\nname: s3cret-a\n";

#[test]
fn yaml_1_1_plain_strings_come_back_plain_so_yaml_1_1_readers_see_the_same_data() {
    let t = TestDir::new();
    let enc = encrypt_in_place(&t, "vars.yml", YAML11_PLAIN, &["s3cret-a"]);
    // Only the plain strings the canonical style would quote are marked;
    // an ordinary plain value stays `key: ENC[...]` as sops writes it.
    assert!(enc.contains("become: \"ENC[AES256_GCM,"), "{enc}");
    assert!(enc.contains("=\\x3D,type:str]\"\ninitial: \"ENC["), "{enc}");
    assert!(enc.contains("\nname: ENC[AES256_GCM,"), "{enc}");
    assert!(enc.contains("\nquoted_off: 'ENC[AES256_GCM,"), "{enc}");
    let dec = t.decrypt("vars.yml");
    dec.ok();
    assert_eq!(dec.stdout(), YAML11_PLAIN);
    if let Some(theirs) = sops_decrypt(&t, "vars.yml") {
        assert!(
            theirs.starts_with("become: \"yes\"\ngather_facts: \"no\"\n"),
            "{theirs}"
        );
    }
    let code = "import sys, yaml\nprint(repr(yaml.safe_load(open(sys.argv[1]))))";
    t.write("d.yml", &dec.stdout());
    let plain = t.write("p.yml", YAML11_PLAIN);
    if let Some(original) = python_dotenv("python3", code, &plain) {
        assert!(original.contains("'become': True"), "{original}");
        assert_eq!(
            python_dotenv("python3", code, &t.path("d.yml")),
            Some(original)
        );
    }
}

#[test]
fn styles_survive_edit_set_and_rotate() {
    let t = TestDir::new();
    let key = key1();
    let key = key.to_str().unwrap();
    for (name, plain, from, to) in [
        ("w.yaml", YAML_FLOW, "s3cret-a", "s3cret-A"),
        ("v.yml", YAML11_PLAIN, "s3cret-a", "s3cret-A"),
        ("c.toml", TOML_KINDS_BACK, "s3cret-i", "s3cret-I"),
        ("my.ini", INI_QUOTES, "s3cret-e", "s3cret-E"),
    ] {
        encrypt_in_place(&t, name, plain, &[]);
        let out = t
            .cmd()
            .args(["edit", "--identity", key, name])
            .env("EDITOR", editor("replace.sh"))
            .env("EDIT_FROM", from)
            .env("EDIT_TO", to)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want = plain.replace(from, to);
        assert_eq!(t.decrypt(name).ok().stdout(), want, "{name} after edit");
        t.run(&["rotate", "--identity", key, name]).ok();
        assert_eq!(t.decrypt(name).ok().stdout(), want, "{name} after rotate");
    }
    // `set` keeps the kind where it can hold the new value.
    t.run(&["set", "--identity", key, "c.toml", "lit", "new C:\\dir"])
        .ok();
    t.run(&[
        "set",
        "--identity",
        key,
        "my.ini",
        "mysqld.password",
        "new pass",
    ])
    .ok();
    assert!(t
        .decrypt("c.toml")
        .ok()
        .stdout()
        .contains("\nlit = 'new C:\\dir'\n"));
    assert!(t
        .decrypt("my.ini")
        .ok()
        .stdout()
        .contains("\npassword = 'new pass'\n"));
}

#[test]
fn a_block_with_deeper_indented_lines_keeps_its_header() {
    let plain = "configMap:\n  app.yaml: |\n    server:\n      port: 8080\n\n    logging:\n      level: info\n  nginx.conf: |-\n    location / {\n        return 200;\n    }\n";
    let t = TestDir::new();
    encrypt_in_place(&t, "v.yaml", plain, &[]);
    assert_eq!(t.decrypt("v.yaml").ok().stdout(), plain);
    if let Some(theirs) = sops_decrypt(&t, "v.yaml") {
        assert!(theirs.contains("            return 200;\n"), "{theirs}");
    }
}

#[test]
fn kept_blocks_keep_their_header_and_trailing_blank_lines() {
    let plain = "script: |+\n  echo s3cret-a\n\n\nnote: >+\n  s3cret-b\n\nnested:\n  k: |+\n    l1\n    l2\n\n  j: 2\n";
    let t = TestDir::new();
    let enc = encrypt_in_place(&t, "k.yaml", plain, &["s3cret-a", "s3cret-b"]);
    assert!(enc.starts_with("script: |-\n  ENC[AES256_GCM,"), "{enc}");
    assert_eq!(t.decrypt("k.yaml").ok().stdout(), plain);
    if let Some(theirs) = sops_decrypt(&t, "k.yaml") {
        assert!(
            theirs.starts_with("script: |+\n    echo s3cret-a\n\n\n"),
            "{theirs}"
        );
    }
}
