//! The parallel parse against the one-thread parse: for every text the
//! fast source's tests use (the yaml-test-suite, every YAML file in
//! testdata, the benchmark's shapes, the mutations of all of them) and
//! texts built to stress the join, cut at every line, a join that is given
//! must equal the one-thread parse field by field (leaves with path, kind,
//! style, span, document, value and where in the shared text it lies;
//! empties; metadata; documents; layout facts; step), and a text the
//! one-thread parse refuses must never be joined. The files the speed is
//! for are checked to take the parallel path.

use super::super::{parse_one, Full};
use super::{chunks_from_back, parse_parallel, parse_split, split_candidates, PARALLEL_MIN};
use crate::format::yaml::fast::tests::{
    bench_encrypted, bench_yaml, limits, mutations, root, yaml_files, CASES,
};
use crate::format::Leaf;
use crate::secret::SourceText;

/// Where in `base` a leaf's value lies, if it is a slice of it.
fn shared_at(l: &Leaf, base: &str) -> Option<usize> {
    let (lo, p) = (base.as_ptr() as usize, l.value.expose().as_ptr() as usize);
    (lo..=lo + base.len()).contains(&p).then(|| p - lo)
}

/// The first difference between two parses of `base`, field by field
/// (leaves with path, kind, style, span, document, value and where in the
/// shared text it lies; empties; metadata; aliases; documents; layout
/// facts; step; events), described; `None` where they are equal.
fn difference(got: &Full<'_>, want: &Full<'_>, base: &str) -> Option<String> {
    let (g, w) = (&got.file, &want.file);
    for (i, (a, b)) in g.leaves.iter().zip(&w.leaves).enumerate() {
        let same = a.path == b.path
            && a.kind == b.kind
            && a.style == b.style
            && a.span == b.span
            && a.document == b.document
            && a.value.expose() == b.value.expose()
            && shared_at(a, base) == shared_at(b, base);
        if !same {
            let show = |l: &Leaf| {
                format!(
                    "{:?} {:?} {:?} {:?} doc {} value {:?} shared at {:?}",
                    l.path,
                    l.kind,
                    l.style,
                    l.span,
                    l.document,
                    l.value.expose(),
                    shared_at(l, base)
                )
            };
            return Some(format!(
                "leaf {i}:\n joined: {}\n one:    {}",
                show(a),
                show(b)
            ));
        }
    }
    let facts = |f: &Full<'_>| {
        let p = &f.file;
        format!(
            "leaves {}\nempties {:?}\nunsealed {:?}\nmetadata {:?}\naliases {:?}\ndocuments {}\nlayout {:?}\ndocs {:?}\nstep {:?}\nevents {} anchors {:?} alias tokens {:?}",
            p.leaves.len(),
            p.empties,
            p.unsealed_empties,
            p.metadata.iter().map(|m| (m.span.clone(), m.tree.to_string())).collect::<Vec<_>>(),
            p.aliases,
            p.documents,
            p.yaml_layout,
            f.docs,
            f.step,
            f.events.len(),
            f.anchor_events,
            f.alias_tokens
        )
    };
    let same = g.leaves.len() == w.leaves.len()
        && g.empties == w.empties
        && g.unsealed_empties == w.unsealed_empties
        && g.metadata.len() == w.metadata.len()
        && g.metadata
            .iter()
            .zip(&w.metadata)
            .all(|(a, b)| a.span == b.span && a.tree == b.tree)
        && g.aliases.is_empty()
        && w.aliases.is_empty()
        && g.documents == w.documents
        && g.yaml_layout.is_none()
        && w.yaml_layout.is_none()
        && got.docs == want.docs
        && got.step == want.step
        && got.events.is_empty()
        && want.events.is_empty()
        && got.anchor_events.is_empty()
        && want.anchor_events.is_empty()
        && got.alias_tokens.is_empty()
        && want.alias_tokens.is_empty();
    (!same).then(|| format!("joined:\n{}\none:\n{}", facts(got), facts(want)))
}

/// Cuts `text` at every line start (`every`), else at four of the lines
/// the parallel parse may choose (all if fewer) and at every 64th line
/// (the mutations of the larger files: thousands of texts); returns how
/// many joins were given. Panics where a join differs from the one-thread
/// parse or a refused text is joined.
fn check_cuts(name: &str, text: &str, every: bool) -> usize {
    let shared = SourceText::shared(text.to_owned());
    let t = shared.as_str();
    let one = parse_one(t, Some(&shared));
    let mut one_owned = None;
    let mut candidates = split_candidates(t);
    let step = candidates.len().div_ceil(4).max(1);
    candidates = candidates.into_iter().step_by(step).collect();
    let mut joined = 0;
    let starts = (1..t.len()).filter(|&i| t.as_bytes()[i - 1] == b'\n');
    for (n, at) in starts.enumerate() {
        if !every && n % 64 != 0 && !candidates.contains(&at) {
            continue;
        }
        // Without a shared text too (owned values), at every other cut.
        for with_shared in [true, false] {
            if !with_shared && n % 2 != 0 {
                continue;
            }
            let split = parse_split(t, with_shared.then_some(&shared), at, false);
            let Some(split) = split else { continue };
            let want = match &one {
                Ok(want) if with_shared => want,
                Ok(_) => one_owned.get_or_insert_with(|| parse_one(t, None).expect("parses")),
                Err(e) => panic!(
                    "{name}: cut at {at} joined a text the one-thread parse refuses ({e}):\n{text:?}"
                ),
            };
            if let Some(d) = difference(&split, want, t) {
                panic!("{name}: cut at {at} (shared {with_shared}): {d}\ntext: {text:?}");
            }
            joined += 1;
        }
    }
    joined
}

