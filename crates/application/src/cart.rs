//! [`CartLine`]: one line of a cart as a client sends it, already parsed into domain types.

use domain::{Cart, CartError, ProductId, Quantity};

/// A product and how many units of it; a cart may name a product on several lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CartLine {
    /// The product.
    pub product_id: ProductId,
    /// How many units.
    pub quantity: Quantity,
}

/// Merges lines into a [`Cart`] (one quantity per product, checked bounds).
pub(crate) fn cart_of(lines: &[CartLine]) -> Result<Cart, CartError> {
    Cart::new(lines.iter().map(|l| (l.product_id, l.quantity)))
}
