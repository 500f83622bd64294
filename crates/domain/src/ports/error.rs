//! [`StoreError`]: the one error every storage port speaks. Adapters map their driver errors
//! into it; no driver type ever crosses a port.

use super::IdempotencyKey;
use crate::{LocationCode, LocationId, OrderId, ProductId, Sku};

/// Any error, boxed, for the causes adapters keep for logs.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a storage port could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The stock row of this product (at the location written) does not exist.
    #[error("product {0} not found")]
    ProductNotFound(ProductId),
    /// This location does not exist.
    #[error("location {0} not found")]
    LocationNotFound(LocationId),
    /// This order does not exist.
    #[error("order {0} not found")]
    OrderNotFound(OrderId),
    /// The stock of this product was written since it was read: reload and decide again.
    #[error("the stock of product {0} changed since it was read")]
    StockConflict(ProductId),
    /// A purchase counter would pass its limit on the row as it is now (a concurrent checkout
    /// of the same customer counted first): reload and decide again.
    #[error("a purchase counter of product {0} changed since it was read")]
    PurchaseConflict(ProductId),
    /// This order was written since it was read: reload and decide again.
    #[error("order {0} changed since it was read")]
    OrderConflict(OrderId),
    /// The database aborted the transaction because of a concurrent one (serialization failure,
    /// deadlock, busy database). Nothing was written; trying again may succeed.
    #[error("the transaction collided with a concurrent one")]
    TransactionConflict(#[source] BoxError),
    /// These requests no longer hold their idempotency keys (a stale claim was taken over by a
    /// retry, or the key was completed): what they would commit under them was not written,
    /// nor anything else of the same commit.
    #[error("{} idempotency claim(s) lost", .0.len())]
    ClaimsLost(Vec<IdempotencyKey>),
    /// The deadline of the changesets of these orders passed before the commit could be made
    /// (see [`super::Changeset::with_deadline`]): nothing of the commit was written.
    #[error("{} changeset(s) past their deadline", .0.len())]
    Overdue(Vec<OrderId>),
    /// Another product already has this SKU.
    #[error("a product with SKU {0} already exists")]
    DuplicateSku(Sku),
    /// Another location already has this code.
    #[error("a location with code {0} already exists")]
    DuplicateLocationCode(LocationCode),
    /// The store could not be reached or answered something unusable. Not retried by use
    /// cases: a down database does not come back within a request's lifetime.
    #[error("the store is unavailable")]
    Unavailable(#[source] BoxError),
}

impl StoreError {
    /// Whether the failure was a lost race that a fresh read and another attempt can win.
    #[must_use]
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            Self::StockConflict(_)
                | Self::PurchaseConflict(_)
                | Self::OrderConflict(_)
                | Self::TransactionConflict(_)
        )
    }

    /// Wraps any error as [`StoreError::Unavailable`].
    pub fn unavailable(source: impl Into<BoxError>) -> Self {
        Self::Unavailable(source.into())
    }
}
