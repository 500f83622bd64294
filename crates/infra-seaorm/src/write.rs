//! The versioned write: the one implementation behind [`crate::SeaOrmUnitOfWork::commit`] and
//! [`crate::SeaOrmStockRepository::save`] (a one-change commit without an order).
//!
//! Orders are always written with `UPDATE … WHERE id IN (…) AND version = <expected>` (one
//! statement for all the orders of a commit that make the same transition). Stock rows
//! are written by one of two [`StockWrites`] strategies, both of which bump the version:
//! compare-and-swap over the version read (the seed's), or a guarded delta that lets the
//! database re-check the invariant on the row as it is when the lock is granted. An UPDATE that
//! matches no row means someone else wrote first, the guard failed, or the row is gone; the
//! whole transaction is rolled back.

mod backorders;
mod grouped;
mod incoming;
mod one_statement;
mod orders;
mod purchases;
mod rows;

use std::time::Instant;

use domain::ports::{Changeset, StoreError, chain_stock_changes};
use domain::{
    MovementKind, ProductStock, StockChange, StockCount, StockKey, StockSpan, Timestamp, Version,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, ExprTrait,
    QueryFilter, QuerySelect, sea_query::Expr,
};

use self::backorders::write_backorders;
use self::incoming::write_incoming;
use self::orders::{events_of as orders_events, settles, write_orders};
use self::purchases::write_purchases;
use self::rows::Inserts;
use crate::entities::{product_stock, stock_movements};
use crate::error::store_error;
use crate::events::sequence;
use crate::idempotency::record_effects;
use crate::transaction::{begin_write, finish};

/// How stock rows are written. Both strategies bump the version on every write, so `If-Match`
/// and every reader still see each change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StockWrites {
    /// The seed's optimistic concurrency: `SET on_hand = ?, reserved = ?, version = ? WHERE
    /// version = <the version read>`. Any concurrent write to the row, even one that left
    /// plenty of stock, makes this one conflict and retry.
    CompareAndSwap,
    /// `SET reserved = reserved + n, version = version + 1 WHERE on_hand - reserved -
    /// safety_stock >= n` (and the like for release, sell, expire, adjust and transfers): the
    /// database applies the change to the row as it is once the lock is granted and re-checks
    /// `0 <= reserved <= on_hand` there (and, for a change that takes units for sale, the
    /// row's safety stock), so concurrent buyers of one product queue instead of conflicting. A
    /// failed guard is reported as a conflict: the caller re-reads and sees the shortage.
    /// Setting on-hand or the safety stock keeps compare-and-swap: it answers an `If-Match`.
    /// The default: measured faster and without 503s under contention (docs/benchmarks.md).
    #[default]
    Guarded,
}

/// Writes `changesets` in one transaction: all of them, or none of them. Returns each row's
/// stock as stored, in (product, location) order.
pub(crate) async fn commit(
    db: &DatabaseConnection,
    changesets: &[Changeset],
    writes: StockWrites,
) -> Result<Vec<ProductStock>, StoreError> {
    if changesets.is_empty() {
        return Ok(Vec::new());
    }
    if one_statement::fits(db.get_database_backend(), changesets)
        && let Some(stored) = one_statement::commit(db, changesets, writes).await?
    {
        return Ok(stored);
    }
    let txn = begin_write(db).await?;
    // Deadlines last, so that the row-lock waits of the writes count against them.
    let outcome = (write(&txn, changesets, writes).await)
        .and_then(|stored| refuse_overdue(changesets).map(|()| stored));
    finish(txn, outcome).await
}

/// [`StoreError::Overdue`] naming the orders of the changesets whose deadline has passed:
/// committing them would hand out reservations their requesters were already told had failed.
fn refuse_overdue(changesets: &[Changeset]) -> Result<(), StoreError> {
    let now = Instant::now();
    let overdue: Vec<_> =
        changesets.iter().filter(|c| c.deadline().is_some_and(|d| d <= now)).collect();
    if overdue.is_empty() {
        return Ok(());
    }
    Err(StoreError::Overdue(overdue.into_iter().filter_map(Changeset::order_id).collect()))
}

