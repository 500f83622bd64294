//! Reconciliation: each stock row's counters (a product at a location) checked against the two
//! witnesses that can recompute them, the ledger and the orders' allocations.
//!
//! Every change of a product's stock writes one ledger entry, with the version it produced, in
//! the same transaction; the first entry is the initial `restock`. Every reserved unit is held
//! by a line of an order stored as `reserved`. So when nothing drifted, for every product:
//!
//! 1. the stored on-hand and reserved counts are the sums of the ledger's deltas;
//! 2. the stored version is the ledger's highest, and the ledger holds one entry per version;
//! 3. the stored reserved count is the units on the lines of orders *stored* as `reserved` (a
//!    reservation past its expiry that no sweeper has released yet still holds its units);
//! 4. the product's counter of units owed (backorders, reported with its default location's
//!    figures) is the units still owed by the lines of orders stored as `reserved` or `paid`.
//!
//! This module only compares figures; reading them is the
//! [`Reconciliation`](crate::ports::Reconciliation) port's job. The figures are plain integers,
//! not [`StockCount`](crate::StockCount)s or [`Version`](crate::Version)s: they describe what is
//! stored, and a drifted store may hold what those types refuse (a negative ledger sum, a
//! version 0). An audit that refused to read such a row would hide what it exists to find.

use std::fmt;

use crate::{LocationId, ProductId};

/// A product's counters as its stock row holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredStock {
    /// Units on the shelf, reserved ones included.
    pub on_hand: i64,
    /// Units held for orders.
    pub reserved: i64,
    /// The row's version.
    pub version: i64,
}

/// A product's ledger, summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerTotals {
    /// The sum of the entries' on-hand deltas.
    pub on_hand: i64,
    /// The sum of the entries' reserved deltas.
    pub reserved: i64,
    /// The highest version among the entries: the one the latest change produced.
    pub version: i64,
    /// How many entries there are.
    pub entries: i64,
}

/// What the store says about one product's stock, witness by witness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockFigures {
    /// The product.
    pub product_id: ProductId,
    /// The location of the row.
    pub location_id: LocationId,
    /// Its stock row; `None` when there is none.
    pub stored: Option<StoredStock>,
    /// Its ledger; `None` when it has no entry at all.
    pub ledger: Option<LedgerTotals>,
    /// The units allocated at this location on the lines of orders stored as `reserved`; 0
    /// when there are none.
    pub reserved_by_orders: i64,
    /// The product's counter of units owed to orders (see [`crate::backorder`]), on the
    /// default location's figures; 0 elsewhere and when there is none.
    pub backordered: i64,
    /// The units still owed by the lines of orders stored as `reserved` or `paid`, on the
    /// default location's figures; 0 elsewhere.
    pub backordered_by_orders: i64,
}

/// One invariant a product's figures break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Discrepancy {
    /// The product has no stock row, although the catalogue, the ledger or an order names it.
    MissingStock,
    /// The product has no ledger entry, not even its initial restock.
    MissingLedger,
    /// The stored on-hand count is not the sum of the ledger's on-hand deltas.
    OnHandDiffersFromLedger,
    /// The stored reserved count is not the sum of the ledger's reserved deltas.
    ReservedDiffersFromLedger,
    /// The stored version is not the ledger's highest.
    VersionDiffersFromLedger,
    /// The ledger does not hold one entry per version up to its highest: an entry is missing
    /// or doubled.
    LedgerEntriesDifferFromVersion,
    /// The stored reserved count (0 without a stock row) is not the units held by reserved
    /// orders.
    ReservedDiffersFromOrders,
    /// The product's counter of units owed is not what its orders still owe.
    BackorderedDiffersFromOrders,
}

