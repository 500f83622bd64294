//! Expire: unpaid reservations past their `expires_at` give their units back.
//!
//! Run periodically by a sweeper, a batch at a time: the due orders are read, their stock is
//! read once, every expiry is decided in memory and the whole batch is written in one
//! transaction (`UnitOfWork::commit_all`), each product's row once. A lost race (an order paid
//! or cancelled meanwhile) reads and decides the batch again; a batch that keeps failing is
//! expired one order at a time through the settle path of pay and cancel, so that one order
//! that cannot be expired never holds up the others: it is skipped, logged and counted.
//!
//! Safe with several sweepers at once (each write is versioned), though the server elects one
//! (a lease) so that they do not fight over the same orders.

mod batch;

use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;

use domain::access::Actor;
use domain::ports::{BoxError, StoreError};
use domain::{Order, OrderId, ProductId, ProductStock, Timestamp};

use self::batch::{Decided, decide};
use crate::retry::retry_on_conflict;
use crate::settle::{SettleError, settle};
use crate::{Ports, RetryPolicy};

/// Expire what is due now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpireDueCommand {
    /// The most orders to expire in this run; the sweeper's next run takes the rest.
    pub limit: u32,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExpiryReport {
    /// Orders this run expired, their stock released.
    pub expired: Vec<OrderId>,
    /// Due orders left alone: paid, cancelled or expired concurrently, or failed (below).
    pub skipped: u32,
    /// Of the skipped, those that could not be expired (the store refused this order's write,
    /// its stock disagrees, it kept losing races): logged; the next run tries them again.
    pub failed: u32,
}

impl ExpiryReport {
    /// How many due orders this run looked at: when that is the whole limit, more may be due.
    #[must_use]
    pub fn found(&self) -> usize {
        self.expired.len() + self.skipped as usize
    }

    /// How many of them the next run will not see again (expired, or settled by someone
    /// else): zero means that running again at once would only repeat the same failures.
    #[must_use]
    pub fn progress(&self) -> usize {
        self.found().saturating_sub(self.failed as usize)
    }
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExpireError {
    /// The store failed for the whole run (not for one order); the next run tries again.
    #[error("the store is unavailable")]
    Unavailable(#[source] BoxError),
}

impl From<StoreError> for ExpireError {
    fn from(err: StoreError) -> Self {
        Self::Unavailable(err.into())
    }
}

/// Orders expired one by one that must all fail with the store unavailable, before any
/// succeeds, for the run to conclude that the store is down rather than those orders bad.
const STORE_DOWN_AFTER: u32 = 3;

/// The expiry use case.
pub struct ExpireDue {
    ports: Ports,
    retry: RetryPolicy,
}

impl ExpireDue {
    /// The use case over `ports`, retrying lost races as `retry` says.
    #[must_use]
    pub fn new(ports: Ports, retry: RetryPolicy) -> Self {
        Self { ports, retry }
    }

    /// Expires up to `limit` due reservations, oldest first, releasing exactly what each held.
    ///
    /// # Errors
    /// [`ExpireError::Unavailable`] when the store fails for the whole run (the due orders
    /// cannot be read, or the first orders tried one by one all fail); orders expired before
    /// that stay expired. A failure of one order is not an error: see
    /// [`ExpiryReport::failed`].
    #[tracing::instrument(skip(self))]
    pub async fn execute(&self, command: ExpireDueCommand) -> Result<ExpiryReport, ExpireError> {
        let now = self.ports.clock.now();
        // Every due order any attempt read: those neither expired nor left to settle alone
        // were paid, cancelled or expired by someone else meanwhile.
        let seen = Mutex::new(HashSet::new());
        let attempt = || self.batch(now, command.limit, &seen);
        let decided = match retry_on_conflict(&self.retry, self.ports.clock.as_ref(), attempt).await
        {
            Ok(done) => done.value,
            Err(err) => {
                tracing::warn!(error = ?err, "an expiry batch failed; expiring one by one");
                let due = self.ports.orders.due_for_expiry(now, command.limit).await?;
                let ids = due.iter().map(Order::id).collect();
                return self.one_by_one(ids, ExpiryReport::default(), true).await;
            }
        };
        let seen = seen.into_inner().map_or(0, |seen| seen.len());
        let skipped = seen.saturating_sub(decided.expired.len() + decided.suspects.len());
        let report = ExpiryReport {
            expired: decided.expired,
            skipped: u32::try_from(skipped).unwrap_or(u32::MAX),
            failed: 0,
        };
        self.one_by_one(decided.suspects, report, false).await
    }

    /// One attempt at a batch: read the due orders and their stock, decide, commit. Returns
    /// what was committed and the orders left to be expired on their own.
    async fn batch(
        &self,
        now: Timestamp,
        limit: u32,
        seen: &Mutex<HashSet<OrderId>>,
    ) -> Result<Decided, StoreError> {
        let due = self.ports.orders.due_for_expiry(now, limit).await?;
        if let Ok(mut seen) = seen.lock() {
            seen.extend(due.iter().map(Order::id));
        }
        let ids: BTreeSet<ProductId> =
            due.iter().flat_map(|order| order.lines().iter().map(|l| l.product_id)).collect();
        let stocks = if ids.is_empty() {
            Vec::new()
        } else {
            self.ports.stock.get_many(&ids.into_iter().collect::<Vec<_>>()).await?
        };
        let mut decided = decide(due, stocks, now);
        let changesets = std::mem::take(&mut decided.changesets);
        if !changesets.is_empty() {
            self.ports.unit_of_work.commit_all(changesets).await?;
        }
        Ok(decided)
    }

    /// Expires `ids` one at a time through the settle path, adding to `report`. With
    /// `may_be_down`, the run fails when the first [`STORE_DOWN_AFTER`] orders all find the
    /// store unavailable: trying hundreds more, each waiting out a connection timeout, would
    /// only hold the sweeper.
    async fn one_by_one(
        &self,
        ids: Vec<OrderId>,
        mut report: ExpiryReport,
        may_be_down: bool,
    ) -> Result<ExpiryReport, ExpireError> {
        for (tried, order_id) in (1..).zip(ids) {
            let expire = |o: &mut Order, now, _| o.expire(now).map(Some);
            match settle(
                &self.ports,
                &self.retry,
                order_id,
                Actor::System,
                expire,
                ProductStock::expire,
            )
            .await
            {
                Ok(_) => report.expired.push(order_id),
                Err(SettleError::Unavailable(err))
                    if may_be_down && report.failed + 1 == tried && tried >= STORE_DOWN_AFTER =>
                {
                    return Err(err.into());
                }
                Err(err @ (SettleError::Unavailable(_) | SettleError::Inconsistent { .. })) => {
                    let error = &err as &dyn std::error::Error;
                    tracing::error!(%order_id, error, "cannot expire order; skipped");
                    report.skipped += 1;
                    report.failed += 1;
                }
                Err(err @ SettleError::Contended { .. }) => {
                    tracing::warn!(%order_id, %err, "expiry kept losing races; skipped");
                    report.skipped += 1;
                    report.failed += 1;
                }
                Err(err @ (SettleError::NotFound(_) | SettleError::Refused(_))) => {
                    tracing::debug!(%order_id, %err, "expiry skipped");
                    report.skipped += 1;
                }
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests;
