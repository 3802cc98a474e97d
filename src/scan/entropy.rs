//! How random a candidate value looks, and whether it is a placeholder: the
//! judgement that keeps the generic and context detectors from firing on
//! `changeme`, `${DB_PASSWORD}`, UUIDs, git SHAs, words and code.
//!
//! Everything here is a pure function of the value (and, for the generic
//! detector, the name it is bound to), so each rule is unit-tested below.

/// Shannon entropy of `s` in bits per character.
pub fn shannon(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for b in s.bytes() {
        counts[b as usize] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = f64::from(n);
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = f64::from(*c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Documented example credentials (provider docs, jwt.io): never findings.
const DOCUMENTED_EXAMPLES: &[&str] = &[
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    // jwt.io's sample token signature.
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    // Stripe's documentation key.
    "4eC39HqLyjWDarjtT1zdp7dc",
];

/// Substrings (lowercase) that mark a value as a placeholder.
const PLACEHOLDER_PARTS: &[&str] = &[
    "changeme",
    "change_me",
    "change-me",
    "example",
    "placeholder",
    "your_",
    "your-",
    "yourkey",
    "yourtoken",
    "yoursecret",
    "xxxx",
    "****",
    "...",
    "redacted",
    "replace",
    "dummy",
    "sample",
    "notreal",
    "not_real",
    "not-real",
    "_here",
    "-here",
    "todo",
    "fixme",
    "${",
    "{{",
    "}}",
    "%(",
    "<",
    ">",
];

/// Whole values (lowercase) that are placeholders.
const PLACEHOLDER_WORDS: &[&str] = &[
    "none",
    "null",
    "nil",
    "true",
    "false",
    "password",
    "passwd",
    "secret",
    "token",
    "key",
    "pass",
    "user",
    "username",
    "admin",
    "root",
    "test",
    "empty",
    "undefined",
    "required",
];

/// Whether `value` is a placeholder, a variable reference or a documented
/// example rather than a credential.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() {
        return true;
    }
    if DOCUMENTED_EXAMPLES.iter().any(|e| v.contains(e)) {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.contains(&lower.as_str()) {
        return true;
    }
    if PLACEHOLDER_PARTS.iter().any(|p| lower.contains(p)) {
        return true;
    }
    // `$VAR`, `%VAR%`, `@var`: a reference, not a value.
    if v.starts_with('$') || (v.starts_with('%') && v.ends_with('%')) {
        return true;
    }
    // One character repeated (`00000000`, `aaaaaaaa`).
    let mut chars = v.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return true;
    }
    false
}

/// Whether `v` is a UUID (8-4-4-4-12 hex).
pub fn is_uuid(v: &str) -> bool {
    let parts: Vec<&str> = v.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether `v` is all hex digits.
pub fn is_hex(v: &str) -> bool {
    !v.is_empty() && v.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The longest run of ASCII letters and digits that mixes both.
fn longest_mixed_run(v: &str) -> usize {
    v.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|run| {
            run.bytes().any(|b| b.is_ascii_digit()) && run.bytes().any(|b| b.is_ascii_alphabetic())
        })
        .map(str::len)
        .max()
        .unwrap_or(0)
}

/// Character classes present: lowercase, uppercase, digits, other.
fn classes(v: &str) -> usize {
    [
        v.bytes().any(|b| b.is_ascii_lowercase()),
        v.bytes().any(|b| b.is_ascii_uppercase()),
        v.bytes().any(|b| b.is_ascii_digit()),
        v.bytes().any(|b| !b.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|x| **x)
    .count()
}

/// Names that hold no secret even though they contain `key`, `token`,
/// `secret`... (`public_key`, `key_id`, `token_url`, `cache_key`).
fn benign_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    let n = n.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    const PARTS: &[&str] = &[
        "public",
        "publishable",
        "pubkey",
        "pub_key",
        "recipient",
        "keyboard",
        "monkey",
        "turkey",
        "author",
        "cache",
        "expir",
        "tokenizer",
        "keyspace",
        "fingerprint",
        "checksum",
        "hash",
        "digest",
        "integrity",
    ];
    const SUFFIXES: &[&str] = &[
        "id",
        "ids",
        "name",
        "path",
        "file",
        "url",
        "uri",
        "type",
        "len",
        "length",
        "size",
        "ttl",
        "timeout",
        "header",
        "format",
        "alg",
        "algorithm",
        "prefix",
        "field",
        "ref",
        "version",
        "endpoint",
        "region",
        "count",
        "index",
        "env",
        "dir",
        "mode",
        "policy",
        "lifetime",
    ];
    if PARTS.iter().any(|p| n.contains(p)) {
        return true;
    }
    let last = n.rsplit(['_', '-', '.']).next().unwrap_or(n);
    // camelCase: the last capitalised word of the original name.
    let trimmed = name.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let camel_last = trimmed
        .rfind(|c: char| c.is_ascii_uppercase())
        .map_or(trimmed, |i| &trimmed[i..])
        .to_ascii_lowercase();
    SUFFIXES.contains(&last) || (camel_last != n && SUFFIXES.contains(&camel_last.as_str()))
}

/// Whether an unquoted value is a reference in code (`settings.DB_PASSWORD`,
/// `config.auth.token`): dotted identifiers, not a literal.
pub fn is_code_reference(v: &str) -> bool {
    let segs: Vec<&str> = v.split('.').collect();
    segs.len() >= 2
        && segs.iter().all(|s| {
            let mut c = s.chars();
            c.next()
                .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
                && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        })
}

/// Whether `name` asks for a password (which may be short and less random
/// than a token).
fn password_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["password", "passwd", "passphrase", "pwd"]
        .iter()
        .any(|p| n.contains(p))
}

/// Whether `value`, bound to `name` in an assignment, looks like a real
/// credential: not a placeholder, a reference, a path or URL, a public key,
/// a checksum, a UUID, a word or code; and random enough.
pub fn generic_secret(name: &str, value: &str) -> bool {
    let v = value.trim();
    if v.len() < 8 || v.len() > 400 || v.chars().any(char::is_whitespace) {
        return false;
    }
    if benign_name(name) || is_placeholder(v) || is_uuid(v) {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    const BENIGN_STARTS: &[&str] = &[
        "age1",
        "ssh-",
        "ecdsa-",
        "sk-ssh-",
        "pk_",
        "-----begin public",
        "-----begin certificate",
        "sha1-",
        "sha256",
        "sha384",
        "sha512",
        "md5:",
        "http://",
        "https://",
        "file:",
        "/",
        "./",
        "../",
        "~/",
        "enc[",
        "arn:",
        "process.env",
        "os.environ",
        "os.getenv",
        "env(",
        "env[",
        "env.",
        "var.",
        "local.",
        "data.",
        "module.",
        "vault:",
        "ref+",
        "secretref",
        "op://",
    ];
    if BENIGN_STARTS.iter().any(|p| lower.starts_with(p)) {
        return false;
    }
    // A file name (`server.key`, `creds.json`).
    if let Some((_, ext)) = v.rsplit_once('.') {
        if [
            "pem", "key", "json", "yaml", "yml", "txt", "p12", "pfx", "crt", "env", "gpg",
        ]
        .contains(&ext.to_ascii_lowercase().as_str())
        {
            return false;
        }
    }
    let has_digit = v.bytes().any(|b| b.is_ascii_digit());
    let has_alpha = v.bytes().any(|b| b.is_ascii_alphabetic());
    if password_name(name) {
        // A password: at least 8 characters of three classes, or a long
        // random-looking run.
        return (has_alpha && classes(v) >= 3) || longest_mixed_run(v) >= 10;
    }
    if !(has_digit && has_alpha) {
        return false;
    }
    // A git SHA or checksum under a key-ish name is still a hash if its
    // name says so (handled by `benign_name`); here hex needs length.
    if is_hex(v) {
        return v.len() >= 20 && shannon(v) >= 3.0;
    }
    v.len() >= 12 && longest_mixed_run(v) >= 10 && shannon(v) >= 3.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_orders_random_above_words() {
        assert!(shannon("aaaaaaaa") < 0.01);
        assert!(shannon("q8Zr2LmX0vP4kT7yN3bW") > 4.0);
        assert!(shannon("password") < 3.0);
    }

    #[test]
    fn placeholders_and_documented_examples() {
        for p in [
            "changeme",
            "<your-key>",
            "${API_KEY}",
            "{{ .Values.token }}",
            "xxxxxxxxxxxxxxxx",
            "AKIAIOSFODNN7EXAMPLE",
            "your_api_key_here",
            "$TOKEN",
            "00000000000",
            "null",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        assert!(!is_placeholder("q8Zr2LmX0vP4kT7yN3bW"));
    }

    #[test]
    fn generic_values() {
        assert!(generic_secret("api_key", "q8Zr2LmX0vP4kT7yN3bWc1"));
        assert!(generic_secret("DB_PASSWORD", "hunter2hunter2!"));
        assert!(generic_secret("secret", "9f86d081884c7d659a2feaa0c55ad015"));
        // Not secrets.
        assert!(!generic_secret("api_key", "changeme"));
        assert!(!generic_secret("token", "v1_release_2024"));
        assert!(!generic_secret(
            "token",
            "123e4567-e89b-12d3-a456-426614174000"
        ));
        assert!(!generic_secret("public_key", "q8Zr2LmX0vP4kT7yN3bWc1"));
        assert!(!generic_secret("keyId", "q8Zr2LmX0vP4kT7yN3bWc1"));
        assert!(!generic_secret(
            "cache_key",
            "9fceb02d0ae598e95dc970b74767f19372d61af8"
        ));
        assert!(!generic_secret(
            "recipient_key",
            "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
        ));
        assert!(!generic_secret("password", "passwordpassword"));
        assert!(!generic_secret("tls_key", "/etc/ssl/private/server.key"));
        assert!(!generic_secret("token", "os.getenv"));
        assert!(is_code_reference("settings.DB_PASSWORD"));
        assert!(!is_code_reference("q8Zr2LmX0vP4kT7yN3bWc1"));
        assert!(!generic_secret("secret_key", "django-insecure-words-only"));
    }
}
