//! INI structural edits: where the sections of a file are, inserting a key
//! (and its section when missing, before the `[sops]` section) and removing a
//! key or a whole section with its lines, in the file's own line breaks.

use super::*;

/// Where the sections of a file are, for structural edits.
struct Layout {
    /// Data section headers: name and the header line's bytes.
    headers: Vec<(String, Range<usize>)>,
    /// Where the data ends: the metadata block's start, or the text's end.
    limit: usize,
    /// Between a key and its value (`" = "` unless the file does otherwise).
    delimiter: String,
    newline: &'static str,
}

fn layout(text: &str, parsed: &ParsedFile) -> Layout {
    let meta = parsed.metadata.first().map(|m| m.span.clone());
    let inside_value = |at: usize| {
        parsed
            .leaves
            .iter()
            .any(|l| l.kind != LeafKind::Comment && l.span.start < at && at < l.span.end)
    };
    let mut headers = Vec::new();
    for line in lines(text) {
        if meta.as_ref().is_some_and(|m| m.contains(&line.start)) || inside_value(line.start) {
            continue;
        }
        let t = line.content.trim();
        if let (Some(rest), Some(close)) = (t.strip_prefix('['), t.rfind(']')) {
            if close > 0 {
                headers.push((
                    rest[..close - 1].to_owned(),
                    line.start..after_line_break(text, line.end()),
                ));
            }
        }
    }
    // The file's own `key = value` spacing, from its first value.
    let delimiter = parsed
        .leaves
        .iter()
        .filter(|l| l.kind != LeafKind::Comment)
        .find_map(|l| {
            let key = l.path.keys().last()?;
            let head = text[line_start_of(text, l.span.start)..l.span.start].trim_start();
            let d = head.strip_prefix(key)?;
            ["=", " = ", ":", ": ", " : "]
                .contains(&d)
                .then(|| d.to_owned())
        })
        .unwrap_or_else(|| " = ".to_owned());
    Layout {
        headers,
        limit: meta.map_or(text.len(), |m| m.start),
        delimiter,
        newline: newline_style(text),
    }
}

impl Ini {
    pub(super) fn insert_entry(
        &self,
        text: &str,
        parsed: &ParsedFile,
        path: &KeyPath,
        value: &Replacement<'_>,
    ) -> Result<Vec<Splice>, FormatError> {
        let keys = insert_keys(FORMAT, path)?;
        let [section, key] = keys[..] else {
            return Err(unrepresentable(
                FORMAT,
                path,
                "an INI path is a section and a key",
            ));
        };
        let bad_key = key.is_empty()
            || key.trim() != key
            || key == "-"
            || key.contains(['=', ':', '\n', '\r'])
            || key.starts_with(['[', ';', '#', '"', '`']);
        let bad_section =
            section.is_empty() || section.trim() != section || section.contains([']', '\n', '\r']);
        if bad_key || bad_section {
            return Err(unrepresentable(
                FORMAT,
                path,
                "not a valid INI section or key",
            ));
        }
        if parsed
            .leaves
            .iter()
            .any(|l| l.kind != LeafKind::Comment && l.path == *path)
        {
            return Err(unrepresentable(FORMAT, path, "the key already exists"));
        }
        let v = self.render(text, &insert_leaf(path, 0..0, LeafStyle::default()), value)?;
        let lay = layout(text, parsed);
        let nl = lay.newline;
        let entry = if v.is_empty() {
            format!("{key}{}", lay.delimiter.trim_end())
        } else {
            format!("{key}{}{v}", lay.delimiter)
        };
        let last_key = parsed
            .leaves
            .iter()
            .filter(|l| l.kind != LeafKind::Comment && l.path.keys().next() == Some(section))
            .map(|l| whole_lines(text, l.span.start, l.span.end).end)
            .next_back();
        let header = lay.headers.iter().find(|(n, _)| n == section);
        let at = match (last_key, header) {
            (Some(at), _) => Some(at),
            (None, Some((_, h))) => Some(h.end),
            (None, None) if section == DEFAULT_SECTION => {
                // Keys before the first header.
                let at = lay
                    .headers
                    .first()
                    .map_or(0, |(_, h)| h.start)
                    .min(lay.limit);
                let mut t = format!("{entry}{nl}");
                if at < text.len() && !text[at..].starts_with(['\r', '\n']) {
                    t.push_str(nl);
                }
                return Ok(vec![Splice {
                    range: at..at,
                    text: t,
                }]);
            }
            (None, None) => None,
        };
        if let Some(at) = at {
            let t = if at > 0 && !text[..at].ends_with('\n') {
                format!("{nl}{entry}")
            } else {
                format!("{entry}{nl}")
            };
            return Ok(vec![Splice {
                range: at..at,
                text: t,
            }]);
        }
        // A new section, at the end of the data.
        let at = lay.limit;
        let mut t = String::new();
        let before = &text[..at];
        if !before.is_empty() && !before.ends_with('\n') {
            t.push_str(nl);
        }
        let last_blank = before.is_empty()
            || before.trim_end_matches(['\r', '\n']).len() + 2 * nl.len() <= before.len()
            || before.trim().is_empty();
        if !last_blank {
            t.push_str(nl);
        }
        t.push('[');
        t.push_str(section);
        t.push(']');
        t.push_str(nl);
        t.push_str(&entry);
        t.push_str(nl);
        Ok(vec![Splice {
            range: at..at,
            text: t,
        }])
    }