async fn write(
    txn: &impl ConnectionTrait,
    changesets: &[Changeset],
    writes: StockWrites,
) -> Result<Vec<ProductStock>, StoreError> {
    let chains = chain_stock_changes(changesets).map_err(StoreError::unavailable)?;
    // Idempotency keys before anything else: a request that lost its claim makes the commit
    // fail before it took a single stock row lock.
    if let Some(first) = changesets.first() {
        record_effects(txn, changesets, first.at()).await?;
    }
    // Stock rows first, in (product, location) order, then purchase counters in (customer, product)
    // order, then backorder counters in product order, then the orders (a delivery's incoming
    // quantities right after its stock rows, which no checkout writes): every commit takes its row locks in one global order, so no two
    // commits can wait on each other in a cycle (no deadlocks between checkouts, payments and
    // expiries).
    let spans = (chains.iter())
        .map(|(_, chain)| span_of(chain, writes))
        .collect::<Result<Vec<_>, StoreError>>()?;
    // On PostgreSQL the rows of a commit go in one statement whatever their number (see
    // `grouped`): the locks are taken in the same order, in one round trip instead of one per
    // row. SQLite runs in-process, and MariaDB has no arrays: one UPDATE per row.
    let grouped = txn.get_database_backend() == DbBackend::Postgres && spans.len() > 1;
    let stored = if grouped {
        let at = changesets.first().map(Changeset::at).unwrap_or_default();
        grouped::write_spans(txn, &spans, at).await?
    } else {
        let mut stored = Vec::with_capacity(spans.len());
        for ((span, guarded), (_, chain)) in spans.iter().zip(&chains) {
            let at = chain.last().map(|(_, changeset)| changeset.at()).unwrap_or_default();
            stored.push(write_span(txn, span, *guarded, at).await?);
        }
        stored
    };
    write_incoming(txn, changesets).await?;
    let mut rows = Vec::new();
    for entry in ledger(&chains, &spans) {
        let row = &stored[entry.row];
        let version = Version::new(row.version().get() - entry.back.version)
            .map_err(StoreError::unavailable)?;
        let after = (
            row.on_hand().get() - entry.back.on_hand,
            row.reserved().get() - entry.back.reserved,
            entry.safety_stock.unwrap_or(row.safety_stock().get()),
        );
        let changeset = entry.changeset;
        let model = stock_movements::entry(
            entry.change,
            version,
            changeset.order_id(),
            changeset.reason(),
            changeset.actor(),
            changeset.at(),
        );
        rows.push((model, after));
    }
    write_purchases(txn, changesets).await?;
    write_backorders(txn, changesets).await?;
    // The feed's sequences last of the locks (see `events::sequence`): the ledger entries
    // first, in product and version order, then the orders' events. Taken by the inserts'
    // own statement where they can (see `rows`), unless an order's UPDATE needs its own first.
    let events = rows.len() + orders_events(changesets);
    let mut inserts = Inserts::new(txn.get_database_backend());
    let first = if !settles(changesets) && inserts.take_sequences(events)? {
        0
    } else {
        sequence::take(txn, events).await?
    };
    let orders_first = first + i64::try_from(rows.len()).map_err(StoreError::unavailable)?;
    let entries: Vec<_> = (rows.into_iter().zip(first..))
        .map(|((entry, after), sequence)| stock_movements::in_feed(entry, sequence, after))
        .collect();
    write_orders(txn, changesets, orders_first, &mut inserts).await?;
    inserts.add_numbered(&entries, Some(stock_movements::Column::Sequence));
    inserts.run(txn).await?;
    Ok(stored)
}

/// One ledger entry of a commit: a change, the changeset it belongs to, the index of its row
/// among the commit's rows (the chains' order), and how far its row's version and counters
/// stand, once the row is stored, beyond what the entry left (what the chain's later changes
/// added): the stored row minus `back` is the entry's version and counters.
struct Entry<'a> {
    change: &'a StockChange,
    changeset: &'a Changeset,
    row: usize,
    back: Back,
    /// The safety stock the entry left: the change's own for a compare-and-swap chain, the row's
    /// as stored (`None`) for a guarded one (a count may have moved it since the read).
    safety_stock: Option<i64>,
}

/// See [`Entry::back`].
#[derive(Clone, Copy)]
struct Back {
    version: i64,
    on_hand: i64,
    reserved: i64,
}

/// The ledger keeps one entry per change, each with the version it stands for and the counters
/// it left: every chain ends at its row as stored. In the chains' order, each chain's in its
/// own.
fn ledger<'a>(
    chains: &[(StockKey, Vec<(&'a StockChange, &'a Changeset)>)],
    spans: &[(StockSpan, bool)],
) -> Vec<Entry<'a>> {
    let mut entries = Vec::new();
    for (row, ((_, chain), (_, guarded))) in chains.iter().zip(spans).enumerate() {
        let mut back = Back {
            version: i64::try_from(chain.len()).unwrap_or(i64::MAX),
            on_hand: chain.iter().map(|(c, _)| c.on_hand_delta()).sum(),
            reserved: chain.iter().map(|(c, _)| c.reserved_delta()).sum(),
        };
        for (change, changeset) in chain {
            back.version -= 1;
            back.on_hand -= change.on_hand_delta();
            back.reserved -= change.reserved_delta();
            let safety_stock = (!guarded).then(|| change.after().safety_stock().get());
            entries.push(Entry { change, changeset, row, back, safety_stock });
        }
    }
    entries
}

/// One row's chain of changes as one span (from the state the first change was computed
/// from to the state the last one leaves), and whether it is written as a guarded delta (else
/// by compare-and-swap: always for a count, which answers an `If-Match`).
fn span_of(
    chain: &[(&StockChange, &Changeset)],
    writes: StockWrites,
) -> Result<(StockSpan, bool), StoreError> {
    let whole = StockSpan::new(chain.iter().map(|(change, _)| *change))
        .ok_or_else(|| StoreError::unavailable("stock changes that do not follow each other"))?;
    let counted =
        |c: &StockChange| matches!(c.kind(), MovementKind::Set | MovementKind::SafetyStock);
    let guarded = writes == StockWrites::Guarded && !chain.iter().any(|(c, _)| counted(c));
    Ok((whole, guarded))
}

