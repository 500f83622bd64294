//! What a checkout is asked to do, and the settings it does it with.

use std::time::Instant;

use chrono::TimeDelta;
use domain::access::Actor;
use domain::ports::KeyClaim;
use domain::{CustomerId, LocationId};

use crate::{CartLine, RetryPolicy};

/// Check out a cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutCommand {
    /// The cart's lines; lines of the same product are summed.
    pub lines: Vec<CartLine>,
    /// The customer, when known.
    pub customer_id: Option<CustomerId>,
    /// The locations that may serve the cart, in order of preference; empty for every active
    /// location, by priority (see [`domain::allocation::Policy`]).
    pub location_ids: Vec<LocationId>,
    /// Whether the caller vouches for the customers it names (it holds `customers:assert`):
    /// only then does the order count against per-customer limits, and only then may a cart
    /// hold a product that has one.
    pub asserts_customer: bool,
    /// Who checks out (anonymous for a buyer's browser), on record in the order and its
    /// ledger entries.
    pub actor: Actor,
    /// The idempotency claim the request runs under: the order is committed together with the
    /// key's effect, or not at all when the claim was taken over meanwhile.
    pub idempotency: Option<KeyClaim>,
    /// When the caller stops waiting for the answer (its request times out). A checkout still
    /// uncommitted by then is not committed at all and answers [`CheckoutError::TimedOut`], so
    /// that no buyer holds a reservation after being told the checkout failed. `None` waits
    /// as long as it takes.
    ///
    /// [`CheckoutError::TimedOut`]: super::CheckoutError::TimedOut
    pub deadline: Option<Instant>,
}

/// Settings of the checkout use case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckoutConfig {
    /// How long a reservation waits for payment before it expires.
    pub reservation_ttl: TimeDelta,
    /// How lost races are retried.
    pub retry: RetryPolicy,
}

impl CheckoutConfig {
    /// How long a reservation waits for payment unless configured otherwise: 15 minutes, time
    /// for a card payment with 3-D Secure without holding stock from other buyers for long.
    pub const DEFAULT_RESERVATION_TTL: TimeDelta = TimeDelta::minutes(15);
}

impl Default for CheckoutConfig {
    /// 15 minutes to pay, the default retry policy.
    fn default() -> Self {
        Self { reservation_ttl: Self::DEFAULT_RESERVATION_TTL, retry: RetryPolicy::default() }
    }
}
