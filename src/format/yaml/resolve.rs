//! Scalar typing as go-yaml v3 resolves it (sops parses YAML with go-yaml v3),
//! so that a value gets the same sops `type:` here as in sops.
//!
//! Invariants: only *plain* untagged scalars are typed by their text; quoted
//! and block scalars are strings; explicit core tags force a type. Nothing
//! here formats a value into an error.

use std::borrow::Cow;

use granit_parser::{ScalarStyle, Tag};

use crate::format::text::is_plain_decimal;

/// What a scalar resolves to; the payload is the canonical text for
/// [`crate::format::Leaf::value`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    Null,
    Bool(bool),
    /// Canonical decimal.
    Int(String),
    /// Source text when plain decimal, else Rust's `f64` display.
    Float(String),
    /// Go `time.RFC3339Nano`.
    Time(String),
    Str,
}

/// Resolves an untagged plain scalar.
pub(crate) fn resolve_plain(s: &str) -> Resolved {
    // Only these first bytes can start a non-string (the words below, a
    // number, a timestamp): keys and `ENC[...]` values skip the rest.
    if let Some(&first) = s.as_bytes().first() {
        if !(first.is_ascii_digit()
            || matches!(
                first,
                b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'~' | b'.' | b'+' | b'-'
            ))
        {
            return Resolved::Str;
        }
    }
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN.to_string()),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY.to_string())
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY.to_string()),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if first == b'.' {
        // COMPAT(sops): go-yaml tries strconv.ParseFloat on a leading '.'.
        return match go_parse_float(s) {
            Some(f) => Resolved::Float(float_text(s, f)),
            None => Resolved::Str,
        };
    }
    if !(first.is_ascii_digit() || first == b'+' || first == b'-') {
        return Resolved::Str;
    }
    if let Some(t) = parse_timestamp(s) {
        return Resolved::Time(t);
    }
    // Most numbers have no `_`: no copy of them.
    let plain: Cow<'_, str> = if s.contains('_') {
        Cow::Owned(s.chars().filter(|&c| c != '_').collect())
    } else {
        Cow::Borrowed(s)
    };
    if let Some(i) = go_parse_int_base0(&plain) {
        return Resolved::Int(i.to_string());
    }
    if is_yaml_style_float(&plain) {
        // COMPAT(sops): an out-of-range float (1e400) fails ParseFloat and
        // stays a string in go-yaml. Integers beyond i64 land here as floats
        // (go-yaml gives uint64 there, which sops cannot encrypt at all).
        return match plain.parse::<f64>() {
            Ok(f) if f.is_finite() => Resolved::Float(float_text(s, f)),
            _ => Resolved::Str,
        };
    }
    for (prefix, neg) in [("0b", false), ("-0b", true), ("0o", false), ("-0o", true)] {
        if let Some(rest) = plain.strip_prefix(prefix) {
            let radix = if prefix.ends_with('b') { 2 } else { 8 };
            if let Some(v) = parse_radix(rest, radix, neg) {
                return Resolved::Int(v.to_string());
            }
        }
    }
    Resolved::Str
}

