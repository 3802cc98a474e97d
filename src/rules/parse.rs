//! Reading a rules file's text: the YAML tree with each node's line and
//! column, then every known key checked and turned into a [`RulesFile`]
//! (unknown keys, bad values and private keys are errors with a position).

use std::path::Path;

use crate::goregex::GoRegex;
use serde_json::{Map, Value};

use super::*;
use crate::format::{self, FormatKind, LeafKind, ValueType};
use crate::keys::{KeyError, Recipient};
use crate::metadata::Selection;
use crate::path::{KeyPath, Segment};

use super::names::{bad_name, looks_like_key, Group, NameError, Names};

/// Keys a creation rule may have that botsecrets reads.
const RULE_KEYS: [&str; 15] = [
    "scopes",
    "seal",
    "rotation",
    "env",
    "path_regex",
    "age",
    "key_groups",
    "shamir_threshold",
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
    "mac_only_encrypted",
];

/// sops key types botsecrets accepts in a rule or group and ignores.
const FOREIGN_KEYS: [&str; 9] = [
    "pgp",
    "kms",
    "gcp_kms",
    "azure_keyvault",
    "hc_vault_transit_uri",
    "hc_vault",
    "aws_profile",
    "hckms",
    "huaweicloud_kms",
];

/// The rules file as a tree, with the position of every node.
struct Tree {
    root: Value,
    positions: HashMap<KeyPath, (usize, usize)>,
}

fn build_tree(text: &str, file: &Path) -> Result<Tree, RulesError> {
    let syntax = |error| RulesError::Syntax {
        file: file.to_path_buf(),
        error,
    };
    // YAML anchors and aliases (`age: *owners`, `<<: *defaults`): each
    // alias is replaced by a one-line copy of its anchor's node, so lines
    // stay where they are (a column after an alias on its line moves).
    let expanded;
    let text = if text.contains('*') {
        expanded = format::yaml::expand_aliases(text).map_err(syntax)?;
        expanded.as_str()
    } else {
        text
    };
    let parsed = FormatKind::Yaml.syntax().parse(text).map_err(syntax)?;
    let mut root = Value::Object(Map::new());
    let mut positions = HashMap::new();
    for (path, i) in parsed.values_in_order() {
        let leaf = &parsed.leaves[i];
        if leaf.document != 0 {
            continue;
        }
        let text_of = leaf.value.expose();
        let value = match leaf.kind {
            LeafKind::Comment => continue,
            LeafKind::Null => Value::Null,
            LeafKind::Value(ValueType::Bool) => Value::Bool(text_of == "true"),
            LeafKind::Value(ValueType::Int) => text_of
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(text_of.to_owned())),
            LeafKind::Value(_) => Value::String(text_of.to_owned()),
        };
        let at = format::line_col(text, leaf.span.start);
        let mut prefix = KeyPath::root();
        positions.entry(prefix.clone()).or_insert(at);
        for seg in path.segments() {
            match seg {
                Segment::Key(k) => prefix.push_key(k.clone()),
                Segment::Index(n) => prefix.push_index(*n),
            }
            positions.entry(prefix.clone()).or_insert(at);
        }
        insert(&mut root, path.segments(), value);
    }
    Ok(Tree { root, positions })
}

fn insert(node: &mut Value, path: &[Segment], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        *node = value;
        return;
    };
    let child = match first {
        Segment::Key(k) => {
            if !node.is_object() {
                *node = Value::Object(Map::new());
            }
            node.as_object_mut()
                .expect("object")
                .entry(k.clone())
                .or_insert(Value::Null)
        }
        Segment::Index(i) => {
            if !node.is_array() {
                *node = Value::Array(Vec::new());
            }
            let arr = node.as_array_mut().expect("array");
            while arr.len() <= *i {
                arr.push(Value::Null);
            }
            &mut arr[*i]
        }
    };
    insert(child, rest, value);
}

