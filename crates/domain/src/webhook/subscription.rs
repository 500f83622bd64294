//! A webhook subscription.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use super::{TypeFilter, WebhookSecret, WebhookUrl};
use crate::IdError;
use crate::Timestamp;
use crate::event::Sequence;

/// Identifies a webhook subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WebhookId(Uuid);

impl WebhookId {
    /// Any UUID but the nil one.
    ///
    /// # Errors
    /// [`IdError::Nil`] for the nil UUID.
    pub fn new(uuid: Uuid) -> Result<Self, IdError> {
        if uuid.is_nil() { Err(IdError::Nil) } else { Ok(Self(uuid)) }
    }

    /// The wrapped UUID.
    #[must_use]
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }

    /// The name of the lease under which one process at a time delivers its events.
    #[must_use]
    pub fn lease_name(&self) -> String {
        format!("webhook:{}", self.0)
    }
}

impl FromStr for WebhookId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(Uuid::try_parse(s).map_err(|_| IdError::Malformed)?)
    }
}

impl fmt::Display for WebhookId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// A subscription: the events of `types` committed after `start` are POSTed to `url`, signed
/// with `secret`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Its identity.
    pub id: WebhookId,
    /// Where deliveries go.
    pub url: WebhookUrl,
    /// Which events it wants.
    pub types: TypeFilter,
    /// What deliveries are signed with.
    pub secret: WebhookSecret,
    /// When it was made.
    pub created_at: Timestamp,
    /// The feed's head when it was made: it receives the events after this one.
    pub start: Sequence,
}
