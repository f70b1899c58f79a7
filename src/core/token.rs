//! The bearer token format shared by API keys and (later) OAuth tokens:
//!
//! ```text
//! nops_ 7Hq2mZ0aXk4LwP9c  <43 base62 chars: 256 bits of secret>  <6 base62: CRC-32>
//! └pfx┘ └─ lookup id ───┘                                        └─ checksum ──────┘
//! ```
//!
//! The lookup id finds the row in one indexed query; the checksum rejects a mistyped or
//! truncated token before the database is touched; only a digest of the whole token is stored.
use std::fmt;

use super::secret::{BASE62, random_base62};

pub const ID_LEN: usize = 16;
pub const SECRET_LEN: usize = 43;
pub const CHECKSUM_LEN: usize = 6;
const BODY_LEN: usize = ID_LEN + SECRET_LEN + CHECKSUM_LEN;

/// What a token is, told by its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    ApiKey,
    /// OAuth access token (1 hour).
    Access,
    /// OAuth refresh token (rotated on every use).
    Refresh,
    /// OAuth authorization code (single use, minutes).
    Code,
}

impl TokenKind {
    pub const fn prefix(self) -> &'static str {
        match self {
            TokenKind::ApiKey => "nops_",
            TokenKind::Access => "nopa_",
            TokenKind::Refresh => "nopr_",
            TokenKind::Code => "nopc_",
        }
    }

    const ALL: [TokenKind; 4] = [TokenKind::ApiKey, TokenKind::Access, TokenKind::Refresh, TokenKind::Code];
}

/// A freshly minted token: the plaintext leaves the server once, in the create response.
#[derive(Clone)]
pub struct NewToken {
    pub kind: TokenKind,
    pub id: String,
    pub plaintext: String,
}

impl fmt::Debug for NewToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewToken").field("kind", &self.kind).field("id", &self.id).finish_non_exhaustive()
    }
}

/// A token that passed the format and checksum checks; it may still be unknown to the store.
#[derive(Clone, Copy)]
pub struct ParsedToken<'a> {
    pub kind: TokenKind,
    pub id: &'a str,
    pub plaintext: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFormatError {
    UnknownPrefix,
    WrongLength,
    BadCharacter,
    BadChecksum,
}

pub fn mint(kind: TokenKind) -> NewToken {
    assemble(kind, random_base62(ID_LEN), random_base62(SECRET_LEN))
}

/// A token derived from `seed` under a server `key`: the same inputs give the same token.
/// Refresh rotation uses it so that a retried refresh can be answered with the very successor
/// it already received, although only digests are stored. Without the key, the seed tells
/// nothing about the result.
pub fn mint_derived(kind: TokenKind, key: &[u8], seed: &str, label: &str) -> NewToken {
    let mut stream = DerivedChars::new(key, seed, label);
    let id: String = (0..ID_LEN).map(|_| stream.next_char()).collect();
    let secret: String = (0..SECRET_LEN).map(|_| stream.next_char()).collect();
    assemble(kind, id, secret)
}

/// Base62 characters from HMAC-SHA256 in counter mode, by rejection sampling.
struct DerivedChars<'a> {
    key: &'a [u8],
    seed: &'a str,
    label: &'a str,
    counter: u32,
    block: Vec<u8>,
}

impl<'a> DerivedChars<'a> {
    fn new(key: &'a [u8], seed: &'a str, label: &'a str) -> Self {
        Self { key, seed, label, counter: 0, block: Vec::new() }
    }

    fn next_char(&mut self) -> char {
        use hmac::{Hmac, Mac};
        loop {
            if self.block.is_empty() {
                // HMAC accepts keys of any length, so this cannot fail.
                let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(self.key) else { unreachable!() };
                mac.update(self.label.as_bytes());
                mac.update(&[0]);
                mac.update(self.seed.as_bytes());
                mac.update(&self.counter.to_be_bytes());
                self.counter += 1;
                self.block = mac.finalize().into_bytes().to_vec();
                self.block.reverse();
            }
            if let Some(b) = self.block.pop()
                && b < 248
            {
                return BASE62[(b % 62) as usize] as char;
            }
        }
    }
}

