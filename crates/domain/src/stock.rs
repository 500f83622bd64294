//! [`ProductStock`]: how many units of a product one location holds, and how many of them are
//! held for orders.
//!
//! The invariant `0 <= reserved <= on_hand` is what "never oversell" means in numbers: every
//! reservation is backed by a unit on the shelf. A location may also keep a *safety stock*:
//! units on hand that are not for sale, so a reservation (or a transfer out) never takes
//! `on_hand - reserved` below it. Every operation here either keeps those rules or is refused,
//! and returns a [`StockChange`] that a port writes under the version it was read at.

use crate::{LocationId, MovementKind, ProductId, Quantity, StockCount, Version};

/// A stock row's key: the product and the location it is kept at. Stores lock rows in this
/// order.
pub type StockKey = (ProductId, LocationId);

/// A product short of what a cart asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shortage {
    /// The product that is short.
    pub product_id: ProductId,
    /// How many units were asked for (the sum over the cart's lines of this product).
    pub requested: Quantity,
    /// How many units could be had at that moment.
    pub available: StockCount,
}

/// Why a stock operation is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    /// Fewer units are available than requested.
    #[error("product {} has {} available, {} requested", .0.product_id, .0.available, .0.requested)]
    Insufficient(Shortage),
    /// The new on-hand count would fall below what is already held for orders.
    #[error("on-hand {on_hand} would fall below the {reserved} units reserved")]
    BelowReserved {
        /// The on-hand count that was asked for.
        on_hand: i64,
        /// Units currently reserved.
        reserved: StockCount,
    },
    /// Releasing or selling more than is reserved: the order and the stock disagree.
    #[error("{requested} units cannot leave a reservation of {reserved}")]
    NotReserved {
        /// Units the operation wanted to take out of the reservation.
        requested: Quantity,
        /// Units currently reserved.
        reserved: StockCount,
    },
    /// The counts would leave the range of [`StockCount`].
    #[error("the stock count would leave its range")]
    OutOfRange,
    /// An adjustment of zero units changes nothing and would only clutter the ledger.
    #[error("an adjustment moves at least one unit")]
    ZeroAdjustment,
    /// Counts read from storage break the invariant (reserved above on hand).
    #[error("stored stock is inconsistent: reserved {reserved} > on hand {on_hand}")]
    Inconsistent {
        /// Stored on-hand count.
        on_hand: StockCount,
        /// Stored reserved count.
        reserved: StockCount,
    },
}

/// The stock of one product at one location, as of one [`Version`]: one stock row.
///
/// Every operation keeps `0 <= reserved <= on_hand` or is refused without changing anything;
/// an accepted one moves to the next version and returns the [`StockChange`] to write.
/// Reservations and transfers out also keep the row's safety stock back from sale.
///
/// ```
/// use domain::{ProductId, ProductStock, Quantity, StockCount, StockError, Version};
/// # use uuid::Uuid;
/// # let product = ProductId::new(Uuid::from_u128(1))?;
/// let units = Quantity::new;
///
/// let mut stock = ProductStock::new(product, StockCount::new(10)?);
/// stock.reserve(units(4)?)?; // a checkout holds 4
/// stock.sell(units(3)?)?; // 3 of them are paid for
/// stock.release(units(1)?)?; // the last one is cancelled
/// assert_eq!((stock.on_hand().get(), stock.reserved().get()), (7, 0));
/// assert_eq!(stock.version(), Version::new(4)?);
///
/// // A shelf count below what is held for orders is refused.
/// stock.reserve(units(5)?)?;
/// let refused = stock.set_on_hand(StockCount::new(2)?);
/// assert!(matches!(refused, Err(StockError::BelowReserved { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductStock {
    product_id: ProductId,
    location_id: LocationId,
    /// Units physically on the shelf, reserved ones included.
    on_hand: StockCount,
    /// Units held for unpaid orders; never above `on_hand`.
    reserved: StockCount,
    /// Units on hand kept back from sale (a display model, a buffer against miscounts).
    safety_stock: StockCount,
    /// The version this state was read at (or will be written as, after a change).
    version: Version,
}

