//! The variables `exec` would set, rendered for other tools: a dotenv file
//! for docker compose, `export` lines for a POSIX shell, a flat JSON object,
//! or a Kubernetes `Secret` manifest. The caller prints the text to stdout;
//! nothing here touches a file.
//!
//! Quoting is exact for every value (any Unicode, quotes, `$`, backticks,
//! backslashes, line breaks); NUL bytes never get here (see
//! [`crate::exec::variables`]). Names are already `[A-Za-z0-9_]` only.
//!
//! - `dotenv`: `NAME="..."` with `\` `"` `$` escaped by a backslash and line
//!   breaks written `\n` (`\r` for a carriage return): docker compose's
//!   `env_file` (compose-go) reads every value back exactly.
//!   python-dotenv reads them back too, except that it keeps `\$` as two
//!   characters (it has no `$` escape). A value ending in a backslash is
//!   refused: both loaders take `\\"` at the end as an escaped quote.
//! - `shell`: `export NAME='...'`, a `'` written `'\''`: safe to `eval` or
//!   source in any POSIX shell for any value.
//! - `json`: `{"NAME": "value", ...}`, every value a string.
//! - `k8s-secret`: an `apiVersion: v1` `kind: Secret` manifest, `type:
//!   Opaque`, base64 `data`; every scalar double-quoted so that no name or
//!   value can be read as a number, a boolean or null.

use base64::Engine;
use zeroize::Zeroizing;

use crate::exec::Var;

/// The output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// `NAME="..."` lines.
    Dotenv,
    /// `export NAME='...'` lines.
    Shell,
    /// A flat JSON object.
    Json,
    /// A Kubernetes `Secret` manifest (YAML).
    K8sSecret,
}

/// Errors of `export`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExportError {
    /// `k8s-secret` without a name.
    #[error("a k8s-secret needs a name (the Secret's metadata.name)")]
    NoName,
    /// An invalid Kubernetes object name.
    #[error("{0:?} is not a valid Kubernetes name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters")]
    BadName(String),
    /// dotenv: a value ending in a backslash, which common loaders misread.
    #[error("the value of {name} ({path}) ends with a backslash, which docker compose and python-dotenv misread in a quoted dotenv value (they take the closing quote as escaped and run into the next line)")]
    TrailingBackslash {
        /// The variable.
        name: String,
        /// Its key path.
        path: crate::path::KeyPath,
    },
    /// An invalid namespace.
    #[error("{0:?} is not a valid Kubernetes namespace: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters")]
    BadNamespace(String),
}

/// Where a `Secret` goes.
#[derive(Debug, Clone, Default)]
pub struct SecretMeta {
    /// `metadata.name` (required).
    pub name: Option<String>,
    /// `metadata.namespace` (omitted when `None`: kubectl's current one).
    pub namespace: Option<String>,
}

fn dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    let ok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty()
        && b.len() <= 63
        && ok(&b[0])
        && ok(&b[b.len() - 1])
        && b.iter().all(|c| ok(c) || *c == b'-')
}

fn dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(dns_label)
}

/// Checks the flags of `format` (before anything is decrypted).
pub fn check(format: ExportFormat, meta: &SecretMeta) -> Result<(), ExportError> {
    if format != ExportFormat::K8sSecret {
        return Ok(());
    }
    let name = meta.name.as_deref().ok_or(ExportError::NoName)?;
    if !dns_subdomain(name) {
        return Err(ExportError::BadName(name.to_owned()));
    }
    match &meta.namespace {
        Some(ns) if !dns_label(ns) => Err(ExportError::BadNamespace(ns.clone())),
        _ => Ok(()),
    }
}

