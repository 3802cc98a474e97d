//! `expand_aliases`: rewrites every alias token as a one-line flow copy of
//! the anchored node, so tools that drop anchors (or sops' own tree) see
//! the same data.
//!
//! Invariants: anchors stay in place; the result parses to the same values
//! in the same order with the same paths; expansion is bounded in depth and
//! size (a "billion laughs" document is an error, not an allocation storm).

use std::ops::Range;

use granit_parser::Event;

use super::emit::{double_quoted, plain_safe};
use super::parse::{parse_full_with_events, Full};
use super::render_float;
use super::resolve::type_scalar;
use super::resolve::Resolved;
use crate::format::{apply_splices, FormatError, Splice};

const MAX_DEPTH: usize = 64;

/// Replaces every alias (`*name`, merge keys included) with a one-line
/// flow-style copy of the anchored node's plaintext.
pub fn expand_aliases(text: &str) -> Result<String, FormatError> {
    let full = parse_full_with_events(text)?;
    let budget = 4 * text.len() + (1 << 20);
    let mut splices = Vec::new();
    let mut total = 0usize;
    for (span, id) in &full.alias_tokens {
        let mut out = String::new();
        let r = anchor_range(&full, *id)?;
        let mut i = r.start;
        node(&full, &mut i, r.end, &mut out, 0, budget)?;
        total += out.len();
        if total > budget {
            return Err(too_large(text, span.start));
        }
        splices.push(Splice {
            range: span.clone(),
            text: out,
        });
    }
    apply_splices(text, &mut splices)
}

fn too_large(text: &str, at: usize) -> FormatError {
    FormatError::Unsupported {
        format: "yaml",
        line: crate::format::line_col(text, at).0,
        reason: "alias expansion too large".to_owned(),
    }
}

fn anchor_range(full: &Full<'_>, id: usize) -> Result<Range<usize>, FormatError> {
    full.anchor_events
        .get(&id)
        .cloned()
        .ok_or(FormatError::Internal("alias without anchored node"))
}

fn node(
    full: &Full<'_>,
    i: &mut usize,
    end: usize,
    out: &mut String,
    depth: usize,
    budget: usize,
) -> Result<(), FormatError> {
    if depth > MAX_DEPTH || out.len() > budget {
        return Err(FormatError::Unsupported {
            format: "yaml",
            line: 0,
            reason: "alias expansion too large or too deep".to_owned(),
        });
    }
    while *i < end {
        let (ev, _) = &full.events[*i];
        *i += 1;
        match ev {
            Event::Comment(..) | Event::Anchor(..) => continue,
            Event::Scalar(v, style, _, tag) => {
                out.push_str(&scalar(v, *style, tag.as_deref()));
                return Ok(());
            }
            Event::Alias(id) => {
                let r = anchor_range(full, *id)?;
                let mut j = r.start;
                return node(full, &mut j, r.end, out, depth + 1, budget);
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_map = matches!(ev, Event::MappingStart(..));
                out.push(if is_map { '{' } else { '[' });
                let mut first = true;
                loop {
                    while *i < end && matches!(full.events[*i].0, Event::Comment(..)) {
                        *i += 1;
                    }
                    if *i >= end {
                        return Err(FormatError::Internal("unbalanced anchored node"));
                    }
                    if matches!(full.events[*i].0, Event::MappingEnd | Event::SequenceEnd) {
                        *i += 1;
                        break;
                    }
                    if !first {
                        out.push_str(", ");
                    }
                    first = false;
                    // A merge key stays a merge key: quoted, `"<<"` would be
                    // a plain key named `<<` and the merge would be lost.
                    let merge_key = is_map
                        && matches!(
                            &full.events[*i].0,
                            Event::Scalar(v, granit_parser::ScalarStyle::Plain, _, None) if v == "<<"
                        );
                    if merge_key {
                        out.push_str("<<");
                        *i += 1;
                    } else {
                        node(full, i, end, out, depth + 1, budget)?;
                    }
                    if is_map {
                        out.push_str(": ");
                        node(full, i, end, out, depth + 1, budget)?;
                    }
                }
                out.push(if is_map { '}' } else { ']' });
                return Ok(());
            }
            _ => return Err(FormatError::Internal("unexpected event in anchored node")),
        }
    }
    Err(FormatError::Internal("empty anchored node"))
}

/// A scalar as flow text of the same type and value.
fn scalar(v: &str, style: granit_parser::ScalarStyle, tag: Option<&granit_parser::Tag>) -> String {
    match type_scalar(v, style, tag) {
        Ok(Resolved::Null) => "null".to_owned(),
        Ok(Resolved::Bool(b)) => b.to_string(),
        Ok(Resolved::Int(c)) => c,
        Ok(Resolved::Float(f)) => render_float(&f).unwrap_or_else(|| double_quoted(v)),
        Ok(Resolved::Time(t)) => t,
        _ if plain_safe(v, true) => v.to_owned(),
        _ => double_quoted(v),
    }
}
