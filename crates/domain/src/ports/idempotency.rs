//! [`IdempotencyStore`]: remembers the answer to a request sent with an `Idempotency-Key`, so a
//! client retrying after a timeout gets the first answer instead of a second order.
//!
//! The store holds the claim under a unique key, so two server processes on one database can
//! never both run the same key: exactly one insert wins.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use super::StoreError;
use crate::Timestamp;

/// Why a string is not an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an idempotency key is 1 to 255 visible ASCII characters")]
pub struct IdempotencyKeyError;

/// A client-chosen key: 1 to 255 visible ASCII characters (`!` to `~`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The longest key accepted (and the width of the database column).
    pub const MAX_LEN: usize = 255;

    /// The one constructor.
    ///
    /// # Errors
    /// [`IdempotencyKeyError`] when empty, too long, or holding anything but visible ASCII.
    pub fn new(value: &str) -> Result<Self, IdempotencyKeyError> {
        let visible = value.bytes().all(|b| b.is_ascii_graphic());
        if value.is_empty() || value.len() > Self::MAX_LEN || !visible {
            return Err(IdempotencyKeyError);
        }
        Ok(Self(value.to_owned()))
    }

    /// The key as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A finished request's answer, kept opaque: a status code and the body bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The status code sent.
    pub status: u16,
    /// The body sent.
    pub body: Vec<u8>,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key was free (or abandoned long enough to be taken over): the caller runs the
    /// request and then completes or releases the claim.
    Acquired,
    /// Another request with this key is running now.
    InProgress {
        /// The fingerprint that request was claimed with.
        fingerprint: String,
    },
    /// A request with this key finished.
    Completed {
        /// The fingerprint it was claimed with.
        fingerprint: String,
        /// Its answer.
        response: StoredResponse,
    },
}

/// Claims, answers and forgets idempotency keys.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for a request with `fingerprint` (a digest of what was asked). An
    /// in-progress claim older than `stale_after` belongs to a request that died with its
    /// process and MAY be taken over (reported as [`Claim::Acquired`]); at most one claimer
    /// wins a takeover.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer; a concurrent claim
    /// of the same key is not an error but [`Claim::InProgress`].
    async fn claim(
        &self,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: Timestamp,
        stale_after: Duration,
    ) -> Result<Claim, StoreError>;

    /// Stores the answer of a claimed key.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn complete(
        &self,
        key: &IdempotencyKey,
        response: StoredResponse,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Forgets a claimed key whose request ended without an answer worth replaying (a
    /// transient failure), so that the client's retry runs afresh.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn release(&self, key: &IdempotencyKey) -> Result<(), StoreError>;

    /// Deletes keys created before `before`; returns how many.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn purge(&self, before: Timestamp) -> Result<u64, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert!(IdempotencyKey::new("order-2026-11-25/42").is_ok());
        assert!(IdempotencyKey::new(&"k".repeat(255)).is_ok());
        for bad in ["", "has space", "tab\t", "é", &"k".repeat(256)] {
            assert_eq!(IdempotencyKey::new(bad), Err(IdempotencyKeyError), "{bad:?}");
        }
    }
}
