//! [`Lease`]: a named, time-limited right to do a job that only one process should do at a
//! time (expiring due reservations), shared through the store by every server process.
//!
//! A lease is an optimisation, not a lock that correctness rests on: whatever a holder writes
//! is still a versioned write, so two processes that both believe they hold it (a holder
//! paused past its lease, clocks apart by more than the slack) only race as they would
//! without it.

use async_trait::async_trait;

use super::StoreError;
use crate::Timestamp;

/// Named leases in the store.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Lease: Send + Sync {
    /// Takes the lease `name` for `holder` until `until`, or renews it when `holder` already
    /// holds it; returns whether `holder` holds it now.
    ///
    /// The lease is free when nobody ever took it or when its holder's `until` is before
    /// `now`. Of several holders asking at once for a free lease exactly one MUST get `true`;
    /// a lease held by someone else and not yet lapsed MUST NOT be taken (`false`, nothing
    /// written). Renewal MUST move the lease's end to `until`.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer; the caller then
    /// cannot know whether it holds the lease and should act as if it did not.
    async fn try_acquire(
        &self,
        name: &str,
        holder: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Ends `holder`'s lease `name` at `now`, so that the next process to ask takes it over at
    /// once instead of after it lapses (a holder that stops cleanly). Does nothing when
    /// `holder` does not hold it.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer; the lease then
    /// lapses on its own.
    async fn release(&self, name: &str, holder: &str, now: Timestamp) -> Result<(), StoreError>;
}
