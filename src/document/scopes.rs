//! Access scopes (docs/format.md "Scopes", docs/rules.md "Scopes"): some of
//! a file's values stored once more, as ONE AEAD blob under the scope's own
//! data key, wrapped only to the scope's readers, in the metadata field
//! `botsecrets_scopes`. The file stays an ordinary sops file for its owners.
//!
//! Invariants:
//! - the blob's additional data binds the scope's name and paths, so values
//!   cannot move between scopes; the owners' seal covers each scope's name,
//!   paths, readers and digests of its stored key and blob;
//! - a scope reader never needs the file's data key: opening as a reader
//!   unwraps only the scope's key and decrypts only its blob;
//! - owners' writes keep every scope in step: a scope's stored key, stanzas
//!   and blob stay byte-identical unless its values, paths or readers
//!   change; removing a reader (or rotating the file's data key) gives the
//!   scope a new data key.

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::*;
use crate::crypto::{DataKey, EncryptedValue, TypeTag};
use crate::format::{LeafKind, ParsedFile, ValueType};
use crate::keys::{self, Identity, Recipient};
use crate::metadata::{AgeStanza, KeyGroup, Metadata, ScopeEntry};
use crate::path::{KeyPath, Segment};
use crate::secret::SecretText;

/// A scope as a rule asks for it: who reads which key paths.
#[derive(Clone, Debug)]
pub struct ScopeSpec {
    /// The scope's name.
    pub name: String,
    /// Its readers (recipients).
    pub readers: Vec<Recipient>,
    /// Its key paths (a path may name a subtree).
    pub paths: Vec<KeyPath>,
}

impl ScopeSpec {
    /// The scope as a file stores it (readers and paths as text), for
    /// comparing a file with its rule.
    fn reader_strings(&self) -> Vec<String> {
        self.readers.iter().map(|r| r.to_string()).collect()
    }

    fn path_strings(&self) -> Vec<String> {
        self.paths.iter().map(|p| p.to_string()).collect()
    }
}

/// Who reads one scope of a file, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeReaders {
    /// The scope's name.
    pub name: String,
    /// Its readers, as recipient strings (or `name (age1...)` once a caller
    /// named them, see [`DocumentError::name_readers`]).
    pub readers: Vec<String>,
}

impl std::fmt::Display for ScopeReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (read by {})", self.name, self.readers.join(", "))
    }
}

/// The scopes of a file, for messages.
pub(super) fn scope_readers(meta: &Metadata) -> Vec<ScopeReaders> {
    meta.scopes
        .iter()
        .map(|s| ScopeReaders {
            name: s.name.clone(),
            readers: s.recipients.iter().map(|r| r.recipient.clone()).collect(),
        })
        .collect()
}

/// How a file's scopes differ from what its rule asks for (no key needed:
/// names, readers and paths are public metadata).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScopeDrift {
    /// The rule has scopes and the file has none at all: sops (or another
    /// tool) rewrote it and dropped them.
    Dropped,
    /// The rule has this scope, the file does not.
    Missing(String),
    /// The file has this scope, the rule does not.
    Extra(String),
    /// The scope's readers differ: (scope, added by the rule, removed by it).
    Readers(String, Vec<String>, Vec<String>),
    /// The scope's paths differ: (scope, added by the rule, removed by it).
    Paths(String, Vec<String>, Vec<String>),
}

impl std::fmt::Display for ScopeDrift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let both = |f: &mut std::fmt::Formatter<'_>, what: &str, add: &[String], rm: &[String]| {
            let mut parts = Vec::new();
            if !add.is_empty() {
                parts.push(format!("missing from the file: {}", add.join(", ")));
            }
            if !rm.is_empty() {
                parts.push(format!("not in the rule: {}", rm.join(", ")));
            }
            write!(f, "{what} {}", parts.join("; "))
        };
        match self {
            ScopeDrift::Dropped => f.write_str(
                "scopes dropped by another tool (sops rewrote the file): its rule has scopes, the file has none",
            ),
            ScopeDrift::Missing(n) => write!(f, "scope {n} is in the rule but not in the file"),
            ScopeDrift::Extra(n) => write!(f, "scope {n} is in the file but not in the rule"),
            ScopeDrift::Readers(n, add, rm) => both(f, &format!("scope {n} readers"), add, rm),
            ScopeDrift::Paths(n, add, rm) => both(f, &format!("scope {n} paths"), add, rm),
        }
    }
}

