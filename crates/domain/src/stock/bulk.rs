//! Bulk stock sync: many products' counts from an ERP or a warehouse system in one request,
//! each row decided on its own (see [`apply_rows`]).

use std::collections::HashMap;

use super::{ProductStock, StockChange, StockError};
use crate::{LocationId, ProductId, StockCount, Version};

/// What one row asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkChange {
    /// An absolute count (a stocktake), over `if_version` when given (like `If-Match`).
    Set {
        /// The counted on-hand quantity.
        on_hand: StockCount,
        /// The version the sender read; `None` replaces whatever is there.
        if_version: Option<Version>,
    },
    /// A relative move (a delivery, breakage); never 0.
    Delta(i64),
}

/// One row of a bulk sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkRow {
    /// The product.
    pub product_id: ProductId,
    /// The location whose row it changes ([`LocationId::DEFAULT`] when the sender names none).
    pub location_id: LocationId,
    /// What to do to its stock.
    pub change: BulkChange,
}

/// Why a row was refused; the other rows are decided without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowRefusal {
    /// No such product, or no stock row at that location (HTTP 404).
    NotFound,
    /// `if_version` is not the current version, shown here (HTTP 412).
    VersionMismatch(ProductStock),
    /// On-hand would fall below the units reserved for orders (HTTP 409).
    BelowReserved {
        /// The on-hand count the row would give.
        on_hand: i64,
        /// Units reserved now.
        reserved: StockCount,
    },
    /// A zero delta, or a count past [`StockCount::MAX`] (HTTP 409: the count it would give
    /// cannot be stored).
    Invalid(StockError),
}

/// Decides every row against `stocks` in row order, each on its own: an applied row moves the
/// stock row in `stocks` (so a later row of the same product and location sees it, and its
/// `if_version` names the version the earlier row left), a refused row moves nothing. Rows
/// whose (product, location) is missing from `stocks` are [`RowRefusal::NotFound`].
///
/// Returns, per row, the change to write or why the row was refused; the changes of one stock
/// row follow each other, as a commit of them all requires.
pub fn apply_rows(
    rows: &[BulkRow],
    stocks: &mut HashMap<(ProductId, LocationId), ProductStock>,
) -> Vec<Result<StockChange, RowRefusal>> {
    rows.iter()
        .map(|row| {
            let key = (row.product_id, row.location_id);
            let stock = stocks.get_mut(&key).ok_or(RowRefusal::NotFound)?;
            let mut next = *stock;
            let result = match row.change {
                BulkChange::Set { if_version: Some(v), .. } if v != stock.version() => {
                    return Err(RowRefusal::VersionMismatch(*stock));
                }
                BulkChange::Set { on_hand, .. } => next.set_on_hand(on_hand),
                BulkChange::Delta(delta) => next.adjust(delta),
            };
            match result {
                Ok(change) => {
                    *stock = next;
                    Ok(change)
                }
                Err(StockError::BelowReserved { on_hand, reserved }) => {
                    Err(RowRefusal::BelowReserved { on_hand, reserved })
                }
                Err(other) => Err(RowRefusal::Invalid(other)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn pid(n: u128) -> ProductId {
        ProductId::new(Uuid::from_u128(n)).expect("id")
    }

    fn count(n: i64) -> StockCount {
        StockCount::new(n).expect("count")
    }

    /// Product 1: 10 on hand, 4 reserved, version 3.
    fn stocks() -> HashMap<(ProductId, LocationId), ProductStock> {
        let stock =
            ProductStock::restore(pid(1), count(10), count(4), Version::new(3).expect("version"))
                .expect("stock");
        HashMap::from([(stock.key(), stock)])
    }

    fn delta(product: u128, delta: i64) -> BulkRow {
        let product_id = pid(product);
        BulkRow { product_id, location_id: LocationId::DEFAULT, change: BulkChange::Delta(delta) }
    }

    fn set(on_hand: i64, if_version: Option<i64>) -> BulkRow {
        let if_version = if_version.map(|v| Version::new(v).expect("version"));
        BulkRow {
            product_id: pid(1),
            location_id: LocationId::DEFAULT,
            change: BulkChange::Set { on_hand: count(on_hand), if_version },
        }
    }

    #[test]
    fn each_row_is_decided_on_its_own_in_order() {
        let mut stocks = stocks();
        let rows = [
            set(20, Some(3)),
            delta(2, 5),
            set(30, Some(3)),
            delta(1, -17),
            set(25, Some(4)),
            delta(1, 0),
            set(1, None),
        ];

        let outcomes = apply_rows(&rows, &mut stocks);

        let summary: Vec<_> = outcomes
            .iter()
            .map(|o| match o {
                Ok(change) => {
                    format!("ok {} v{}", change.after().on_hand(), change.after().version())
                }
                Err(RowRefusal::NotFound) => "404".into(),
                Err(RowRefusal::VersionMismatch(now)) => format!("412 v{}", now.version()),
                Err(RowRefusal::BelowReserved { on_hand, .. }) => format!("409 {on_hand}"),
                Err(RowRefusal::Invalid(_)) => "409 invalid".into(),
            })
            .collect();
        assert_eq!(
            summary,
            ["ok 20 v4", "404", "412 v4", "409 3", "ok 25 v5", "409 invalid", "409 1"]
        );
        let row = (pid(1), LocationId::DEFAULT);
        assert_eq!(stocks[&row].on_hand(), count(25), "refused rows moved nothing");
        let changes: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
        assert!(changes[1].follows(changes[0]), "one product's changes chain");
    }
}
