//! Set stock: an administrator counted the shelf (or set how many units it keeps back from
//! sale). The write names the version the administrator saw (HTTP `If-Match`), so a count made
//! before someone else's change is refused rather than silently undoing it.
//!
//! A count is of one location's shelf. Naming no location means the product's only row, as
//! version 1 clients do; a product kept at several locations has no single shelf to count, so
//! that is refused ([`SetStockError::LocationRequired`]).

use domain::access::Actor;
use domain::ports::{BoxError, Changeset, StoreError};
use domain::{LocationId, ProductId, ProductStock, StockCount, StockError, Version};

use crate::Ports;

/// Replace a product's on-hand count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetStockCommand {
    /// The product.
    pub product_id: ProductId,
    /// The location counted; `None` for the product's only row (version 1). A row missing at
    /// a named location is opened, as a first count there.
    pub location_id: Option<LocationId>,
    /// The version the caller read; the write happens only if it is still current. `None`
    /// accepts any current version (`If-Match: *`): the count replaces whatever is there.
    pub expected_version: Option<Version>,
    /// The new on-hand count; `None` leaves it.
    pub on_hand: Option<StockCount>,
    /// The new safety stock (units kept back from sale); `None` leaves it. With neither this
    /// nor `on_hand`, nothing is written: the row is answered as it is (over the expected
    /// version all the same).
    pub safety_stock: Option<StockCount>,
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
    /// No such location.
    #[error("location {0} not found")]
    LocationNotFound(LocationId),
    /// The product has no row at the location, and the command changes nothing (so opens none).
    #[error("product {0} has no stock at location {1}")]
    StockNotFound(ProductId, LocationId),
    /// No location was named and the product is kept at several: the count must name one.
    #[error("product {0} is kept at several locations; name the location counted")]
    LocationRequired(ProductId),
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
        // Any version: a concurrent write between the read and the write is no mismatch, so
        // the count is tried again over the fresh version, a bounded number of times.
        if command.on_hand.is_none() && command.safety_stock.is_none() {
            return self.unchanged(&command).await;
        }
        let attempts = if command.expected_version.is_some() { 1 } else { ANY_VERSION_ATTEMPTS };
        for _ in 0..attempts {
            let mut stock = self.current(&command).await?;
            if command.expected_version.is_some_and(|expected| expected != stock.version()) {
                return Err(SetStockError::VersionMismatch { current: stock });
            }
            let mut changes = Vec::with_capacity(2);
            if let Some(on_hand) = command.on_hand {
                changes.push(stock.set_on_hand(on_hand).map_err(|err| match err {
                    StockError::BelowReserved { reserved, .. } => {
                        SetStockError::BelowReserved { on_hand, reserved }
                    }
                    other => SetStockError::Unavailable(other.into()),
                })?);
            }
            if let Some(safety_stock) = command.safety_stock {
                changes.push(stock.set_safety_stock(safety_stock));
            }
            let now = self.ports.clock.now();
            let changeset = Changeset::new(changes, None, now)
                .with_reason(command.reason.clone())
                .by(command.actor);
            match self.ports.stock.save_many(vec![changeset]).await {
                Ok(stored) => {
                    let row = stored.into_iter().find(|row| row.key() == stock.key());
                    return row.ok_or_else(|| SetStockError::Unavailable("nothing stored".into()));
                }
                Err(err) if err.is_conflict() => continue,
                Err(StoreError::ProductNotFound(id)) => return Err(SetStockError::NotFound(id)),
                Err(err) => return Err(SetStockError::Unavailable(err.into())),
            }
        }
        Err(SetStockError::VersionMismatch { current: self.current(&command).await? })
    }

    /// The row a command that changes nothing names, as stored now, if still at the expected
    /// version; a missing row stays missing.
    async fn unchanged(&self, command: &SetStockCommand) -> Result<ProductStock, SetStockError> {
        let id = command.product_id;
        let unavailable = |err: StoreError| SetStockError::Unavailable(err.into());
        let current = match command.location_id {
            None => self.current(command).await?,
            Some(location) => match self.ports.stock.get(id, location).await {
                Ok(Some(stock)) => stock,
                Ok(None)
                    if self.ports.stock.get_many(&[id]).await.map_err(unavailable)?.is_empty() =>
                {
                    return Err(SetStockError::NotFound(id));
                }
                Ok(None) => return Err(SetStockError::StockNotFound(id, location)),
                Err(err) => return Err(unavailable(err)),
            },
        };
        if command.expected_version.is_some_and(|expected| expected != current.version()) {
            return Err(SetStockError::VersionMismatch { current });
        }
        Ok(current)
    }

    /// The row the command counts, as stored now.
    async fn current(&self, command: &SetStockCommand) -> Result<ProductStock, SetStockError> {
        let id = command.product_id;
        let unavailable = |err: StoreError| SetStockError::Unavailable(err.into());
        let Some(location) = command.location_id else {
            let mut rows = self.ports.stock.get_many(&[id]).await.map_err(unavailable)?;
            return match rows.len() {
                0 => Err(SetStockError::NotFound(id)),
                1 => Ok(rows.remove(0)),
                _ => Err(SetStockError::LocationRequired(id)),
            };
        };
        match self.ports.stock.get(id, location).await {
            Ok(Some(stock)) => Ok(stock),
            Ok(None) => match self.ports.stock.open(id, location, self.ports.clock.now()).await {
                Ok(stock) => Ok(stock),
                Err(StoreError::ProductNotFound(id)) => Err(SetStockError::NotFound(id)),
                Err(StoreError::LocationNotFound(id)) => Err(SetStockError::LocationNotFound(id)),
                Err(err) => Err(unavailable(err)),
            },
            Err(err) => Err(unavailable(err)),
        }
    }
}

#[cfg(test)]
mod tests;
