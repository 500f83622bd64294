//! The stock ledger: one entry per change of a product's stock, so that the counters can be
//! recomputed (and audited) from history.

use crate::access::Actor;
use crate::{LocationId, OrderId, ProductId, Timestamp, Version};

/// What moved stock. Stored as text in the ledger; [`MovementKind::as_str`] is that text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MovementKind {
    /// A checkout held units for an order.
    Reserve,
    /// A cancelled order gave its held units back.
    Release,
    /// A paid order took its held units off the shelf.
    Sell,
    /// Units arrived: a product's initial stock.
    Restock,
    /// A shelf count replaced the on-hand figure.
    Set,
    /// An administrator moved the on-hand figure by a delta.
    Adjust,
    /// An unpaid reservation ran out and gave its units back.
    Expire,
    /// Units left this location for another one (a transfer's first half).
    TransferOut,
    /// Units arrived from another location (a transfer's second half).
    TransferIn,
    /// The location's safety stock (units on hand kept back from sale) was set; the counts do
    /// not move, what is for sale does.
    SafetyStock,
}

impl MovementKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 10] = [
        Self::Reserve,
        Self::Release,
        Self::Sell,
        Self::Restock,
        Self::Set,
        Self::Adjust,
        Self::Expire,
        Self::TransferOut,
        Self::TransferIn,
        Self::SafetyStock,
    ];

    /// The stable lower-case name used in storage and on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reserve => "reserve",
            Self::Release => "release",
            Self::Sell => "sell",
            Self::Restock => "restock",
            Self::Set => "set",
            Self::Adjust => "adjust",
            Self::Expire => "expire",
            Self::TransferOut => "transfer_out",
            Self::TransferIn => "transfer_in",
            Self::SafetyStock => "safety_stock",
        }
    }

    /// The kind named by [`MovementKind::as_str`], if any.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// One ledger entry as stored: what changed, by how much, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockMovement {
    /// The product whose stock moved.
    pub product_id: ProductId,
    /// The location whose row moved ([`LocationId::DEFAULT`] for entries from before
    /// locations).
    pub location_id: LocationId,
    /// What moved it.
    pub kind: MovementKind,
    /// Change of the on-hand count.
    pub on_hand_delta: i64,
    /// Change of the reserved count.
    pub reserved_delta: i64,
    /// The stock's version after this change.
    pub version: Version,
    /// The order behind a reserve, release, sell or expire.
    pub order_id: Option<OrderId>,
    /// Free text an administrator gave for a set or adjust.
    pub reason: Option<String>,
    /// Who made the change; `None` for entries written before actors were recorded.
    pub actor: Option<Actor>,
    /// When the change was committed.
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_name() {
        for kind in MovementKind::ALL {
            assert_eq!(MovementKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(MovementKind::parse("steal"), None);
    }
}