impl Discrepancy {
    /// Every discrepancy, in declaration order (the order a [`Drift`] lists them in).
    pub const ALL: [Self; 8] = [
        Self::MissingStock,
        Self::MissingLedger,
        Self::OnHandDiffersFromLedger,
        Self::ReservedDiffersFromLedger,
        Self::VersionDiffersFromLedger,
        Self::LedgerEntriesDifferFromVersion,
        Self::ReservedDiffersFromOrders,
        Self::BackorderedDiffersFromOrders,
    ];

    /// A stable kebab-case name, for reports and the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingStock => "missing-stock",
            Self::MissingLedger => "missing-ledger",
            Self::OnHandDiffersFromLedger => "on-hand-differs-from-ledger",
            Self::ReservedDiffersFromLedger => "reserved-differs-from-ledger",
            Self::VersionDiffersFromLedger => "version-differs-from-ledger",
            Self::LedgerEntriesDifferFromVersion => "ledger-entries-differ-from-version",
            Self::ReservedDiffersFromOrders => "reserved-differs-from-orders",
            Self::BackorderedDiffersFromOrders => "backordered-differs-from-orders",
        }
    }

    /// Whether `figures` break this invariant. A comparison with a missing witness is not
    /// made: its absence is reported once, as [`Self::MissingStock`] or [`Self::MissingLedger`].
    fn holds_for(self, figures: &StockFigures) -> bool {
        let (stored, ledger) = (figures.stored, figures.ledger);
        let against = |check: fn(StoredStock, LedgerTotals) -> bool| match (stored, ledger) {
            (Some(stored), Some(ledger)) => check(stored, ledger),
            _ => true,
        };
        match self {
            Self::MissingStock => stored.is_some(),
            Self::MissingLedger => ledger.is_some(),
            Self::OnHandDiffersFromLedger => against(|s, l| s.on_hand == l.on_hand),
            Self::ReservedDiffersFromLedger => against(|s, l| s.reserved == l.reserved),
            Self::VersionDiffersFromLedger => against(|s, l| s.version == l.version),
            Self::LedgerEntriesDifferFromVersion => ledger.is_none_or(|l| l.entries == l.version),
            // Orders holding units of a product without a stock row are drift too.
            Self::ReservedDiffersFromOrders => {
                stored.map_or(0, |s| s.reserved) == figures.reserved_by_orders
            }
            Self::BackorderedDiffersFromOrders => {
                figures.backordered == figures.backordered_by_orders
            }
        }
    }
}

impl fmt::Display for Discrepancy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl StockFigures {
    /// Every invariant these figures break, in [`Discrepancy::ALL`] order; empty when none.
    #[must_use]
    pub fn discrepancies(&self) -> Vec<Discrepancy> {
        Discrepancy::ALL.into_iter().filter(|d| !d.holds_for(self)).collect()
    }
}

/// A product whose figures break at least one invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    figures: StockFigures,
    /// Never empty, in [`Discrepancy::ALL`] order.
    discrepancies: Vec<Discrepancy>,
}

impl Drift {
    /// The drift `figures` show, or `None` when every invariant holds.
    #[must_use]
    pub fn find(figures: StockFigures) -> Option<Self> {
        let discrepancies = figures.discrepancies();
        (!discrepancies.is_empty()).then_some(Self { figures, discrepancies })
    }

    /// The product that drifted.
    #[must_use]
    pub fn product_id(&self) -> ProductId {
        self.figures.product_id
    }

    /// The location of the row that drifted.
    #[must_use]
    pub fn location_id(&self) -> LocationId {
        self.figures.location_id
    }

    /// The figures that show it.
    #[must_use]
    pub fn figures(&self) -> &StockFigures {
        &self.figures
    }

