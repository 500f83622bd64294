//! The versioned write: the one implementation behind [`crate::SeaOrmUnitOfWork::commit`] and
//! [`crate::SeaOrmStockRepository::save`] (a one-change commit without an order).
//!
//! Orders are always written with `UPDATE … WHERE id = ? AND version = <expected>`. Stock rows
//! are written by one of two [`StockWrites`] strategies, both of which bump the version:
//! compare-and-swap over the version read (the seed's), or a guarded delta that lets the
//! database re-check the invariant on the row as it is when the lock is granted. An UPDATE that
//! matches no row means someone else wrote first, the guard failed, or the row is gone; the
//! whole transaction is rolled back.

use domain::ports::{Changeset, StoreError};
use domain::{MovementKind, OrderChange, ProductStock, StockChange, Timestamp};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, ExprTrait, QueryFilter,
    sea_query::Expr,
};

use crate::entities::{order_lines, orders, product_stock, stock_movements};
use crate::error::store_error;
use crate::transaction::{begin_write, finish};

/// How stock rows are written. Both strategies bump the version on every write, so `If-Match`
/// and every reader still see each change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StockWrites {
    /// The seed's optimistic concurrency: `SET on_hand = ?, reserved = ?, version = ? WHERE
    /// version = <the version read>`. Any concurrent write to the row, even one that left
    /// plenty of stock, makes this one conflict and retry.
    #[default]
    CompareAndSwap,
    /// `SET reserved = reserved + n, version = version + 1 WHERE on_hand - reserved >= n` (and
    /// the like for release, sell, expire and adjust): the database applies the change to the
    /// row as it is once the lock is granted and re-checks `0 <= reserved <= on_hand` there, so
    /// concurrent buyers of one product queue instead of conflicting. A failed guard is
    /// reported as a conflict: the caller re-reads and sees the shortage. Setting on-hand keeps
    /// compare-and-swap: it answers an `If-Match`.
    Guarded,
}

/// Writes `changeset` in one transaction: all of it, or none of it. Returns each stock as
/// stored, in the changeset's order.
pub(crate) async fn commit(
    db: &DatabaseConnection,
    changeset: &Changeset,
    writes: StockWrites,
) -> Result<Vec<ProductStock>, StoreError> {
    let txn = begin_write(db).await?;
    let outcome = write(&txn, changeset, writes).await;
    finish(txn, outcome).await
}

async fn write(
    txn: &impl ConnectionTrait,
    changeset: &Changeset,
    writes: StockWrites,
) -> Result<Vec<ProductStock>, StoreError> {
    // Stock rows first, in the changeset's (product-id) order, then the order: every commit
    // takes its row locks in one global order, so no two commits can wait on each other in a
    // cycle (no deadlocks between checkouts, payments and expiries).
    let mut stored = Vec::with_capacity(changeset.stock().len());
    for change in changeset.stock() {
        stored.push(match writes {
            StockWrites::Guarded if change.kind != MovementKind::Set => {
                write_stock_guarded(txn, change, changeset.at()).await?
            }
            _ => write_stock(txn, change, changeset.at()).await?,
        });
    }
    if let Some(change) = changeset.order() {
        write_order(txn, change).await?;
    }
    // One multi-row INSERT for the whole ledger of the commit, each entry with the version
    // its row was actually stored at.
    let entries = changeset.stock().iter().zip(&stored).map(|(change, row)| {
        stock_movements::entry(
            change,
            row.version(),
            changeset.order_id(),
            changeset.reason(),
            changeset.at(),
        )
    });
    stock_movements::Entity::insert_many(entries)
        .exec_without_returning(txn)
        .await
        .map_err(store_error)?;
    Ok(stored)
}