/// One versioned change of one product's stock: what a port writes, and its ledger entry.
///
/// `before` is the state the change was computed from; the store MUST refuse the write when its
/// stored version is no longer `before.version()`. `after` is the state to store: the same
/// product at the very next version, `before.version().next()`, with counts that keep
/// `0 <= reserved <= on_hand`.
///
/// Only the operations of [`ProductStock`] make one, so every change is a step the domain
/// computed: its fields are read through accessors and never set. Several consecutive changes
/// of one product are written as one [`StockSpan`].
///
/// ```
/// use domain::{MovementKind, ProductId, ProductStock, Quantity, StockCount, Version};
/// # use uuid::Uuid;
/// # let product = ProductId::new(Uuid::from_u128(1)).unwrap();
///
/// let mut stock = ProductStock::new(product, StockCount::new(10).unwrap());
/// let change = stock.reserve(Quantity::new(3).unwrap()).unwrap();
///
/// assert_eq!(change.kind(), MovementKind::Reserve);
/// assert_eq!(change.expected_version(), Version::INITIAL);
/// assert_eq!(change.after(), stock);
/// assert_eq!(change.after().version(), change.before().version().next());
/// assert_eq!((change.on_hand_delta(), change.reserved_delta()), (0, 3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockChange {
    kind: MovementKind,
    /// Exactly one step.
    span: StockSpan,
}

impl StockChange {
    /// What moved the stock.
    #[must_use]
    pub fn kind(&self) -> MovementKind {
        self.kind
    }

    /// The state the change was computed from.
    #[must_use]
    pub fn before(&self) -> ProductStock {
        self.span.before
    }

    /// The state to store: the same product at `before().version().next()`.
    #[must_use]
    pub fn after(&self) -> ProductStock {
        self.span.after
    }

    /// The product this change is about.
    #[must_use]
    pub fn product_id(&self) -> ProductId {
        self.span.product_id()
    }

    /// The location whose row this change is about.
    #[must_use]
    pub fn location_id(&self) -> LocationId {
        self.span.location_id()
    }

    /// The row this change is about: (product, location), the order stores lock rows in.
    #[must_use]
    pub fn key(&self) -> (ProductId, LocationId) {
        (self.span.product_id(), self.span.location_id())
    }

    /// The version the store must still hold for the write to succeed.
    #[must_use]
    pub fn expected_version(&self) -> Version {
        self.span.expected_version()
    }

    /// How much the on-hand count moves.
    #[must_use]
    pub fn on_hand_delta(&self) -> i64 {
        self.span.on_hand_delta()
    }

    /// How much the reserved count moves.
    #[must_use]
    pub fn reserved_delta(&self) -> i64 {
        self.span.reserved_delta()
    }

    /// Whether this change was computed from the state `previous` leaves.
    #[must_use]
    pub fn follows(&self, previous: &Self) -> bool {
        self.span.before == previous.span.after
    }
}

/// Consecutive [`StockChange`]s of one product taken as one write: from the state the first was
/// computed from to the state the last leaves.
///
/// A store writes a whole chain of changes (a group commit) as one versioned update of the
/// product's row. The span keeps what makes that safe: it is made only of changes that follow
/// each other ([`StockChange::follows`]), so `after` is a state the domain computed, of the same
/// product as `before`, and its version is `before`'s advanced once per change
/// ([`StockSpan::steps`] times). Unlike a [`StockChange`] it has no single kind: the kinds and
/// ledger entries stay with the changes it was made of.
///
/// ```
/// use domain::{ProductId, ProductStock, Quantity, StockCount, StockSpan};
/// # use uuid::Uuid;
/// # let product = ProductId::new(Uuid::from_u128(1)).unwrap();
///
/// let mut stock = ProductStock::new(product, StockCount::new(10).unwrap());
/// let first = stock.reserve(Quantity::new(2).unwrap()).unwrap();
/// let second = stock.sell(Quantity::new(2).unwrap()).unwrap();
///
/// let span = StockSpan::new([&first, &second]).expect("they follow each other");
/// assert_eq!((span.before(), span.after()), (first.before(), stock));
/// assert_eq!((span.steps(), span.on_hand_delta(), span.reserved_delta()), (2, -2, 0));
///
/// // Two changes computed from the same state do not chain; no change spans nothing.
/// let mut other = first.before();
/// let rival = other.reserve(Quantity::new(1).unwrap()).unwrap();
/// assert_eq!(StockSpan::new([&first, &rival]), None);
/// assert_eq!(StockSpan::new([]), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockSpan {
    before: ProductStock,
    after: ProductStock,
    steps: i64,
    /// Whether any change takes units that were for sale (a reservation, a transfer out).
    takes_for_sale: bool,
}

