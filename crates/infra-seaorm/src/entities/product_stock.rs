//! `product_stock`: the counters of one product, and their translation to and from
//! [`domain::ProductStock`].

use domain::limits::PurchaseLimits;
use domain::ports::StoreError;
use domain::{ProductId, ProductStock, StockCount, Timestamp, Version};
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;

use super::corrupt;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "product_stock")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: Uuid,
    pub on_hand: i64,
    /// Never above `on_hand`: a CHECK constraint holds the line even against raw SQL.
    pub reserved: i64,
    /// Bumped by every write; the guard of every versioned UPDATE.
    pub version: i64,
    pub updated_at: DateTimeUtc,
    /// A copy of `products.max_per_order`, for the checkout's read (see
    /// [`crate::SeaOrmStockRepository`]'s `get_many_for_sale`).
    pub max_per_order: Option<i64>,
    /// A copy of `products.max_per_customer`.
    pub max_per_customer: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn into_domain(self) -> Result<ProductStock, StoreError> {
        restore(self.product_id, self.on_hand, self.reserved, self.version)
    }
}

/// The stock of a row's columns, checked by [`ProductStock::restore`].
pub(crate) fn restore(
    id: Uuid,
    on_hand: i64,
    reserved: i64,
    version: i64,
) -> Result<ProductStock, StoreError> {
    ProductStock::restore(
        ProductId::new(id).map_err(|e| corrupt("product_stock", id, e))?,
        StockCount::new(on_hand).map_err(|e| corrupt("product_stock", id, e))?,
        StockCount::new(reserved).map_err(|e| corrupt("product_stock", id, e))?,
        Version::new(version).map_err(|e| corrupt("product_stock", id, e))?,
    )
    .map_err(|e| corrupt("product_stock", id, e))
}

/// The whole row of a new product's stock, with the product's `limits`.
pub(crate) fn active_model(
    stock: &ProductStock,
    limits: PurchaseLimits,
    updated_at: Timestamp,
) -> ActiveModel {
    ActiveModel {
        max_per_order: Set(limits.per_order.map(|l| i64::from(l.get()))),
        max_per_customer: Set(limits.per_customer.map(|l| i64::from(l.get()))),
        product_id: Set(stock.product_id().as_uuid()),
        on_hand: Set(stock.on_hand().get()),
        reserved: Set(stock.reserved().get()),
        version: Set(stock.version().get()),
        updated_at: Set(updated_at),
    }
}
