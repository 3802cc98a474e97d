//! The parse of a large YAML text on two threads: the text is cut at a line
//! that starts a top-level key near its middle, both parts are walked at
//! the same time, and the two results are joined into exactly what the
//! walk of the whole text gives (the one-thread parse, `parse_one`).
//!
//! Only plain texts are split, and the checks err towards declining: a
//! decline costs the second core, a wrong join a wrong splice. A part must
//! be one block-mapping document at column 0 read entirely by the fast
//! source (so no flow collections, anchors, aliases, directives, tags or
//! multi-line flow scalars), with no error; the first part holds no
//! metadata and is not ended by `...`; the second starts with its root's
//! first key at its first byte (no `---`, blank line or comment before
//! it) and that key is not `sops`; no top-level key is in both parts (the
//! one-thread parse reports the duplicate). The cut line chosen also does
//! not follow a comment, a `---`/`...`/`%` line or a line with a `#` on
//! it (a comment's placement depends on the token after it). Anything
//! else, and every error, is parsed again on one thread, so errors keep
//! their message and line. The differential test (`split/tests.rs`)
//! holds every join to the one-thread parse, cutting the test texts at
//! every line (their many mutations at the chosen lines and a sample).

use std::sync::atomic::{AtomicBool, Ordering};

use super::*;

#[cfg(test)]
mod tests;

/// Texts from this length on are parsed in two parts. Measured in
/// instructions (wall times on the shared 2-core machine are noise): a
/// split parse costs about 1M instructions more in all (the thread, the
/// second fast source's start, the key check, the join) and takes half the
/// parse off the main thread, which is 32 instructions a byte for
/// encrypted text and 150 for plain text: a 128 KiB text's parse is 4M
/// (encrypted) to 20M (plain) instructions. Much below that a thread's
/// start (30-60 us) weighs about as much as half a parse.
pub(crate) const PARALLEL_MIN: usize = 128 * 1024;

/// The parallel parse of `text`, or `None` where it is too small, no line
/// to cut at is found, or the parts are not plain enough to be sure of the
/// join (the caller then parses on one thread).
pub(super) fn parse_parallel<'t>(
    text: &'t str,
    shared: Option<&'t SharedText>,
) -> Option<Full<'t>> {
    if text.len() < PARALLEL_MIN {
        return None;
    }
    parse_split(text, shared, split_point(text)?, true)
}

/// The first cut line at or after the middle (within a quarter of the
/// text), else the last one before it (within a quarter).
fn split_point(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mid = text.len() / 2;
    let quarter = text.len() / 4;
    let hi = mid + quarter;
    let mut s = mid;
    while let Some(nl) = b[s..hi].iter().position(|&c| c == b'\n') {
        s += nl + 1;
        if is_cut(b, s) {
            return Some(s);
        }
    }
    let lo = mid - quarter;
    let mut e = mid;
    while let Some(nl) = b[lo..e].iter().rposition(|&c| c == b'\n') {
        let s = lo + nl + 1;
        if is_cut(b, s) {
            return Some(s);
        }
        e = lo + nl;
    }
    None
}

/// Every line a text may be cut at (test-only: the differential test cuts
/// at each).
#[cfg(test)]
pub(crate) fn split_candidates(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    (1..b.len()).filter(|&s| is_cut(b, s)).collect()
}

/// Whether the line starting at `s` may start the second part: it begins
/// with a plain top-level key (not `sops`, whose block the first part's
/// layout facts would not see start) and the last non-blank line before it
/// is a line of content without `#` (no comment whose placement depends on
/// what follows it), not a document marker or directive.
fn is_cut(b: &[u8], s: usize) -> bool {
    if s == 0 || s >= b.len() || b[s - 1] != b'\n' {
        return false;
    }
    if !(b[s].is_ascii_alphanumeric() || b[s] == b'_') || b[s..].starts_with(b"sops") {
        return false;
    }
    let mut e = s - 1;
    loop {
        let ps = b[..e]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |i| i + 1);
        let prev = &b[ps..e];
        if prev.iter().all(|&c| c == b' ') {
            if ps == 0 {
                return false;
            }
            e = ps - 1;
            continue;
        }
        return !prev.contains(&b'#')
            && !prev.starts_with(b"---")
            && !prev.starts_with(b"...")
            && !prev.starts_with(b"%");
    }
}

/// One part's walk: its result and its top-level keys.
struct Part<'t> {
    full: Full<'t>,
    keys: KeySet<'t>,
}

/// The parse of `text` cut at `at` (a line start), its parts walked on two
/// threads (`threads`; else one after the other, for the tests' thousands
/// of cuts), or `None` where the join could differ from the one-thread
/// parse.
pub(crate) fn parse_split<'t>(
    text: &'t str,
    shared: Option<&'t SharedText>,
    at: usize,
    threads: bool,
) -> Option<Full<'t>> {
    let (a, b) = (text.get(..at)?, text.get(at..)?);
    if at == 0 || !a.ends_with('\n') || b.is_empty() {
        return None;
    }
    // Set by the part that fails first: the other one stops early.
    let stop = AtomicBool::new(false);
    let walk = |part: &'t str, first: bool| {
        let r = walk_part(part, first, shared, &stop);
        if r.is_none() {
            stop.store(true, Ordering::Relaxed);
        }
        r
    };
    let (first, second) = if threads {
        std::thread::scope(|s| {
            let Ok(handle) = std::thread::Builder::new().spawn_scoped(s, || walk(b, false)) else {
                // No thread to be had: one thread it is.
                return (None, None);
            };
            let first = walk(a, true);
            let second = match handle.join() {
                Ok(r) => r,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            (first, second)
        })
    } else {
        (walk(a, true), walk(b, false))
    };
    join(at, first?, second?)
}

