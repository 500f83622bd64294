//! The reconciliation report on the wire: the body of `GET /v1/admin/reconciliation`, and what
//! `checkout-api reconcile --json` prints.

use application::reconcile::ReconciliationReport;
use domain::{Drift, LedgerTotals, StoredStock};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Every product's stock recomputed from its ledger and its orders.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReconciliationView {
    /// Products compared: every product the catalogue, a stock row, the ledger or a reserved
    /// order names.
    pub products_checked: u64,
    /// The products whose figures disagree, in product-id order; empty when nothing drifted.
    pub drift: Vec<DriftView>,
}

/// One stock row (a product at a location) whose figures disagree.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DriftView {
    pub product_id: Uuid,
    /// The location of the stock row that drifted.
    pub location_id: Uuid,
    /// The stock row; `null` when there is none.
    pub stored: Option<StoredView>,
    /// The ledger summed; `null` when it has no entry.
    pub ledger: Option<LedgerView>,
    /// Units on the lines of orders stored as reserved (including overdue ones not yet swept).
    pub reserved_by_orders: i64,
    /// The product's counter of units owed to orders (backorders), on its default location's
    /// row; 0 elsewhere.
    #[serde(default)]
    pub backordered: i64,
    /// Units still owed by the lines of reserved and paid orders, on the default location's
    /// row; 0 elsewhere.
    #[serde(default)]
    pub backordered_by_orders: i64,
    /// The invariants broken, among: missing-stock, missing-ledger, on-hand-differs-from-ledger,
    /// reserved-differs-from-ledger, version-differs-from-ledger,
    /// ledger-entries-differ-from-version, reserved-differs-from-orders,
    /// backordered-differs-from-orders.
    #[schema(example = json!(["reserved-differs-from-ledger", "reserved-differs-from-orders"]))]
    pub problems: Vec<String>,
}

/// A stock row's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StoredView {
    pub on_hand: i64,
    pub reserved: i64,
    pub version: i64,
}

/// A product's ledger, summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LedgerView {
    /// Sum of the on-hand deltas.
    pub on_hand: i64,
    /// Sum of the reserved deltas.
    pub reserved: i64,
    /// The highest version: the one the latest change produced.
    pub version: i64,
    /// How many entries; one per version when nothing is missing.
    pub entries: i64,
}

impl From<&ReconciliationReport> for ReconciliationView {
    fn from(report: &ReconciliationReport) -> Self {
        Self {
            products_checked: report.products_checked as u64,
            drift: report.drift.iter().map(DriftView::from).collect(),
        }
    }
}

impl From<&Drift> for DriftView {
    fn from(drift: &Drift) -> Self {
        let figures = drift.figures();
        Self {
            product_id: drift.product_id().as_uuid(),
            location_id: drift.location_id().as_uuid(),
            stored: figures.stored.map(StoredView::from),
            ledger: figures.ledger.map(LedgerView::from),
            reserved_by_orders: figures.reserved_by_orders,
            backordered: figures.backordered,
            backordered_by_orders: figures.backordered_by_orders,
            problems: drift.discrepancies().iter().map(|d| d.as_str().to_owned()).collect(),
        }
    }
}

impl From<StoredStock> for StoredView {
    fn from(s: StoredStock) -> Self {
        Self { on_hand: s.on_hand, reserved: s.reserved, version: s.version }
    }
}

impl From<LedgerTotals> for LedgerView {
    fn from(l: LedgerTotals) -> Self {
        Self { on_hand: l.on_hand, reserved: l.reserved, version: l.version, entries: l.entries }
    }
}