/// One span as one versioned UPDATE of its row.
async fn write_span(
    txn: &impl ConnectionTrait,
    span: &StockSpan,
    guarded: bool,
    at: Timestamp,
) -> Result<ProductStock, StoreError> {
    if guarded {
        write_stock_guarded(txn, span, at).await
    } else {
        write_stock(txn, span, at).await
    }
}

/// Compare-and-swap over the version read; returns the stock stored (`change.after()`).
async fn write_stock(
    txn: &impl ConnectionTrait,
    change: &StockSpan,
    at: Timestamp,
) -> Result<ProductStock, StoreError> {
    use product_stock::{Column, Entity};

    let after = change.after();
    let updated = Entity::update_many()
        .col_expr(Column::OnHand, Expr::value(after.on_hand().get()))
        .col_expr(Column::Reserved, Expr::value(after.reserved().get()))
        .col_expr(Column::SafetyStock, Expr::value(after.safety_stock().get()))
        .col_expr(Column::Version, Expr::value(after.version().get()))
        .col_expr(Column::UpdatedAt, Expr::value(at))
        .filter(Column::ProductId.eq(change.product_id().as_uuid()))
        .filter(Column::LocationId.eq(change.location_id().as_uuid()))
        .filter(Column::Version.eq(change.expected_version().get()))
        .exec(txn)
        .await
        .map_err(store_error)?;
    if updated.rows_affected == 1 {
        return Ok(after);
    }
    Err(missed(txn, change).await)
}

/// The guarded delta, advancing the version by the span's steps; returns the stock stored.
async fn write_stock_guarded(
    txn: &impl ConnectionTrait,
    change: &StockSpan,
    at: Timestamp,
) -> Result<ProductStock, StoreError> {
    use product_stock::{Column, Entity};

    let (on_hand, reserved) = (Expr::col(Column::OnHand), Expr::col(Column::Reserved));
    let new_on_hand = on_hand.add(change.on_hand_delta());
    let new_reserved = reserved.add(change.reserved_delta());
    let mut update = Entity::update_many()
        .col_expr(Column::OnHand, new_on_hand.clone())
        .col_expr(Column::Reserved, new_reserved.clone())
        .col_expr(Column::Version, Expr::col(Column::Version).add(change.steps()))
        .col_expr(Column::UpdatedAt, Expr::value(at))
        .filter(Column::ProductId.eq(change.product_id().as_uuid()))
        .filter(Column::LocationId.eq(change.location_id().as_uuid()))
        // The invariant, evaluated on the row as it is now: 0 <= reserved' <= on_hand'.
        .filter(new_reserved.clone().gte(0))
        .filter(new_on_hand.clone().gte(new_reserved.clone()))
        // The ceiling too, on the stored row: a concurrent delivery may have raised it since
        // the read the domain checked.
        .filter(new_on_hand.clone().lte(StockCount::MAX));
    if change.takes_for_sale() {
        // What stays on the shelf keeps the row's safety stock, as stored now (it may have
        // been raised since the read).
        let kept = new_on_hand.sub(new_reserved);
        update = update.filter(kept.gte(Expr::col(Column::SafetyStock)));
    }
    // The stored row comes back with the UPDATE where the backend can (RETURNING: PostgreSQL,
    // SQLite), saving a round trip per line; MariaDB reads it back, still under our row lock.
    // That read is a locking one: a plain SELECT would open a REPEATABLE READ snapshot, and
    // with `innodb_snapshot_isolation` (MariaDB's default from 11.8) the batch's next UPDATE
    // of a row committed since then would fail with 1020 (seen on 10.11 with it switched on).
    let stored = if txn.support_returning() {
        update.exec_with_returning(txn).await.map_err(store_error)?.pop()
    } else if update.exec(txn).await.map_err(store_error)?.rows_affected == 1 {
        Entity::find_by_id((change.product_id().as_uuid(), change.location_id().as_uuid()))
            .lock_exclusive()
            .one(txn)
            .await
            .map_err(store_error)?
    } else {
        None
    };
    match stored {
        Some(row) => row.into_domain(),
        None => Err(missed(txn, change).await),
    }
}

/// Why a stock UPDATE matched nothing: a stale version (or failed guard) and a missing row
/// look alike; one lookup, still inside the transaction, tells them apart.
pub(super) async fn missed(txn: &impl ConnectionTrait, change: &StockSpan) -> StoreError {
    let product_id = change.product_id();
    let key = (product_id.as_uuid(), change.location_id().as_uuid());
    match product_stock::Entity::find_by_id(key).one(txn).await {
        Ok(Some(_)) => StoreError::StockConflict(product_id),
        Ok(None) => StoreError::ProductNotFound(product_id),
        Err(err) => store_error(err),
    }
}
