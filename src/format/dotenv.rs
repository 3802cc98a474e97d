//! The dotenv format, byte-compatible with sops' dotenv store in both
//! directions, while keeping the file's layout.
//!
//! # Reading (sops' rules, `stores/dotenv/store.go`)
//! - The text is split on `\n` only. COMPAT(sops): a `\r` before the `\n`
//!   belongs to the value (or comment) exactly as in sops, so values, AAD and
//!   MAC of a CRLF file are the ones sops computes. Encrypting a CRLF file
//!   therefore writes `KEY=ENC[...]` lines without `\r` (the `\r` is inside
//!   the ciphertext), and decrypting puts it back: the plaintext round trip
//!   is byte-exact. Every byte outside value and comment spans is kept.
//! - A line that is empty or only whitespace is kept in the file and is not
//!   a leaf (sops drops empty lines and rejects whitespace-only ones).
//! - A line whose first non-blank character is `#` is a comment leaf at the
//!   root path (AAD `:`); its value is the text after the `#` (so `# a`
//!   gives ` a`), its span runs from the `#` to the end of the line.
//!   COMPAT(sops): sops only knows comments in column 1; an indented comment
//!   is a syntax error for sops (or, if it holds a `=`, a key), so files that
//!   indent comments are not readable by sops anyway.
//! - Any other line is split at the first `=`: the key is everything before
//!   it, verbatim (`export TOKEN=x` has the key `export TOKEN`, AAD
//!   `export TOKEN:`); the value is everything after it, verbatim, with each
//!   literal `\n` (backslash, `n`) decoded to a line break. Quotes are part
//!   of the value: `PASS="a b"` holds the 5 characters `"a b"`, as in sops.
//!   Every value is a string; `EMPTY=` is an empty string leaf (empty values
//!   are never encrypted). A line without `=`, an empty key and a repeated
//!   key are errors.
//! - Keys starting with `sops_` are the metadata, never leaves. They are
//!   unflattened into a tree (`sops_age__list_0__map_enc` ->
//!   `{"age": [{"enc": ..}]}`), literal `\n` decoded, every scalar kept as a
//!   string (the metadata reader is tolerant). They must form one contiguous
//!   run of lines (sops writes them last, sorted); scattered `sops_` lines
//!   are reported as unsupported.
//!
//! # Writing
//! - An `ENC[...]` string replaces the value span; a comment becomes
//!   `#ENC[...]`.
//! - A plaintext value is written verbatim with its line breaks as literal
//!   `\n` (COMPAT(sops)). A value that itself contains a backslash followed
//!   by `n` cannot round-trip (it reads back as a line break), in sops as
//!   here.
//! - Metadata is written as sops does: flattened, `sops_` prefixed, sorted by
//!   key, line breaks as literal `\n`, booleans `true`/`false`, numbers in
//!   decimal; it replaces the existing run of `sops_` lines or is appended at
//!   the end of the file. Metadata lines always end in `\n`, even in a CRLF
//!   file, because sops cannot parse a `lastmodified` ending in `\r`.
//!
//! # What a program sees
//! The leaf value is the raw text sops encrypts (`"a b"` with its quotes).
//! [`loader_value`] gives what a dotenv loader (docker compose,
//! python-dotenv) sets instead: `"a b"` -> `a b`, `"x\"y"` -> `x"y`,
//! `'lit\t'` -> `lit\t` (no escapes), `abc  # note` -> `abc`. `exec` uses
//! it. One difference from python-dotenv remains: the literal `\n` of
//! a single-quoted or unquoted value was already turned into a line break
//! by the sops rule above, so `'a\nb'` gives a line break here.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;

use serde_json::Value;

use super::flat::{decode_newlines, encode_newlines, flatten, unflatten, FlatEntry};
use super::loaded::without_bom;
use super::text::{after_line_break, line_removal, lines};
use super::{
    insert_keys, insert_leaf, unrepresentable, FormatError, FormatKind, Leaf, LeafKind, LeafStyle,
    LoadedPath, MetadataBlock, ParsedFile, Replacement, Splice, Syntax, ValueType,
};
use crate::path::KeyPath;
use crate::secret::SecretText;

/// The dotenv syntax.
pub struct Dotenv;

const FORMAT: &str = "dotenv";
/// COMPAT(sops): the prefix of metadata keys (`stores.SopsMetadataKey + "_"`).
const SOPS_PREFIX: &str = "sops_";

fn syntax(line: usize, column: usize, reason: &str) -> FormatError {
    FormatError::Syntax {
        format: FORMAT,
        line,
        column,
        reason: reason.to_owned(),
    }
}

impl Syntax for Dotenv {
    fn kind(&self) -> FormatKind {
        FormatKind::Dotenv
    }

