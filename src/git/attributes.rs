//! `.gitattributes` patterns for the files a creation rule covers: a
//! rule's `path_regex` translated into gitattributes globs, so that a
//! secrets file added after `git install` gets the diff and merge drivers
//! without running it again.
//!
//! Only regexes whose meaning a set of globs has exactly are translated:
//! literal text (`\.` and other escaped punctuation), `^` and `$`, `.*`,
//! `[^/]*`, `[^/]+` and groups of literal alternatives (`(yaml|env)`,
//! `(?:a|b)`). Anything else (`\d`, `[a-z]`, `+`, `?`, nested groups) gives
//! `None`, and `git install` lists the files one by one as before.
//!
//! `path_regex` is unanchored, as in sops: `secrets\.yaml$` matches any
//! path ending in `secrets.yaml` at any depth, which is the basename glob
//! `*secrets.yaml`. `.*` may cross `/`; a glob's `*` may not, so `.*`
//! becomes `**/*` after a `/`, and inside a name both `*` and `*/**/*`.

/// Most patterns one regex may give (each mid-name `.*` doubles them).
const MAX_PATTERNS: usize = 16;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// Literal text.
    Lit(String),
    /// `.*`: anything, `/` included.
    Any,
    /// `[^/]*`: anything within one name.
    Seg,
    /// `[^/]+`: at least one character within one name.
    Seg1,
}

/// Parses the supported subset; the alternatives of the whole regex, each
/// with its anchors.
fn parse(regex: &str) -> Option<Vec<(bool, Vec<Tok>, bool)>> {
    let mut s = regex;
    let start = s.starts_with('^');
    if start {
        s = &s[1..];
    }
    let end = s.ends_with('$') && !s.ends_with("\\$");
    if end {
        s = &s[..s.len() - 1];
    }
    // Each alternative so far.
    let mut alts: Vec<Vec<Tok>> = vec![Vec::new()];
    let push_lit = |alts: &mut Vec<Vec<Tok>>, text: &str| {
        for a in alts.iter_mut() {
            match a.last_mut() {
                Some(Tok::Lit(l)) => l.push_str(text),
                _ => a.push(Tok::Lit(text.to_owned())),
            }
        }
    };
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let next = *chars.get(i + 1)?;
                if next.is_ascii_alphanumeric() {
                    return None; // \d, \w, \b, ...
                }
                push_lit(&mut alts, &next.to_string());
                i += 2;
            }
            '.' if chars.get(i + 1) == Some(&'*') => {
                alts.iter_mut().for_each(|a| a.push(Tok::Any));
                i += 2;
            }
            '[' => {
                let rest: String = chars[i..].iter().collect();
                if rest.starts_with("[^/]*") {
                    alts.iter_mut().for_each(|a| a.push(Tok::Seg));
                } else if rest.starts_with("[^/]+") {
                    alts.iter_mut().for_each(|a| a.push(Tok::Seg1));
                } else {
                    return None;
                }
                i += 5;
            }
            '(' => {
                let mut j = i + 1;
                if chars.get(j) == Some(&'?') {
                    if chars.get(j + 1) != Some(&':') {
                        return None;
                    }
                    j += 2;
                }
                let mut options = vec![String::new()];
                loop {
                    let c = *chars.get(j)?;
                    match c {
                        ')' => break,
                        '|' => options.push(String::new()),
                        '\\' => {
                            let next = *chars.get(j + 1)?;
                            if next.is_ascii_alphanumeric() {
                                return None;
                            }
                            options.last_mut()?.push(next);
                            j += 1;
                        }
                        c if is_meta(c) => return None,
                        c => options.last_mut()?.push(c),
                    }
                    j += 1;
                }
                i = j + 1;
                if matches!(chars.get(i), Some('?' | '*' | '+' | '{')) {
                    return None;
                }
                let mut next = Vec::new();
                for a in &alts {
                    for o in &options {
                        let mut b = a.clone();
                        match b.last_mut() {
                            Some(Tok::Lit(l)) => l.push_str(o),
                            _ if o.is_empty() => {}
                            _ => b.push(Tok::Lit(o.clone())),
                        }
                        next.push(b);
                    }
                }
                if next.len() > MAX_PATTERNS {
                    return None;
                }
                alts = next;
            }
            c if is_meta(c) => return None,
            c => {
                // A quantifier after a literal applies to it: unsupported.
                if matches!(chars.get(i + 1), Some('?' | '*' | '+' | '{')) {
                    return None;
                }
                push_lit(&mut alts, &c.to_string());
                i += 1;
            }
        }
    }
    Some(alts.into_iter().map(|a| (start, a, end)).collect())
}