fn assemble(kind: TokenKind, id: String, secret: String) -> NewToken {
    let mut plaintext = String::with_capacity(kind.prefix().len() + BODY_LEN);
    plaintext.push_str(kind.prefix());
    plaintext.push_str(&id);
    plaintext.push_str(&secret);
    let checksum = checksum(&plaintext);
    plaintext.push_str(&checksum);
    NewToken { kind, id, plaintext }
}

pub fn parse(token: &str) -> Result<ParsedToken<'_>, TokenFormatError> {
    let kind = TokenKind::ALL.into_iter().find(|k| token.starts_with(k.prefix())).ok_or(TokenFormatError::UnknownPrefix)?;
    let body = &token[kind.prefix().len()..];
    if body.len() != BODY_LEN {
        return Err(TokenFormatError::WrongLength);
    }
    if !body.bytes().all(|b| BASE62.contains(&b)) {
        return Err(TokenFormatError::BadCharacter);
    }
    let (signed, check) = token.split_at(token.len() - CHECKSUM_LEN);
    if checksum(signed) != check {
        return Err(TokenFormatError::BadChecksum);
    }
    Ok(ParsedToken { kind, id: &body[..ID_LEN], plaintext: token })
}

/// CRC-32 of everything before the checksum, as 6 base62 digits (62^6 > 2^32).
///
/// Public for the fuzz target, which re-assembles parsed tokens with it.
#[doc(hidden)]
pub fn checksum(signed: &str) -> String {
    let mut n = crc32fast::hash(signed.as_bytes()) as u64;
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out.iter().map(|&b| b as char).collect()
}

/// The non-secret identifier shown on the Connected Apps page and by `navis key list`.
pub fn display_id(kind: TokenKind, id: &str) -> String {
    format!("{}{}", kind.prefix(), id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn minted_tokens_parse_back_with_their_id() {
        let t = mint(TokenKind::ApiKey);
        assert!(t.plaintext.starts_with("nops_"));
        assert_eq!(t.plaintext.len(), 5 + 16 + 43 + 6);
        let p = parse(&t.plaintext).map_err(|e| format!("{e:?}")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.id, t.id);
        assert_eq!(p.kind, TokenKind::ApiKey);
    }

    #[test]
    fn secret_carries_at_least_192_bits() {
        assert!((SECRET_LEN as f64) * 62f64.log2() >= 192.0);
    }

    #[test]
    fn truncated_typoed_or_foreign_tokens_are_rejected_without_a_lookup() {
        let t = mint(TokenKind::ApiKey).plaintext;
        assert_eq!(parse(&t[..t.len() - 1]).err(), Some(TokenFormatError::WrongLength));
        assert_eq!(parse("nops_your_token_here").err(), Some(TokenFormatError::WrongLength));
        assert_eq!(parse("ghp_abc").err(), Some(TokenFormatError::UnknownPrefix));
        let mut typo = t.clone().into_bytes();
        typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
        let typo = String::from_utf8(typo).unwrap_or_default();
        assert_eq!(parse(&typo).err(), Some(TokenFormatError::BadChecksum));
        let mut bad = t.clone();
        bad.replace_range(8..9, "-");
        assert_eq!(parse(&bad).err(), Some(TokenFormatError::BadCharacter));
    }

    proptest! {
        #[test]
        fn any_single_character_change_is_detected(pos in 5usize..70, c in "[0-9A-Za-z]") {
            let t = mint(TokenKind::ApiKey).plaintext;
            let mut changed = t.clone();
            changed.replace_range(pos..pos + 1, &c);
            prop_assume!(changed != t);
            prop_assert!(parse(&changed).is_err());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,100}") {
            let _ = parse(&s);
        }
    }
}
