//! The shared path of pay, cancel and expire: move an order to its next status and move its
//! reserved stock with it (sold, released or expired) at the locations its lines were
//! allocated to, in one commit, retried on conflict.
//!
//! The order's own version is what makes a payment racing an expiry safe: both read version n,
//! both try to write n+1, one loses, re-reads, and finds the order no longer reserved.

use domain::access::Actor;
use domain::order::OrderChange;
use domain::ports::{Changeset, StoreError};
use domain::{
    Order, OrderId, ProductStock, Quantity, StockChange, StockError, Timestamp, TransitionError,
    Version,
};

use crate::retry::{RetryError, retry_on_conflict};
use crate::{Ports, RetryPolicy};

/// Why an order could not be settled.
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    /// No such order.
    #[error("order {0} not found")]
    NotFound(OrderId),
    /// The status machine refuses the transition.
    #[error(transparent)]
    Refused(TransitionError),
    /// Every attempt lost a race with a concurrent writer.
    #[error("the order kept changing; gave up after {attempts} attempts")]
    Contended {
        /// Attempts made.
        attempts: u32,
    },
    /// The order's lines and its products' stock disagree: a reservation the stock does not hold.
    #[error("order {order_id} and the stock disagree")]
    Inconsistent {
        /// The order.
        order_id: OrderId,
        /// What the stock refused.
        #[source]
        source: StockError,
    },
    /// The store failed.
    #[error("the store is unavailable")]
    Unavailable(#[source] StoreError),
}

/// The order transition of one use case.
pub(crate) type Transition =
    fn(&mut Order, Timestamp, Actor) -> Result<Option<OrderChange>, TransitionError>;
/// The stock movement that goes with it, applied to every line.
pub(crate) type StockMove = fn(&mut ProductStock, Quantity) -> Result<StockChange, StockError>;

/// Settles `order_id` on behalf of `by`: reads it, applies `transition`; when that changes something, applies
/// `stock_move` to each line's stock and commits both. Returns the order as stored afterwards.
pub(crate) async fn settle(
    ports: &Ports,
    retry: &RetryPolicy,
    order_id: OrderId,
    by: Actor,
    transition: Transition,
    stock_move: StockMove,
) -> Result<Order, SettleError> {
    let attempt = || async {
        let Some(mut order) = ports.orders.get(order_id).await? else {
            return Ok(Err(SettleError::NotFound(order_id)));
        };
        let read_version = order.version();
        let now = ports.clock.now();
        let change = match transition(&mut order, now, by) {
            Ok(Some(change)) => change,
            Ok(None) => return Ok(Ok(order)),
            Err(refused) => return Ok(Err(SettleError::Refused(refused))),
        };
        let ids: Vec<_> = order.lines().iter().map(|l| l.product_id).collect();
        let mut stocks = ports.stock.get_many(&ids).await?;
        let mut changes = Vec::with_capacity(ids.len());
        // Each line's units move at the locations that hold them.
        for line in order.lines() {
            for source in line.sources() {
                let stock = stocks
                    .iter_mut()
                    .find(|s| s.key() == (line.product_id, source.location_id))
                    .ok_or(StoreError::ProductNotFound(line.product_id))?;
                match stock_move(stock, source.quantity) {
                    Ok(change) => changes.push(change),
                    Err(source) => {
                        return disagreement(ports, order_id, read_version, source).await;
                    }
                }
            }
        }
        ports.unit_of_work.commit(Changeset::new(changes, Some(change), now)).await?;
        Ok(Ok(order))
    };
    match retry_on_conflict(retry, ports.clock.as_ref(), attempt).await {
        Ok(done) => done.value,
        Err(RetryError::Contended { attempts }) => Err(SettleError::Contended { attempts }),
        Err(RetryError::Store(err)) => Err(SettleError::Unavailable(err)),
    }
}

/// The stock does not hold what the order says it reserved. Usually the order and the stock
/// were read on either side of a concurrent settle's commit (this one read the order before,
/// the stock after): then the order's version has moved, and this is a lost race to retry.
/// Only when the order is unchanged do the two really disagree.
async fn disagreement(
    ports: &Ports,
    order_id: OrderId,
    read_version: Version,
    source: StockError,
) -> Result<Result<Order, SettleError>, StoreError> {
    match ports.orders.get(order_id).await? {
        Some(now) if now.version() == read_version => {
            Ok(Err(SettleError::Inconsistent { order_id, source }))
        }
        _ => Err(StoreError::OrderConflict(order_id)),
    }
}
