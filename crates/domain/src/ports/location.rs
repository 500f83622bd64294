//! [`LocationRepository`]: the warehouses and stores stock is kept in.

use async_trait::async_trait;

use super::StoreError;
use crate::Location;

/// The shop's stock locations. There is always the default one
/// ([`LocationId::DEFAULT`](crate::LocationId::DEFAULT)).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LocationRepository: Send + Sync {
    /// Stores a new location.
    ///
    /// # Errors
    /// - MUST return [`StoreError::DuplicateLocationCode`] when another location has the code,
    ///   writing nothing.
    /// - MUST return [`StoreError::Unavailable`] for any other failure.
    async fn create(&self, location: Location) -> Result<(), StoreError>;

    /// Every location, active or not, by priority then id (the order checkouts take them in).
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn list(&self) -> Result<Vec<Location>, StoreError>;
}
