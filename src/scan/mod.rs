//! The leak scanner behind `check`, the pre-commit hook and `check
//! --history`: finds plaintext credentials in a file's bytes, and files
//! that are secrets by their name.
//!
//! - [`detectors`]: the table of credential formats, one test per row;
//! - [`entropy`]: placeholders, randomness, and what a generic value is;
//! - [`allow`]: fingerprints and the inline `botsecrets:allow` marker;
//! - [`history`]: the `git cat-file --batch` stream, parsed and scanned.
//!
//! Bytes, not just UTF-8: [`decode`] reads UTF-8, UTF-16 (with a byte order
//! mark, or by its zero bytes), Latin-1, gzip'd text, and the printable
//! strings of binary files; what it cannot read (other archives) is
//! reported as an `unscanned` finding, never skipped.
//!
//! SECURITY: a [`Finding`] holds the detector, the line, a fingerprint and
//! at most a fixed-format prefix (`ghp_****`): never the matched text.

pub mod allow;
pub mod detectors;
pub mod entropy;
pub mod history;

use std::io::Read;
use std::sync::OnceLock;

use regex::{Regex, RegexSet};
use zeroize::Zeroizing;

use detectors::{Check, Detector, DETECTORS};

/// A credential (or a secrets file) found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// 1-based line; `None` for file-level findings and binary files.
    pub line: Option<usize>,
    /// The detector's id (`github-token`, `secrets-file`, ...).
    pub detector: &'static str,
    /// What was found, in words.
    pub what: &'static str,
    /// The value, redacted: the format's fixed prefix and `****`.
    pub redacted: String,
    /// `fp-` and 16 hex digits (see [`allow`]): the same for the same
    /// secret wherever it is.
    pub fingerprint: String,
}

/// The file-level rules, for docs: id and what it finds.
pub const FILE_RULES: &[(&str, &str)] = &[
    (
        "dotenv-value",
        "a value in a dotenv file (.env, .env.*, *.env; not templates)",
    ),
    (
        "secrets-file",
        "an unencrypted file named like a secrets file, with content",
    ),
    (
        "unscanned",
        "a file whose bytes could not be read as text (an archive)",
    ),
];

/// The id and description of every detector, then the file-level rules.
pub fn rules() -> impl Iterator<Item = (&'static str, &'static str)> {
    DETECTORS
        .iter()
        .map(|d| (d.id, d.what))
        .chain(FILE_RULES.iter().copied())
}

struct Compiled {
    set: RegexSet,
    /// (detector index, regex), in the set's order.
    each: Vec<(usize, Regex)>,
}

fn compiled() -> &'static Compiled {
    static CELL: OnceLock<Compiled> = OnceLock::new();
    CELL.get_or_init(|| {
        let mut pats = Vec::new();
        let mut each = Vec::new();
        for (i, d) in DETECTORS.iter().enumerate() {
            for p in d.patterns {
                pats.push(*p);
                each.push((i, Regex::new(p).expect("built-in detector compiles")));
            }
        }
        Compiled {
            set: RegexSet::new(&pats).expect("built-in detectors compile"),
            each,
        }
    })
}

fn masks() -> &'static Regex {
    static CELL: OnceLock<Regex> = OnceLock::new();
    // sops ciphertext and base64 data URIs (inline images, fonts): random
    // base64 that must not look like a key.
    CELL.get_or_init(|| {
        Regex::new(
            r"ENC\[AES256_GCM,[^\]]*\]|data:[a-zA-Z]+/[a-zA-Z0-9.+-]+;base64,[A-Za-z0-9+/=]+",
        )
        .expect("pattern compiles")
    })
}

/// The redacted form of a match: its fixed prefix, if any, and `****`.
fn redact(prefix: Option<&str>) -> String {
    format!("{}****", prefix.unwrap_or(""))
}

