//! The incoming quantities a commit's deliveries lessen (see [`domain::incoming`]): one UPDATE
//! per delivered row, in (product, location) order, right after the stock rows. A checkout,
//! which delivers nothing, writes none.

use domain::incoming::received;
use domain::ports::{Changeset, StoreError};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter};

use crate::entities::incoming_stock::{Column, Entity};
use crate::error::store_error;

/// Takes what `changesets` deliver off each row's incoming quantity, never below 0; a row
/// without a record is left alone.
pub(super) async fn write_incoming(
    txn: &impl ConnectionTrait,
    changesets: &[Changeset],
) -> Result<(), StoreError> {
    let Some(first) = changesets.first() else { return Ok(()) };
    for ((product_id, location_id), units) in received(changesets) {
        let left = Expr::col(Column::Quantity).sub(units);
        let clamped = Expr::case(left.clone().lt(0), 0).finally(left);
        Entity::update_many()
            .col_expr(Column::Quantity, clamped.into())
            .col_expr(Column::UpdatedAt, Expr::value(first.at()))
            .filter(Column::ProductId.eq(product_id.as_uuid()))
            .filter(Column::LocationId.eq(location_id.as_uuid()))
            .exec(txn)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}
