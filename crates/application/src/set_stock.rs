//! Set stock: an administrator counted the shelf. The write names the version the
//! administrator saw (HTTP `If-Match`), so a count made before someone else's change is refused
//! rather than silently undoing it.

use domain::access::Actor;
use domain::ports::{BoxError, StoreError};
use domain::{ProductId, ProductStock, StockCount, StockError, Version};

use crate::Ports;

/// Replace a product's on-hand count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetStockCommand {
    /// The product.
    pub product_id: ProductId,
    /// The version the caller read; the write happens only if it is still current. `None`
    /// accepts any current version (`If-Match: *`): the count replaces whatever is there.
    pub expected_version: Option<Version>,
    /// The new on-hand count.
    pub on_hand: StockCount,
    /// Why, for the ledger.
    pub reason: Option<String>,
    /// Who counted, for the ledger.
    pub actor: Actor,
}

/// Why the count was not stored.
#[derive(Debug, thiserror::Error)]
pub enum SetStockError {
    /// No such product.
    #[error("product {0} not found")]
    NotFound(ProductId),
    /// The stock changed since the caller read it; here is what it is now.
    #[error("the stock is at version {}, not the expected one", .current.version())]
    VersionMismatch {
        /// The stock as stored now.
        current: ProductStock,
    },
    /// The count is below the units reserved for orders.
    #[error("on-hand {on_hand} is below the {reserved} units reserved")]
    BelowReserved {
        /// The count asked for.
        on_hand: StockCount,
        /// Units reserved now.
        reserved: StockCount,
    },
    /// The store failed.
    #[error("the stock could not be written")]
    Unavailable(#[source] BoxError),
}

/// How often a count under `If-Match: *` is tried against concurrent writers before it is
/// answered with the stock as it is now.
const ANY_VERSION_ATTEMPTS: u32 = 10;

/// The set-stock use case. Never retried: the caller named a version, and a conflict means the
/// caller must look again.
pub struct SetStock {
    ports: Ports,
}

impl SetStock {
    /// The use case over `ports`.
    #[must_use]
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    /// Stores the new count if the stock is still at the expected version.
    ///
    /// # Errors
    /// See [`SetStockError`].
    #[tracing::instrument(skip(self), fields(product_id = %command.product_id))]
    pub async fn execute(&self, command: SetStockCommand) -> Result<ProductStock, SetStockError> {
        let id = command.product_id;
        // Any version: a concurrent write between the read and the write is no mismatch, so
        // the count is tried again over the fresh version, a bounded number of times.
        let attempts = if command.expected_version.is_some() { 1 } else { ANY_VERSION_ATTEMPTS };
        for _ in 0..attempts {
            let mut stock = self.current(id).await?;
            if command.expected_version.is_some_and(|expected| expected != stock.version()) {
                return Err(SetStockError::VersionMismatch { current: stock });
            }
            let change = stock.set_on_hand(command.on_hand).map_err(|err| match err {
                StockError::BelowReserved { reserved, .. } => {
                    SetStockError::BelowReserved { on_hand: command.on_hand, reserved }
                }
                other => SetStockError::Unavailable(other.into()),
            })?;
            let now = self.ports.clock.now();
            match self
                .ports
                .stock
                .save(change, command.reason.clone(), command.actor, None, now)
                .await
            {
                Ok(stored) => return Ok(stored),
                Err(err) if err.is_conflict() => continue,
                Err(StoreError::ProductNotFound(id)) => return Err(SetStockError::NotFound(id)),
                Err(err) => return Err(SetStockError::Unavailable(err.into())),
            }
        }
        Err(SetStockError::VersionMismatch { current: self.current(id).await? })
    }

    async fn current(&self, id: ProductId) -> Result<ProductStock, SetStockError> {
        match self.ports.stock.get(id).await {
            Ok(Some(stock)) => Ok(stock),
            Ok(None) => Err(SetStockError::NotFound(id)),
            Err(err) => Err(SetStockError::Unavailable(err.into())),
        }
    }
}

#[cfg(test)]
mod tests;
