//! The text of an API key and its digest.

use std::fmt::Write as _;

use domain::ports::KeyDigest;
use sha2::{Digest, Sha256};

/// How every API key begins: a secret scanner (or a person) recognises a leaked key by it,
/// and the admin token is told apart without a lookup.
pub const KEY_PREFIX: &str = "ck_";

/// The SHA-256 digest of `key`: what stores keep and look keys up by.
#[must_use]
pub fn digest(key: &str) -> KeyDigest {
    KeyDigest(Sha256::digest(key.as_bytes()).into())
}

/// A key from 256 random bits: [`KEY_PREFIX`] and 64 lower-case hex digits.
pub(super) fn format(secret: &[u8; 32]) -> String {
    secret.iter().fold(String::from(KEY_PREFIX), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

/// The first characters of a key: enough to tell keys apart in a list, 32 bits of 256.
pub(super) fn hint(key: &str) -> String {
    key.chars().take(KEY_PREFIX.len() + 8).collect()
}