/// Whether a file name is a lockfile or a checksum list, whose hashes
/// look random (only prefixed formats run on them).
pub fn is_lockfile(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    const NAMES: &[&str] = &[
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lock",
        "cargo.lock",
        "poetry.lock",
        "pipfile.lock",
        "pdm.lock",
        "uv.lock",
        "gemfile.lock",
        "composer.lock",
        "go.sum",
        "flake.lock",
        "mix.lock",
        "pubspec.lock",
        "packages.lock.json",
        "podfile.lock",
        "sha256sums",
        "sha512sums",
        "sha1sums",
        "md5sums",
        "checksums.txt",
    ];
    NAMES.contains(&n.as_str())
        || [
            ".lock",
            ".sum",
            ".sha256",
            ".sha512",
            ".sha1",
            ".md5",
            ".sha256sum",
        ]
        .iter()
        .any(|s| n.ends_with(s))
}

fn line_of(starts: &[usize], offset: usize) -> usize {
    match starts.binary_search(&offset) {
        Ok(i) => i + 1,
        Err(i) => i,
    }
}

/// Scans text with every detector. `file_name` is the file's name (or
/// path), for the lockfile rule. An encrypted file's `ENC[...]` values and
/// base64 data URIs are masked; lines carrying `botsecrets:allow` report
/// nothing.
pub fn scan_text(file_name: &str, text: &str) -> Vec<Finding> {
    let base = file_name.rsplit('/').next().unwrap_or(file_name);
    let lockfile = is_lockfile(base);
    let masked: Zeroizing<String> = Zeroizing::new(
        masks()
            .replace_all(text, |c: &regex::Captures<'_>| {
                // Keep the newlines (line numbers), drop the rest.
                c[0].bytes()
                    .filter(|b| *b == b'\n')
                    .map(|_| '\n')
                    .collect::<String>()
                    + "ENC[]"
            })
            .into_owned(),
    );
    let text = masked.as_str();
    let mut starts = vec![0usize];
    starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    let c = compiled();
    // (detector index, span of the secret, line, finding)
    let mut raw: Vec<(usize, (usize, usize), Finding)> = Vec::new();
    for si in c.set.matches(text).iter() {
        let (di, re) = &c.each[si];
        let d: &Detector = &DETECTORS[*di];
        if lockfile && !d.in_lockfiles {
            continue;
        }
        for caps in re.captures_iter(text) {
            let whole = caps.get(0).expect("group 0");
            let secret = caps.name("s").or_else(|| caps.name("v")).unwrap_or(whole);
            let value = secret.as_str();
            let ok = match d.check {
                Check::Format => !entropy::is_placeholder(value),
                Check::Entropy(min) => {
                    !entropy::is_placeholder(value) && entropy::shannon(value) >= min
                }
                Check::Generic => {
                    let name = caps.name("n").map_or("", |m| m.as_str());
                    let unquoted = caps.name("v").is_some();
                    !(unquoted && entropy::is_code_reference(value))
                        && entropy::generic_secret(name, value)
                }
                Check::UrlPassword => url_password_ok(&caps, value),
            };
            if !ok {
                continue;
            }
            let first = line_of(&starts, whole.start());
            let last = line_of(&starts, whole.end().saturating_sub(1).max(whole.start()));
            let allowed = (first..=last).any(|l| {
                let s = starts[l - 1];
                let e = starts.get(l).copied().unwrap_or(text.len());
                text[s..e].contains(allow::INLINE_MARKER)
            });
            if allowed {
                continue;
            }
            raw.push((
                *di,
                (secret.start(), secret.end()),
                Finding {
                    line: Some(first),
                    detector: d.id,
                    what: d.what,
                    redacted: redact(caps.name("p").map(|m| m.as_str())),
                    fingerprint: allow::fingerprint(d.id, value.as_bytes()),
                },
            ));
        }
    }
    // The most specific detector reports overlapping text.
    raw.sort_by_key(|(di, span, _)| (*di, span.0));
    let mut kept: Vec<(usize, (usize, usize), Finding)> = Vec::new();
    for r in raw {
        if !kept.iter().any(|(_, (s, e), _)| r.1 .0 < *e && *s < r.1 .1) {
            kept.push(r);
        }
    }
    kept.sort_by_key(|(_, span, _)| span.0);
    kept.into_iter().map(|(_, _, f)| f).collect()
}