    fn parse(&self, text: &str) -> Result<ParsedFile, FormatError> {
        let mut parsed = ParsedFile {
            documents: 1,
            ..ParsedFile::default()
        };
        let mut seen: HashSet<&str> = HashSet::new();
        let mut meta: Vec<FlatEntry> = Vec::new();
        // Byte range and line numbers of the run of `sops_` lines.
        let mut meta_span: Option<Range<usize>> = None;
        let mut meta_last_line = 0;
        for line in lines(text) {
            let content = line.content;
            let trimmed = content.trim_start();
            if trimmed.trim_end().is_empty() {
                continue;
            }
            let indent = content.len() - trimmed.len();
            if let Some(comment) = trimmed.strip_prefix('#') {
                let hash = line.start + indent;
                parsed.leaves.push(Leaf {
                    path: KeyPath::root(),
                    kind: LeafKind::Comment,
                    value: SecretText::from_str(comment),
                    span: hash..line.end(),
                    style: LeafStyle::default(),
                    document: 0,
                });
                continue;
            }
            let Some(eq) = content.find('=') else {
                return Err(syntax(
                    line.number,
                    indent + 1,
                    "expected KEY=value, a comment or a blank line",
                ));
            };
            let key = &content[..eq];
            if key.trim().is_empty() {
                return Err(syntax(line.number, 1, "empty key before ="));
            }
            let raw = &content[eq + 1..];
            if let Some(name) = key.strip_prefix(SOPS_PREFIX) {
                // Metadata line: part of one contiguous run.
                match &mut meta_span {
                    Some(span) => {
                        if meta_last_line + 1 != line.number {
                            return Err(FormatError::Unsupported {
                                format: FORMAT,
                                line: line.number,
                                reason: "sops_ metadata lines must be contiguous".into(),
                            });
                        }
                        span.end = after_line_break(text, line.end());
                    }
                    None => {
                        meta_span = Some(line.start..after_line_break(text, line.end()));
                    }
                }
                meta_last_line = line.number;
                // Tolerant reader: a CRLF file's `\r` is not part of metadata.
                let value = raw.strip_suffix('\r').unwrap_or(raw);
                meta.push(FlatEntry {
                    key: name.to_owned(),
                    value: decode_newlines(value),
                    line: line.number,
                });
                continue;
            }
            if !seen.insert(key) {
                return Err(FormatError::DuplicateKey {
                    path: KeyPath::root().child_key(key),
                    line: line.number,
                });
            }
            let value_start = line.start + eq + 1;
            parsed.leaves.push(Leaf {
                path: KeyPath::root().child_key(key),
                kind: LeafKind::Value(ValueType::Str),
                value: SecretText::new(decode_newlines(raw)),
                span: value_start..line.end(),
                style: LeafStyle::default(),
                document: 0,
            });
        }
        if let Some(span) = meta_span {
            let tree = unflatten(&meta, FORMAT)?;
            parsed.metadata.push(MetadataBlock { span, tree });
        }
        Ok(parsed)
    }

    fn render(
        &self,
        _text: &str,
        leaf: &Leaf,
        with: &Replacement<'_>,
    ) -> Result<String, FormatError> {
        match (leaf.kind, with) {
            (LeafKind::Comment, Replacement::Encrypted(s)) => {
                if s.contains('\n') {
                    return Err(FormatError::Internal("an ENC value holds a line break"));
                }
                Ok(format!("#{s}"))
            }
            (LeafKind::Comment, Replacement::Comment(t)) => {
                // SECURITY: every line of a multi-line comment stays a
                // comment, so no comment text can turn into a key line.
                Ok(t.split('\n')
                    .map(|l| format!("#{l}"))
                    .collect::<Vec<_>>()
                    .join("\n"))
            }
            (LeafKind::Comment, Replacement::Value(..)) => {
                Err(FormatError::Internal("a value rendered at a comment"))
            }
            (_, Replacement::Encrypted(s)) => {
                if s.contains('\n') {
                    return Err(FormatError::Internal("an ENC value holds a line break"));
                }
                Ok((*s).to_owned())
            }
            (_, Replacement::Value(_, t)) => Ok(encode_newlines(t)),
            (_, Replacement::Comment(_)) => {
                Err(FormatError::Internal("a comment rendered at a value"))
            }
        }
    }

