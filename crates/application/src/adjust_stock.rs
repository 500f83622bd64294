//! Adjust stock: move a product's on-hand count at one location by a delta (a delivery,
//! breakage, a correction). Unlike setting, a delta commutes with other changes, so a lost race
//! is simply retried on a fresh read. A delivery to a location that has no row of the product
//! yet opens one there, and a delivery of a product that owes units to orders (backorders)
//! fills them first, oldest order first (see [`crate::fill`]).

use domain::access::Actor;
use domain::ports::{BoxError, Effect, KeyClaim, KeyEffect, StoreError};
use domain::{LocationId, ProductId, ProductStock, StockCount, StockError};

use crate::fill::{Delivery, deliver_filling};
use crate::retry::{RetryError, retry_on_conflict};
use crate::{Ports, RetryPolicy};

/// Move a product's on-hand count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdjustStockCommand {
    /// The product.
    pub product_id: ProductId,
    /// The location whose count moves ([`LocationId::DEFAULT`] when the caller names none).
    pub location_id: LocationId,
    /// Units added (positive) or removed (negative); never 0.
    pub delta: i64,
    /// Why, for the ledger.
    pub reason: Option<String>,
    /// Who moved it, for the ledger.
    pub actor: Actor,
    /// The idempotency claim the request runs under: the adjustment is committed together with
    /// the key's effect, or not at all when the claim was taken over meanwhile.
    pub idempotency: Option<KeyClaim>,
}

/// Why the adjustment was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdjustStockError {
    /// No such product (or, for a removal, no stock of it at the location).
    #[error("product {0} not found")]
    NotFound(ProductId),
    /// No such location.
    #[error("location {0} not found")]
    LocationNotFound(LocationId),
    /// On-hand would fall below the units reserved for orders.
    #[error("on-hand would become {on_hand}, below the {reserved} units reserved")]
    InsufficientStock {
        /// The on-hand count the delta would give.
        on_hand: i64,
        /// Units reserved now.
        reserved: StockCount,
    },
    /// A zero delta, or one past the largest stock count.
    #[error(transparent)]
    InvalidDelta(StockError),
    /// Concurrent writers kept winning.
    #[error("the stock kept changing; gave up after {attempts} attempts")]
    Contended {
        /// Attempts made.
        attempts: u32,
    },
    /// The request's idempotency claim was taken over by a retry with the same key: nothing was
    /// written for it; the request holding the key now answers for it.
    #[error("the idempotency key is now held by another request")]
    IdempotencyClaimLost,
    /// The store failed.
    #[error("the stock could not be written")]
    Unavailable(#[source] BoxError),
}

/// The adjust-stock use case.
pub struct AdjustStock {
    ports: Ports,
    retry: RetryPolicy,
}

impl AdjustStock {
    /// The use case over `ports`, retrying lost races as `retry` says.
    #[must_use]
    pub fn new(ports: Ports, retry: RetryPolicy) -> Self {
        Self { ports, retry }
    }

