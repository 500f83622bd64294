//! [`OrderRepository`]: reading orders. Orders are written only through
//! [`super::UnitOfWork`], together with the stock they hold.

use async_trait::async_trait;

use super::StoreError;
use crate::{Order, OrderId, ProductId, Timestamp};

/// Read access to orders.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OrderRepository: Send + Sync {
    /// One order, with the version it is stored at; `None` when there is none.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer or holds an order
    /// that does not restore.
    async fn get(&self, order_id: OrderId) -> Result<Option<Order>, StoreError>;

    /// Up to `limit` orders still stored as reserved whose `expires_at` is at or before `now`,
    /// oldest `expires_at` first.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn due_for_expiry(&self, now: Timestamp, limit: u32) -> Result<Vec<Order>, StoreError>;

    /// Up to `limit` orders stored as reserved or paid whose line of `product_id` is still owed
    /// units (a backorder), oldest first (in the order they were placed): the order a delivery
    /// fills them in.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn owed(&self, product_id: ProductId, limit: u32) -> Result<Vec<Order>, StoreError>;
}