    fn metadata_splices(
        &self,
        text: &str,
        parsed: &ParsedFile,
        tree: Option<&Value>,
    ) -> Result<Vec<Splice>, FormatError> {
        let Some(tree) = tree else {
            return Ok(self.metadata_removal(parsed));
        };
        let mut block = String::new();
        for (key, value) in flatten(tree, FORMAT)? {
            if key.contains(['=', '\n', '\r']) {
                return Err(FormatError::Unrepresentable {
                    format: FORMAT,
                    path: KeyPath::root().child_key("sops").child_key(key),
                    reason: "a metadata key holds = or a line break".into(),
                });
            }
            block.push_str(SOPS_PREFIX);
            block.push_str(&key);
            block.push('=');
            block.push_str(&encode_newlines(&value));
            block.push('\n');
        }
        Ok(match parsed.metadata.first() {
            Some(existing) => vec![Splice {
                range: existing.span.clone(),
                text: block,
            }],
            None => {
                let mut insert = String::new();
                if !text.is_empty() && !text.ends_with('\n') {
                    insert.push('\n');
                }
                insert.push_str(&block);
                vec![Splice {
                    range: text.len()..text.len(),
                    text: insert,
                }]
            }
        })
    }

    fn insert(
        &self,
        text: &str,
        parsed: &ParsedFile,
        path: &KeyPath,
        value: &Replacement<'_>,
    ) -> Result<Vec<Splice>, FormatError> {
        let keys = insert_keys(FORMAT, path)?;
        let [key] = keys[..] else {
            return Err(unrepresentable(
                FORMAT,
                path,
                "dotenv keys cannot be nested",
            ));
        };
        if key.trim().is_empty()
            || key.contains(['=', '\n', '\r'])
            || key.trim_start().starts_with('#')
            || key.starts_with(SOPS_PREFIX)
        {
            return Err(unrepresentable(FORMAT, path, "not a valid dotenv key"));
        }
        if parsed
            .leaves
            .iter()
            .any(|l| l.kind != LeafKind::Comment && l.path == *path)
        {
            return Err(unrepresentable(FORMAT, path, "the key already exists"));
        }
        let v = self.render(text, &insert_leaf(path, 0..0, LeafStyle::default()), value)?;
        let meta = parsed.metadata.first().map(|m| m.span.clone());
        let in_meta = |at: usize| meta.as_ref().is_some_and(|m| m.contains(&at));
        // After the last line that is neither blank nor metadata.
        let at = lines(text)
            .iter()
            .rfind(|l| !l.content.trim().is_empty() && !in_meta(l.start))
            .map(|l| after_line_break(text, l.end()))
            .or(meta.map(|m| m.start))
            .unwrap_or(text.len());
        let mut line = String::new();
        if at > 0 && !text[..at].ends_with('\n') {
            // The last line had no line break: it gets one, the new line not.
            line.push('\n');
            line.push_str(key);
            line.push('=');
            line.push_str(&v);
        } else {
            line.push_str(key);
            line.push('=');
            line.push_str(&v);
            line.push('\n');
        }
        Ok(vec![Splice {
            range: at..at,
            text: line,
        }])
    }

    fn remove(
        &self,
        text: &str,
        parsed: &ParsedFile,
        path: &KeyPath,
    ) -> Result<Vec<Splice>, FormatError> {
        let leaf = parsed
            .leaves
            .iter()
            .find(|l| l.kind != LeafKind::Comment && l.path == *path)
            .ok_or_else(|| FormatError::PathNotFound(path.clone()))?;
        let mut range = line_removal(text, leaf.span.start, leaf.span.end);
        // COMPAT(sops): a `\r` before a line break belongs to the previous
        // line's value; removing the last line must leave it there.
        if text[range.clone()].starts_with("\r\n") {
            range.start += 1;
        }
        Ok(vec![Splice {
            range,
            text: String::new(),
        }])
    }

    /// dotenv loaders read `export NAME=...` as `NAME`.
    fn loaded_path(&self, path: &KeyPath) -> LoadedPath {
        let bomless = without_bom(path);
        match export_name(bomless.as_ref().unwrap_or(path)) {
            Some(name) => LoadedPath::Renamed(name),
            None => bomless.map_or(LoadedPath::Same, LoadedPath::Renamed),
        }
    }

    /// What a dotenv loader sets for a string (see [`loader_value`]).
    fn loaded_value<'a>(&self, ty: ValueType, raw: &'a str) -> Cow<'a, str> {
        if ty == ValueType::Str {
            Cow::Owned(loader_value(raw))
        } else {
            Cow::Borrowed(raw)
        }
    }
}

/// The name a dotenv loader gives the key `export NAME` (`export` and the
/// blanks after it dropped), or `None` for any other path.
fn export_name(path: &KeyPath) -> Option<KeyPath> {
    match path.segments() {
        [crate::path::Segment::Key(k)] => match k.strip_prefix("export") {
            Some(rest) if rest.starts_with([' ', '\t']) => {
                Some(KeyPath::from_segments(vec![crate::path::Segment::Key(
                    rest.trim_start().to_owned(),
                )]))
            }
            _ => None,
        },
        _ => None,
    }
}