/// Renders `vars` in `format`. The text is secret: print it, never log it.
pub fn render(
    vars: &[Var],
    format: ExportFormat,
    meta: &SecretMeta,
) -> Result<Zeroizing<String>, ExportError> {
    // SECURITY: reserve generously up front so the buffer is unlikely to be
    // reallocated (which would leave an unwiped copy behind).
    let size: usize = vars
        .iter()
        .map(|v| v.name.len() + 2 * v.value.len() + 16)
        .sum();
    let mut out = Zeroizing::new(String::with_capacity(size * 2 + 256));
    match format {
        ExportFormat::Dotenv => {
            // Checked first, so that nothing is half-rendered.
            if let Some(v) = vars.iter().find(|v| v.value.expose().ends_with('\\')) {
                return Err(ExportError::TrailingBackslash {
                    name: v.name.clone(),
                    path: v.path.clone(),
                });
            }
            for v in vars {
                out.push_str(&v.name);
                out.push('=');
                dotenv_quote(v.value.expose(), &mut out);
                out.push('\n');
            }
        }
        ExportFormat::Shell => {
            for v in vars {
                out.push_str("export ");
                out.push_str(&v.name);
                out.push('=');
                shell_quote(v.value.expose(), &mut out);
                out.push('\n');
            }
        }
        ExportFormat::Json => {
            if vars.is_empty() {
                out.push_str("{}\n");
            } else {
                out.push_str("{\n");
                for (i, v) in vars.iter().enumerate() {
                    out.push_str("  ");
                    json_quote(&v.name, &mut out);
                    out.push_str(": ");
                    json_quote(v.value.expose(), &mut out);
                    out.push_str(if i + 1 < vars.len() { ",\n" } else { "\n" });
                }
                out.push_str("}\n");
            }
        }
        ExportFormat::K8sSecret => {
            check(format, meta)?;
            let name = meta.name.as_deref().ok_or(ExportError::NoName)?;
            out.push_str("apiVersion: v1\nkind: Secret\nmetadata:\n  name: \"");
            out.push_str(name);
            out.push_str("\"\n");
            if let Some(ns) = &meta.namespace {
                out.push_str("  namespace: \"");
                out.push_str(ns);
                out.push_str("\"\n");
            }
            out.push_str("type: Opaque\ndata:");
            if vars.is_empty() {
                out.push_str(" {}\n");
            } else {
                out.push('\n');
                let b64 = base64::engine::general_purpose::STANDARD;
                for v in vars {
                    out.push_str("  \"");
                    out.push_str(&v.name);
                    out.push_str("\": \"");
                    b64.encode_string(v.value.expose().as_bytes(), &mut out);
                    out.push_str("\"\n");
                }
            }
        }
    }
    Ok(out)
}

