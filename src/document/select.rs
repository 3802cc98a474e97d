//! Which leaves the selection rule encrypts (path and comment rules, as
//! sops walks them) and strict selection: every leaf where the rule and the
//! value disagree.

use super::*;
use crate::crypto::value::is_encrypted;
use crate::format::{self, FormatKind, LeafKind, ParsedFile, ValueType};
use crate::metadata::Selection;

/// Per leaf of `parsed` (the text `text`): whether the selection rule
/// encrypts it.
///
/// COMPAT(sops): the path rules decide from the leaf's key path. The
/// comment rules decide, as sops' `shouldBeEncrypted` does, from the
/// comments "in scope": at each nesting level, the run of comments just
/// before the item being walked (a non-comment item ends the run), a
/// comment seeing itself. `unencrypted_comment_regex`: clear if any comment
/// in scope matches (so the matching comment stays clear).
/// `encrypted_comment_regex`: encrypted only if a comment in scope other
/// than the leaf itself matches (so the marker comment stays clear). A
/// comment at the end of a value's line counts as written before that
/// value, as sops reads it. In an encrypted file, encrypted comments never
/// match, exactly as for sops, which decides from the file's text too.
/// Known difference: an empty collection (`a: {}`) yields no leaf, so it
/// does not end a run of comments here; sops ends it.
///
/// COMPAT(sops): INI is walked as sops' INI store builds its tree: go-ini
/// attaches the comment lines before a key (and its inline comment) to
/// that key as ONE comment, and sops puts that comment item *after* the
/// key; comments before a section header belong to the section and come
/// first in it. So `; marker` above `b = 2` selects the key after `b`, as
/// sops does (checked against sops 3.11), and the lines of one such comment
/// count as one comment ("seeing itself").
///
/// SECURITY: strict selection ([`selection_mismatches`]) refuses files
/// whose values disagree with this, so it must agree with sops for every
/// file sops writes.
pub(super) fn selected_leaves(
    text: &str,
    kind: FormatKind,
    parsed: &ParsedFile,
    selection: &Selection,
) -> Vec<bool> {
    use crate::path::Segment;
    let leaves = &parsed.leaves;
    let (regex, unencrypted) = match selection {
        Selection::UnencryptedCommentRegex(r) => (r, true),
        Selection::EncryptedCommentRegex(r) => (r, false),
        _ => {
            return leaves
                .iter()
                .map(|l| selection.should_encrypt(&l.path))
                .collect()
        }
    };
    let ini = kind == FormatKind::Ini;
    let order = if ini {
        ini_walk_order(text, leaves)
    } else {
        let mut order: Vec<usize> = (0..leaves.len()).collect();
        for i in 1..leaves.len() {
            let (prev, cur) = (&leaves[i - 1], &leaves[i]);
            let trailing = cur.kind == LeafKind::Comment
                && prev.kind != LeafKind::Comment
                && prev.document == cur.document
                && text
                    .get(prev.span.end..cur.span.start)
                    .is_some_and(|between| !between.contains('\n'));
            if trailing {
                order.swap(i - 1, i);
            }
        }
        order
    };
    // Which comment each comment "is" for the rule's "seeing itself": its
    // own index, or for INI the first line of its run (one go-ini comment).
    let mut itself: Vec<usize> = (0..leaves.len()).collect();
    // Per first comment of a run: whether any line of the run matches.
    let mut group_matches = vec![false; leaves.len()];
    if ini {
        for w in order.windows(2) {
            if leaves[w[0]].kind == LeafKind::Comment && leaves[w[1]].kind == LeafKind::Comment {
                itself[w[1]] = itself[w[0]];
            }
        }
        for (i, leaf) in leaves.iter().enumerate() {
            if leaf.kind == LeafKind::Comment && regex.is_match(leaf.value.expose()) {
                group_matches[itself[i]] = true;
            }
        }
    }
    #[derive(Default)]
    struct Frame {
        current: Option<Segment>,
        comments: Vec<usize>,
    }
    let mut frames: Vec<Frame> = Vec::new();
    let mut document = usize::MAX;
    let mut out = vec![false; leaves.len()];
    for &i in &order {
        let leaf = &leaves[i];
        if leaf.document as usize != document {
            frames.clear();
            document = leaf.document as usize;
        }
        let segments = leaf.path.segments();
        for (depth, segment) in segments.iter().enumerate() {
            if frames.len() <= depth {
                frames.push(Frame::default());
            }
            if frames[depth].current.as_ref() != Some(segment) {
                // A new item at this level: the previous item (if any) ended
                // the run of comments before it.
                if frames[depth].current.is_some() {
                    frames[depth].comments.clear();
                }
                frames[depth].current = Some(segment.clone());
                frames.truncate(depth + 1);
            }
        }
        let is_comment = leaf.kind == LeafKind::Comment;
        let levels = if is_comment {
            let depth = segments.len();
            frames.truncate(depth + 1);
            if frames.len() <= depth {
                frames.push(Frame::default());
            }
            if frames[depth].current.take().is_some() {
                frames[depth].comments.clear();
            }
            frames[depth].comments.push(i);
            depth + 1
        } else {
            frames.truncate(segments.len());
            segments.len()
        };
        let mut in_scope = frames[..levels].iter().flat_map(|f| f.comments.iter());
        let matches = |c: &&usize| regex.is_match(leaves[**c].value.expose());
        out[i] = if unencrypted {
            // A comment that is one go-ini comment with a matching line
            // matches as a whole.
            !(in_scope.any(|c| matches(&c)) || (is_comment && group_matches[itself[i]]))
        } else {
            in_scope.any(|c| itself[*c] != itself[i] && matches(&c))
        };
    }
    out
}

