//! [`SeaOrmStockRepository`]: product stock, one row per (product, location), read with its
//! version, written through the versioned write of [`crate::write`].

use async_trait::async_trait;
use domain::access::Actor;
use domain::incoming::Incoming;
use domain::ports::{Changeset, KeyEffect, StockForSale, StockRepository, StoreError};
use domain::{LocationId, ProductId, ProductStock, StockChange, StockMovement, Timestamp};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait,
};

use crate::IDS_PER_QUERY;
use crate::entities::{
    incoming_stock, locations, product_backorders, product_stock, products, stock_movements,
};
use crate::error::{is_unique_violation, store_error};
use crate::transaction::{begin_write, finish};
use crate::write::{self, StockWrites};

/// A row of [`StockRepository::get_many_for_sale`]: the stock row's counts, its location's
/// priority, the product's price, and the product's limits as the row carries them.
#[derive(Debug, FromQueryResult)]
struct ForSale {
    #[sea_orm(nested)]
    counts: product_stock::Counts,
    priority: i32,
    price_amount: i64,
    currency: String,
    max_per_order: Option<i64>,
    max_per_customer: Option<i64>,
    backorder_limit: Option<i64>,
}

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
    #[tracing::instrument(skip_all, fields(%product_id, %location_id))]
    async fn get(
        &self,
        product_id: ProductId,
        location_id: LocationId,
    ) -> Result<Option<ProductStock>, StoreError> {
        product_stock::Entity::find_by_id((product_id.as_uuid(), location_id.as_uuid()))
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
                .order_by_asc(product_stock::Column::ProductId)
                .order_by_asc(product_stock::Column::LocationId)
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
    ) -> Result<Vec<StockForSale>, StoreError> {
        use product_stock::Column as Stock;

        let mut found = Vec::with_capacity(product_ids.len());
        for slice in product_ids.chunks(IDS_PER_QUERY) {
            // Only the columns a checkout decides on: the counts and version, the copy of the
            // product's limits that the stock row carries, the location's priority (a location's
            // priority or activity may change at any time), and the product's price (read here,
            // with the stock, rather than once more per checkout before its batch).
            let rows: Vec<ForSale> = product_stock::Entity::find()
                .select_only()
                .columns([Stock::ProductId, Stock::LocationId, Stock::OnHand, Stock::Reserved])
                .columns([Stock::SafetyStock, Stock::Version])
                .columns([Stock::MaxPerOrder, Stock::MaxPerCustomer, Stock::BackorderLimit])
                .column(locations::Column::Priority)
                .columns([products::Column::PriceAmount, products::Column::Currency])
                .join(JoinType::InnerJoin, product_stock::Relation::Location.def())
                .join(JoinType::InnerJoin, product_stock::Relation::Product.def())
                .filter(Stock::ProductId.is_in(padded(slice)))
                .filter(locations::Column::Active.eq(true))
                .into_model::<ForSale>()
                .all(&self.db)
                .await
                .map_err(store_error)?;
            for row in rows {
                let stock = product_stock::restore(row.counts)?;
                let id = row.counts.product_id;
                let limits = products::limits_of(id, row.max_per_order, row.max_per_customer)?;
                let price = products::price_of(id, row.price_amount, &row.currency)?;
                let backorder_limit =
                    products::backorder_policy_of(id, row.backorder_limit)?.limit();
                let priority = row.priority;
                found.push(StockForSale { stock, priority, price, limits, backorder_limit });
            }
        }
        Ok(found)
    }

    #[tracing::instrument(skip_all, fields(count = product_ids.len()))]
    async fn backordered(
        &self,
        product_ids: &[ProductId],
    ) -> Result<Vec<(ProductId, i64)>, StoreError> {
        use product_backorders::{Column, Entity};

        let mut found = Vec::new();
        for slice in product_ids.chunks(IDS_PER_QUERY) {
            let rows = Entity::find()
                .filter(Column::ProductId.is_in(slice.iter().map(|id| id.as_uuid())))
                .all(&self.db)
                .await
                .map_err(store_error)?;
            for row in rows {
                let id = ProductId::new(row.product_id).map_err(|e| {
                    crate::entities::corrupt("product_backorders", row.product_id, e)
                })?;
                found.push((id, row.backordered));
            }
        }
        Ok(found)
    }

    #[tracing::instrument(skip_all, fields(product_id = %incoming.product_id))]
    async fn set_incoming(&self, incoming: Incoming, at: Timestamp) -> Result<(), StoreError> {
        let txn = begin_write(&self.db).await?;
        let outcome = record_incoming(&txn, incoming, at).await;
        finish(txn, outcome).await
    }

    #[tracing::instrument(skip_all, fields(%product_id))]
    async fn incoming(&self, product_id: ProductId) -> Result<Vec<Incoming>, StoreError> {
        incoming_stock::Entity::find()
            .filter(incoming_stock::Column::ProductId.eq(product_id.as_uuid()))
            .order_by_asc(incoming_stock::Column::LocationId)
            .all(&self.db)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(incoming_stock::Model::into_domain)
            .collect()
    }

    #[tracing::instrument(skip_all, fields(%product_id, %location_id))]
    async fn open(
        &self,
        product_id: ProductId,
        location_id: LocationId,
        at: Timestamp,
    ) -> Result<ProductStock, StoreError> {
        if let Some(row) = self.get(product_id, location_id).await? {
            return Ok(row);
        }
        let txn = begin_write(&self.db).await?;
        let outcome = open_row(&txn, product_id, location_id, at).await;
        match finish(txn, outcome).await {
            // Another opener inserted it first: theirs is the row.
            Ok(()) | Err(StoreError::StockConflict(_)) => {}
            Err(err) => return Err(err),
        }
        self.get(product_id, location_id)
            .await?
            .ok_or_else(|| StoreError::unavailable("an opened stock row is gone"))
    }

    #[tracing::instrument(skip_all, fields(changesets = changesets.len()))]
    async fn save_many(&self, changesets: Vec<Changeset>) -> Result<Vec<ProductStock>, StoreError> {
        write::commit(&self.db, &changesets, self.writes).await
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
        let stored = write::commit(&self.db, std::slice::from_ref(&changeset), self.writes).await?;
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

/// Inserts the empty row of `product_id` at `location_id` with the product's limits and its
/// first ledger entry (a restock of nothing at version 1, outside the feed, like the first
/// entry of every row: the ledger then accounts for every version). A row a concurrent opener
/// inserted first is kept as it is.
async fn open_row(
    txn: &impl sea_orm::ConnectionTrait,
    product_id: ProductId,
    location_id: LocationId,
    at: Timestamp,
) -> Result<(), StoreError> {
    // The product's row locked: a PATCH of its limits (which writes the product, then every
    // stock row's copy) either commits before this copy is read or waits and then updates the
    // new row too. SQLite's write transaction already excludes it.
    let mut find = products::Entity::find_by_id(product_id.as_uuid());
    if txn.get_database_backend() != sea_orm::DbBackend::Sqlite {
        find = find.lock_exclusive();
    }
    let Some(product) = find.one(txn).await.map_err(store_error)? else {
        return Err(StoreError::ProductNotFound(product_id));
    };
    require_location(txn, location_id).await?;
    let limits = products::limits_of(product.id, product.max_per_order, product.max_per_customer)?;
    let backorders = products::backorder_policy_of(product.id, product.backorder_limit)?;
    let stock = ProductStock::new_at(product_id, location_id, domain::StockCount::ZERO);
    // A plain INSERT: the primary key decides between racing openers (the losers' statement
    // waits for the winner's commit and fails as a duplicate). An upsert would not tell them
    // apart everywhere (MariaDB counts a matched duplicate as an affected row), and each would
    // write a first ledger entry.
    match product_stock::Entity::insert(product_stock::active_model(
        &stock,
        (limits, backorders),
        at,
    ))
    .exec_without_returning(txn)
    .await
    {
        Ok(_) => {}
        Err(err) if is_unique_violation(&err) => return Err(StoreError::StockConflict(product_id)),
        Err(err) => return Err(store_error(err)),
    }
    stock_movements::Entity::insert(stock_movements::initial(&stock, Actor::System, at))
        .exec_without_returning(txn)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// [`StoreError::LocationNotFound`] unless `location_id` names a location: a row naming it is
/// about to be written, and a foreign key's failure would not say which id was missing.
async fn require_location(
    txn: &impl sea_orm::ConnectionTrait,
    location_id: LocationId,
) -> Result<(), StoreError> {
    let location = locations::Entity::find_by_id(location_id.as_uuid()).one(txn).await;
    match location.map_err(store_error)? {
        Some(_) => Ok(()),
        None => Err(StoreError::LocationNotFound(location_id)),
    }
}

/// Records `incoming` in `txn`: the product and the location checked first, so that a missing
/// one is named rather than reported as a foreign key's failure (which backends word
/// differently), then the row replaced.
async fn record_incoming(
    txn: &impl sea_orm::ConnectionTrait,
    incoming: Incoming,
    at: Timestamp,
) -> Result<(), StoreError> {
    use sea_orm::ActiveValue::Set;
    use sea_orm::sea_query::OnConflict;

    let (product_id, location_id) = (incoming.product_id, incoming.location_id);
    let product = products::Entity::find_by_id(product_id.as_uuid()).one(txn).await;
    if product.map_err(store_error)?.is_none() {
        return Err(StoreError::ProductNotFound(product_id));
    }
    require_location(txn, location_id).await?;
    let row = incoming_stock::ActiveModel {
        product_id: Set(product_id.as_uuid()),
        location_id: Set(location_id.as_uuid()),
        quantity: Set(incoming.quantity.get()),
        expected_at: Set(incoming.expected_at),
        updated_at: Set(at),
    };
    use incoming_stock::Column;
    incoming_stock::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([Column::ProductId, Column::LocationId])
                .update_columns([Column::Quantity, Column::ExpectedAt, Column::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// The ids of `slice`, the last one repeated up to the next power of two: the checkout's read
/// then has one SQL text per power of two instead of one per batch size. A database that
/// prepares statements (PostgreSQL through sqlx) plans each text anew until it settles on a
/// generic plan, and planning the read (a join with `locations` over an `IN` list) costs more
/// than running it; a handful of texts, each reused, plan a handful of times. A repeated id
/// matches the same rows once.
fn padded(slice: &[ProductId]) -> Vec<uuid::Uuid> {
    let mut ids: Vec<uuid::Uuid> = slice.iter().map(|id| id.as_uuid()).collect();
    if let Some(&last) = ids.last() {
        ids.resize(ids.len().next_power_of_two().min(IDS_PER_QUERY.max(ids.len())), last);
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u128) -> Vec<ProductId> {
        (1..=n).map(|i| ProductId::new(uuid::Uuid::from_u128(i)).expect("an id")).collect()
    }

    #[test]
    fn a_read_pads_its_ids_to_a_power_of_two_with_the_last_one_within_a_query_s_bound() {
        for (n, want) in [(0, 0), (1, 1), (3, 4), (5, 8), (64, 64), (600, 1_000), (1_000, 1_000)] {
            let slice = ids(n);
            let padded = padded(&slice);
            assert_eq!(padded.len(), want, "{n} ids");
            if let Some(last) = slice.last() {
                assert!(padded[slice.len()..].iter().all(|id| *id == last.as_uuid()));
                assert!(slice.iter().zip(&padded).all(|(id, p)| id.as_uuid() == *p));
            }
        }
    }
}
