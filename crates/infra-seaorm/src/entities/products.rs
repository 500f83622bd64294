//! `products`: the catalogue row, and its translation to and from [`domain::Product`].

use domain::backorder::{BackorderLimit, BackorderPolicy};
use domain::limits::{PurchaseLimit, PurchaseLimits};
use domain::ports::StoreError;
use domain::{Currency, Money, Product, ProductId, ProductName, Sku, StockCount};
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;

use super::corrupt;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    /// Minor units of `currency`.
    pub price_amount: i64,
    pub currency: String,
    /// Units one order may hold; NULL is no limit.
    pub max_per_order: Option<i64>,
    /// Units one asserted customer may hold reserved or paid; NULL is no limit.
    pub max_per_customer: Option<i64>,
    /// Available units at or below which a change is followed by `stock.low`; NULL: none.
    pub low_stock_threshold: Option<i64>,
    /// Units it may owe to orders beyond stock; NULL: it takes no backorders.
    pub backorder_limit: Option<i64>,
    pub created_at: DateTimeUtc,
    /// Its `product.created` event's place in the feed; NULL on products created before it.
    pub created_sequence: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The limits of this row.
    pub(crate) fn limits(&self) -> Result<PurchaseLimits, StoreError> {
        limits_of(self.id, self.max_per_order, self.max_per_customer)
    }

    /// The product of this row, owing `backordered` units (its counter, read apart).
    pub(crate) fn into_domain(self, backordered: i64) -> Result<Product, StoreError> {
        let id = self.id;
        let limits = self.limits()?;
        let backorders = backorder_policy_of(id, self.backorder_limit)?;
        let price = price_of(id, self.price_amount, &self.currency)?;
        Ok(Product {
            id: ProductId::new(id).map_err(|e| corrupt("products", id, e))?,
            sku: Sku::new(self.sku).map_err(|e| corrupt("products", id, e))?,
            name: ProductName::new(&self.name).map_err(|e| corrupt("products", id, e))?,
            price,
            limits,
            low_stock_threshold: self
                .low_stock_threshold
                .map(StockCount::new)
                .transpose()
                .map_err(|e| corrupt("products", id, e))?,
            backorders,
            backordered: StockCount::new(backordered).map_err(|e| corrupt("products", id, e))?,
            created_at: self.created_at,
        })
    }
}

/// The price of product `id`'s `price_amount` and `currency` columns.
pub(crate) fn price_of(id: Uuid, amount: i64, currency: &str) -> Result<Money, StoreError> {
    Currency::new(currency)
        .and_then(|currency| Money::new(amount, currency))
        .map_err(|e| corrupt("products", id, e))
}

/// The limits of product `id`'s `max_per_order` and `max_per_customer` columns.
pub(crate) fn limits_of(
    id: Uuid,
    max_per_order: Option<i64>,
    max_per_customer: Option<i64>,
) -> Result<PurchaseLimits, StoreError> {
    let limit = |value: Option<i64>| {
        value.map(PurchaseLimit::new).transpose().map_err(|e| corrupt("products", id, e))
    };
    Ok(PurchaseLimits { per_order: limit(max_per_order)?, per_customer: limit(max_per_customer)? })
}

/// The backorder policy of product `id`'s `backorder_limit` column (or a stock row's copy).
pub(crate) fn backorder_policy_of(
    id: Uuid,
    limit: Option<i64>,
) -> Result<BackorderPolicy, StoreError> {
    let limit =
        limit.map(BackorderLimit::new).transpose().map_err(|e| corrupt("products", id, e))?;
    Ok(BackorderPolicy::of(limit))
}

/// A backorder policy as its column holds it.
pub(crate) fn backorder_column(policy: BackorderPolicy) -> Option<i64> {
    policy.limit().map(|l| i64::from(l.get()))
}

/// The whole row of a new product, its `product.created` the `sequence`-th event of the feed.
pub(crate) fn active_model(product: &Product, sequence: i64) -> ActiveModel {
    ActiveModel {
        id: Set(product.id.as_uuid()),
        sku: Set(product.sku.as_str().to_owned()),
        name: Set(product.name.as_str().to_owned()),
        price_amount: Set(product.price.amount()),
        currency: Set(product.price.currency().code().to_owned()),
        max_per_order: Set(product.limits.per_order.map(|l| i64::from(l.get()))),
        max_per_customer: Set(product.limits.per_customer.map(|l| i64::from(l.get()))),
        low_stock_threshold: Set(product.low_stock_threshold.map(StockCount::get)),
        backorder_limit: Set(backorder_column(product.backorders)),
        created_at: Set(product.created_at),
        created_sequence: Set(Some(sequence)),
    }
}
