//! Secrets as environment variables: the names a file's key paths become,
//! the merge of several files, `--only` / `--prefix` selection, and the
//! environment a command is started with. Shared by `exec` and `export`.
//!
//! Naming rules (docs/exec.md is the user-facing copy):
//! - the path's segments are joined with `_`: map keys as written, list
//!   items by their index (`bots: [{token: x}]` -> `BOTS_0_TOKEN`);
//! - ASCII letters are upper-cased, and every character outside
//!   `[A-Z0-9_]` becomes one `_` (`weather: {api-key: x}` ->
//!   `WEATHER_API_KEY`; `clé` -> `CL_`);
//! - `--prefix P` is prepended; a name that then starts with a digit gets a
//!   `_` in front (`0: x` -> `_0`, but with `--prefix APP_` -> `APP_0`);
//! - dotenv keys written `export NAME=...` are read as `NAME`, as dotenv
//!   loaders do;
//! - YAML merge keys are applied: `worker: {<<: *defaults, token: x}` gives
//!   `WORKER_REGION` and `WORKER_TOKEN` (a key written in the map wins over
//!   a merged one). Merged values come after the file's other values.
//!
//! Values: strings as they are (multi-line included; for dotenv files, what
//! a dotenv loader reads, see [`crate::format::dotenv::loader_value`]),
//! numbers and booleans as written, empty strings as empty variables; nulls,
//! comments and the metadata never become variables.
//!
//! Invariants:
//! - two different key paths giving the same name are an error naming both,
//!   whether they are in one file or in two; the *same* key path in a later
//!   file replaces the earlier value (later files win);
//! - every check (collisions, `--only`, NUL bytes, empty names) is done
//!   here, before the caller starts anything;
//! - errors carry names, key paths and file names, never values.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};

use crate::document::Opened;
use crate::format::{dotenv, FormatKind, ValueType};
use crate::path::{KeyPath, Segment};
use crate::secret::SecretText;

/// Errors turning files into variables.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExecError {
    /// Two key paths give the same variable name.
    #[error("two key paths give the variable {name}: {first} ({first_file}) and {second} ({second_file}); rename one of the keys")]
    Collision {
        /// The variable name.
        name: String,
        /// The first key path.
        first: KeyPath,
        /// Its file.
        first_file: String,
        /// The second key path.
        second: KeyPath,
        /// Its file.
        second_file: String,
    },
    /// A key path gives an empty name (an empty key at the top level).
    #[error("the key path {path} ({file}) gives an empty variable name; rename the key or pass --prefix")]
    EmptyName {
        /// The key path.
        path: KeyPath,
        /// Its file.
        file: String,
    },
    /// A value holds a NUL byte, which no environment variable can hold.
    #[error("the value at {path} ({file}) contains a NUL byte, which an environment variable cannot hold")]
    NulByte {
        /// The key path.
        path: KeyPath,
        /// Its file.
        file: String,
    },
    /// `--only` asked for keys that are not there.
    #[error("--only: {} not found in {} (give a variable name like WEATHER_API_KEY or a key path like weather.api_key)", quote_list(.missing), .files.join(", "))]
    Missing {
        /// What was asked for and not found.
        missing: Vec<String>,
        /// The files searched.
        files: Vec<String>,
    },
    /// `--prefix` is not usable in a variable name.
    #[error("--prefix {0:?}: use only letters, digits and _")]
    BadPrefix(String),
}

fn quote_list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One opened file, as a source of variables.
pub struct Source<'a> {
    /// How to name the file in messages.
    pub name: String,
    /// Its format (dotenv values are read the way dotenv loaders read them).
    pub format: FormatKind,
    /// The decrypted file (MAC already verified by [`crate::document::open`]).
    pub opened: &'a Opened,
}

/// A variable to set.
pub struct Var {
    /// The variable name (prefix included).
    pub name: String,
    /// The key path it comes from.
    pub path: KeyPath,
    /// Index of the file (in the sources given) it comes from.
    pub source: usize,
    /// Whether it replaced the same key path of an earlier file.
    pub replaced_earlier: bool,
    /// The value.
    pub value: SecretText,
}

/// What to take from the files.
#[derive(Debug, Default, Clone)]
pub struct Selection {
    /// Variable names or key paths to keep (all when empty). A key path
    /// keeps everything under it (`weather` keeps `weather.api_key`).
    pub only: Vec<String>,
    /// Prepended to every name.
    pub prefix: String,
}

