//! [`Order`]: a cart turned into held stock, awaiting payment until it expires.
//!
//! Orders carry a [`Version`] like stock does, so that a payment racing an expiry or a
//! cancellation cannot both win: the loser's write conflicts, it reloads, and it sees the
//! winner's status.

mod cart;
mod line;
mod status;

use std::collections::BTreeSet;

use chrono::TimeDelta;

pub use cart::{Cart, CartError};
pub use line::{Allocation, LineAllocation, OrderLine};
pub use status::{OrderStatus, TransitionError};

use crate::access::Actor;
use crate::{
    Customer, LocationId, Money, MoneyError, OrderId, ProductId, Quantity, Timestamp, Version,
};

/// Why an order cannot be placed or restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// A cart line names a product without a known price.
    #[error("product {0} has no price")]
    Unpriced(ProductId),
    /// The total cannot be computed (two currencies, or overflow).
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// The lifetime pushes `expires_at` past the representable range, or is not positive.
    #[error("the reservation lifetime is out of range")]
    Lifetime,
    /// Stored lines are empty or name a product twice.
    #[error("an order has one line per product and at least one line")]
    Lines,
    /// A stored total disagrees with its lines.
    #[error("the stored total disagrees with the lines")]
    Total,
    /// A line's allocations (with its units owed) do not add up to its quantity, or name a
    /// product not in the order.
    #[error("the allocations disagree with the lines")]
    Allocations,
}

/// Why units owed to an order cannot be filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FillError {
    /// Only a reserved or paid order is owed units.
    #[error("an order that is {0} is owed nothing")]
    NotOwed(OrderStatus),
    /// The order has no line of the product, or its line owes fewer units.
    #[error("the order owes {owed} units of product {product_id}, not {requested}")]
    TooMany {
        /// The product.
        product_id: ProductId,
        /// Units its line still owes.
        owed: u32,
        /// Units the fill wanted to give.
        requested: u32,
    },
}

/// An order and everything needed to rebuild it from storage (see [`Order::restore`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    /// Its identity.
    pub id: OrderId,
    /// Stored status.
    pub status: OrderStatus,
    /// One line per product.
    pub lines: Vec<OrderLine>,
    /// The sum of the lines' subtotals.
    pub total: Money,
    /// The customer, when known, and whether a client vouched for it.
    pub customer: Option<Customer>,
    /// When it was placed.
    pub created_at: Timestamp,
    /// When an unpaid reservation runs out.
    pub expires_at: Timestamp,
    /// When it was paid.
    pub paid_at: Option<Timestamp>,
    /// When it was cancelled.
    pub cancelled_at: Option<Timestamp>,
    /// When it expired.
    pub expired_at: Option<Timestamp>,
    /// Who placed it; `None` for orders placed before actors were recorded.
    pub placed_by: Option<Actor>,
    /// Who paid, cancelled or expired it; `None` while it is reserved (and for orders settled
    /// before actors were recorded).
    pub settled_by: Option<Actor>,
    /// The version it was read at.
    pub version: Version,
}

/// An order. Fields are read through [`Order::record`]; they change only through transitions.
///
/// Each transition returns the [`OrderChange`] to write over the version it was computed from;
/// repeating a payment or a cancellation is a no-op, and the status machine refuses the rest.
///
/// ```
/// use chrono::{TimeDelta, TimeZone, Utc};
/// use domain::{Cart, Currency, Money, Order, OrderId, OrderStatus, ProductId, Quantity};
/// use domain::access::Actor;
/// use domain::order::TransitionError;
/// # use uuid::Uuid;
/// # let product = ProductId::new(Uuid::from_u128(1))?;
///
/// let cart = Cart::new([(product, Quantity::new(2)?)])?;
/// let price = Money::new(1_250, Currency::new("EUR")?)?;
/// let now = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap();
/// let lifetime = TimeDelta::minutes(15);
/// let id = OrderId::new(Uuid::from_u128(7))?;
/// let mut order = Order::place(id, &cart, |_| Some(price), None, now, lifetime, Actor::Anonymous)?;
/// assert_eq!(order.record().total, Money::new(2_500, Currency::new("EUR")?)?);
///
/// // Unpaid past its expiry, it reads as expired even before a sweeper writes that down.
/// assert_eq!(order.status_at(now + TimeDelta::minutes(20)), OrderStatus::Expired);
///
/// let paid = order.pay(now + TimeDelta::minutes(5), Actor::Admin)?.expect("a change to write");
/// assert_eq!(paid.order().version(), order.version());
/// assert_eq!(paid.order().record().settled_by, Some(Actor::Admin));
/// let again = order.pay(now + TimeDelta::minutes(6), Actor::Anonymous)?;
/// assert_eq!(again, None, "paying twice changes nothing");
/// assert!(matches!(order.cancel(now, Actor::Admin), Err(TransitionError::NotCancellable { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order(OrderRecord);