    pub(super) fn remove_entry(
        &self,
        text: &str,
        parsed: &ParsedFile,
        path: &KeyPath,
    ) -> Result<Vec<Splice>, FormatError> {
        let not_found = || FormatError::PathNotFound(path.clone());
        let keys: Vec<&str> = path.keys().collect();
        if keys.len() != path.segments().len() || keys.first() == Some(&SOPS_SECTION) {
            return Err(not_found());
        }
        let in_section = |l: &&Leaf| {
            l.kind != LeafKind::Comment && l.path.keys().next() == keys.first().copied()
        };
        match keys[..] {
            [_, _] => {
                let leaf = parsed
                    .leaves
                    .iter()
                    .find(|l| l.kind != LeafKind::Comment && l.path == *path)
                    .ok_or_else(not_found)?;
                Ok(vec![Splice {
                    range: line_removal(text, leaf.span.start, leaf.span.end),
                    text: String::new(),
                }])
            }
            [section] => {
                let lay = layout(text, parsed);
                let Some(i) = lay.headers.iter().position(|(n, _)| n == section) else {
                    // `DEFAULT` without a header: its key lines.
                    let out: Vec<Splice> = parsed
                        .leaves
                        .iter()
                        .filter(in_section)
                        .map(|l| Splice {
                            range: line_removal(text, l.span.start, l.span.end),
                            text: String::new(),
                        })
                        .collect();
                    return if out.is_empty() {
                        Err(not_found())
                    } else {
                        Ok(out)
                    };
                };
                let header = lay.headers[i].1.clone();
                let next = lay
                    .headers
                    .get(i + 1)
                    .map_or(lay.limit, |(_, h)| h.start)
                    .min(lay.limit.max(header.end));
                // Through the last key line; the comments before the next
                // header belong to it and stay; blank lines after go.
                let mut end = parsed
                    .leaves
                    .iter()
                    .filter(in_section)
                    .map(|l| whole_lines(text, l.span.start, l.span.end).end)
                    .filter(|e| *e <= next)
                    .max()
                    .unwrap_or(header.end)
                    .max(header.end);
                while end < next && is_blank_line(text, end) {
                    end = after_line_of(text, end);
                }
                let limit = if end >= lay.limit {
                    lay.limit
                } else {
                    text.len()
                };
                let mut range = with_blank_lines_before(text, header.start..end, limit);
                if range.end == text.len() && !text.ends_with('\n') && range.start > 0 {
                    range = line_removal(text, range.start, range.end);
                }
                Ok(vec![Splice {
                    range,
                    text: String::new(),
                }])
            }
            _ => Err(not_found()),
        }
    }
}