impl StockSpan {
    /// The span of `changes`, in the order given.
    ///
    /// `None` when there is no change, or when one does not follow the one before it: the span
    /// would then end in a state nobody computed.
    #[must_use]
    pub fn new<'a>(changes: impl IntoIterator<Item = &'a StockChange>) -> Option<Self> {
        let mut changes = changes.into_iter();
        let mut last = changes.next()?;
        let mut span = last.span;
        for change in changes {
            if !change.follows(last) {
                return None;
            }
            span = Self {
                after: change.span.after,
                steps: span.steps.saturating_add(1),
                takes_for_sale: span.takes_for_sale || change.span.takes_for_sale,
                ..span
            };
            last = change;
        }
        Some(span)
    }

    /// The state the first change was computed from.
    #[must_use]
    pub fn before(&self) -> ProductStock {
        self.before
    }

    /// The state the last change leaves: what a store writes.
    #[must_use]
    pub fn after(&self) -> ProductStock {
        self.after
    }

    /// How many changes the span is made of (at least one): how far the version advances.
    #[must_use]
    pub fn steps(&self) -> i64 {
        self.steps
    }

    /// The product.
    #[must_use]
    pub fn product_id(&self) -> ProductId {
        self.before.product_id
    }

    /// The location of the row.
    #[must_use]
    pub fn location_id(&self) -> LocationId {
        self.before.location_id
    }

    /// The version the store must still hold for the write to succeed.
    #[must_use]
    pub fn expected_version(&self) -> Version {
        self.before.version
    }

    /// Whether the span takes units that were for sale (it reserves or transfers out): a
    /// store that applies its deltas to the row as it is then MUST also refuse a result with
    /// `on_hand - reserved` below the row's safety stock. Other changes (a sale, a release, a
    /// count, a breakage) may leave it below: they record what happened.
    #[must_use]
    pub fn takes_for_sale(&self) -> bool {
        self.takes_for_sale
    }

    /// How much the on-hand count moves over the whole span.
    #[must_use]
    pub fn on_hand_delta(&self) -> i64 {
        self.after.on_hand.get() - self.before.on_hand.get()
    }

    /// How much the reserved count moves over the whole span.
    #[must_use]
    pub fn reserved_delta(&self) -> i64 {
        self.after.reserved.get() - self.before.reserved.get()
    }
}

impl ProductStock {
    /// The stock of a product that has just been created, at the default location: nothing
    /// reserved, no safety stock, first version.
    #[must_use]
    pub fn new(product_id: ProductId, on_hand: StockCount) -> Self {
        Self::new_at(product_id, LocationId::DEFAULT, on_hand)
    }

    /// A new stock row of `product_id` at `location_id`: nothing reserved, no safety stock,
    /// first version.
    #[must_use]
    pub fn new_at(product_id: ProductId, location_id: LocationId, on_hand: StockCount) -> Self {
        Self {
            product_id,
            location_id,
            on_hand,
            reserved: StockCount::ZERO,
            safety_stock: StockCount::ZERO,
            version: Version::INITIAL,
        }
    }

    /// Rebuilds a default-location row without safety stock read from storage (a
    /// single-location shop's row); see [`Self::restore_at`].
    ///
    /// # Errors
    /// [`StockError::Inconsistent`] when `reserved > on_hand`.
    pub fn restore(
        product_id: ProductId,
        on_hand: StockCount,
        reserved: StockCount,
        version: Version,
    ) -> Result<Self, StockError> {
        Self::restore_at(
            product_id,
            LocationId::DEFAULT,
            on_hand,
            reserved,
            StockCount::ZERO,
            version,
        )
    }

