//! Expire: unpaid reservations past their `expires_at` give their units back.
//!
//! Run periodically by a sweeper. Safe with several sweepers (several server processes) at once:
//! each order is expired through a versioned commit, so one sweeper wins and the others see an
//! order that is no longer reserved and skip it.

use domain::ports::{BoxError, StoreError};
use domain::{Order, OrderId, ProductStock};

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
    /// Due orders left alone: paid, cancelled or expired concurrently, or inconsistent (logged).
    pub skipped: u32,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExpireError {
    /// The store failed; the next run tries again.
    #[error("the store is unavailable")]
    Unavailable(#[source] BoxError),
}

impl From<StoreError> for ExpireError {
    fn from(err: StoreError) -> Self {
        Self::Unavailable(err.into())
    }
}

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
    /// [`ExpireError::Unavailable`] when the store fails; orders expired before that stay
    /// expired.
    #[tracing::instrument(skip(self))]
    pub async fn execute(&self, command: ExpireDueCommand) -> Result<ExpiryReport, ExpireError> {
        let now = self.ports.clock.now();
        let due = self.ports.orders.due_for_expiry(now, command.limit).await?;
        let mut report = ExpiryReport::default();
        for order in due {
            let expire = |o: &mut Order, now| o.expire(now).map(Some);
            match settle(&self.ports, &self.retry, order.id(), expire, ProductStock::expire).await {
                Ok(_) => report.expired.push(order.id()),
                Err(SettleError::Unavailable(err)) => return Err(err.into()),
                Err(err @ SettleError::Inconsistent { .. }) => {
                    tracing::error!(error = &err as &dyn std::error::Error, "cannot expire order");
                    report.skipped += 1;
                }
                Err(err) => {
                    tracing::debug!(order_id = %order.id(), %err, "expiry skipped");
                    report.skipped += 1;
                }
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests;
