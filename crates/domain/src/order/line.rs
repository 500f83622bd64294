//! [`OrderLine`]: one product of an order, its quantity, the unit price charged, and the
//! locations its units are held at.

use crate::{LocationId, Money, MoneyError, ProductId, Quantity};

/// One product of an order. An order holds at most one line per product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    /// The product.
    pub product_id: ProductId,
    /// How many units (the merged quantity of the cart's lines for this product).
    pub quantity: Quantity,
    /// The price of one unit at checkout time.
    pub unit_price: Money,
    /// Where its units are held, per location; their quantities sum to `quantity`. Empty only
    /// on a line stored before locations, whose units are all at the default location (see
    /// [`OrderLine::sources`]).
    pub allocations: Vec<Allocation>,
}

impl OrderLine {
    /// The locations whose stock holds this line's units: its allocations, or (for a line not
    /// allocated) all of them at the default location, where every unit was before locations.
    #[must_use]
    pub fn sources(&self) -> Vec<Allocation> {
        if self.allocations.is_empty() {
            vec![Allocation { location_id: LocationId::DEFAULT, quantity: self.quantity }]
        } else {
            self.allocations.clone()
        }
    }

    /// `quantity × unit_price`.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`] past `i64` minor units.
    pub fn subtotal(&self) -> Result<Money, MoneyError> {
        self.unit_price.times(self.quantity)
    }
}

/// Units of one product taken from one location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    /// Where the units come from.
    pub location_id: LocationId,
    /// How many (at least one).
    pub quantity: Quantity,
}

/// Where one product of the cart comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineAllocation {
    /// The product.
    pub product_id: ProductId,
    /// Its allocations, in the order the policy took the locations; their quantities sum to
    /// the cart's quantity of the product.
    pub allocations: Vec<Allocation>,
}
