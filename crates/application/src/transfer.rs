//! Transfer stock: move units of a product from one location to another, both rows in one
//! commit, so a transfer is never half done. Only units for sale move: reserved units stay with
//! the orders that hold them and the safety stock stays on its shelf, so a transfer racing
//! checkouts can never take a unit a buyer was promised. A destination without a row of the
//! product gets one.

use domain::access::Actor;
use domain::ports::{BoxError, Changeset, Effect, KeyClaim, KeyEffect, StoreError};
use domain::{LocationId, ProductId, ProductStock, Quantity, Shortage, StockCount, StockError};

use crate::retry::{RetryError, retry_on_conflict};
use crate::{Ports, RetryPolicy};

/// Move units between two locations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferCommand {
    /// The product.
    pub product_id: ProductId,
    /// Where the units leave.
    pub from: LocationId,
    /// Where they arrive.
    pub to: LocationId,
    /// How many.
    pub quantity: Quantity,
    /// Why, for both ledger entries.
    pub reason: Option<String>,
    /// Who moves them, for the ledger.
    pub actor: Actor,
    /// The idempotency claim the request runs under.
    pub idempotency: Option<KeyClaim>,
}

/// Both rows after a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transferred {
    /// The sending location's row.
    pub from: ProductStock,
    /// The receiving location's row.
    pub to: ProductStock,
}

/// Why the transfer was refused; nothing moved.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The two locations are the same.
    #[error("a transfer goes between two different locations")]
    SameLocation,
    /// No such product.
    #[error("product {0} not found")]
    NotFound(ProductId),
    /// No such location.
    #[error("location {0} not found")]
    LocationNotFound(LocationId),
    /// The sending location has fewer units for sale (reserved units and the safety stock
    /// never move).
    #[error("only {} units can leave", .0.available)]
    InsufficientStock(Shortage),
    /// The receiving location would pass the largest stock count.
    #[error(transparent)]
    OutOfRange(StockError),
    /// Concurrent writers kept winning.
    #[error("the stock kept changing; gave up after {attempts} attempts")]
    Contended {
        /// Attempts made.
        attempts: u32,
    },
    /// The request's idempotency claim was taken over by a retry with the same key.
    #[error("the idempotency key is now held by another request")]
    IdempotencyClaimLost,
    /// The store failed.
    #[error("the transfer could not be written")]
    Unavailable(#[source] BoxError),
}

/// The transfer use case.
pub struct TransferStock {
    ports: Ports,
    retry: RetryPolicy,
}

impl TransferStock {
    /// The use case over `ports`, retrying lost races as `retry` says.
    #[must_use]
    pub fn new(ports: Ports, retry: RetryPolicy) -> Self {
        Self { ports, retry }
    }

    /// Moves the units, or nothing.
    ///
    /// # Errors
    /// See [`TransferError`].
    #[tracing::instrument(skip(self), fields(product_id = %command.product_id))]
    pub async fn execute(&self, command: TransferCommand) -> Result<Transferred, TransferError> {
        if command.from == command.to {
            return Err(TransferError::SameLocation);
        }
        let id = command.product_id;
        let attempt = || async {
            let Some(mut from) = self.ports.stock.get(id, command.from).await? else {
                return Ok(Err(self.nothing_at(id, command.from, command.quantity).await?));
            };
            let mut to = match self.ports.stock.get(id, command.to).await? {
                Some(row) => row,
                None => self.ports.stock.open(id, command.to, self.ports.clock.now()).await?,
            };
            let out = match from.transfer_out(command.quantity) {
                Ok(change) => change,
                Err(StockError::Insufficient(short)) => {
                    return Ok(Err(TransferError::InsufficientStock(short)));
                }
                Err(other) => return Ok(Err(TransferError::OutOfRange(other))),
            };
            let arrival = match to.transfer_in(command.quantity) {
                Ok(change) => change,
                Err(other) => return Ok(Err(TransferError::OutOfRange(other))),
            };
            let mut changeset = Changeset::new(vec![out, arrival], None, self.ports.clock.now())
                .with_reason(command.reason.clone())
                .by(command.actor);
            if let Some(claim) = &command.idempotency {
                let effect = Effect::StockTransferred(id);
                changeset = changeset.with_key(KeyEffect { claim: claim.clone(), effect });
            }
            let stored = self.ports.stock.save_many(vec![changeset]).await?;
            let row = |key| stored.iter().find(|s| s.key() == key).copied();
            match (row((id, command.from)), row((id, command.to))) {
                (Some(from), Some(to)) => Ok(Ok(Transferred { from, to })),
                _ => Err(StoreError::unavailable("the transfer's rows were not returned")),
            }
        };
        match retry_on_conflict(&self.retry, self.ports.clock.as_ref(), attempt).await {
            Ok(done) => done.value,
            Err(RetryError::Contended { attempts }) => Err(TransferError::Contended { attempts }),
            Err(RetryError::Store(StoreError::ProductNotFound(id))) => {
                Err(TransferError::NotFound(id))
            }
            Err(RetryError::Store(StoreError::LocationNotFound(id))) => {
                Err(TransferError::LocationNotFound(id))
            }
            Err(RetryError::Store(StoreError::ClaimsLost(_))) => {
                Err(TransferError::IdempotencyClaimLost)
            }
            Err(RetryError::Store(err)) => Err(TransferError::Unavailable(err.into())),
        }
    }

