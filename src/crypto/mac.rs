//! The file MAC: an unkeyed SHA-512 over the plaintext of every value, in
//! document order, whose uppercase hex is then encrypted with the data key
//! and `lastmodified` as AAD.
//!
//! COMPAT(sops): no keys, types or separators are hashed; nulls and comments
//! are skipped by the caller; with `mac_only_encrypted` the hash starts with
//! SHA-256("sops") and only encrypted values are fed. Each value is hashed
//! in the encoding sops' `ToBytes` gives its Go value: strings and times as
//! they are, ints in decimal, floats as Go `FormatFloat(v, 'f', -1, 64)`,
//! booleans as `True`/`False`.

use sha2::{Digest, Sha256, Sha512};
use std::borrow::Cow;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::TypeTag;

/// How many bytes of plaintext are gathered before SHA-512 sees them: one
/// `Sha512::update` per value (most are a few bytes) cost as much as the
/// hashing itself.
const CHUNK: usize = 8 * 1024;

/// Accumulates the MAC over a document's values.
pub struct MacHasher {
    hash: Sha512,
    /// SECURITY: plaintext; never grown (a grown `Vec` leaves its old
    /// buffer unwiped), and wiped on drop.
    buf: Zeroizing<Vec<u8>>,
}

impl MacHasher {
    /// Starts a MAC; `mac_only_encrypted` adds sops' domain prefix.
    pub fn new(mac_only_encrypted: bool) -> Self {
        let mut hash = Sha512::new();
        if mac_only_encrypted {
            hash.update(Sha256::digest(b"sops"));
        }
        Self {
            hash,
            buf: Zeroizing::new(Vec::with_capacity(CHUNK)),
        }
    }

    /// Feeds one value's plaintext, in the encoding for its type.
    pub fn update(&mut self, ty: TypeTag, plaintext: &str) {
        match ty {
            TypeTag::Float => self.write(go_float(plaintext).as_bytes()),
            TypeTag::Bool => self.write(if parse_go_bool(plaintext).unwrap_or(false) {
                b"True".as_slice()
            } else {
                b"False".as_slice()
            }),
            _ => self.write(plaintext.as_bytes()),
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        if self.buf.len() + bytes.len() > CHUNK {
            self.hash.update(self.buf.as_slice());
            self.buf.clear();
            if bytes.len() > CHUNK {
                self.hash.update(bytes);
                return;
            }
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The uppercase hex digest (128 characters).
    pub fn finish(mut self) -> String {
        self.hash.update(self.buf.as_slice());
        let digest: [u8; 64] = self.hash.finalize().into();
        crate::seal::hex(&digest)
    }
}

/// Compares a computed MAC with the stored one in constant time.
pub fn macs_equal(computed: &str, stored: &str) -> bool {
    computed.len() == stored.len() && bool::from(computed.as_bytes().ct_eq(stored.as_bytes()))
}

/// Go's `strconv.ParseBool`, which decides how sops hashes a bool. It lives
/// with the formats' other Go spellings; kept here too for callers that
/// name it at this path.
pub use crate::format::text::parse_go_bool;

/// The text Go's `FormatFloat(ParseFloat(s), 'f', -1, 64)` gives: shortest
/// round-trip digits, never an exponent. Rust's `Display` for `f64` has the
/// same contract; only the infinities and NaN are spelled differently.
/// Unparseable text is hashed as it is (sops would have refused it).
pub fn go_float_text(s: &str) -> String {
    go_float(s).into_owned()
}

/// [`go_float_text`], borrowing `s` when it already is that text.
fn go_float(s: &str) -> Cow<'_, str> {
    if is_shortest_decimal(s) {
        return Cow::Borrowed(s);
    }
    let cleaned: String = s.chars().filter(|c| *c != '_').collect();
    let lowered = cleaned.to_ascii_lowercase();
    let parsed = match lowered.trim_start_matches(['+', '-']) {
        ".inf" | "inf" | "infinity" => Some(if lowered.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }),
        ".nan" | "nan" => Some(f64::NAN),
        _ => cleaned.parse::<f64>().ok(),
    };
    Cow::Owned(match parsed {
        Some(v) if v.is_nan() => "NaN".to_owned(),
        Some(v) if v == f64::INFINITY => "+Inf".to_owned(),
        Some(v) if v == f64::NEG_INFINITY => "-Inf".to_owned(),
        Some(v) => format!("{v}"),
        None => s.to_owned(),
    })
}

/// Whether `s` is already what [`go_float_text`] prints: `-?` then
/// `0` or digits without a leading zero, then optionally `.` and digits
/// not ending in `0`, at most 15 digits in all. Any decimal of at most 15
/// significant digits survives the round trip through an `f64`, and a
/// shorter one is another number, so the shortest round-trip text is the
/// text itself (the common `0.25`, `1.5`, `3`; the parse and format cost
/// a tenth of a decrypt's MAC).
fn is_shortest_decimal(s: &str) -> bool {
    let b = s.as_bytes();
    let b = b.strip_prefix(b"-").unwrap_or(b);
    let (int, frac) = match b.iter().position(|&c| c == b'.') {
        Some(dot) => (&b[..dot], Some(&b[dot + 1..])),
        None => (b, None),
    };
    let digits = |p: &[u8]| p.iter().all(u8::is_ascii_digit);
    let int_ok = int == b"0" || (!int.is_empty() && int[0] != b'0' && digits(int));
    let frac_ok = match frac {
        None => true,
        Some(f) => !f.is_empty() && digits(f) && f.last() != Some(&b'0'),
    };
    int_ok && frac_ok && int.len() + frac.map_or(0, <[u8]>::len) <= 15
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_hashed_as_go_prints_them() {
        assert_eq!(go_float_text("1.50"), "1.5");
        assert_eq!(go_float_text("5432"), "5432");
        assert_eq!(go_float_text("1e21"), "1000000000000000000000");
        assert_eq!(
            go_float_text("12345678901234567890"),
            "12345678901234567000"
        );
        assert_eq!(go_float_text("-0.0"), "-0");
        assert_eq!(go_float_text(".inf"), "+Inf");
        assert_eq!(go_float_text("-.Inf"), "-Inf");
        assert_eq!(go_float_text(".nan"), "NaN");
        assert_eq!(go_float_text("0.1"), "0.1");
    }

    #[test]
    fn the_short_path_gives_what_the_parse_gives() {
        // The texts taken as they are must be what parse-and-print gives.
        for s in [
            "0",
            "-0",
            "3",
            "0.25",
            "1.5",
            "-12.125",
            "5400",
            "123456789012345",
            "0.00000000000001",
            "99999999999999.9",
        ] {
            assert!(is_shortest_decimal(s), "{s}");
            assert_eq!(format!("{}", s.parse::<f64>().unwrap()), s);
        }
        // And so for pseudo-random decimals of up to 15 digits.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        // A number below `n` (at most 16).
        let mut next = move |n: u8| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed.to_le_bytes()[0] % n
        };
        let mut taken = 0;
        for _ in 0..20_000 {
            let len = 1 + next(15);
            let mut digits: String = (0..len).map(|_| char::from(b'0' + next(10))).collect();
            let dot = usize::from(next(len + 1));
            if dot < digits.len() {
                digits.insert(dot, '.');
                if dot == 0 {
                    digits.insert(0, '0');
                }
            }
            if next(2) == 0 {
                digits.insert(0, '-');
            }
            if is_shortest_decimal(&digits) {
                taken += 1;
                let v: f64 = digits.parse().unwrap();
                assert_eq!(format!("{v}"), digits);
            }
        }
        assert!(taken > 5000, "only {taken} taken");
        // Everything else goes through the parse.
        for s in [
            "1.50",
            "01",
            "+1",
            "1.",
            ".5",
            "1e3",
            "1_000",
            "0.1234567890123456",
            "1234567890123456",
            "-",
            "",
            "1.5.2",
            "0x10",
            "-0.0",
        ] {
            assert!(!is_shortest_decimal(s), "{s}");
        }
        assert_eq!(go_float_text("1_000"), "1000");
    }