/// The flattened name of a key path, before any prefix (no leading-digit
/// rule; see [`env_name`]).
fn flatten(path: &KeyPath) -> String {
    let mut out = String::new();
    for (i, seg) in path.segments().iter().enumerate() {
        if i > 0 {
            out.push('_');
        }
        match seg {
            Segment::Key(k) => out.extend(k.chars().map(|c| {
                let c = c.to_ascii_uppercase();
                if c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' {
                    c
                } else {
                    '_'
                }
            })),
            Segment::Index(n) => out.push_str(&n.to_string()),
        }
    }
    out
}

/// The variable name of a key path with `prefix` (see the module docs).
pub fn env_name(path: &KeyPath, prefix: &str) -> String {
    let name = format!("{prefix}{}", flatten(path));
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name
    }
}

/// Checks a `--prefix`.
pub fn check_prefix(prefix: &str) -> Result<(), ExecError> {
    if prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        Ok(())
    } else {
        Err(ExecError::BadPrefix(prefix.to_owned()))
    }
}

/// dotenv: `export NAME` is the key `NAME`, as dotenv loaders read it;
/// and a byte order mark before the first key is not part of its name.
fn normalize_path(path: KeyPath, format: FormatKind) -> KeyPath {
    // COMPAT(sops): sops' dotenv reader keeps a leading U+FEFF in the first
    // key (its AAD has it, so the key path must too); a program still wants
    // `K`, not `_K`.
    let path = match path.segments() {
        [Segment::Key(k), rest @ ..] if k.starts_with('\u{feff}') => {
            let mut segs = vec![Segment::Key(k.trim_start_matches('\u{feff}').to_owned())];
            segs.extend(rest.iter().cloned());
            KeyPath::from_segments(segs)
        }
        _ => path,
    };
    if format != FormatKind::Dotenv {
        return path;
    }
    match path.segments() {
        [Segment::Key(k)] => match k.strip_prefix("export") {
            Some(rest) if rest.starts_with([' ', '\t']) => {
                KeyPath::from_segments(vec![Segment::Key(rest.trim_start().to_owned())])
            }
            _ => path,
        },
        _ => path,
    }
}

/// A YAML merge key (`<<: *defaults`, `<<: [*a, *b]`) in a path: the
/// segment, and the index after it for a list of merges.
fn strip_merge_keys(path: &KeyPath) -> Option<KeyPath> {
    let segs = path.segments();
    if !segs
        .iter()
        .any(|s| matches!(s, Segment::Key(k) if k == "<<"))
    {
        return None;
    }
    let mut out = Vec::with_capacity(segs.len());
    let mut i = 0;
    while i < segs.len() {
        if matches!(&segs[i], Segment::Key(k) if k == "<<") {
            i += 1;
            if matches!(segs.get(i), Some(Segment::Index(_))) {
                i += 1;
            }
            continue;
        }
        out.push(segs[i].clone());
        i += 1;
    }
    Some(KeyPath::from_segments(out))
}

/// A file's values with their normalized paths: dotenv `export` dropped,
/// YAML merge keys applied (a key written in the map wins over a merged
/// one; among merges, the first wins, as the YAML merge spec says).
fn leaves<'a>(source: &Source<'a>) -> Vec<(KeyPath, ValueType, &'a SecretText)> {
    let values = source.opened.values();
    if source.format != FormatKind::Yaml {
        return values
            .into_iter()
            .map(|(p, ty, t)| (normalize_path(p, source.format), ty, t))
            .collect();
    }
    let mut out: Vec<(KeyPath, ValueType, &SecretText)> = Vec::with_capacity(values.len());
    let mut merged: Vec<(KeyPath, ValueType, &SecretText)> = Vec::new();
    for (path, ty, text) in values {
        match strip_merge_keys(&path) {
            Some(p) => merged.push((p, ty, text)),
            None => out.push((path, ty, text)),
        }
    }
    for m in merged {
        if !out.iter().any(|(p, _, _)| *p == m.0) {
            out.push(m);
        }
    }
    out
}

/// The value a program sees for a leaf.
fn env_value(format: FormatKind, ty: ValueType, text: &SecretText) -> SecretText {
    if format == FormatKind::Dotenv && ty == ValueType::Str {
        SecretText::new(dotenv::loader_value(text.expose()))
    } else {
        text.duplicate()
    }
}