/// What a common dotenv loader (docker compose, python-dotenv) would set for
/// a leaf value, whose text is the raw value as sops sees it (with literal
/// `\n` already decoded to line breaks):
/// - `"..."`: the text between the quotes, with `\n`, `\"` and `\\` processed;
///   anything after the closing quote (a ` # comment`) is ignored;
/// - `'...'`: the text between the quotes, literally;
/// - unquoted: up to an unquoted ` #comment`, trailing whitespace trimmed.
///
/// Surrounding whitespace and the `\r` of a CRLF line are dropped first. An
/// opening quote without its closing quote is read as unquoted text.
pub fn loader_value(raw: &str) -> String {
    let s = raw.strip_suffix('\r').unwrap_or(raw).trim();
    if let Some(rest) = s.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return out,
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('"') => out.push('"'),
                    Some('\\') => out.push('\\'),
                    Some(other) => {
                        out.push('\\');
                        out.push(other);
                    }
                    None => out.push('\\'),
                },
                other => out.push(other),
            }
        }
        // No closing quote: fall through to the unquoted reading.
    } else if let Some(rest) = s.strip_prefix('\'') {
        if let Some(end) = rest.find('\'') {
            return rest[..end].to_owned();
        }
    }
    let cut = s
        .char_indices()
        .find(|&(i, c)| c == '#' && i > 0 && s[..i].ends_with([' ', '\t']))
        .map_or(s.len(), |(i, _)| i);
    s[..cut].trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::apply_splices;
    use proptest::prelude::*;

    const SAMPLE: &str = include_str!("../../testdata/sops/basic.enc.env");
    const PLAIN: &str = include_str!("../../testdata/sops/basic.env");
    const KEY: &str = "d9e3b8a0516bbc5de82aff4357ebe618a114fe2c5ea99793e26a7b8efc585d40";
    const FAKE: &str = "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]";

    fn parse(text: &str) -> ParsedFile {
        Dotenv.parse(text).expect("parses")
    }

    use crate::format::testutil::summary;

    /// Replaces every leaf with `with(leaf)`.
    fn splice_all(text: &str, p: &ParsedFile, enc: &str) -> String {
        let mut splices: Vec<Splice> = p
            .leaves
            .iter()
            .map(|l| Splice {
                range: l.span.clone(),
                text: Dotenv
                    .render(text, l, &Replacement::Encrypted(enc))
                    .unwrap(),
            })
            .collect();
        apply_splices(text, &mut splices).unwrap()
    }

    #[test]
    fn parses_the_sops_sample() {
        let p = parse(SAMPLE);
        let paths: Vec<_> = p.leaves.iter().map(|l| (l.path.aad(), l.kind)).collect();
        assert_eq!(
            paths,
            vec![
                (":".into(), LeafKind::Comment),
                ("DB_USER:".into(), LeafKind::Value(ValueType::Str)),
                ("DB_PASS:".into(), LeafKind::Value(ValueType::Str)),
                ("export TOKEN:".into(), LeafKind::Value(ValueType::Str)),
                ("MULTI:".into(), LeafKind::Value(ValueType::Str)),
                ("EMPTY:".into(), LeafKind::Value(ValueType::Str)),
            ]
        );
        assert_eq!(p.leaves[5].value.expose(), "");
        let tree = p.metadata_tree().unwrap();
        assert_eq!(
            tree["age"][0]["recipient"],
            "age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n"
        );
        let enc = tree["age"][0]["enc"].as_str().unwrap();
        assert!(enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\nYWdl"));
        assert!(enc.ends_with("\n-----END AGE ENCRYPTED FILE-----\n"));
        assert_eq!(tree["lastmodified"], "2026-11-29T16:35:47Z");
        assert_eq!(tree["unencrypted_suffix"], "_unencrypted");
        assert_eq!(tree["version"], "3.11.0");
        let keys: Vec<_> = tree.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "age",
                "lastmodified",
                "mac",
                "unencrypted_suffix",
                "version"
            ]
        );
        // The block is the trailing run of sops_ lines.
        let span = &p.metadata[0].span;
        assert!(SAMPLE[span.clone()].starts_with("sops_age__list_0__map_enc="));
        assert_eq!(span.end, SAMPLE.len());
        assert!(SAMPLE[..span.start].ends_with("EMPTY=\n"));
    }

    #[test]
    fn every_sample_value_decrypts_with_our_paths() {
        let p = parse(SAMPLE);
        let mut got = Vec::new();
        for leaf in &p.leaves {
            let v = leaf.value.expose();
            if v.is_empty() {
                got.push(String::new());
                continue;
            }
            let (plain, ty) = crate::format::testutil::sops_decrypt(v, KEY, &leaf.path.aad())
                .unwrap_or_else(|| panic!("{} does not decrypt", leaf.path));
            let expected_ty = if leaf.kind == LeafKind::Comment {
                "comment"
            } else {
                "str"
            };
            assert_eq!(ty, expected_ty);
            got.push(plain);
        }
        assert_eq!(
            got,
            [" a comment", "admin", "\"quoted value\"", "abc", "a\nb", ""]
        );
        // And they equal what we read from the plaintext input.
        let plain = parse(PLAIN);
        let values: Vec<_> = plain.leaves.iter().map(|l| l.value.expose()).collect();
        assert_eq!(values, got);
        let (mac, _) = crate::format::testutil::sops_decrypt(
            p.metadata_tree().unwrap()["mac"].as_str().unwrap(),
            KEY,
            "2026-11-29T16:35:47Z",
        )
        .unwrap();
        assert_eq!(mac.len(), 128);
    }

    #[test]
    fn sops_crlf_file_decrypts_with_our_paths_and_values() {
        // testdata/dotenv/crlf.env (CRLF) encrypted by sops 3.11; data key
        // recovered with age (see testdata/dotenv/README.md).
        let key = "d9fd3cbd283f2b201d5d314c0d0b8e1f70fe36a3a7ca9d26ecca4e877e3d8b4e";
        let plain = parse(include_str!("../../testdata/dotenv/crlf.env"));
        let enc = parse(include_str!("../../testdata/dotenv/crlf.enc.env"));
        assert_eq!(
            summary(&plain),
            vec![
                (":".into(), LeafKind::Comment, " crlf comment\r".into()),
                ("A:".into(), LeafKind::Value(ValueType::Str), "val\r".into()),
                (
                    "export B:".into(),
                    LeafKind::Value(ValueType::Str),
                    "\"q v\"\r".into()
                ),
                ("E:".into(), LeafKind::Value(ValueType::Str), "\r".into()),
            ]
        );
        assert_eq!(enc.leaves.len(), plain.leaves.len());
        for (e, p) in enc.leaves.iter().zip(&plain.leaves) {
            assert_eq!((&e.path, e.kind), (&p.path, p.kind));
            let (text, _) =
                crate::format::testutil::sops_decrypt(e.value.expose(), key, &e.path.aad())
                    .unwrap_or_else(|| panic!("{} does not decrypt", e.path));
            assert_eq!(text, p.value.expose(), "{}", e.path);
        }
    }

    #[test]
    fn plaintext_sample_spans_and_layout() {
        let p = parse(PLAIN);
        let spans: Vec<&str> = p.leaves.iter().map(|l| &PLAIN[l.span.clone()]).collect();
        assert_eq!(
            spans,
            [
                "# a comment",
                "admin",
                "\"quoted value\"",
                "abc",
                "a\\nb",
                ""
            ]
        );
        assert!(p.metadata.is_empty());
        assert_eq!(p.documents, 1);
    }

    #[test]
    fn splice_round_trip_keeps_everything_outside_spans() {
        let text = "# head\n\nA=1\n  \nexport B = x y \n# tail\nC=\"q\"\r\nD=\n";
        let p = parse(text);
        let out = splice_all(text, &p, FAKE);
        assert_eq!(
            out,
            format!("#{FAKE}\n\nA={FAKE}\n  \nexport B ={FAKE}\n#{FAKE}\nC={FAKE}\nD={FAKE}\n")
        );
        let q = parse(&out);
        assert_eq!(q.leaves.len(), p.leaves.len());
        for (a, b) in p.leaves.iter().zip(&q.leaves) {
            assert_eq!(a.path, b.path);
            assert_eq!(a.kind, b.kind);
            assert_eq!(b.value.expose(), FAKE);
        }
        // Outside the spans, byte for byte.
        let mut rest_in = String::new();
        let mut at = 0;
        for l in &p.leaves {
            rest_in.push_str(&text[at..l.span.start]);
            at = l.span.end;
        }
        rest_in.push_str(&text[at..]);
        let mut rest_out = String::new();
        let mut at = 0;
        for l in &q.leaves {
            rest_out.push_str(&out[at..l.span.start]);
            at = l.span.end;
        }
        rest_out.push_str(&out[at..]);
        assert_eq!(rest_in, rest_out);
    }

    #[test]
    fn crlf_keeps_the_carriage_return_in_the_value_like_sops() {
        let text = "#c\r\nA=val\r\n\r\nE=\r\n";
        let p = parse(text);
        assert_eq!(
            summary(&p),
            vec![
                (":".into(), LeafKind::Comment, "c\r".into()),
                ("A:".into(), LeafKind::Value(ValueType::Str), "val\r".into()),
                ("E:".into(), LeafKind::Value(ValueType::Str), "\r".into()),
            ]
        );
        // Encrypting takes the \r into the ciphertext; decrypting restores
        // the original bytes exactly.
        let enc = splice_all(text, &p, FAKE);
        assert_eq!(enc, format!("#{FAKE}\nA={FAKE}\n\r\nE={FAKE}\n"));
        let q = parse(&enc);
        let mut splices: Vec<Splice> = q
            .leaves
            .iter()
            .zip(&p.leaves)
            .map(|(l, orig)| {
                let with = match orig.kind {
                    LeafKind::Comment => Replacement::Comment(orig.value.expose()),
                    _ => Replacement::Value(ValueType::Str, orig.value.expose()),
                };
                Splice {
                    range: l.span.clone(),
                    text: Dotenv.render(&enc, l, &with).unwrap(),
                }
            })
            .collect();
        assert_eq!(apply_splices(&enc, &mut splices).unwrap(), text);
    }

    #[test]
    fn renders_plaintext_canonically() {
        let text = "A=x\n# c\n";
        let p = parse(text);
        let v = Dotenv
            .render(
                text,
                &p.leaves[0],
                &Replacement::Value(ValueType::Str, "l1\nl2 \"q\""),
            )
            .unwrap();
        assert_eq!(v, "l1\\nl2 \"q\"");
        let c = Dotenv
            .render(text, &p.leaves[1], &Replacement::Comment(" note"))
            .unwrap();
        assert_eq!(c, "# note");
        let multi = Dotenv
            .render(text, &p.leaves[1], &Replacement::Comment("a\nb=1"))
            .unwrap();
        assert_eq!(multi, "#a\n#b=1");
        let mut s = vec![
            Splice {
                range: p.leaves[0].span.clone(),
                text: v,
            },
            Splice {
                range: p.leaves[1].span.clone(),
                text: c,
            },
        ];
        let out = apply_splices(text, &mut s).unwrap();
        assert_eq!(out, "A=l1\\nl2 \"q\"\n# note\n");
        let q = parse(&out);
        assert_eq!(q.leaves[0].value.expose(), "l1\nl2 \"q\"");
        assert_eq!(q.leaves[0].kind, LeafKind::Value(ValueType::Str));
        assert_eq!(q.leaves[1].value.expose(), " note");
        // Mismatched replacements are internal errors, not silent output.
        assert!(Dotenv
            .render(text, &p.leaves[0], &Replacement::Comment("x"))
            .is_err());
        assert!(Dotenv
            .render(text, &p.leaves[1], &Replacement::Value(ValueType::Str, "x"))
            .is_err());
    }

    #[test]
    fn metadata_reproduces_the_sops_bytes() {
        let p = parse(SAMPLE);
        let tree = p.metadata_tree().unwrap();
        let mut splices = Dotenv.metadata_splices(SAMPLE, &p, Some(tree)).unwrap();
        assert_eq!(splices.len(), 1);
        assert_eq!(splices[0].text, SAMPLE[p.metadata[0].span.clone()]);
        assert_eq!(apply_splices(SAMPLE, &mut splices).unwrap(), SAMPLE);
    }

    #[test]
    fn metadata_append_replace_remove_round_trip() {
        let tree = serde_json::json!({
            "age": [{"recipient": "age1x", "enc": "-----BEGIN-----\nAAA\n-----END-----\n"}],
            "key_groups": [],
            "shamir_threshold": 2,
            "mac_only_encrypted": true,
            "lastmodified": "2026-01-01T00:00:00Z",
            "version": "3.11.0",
        });
        let text = "A=1\nB=2"; // no final newline
        let p = parse(text);
        let mut s = Dotenv.metadata_splices(text, &p, Some(&tree)).unwrap();
        let with = apply_splices(text, &mut s).unwrap();
        assert_eq!(
            with,
            "A=1\nB=2\n\
             sops_age__list_0__map_enc=-----BEGIN-----\\nAAA\\n-----END-----\\n\n\
             sops_age__list_0__map_recipient=age1x\n\
             sops_lastmodified=2026-01-01T00:00:00Z\n\
             sops_mac_only_encrypted=true\n\
             sops_shamir_threshold=2\n\
             sops_version=3.11.0\n"
        );
        let q = parse(&with);
        assert_eq!(q.leaves.len(), 2);
        // Read back, everything is a string (the reader is tolerant).
        let back = q.metadata_tree().unwrap();
        assert_eq!(back["age"][0]["enc"], tree["age"][0]["enc"]);
        assert_eq!(back["age"][0]["recipient"], "age1x");
        assert_eq!(back["shamir_threshold"], "2");
        assert_eq!(back["mac_only_encrypted"], "true");
        // Written again from what was read: the same bytes.
        let mut again = Dotenv.metadata_splices(&with, &q, Some(back)).unwrap();
        assert_eq!(apply_splices(&with, &mut again).unwrap(), with);
        // Replace.
        let newer = serde_json::json!({"version": "3.12.0"});
        let mut r = Dotenv.metadata_splices(&with, &q, Some(&newer)).unwrap();
        let replaced = apply_splices(&with, &mut r).unwrap();
        assert_eq!(replaced, "A=1\nB=2\nsops_version=3.12.0\n");
        // Remove.
        let rp = parse(&replaced);
        let mut d = Dotenv.metadata_splices(&replaced, &rp, None).unwrap();
        assert_eq!(apply_splices(&replaced, &mut d).unwrap(), "A=1\nB=2\n");
        // Append to an empty file.
        let e = parse("");
        let mut a = Dotenv.metadata_splices("", &e, Some(&newer)).unwrap();
        assert_eq!(apply_splices("", &mut a).unwrap(), "sops_version=3.12.0\n");
    }

    #[test]
    fn metadata_in_the_middle_and_crlf() {
        let text = "A=1\r\nsops_version=3.11.0\r\nsops_mac=m\r\nB=2\r\n";
        let p = parse(text);
        assert_eq!(p.leaves.len(), 2);
        let tree = p.metadata_tree().unwrap();
        assert_eq!(tree["version"], "3.11.0");
        assert_eq!(tree["mac"], "m");
        assert_eq!(
            &text[p.metadata[0].span.clone()],
            "sops_version=3.11.0\r\nsops_mac=m\r\n"
        );
        let mut s = Dotenv.metadata_splices(text, &p, Some(tree)).unwrap();
        assert_eq!(
            apply_splices(text, &mut s).unwrap(),
            "A=1\r\nsops_mac=m\nsops_version=3.11.0\nB=2\r\n"
        );
    }

    #[test]
    fn bad_input_errors_name_lines_not_values() {
        let cases: &[(&str, usize)] = &[
            ("A=1\nsecretvalue\n", 2),
            ("A=1\n=secretvalue\n", 2),
            ("A=1\nA=secretvalue\n", 2),
            ("sops_a=1\nA=secretvalue\nsops_b=2\n", 3),
            ("sops_a__list_x=secretvalue\n", 1),
            ("sops_a=secretvalue\nsops_a=2\n", 2),
            ("sops_a=secretvalue\nsops_a__map_b=2\n", 2),
            ("sops_a__list_99=secretvalue\n", 1),
        ];
        for (text, line) in cases {
            let err = Dotenv.parse(text).unwrap_err();
            let msg = err.to_string();
            assert!(!msg.contains("secretvalue"), "{msg}");
            assert!(msg.contains(&format!("line {line}")), "{text:?}: {msg}");
        }
        assert!(matches!(
            Dotenv.parse("A=1\nA=2\n"),
            Err(FormatError::DuplicateKey { line: 2, .. })
        ));
    }

    #[test]
    fn loader_value_reads_like_a_dotenv_loader() {
        assert_eq!(loader_value("\"quoted value\""), "quoted value");
        assert_eq!(loader_value("\"a\\\"b\\\\c\\nd\" # note"), "a\"b\\c\nd");
        assert_eq!(loader_value("'lit\\n'"), "lit\\n");
        assert_eq!(loader_value("abc  # note"), "abc");
        assert_eq!(loader_value("a#b"), "a#b");
        assert_eq!(loader_value("plain  \r"), "plain");
        assert_eq!(loader_value("\"open"), "\"open");
        assert_eq!(loader_value(""), "");
    }

    fn doc_line() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            "[ \t]{0,3}".prop_map(|s| s),
            "[ ]{0,2}#[^\n]{0,12}".prop_map(|s| s),
            ("[A-Za-z_][A-Za-z0-9_ .-]{0,8}", "[^\n]{0,16}").prop_map(|(k, v)| format!("{k}={v}")),
        ]
    }

    proptest! {
        #[test]
        fn parse_splice_parse_keeps_leaves(lines in proptest::collection::vec(doc_line(), 0..12), crlf in any::<bool>()) {
            let text = lines.join(if crlf { "\r\n" } else { "\n" });
            let Ok(p) = Dotenv.parse(&text) else { return Ok(()) };
            let out = splice_all(&text, &p, FAKE);
            let q = Dotenv.parse(&out).expect("spliced output parses");
            prop_assert_eq!(p.leaves.len(), q.leaves.len());
            for (a, b) in p.leaves.iter().zip(&q.leaves) {
                prop_assert_eq!(&a.path, &b.path);
                prop_assert_eq!(a.kind, b.kind);
                prop_assert_eq!(b.value.expose(), FAKE);
            }
            // Decrypting back (render plaintext) restores the text exactly.
            let mut back: Vec<Splice> = q.leaves.iter().zip(&p.leaves).map(|(l, o)| {
                let with = match o.kind {
                    LeafKind::Comment => Replacement::Comment(o.value.expose()),
                    _ => Replacement::Value(ValueType::Str, o.value.expose()),
                };
                Splice { range: l.span.clone(), text: Dotenv.render(&out, l, &with).unwrap() }
            }).collect();
            let restored = apply_splices(&out, &mut back).unwrap();
            prop_assert_eq!(&restored, &text);
        }

        #[test]
        fn never_panics(text in "[^\u{0}]{0,64}") {
            let _ = Dotenv.parse(&text);
        }
    }
}

