//! Checkout: reserve every unit of a cart and create the order that awaits payment, or refuse
//! the whole cart. This is where "never oversell" is decided.
//!
//! Path: validate the cart (merging lines per product) → price it → read every product's stock
//! with its version → reserve in the domain, collecting *every* shortage → commit the stock
//! changes and the order in one versioned write. When a concurrent checkout wrote one of the
//! stocks first, the commit conflicts, nothing is written, and the attempt starts over from a
//! fresh read, a bounded number of times.

use std::collections::HashMap;

use chrono::TimeDelta;
use domain::order::OrderChange;
use domain::ports::{BoxError, Changeset, StoreError};
use domain::{CartError, CustomerId, Order, OrderError, ProductId, Shortage, StockError};

use crate::cart::cart_of;
use crate::retry::{RetryError, retry_on_conflict};
use crate::{CartLine, Ports, RetryPolicy};

/// Check out a cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutCommand {
    /// The cart's lines; lines of the same product are summed.
    pub lines: Vec<CartLine>,
    /// The customer, when known.
    pub customer_id: Option<CustomerId>,
}

/// A successful checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedOut {
    /// The new order, `reserved` until paid, cancelled or expired.
    pub order: Order,
    /// Attempts it took (1 without contention); the HTTP layer counts retries from it.
    pub attempts: u32,
}

/// Why a checkout was refused.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// The cart is empty, too large, or asks too much of one product.
    #[error(transparent)]
    InvalidCart(#[from] CartError),
    /// Some products do not exist; all of them are listed, in id order.
    #[error("unknown products: {0:?}")]
    UnknownProducts(Vec<ProductId>),
    /// The cart cannot be priced (products in different currencies, or an absurd total).
    #[error("the cart cannot be priced")]
    Unpriceable(#[source] OrderError),
    /// Some products are short; every short product is listed, in id order. Nothing was
    /// reserved.
    #[error("{} products are short", .0.len())]
    InsufficientStock(Vec<Shortage>),
    /// Concurrent checkouts kept winning the race for the same stock.
    #[error("the stock kept changing; gave up after {attempts} attempts")]
    Contended {
        /// Attempts made.
        attempts: u32,
    },
    /// The store failed. Not retried.
    #[error("the checkout could not be recorded")]
    Unavailable(#[source] BoxError),
}

/// Settings of the checkout use case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckoutConfig {
    /// How long a reservation waits for payment before it expires.
    pub reservation_ttl: TimeDelta,
    /// How lost races are retried.
    pub retry: RetryPolicy,
}

impl Default for CheckoutConfig {
    /// 15 minutes to pay, the default retry policy.
    fn default() -> Self {
        Self { reservation_ttl: TimeDelta::minutes(15), retry: RetryPolicy::default() }
    }
}

/// The checkout use case.
pub struct Checkout {
    ports: Ports,
    config: CheckoutConfig,
}

impl Checkout {
    /// The use case over `ports`.
    #[must_use]
    pub fn new(ports: Ports, config: CheckoutConfig) -> Self {
        Self { ports, config }
    }

    /// Reserves the whole cart and creates its order, or reserves nothing.
    ///
    /// # Errors
    /// See [`CheckoutError`]; `InsufficientStock` is an answer, not a failure.
    #[tracing::instrument(skip_all, fields(lines = command.lines.len()))]
    pub async fn execute(&self, command: CheckoutCommand) -> Result<CheckedOut, CheckoutError> {
        let cart = cart_of(&command.lines)?;
        let ids: Vec<ProductId> = cart.product_ids().collect();
        let prices: HashMap<_, _> = (self.ports.products.get_many(&ids).await)
            .map_err(|e| CheckoutError::Unavailable(e.into()))?
            .into_iter()
            .map(|p| (p.id, p.price))
            .collect();
        let unknown: Vec<_> = ids.iter().copied().filter(|id| !prices.contains_key(id)).collect();
        if !unknown.is_empty() {
            return Err(CheckoutError::UnknownProducts(unknown));
        }
        let now = self.ports.clock.now();
        let order = Order::place(
            self.ports.ids.order_id(),
            &cart,
            |id| prices.get(&id).copied(),
            command.customer_id,
            now,
            self.config.reservation_ttl,
        )
        .map_err(CheckoutError::Unpriceable)?;

        let attempt = || async {
            let mut stocks = self.ports.stock.get_many(&ids).await?;
            let mut changes = Vec::with_capacity(ids.len());
            let mut shortages = Vec::new();
            for (product_id, quantity) in cart.lines() {
                let stock = stocks
                    .iter_mut()
                    .find(|s| s.product_id() == product_id)
                    .ok_or(StoreError::ProductNotFound(product_id))?;
                match stock.reserve(quantity) {
                    Ok(change) => changes.push(change),
                    Err(StockError::Insufficient(shortage)) => shortages.push(shortage),
                    Err(other) => return Err(StoreError::unavailable(other)),
                }
            }
            if !shortages.is_empty() {
                return Ok(Err(shortages));
            }
            let changeset = Changeset::new(changes, Some(OrderChange::Created(order.clone())), now);
            self.ports.unit_of_work.commit(changeset).await.map(Ok)
        };
        match retry_on_conflict(&self.config.retry, self.ports.clock.as_ref(), attempt).await {
            Ok(done) => match done.value {
                Ok(()) => Ok(CheckedOut { order, attempts: done.attempts }),
                Err(shortages) => Err(CheckoutError::InsufficientStock(shortages)),
            },
            Err(RetryError::Contended { attempts }) => Err(CheckoutError::Contended { attempts }),
            Err(RetryError::Store(StoreError::ProductNotFound(id))) => {
                Err(CheckoutError::UnknownProducts(vec![id]))
            }
            Err(RetryError::Store(err)) => Err(CheckoutError::Unavailable(err.into())),
        }
    }
}

#[cfg(test)]
mod tests;