impl ScopeDrift {
    /// The same drift with each reader shown by `show` (a name where the
    /// rules give one: `worker-2 (age1...)`).
    pub fn readers_shown(self, show: impl Fn(&str) -> String) -> Self {
        match self {
            ScopeDrift::Readers(n, add, rm) => ScopeDrift::Readers(
                n,
                add.iter().map(|r| show(r)).collect(),
                rm.iter().map(|r| show(r)).collect(),
            ),
            d => d,
        }
    }
}

/// How `meta`'s scopes differ from `specs` (a rule's scopes).
pub fn scope_drift(meta: &Metadata, specs: &[ScopeSpec]) -> Vec<ScopeDrift> {
    let mut out = Vec::new();
    if meta.scopes.is_empty() && !specs.is_empty() {
        return vec![ScopeDrift::Dropped];
    }
    let diff = |want: &[String], have: &[String], same: &dyn Fn(&str, &str) -> bool| {
        let add: Vec<String> = want
            .iter()
            .filter(|w| !have.iter().any(|h| same(w, h)))
            .cloned()
            .collect();
        let rm: Vec<String> = have
            .iter()
            .filter(|h| !want.iter().any(|w| same(w, h)))
            .cloned()
            .collect();
        (add, rm)
    };
    for spec in specs {
        let Some(entry) = meta.scopes.iter().find(|s| s.name == spec.name) else {
            out.push(ScopeDrift::Missing(spec.name.clone()));
            continue;
        };
        let have: Vec<String> = entry
            .recipients
            .iter()
            .map(|r| r.recipient.clone())
            .collect();
        let (add, rm) = diff(&spec.reader_strings(), &have, &keys::same_recipient);
        if !add.is_empty() || !rm.is_empty() {
            out.push(ScopeDrift::Readers(spec.name.clone(), add, rm));
        }
        let (add, rm) = diff(&spec.path_strings(), &entry.paths, &|a, b| a == b);
        if !add.is_empty() || !rm.is_empty() {
            out.push(ScopeDrift::Paths(spec.name.clone(), add, rm));
        }
    }
    for entry in &meta.scopes {
        if !specs.iter().any(|s| s.name == entry.name) {
            out.push(ScopeDrift::Extra(entry.name.clone()));
        }
    }
    out
}

/// A scope and the readers taken out of it.
pub type ScopeRevoked = (String, Vec<String>);

/// The file's scopes as specs with `removed` taken out of every scope's
/// readers, and per scope the readers taken out (`recipients remove` of a
/// scope reader). Scopes keep their order; a scope left without readers
/// keeps none (its values stay readable by the owners only).
pub fn specs_without(
    meta: &Metadata,
    removed: &[String],
) -> Result<(Vec<ScopeSpec>, Vec<ScopeRevoked>), DocumentError> {
    let mut specs = specs_of(meta)?;
    let mut out = Vec::new();
    for spec in &mut specs {
        let mut gone = Vec::new();
        spec.readers.retain(|r| {
            let text = r.to_string();
            let drop = removed.iter().any(|x| keys::same_recipient(x, &text));
            if drop {
                gone.push(text);
            }
            !drop
        });
        if !gone.is_empty() {
            out.push((spec.name.clone(), gone));
        }
    }
    Ok((specs, out))
}

/// Whether `recipient` reads a scope of `meta`.
pub fn is_scope_reader(meta: &Metadata, recipient: &str) -> bool {
    meta.scopes.iter().any(|s| {
        s.recipients
            .iter()
            .any(|r| keys::same_recipient(&r.recipient, recipient))
    })
}

