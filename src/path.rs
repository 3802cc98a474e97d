//! `KeyPath`: where a value sits in a document, as the chain of map keys and
//! list indices from the root.
//!
//! The same path has three textual forms:
//! - the sops AAD, map keys only joined by `:` with a trailing `:` (`a:b:`);
//!   list indices are *not* part of it (COMPAT(sops): verified on real files);
//! - the sops `--extract` form `["a"]["b"][0]`;
//! - the dotted form `a.b[0]`, used in our messages and accepted on input.

use std::fmt;

/// One step of a [`KeyPath`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// A map key (YAML/JSON/TOML key, INI section or key, dotenv name).
    Key(Key),
    /// A list index.
    Index(usize),
}

/// A map key's text: up to [`Key::INLINE`] bytes held in place, longer
/// ones on the heap. Every leaf owns its path, and most keys are short: at
/// a million keys a heap string per segment was a sixth of the peak
/// memory. Reads as a `&str` (`Deref`); compares, hashes, orders and
/// prints (`Debug`, `Display`) as its text.
#[derive(Clone)]
pub struct Key(KeyRepr);

#[derive(Clone)]
enum KeyRepr {
    Inline { len: u8, bytes: [u8; Key::INLINE] },
    Heap(Box<str>),
}

impl Key {
    /// The longest key held without an allocation (a segment stays 24
    /// bytes, as with a `String`).
    pub const INLINE: usize = 22;

    /// The key's bytes (its text's UTF-8), without the check a `&str` of
    /// the inline bytes costs: hashing, comparing and sealing a path need
    /// only these (the check was 2% of a decrypt).
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            KeyRepr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            KeyRepr::Heap(s) => s.as_bytes(),
        }
    }

    /// Whether the key ends with `suffix` (sops' `unencrypted_suffix`
    /// rules), on the bytes: the same answer as on the text.
    pub fn ends_with(&self, suffix: &str) -> bool {
        self.as_bytes().ends_with(suffix.as_bytes())
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Always whole characters of a `str` (see `From<&str>`).
            KeyRepr::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            KeyRepr::Heap(s) => s,
        }
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Self {
        match u8::try_from(s.len()) {
            Ok(len) if s.len() <= Self::INLINE => {
                let mut bytes = [0; Self::INLINE];
                bytes[..s.len()].copy_from_slice(s.as_bytes());
                Self(KeyRepr::Inline { len, bytes })
            }
            _ => Self(KeyRepr::Heap(s.into())),
        }
    }
}

impl From<String> for Key {
    fn from(s: String) -> Self {
        if s.len() <= Self::INLINE {
            Self::from(s.as_str())
        } else {
            Self(KeyRepr::Heap(s.into_boxed_str()))
        }
    }
}

impl From<&String> for Key {
    fn from(s: &String) -> Self {
        Self::from(s.as_str())
    }
}

impl From<std::borrow::Cow<'_, str>> for Key {
    fn from(s: std::borrow::Cow<'_, str>) -> Self {
        match s {
            std::borrow::Cow::Borrowed(s) => Self::from(s),
            std::borrow::Cow::Owned(s) => Self::from(s),
        }
    }
}

impl From<&Key> for Key {
    fn from(k: &Key) -> Self {
        k.clone()
    }
}

impl From<Key> for String {
    fn from(k: Key) -> Self {
        match k.0 {
            KeyRepr::Heap(s) => s.into_string(),
            KeyRepr::Inline { .. } => k.as_str().to_owned(),
        }
    }
}

