//! The tamper matrix (issue #10): what a writer without a key can change in
//! an encrypted file, applied as a text edit, and what every command must
//! do about it: refuse with the row's exit code, print no secret, and leave
//! the file byte for byte as it was. Writers (`set`, `unset`, `rotate`,
//! `recipients add`, `updatekeys`) must refuse too and write nothing; the
//! old bug was that they wrote every secret in the clear.
//!
//! Each row is one tamper: (name, formats, edit, exit code). Every row runs
//! on files written by botsecrets and by sops (skipped with a reason when
//! sops is missing, required under `BOTSECRETS_REQUIRE_INTEROP=1`), in the
//! default MAC mode and with `mac_only_encrypted`. Add a row to add a
//! tamper; `edit` gets the encrypted text and its format.

use crate::util::*;

/// The formats of the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fmt {
    Yaml,
    Json,
    Dotenv,
}

impl Fmt {
    fn ext(self) -> &'static str {
        match self {
            Fmt::Yaml => "yaml",
            Fmt::Json => "json",
            Fmt::Dotenv => "env",
        }
    }

    /// A plaintext with two secrets and one clear value.
    fn plaintext(self) -> &'static str {
        match self {
            Fmt::Yaml => "password: hunter2-secret-pw\ntoken: tok-secret-value\nnote_unencrypted: visible\n",
            Fmt::Json => "{\n  \"password\": \"hunter2-secret-pw\",\n  \"token\": \"tok-secret-value\",\n  \"note_unencrypted\": \"visible\"\n}\n",
            Fmt::Dotenv => "password=hunter2-secret-pw\ntoken=tok-secret-value\nnote_unencrypted=visible\n",
        }
    }
}

const SECRETS: [&str; 2] = ["hunter2-secret-pw", "tok-secret-value"];
const ALL: &[Fmt] = &[Fmt::Yaml, Fmt::Json, Fmt::Dotenv];

/// One tamper: its name, the formats it applies to, the edit, and the exit
/// code every command must refuse it with.
pub struct Tamper {
    pub name: &'static str,
    pub formats: &'static [Fmt],
    pub edit: fn(&str, Fmt) -> String,
    pub code: i32,
}