/// The order sops walks an INI file's leaves in (see [`selected_leaves`]):
/// the comments before a key, with no section header in between, move
/// after that key (its inline comment already follows it); every other
/// comment keeps its place.
pub(super) fn ini_walk_order(text: &str, leaves: &[format::Leaf]) -> Vec<usize> {
    let header_between = |from: usize, to: usize| {
        text.get(from..to)
            .is_some_and(|t| t.lines().any(|l| l.trim_start().starts_with('[')))
    };
    let mut order = Vec::with_capacity(leaves.len());
    let mut pending: Vec<usize> = Vec::new();
    let mut last_key: Option<usize> = None;
    for (i, leaf) in leaves.iter().enumerate() {
        if leaf.kind == LeafKind::Comment {
            let inline = pending.is_empty()
                && last_key.is_some_and(|k| {
                    text.get(leaves[k].span.end..leaf.span.start)
                        .is_some_and(|t| !t.contains('\n'))
                });
            if inline {
                order.push(i);
            } else {
                pending.push(i);
            }
            continue;
        }
        last_key = Some(i);
        // The key's own comment: the pending comments after the last
        // section header before the key, in the key's section.
        let segments = leaf.path.segments();
        let parent = &segments[..segments.len().saturating_sub(1)];
        let mut own = pending.len();
        while own > 0 {
            let c = &leaves[pending[own - 1]];
            let next_start = pending
                .get(own)
                .map_or(leaf.span.start, |&n| leaves[n].span.start);
            if c.path.segments() != parent || header_between(c.span.end, next_start) {
                break;
            }
            own -= 1;
        }
        order.extend_from_slice(&pending[..own]);
        order.push(i);
        order.extend_from_slice(&pending[own..]);
        pending.clear();
    }
    order.extend(pending);
    order
}

