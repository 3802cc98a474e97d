//! The walker's text inspections: the metadata block as it is read, and
//! the exact span of each scalar (indicators, quotes, block-scalar headers,
//! continuation lines, a value clipped at the end of the file), read from
//! the text around the parser's events.

use super::*;

impl<'t> Walker<'t> {
    /// Inserts a metadata value into the open metadata collection, or makes
    /// it the tree.
    pub(super) fn meta_insert(&mut self, value: serde_json::Value) {
        let in_frame = self.stack.len() > 1 && self.stack.last().is_some_and(|f| f.meta);
        if !in_frame {
            if let Some(m) = &mut self.meta {
                m.tree = value;
            }
            return;
        }
        let top = self.stack.last_mut().expect("checked");
        let key = top.pending_key.as_ref().map(|(k, _)| k.to_string());
        match (&mut top.json, key) {
            (Some(serde_json::Value::Object(o)), Some(k)) => {
                o.insert(k, value);
            }
            (Some(serde_json::Value::Array(a)), _) => a.push(value),
            _ => {}
        }
    }

    pub(super) fn finish_meta(&mut self) {
        let Some(mut m) = self.meta.take() else {
            return;
        };
        if m.done {
            return;
        }
        m.done = true;
        let end = if m.flow {
            // The entry owns the `,` after it if there is one (it was
            // written before a trailing comma), else the one before it.
            let after = &self.text[m.end..];
            let gap = after.len() - after.trim_start().len();
            if after[gap..].starts_with(',') {
                if self.text[m.start..].starts_with(',') {
                    m.start += 1;
                }
                m.end + gap + 1
            } else {
                m.end
            }
        } else if m.end > m.start {
            after_line(self.text, m.end - 1)
        } else {
            after_line(self.text, m.start)
        };
        // A root comment that sat inside the block's lines goes with it.
        while self.leaves.last().is_some_and(|l| {
            // Only comments: the empty null of an explicit key without
            // a value (`? b`) sits at the next line's start.
            l.kind == LeafKind::Comment && l.span.start >= m.start && l.span.start < end
        }) {
            self.leaves.pop();
        }
        if let Some(d) = self.doc.and_then(|d| self.docs.get_mut(d)) {
            d.meta_span = Some(m.start..end);
        }
        self.metadata.push(MetadataBlock {
            span: m.start..end,
            tree: std::mem::take(&mut m.tree),
        });
        self.last_end = end;
    }

    /// The `-` indicator before `at` on the same line (skipping spaces and
    /// anchor/tag properties), if any.
    pub(super) fn dash_before(&self, at: usize) -> Option<usize> {
        let b = self.text.as_bytes();
        let mut i = floor_char_boundary(self.text, at);
        loop {
            while i > 0 && (b[i - 1] == b' ' || b[i - 1] == b'\t') {
                i -= 1;
            }
            if i == 0 || b[i - 1] == b'\n' || b[i - 1] == b'\r' {
                return None;
            }
            let end = i;
            while i > 0 && !b[i - 1].is_ascii_whitespace() {
                i -= 1;
            }
            let tok = &b[i..end];
            if tok == b"-" {
                return Some(i);
            }
            if !(tok.first() == Some(&b'&') || tok.first() == Some(&b'!')) {
                return None;
            }
        }
    }

    /// The leaf span of a scalar: quoted and plain as the parser gives them;
    /// block scalars from their header to the end of the last content line.
    /// Refuses a node in block context whose continuation lines are not
    /// indented more than the column `owner` of its key or `-` (YAML 1.2
    /// requires it; tabs are not indentation). Blank lines, comment lines
    /// and lines that start by closing a flow collection are exempt.
    pub(super) fn check_continuation(
        &self,
        r: Range<usize>,
        owner: usize,
    ) -> Result<(), FormatError> {
        let body = &self.text[r.start..r.end.min(self.text.len())];
        // One line (nearly every value): nothing to check.
        if !body.as_bytes().contains(&b'\n') {
            return Ok(());
        }
        let mut off = r.start;
        for (i, line) in body.split('\n').enumerate() {
            if i > 0 {
                let content = line.trim_end_matches('\r');
                let rest = content.trim_start_matches(' ');
                let spaces = content.len() - rest.len();
                let t = rest.trim_start();
                // COMPAT(sops): go-yaml closes a flow collection holding
                // only comments with `}` at the key's column.
                if !t.is_empty() && !t.starts_with(['#', '}', ']']) && spaces <= owner {
                    let (line, column) = crate::format::line_col(self.text, off + spaces);
                    return Err(FormatError::Syntax {
                        format: FORMAT,
                        line,
                        column,
                        reason: "a continuation line must be indented more than its key or `-` (with spaces, not tabs)".into(),
                    });
                }
            }
            off += line.len() + 1;
        }
        Ok(())
    }

