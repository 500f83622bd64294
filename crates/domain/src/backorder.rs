//! Backorders and preorders: selling units a product does not have on hand yet, up to a limit
//! the shop declares.
//!
//! A product's [`BackorderPolicy`] is `deny` (the default: a cart is refused when the eligible
//! locations cannot serve it) or `allow` up to a [`BackorderLimit`]: a cart short of stock
//! then takes every unit its eligible locations have for sale and owes the rest, as long as
//! the product's units owed over all orders stay within the limit. A preorder is the same
//! thing for a product that has nothing on hand yet.
//!
//! "Never oversell" keeps its meaning: never beyond what is on hand *plus the declared limit*,
//! under any concurrency. Stores keep the units owed as one counter per product, moved by the
//! commits of the orders that owe them ([`OrderChange::backorders`], so no path can forget
//! them) and guarded there (`backordered + n <= limit`, on the row as it is when locked, with
//! the limit the checkout decided by), exactly like a purchase counter ([`crate::limits`]).
//!
//! Units owed are settled by deliveries, oldest order first ([`crate::Order::fill`]): a
//! delivery to a location fills the product's backorders before any unit of it goes on sale.
//! A reserved order's filled units become held at that location (payment sells them like any
//! other); a paid order's are sold at once. Cancelling or expiring an order gives back the
//! units it still owes.

use std::collections::{BTreeMap, HashMap};

use crate::order::OrderChange;
use crate::{OrderStatus, ProductId};

/// Why a backorder limit is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a backorder limit is a whole number from 1 to {max}", max = BackorderLimit::MAX)]
pub struct BackorderLimitError;

/// At most this many units of a product may be owed to orders: a positive whole number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BackorderLimit(u32);

impl BackorderLimit {
    /// The largest limit accepted (a billion units: every sum stays within the database's
    /// integers).
    pub const MAX: i64 = 1_000_000_000;

    /// The one constructor.
    ///
    /// # Errors
    /// [`BackorderLimitError`] for 0, a negative number, or more than
    /// [`BackorderLimit::MAX`].
    pub fn new(value: i64) -> Result<Self, BackorderLimitError> {
        match u32::try_from(value) {
            Ok(units) if (1..=Self::MAX).contains(&value) => Ok(Self(units)),
            _ => Err(BackorderLimitError),
        }
    }

    /// The number of units.
    #[must_use]
    pub fn get(self) -> u32 {
        self.0
    }
}

/// Whether a product may be sold beyond what its locations have for sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BackorderPolicy {
    /// Never: a cart short of stock is refused.
    #[default]
    Deny,
    /// Up to this many units owed to orders at any moment.
    Allow(BackorderLimit),
}

impl BackorderPolicy {
    /// The policy of a stored limit: `None` is [`BackorderPolicy::Deny`].
    #[must_use]
    pub fn of(limit: Option<BackorderLimit>) -> Self {
        limit.map_or(Self::Deny, Self::Allow)
    }

    /// The limit, when backorders are allowed.
    #[must_use]
    pub fn limit(self) -> Option<BackorderLimit> {
        match self {
            Self::Deny => None,
            Self::Allow(limit) => Some(limit),
        }
    }

    /// `deny` or `allow`: the name used on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deny => "deny",
            Self::Allow(_) => "allow",
        }
    }
}

/// A move of one product's counter of units owed, which a commit writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackorderDelta {
    /// The product.
    pub product_id: ProductId,
    /// Units newly owed (a checkout) or no longer owed (negative: filled by a delivery, or
    /// given back by a cancellation or an expiry).
    pub units: i64,
    /// For an addition, the limit the store MUST keep the counter within
    /// (`backordered + n <= limit`, on the row as it is once locked); an addition without one
    /// MUST be refused.
    pub limit: Option<BackorderLimit>,
}

impl OrderChange {
    /// The backorder counters this change moves: a new order adds each line's units owed; a
    /// cancellation or an expiry gives back what its lines still owe; a fill takes off what it
    /// filled. Anything else moves nothing (a paid order still owes its units until filled).
    #[must_use]
    pub fn backorders(&self) -> Vec<BackorderDelta> {
        let record = self.order().record();
        let sign = match (self, record.status) {
            (Self::Filled { product_id, units, .. }, _) => {
                return vec![BackorderDelta {
                    product_id: *product_id,
                    units: -i64::from(units.get()),
                    limit: None,
                }];
            }
            (Self::Created(_), _) => 1,
            (Self::Updated { .. }, OrderStatus::Cancelled | OrderStatus::Expired) => -1,
            (Self::Updated { .. }, _) => return Vec::new(),
        };
        (record.lines.iter())
            .filter(|line| line.backordered > 0)
            .map(|line| BackorderDelta {
                product_id: line.product_id,
                units: sign * i64::from(line.backordered),
                limit: None,
            })
            .collect()
    }
}

/// The backorder deltas of several commits summed per product, in product order (the order
/// stores lock the counters in), leaving out those that sum to nothing: one write per counter,
/// guarded by the smallest limit any addition to it carried.
#[must_use]
pub fn sum_backorders<'a>(
    deltas: impl IntoIterator<Item = &'a BackorderDelta>,
) -> Vec<BackorderDelta> {
    let mut sums: BTreeMap<ProductId, (i64, Option<BackorderLimit>)> = BTreeMap::new();
    for delta in deltas {
        let (units, limit) = sums.entry(delta.product_id).or_default();
        *units += delta.units;
        *limit = match (*limit, delta.limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    (sums.into_iter())
        .filter(|(_, (units, _))| *units != 0)
        .map(|(product_id, (units, limit))| BackorderDelta { product_id, units, limit })
        .collect()
}

/// How many more units each product may owe, as read before a batch of checkouts and lessened
/// by what the batch's accepted carts owe: the next cart of the batch sees what is left.
#[derive(Debug, Clone, Default)]
pub struct BackorderRoom {
    room: HashMap<ProductId, u32>,
}

impl BackorderRoom {
    /// The room of each product that allows backorders, from its limit and the units it owes
    /// now (`limit - owed`, never below 0: a limit lowered below what is owed leaves none).
    /// Products not named have none.
    #[must_use]
    pub fn new(products: impl IntoIterator<Item = (ProductId, BackorderLimit, i64)>) -> Self {
        let room = (products.into_iter())
            .map(|(id, limit, owed)| {
                let left = (i64::from(limit.get()) - owed).max(0);
                (id, u32::try_from(left).unwrap_or(0))
            })
            .collect();
        Self { room }
    }

    /// How many more units `product_id` may owe.
    #[must_use]
    pub fn of(&self, product_id: ProductId) -> u32 {
        self.room.get(&product_id).copied().unwrap_or(0)
    }

    /// Counts `units` more owed by `product_id` (never below 0 left).
    pub fn take(&mut self, product_id: ProductId, units: u32) {
        if let Some(left) = self.room.get_mut(&product_id) {
            *left = left.saturating_sub(units);
        }
    }
}

#[cfg(test)]
mod tests;
