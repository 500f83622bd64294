//! The purchase counters of a commit (see [`domain::limits`]): one guarded write per
//! (customer, product), in key order, after the stock rows and before the orders, so that every
//! commit takes its locks in one global order.

use domain::Timestamp;
use domain::limits::{PurchaseDelta, sum_purchases};
use domain::ports::{Changeset, StoreError};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter,
};

use crate::entities::customer_purchases::{self, Column, Entity};
use crate::error::store_error;

/// Moves every counter the changesets' orders move, summed per counter.
pub(super) async fn write_purchases(
    txn: &impl ConnectionTrait,
    changesets: &[Changeset],
) -> Result<(), StoreError> {
    let deltas: Vec<PurchaseDelta> = changesets.iter().flat_map(Changeset::purchases).collect();
    let Some(first) = changesets.first() else { return Ok(()) };
    for delta in sum_purchases(&deltas) {
        if delta.units > 0 {
            add(txn, &delta, first.at()).await?;
        } else {
            give_back(txn, &delta, first.at()).await?;
        }
    }
    Ok(())
}

/// Adds a checkout's units: makes sure the counter exists (at 0), then adds with the guard
/// `units + n <= limit` evaluated on the row as it is once locked. Two customers' first
/// purchases of one product never meet; two checkouts of one customer queue on the row, and
/// the second sees the first's units. A failed guard is a conflict: the caller re-reads the
/// counter and refuses the cart with the limit's figures.
async fn add(
    txn: &impl ConnectionTrait,
    delta: &PurchaseDelta,
    at: Timestamp,
) -> Result<(), StoreError> {
    let key = &delta.key;
    let row = customer_purchases::ActiveModel {
        customer_id: Set(key.customer_id.as_str().to_owned()),
        product_id: Set(key.product_id.as_uuid()),
        units: Set(0),
        updated_at: Set(at),
    };
    Entity::insert(row)
        .on_conflict(
            OnConflict::columns([Column::CustomerId, Column::ProductId])
                .do_nothing_on([Column::Units])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await
        .map_err(store_error)?;
    let units = Expr::col(Column::Units).add(delta.units);
    let mut update = Entity::update_many()
        .col_expr(Column::Units, units.clone())
        .col_expr(Column::UpdatedAt, Expr::value(at))
        .filter(Column::CustomerId.eq(key.customer_id.as_str()))
        .filter(Column::ProductId.eq(key.product_id.as_uuid()));
    if let Some(limit) = delta.limit {
        update = update.filter(units.lte(i64::from(limit.get())));
    }
    let updated = update.exec(txn).await.map_err(store_error)?;
    if updated.rows_affected == 1 {
        Ok(())
    } else {
        Err(StoreError::PurchaseConflict(key.product_id))
    }
}

/// Gives back a cancelled or expired order's units. Never below 0: a counter can only lack
/// units if someone edited it by hand, and a settlement must not fail for that.
async fn give_back(
    txn: &impl ConnectionTrait,
    delta: &PurchaseDelta,
    at: Timestamp,
) -> Result<(), StoreError> {
    let key = &delta.key;
    let units = Expr::col(Column::Units).add(delta.units);
    let clamped = Expr::case(units.clone().lt(0), 0).finally(units);
    Entity::update_many()
        .col_expr(Column::Units, clamped.into())
        .col_expr(Column::UpdatedAt, Expr::value(at))
        .filter(Column::CustomerId.eq(key.customer_id.as_str()))
        .filter(Column::ProductId.eq(key.product_id.as_uuid()))
        .exec(txn)
        .await
        .map_err(store_error)?;
    Ok(())
}
