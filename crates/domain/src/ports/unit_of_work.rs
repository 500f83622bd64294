//! [`UnitOfWork`]: the all-or-nothing write of a checkout, payment, cancellation or expiry.

use std::collections::BTreeMap;
use std::time::Instant;

use async_trait::async_trait;

use super::{KeyEffect, StoreError};
use crate::access::Actor;
use crate::backorder::{BackorderDelta, BackorderLimit};
use crate::limits::{PurchaseDelta, PurchaseLimit};
use crate::order::OrderChange;
use crate::{OrderId, ProductId, StockChange, StockKey, Timestamp};

/// Stock changes, the order change that caused them, and (implicitly) one ledger entry per
/// stock change: what one business step writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changeset {
    /// Sorted by (product, location): stores lock rows in this order, which keeps concurrent
    /// commits from deadlocking each other.
    stock: Vec<StockChange>,
    order: Option<OrderChange>,
    /// The limits the purchase counters' additions are guarded by, per product.
    limits: Vec<(ProductId, PurchaseLimit)>,
    /// The limits the backorder counters' additions are guarded by, per product.
    backorder_limits: Vec<(ProductId, BackorderLimit)>,
    reason: Option<String>,
    actor: Option<Actor>,
    key: Option<KeyEffect>,
    deadline: Option<Instant>,
    at: Timestamp,
}

impl Changeset {
    /// A changeset committed at `at`. Stock changes are put in (product, location) order.
    #[must_use]
    pub fn new(mut stock: Vec<StockChange>, order: Option<OrderChange>, at: Timestamp) -> Self {
        stock.sort_by_key(StockChange::key);
        Self {
            stock,
            order,
            limits: Vec::new(),
            backorder_limits: Vec::new(),
            reason: None,
            actor: None,
            key: None,
            deadline: None,
            at,
        }
    }

    /// The same changeset with its purchase counters' additions kept within `limits` (each
    /// product's per-customer limit, as the checkout that decided them read it): the store
    /// refuses the commit when a counter would pass its limit on the row as it is then.
    #[must_use]
    pub fn within(self, limits: Vec<(ProductId, PurchaseLimit)>) -> Self {
        Self { limits, ..self }
    }

    /// The purchase counters this changeset moves (see [`OrderChange::purchases`]), each
    /// addition with its limit, if any.
    #[must_use]
    pub fn purchases(&self) -> Vec<PurchaseDelta> {
        let Some(order) = &self.order else { return Vec::new() };
        let mut deltas = order.purchases();
        for delta in deltas.iter_mut().filter(|d| d.units > 0) {
            delta.limit = (self.limits.iter())
                .find_map(|(id, limit)| (*id == delta.key.product_id).then_some(*limit));
        }
        deltas
    }

    /// The same changeset with its backorder counters' additions kept within `limits` (each
    /// product's backorder limit, as the checkout that decided them read it).
    #[must_use]
    pub fn owing_within(self, backorder_limits: Vec<(ProductId, BackorderLimit)>) -> Self {
        Self { backorder_limits, ..self }
    }

    /// The backorder counters this changeset moves (see [`OrderChange::backorders`]), each
    /// addition with its limit, if any.
    #[must_use]
    pub fn backorders(&self) -> Vec<BackorderDelta> {
        let Some(order) = &self.order else { return Vec::new() };
        let mut deltas = order.backorders();
        for delta in deltas.iter_mut().filter(|d| d.units > 0) {
            delta.limit = (self.backorder_limits.iter())
                .find_map(|(id, limit)| (*id == delta.product_id).then_some(*limit));
        }
        deltas
    }

    /// The same changeset with a free-text reason recorded in its ledger entries.
    #[must_use]
    pub fn with_reason(self, reason: Option<String>) -> Self {
        Self { reason, ..self }
    }

    /// The same changeset made by `actor`, as its ledger entries record. Without it the
    /// actor is the order change's (who placed or settled the order), else
    /// [`Actor::System`].
    #[must_use]
    pub fn by(self, actor: Actor) -> Self {
        Self { actor: Some(actor), ..self }
    }