    /// Whether the block scalar `v` at `vr` ends the text with no line
    /// break after a line of spaces, is not stripped (`|-`), and so lacks
    /// its final line break.
    pub(super) fn clipped_at_eof(&self, vr: &Range<usize>, v: &str) -> bool {
        let text = self.text;
        // Only after a last line of spaces (yaml-test-suite L24T): a last
        // line with content keeps what go-yaml (sops) reads, no break.
        let last = v.rsplit('\n').next().unwrap_or("");
        if !v.contains('\n') || last.is_empty() || !last.chars().all(|c| c == ' ') {
            return false;
        }
        if text.ends_with('\n') {
            return false;
        }
        if text[vr.end.min(text.len())..]
            .chars()
            .any(|c| !c.is_whitespace())
        {
            return false;
        }
        let header = &text[vr.start..];
        let header = &header[..header.find('\n').unwrap_or(header.len())];
        let indicators = header
            .get(1..)
            .unwrap_or("")
            .split([' ', '#'])
            .next()
            .unwrap_or("");
        !indicators.contains('-')
    }

    pub(super) fn scalar_span(
        &self,
        _v: &str,
        style: ScalarStyle,
        r: &Range<usize>,
    ) -> Result<(Range<usize>, bool), FormatError> {
        let text = self.text;
        match style {
            ScalarStyle::Literal | ScalarStyle::Folded => {
                let b = text.as_bytes();
                // The header lies between the previous token and the content.
                let mut i = self.last_end.min(r.start);
                let mut header = None;
                while i < r.start {
                    match b[i] {
                        b'|' | b'>' => {
                            header = Some(i);
                            break;
                        }
                        b'#' => {
                            while i < r.start && b[i] != b'\n' {
                                i += 1;
                            }
                        }
                        b'&' | b'!' => {
                            while i < r.start && !b[i].is_ascii_whitespace() {
                                i += 1;
                            }
                        }
                        _ => i += 1,
                    }
                }
                // An empty block scalar at the end of the input (`a: |` and
                // nothing after) is reported starting at its own header.
                if header.is_none() && matches!(b.get(r.start), Some(b'|' | b'>')) {
                    header = Some(r.start);
                }
                let Some(h) = header else {
                    return Err(FormatError::Internal("block scalar header not found"));
                };
                // The header line must end right after its indicators.
                let hl_end = text[h..].find('\n').map_or(text.len(), |x| h + x);
                let rest = &text[h..hl_end];
                if rest.contains('#') {
                    return Err(self.unsupported(
                        h,
                        "a comment on a block scalar header line (move it to its own line)",
                    ));
                }
                // Keep the final line break and the next line's indentation
                // outside the span, so a one-line replacement stays valid.
                let mut e = r.end.min(text.len()).max(h);
                let mut j = e;
                while j > h && b[j - 1] == b' ' {
                    j -= 1;
                }
                if j > h && b[j - 1] == b'\n' {
                    e = j - 1;
                    if e > h && b[e - 1] == b'\r' {
                        e -= 1;
                    }
                }
                let ind_end = h + rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
                let e = trailing_blank_lines_out(text, &text[h..ind_end], hl_end, e);
                Ok((h..e.max(ind_end), true))
            }
            _ => {
                let mut vr = r.clone();
                if vr.is_empty() && text[vr.start..].starts_with(':') {
                    vr = vr.start + 1..vr.start + 1;
                }
                Ok((vr, false))
            }
        }
    }
}