struct Reader<'a> {
    file: &'a Path,
    tree: &'a Tree,
    strict: bool,
    /// `keys:` and `groups:`, once read (empty while they are read).
    names: Names<'a>,
}

impl Reader<'_> {
    fn err(&self, at: &KeyPath, reason: impl Into<String>) -> RulesError {
        let (line, column) = self.tree.positions.get(at).copied().unwrap_or((1, 1));
        RulesError::Invalid {
            file: self.file.to_path_buf(),
            line,
            column,
            reason: reason.into(),
        }
    }

    fn line(&self, at: &KeyPath) -> usize {
        self.tree.positions.get(at).map_or(1, |p| p.0)
    }

    fn string(&self, v: &Value, at: &KeyPath) -> Result<String, RulesError> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(self.err(at, format!("{at} must be a string"))),
        }
    }

    /// The words of a recipient list (a comma-separated string or a list
    /// of strings), each with its position.
    fn words(&self, v: &Value, at: &KeyPath) -> Result<Vec<(String, KeyPath)>, RulesError> {
        let mut texts = Vec::new();
        match v {
            Value::Null => {}
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let at = at.child_index(i);
                    let s = self.string(item, &at)?;
                    texts.extend(split_list(&s).into_iter().map(|r| (r, at.clone())));
                }
            }
            other => {
                let s = self.string(other, at)?;
                texts.extend(split_list(&s).into_iter().map(|r| (r, at.clone())));
            }
        }
        Ok(texts)
    }

    /// One raw recipient at `at`; a private key is the 218 error, never
    /// echoed.
    fn key(&self, text: &str, at: &KeyPath) -> Result<Recipient, RulesError> {
        Recipient::parse(text).map_err(|e| self.key_err(e, at))
    }

    fn key_err(&self, e: KeyError, at: &KeyPath) -> RulesError {
        match e {
            KeyError::IdentityAsRecipient { .. } => {
                let (line, column) = self.tree.positions.get(at).copied().unwrap_or((1, 1));
                RulesError::PrivateKey {
                    file: self.file.to_path_buf(),
                    line,
                    column,
                    reason: e.to_string(),
                }
            }
            _ => self.err(at, e.to_string()),
        }
    }

    fn name_err(&self, e: NameError, at: &KeyPath) -> RulesError {
        match e {
            NameError::Key(e) => self.key_err(e, at),
            e => self.err(at, e.to_string()),
        }
    }

    /// The recipients one word stands for at `at`: in `.botsecrets.yaml` a
    /// name of `keys:` or `groups:` or a raw recipient; in `.sops.yaml` a
    /// raw recipient only (sops' schema: it would reject a name).
    pub(super) fn resolve(&self, word: &str, at: &KeyPath) -> Result<Vec<Recipient>, RulesError> {
        if self.strict {
            return self.names.resolve(word).map_err(|e| self.name_err(e, at));
        }
        self.key(word, at).map(|r| vec![r]).map_err(|e| match e {
            RulesError::Invalid {
                file,
                line,
                column,
                reason,
            } if self.names.key(word).is_some() || self.names.group(word).is_some() => {
                RulesError::Invalid {
                    file,
                    line,
                    column,
                    reason: format!(
                        "{reason}; {word:?} is a name: names from keys: and groups: work in .botsecrets.yaml only (sops reads .sops.yaml and knows no names)"
                    ),
                }
            }
            e => e,
        })
    }

    /// A list of recipients (`age:`, a scope's readers): a comma-separated
    /// string or a list of strings, each a name, a group or a raw
    /// recipient ([`Reader::resolve`]); each recipient once, in order.
    pub(super) fn recipients(&self, v: &Value, at: &KeyPath) -> Result<Vec<Recipient>, RulesError> {
        let mut out: Vec<Recipient> = Vec::new();
        for (text, at) in self.words(v, at)? {
            for r in self.resolve(&text, &at)? {
                // COMPAT(sops): keys in a group are de-duplicated.
                if !out.iter().any(|o| o.same_as(&r.to_string())) {
                    out.push(r);
                }
            }
        }
        Ok(out)
    }

    fn check_keys(
        &self,
        obj: &Map<String, Value>,
        at: &KeyPath,
        allowed: &[&str],
        what: &str,
    ) -> Result<(), RulesError> {
        if !self.strict {
            return Ok(());
        }
        for key in obj.keys() {
            if !allowed.contains(&key.as_str()) && !FOREIGN_KEYS.contains(&key.as_str()) {
                return Err(self.err(
                    &at.child_key(key.clone()),
                    format!(
                        "unknown key {key:?} in {what}; expected one of: {}",
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn group(&self, v: &Value, at: &KeyPath, depth: usize) -> Result<Vec<Recipient>, RulesError> {
        let obj = v
            .as_object()
            .ok_or_else(|| self.err(at, format!("{at} must be a mapping (a key group)")))?;
        self.check_keys(obj, at, &["age", "merge"], "a key group")?;
        let mut out = match obj.get("age") {
            Some(v) => self.recipients(v, &at.child_key("age"))?,
            None => Vec::new(),
        };
        if let Some(merge) = obj.get("merge") {
            let merge_at = at.child_key("merge");
            if depth > 10 {
                return Err(self.err(&merge_at, "merge nests too deeply"));
            }
            let items = merge
                .as_array()
                .ok_or_else(|| self.err(&merge_at, "merge must be a list of key groups"))?;
            for (i, item) in items.iter().enumerate() {
                for r in self.group(item, &merge_at.child_index(i), depth + 1)? {
                    if !out.iter().any(|o| o.same_as(&r.to_string())) {
                        out.push(r);
                    }
                }
            }
        }
        Ok(out)
    }

    fn rule(&self, v: &Value, at: &KeyPath, number: usize) -> Result<CreationRule, RulesError> {
        let obj = v
            .as_object()
            .ok_or_else(|| self.err(at, format!("creation rule {number} must be a mapping")))?;
        self.check_keys(obj, at, &RULE_KEYS, "a creation rule")?;
        let path_regex = match obj.get("path_regex") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let rat = at.child_key("path_regex");
                let s = self.string(v, &rat)?;
                if s.is_empty() {
                    None
                } else {
                    Some(GoRegex::new(&s).map_err(|e| {
                        self.err(
                            &rat,
                            format!("path_regex is not a valid regular expression: {e}"),
                        )
                    })?)
                }
            }
        };
        let mut selection = None;
        let mut seen = Vec::new();
        for field in Selection::FIELDS {
            if let Some(v) = obj.get(field) {
                let fat = at.child_key(field);
                let s = self.string(v, &fat)?;
                if s.is_empty() {
                    continue;
                }
                seen.push(field);
                if seen.len() > 1 {
                    return Err(self.err(
                        &fat,
                        format!("a rule may set only one of {}", seen.join(", ")),
                    ));
                }
                selection = Some(
                    Selection::from_field(field, &s).map_err(|e| self.err(&fat, e.to_string()))?,
                );
            }
        }
        let mac_only_encrypted = match obj.get("mac_only_encrypted") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(self.err(
                    &at.child_key("mac_only_encrypted"),
                    "mac_only_encrypted must be true or false",
                ))
            }
        };
        let seal_optional = match obj.get("seal") {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) if s == "required" => false,
            Some(Value::String(s)) if s == "optional" => true,
            Some(_) => {
                return Err(self.err(&at.child_key("seal"), "seal must be required or optional"))
            }
        };
        let env = self.env(obj.get("env"), &at.child_key("env"))?;
        let shamir_threshold = match obj.get("shamir_threshold") {
            None | Some(Value::Null) => 0,
            Some(Value::Number(n)) if n.as_u64().is_some_and(|n| n <= 255) => {
                n.as_u64().and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
            }
            Some(_) => {
                return Err(self.err(
                    &at.child_key("shamir_threshold"),
                    "shamir_threshold must be a whole number",
                ))
            }
        };
        // COMPAT(sops): with key_groups, the rule's top-level keys are ignored.
        let key_groups = match obj.get("key_groups") {
            Some(Value::Array(groups)) if !groups.is_empty() => {
                let gat = at.child_key("key_groups");
                let mut out = Vec::new();
                for (i, g) in groups.iter().enumerate() {
                    let this = gat.child_index(i);
                    let recipients = self.group(g, &this, 0)?;
                    if recipients.is_empty() {
                        return Err(self.err(
                            &this,
                            format!(
                                "key group {} of rule {number} has no age recipients (botsecrets wraps only for age keys)",
                                i + 1
                            ),
                        ));
                    }
                    out.push(recipients);
                }
                out
            }
            Some(Value::Array(_)) | None | Some(Value::Null) => match obj.get("age") {
                Some(v) => {
                    let r = self.recipients(v, &at.child_key("age"))?;
                    if r.is_empty() {
                        Vec::new()
                    } else {
                        vec![r]
                    }
                }
                None => Vec::new(),
            },
            Some(_) => {
                return Err(self.err(
                    &at.child_key("key_groups"),
                    "key_groups must be a list of key groups",
                ))
            }
        };
        if key_groups.len() > 1 && shamir_threshold as usize > key_groups.len() {
            return Err(self.err(
                &at.child_key("shamir_threshold"),
                format!(
                    "shamir_threshold {shamir_threshold} is more than the {} key groups",
                    key_groups.len()
                ),
            ));
        }
        let rotation = match obj.get("rotation") {
            None | Some(Value::Null) => None,
            Some(v) => Some(self.rotation(v, &at.child_key("rotation"))?),
        };
        let scopes = match obj.get("scopes") {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => self.scopes(v, &at.child_key("scopes"))?,
        };
        Ok(CreationRule {
            scopes,
            number,
            line: self.line(at),
            path_regex,
            key_groups,
            shamir_threshold,
            selection,
            mac_only_encrypted,
            seal_optional,
            rotation,
            env,
        })
    }

    /// `rotation: { max_age: 90d, paths: { KEY.PATH: 30d } }`. Its keys are
    /// checked in both rules files: a typo must not turn the gate off.
    fn rotation(&self, v: &Value, at: &KeyPath) -> Result<Rotation, RulesError> {
        let obj = v.as_object().ok_or_else(|| {
            self.err(
                at,
                "rotation must be a mapping, e.g. { max_age: 90d, paths: { stripe.secret_key: 30d } }",
            )
        })?;
        for key in obj.keys() {
            if key != "max_age" && key != "paths" {
                return Err(self.err(
                    &at.child_key(key.clone()),
                    format!("unknown key {key:?} in rotation; expected one of: max_age, paths"),
                ));
            }
        }
        let max_age = match obj.get("max_age") {
            None | Some(Value::Null) => None,
            Some(v) => Some(self.limit(v, &at.child_key("max_age"))?),
        };
        let mut paths = Vec::new();
        match obj.get("paths") {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                let pat = at.child_key("paths");
                for (key, v) in map {
                    let kat = pat.child_key(key.clone());
                    let path = KeyPath::parse(key).map_err(|e| self.err(&kat, e.to_string()))?;
                    paths.push(rotation::PathLimit {
                        path,
                        limit: self.limit(v, &kat)?,
                    });
                }
            }
            Some(_) => {
                return Err(self.err(
                    &at.child_key("paths"),
                    "rotation.paths must be a mapping of key paths to durations",
                ))
            }
        }
        Ok(Rotation { max_age, paths })
    }

    fn limit(&self, v: &Value, at: &KeyPath) -> Result<rotation::Limit, RulesError> {
        let text = self.string(v, at)?;
        let days =
            rotation::parse_days(&text).map_err(|why| self.err(at, format!("{at}: {why}")))?;
        let (line, column) = self.tree.positions.get(at).copied().unwrap_or((1, 1));
        Ok(rotation::Limit {
            days,
            text: text.trim().to_owned(),
            line,
            column,
        })
    }

    /// `scopes: { NAME: { readers: [...], paths: [KEY.PATH, ...] } }`.
    fn scopes(&self, v: &Value, at: &KeyPath) -> Result<Vec<RuleScope>, RulesError> {
        let obj = v.as_object().ok_or_else(|| {
            self.err(
                at,
                "scopes must be a mapping: NAME: { readers: [...], paths: [...] }",
            )
        })?;
        let mut out = Vec::new();
        for (name, v) in obj {
            let sat = at.child_key(name.clone());
            if name.is_empty() || name.chars().any(|c| c.is_control()) {
                return Err(self.err(&sat, "a scope name must be non-empty text"));
            }
            let scope = v.as_object().ok_or_else(|| {
                self.err(
                    &sat,
                    format!("scopes.{name} must be a mapping with readers and paths"),
                )
            })?;
            if let Some(k) = scope.keys().find(|k| *k != "readers" && *k != "paths") {
                return Err(self.err(
                    &sat.child_key(k.clone()),
                    format!("unknown key {k:?} in scope {name}; expected readers, paths"),
                ));
            }
            let list = |field: &str| -> Result<Vec<(String, KeyPath)>, RulesError> {
                let fat = sat.child_key(field);
                let items = match scope.get(field) {
                    Some(Value::Array(items)) if !items.is_empty() => items,
                    _ => {
                        return Err(self.err(
                            &sat,
                            format!("scope {name} needs {field}: a non-empty list"),
                        ))
                    }
                };
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let iat = fat.child_index(i);
                        Ok((self.string(item, &iat)?.trim().to_owned(), iat))
                    })
                    .collect()
            };
            let mut readers: Vec<Recipient> = Vec::new();
            for (text, iat) in list("readers")? {
                for r in self.resolve(&text, &iat)? {
                    if !readers.iter().any(|o| o.same_as(&r.to_string())) {
                        readers.push(r);
                    }
                }
            }
            let mut paths = Vec::new();
            for (text, iat) in list("paths")? {
                let path = KeyPath::parse(&text)
                    .map_err(|e| self.err(&iat, format!("scope {name}: {text:?}: {e}")))?;
                paths.push(path);
            }
            out.push(RuleScope {
                name: name.clone(),
                readers,
                paths,
                line: self.line(&sat),
            });
        }
        Ok(out)
    }

    /// `keys: { NAME: RECIPIENT }`: raw recipients only.
    fn keys(&self, v: &Value, at: &KeyPath) -> Result<Vec<(String, Recipient)>, RulesError> {
        let obj = v
            .as_object()
            .ok_or_else(|| self.err(at, "keys must be a mapping of names to recipients"))?;
        let mut out = Vec::new();
        for (name, v) in obj {
            let kat = at.child_key(name.clone());
            self.check_name(name, &kat)?;
            let words = self.words(v, &kat)?;
            if words.len() != 1 {
                return Err(self.err(&kat, format!("keys.{name} must be one recipient")));
            }
            let (text, wat) = &words[0];
            if self.strict && !looks_like_key(text) {
                return Err(self.err(
                    wat,
                    format!(
                        "keys.{name} must be a recipient (age1..., ssh-...), not a name; use groups: to give several names one name"
                    ),
                ));
            }
            out.push((name.clone(), self.key(text, wat)?));
        }
        Ok(out)
    }

    /// A name for `keys:` or `groups:` must be usable in `age:` lists.
    fn check_name(&self, name: &str, at: &KeyPath) -> Result<(), RulesError> {
        match bad_name(name) {
            Some(why) if self.strict => Err(self.err(at, format!("{name:?}: {why}"))),
            _ => Ok(()),
        }
    }

    /// `groups: { NAME: [NAME or GROUP or RECIPIENT, ...] }`: the entries,
    /// unchecked ([`Reader::check_groups`] resolves them).
    fn groups(
        &self,
        v: &Value,
        at: &KeyPath,
        keys: &[(String, Recipient)],
    ) -> Result<Vec<Group>, RulesError> {
        let obj = match v {
            Value::Null => return Ok(Vec::new()),
            Value::Object(obj) => obj,
            _ => {
                return Err(self.err(
                    at,
                    "groups must be a mapping of names to lists of names (groups: { humans: [alice, bob] })",
                ))
            }
        };
        let mut out = Vec::new();
        for (name, v) in obj {
            let gat = at.child_key(name.clone());
            self.check_name(name, &gat)?;
            if keys.iter().any(|(k, _)| k == name) {
                let key_line =
                    self.line(&KeyPath::root().child_key("keys").child_key(name.clone()));
                return Err(self.err(
                    &gat,
                    format!("{name:?} is both a key (line {key_line}) and a group: a name must mean one thing"),
                ));
            }
            let members = self.words(v, &gat)?.into_iter().map(|(w, _)| w).collect();
            out.push(Group {
                name: name.clone(),
                members,
                line: self.line(&gat),
            });
        }
        Ok(out)
    }

    /// Every group resolves: each member known, no cycle. Errors point at
    /// the member.
    fn check_groups(&self, v: Option<&Value>, at: &KeyPath) -> Result<(), RulesError> {
        let Some(Value::Object(obj)) = v else {
            return Ok(());
        };
        for (name, v) in obj {
            let gat = at.child_key(name.clone());
            for (word, wat) in self.words(v, &gat)? {
                self.names
                    .resolve_member(name, &word)
                    .map_err(|e| self.name_err(e, &wat))?;
            }
        }
        Ok(())
    }

    /// `revoked: [NAME or RECIPIENT, ...]`.
    fn revoked(
        &self,
        v: &Value,
        at: &KeyPath,
        keys: &[(String, Recipient)],
    ) -> Result<Vec<Revoked>, RulesError> {
        let items = match v {
            Value::Null => return Ok(Vec::new()),
            Value::Array(items) => items,
            _ => {
                return Err(self.err(
                    at,
                    "revoked must be a list of names (from keys:) or recipients",
                ))
            }
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let iat = at.child_index(i);
            let text = self.string(item, &iat)?;
            let word = text.trim();
            let line = self.line(&iat);
            let known = self.names.key(word).is_some() || self.names.group(word).is_some();
            if !known && !looks_like_key(word) {
                return Err(self.err(
                    &iat,
                    format!(
                        "revoked entry {:?} is neither a name under keys: or groups: nor a recipient",
                        // SECURITY: what was pasted may be a secret.
                        crate::keys::recipient::shown(word)
                    ),
                ));
            }
            // A name (or a group: each of its keys) or raw recipients.
            // SECURITY: names resolve here in .sops.yaml too: `revoked:` is
            // botsecrets' own key (sops ignores it), and must not be looser.
            let mut recipients: Vec<Recipient> = Vec::new();
            for (w, wat) in self.words(item, &iat)? {
                recipients.extend(self.names.resolve(&w).map_err(|e| self.name_err(e, &wat))?);
            }
            for recipient in recipients {
                let name = keys
                    .iter()
                    .find(|(_, r)| r.same_as(&recipient.to_string()))
                    .map(|(n, _)| n.clone());
                out.push(Revoked {
                    name,
                    recipient,
                    line,
                });
            }
        }
        Ok(out)
    }

    /// `env:`: a mapping from key paths to variable names.
    fn env(&self, v: Option<&Value>, at: &KeyPath) -> Result<Vec<EnvName>, RulesError> {
        let obj = match v {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Object(obj)) => obj,
            Some(_) => {
                return Err(self.err(
                    at,
                    "env must be a mapping of key paths to variable names (aws.access_key_id: AWS_ACCESS_KEY_ID)",
                ))
            }
        };
        let mut out: Vec<EnvName> = Vec::new();
        for (key, value) in obj {
            let eat = at.child_key(key.clone());
            let name = match value {
                Value::String(s) => s.clone(),
                _ => {
                    return Err(self.err(
                        &eat,
                        format!("env: {key} must name one variable (write a nested key path as one key: `a.b: NAME`)"),
                    ))
                }
            };
            let path = KeyPath::parse(key)
                .map_err(|e| self.err(&eat, format!("env: {key:?} is not a key path: {e}")))?;
            if !is_env_name(&name) {
                return Err(self.err(
                    &eat,
                    format!("env: {name:?} is not a variable name (letters, digits and _, not starting with a digit)"),
                ));
            }
            if let Some(other) = out.iter().find(|e| e.name == name) {
                return Err(self.err(
                    &eat,
                    format!(
                        "env: {} and {} both give the variable {name}",
                        other.path, path
                    ),
                ));
            }
            out.push(EnvName {
                path,
                name,
                line: self.line(&eat),
            });
        }
        Ok(out)
    }
}