/// What a store writes for an order, next to the stock changes of the same commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderChange {
    /// A new order (checkout).
    Created(Order),
    /// A transition of a stored order; the store MUST refuse it unless it still holds `expected`.
    Updated {
        /// The version the transition was computed from.
        expected: Version,
        /// The order to store, at `expected.next()`.
        order: Order,
    },
    /// Units a line owed, filled by a delivery (see [`Order::fill`]): the line's units owed
    /// and allocations change, its status does not. The store MUST refuse it unless it still
    /// holds `expected`.
    Filled {
        /// The version the fill was computed from.
        expected: Version,
        /// The order to store, at `expected.next()`.
        order: Order,
        /// The line's product.
        product_id: ProductId,
        /// Units filled.
        units: Quantity,
    },
}

impl OrderChange {
    /// The order written.
    #[must_use]
    pub fn order(&self) -> &Order {
        match self {
            Self::Created(order) | Self::Updated { order, .. } | Self::Filled { order, .. } => {
                order
            }
        }
    }
}

impl Order {
    /// Places an order for a cart, by `by`: one line per product at its current price, held
    /// until `now + lifetime`, each line at the default location until
    /// [allocated](Order::allocated) otherwise.
    ///
    /// # Errors
    /// [`OrderError::Unpriced`] when `price_of` knows no price for a product,
    /// [`OrderError::Money`] for mixed currencies or overflow, [`OrderError::Lifetime`] for a
    /// lifetime that is not positive or overflows.
    pub fn place(
        id: OrderId,
        cart: &Cart,
        price_of: impl Fn(ProductId) -> Option<Money>,
        customer: Option<Customer>,
        now: Timestamp,
        lifetime: TimeDelta,
        by: Actor,
    ) -> Result<Self, OrderError> {
        let lines = cart
            .lines()
            .map(|(product_id, quantity)| {
                let unit_price = price_of(product_id).ok_or(OrderError::Unpriced(product_id))?;
                // All at the default location until a checkout allocates them otherwise
                // (see [`Order::allocated`]): a single-location shop's order as it is stored.
                let allocations = vec![Allocation { location_id: LocationId::DEFAULT, quantity }];
                Ok(OrderLine { product_id, quantity, unit_price, allocations, backordered: 0 })
            })
            .collect::<Result<Vec<_>, OrderError>>()?;
        if lifetime <= TimeDelta::zero() {
            return Err(OrderError::Lifetime);
        }
        let expires_at = now.checked_add_signed(lifetime).ok_or(OrderError::Lifetime)?;
        Ok(Self(OrderRecord {
            id,
            status: OrderStatus::Reserved,
            total: total_of(&lines)?,
            lines,
            customer,
            created_at: now,
            expires_at,
            paid_at: None,
            cancelled_at: None,
            expired_at: None,
            placed_by: Some(by),
            settled_by: None,
            version: Version::INITIAL,
        }))
    }

    /// Rebuilds an order read from storage (for adapters).
    ///
    /// # Errors
    /// [`OrderError::Lines`] for no lines or a product named twice, [`OrderError::Total`] when
    /// the total disagrees with the lines, [`OrderError::Money`] when it cannot be computed.
    pub fn restore(record: OrderRecord) -> Result<Self, OrderError> {
        let distinct: BTreeSet<_> = record.lines.iter().map(|l| l.product_id).collect();
        if record.lines.is_empty() || distinct.len() != record.lines.len() {
            return Err(OrderError::Lines);
        }
        if total_of(&record.lines)? != record.total {
            return Err(OrderError::Total);
        }
        let owes_too_much = |line: &OrderLine| line.backordered > line.quantity.get();
        if record.lines.iter().any(owes_too_much) {
            return Err(OrderError::Allocations);
        }
        if !record.lines.iter().all(|line| line.allocations.is_empty() || adds_up(line)) {
            return Err(OrderError::Allocations);
        }
        Ok(Self(record))
    }

