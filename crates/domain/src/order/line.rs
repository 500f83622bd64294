//! [`OrderLine`]: one product of an order, its quantity, the unit price charged, the
//! locations its units are held at, and the units it is still owed (a backorder).

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
    /// Where its units are held, per location; their quantities sum to `quantity` less
    /// `backordered`. Empty only on a line stored before locations, whose units are all at the
    /// default location (see [`OrderLine::sources`]), or on a line wholly backordered.
    pub allocations: Vec<Allocation>,
    /// Units sold beyond what the locations had, not held anywhere yet: a delivery fills them
    /// (see [`crate::backorder`]). 0 for a line wholly in stock.
    pub backordered: u32,
}

impl OrderLine {
    /// The locations whose stock holds this line's units: its allocations, or (for a line not
    /// allocated) all its held units at the default location, where every unit was before
    /// locations. Units still owed are held nowhere.
    #[must_use]
    pub fn sources(&self) -> Vec<Allocation> {
        if !self.allocations.is_empty() {
            return self.allocations.clone();
        }
        match Quantity::new(i64::from(self.held())) {
            Ok(quantity) => vec![Allocation { location_id: LocationId::DEFAULT, quantity }],
            Err(_) => Vec::new(),
        }
    }

    /// Units held at locations: `quantity` less those still owed.
    #[must_use]
    pub fn held(&self) -> u32 {
        self.quantity.get().saturating_sub(self.backordered)
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
    /// Its allocations, in the order the policy took the locations; their quantities and
    /// `backordered` sum to the cart's quantity of the product.
    pub allocations: Vec<Allocation>,
    /// Units no location could serve, owed to the order within the product's backorder limit
    /// (0 unless the product allows backorders).
    pub backordered: u32,
}
