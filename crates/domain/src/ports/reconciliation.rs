//! [`Reconciliation`]: every product's stock figures at once, for an audit of the counters
//! against the ledger and the orders.

use async_trait::async_trait;

use super::StoreError;
use crate::StockFigures;

/// Reads, for every product, its stock as stored and as the ledger and the orders account
/// for it. Read-only: nothing here writes.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Reconciliation: Send + Sync {
    /// The figures of every product named by the catalogue, a stock row, a ledger entry or a
    /// line of an order stored as `reserved`: one entry per product, in any order.
    ///
    /// Every figure MUST come from one consistent snapshot of the store: a commit that landed
    /// between reading the counters and summing the ledger would otherwise show as drift that
    /// never was. Stored values MUST be reported as they are, even those the domain's types
    /// refuse (a negative sum): they are what the audit is about.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn stock_figures(&self) -> Result<Vec<StockFigures>, StoreError>;
}