/// Compare-and-swap over the version read; returns the stock stored (`change.after`).
async fn write_stock(
    txn: &impl ConnectionTrait,
    change: &StockChange,
    at: Timestamp,
) -> Result<ProductStock, StoreError> {
    use product_stock::{Column, Entity};

    let product_id = change.product_id();
    let after = change.after;
    let updated = Entity::update_many()
        .col_expr(Column::OnHand, Expr::value(after.on_hand().get()))
        .col_expr(Column::Reserved, Expr::value(after.reserved().get()))
        .col_expr(Column::Version, Expr::value(after.version().get()))
        .col_expr(Column::UpdatedAt, Expr::value(at))
        .filter(Column::ProductId.eq(product_id.as_uuid()))
        .filter(Column::Version.eq(change.expected_version().get()))
        .exec(txn)
        .await
        .map_err(store_error)?;
    if updated.rows_affected == 1 {
        return Ok(after);
    }
    Err(missed(txn, change).await)
}

/// The guarded delta; returns the stock stored.
async fn write_stock_guarded(
    txn: &impl ConnectionTrait,
    change: &StockChange,
    at: Timestamp,
) -> Result<ProductStock, StoreError> {
    use product_stock::{Column, Entity};

    let (on_hand, reserved) = (Expr::col(Column::OnHand), Expr::col(Column::Reserved));
    let new_on_hand = on_hand.add(change.on_hand_delta());
    let new_reserved = reserved.add(change.reserved_delta());
    let update = Entity::update_many()
        .col_expr(Column::OnHand, new_on_hand.clone())
        .col_expr(Column::Reserved, new_reserved.clone())
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(at))
        .filter(Column::ProductId.eq(change.product_id().as_uuid()))
        // The invariant, evaluated on the row as it is now: 0 <= reserved' <= on_hand'.
        .filter(new_reserved.clone().gte(0))
        .filter(new_on_hand.gte(new_reserved));
    // The stored row comes back with the UPDATE where the backend can (RETURNING: PostgreSQL,
    // SQLite), saving a round trip per line; MariaDB reads it back, still under our row lock.
    let stored = if txn.support_returning() {
        update.exec_with_returning(txn).await.map_err(store_error)?.pop()
    } else if update.exec(txn).await.map_err(store_error)?.rows_affected == 1 {
        Entity::find_by_id(change.product_id().as_uuid()).one(txn).await.map_err(store_error)?
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
async fn missed(txn: &impl ConnectionTrait, change: &StockChange) -> StoreError {
    let product_id = change.product_id();
    match product_stock::Entity::find_by_id(product_id.as_uuid()).one(txn).await {
        Ok(Some(_)) => StoreError::StockConflict(product_id),
        Ok(None) => StoreError::ProductNotFound(product_id),
        Err(err) => store_error(err),
    }
}

async fn write_order(txn: &impl ConnectionTrait, change: &OrderChange) -> Result<(), StoreError> {
    use orders::{Column, Entity};

    let (expected, order) = match change {
        OrderChange::Created(order) => {
            Entity::insert(orders::active_model(order))
                .exec_without_returning(txn)
                .await
                .map_err(store_error)?;
            let lines =
                order.lines().iter().map(|line| order_lines::active_model(order.id(), line));
            order_lines::Entity::insert_many(lines)
                .exec_without_returning(txn)
                .await
                .map_err(store_error)?;
            return Ok(());
        }
        OrderChange::Updated { expected, order } => (expected, order.record()),
    };
    // A transition changes the status and its timestamp; lines, total and expiry are fixed at
    // checkout.
    let updated = Entity::update_many()
        .col_expr(Column::Status, Expr::value(order.status.as_str()))
        .col_expr(Column::PaidAt, Expr::value(order.paid_at))
        .col_expr(Column::CancelledAt, Expr::value(order.cancelled_at))
        .col_expr(Column::ExpiredAt, Expr::value(order.expired_at))
        .col_expr(Column::Version, Expr::value(order.version.get()))
        .filter(Column::Id.eq(order.id.as_uuid()))
        .filter(Column::Version.eq(expected.get()))
        .exec(txn)
        .await
        .map_err(store_error)?;
    if updated.rows_affected == 1 {
        return Ok(());
    }
    let found = Entity::find_by_id(order.id.as_uuid()).one(txn).await.map_err(store_error)?;
    Err(match found {
        Some(_) => StoreError::OrderConflict(order.id),
        None => StoreError::OrderNotFound(order.id),
    })
}