/// Walks one part with the fast source; `None` on a decline, an error, a
/// `stop`, or a part that is not one block mapping at column 0 without
/// anchors and aliases. The `first` part's document must not be ended by
/// `...`, nor the second's started by `---`: the whole text would be two
/// documents.
fn walk_part<'t>(
    text: &'t str,
    first: bool,
    shared: Option<&'t SharedText>,
    stop: &AtomicBool,
) -> Option<Part<'t>> {
    let mut stream = Stream::fast_only(text)?;
    let mut w = Walker::new(text);
    w.shared = shared;
    w.keep_root_keys = true;
    let mut i = 0usize;
    let mut rooted = false;
    while let Some((ev, span)) = stream.next().ok()? {
        if i.is_multiple_of(1024) && stop.load(Ordering::Relaxed) {
            return None;
        }
        match ev {
            Event::DocumentStart(explicit, ..) if explicit && !first => return None,
            Event::DocumentEnd if first && !range(&span).ok()?.is_empty() => return None,
            Event::StreamStart | Event::DocumentStart(..) => {}
            // The second part starts with its root mapping's first key:
            // no blank line, comment or indentation before it.
            _ if !first && !rooted => {
                if !matches!(ev, Event::MappingStart(..)) || range(&span).ok()?.start != 0 {
                    return None;
                }
                rooted = true;
            }
            _ => {}
        }
        w.event(&ev, &span, i, &mut stream).ok()?;
        i += 1;
    }
    if stream.declined()
        || w.docs.len() != 1
        || w.meta.is_some()
        || !w.anchors.is_empty()
        || !w.anchor_keys.is_empty()
        || !w.aliases.is_empty()
        || !w.alias_tokens.is_empty()
    {
        return None;
    }
    let doc = &w.docs[0];
    if doc.top_indent != Some(0) || doc.flow_root.is_some() || doc.flow_root_end.is_some() {
        return None;
    }
    let keys = w.root_keys.take()?;
    let full = w.finish(Vec::new()).ok()?;
    Some(Part { full, keys })
}

/// Leaves per chunk of a large second part's leaves moved at the join.
const CHUNK: usize = 1 << 16;

/// `v` cut into chunks of `chunk` from its end, the last chunk first,
/// `v`'s own buffer shrunk after each cut: moving the second part's
/// leaves behind the first part's in chunks then never holds both copies
/// of them (at a million keys one copy was 36 MB, a tenth of the peak).
fn chunks_from_back<T>(mut v: Vec<T>, chunk: usize) -> Vec<Vec<T>> {
    let mut chunks = Vec::new();
    while v.len() > chunk {
        let tail = v.split_off(v.len() - chunk);
        v.shrink_to_fit();
        chunks.push(tail);
    }
    chunks.push(v);
    chunks
}

/// The two parts' results as one, the second's offsets moved by `at`;
/// `None` where the one-thread parse would differ (metadata in the first
/// part, a key in both, a second part that starts with the metadata).
fn join<'t>(at: usize, first: Part<'t>, second: Part<'t>) -> Option<Full<'t>> {
    let Part {
        full: mut a,
        keys: a_keys,
    } = first;
    let Part {
        full: b,
        keys: b_keys,
    } = second;
    let (ad, bd) = (a.docs.first()?, b.docs.first()?);
    if !a.file.metadata.is_empty()
        || ad.meta_span.is_some()
        || bd.meta_span.as_ref().is_some_and(|m| m.start == 0)
        || a.docs.len() != 1
        || b.docs.len() != 1
        || a.file.documents != 1
        || b.file.documents != 1
    {
        return None;
    }
    // A key in both parts is a duplicate: the one-thread parse reports it.
    let (few, many) = if a_keys.len() <= b_keys.len() {
        (&a_keys, &b_keys)
    } else {
        (&b_keys, &a_keys)
    };
    if few.iter().any(|k| many.contains(k)) {
        return None;
    }
    let shift = |r: &Range<usize>| r.start + at..r.end + at;
    let content_end = ad.content_end.max(bd.content_end + at);
    let meta_span = bd.meta_span.as_ref().map(shift);
    let n = a.file.leaves.len();
    let file = &mut a.file;
    for chunk in chunks_from_back(b.file.leaves, CHUNK).into_iter().rev() {
        file.leaves.reserve_exact(chunk.len());
        file.leaves.extend(chunk.into_iter().map(|mut l| {
            l.span = shift(&l.span);
            l
        }));
    }
    file.empties.extend(b.file.empties.into_iter().map(|mut e| {
        e.position += n;
        e
    }));
    file.metadata
        .extend(b.file.metadata.into_iter().map(|mut m| {
            m.span = shift(&m.span);
            m
        }));
    let doc = &mut a.docs[0];
    doc.content_end = content_end;
    doc.meta_span = meta_span;
    a.step = a.step.or(b.step);
    Some(a)
}
