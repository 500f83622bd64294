//! Purchase limits: how many units of a product one order, and one customer over all their
//! orders, may hold.
//!
//! A per-customer limit counts the customer's *reserved and paid* units: a buyer who opens two
//! orders side by side and pays both must meet the limit as surely as one who buys twice in a
//! row, and an order that expires or is cancelled gives its units back. Stores keep that count
//! as one counter per (customer, product) ([`PurchaseKey`]), moved by every commit that places,
//! cancels or expires an order of an *asserted* customer (see [`Customer`]): the deltas come
//! from the order change itself ([`OrderChange::purchases`]), so no path can forget them. The
//! counter is also where concurrent checkouts of one customer meet: the store adds a checkout's
//! units with a guard (`units + n <= limit`) in the transaction that reserves its stock, so 50
//! checkouts racing against a limit of 2 reserve exactly 2 units, whichever process runs them.
//!
//! Every asserted purchase is counted, limited product or not, so that a limit set later (with
//! `PATCH`) already sees what each customer holds.

use std::collections::{BTreeMap, HashMap};

use crate::order::OrderChange;
use crate::{Cart, Customer, CustomerId, OrderStatus, ProductId};

/// Why a limit is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a purchase limit is a whole number from 1 to {max}", max = PurchaseLimit::MAX)]
pub struct LimitError;

/// At most this many units: a positive whole number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PurchaseLimit(u32);

impl PurchaseLimit {
    /// The largest limit accepted: a billion units is no limit a shop would set, and it keeps
    /// every count within the database's integers.
    pub const MAX: i64 = 1_000_000_000;

    /// The one constructor.
    ///
    /// # Errors
    /// [`LimitError`] for 0, a negative number, or more than [`PurchaseLimit::MAX`].
    pub fn new(value: i64) -> Result<Self, LimitError> {
        match u32::try_from(value) {
            Ok(units) if (1..=Self::MAX).contains(&value) => Ok(Self(units)),
            _ => Err(LimitError),
        }
    }

    /// The number of units.
    #[must_use]
    pub fn get(self) -> u32 {
        self.0
    }
}

/// A product's limits; `None` is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PurchaseLimits {
    /// Units of the product in one order.
    pub per_order: Option<PurchaseLimit>,
    /// Units of the product one customer may hold reserved or paid, over all their orders.
    pub per_customer: Option<PurchaseLimit>,
}

/// A change of some of a product's limits (a `PATCH`): each field is left as it is (`None`),
/// removed (`Some(None)`) or set (`Some(Some(limit))`). Stores apply it as one write of the
/// named fields only, so two patches of different fields never undo each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(clippy::option_option)] // three states: keep, remove, set
pub struct LimitsPatch {
    /// The new per-order limit, if it changes.
    pub per_order: Option<Option<PurchaseLimit>>,
    /// The new per-customer limit, if it changes.
    pub per_customer: Option<Option<PurchaseLimit>>,
}

impl LimitsPatch {
    /// `limits` with this patch applied.
    #[must_use]
    pub fn apply(self, limits: PurchaseLimits) -> PurchaseLimits {
        PurchaseLimits {
            per_order: self.per_order.unwrap_or(limits.per_order),
            per_customer: self.per_customer.unwrap_or(limits.per_customer),
        }
    }
}

/// Which of a product's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// [`PurchaseLimits::per_order`].
    PerOrder,
    /// [`PurchaseLimits::per_customer`].
    PerCustomer,
}

impl LimitKind {
    /// `per_order` or `per_customer`, the names of the product's fields.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PerOrder => "per_order",
            Self::PerCustomer => "per_customer",
        }
    }
}

/// A limit a cart would break: the contract's `limits` entry of `purchase-limit-exceeded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitExceeded {
    /// The product.
    pub product_id: ProductId,
    /// Which limit.
    pub kind: LimitKind,
    /// The limit broken.
    pub limit: PurchaseLimit,
    /// Units the customer already holds (reserved or paid); 0 for a per-order limit.
    pub already: i64,
    /// Units the cart asks for.
    pub requested: u32,
}

/// The per-order limits `cart` breaks, given each product's limits (`None`: no limits known).
pub fn per_order_excess(
    cart: &Cart,
    limits_of: impl Fn(ProductId) -> Option<PurchaseLimits>,
) -> Vec<LimitExceeded> {
    cart.lines()
        .filter_map(|(product_id, quantity)| {
            let limit = limits_of(product_id)?.per_order?;
            (quantity.get() > limit.get()).then_some(LimitExceeded {
                product_id,
                kind: LimitKind::PerOrder,
                limit,
                already: 0,
                requested: quantity.get(),
            })
        })
        .collect()
}

/// Whose units of which product a counter counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PurchaseKey {
    /// The (asserted) customer.
    pub customer_id: CustomerId,
    /// The product.
    pub product_id: ProductId,
}

