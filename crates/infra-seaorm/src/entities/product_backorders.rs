//! `product_backorders`: units of one product owed to orders beyond stock (see
//! [`domain::backorder`]). Written only by the commits that place, fill, cancel and expire
//! orders that owe units.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "product_backorders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: Uuid,
    /// Never negative: a CHECK constraint, and give-backs that stop at 0.
    pub backordered: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
