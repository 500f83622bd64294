//! The versioned write: the one implementation behind [`crate::SeaOrmUnitOfWork::commit`] and
//! [`crate::SeaOrmStockRepository::save`] (a one-change commit without an order).
//!
//! Every row is written with `UPDATE … WHERE key = ? AND version = <expected>`; an UPDATE that
//! matches no row means someone else wrote first (or the row is gone), and the whole
//! transaction is rolled back. Nothing is read before writing, so no lock is held longer than
//! the write itself.

use domain::ports::{Changeset, StoreError};
use domain::{OrderChange, StockChange, Timestamp};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr,
};

use crate::entities::{order_lines, orders, product_stock, stock_movements};
use crate::error::store_error;
use crate::transaction::{begin_write, finish};

/// Writes `changeset` in one transaction: all of it, or none of it.
pub(crate) async fn commit(
    db: &DatabaseConnection,
    changeset: &Changeset,
) -> Result<(), StoreError> {
    let txn = begin_write(db).await?;
    let outcome = write(&txn, changeset).await;
    finish(txn, outcome).await
}

async fn write(txn: &impl ConnectionTrait, changeset: &Changeset) -> Result<(), StoreError> {
    // Stock rows first, in the changeset's (product-id) order, then the order: every commit
    // takes its row locks in one global order, so no two commits can wait on each other in a
    // cycle (no deadlocks between checkouts, payments and expiries).
    for change in changeset.stock() {
        write_stock(txn, change, changeset.at()).await?;
    }
    if let Some(change) = changeset.order() {
        write_order(txn, change).await?;
    }
    // One multi-row INSERT for the whole ledger of the commit.
    let entries = changeset.stock().iter().map(|change| {
        stock_movements::entry(change, changeset.order_id(), changeset.reason(), changeset.at())
    });
    stock_movements::Entity::insert_many(entries)
        .exec_without_returning(txn)
        .await
        .map_err(store_error)?;
    Ok(())
}

async fn write_stock(
    txn: &impl ConnectionTrait,
    change: &StockChange,
    at: Timestamp,
) -> Result<(), StoreError> {
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
        return Ok(());
    }
    // Rare path: a stale version and a missing row both match nothing; one lookup, still
    // inside the transaction, tells them apart.
    let found = Entity::find_by_id(product_id.as_uuid()).one(txn).await.map_err(store_error)?;
    Err(match found {
        Some(_) => StoreError::StockConflict(product_id),
        None => StoreError::ProductNotFound(product_id),
    })
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