/// The text of a float leaf: the source when it is plain decimal, else the
/// `f64` display.
pub(crate) fn float_text(src: &str, f: f64) -> String {
    if is_plain_decimal(src, b"e") {
        src.to_owned()
    } else {
        f.to_string()
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat` for inputs starting with '.', restricted to
/// decimal forms (hex floats cannot start with '.').
fn go_parse_float(s: &str) -> Option<f64> {
    if !s
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-' | b'_'))
    {
        return None;
    }
    if s.contains('_') {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Go's `strconv.ParseInt(s, 0, 64)` (underscores already removed).
fn go_parse_int_base0(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(r) = lower.strip_prefix("0x") {
        (16, r)
    } else if let Some(r) = lower.strip_prefix("0o") {
        (8, r)
    } else if let Some(r) = lower.strip_prefix("0b") {
        (2, r)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    parse_radix(digits, radix, neg)
}

fn parse_radix(digits: &str, radix: u32, neg: bool) -> Option<i64> {
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mag = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        i64::try_from(-i128::from(mag)).ok()
    } else {
        i64::try_from(mag).ok()
    }
}

/// go-yaml v3 `parseTimestamp` with its `allowedTimestampFormats`:
/// `2006-1-2T15:4:5.999999999Z07:00`, the same with `t`,
/// `2006-1-2 15:4:5.999999999` (UTC) and `2006-1-2`. Returns the Go
/// `RFC3339Nano` text.
pub(crate) fn parse_timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let year: i32 = s[..4].parse().ok()?;
    let mut i = 5;
    let month = num12(b, &mut i)?;
    if b.get(i) != Some(&b'-') {
        return None;
    }
    i += 1;
    let day = num12(b, &mut i)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    if i == b.len() {
        return Some(format!("{date}T00:00:00Z"));
    }
    let sep = b[i];
    if !matches!(sep, b'T' | b't' | b' ') {
        return None;
    }
    i += 1;
    let hour = num12(b, &mut i)?;
    if b.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    let min = num12(b, &mut i)?;
    if b.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    let sec = num12(b, &mut i)?;
    if hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    let mut frac = String::new();
    if i + 1 < b.len() && matches!(b[i], b'.' | b',') && b[i + 1].is_ascii_digit() {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            if frac.len() < 9 {
                frac.push(b[i] as char);
            }
            i += 1;
        }
    }
    while frac.ends_with('0') {
        frac.pop();
    }
    let zone = if sep == b' ' {
        if i != b.len() {
            return None;
        }
        "Z".to_owned()
    } else {
        match b.get(i) {
            Some(b'Z') if i + 1 == b.len() => "Z".to_owned(),
            Some(&c) if (c == b'+' || c == b'-') && b.len() == i + 6 => {
                let hh = &s[i + 1..i + 3];
                let mm = &s[i + 4..i + 6];
                if b[i + 3] != b':' || !hh.bytes().chain(mm.bytes()).all(|c| c.is_ascii_digit()) {
                    return None;
                }
                let (h, m): (u32, u32) = (hh.parse().ok()?, mm.parse().ok()?);
                if h > 24 || m > 59 {
                    return None;
                }
                if h == 0 && m == 0 {
                    "Z".to_owned()
                } else {
                    format!("{}{hh}:{mm}", c as char)
                }
            }
            _ => return None,
        }
    };
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(".{frac}")
    };
    Some(format!("{date}T{hour:02}:{min:02}:{sec:02}{frac}{zone}"))
}

/// One or two digits (Go's non-padded layout elements).
fn num12(b: &[u8], i: &mut usize) -> Option<u32> {
    let st = *i;
    while *i < b.len() && *i - st < 2 && b[*i].is_ascii_digit() {
        *i += 1;
    }
    if *i == st {
        return None;
    }
    std::str::from_utf8(&b[st..*i]).ok()?.parse().ok()
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Whether YAML 1.1 readers would take this plain text as a non-string
/// (`yes`, `off`, ...); we quote those too, so older tools agree.
pub(crate) fn is_yaml11_special(s: &str) -> bool {
    // Compared without lowering a copy: this runs for every value written.
    const WORDS: [&str; 12] = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "<<", "=",
    ];
    (s.len() <= 5 && WORDS.iter().any(|w| s.eq_ignore_ascii_case(w))) || yaml11_number_or_time(s)
}

/// Whether `s` is a YAML 1.1 base-60 number (`16:9`, `1:30:00.5`) or a
/// YAML 1.1 timestamp that go-yaml v3 reads as a string (`2001-12-14
/// 21:59:43.10 -5`): PyYAML, Ansible and Home Assistant read them as a
/// number (`16:9` is 969) or a datetime, so such a string is quoted.
fn yaml11_number_or_time(s: &str) -> bool {
    use std::sync::LazyLock;
    // Cheap filter first: this runs for every string written.
    let b = s.as_bytes();
    let starts_numeric = b
        .first()
        .is_some_and(|c| c.is_ascii_digit() || matches!(c, b'+' | b'-'));
    if !starts_numeric || !s.contains(':') {
        return false;
    }
    static RE: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(concat!(
            r"^(?:[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?",
            r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}",
            r"(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$"
        ))
        .expect("valid regex")
    });
    RE.is_match(s)
}