fn is_meta(c: char) -> bool {
    matches!(
        c,
        '.' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '^' | '$'
    )
}

/// A literal as glob text; `None` for characters a pattern cannot hold
/// unquoted (space, quotes, `#` first, line breaks).
fn glob_lit(s: &str) -> Option<String> {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '*' | '?' | '[' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' ' | '\t' | '"' | '\n' | '\r' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// The gitattributes patterns, relative to the repository's top, that
/// match exactly the paths `path_regex` matches; `dir` is the rules file's
/// directory relative to the top (`""` or `sub/dir`). `None` when the
/// regex is outside the subset, or matches every file.
pub fn patterns(path_regex: &str, dir: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for (start, mut toks, end) in parse(path_regex)? {
        if !end {
            toks.push(Tok::Any);
        }
        if !start {
            toks.insert(0, Tok::Any);
        }
        // Collapse `.*.*`.
        toks.dedup_by(|a, b| *a == Tok::Any && *b == Tok::Any);
        for g in globs(&toks)? {
            out.push(anchor(&g, dir)?);
        }
        if out.len() > MAX_PATTERNS {
            return None;
        }
    }
    out.dedup();
    Some(out)
}

/// The glob forms of one token sequence (relative, without the anchor).
/// A leading `Any` followed by a name-only tail gives a basename pattern
/// (no `/`), which `anchor` places.
fn globs(toks: &[Tok]) -> Option<Vec<String>> {
    let mut forms: Vec<String> = vec![String::new()];
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Lit(l) => {
                let g = glob_lit(l)?;
                forms.iter_mut().for_each(|f| f.push_str(&g));
            }
            Tok::Seg => forms.iter_mut().for_each(|f| f.push('*')),
            Tok::Seg1 => forms.iter_mut().for_each(|f| f.push_str("?*")),
            Tok::Any => {
                let rest = &toks[i + 1..];
                let at_start = i == 0;
                let last = rest.is_empty();
                let tail_has_slash = rest.iter().any(|t| match t {
                    Tok::Lit(l) => l.contains('/'),
                    Tok::Any => true,
                    _ => false,
                });
                let after_slash = forms.iter().all(|f| f.ends_with('/'));
                if at_start && last {
                    return None; // every file
                }
                if at_start && !tail_has_slash {
                    // `.*NAME$`: a basename ending in NAME, at any depth.
                    forms.iter_mut().for_each(|f| f.push('\u{0}'));
                } else if at_start {
                    if rest
                        .first()
                        .is_some_and(|t| matches!(t, Tok::Lit(l) if l.starts_with('/')))
                    {
                        return None;
                    }
                    forms.iter_mut().for_each(|f| f.push_str("**/*"));
                } else if after_slash {
                    if rest
                        .first()
                        .is_some_and(|t| matches!(t, Tok::Lit(l) if l.starts_with('/')))
                    {
                        return None;
                    }
                    let s = if last { "**" } else { "**/*" };
                    forms.iter_mut().for_each(|f| f.push_str(s));
                } else {
                    // Inside a name: the rest of this name, or across names.
                    let mut next = Vec::new();
                    for f in &forms {
                        next.push(format!("{f}*"));
                        next.push(if last {
                            format!("{f}*/**")
                        } else {
                            format!("{f}*/**/*")
                        });
                    }
                    if next.len() > MAX_PATTERNS {
                        return None;
                    }
                    forms = next;
                }
            }
        }
        i += 1;
    }
    Some(forms)
}

