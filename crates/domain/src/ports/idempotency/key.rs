//! The names of idempotency: the client's key, the token of the request holding it, and the
//! effect a request commits under it.

use std::fmt;

use uuid::Uuid;

use crate::access::Actor;
use crate::{OrderId, ProductId};

/// Why a string is not an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an idempotency key is 1 to 255 visible ASCII characters")]
pub struct IdempotencyKeyError;

/// A client-chosen key, 1 to 255 visible ASCII characters (`!` to `~`), in the namespace of
/// the caller that chose it: two callers' equal keys are different keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The longest key a caller may choose.
    pub const MAX_LEN: usize = 255;
    /// The longest key as stored (the width of the database column): the caller's name, a
    /// space and the key.
    pub const STORED_MAX_LEN: usize = 300;

    /// `value` chosen by `caller`. An anonymous caller's key is stored as it is (as version 1
    /// stored every key, so keys of before the upgrade still replay); any other caller's is
    /// prefixed with its name and a space, which no key contains, so no anonymous key can
    /// pass for another caller's.
    ///
    /// # Errors
    /// [`IdempotencyKeyError`] when `value` is empty, too long, or not visible ASCII.
    pub fn of(caller: Actor, value: &str) -> Result<Self, IdempotencyKeyError> {
        let key = Self::new(value)?;
        match caller {
            Actor::Anonymous => Ok(key),
            named => Ok(Self(format!("{named} {}", key.0))),
        }
    }

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

    /// The key as stored.
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

/// Names the one request that holds a claim on a key; a takeover of a stale claim makes a new
/// one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClaimToken(Uuid);

impl ClaimToken {
    /// The token `uuid` (stores make a random or time-ordered one per claim).
    #[must_use]
    pub fn new(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The token as a UUID.
    #[must_use]
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

/// A key held by one request: what that request completes, releases, or commits its effect
/// under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyClaim {
    key: IdempotencyKey,
    token: ClaimToken,
}

impl KeyClaim {
    /// The claim of `key` by the request holding `token`.
    #[must_use]
    pub fn new(key: IdempotencyKey, token: ClaimToken) -> Self {
        Self { key, token }
    }

    /// The key.
    #[must_use]
    pub fn key(&self) -> &IdempotencyKey {
        &self.key
    }

    /// The holder's token.
    #[must_use]
    pub fn token(&self) -> ClaimToken {
        self.token
    }
}

/// What a keyed request did, recorded with it: enough to rebuild its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// A checkout placed this order.
    OrderPlaced(OrderId),
    /// An adjustment moved this product's stock.
    StockAdjusted(ProductId),
    /// A bulk sync applied some rows, this product's among them (the first applied).
    StockSynced(ProductId),
    /// A transfer moved this product's units between two locations.
    StockTransferred(ProductId),
}

impl Effect {
    /// The stable text stores keep: `order-placed:<uuid>`, `stock-adjusted:<uuid>`,
    /// `stock-synced:<uuid>`, `stock-transferred:<uuid>`.
    #[must_use]
    pub fn to_text(&self) -> String {
        match self {
            Self::OrderPlaced(id) => format!("order-placed:{}", id.as_uuid()),
            Self::StockAdjusted(id) => format!("stock-adjusted:{}", id.as_uuid()),
            Self::StockSynced(id) => format!("stock-synced:{}", id.as_uuid()),
            Self::StockTransferred(id) => format!("stock-transferred:{}", id.as_uuid()),
        }
    }

    /// The effect [`Effect::to_text`] wrote, if `text` is one.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let (kind, id) = text.split_once(':')?;
        let uuid = Uuid::parse_str(id).ok()?;
        match kind {
            "order-placed" => OrderId::new(uuid).ok().map(Self::OrderPlaced),
            "stock-adjusted" => ProductId::new(uuid).ok().map(Self::StockAdjusted),
            "stock-synced" => ProductId::new(uuid).ok().map(Self::StockSynced),
            "stock-transferred" => ProductId::new(uuid).ok().map(Self::StockTransferred),
            _ => None,
        }
    }
}

/// The effect a request commits under its claim, written in the effect's own transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEffect {
    /// The claim the effect is committed under; the store refuses it when the claim is no
    /// longer this request's.
    pub claim: KeyClaim,
    /// What the request did.
    pub effect: Effect,
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

    #[test]
    fn equal_keys_of_different_callers_are_different_keys() {
        let client = Actor::Client(crate::ClientId::new(Uuid::from_u128(5)).expect("id"));
        let anonymous = IdempotencyKey::of(Actor::Anonymous, "k-1").expect("key");
        let admin = IdempotencyKey::of(Actor::Admin, "k-1").expect("key");
        let theirs = IdempotencyKey::of(client, "k-1").expect("key");
        assert_eq!(anonymous.as_str(), "k-1", "anonymous keys are stored as version 1 did");
        assert_ne!(admin, anonymous);
        assert_ne!(admin, theirs);
        assert_eq!(theirs.as_str(), "client:00000000-0000-0000-0000-000000000005 k-1");
        let longest = IdempotencyKey::of(client, &"k".repeat(255)).expect("key");
        assert!(longest.as_str().len() <= IdempotencyKey::STORED_MAX_LEN);
        assert!(IdempotencyKey::of(Actor::Admin, "a b").is_err());
    }

    #[test]
    fn an_effect_reads_back_from_its_text_and_nothing_else_parses() {
        let id = OrderId::new(Uuid::from_u128(0x0192_f4a0_7b3c_7def_8123_4567_89ab_cdef))
            .expect("an id");
        let effect = Effect::OrderPlaced(id);
        assert_eq!(effect.to_text(), "order-placed:0192f4a0-7b3c-7def-8123-456789abcdef");
        assert_eq!(Effect::parse(&effect.to_text()), Some(effect));
        let product = ProductId::new(id.as_uuid()).expect("an id");
        let adjusted = Effect::StockAdjusted(product);
        assert_eq!(adjusted.to_text(), "stock-adjusted:0192f4a0-7b3c-7def-8123-456789abcdef");
        assert_eq!(Effect::parse(&adjusted.to_text()), Some(adjusted));
        let moved = Effect::StockTransferred(product);
        assert_eq!(Effect::parse(&moved.to_text()), Some(moved));
        for bad in [
            "",
            "order-placed",
            "order-placed:x",
            "paid:0192f4a0-7b3c-7def-8123-456789abcdef",
            "order-placed:00000000-0000-0000-0000-000000000000",
        ] {
            assert_eq!(Effect::parse(bad), None, "{bad:?}");
        }
    }
}
