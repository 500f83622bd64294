//! [`SeaOrmLease`]: named leases in the `leases` table, taken and renewed by guarded writes.
//!
//! The guarded UPDATE is the whole protocol: `SET holder = me, expires_at = until WHERE name = ?
//! AND (holder = me OR expires_at < now)`. Row locks serialise two processes that both find a
//! lapsed lease; the second re-evaluates the WHERE clause on the row the first committed
//! (PostgreSQL's READ COMMITTED re-check, InnoDB's locking read of the latest version, SQLite's
//! single writer), finds it held, and changes nothing. A missing row is created by an INSERT
//! whose primary key lets exactly one process win. Plain statements, no explicit transaction:
//! each one is atomic on its own, and a failed INSERT would poison a PostgreSQL transaction.

use async_trait::async_trait;
use domain::Timestamp;
use domain::ports::{Lease, StoreError};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, SqlErr};

use crate::entities::leases::{self, Column};
use crate::error::store_error;

/// [`Lease`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmLease {
    db: DatabaseConnection,
}

impl SeaOrmLease {
    /// An adapter sharing `db`'s pool.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Renews the lease for `holder`, or takes it over when it lapsed; `false` when the row is
    /// missing or someone else holds it.
    async fn take(
        &self,
        name: &str,
        holder: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let updated = leases::Entity::update_many()
            .col_expr(Column::Holder, Expr::value(holder))
            .col_expr(Column::ExpiresAt, Expr::value(until))
            .filter(Column::Name.eq(name))
            .filter(Condition::any().add(Column::Holder.eq(holder)).add(Column::ExpiresAt.lt(now)))
            .exec(&self.db)
            .await
            .map_err(store_error)?;
        // Matched rows on every backend: sqlx asks MariaDB for CLIENT_FOUND_ROWS, so a renewal
        // that happened to write the same values still counts.
        Ok(updated.rows_affected == 1)
    }

    /// Creates the lease for `holder`; `false` when it exists (another process created it).
    async fn create(&self, name: &str, holder: &str, until: Timestamp) -> Result<bool, StoreError> {
        let row = leases::ActiveModel {
            name: Set(name.to_owned()),
            holder: Set(holder.to_owned()),
            expires_at: Set(until),
        };
        match leases::Entity::insert(row).exec_without_returning(&self.db).await {
            Ok(_) => Ok(true),
            Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                Ok(false)
            }
            Err(err) => Err(store_error(err)),
        }
    }
}

#[async_trait]
impl Lease for SeaOrmLease {
    #[tracing::instrument(skip_all, fields(name, holder))]
    async fn try_acquire(
        &self,
        name: &str,
        holder: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        // The row exists after the first acquisition ever: the UPDATE is the common path.
        if self.take(name, holder, until, now).await? {
            return Ok(true);
        }
        if self.create(name, holder, until).await? {
            return Ok(true);
        }
        // Created by another process between the two statements: it may already have lapsed
        // (a process that died at once), so one more guarded UPDATE decides.
        self.take(name, holder, until, now).await
    }

    #[tracing::instrument(skip_all, fields(name, holder))]
    async fn release(&self, name: &str, holder: &str, now: Timestamp) -> Result<(), StoreError> {
        leases::Entity::update_many()
            .col_expr(Column::ExpiresAt, Expr::value(now))
            .filter(Column::Name.eq(name))
            .filter(Column::Holder.eq(holder))
            .exec(&self.db)
            .await
            .map_err(store_error)?;
        Ok(())
    }
}
