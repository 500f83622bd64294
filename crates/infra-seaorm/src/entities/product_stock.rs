//! `product_stock`: the counters of one product, and their translation to and from
//! [`domain::ProductStock`].

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
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The product whose stock this is: read together with the stock when a checkout needs the
    /// product's purchase limits as they are now.
    #[sea_orm(
        belongs_to = "super::products::Entity",
        from = "Column::ProductId",
        to = "super::products::Column::Id"
    )]
    Product,
}

impl Related<super::products::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Product.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn into_domain(self) -> Result<ProductStock, StoreError> {
        let id = self.product_id;
        ProductStock::restore(
            ProductId::new(id).map_err(|e| corrupt("product_stock", id, e))?,
            StockCount::new(self.on_hand).map_err(|e| corrupt("product_stock", id, e))?,
            StockCount::new(self.reserved).map_err(|e| corrupt("product_stock", id, e))?,
            Version::new(self.version).map_err(|e| corrupt("product_stock", id, e))?,
        )
        .map_err(|e| corrupt("product_stock", id, e))
    }
}

pub(crate) fn active_model(stock: &ProductStock, updated_at: Timestamp) -> ActiveModel {
    ActiveModel {
        product_id: Set(stock.product_id().as_uuid()),
        on_hand: Set(stock.on_hand().get()),
        reserved: Set(stock.reserved().get()),
        version: Set(stock.version().get()),
        updated_at: Set(updated_at),
    }
}
