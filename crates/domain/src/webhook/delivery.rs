//! Deliveries: one event for one subscription, from the moment the relay takes it off the feed
//! until the receiver answers 2xx or the retries run out. The rows are the delivery log.

use std::fmt;

use uuid::Uuid;

use super::WebhookId;
use crate::Timestamp;
use crate::event::{EventType, Sequence};

/// Identifies a delivery; later deliveries of a subscription have larger ids, in feed order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeliveryId(i64);

impl DeliveryId {
    /// A stored id (positive), or `None`.
    #[must_use]
    pub fn new(value: i64) -> Option<Self> {
        (value > 0).then_some(Self(value))
    }

    /// Its value.
    #[must_use]
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Not yet accepted by the receiver; tried when due.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed. Kept, and it holds back the later events of its subject until it
    /// is retried by hand (re-driven) and delivered.
    Failed,
}

impl DeliveryStatus {
    /// Every status.
    pub const ALL: [Self; 3] = [Self::Pending, Self::Delivered, Self::Failed];

    /// Its name in the API and the store.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    /// The status named `name`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// A delivery to record when the relay takes an event off the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// The event's id (the `webhook-id` header: the receiver drops repeats by it).
    pub event_id: String,
    /// Its type.
    pub event_type: EventType,
    /// Its place in the feed.
    pub sequence: Sequence,
    /// When the change it reports was committed.
    pub occurred_at: Timestamp,
    /// What it is about (a product, an order): deliveries of one subject go in feed order.
    pub subject: Uuid,
    /// The body POSTed, as rendered when the event was taken off the feed.
    pub payload: String,
}

/// A delivery and how far it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Its identity.
    pub id: DeliveryId,
    /// Whose.
    pub subscription: WebhookId,
    /// The event.
    pub event: NewDelivery,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts so far.
    pub attempts: u32,
    /// When it is tried next (pending deliveries).
    pub next_attempt_at: Option<Timestamp>,
    /// When it was last tried.
    pub last_attempt_at: Option<Timestamp>,
    /// The receiver's last HTTP status, when it answered.
    pub response_status: Option<u16>,
    /// Why the last attempt failed, when it did.
    pub last_error: Option<String>,
    /// When the relay took the event off the feed.
    pub created_at: Timestamp,
    /// When the receiver accepted it.
    pub delivered_at: Option<Timestamp>,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The receiver answered 2xx.
    Delivered {
        /// Its status.
        status: u16,
    },
    /// The receiver answered, but not 2xx (a redirect counts: none is followed).
    Refused {
        /// Its status.
        status: u16,
    },
    /// No answer: the name did not resolve to a public address, the connection failed, or the
    /// timeout passed.
    Unreachable {
        /// What went wrong.
        error: String,
    },
}

impl AttemptOutcome {
    /// Whether the receiver accepted the event.
    #[must_use]
    pub fn delivered(&self) -> bool {
        matches!(self, Self::Delivered { .. })
    }

    /// The receiver's HTTP status, when it answered.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Delivered { status } | Self::Refused { status } => Some(*status),
            Self::Unreachable { .. } => None,
        }
    }

    /// Why it failed, for the log; at most [`Attempt::MAX_ERROR`] characters.
    #[must_use]
    pub fn error(&self) -> Option<String> {
        match self {
            Self::Delivered { .. } => None,
            Self::Refused { status } => Some(format!("the receiver answered {status}")),
            Self::Unreachable { error } => Some(error.chars().take(Attempt::MAX_ERROR).collect()),
        }
    }
}

/// One attempt, to record: when, how it ended, and when to try again (`None`: delivered, or
/// the final failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// When it was made.
    pub at: Timestamp,
    /// How it ended.
    pub outcome: AttemptOutcome,
    /// When to try again, if ever.
    pub retry_at: Option<Timestamp>,
}

impl Attempt {
    /// The longest error text kept.
    pub const MAX_ERROR: usize = 500;

    /// The status the delivery has after this attempt.
    #[must_use]
    pub fn status(&self) -> DeliveryStatus {
        match (&self.outcome, self.retry_at) {
            (AttemptOutcome::Delivered { .. }, _) => DeliveryStatus::Delivered,
            (_, Some(_)) => DeliveryStatus::Pending,
            (_, None) => DeliveryStatus::Failed,
        }
    }
}

/// Which deliveries of a subscription to list: newest first, before `before`, of `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryQuery {
    /// Only these.
    pub status: Option<DeliveryStatus>,
    /// Only those older than this one (the previous page's last).
    pub before: Option<DeliveryId>,
    /// At most this many.
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_settles_the_status() {
        let at = Timestamp::default();
        let attempt = |outcome, retry_at| Attempt { at, outcome, retry_at };
        assert_eq!(
            attempt(AttemptOutcome::Delivered { status: 204 }, None).status(),
            DeliveryStatus::Delivered
        );
        assert_eq!(
            attempt(AttemptOutcome::Refused { status: 500 }, Some(at)).status(),
            DeliveryStatus::Pending
        );
        assert_eq!(
            attempt(AttemptOutcome::Unreachable { error: "x".repeat(900) }, None).status(),
            DeliveryStatus::Failed
        );
        let long = AttemptOutcome::Unreachable { error: "é".repeat(900) };
        assert_eq!(long.error().map(|e| e.chars().count()), Some(Attempt::MAX_ERROR));
        assert_eq!(AttemptOutcome::Refused { status: 302 }.status(), Some(302));
        for status in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::parse(status.as_str()), Some(status));
        }
    }
}
