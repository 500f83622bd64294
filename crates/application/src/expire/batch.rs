//! One batch of expiries decided in memory: each due order's `expire` transition and the
//! matching [`ProductStock::expire`] of each of its lines' allocations, all against one read of
//! the stock, as changesets that [`domain::ports::UnitOfWork::commit_all`] writes in one
//! transaction.
//!
//! Each stock row (product, location) is threaded through the batch in order, so the changes of
//! one row form the chain `commit_all` requires and the row is written once per batch, however
//! many of the batch's orders held it.

use std::collections::HashMap;

use domain::ports::Changeset;
use domain::{LocationId, Order, OrderId, ProductId, ProductStock, StockChange, Timestamp};

/// What a batch will do, and what it leaves to others.
#[derive(Debug, Default)]
pub(super) struct Decided {
    /// One changeset per order to expire, in the order the orders were read.
    pub(super) changesets: Vec<Changeset>,
    /// The orders those changesets expire.
    pub(super) expired: Vec<OrderId>,
    /// Orders whose lines the stock read does not cover (a product without stock, fewer units
    /// reserved than the order holds): left out so they cannot fail the rest, and settled on
    /// their own, where a lost race and a real disagreement can be told apart.
    pub(super) suspects: Vec<OrderId>,
}

/// Decides the expiry of every order of `due` at `now` against `stocks`, the stock of (at
/// least) every product they hold.
pub(super) fn decide(due: Vec<Order>, stocks: Vec<ProductStock>, now: Timestamp) -> Decided {
    let mut stocks: HashMap<(ProductId, LocationId), ProductStock> =
        stocks.into_iter().map(|stock| (stock.key(), stock)).collect();
    let mut decided = Decided::default();
    for mut order in due {
        // Read as due, yet the status machine refuses (another clock called it due): left
        // alone, like an order paid meanwhile.
        let Ok(change) = order.expire(now) else { continue };
        match release_lines(&mut stocks, &order) {
            Some(released) => {
                decided.expired.push(order.id());
                decided.changesets.push(Changeset::new(released, Some(change), now));
            }
            None => decided.suspects.push(order.id()),
        }
    }
    decided
}

/// Gives back every line of `order` out of `stocks`, or none of them: `stocks` only moves when
/// the whole order fits, so the next order of the batch sees what this one left.
fn release_lines(
    stocks: &mut HashMap<(ProductId, LocationId), ProductStock>,
    order: &Order,
) -> Option<Vec<StockChange>> {
    let mut moved: Vec<(ProductStock, StockChange)> = Vec::with_capacity(order.lines().len());
    for line in order.lines() {
        for source in line.sources() {
            // An order holds each row once, but an earlier result is looked up first anyway:
            // a chain computed twice from one state would be refused at commit.
            let key = (line.product_id, source.location_id);
            let current = moved
                .iter()
                .rev()
                .map(|(stock, _)| *stock)
                .find(|stock| stock.key() == key)
                .or_else(|| stocks.get(&key).copied());
            let mut stock = current?;
            let change = stock.expire(source.quantity).ok()?;
            moved.push((stock, change));
        }
    }
    Some(
        moved
            .into_iter()
            .map(|(stock, change)| {
                stocks.insert(stock.key(), stock);
                change
            })
            .collect(),
    )
}