/// Places a relative glob under the rules file's directory.
fn anchor(glob: &str, dir: &str) -> Option<String> {
    let dir = dir.trim_matches('/');
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{}/", glob_lit(dir)?)
    };
    Some(match glob.strip_prefix('\u{0}') {
        // Basename pattern: anywhere under the rules file's directory.
        Some(name) if prefix.is_empty() => format!("*{name}"),
        Some(name) => format!("/{prefix}**/*{name}"),
        None => format!("/{prefix}{glob}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(re: &str) -> Option<Vec<String>> {
        patterns(re, "")
    }

    #[test]
    fn common_rules_translate() {
        assert_eq!(
            p(r"secrets\.(yaml|env)$").unwrap(),
            ["*secrets.yaml", "*secrets.env"]
        );
        assert_eq!(p(r"\.enc\.yaml$").unwrap(), ["*.enc.yaml"]);
        assert_eq!(p(r"^prod/.*\.yaml$").unwrap(), ["/prod/**/*.yaml"]);
        assert_eq!(p(r"^secrets/").unwrap(), ["/secrets/**"]);
        assert_eq!(p(r"^bots/[^/]*\.env$").unwrap(), ["/bots/*.env"]);
        assert_eq!(p(r"^secrets\.yaml$").unwrap(), ["/secrets.yaml"]);
        assert_eq!(p(r"bots/.*\.yaml$").unwrap(), ["/**/*bots/**/*.yaml"]);
        assert_eq!(
            p(r"^secrets.*\.yaml$").unwrap(),
            ["/secrets*.yaml", "/secrets*/**/*.yaml"]
        );
        assert_eq!(
            patterns(r"secrets\.yaml$", "deploy").unwrap(),
            ["/deploy/**/*secrets.yaml"]
        );
        assert_eq!(patterns(r"^a\.env$", "deploy").unwrap(), ["/deploy/a.env"]);
        assert_eq!(p(r"(?:prod|dev)\.env$").unwrap(), ["*prod.env", "*dev.env"]);
    }

    #[test]
    fn the_rest_is_refused() {
        for re in [
            "",
            ".*",
            r"\d+\.yaml$",
            "[a-z]+.yaml",
            "secrets.yaml$",
            "a|b",
            r"a?\.env",
            "(a(b))",
            r"^a/.*/b$",
            "my secrets.yaml$",
        ] {
            assert_eq!(p(re), None, "{re}");
        }
    }

    /// The globs match what the regex matches, on a sample of paths, by
    /// git's own rules (checked in the integration tests with
    /// `git check-attr`); here: a hand-rolled glob matcher for the forms
    /// produced.
    #[test]
    fn globs_agree_with_the_regex_on_samples() {
        let paths = [
            "secrets.yaml",
            "mysecrets.yaml",
            "a/secrets.yaml",
            "a/b/secrets.yaml",
            "secrets.yaml.bak",
            "prod/x.yaml",
            "prod/a/x.yaml",
            "prod.yaml",
            "xprod/x.yaml",
            "bots/x.env",
            "bots/a/x.env",
            "a/mybots/x.yaml",
            "secrets-prod.yaml",
            "secretsdir/x.yaml",
            "secrets/x",
            "secrets/a/b",
        ];
        for re in [
            r"secrets\.(yaml|env)$",
            r"^prod/.*\.yaml$",
            r"^secrets/",
            r"^bots/[^/]*\.env$",
            r"bots/.*\.yaml$",
            r"^secrets.*\.yaml$",
        ] {
            let regex = regex::Regex::new(re).unwrap();
            let globs = p(re).unwrap();
            for path in paths {
                let by_glob = globs.iter().any(|g| glob_match(g, path));
                assert_eq!(by_glob, regex.is_match(path), "{re} {globs:?} on {path}");
            }
        }
    }

    /// gitattributes matching for the forms `patterns` writes: a pattern
    /// without `/` matches the basename; otherwise the whole path, `**/`
    /// any directories, `/**` everything inside, `*`/`?` within a name.
    fn glob_match(glob: &str, path: &str) -> bool {
        if !glob.contains('/') {
            let base = path.rsplit('/').next().unwrap();
            return seg_match(glob, base);
        }
        let g: Vec<&str> = glob.trim_start_matches('/').split('/').collect();
        let p: Vec<&str> = path.split('/').collect();
        fn go(g: &[&str], p: &[&str]) -> bool {
            match g.split_first() {
                None => p.is_empty(),
                Some((&"**", [])) => !p.is_empty(),
                Some((&"**", rest)) => (0..=p.len()).any(|k| go(rest, &p[k..])),
                Some((seg, rest)) => !p.is_empty() && seg_match(seg, p[0]) && go(rest, &p[1..]),
            }
        }
        go(&g, &p)
    }

    fn seg_match(g: &str, s: &str) -> bool {
        let g: Vec<char> = g.chars().collect();
        let s: Vec<char> = s.chars().collect();
        fn go(g: &[char], s: &[char]) -> bool {
            match g.split_first() {
                None => s.is_empty(),
                Some(('*', rest)) => (0..=s.len()).any(|k| go(rest, &s[k..])),
                Some(('?', rest)) => !s.is_empty() && go(rest, &s[1..]),
                Some(('\\', rest)) => {
                    !s.is_empty() && rest.first() == Some(&s[0]) && go(&rest[1..], &s[1..])
                }
                Some((c, rest)) => s.first() == Some(c) && go(rest, &s[1..]),
            }
        }
        go(&g, &s)
    }
}