/// Splits `age1a, age1b` (sops' comma-separated form).
fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Parses the text of the rules file at `path`.
pub fn parse(text: &str, path: &Path) -> Result<RulesFile, RulesError> {
    let tree = build_tree(text, path)?;
    let strict = path.file_name().is_some_and(|n| n == ".botsecrets.yaml");
    let first = Reader {
        file: path,
        tree: &tree,
        strict,
        names: Names::default(),
    };
    let root = KeyPath::root();
    let top = tree
        .root
        .as_object()
        .ok_or_else(|| first.err(&root, "the rules file must be a mapping"))?;
    first.check_keys(
        top,
        &root,
        &[
            "creation_rules",
            "destination_rules",
            "stores",
            "allow",
            "keys",
            "groups",
            "revoked",
        ],
        "the rules file",
    )?;
    // Names first: every list of recipients below may use them.
    let keys = match top.get("keys") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => first.keys(v, &root.child_key("keys"))?,
    };
    let groups = match top.get("groups") {
        None => Vec::new(),
        Some(v) => first.groups(v, &root.child_key("groups"), &keys)?,
    };
    let reader = Reader {
        names: Names {
            keys: &keys,
            groups: &groups,
        },
        ..first
    };
    reader.check_groups(top.get("groups"), &root.child_key("groups"))?;
    let allow_at = root.child_key("allow");
    let allow = match top.get("allow") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let at = allow_at.child_index(i);
                let fp = reader.string(v, &at)?.trim().to_ascii_lowercase();
                if crate::scan::allow::is_fingerprint(&fp) {
                    Ok(fp)
                } else {
                    Err(reader.err(
                        &at,
                        format!("{at} must be a finding's fingerprint (fp- and 16 hex digits, as `check` prints it)"),
                    ))
                }
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(reader.err(&allow_at, "allow must be a list of fingerprints")),
    };
    let rules_at = root.child_key("creation_rules");
    let rules = match top.get("creation_rules") {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| reader.rule(v, &rules_at.child_index(i), i + 1))
            .collect::<Result<Vec<_>, _>>()?,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(reader.err(&rules_at, "creation_rules must be a list of rules")),
    };
    let revoked = match top.get("revoked") {
        None => Vec::new(),
        Some(v) => reader.revoked(v, &root.child_key("revoked"), &keys)?,
    };
    Ok(RulesFile {
        keys,
        groups,
        revoked,
        path: path.to_path_buf(),
        dir: path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
        rules,
        allow,
    })
}