    /// Rebuilds a stock row read from storage (for adapters). A safety stock above what is for
    /// sale is kept as it is: it was set when more was on hand.
    ///
    /// # Errors
    /// [`StockError::Inconsistent`] when `reserved > on_hand`.
    pub fn restore_at(
        product_id: ProductId,
        location_id: LocationId,
        on_hand: StockCount,
        reserved: StockCount,
        safety_stock: StockCount,
        version: Version,
    ) -> Result<Self, StockError> {
        if reserved > on_hand {
            return Err(StockError::Inconsistent { on_hand, reserved });
        }
        Ok(Self { product_id, location_id, on_hand, reserved, safety_stock, version })
    }

    /// The product.
    #[must_use]
    pub fn product_id(&self) -> ProductId {
        self.product_id
    }

    /// The location.
    #[must_use]
    pub fn location_id(&self) -> LocationId {
        self.location_id
    }

    /// The row's key: (product, location).
    #[must_use]
    pub fn key(&self) -> (ProductId, LocationId) {
        (self.product_id, self.location_id)
    }

    /// Units on hand kept back from sale.
    #[must_use]
    pub fn safety_stock(&self) -> StockCount {
        self.safety_stock
    }

    /// Units on the shelf, reserved ones included.
    #[must_use]
    pub fn on_hand(&self) -> StockCount {
        self.on_hand
    }

    /// Units held for unpaid orders.
    #[must_use]
    pub fn reserved(&self) -> StockCount {
        self.reserved
    }

    /// Units that can still be sold: `on_hand - reserved - safety_stock`, never below zero
    /// (a safety stock raised above what was free, or a sale out of it, leaves nothing for
    /// sale rather than a debt).
    #[must_use]
    pub fn available(&self) -> StockCount {
        let free = self.on_hand.get() - self.reserved.get() - self.safety_stock.get();
        StockCount::new(free.max(0)).unwrap_or(StockCount::ZERO)
    }

    /// The version this state was read at.
    #[must_use]
    pub fn version(&self) -> Version {
        self.version
    }

    /// Whether `quantity` units could be reserved now.
    ///
    /// # Errors
    /// [`Shortage`] when fewer units are available.
    pub fn check(&self, quantity: Quantity) -> Result<(), Shortage> {
        if StockCount::from(quantity) <= self.available() {
            Ok(())
        } else {
            Err(Shortage {
                product_id: self.product_id,
                requested: quantity,
                available: self.available(),
            })
        }
    }

    /// Holds `quantity` units for an order.
    ///
    /// # Errors
    /// [`StockError::Insufficient`] when fewer units are available; nothing changes then.
    pub fn reserve(&mut self, quantity: Quantity) -> Result<StockChange, StockError> {
        self.check(quantity).map_err(StockError::Insufficient)?;
        self.apply(MovementKind::Reserve, 0, i64::from(quantity.get()))
    }

    /// Holds `quantity` units on hand for an order that was owed them (a backorder filled by a
    /// delivery, see [`crate::backorder`]): like [`Self::reserve`], but the order bought them
    /// before anyone now shopping, so the safety stock does not hold them back; only
    /// `reserved <= on_hand` binds.
    ///
    /// # Errors
    /// [`StockError::BelowReserved`] when fewer units are on hand and not reserved.
    pub fn hold_owed(&mut self, quantity: Quantity) -> Result<StockChange, StockError> {
        let mut change = self.apply(MovementKind::Reserve, 0, i64::from(quantity.get()))?;
        change.span.takes_for_sale = false;
        Ok(change)
    }

    /// Gives back units an order held (the order was cancelled).
    ///
    /// # Errors
    /// [`StockError::NotReserved`] when fewer units are reserved.
    pub fn release(&mut self, quantity: Quantity) -> Result<StockChange, StockError> {
        self.unreserve(MovementKind::Release, quantity, 0)
    }

    /// Gives back units an unpaid order held past its expiry.
    ///
    /// # Errors
    /// [`StockError::NotReserved`] when fewer units are reserved.
    pub fn expire(&mut self, quantity: Quantity) -> Result<StockChange, StockError> {
        self.unreserve(MovementKind::Expire, quantity, 0)
    }