    /// The same order with its lines' units held at the locations `lines` name (what the
    /// checkout's allocation decided), each line's in location-id order, and the units each
    /// line is owed; the order is written with them.
    ///
    /// # Errors
    /// [`OrderError::Allocations`] unless `lines` gives every line of the order allocations
    /// that, with its units owed, sum to its quantity, and names no other product.
    pub fn allocated(mut self, lines: Vec<LineAllocation>) -> Result<Self, OrderError> {
        if lines.len() != self.0.lines.len() {
            return Err(OrderError::Allocations);
        }
        for allocated in lines {
            let line = (self.0.lines.iter_mut())
                .find(|line| line.product_id == allocated.product_id)
                .ok_or(OrderError::Allocations)?;
            line.allocations = allocated.allocations;
            line.backordered = allocated.backordered;
            // Stored and read back in location order: the order is the same either way.
            line.allocations.sort_by_key(|a| a.location_id);
            if !adds_up(line) {
                return Err(OrderError::Allocations);
            }
        }
        Ok(self)
    }

    /// Every field, as stored.
    #[must_use]
    pub fn record(&self) -> &OrderRecord {
        &self.0
    }

    /// Its identity.
    #[must_use]
    pub fn id(&self) -> OrderId {
        self.0.id
    }

    /// The lines, one per product.
    #[must_use]
    pub fn lines(&self) -> &[OrderLine] {
        &self.0.lines
    }

    /// The version this state was read at.
    #[must_use]
    pub fn version(&self) -> Version {
        self.0.version
    }

    /// When an unpaid reservation runs out.
    #[must_use]
    pub fn expires_at(&self) -> Timestamp {
        self.0.expires_at
    }

    /// The status as a reader should see it at `now`: a reservation past its expiry is
    /// `expired` even before the sweeper has written that down.
    #[must_use]
    pub fn status_at(&self, now: Timestamp) -> OrderStatus {
        match self.0.status {
            OrderStatus::Reserved if self.is_due(now) => OrderStatus::Expired,
            status => status,
        }
    }

    /// Whether a reservation has run out at `now`.
    #[must_use]
    pub fn is_due(&self, now: Timestamp) -> bool {
        self.0.status == OrderStatus::Reserved && now >= self.0.expires_at
    }

    /// Payment confirmed, as `by` says. `Ok(None)` when it was already paid: paying twice is a
    /// no-op (and keeps the first payer on record).
    ///
    /// # Errors
    /// [`TransitionError::NotPayable`] when cancelled or expired (including a reservation past
    /// its expiry that the sweeper has not reached yet).
    pub fn pay(
        &mut self,
        now: Timestamp,
        by: Actor,
    ) -> Result<Option<OrderChange>, TransitionError> {
        match self.status_at(now) {
            OrderStatus::Paid => Ok(None),
            OrderStatus::Reserved => Ok(Some(self.transition(|r| {
                r.status = OrderStatus::Paid;
                r.paid_at = Some(now);
                r.settled_by = Some(by);
            }))),
            status => Err(TransitionError::NotPayable { status }),
        }
    }

    /// Cancelled before payment, by `by`. `Ok(None)` when it was already cancelled.
    ///
    /// # Errors
    /// [`TransitionError::NotCancellable`] when paid or expired.
    pub fn cancel(
        &mut self,
        now: Timestamp,
        by: Actor,
    ) -> Result<Option<OrderChange>, TransitionError> {
        match self.status_at(now) {
            OrderStatus::Cancelled => Ok(None),
            OrderStatus::Reserved => Ok(Some(self.transition(|r| {
                r.status = OrderStatus::Cancelled;
                r.cancelled_at = Some(now);
                r.settled_by = Some(by);
            }))),
            status => Err(TransitionError::NotCancellable { status }),
        }
    }

