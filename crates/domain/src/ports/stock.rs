//! [`StockRepository`]: version-aware reads and writes of product stock, one row per
//! (product, location).

use async_trait::async_trait;

use super::{Changeset, KeyEffect, StoreError};
use crate::access::Actor;
use crate::backorder::BackorderLimit;
use crate::incoming::Incoming;
use crate::limits::PurchaseLimits;
use crate::{LocationId, Money, ProductId, ProductStock, StockChange, StockMovement, Timestamp};

/// One stock row as a checkout decides on it: the row, its location's priority, and its
/// product's price, purchase limits and backorder limit as stored now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockForSale {
    /// The row.
    pub stock: ProductStock,
    /// Its location's priority (lower is served first).
    pub priority: i32,
    /// The product's price: what a checkout decided on this read charges.
    pub price: Money,
    /// The product's purchase limits.
    pub limits: PurchaseLimits,
    /// The product's backorder limit; `None`: it takes no backorders.
    pub backorder_limit: Option<BackorderLimit>,
}

/// Product stock, one row per (product, location), read with its version and written only
/// over the version it was read at.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait StockRepository: Send + Sync {
    /// The stock of one product at one location, with the version it is stored at; `None`
    /// when there is no such row.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn get(
        &self,
        product_id: ProductId,
        location_id: LocationId,
    ) -> Result<Option<ProductStock>, StoreError>;

    /// Every stock row of several products (every location that has one), in (product,
    /// location) order. Products without stock are left out, so a caller learns which ids are
    /// unknown by comparing.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn get_many(&self, product_ids: &[ProductId]) -> Result<Vec<ProductStock>, StoreError>;

    /// The rows of [`StockRepository::get_many`] at *active* locations, each with its
    /// location's priority and its product's price and purchase limits as stored now, read
    /// together: what a checkout decides on, and what it charges. Limits change rarely, but a
    /// change applies from the next checkout on, in every process, so they are never taken
    /// from a cache.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn get_many_for_sale(
        &self,
        product_ids: &[ProductId],
    ) -> Result<Vec<StockForSale>, StoreError>;

    /// How many units each of `product_ids` owes to orders now (its backorder counter, see
    /// [`crate::backorder`]); a product without a counter (or unknown) is left out.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn backordered(
        &self,
        product_ids: &[ProductId],
    ) -> Result<Vec<(ProductId, i64)>, StoreError>;

    /// Records that `incoming.quantity` units of its product are on their way to its location
    /// (replacing what was recorded there; 0 clears it), at `at`.
    ///
    /// # Errors
    /// - MUST return [`StoreError::ProductNotFound`] / [`StoreError::LocationNotFound`] when the
    ///   product or the location does not exist.
    /// - MUST return [`StoreError::Unavailable`] for any other failure.
    async fn set_incoming(&self, incoming: Incoming, at: Timestamp) -> Result<(), StoreError>;

    /// What is on its way of `product_id`, per location (those with a record), in location-id
    /// order. A delivery to a location lessens its figure in the same commit (see
    /// [`crate::incoming::received`]).
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn incoming(&self, product_id: ProductId) -> Result<Vec<Incoming>, StoreError>;

    /// The row of `product_id` at `location_id`, created empty (nothing on hand, first
    /// version) when the product has none there yet: where a delivery or a transfer to a new
    /// location lands. Creating it writes the row's first ledger entry (a restock of nothing at
    /// version 1, outside the event feed: it changes nothing anyone could act on), so the ledger
    /// accounts for every version; racing creators agree on one row.
    ///
    /// # Errors
    /// - MUST return [`StoreError::ProductNotFound`] / [`StoreError::LocationNotFound`] when the
    ///   product or the location does not exist.
    /// - MUST return [`StoreError::Unavailable`] for any other failure.
    async fn open(
        &self,
        product_id: ProductId,
        location_id: LocationId,
        at: Timestamp,
    ) -> Result<ProductStock, StoreError>;

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
    /// each row's stock as stored afterwards, in (product, location) order.
    ///
    /// # Errors
    /// As [`UnitOfWork::commit_all`](super::UnitOfWork::commit_all).
    async fn save_many(&self, changesets: Vec<Changeset>) -> Result<Vec<ProductStock>, StoreError>;

    /// The ledger of one product (every location), newest first, at most `limit` entries.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn movements(
        &self,
        product_id: ProductId,
        limit: u32,
    ) -> Result<Vec<StockMovement>, StoreError>;
}
