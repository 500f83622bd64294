//! [`SeaOrmProductRepository`]: the catalogue, and the creation of a product together with
//! its stock and first ledger entry.

use async_trait::async_trait;
use domain::ports::{ProductRepository, StoreError};
use domain::{Product, ProductId, ProductStock};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::entities::{product_stock, products, stock_movements};
use crate::error::{is_duplicate_sku, store_error};
use crate::transaction::{begin_write, finish};

/// [`ProductRepository`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmProductRepository {
    db: DatabaseConnection,
}

impl SeaOrmProductRepository {
    /// An adapter sharing `db`'s pool.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

async fn insert_all(
    txn: &impl ConnectionTrait,
    product: &Product,
    stock: &ProductStock,
) -> Result<(), StoreError> {
    // The unique index on sku is the arbiter: checking first would race another creation.
    products::Entity::insert(products::active_model(product))
        .exec_without_returning(txn)
        .await
        .map_err(|err| {
            if is_duplicate_sku(&err) {
                StoreError::DuplicateSku(product.sku.clone())
            } else {
                store_error(err)
            }
        })?;
    product_stock::Entity::insert(product_stock::active_model(stock, product.created_at))
        .exec_without_returning(txn)
        .await
        .map_err(store_error)?;
    stock_movements::Entity::insert(stock_movements::initial(stock, product.created_at))
        .exec_without_returning(txn)
        .await
        .map_err(store_error)?;
    Ok(())
}

#[async_trait]
impl ProductRepository for SeaOrmProductRepository {
    #[tracing::instrument(skip_all, fields(product_id = %product.id, sku = %product.sku))]
    async fn create(&self, product: Product, stock: ProductStock) -> Result<(), StoreError> {
        let txn = begin_write(&self.db).await?;
        let outcome = insert_all(&txn, &product, &stock).await;
        finish(txn, outcome).await
    }

    #[tracing::instrument(skip_all, fields(%product_id))]
    async fn get(&self, product_id: ProductId) -> Result<Option<Product>, StoreError> {
        products::Entity::find_by_id(product_id.as_uuid())
            .one(&self.db)
            .await
            .map_err(store_error)?
            .map(products::Model::into_domain)
            .transpose()
    }

    #[tracing::instrument(skip_all, fields(count = product_ids.len()))]
    async fn get_many(&self, product_ids: &[ProductId]) -> Result<Vec<Product>, StoreError> {
        if product_ids.is_empty() {
            return Ok(Vec::new());
        }
        products::Entity::find()
            .filter(products::Column::Id.is_in(product_ids.iter().map(|id| id.as_uuid())))
            .all(&self.db)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(products::Model::into_domain)
            .collect()
    }

    #[tracing::instrument(skip_all, fields(?after, limit))]
    async fn list(&self, after: Option<ProductId>, limit: u32) -> Result<Vec<Product>, StoreError> {
        let mut query = products::Entity::find().order_by_asc(products::Column::Id);
        if let Some(after) = after {
            // Keyset pagination: every backend orders UUIDs by their bytes, as `ProductId` does.
            query = query.filter(products::Column::Id.gt(after.as_uuid()));
        }
        query
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(products::Model::into_domain)
            .collect()
    }
}