/// The file's own scopes as specs (what an owner's write keeps).
pub(super) fn specs_of(meta: &Metadata) -> Result<Vec<ScopeSpec>, DocumentError> {
    meta.scopes
        .iter()
        .map(|s| {
            let paths = s
                .paths
                .iter()
                .map(|p| {
                    KeyPath::parse(p).map_err(|_| {
                        DocumentError::Metadata(crate::metadata::MetadataError::Invalid {
                            field: crate::metadata::SCOPES_FIELD.into(),
                            reason: format!("scope {} has a path that is not a key path", s.name),
                        })
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let readers = s
                .recipients
                .iter()
                .map(|r| Recipient::parse(&r.recipient))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ScopeSpec {
                name: s.name.clone(),
                readers,
                paths,
            })
        })
        .collect()
}

/// The additional data of a scope's blob: its name and paths, length
/// prefixed (a JSON array of strings is unambiguous).
fn blob_aad(name: &str, paths: &[String]) -> String {
    let mut parts = vec!["botsecrets scope 1".to_owned(), name.to_owned()];
    parts.extend(paths.iter().cloned());
    serde_json::to_string(&parts).unwrap_or_default()
}

/// The additional data of a scope's key stored under the file's data key.
fn key_aad(name: &str) -> String {
    serde_json::to_string(&["botsecrets scope key 1", name]).unwrap_or_default()
}

/// A scope's stored state as an owner recovers it with the file's data key.
pub(super) struct OldScope {
    pub(super) entry: ScopeEntry,
    /// The scope's data key (None: it did not decrypt).
    key: Option<DataKey>,
    /// The blob's plaintext (None: it did not decrypt).
    plain: Option<Zeroizing<Vec<u8>>>,
}

impl OldScope {
    /// A copy (the key and plaintext copied into new zeroizing storage).
    pub(super) fn duplicate(&self) -> Self {
        Self {
            entry: self.entry.clone(),
            key: self
                .key
                .as_ref()
                .and_then(|k| DataKey::from_slice(k.expose())),
            plain: self.plain.as_ref().map(|p| Zeroizing::new(p.to_vec())),
        }
    }

    /// Whether its blob's plaintext is `plain`.
    fn holds(&self, plain: &[u8]) -> bool {
        self.plain
            .as_ref()
            .is_some_and(|p| bool::from(p.as_slice().ct_eq(plain)))
    }
}

/// Recovers each stored scope's key and blob plaintext with the file's
/// data key `main`.
pub(super) fn recover(meta: &Metadata, main: &DataKey) -> Vec<OldScope> {
    meta.scopes
        .iter()
        .map(|entry| {
            let key = EncryptedValue::parse(&entry.key)
                .and_then(|v| v.decrypt(main, &key_aad(&entry.name)))
                .ok()
                .and_then(|b| DataKey::from_slice(&b));
            let plain = key.as_ref().and_then(|k| {
                EncryptedValue::parse(&entry.blob)
                    .and_then(|v| v.decrypt(k, &blob_aad(&entry.name, &entry.paths)))
                    .ok()
            });
            OldScope {
                entry: entry.clone(),
                key,
                plain,
            }
        })
        .collect()
}

/// Appends `s` as a JSON string.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn type_name(ty: ValueType) -> &'static str {
    crate::seal::value_type_tag(ty)
}

fn type_of(name: &str) -> Option<ValueType> {
    Some(match name {
        "str" => ValueType::Str,
        "int" => ValueType::Int,
        "float" => ValueType::Float,
        "bool" => ValueType::Bool,
        "time" => ValueType::Time,
        _ => return None,
    })
}

/// The leaves of plaintext `parsed` that `paths` take in (first document,
/// values and nulls, aliases expanded), as (path, leaf index).
fn members(parsed: &ParsedFile, paths: &[KeyPath]) -> Vec<(KeyPath, usize)> {
    parsed
        .values_in_order()
        .into_iter()
        .filter(|(p, i)| {
            let leaf = &parsed.leaves[*i];
            leaf.document == 0
                && leaf.kind != LeafKind::Comment
                && paths.iter().any(|s| p.starts_with(s))
        })
        .map(|(p, i)| (p.into_owned(), i))
        .collect()
}

/// Checks a scope's paths against the plaintext `parsed`: each names at
/// least one key of the data (never the metadata).
fn check_paths(parsed: &ParsedFile, spec: &ScopeSpec) -> Result<(), DocumentError> {
    for path in &spec.paths {
        let outside = path.is_root()
            || matches!(path.segments().first(), Some(Segment::Key(k)) if k == "sops");
        if outside {
            return Err(DocumentError::ScopePathOutside {
                scope: spec.name.clone(),
                path: path.clone(),
            });
        }
        let found =
            parsed.leaves.iter().any(|l| {
                l.document == 0 && l.kind != LeafKind::Comment && l.path.starts_with(path)
            }) || parsed
                .empties
                .iter()
                .any(|e| e.document == 0 && e.path.starts_with(path));
        if !found {
            return Err(DocumentError::ScopePathNoMatch {
                scope: spec.name.clone(),
                path: path.clone(),
            });
        }
    }
    Ok(())
}

/// The blob plaintext of a scope: `{"v":1,"values":[[segments, type,
/// text, encrypted], ...]}` in document order; nulls are left out.
fn blob_plaintext(parsed: &ParsedFile, selected: &[bool], spec: &ScopeSpec) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::from("{\"v\":1,\"values\":["));
    let mut first = true;
    for (path, i) in members(parsed, &spec.paths) {
        let leaf = &parsed.leaves[i];
        let LeafKind::Value(ty) = leaf.kind else {
            continue;
        };
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str("[[");
        for (n, seg) in path.segments().iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            match seg {
                Segment::Key(k) => push_json_str(&mut out, k),
                Segment::Index(x) => out.push_str(&x.to_string()),
            }
        }
        out.push_str("],\"");
        out.push_str(type_name(ty));
        out.push_str("\",");
        push_json_str(&mut out, leaf.value.expose());
        let encrypted = selected[i] && !leaf.value.is_empty();
        out.push_str(if encrypted { ",true]" } else { ",false]" });
    }
    out.push_str("]}");
    out
}