impl std::ops::Deref for Key {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Key {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for Key {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

// Equality, hashing and order go by the bytes, which give the same
// answers as the text (`str` orders and hashes by its UTF-8).
impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Key {}

impl PartialEq<str> for Key {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Key {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<String> for Key {
    fn eq(&self, other: &String) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<Key> for str {
    fn eq(&self, other: &Key) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<Key> for &str {
    fn eq(&self, other: &Key) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<Key> for String {
    fn eq(&self, other: &Key) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // As `str` hashes (its bytes, then 0xff), so that `Borrow<str>`
        // lookups find the key.
        state.write(self.as_bytes());
        state.write_u8(0xff);
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// A segment is as small as with a `String` key.
const _: () = assert!(std::mem::size_of::<Segment>() == 24);

/// The chain of keys and indices from the document root to a node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyPath(Box<[Segment]>);

/// A path given by a user could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid key path {input:?}: {reason}")]
pub struct PathSyntaxError {
    /// What the user typed (a key path, never a value).
    pub input: String,
    /// Why it was rejected.
    pub reason: &'static str,
}

impl KeyPath {
    /// The empty path (the document root).
    pub fn root() -> Self {
        Self(Box::default())
    }

    /// Builds a path from its segments.
    pub fn from_segments(segments: Vec<Segment>) -> Self {
        Self(segments.into_boxed_slice())
    }

    /// The segments, root first.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// Whether this is the root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends a map key.
    pub fn push_key(&mut self, key: impl Into<Key>) {
        *self = self.child(Segment::Key(key.into()));
    }

    /// Appends a list index.
    pub fn push_index(&mut self, index: usize) {
        *self = self.child(Segment::Index(index));
    }

    /// Removes the last segment.
    pub fn pop(&mut self) -> Option<Segment> {
        // Exactly sized like every path (see `child`): a working path
        // pays an allocation per push and pop, a stored one none.
        let mut segments = std::mem::take(&mut self.0).into_vec();
        let last = segments.pop();
        self.0 = segments.into_boxed_slice();
        last
    }

    /// A new path with `key` appended.
    pub fn child_key(&self, key: impl Into<Key>) -> Self {
        self.child(Segment::Key(key.into()))
    }

    /// A new path with `index` appended.
    pub fn child_index(&self, index: usize) -> Self {
        self.child(Segment::Index(index))
    }

    /// Exactly sized, and a boxed slice (16 bytes, not a Vec's 24): every
    /// leaf keeps its path (a million at the benchmark's largest).
    fn child(&self, last: Segment) -> Self {
        // The paths of most leaves are one or two segments long: built as
        // arrays of a known length, without a vector's growth checks and
        // clone loop (once per leaf of every parse).
        match &*self.0 {
            [] => Self(Box::new([last])),
            [first] => Self(Box::new([first.clone(), last])),
            _ => {
                let mut segments = Vec::with_capacity(self.0.len() + 1);
                segments.extend_from_slice(&self.0);
                segments.push(last);
                Self(segments.into_boxed_slice())
            }
        }
    }

    /// Whether `prefix` is a prefix of (or equal to) this path.
    pub fn starts_with(&self, prefix: &KeyPath) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// The map keys only, in order (what sops' selection rules look at).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|s| match s {
            Segment::Key(k) => Some(k.as_str()),
            Segment::Index(_) => None,
        })
    }

    /// The map keys only, in order, as [`Key`]s (cheaper than [`KeyPath::keys`]
    /// where the bytes suffice).
    pub fn key_segments(&self) -> impl Iterator<Item = &Key> {
        self.0.iter().filter_map(|s| match s {
            Segment::Key(k) => Some(k),
            Segment::Index(_) => None,
        })
    }

    /// The additional authenticated data sops binds a value to:
    /// map keys joined by `:`, plus a trailing `:`.
    pub fn aad(&self) -> String {
        let mut out = String::new();
        self.write_aad(&mut out);
        out
    }

    /// [`KeyPath::aad`] into `out` (cleared first), to reuse one buffer.
    pub fn write_aad(&self, out: &mut String) {
        // Built as bytes and checked once as a whole, not key by key.
        let mut bytes = std::mem::take(out).into_bytes();
        bytes.clear();
        for key in self.key_segments() {
            bytes.extend_from_slice(key.as_bytes());
            bytes.push(b':');
        }
        if bytes.is_empty() {
            // COMPAT(sops): the root path (top-level comments) has AAD ":".
            bytes.push(b':');
        }
        // Whole keys and `:` only: always UTF-8.
        *out = String::from_utf8(bytes).unwrap_or_default();
    }

    /// The sops `--extract` form: `["a"]["b"][0]`.
    pub fn to_sops_index(&self) -> String {
        let mut out = String::new();
        for s in &self.0 {
            match s {
                Segment::Key(k) => {
                    out.push_str("[\"");
                    for c in k.chars() {
                        if c == '"' || c == '\\' {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                    out.push_str("\"]");
                }
                Segment::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }

    /// Parses either the sops form `["a"]["b"][0]` or the dotted form
    /// `a.b[0]` (a key containing `.` or `[` needs the sops form).
    pub fn parse(input: &str) -> Result<Self, PathSyntaxError> {
        let err = |reason| PathSyntaxError {
            input: input.to_owned(),
            reason,
        };
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(err("the path is empty"));
        }
        let mut segments = Vec::new();
        let bytes: Vec<char> = trimmed.chars().collect();
        let mut i = 0;
        let mut expect_key = true;
        while i < bytes.len() {
            match bytes[i] {
                '[' => {
                    i += 1;
                    if i < bytes.len() && (bytes[i] == '"' || bytes[i] == '\'') {
                        let quote = bytes[i];
                        i += 1;
                        let mut key = String::new();
                        loop {
                            match bytes.get(i) {
                                None => return Err(err("unterminated quoted key")),
                                Some('\\') if quote == '"' => {
                                    let Some(c) = bytes.get(i + 1) else {
                                        return Err(err("unterminated quoted key"));
                                    };
                                    key.push(*c);
                                    i += 2;
                                }
                                Some(c) if *c == quote => {
                                    i += 1;
                                    break;
                                }
                                Some(c) => {
                                    key.push(*c);
                                    i += 1;
                                }
                            }
                        }
                        if bytes.get(i) != Some(&']') {
                            return Err(err("expected ] after a quoted key"));
                        }
                        i += 1;
                        segments.push(Segment::Key(key.into()));
                    } else {
                        let start = i;
                        while i < bytes.len() && bytes[i] != ']' {
                            i += 1;
                        }
                        if i == bytes.len() {
                            return Err(err("unterminated ["));
                        }
                        let inner: String = bytes[start..i].iter().collect();
                        let index = inner
                            .trim()
                            .parse::<usize>()
                            .map_err(|_| err("a [..] holds a list index or a quoted key"))?;
                        segments.push(Segment::Index(index));
                        i += 1;
                    }
                    expect_key = false;
                }
                '.' => {
                    if expect_key {
                        return Err(err("empty key between dots"));
                    }
                    i += 1;
                    expect_key = true;
                    if i == bytes.len() {
                        return Err(err("the path ends with a dot"));
                    }
                }
                _ => {
                    if !expect_key {
                        return Err(err("expected . or [ between keys"));
                    }
                    let start = i;
                    while i < bytes.len() && bytes[i] != '.' && bytes[i] != '[' {
                        i += 1;
                    }
                    segments.push(Segment::Key(
                        bytes[start..i].iter().collect::<String>().into(),
                    ));
                    expect_key = false;
                }
            }
        }
        Ok(Self::from_segments(segments))
    }
}

impl fmt::Display for KeyPath {
    /// The dotted form, `a.b[0]`; keys that would be ambiguous in it are
    /// written in the sops bracket form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(root)");
        }
        let mut first = true;
        for s in &self.0 {
            match s {
                Segment::Key(k) => {
                    let plain =
                        !k.is_empty() && !k.contains(['.', '[', ']', '"', '\'']) && k.trim() == k;
                    if plain {
                        if !first {
                            f.write_str(".")?;
                        }
                        f.write_str(k)?;
                    } else {
                        write!(
                            f,
                            "{}",
                            KeyPath::from_segments(vec![s.clone()]).to_sops_index()
                        )?;
                    }
                }
                Segment::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> KeyPath {
        KeyPath::parse(s).unwrap()
    }

    #[test]
    fn aad_skips_indices_and_has_trailing_colon() {
        let path = KeyPath::from_segments(vec![
            Segment::Key("app".into()),
            Segment::Key("list".into()),
            Segment::Index(3),
            Segment::Key("k".into()),
        ]);
        assert_eq!(path.aad(), "app:list:k:");
        assert_eq!(KeyPath::root().aad(), ":");
    }

    #[test]
    fn parses_both_forms_to_the_same_path() {
        assert_eq!(p(r#"["a"]["b"][0]"#), p("a.b[0]"));
        assert_eq!(p("a.b[0].c").to_string(), "a.b[0].c");
        assert_eq!(p(r#"["a.b"]"#).segments(), &[Segment::Key("a.b".into())]);
        assert_eq!(p(r#"["a.b"]"#).to_string(), r#"["a.b"]"#);
    }

    #[test]
    fn rejects_malformed_paths() {
        for bad in ["", "a..b", "a.", "[x]", r#"["a"#, "a[1]b", "[1"] {
            assert!(KeyPath::parse(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn keys_short_and_long_read_compare_and_print_as_their_text() {
        let short = Key::from("bot_000001");
        let edge = Key::from("x".repeat(Key::INLINE));
        let long = Key::from("é".repeat(Key::INLINE));
        assert!(matches!(short.0, KeyRepr::Inline { .. }));
        assert!(matches!(edge.0, KeyRepr::Inline { .. }));
        assert!(matches!(long.0, KeyRepr::Heap(_)));
        assert_eq!(short.as_str(), "bot_000001");
        assert_eq!(long.as_str(), "é".repeat(Key::INLINE));
        assert_eq!(format!("{short:?}"), format!("{:?}", "bot_000001"));
        assert_eq!(short, "bot_000001");
        assert_eq!("bot_000001", short);
        let (a, ab, b) = (Key::from("a"), Key::from("ab"), Key::from("b"));
        assert!(a < ab && ab < b);
        assert_eq!(String::from(long.clone()), long.as_str());
        let path = p(&format!("a.{}.b", "k".repeat(40)));
        assert_eq!(path.keys().collect::<Vec<_>>()[1].len(), 40);
        assert_eq!(path.aad(), format!("a:{}:b:", "k".repeat(40)));
    }

    #[test]
    fn keys_hash_and_match_suffixes_as_their_text() {
        // `Borrow<str>` lookups need a key to hash as its text does.
        let long = "é".repeat(Key::INLINE);
        let set: std::collections::HashSet<Key> = ["bot_000001", long.as_str()]
            .into_iter()
            .map(Key::from)
            .collect();
        assert!(set.contains("bot_000001") && set.contains(long.as_str()));
        assert!(!set.contains("bot_00000"));
        let key = Key::from("pw_unencrypted");
        assert!(key.ends_with("_unencrypted") && !key.ends_with("_encrypted_"));
        assert_eq!(key.as_bytes(), b"pw_unencrypted");
        let path = p("a.b[0].c_unencrypted");
        let keys: Vec<&str> = path.key_segments().map(|k| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c_unencrypted"]);
    }

    #[test]
    fn sops_index_round_trips() {
        let path = p(r#"["we\"ird"][2]["x"]"#);
        assert_eq!(KeyPath::parse(&path.to_sops_index()).unwrap(), path);
    }
}
