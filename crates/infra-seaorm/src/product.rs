//! [`SeaOrmProductRepository`]: the catalogue, and the creation of a product together with
//! its stock and first ledger entry.

use std::collections::HashMap;

use async_trait::async_trait;
use domain::access::Actor;
use domain::limits::{LimitsPatch, PurchaseLimit};
use domain::ports::{ProductRepository, StoreError};
use domain::{Product, ProductId, ProductPatch, ProductStock, StockCount};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};

use crate::IDS_PER_QUERY;
use crate::entities::{
    low_stock_thresholds, product_backorders, product_stock, products, stock_movements,
};
use crate::error::{is_duplicate_sku, store_error};
use crate::events::sequence;
use crate::transaction::{begin_write, finish};

/// [`ProductRepository`] over SeaORM.
///
/// Nothing is cached: a checkout prices its cart from the read its stock is decided on
/// ([`domain::ports::StockRepository::get_many_for_sale`]), so no process can charge a price
/// or apply a limit another has changed.
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

    /// The products of `rows`, each with the units it owes to orders (one query for all of
    /// them; a product without a counter owes none).
    async fn with_backordered(
        &self,
        rows: Vec<products::Model>,
    ) -> Result<Vec<Product>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let owed: HashMap<_, _> = product_backorders::Entity::find()
            .filter(product_backorders::Column::ProductId.is_in(rows.iter().map(|row| row.id)))
            .all(&self.db)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|counter| (counter.product_id, counter.backordered))
            .collect();
        (rows.into_iter())
            .map(|row| {
                let backordered = owed.get(&row.id).copied().unwrap_or(0);
                row.into_domain(backordered)
            })
            .collect()
    }
}

