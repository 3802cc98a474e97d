//! Masking secret values in a program's output (`exec --redact`): a
//! streaming replacer that turns every occurrence of a secret into
//! `[redacted:NAME]`, also when the occurrence is split across reads.
//!
//! Invariants:
//! - no byte of a secret is emitted: output is held back only while the
//!   bytes at its end could still be the start of a secret (at most the
//!   longest secret's length minus one), everything else goes out at once,
//!   so an interactive program's prompts are not delayed;
//! - where secrets overlap, the longest match at the earliest position
//!   wins (a secret that contains another is masked whole);
//! - values shorter than [`MIN_LEN`] characters are not masked: a short
//!   value (`true`, a port) would mask ordinary output, and is no secret.
//!
//! This catches a secret printed as it is. A program that prints it
//! transformed (base64, quoted with escapes, split by a line break) is not
//! masked; docs/exec.md says so.

use zeroize::Zeroizing;

/// The shortest value (in characters) that is masked.
pub const MIN_LEN: usize = 6;

/// The secrets to mask, longest first.
#[derive(Clone)]
pub struct Patterns {
    items: Vec<(Zeroizing<Vec<u8>>, Vec<u8>)>,
}

impl Patterns {
    /// From `(name, value)` pairs: values of at least [`MIN_LEN`]
    /// characters; the first name wins for a value given twice.
    pub fn new<'a>(secrets: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut items: Vec<(Zeroizing<Vec<u8>>, Vec<u8>)> = Vec::new();
        for (name, value) in secrets {
            if value.chars().count() < MIN_LEN
                || items.iter().any(|(v, _)| v.as_slice() == value.as_bytes())
            {
                continue;
            }
            items.push((
                Zeroizing::new(value.as_bytes().to_vec()),
                format!("[redacted:{name}]").into_bytes(),
            ));
        }
        // Stable: equal lengths keep their order.
        items.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
        Self { items }
    }

    /// How many values are masked.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no value is masked.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// One output stream's replacer.
pub struct Redactor {
    patterns: Patterns,
    /// Bytes held back: they may be the start of a secret.
    pending: Zeroizing<Vec<u8>>,
}

impl Redactor {
    /// A replacer for one stream.
    pub fn new(patterns: Patterns) -> Self {
        Self {
            patterns,
            pending: Zeroizing::new(Vec::new()),
        }
    }

    /// Takes `input` (the next bytes read); appends to `out` what can be
    /// written now.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        self.pending.extend_from_slice(input);
        self.process(false, out);
    }

    /// The stream ended: appends everything held back (no secret can
    /// complete any more).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.process(true, out);
    }

    fn process(&mut self, end: bool, out: &mut Vec<u8>) {
        let buf = std::mem::replace(&mut self.pending, Zeroizing::new(Vec::new()));
        let mut i = 0;
        let mut emitted = 0;
        'scan: while i < buf.len() {
            let rest = &buf[i..];
            for (value, replacement) in &self.patterns.items {
                if rest.len() >= value.len() {
                    if rest.starts_with(value) {
                        out.extend_from_slice(&buf[emitted..i]);
                        out.extend_from_slice(replacement);
                        i += value.len();
                        emitted = i;
                        continue 'scan;
                    }
                } else if !end && value.starts_with(rest) {
                    // A secret (the longest possible here) may be
                    // completing: hold everything from i back.
                    break 'scan;
                }
            }
            i += 1;
        }
        out.extend_from_slice(&buf[emitted..i]);
        self.pending.extend_from_slice(&buf[i..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(secrets: &[(&str, &str)], chunks: &[&str]) -> String {
        let mut r = Redactor::new(Patterns::new(secrets.iter().copied()));
        let mut out = Vec::new();
        for c in chunks {
            r.push(c.as_bytes(), &mut out);
        }
        r.finish(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn masks_whole_and_split_occurrences() {
        let s = [("TOKEN", "hunter2-secret")];
        assert_eq!(run(&s, &["a hunter2-secret b"]), "a [redacted:TOKEN] b");
        // Split at every position.
        let text = "x hunter2-secret y hunter2-secret";
        for cut in 0..text.len() {
            let (a, b) = text.split_at(cut);
            assert_eq!(
                run(&s, &[a, b]),
                "x [redacted:TOKEN] y [redacted:TOKEN]",
                "cut at {cut}"
            );
        }
        // One byte at a time.
        let bytes: Vec<String> = text.chars().map(String::from).collect();
        let refs: Vec<&str> = bytes.iter().map(String::as_str).collect();
        assert_eq!(run(&s, &refs), "x [redacted:TOKEN] y [redacted:TOKEN]");
    }

    #[test]
    fn holds_back_only_a_possible_start() {
        let mut r = Redactor::new(Patterns::new([("T", "hunter2-secret")]));
        let mut out = Vec::new();
        r.push(b"prompt> ", &mut out);
        assert_eq!(out, b"prompt> ");
        r.push(b"hunt", &mut out);
        assert_eq!(out, b"prompt> ");
        r.push(b"ing\n", &mut out);
        assert_eq!(out, b"prompt> hunting\n");
        r.push(b"hunter2", &mut out);
        r.finish(&mut out);
        assert_eq!(out, b"prompt> hunting\nhunter2");
    }

    #[test]
    fn longest_wins_short_values_are_kept_and_first_name_wins() {
        let s = [
            ("A", "secret"),
            ("B", "secret-longer"),
            ("C", "12345"),
            ("D", "secret"),
        ];
        assert_eq!(
            run(&s, &["secret-longer secret 12345"]),
            "[redacted:B] [redacted:A] 12345"
        );
        // The longer one split: not masked early as the shorter one.
        assert_eq!(run(&s, &["secret-lo", "nger!"]), "[redacted:B]!");
        assert_eq!(Patterns::new(s.iter().copied()).len(), 2);
        // Characters, not bytes: six characters of two bytes each count.
        assert_eq!(run(&[("U", "ééééé")], &["ééééé"]), "ééééé");
        assert_eq!(run(&[("U", "éééééé")], &["-éééééé-"]), "-[redacted:U]-");
    }

    #[test]
    fn multi_line_values_are_masked() {
        let pem = "-----BEGIN KEY-----\nabc\n-----END KEY-----";
        assert_eq!(
            run(&[("PEM", pem)], &["k=", &pem[..10], &pem[10..], "\n"]),
            "k=[redacted:PEM]\n"
        );
    }
}