    /// Why nothing can leave a location where the product has no row: the product or the
    /// location does not exist, or it simply has none of it there.
    async fn nothing_at(
        &self,
        id: ProductId,
        location: LocationId,
        requested: Quantity,
    ) -> Result<TransferError, StoreError> {
        if !self.ports.locations.list().await?.iter().any(|l| l.id() == location) {
            return Ok(TransferError::LocationNotFound(location));
        }
        if self.ports.stock.get_many(&[id]).await?.is_empty() {
            return Ok(TransferError::NotFound(id));
        }
        let available = StockCount::ZERO;
        Ok(TransferError::InsufficientStock(Shortage { product_id: id, requested, available }))
    }
}

#[cfg(test)]
mod tests {
    use domain::ports::Changeset;

    use super::*;
    use crate::test_support::{Mocks, count, pid, q};

    fn lid(n: u128) -> LocationId {
        LocationId::new(uuid::Uuid::from_u128(100 + n)).expect("id")
    }

    fn row(location: u128, on_hand: i64) -> ProductStock {
        ProductStock::new_at(pid(1), lid(location), count(on_hand))
    }

    fn command(quantity: i64) -> TransferCommand {
        TransferCommand {
            product_id: pid(1),
            from: lid(1),
            to: lid(2),
            quantity: q(quantity),
            reason: None,
            actor: Actor::Admin,
            idempotency: None,
        }
    }

    /// Mocks where location 1 holds `on_hand` units of product 1, 2 reserved, and location 2
    /// has no row yet; saves store what they are given.
    fn shelves(on_hand: i64) -> Mocks {
        let mut mocks = Mocks::new();
        mocks.stock.expect_get().returning(move |_, location| {
            let mut sender = row(1, on_hand);
            let _ = sender.reserve(q(2));
            Ok((location == lid(1)).then_some(sender))
        });
        mocks
            .stock
            .expect_open()
            .returning(|_, location, _| Ok(row(location.as_uuid().as_u128() - 100, 0)));
        mocks.stock.expect_save_many().returning(|changesets: Vec<Changeset>| {
            Ok(changesets.iter().flat_map(|c| c.stock().iter().map(|s| s.after())).collect())
        });
        mocks
    }

    #[tokio::test]
    async fn units_for_sale_move_to_a_new_row_in_one_commit() {
        let moved = TransferStock::new(shelves(10).into_ports(), RetryPolicy::default())
            .execute(command(8))
            .await
            .expect("8 of the 10 are free");

        assert_eq!((moved.from.on_hand().get(), moved.from.reserved().get()), (2, 2));
        assert_eq!((moved.to.on_hand().get(), moved.to.location_id()), (8, lid(2)));
    }

    #[tokio::test]
    async fn reserved_units_never_move() {
        let err = TransferStock::new(shelves(10).into_ports(), RetryPolicy::default())
            .execute(command(9))
            .await
            .expect_err("2 of the 10 are reserved");

        assert!(matches!(err, TransferError::InsufficientStock(s) if s.available.get() == 8));
    }

    #[tokio::test]
    async fn a_transfer_to_the_same_location_is_refused() {
        let same = TransferCommand { to: lid(1), ..command(1) };
        let err = TransferStock::new(Mocks::new().into_ports(), RetryPolicy::default())
            .execute(same)
            .await
            .expect_err("nowhere to go");
        assert!(matches!(err, TransferError::SameLocation));
    }
}
