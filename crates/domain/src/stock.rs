//! [`ProductStock`]: how many units of a product exist and how many are held for orders.
//!
//! The invariant `0 <= reserved <= on_hand` is what "never oversell" means in numbers: every
//! reservation is backed by a unit on the shelf. Every operation here either keeps it or is
//! refused, and returns a [`StockChange`] that a port writes under the version it was read at.

use crate::{MovementKind, ProductId, Quantity, StockCount, Version};

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

/// The stock of one product, as of one [`Version`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductStock {
    product_id: ProductId,
    /// Units physically on the shelf, reserved ones included.
    on_hand: StockCount,
    /// Units held for unpaid orders; never above `on_hand`.
    reserved: StockCount,
    /// The version this state was read at (or will be written as, after a change).
    version: Version,
}

/// One versioned change of one product's stock: what a port writes, and its ledger entry.
///
/// `before` carries the version the change was computed from; the store MUST refuse the write
/// when its stored version is no longer that one. `after` is the state to store, whose version is
/// `before.version().next()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockChange {
    /// What moved the stock.
    pub kind: MovementKind,
    /// The state the change was computed from.
    pub before: ProductStock,
    /// The state to store.
    pub after: ProductStock,
}

impl StockChange {
    /// The product this change is about.
    #[must_use]
    pub fn product_id(&self) -> ProductId {
        self.before.product_id
    }

    /// The version the store must still hold for the write to succeed.
    #[must_use]
    pub fn expected_version(&self) -> Version {
        self.before.version
    }

    /// How much the on-hand count moves.
    #[must_use]
    pub fn on_hand_delta(&self) -> i64 {
        self.after.on_hand.get() - self.before.on_hand.get()
    }

    /// How much the reserved count moves.
    #[must_use]
    pub fn reserved_delta(&self) -> i64 {
        self.after.reserved.get() - self.before.reserved.get()
    }
}

impl ProductStock {
    /// The stock of a product that has just been created: nothing reserved, first version.
    #[must_use]
    pub fn new(product_id: ProductId, on_hand: StockCount) -> Self {
        Self { product_id, on_hand, reserved: StockCount::ZERO, version: Version::INITIAL }
    }

    /// Rebuilds a stock read from storage (for adapters).
    ///
    /// # Errors
    /// [`StockError::Inconsistent`] when `reserved > on_hand`.
    pub fn restore(
        product_id: ProductId,
        on_hand: StockCount,
        reserved: StockCount,
        version: Version,
    ) -> Result<Self, StockError> {
        if reserved > on_hand {
            return Err(StockError::Inconsistent { on_hand, reserved });
        }
        Ok(Self { product_id, on_hand, reserved, version })
    }

    /// The product.
    #[must_use]
    pub fn product_id(&self) -> ProductId {
        self.product_id
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

    /// Units that can still be sold: `on_hand - reserved`.
    #[must_use]
    pub fn available(&self) -> StockCount {
        // The invariant makes this non-negative; ZERO is only a guard against a broken one.
        self.on_hand.shifted(-self.reserved.get()).unwrap_or(StockCount::ZERO)
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
        Ok(StockChange { kind, before, after: *self })
    }
}

#[cfg(test)]
mod tests;
