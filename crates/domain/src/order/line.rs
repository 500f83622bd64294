//! [`OrderLine`]: one product of an order, its quantity and the unit price charged.

use crate::{Money, MoneyError, ProductId, Quantity};

/// One product of an order. An order holds at most one line per product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderLine {
    /// The product.
    pub product_id: ProductId,
    /// How many units (the merged quantity of the cart's lines for this product).
    pub quantity: Quantity,
    /// The price of one unit at checkout time.
    pub unit_price: Money,
}

impl OrderLine {
    /// `quantity × unit_price`.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`] past `i64` minor units.
    pub fn subtotal(&self) -> Result<Money, MoneyError> {
        self.unit_price.times(self.quantity)
    }
}