/// Appends `value` as a double-quoted dotenv value (docker compose rules).
pub fn dotenv_quote(value: &str, out: &mut String) {
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '$' => out.push_str("\\$"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends `value` single-quoted for a POSIX shell.
pub fn shell_quote(value: &str, out: &mut String) {
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
}

/// Appends `value` as a JSON string.
fn json_quote(value: &str, out: &mut String) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            // U+2028/2029 are valid JSON but break JavaScript embedding.
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::KeyPath;
    use crate::secret::SecretText;

    const HOSTILE: &[&str] = &[
        "",
        "plain",
        "it's \"quoted\"",
        "$(touch /tmp/pwned) `id` ${HOME} $HOME $$",
        "back\\slash\\n not a newline\\ ",
        "line1\nline2\n",
        "cr\r\nlf",
        "# not a comment",
        "tab\there",
        "unicode: clé 日本 🔑 \u{2028}",
        "'",
        "''\\'",
        " leading and trailing ",
        "a=b",
    ];

    fn vars(values: &[&str]) -> Vec<Var> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Var {
                name: format!("K{i}"),
                path: KeyPath::root(),
                source: 0,
                replaced_earlier: false,
                value: SecretText::from_str(v),
                encrypted: true,
                as_file: false,
            })
            .collect()
    }

    /// A reader following docker compose's (compose-go) rules for
    /// double-quoted values: escapes `\\ \" \$ \n \r` (others kept),
    /// no interpolation left after `\$`.
    fn compose_read(line: &str) -> (String, String) {
        let (name, rest) = line.split_once('=').unwrap();
        let inner = rest.strip_prefix('"').unwrap().strip_suffix('"').unwrap();
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next().unwrap() {
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    c @ ('\\' | '"' | '$') => out.push(c),
                    other => panic!("unexpected escape \\{other}"),
                },
                '"' => panic!("unescaped quote inside"),
                '$' => panic!("unescaped $ would be interpolated"),
                c => out.push(c),
            }
        }
        (name.to_owned(), out)
    }

    #[test]
    fn dotenv_round_trips_by_compose_rules() {
        let text = render(&vars(HOSTILE), ExportFormat::Dotenv, &SecretMeta::default()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), HOSTILE.len(), "one line per variable");
        for (i, line) in lines.iter().enumerate() {
            assert_eq!(compose_read(line), (format!("K{i}"), HOSTILE[i].to_owned()));
        }
        assert_eq!(
            &*render(
                &vars(&["a\"$\\\nb"]),
                ExportFormat::Dotenv,
                &SecretMeta::default()
            )
            .unwrap(),
            "K0=\"a\\\"\\$\\\\\\nb\"\n"
        );
    }

    #[test]
    fn dotenv_refuses_a_trailing_backslash() {
        let mut v = vars(&["ok", "bad\\"]);
        v[1].path = KeyPath::parse("a.b").unwrap();
        let err = render(&v, ExportFormat::Dotenv, &SecretMeta::default())
            .err()
            .unwrap();
        assert!(err
            .to_string()
            .starts_with("the value of K1 (a.b) ends with a backslash"));
        assert!(render(&v, ExportFormat::Shell, &SecretMeta::default()).is_ok());
    }

    #[test]
    fn shell_quoting_is_exact() {
        let text = render(
            &vars(&["it's"]),
            ExportFormat::Shell,
            &SecretMeta::default(),
        )
        .unwrap();
        assert_eq!(&*text, "export K0='it'\\''s'\n");
    }

    #[test]
    fn json_parses_back() {
        let text = render(&vars(HOSTILE), ExportFormat::Json, &SecretMeta::default()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let obj = v.as_object().unwrap();
        assert_eq!(obj.len(), HOSTILE.len());
        for (i, h) in HOSTILE.iter().enumerate() {
            assert_eq!(obj[&format!("K{i}")], *h);
        }
        assert_eq!(
            &*render(&[], ExportFormat::Json, &SecretMeta::default()).unwrap(),
            "{}\n"
        );
    }

    #[test]
    fn k8s_secret_shape_and_names() {
        let meta = SecretMeta {
            name: Some("bot-secrets".into()),
            namespace: Some("bots".into()),
        };
        let text = render(&vars(&["1234", "x"]), ExportFormat::K8sSecret, &meta).unwrap();
        assert_eq!(
            &*text,
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: \"bot-secrets\"\n  namespace: \"bots\"\ntype: Opaque\ndata:\n  \"K0\": \"MTIzNA==\"\n  \"K1\": \"eA==\"\n"
        );
        let none = SecretMeta {
            name: Some("a.b-c".into()),
            namespace: None,
        };
        let text = render(&[], ExportFormat::K8sSecret, &none).unwrap();
        assert!(
            text.ends_with("  name: \"a.b-c\"\ntype: Opaque\ndata: {}\n"),
            "{}",
            *text
        );
        let err = |name: &str, ns: Option<&str>| {
            render(
                &[],
                ExportFormat::K8sSecret,
                &SecretMeta {
                    name: Some(name.into()),
                    namespace: ns.map(Into::into),
                },
            )
            .err()
        };
        assert_eq!(err("Bad", None), Some(ExportError::BadName("Bad".into())));
        assert_eq!(err("-a", None), Some(ExportError::BadName("-a".into())));
        assert_eq!(err("a..b", None), Some(ExportError::BadName("a..b".into())));
        assert_eq!(
            err("ok", Some("a.b")),
            Some(ExportError::BadNamespace("a.b".into()))
        );
        assert_eq!(
            render(&[], ExportFormat::K8sSecret, &SecretMeta::default()).err(),
            Some(ExportError::NoName)
        );
    }
}
