//! [`PurchaseCounters`]: what each asserted customer holds of each product.

use async_trait::async_trait;

use super::StoreError;
use crate::limits::PurchaseKey;

/// The per-(customer, product) counters of reserved and paid units (see [`crate::limits`]).
/// They are written only by [`super::UnitOfWork`] commits, with the orders that move them.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PurchaseCounters: Send + Sync {
    /// The counters of `keys` that exist, with their units, in any order; a key left out
    /// counts 0.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn get_many(&self, keys: &[PurchaseKey]) -> Result<Vec<(PurchaseKey, i64)>, StoreError>;
}