fn url_password_ok(caps: &regex::Captures<'_>, password: &str) -> bool {
    let user = caps.name("u").map_or("", |m| m.as_str());
    let host = caps
        .name("h")
        .map_or("", |m| m.as_str())
        .to_ascii_lowercase();
    let doc_host = [
        "localhost",
        "127.0.0.1",
        "0.0.0.0",
        "example.com",
        "example.org",
        "example.net",
        "host",
        "hostname",
    ]
    .contains(&host.as_str())
        || host.ends_with(".example")
        || host.ends_with(".example.com")
        || host.ends_with(".invalid");
    !entropy::is_placeholder(password)
        && password != user
        && !doc_host
        && !password.starts_with('$')
        && !password.starts_with('%')
}

/// How a file's name makes it a secrets file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretsName {
    /// A dotenv file with real values (`.env`, `.env.production`,
    /// `prod.env`): each value is a finding.
    Dotenv,
    /// `secrets.*`, `*.secret(s).*`, `credentials*`, or under a
    /// `secrets/` directory: the file is a finding when not encrypted.
    Named,
}

/// Name parts that mark a template (`.env.example`, `secrets.sample.yaml`).
const TEMPLATE_PARTS: &[&str] = &[
    "example", "examples", "sample", "template", "tmpl", "tpl", "dist", "defaults", "default",
    "schema", "stub",
];

/// Extensions of code and docs: such files are never secrets files by name
/// (`secrets.py` is a module), only by content.
const CODE_EXTS: &[&str] = &[
    "rs", "py", "js", "mjs", "cjs", "ts", "tsx", "jsx", "go", "rb", "php", "java", "kt", "c", "h",
    "cc", "cpp", "hpp", "cs", "swift", "scala", "ex", "exs", "md", "rst", "adoc", "html", "css",
    "lock", "sum", "age", "gpg", "asc", "enc", "sops",
];

/// Whether `path` (relative, `/`-separated) is named like a secrets file.
pub fn secrets_name(path: &str) -> Option<SecretsName> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    if lower == ".sops.yaml" || lower == ".botsecrets.yaml" {
        return None;
    }
    let parts: Vec<&str> = lower.split('.').filter(|p| !p.is_empty()).collect();
    if parts.iter().any(|p| TEMPLATE_PARTS.contains(p)) {
        return None;
    }
    let dotenv = lower == ".env" || lower.starts_with(".env.") || lower.ends_with(".env");
    if dotenv {
        return Some(SecretsName::Dotenv);
    }
    let ext = if parts.len() > 1 || !lower.starts_with('.') {
        lower.rsplit_once('.').map(|(_, e)| e)
    } else {
        None
    };
    if ext.is_some_and(|e| CODE_EXTS.contains(&e)) {
        return None;
    }
    let stem_named = parts
        .first()
        .is_some_and(|p| *p == "secrets" || *p == "secret" || p.starts_with("credentials"))
        || parts
            .iter()
            .skip(1)
            .any(|p| *p == "secret" || *p == "secrets");
    let mut dirs = path.split('/').rev().skip(1);
    let in_secrets_dir = dirs.any(|d| {
        let d = d.to_ascii_lowercase();
        d == "secrets" || d == ".secrets"
    });
    let housekeeping = lower.starts_with("readme")
        || [".gitkeep", ".keep", ".gitignore", ".gitattributes"].contains(&lower.as_str());
    if stem_named || (in_secrets_dir && !housekeeping) {
        return Some(SecretsName::Named);
    }
    None
}

/// Whether the text is already encrypted by a tool we know (sops values,
/// an age or PGP armored file).
pub fn looks_encrypted(text: &str) -> bool {
    text.contains("ENC[AES256_GCM,")
        || text.starts_with("age-encryption.org/v1")
        || text.contains("-----BEGIN AGE ENCRYPTED FILE-----")
        || text.contains("-----BEGIN PGP MESSAGE-----")
}

