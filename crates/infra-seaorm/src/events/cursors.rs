//! [`SeaOrmRelayCursors`]: each relay's position in the feed, moved by compare-and-swap.

use async_trait::async_trait;
use domain::event::Sequence;
use domain::ports::{RelayCursors, StoreError};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, SqlErr, sea_query::Expr};

use crate::entities::{corrupt, event_cursors};
use crate::error::store_error;

/// [`RelayCursors`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmRelayCursors {
    db: DatabaseConnection,
}

impl SeaOrmRelayCursors {
    /// An adapter sharing `db`'s pool.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl RelayCursors for SeaOrmRelayCursors {
    async fn position(&self, relay: &str) -> Result<Sequence, StoreError> {
        let row = event_cursors::Entity::find_by_id(relay.to_owned())
            .one(&self.db)
            .await
            .map_err(store_error)?;
        match row {
            None => Ok(Sequence::START),
            Some(row) => Sequence::new(row.position).ok_or_else(|| {
                corrupt("event_cursors", relay, format!("position {}", row.position))
            }),
        }
    }

    #[tracing::instrument(skip_all, fields(relay, %from, %to))]
    async fn advance(&self, relay: &str, from: Sequence, to: Sequence) -> Result<bool, StoreError> {
        use event_cursors::{Column, Entity};
        let now = chrono::Utc::now();
        let updated = Entity::update_many()
            .col_expr(Column::Position, Expr::value(to.get()))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Name.eq(relay))
            .filter(Column::Position.eq(from.get()))
            .exec(&self.db)
            .await
            .map_err(store_error)?;
        if updated.rows_affected == 1 {
            return Ok(true);
        }
        if from != Sequence::START {
            return Ok(false);
        }
        // The relay's first advance creates its row; a concurrent first advance loses on the
        // primary key.
        let row = event_cursors::ActiveModel {
            name: Set(relay.to_owned()),
            position: Set(to.get()),
            updated_at: Set(now),
        };
        match Entity::insert(row).exec_without_returning(&self.db).await {
            Ok(_) => Ok(true),
            Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                Ok(false)
            }
            Err(err) => Err(store_error(err)),
        }
    }
}
