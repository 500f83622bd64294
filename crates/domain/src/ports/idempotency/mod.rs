//! [`IdempotencyStore`]: remembers the answer to a request sent with an `Idempotency-Key`, so a
//! client retrying after a timeout gets the first answer instead of a second order.
//!
//! The store holds the claim under a unique key, so two server processes on one database can
//! never both run the same key: exactly one insert wins.
//!
//! Exactly once, whatever fails in between: the request that holds a key records its
//! [`Effect`] in the same transaction as the effect itself ([`KeyEffect`] on a
//! [`Changeset`](super::Changeset)). "Committed" and "the key knows it" therefore cannot come
//! apart: a key whose request died after its commit, lost its connection during `COMMIT` or
//! timed out is found [`Claim::Committed`] by the retry, which rebuilds the answer from the
//! effect instead of acting again. A stale claim is only taken over when nothing committed
//! under it, and the taking over gives the key a new [`ClaimToken`], so the request that lost
//! its claim can no longer commit under the key.

use std::time::Duration;

mod key;

use async_trait::async_trait;

pub use self::key::{ClaimToken, Effect, IdempotencyKey, IdempotencyKeyError, KeyClaim, KeyEffect};
use super::StoreError;
use crate::Timestamp;

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
    /// The key was free (or abandoned long enough to be taken over, with nothing committed
    /// under it): the caller runs the request under this token and then completes or releases
    /// the claim.
    Acquired(ClaimToken),
    /// Another request with this key is running now.
    InProgress {
        /// The fingerprint that request was claimed with.
        fingerprint: String,
    },
    /// A request with this key committed its effect, but its answer was never stored (its
    /// process died, its connection was cut during `COMMIT`, it timed out): the answer is
    /// rebuilt from the effect, and nothing is done again.
    Committed {
        /// The fingerprint it was claimed with.
        fingerprint: String,
        /// What it did.
        effect: Effect,
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
    /// Claims `key` for a request with `fingerprint` (a digest of what was asked), under a new
    /// [`ClaimToken`]. An in-progress claim older than `stale_after` belongs to a request that
    /// died with its process and MAY be taken over (reported as [`Claim::Acquired`] with a new
    /// token) — but only when no effect was committed under it, which is then
    /// [`Claim::Committed`] however old; at most one claimer wins a takeover.
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

    /// Stores the answer of a claimed key, when `claim` still holds it (a request whose
    /// claim was taken over stores nothing).
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn complete(
        &self,
        claim: &KeyClaim,
        response: StoredResponse,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Forgets a claimed key whose request ended without an answer worth replaying (a
    /// transient failure), so that the client's retry runs afresh — unless an effect was
    /// committed under it (the failure came after the commit), or `claim` no longer holds it.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn release(&self, claim: &KeyClaim) -> Result<(), StoreError>;

    /// Deletes keys created before `before`; returns how many.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn purge(&self, before: Timestamp) -> Result<u64, StoreError>;
}
