//! [`SeaOrmProductRepository`]: the catalogue, and the creation of a product together with
//! its stock and first ledger entry.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use domain::access::Actor;
use domain::ports::{ProductRepository, StoreError};
use domain::{Product, ProductId, ProductStock};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::IDS_PER_QUERY;
use crate::entities::{product_stock, products, stock_movements};
use crate::error::{is_duplicate_sku, store_error};
use crate::transaction::{begin_write, finish};

/// [`ProductRepository`] over SeaORM, with an in-process cache of products.
///
/// A product never changes after it is created (contract v1 has no update or delete), so a
/// cached product is never stale, whichever process created it: every checkout's price lookup
/// after the first is a map read instead of a query. The cache holds at most one entry per
/// product of the catalogue. Whoever adds a price update must invalidate it (or drop it).
#[derive(Debug, Clone)]
pub struct SeaOrmProductRepository {
    db: DatabaseConnection,
    cache: Arc<RwLock<HashMap<ProductId, Product>>>,
}

impl SeaOrmProductRepository {
    /// An adapter sharing `db`'s pool.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db, cache: Arc::default() }
    }

    fn cached(&self, id: ProductId) -> Option<Product> {
        self.cache.read().ok()?.get(&id).cloned()
    }

    fn remember(&self, products: &[Product]) {
        // A poisoned lock only means another thread panicked mid-insert; the map is still a
        // valid cache, and skipping the insert is always safe.
        if let Ok(mut cache) = self.cache.write() {
            cache.extend(products.iter().map(|p| (p.id, p.clone())));
        }
    }
}

async fn insert_all(
    txn: &impl ConnectionTrait,
    product: &Product,
    stock: &ProductStock,
    actor: Actor,
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
    stock_movements::Entity::insert(stock_movements::initial(stock, actor, product.created_at))
        .exec_without_returning(txn)
        .await
        .map_err(store_error)?;
    Ok(())
}

#[async_trait]
impl ProductRepository for SeaOrmProductRepository {
    #[tracing::instrument(skip_all, fields(product_id = %product.id, sku = %product.sku))]
    async fn create(
        &self,
        product: Product,
        stock: ProductStock,
        actor: Actor,
    ) -> Result<(), StoreError> {
        let txn = begin_write(&self.db).await?;
        let outcome = insert_all(&txn, &product, &stock, actor).await;
        finish(txn, outcome).await?;
        self.remember(std::slice::from_ref(&product));
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%product_id))]
    async fn get(&self, product_id: ProductId) -> Result<Option<Product>, StoreError> {
        Ok(self.get_many(&[product_id]).await?.pop())
    }

    #[tracing::instrument(skip_all, fields(count = product_ids.len()))]
    async fn get_many(&self, product_ids: &[ProductId]) -> Result<Vec<Product>, StoreError> {
        let mut found = Vec::with_capacity(product_ids.len());
        let mut missing = Vec::new();
        for &id in product_ids {
            match self.cached(id) {
                Some(product) => found.push(product),
                None => missing.push(id.as_uuid()),
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let mut loaded = Vec::with_capacity(missing.len());
        for slice in missing.chunks(IDS_PER_QUERY) {
            let rows = products::Entity::find()
                .filter(products::Column::Id.is_in(slice.iter().copied()))
                .all(&self.db)
                .await
                .map_err(store_error)?;
            for row in rows {
                loaded.push(row.into_domain()?);
            }
        }
        self.remember(&loaded);
        found.extend(loaded);
        Ok(found)
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