#[cfg(test)]
mod edit_tests {
    use super::*;
    use crate::format::edit_testing::{insert, remove, remove_insert_round_trip, values};
    use proptest::prelude::*;

    const DOC: &str =
        "# app\nA=1\nexport B=two words\n\n# tail note\nC=3\nsops_version=3.11.0\nsops_mac=x\n";

    #[test]
    fn inserts_before_the_metadata() {
        let out = insert(&Dotenv, DOC, "D", ValueType::Str, "multi\nline");
        assert_eq!(
            out,
            "# app\nA=1\nexport B=two words\n\n# tail note\nC=3\nD=multi\\nline\nsops_version=3.11.0\nsops_mac=x\n"
        );
        assert_eq!(insert(&Dotenv, "A=1", "B", ValueType::Str, "x"), "A=1\nB=x");
        assert_eq!(insert(&Dotenv, "", "B", ValueType::Str, "x"), "B=x\n");
        assert_eq!(
            insert(&Dotenv, "A=1\r\n\r\n", "B", ValueType::Str, "x"),
            "A=1\r\nB=x\n\r\n"
        );
        assert_eq!(
            insert(&Dotenv, "sops_version=1\n", "B", ValueType::Str, "x"),
            "B=x\nsops_version=1\n"
        );
    }