/// The findings of a plaintext (not sops-encrypted) file: every detector,
/// and its name's rule: each value of a dotenv file, or the file itself
/// when named like a secrets file and not encrypted. `path` is the
/// relative, `/`-separated path.
pub fn scan_plain(path: &str, text: &str) -> Vec<Finding> {
    let mut out = scan_text(path, text);
    match secrets_name(path) {
        Some(SecretsName::Dotenv) => {
            // Every value counts here: the generic detector adds nothing
            // (and its fix is the wrong one: the file is encrypted whole).
            out.retain(|f| f.detector != "generic-secret");
            for (i, line) in text.lines().enumerate() {
                let trimmed = line.trim_start();
                if trimmed.starts_with('#')
                    || trimmed.starts_with("sops_")
                    || line.contains(allow::INLINE_MARKER)
                {
                    continue;
                }
                let trimmed = trimmed.strip_prefix("export ").unwrap_or(trimmed);
                if let Some((name, value)) = trimmed.split_once('=') {
                    let value = value.trim().trim_matches(['"', '\'']);
                    if value.is_empty() || value.starts_with("ENC[") {
                        continue;
                    }
                    // One finding per line: a detector's already says it.
                    if out.iter().any(|f| f.line == Some(i + 1)) {
                        continue;
                    }
                    out.push(Finding {
                        line: Some(i + 1),
                        detector: "dotenv-value",
                        what: "a value in a dotenv file",
                        redacted: "****".into(),
                        fingerprint: allow::fingerprint(
                            "dotenv-value",
                            format!("{path}\0{}", name.trim()).as_bytes(),
                        ),
                    });
                }
            }
            out.sort_by_key(|f| f.line);
        }
        Some(SecretsName::Named) => {
            let content = text.lines().any(|l| {
                let t = l.trim();
                !t.is_empty()
                    && !t.starts_with('#')
                    && !t.starts_with("//")
                    && t != "{}"
                    && t != "---"
            });
            if content && !looks_encrypted(text) {
                out.insert(
                    0,
                    Finding {
                        line: None,
                        detector: "secrets-file",
                        what: "a file named like a secrets file, not encrypted",
                        redacted: String::new(),
                        fingerprint: allow::fingerprint("secrets-file", path.as_bytes()),
                    },
                );
            }
        }
        None => {}
    }
    out
}

/// How bytes were read as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (with or without a byte order mark).
    Utf8,
    /// UTF-16, little or big endian.
    Utf16,
    /// Not UTF-8 and no zero bytes: Latin-1, byte for byte.
    Latin1,
    /// gzip'd text (decompressed in memory).
    Gzip,
    /// Binary: its printable ASCII strings (no line numbers).
    Strings,
}

