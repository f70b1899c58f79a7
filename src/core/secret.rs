//! Randomness, digests and constant-time comparison for every secret Navis handles.
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Base62: tokens made of it survive double-click selection and every shell.
pub const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` characters drawn uniformly from the base62 alphabet (rejection sampling, no modulo bias).
/// Each character carries log2(62) ≈ 5.95 bits.
pub fn random_base62(n: usize) -> String {
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        fill_random(&mut buf);
        for &b in &buf {
            // 248 = 62 * 4: values at or above it would bias the low symbols.
            if b < 248 && out.len() < n {
                out.push(BASE62[(b % 62) as usize] as char);
            }
        }
    }
    out
}

pub fn fill_random(buf: &mut [u8]) {
    // The OS generator failing is not recoverable: no secret may be made without it.
    #[allow(clippy::expect_used)]
    getrandom::fill(buf).expect("the operating system's random number generator failed");
}

/// A URL-safe random string with `bytes` bytes of entropy.
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    let mut buf = vec![0u8; bytes];
    fill_random(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// The stored form of a high-entropy secret. SHA-256 suffices: these secrets are
/// not guessable, so a slow hash would only slow the request path.
pub fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

pub fn digest_hex(secret: &str) -> String {
    hex(&digest(secret))
}

pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_base62_has_the_requested_length_and_alphabet() {
        let s = random_base62(43);
        assert_eq!(s.len(), 43);
        assert!(s.bytes().all(|b| BASE62.contains(&b)));
        assert_ne!(random_base62(43), s);
    }

    #[test]
    fn digests_are_stable_and_compared_in_constant_time() {
        assert_eq!(digest_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(constant_time_eq(&digest("x"), &digest("x")));
        assert!(!constant_time_eq(&digest("x"), &digest("y")));
    }
}
