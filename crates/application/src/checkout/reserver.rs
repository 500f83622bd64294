//! The one place where stock is reserved, whether checkouts are batched or not: a checkout is
//! first *prepared* (cart validated and priced, no stock read), then *reserved* with others
//! against one read of their products' stock and committed in one transaction.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use domain::order::OrderChange;
use domain::ports::{Changeset, StoreError};
use domain::{Cart, Order, ProductId, ProductStock, StockChange, StockError, Timestamp};

use super::command::{CheckoutCommand, CheckoutConfig};
use super::outcome::{CheckedOut, CheckoutError};
use crate::Ports;
use crate::cart::cart_of;
use crate::retry::{RetryError, retry_on_conflict};

/// A checkout that passed every check that needs no stock: its cart, and its priced order.
pub(super) struct Pending {
    cart: Cart,
    order: Order,
    at: Timestamp,
}

impl Pending {
    /// Which of `lanes` lanes this checkout queues on: its cart's first product's, so that the
    /// buyers of one product always meet in one lane.
    pub(super) fn lane(&self, lanes: usize) -> usize {
        let first = self.cart.product_ids().next().map_or(0, |id| id.as_uuid().as_u128());
        usize::try_from(first % lanes.max(1) as u128).unwrap_or(0)
    }
}

/// What checkouts share, whether batched or not: the ports, the settings, and the one place
/// where stock is reserved.
pub(super) struct Reserver {
    ports: Ports,
    config: CheckoutConfig,
}

impl Reserver {
    pub(super) fn new(ports: Ports, config: CheckoutConfig) -> Self {
        Self { ports, config }
    }

    /// Validates and prices the cart; no stock is read yet.
    pub(super) async fn prepare(&self, command: CheckoutCommand) -> Result<Pending, CheckoutError> {
        let cart = cart_of(&command.lines)?;
        let ids: Vec<ProductId> = cart.product_ids().collect();
        let prices: HashMap<_, _> = (self.ports.products.get_many(&ids).await)
            .map_err(|e| CheckoutError::Unavailable(e.into()))?
            .into_iter()
            .map(|p| (p.id, p.price))
            .collect();
        let unknown: Vec<_> = ids.iter().copied().filter(|id| !prices.contains_key(id)).collect();
        if !unknown.is_empty() {
            return Err(CheckoutError::UnknownProducts(unknown));
        }
        let at = self.ports.clock.now();
        let order = Order::place(
            self.ports.ids.order_id(),
            &cart,
            |id| prices.get(&id).copied(),
            command.customer_id,
            at,
            self.config.reservation_ttl,
        )
        .map_err(CheckoutError::Unpriceable)?;
        Ok(Pending { cart, order, at })
    }

    /// Reserves `batch` in arrival order against one read of its products' stock, and commits
    /// every cart that fits, with its order, in one transaction. Each checkout gets its own
    /// answer, in `batch`'s order: a cart that no longer fits is refused while the others
    /// succeed. A lost race re-reads and decides the whole batch again.
    pub(super) async fn reserve(
        &self,
        batch: Vec<Pending>,
    ) -> Vec<Result<CheckedOut, CheckoutError>> {
        let ids: Vec<ProductId> = batch
            .iter()
            .flat_map(|p| p.cart.product_ids())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let attempt = || async {
            let mut stocks: HashMap<ProductId, ProductStock> =
                (self.ports.stock.get_many(&ids).await?)
                    .into_iter()
                    .map(|stock| (stock.product_id(), stock))
                    .collect();
            let verdicts: Vec<_> =
                batch.iter().map(|pending| reserve_cart(&mut stocks, &pending.cart)).collect();
            let changesets: Vec<_> = batch
                .iter()
                .zip(&verdicts)
                .filter_map(|(pending, verdict)| {
                    let changes = verdict.as_ref().ok()?;
                    let order = OrderChange::Created(pending.order.clone());
                    Some(Changeset::new(changes.clone(), Some(order), pending.at))
                })
                .collect();
            let committed = changesets.len();
            if committed > 0 {
                self.ports.unit_of_work.commit_all(changesets).await?;
            }
            Ok((verdicts, committed))
        };
        let outcome =
            retry_on_conflict(&self.config.retry, self.ports.clock.as_ref(), attempt).await;
        match outcome {
            Ok(done) => {
                let (verdicts, committed) = done.value;
                batch
                    .into_iter()
                    .zip(verdicts)
                    .map(|(pending, verdict)| {
                        verdict.map(|_| CheckedOut {
                            order: pending.order,
                            attempts: done.attempts,
                            batch_orders: committed,
                        })
                    })
                    .collect()
            }
            Err(RetryError::Contended { attempts }) => {
                batch.iter().map(|_| Err(CheckoutError::Contended { attempts })).collect()
            }
            Err(RetryError::Store(err)) => {
                tracing::error!(error = %err, orders = batch.len(), "a checkout commit failed");
                let err = Arc::new(err);
                batch.iter().map(|pending| Err(store_failure(&err, &pending.cart))).collect()
            }
        }
    }
}

/// Reserves every line of `cart` out of `stocks`, or none of them: `stocks` only moves when the
/// whole cart fits, so the next cart of a batch sees what this one left.
fn reserve_cart(
    stocks: &mut HashMap<ProductId, ProductStock>,
    cart: &Cart,
) -> Result<Vec<StockChange>, CheckoutError> {
    let mut reserved = Vec::with_capacity(cart.lines().len());
    let mut shortages = Vec::new();
    for (product_id, quantity) in cart.lines() {
        let mut stock = *stocks
            .get(&product_id)
            .ok_or_else(|| CheckoutError::UnknownProducts(vec![product_id]))?;
        match stock.reserve(quantity) {
            Ok(change) => reserved.push((stock, change)),
            Err(StockError::Insufficient(shortage)) => shortages.push(shortage),
            Err(other) => return Err(CheckoutError::Unavailable(other.into())),
        }
    }
    if !shortages.is_empty() {
        return Err(CheckoutError::InsufficientStock(shortages));
    }
    Ok(reserved
        .into_iter()
        .map(|(stock, change)| {
            stocks.insert(stock.product_id(), stock);
            change
        })
        .collect())
}

/// One buyer's share of a failed commit: a vanished product is that product's buyers' own
/// error; anything else is the store's, shared by the whole batch.
fn store_failure(err: &Arc<StoreError>, cart: &Cart) -> CheckoutError {
    match **err {
        StoreError::ProductNotFound(id) if cart.product_ids().any(|p| p == id) => {
            CheckoutError::UnknownProducts(vec![id])
        }
        _ => CheckoutError::Unavailable(Box::new(SharedError(Arc::clone(err)))),
    }
}

/// A store failure reported to every checkout of the batch it broke.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct SharedError(Arc<StoreError>);