async fn insert_all(
    txn: &impl ConnectionTrait,
    product: &Product,
    stock: &ProductStock,
    actor: Actor,
) -> Result<(), StoreError> {
    // Two events, `product.created` then the initial `stock.changed`. The sequence row is
    // taken first here, unlike in a stock commit: a new product's rows lock nothing anyone
    // else holds, so no cycle can form.
    let first = sequence::take(txn, 2).await?;
    // The unique index on sku is the arbiter: checking first would race another creation.
    products::Entity::insert(products::active_model(product, first))
        .exec_without_returning(txn)
        .await
        .map_err(|err| {
            if is_duplicate_sku(&err) {
                StoreError::DuplicateSku(product.sku.clone())
            } else {
                store_error(err)
            }
        })?;
    product_stock::Entity::insert(product_stock::active_model(
        stock,
        (product.limits, product.backorders),
        product.created_at,
    ))
    .exec_without_returning(txn)
    .await
    .map_err(store_error)?;
    if let Some(threshold) = product.low_stock_threshold {
        // In force from the initial stock change on (the one at `first + 1`).
        let setting =
            low_stock_thresholds::setting(product.id.as_uuid(), first, Some(threshold.get()));
        low_stock_thresholds::Entity::insert(setting)
            .exec_without_returning(txn)
            .await
            .map_err(store_error)?;
    }
    let initial = stock_movements::initial(stock, actor, product.created_at);
    let counters = (stock.on_hand().get(), stock.reserved().get(), stock.safety_stock().get());
    stock_movements::Entity::insert(stock_movements::in_feed(initial, first + 1, counters))
        .exec_without_returning(txn)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// Writes `patch` in `txn`: the product's columns, the stock rows' copy of the limits and
/// backorder policy, and a new threshold's place in the feed.
async fn write_patch(
    txn: &impl ConnectionTrait,
    product_id: ProductId,
    patch: ProductPatch,
) -> Result<(), StoreError> {
    let as_column = |limit: Option<PurchaseLimit>| Expr::value(limit.map(|l| i64::from(l.get())));
    let id = product_id.as_uuid();
    let mut product = products::Entity::update_many().filter(products::Column::Id.eq(id));
    let mut stock =
        product_stock::Entity::update_many().filter(product_stock::Column::ProductId.eq(id));
    let LimitsPatch { per_order, per_customer } = patch.limits;
    if let Some(per_order) = per_order {
        product = product.col_expr(products::Column::MaxPerOrder, as_column(per_order));
        stock = stock.col_expr(product_stock::Column::MaxPerOrder, as_column(per_order));
    }
    if let Some(per_customer) = per_customer {
        product = product.col_expr(products::Column::MaxPerCustomer, as_column(per_customer));
        stock = stock.col_expr(product_stock::Column::MaxPerCustomer, as_column(per_customer));
    }
    if let Some(backorders) = patch.backorders {
        let limit = Expr::value(products::backorder_column(backorders));
        product = product.col_expr(products::Column::BackorderLimit, limit.clone());
        stock = stock.col_expr(product_stock::Column::BackorderLimit, limit);
    }
    let threshold = patch.low_stock_threshold.map(|t| t.map(StockCount::get));
    if let Some(threshold) = threshold {
        product = product.col_expr(products::Column::LowStockThreshold, Expr::value(threshold));
    }
    let updated = product.exec(txn).await.map_err(store_error)?;
    if patch.limits != LimitsPatch::default() || patch.backorders.is_some() {
        stock.exec(txn).await.map_err(store_error)?;
    }
    if let Some(threshold) = threshold
        && updated.rows_affected == 1
    {
        // Taken after the product and stock rows, like every writer of events: no lock cycle.
        // The changes committed after this one are judged by the new threshold, the earlier
        // ones keep theirs. Two settings with no event between share a position: the later
        // one replaces the earlier.
        let from = sequence::hold(txn).await?;
        low_stock_thresholds::Entity::delete_many()
            .filter(low_stock_thresholds::Column::ProductId.eq(id))
            .filter(low_stock_thresholds::Column::FromSequence.eq(from))
            .exec(txn)
            .await
            .map_err(store_error)?;
        low_stock_thresholds::Entity::insert(low_stock_thresholds::setting(id, from, threshold))
            .exec_without_returning(txn)
            .await
            .map_err(store_error)?;
    }
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
        finish(txn, outcome).await
    }

    #[tracing::instrument(skip_all, fields(%product_id))]
    async fn update(
        &self,
        product_id: ProductId,
        patch: ProductPatch,
    ) -> Result<Option<Product>, StoreError> {
        // The product and its stock row's copy of the limits, and the threshold's history,
        // together; an empty patch writes nothing (an UPDATE without SET is no SQL).
        if !patch.is_empty() {
            let txn = begin_write(&self.db).await?;
            let outcome = write_patch(&txn, product_id, patch).await;
            finish(txn, outcome).await?;
        }
        self.get(product_id).await
    }

    #[tracing::instrument(skip_all, fields(%product_id))]
    async fn get(&self, product_id: ProductId) -> Result<Option<Product>, StoreError> {
        let row = products::Entity::find_by_id(product_id.as_uuid())
            .one(&self.db)
            .await
            .map_err(store_error)?;
        Ok(self.with_backordered(row.into_iter().collect()).await?.pop())
    }

    #[tracing::instrument(skip_all, fields(count = product_ids.len()))]
    async fn get_many(&self, product_ids: &[ProductId]) -> Result<Vec<Product>, StoreError> {
        let mut found = Vec::with_capacity(product_ids.len());
        for slice in product_ids.chunks(IDS_PER_QUERY) {
            let rows = products::Entity::find()
                .filter(products::Column::Id.is_in(slice.iter().map(|id| id.as_uuid())))
                .all(&self.db)
                .await
                .map_err(store_error)?;
            found.extend(self.with_backordered(rows).await?);
        }
        Ok(found)
    }

    #[tracing::instrument(skip_all, fields(?after, limit))]
    async fn list(&self, after: Option<ProductId>, limit: u32) -> Result<Vec<Product>, StoreError> {
        let mut query = products::Entity::find().order_by_asc(products::Column::Id);
        if let Some(after) = after {
            // Keyset pagination: every backend orders UUIDs by their bytes, as `ProductId` does.
            query = query.filter(products::Column::Id.gt(after.as_uuid()));
        }
        let rows = query.limit(u64::from(limit)).all(&self.db).await.map_err(store_error)?;
        self.with_backordered(rows).await
    }
}
