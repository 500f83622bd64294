//! [`StockTotals`]: a product's stock over all its locations, as version 1 clients see it.

use super::ProductStock;
use crate::{ProductId, StockCount, Version};

/// Every stock row of one product, and their sums: on hand, reserved and for sale over all
/// locations. The sums of a product kept at one location are that location's counts, so a
/// single-location shop sees exactly what it saw before locations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockTotals {
    product_id: ProductId,
    /// In location order, at least one.
    rows: Vec<ProductStock>,
}

impl StockTotals {
    /// The totals of `rows`, all of one product; `None` when there is none or they name
    /// different products.
    #[must_use]
    pub fn new(mut rows: Vec<ProductStock>) -> Option<Self> {
        let product_id = rows.first()?.product_id();
        if rows.iter().any(|row| row.product_id() != product_id) {
            return None;
        }
        rows.sort_by_key(ProductStock::location_id);
        Some(Self { product_id, rows })
    }

    /// The totals of a product kept at one location: that row's.
    #[must_use]
    pub fn of(row: ProductStock) -> Self {
        Self { product_id: row.product_id(), rows: vec![row] }
    }

    /// The totals of each product among `rows` (any order, several products), by product id.
    #[must_use]
    pub fn per_product(rows: Vec<ProductStock>) -> Vec<Self> {
        let mut grouped: std::collections::BTreeMap<ProductId, Vec<ProductStock>> =
            std::collections::BTreeMap::new();
        for row in rows {
            grouped.entry(row.product_id()).or_default().push(row);
        }
        grouped.into_values().filter_map(Self::new).collect()
    }

    /// The product.
    #[must_use]
    pub fn product_id(&self) -> ProductId {
        self.product_id
    }

    /// Its rows, one per location, in location-id order.
    #[must_use]
    pub fn rows(&self) -> &[ProductStock] {
        &self.rows
    }

    /// Units on hand over all locations.
    #[must_use]
    pub fn on_hand(&self) -> StockCount {
        Self::sum(self.rows.iter().map(|r| r.on_hand().get()))
    }

    /// Units reserved over all locations.
    #[must_use]
    pub fn reserved(&self) -> StockCount {
        Self::sum(self.rows.iter().map(|r| r.reserved().get()))
    }

    /// Units for sale over all locations (each location's safety stock kept back).
    #[must_use]
    pub fn available(&self) -> StockCount {
        Self::sum(self.rows.iter().map(|r| r.available().get()))
    }

    /// The sum of the rows' versions: it grows with every write to any of them, so it serves
    /// as the product's version (an `ETag` over all locations), and with one location it is
    /// that row's version.
    #[must_use]
    pub fn version(&self) -> Version {
        let sum = self.rows.iter().fold(0_i64, |sum, r| sum.saturating_add(r.version().get()));
        Version::new(sum).unwrap_or(Version::INITIAL)
    }

    fn sum(counts: impl Iterator<Item = i64>) -> StockCount {
        let sum = counts.fold(0_i64, i64::saturating_add);
        StockCount::new(sum.min(StockCount::MAX)).unwrap_or(StockCount::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::{LocationId, Quantity};

    fn row(location: u128, on_hand: i64, reserve: i64) -> ProductStock {
        let product = ProductId::new(Uuid::from_u128(5)).expect("id");
        let location = LocationId::new(Uuid::from_u128(location)).expect("id");
        let mut row = ProductStock::new_at(product, location, StockCount::new(on_hand).expect("n"));
        if reserve > 0 {
            row.reserve(Quantity::new(reserve).expect("q")).expect("in stock");
        }
        row
    }

    #[test]
    fn totals_sum_the_locations_and_their_versions() {
        let totals = StockTotals::new(vec![row(2, 10, 3), row(1, 4, 0)]).expect("one product");

        assert_eq!(
            (totals.on_hand().get(), totals.reserved().get(), totals.available().get()),
            (14, 3, 11)
        );
        assert_eq!(totals.version().get(), 3, "versions 2 and 1");
        assert_eq!(
            totals.rows()[0].location_id(),
            LocationId::new(Uuid::from_u128(1)).expect("id")
        );
    }

    #[test]
    fn one_location_totals_are_its_row() {
        let only = row(1, 7, 2);
        let totals = StockTotals::new(vec![only]).expect("a row");
        assert_eq!(
            (totals.on_hand(), totals.reserved(), totals.version()),
            (only.on_hand(), only.reserved(), only.version())
        );
        assert_eq!(StockTotals::new(Vec::new()), None);
    }
}
