//! The layout corpus (`testdata/layout/`, issue 14): real-world-like files
//! of every format. Each comes back from decrypt(encrypt(x)) byte for byte,
//! except the re-folded `>` blocks listed below (a folded block of several
//! lines is encrypted as one string and comes back as one folded line: the
//! same string, other bytes); any other change fails. Every file also reads
//! as the same data before and after, for a YAML 1.2 reader (botsecrets'
//! own, go-yaml typing) and for YAML 1.1 (PyYAML, from the sops venv).

use crate::util::*;
use botsecrets::format::FormatKind;

/// Files that do not come back byte for byte: (file, why, lines as
/// written, line as decrypt gives it back).
const EXCEPTIONS: &[(&str, &str, &str, &str)] = &[
    (
        "release.yml",
        "a `run: >-` block of two lines is re-folded onto one",
        "          cosign sign-blob --yes --key env://SIGNING_KEY\n          --output-signature dist/botsecrets.sig dist/botsecrets\n",
        "          cosign sign-blob --yes --key env://SIGNING_KEY --output-signature dist/botsecrets.sig dist/botsecrets\n",
    ),
    (
        "scripts.yaml",
        "a `message: >` block of two lines is re-folded onto one",
        "          Good morning! It is {{ states('sensor.outdoor_temperature') }} °C\n          outside.\n",
        "          Good morning! It is {{ states('sensor.outdoor_temperature') }} °C outside.\n",
    ),
];

fn kind_of(name: &str) -> FormatKind {
    match name.rsplit('.').next().unwrap() {
        "yaml" | "yml" => FormatKind::Yaml,
        "json" => FormatKind::Json,
        "toml" => FormatKind::Toml,
        "ini" => FormatKind::Ini,
        "env" => FormatKind::Dotenv,
        other => panic!("{name}: no format for .{other}"),
    }
}

/// PyYAML's reading of each file (any tag accepted: `!secret`, `!vault`),
/// every document; `None` without the sops venv's python.
fn pyyaml(files: &[std::path::PathBuf]) -> Option<Vec<String>> {
    let py = tool("sops")?.parent()?.join("python3");
    if !py.is_file() {
        assert!(!interop_required(), "no python3 next to sops");
        return None;
    }
    let code = "import sys, yaml\n\
        class L(yaml.SafeLoader): pass\n\
        def tagged(loader, suffix, node):\n\
        \x20   if isinstance(node, yaml.ScalarNode): return (suffix, loader.construct_scalar(node))\n\
        \x20   if isinstance(node, yaml.SequenceNode): return (suffix, loader.construct_sequence(node, deep=True))\n\
        \x20   return (suffix, loader.construct_mapping(node, deep=True))\n\
        L.add_multi_constructor('!', tagged)\n\
        for f in sys.argv[1:]:\n\
        \x20   print(repr(list(yaml.load_all(open(f, encoding='utf-8'), Loader=L))).replace('\\n', ' '))";
    let out = std::process::Command::new(py)
        .args(["-c", code])
        .args(files)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "PyYAML: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

#[test]
fn the_layout_corpus_round_trips_byte_for_byte() {
    let dir = testdata().join("layout");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "README.md")
        .collect();
    names.sort();
    assert!(names.len() >= 25, "{names:?}");
    let t = TestDir::new();
    let mut exact = 0;
    let mut yaml_pairs = Vec::new();
    for name in &names {
        let plain = std::fs::read_to_string(dir.join(name)).unwrap();
        t.write(name, &plain);
        t.run(&["encrypt", "--age", RECIPIENT1, "-i", name]).ok();
        let enc = t.read(name);
        assert!(
            enc.contains("ENC[AES256_GCM,"),
            "{name} has no encrypted value"
        );
        let back = t.decrypt(name).ok().stdout();
        let mut want = plain.clone();
        for (file, why, from, to) in EXCEPTIONS {
            if file == name {
                assert!(
                    want.contains(from),
                    "{name}: exception ({why}) not in the file"
                );
                want = want.replace(from, to);
            }
        }
        assert_eq!(back, want, "{name}");
        if back == plain {
            exact += 1;
        }
        // The same data for a YAML 1.2 reader (and each format's reader).
        let kind = kind_of(name);
        assert_eq!(values_of(&back, kind), values_of(&plain, kind), "{name}");
        if kind == FormatKind::Yaml {
            let b = format!("back-{name}");
            t.write(&b, &back);
            yaml_pairs.push((name.clone(), t.path(name), t.path(&b)));
            t.write(name, &plain);
        }
    }
    // The same data for a YAML 1.1 reader.
    let files: Vec<_> = yaml_pairs
        .iter()
        .flat_map(|(_, a, b)| [a.clone(), b.clone()])
        .collect();
    if let Some(read) = pyyaml(&files) {
        assert_eq!(read.len(), files.len());
        for (i, (name, _, _)) in yaml_pairs.iter().enumerate() {
            assert_eq!(
                read[2 * i + 1],
                read[2 * i],
                "PyYAML reads {name} otherwise"
            );
        }
    }
    println!(
        "layout corpus: {exact} of {} files byte for byte; the other {} are the listed re-folded `>` blocks; all read as the same data (YAML 1.2 and, for {} YAML files, PyYAML 1.1)",
        names.len(),
        names.len() - exact,
        yaml_pairs.len()
    );
    assert_eq!(names.len() - exact, EXCEPTIONS.len());
}
