//! `order_line_allocations`: where an order line's units are held, one row per location, and
//! their translation to and from [`domain::allocation::Allocation`].

use domain::allocation::Allocation;
use domain::ports::StoreError;
use domain::{LocationId, OrderId, Quantity};
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;

use super::corrupt;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_line_allocations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub location_id: Uuid,
    /// At least one.
    pub quantity: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn into_domain(self) -> Result<Allocation, StoreError> {
        let key = format!("{}/{}/{}", self.order_id, self.product_id, self.location_id);
        Ok(Allocation {
            location_id: LocationId::new(self.location_id)
                .map_err(|e| corrupt("order_line_allocations", &key, e))?,
            quantity: Quantity::new(self.quantity)
                .map_err(|e| corrupt("order_line_allocations", &key, e))?,
        })
    }
}

/// The rows of the allocations of `order`'s lines that hold units outside the default
/// location. A line held wholly at the default location (every line of a single-location
/// shop) writes none: its units are where a line without rows has them (see
/// [`domain::OrderLine::sources`]), and the checkout's commit stays one INSERT shorter.
pub(crate) fn active_models(order_id: OrderId, lines: &[domain::OrderLine]) -> Vec<ActiveModel> {
    lines
        .iter()
        .filter(|line| line.sources().iter().any(|a| a.location_id != LocationId::DEFAULT))
        .flat_map(|line| {
            line.sources().into_iter().map(move |a| ActiveModel {
                order_id: Set(order_id.as_uuid()),
                product_id: Set(line.product_id.as_uuid()),
                location_id: Set(a.location_id.as_uuid()),
                quantity: Set(i64::from(a.quantity.get())),
            })
        })
        .collect()
}
