//! One conformance suite run on all five formats: round trip, layout of the
//! encrypted file, key order, nesting and lists where the format has them,
//! empty and null values, unicode, comments, selection rules, MAC tamper
//! detection, and (for the formats sops has) interop in both directions.

use botsecrets::format::{apply_splices, FormatKind, Splice};

use crate::util::*;

/// One format's version of the shared test document.
struct Case {
    kind: FormatKind,
    file: &'static str,
    /// Plaintext in canonical style (so decrypt(encrypt(x)) == x).
    plain: &'static str,
    /// Texts that must not survive encryption.
    secrets: &'static [&'static str],
    /// A clear value under an `_unencrypted` key, and a replacement.
    clear: (&'static str, &'static str),
    /// A regex that selects only the token key, and the token's plaintext.
    token_regex: &'static str,
    /// Whether sops reads this format (TOML is our extension).
    sops: bool,
}

const CASES: &[Case] = &[
    Case {
        kind: FormatKind::Yaml,
        file: "c.yaml",
        plain: "# top comment\napp:\n  name: démo ✓\n  token: tok-123\n  port: 8080\n  empty: \"\"\n  nothing: null\n  list:\n    - one\n    - two\n  public_unencrypted: visible\nzeta: last\n",
        secrets: &["tok-123", "démo", "top comment", "one", "8080"],
        clear: ("visible", "changed"),
        token_regex: "^token$",
        sops: true,
    },
    Case {
        kind: FormatKind::Json,
        file: "c.json",
        plain: "{\n  \"app\": {\n    \"name\": \"démo ✓\",\n    \"token\": \"tok-123\",\n    \"port\": 8080,\n    \"empty\": \"\",\n    \"nothing\": null,\n    \"list\": [\"one\", \"two\"],\n    \"public_unencrypted\": \"visible\"\n  },\n  \"zeta\": \"last\"\n}\n",
        secrets: &["tok-123", "démo", "one", "8080"],
        clear: ("visible", "changed"),
        token_regex: "^token$",
        sops: true,
    },
    Case {
        kind: FormatKind::Dotenv,
        file: "c.env",
        plain: "# top comment\nAPP_NAME=démo ✓\nAPP_TOKEN=tok-123\nAPP_PORT=8080\n\nEMPTY=\nPUBLIC_unencrypted=visible\nZETA=last\n",
        secrets: &["tok-123", "démo", "top comment", "8080"],
        clear: ("visible", "changed"),
        token_regex: "^APP_TOKEN$",
        sops: true,
    },
    Case {
        kind: FormatKind::Ini,
        file: "c.ini",
        plain: "; top comment\n[app]\nname = démo ✓\ntoken = tok-123\nport = 8080\nempty =\npublic_unencrypted = visible\n\n[zeta]\nkey = last\n",
        secrets: &["tok-123", "démo", "top comment", "8080"],
        clear: ("visible", "changed"),
        token_regex: "^token$",
        sops: true,
    },
    Case {
        kind: FormatKind::Toml,
        file: "c.toml",
        plain: "# top comment\nzeta = \"last\"\n\n[app]\nname = \"démo ✓\"\ntoken = \"tok-123\"\nport = 8080\nempty = \"\"\nlist = [\"one\", \"two\"]\npublic_unencrypted = \"visible\"\n",
        secrets: &["tok-123", "démo", "top comment", "one", "8080"],
        clear: ("visible", "changed"),
        token_regex: "^token$",
        sops: false,
    },
];

/// The text with the metadata removed and every leaf span replaced by
/// `<V>`: what must be identical between a plaintext file and its
/// encryption when only values and comments were replaced.
fn skeleton(text: &str, kind: FormatKind) -> String {
    let syntax = kind.syntax();
    let parsed = syntax.parse(text).unwrap();
    let mut strip = syntax.metadata_splices(text, &parsed, None).unwrap();
    let text = apply_splices(text, &mut strip).unwrap();
    let parsed = syntax.parse(&text).unwrap();
    let mut splices: Vec<Splice> = parsed
        .leaves
        .iter()
        .map(|l| Splice {
            range: l.span.clone(),
            text: "<V>".into(),
        })
        .collect();
    apply_splices(&text, &mut splices).unwrap()
}

fn for_each_case(f: impl Fn(&Case, &TestDir)) {
    for case in CASES {
        let t = TestDir::new();
        f(case, &t);
    }
}

#[test]
fn round_trip_is_exact() {
    for_each_case(|c, t| {
        t.write(c.file, c.plain);
        t.run(&["encrypt", "--age", RECIPIENT1, "-i", c.file]).ok();
        let r = t.decrypt(c.file);
        assert_eq!(r.ok().stdout(), c.plain, "{:?}", c.kind);
    });
}

