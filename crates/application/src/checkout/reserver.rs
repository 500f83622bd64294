//! The one place where stock is reserved, whether checkouts are batched or not: a checkout is
//! first *prepared* (cart validated and priced, no stock read), then *reserved* with others
//! against one read of their products' stock and committed in one transaction.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use domain::access::Actor;
use domain::limits::{PurchaseKey, PurchaseLimits, PurchaseTally, per_order_excess};
use domain::order::OrderChange;
use domain::ports::{Changeset, Effect, IdempotencyKey, KeyClaim, KeyEffect, StoreError};
use domain::{
    Cart, Customer, CustomerId, Order, OrderId, ProductId, ProductStock, StockChange, StockError,
    Timestamp,
};

use super::command::{CheckoutCommand, CheckoutConfig};
use super::outcome::{CheckedOut, CheckoutError};
use crate::Ports;
use crate::cart::cart_of;
use crate::retry::{Retried, RetryError, retry_on_conflict};

/// A checkout that passed every check that needs no stock: its cart, its priced order, the
/// idempotency claim it runs under and the moment its caller stops waiting, if any.
pub(super) struct Pending {
    cart: Cart,
    order: Order,
    /// Whether the caller vouches for the customers it names (see
    /// [`CheckoutCommand::asserts_customer`]).
    asserts_customer: bool,
    at: Timestamp,
    claim: Option<KeyClaim>,
    deadline: Option<Instant>,
}

impl Pending {
    /// Which of `lanes` lanes this checkout queues on: its cart's first product's, so that the
    /// buyers of one product always meet in one lane.
    pub(super) fn lane(&self, lanes: usize) -> usize {
        let first = self.cart.product_ids().next().map_or(0, |id| id.as_uuid().as_u128());
        usize::try_from(first % lanes.max(1) as u128).unwrap_or(0)
    }

    /// Whether the caller has stopped waiting by `now`: then this checkout must not commit.
    pub(super) fn overdue(&self, now: Instant) -> bool {
        self.deadline.is_some_and(|deadline| deadline <= now)
    }

    /// The order's customer, if asserted: whose purchase counters it moves.
    fn customer(&self) -> Option<&CustomerId> {
        match &self.order.record().customer {
            Some(Customer { id, asserted: true }) => Some(id),
            _ => None,
        }
    }

    /// Whether this checkout's idempotency claim is among the `lost` ones.
    fn claims_any(&self, lost: &[IdempotencyKey]) -> bool {
        self.claim.as_ref().is_some_and(|claim| lost.contains(claim.key()))
    }

    /// What committing this checkout writes, given its reserved stock `changes` and the
    /// per-customer `limits` they were decided within: the stock, the new order (and the
    /// purchase counters it moves, guarded by those limits), and under a key, the key's effect.
    fn changeset(&self, changes: &[StockChange], limits: &Limits) -> Changeset {
        let order = OrderChange::Created(self.order.clone());
        let within = (self.cart.product_ids())
            .filter_map(|id| Some((id, limits.get(&id)?.per_customer?)))
            .collect();
        let mut changeset = Changeset::new(changes.to_vec(), Some(order), self.at).within(within);
        if let Some(deadline) = self.deadline {
            changeset = changeset.with_deadline(deadline);
        }
        match &self.claim {
            Some(claim) => changeset.with_key(KeyEffect {
                claim: claim.clone(),
                effect: Effect::OrderPlaced(self.order.id()),
            }),
            None => changeset,
        }
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

    /// Validates and prices the cart; no stock (nor limit) is read yet.
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
        let customer =
            (command.customer_id).map(|id| Customer { id, asserted: command.asserts_customer });
        let order = Order::place(
            self.ports.ids.order_id(),
            &cart,
            |id| prices.get(&id).copied(),
            customer,
            at,
            self.config.reservation_ttl,
            command.actor,
        )
        .map_err(CheckoutError::Unpriceable)?;
        Ok(Pending {
            cart,
            order,
            asserts_customer: command.asserts_customer,
            at,
            claim: command.idempotency,
            deadline: command.deadline,
        })
    }

