//! `customer_purchases`: units of one product an asserted customer holds reserved or paid (see
//! [`domain::limits`]). Written only by the commits that place, cancel and expire orders.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_purchases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: Uuid,
    /// Never negative: a CHECK constraint, and releases that stop at 0.
    pub units: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
