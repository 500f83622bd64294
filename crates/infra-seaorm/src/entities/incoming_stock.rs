//! `incoming_stock`: units of a product on their way to a location, and their translation to
//! [`domain::incoming::Incoming`].

use domain::incoming::Incoming;
use domain::ports::StoreError;
use domain::{LocationId, ProductId, StockCount};
use sea_orm::entity::prelude::*;

use super::corrupt;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incoming_stock")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub location_id: Uuid,
    /// Never negative: a CHECK constraint, and deliveries that stop it at 0.
    pub quantity: i64,
    pub expected_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn into_domain(self) -> Result<Incoming, StoreError> {
        let key = format!("{}/{}", self.product_id, self.location_id);
        let bad = |e: domain::ports::BoxError| corrupt("incoming_stock", &key, e);
        Ok(Incoming {
            product_id: ProductId::new(self.product_id).map_err(|e| bad(e.into()))?,
            location_id: LocationId::new(self.location_id).map_err(|e| bad(e.into()))?,
            quantity: StockCount::new(self.quantity).map_err(|e| bad(e.into()))?,
            expected_at: self.expected_at,
        })
    }
}
