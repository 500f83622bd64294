//! [`Incoming`]: units of a product on their way to a location (a purchase order, a transfer
//! from a supplier), as the shop records them.
//!
//! Incoming units are information, for buyers ("more expected on the 12th") and for the shop's
//! other systems; they are never for sale and never counted in a stock row, whose counters stay
//! what is physically there. A delivery to the location lessens them by what it brings (never
//! below 0), in the delivery's own commit ([`received`]), so the figure a reader sees is what is
//! still to come.

use crate::ports::Changeset;
use crate::{LocationId, MovementKind, ProductId, StockCount, StockKey, Timestamp};

/// Units of a product expected at a location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incoming {
    /// The product.
    pub product_id: ProductId,
    /// Where they will arrive.
    pub location_id: LocationId,
    /// How many are still to come.
    pub quantity: StockCount,
    /// When the shop expects them, if it says.
    pub expected_at: Option<Timestamp>,
}

/// The units delivered per stock row by `changesets`: the sum of their positive adjustments
/// (deliveries, including a bulk sync's positive deltas), in (product, location) order. What a
/// store takes off each row's incoming quantity in the same commit.
#[must_use]
pub fn received(changesets: &[Changeset]) -> Vec<(StockKey, i64)> {
    let mut delivered: std::collections::BTreeMap<StockKey, i64> = Default::default();
    for change in changesets.iter().flat_map(Changeset::stock) {
        if change.kind() == MovementKind::Adjust && change.on_hand_delta() > 0 {
            *delivered.entry(change.key()).or_default() += change.on_hand_delta();
        }
    }
    delivered.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::{ProductStock, Quantity};

    #[test]
    fn only_deliveries_are_received_summed_per_row() {
        let product = ProductId::new(Uuid::from_u128(1)).expect("id");
        let at = Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).single().expect("time");
        let mut stock = ProductStock::new(product, StockCount::new(5).expect("count"));
        let changes = vec![
            stock.adjust(3).expect("a delivery"),
            stock.adjust(-1).expect("breakage"),
            stock.reserve(Quantity::new(2).expect("qty")).expect("a reservation"),
            stock.adjust(4).expect("another delivery"),
        ];
        let mut chained = changes.into_iter();
        let first = Changeset::new(chained.by_ref().take(2).collect(), None, at);
        let second = Changeset::new(chained.collect(), None, at);
        assert_eq!(received(&[first, second]), [((product, LocationId::DEFAULT), 7)]);
    }
}
