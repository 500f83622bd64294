//! Check availability: can this cart be bought right now? The seed's stock-check endpoint.
//!
//! The answer is a snapshot, not a promise: only a checkout reserves. It reads without locking,
//! so checking never slows down buyers.

use domain::ports::BoxError;
use domain::{CartError, ProductId, Quantity, StockCount, StockTotals};

use crate::cart::cart_of;
use crate::{CartLine, Ports};

/// Check a cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckAvailabilityCommand {
    /// The cart's lines; lines of the same product are summed.
    pub lines: Vec<CartLine>,
}

/// One product of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemAvailability {
    /// The product.
    pub product_id: ProductId,
    /// Units asked for, summed over the cart's lines of this product.
    pub requested: Quantity,
    /// Units that could be had at the moment of the read, over every location.
    pub available: StockCount,
}

impl ItemAvailability {
    /// Whether the requested units could be had.
    #[must_use]
    pub fn ok(&self) -> bool {
        StockCount::from(self.requested) <= self.available
    }
}

/// The answer: one entry per distinct product, in id order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    /// Per product.
    pub items: Vec<ItemAvailability>,
}

impl Availability {
    /// Whether every product could be had.
    #[must_use]
    pub fn all_available(&self) -> bool {
        self.items.iter().all(ItemAvailability::ok)
    }
}

/// Why the check could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum CheckAvailabilityError {
    /// The cart is empty, too large, or asks too much of one product.
    #[error(transparent)]
    InvalidCart(#[from] CartError),
    /// Some products do not exist; all of them are listed, in id order.
    #[error("unknown products: {0:?}")]
    UnknownProducts(Vec<ProductId>),
    /// The store failed.
    #[error("availability could not be read")]
    Unavailable(#[source] BoxError),
}

/// The availability use case.
pub struct CheckAvailability {
    ports: Ports,
}

impl CheckAvailability {
    /// The use case over `ports`.
    #[must_use]
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    /// Reads the stock of every product in the cart and compares.
    ///
    /// # Errors
    /// See [`CheckAvailabilityError`].
    #[tracing::instrument(skip_all, fields(lines = command.lines.len()))]
    pub async fn execute(
        &self,
        command: CheckAvailabilityCommand,
    ) -> Result<Availability, CheckAvailabilityError> {
        let cart = cart_of(&command.lines)?;
        let ids: Vec<ProductId> = cart.product_ids().collect();
        let stocks = (self.ports.stock.get_many(&ids).await)
            .map(StockTotals::per_product)
            .map_err(|e| CheckAvailabilityError::Unavailable(e.into()))?;
        let mut items = Vec::with_capacity(ids.len());
        let mut unknown = Vec::new();
        for (product_id, requested) in cart.lines() {
            match stocks.iter().find(|s| s.product_id() == product_id) {
                Some(stock) => items.push(ItemAvailability {
                    product_id,
                    requested,
                    available: stock.available(),
                }),
                None => unknown.push(product_id),
            }
        }
        if unknown.is_empty() {
            Ok(Availability { items })
        } else {
            Err(CheckAvailabilityError::UnknownProducts(unknown))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Mocks, count, line, pid, q, stock};

    #[tokio::test]
    async fn lines_are_summed_and_compared_with_what_is_available() {
        let mut mocks = Mocks::new();
        mocks
            .stock
            .expect_get_many()
            .withf(|ids| ids == [pid(1), pid(2)])
            .returning(|_| Ok(vec![stock(2, 5, 4, 3), stock(1, 10, 0, 1)]));
        let lines = vec![line(1, 3), line(2, 2), line(1, 4)];
        let answer = CheckAvailability::new(mocks.into_ports())
            .execute(CheckAvailabilityCommand { lines })
            .await
            .expect("answer");
        let expected = vec![
            ItemAvailability { product_id: pid(1), requested: q(7), available: count(10) },
            ItemAvailability { product_id: pid(2), requested: q(2), available: count(1) },
        ];
        assert_eq!(answer.items, expected);
        assert!(answer.items[0].ok() && !answer.items[1].ok());
        assert!(!answer.all_available());
    }

    #[tokio::test]
    async fn unknown_products_are_all_named() {
        let mut mocks = Mocks::new();
        mocks.stock.expect_get_many().returning(|_| Ok(vec![stock(2, 5, 0, 1)]));
        let lines = vec![line(3, 1), line(2, 1), line(1, 1)];
        let err = CheckAvailability::new(mocks.into_ports())
            .execute(CheckAvailabilityCommand { lines })
            .await
            .expect_err("unknown");
        assert!(
            matches!(err, CheckAvailabilityError::UnknownProducts(ids) if ids == [pid(1), pid(3)])
        );
    }
}