/// Strict selection (integrity rule 1): every leaf of an encrypted file
/// where the selection rule and the value disagree, in document order. An
/// `ENC[...]` value or comment the rule leaves clear, or a clear non-empty
/// value the rule encrypts; `selected` is [`selected_leaves`] of `parsed`.
///
/// SECURITY: without this, a writer with no key could rewrite the rule
/// (`encrypted_regex: ^nomatch$`): every `ENC[...]` would still decrypt and
/// the MAC still verify, and the next write by a key holder would store
/// every value in the clear. sops never writes a file this refuses: it
/// decides from the same rule, leaves empty values and nulls clear, and a
/// clear comment is tolerated (sops reads comments it cannot decrypt as
/// clear ones; older sops versions wrote them so).
pub(super) fn selection_mismatches<'a>(
    text: &'a str,
    parsed: &'a ParsedFile,
    selected: &'a [bool],
) -> impl Iterator<Item = DocumentError> + 'a {
    parsed
        .leaves
        .iter()
        .zip(selected)
        .filter_map(move |(leaf, &selected)| {
            let raw = leaf.value.expose();
            let found = match leaf.kind {
                LeafKind::Null => None,
                LeafKind::Comment => {
                    (is_encrypted(raw) && !selected).then_some(Mismatch::EncryptedComment)
                }
                LeafKind::Value(ValueType::Str) if is_encrypted(raw) => {
                    (!selected).then_some(Mismatch::EncryptedValue)
                }
                LeafKind::Value(_) => (!raw.is_empty() && selected).then_some(Mismatch::ClearValue),
            }?;
            Some(DocumentError::SelectionMismatch {
                path: leaf.path.clone(),
                line: format::line_col(text, leaf.span.start).0,
                found,
            })
        })
}

#[cfg(test)]
mod tests {
    //! The comment rules' selection, pinned without sops: which value
    //! paths each rule encrypts (the interop tests check the same files
    //! against sops where it is installed).
    use super::*;
    use crate::goregex::GoRegex;

    /// The key paths of the values `selection` encrypts in `text`.
    fn encrypted(text: &str, kind: FormatKind, selection: &Selection) -> Vec<String> {
        let parsed = kind.syntax().parse(text).unwrap();
        let selected = selected_leaves(text, kind, &parsed, selection);
        parsed
            .leaves
            .iter()
            .zip(selected)
            .filter(|(l, s)| *s && l.kind != LeafKind::Comment)
            .map(|(l, _)| l.path.to_string())
            .collect()
    }

    fn unencrypted(re: &str) -> Selection {
        Selection::UnencryptedCommentRegex(GoRegex::new(re).unwrap())
    }

    fn encrypted_by(re: &str) -> Selection {
        Selection::EncryptedCommentRegex(GoRegex::new(re).unwrap())
    }

    const YAML: &str = "# clear\na: 1\nb: 2\nnested:\n  # clear\n  c: 3\n  d: 4\n";

    #[test]
    fn yaml_unencrypted_comment_regex_leaves_the_value_after_the_comment_clear() {
        let got = encrypted(YAML, FormatKind::Yaml, &unencrypted("^ *clear"));
        assert_eq!(got, ["b", "nested.d"]);
    }

    #[test]
    fn yaml_encrypted_comment_regex_encrypts_only_the_value_after_the_comment() {
        let text = YAML.replace("clear", "secret");
        let got = encrypted(&text, FormatKind::Yaml, &encrypted_by("^ *secret"));
        assert_eq!(got, ["a", "nested.c"]);
    }

    // COMPAT(sops): go-ini attaches a comment to the key after it, and
    // sops walks that comment after the key, so it marks the NEXT key.
    const INI: &str = "[s]\na = 1\n; clear\nb = 2\nc = 3\n";

    #[test]
    fn ini_unencrypted_comment_regex_marks_the_key_after_the_commented_one() {
        let got = encrypted(INI, FormatKind::Ini, &unencrypted("clear"));
        assert_eq!(got, ["s.a", "s.b"]);
    }

    #[test]
    fn ini_encrypted_comment_regex_marks_the_key_after_the_commented_one() {
        let text = INI.replace("clear", "secret");
        let got = encrypted(&text, FormatKind::Ini, &encrypted_by("secret"));
        assert_eq!(got, ["s.c"]);
    }
}
