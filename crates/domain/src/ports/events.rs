//! [`EventFeed`]: the events the store recorded with each change, read in commit order.

use async_trait::async_trait;

use super::StoreError;
use crate::Timestamp;
use crate::event::{Event, Sequence};

/// Reads the feed. Events are written by the commits that make the changes (the
/// [`UnitOfWork`](super::UnitOfWork) and [`ProductRepository::create`](super::ProductRepository)),
/// each given the next [`Sequence`] in the same transaction, so that a reader who follows the
/// sequence never misses one.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventFeed: Send + Sync {
    /// The sequence of the last event committed ([`Sequence::START`] when there is none).
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn head(&self) -> Result<Sequence, StoreError>;

    /// The events of the next `limit` sequences after `after`, in sequence order (a derived
    /// stock event shares its change's sequence, so there may be more events than sequences).
    /// Every event up to the last one returned MUST be committed and returned: a later call
    /// from the last sequence returned may never find an earlier one appear.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn after(&self, after: Sequence, limit: u32) -> Result<Vec<Event>, StoreError>;

    /// The last sequence purged from the feed ([`Sequence::START`] when none was): the events
    /// up to it are gone, and a page read after a position before it may miss some. A reader
    /// asks after its page, since a purge moves this first and removes events after.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn purged_through(&self) -> Result<Sequence, StoreError>;
}

/// Retention: old events leave the feed (the facts themselves, the ledger and the orders,
/// stay).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventRetention: Send + Sync {
    /// Purges the events committed before `before` that every relay and webhook subscription
    /// has taken: first moves [`EventFeed::purged_through`] past them, then removes them from
    /// the feed. Returns the position purged through (unchanged when nothing could go).
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn purge(&self, before: Timestamp) -> Result<Sequence, StoreError>;
}