    /// Reserves `batch` in arrival order against one read of its products' stock, and commits
    /// every cart that fits, with its order, in one transaction. Each checkout gets its own
    /// answer, in `batch`'s order: a cart that no longer fits is refused while the others
    /// succeed. A lost race re-reads and decides the whole batch again. So does a commit that
    /// could not be made for some of its buyers, without them: those whose idempotency claims
    /// were taken over are told their key is in use (the request that took it over answers for
    /// it), those past their deadline that they timed out.
    pub(super) async fn reserve(
        &self,
        batch: Vec<Pending>,
    ) -> Vec<Result<CheckedOut, CheckoutError>> {
        // Buyers left out of the batch, by index, with their answers.
        let mut left_out: HashMap<usize, CheckoutError> = HashMap::new();
        let outcome = loop {
            let live: Vec<&Pending> = (batch.iter().enumerate())
                .filter(|(i, _)| !left_out.contains_key(i))
                .map(|(_, pending)| pending)
                .collect();
            if live.is_empty() {
                break Ok(Retried { value: (Vec::new(), 0), attempts: 0 });
            }
            let before = left_out.len();
            match self.reserve_live(&live).await {
                Err(RetryError::Store(StoreError::ClaimsLost(keys))) => {
                    leave_out(
                        &batch,
                        &mut left_out,
                        |p| p.claims_any(&keys),
                        || CheckoutError::IdempotencyClaimLost,
                    );
                }
                Err(RetryError::Store(StoreError::Overdue(orders))) => {
                    leave_out(
                        &batch,
                        &mut left_out,
                        |p| orders.contains(&p.order.id()),
                        || CheckoutError::TimedOut,
                    );
                }
                outcome => break outcome,
            }
            // Each round leaves out at least one more buyer, so this ends; a store naming no
            // buyer of this batch would otherwise loop.
            if left_out.len() == before {
                let err = StoreError::unavailable("the store refused buyers outside the batch");
                break Err(RetryError::Store(err));
            }
        };
        let (live, gone): (Vec<_>, Vec<_>) =
            batch.into_iter().enumerate().partition(|(i, _)| !left_out.contains_key(i));
        let mut answers: Vec<_> =
            (gone.into_iter()).filter_map(|(i, _)| Some((i, Err(left_out.remove(&i)?)))).collect();
        answers.extend(self.answers(live, outcome));
        answers.sort_by_key(|(i, _)| *i);
        answers.into_iter().map(|(_, answer)| answer).collect()
    }

    /// One round of [`Reserver::reserve`] over the buyers still in it: read, reserve, commit,
    /// retried on lost races. Returns each buyer's verdict and how many orders were committed.
    async fn reserve_live(&self, live: &[&Pending]) -> Result<Retried<Verdicts>, RetryError> {
        let ids: Vec<ProductId> = live
            .iter()
            .flat_map(|p| p.cart.product_ids())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let attempt = || async {
            // A buyer who has stopped waiting is not read for, let alone committed: the
            // store would refuse its changeset at the commit anyway (see `changeset`).
            let now = Instant::now();
            let overdue: Vec<OrderId> =
                live.iter().filter(|p| p.overdue(now)).map(|p| p.order.id()).collect();
            if !overdue.is_empty() {
                return Err(StoreError::Overdue(overdue));
            }
            let read = self.ports.stock.get_many_for_sale(&ids).await?;
            let limits: Limits = read.iter().map(|(s, limits)| (s.product_id(), *limits)).collect();
            let mut stocks: HashMap<ProductId, ProductStock> =
                read.into_iter().map(|(stock, _)| (stock.product_id(), stock)).collect();
            let mut tally = self.tally(live, &limits).await?;
            let verdicts: Vec<_> = (live.iter())
                .map(|pending| reserve(&mut stocks, &mut tally, &limits, pending))
                .collect();
            let changesets: Vec<_> = live
                .iter()
                .zip(&verdicts)
                .filter_map(|(pending, verdict)| {
                    Some(pending.changeset(verdict.as_ref().ok()?, &limits))
                })
                .collect();
            let committed = changesets.len();
            if committed > 0 {
                self.ports.unit_of_work.commit_all(changesets).await?;
            }
            Ok((verdicts, committed))
        };
        retry_on_conflict(&self.config.retry, self.ports.clock.as_ref(), attempt).await
    }

