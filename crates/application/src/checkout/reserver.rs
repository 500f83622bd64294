//! The one place where stock is reserved, whether checkouts are batched or not: a checkout is
//! first *prepared* (cart validated, nothing read but the locations it names), then priced and
//! *reserved* with others against one read of their products' stock and prices, and committed
//! in one transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use chrono::TimeDelta;
use domain::access::Actor;
use domain::allocation::{Candidate, LineAllocation, Policy, allocate_with_backorders};
use domain::backorder::{BackorderLimit, BackorderRoom};
use domain::limits::{PurchaseKey, PurchaseLimits, PurchaseTally, per_order_excess};
use domain::order::OrderChange;
use domain::ports::{
    Changeset, Effect, IdempotencyKey, KeyClaim, KeyEffect, StockForSale, StoreError,
};
use domain::{
    Cart, Customer, CustomerId, LocationId, Money, Order, OrderId, ProductId, ProductStock,
    StockChange, Timestamp,
};

use super::command::{CheckoutCommand, CheckoutConfig};
use super::outcome::{CheckedOut, CheckoutError};
use crate::Ports;
use crate::cart::cart_of;
use crate::retry::{Retried, RetryError, retry_on_conflict};

/// A checkout that passed every check that needs no stock: its cart, what its order will be
/// placed with, the idempotency claim it runs under and the moment its caller stops waiting,
/// if any.
pub(super) struct Pending {
    cart: Cart,
    /// The id its order gets.
    order_id: OrderId,
    /// The customer it names, if any, and whether its caller vouches for them.
    customer: Option<Customer>,
    /// Who placed it.
    actor: Actor,
    /// How its lines are spread over locations.
    policy: Policy,
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
        match &self.customer {
            Some(Customer { id, asserted: true }) => Some(id),
            _ => None,
        }
    }

    /// Its order, priced by `price_of` (what its batch read) and due `lifetime` after it was
    /// placed; not yet allocated to locations.
    fn place(
        &self,
        price_of: impl Fn(ProductId) -> Option<Money>,
        lifetime: TimeDelta,
    ) -> Result<Order, CheckoutError> {
        let customer = self.customer.clone();
        Order::place(self.order_id, &self.cart, price_of, customer, self.at, lifetime, self.actor)
            .map_err(CheckoutError::Unpriceable)
    }

    /// Whether this checkout's idempotency claim is among the `lost` ones.
    fn claims_any(&self, lost: &[IdempotencyKey]) -> bool {
        self.claim.as_ref().is_some_and(|claim| lost.contains(claim.key()))
    }

    /// What committing this checkout writes, given its `reserved` stock and allocated order
    /// and the per-customer `limits` and `backorder_limits` they were decided within: the
    /// stock, the new order (and the purchase and backorder counters it moves, guarded by those
    /// limits), and under a key, the key's effect.
    fn changeset(
        &self,
        reserved: &Reserved,
        limits: &Limits,
        backorder_limits: &BackorderLimits,
    ) -> Changeset {
        let (changes, order) = reserved;
        let owing = (order.lines().iter())
            .filter(|line| line.backordered > 0)
            .filter_map(|line| Some((line.product_id, *backorder_limits.get(&line.product_id)?)))
            .collect();
        let order = OrderChange::Created(order.clone());
        let within = (self.cart.product_ids())
            .filter_map(|id| Some((id, limits.get(&id)?.per_customer?)))
            .collect();
        let mut changeset = Changeset::new(changes.clone(), Some(order), self.at)
            .within(within)
            .owing_within(owing);
        if let Some(deadline) = self.deadline {
            changeset = changeset.with_deadline(deadline);
        }
        match &self.claim {
            Some(claim) => changeset.with_key(KeyEffect {
                claim: claim.clone(),
                effect: Effect::OrderPlaced(self.order_id),
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

    /// Validates the cart and the locations it names; neither its products nor their stock
    /// are read yet. A cart is priced in its batch, from the read its stock is decided on (the
    /// stock row of a product at an active location is what makes it for sale): one read for
    /// the whole batch instead of one more per checkout.
    pub(super) async fn prepare(&self, command: CheckoutCommand) -> Result<Pending, CheckoutError> {
        let cart = cart_of(&command.lines)?;
        let policy = self.policy(command.location_ids).await?;
        let customer =
            (command.customer_id).map(|id| Customer { id, asserted: command.asserts_customer });
        Ok(Pending {
            cart,
            order_id: self.ports.ids.order_id(),
            customer,
            actor: command.actor,
            policy,
            asserts_customer: command.asserts_customer,
            at: self.ports.clock.now(),
            claim: command.idempotency,
            deadline: command.deadline,
        })
    }

    /// The allocation policy of a checkout naming `location_ids`: every active location by
    /// priority when it names none, else those, in its order. Naming a location that does not
    /// exist is the caller's mistake, told as such rather than as a shortage.
    async fn policy(&self, location_ids: Vec<LocationId>) -> Result<Policy, CheckoutError> {
        if location_ids.is_empty() {
            return Ok(Policy::ByPriority);
        }
        let known = (self.ports.locations.list().await)
            .map_err(|e| CheckoutError::Unavailable(e.into()))?;
        let unknown: Vec<_> = (location_ids.iter())
            .filter(|id| !known.iter().any(|l| l.id() == **id))
            .copied()
            .collect();
        if !unknown.is_empty() {
            return Err(CheckoutError::UnknownLocations(unknown));
        }
        Ok(Policy::Preference(location_ids))
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
                        |p| orders.contains(&p.order_id),
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
                live.iter().filter(|p| p.overdue(now)).map(|p| p.order_id).collect();
            if !overdue.is_empty() {
                return Err(StoreError::Overdue(overdue));
            }
            let read = self.ports.stock.get_many_for_sale(&ids).await?;
            let limits: Limits =
                read.iter().map(|row| (row.stock.product_id(), row.limits)).collect();
            let backorder_limits: BackorderLimits = (read.iter())
                .filter_map(|row| Some((row.stock.product_id(), row.backorder_limit?)))
                .collect();
            let room = self.backorder_room(&backorder_limits).await?;
            let mut shelves = Shelves::new(read, room);
            let mut tally = self.tally(live, &limits).await?;
            let lifetime = self.config.reservation_ttl;
            let verdicts: Vec<_> = (live.iter())
                .map(|pending| reserve(&mut shelves, &mut tally, &limits, pending, lifetime))
                .collect();
            let changesets: Vec<_> = live
                .iter()
                .zip(&verdicts)
                .filter_map(|(pending, verdict)| {
                    Some(pending.changeset(verdict.as_ref().ok()?, &limits, &backorder_limits))
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

    /// How many more units each product of `limits` (those that take backorders) may owe, as
    /// stored now. A batch without such products reads nothing: the stock rows carry each
    /// product's backorder limit, so the counters are read only where they matter.
    async fn backorder_room(&self, limits: &BackorderLimits) -> Result<BackorderRoom, StoreError> {
        if limits.is_empty() {
            return Ok(BackorderRoom::default());
        }
        let ids: Vec<ProductId> = limits.keys().copied().collect();
        let owed: HashMap<ProductId, i64> =
            self.ports.stock.backordered(&ids).await?.into_iter().collect();
        Ok(BackorderRoom::new(
            limits.iter().map(|(id, limit)| (*id, *limit, owed.get(id).copied().unwrap_or(0))),
        ))
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
                    .map(|((i, _), verdict)| {
                        let answer = verdict.map(|(_, order)| CheckedOut {
                            order,
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

/// One buyer's reserved stock and its order, allocated to the locations that hold it.
type Reserved = (Vec<StockChange>, Order);

/// Each buyer's reservation (or why its cart was refused), and how many orders were committed.
type Verdicts = (Vec<Result<Reserved, CheckoutError>>, usize);

/// Each product's purchase limits, as read with its stock.
type Limits = HashMap<ProductId, PurchaseLimits>;

/// The backorder limit of each product that takes backorders, as read with its stock.
type BackorderLimits = BTreeMap<ProductId, BackorderLimit>;

/// Prices `pending`'s order from `shelves` (due `lifetime` after it was placed) and reserves
/// its cart out of them within its limits, counting what its customer holds in `tally`, or
/// nothing. A cart naming a product not for sale is refused first, with every such product;
/// then limits: a cart over one is refused before its stock is looked at, and only a cart that
/// gets its stock counts against them. A cart with a per-customer limit needs a customer its
/// caller vouches for; otherwise the limit could be dodged by naming another.
fn reserve(
    shelves: &mut Shelves,
    tally: &mut PurchaseTally,
    limits: &Limits,
    pending: &Pending,
    lifetime: TimeDelta,
) -> Result<Reserved, CheckoutError> {
    let cart = &pending.cart;
    let unknown: Vec<_> = cart.product_ids().filter(|id| !shelves.sells(*id)).collect();
    if !unknown.is_empty() {
        return Err(CheckoutError::UnknownProducts(unknown));
    }
    let order = pending.place(|id| shelves.price(id), lifetime)?;
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
            let anonymous = pending.actor == Actor::Anonymous;
            return Err(CheckoutError::CustomerNotAsserted { product_id, may_assert, anonymous });
        }
    };
    if let Some(customer) = customer {
        tally.check(customer, cart, limit_of).map_err(CheckoutError::LimitExceeded)?;
    }
    let (changes, lines) = shelves.reserve(cart, &pending.policy)?;
    if let Some(customer) = customer {
        tally.take(customer, cart, limit_of).map_err(CheckoutError::LimitExceeded)?;
    }
    let order = order.allocated(lines).map_err(|e| CheckoutError::Unavailable(e.into()))?;
    Ok((changes, order))
}

/// The stock rows a batch was read against, moved by each cart reserved so far, the prices
/// read with them, and the room each product has left for backorders: the next cart of a batch
/// sees what the earlier ones left.
struct Shelves {
    rows: HashMap<(ProductId, LocationId), ProductStock>,
    /// Each product's locations (active ones with a row), with their priorities.
    locations: BTreeMap<ProductId, Vec<(LocationId, i32)>>,
    prices: HashMap<ProductId, Money>,
    room: BackorderRoom,
}

impl Shelves {
    fn new(read: Vec<StockForSale>, room: BackorderRoom) -> Self {
        let mut locations: BTreeMap<ProductId, Vec<(LocationId, i32)>> = BTreeMap::new();
        let mut rows = HashMap::with_capacity(read.len());
        let mut prices = HashMap::with_capacity(read.len());
        for StockForSale { stock, priority, price, .. } in read {
            locations.entry(stock.product_id()).or_default().push((stock.location_id(), priority));
            prices.insert(stock.product_id(), price);
            rows.insert(stock.key(), stock);
        }
        Self { rows, locations, prices, room }
    }

    /// Whether `product_id` is for sale: it has a stock row at an active location.
    fn sells(&self, product_id: ProductId) -> bool {
        self.locations.contains_key(&product_id)
    }

    /// The price `product_id` was read at.
    fn price(&self, product_id: ProductId) -> Option<Money> {
        self.prices.get(&product_id).copied()
    }

    /// What each location of `product_id` has for sale now.
    fn offers(&self, product_id: ProductId) -> Vec<Candidate> {
        let Some(locations) = self.locations.get(&product_id) else { return Vec::new() };
        (locations.iter())
            .filter_map(|&(location_id, priority)| {
                let available = self.rows.get(&(product_id, location_id))?.available();
                Some(Candidate { location_id, priority, available })
            })
            .collect()
    }

    /// Allocates `cart` by `policy` and reserves every allocation, or nothing: the rows only
    /// move when the whole cart fits (a product that takes backorders owes what its rows
    /// lack, within its room). Returns the stock changes and the allocations.
    fn reserve(
        &mut self,
        cart: &Cart,
        policy: &Policy,
    ) -> Result<(Vec<StockChange>, Vec<LineAllocation>), CheckoutError> {
        let lines =
            allocate_with_backorders(cart, policy, |id| self.offers(id), |id| self.room.of(id))
                .map_err(CheckoutError::InsufficientStock)?;
        let mut moved = Vec::with_capacity(lines.len());
        for line in &lines {
            for allocation in &line.allocations {
                let key = (line.product_id, allocation.location_id);
                let mut row = *self.rows.get(&key).ok_or_else(|| {
                    CheckoutError::Unavailable("an allocation without its row".into())
                })?;
                // The allocation took no more than the row had for sale: this cannot fail.
                let change = (row.reserve(allocation.quantity))
                    .map_err(|e| CheckoutError::Unavailable(e.into()))?;
                moved.push((row, change));
            }
        }
        for line in &lines {
            self.room.take(line.product_id, line.backordered);
        }
        let changes = (moved.into_iter())
            .map(|(row, change)| {
                self.rows.insert(row.key(), row);
                change
            })
            .collect();
        Ok((changes, lines))
    }
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
