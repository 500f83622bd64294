//! Bulk stock sync: an ERP or warehouse system sends up to 1,000 rows of absolute counts (each
//! optionally over the version it read) or deltas, and every row is applied or refused on its
//! own, with the same versioned write as a single change.
//!
//! All rows are decided against one read of their products' stock and the applied ones are
//! committed in one transaction: a thousand rows cost one read, one write per product and a
//! few multi-row ledger inserts, not a thousand round trips of each. A concurrent checkout that
//! writes one of the products between the read and the commit makes the commit conflict; the
//! whole request is then decided again from a fresh read (each row's answer is still its
//! own), a bounded number of times.
//!
//! A row names a location (the default one when it names none). A row for a location where an
//! existing product has no stock yet opens that row first, as a delivery there would; a row
//! for a location that does not exist is not found.

use std::collections::{BTreeSet, HashMap};

use domain::access::Actor;
use domain::ports::{BoxError, Changeset, Effect, KeyClaim, KeyEffect, StoreError};
use domain::stock::bulk::{BulkChange, BulkRow, RowRefusal, apply_rows};
use domain::{LocationId, ProductId, ProductStock};

use crate::retry::{RetryError, retry_on_conflict};
use crate::{Ports, RetryPolicy};

/// The most rows one request may carry.
pub const MAX_ROWS: usize = 1_000;

/// Apply many stock rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkStockCommand {
    /// 1 to [`MAX_ROWS`] rows, applied in order.
    pub rows: Vec<BulkRow>,
    /// Why, for the ledger entries of every applied row.
    pub reason: Option<String>,
    /// Who sends them, for the ledger.
    pub actor: Actor,
    /// The idempotency claim the request runs under: the applied rows are committed together
    /// with the key's effect, or not at all when the claim was taken over meanwhile.
    pub idempotency: Option<KeyClaim>,
}

/// One row's answer: the product's stock after it, or why it was refused.
pub type RowOutcome = Result<ProductStock, RowRefusal>;

/// Why the request as a whole failed (no row was applied).
#[derive(Debug, thiserror::Error)]
pub enum BulkStockError {
    /// No rows, or more than [`MAX_ROWS`].
    #[error("a bulk sync has 1 to {MAX_ROWS} rows, not {0}")]
    RowCount(usize),
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
    #[error("the stock could not be written")]
    Unavailable(#[source] BoxError),
}

/// The bulk-sync use case.
pub struct BulkStock {
    ports: Ports,
    retry: RetryPolicy,
}

impl BulkStock {
    /// The use case over `ports`, retrying lost races as `retry` says.
    #[must_use]
    pub fn new(ports: Ports, retry: RetryPolicy) -> Self {
        Self { ports, retry }
    }

    /// Decides every row and commits the applied ones; answers one outcome per row, in order.
    ///
    /// # Errors
    /// See [`BulkStockError`].
    #[tracing::instrument(skip_all, fields(rows = command.rows.len()))]
    pub async fn execute(
        &self,
        command: BulkStockCommand,
    ) -> Result<Vec<RowOutcome>, BulkStockError> {
        let rows = &command.rows;
        if rows.is_empty() || rows.len() > MAX_ROWS {
            return Err(BulkStockError::RowCount(rows.len()));
        }
        let ids: Vec<ProductId> =
            rows.iter().map(|r| r.product_id).collect::<BTreeSet<_>>().into_iter().collect();
        let attempt = || async {
            let mut stocks: HashMap<(ProductId, LocationId), ProductStock> =
                (self.ports.stock.get_many(&ids).await?)
                    .into_iter()
                    .map(|stock| (stock.key(), stock))
                    .collect();
            self.open_missing(rows, &mut stocks).await?;
            let decided = apply_rows(rows, &mut stocks);
            let now = self.ports.clock.now();
            let mut changesets: Vec<Changeset> = (decided.iter())
                .filter_map(|d| d.as_ref().ok())
                .map(|change| {
                    Changeset::new(vec![*change], None, now)
                        .with_reason(command.reason.clone())
                        .by(command.actor)
                })
                .collect();
            let Some(first) = changesets.first_mut() else {
                return Ok(decided.into_iter().map(|d| d.map(|c| c.after())).collect());
            };
            if let Some(claim) = &command.idempotency {
                let effect = Effect::StockSynced(first.stock()[0].product_id());
                *first = first.clone().with_key(KeyEffect { claim: claim.clone(), effect });
            }
            let stored = self.ports.stock.save_many(changesets).await?;
            Ok(outcomes(decided, &stored))
        };
        match retry_on_conflict(&self.retry, self.ports.clock.as_ref(), attempt).await {
            Ok(done) => Ok(done.value),
            Err(RetryError::Contended { attempts }) => Err(BulkStockError::Contended { attempts }),
            Err(RetryError::Store(StoreError::ClaimsLost(_))) => {
                Err(BulkStockError::IdempotencyClaimLost)
            }
            // A product deleted between the read and the write: no product is ever deleted,
            // so this is a store in a state the service does not make.
            Err(RetryError::Store(err)) => Err(BulkStockError::Unavailable(err.into())),
        }
    }

