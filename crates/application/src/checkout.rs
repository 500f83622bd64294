//! Checkout: reserve every unit of a cart and create the order that awaits payment, or refuse
//! the whole cart. This is where "never oversell" is decided.
//!
//! Path: validate the cart (merging lines per product) → price it → read every product's stock
//! with its version → reserve in the domain, collecting *every* shortage → commit the stock
//! changes and the order in one versioned write. When a concurrent checkout wrote one of the
//! stocks first, the commit conflicts, nothing is written, and the attempt starts over from a
//! fresh read, a bounded number of times.
//!
//! With group commit ([`Checkout::batched`]) the same path runs for several carts at once:
//! checkouts that arrive while a commit is in flight queue up, and the next commit reserves for
//! all of them in arrival order against one read, writing each product's row once for the
//! whole batch (see [`crate::group_commit`]).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::TimeDelta;
use domain::order::OrderChange;
use domain::ports::{BoxError, Changeset, StoreError};
use domain::{
    Cart, CartError, CustomerId, Order, OrderError, ProductId, ProductStock, Shortage, StockChange,
    StockError, Timestamp,
};

use crate::cart::cart_of;
use crate::group_commit::Lanes;
pub use crate::group_commit::{BatchWorker, Batching};
use crate::retry::{RetryError, retry_on_conflict};
use crate::{CartLine, Ports, RetryPolicy};

/// Check out a cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutCommand {
    /// The cart's lines; lines of the same product are summed.
    pub lines: Vec<CartLine>,
    /// The customer, when known.
    pub customer_id: Option<CustomerId>,
}

/// A successful checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedOut {
    /// The new order, `reserved` until paid, cancelled or expired.
    pub order: Order,
    /// Attempts it took (1 without contention); the HTTP layer counts retries from it.
    pub attempts: u32,
    /// Orders committed in the same transaction, this one included (1 without group commit).
    pub batch_orders: usize,
}

/// Why a checkout was refused.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// The cart is empty, too large, or asks too much of one product.
    #[error(transparent)]
    InvalidCart(#[from] CartError),
    /// Some products do not exist; all of them are listed, in id order.
    #[error("unknown products: {0:?}")]
    UnknownProducts(Vec<ProductId>),
    /// The cart cannot be priced (products in different currencies, or an absurd total).
    #[error("the cart cannot be priced")]
    Unpriceable(#[source] OrderError),
    /// Some products are short; every short product is listed, in id order. Nothing was
    /// reserved.
    #[error("{} products are short", .0.len())]
    InsufficientStock(Vec<Shortage>),
    /// Concurrent checkouts kept winning the race for the same stock.
    #[error("the stock kept changing; gave up after {attempts} attempts")]
    Contended {
        /// Attempts made.
        attempts: u32,
    },
    /// The store failed. Not retried.
    #[error("the checkout could not be recorded")]
    Unavailable(#[source] BoxError),
}

/// Settings of the checkout use case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckoutConfig {
    /// How long a reservation waits for payment before it expires.
    pub reservation_ttl: TimeDelta,
    /// How lost races are retried.
    pub retry: RetryPolicy,
}

impl Default for CheckoutConfig {
    /// 15 minutes to pay, the default retry policy.
    fn default() -> Self {
        Self { reservation_ttl: TimeDelta::minutes(15), retry: RetryPolicy::default() }
    }
}

/// The checkout use case.
pub struct Checkout {
    core: Arc<Reserver>,
    /// Group commit's queues, when checkouts are batched; `None` commits each on its own.
    lanes: Option<Lanes>,
}

impl Checkout {
    /// The use case over `ports`, committing every checkout in its own transaction.
    #[must_use]
    pub fn new(ports: Ports, config: CheckoutConfig) -> Self {
        Self { core: Arc::new(Reserver { ports, config }), lanes: None }
    }

    /// The use case over `ports` with group commit: concurrent checkouts are reserved and
    /// committed together, up to `batching.max_orders` per transaction. The returned workers
    /// do that work; the caller runs each of them on its executor (they end when the
    /// `Checkout` is dropped, after answering what was queued).
    #[must_use]
    pub fn batched(
        ports: Ports,
        config: CheckoutConfig,
        batching: Batching,
    ) -> (Self, Vec<BatchWorker>) {
        let core = Arc::new(Reserver { ports, config });
        let (lanes, workers) = Lanes::start(&core, batching);
        (Self { core, lanes: Some(lanes) }, workers)
    }

    /// Reserves the whole cart and creates its order, or reserves nothing.
    ///
    /// # Errors
    /// See [`CheckoutError`]; `InsufficientStock` is an answer, not a failure.
    #[tracing::instrument(skip_all, fields(lines = command.lines.len()))]
    pub async fn execute(&self, command: CheckoutCommand) -> Result<CheckedOut, CheckoutError> {
        let pending = self.core.prepare(command).await?;
        match &self.lanes {
            Some(lanes) => lanes.submit(pending).await,
            None => self.core.reserve(vec![pending]).await.pop().unwrap_or_else(|| {
                Err(CheckoutError::Unavailable("a checkout went unanswered".into()))
            }),
        }
    }
}

/// A checkout that passed every check that needs no stock: its cart, and its priced order.
pub(crate) struct Pending {
    cart: Cart,
    order: Order,
    at: Timestamp,
}

impl Pending {
    /// Which of `lanes` lanes this checkout queues on: its cart's first product's, so that the
    /// buyers of one product always meet in one lane.
    pub(crate) fn lane(&self, lanes: usize) -> usize {
        let first = self.cart.product_ids().next().map_or(0, |id| id.as_uuid().as_u128());
        usize::try_from(first % lanes.max(1) as u128).unwrap_or(0)
    }
}

/// What checkouts share, whether batched or not: the ports, the settings, and the one place
/// where stock is reserved.
pub(crate) struct Reserver {
    ports: Ports,
    config: CheckoutConfig,
}

impl Reserver {
    /// Validates and prices the cart; no stock is read yet.
    async fn prepare(&self, command: CheckoutCommand) -> Result<Pending, CheckoutError> {
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
    pub(crate) async fn reserve(
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

#[cfg(test)]
mod tests;