/// The `unencrypted_suffix: _unencrypted` metadata field (any format)
/// rewritten to `field: value`.
fn replace_rule(text: &str, field: &str, value: &str) -> String {
    let re = regex::Regex::new(r#"unencrypted_suffix("?\s*[:=]\s*"?)_unencrypted"#).unwrap();
    assert!(re.is_match(text), "no unencrypted_suffix in:\n{text}");
    re.replace(text, format!("{field}${{1}}{value}").as_str())
        .into_owned()
}

/// The `type:` of the `password` value replaced by `tag`.
fn retag_password(text: &str, tag: &str) -> String {
    let mut done = false;
    let out: Vec<String> = text
        .split_inclusive('\n')
        .map(|l| {
            if !done && l.contains("password") && l.contains("ENC[") {
                done = true;
                l.replacen(",type:str]", &format!(",type:{tag}]"), 1)
            } else {
                l.to_owned()
            }
        })
        .collect();
    assert!(done, "no encrypted password in:\n{text}");
    out.concat()
}

pub const TAMPERS: &[Tamper] = &[
    Tamper {
        name: "selection downgrade: encrypted_regex ^nomatch$",
        formats: ALL,
        edit: |t, _| replace_rule(t, "encrypted_regex", "^nomatch$"),
        code: 212,
    },
    Tamper {
        name: "selection downgrade: unencrypted_regex .",
        formats: ALL,
        edit: |t, _| replace_rule(t, "unencrypted_regex", "."),
        code: 212,
    },
    Tamper {
        name: "a value's type tag changed (str -> int)",
        formats: ALL,
        edit: |t, _| retag_password(t, "int"),
        code: 25,
    },
    Tamper {
        name: "an unknown type tag",
        formats: ALL,
        edit: |t, _| retag_password(t, "nope"),
        code: 25,
    },
];

/// Who wrote the file.
#[derive(Clone, Copy, Debug)]
enum Writer {
    Botsecrets,
    Sops,
}

/// An encrypted file of `fmt` for key 1, by `writer`; `None` when sops is
/// missing (and not required).
fn encrypted(t: &TestDir, fmt: Fmt, writer: Writer, mac_only: bool) -> Option<String> {
    let plain = format!("plain.{}", fmt.ext());
    t.write(&plain, fmt.plaintext());
    match writer {
        Writer::Botsecrets => {
            let mut args = vec!["encrypt", "--age", RECIPIENT1];
            if mac_only {
                args.push("--mac-only-encrypted");
            }
            args.push(&plain);
            let r = t.run(&args);
            r.ok();
            Some(r.stdout())
        }
        Writer::Sops => {
            let sops_bin = tool("sops")?;
            let config = t.write(
                "sops-config.yaml",
                &format!(
                    "creation_rules:\n  - age: {RECIPIENT1}\n    mac_only_encrypted: {mac_only}\n"
                ),
            );
            let o = sops_env(
                &sops_bin,
                &[],
                &[
                    "--config",
                    config.to_str().unwrap(),
                    "encrypt",
                    t.path(&plain).to_str().unwrap(),
                ],
            );
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            Some(String::from_utf8(o.stdout).unwrap())
        }
    }
}

/// Every command that reads the file, then every writer, on the tampered
/// file `name`; each must refuse with `code`, leak nothing, write nothing.
fn every_command_refuses(t: &TestDir, name: &str, code: i32, what: &str) {
    let k = key1().to_str().unwrap().to_owned();
    let before = std::fs::read(t.path(name)).unwrap();
    let commands: Vec<Vec<&str>> = vec![
        vec!["decrypt", "--identity", &k, name],
        vec!["get", "--identity", &k, name, "password"],
        vec!["export", "--format", "json", "--identity", &k, name],
        vec!["exec", "--identity", &k, "--file", name, "--", "true"],
        vec!["set", "--identity", &k, name, "added", "new-value"],
        vec!["unset", "--identity", &k, name, "token"],
        vec!["rotate", "--identity", &k, name],
        vec!["recipients", "add", "--identity", &k, name, RECIPIENT2],
        vec!["updatekeys", "--yes", "--identity", &k, name],
    ];
    for args in commands {
        let r = t.run(&args);
        assert_eq!(
            r.code(),
            code,
            "{what}: `{}` exited {} (stderr: {})",
            args[0],
            r.code(),
            r.stderr()
        );
        r.leaks_none(&SECRETS);
        let after = std::fs::read(t.path(name)).unwrap();
        assert!(after == before, "{what}: `{}` changed the file", args[0]);
        let after = String::from_utf8_lossy(&after);
        for s in SECRETS {
            assert!(
                !after.contains(s),
                "{what}: `{}` wrote {s} in clear",
                args[0]
            );
        }
    }
}

#[test]
fn every_tamper_is_refused_by_every_command() {
    let mut ran = 0;
    for tamper in TAMPERS {
        for &fmt in tamper.formats {
            for writer in [Writer::Botsecrets, Writer::Sops] {
                for mac_only in [false, true] {
                    let what = format!(
                        "{} / {fmt:?} / written by {writer:?} / mac_only_encrypted={mac_only}",
                        tamper.name
                    );
                    let t = TestDir::new();
                    let Some(enc) = encrypted(&t, fmt, writer, mac_only) else {
                        continue;
                    };
                    let name = format!("s.{}", fmt.ext());
                    // The untampered file opens (the row tests the tamper,
                    // not a file we cannot read).
                    t.write(&name, &enc);
                    t.decrypt(&name).ok();
                    let bad = (tamper.edit)(&enc, fmt);
                    assert_ne!(bad, enc, "{what}: the edit changed nothing");
                    t.write(&name, &bad);
                    // updatekeys has a rule to apply: key 1 and key 2.
                    t.write(
                        ".sops.yaml",
                        &format!("creation_rules:\n  - age: {RECIPIENT1},{RECIPIENT2}\n"),
                    );
                    every_command_refuses(&t, &name, tamper.code, &what);
                    ran += 1;
                }
            }
        }
    }
    assert!(ran >= TAMPERS.len() * 3 * 2, "{ran}");
}