    /// Who made the changes, as the ledger records it (see [`Changeset::by`]).
    #[must_use]
    pub fn actor(&self) -> Actor {
        let of_order = || {
            let record = self.order.as_ref()?.order().record();
            match self.order.as_ref()? {
                OrderChange::Created(_) => record.placed_by,
                OrderChange::Updated { .. } => record.settled_by,
                // A delivery fills it: the delivery's changeset names its actor.
                OrderChange::Filled { .. } => None,
            }
        };
        self.actor.or_else(of_order).unwrap_or(Actor::System)
    }

    /// The same changeset committed under an idempotency key: the store records `key`'s
    /// effect in the same transaction, or writes nothing when the claim is no longer held.
    #[must_use]
    pub fn with_key(self, key: KeyEffect) -> Self {
        Self { key: Some(key), ..self }
    }

    /// The same changeset, to be committed only if the commit is made before `deadline`: the
    /// moment its requester stops waiting for the answer. A store checks it last, just before
    /// its commit, and rolls back with [`StoreError::Overdue`] naming the changeset's order
    /// when it has passed, so that no one holds a reservation they were told had failed.
    #[must_use]
    pub fn with_deadline(self, deadline: Instant) -> Self {
        Self { deadline: Some(deadline), ..self }
    }

    /// The moment after which this changeset must not be committed, if any.
    #[must_use]
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The idempotency key's effect recorded with this changeset, if any.
    #[must_use]
    pub fn key(&self) -> Option<&KeyEffect> {
        self.key.as_ref()
    }

    /// The stock changes, in (product, location) order.
    #[must_use]
    pub fn stock(&self) -> &[StockChange] {
        &self.stock
    }

    /// The order change, if any.
    #[must_use]
    pub fn order(&self) -> Option<&OrderChange> {
        self.order.as_ref()
    }

    /// The order the ledger entries point to, if any.
    #[must_use]
    pub fn order_id(&self) -> Option<OrderId> {
        self.order.as_ref().map(|change| change.order().id())
    }

    /// The reason recorded in the ledger entries.
    #[must_use]
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// When the changeset is committed.
    #[must_use]
    pub fn at(&self) -> Timestamp {
        self.at
    }
}

/// Commits a [`Changeset`] atomically.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UnitOfWork: Send + Sync {
    /// Writes every stock change (each over its expected version, in the changeset's order),
    /// the order change (a new order, or a transition over its expected version), and one
    /// ledger entry per stock change, in one transaction: all of it, or none of it.
    ///
    /// # Errors
    /// - MUST return [`StoreError::StockConflict`] naming the product when any stock row's
    ///   version differs from the expected one, and [`StoreError::OrderConflict`] when the
    ///   order's does; nothing is written then.
    /// - MUST move every purchase counter of [`Changeset::purchases`] by its units (creating
    ///   it at 0 when missing; a counter never goes below 0), and return
    ///   [`StoreError::PurchaseConflict`] naming the product when an addition would take a
    ///   counter past its limit.
    /// - MUST move every product's backorder counter by [`Changeset::backorders`], after the
    ///   purchase counters, in product order (creating it at 0 when missing; never below 0),
    ///   and return [`StoreError::StockConflict`] naming the product when an addition would
    ///   take a counter past its limit (or carries none): the caller re-reads and decides
    ///   again.
    /// - MUST lessen each stock row's incoming quantity, if recorded, by what the changesets
    ///   deliver there ([`crate::incoming::received`]), never below 0.
    /// - MUST return [`StoreError::ProductNotFound`] / [`StoreError::OrderNotFound`] when a row
    ///   to update is gone.
    /// - MUST return [`StoreError::TransactionConflict`] when the database aborts the
    ///   transaction for a concurrent one.
    /// - MUST return [`StoreError::Overdue`] and write nothing when the changeset's deadline
    ///   has passed by the time the commit would be made.
    /// - MUST return [`StoreError::Unavailable`] for any other failure.
    async fn commit(&self, changeset: Changeset) -> Result<(), StoreError>;

    /// Writes several changesets in one transaction: all of them, or none of them. This is
    /// group commit: many checkouts of one hot product pay for one row lock and one disk flush
    /// instead of one each.
    ///
    /// The stock changes of one product across the changesets MUST form a chain, in the
    /// changesets' order: each computed from the state the previous one leaves (see
    /// [`chain_stock_changes`]). The store writes each chain as *one* versioned update of the
    /// product's row whose version advances by the chain's length, and one ledger entry per
    /// change, each with the version it stands for. Order changes and errors are as for
    /// [`UnitOfWork::commit`]; a conflict on any row rolls back every changeset.
    async fn commit_all(&self, changesets: Vec<Changeset>) -> Result<(), StoreError>;
}