/// Computes the scopes to store for the plaintext `parsed` (whose leaves
/// `selected` says are encrypted) under the file's data key `main`.
///
/// Per scope of `specs`: its stored state in `old` is kept where it can be
/// (same readers' stanzas, same key field, same blob when its plaintext is
/// unchanged); a removed reader, or `rotate` (a new file data key), gives
/// the scope a new data key.
pub(super) fn build(
    parsed: &ParsedFile,
    selected: &[bool],
    main: &DataKey,
    specs: &[ScopeSpec],
    old: &[OldScope],
    rotate: bool,
) -> Result<Vec<ScopeEntry>, DocumentError> {
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        check_paths(parsed, spec)?;
        let paths = spec.path_strings();
        let readers = spec.reader_strings();
        let plain = blob_plaintext(parsed, selected, spec);
        // This file's own state comes first; another version's (a merge)
        // is used where its blob already holds exactly these values.
        let usable = |o: &&OldScope| o.entry.name == spec.name && !rotate && o.key.is_some();
        let prev = old
            .iter()
            .filter(usable)
            .find(|o| o.holds(plain.as_bytes()) && o.entry.paths == paths)
            .or_else(|| old.iter().find(usable));
        // SECURITY: a reader who is no longer in the scope knew its key:
        // anything written from now on is under a new one.
        let removed = prev.is_some_and(|o| {
            o.entry.recipients.iter().any(|s| {
                !readers
                    .iter()
                    .any(|r| keys::same_recipient(r, &s.recipient))
            })
        });
        let prev = prev.filter(|_| !removed);
        let (scope_key, key_field) = match prev {
            Some(o) => (
                DataKey::from_slice(o.key.as_ref().expect("filtered").expose()).expect("32 bytes"),
                o.entry.key.clone(),
            ),
            None => {
                let k = DataKey::generate();
                let field =
                    EncryptedValue::encrypt(main, k.expose(), TypeTag::Str, &key_aad(&spec.name))
                        .to_string();
                (k, field)
            }
        };
        let mut recipients = Vec::with_capacity(spec.readers.len());
        for r in &spec.readers {
            let kept = prev.and_then(|o| {
                o.entry
                    .recipients
                    .iter()
                    .find(|s| keys::same_recipient(&s.recipient, &r.to_string()))
            });
            match kept {
                Some(s) => recipients.push(s.clone()),
                None => {
                    let enc = keys::wrap_bytes(r, scope_key.expose()).map_err(|reason| {
                        keys::KeyError::Wrap {
                            recipient: r.to_string(),
                            reason,
                        }
                    })?;
                    recipients.push(AgeStanza {
                        recipient: r.to_string(),
                        enc,
                    });
                }
            }
        }
        let same_blob = prev
            .filter(|o| o.entry.paths == paths && o.holds(plain.as_bytes()))
            .map(|o| o.entry.blob.clone());
        let blob = match same_blob {
            Some(b) => b,
            None => EncryptedValue::encrypt(
                &scope_key,
                plain.as_bytes(),
                TypeTag::Str,
                &blob_aad(&spec.name, &paths),
            )
            .to_string(),
        };
        out.push(ScopeEntry {
            name: spec.name.clone(),
            paths,
            recipients,
            key: key_field,
            blob,
        });
    }
    Ok(out)
}