    /// What the asserted customers of `live` hold of the products in their carts that have a
    /// per-customer limit, as stored now. A batch without such products reads nothing.
    async fn tally(&self, live: &[&Pending], limits: &Limits) -> Result<PurchaseTally, StoreError> {
        let limited = |id: &ProductId| limits.get(id).is_some_and(|l| l.per_customer.is_some());
        let keys: Vec<PurchaseKey> = (live.iter())
            .filter_map(|p| Some((p.customer()?, &p.cart)))
            .flat_map(|(customer, cart)| {
                cart.product_ids()
                    .filter(limited)
                    .map(|product_id| PurchaseKey { customer_id: customer.clone(), product_id })
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if keys.is_empty() {
            return Ok(PurchaseTally::default());
        }
        Ok(PurchaseTally::new(self.ports.purchases.get_many(&keys).await?))
    }

    /// Each of `live`'s buyers' answer from the round's `outcome`, with its index in the batch.
    fn answers(
        &self,
        live: Vec<(usize, Pending)>,
        outcome: Result<Retried<Verdicts>, RetryError>,
    ) -> Vec<(usize, Result<CheckedOut, CheckoutError>)> {
        match outcome {
            Ok(done) => {
                let (verdicts, committed) = done.value;
                live.into_iter()
                    .zip(verdicts)
                    .map(|((i, pending), verdict)| {
                        let answer = verdict.map(|_| CheckedOut {
                            order: pending.order,
                            attempts: done.attempts,
                            batch_orders: committed,
                        });
                        (i, answer)
                    })
                    .collect()
            }
            Err(RetryError::Contended { attempts }) => live
                .into_iter()
                .map(|(i, _)| (i, Err(CheckoutError::Contended { attempts })))
                .collect(),
            Err(RetryError::Store(err)) => {
                tracing::error!(error = %err, orders = live.len(), "a checkout commit failed");
                let err = Arc::new(err);
                live.into_iter()
                    .map(|(i, pending)| (i, Err(store_failure(&err, &pending.cart))))
                    .collect()
            }
        }
    }
}

/// Adds to `left_out` each buyer of `batch` not already in it that `matches`, answered with
/// `answer`.
fn leave_out(
    batch: &[Pending],
    left_out: &mut HashMap<usize, CheckoutError>,
    matches: impl Fn(&Pending) -> bool,
    answer: impl Fn() -> CheckoutError,
) {
    for (i, pending) in batch.iter().enumerate() {
        if matches(pending) {
            left_out.entry(i).or_insert_with(&answer);
        }
    }
}

/// Each buyer's reservation (or why its cart was refused), and how many orders were committed.
type Verdicts = (Vec<Result<Vec<StockChange>, CheckoutError>>, usize);

/// Each product's purchase limits, as read with its stock.
type Limits = HashMap<ProductId, PurchaseLimits>;

/// Reserves `pending`'s cart out of `stocks` within its limits, counting what its customer
/// holds in `tally`, or nothing. Limits come first: a cart over one is refused before its
/// stock is looked at, and only a cart that gets its stock counts against them. A cart with a
/// per-customer limit needs a customer its caller vouches for; otherwise the limit could be
/// dodged by naming another.
fn reserve(
    stocks: &mut HashMap<ProductId, ProductStock>,
    tally: &mut PurchaseTally,
    limits: &Limits,
    pending: &Pending,
) -> Result<Vec<StockChange>, CheckoutError> {
    let cart = &pending.cart;
    let excess = per_order_excess(cart, |id| limits.get(&id).copied());
    if !excess.is_empty() {
        return Err(CheckoutError::LimitExceeded(excess));
    }
    let limit_of = |id| limits.get(&id)?.per_customer;
    let limited = cart.product_ids().find(|id| limit_of(*id).is_some());
    let customer = match (limited, pending.customer()) {
        (None, _) => None,
        (Some(_), Some(customer)) => Some(customer),
        (Some(product_id), None) => {
            let may_assert = pending.asserts_customer;
            let anonymous = pending.order.record().placed_by == Some(Actor::Anonymous);
            return Err(CheckoutError::CustomerNotAsserted { product_id, may_assert, anonymous });
        }
    };
    if let Some(customer) = customer {
        tally.check(customer, cart, limit_of).map_err(CheckoutError::LimitExceeded)?;
    }
    let changes = reserve_cart(stocks, cart)?;
    if let Some(customer) = customer {
        tally.take(customer, cart, limit_of).map_err(CheckoutError::LimitExceeded)?;
    }
    Ok(changes)
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