/// The stock changes of `changesets` grouped per stock row (product, location), in that order,
/// each group in the changesets' order: the chains [`UnitOfWork::commit_all`] writes as one
/// update each.
///
/// # Errors
/// [`BrokenChain`] when a change of a row was not computed from the state the previous change
/// of that row leaves: writing the sum would then store a state nobody computed.
pub fn chain_stock_changes(
    changesets: &[Changeset],
) -> Result<Vec<(StockKey, StockChain<'_>)>, BrokenChain> {
    let mut chains: BTreeMap<StockKey, StockChain<'_>> = BTreeMap::new();
    for changeset in changesets {
        for change in changeset.stock() {
            let chain = chains.entry(change.key()).or_default();
            if let Some((previous, _)) = chain.last()
                && !change.follows(previous)
            {
                return Err(BrokenChain(change.product_id()));
            }
            chain.push((change, changeset));
        }
    }
    Ok(chains.into_iter().collect())
}

/// One stock row's changes in the order they follow each other, each with the changeset it
/// belongs to (for its order and reason in the ledger).
pub type StockChain<'a> = Vec<(&'a StockChange, &'a Changeset)>;

/// Changes of one stock row (of this product) that do not follow each other; see
/// [`chain_stock_changes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the stock changes of product {0} do not follow each other")]
pub struct BrokenChain(pub ProductId);

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::{ProductStock, Quantity, StockCount};

    fn pid(n: u128) -> ProductId {
        ProductId::new(Uuid::from_u128(n)).expect("id")
    }

    fn reserve(stock: &mut ProductStock, n: i64) -> StockChange {
        stock.reserve(Quantity::new(n).expect("quantity")).expect("in stock")
    }

    fn at() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).single().expect("time")
    }

    #[test]
    fn changes_are_grouped_per_product_in_id_order_keeping_the_changesets_order() {
        let (mut one, mut two) = (
            ProductStock::new(pid(1), StockCount::new(10).expect("count")),
            ProductStock::new(pid(2), StockCount::new(10).expect("count")),
        );
        let first = Changeset::new(vec![reserve(&mut two, 1), reserve(&mut one, 2)], None, at());
        let second = Changeset::new(vec![reserve(&mut two, 3)], None, at());
        let batch = [first, second];

        let chains = chain_stock_changes(&batch).expect("chained");

        let summary: Vec<_> = chains
            .iter()
            .map(|(id, chain)| (*id, chain.iter().map(|(c, _)| c.reserved_delta()).collect()))
            .collect();
        let default = crate::LocationId::DEFAULT;
        assert_eq!(summary, vec![((pid(1), default), vec![2]), ((pid(2), default), vec![1, 3])]);
        let (_, chain) = &chains[1];
        assert_eq!(chain[1].0.before(), chain[0].0.after());
        assert!(std::ptr::eq(chain[1].1, &batch[1]));
    }

    #[test]
    fn changes_computed_from_the_same_state_are_refused() {
        let stock = ProductStock::new(pid(1), StockCount::new(10).expect("count"));
        let (mut a, mut b) = (stock, stock);
        let batch = [
            Changeset::new(vec![reserve(&mut a, 1)], None, at()),
            Changeset::new(vec![reserve(&mut b, 1)], None, at()),
        ];

        assert_eq!(chain_stock_changes(&batch).err(), Some(BrokenChain(pid(1))));
    }
}
