//! [`SeaOrmUnitOfWork`]: a checkout, payment, cancellation or expiry written in one
//! transaction.

use async_trait::async_trait;
use domain::ports::{Changeset, StoreError, UnitOfWork};
use sea_orm::DatabaseConnection;

use crate::write::{self, StockWrites};

/// [`UnitOfWork`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmUnitOfWork {
    db: DatabaseConnection,
    writes: StockWrites,
}

impl SeaOrmUnitOfWork {
    /// An adapter sharing `db`'s pool, writing stock by compare-and-swap.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self::with_stock_writes(db, StockWrites::default())
    }

    /// An adapter sharing `db`'s pool, writing stock as `writes` says.
    #[must_use]
    pub fn with_stock_writes(db: DatabaseConnection, writes: StockWrites) -> Self {
        Self { db, writes }
    }
}

#[async_trait]
impl UnitOfWork for SeaOrmUnitOfWork {
    #[tracing::instrument(
        skip_all,
        fields(order_id = ?changeset.order_id(), stock_changes = changeset.stock().len())
    )]
    async fn commit(&self, changeset: Changeset) -> Result<(), StoreError> {
        write::commit(&self.db, std::slice::from_ref(&changeset), self.writes).await.map(drop)
    }

    #[tracing::instrument(skip_all, fields(changesets = changesets.len()))]
    async fn commit_all(&self, changesets: Vec<Changeset>) -> Result<(), StoreError> {
        write::commit(&self.db, &changesets, self.writes).await.map(drop)
    }
}
