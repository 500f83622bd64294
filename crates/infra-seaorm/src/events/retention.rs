//! [`SeaOrmEventRetention`]: old events leave the feed.
//!
//! The cut is just before the first stock change younger than the retention (every transaction
//! that records events records a stock change, numbered before its other events: a product's
//! initial stock, a reservation, a settlement), held back to the slowest relay and webhook
//! subscription, so that nothing still to be sent is purged. `event_sequence.purged_through` moves first, in a transaction of its own; the
//! sequences are cleared after. A reader checks `purged_through` after reading its page, so
//! one that read a range the purge was clearing learns that its cursor expired.

use async_trait::async_trait;
use domain::Timestamp;
use domain::event::Sequence;
use domain::ports::{EventRetention, StoreError};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::sequence;
use crate::entities::{event_cursors, orders, products, stock_movements, webhook_subscriptions};
use crate::error::store_error;

/// [`EventRetention`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmEventRetention {
    db: DatabaseConnection,
}

impl SeaOrmEventRetention {
    /// An adapter sharing `db`'s pool (the primary's: it writes).
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// `SELECT <aggregate> FROM <table> [WHERE …]` as one nullable number.
    async fn number(
        &self,
        query: sea_orm::sea_query::SelectStatement,
    ) -> Result<Option<i64>, StoreError> {
        let row = self.db.query_one(&query).await.map_err(store_error)?;
        match row {
            Some(row) => row.try_get::<Option<i64>>("", "n").map_err(store_error),
            None => Ok(None),
        }
    }

    /// The last sequence that may go: the last one before the first stock change made at or
    /// after `before` (so a transaction's order events go with its stock changes, which are
    /// numbered first), and no further than any relay or subscription has taken the feed.
    async fn cut(&self, purged: i64, before: Timestamp) -> Result<i64, StoreError> {
        let mut cut = self.cut_by_time(purged, before).await?;
        let relays = Query::select()
            .expr_as(Func::min(Expr::col(event_cursors::Column::Position)), Alias::new("n"))
            .from(event_cursors::Entity)
            .to_owned();
        let subscriptions = Query::select()
            .expr_as(Func::min(Expr::col(webhook_subscriptions::Column::Position)), Alias::new("n"))
            .from(webhook_subscriptions::Entity)
            .to_owned();
        for floor in [relays, subscriptions] {
            if let Some(position) = self.number(floor).await? {
                cut = Ord::min(cut, position);
            }
        }
        Ok(cut)
    }

    /// Walks the ledger in sequence order from `purged` (by its unique index on `sequence`: no
    /// index on time is needed, nor any cost on the write path) to the first change at or after
    /// `before`; the feed's head when every change up to it is older. At most
    /// [`WINDOWS`] × [`WINDOW`] changes per purge: a long history goes over several purges.
    async fn cut_by_time(&self, purged: i64, before: Timestamp) -> Result<i64, StoreError> {
        use stock_movements::{Column, Entity};
        let head = sequence::head(&self.db).await?;
        let mut from = purged;
        for _ in 0..WINDOWS {
            let rows: Vec<(Option<i64>, Timestamp)> = Entity::find()
                .select_only()
                .column(Column::Sequence)
                .column(Column::At)
                .filter(Column::Sequence.gt(from))
                .filter(Column::Sequence.lte(head))
                .order_by_asc(Column::Sequence)
                .limit(WINDOW)
                .into_tuple()
                .all(&self.db)
                .await
                .map_err(store_error)?;
            let Some(&(Some(last), _)) = rows.last() else { return Ok(head) };
            if let Some((Some(young), _)) = rows.iter().find(|(_, at)| *at >= before) {
                // A product's creation numbers its `product.created` just before its stock.
                let created_with_it = products::Entity::find()
                    .filter(products::Column::CreatedSequence.eq(young - 1))
                    .filter(products::Column::CreatedAt.gte(before))
                    .one(&self.db)
                    .await
                    .map_err(store_error)?;
                return Ok(young - 1 - i64::from(created_with_it.is_some()));
            }
            from = last;
        }
        Ok(from)
    }
}

/// Ledger rows read per step of the walk.
const WINDOW: u64 = 10_000;
/// Steps of the walk per purge.
const WINDOWS: usize = 100;

#[async_trait]
impl EventRetention for SeaOrmEventRetention {
    #[tracing::instrument(skip_all, fields(%before))]
    async fn purge(&self, before: Timestamp) -> Result<Sequence, StoreError> {
        let purged = sequence::purged_through(&self.db).await?;
        let cut = self.cut(purged, before).await?;
        if cut <= purged {
            return Ok(Sequence::new(purged).unwrap_or(Sequence::START));
        }
        // First the mark, committed on its own: from now on a reader behind it is told so,
        // before any of its events disappear.
        let mark = Query::update()
            .table(Alias::new("event_sequence"))
            .value(Alias::new("purged_through"), cut)
            .and_where(Expr::col(Alias::new("id")).eq(1))
            .and_where(Expr::col(Alias::new("purged_through")).lt(cut))
            .to_owned();
        self.db.execute(&mark).await.map_err(store_error)?;
        let none = Expr::value(Option::<i64>::None);
        stock_movements::Entity::update_many()
            .col_expr(stock_movements::Column::Sequence, none.clone())
            .filter(stock_movements::Column::Sequence.lte(cut))
            .exec(&self.db)
            .await
            .map_err(store_error)?;
        for column in [orders::Column::ReservedSequence, orders::Column::SettledSequence] {
            orders::Entity::update_many()
                .col_expr(column, none.clone())
                .filter(column.lte(cut))
                .exec(&self.db)
                .await
                .map_err(store_error)?;
        }
        products::Entity::update_many()
            .col_expr(products::Column::CreatedSequence, none)
            .filter(products::Column::CreatedSequence.lte(cut))
            .exec(&self.db)
            .await
            .map_err(store_error)?;
        tracing::info!(through = cut, "events purged from the feed");
        Ok(Sequence::new(cut).unwrap_or(Sequence::START))
    }
}