    #[test]
    fn mac_matches_the_python_vectors() {
        // testdata/seal/vectors.py, with hashlib: values longer and shorter
        // than the hasher's buffer, floats and bools in sops' encoding.
        let long = "x".repeat(20000);
        let feed = |h: &mut MacHasher| {
            h.update(TypeTag::Str, "s3cret");
            h.update(TypeTag::Int, "8080");
            h.update(TypeTag::Float, "1.50");
            h.update(TypeTag::Bool, "true");
            h.update(TypeTag::Bool, "false");
            h.update(TypeTag::Str, &long);
            h.update(TypeTag::Float, "0.25");
        };
        let mut h = MacHasher::new(false);
        feed(&mut h);
        assert_eq!(h.finish(), "84E439B3547E30471C1C7A333DD429D2C624E7CC2562E311B5870F4F0BBE76F5958C4DC14237E7A4E4E46CCAA421CCD493C55867A092913ADC06FF95E7971F45");
        let mut h = MacHasher::new(true);
        feed(&mut h);
        assert_eq!(h.finish(), "84223A2E37F3AD3E629A7081E105E51903BE2BD6CC7713F8198699CAEFFE0234A759C8BA7DDB3C8A47E7A45141A5329FDDEED590A5A25FF283D54FC1EA7A1A3D");
        // Many small values across the buffer's boundaries.
        let mut h = MacHasher::new(false);
        let mut all = Vec::new();
        for i in 0..5000 {
            let v = format!("value-{i}");
            h.update(TypeTag::Str, &v);
            all.extend_from_slice(v.as_bytes());
        }
        let direct: String = Sha512::digest(&all)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        assert_eq!(h.finish(), direct);
    }

    #[test]
    fn mac_only_prefix_changes_the_digest() {
        let mut a = MacHasher::new(false);
        let mut b = MacHasher::new(true);
        a.update(TypeTag::Str, "x");
        b.update(TypeTag::Str, "x");
        assert_ne!(a.finish(), b.finish());
    }

    #[test]
    fn hashes_concatenated_encodings() {
        let mut h = MacHasher::new(false);
        h.update(TypeTag::Str, "ab");
        h.update(TypeTag::Bool, "true");
        h.update(TypeTag::Float, "1.50");
        let direct = Sha512::digest(b"abTrue1.5");
        let hex: String = direct.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(h.finish(), hex);
    }

    #[test]
    fn constant_time_compare() {
        assert!(macs_equal("ABC", "ABC"));
        assert!(!macs_equal("ABC", "ABD"));
        assert!(!macs_equal("ABC", "AB"));
    }
}