/// Texts built to stress the join: what sits just before or after a cut.
fn join_cases() -> Vec<String> {
    let b = bench_yaml(10);
    vec![
        // A key in both parts: only the one-thread parse sees the duplicate.
        format!("{b}bot_000000:\n  x: 1\n"),
        format!("a: 1\nb: 2\n{b}a: 3\n"),
        // Metadata in the first part, the second, or starting the second.
        format!("a: 1\nsops:\n    version: 3.11.0\nb: 2\nc: 3\n"),
        format!("{b}sops:\n    version: 3.11.0\n    mac: x\n"),
        // Blank lines, comments and block scalars before the cut.
        "a: |\n  x\n\n\nb: 1\nc: 2\n".to_owned(),
        "a: |+\n  x\n\n\nb: 1\nc: 2\n".to_owned(),
        "a: |-\n  x\n\nb: 1\nc: 2\n".to_owned(),
        "a: |\n  x\n  \n\nb: |\n  y\nc: 2\n".to_owned(),
        "a:\n  b: 1\n  # c\nd: 2\ne: 3\n".to_owned(),
        "a:\n  b: 1\n# c\nd: 2\ne: 3\n".to_owned(),
        "a: 1 # c\nd: 2\n# e\n\nf: 3\n".to_owned(),
        "a:\n  # c\nb: 1\nc:\n".to_owned(),
        // Empty values, empty collections and indentation steps near a cut.
        "a:\nb:\nc: []\nd: {}\ne:\n  f: {}\ng:\n    h: 1\n".to_owned(),
        "a: 1\nb:\n  - x\n  - y\nc:\n- z\nd: 1\n".to_owned(),
        "a:\n    - x\nb:\n  c: 1\n".to_owned(),
        // Documents, markers and directives.
        "a: 1\n...\nb: 2\nc: 3\n".to_owned(),
        "a: 1\n---\nb: 2\nc: 3\n".to_owned(),
        "---\na: 1\nb: 2\n".to_owned(),
        "%YAML 1.2\n---\na: 1\nb: 2\n".to_owned(),
        "a: 1\nb: 2\n...\n".to_owned(),
        "a: 1\nb: 2\n---\n".to_owned(),
        "a: 1\nb: 2\n--- \nc: 3\n".to_owned(),
        // Anchors and aliases across the cut; flow and quoted scalars.
        "a: &x 1\nb: *x\nc: 2\n".to_owned(),
        "a: [1,\n2]\nb: 1\n".to_owned(),
        "a: 'x\ny: 1'\nb: 1\n".to_owned(),
        "a: \"x\ny: 1\"\nb: 1\n".to_owned(),
        "a: x\ny\nb: 1\n".to_owned(),
        "\"a\": 1\nb: 2\n'c': 3\nd: 4\n".to_owned(),
        // Indented roots, a root that is not a mapping, a byte order mark.
        "  a: 1\n  b: 2\nc: 3\n".to_owned(),
        "- a\nb: 1\n".to_owned(),
        "\u{feff}a: 1\nb: 2\n".to_owned(),
        "a: 1\n\u{feff}b: 2\n".to_owned(),
        "a: 1\nb: 2\n   \n".to_owned(),
        "a: 1\nb: 2".to_owned(),
        "a: |\n  x\nb: |\n  y".to_owned(),
        "a: 1\nsops: 2\nb: 3\n".to_owned(),
        "a:\n  sops: 1\nb: 2\nsops:\n  version: 1\n".to_owned(),
    ]
}