    /// Opens, and adds to `stocks`, the rows that `rows` would put units into at locations
    /// where a product of `stocks` has none yet. A location that does not exist leaves its
    /// rows not found.
    async fn open_missing(
        &self,
        rows: &[BulkRow],
        stocks: &mut HashMap<(ProductId, LocationId), ProductStock>,
    ) -> Result<(), StoreError> {
        let known: BTreeSet<ProductId> = stocks.keys().map(|(product, _)| *product).collect();
        let wanted: BTreeSet<(ProductId, LocationId)> = (rows.iter())
            .filter(|row| match row.change {
                BulkChange::Set { .. } => true,
                BulkChange::Delta(delta) => delta > 0,
            })
            .map(|row| (row.product_id, row.location_id))
            .filter(|key| known.contains(&key.0) && !stocks.contains_key(key))
            .collect();
        for (product_id, location_id) in wanted {
            match self.ports.stock.open(product_id, location_id, self.ports.clock.now()).await {
                Ok(stock) => {
                    stocks.insert(stock.key(), stock);
                }
                Err(StoreError::LocationNotFound(_)) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(())
    }
}

/// Each row's answer: the stock its change left, except that a row's last applied change
/// answers the stock as stored (a guarded write applies a delta to the row as it is, which a
/// concurrent checkout may have moved since the read).
fn outcomes(
    decided: Vec<Result<domain::StockChange, RowRefusal>>,
    stored: &[ProductStock],
) -> Vec<RowOutcome> {
    let stored: HashMap<(ProductId, LocationId), ProductStock> =
        stored.iter().map(|stock| (stock.key(), *stock)).collect();
    let mut last: HashMap<(ProductId, LocationId), usize> = HashMap::new();
    for (i, change) in decided.iter().enumerate() {
        if let Ok(change) = change {
            last.insert(change.key(), i);
        }
    }
    (decided.into_iter().enumerate())
        .map(|(i, decided)| {
            decided.map(|change| {
                let id = change.key();
                match stored.get(&id) {
                    Some(stock) if last.get(&id) == Some(&i) => *stock,
                    _ => change.after(),
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use domain::stock::bulk::BulkChange;
    use domain::{StockCount, Version};

    use super::*;
    use crate::test_support::{Mocks, pid, sleeping_clock, stock};

    fn command(rows: Vec<BulkRow>) -> BulkStockCommand {
        BulkStockCommand {
            rows,
            reason: Some("erp".into()),
            actor: Actor::Admin,
            idempotency: None,
        }
    }

    fn set(product: u128, on_hand: i64, if_version: Option<i64>) -> BulkRow {
        BulkRow {
            product_id: pid(product),
            location_id: LocationId::DEFAULT,
            change: BulkChange::Set {
                on_hand: StockCount::new(on_hand).expect("count"),
                if_version: if_version.map(|v| Version::new(v).expect("version")),
            },
        }
    }

    #[tokio::test]
    async fn applied_rows_are_written_in_one_commit_and_refused_ones_answered() {
        let mut mocks = Mocks::new();
        mocks
            .stock
            .expect_get_many()
            .returning(|_| Ok(vec![stock(1, 10, 2, 5), stock(2, 8, 0, 1)]));
        mocks.stock.expect_save_many().times(1).returning(|changesets| {
            assert_eq!(changesets.len(), 2, "one changeset per applied row");
            assert!(changesets.iter().all(|c| c.reason() == Some("erp")));
            Ok(vec![stock(1, 12, 2, 6), stock(2, 9, 0, 2)])
        });
        let rows = vec![
            set(1, 12, Some(5)),
            set(2, 3, Some(99)),
            set(3, 1, None),
            BulkRow {
                product_id: pid(2),
                location_id: LocationId::DEFAULT,
                change: BulkChange::Delta(1),
            },
            set(1, 1, None),
        ];

        let outcomes = BulkStock::new(mocks.into_ports(), RetryPolicy::default())
            .execute(command(rows))
            .await
            .expect("answered");

        assert_eq!(outcomes[0], Ok(stock(1, 12, 2, 6)));
        assert!(
            matches!(outcomes[1], Err(RowRefusal::VersionMismatch(s)) if s.version().get() == 1)
        );
        assert_eq!(outcomes[2], Err(RowRefusal::NotFound));
        assert_eq!(outcomes[3], Ok(stock(2, 9, 0, 2)));
        assert!(matches!(outcomes[4], Err(RowRefusal::BelowReserved { on_hand: 1, .. })));
    }

    #[tokio::test]
    async fn a_lost_race_decides_every_row_again_from_a_fresh_read() {
        let mut mocks = Mocks::new();
        mocks.clock = sleeping_clock(1);
        let mut reads = 0;
        mocks.stock.expect_get_many().times(2).returning(move |_| {
            reads += 1;
            Ok(vec![stock(1, 10, if reads == 1 { 0 } else { 6 }, reads)])
        });
        let mut saves = 0;
        mocks.stock.expect_save_many().times(1..=2).returning(move |c| {
            saves += 1;
            if saves == 1 {
                Err(StoreError::StockConflict(pid(1)))
            } else {
                Ok(vec![c[0].stock()[0].after()])
            }
        });

        let outcomes = BulkStock::new(mocks.into_ports(), RetryPolicy::default())
            .execute(command(vec![set(1, 5, None)]))
            .await
            .expect("answered");

        assert!(
            matches!(outcomes[0], Err(RowRefusal::BelowReserved { on_hand: 5, .. })),
            "{outcomes:?}"
        );
    }

    #[tokio::test]
    async fn no_rows_or_too_many_are_refused_without_a_read() {
        let use_case = BulkStock::new(Mocks::new().into_ports(), RetryPolicy::default());
        let too_many = vec![set(1, 1, None); MAX_ROWS + 1];
        assert!(matches!(
            use_case.execute(command(vec![])).await,
            Err(BulkStockError::RowCount(0))
        ));
        assert!(matches!(
            use_case.execute(command(too_many)).await,
            Err(BulkStockError::RowCount(1001))
        ));
    }
}
