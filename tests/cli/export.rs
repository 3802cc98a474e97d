//! `botsecrets export`: every format read back by a real consumer (sh,
//! bash, python-dotenv, serde_json, a YAML parser) with hostile values,
//! the terminal guard, and the flag checks.

use std::process::Command;

use base64::Engine;

use crate::util::{interop_required, key1, tool, Run, TestDir};

/// Values that break naive quoting.
const HOSTILE: &[&str] = &[
    "plain",
    "",
    "it's \"quoted\"",
    "$(touch pwned1) `touch pwned2` ${HOME} $HOME $$ $",
    "back\\slash \\n \\\\ \\ end",
    "line1\nline2\n",
    "# not a comment",
    "tab\there  two spaces  ",
    "unicode: clé 日本 🔑",
    "'",
    "a=b;c&&d|e>f<g",
    "!history *glob ?x [a] ~tilde",
];

/// A JSON secrets file with one key per hostile value (`v0`, `v1`, ...).
fn hostile_file(t: &TestDir) {
    let mut obj = serde_json::Map::new();
    for (i, v) in HOSTILE.iter().enumerate() {
        obj.insert(format!("v{i}"), serde_json::Value::String((*v).to_owned()));
    }
    let plain = serde_json::to_string_pretty(&serde_json::Value::Object(obj)).unwrap();
    let text = t.encrypt("plain.json", &plain);
    t.write("s.json", &text);
}

fn export(t: &TestDir, args: &[&str]) -> Run {
    let key = key1();
    let mut all = vec!["export", "--identity", key.to_str().unwrap()];
    all.extend_from_slice(args);
    t.run(&all)
}

