//! `botsecrets encrypt`: layout kept, selection rules, outputs, refusals.

use std::os::unix::fs::PermissionsExt;

use crate::util::*;

const YAML: &str = "\
# Bot fleet secrets
weather:
  api_key: wk-123 # inline note
  timeout: 30
  ratio: 1.5
  enabled: true
  since: 2024-01-02
  empty: \"\"
  nothing: null
bots:
  - name: alpha
    token: tok-a
  - name: beta
    token: tok-b
flow: {a: 1, b: two}
list: [x, z]
note_unencrypted: visible
multi: |
  line one
  line two
";

#[test]
fn yaml_layout_is_kept_outside_values() {
    let t = TestDir::new();
    let enc = t.encrypt("s.yaml", YAML);
    let masked = mask_enc(&enc);
    let body = masked.split("sops:\n").next().unwrap();
    assert_eq!(
        body,
        "\
#ENC
weather:
  api_key: ENC #ENC
  timeout: ENC
  ratio: ENC
  enabled: ENC
  since: ENC
  empty: \"\"
  nothing: null
bots:
  - name: ENC
    token: ENC
  - name: ENC
    token: ENC
flow: {a: \"ENC\", b: \"ENC\"}
list: [\"ENC\", \"ENC\"]
note_unencrypted: visible
multi: |-
  ENC
"
    );
    for secret in [
        "wk-123",
        "tok-a",
        "tok-b",
        "inline note",
        "Bot fleet",
        "line one",
    ] {
        assert!(!enc.contains(secret), "{secret} left in clear");
    }
    assert!(enc.contains("type:int]") && enc.contains("type:float]") && enc.contains("type:bool]"));
    assert!(enc.contains("type:time]") && enc.contains("type:comment]"));
    // The metadata block uses the file's own two-space indentation.
    assert!(
        enc.contains(&format!(
            "\nsops:\n  age:\n    - recipient: {RECIPIENT1}\n      enc: |\n"
        )),
        "{enc}"
    );
    assert!(
        enc.contains("\n  unencrypted_suffix: _unencrypted\n  version: 3.11.0\n"),
        "{enc}"
    );
}

#[test]
fn yaml_round_trip_is_exact_for_canonical_text() {
    let t = TestDir::new();
    // A date alone comes back as itself (it is stored as midnight UTC).
    let canonical = YAML.to_owned();
    t.encrypt("s.yaml", &canonical);
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"])
        .ok();
    let r = t.decrypt("s.yaml");
    r.ok();
    assert_eq!(r.stdout(), canonical);
}

const JSON: &str = "{\n    \"db\": {\n        \"user\": \"admin\",\n        \"port\": 5432,\n        \"big\": 12345678901234567890,\n        \"ratio\": 1.50,\n        \"on\": true,\n        \"none\": null\n    },\n    \"list\": [\"a\", 1, {\"k\": \"v\"}],\n    \"note_unencrypted\": \"plain\"\n}\n";

#[test]
fn json_round_trip_keeps_indentation_order_and_digits() {
    let t = TestDir::new();
    let enc = t.encrypt("s.json", JSON);
    assert!(mask_enc(&enc).starts_with(
        "{\n    \"db\": {\n        \"user\": \"ENC\",\n        \"port\": \"ENC\",\n        \"big\": \"ENC\",\n        \"ratio\": \"ENC\",\n        \"on\": \"ENC\",\n        \"none\": null\n    },\n    \"list\": [\"ENC\", \"ENC\", {\"k\": \"ENC\"}],\n    \"note_unencrypted\": \"plain\",\n    \"sops\": {\n"
    ), "{enc}");
    t.write("e.json", &enc);
    let r = t.decrypt("e.json");
    r.ok();
    assert_eq!(r.stdout(), JSON);
}

#[test]
fn in_place_keeps_the_mode_and_output_writes_elsewhere() {
    let t = TestDir::new();
    let p = t.write("s.yaml", "a: secret-value\n");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
    t.run(&["encrypt", "--age", RECIPIENT1, "--in-place", "s.yaml"])
        .ok();
    assert!(t.read("s.yaml").starts_with("a: ENC[AES256_GCM,"));
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o640
    );
    t.run(&[
        "decrypt",
        "--identity",
        key1().to_str().unwrap(),
        "s.yaml",
        "--output",
        "out.yaml",
    ])
    .ok();
    assert_eq!(t.read("out.yaml"), "a: secret-value\n");
    assert_eq!(
        std::fs::metadata(t.path("out.yaml"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let leftovers: Vec<_> = std::fs::read_dir(t.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn stdin_needs_an_input_type() {
    let t = TestDir::new();
    let r = t.run_stdin(&["encrypt", "--age", RECIPIENT1, "-"], "a: b\n");
    r.fails_with(1);
    assert!(r.stderr().contains("--input-type"), "{}", r.stderr());
    let r = t.run_stdin(
        &["encrypt", "--age", RECIPIENT1, "--input-type", "yaml", "-"],
        "a: b\n",
    );
    r.ok();
    assert!(r.stdout().starts_with("a: ENC[AES256_GCM,"));
    let r = t.run_stdin(
        &[
            "decrypt",
            "--identity",
            key1().to_str().unwrap(),
            "--input-type",
            "yaml",
            "-",
        ],
        &r.stdout(),
    );
    assert_eq!(r.ok().stdout(), "a: b\n");
}

#[test]
fn several_recipients_each_can_decrypt() {
    let t = TestDir::new();
    t.write("s.yaml", "k: v\n");
    let both = format!("{RECIPIENT1},{RECIPIENT2}");
    t.run(&["encrypt", "--age", &both, "-i", "s.yaml"]).ok();
    for key in [key1(), key2()] {
        let r = t.run(&["decrypt", "--identity", key.to_str().unwrap(), "s.yaml"]);
        assert_eq!(r.ok().stdout(), "k: v\n");
    }
    assert_eq!(
        t.read("s.yaml")
            .matches("-----BEGIN AGE ENCRYPTED FILE-----")
            .count(),
        2
    );
}

#[test]
fn selection_rules() {
    let t = TestDir::new();
    let plain = "db:\n  password: p1\n  user: u1\napi_key_enc: k1\nname: n1\n";
    t.write("s.yaml", plain);
    let r = t.run(&[
        "encrypt",
        "--age",
        RECIPIENT1,
        "--encrypted-regex",
        "^password$",
        "s.yaml",
    ]);
    let out = r.ok().stdout();
    assert!(
        mask_enc(&out).starts_with("db:\n  password: ENC\n  user: u1\napi_key_enc: k1\nname: n1\n"),
        "{out}"
    );
    assert!(out.contains("\n  encrypted_regex: ^password$\n"), "{out}");
    let r = t.run(&[
        "encrypt",
        "--age",
        RECIPIENT1,
        "--encrypted-suffix",
        "_enc",
        "s.yaml",
    ]);
    assert!(mask_enc(&r.ok().stdout())
        .starts_with("db:\n  password: p1\n  user: u1\napi_key_enc: ENC\nname: n1\n"));
    let r = t.run(&[
        "encrypt",
        "--age",
        RECIPIENT1,
        "--unencrypted-regex",
        "^(user|name)$",
        "s.yaml",
    ]);
    assert!(mask_enc(&r.ok().stdout())
        .starts_with("db:\n  password: ENC\n  user: u1\napi_key_enc: ENC\nname: n1\n"));
    let r = t.run(&[
        "encrypt",
        "--age",
        RECIPIENT1,
        "--unencrypted-suffix",
        "_enc",
        "s.yaml",
    ]);
    assert!(mask_enc(&r.ok().stdout())
        .starts_with("db:\n  password: ENC\n  user: ENC\napi_key_enc: k1\nname: ENC\n"));
    // Two rules at once are refused.
    t.run(&[
        "encrypt",
        "--age",
        RECIPIENT1,
        "--encrypted-suffix",
        "_enc",
        "--encrypted-regex",
        "x",
        "s.yaml",
    ])
    .fails_with(1);
}

#[test]
fn mac_only_encrypted_lets_clear_values_change() {
    let t = TestDir::new();
    t.write("s.yaml", "password: p1\nreplicas: 3\n");
    t.run(&[
        "encrypt",
        "--age",
        RECIPIENT1,
        "--encrypted-regex",
        "^password$",
        "--mac-only-encrypted",
        "-i",
        "s.yaml",
    ])
    .ok();
    let edited = t.read("s.yaml").replace("replicas: 3", "replicas: 5");
    t.write("s.yaml", &edited);
    let r = t.decrypt("s.yaml");
    assert_eq!(r.ok().stdout(), "password: p1\nreplicas: 5\n");
}

#[test]
fn refuses_an_already_encrypted_file() {
    let t = TestDir::new();
    let enc = t.encrypt("s.yaml", "a: b\n");
    t.write("s.yaml", &enc);
    let r = t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"]);
    r.fails_with(203);
    assert!(
        r.stderr().contains("s.yaml: already encrypted"),
        "{}",
        r.stderr()
    );
    assert_eq!(t.read("s.yaml"), enc);
}

#[test]
fn recipients_are_required_and_checked() {
    let t = TestDir::new();
    t.write("s.yaml", "a: b\n");
    let r = t.run(&["encrypt", "s.yaml"]);
    r.fails_with(111);
    assert!(r.stderr().contains("no recipients"), "{}", r.stderr());
    let r = t.run(&["encrypt", "--age", "age1bogus", "s.yaml"]);
    r.fails_with(111);
    assert!(
        r.stderr().contains("invalid recipient \"age1bogus\""),
        "{}",
        r.stderr()
    );
    let r = t
        .cmd()
        .args(["encrypt", "s.yaml"])
        .env("BOTSECRETS_AGE_RECIPIENTS", RECIPIENT1)
        .output()
        .unwrap();
    assert!(r.status.success());
}

#[test]
fn anchors_and_aliases_are_kept_with_a_warning() {
    let t = TestDir::new();
    let plain =
        "base: &base\n  token: t1\nprod:\n  <<: *base\n  region_unencrypted: eu\nother: *base\n";
    t.write("s.yaml", plain);
    let r = t.run(&["encrypt", "--age", RECIPIENT1, "-i", "s.yaml"]);
    r.ok();
    assert!(
        r.stderr().contains("warning") && r.stderr().contains("--expand-aliases"),
        "{}",
        r.stderr()
    );
    let enc = t.read("s.yaml");
    assert!(mask_enc(&enc).starts_with("base: &base\n  token: ENC\nprod:\n  <<: *base\n  region_unencrypted: eu\nother: *base\n"), "{enc}");
    assert_eq!(t.decrypt("s.yaml").ok().stdout(), plain);
}

#[test]
fn multi_document_crlf_and_unicode() {
    let t = TestDir::new();
    let plain = "clé: välue\r\nn: 1\r\n---\r\nzweite: ß\r\n";
    t.encrypt("m.yaml", plain);
    t.run(&["encrypt", "--age", RECIPIENT1, "-i", "m.yaml"])
        .ok();
    let enc = t.read("m.yaml");
    assert_eq!(enc.matches("sops:").count(), 2, "{enc}");
    assert!(!enc.contains("välue") && enc.contains("clé: ENC["));
    assert!(
        enc.split('\n')
            .filter(|l| !l.is_empty())
            .all(|l| l.ends_with('\r')),
        "CRLF kept: {enc:?}"
    );
    assert_eq!(t.decrypt("m.yaml").ok().stdout(), plain);
}