    /// Applies the delta to the current stock and stores it with a ledger entry.
    ///
    /// # Errors
    /// See [`AdjustStockError`].
    #[tracing::instrument(skip(self), fields(product_id = %command.product_id))]
    pub async fn execute(
        &self,
        command: AdjustStockCommand,
    ) -> Result<ProductStock, AdjustStockError> {
        let (id, location) = (command.product_id, command.location_id);
        let attempt = || async {
            let mut stock = match self.ports.stock.get(id, location).await? {
                Some(stock) => stock,
                None if command.delta > 0 => {
                    self.ports.stock.open(id, location, self.ports.clock.now()).await?
                }
                None => return Err(StoreError::ProductNotFound(id)),
            };
            let change = match stock.adjust(command.delta) {
                Ok(change) => change,
                Err(StockError::BelowReserved { on_hand, reserved }) => {
                    return Ok(Err(AdjustStockError::InsufficientStock { on_hand, reserved }));
                }
                Err(other) => return Ok(Err(AdjustStockError::InvalidDelta(other))),
            };
            let now = self.ports.clock.now();
            // The stored state, not `stock`: a guarded store applies the delta to the row as
            // it is, which may have moved since the read.
            let key = command
                .idempotency
                .as_ref()
                .map(|claim| KeyEffect { claim: claim.clone(), effect: Effect::StockAdjusted(id) });
            if command.delta > 0 {
                let delivery = Delivery {
                    change,
                    reason: command.reason.clone(),
                    actor: command.actor,
                    key: key.clone(),
                    at: now,
                };
                if let Some(stored) = deliver_filling(&self.ports, delivery).await? {
                    return Ok(Ok(stored));
                }
            }
            let stored = self
                .ports
                .stock
                .save(change, command.reason.clone(), command.actor, key, now)
                .await?;
            Ok(Ok(stored))
        };
        match retry_on_conflict(&self.retry, self.ports.clock.as_ref(), attempt).await {
            Ok(done) => done.value,
            Err(RetryError::Contended { attempts }) => {
                Err(AdjustStockError::Contended { attempts })
            }
            Err(RetryError::Store(StoreError::ProductNotFound(id))) => {
                Err(AdjustStockError::NotFound(id))
            }
            Err(RetryError::Store(StoreError::LocationNotFound(id))) => {
                Err(AdjustStockError::LocationNotFound(id))
            }
            Err(RetryError::Store(StoreError::ClaimsLost(_))) => {
                Err(AdjustStockError::IdempotencyClaimLost)
            }
            Err(RetryError::Store(err)) => Err(AdjustStockError::Unavailable(err.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Mocks, oid, pid, q, reserved_order, sleeping_clock, stock, t0};

    fn command(delta: i64) -> AdjustStockCommand {
        AdjustStockCommand {
            product_id: pid(1),
            location_id: LocationId::DEFAULT,
            delta,
            reason: Some("delivery".into()),
            actor: Actor::Admin,
            idempotency: None,
        }
    }

    #[tokio::test]
    async fn a_delivery_adds_to_on_hand_with_a_reason_in_the_ledger() {
        let mut mocks = Mocks::new();
        mocks.stock.expect_backordered().returning(|_| Ok(Vec::new()));
        mocks.stock.expect_get().returning(|_, _| Ok(Some(stock(1, 5, 2, 4))));
        mocks
            .stock
            .expect_save()
            .withf(|c, reason, _, _, _| {
                c.on_hand_delta() == 10 && reason.as_deref() == Some("delivery")
            })
            .times(1)
            .returning(|c, _, _, _, _| Ok(c.after()));
        let after = AdjustStock::new(mocks.into_ports(), RetryPolicy::default())
            .execute(command(10))
            .await
            .expect("adjusted");
        assert_eq!(
            (after.on_hand().get(), after.reserved().get(), after.version().get()),
            (15, 2, 5)
        );
    }

    #[tokio::test]
    async fn removing_units_that_are_reserved_is_refused_without_writing() {
        let mut mocks = Mocks::new();
        mocks.stock.expect_backordered().returning(|_| Ok(Vec::new()));
        mocks.stock.expect_get().returning(|_, _| Ok(Some(stock(1, 5, 4, 1))));
        mocks.stock.expect_save().times(0);
        let err = AdjustStock::new(mocks.into_ports(), RetryPolicy::default())
            .execute(command(-2))
            .await
            .expect_err("refused");
        assert!(matches!(err, AdjustStockError::InsufficientStock { on_hand: 3, .. }));
    }

    #[tokio::test]
    async fn a_lost_race_is_retried_on_a_fresh_read() {
        let mut mocks = Mocks::new();
        mocks.stock.expect_backordered().returning(|_| Ok(Vec::new()));
        mocks.clock = sleeping_clock(1);
        let mut reads = 0;
        mocks.stock.expect_get().times(2).returning(move |_, _| {
            reads += 1;
            Ok(Some(stock(1, 5, 0, reads)))
        });
        let mut saves = 0;
        mocks.stock.expect_save().times(2).returning(move |c, _, _, _, _| {
            saves += 1;
            if saves == 1 { Err(StoreError::StockConflict(c.product_id())) } else { Ok(c.after()) }
        });
        let after = AdjustStock::new(mocks.into_ports(), RetryPolicy::default())
            .execute(command(1))
            .await
            .expect("adjusted");
        assert_eq!(after.version().get(), 3, "written over the second read");
    }

    #[tokio::test]
    async fn under_a_key_the_adjustment_commits_with_its_effect_or_not_when_the_claim_is_lost() {
        use domain::ports::{ClaimToken, IdempotencyKey};

        let claim = KeyClaim::new(
            IdempotencyKey::new("delivery-7").expect("key"),
            ClaimToken::new(uuid::Uuid::from_u128(9)),
        );
        let mut mocks = Mocks::new();
        mocks.stock.expect_backordered().returning(|_| Ok(Vec::new()));
        mocks.stock.expect_get().returning(|_, _| Ok(Some(stock(1, 5, 0, 1))));
        let expected = claim.clone();
        mocks
            .stock
            .expect_save()
            .withf(move |_, _, _, key, _| {
                key.as_ref().is_some_and(|k| {
                    k.claim == expected && k.effect == Effect::StockAdjusted(pid(1))
                })
            })
            .times(1)
            .returning(|_, _, _, key, _| {
                Err(StoreError::ClaimsLost(vec![key.expect("keyed").claim.key().clone()]))
            });
        let keyed = AdjustStockCommand { idempotency: Some(claim), ..command(3) };
        let err = AdjustStock::new(mocks.into_ports(), RetryPolicy::default())
            .execute(keyed)
            .await
            .expect_err("the claim is lost");
        assert!(matches!(err, AdjustStockError::IdempotencyClaimLost), "{err:?}");
    }

    #[tokio::test]
    async fn an_unknown_product_is_not_found() {
        let mut mocks = Mocks::new();
        mocks.stock.expect_backordered().returning(|_| Ok(Vec::new()));
        mocks.stock.expect_get().returning(|_, _| Ok(None));
        mocks.stock.expect_open().returning(|id, _, _| Err(StoreError::ProductNotFound(id)));
        let err = AdjustStock::new(mocks.into_ports(), RetryPolicy::default())
            .execute(command(1))
            .await
            .expect_err("unknown");
        assert!(matches!(err, AdjustStockError::NotFound(id) if id == pid(1)));
    }

    #[tokio::test]
    async fn a_delivery_to_a_new_location_opens_its_row_and_a_removal_there_is_not_found() {
        let elsewhere = LocationId::new(uuid::Uuid::from_u128(60)).expect("id");
        let mut mocks = Mocks::new();
        mocks.stock.expect_backordered().returning(|_| Ok(Vec::new()));
        mocks.stock.expect_get().returning(|_, _| Ok(None));
        mocks
            .stock
            .expect_open()
            .times(1)
            .returning(|id, at, _| Ok(ProductStock::new_at(id, at, StockCount::ZERO)));
        mocks.stock.expect_save().returning(|c, _, _, _, _| Ok(c.after()));
        let use_case = AdjustStock::new(mocks.into_ports(), RetryPolicy::default());
        let there = |delta| AdjustStockCommand { location_id: elsewhere, ..command(delta) };

        let delivered = use_case.execute(there(4)).await.expect("opened and delivered");
        let removed = use_case.execute(there(-1)).await.expect_err("nothing there to remove");

        assert_eq!((delivered.location_id(), delivered.on_hand().get()), (elsewhere, 4));
        assert!(matches!(removed, AdjustStockError::NotFound(_)));
    }

    /// An order of `quantity` of product 1 placed at `minute`, `owed` of them backordered.
    fn owing(id: u128, quantity: i64, owed: u32, paid: bool) -> domain::Order {
        use domain::allocation::{Allocation, LineAllocation};
        let held = quantity - i64::from(owed);
        let allocations = (held > 0)
            .then(|| Allocation { location_id: LocationId::DEFAULT, quantity: q(held) })
            .into_iter()
            .collect();
        let line = LineAllocation { product_id: pid(1), allocations, backordered: owed };
        let record = reserved_order(&[(1, quantity)]).allocated(vec![line]).expect("adds up");
        let mut record = record.record().clone();
        record.id = oid(id);
        let mut order = domain::Order::restore(record).expect("restores");
        if paid {
            order.pay(t0(), Actor::Admin).expect("payable");
        }
        order
    }

    #[tokio::test]
    async fn a_delivery_fills_the_oldest_backorders_first_then_goes_on_sale() {
        let mut mocks = Mocks::new();
        // 4 units owed: 2 by a paid order, 2 by a reserved one; 3 delivered.
        mocks.stock.expect_backordered().returning(|_| Ok(vec![(pid(1), 4)]));
        mocks.stock.expect_get().returning(|_, _| Ok(Some(stock(1, 0, 0, 1))));
        mocks
            .orders
            .expect_owed()
            .withf(|id, limit| *id == pid(1) && *limit == 3)
            .returning(|_, _| Ok(vec![owing(1, 2, 2, true), owing(2, 3, 2, false)]));
        let written = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = std::sync::Arc::clone(&written);
        mocks.stock.expect_save().times(0);
        mocks.stock.expect_save_many().times(1).returning(move |changesets| {
            let last = changesets.last().and_then(|c| c.stock().last()).map(|c| c.after());
            seen.lock().expect("lock").extend(changesets);
            Ok(last.into_iter().collect())
        });
        let stored = AdjustStock::new(mocks.into_ports(), RetryPolicy::default())
            .execute(command(3))
            .await
            .expect("delivered");

        let written = written.lock().expect("lock");
        let summary: Vec<_> = written
            .iter()
            .map(|c| (c.order_id(), c.stock().iter().map(|s| s.kind()).collect::<Vec<_>>()))
            .collect();
        use domain::MovementKind::{Adjust, Reserve, Sell};
        assert_eq!(
            summary,
            vec![
                (None, vec![Adjust]),
                (Some(oid(1)), vec![Reserve, Sell]),
                (Some(oid(2)), vec![Reserve])
            ]
        );
        let owed: Vec<_> = written.iter().flat_map(|c| c.order()).map(|o| o.backorders()).collect();
        assert_eq!(owed[0][0].units, -2, "the paid order filled wholly");
        assert_eq!(owed[1][0].units, -1, "the reserved one with what was left");
        // 3 arrived, 2 sold at once to the paid order, 1 held for the reserved one.
        assert_eq!(
            (stored.on_hand().get(), stored.reserved().get(), stored.available().get()),
            (1, 1, 0)
        );
    }
}
