//! Fill backorders: a delivery's units go to the orders that are owed units of the product,
//! oldest order first, before any of them goes on sale (see [`domain::backorder`]).
//!
//! The delivery and every fill are one commit: the delivery's stock change, then per order its
//! line's new allocation (a versioned write of the order, so a cancellation racing the fill
//! conflicts and one of them re-reads) and the stock it moves at the delivering location. A
//! reserved order's filled units are held there; a paid order's are sold at once. The product's
//! counter of units owed falls by what was filled, in the same commit.

use domain::access::Actor;
use domain::ports::{Changeset, KeyEffect, StoreError};
use domain::{OrderStatus, ProductStock, Quantity, StockChange, Timestamp};

use crate::Ports;

/// The most orders one delivery fills: a delivery owed to more orders fills these, and its
/// remaining units wait for the next read (the next delivery or count fills on).
pub(crate) const MAX_ORDERS_PER_FILL: u32 = 10_000;

/// A delivery to fill backorders from: the delivery's own change of the row (which names the
/// product, the location, the units and the row it leaves) and what its ledger entries record.
pub(crate) struct Delivery {
    /// The delivery's change (an adjustment adding units).
    pub change: StockChange,
    /// Why, for the ledger.
    pub reason: Option<String>,
    /// Who delivered, for the ledger.
    pub actor: Actor,
    /// The idempotency key's effect, committed with the delivery.
    pub key: Option<KeyEffect>,
    /// When.
    pub at: Timestamp,
}

/// Commits `delivery` together with the fills of the oldest orders owed its product, up to the
/// units delivered. `Ok(None)` when the product owes nothing: the caller writes the delivery
/// alone, its usual way. Otherwise the row as stored after delivery and fills.
///
/// # Errors
/// The store's; a conflict (the row, an order, the counter moved) means reading again.
pub(crate) async fn deliver_filling(
    ports: &Ports,
    delivery: Delivery,
) -> Result<Option<ProductStock>, StoreError> {
    let (id, location_id) = delivery.change.key();
    let owed = (ports.stock.backordered(&[id]).await?.into_iter())
        .find_map(|(product, units)| (product == id).then_some(units))
        .unwrap_or(0);
    let fillable = delivery.change.on_hand_delta().min(owed);
    if fillable <= 0 {
        return Ok(None);
    }
    let mut left = u32::try_from(fillable).unwrap_or(u32::MAX);
    let orders = ports.orders.owed(id, left.min(MAX_ORDERS_PER_FILL)).await?;
    if orders.is_empty() {
        // The counter says units are owed, no order says so: reconciliation reports that
        // drift; the delivery goes on sale.
        return Ok(None);
    }
    let Delivery { change, reason, actor, key, at } = delivery;
    let mut row = change.after();
    let mut first = Changeset::new(vec![change], None, at).with_reason(reason.clone()).by(actor);
    if let Some(key) = key {
        first = first.with_key(key);
    }
    let mut changesets = vec![first];
    for mut order in orders {
        let owed_here = (order.lines().iter())
            .find(|line| line.product_id == id)
            .map_or(0, |line| line.backordered);
        // Listed as owed, read as owing nothing: a fill committed between the read of the
        // order and of its lines. Skipping it would put the unit on sale ahead of the orders
        // still owed, with no write to conflict on, so read again instead.
        let Ok(units) = Quantity::new(i64::from(left.min(owed_here))) else {
            return Err(StoreError::OrderConflict(order.id()));
        };
        let paid = order.record().status == OrderStatus::Paid;
        let filled = order.fill(id, location_id, units).map_err(StoreError::unavailable)?;
        let mut stock = vec![row.hold_owed(units).map_err(StoreError::unavailable)?];
        if paid {
            stock.push(row.sell(units).map_err(StoreError::unavailable)?);
        }
        changesets
            .push(Changeset::new(stock, Some(filled), at).with_reason(reason.clone()).by(actor));
        left -= units.get();
        if left == 0 {
            break;
        }
    }
    let stored = ports.stock.save_many(changesets).await?;
    let row = stored.into_iter().find(|stock| stock.key() == (id, location_id));
    row.map(Some).ok_or_else(|| StoreError::unavailable("a delivered row was not stored"))
}
