//! The layout corpus (`testdata/layout/`, issue 14): every file comes back
//! from decrypt(encrypt(x)) byte for byte, except the style gaps listed
//! below line by line (none at the moment); any other change fails.

use crate::util::*;

/// (file, line as written, line as decrypt gives it back).
const STYLE_GAPS: &[(&str, &str, &str)] = &[];

#[test]
fn the_layout_corpus_round_trips_byte_for_byte() {
    let dir = testdata().join("layout");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "README.md")
        .collect();
    names.sort();
    assert!(names.len() >= 8, "{names:?}");
    let t = TestDir::new();
    let mut exact = 0;
    for name in &names {
        let plain = std::fs::read_to_string(dir.join(name)).unwrap();
        t.write(name, &plain);
        let r = t.run(&["encrypt", "--age", RECIPIENT1, "-i", name]);
        r.ok();
        let back = t.decrypt(name).ok().stdout();
        let mut want = plain.clone();
        for (file, from, to) in STYLE_GAPS {
            if file == name {
                assert!(want.contains(from), "{name}: gap {from:?} not in the file");
                want = want.replace(from, to);
            }
        }
        assert_eq!(back, want, "{name}");
        if want == plain {
            exact += 1;
        }
    }
    println!(
        "layout corpus: {exact} of {} files byte for byte, the rest up to {} listed style gaps",
        names.len(),
        STYLE_GAPS.len()
    );
}
