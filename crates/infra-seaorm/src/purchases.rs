//! [`SeaOrmPurchaseCounters`]: reads of the per-(customer, product) purchase counters. They are
//! written by the versioned write of [`crate::write`], with the orders that move them.

use std::collections::BTreeMap;

use async_trait::async_trait;
use domain::limits::PurchaseKey;
use domain::ports::{PurchaseCounters, StoreError};
use domain::{CustomerId, ProductId};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};

use crate::IDS_PER_QUERY;
use crate::entities::{corrupt, customer_purchases};
use crate::error::store_error;

/// [`PurchaseCounters`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmPurchaseCounters {
    db: DatabaseConnection,
}

impl SeaOrmPurchaseCounters {
    /// An adapter sharing `db`'s pool.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl PurchaseCounters for SeaOrmPurchaseCounters {
    #[tracing::instrument(skip_all, fields(count = keys.len()))]
    async fn get_many(&self, keys: &[PurchaseKey]) -> Result<Vec<(PurchaseKey, i64)>, StoreError> {
        use customer_purchases::{Column, Entity};

        // One condition per customer: `customer_id = ? AND product_id IN (…)`, OR-ed.
        let mut per_customer: BTreeMap<&CustomerId, Vec<ProductId>> = BTreeMap::new();
        for key in keys {
            per_customer.entry(&key.customer_id).or_default().push(key.product_id);
        }
        let mut found = Vec::with_capacity(keys.len());
        let groups: Vec<_> = per_customer.into_iter().collect();
        for chunk in groups.chunks(IDS_PER_QUERY / 10) {
            let mut any = Condition::any();
            for (customer, products) in chunk {
                any = any.add(
                    Condition::all()
                        .add(Column::CustomerId.eq(customer.as_str()))
                        .add(Column::ProductId.is_in(products.iter().map(ProductId::as_uuid))),
                );
            }
            let rows = Entity::find().filter(any).all(&self.db).await.map_err(store_error)?;
            for row in rows {
                let table = "customer_purchases";
                let customer_id: CustomerId =
                    row.customer_id.parse().map_err(|e| corrupt(table, &row.customer_id, e))?;
                let product_id = ProductId::new(row.product_id)
                    .map_err(|e| corrupt(table, row.product_id, e))?;
                found.push((PurchaseKey { customer_id, product_id }, row.units));
            }
        }
        Ok(found)
    }
}
