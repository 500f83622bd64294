//! [`ProductRepository`]: the catalogue.

use async_trait::async_trait;

use super::StoreError;
use crate::access::Actor;
use crate::{Product, ProductId, ProductPatch, ProductStock};

/// The products the shop sells.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ProductRepository: Send + Sync {
    /// Stores a new product with its initial stock, and a `restock` ledger entry for the
    /// initial on-hand count made by `actor`, all in one transaction.
    ///
    /// # Errors
    /// - MUST return [`StoreError::DuplicateSku`] when another product has the SKU, writing
    ///   nothing.
    /// - MUST return [`StoreError::Unavailable`] for any other failure.
    async fn create(
        &self,
        product: Product,
        stock: ProductStock,
        actor: Actor,
    ) -> Result<(), StoreError>;

    /// Changes the settings `patch` names, and only those, in one write; returns the product
    /// as stored, `None` when there is no such product. The next checkout reads the limits; a
    /// new low-stock threshold applies to the stock changes committed after this write (the
    /// feed's events of earlier changes MUST NOT change).
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn update(
        &self,
        product_id: ProductId,
        patch: ProductPatch,
    ) -> Result<Option<Product>, StoreError>;

    /// One product; `None` when there is none.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn get(&self, product_id: ProductId) -> Result<Option<Product>, StoreError>;

    /// Several products, in any order; unknown ids are left out.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn get_many(&self, product_ids: &[ProductId]) -> Result<Vec<Product>, StoreError>;

    /// Up to `limit` products with ids greater than `after`, in id order (keyset pagination).
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn list(&self, after: Option<ProductId>, limit: u32) -> Result<Vec<Product>, StoreError>;
}