/// Bytes as text to scan, or why they cannot be.
pub enum Decoded {
    /// Text (wiped on drop); `lines` says whether line numbers mean
    /// anything.
    Text {
        /// The text.
        text: Zeroizing<String>,
        /// How it was read.
        encoding: Encoding,
    },
    /// Not scanned: an archive or compressed format we do not open.
    Unscanned(&'static str),
}

/// Decompressed gzip is bounded: a bomb is reported, not expanded.
const GZIP_LIMIT: u64 = 64 << 20;

/// Reads bytes as text (see the module doc).
pub fn decode(bytes: &[u8]) -> Decoded {
    decode_depth(bytes, 0)
}

fn decode_depth(bytes: &[u8], depth: usize) -> Decoded {
    let text = |s: String, encoding| Decoded::Text {
        text: Zeroizing::new(s),
        encoding,
    };
    if bytes.starts_with(&[0x1f, 0x8b]) {
        if depth > 0 {
            return Decoded::Unscanned("nested gzip");
        }
        let mut out = Zeroizing::new(Vec::new());
        let mut r = flate2::read::MultiGzDecoder::new(bytes).take(GZIP_LIMIT + 1);
        if r.read_to_end(&mut out).is_err() {
            return Decoded::Unscanned("a gzip stream that does not decompress");
        }
        if out.len() as u64 > GZIP_LIMIT {
            return Decoded::Unscanned("gzip'd data over 64 MiB");
        }
        return match decode_depth(&out, depth + 1) {
            Decoded::Text { text: t, encoding } => Decoded::Text {
                text: t,
                encoding: if encoding == Encoding::Strings {
                    Encoding::Strings
                } else {
                    Encoding::Gzip
                },
            },
            u => u,
        };
    }
    const ARCHIVES: &[(&[u8], &str)] = &[
        (b"PK\x03\x04", "a zip archive"),
        (b"\xfd7zXZ\x00", "an xz stream"),
        (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
        (b"\x28\xb5\x2f\xfd", "a zstd stream"),
        (b"Rar!\x1a\x07", "a rar archive"),
    ];
    for (magic, what) in ARCHIVES {
        if bytes.starts_with(magic) {
            return Decoded::Unscanned(what);
        }
    }
    if bytes.len() >= 10 && bytes.starts_with(b"BZh") && &bytes[4..10] == b"1AY&SY" {
        return Decoded::Unscanned("a bzip2 stream");
    }
    // UTF-8 text has no NUL bytes (UTF-16 of ASCII is valid UTF-8).
    if !bytes.contains(&0) {
        if let Ok(s) = std::str::from_utf8(bytes) {
            return text(s.trim_start_matches('\u{feff}').to_owned(), Encoding::Utf8);
        }
    }
    let utf16 = |le: bool, body: &[u8]| -> Option<String> {
        let units: Vec<u16> = body
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units).ok()
    };
    if let Some(body) = bytes.strip_prefix(&[0xff, 0xfe]) {
        if let Some(s) = utf16(true, body) {
            return text(s, Encoding::Utf16);
        }
    }
    if let Some(body) = bytes.strip_prefix(&[0xfe, 0xff]) {
        if let Some(s) = utf16(false, body) {
            return text(s, Encoding::Utf16);
        }
    }
    let head = &bytes[..bytes.len().min(8192)];
    let zeros = head.iter().filter(|b| **b == 0).count();
    if zeros == 0 {
        return text(bytes.iter().map(|b| *b as char).collect(), Encoding::Latin1);
    }
    // UTF-16 without a byte order mark: ASCII text has a zero in every
    // other byte.
    if bytes.len().is_multiple_of(2) && zeros * 2 >= head.len() * 9 / 10 {
        let odd_zero = head.iter().skip(1).step_by(2).all(|b| *b == 0);
        let even_zero = head.iter().step_by(2).all(|b| *b == 0);
        if odd_zero || even_zero {
            if let Some(s) = utf16(odd_zero, bytes) {
                return text(s, Encoding::Utf16);
            }
        }
    }
    text(printable_strings(bytes), Encoding::Strings)
}

/// Runs of at least 8 printable ASCII characters, one per line.
fn printable_strings(bytes: &[u8]) -> String {
    let mut out = String::new();
    for run in bytes.split(|b| !(0x20..0x7f).contains(b) && *b != b'\t') {
        if run.len() >= 8 {
            out.extend(run.iter().map(|b| *b as char));
            out.push('\n');
        }
    }
    out
}

/// Scans a plaintext file's bytes: [`decode`], then [`scan_plain`]. Binary
/// files report no line numbers; an undecodable file is one `unscanned`
/// finding.
pub fn scan_bytes(path: &str, bytes: &[u8]) -> (Vec<Finding>, Option<Encoding>) {
    match decode(bytes) {
        Decoded::Text { text, encoding } => {
            let mut found = scan_plain(path, &text);
            if encoding == Encoding::Strings {
                for f in &mut found {
                    f.line = None;
                }
            }
            (found, Some(encoding))
        }
        Decoded::Unscanned(what) => (vec![unscanned(path, what)], None),
    }
}

/// The finding for a file that could not be read as text.
pub fn unscanned(path: &str, what: &'static str) -> Finding {
    Finding {
        line: None,
        detector: "unscanned",
        what,
        redacted: String::new(),
        fingerprint: allow::fingerprint("unscanned", path.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> String {
        ["gh", "p_", "q8Zr2LmX0vP4kT7yN3bWc1Fh6Jd9Sa5Ge0Ru"].concat()
    }

    #[test]
    fn findings_never_hold_the_value() {
        let t = token();
        let f = scan_text("a.txt", &format!("x\ntoken {t}\n"));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].line, Some(2));
        assert_eq!(f[0].redacted, "ghp_****");
        assert!(!format!("{f:?}").contains(&t[4..]));
        // Inline allow, and masked ciphertext.
        assert!(scan_text("a.txt", &format!("{t} # botsecrets:allow\n")).is_empty());
        let enc = format!("k: ENC[AES256_GCM,data:{t},iv:x,tag:y,type:str]\n");
        assert!(scan_text("a.yaml", &enc).is_empty());
        // A base64 image with a token-like run inside.
        let img = format!("<img src=\"data:image/png;base64,iVBOR{}AAAA==\">\n", &t);
        assert!(scan_text("a.html", &img).is_empty());
    }

    #[test]
    fn secrets_names() {
        for p in [
            "secrets.yaml",
            "secrets/staging.yaml",
            "deploy/secrets/db.json",
            "app.secrets.toml",
            "prod.secret.json",
            "credentials",
            "credentials.json",
            ".aws/credentials",
        ] {
            assert_eq!(secrets_name(p), Some(SecretsName::Named), "{p}");
        }
        for p in [".env", ".env.production", "prod.env"] {
            assert_eq!(secrets_name(p), Some(SecretsName::Dotenv), "{p}");
        }
        for p in [
            ".env.example",
            ".env.sample",
            "secrets.example.yaml",
            "secrets.yaml.template",
            "src/secrets.py",
            "secrets/README.md",
            "secrets/.gitkeep",
            ".sops.yaml",
            "config.yaml",
            "docs/secrets.md",
        ] {
            assert_eq!(secrets_name(p), None, "{p}");
        }
    }

    #[test]
    fn secrets_file_unless_encrypted_or_empty() {
        let f = scan_plain("secrets/staging.yaml", "db:\n  password: x\n");
        assert_eq!(f[0].detector, "secrets-file");
        assert!(scan_plain("secrets/staging.yaml", "# nothing yet\n").is_empty());
        assert!(scan_plain(
            "secrets/staging.yaml",
            "db: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n"
        )
        .is_empty());
        let f = scan_plain(".env", "# c\nA=\nB=\"\"\nC=real\nexport D=1\n");
        assert_eq!(
            f.iter().map(|f| (f.detector, f.line)).collect::<Vec<_>>(),
            [("dotenv-value", Some(4)), ("dotenv-value", Some(5))]
        );
    }

    #[test]
    fn bytes_in_every_encoding() {
        let t = token();
        let line = format!("name: caf\u{e9}\ntoken: {t}\n");
        let latin1: Vec<u8> = line
            .chars()
            .map(|c| u8::try_from(u32::from(c)).expect("a Latin-1 character"))
            .collect();
        let mut le = vec![0xff, 0xfe];
        le.extend(line.encode_utf16().flat_map(u16::to_le_bytes));
        let mut be = vec![0xfe, 0xff];
        be.extend(line.encode_utf16().flat_map(u16::to_be_bytes));
        let bomless: Vec<u8> = line.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let gz = {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(line.as_bytes()).unwrap();
            e.finish().unwrap()
        };
        let mut bin = vec![0u8, 1, 2, 3, 0x89];
        bin.extend(format!("\0{t}\0").bytes());
        for (bytes, enc, line) in [
            (latin1, Encoding::Latin1, Some(2)),
            (le, Encoding::Utf16, Some(2)),
            (be, Encoding::Utf16, Some(2)),
            (bomless, Encoding::Utf16, Some(2)),
            (gz, Encoding::Gzip, Some(2)),
            (bin, Encoding::Strings, None),
        ] {
            let (f, e) = scan_bytes("x.bin", &bytes);
            assert_eq!(e, Some(enc));
            assert_eq!(f.len(), 1, "{enc:?}: {f:?}");
            assert_eq!(
                (f[0].detector, f[0].line),
                ("github-token", line),
                "{enc:?}"
            );
        }
        let (f, e) = scan_bytes("a.zip", b"PK\x03\x04rest");
        assert_eq!(e, None);
        assert_eq!(f[0].detector, "unscanned");
    }

    #[test]
    fn lockfiles_keep_only_prefixed_detectors() {
        let sum = "h1:q8Zr2LmX0vP4kT7yN3bWc1Fh6Jd9Sa5Ge0Ru";
        assert!(scan_text("go.sum", &format!("token_key {sum}\n")).is_empty());
        let t = token();
        assert_eq!(scan_text("yarn.lock", &format!("x {t}\n")).len(), 1);
    }
}