    /// Holds a reservation longer while its payment is pending (3-D Secure, a bank redirect):
    /// `expires_at` moves `by` later, but never past `created_at + max_hold`. Its version moves
    /// like any transition's, so an extension racing the sweeper's expiry of the same order
    /// cannot both win: the loser's write conflicts, and on a fresh read it finds the order
    /// extended (not due) or expired (not extendable).
    ///
    /// # Errors
    /// [`TransitionError::NotExtendable`] unless reserved and within its lifetime at `now`, or
    /// when the maximum hold is already reached.
    pub fn extend(
        &mut self,
        now: Timestamp,
        by: TimeDelta,
        max_hold: TimeDelta,
    ) -> Result<OrderChange, TransitionError> {
        let (status, expires_at) = (self.status_at(now), self.0.expires_at);
        let refused = TransitionError::NotExtendable { status, expires_at };
        if status != OrderStatus::Reserved {
            return Err(refused);
        }
        let cap = self.0.created_at.checked_add_signed(max_hold).ok_or(refused)?;
        let wanted = expires_at.checked_add_signed(by).ok_or(refused)?;
        let until = wanted.min(cap);
        if until <= expires_at {
            return Err(refused);
        }
        Ok(self.transition(|r| r.expires_at = until))
    }

    /// The reservation ran out without payment; the service itself ([`Actor::System`]) is on
    /// record for it.
    ///
    /// # Errors
    /// [`TransitionError::NotExpirable`] unless reserved, [`TransitionError::NotDue`] before
    /// `expires_at`.
    pub fn expire(&mut self, now: Timestamp) -> Result<OrderChange, TransitionError> {
        match self.0.status {
            OrderStatus::Reserved if self.is_due(now) => Ok(self.transition(|r| {
                r.status = OrderStatus::Expired;
                r.expired_at = Some(now);
                r.settled_by = Some(Actor::System);
            })),
            OrderStatus::Reserved => Err(TransitionError::NotDue { expires_at: self.0.expires_at }),
            status => Err(TransitionError::NotExpirable { status }),
        }
    }

    /// `units` of the `product_id` line's units owed, filled at `location_id` (a delivery
    /// there): they leave what the line is owed and join its allocation at that location. A
    /// reserved order then holds them there (payment sells them as any other); a paid order's
    /// are sold at once: the caller moves the location's stock accordingly. The status and
    /// expiry stay.
    ///
    /// # Errors
    /// [`FillError::NotOwed`] unless reserved or paid; [`FillError::TooMany`] when the line
    /// owes fewer units (or there is no such line).
    pub fn fill(
        &mut self,
        product_id: ProductId,
        location_id: LocationId,
        units: Quantity,
    ) -> Result<OrderChange, FillError> {
        let status = self.0.status;
        if !matches!(status, OrderStatus::Reserved | OrderStatus::Paid) {
            return Err(FillError::NotOwed(status));
        }
        let owed = (self.0.lines.iter())
            .find(|line| line.product_id == product_id)
            .map_or(0, |line| line.backordered);
        if owed < units.get() {
            return Err(FillError::TooMany { product_id, owed, requested: units.get() });
        }
        let expected = self.0.version;
        if let Some(line) = self.0.lines.iter_mut().find(|line| line.product_id == product_id) {
            let mut held = line.sources();
            match held.iter_mut().find(|a| a.location_id == location_id) {
                Some(here) => {
                    here.quantity = here.quantity.checked_add(units).unwrap_or(here.quantity)
                }
                None => held.push(Allocation { location_id, quantity: units }),
            }
            held.sort_by_key(|a| a.location_id);
            line.allocations = held;
            line.backordered -= units.get();
        }
        self.0.version = expected.next();
        Ok(OrderChange::Filled { expected, order: self.clone(), product_id, units })
    }

    fn transition(&mut self, change: impl FnOnce(&mut OrderRecord)) -> OrderChange {
        let expected = self.0.version;
        change(&mut self.0);
        self.0.version = expected.next();
        OrderChange::Updated { expected, order: self.clone() }
    }
}

/// Whether a line's allocations sum to its quantity less its units owed.
fn adds_up(line: &OrderLine) -> bool {
    let held: u64 = line.allocations.iter().map(|a| u64::from(a.quantity.get())).sum();
    held == u64::from(line.held()) && line.backordered <= line.quantity.get()
}

fn total_of(lines: &[OrderLine]) -> Result<Money, OrderError> {
    let first = lines.first().ok_or(OrderError::Lines)?;
    lines.iter().try_fold(Money::zero(first.unit_price.currency()), |sum, line| {
        Ok(sum.checked_add(line.subtotal()?)?)
    })
}

#[cfg(test)]
mod tests;
