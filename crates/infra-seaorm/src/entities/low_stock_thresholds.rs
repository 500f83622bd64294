//! `low_stock_thresholds`: each setting of a product's low-stock threshold, with the feed
//! position it applies after (see the migration that made it).

use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "low_stock_thresholds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: Uuid,
    /// The last sequence committed when it was set: it judges the changes after it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub from_sequence: i64,
    /// NULL: no alert from then on.
    pub threshold: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The setting of `product`'s threshold to `threshold` after `from_sequence`.
pub(crate) fn setting(product: Uuid, from_sequence: i64, threshold: Option<i64>) -> ActiveModel {
    ActiveModel {
        product_id: Set(product),
        from_sequence: Set(from_sequence),
        threshold: Set(threshold),
    }
}