/// Runs `sh -c script` in the test directory; returns stdout.
fn sh(t: &TestDir, shell: &str, script: &str) -> String {
    let out = Command::new(shell)
        .args(["-c", script])
        .current_dir(t.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HOME", "/nonexistent-home")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{shell} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn shell_export_evals_to_the_exact_values() {
    let t = TestDir::new();
    hostile_file(&t);
    let r = export(&t, &["s.json", "--format", "shell"]);
    r.ok();
    t.write("out.sh", &r.stdout());
    for shell in ["sh", "bash"] {
        for (i, v) in HOSTILE.iter().enumerate() {
            let got = sh(
                &t,
                shell,
                &format!("eval \"$(cat out.sh)\"; printf %s \"$V{i}\""),
            );
            assert_eq!(got, *v, "{shell}: V{i}");
        }
        // Exported, not just set.
        let got = sh(&t, shell, ". ./out.sh; printenv V2");
        assert_eq!(got, format!("{}\n", HOSTILE[2]));
    }
    assert!(!t.path("pwned1").exists() && !t.path("pwned2").exists());
}

#[test]
fn dotenv_refuses_a_value_ending_in_a_backslash() {
    let t = TestDir::new();
    let enc = t.encrypt("p.json", r#"{"ok": "x", "bad": "zq9\\\\"}"#);
    t.write("s.json", &enc);
    let r = export(&t, &["s.json", "--format", "dotenv"]);
    r.fails_with(2).leaks_none(&["zq9"]);
    assert_eq!(r.stdout(), "");
    assert!(
        r.stderr().contains("BAD (bad) ends with a backslash"),
        "{}",
        r.stderr()
    );
    export(&t, &["s.json", "--format", "shell"]).ok();
}

#[test]
fn dotenv_export_reads_back_with_sh_and_python_dotenv() {
    let t = TestDir::new();
    hostile_file(&t);
    let r = export(&t, &["s.json", "--format", "dotenv"]);
    r.ok();
    let text = r.stdout();
    assert_eq!(
        text.lines().count(),
        HOSTILE.len(),
        "one line per value:\n{text}"
    );
    for line in text.lines() {
        assert!(
            line.starts_with('V') && line.contains("=\"") && line.ends_with('"'),
            "{line}"
        );
    }
    t.write("out.env", &text);
    // The quoting is also valid POSIX sh for values without line breaks
    // and backticks (a `\n` escape and command substitution are dotenv,
    // not shell, features): `set -a; . file` gives the same values.
    for (i, v) in HOSTILE.iter().enumerate() {
        if v.contains('\n') || v.contains('`') {
            continue;
        }
        let got = sh(
            &t,
            "bash",
            &format!("set -a; . ./out.env; printf %s \"$V{i}\""),
        );
        assert_eq!(got, *v, "bash: V{i}");
    }
    assert!(!t.path("pwned1").exists());

    // python-dotenv (what most Python bots use) reads every value back,
    // except that it has no `\$` escape (documented in docs/exec.md).
    let Some(python) = tool("python3") else {
        return;
    };
    let probe = Command::new(&python)
        .args(["-c", "import dotenv"])
        .output()
        .unwrap();
    if !probe.status.success() {
        assert!(!interop_required(), "python-dotenv is required");
        eprintln!("SKIP: python-dotenv not installed (pip install python-dotenv)");
        return;
    }
    let out = Command::new(&python)
        .args([
            "-c",
            "import json, sys, dotenv; print(json.dumps(dotenv.dotenv_values(sys.argv[1], interpolate=False)))",
        ])
        .arg(t.path("out.env"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(read.len(), HOSTILE.len());
    for (i, v) in HOSTILE.iter().enumerate() {
        let expected = v.replace('$', "\\$");
        assert_eq!(read[&format!("V{i}")], expected, "python-dotenv: V{i}");
    }
}

#[test]
fn json_export_is_a_flat_object_of_strings() {
    let t = TestDir::new();
    let text = t.encrypt(
        "plain.json",
        r#"{"weather": {"api-key": "w"}, "bots": [{"token": "t"}], "n": 3, "b": false, "z": null}"#,
    );
    t.write("s.json", &text);
    let r = export(&t, &["s.json", "--format", "json"]);
    r.ok();
    assert_eq!(
        r.stdout(),
        "{\n  \"WEATHER_API_KEY\": \"w\",\n  \"BOTS_0_TOKEN\": \"t\",\n  \"N\": \"3\",\n  \"B\": \"false\"\n}\n"
    );
    hostile_file(&t);
    let r = export(&t, &["s.json", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout()).unwrap();
    for (i, h) in HOSTILE.iter().enumerate() {
        assert_eq!(v[format!("V{i}")], *h);
    }
}

/// Checks a parsed `Secret` manifest (as JSON) against HOSTILE.
fn check_secret(doc: &serde_json::Value, namespace: Option<&str>) {
    assert_eq!(doc["apiVersion"], "v1");
    assert_eq!(doc["kind"], "Secret");
    assert_eq!(doc["type"], "Opaque");
    assert_eq!(doc["metadata"]["name"], "bot-secrets");
    match namespace {
        Some(ns) => assert_eq!(doc["metadata"]["namespace"], ns),
        None => assert!(doc["metadata"].get("namespace").is_none()),
    }
    let data = doc["data"].as_object().unwrap();
    assert_eq!(data.len(), HOSTILE.len());
    for (i, h) in HOSTILE.iter().enumerate() {
        let b64 = data[&format!("V{i}")].as_str().unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), *h, "V{i}");
    }
}

#[test]
fn k8s_secret_is_a_valid_manifest() {
    let t = TestDir::new();
    hostile_file(&t);
    let r = export(
        &t,
        &[
            "s.json",
            "--format",
            "k8s-secret",
            "--name",
            "bot-secrets",
            "--namespace",
            "bots",
        ],
    );
    r.ok();
    let manifest = r.stdout();
    assert!(
        manifest.starts_with("apiVersion: v1\nkind: Secret\n"),
        "{manifest}"
    );
    // The project's own YAML parser.
    let yaml = botsecrets::format::FormatKind::Yaml.syntax();
    {
        let parsed = yaml.parse(&manifest).expect("the manifest is valid YAML");
        assert_eq!(parsed.leaves.len(), 5 + HOSTILE.len(), "{manifest}");
        let mut tree = serde_json::Map::new();
        for leaf in &parsed.leaves {
            tree.insert(leaf.path.to_string(), leaf.value.expose().into());
        }
        assert_eq!(tree["apiVersion"], "v1");
        assert_eq!(tree["kind"], "Secret");
        assert_eq!(tree["metadata.name"], "bot-secrets");
        assert_eq!(tree["metadata.namespace"], "bots");
        assert_eq!(tree["type"], "Opaque");
        for (i, h) in HOSTILE.iter().enumerate() {
            let b64 = tree[&format!("data.V{i}")].as_str().unwrap();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            assert_eq!(String::from_utf8(bytes).unwrap(), *h);
        }
    }
    // A second, independent YAML parser: PyYAML.
    let Some(python) = tool("python3") else {
        return;
    };
    let out = Command::new(&python)
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(manifest.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    if !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("No module named") {
        assert!(!interop_required(), "PyYAML is required");
        eprintln!("SKIP: PyYAML not installed");
        return;
    }
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    check_secret(&doc, Some("bots"));
}

#[test]
fn k8s_secret_flags_are_checked_before_decrypting() {
    let t = TestDir::new();
    hostile_file(&t);
    // No identity at all: the flag error comes first.
    let r = t.run(&["export", "s.json", "--format", "k8s-secret"]);
    r.fails_with(1);
    assert!(r.stderr().contains("needs --name"), "{}", r.stderr());
    let r = t.run(&[
        "export",
        "s.json",
        "--format",
        "k8s-secret",
        "--name",
        "Bad_Name",
    ]);
    r.fails_with(1);
    assert!(
        r.stderr().contains("not a valid Kubernetes name"),
        "{}",
        r.stderr()
    );
    let r = export(
        &t,
        &[
            "s.json",
            "--format",
            "k8s-secret",
            "--name",
            "ok",
            "--namespace",
            "a.b",
        ],
    );
    r.fails_with(1);
}

#[test]
fn only_prefix_and_several_files() {
    let t = TestDir::new();
    let a = t.encrypt(
        "pa.json",
        r#"{"token": "old", "db": {"url": "u", "pass": "p"}}"#,
    );
    t.write("a.json", &a);
    let b = t.encrypt("pb.env", "token=new\n");
    t.write("b.env", &b);
    let r = export(
        &t,
        &[
            "a.json",
            "b.env",
            "--format",
            "shell",
            "--only",
            "db.url,TOKEN",
            "--prefix",
            "BOT_",
        ],
    );
    r.ok();
    assert_eq!(
        r.stdout(),
        "export BOT_TOKEN='new'\nexport BOT_DB_URL='u'\n"
    );
    let r = export(&t, &["a.json", "--format", "shell", "--only", "missing"]);
    r.fails_with(91).leaks_none(&["old", "'u'"]);
}

#[test]
fn reads_stdin_with_input_type() {
    let t = TestDir::new();
    let enc = t.encrypt("p.env", "K=v\n");
    let r = t.run_stdin(
        &[
            "export",
            "--identity",
            key1().to_str().unwrap(),
            "-",
            "--input-type",
            "dotenv",
            "--format",
            "dotenv",
        ],
        &enc,
    );
    r.ok();
    assert_eq!(r.stdout(), "K=\"v\"\n");
}

/// Under a pseudo-terminal (`script`), export refuses unless --force.
#[test]
fn refuses_a_terminal_unless_forced() {
    let Some(script) = tool("script") else { return };
    let t = TestDir::new();
    let enc = t.encrypt("p.json", r#"{"k": "tty-secret-value"}"#);
    t.write("s.json", &enc);
    let bin = env!("CARGO_BIN_EXE_botsecrets");
    let key = key1();
    let run_tty = |force: &str| {
        let cmdline = format!(
            "{bin} export --identity {} s.json --format shell {force}; echo \"rc=$?\"",
            key.display()
        );
        let out = Command::new(&script)
            .args(["-q", "-e", "-c", &cmdline, "/dev/null"])
            .current_dir(t.dir.path())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let refused = run_tty("");
    assert!(
        refused.contains("refusing to print secrets to a terminal"),
        "{refused}"
    );
    assert!(refused.contains("rc=1"), "{refused}");
    assert!(!refused.contains("tty-secret-value"), "{refused}");
    let forced = run_tty("--force");
    assert!(forced.contains("export K='tty-secret-value'"), "{forced}");
    assert!(forced.contains("rc=0"), "{forced}");
}

#[test]
fn yaml_input_to_every_format() {
    let t = TestDir::new();
    let enc = t.encrypt(
        "p.yaml",
        "# comment\nweather:\n  api-key: \"w $x 'q'\"\nbots:\n  - token: |\n      multi\n      line\nport: 8080\nnone: null\n",
    );
    t.write("secrets.yaml", &enc);
    let r = export(&t, &["secrets.yaml", "--format", "dotenv"]);
    r.ok();
    assert_eq!(
        r.stdout(),
        "WEATHER_API_KEY=\"w \\$x 'q'\"\nBOTS_0_TOKEN=\"multi\\nline\\n\"\nPORT=\"8080\"\n"
    );
    let r = export(&t, &["secrets.yaml", "--format", "shell"]);
    assert_eq!(
        r.stdout(),
        "export WEATHER_API_KEY='w $x '\\''q'\\'''\nexport BOTS_0_TOKEN='multi\nline\n'\nexport PORT='8080'\n"
    );
    let r = export(
        &t,
        &[
            "secrets.yaml",
            "--format",
            "k8s-secret",
            "--name",
            "weather-bot",
        ],
    );
    assert_eq!(
        r.stdout(),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: \"weather-bot\"\ntype: Opaque\ndata:\n  \"WEATHER_API_KEY\": \"dyAkeCAncSc=\"\n  \"BOTS_0_TOKEN\": \"bXVsdGkKbGluZQo=\"\n  \"PORT\": \"ODA4MA==\"\n"
    );
}