    #[test]
    fn removes_lines() {
        assert_eq!(
            remove(&Dotenv, DOC, "C"),
            "# app\nA=1\nexport B=two words\n\n# tail note\nsops_version=3.11.0\nsops_mac=x\n"
        );
        assert_eq!(remove(&Dotenv, DOC, "export B").lines().count(), 7);
        assert_eq!(remove(&Dotenv, "A=1\nB=2", "B"), "A=1");
        assert_eq!(remove(&Dotenv, "A=\nB=2\n", "A"), "B=2\n");
        // Removing the only entry leaves the comments.
        let p = Dotenv.parse("# c\nA=1\n").unwrap();
        assert_eq!(
            values(&Dotenv.parse(&remove(&Dotenv, "# c\nA=1\n", "A")).unwrap()).len(),
            0
        );
        assert!(p.leaves.len() == 2);
    }

    #[test]
    fn errors_name_paths_not_values() {
        let p = Dotenv.parse(DOC).unwrap();
        let path = KeyPath::parse("a.b").unwrap();
        let e = Dotenv
            .insert(
                DOC,
                &p,
                &path,
                &Replacement::Value(ValueType::Str, "secretvalue"),
            )
            .unwrap_err();
        assert!(matches!(e, FormatError::Unrepresentable { .. }));
        assert!(!e.to_string().contains("secretvalue"));
        let a = KeyPath::parse("A").unwrap();
        let e = Dotenv
            .insert(
                DOC,
                &p,
                &a,
                &Replacement::Value(ValueType::Str, "secretvalue"),
            )
            .unwrap_err();
        assert!(!e.to_string().contains("secretvalue"));
        for bad in ["sops_x", "Z", "sops"] {
            let e = Dotenv
                .remove(DOC, &p, &KeyPath::parse(bad).unwrap())
                .unwrap_err();
            assert!(matches!(e, FormatError::PathNotFound(_)), "{bad}");
        }
    }

    fn doc_line() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            "#[^\n]{0,8}".prop_map(|s| s),
            ("[A-Za-z_][A-Za-z0-9_]{0,6}", "[^\n\\\\]{0,10}").prop_map(|(k, v)| format!("{k}={v}")),
        ]
    }

    proptest! {
        #[test]
        fn remove_then_insert_keeps_values(lines in proptest::collection::vec(doc_line(), 0..10), meta in any::<bool>()) {
            let mut text = lines.join("\n");
            if meta {
                text.push_str("\nsops_version=3.11.0\n");
            }
            if Dotenv.parse(&text).is_err() { return Ok(()); }
            if let Err(e) = remove_insert_round_trip(&Dotenv, &text) {
                prop_assert!(false, "{}", e);
            }
        }
    }
}
