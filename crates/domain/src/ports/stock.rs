//! [`StockRepository`]: version-aware reads and writes of product stock.

use async_trait::async_trait;

use super::{Changeset, KeyEffect, StoreError};
use crate::access::Actor;
use crate::limits::PurchaseLimits;
use crate::{ProductId, ProductStock, StockChange, StockMovement, Timestamp};

/// Product stock, read with its version and written only over the version it was read at.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait StockRepository: Send + Sync {
    /// The stock of one product, with the version it is stored at; `None` when there is none.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn get(&self, product_id: ProductId) -> Result<Option<ProductStock>, StoreError>;

    /// The stocks of several products, in any order. Products without stock are left out, so a
    /// caller learns which ids are unknown by comparing.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn get_many(&self, product_ids: &[ProductId]) -> Result<Vec<ProductStock>, StoreError>;

    /// [`StockRepository::get_many`], each stock with its product's purchase limits as stored
    /// now, read together: what a checkout decides on. Limits change rarely, but a change
    /// applies from the next checkout on, in every process, so they are never taken from a
    /// cache.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn get_many_for_sale(
        &self,
        product_ids: &[ProductId],
    ) -> Result<Vec<(ProductStock, PurchaseLimits)>, StoreError>;

    /// Writes `change` and its ledger entry (with `reason` and `actor`, at `at`) in one transaction, over
    /// the version it was computed from, and returns the stock as stored. Under an idempotency
    /// `key`, its effect is recorded in the same transaction (see
    /// [`Changeset::with_key`](super::Changeset::with_key)). A compare-and-swap
    /// store writes only if the stored version still equals `change.expected_version()` and
    /// stores exactly `change.after()`; a store that applies the change's deltas to the row as it
    /// is MUST still refuse any result outside `0 <= reserved <= on_hand`, and returns what it
    /// stored (which may differ from `change.after()`).
    ///
    /// # Errors
    /// - MUST return [`StoreError::StockConflict`] when the stored version differs (or, for a
    ///   delta store, the result would break the invariant), writing nothing.
    /// - MUST return [`StoreError::ProductNotFound`] when the stock row is gone.
    /// - MUST return [`StoreError::TransactionConflict`] when the database aborts the
    ///   transaction for a concurrent one (deadlock, serialization failure, busy).
    /// - MUST return [`StoreError::ClaimsLost`] when `key`'s claim is no longer held, writing
    ///   nothing.
    /// - MUST return [`StoreError::Unavailable`] for any other failure.
    async fn save(
        &self,
        change: StockChange,
        reason: Option<String>,
        actor: Actor,
        key: Option<KeyEffect>,
        at: Timestamp,
    ) -> Result<ProductStock, StoreError>;

    /// Writes `changesets` (stock changes without orders: a bulk sync) in one transaction,
    /// exactly as [`UnitOfWork::commit_all`](super::UnitOfWork::commit_all) does, and returns
    /// each product's stock as stored afterwards, in product-id order.
    ///
    /// # Errors
    /// As [`UnitOfWork::commit_all`](super::UnitOfWork::commit_all).
    async fn save_many(&self, changesets: Vec<Changeset>) -> Result<Vec<ProductStock>, StoreError>;

    /// The ledger of one product, newest first, at most `limit` entries.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn movements(
        &self,
        product_id: ProductId,
        limit: u32,
    ) -> Result<Vec<StockMovement>, StoreError>;
}