/// The type of a data scalar, honouring core tags.
pub(crate) fn type_scalar(
    v: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
) -> Result<Resolved, &'static str> {
    if let Some(t) = tag {
        if t.handle() != "tag:yaml.org,2002:" {
            // Custom and non-specific tags: the text as a string.
            return Ok(Resolved::Str);
        }
        let r = resolve_plain(v);
        return match t.suffix() {
            "str" | "binary" => Ok(Resolved::Str),
            "null" => Ok(Resolved::Null),
            "bool" => match r {
                Resolved::Bool(_) => Ok(r),
                _ => Err("a !!bool value that is not a boolean"),
            },
            "int" => match r {
                Resolved::Int(_) => Ok(r),
                _ => Err("an !!int value that is not an integer"),
            },
            "float" => match r {
                Resolved::Float(_) => Ok(r),
                Resolved::Int(i) => Ok(Resolved::Float(i)),
                _ => Err("a !!float value that is not a number"),
            },
            "timestamp" => parse_timestamp(v)
                .map(Resolved::Time)
                .ok_or("a !!timestamp value that is not a timestamp"),
            "map" | "seq" => Err("a collection tag on a scalar"),
            _ => Ok(Resolved::Str),
        };
    }
    if style == ScalarStyle::Plain {
        Ok(resolve_plain(v))
    } else {
        Ok(Resolved::Str)
    }
}

/// A metadata scalar as JSON: typed like data, timestamps kept as text.
pub(super) fn meta_scalar(v: &str, style: ScalarStyle, tag: Option<&Tag>) -> serde_json::Value {
    use serde_json::Value;
    match type_scalar(v, style, tag) {
        Ok(Resolved::Null) => Value::Null,
        Ok(Resolved::Bool(b)) => Value::Bool(b),
        Ok(Resolved::Int(i)) => serde_json::from_str::<serde_json::Number>(&i)
            .map(Value::Number)
            .unwrap_or_else(|_| Value::String(v.to_owned())),
        Ok(Resolved::Float(f)) => serde_json::from_str::<serde_json::Number>(&f)
            .map(Value::Number)
            .unwrap_or_else(|_| Value::String(v.to_owned())),
        _ => Value::String(Cow::Borrowed(v).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml11_special_words_in_any_case() {
        for s in [
            "Yes", "NO", "oN", "OFF", "True", "NULL", "~", "<<", "=", "y", "N",
        ] {
            assert!(is_yaml11_special(s), "{s}");
        }
        for s in [
            "yess",
            "",
            "nope",
            "offf",
            "tru",
            "\u{e9}",
            "YES ",
            "nul\u{130}",
        ] {
            assert!(!is_yaml11_special(s), "{s}");
        }
    }

    #[test]
    fn resolves_like_go_yaml() {
        use Resolved::*;
        let i = |s: &str| Int(s.to_owned());
        let f = |s: &str| Float(s.to_owned());
        let t = |s: &str| Time(s.to_owned());
        let cases = [
            ("", Null),
            ("~", Null),
            ("NULL", Null),
            ("nULL", Str),
            ("True", Bool(true)),
            ("yes", Str),
            ("off", Str),
            ("017", i("15")),
            ("08", f("08")),
            ("1_000", i("1000")),
            ("+0x10", i("16")),
            ("-0x10", i("-16")),
            ("0o17", i("15")),
            ("0b101", i("5")),
            ("12345678901234567890", f("12345678901234567890")),
            ("-9223372036854775808", i("-9223372036854775808")),
            (".5", f("0.5")),
            ("1e3", f("1e3")),
            ("1E3", f("1000")),
            ("1e400", Str),
            ("-.Inf", f("-inf")),
            (".nan", f("NaN")),
            ("1.", f("1")),
            ("2024-1-2", t("2024-01-02T00:00:00Z")),
            ("2024-01-02t10:00:00Z", t("2024-01-02T10:00:00Z")),
            ("2024-01-02 10:00:00", t("2024-01-02T10:00:00Z")),
            (
                "2024-01-02T10:00:00.123456789+02:00",
                t("2024-01-02T10:00:00.123456789+02:00"),
            ),
            ("2024-01-02T10:00:00.500+00:00", t("2024-01-02T10:00:00.5Z")),
            ("2024-01-02T10:00:00", Str),
            ("2024-01-02 10:00:00 +02:00", Str),
            ("2024-02-30", Str),
            ("2024-02-29", t("2024-02-29T00:00:00Z")),
            ("3.11.0", Str),
            ("0x", Str),
            ("-", Str),
            ("+", Str),
            ("<<", Str),
        ];
        for (src, want) in cases {
            assert_eq!(resolve_plain(src), want, "{src:?}");
        }
    }
}