/// Every cut of every test text: a join, where given, is the one-thread
/// parse.
#[test]
fn every_cut_joins_to_the_one_thread_parse() {
    // (name, text, cut at every line)
    let mut texts: Vec<(String, String, bool)> = Vec::new();
    for (i, c) in CASES.iter().enumerate() {
        texts.push((format!("case {i}"), (*c).to_owned(), true));
        for (j, m) in mutations(c).into_iter().enumerate() {
            texts.push((format!("case {i} mutation {j}"), m, true));
        }
    }
    for (i, t) in limits().into_iter().enumerate() {
        texts.push((format!("limit {i}"), t, false));
    }
    for (i, t) in join_cases().into_iter().enumerate() {
        for (j, m) in mutations(&t).into_iter().enumerate() {
            texts.push((format!("join case {i} mutation {j}"), m, true));
        }
        texts.push((format!("join case {i}"), t, true));
    }
    let mut files = Vec::new();
    yaml_files(&root(), &mut files);
    assert!(files.len() > 300, "testdata has {} YAML files", files.len());
    for f in &files {
        let Ok(t) = std::fs::read_to_string(f) else {
            continue;
        };
        let name = f.display().to_string();
        for (j, m) in mutations(&t).into_iter().enumerate() {
            texts.push((format!("{name} mutation {j}"), m, false));
        }
        texts.push((name, t, true));
    }
    for n in [1, 7, 100] {
        for (name, text) in [
            ("bench plain", bench_yaml(n)),
            ("bench encrypted", bench_encrypted(n)),
        ] {
            // The longest texts: every third mutation.
            let step = if n < 100 { 1 } else { 3 };
            for (j, m) in mutations(&text).into_iter().enumerate().step_by(step) {
                texts.push((format!("{name} {n} mutation {j}"), m, n < 100));
            }
            texts.push((format!("{name} {n}"), text, true));
        }
    }
    let (mut joined, mut cut_texts) = (0, 0);
    for (name, text, every) in &texts {
        let j = check_cuts(name, text, *every);
        joined += j;
        cut_texts += usize::from(j > 0);
    }
    println!(
        "{joined} joins over {cut_texts} of {} texts matched the one-thread parse",
        texts.len()
    );
    assert!(texts.len() > 5000, "only {} texts", texts.len());
    assert!(
        cut_texts > 1000,
        "only {cut_texts} texts were joined at all"
    );
}

/// Every line the parallel parse may choose is a cut the join accepts on
/// the plain texts it is for.
#[test]
fn the_bench_shapes_join_at_every_candidate() {
    for text in [bench_yaml(200), bench_encrypted(200)] {
        let shared = SourceText::shared(text.clone());
        let t = shared.as_str();
        let want = parse_one(t, Some(&shared)).expect("parses");
        let cuts = split_candidates(t);
        assert!(cuts.len() >= 39, "{} candidates", cuts.len());
        for at in cuts {
            let got = parse_split(t, Some(&shared), at, true).expect("joined");
            assert_eq!(difference(&got, &want, t), None, "cut at {at}");
        }
    }
}

/// A sops-made file grown to `min` bytes: its top-level entries repeated
/// under new names, the metadata block last.
fn large_sops_file(min: usize) -> String {
    let text = std::fs::read_to_string(root().join("sops/basic.enc.yaml")).expect("read");
    let at = text.find("\nsops:").expect("metadata") + 1;
    let (data, meta) = text.split_at(at);
    let mut out = String::new();
    let mut i = 0;
    while out.len() < min {
        for line in data.split_inclusive('\n') {
            match line.split_once(':') {
                Some((k, rest)) if !line.starts_with([' ', '#']) => {
                    out.push_str(&format!("{k}_{i}:{rest}"));
                }
                _ if i > 0 && line.starts_with('#') => {}
                _ => out.push_str(line),
            }
        }
        i += 1;
    }
    out + meta
}

/// The files the speed is for take the parallel path, and what it gives is
/// the one-thread parse: the speedup cannot vanish silently.
#[test]
fn bench_and_sops_files_take_the_parallel_path() {
    let texts = [
        ("bench plain", bench_yaml(10_000)),
        ("bench encrypted", bench_encrypted(10_000)),
        ("large sops file", large_sops_file(2 * PARALLEL_MIN)),
    ];
    for (name, text) in texts {
        assert!(text.len() >= PARALLEL_MIN, "{name}: {} bytes", text.len());
        let shared = SourceText::shared(text);
        let t = shared.as_str();
        let want = parse_one(t, Some(&shared)).expect("parses");
        let got = parse_parallel(t, Some(&shared))
            .unwrap_or_else(|| panic!("{name} does not take the parallel path"));
        assert_eq!(difference(&got, &want, t), None, "{name}");
        let got = parse_parallel(t, None).expect("also without a shared text");
        let want = parse_one(t, None).expect("parses");
        assert_eq!(difference(&got, &want, t), None, "{name}, owned values");
    }
    // Below the threshold the parse stays on one thread.
    assert!(parse_parallel(&bench_yaml(100), None).is_none());
}

/// The second part's leaves are moved in chunks: every length gives back
/// every leaf once, in order.
#[test]
fn chunks_from_back_keep_every_item_in_order() {
    for len in 0..12 {
        for chunk in 1..5 {
            let v: Vec<usize> = (0..len).collect();
            let chunks = chunks_from_back(v.clone(), chunk);
            assert!(chunks.iter().all(|c| c.len() <= chunk), "{len} {chunk}");
            let back: Vec<usize> = chunks.into_iter().rev().flatten().collect();
            assert_eq!(back, v, "{len} {chunk}");
        }
    }
}
