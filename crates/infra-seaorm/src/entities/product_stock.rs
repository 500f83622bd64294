//! `product_stock`: the counters of one product at one location, and their translation to and
//! from [`domain::ProductStock`].

use domain::backorder::BackorderPolicy;
use domain::limits::PurchaseLimits;
use domain::ports::StoreError;
use domain::{LocationId, ProductId, ProductStock, StockCount, Timestamp, Version};
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;

use super::corrupt;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "product_stock")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub location_id: Uuid,
    pub on_hand: i64,
    /// Never above `on_hand`: a CHECK constraint holds the line even against raw SQL.
    pub reserved: i64,
    /// Units on hand kept back from sale; the guarded UPDATE of a reservation reads it.
    pub safety_stock: i64,
    /// Bumped by every write; the guard of every versioned UPDATE.
    pub version: i64,
    pub updated_at: DateTimeUtc,
    /// A copy of `products.max_per_order`, for the checkout's read (see
    /// [`crate::SeaOrmStockRepository`]'s `get_many_for_sale`).
    pub max_per_order: Option<i64>,
    /// A copy of `products.max_per_customer`.
    pub max_per_customer: Option<i64>,
    /// A copy of `products.backorder_limit`: whether a checkout reads the product's counter.
    pub backorder_limit: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The location holding the row: a checkout's read joins it for priority and activity.
    #[sea_orm(
        belongs_to = "super::locations::Entity",
        from = "Column::LocationId",
        to = "super::locations::Column::Id"
    )]
    Location,
    /// The product: a checkout's read joins it for the price.
    #[sea_orm(
        belongs_to = "super::products::Entity",
        from = "Column::ProductId",
        to = "super::products::Column::Id"
    )]
    Product,
}

impl Related<super::locations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Location.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn into_domain(self) -> Result<ProductStock, StoreError> {
        restore(Counts {
            product_id: self.product_id,
            location_id: self.location_id,
            on_hand: self.on_hand,
            reserved: self.reserved,
            safety_stock: self.safety_stock,
            version: self.version,
        })
    }
}

/// The columns a [`ProductStock`] is made of.
#[derive(Debug, Clone, Copy, sea_orm::FromQueryResult)]
pub(crate) struct Counts {
    pub(crate) product_id: Uuid,
    pub(crate) location_id: Uuid,
    pub(crate) on_hand: i64,
    pub(crate) reserved: i64,
    pub(crate) safety_stock: i64,
    pub(crate) version: i64,
}

/// The stock of a row's columns, checked by [`ProductStock::restore_at`].
pub(crate) fn restore(row: Counts) -> Result<ProductStock, StoreError> {
    let key = format!("{}/{}", row.product_id, row.location_id);
    let bad = |e: domain::ports::BoxError| corrupt("product_stock", &key, e);
    let count = |n| StockCount::new(n).map_err(|e| bad(e.into()));
    ProductStock::restore_at(
        ProductId::new(row.product_id).map_err(|e| bad(e.into()))?,
        LocationId::new(row.location_id).map_err(|e| bad(e.into()))?,
        count(row.on_hand)?,
        count(row.reserved)?,
        count(row.safety_stock)?,
        Version::new(row.version).map_err(|e| bad(e.into()))?,
    )
    .map_err(|e| bad(e.into()))
}

/// The whole row of a new stock row, with the product's `limits` and backorder policy.
pub(crate) fn active_model(
    stock: &ProductStock,
    (limits, backorders): (PurchaseLimits, BackorderPolicy),
    updated_at: Timestamp,
) -> ActiveModel {
    ActiveModel {
        backorder_limit: Set(super::products::backorder_column(backorders)),
        max_per_order: Set(limits.per_order.map(|l| i64::from(l.get()))),
        max_per_customer: Set(limits.per_customer.map(|l| i64::from(l.get()))),
        product_id: Set(stock.product_id().as_uuid()),
        location_id: Set(stock.location_id().as_uuid()),
        on_hand: Set(stock.on_hand().get()),
        reserved: Set(stock.reserved().get()),
        safety_stock: Set(stock.safety_stock().get()),
        version: Set(stock.version().get()),
        updated_at: Set(updated_at),
    }
}