/// One value a scope reader sees.
pub(super) struct ScopeValue {
    pub(super) path: KeyPath,
    pub(super) ty: ValueType,
    pub(super) text: SecretText,
    pub(super) encrypted: bool,
}

/// What a scope reader opened: the scopes its identity reads, their paths,
/// and their values.
pub(super) struct ScopeView {
    pub(super) names: Vec<String>,
    pub(super) paths: Vec<KeyPath>,
    pub(super) values: Vec<ScopeValue>,
}

/// The values of a scope's blob plaintext, each checked to be inside the
/// scope's `paths`.
fn parse_blob(plain: &[u8], paths: &[KeyPath]) -> Result<Vec<ScopeValue>, &'static str> {
    let unreadable = "its values are not readable";
    let tree: serde_json::Value = serde_json::from_slice(plain).map_err(|_| unreadable)?;
    let items = tree
        .get("values")
        .and_then(|v| v.as_array())
        .ok_or(unreadable)?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let parse = || -> Option<ScopeValue> {
            let a = item.as_array()?;
            let segs = a.first()?.as_array()?;
            let mut path = KeyPath::root();
            for s in segs {
                match s {
                    serde_json::Value::String(k) => path.push_key(k.clone()),
                    serde_json::Value::Number(n) => {
                        path.push_index(usize::try_from(n.as_u64()?).ok()?)
                    }
                    _ => return None,
                }
            }
            let ty = type_of(a.get(1)?.as_str()?)?;
            let text = a.get(2)?.as_str()?;
            let encrypted = a.get(3)?.as_bool()?;
            Some(ScopeValue {
                path,
                ty,
                text: SecretText::from_str(text),
                encrypted,
            })
        };
        let value = parse().ok_or(unreadable)?;
        // SECURITY: the blob is authenticated for these paths; a value
        // outside them is refused, not shown.
        if !paths.iter().any(|p| value.path.starts_with(p)) {
            return Err("it holds a value outside its paths");
        }
        out.push(value);
    }
    Ok(out)
}

/// An owner's view of one scope: what its readers get, from its stored
/// blob (so an owner exports exactly what the scope's bot reads).
pub(super) fn owner_view(
    meta: &Metadata,
    main: &DataKey,
    name: &str,
) -> Result<ScopeView, DocumentError> {
    let Some(entry) = meta.scopes.iter().find(|s| s.name == name) else {
        return Err(DocumentError::UnknownScope {
            name: name.to_owned(),
            scopes: meta.scopes.iter().map(|s| s.name.clone()).collect(),
        });
    };
    let damaged = |reason: &'static str| DocumentError::ScopeDamaged {
        scope: entry.name.clone(),
        reason,
    };
    let old = recover(meta, main)
        .into_iter()
        .find(|o| o.entry.name == name)
        .ok_or(damaged("it is not stored"))?;
    let plain = old.plain.ok_or(damaged(
        "its values do not decrypt (the blob, name or paths were changed)",
    ))?;
    let paths = entry
        .paths
        .iter()
        .map(|p| KeyPath::parse(p).map_err(|_| damaged("a path is not a key path")))
        .collect::<Result<Vec<_>, _>>()?;
    let values = parse_blob(&plain, &paths).map_err(damaged)?;
    Ok(ScopeView {
        names: vec![entry.name.clone()],
        paths,
        values,
    })
}

/// Whether one of `identities` reads a scope of `meta`.
pub(super) fn reads_a_scope(meta: &Metadata, identities: &[Identity]) -> bool {
    meta.scopes.iter().any(|s| {
        s.recipients
            .iter()
            .any(|r| identities.iter().any(|i| i.owns(&r.recipient)))
    })
}

/// Whether one of `identities` is one of `meta`'s owners (by recipient;
/// an identity that does not know its recipient is tried by unwrapping).
pub(super) fn owns_the_file(meta: &Metadata, identities: &[Identity]) -> bool {
    meta.recipients()
        .any(|r| identities.iter().any(|i| i.owns(r)))
}

