//! Shamir secret sharing of the data key across key groups, byte-compatible
//! with sops (a fork of Vault's implementation).
//!
//! COMPAT(sops): arithmetic in GF(2^8) with the AES polynomial
//! x^8+x^4+x^3+x+1 (0x11B); for each key byte a random polynomial of degree
//! threshold-1 whose constant term is the byte; the share of group i is the
//! 32 evaluations at x = i+1 followed by the x byte itself (33 bytes).
//! Combining is Lagrange interpolation at x = 0.

use zeroize::Zeroizing;

use super::data_key::{DataKey, DATA_KEY_LEN};

/// GF(2^8) multiplication, reduced by 0x11B; branch-free in its operands.
fn mul(mut a: u8, mut b: u8) -> u8 {
    let mut product = 0u8;
    for _ in 0..8 {
        product ^= a & 0u8.wrapping_sub(b & 1);
        let carry = 0u8.wrapping_sub(a >> 7);
        a = (a << 1) ^ (0x1B & carry);
        b >>= 1;
    }
    product
}

/// Multiplicative inverse (a^254); `inv(0)` is 0, never used as a divisor.
fn inv(a: u8) -> u8 {
    let mut result = 1u8;
    let mut base = a;
    let mut e = 254u8;
    while e > 0 {
        if e & 1 == 1 {
            result = mul(result, base);
        }
        base = mul(base, base);
        e >>= 1;
    }
    result
}

/// Why shares could not be combined.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShamirError {
    /// Fewer shares than needed, or malformed ones.
    #[error("{0}")]
    Invalid(&'static str),
}

/// The x coordinate of share `i` (1-based: x = 0 is the secret itself).
/// `i < parts <= 255`, so it always fits a byte.
fn share_x(i: usize) -> u8 {
    u8::try_from(i + 1).unwrap_or(u8::MAX)
}

/// Splits `key` into `parts` shares, any `threshold` of which rebuild it.
pub fn split(
    key: &DataKey,
    parts: u8,
    threshold: u8,
) -> Result<Vec<Zeroizing<Vec<u8>>>, ShamirError> {
    if threshold < 2 || parts < threshold {
        return Err(ShamirError::Invalid(
            "a Shamir split needs 2 <= threshold <= parts",
        ));
    }
    let mut shares: Vec<Zeroizing<Vec<u8>>> = (0..parts)
        .map(|_| Zeroizing::new(Vec::with_capacity(DATA_KEY_LEN + 1)))
        .collect();
    let mut coefficients = Zeroizing::new(vec![0u8; threshold as usize - 1]);
    for &secret_byte in key.expose() {
        getrandom::fill(&mut coefficients)
            .expect("the operating system's random number generator failed");
        for (i, share) in shares.iter_mut().enumerate() {
            let x = share_x(i);
            // Horner's rule, highest degree first.
            let mut y = 0u8;
            for &c in coefficients.iter().rev() {
                y = mul(y, x) ^ c;
            }
            y = mul(y, x) ^ secret_byte;
            share.push(y);
        }
    }
    for (i, share) in shares.iter_mut().enumerate() {
        share.push(share_x(i));
    }
    Ok(shares)
}

/// Rebuilds the data key from shares (each 32 y-bytes then the x byte).
pub fn combine(shares: &[Zeroizing<Vec<u8>>]) -> Result<DataKey, ShamirError> {
    if shares.len() < 2 {
        return Err(ShamirError::Invalid(
            "at least two Shamir shares are needed",
        ));
    }
    if shares.iter().any(|s| s.len() != DATA_KEY_LEN + 1) {
        return Err(ShamirError::Invalid("a Shamir share is not 33 bytes"));
    }
    let xs: Vec<u8> = shares.iter().map(|s| s[DATA_KEY_LEN]).collect();
    for (i, a) in xs.iter().enumerate() {
        if *a == 0 || xs[i + 1..].contains(a) {
            return Err(ShamirError::Invalid(
                "Shamir shares have duplicate or zero x coordinates",
            ));
        }
    }
    let mut key = Zeroizing::new([0u8; DATA_KEY_LEN]);
    for (byte, out) in key.iter_mut().enumerate() {
        let mut acc = 0u8;
        for (i, share) in shares.iter().enumerate() {
            let mut basis = 1u8;
            for (j, xj) in xs.iter().enumerate() {
                if i != j {
                    basis = mul(basis, mul(*xj, inv(xs[i] ^ xj)));
                }
            }
            acc ^= mul(share[byte], basis);
        }
        *out = acc;
    }
    DataKey::from_slice(&key[..]).ok_or(ShamirError::Invalid("bad key length"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_arithmetic() {
        // FIPS-197 example: {57} x {83} = {c1}.
        assert_eq!(mul(0x57, 0x83), 0xc1);
        for a in 1..=255u8 {
            assert_eq!(mul(a, inv(a)), 1, "{a}");
        }
    }

    #[test]
    fn split_and_combine() {
        let key = DataKey::generate();
        let shares = split(&key, 3, 2).unwrap();
        assert_eq!(shares[2][32], 3);
        for pair in [[0, 1], [1, 2], [0, 2]] {
            let chosen: Vec<_> = pair.iter().map(|&i| shares[i].clone()).collect();
            assert_eq!(combine(&chosen).unwrap().expose(), key.expose());
        }
        assert!(combine(&shares[..1]).is_err());
    }
}
