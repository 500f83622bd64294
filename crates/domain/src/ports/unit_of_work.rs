//! [`UnitOfWork`]: the all-or-nothing write of a checkout, payment, cancellation or expiry.

use async_trait::async_trait;

use super::StoreError;
use crate::order::OrderChange;
use crate::{OrderId, StockChange, Timestamp};

/// Stock changes, the order change that caused them, and (implicitly) one ledger entry per
/// stock change: what one business step writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changeset {
    /// Sorted by product id: stores lock rows in this order, which keeps concurrent commits
    /// from deadlocking each other.
    stock: Vec<StockChange>,
    order: Option<OrderChange>,
    reason: Option<String>,
    at: Timestamp,
}

impl Changeset {
    /// A changeset committed at `at`. Stock changes are put in product-id order.
    #[must_use]
    pub fn new(mut stock: Vec<StockChange>, order: Option<OrderChange>, at: Timestamp) -> Self {
        stock.sort_by_key(StockChange::product_id);
        Self { stock, order, reason: None, at }
    }

    /// The same changeset with a free-text reason recorded in its ledger entries.
    #[must_use]
    pub fn with_reason(self, reason: Option<String>) -> Self {
        Self { reason, ..self }
    }

    /// The stock changes, in product-id order.
    #[must_use]
    pub fn stock(&self) -> &[StockChange] {
        &self.stock
    }

    /// The order change, if any.
    #[must_use]
    pub fn order(&self) -> Option<&OrderChange> {
        self.order.as_ref()
    }

    /// The order the ledger entries point to, if any.
    #[must_use]
    pub fn order_id(&self) -> Option<OrderId> {
        self.order.as_ref().map(|change| change.order().id())
    }

    /// The reason recorded in the ledger entries.
    #[must_use]
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// When the changeset is committed.
    #[must_use]
    pub fn at(&self) -> Timestamp {
        self.at
    }
}

/// Commits a [`Changeset`] atomically.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UnitOfWork: Send + Sync {
    /// Writes every stock change (each over its expected version, in the changeset's order),
    /// the order change (a new order, or a transition over its expected version), and one
    /// ledger entry per stock change, in one transaction: all of it, or none of it.
    ///
    /// # Errors
    /// - MUST return [`StoreError::StockConflict`] naming the product when any stock row's
    ///   version differs from the expected one, and [`StoreError::OrderConflict`] when the
    ///   order's does; nothing is written then.
    /// - MUST return [`StoreError::ProductNotFound`] / [`StoreError::OrderNotFound`] when a row
    ///   to update is gone.
    /// - MUST return [`StoreError::TransactionConflict`] when the database aborts the
    ///   transaction for a concurrent one.
    /// - MUST return [`StoreError::Unavailable`] for any other failure.
    async fn commit(&self, changeset: Changeset) -> Result<(), StoreError>;
}