/// Opens every scope of `meta` that one of `identities` reads: unwraps the
/// scope's key and decrypts its blob (never the file's data key). `None`
/// when no identity reads a scope.
pub(super) fn open_as_reader(
    meta: &Metadata,
    identities: &[Identity],
) -> Result<Option<ScopeView>, DocumentError> {
    let ids: Vec<&Identity> = identities.iter().collect();
    let mut view = ScopeView {
        names: Vec::new(),
        paths: Vec::new(),
        values: Vec::new(),
    };
    for entry in &meta.scopes {
        let group = KeyGroup {
            age: entry.recipients.clone(),
            foreign: Default::default(),
        };
        let Some(bytes) = open::unwrap_group(&group, &ids)? else {
            continue;
        };
        let damaged = |reason: &'static str| DocumentError::ScopeDamaged {
            scope: entry.name.clone(),
            reason,
        };
        let key = DataKey::from_slice(&bytes).ok_or(damaged("its wrapped key is not a key"))?;
        let plain = EncryptedValue::parse(&entry.blob)
            .and_then(|v| v.decrypt(&key, &blob_aad(&entry.name, &entry.paths)))
            .map_err(|_| {
                damaged("its values do not decrypt (the blob, name or paths were changed)")
            })?;
        let paths = entry
            .paths
            .iter()
            .map(|p| KeyPath::parse(p).map_err(|_| damaged("a path is not a key path")))
            .collect::<Result<Vec<_>, _>>()?;
        for value in parse_blob(&plain, &paths).map_err(damaged)? {
            if view.values.iter().all(|v| v.path != value.path) {
                view.values.push(value);
            }
        }
        view.names.push(entry.name.clone());
        view.paths.extend(paths);
    }
    Ok((!view.names.is_empty()).then_some(view))
}

/// A scope reader's `decrypt`: the document restricted to its scopes'
/// values, written canonically in the file's format (there is no layout
/// to keep: the reader never sees the rest of the file). YAML and JSON as
/// `decrypt --output-type` writes them; dotenv `KEY=value` lines; INI
/// sections; TOML one `key = value` line per top-level key.
pub(super) fn render_restricted(
    kind: crate::format::FormatKind,
    tree: &serde_json::Value,
) -> Zeroizing<String> {
    use crate::format::FormatKind as F;
    use serde_json::Value;
    let scalar = |v: &Value| -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    };
    let mut out = Zeroizing::new(String::new());
    match kind {
        F::Yaml => out.push_str(&crate::convert::to_yaml(tree)),
        F::Json => out.push_str(&crate::convert::to_json(tree)),
        F::Dotenv => {
            if let Value::Object(m) = tree {
                for (k, v) in m {
                    out.push_str(k);
                    out.push('=');
                    out.push_str(&scalar(v).replace('\n', "\\n"));
                    out.push('\n');
                }
            }
        }
        F::Ini => {
            if let Value::Object(m) = tree {
                let mut sections: Vec<(&String, &Value)> = m.iter().collect();
                // Keys outside any section come first, without a header.
                sections.sort_by_key(|(k, _)| k.as_str() != "DEFAULT");
                for (section, keys) in sections {
                    if section != "DEFAULT" {
                        out.push_str(&format!("[{section}]\n"));
                    }
                    if let Value::Object(keys) = keys {
                        for (k, v) in keys {
                            out.push_str(&format!("{k} = {}\n", scalar(v)));
                        }
                    }
                }
            }
        }
        F::Toml => {
            fn key(k: &str) -> String {
                let bare = !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if bare {
                    k.to_owned()
                } else {
                    serde_json::to_string(k).unwrap_or_default()
                }
            }
            fn inline(v: &Value, out: &mut String) {
                match v {
                    Value::Object(m) => {
                        out.push('{');
                        for (n, (k, v)) in m.iter().enumerate() {
                            if n > 0 {
                                out.push_str(", ");
                            }
                            out.push_str(&key(k));
                            out.push_str(" = ");
                            inline(v, out);
                        }
                        out.push('}');
                    }
                    Value::Array(a) => {
                        out.push('[');
                        for (n, v) in a.iter().enumerate() {
                            if n > 0 {
                                out.push_str(", ");
                            }
                            inline(v, out);
                        }
                        out.push(']');
                    }
                    Value::String(s) => out.push_str(&serde_json::to_string(s).unwrap_or_default()),
                    Value::Null => out.push_str("\"\""),
                    other => out.push_str(&other.to_string()),
                }
            }
            if let Value::Object(m) = tree {
                for (k, v) in m {
                    out.push_str(&key(k));
                    out.push_str(" = ");
                    inline(v, &mut out);
                    out.push('\n');
                }
            }
        }
    }
    out
}