    /// The invariants broken: at least one, in [`Discrepancy::ALL`] order.
    #[must_use]
    pub fn discrepancies(&self) -> &[Discrepancy] {
        &self.discrepancies
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    /// A product with 10 on hand, 3 of them reserved by orders, after 4 changes.
    fn clean() -> StockFigures {
        StockFigures {
            product_id: ProductId::new(Uuid::from_u128(7)).expect("id"),
            location_id: LocationId::DEFAULT,
            stored: Some(StoredStock { on_hand: 10, reserved: 3, version: 4 }),
            ledger: Some(LedgerTotals { on_hand: 10, reserved: 3, version: 4, entries: 4 }),
            reserved_by_orders: 3,
            backordered: 0,
            backordered_by_orders: 0,
        }
    }

    fn found(figures: StockFigures) -> Vec<Discrepancy> {
        Drift::find(figures).map(|d| d.discrepancies().to_vec()).unwrap_or_default()
    }

    #[test]
    fn figures_that_agree_show_no_drift() {
        assert_eq!(Drift::find(clean()), None);
    }

    #[test]
    fn a_reserved_count_raised_by_hand_disagrees_with_the_ledger_and_the_orders() {
        let mut figures = clean();
        figures.stored = Some(StoredStock { reserved: 4, ..figures.stored.expect("stored") });

        let drift = Drift::find(figures.clone()).expect("drift");

        assert_eq!(drift.product_id(), figures.product_id);
        assert_eq!(drift.figures(), &figures);
        assert_eq!(
            drift.discrepancies(),
            [Discrepancy::ReservedDiffersFromLedger, Discrepancy::ReservedDiffersFromOrders]
        );
    }

    #[test]
    fn each_counter_is_compared_with_its_own_sum() {
        let stored = clean().stored.expect("stored");
        let cases = [
            (StoredStock { on_hand: 11, ..stored }, Discrepancy::OnHandDiffersFromLedger),
            (StoredStock { version: 5, ..stored }, Discrepancy::VersionDiffersFromLedger),
        ];
        for (tampered, expected) in cases {
            let figures = StockFigures { stored: Some(tampered), ..clean() };
            assert_eq!(found(figures), [expected], "{tampered:?}");
        }
    }

    #[test]
    fn a_missing_or_doubled_ledger_entry_is_reported() {
        for entries in [3, 5] {
            let ledger = LedgerTotals { entries, ..clean().ledger.expect("ledger") };
            let figures = StockFigures { ledger: Some(ledger), ..clean() };
            assert_eq!(found(figures), [Discrepancy::LedgerEntriesDifferFromVersion]);
        }
    }

    #[test]
    fn orders_holding_other_than_the_reserved_count_are_reported() {
        let figures = StockFigures { reserved_by_orders: 2, ..clean() };
        assert_eq!(found(figures), [Discrepancy::ReservedDiffersFromOrders]);
    }

    #[test]
    fn a_backorder_counter_apart_from_what_orders_owe_is_reported() {
        let figures = StockFigures { backordered: 3, backordered_by_orders: 2, ..clean() };
        assert_eq!(found(figures), [Discrepancy::BackorderedDiffersFromOrders]);
        let agreeing = StockFigures { backordered: 2, backordered_by_orders: 2, ..clean() };
        assert_eq!(found(agreeing), []);
    }

    #[test]
    fn a_missing_witness_is_reported_once_instead_of_as_every_comparison() {
        let no_ledger = StockFigures { ledger: None, ..clean() };
        assert_eq!(found(no_ledger), [Discrepancy::MissingLedger]);

        let no_stock = StockFigures { stored: None, ..clean() };
        assert_eq!(
            found(no_stock),
            [Discrepancy::MissingStock, Discrepancy::ReservedDiffersFromOrders],
            "the orders still hold 3 units of a product without stock"
        );

        let catalogue_only = StockFigures { stored: None, ledger: None, ..clean() };
        let catalogue_only = StockFigures { reserved_by_orders: 0, ..catalogue_only };
        assert_eq!(found(catalogue_only), [Discrepancy::MissingStock, Discrepancy::MissingLedger]);
    }

    #[test]
    fn every_discrepancy_has_a_distinct_name() {
        let names: std::collections::BTreeSet<_> =
            Discrepancy::ALL.iter().map(|d| d.as_str()).collect();
        assert_eq!(names.len(), Discrepancy::ALL.len());
    }
}
