//! [`SeaOrmClients`]: API clients in the `api_clients` table.
//!
//! No cache: every identification is one lookup by the unique digest index, so a revocation
//! committed by any process is seen by the next request of every process.

use async_trait::async_trait;
use domain::access::ApiClient;
use domain::ports::{ApiClientStore, KeyDigest, StoreError};
use domain::{ClientId, Timestamp};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::entities::api_clients::{self, Column, Entity, to_hex};
use crate::error::store_error;

/// [`ApiClientStore`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmClients {
    db: DatabaseConnection,
}

impl SeaOrmClients {
    /// An adapter sharing `db`'s pool.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    async fn get(&self, id: ClientId) -> Result<Option<ApiClient>, StoreError> {
        let row = Entity::find_by_id(id.as_uuid()).one(&self.db).await.map_err(store_error)?;
        row.map(|r| r.into_domain().map(|(client, _)| client)).transpose()
    }
}

#[async_trait]
impl ApiClientStore for SeaOrmClients {
    async fn create(&self, client: &ApiClient, digest: KeyDigest) -> Result<(), StoreError> {
        Entity::insert(api_clients::active_model(client, digest))
            .exec_without_returning(&self.db)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn find(&self, digest: KeyDigest) -> Result<Option<(ApiClient, KeyDigest)>, StoreError> {
        let row = Entity::find()
            .filter(Column::KeyDigest.eq(to_hex(digest)))
            .one(&self.db)
            .await
            .map_err(store_error)?;
        row.map(api_clients::Model::into_domain).transpose()
    }

    async fn list(&self) -> Result<Vec<ApiClient>, StoreError> {
        let rows = Entity::find()
            .order_by_asc(Column::CreatedAt)
            .order_by_asc(Column::Id)
            .all(&self.db)
            .await
            .map_err(store_error)?;
        rows.into_iter().map(|r| r.into_domain().map(|(client, _)| client)).collect()
    }

    async fn revoke(&self, id: ClientId, at: Timestamp) -> Result<Option<ApiClient>, StoreError> {
        // Only a client not yet revoked: the first revocation's time stays on record.
        Entity::update_many()
            .col_expr(Column::RevokedAt, Expr::value(Some(at)))
            .filter(Column::Id.eq(id.as_uuid()))
            .filter(Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(store_error)?;
        self.get(id).await
    }
}
