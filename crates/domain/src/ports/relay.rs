//! [`EventSink`] and [`RelayCursors`]: what a relay that sends the feed on to a message broker
//! needs, the broker and the record of how far it got.

use async_trait::async_trait;

use super::{BoxError, StoreError};
use crate::event::{Event, Sequence};

/// Where a relay sends events (NATS JetStream, …).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventSink: Send + Sync {
    /// Sends `events`, in order, and returns once the sink has stored every one of them.
    ///
    /// At least once: after an error, or when the relay stops between this call and recording
    /// its progress, the same events are sent again, so a sink SHOULD drop repeats by
    /// [`Event::id`] (JetStream does, by `Nats-Msg-Id`).
    ///
    /// # Errors
    /// Any failure to store an event; the relay sends the whole page again later.
    async fn publish(&self, events: &[Event]) -> Result<(), BoxError>;
}

/// How far each relay (by name) has sent the feed, in the store, so that a relay taken over by
/// another process carries on where the last one stopped.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RelayCursors: Send + Sync {
    /// The last sequence `relay` sent ([`Sequence::START`] when it never sent one).
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn position(&self, relay: &str) -> Result<Sequence, StoreError>;

    /// Moves `relay` from `from` to `to`; `false`, writing nothing, when it is no longer at
    /// `from` (another process moved it meanwhile: two relays for a moment, see
    /// [`Lease`](super::Lease)). Of several callers moving from one position exactly one MUST
    /// get `true`.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn advance(&self, relay: &str, from: Sequence, to: Sequence) -> Result<bool, StoreError>;
}
