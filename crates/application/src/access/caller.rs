//! [`Caller`]: who is asking, and whether they may.

use domain::access::{Actor, ApiClient, Scope, Scopes};

/// Why a caller may not do something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// No credential was presented, and the action needs one (HTTP 401).
    #[error("a credential is required")]
    Unauthenticated,
    /// The credential is known but lacks the scope (HTTP 403).
    #[error("the credential lacks the scope {0}")]
    MissingScope(Scope),
}

/// Whoever makes a request: the actor on record for what it changes, and its scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    actor: Actor,
    scopes: Scopes,
}

impl Caller {
    /// A caller without a credential: no scope.
    #[must_use]
    pub fn anonymous() -> Self {
        Self { actor: Actor::Anonymous, scopes: Scopes::NONE }
    }

    /// The admin token: every scope.
    #[must_use]
    pub fn admin() -> Self {
        Self { actor: Actor::Admin, scopes: Scopes::ALL }
    }

    /// An API client, with its scopes.
    #[must_use]
    pub fn client(client: &ApiClient) -> Self {
        Self { actor: Actor::Client(client.id), scopes: client.scopes }
    }

    /// Who this caller is on record.
    #[must_use]
    pub fn actor(&self) -> Actor {
        self.actor
    }

    /// Whether it holds `scope` (an anonymous caller holds none).
    #[must_use]
    pub fn holds(&self, scope: Scope) -> bool {
        self.scopes.contains(scope)
    }

    /// Whether it may do what `scope` guards.
    ///
    /// # Errors
    /// [`Denied::Unauthenticated`] for an anonymous caller, [`Denied::MissingScope`] for a
    /// credential without `scope`.
    pub fn authorize(&self, scope: Scope) -> Result<(), Denied> {
        match self.actor {
            _ if self.holds(scope) => Ok(()),
            Actor::Anonymous => Err(Denied::Unauthenticated),
            _ => Err(Denied::MissingScope(scope)),
        }
    }
}
