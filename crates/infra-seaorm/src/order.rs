//! [`SeaOrmOrderRepository`]: orders read with their lines (writes go through
//! [`crate::SeaOrmUnitOfWork`]).

use std::collections::HashMap;

use async_trait::async_trait;
use domain::allocation::Allocation;
use domain::ports::{OrderRepository, StoreError};
use domain::{Order, OrderId, OrderLine, OrderStatus, ProductId, Timestamp};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::entities::{order_line_allocations, order_lines, orders};
use crate::error::store_error;

/// [`OrderRepository`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmOrderRepository {
    db: DatabaseConnection,
}

impl SeaOrmOrderRepository {
    /// An adapter sharing `db`'s pool.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The orders of `rows` with their lines and the lines' allocations, fetched in one query
    /// each for all of them.
    ///
    /// Lines are inserted in the same transaction as their order, and change afterwards only
    /// with it (a fill of units owed bumps the order's version in the transaction that moves
    /// its line). Read after the header, outside a transaction, they are at least as new as
    /// it: an order decided on such a read is written over the header's version, which a
    /// newer line would have moved, so it conflicts and is read again.
    pub(crate) async fn with_lines(
        &self,
        rows: Vec<orders::Model>,
    ) -> Result<Vec<Order>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut lines: HashMap<Uuid, Vec<OrderLine>> = HashMap::with_capacity(rows.len());
        let line_rows = order_lines::Entity::find()
            .filter(order_lines::Column::OrderId.is_in(rows.iter().map(|row| row.id)))
            // Product-id order is the order `Order::place` gives its lines.
            .order_by_asc(order_lines::Column::OrderId)
            .order_by_asc(order_lines::Column::ProductId)
            .all(&self.db)
            .await
            .map_err(store_error)?;
        let mut held: HashMap<(Uuid, Uuid), Vec<Allocation>> = HashMap::with_capacity(rows.len());
        let allocation_rows = order_line_allocations::Entity::find()
            .filter(order_line_allocations::Column::OrderId.is_in(rows.iter().map(|row| row.id)))
            .order_by_asc(order_line_allocations::Column::OrderId)
            .order_by_asc(order_line_allocations::Column::ProductId)
            .order_by_asc(order_line_allocations::Column::LocationId)
            .all(&self.db)
            .await
            .map_err(store_error)?;
        for row in allocation_rows {
            let key = (row.order_id, row.product_id);
            held.entry(key).or_default().push(row.into_domain()?);
        }
        for row in line_rows {
            let key = (row.order_id, row.product_id);
            let mut line = row.into_domain()?;
            // A line without rows is held wholly at the default location.
            line.allocations = held.remove(&key).unwrap_or_else(|| line.sources());
            lines.entry(key.0).or_default().push(line);
        }
        rows.into_iter()
            .map(|row| {
                let order_lines = lines.remove(&row.id).unwrap_or_default();
                row.into_domain(order_lines)
            })
            .collect()
    }
}

#[async_trait]
impl OrderRepository for SeaOrmOrderRepository {
    #[tracing::instrument(skip_all, fields(%order_id))]
    async fn get(&self, order_id: OrderId) -> Result<Option<Order>, StoreError> {
        let row = orders::Entity::find_by_id(order_id.as_uuid())
            .one(&self.db)
            .await
            .map_err(store_error)?;
        let Some(row) = row else { return Ok(None) };
        Ok(self.with_lines(vec![row]).await?.pop())
    }

    #[tracing::instrument(skip_all, fields(%product_id, limit))]
    async fn owed(&self, product_id: ProductId, limit: u32) -> Result<Vec<Order>, StoreError> {
        let owing = Query::select()
            .column(order_lines::Column::OrderId)
            .from(order_lines::Entity)
            .and_where(order_lines::Column::ProductId.eq(product_id.as_uuid()))
            .and_where(order_lines::Column::Backordered.gt(0))
            .to_owned();
        let owed_to = [OrderStatus::Reserved.as_str(), OrderStatus::Paid.as_str()];
        let rows = orders::Entity::find()
            .filter(orders::Column::Id.in_subquery(owing))
            .filter(orders::Column::Status.is_in(owed_to))
            // Oldest first by id: a UUIDv7 begins with the placing instant in milliseconds and
            // `Uuid::now_v7` keeps a process's ids in creation order within one, so id order is
            // placement order on every backend, and the primary key serves it.
            .order_by_asc(orders::Column::Id)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(store_error)?;
        self.with_lines(rows).await
    }

    #[tracing::instrument(skip_all, fields(%now, limit))]
    async fn due_for_expiry(&self, now: Timestamp, limit: u32) -> Result<Vec<Order>, StoreError> {
        // Served by the index on (status, expires_at). On SQLite the timestamps are RFC 3339
        // text, all in UTC with 0, 3, 6 or 9 fraction digits, so `<=` on text is `<=` in time.
        let rows = orders::Entity::find()
            .filter(orders::Column::Status.eq(OrderStatus::Reserved.as_str()))
            .filter(orders::Column::ExpiresAt.lte(now))
            .order_by_asc(orders::Column::ExpiresAt)
            .order_by_asc(orders::Column::Id)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(store_error)?;
        self.with_lines(rows).await
    }
}
