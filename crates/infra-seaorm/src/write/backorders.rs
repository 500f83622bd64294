//! The backorder counters of a commit (see [`domain::backorder`]): one guarded write per
//! product, in product order, after the purchase counters and before the orders, so that every
//! commit takes its locks in one global order. A PATCH of a product's policy writes the
//! product and its stock rows' copies, never a counter: no cycle with a checkout.

use domain::Timestamp;
use domain::backorder::{BackorderDelta, sum_backorders};
use domain::ports::{Changeset, StoreError};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter,
};

use crate::entities::product_backorders::{self, Column, Entity};
use crate::error::store_error;

/// Moves every counter the changesets' orders move, summed per product.
pub(super) async fn write_backorders(
    txn: &impl ConnectionTrait,
    changesets: &[Changeset],
) -> Result<(), StoreError> {
    let deltas: Vec<BackorderDelta> = changesets.iter().flat_map(Changeset::backorders).collect();
    let Some(first) = changesets.first() else { return Ok(()) };
    for delta in sum_backorders(&deltas) {
        if delta.units > 0 {
            owe(txn, &delta, first.at()).await?;
        } else {
            settle(txn, &delta, first.at()).await?;
        }
    }
    Ok(())
}

/// Adds units owed: makes sure the counter exists (at 0), then adds with the guard
/// `backordered + n <= limit` evaluated on the row as it is once locked, so racing checkouts of
/// one product in any number of processes owe at most the limit together. A failed guard is a
/// conflict: the caller re-reads the counter and decides again.
async fn owe(
    txn: &impl ConnectionTrait,
    delta: &BackorderDelta,
    at: Timestamp,
) -> Result<(), StoreError> {
    let Some(limit) = delta.limit else {
        // An addition nobody bounded: refused, as the port says, rather than unlimited.
        return Err(StoreError::StockConflict(delta.product_id));
    };
    let id = delta.product_id.as_uuid();
    let row = product_backorders::ActiveModel {
        product_id: Set(id),
        backordered: Set(0),
        updated_at: Set(at),
    };
    Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::ProductId).do_nothing_on([Column::Backordered]).to_owned(),
        )
        .exec_without_returning(txn)
        .await
        .map_err(store_error)?;
    let owed = Expr::col(Column::Backordered).add(delta.units);
    let updated = Entity::update_many()
        .col_expr(Column::Backordered, owed.clone())
        .col_expr(Column::UpdatedAt, Expr::value(at))
        .filter(Column::ProductId.eq(id))
        .filter(owed.lte(i64::from(limit.get())))
        .exec(txn)
        .await
        .map_err(store_error)?;
    if updated.rows_affected == 1 {
        Ok(())
    } else {
        Err(StoreError::StockConflict(delta.product_id))
    }
}

/// Takes off units no longer owed (filled, cancelled, expired). Never below 0: a counter can
/// only lack units if someone edited it by hand (reconciliation reports it), and a settlement
/// must not fail for that.
async fn settle(
    txn: &impl ConnectionTrait,
    delta: &BackorderDelta,
    at: Timestamp,
) -> Result<(), StoreError> {
    let owed = Expr::col(Column::Backordered).add(delta.units);
    let clamped = Expr::case(owed.clone().lt(0), 0).finally(owed);
    Entity::update_many()
        .col_expr(Column::Backordered, clamped.into())
        .col_expr(Column::UpdatedAt, Expr::value(at))
        .filter(Column::ProductId.eq(delta.product_id.as_uuid()))
        .exec(txn)
        .await
        .map_err(store_error)?;
    Ok(())
}
