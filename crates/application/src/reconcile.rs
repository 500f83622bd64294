//! Reconcile: recompute every product's stock from its ledger and its orders, and report the
//! products whose stored counters drifted from them.
//!
//! It writes nothing and repairs nothing. A drift means one of the witnesses is wrong, and
//! which one (a hand-edited counter, a lost ledger entry, an order changed by hand) is a
//! person's call; the report gives them the figures to make it.

use domain::Drift;
use domain::ports::{BoxError, StoreError};

use crate::Ports;

/// What a reconciliation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconciliationReport {
    /// Products whose figures were compared: every product any witness names.
    pub products_checked: usize,
    /// The products that drifted, in product-id order; empty when the stock is consistent.
    pub drift: Vec<Drift>,
}

impl ReconciliationReport {
    /// Whether every product's counters agree with its ledger and its orders.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.drift.is_empty()
    }
}

/// Why no report could be made.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The store failed. Not retried: an audit can simply be run again.
    #[error("the store is unavailable")]
    Unavailable(#[source] BoxError),
}

impl From<StoreError> for ReconcileError {
    fn from(err: StoreError) -> Self {
        Self::Unavailable(err.into())
    }
}

/// The reconciliation use case.
pub struct Reconcile {
    ports: Ports,
}

impl Reconcile {
    /// The use case over `ports`.
    #[must_use]
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    /// Reads every product's figures from one snapshot of the store and lists those that
    /// break an invariant (see [`domain::Discrepancy`]); each drifted product is also logged.
    ///
    /// # Errors
    /// [`ReconcileError::Unavailable`].
    #[tracing::instrument(skip_all)]
    pub async fn execute(&self) -> Result<ReconciliationReport, ReconcileError> {
        let figures = self.ports.reconciliation.stock_figures().await?;
        let products_checked = figures.len();
        let mut drift: Vec<Drift> = figures.into_iter().filter_map(Drift::find).collect();
        drift.sort_by_key(Drift::product_id);
        for found in &drift {
            let problems: Vec<_> = found.discrepancies().iter().map(|d| d.as_str()).collect();
            tracing::warn!(product_id = %found.product_id(), ?problems, "stock drift");
        }
        tracing::info!(products_checked, drifted = drift.len(), "reconciliation finished");
        Ok(ReconciliationReport { products_checked, drift })
    }
}

#[cfg(test)]
mod tests {
    use domain::{Discrepancy, LedgerTotals, StockFigures, StoredStock};

    use super::*;
    use crate::test_support::{Mocks, pid};

    /// Product `n` with 5 on hand, 2 reserved by orders, after 3 changes; `reserved` stored.
    fn figures(n: u128, reserved: i64) -> StockFigures {
        StockFigures {
            product_id: pid(n),
            location_id: domain::LocationId::DEFAULT,
            stored: Some(StoredStock { on_hand: 5, reserved, version: 3 }),
            ledger: Some(LedgerTotals { on_hand: 5, reserved: 2, version: 3, entries: 3 }),
            reserved_by_orders: 2,
            backordered: 0,
            backordered_by_orders: 0,
        }
    }

    #[tokio::test]
    async fn consistent_figures_make_a_clean_report_counting_every_product() {
        // Arrange
        let mut mocks = Mocks::new();
        mocks
            .reconciliation
            .expect_stock_figures()
            .times(1)
            .returning(|| Ok(vec![figures(1, 2), figures(2, 2), figures(3, 2)]));

        // Act
        let report = Reconcile::new(mocks.into_ports()).execute().await.expect("a report");

        // Assert
        assert_eq!(report, ReconciliationReport { products_checked: 3, drift: vec![] });
        assert!(report.is_clean());
    }

    #[tokio::test]
    async fn only_drifted_products_are_listed_in_product_id_order() {
        // Arrange
        let mut mocks = Mocks::new();
        mocks
            .reconciliation
            .expect_stock_figures()
            .returning(|| Ok(vec![figures(9, 3), figures(1, 2), figures(4, 1), figures(5, 2)]));

        // Act
        let report = Reconcile::new(mocks.into_ports()).execute().await.expect("a report");

        // Assert
        assert!(!report.is_clean());
        assert_eq!(report.products_checked, 4);
        let listed: Vec<_> = report.drift.iter().map(Drift::product_id).collect();
        assert_eq!(listed, [pid(4), pid(9)]);
        assert_eq!(report.drift[0].figures(), &figures(4, 1));
        assert_eq!(
            report.drift[0].discrepancies(),
            [Discrepancy::ReservedDiffersFromLedger, Discrepancy::ReservedDiffersFromOrders]
        );
    }

    #[tokio::test]
    async fn a_store_that_cannot_answer_is_reported_without_a_retry() {
        // Arrange
        let mut mocks = Mocks::new();
        mocks
            .reconciliation
            .expect_stock_figures()
            .times(1)
            .returning(|| Err(StoreError::unavailable("connection refused")));

        // Act
        let err = Reconcile::new(mocks.into_ports()).execute().await.expect_err("unavailable");

        // Assert
        assert!(matches!(err, ReconcileError::Unavailable(_)), "{err:?}");
    }
}