/// A move of one purchase counter that a commit writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseDelta {
    /// Which counter.
    pub key: PurchaseKey,
    /// Units added (a checkout) or given back (negative: a cancellation or expiry).
    pub units: i64,
    /// For an addition, the limit the store MUST keep the counter within
    /// (`units + n <= limit`, checked on the row as it is when the store locks it).
    pub limit: Option<PurchaseLimit>,
}

impl OrderChange {
    /// The purchase counters this change moves: a new order of an asserted customer adds each
    /// line's units; cancelling or expiring one gives them back; anything else moves nothing
    /// (paid units stay counted; an extension changes no units). Additions carry no limit:
    /// the checkout that decided them adds it (see [`crate::ports::Changeset::within`]).
    #[must_use]
    pub fn purchases(&self) -> Vec<PurchaseDelta> {
        let record = self.order().record();
        let Some(Customer { id, asserted: true }) = &record.customer else {
            return Vec::new();
        };
        let sign = match (self, record.status) {
            (Self::Created(_), _) => 1,
            (Self::Updated { .. }, OrderStatus::Cancelled | OrderStatus::Expired) => -1,
            (Self::Updated { .. } | Self::Filled { .. }, _) => return Vec::new(),
        };
        record
            .lines
            .iter()
            .map(|line| PurchaseDelta {
                key: PurchaseKey { customer_id: id.clone(), product_id: line.product_id },
                units: sign * i64::from(line.quantity.get()),
                limit: None,
            })
            .collect()
    }
}

/// What customers hold of limited products, as read before a batch of checkouts, and what the
/// batch's accepted carts add to it: the next cart of the batch is checked against both.
#[derive(Debug, Clone, Default)]
pub struct PurchaseTally {
    held: HashMap<PurchaseKey, i64>,
}

impl PurchaseTally {
    /// The counters as read; a counter not read counts 0.
    #[must_use]
    pub fn new(counters: impl IntoIterator<Item = (PurchaseKey, i64)>) -> Self {
        Self { held: counters.into_iter().collect() }
    }

    /// Whether `cart` for `customer` keeps within every per-customer limit `limit_of` names.
    ///
    /// # Errors
    /// Every limit it would break, one per product.
    pub fn check(
        &self,
        customer: &CustomerId,
        cart: &Cart,
        limit_of: impl Fn(ProductId) -> Option<PurchaseLimit>,
    ) -> Result<(), Vec<LimitExceeded>> {
        let exceeded: Vec<_> = cart
            .lines()
            .filter_map(|(product_id, quantity)| {
                let limit = limit_of(product_id)?;
                let key = PurchaseKey { customer_id: customer.clone(), product_id };
                let already = self.held.get(&key).copied().unwrap_or(0);
                let requested = quantity.get();
                (already + i64::from(requested) > i64::from(limit.get())).then_some(LimitExceeded {
                    product_id,
                    kind: LimitKind::PerCustomer,
                    limit,
                    already,
                    requested,
                })
            })
            .collect();
        if exceeded.is_empty() { Ok(()) } else { Err(exceeded) }
    }

    /// [`PurchaseTally::check`]s `cart` and, when it fits, counts it; a refused cart counts
    /// nothing.
    ///
    /// # Errors
    /// Every limit it would break, one per product.
    pub fn take(
        &mut self,
        customer: &CustomerId,
        cart: &Cart,
        limit_of: impl Fn(ProductId) -> Option<PurchaseLimit>,
    ) -> Result<(), Vec<LimitExceeded>> {
        self.check(customer, cart, &limit_of)?;
        for (product_id, quantity) in cart.lines().filter(|(id, _)| limit_of(*id).is_some()) {
            let key = PurchaseKey { customer_id: customer.clone(), product_id };
            *self.held.entry(key).or_default() += i64::from(quantity.get());
        }
        Ok(())
    }
}

/// The purchase deltas of several commits summed per counter, in key order (the order stores
/// lock counters in): one write per counter, guarded by the smallest limit any addition to it
/// carried.
#[must_use]
pub fn sum_purchases<'a>(
    deltas: impl IntoIterator<Item = &'a PurchaseDelta>,
) -> Vec<PurchaseDelta> {
    let mut sums: BTreeMap<&PurchaseKey, (i64, Option<PurchaseLimit>)> = BTreeMap::new();
    for delta in deltas {
        let (units, limit) = sums.entry(&delta.key).or_default();
        *units += delta.units;
        *limit = match (*limit, delta.limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    sums.into_iter()
        .filter(|(_, (units, _))| *units != 0)
        .map(|(key, (units, limit))| PurchaseDelta { key: key.clone(), units, limit })
        .collect()
}

#[cfg(test)]
mod tests;