    /// Sells units an order held: they leave the reservation and the shelf together.
    ///
    /// # Errors
    /// [`StockError::NotReserved`] when fewer units are reserved.
    pub fn sell(&mut self, quantity: Quantity) -> Result<StockChange, StockError> {
        self.unreserve(MovementKind::Sell, quantity, -i64::from(quantity.get()))
    }

    /// Replaces the on-hand count with a shelf count.
    ///
    /// # Errors
    /// [`StockError::BelowReserved`] when the count is below what is reserved.
    pub fn set_on_hand(&mut self, on_hand: StockCount) -> Result<StockChange, StockError> {
        self.apply(MovementKind::Set, on_hand.get() - self.on_hand.get(), 0)
    }

    /// Sends `quantity` units to another location: they leave this row's on-hand count. Only
    /// units for sale move: reserved units and the safety stock stay.
    ///
    /// # Errors
    /// [`StockError::Insufficient`] when fewer units are for sale.
    pub fn transfer_out(&mut self, quantity: Quantity) -> Result<StockChange, StockError> {
        self.check(quantity).map_err(StockError::Insufficient)?;
        self.apply(MovementKind::TransferOut, -i64::from(quantity.get()), 0)
    }

    /// Receives `quantity` units from another location.
    ///
    /// # Errors
    /// [`StockError::OutOfRange`] past [`StockCount::MAX`].
    pub fn transfer_in(&mut self, quantity: Quantity) -> Result<StockChange, StockError> {
        self.apply(MovementKind::TransferIn, i64::from(quantity.get()), 0)
    }

    /// Sets the safety stock: units on hand kept back from sale from now on. Reservations
    /// already made are untouched, so it may exceed what is free.
    #[must_use]
    pub fn set_safety_stock(&mut self, safety_stock: StockCount) -> StockChange {
        let before = *self;
        *self = Self { safety_stock, version: self.version.next(), ..before };
        StockChange {
            kind: MovementKind::SafetyStock,
            span: StockSpan { before, after: *self, steps: 1, takes_for_sale: false },
        }
    }

    /// Moves the on-hand count by `delta` (deliveries, breakage, corrections).
    ///
    /// # Errors
    /// [`StockError::ZeroAdjustment`] for 0, [`StockError::BelowReserved`] when on-hand would
    /// fall below what is reserved, [`StockError::OutOfRange`] past [`StockCount::MAX`].
    pub fn adjust(&mut self, delta: i64) -> Result<StockChange, StockError> {
        if delta == 0 {
            return Err(StockError::ZeroAdjustment);
        }
        self.apply(MovementKind::Adjust, delta, 0)
    }

    fn unreserve(
        &mut self,
        kind: MovementKind,
        quantity: Quantity,
        on_hand_delta: i64,
    ) -> Result<StockChange, StockError> {
        if StockCount::from(quantity) > self.reserved {
            return Err(StockError::NotReserved { requested: quantity, reserved: self.reserved });
        }
        self.apply(kind, on_hand_delta, -i64::from(quantity.get()))
    }

    /// The one place counts change: checks the invariant, bumps the version, records the change.
    fn apply(
        &mut self,
        kind: MovementKind,
        on_hand_delta: i64,
        reserved_delta: i64,
    ) -> Result<StockChange, StockError> {
        let reserved = self.reserved.shifted(reserved_delta).ok_or(StockError::OutOfRange)?;
        let on_hand =
            self.on_hand.get().checked_add(on_hand_delta).ok_or(StockError::OutOfRange)?;
        // Below-reserved is checked on the raw number so that an adjustment past zero reports the
        // business problem (units are held for orders), not a range error.
        if on_hand < reserved.get() {
            return Err(StockError::BelowReserved { on_hand, reserved });
        }
        let on_hand = StockCount::new(on_hand).map_err(|_| StockError::OutOfRange)?;
        let before = *self;
        *self = Self { on_hand, reserved, version: self.version.next(), ..before };
        let takes_for_sale = matches!(kind, MovementKind::Reserve | MovementKind::TransferOut);
        Ok(StockChange { kind, span: StockSpan { before, after: *self, steps: 1, takes_for_sale } })
    }
}

pub mod bulk;
mod totals;

pub use totals::StockTotals;

#[cfg(test)]
mod tests;
