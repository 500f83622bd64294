//! [`SeaOrmStockRepository`]: product stock read with its version, written through the
//! versioned write of [`crate::write`].

use async_trait::async_trait;
use domain::access::Actor;
use domain::limits::PurchaseLimits;
use domain::ports::{Changeset, KeyEffect, StockRepository, StoreError};
use domain::{ProductId, ProductStock, StockChange, StockMovement, Timestamp};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::IDS_PER_QUERY;
use crate::entities::{product_stock, products, stock_movements};
use crate::error::store_error;
use crate::write::{self, Statements, StockWrites};

/// A row of [`StockRepository::get_many_for_sale`]: product id, on hand, reserved, version,
/// and the two limits.
type ForSale = (uuid::Uuid, i64, i64, i64, Option<i64>, Option<i64>);

/// [`StockRepository`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmStockRepository {
    db: DatabaseConnection,
    writes: StockWrites,
}

impl SeaOrmStockRepository {
    /// An adapter sharing `db`'s pool.
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
impl StockRepository for SeaOrmStockRepository {
    #[tracing::instrument(skip_all, fields(%product_id))]
    async fn get(&self, product_id: ProductId) -> Result<Option<ProductStock>, StoreError> {
        product_stock::Entity::find_by_id(product_id.as_uuid())
            .one(&self.db)
            .await
            .map_err(store_error)?
            .map(product_stock::Model::into_domain)
            .transpose()
    }

    #[tracing::instrument(skip_all, fields(count = product_ids.len()))]
    async fn get_many(&self, product_ids: &[ProductId]) -> Result<Vec<ProductStock>, StoreError> {
        let mut found = Vec::with_capacity(product_ids.len());
        for slice in product_ids.chunks(IDS_PER_QUERY) {
            let rows = product_stock::Entity::find()
                .filter(product_stock::Column::ProductId.is_in(slice.iter().map(|id| id.as_uuid())))
                .all(&self.db)
                .await
                .map_err(store_error)?;
            for row in rows {
                found.push(row.into_domain()?);
            }
        }
        Ok(found)
    }

    #[tracing::instrument(skip_all, fields(count = product_ids.len()))]
    async fn get_many_for_sale(
        &self,
        product_ids: &[ProductId],
    ) -> Result<Vec<(ProductStock, PurchaseLimits)>, StoreError> {
        use product_stock::Column as Stock;

        let mut found = Vec::with_capacity(product_ids.len());
        for slice in product_ids.chunks(IDS_PER_QUERY) {
            // Only the columns a checkout decides on: the counts and version, and the copy of
            // the product's limits that the stock row carries (no join).
            let rows: Vec<ForSale> = product_stock::Entity::find()
                .select_only()
                .columns([Stock::ProductId, Stock::OnHand, Stock::Reserved, Stock::Version])
                .columns([Stock::MaxPerOrder, Stock::MaxPerCustomer])
                .filter(Stock::ProductId.is_in(slice.iter().map(|id| id.as_uuid())))
                .into_tuple()
                .all(&self.db)
                .await
                .map_err(store_error)?;
            for (id, on_hand, reserved, version, per_order, per_customer) in rows {
                let stock = product_stock::restore(id, on_hand, reserved, version)?;
                let limits = products::limits_of(id, per_order, per_customer)?;
                found.push((stock, limits));
            }
        }
        Ok(found)
    }

    #[tracing::instrument(skip_all, fields(changesets = changesets.len()))]
    async fn save_many(&self, changesets: Vec<Changeset>) -> Result<Vec<ProductStock>, StoreError> {
        write::commit(&self.db, &changesets, self.writes, Statements::Grouped).await
    }

    #[tracing::instrument(skip_all, fields(product_id = %change.product_id(), kind = change.kind().as_str()))]
    async fn save(
        &self,
        change: StockChange,
        reason: Option<String>,
        actor: Actor,
        key: Option<KeyEffect>,
        at: Timestamp,
    ) -> Result<ProductStock, StoreError> {
        let product_id = change.product_id();
        let mut changeset = Changeset::new(vec![change], None, at).with_reason(reason).by(actor);
        if let Some(key) = key {
            changeset = changeset.with_key(key);
        }
        let stored = write::commit(
            &self.db,
            std::slice::from_ref(&changeset),
            self.writes,
            Statements::PerRow,
        )
        .await?;
        stored.into_iter().next().ok_or(StoreError::ProductNotFound(product_id))
    }

    #[tracing::instrument(skip_all, fields(%product_id, limit))]
    async fn movements(
        &self,
        product_id: ProductId,
        limit: u32,
    ) -> Result<Vec<StockMovement>, StoreError> {
        stock_movements::Entity::find()
            .filter(stock_movements::Column::ProductId.eq(product_id.as_uuid()))
            .order_by_desc(stock_movements::Column::Id)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(stock_movements::Model::into_domain)
            .collect()
    }
}