/// The variables of `sources`, merged in order, selected and named; every
/// error is found before anything is started.
pub fn variables(sources: &[Source<'_>], selection: &Selection) -> Result<Vec<Var>, ExecError> {
    check_prefix(&selection.prefix)?;
    let mut vars: Vec<Var> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for (index, source) in sources.iter().enumerate() {
        for (path, ty, text) in leaves(source) {
            let name = env_name(&path, &selection.prefix);
            if name.is_empty() {
                return Err(ExecError::EmptyName {
                    path,
                    file: source.name.clone(),
                });
            }
            let value = env_value(source.format, ty, text);
            match by_name.get(&name) {
                Some(&at) if vars[at].path == path && vars[at].source != index => {
                    // Later files win for the same key path.
                    vars[at].value = value;
                    vars[at].source = index;
                    vars[at].replaced_earlier = true;
                }
                Some(&at) => {
                    return Err(ExecError::Collision {
                        name,
                        first: vars[at].path.clone(),
                        first_file: sources[vars[at].source].name.clone(),
                        second: path,
                        second_file: source.name.clone(),
                    });
                }
                None => {
                    by_name.insert(name.clone(), vars.len());
                    vars.push(Var {
                        name,
                        path,
                        source: index,
                        replaced_earlier: false,
                        value,
                    });
                }
            }
        }
    }
    let vars = select(vars, sources, selection)?;
    for v in &vars {
        if v.value.expose().contains('\0') {
            return Err(ExecError::NulByte {
                path: v.path.clone(),
                file: sources[v.source].name.clone(),
            });
        }
    }
    Ok(vars)
}

/// Applies `--only`: each item is a variable name (with or without the
/// prefix) or a key path (which keeps its whole subtree).
fn select(
    vars: Vec<Var>,
    sources: &[Source<'_>],
    selection: &Selection,
) -> Result<Vec<Var>, ExecError> {
    if selection.only.is_empty() {
        return Ok(vars);
    }
    let wanted: Vec<(&str, Option<KeyPath>)> = selection
        .only
        .iter()
        .map(|item| (item.as_str(), KeyPath::parse(item).ok()))
        .collect();
    let matches = |item: &(&str, Option<KeyPath>), v: &Var| {
        v.name == item.0
            || (!selection.prefix.is_empty() && env_name(&v.path, "") == item.0)
            || item.1.as_ref().is_some_and(|p| v.path.starts_with(p))
    };
    let missing: Vec<String> = wanted
        .iter()
        .filter(|item| !vars.iter().any(|v| matches(item, v)))
        .map(|item| item.0.to_owned())
        .collect();
    if !missing.is_empty() {
        return Err(ExecError::Missing {
            missing,
            files: sources.iter().map(|s| s.name.clone()).collect(),
        });
    }
    Ok(vars
        .into_iter()
        .filter(|v| wanted.iter().any(|item| matches(item, v)))
        .collect())
}

/// The environment a command is started with.
pub struct Environment {
    /// Every variable, inherited ones first, then the secrets in order.
    ///
    /// SECURITY: these are plain `OsString`s (what `execve` takes), not
    /// zeroizing buffers; they live only until the process image is
    /// replaced.
    pub vars: Vec<(OsString, OsString)>,
    /// Names of inherited variables that a secret replaced (for
    /// `--verbose`; names only).
    pub overridden: Vec<String>,
}

/// The inherited variable that `--pristine` keeps, so the command (and
/// whatever it starts, `#!/usr/bin/env python3` included) is found as usual.
pub const PRISTINE_KEEPS: &[&str] = &["PATH"];

/// Builds the command's environment: `inherited` (only [`PRISTINE_KEEPS`]
/// of it when `pristine`), with the secrets set over it.
pub fn environment(
    inherited: impl IntoIterator<Item = (OsString, OsString)>,
    vars: &[Var],
    pristine: bool,
) -> Environment {
    let secret_names: HashMap<&OsStr, ()> =
        vars.iter().map(|v| (OsStr::new(&v.name), ())).collect();
    let mut out = Vec::new();
    let mut overridden = Vec::new();
    for (name, value) in inherited {
        if pristine && !PRISTINE_KEEPS.iter().any(|k| OsStr::new(k) == name) {
            continue;
        }
        if secret_names.contains_key(name.as_os_str()) {
            overridden.push(name.to_string_lossy().into_owned());
            continue;
        }
        out.push((name, value));
    }
    for v in vars {
        out.push((
            OsString::from(&v.name),
            OsString::from(v.value.expose().to_owned()),
        ));
    }
    Environment {
        vars: out,
        overridden,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{self, EncryptOptions};
    use crate::keys::{self, Identity, Recipient};
    use crate::metadata::Selection as Rule;

    fn p(s: &str) -> KeyPath {
        KeyPath::parse(s).unwrap()
    }

    #[test]
    fn names_follow_the_rules() {
        assert_eq!(env_name(&p("weather.api-key"), ""), "WEATHER_API_KEY");
        assert_eq!(env_name(&p("bots[0].token"), ""), "BOTS_0_TOKEN");
        assert_eq!(env_name(&p("0"), ""), "_0");
        assert_eq!(env_name(&p("9lives.x"), ""), "_9LIVES_X");
        assert_eq!(env_name(&p("0"), "APP_"), "APP_0");
        assert_eq!(env_name(&p("a.b"), "app_"), "app_A_B");
        assert_eq!(env_name(&p("clé.x y"), ""), "CL__X_Y");
        assert_eq!(env_name(&p(r#"["a.b"]"#), ""), "A_B");
        assert_eq!(env_name(&p("a[1][2]"), ""), "A_1_2");
        assert_eq!(env_name(&p("日本"), ""), "__");
    }

    #[test]
    fn prefix_is_checked() {
        assert!(check_prefix("APP_1").is_ok());
        assert!(check_prefix("").is_ok());
        assert_eq!(check_prefix("A=B"), Err(ExecError::BadPrefix("A=B".into())));
        assert!(check_prefix("A-B").is_err());
    }

    fn key() -> (Identity, Recipient) {
        let (secret, recipient) = keys::generate_x25519();
        use age::secrecy::ExposeSecret;
        let ids = keys::parse_identities(secret.expose_secret(), "test").unwrap();
        let r = Recipient::parse_list(&recipient).unwrap().remove(0);
        (ids.into_iter().next().unwrap(), r)
    }

    fn opened(text: &str, kind: FormatKind) -> Opened {
        let (id, r) = key();
        let enc = document::encrypt(
            text,
            kind,
            &EncryptOptions {
                recipients: &[r],
                selection: Rule::default(),
                mac_only_encrypted: false,
                expand_aliases: false,
                now: "2024-01-01T00:00:00Z".into(),
            },
        )
        .unwrap();
        document::open(&enc.text, kind, &[id], false).unwrap()
    }

    fn pairs(vars: &[Var]) -> Vec<(String, String)> {
        vars.iter()
            .map(|v| (v.name.clone(), v.value.expose().to_owned()))
            .collect()
    }

    fn src<'a>(name: &str, kind: FormatKind, o: &'a Opened) -> Source<'a> {
        Source {
            name: name.into(),
            format: kind,
            opened: o,
        }
    }

    #[test]
    fn flattens_values_of_every_type_and_skips_nulls() {
        let o = opened(
            r#"{"weather": {"api-key": "k"}, "bots": [{"token": "t0"}, {"token": "t1"}],
                "port": 8080, "ratio": 0.5, "on": true, "none": null, "empty": "",
                "multi": "a\nb"}"#,
            FormatKind::Json,
        );
        let vars = variables(
            &[src("s.json", FormatKind::Json, &o)],
            &Selection::default(),
        )
        .unwrap();
        assert_eq!(
            pairs(&vars),
            [
                ("WEATHER_API_KEY", "k"),
                ("BOTS_0_TOKEN", "t0"),
                ("BOTS_1_TOKEN", "t1"),
                ("PORT", "8080"),
                ("RATIO", "0.5"),
                ("ON", "true"),
                ("EMPTY", ""),
                ("MULTI", "a\nb"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
    }

    #[test]
    fn dotenv_values_are_what_a_loader_reads() {
        let o = opened(
            "A=\"x y\"\nexport B='q'\nC=plain # note\n",
            FormatKind::Dotenv,
        );
        let vars = variables(
            &[src(".env", FormatKind::Dotenv, &o)],
            &Selection::default(),
        )
        .unwrap();
        assert_eq!(
            pairs(&vars),
            [("A", "x y"), ("B", "q"), ("C", "plain")].map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
    }

    #[test]
    fn yaml_merge_keys_are_applied() {
        assert_eq!(strip_merge_keys(&p("w.<<.region")), Some(p("w.region")));
        assert_eq!(strip_merge_keys(&p("w.<<[1].r")), Some(p("w.r")));
        assert_eq!(strip_merge_keys(&p("w.r")), None);
    }

    #[test]
    fn collisions_name_both_paths() {
        let o = opened(r#"{"a": {"b": "1"}, "a_b": "2"}"#, FormatKind::Json);
        let err = variables(
            &[src("s.json", FormatKind::Json, &o)],
            &Selection::default(),
        )
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "two key paths give the variable A_B: a.b (s.json) and a_b (s.json); rename one of the keys"
        );
    }

    #[test]
    fn later_files_win_for_the_same_path_and_collide_otherwise() {
        let a = opened(r#"{"token": "old", "x": {"y": "1"}}"#, FormatKind::Json);
        let b = opened("token=\"new\"\n", FormatKind::Dotenv);
        let vars = variables(
            &[
                src("a.json", FormatKind::Json, &a),
                src("b.env", FormatKind::Dotenv, &b),
            ],
            &Selection::default(),
        )
        .unwrap();
        assert_eq!(
            pairs(&vars),
            [("TOKEN", "new"), ("X_Y", "1")].map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        assert!(vars[0].replaced_earlier && vars[0].source == 1);

        let c = opened("X_Y=2\n", FormatKind::Dotenv);
        let err = variables(
            &[
                src("a.json", FormatKind::Json, &a),
                src("c.env", FormatKind::Dotenv, &c),
            ],
            &Selection::default(),
        )
        .err()
        .unwrap();
        assert!(matches!(err, ExecError::Collision { .. }));
        assert_eq!(
            err.to_string(),
            "two key paths give the variable X_Y: x.y (a.json) and X_Y (c.env); rename one of the keys"
        );
    }

    #[test]
    fn only_takes_names_and_paths_and_reports_missing() {
        let o = opened(
            r#"{"weather": {"api_key": "w", "url": "u"}, "db": {"pass": "p"}, "other": "o"}"#,
            FormatKind::Json,
        );
        let s = [src("s.json", FormatKind::Json, &o)];
        let sel = |only: &[&str], prefix: &str| Selection {
            only: only.iter().map(|s| s.to_string()).collect(),
            prefix: prefix.into(),
        };
        let names = |v: Vec<Var>| v.into_iter().map(|v| v.name).collect::<Vec<_>>();
        assert_eq!(
            names(variables(&s, &sel(&["weather", "DB_PASS"], "")).unwrap()),
            ["WEATHER_API_KEY", "WEATHER_URL", "DB_PASS"]
        );
        assert_eq!(
            names(variables(&s, &sel(&["db.pass", "BOT_OTHER", "WEATHER_URL"], "BOT_")).unwrap()),
            ["BOT_WEATHER_URL", "BOT_DB_PASS", "BOT_OTHER"]
        );
        let err = variables(&s, &sel(&["nope", "weather.x", "other"], ""))
            .err()
            .unwrap();
        assert_eq!(
            err,
            ExecError::Missing {
                missing: vec!["nope".into(), "weather.x".into()],
                files: vec!["s.json".into()]
            }
        );
    }

    #[test]
    fn nul_bytes_and_empty_names_are_errors_without_values() {
        let o = opened(r#"{"k": "se\u0000cret"}"#, FormatKind::Json);
        let err = variables(
            &[src("s.json", FormatKind::Json, &o)],
            &Selection::default(),
        )
        .err()
        .unwrap();
        assert!(matches!(err, ExecError::NulByte { .. }));
        assert!(!err.to_string().contains("se"), "{err}");
        let o = opened(r#"{"": "x"}"#, FormatKind::Json);
        let err = variables(
            &[src("s.json", FormatKind::Json, &o)],
            &Selection::default(),
        )
        .err()
        .unwrap();
        assert!(matches!(err, ExecError::EmptyName { .. }));
        let ok = variables(
            &[src("s.json", FormatKind::Json, &o)],
            &Selection {
                prefix: "P".into(),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(ok[0].name, "P");
    }

    #[test]
    fn environment_overrides_and_pristine() {
        let o = opened(r#"{"home": "h", "token": "t"}"#, FormatKind::Json);
        let vars = variables(
            &[src("s.json", FormatKind::Json, &o)],
            &Selection::default(),
        )
        .unwrap();
        let inherited = || {
            [("PATH", "/bin"), ("HOME", "/root"), ("LANG", "C")]
                .map(|(a, b)| (OsString::from(a), OsString::from(b)))
        };
        let env = environment(inherited(), &vars, false);
        let flat: Vec<(String, String)> = env
            .vars
            .iter()
            .map(|(a, b)| (a.to_str().unwrap().into(), b.to_str().unwrap().into()))
            .collect();
        assert_eq!(
            flat,
            [
                ("PATH", "/bin"),
                ("LANG", "C"),
                ("HOME", "h"),
                ("TOKEN", "t")
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        assert_eq!(env.overridden, ["HOME"]);
        let env = environment(inherited(), &vars, true);
        let names: Vec<&OsStr> = env.vars.iter().map(|(a, _)| a.as_os_str()).collect();
        assert_eq!(names, ["PATH", "HOME", "TOKEN"]);
        // Under --pristine only PATH was inherited; HOME was not, so it is
        // not reported as overridden.
        assert!(env.overridden.is_empty());
    }
}
