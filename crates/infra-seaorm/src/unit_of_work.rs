//! [`SeaOrmUnitOfWork`]: a checkout, payment, cancellation or expiry written in one
//! transaction.

use async_trait::async_trait;
use domain::ports::{Changeset, StoreError, UnitOfWork};
use sea_orm::DatabaseConnection;

use crate::write;

/// [`UnitOfWork`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmUnitOfWork {
    db: DatabaseConnection,
}

impl SeaOrmUnitOfWork {
    /// An adapter sharing `db`'s pool.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl UnitOfWork for SeaOrmUnitOfWork {
    #[tracing::instrument(
        skip_all,
        fields(order_id = ?changeset.order_id(), stock_changes = changeset.stock().len())
    )]
    async fn commit(&self, changeset: Changeset) -> Result<(), StoreError> {
        write::commit(&self.db, &changeset).await
    }
}