#[test]
fn layout_outside_values_is_unchanged() {
    for_each_case(|c, t| {
        t.write(c.file, c.plain);
        t.run(&["encrypt", "--age", RECIPIENT1, "-i", c.file]).ok();
        let enc = t.read(c.file);
        assert_eq!(
            skeleton(&enc, c.kind),
            skeleton(c.plain, c.kind),
            "{:?}:\n{enc}",
            c.kind
        );
        // Outside the ciphertext and the wrapped keys: random base64 may
        // hold a short secret such as "one" by chance.
        let armor = regex::Regex::new(
            r"-----BEGIN AGE ENCRYPTED FILE-----[\s\S]*?-----END AGE ENCRYPTED FILE-----",
        )
        .unwrap();
        let visible = armor.replace_all(&mask_enc(&enc), "ARMOR").into_owned();
        for s in c.secrets {
            assert!(!visible.contains(s), "{:?}: {s:?} left in clear", c.kind);
        }
        assert!(
            enc.contains(c.clear.0),
            "{:?}: the _unencrypted value must stay clear",
            c.kind
        );
        assert!(enc.contains("ENC[AES256_GCM,data:"), "{:?}", c.kind);
    });
}

#[test]
fn values_keep_their_order_and_types() {
    for_each_case(|c, t| {
        t.write(c.file, c.plain);
        t.run(&["encrypt", "--age", RECIPIENT1, "-i", c.file]).ok();
        let dec = t.decrypt(c.file).stdout();
        let values = values_of(&dec, c.kind);
        assert_eq!(values, values_of(c.plain, c.kind), "{:?}", c.kind);
        assert!(values.len() >= 5, "{:?}: {values:?}", c.kind);
    });
}

#[test]
fn encrypted_regex_selects_one_value() {
    for_each_case(|c, t| {
        t.write(c.file, c.plain);
        let r = t.run(&[
            "encrypt",
            "--age",
            RECIPIENT1,
            "--encrypted-regex",
            c.token_regex,
            c.file,
        ]);
        let enc = r.ok().stdout();
        assert_eq!(
            enc.matches("ENC[AES256_GCM,data:").count(),
            3,
            "{:?}: token, mac and seal only:\n{enc}",
            c.kind
        );
        assert!(
            !enc.contains("tok-123") && enc.contains("last"),
            "{:?}",
            c.kind
        );
        t.write(c.file, &enc);
        assert_eq!(t.decrypt(c.file).ok().stdout(), c.plain, "{:?}", c.kind);
    });
}

#[test]
fn tampering_with_a_clear_value_breaks_the_mac() {
    for_each_case(|c, t| {
        t.write(c.file, c.plain);
        t.run(&["encrypt", "--age", RECIPIENT1, "-i", c.file]).ok();
        let tampered = t.read(c.file).replace(c.clear.0, c.clear.1);
        t.write(c.file, &tampered);
        let r = t.decrypt(c.file);
        r.fails_with(51);
        assert!(
            r.stderr().contains("MAC mismatch"),
            "{:?}: {}",
            c.kind,
            r.stderr()
        );
        r.leaks_none(c.secrets);
    });
}

#[test]
fn sops_reads_ours_and_we_read_sops() {
    let Some(sops_bin) = tool("sops") else { return };
    for_each_case(|c, t| {
        if !c.sops {
            return;
        }
        // botsecrets -> sops
        t.write(c.file, c.plain);
        t.run(&["encrypt", "--age", RECIPIENT1, "-i", c.file]).ok();
        let out = sops(
            &sops_bin,
            &key1(),
            &["decrypt", t.path(c.file).to_str().unwrap()],
        );
        assert!(
            out.status.success(),
            "{:?}: {}",
            c.kind,
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            values_of(&theirs, c.kind),
            values_of(c.plain, c.kind),
            "{:?}",
            c.kind
        );
        // sops -> botsecrets
        let plain = t.write(&format!("s.{}", c.file), c.plain);
        let out = sops(
            &sops_bin,
            &key1(),
            &["encrypt", "--age", RECIPIENT1, plain.to_str().unwrap()],
        );
        assert!(
            out.status.success(),
            "{:?}: {}",
            c.kind,
            String::from_utf8_lossy(&out.stderr)
        );
        t.write(c.file, &String::from_utf8(out.stdout).unwrap());
        let ours = t.decrypt(c.file);
        assert_eq!(
            values_of(&ours.ok().stdout(), c.kind),
            values_of(c.plain, c.kind),
            "{:?}",
            c.kind
        );
    });
}
