//! [`ApiClient`]: a calling system and its rights; [`Actor`]: who made a change.

use std::fmt;

use super::{Scope, Scopes};
use crate::product::display_name;
use crate::{ClientId, Timestamp};

/// Why a client name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a client name has 1 to {max} characters, is not blank and holds no control character", max = ClientName::MAX_CHARS)]
pub struct ClientNameError;

/// What people call a client ("payments", "warehouse-eu"): 1 to 100 characters, at least one
/// visible, no control character, surrounding whitespace trimmed (the rules of a product name).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientName(String);

impl ClientName {
    /// The longest name accepted, in characters (the database column is as wide).
    pub const MAX_CHARS: usize = 100;

    /// The one constructor.
    ///
    /// # Errors
    /// [`ClientNameError`] when blank, too long or holding a control character.
    pub fn new(value: &str) -> Result<Self, ClientNameError> {
        display_name(value, Self::MAX_CHARS).map(Self).ok_or(ClientNameError)
    }

    /// The name as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An API client as stored: everything but its key, which is kept only as a digest and never
/// leaves the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiClient {
    /// Its identity, also what the ledger and orders record as its [`Actor`].
    pub id: ClientId,
    /// What people call it.
    pub name: ClientName,
    /// What it may do.
    pub scopes: Scopes,
    /// The first characters of its key (prefix included): enough for an operator to tell
    /// which key a log line or a leaked secret belongs to, far too few to guess the rest.
    pub key_hint: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was revoked; a revoked client's key is refused from then on.
    pub revoked_at: Option<Timestamp>,
}

impl ApiClient {
    /// Whether its key is still accepted.
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }

    /// Whether it may do what `scope` guards.
    #[must_use]
    pub fn may(&self, scope: Scope) -> bool {
        self.is_active() && self.scopes.contains(scope)
    }
}

/// Who made a change: recorded on every ledger entry and every order transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A caller without a credential (a buyer's checkout).
    Anonymous,
    /// The root credential, the admin token.
    Admin,
    /// An API client.
    Client(ClientId),
    /// The service itself: the sweeper expiring unpaid reservations.
    System,
}

impl Actor {
    /// The actor [`Actor`]'s `Display` wrote: `anonymous`, `admin`, `system` or
    /// `client:<uuid>`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "anonymous" => Some(Self::Anonymous),
            "admin" => Some(Self::Admin),
            "system" => Some(Self::System),
            _ => text.strip_prefix("client:")?.parse().ok().map(Self::Client),
        }
    }
}

impl fmt::Display for Actor {
    /// The stable text stores keep and views show.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Anonymous => f.write_str("anonymous"),
            Self::Admin => f.write_str("admin"),
            Self::System => f.write_str("system"),
            Self::Client(id) => write!(f, "client:{id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    use super::*;

    #[test]
    fn every_actor_round_trips_through_its_text() {
        let client = ClientId::new(Uuid::from_u128(9)).expect("id");
        for actor in [Actor::Anonymous, Actor::Admin, Actor::System, Actor::Client(client)] {
            assert_eq!(Actor::parse(&actor.to_string()), Some(actor));
        }
        for bad in
            ["", "Admin", "client:", "client:nope", "client:00000000-0000-0000-0000-000000000000"]
        {
            assert_eq!(Actor::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names_are_trimmed_bounded_and_visible() {
        assert_eq!(
            ClientName::new("  payments ").map(|n| n.as_str().to_owned()),
            Ok("payments".into())
        );
        assert!(ClientName::new(&"x".repeat(100)).is_ok());
        for bad in ["", "   ", "\u{200B}", "a\u{7}b", &"x".repeat(101)] {
            assert_eq!(ClientName::new(bad), Err(ClientNameError), "{bad:?}");
        }
    }

    #[test]
    fn a_revoked_client_may_do_nothing() {
        let mut client = ApiClient {
            id: ClientId::new(Uuid::from_u128(1)).expect("id"),
            name: ClientName::new("payments").expect("name"),
            scopes: [Scope::OrdersPay].into_iter().collect(),
            key_hint: "ck_0123".into(),
            created_at: Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
            revoked_at: None,
        };
        assert!(client.may(Scope::OrdersPay));
        assert!(!client.may(Scope::OrdersCancel));
        client.revoked_at = Some(client.created_at);
        assert!(!client.may(Scope::OrdersPay));
    }
}
