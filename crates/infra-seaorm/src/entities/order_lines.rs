//! `order_lines`: one product of an order, and its translation to and from
//! [`domain::OrderLine`].

use domain::ports::StoreError;
use domain::{Currency, Money, OrderId, OrderLine, ProductId, Quantity};
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;

use super::corrupt;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: Uuid,
    pub quantity: i64,
    /// Minor units of `currency`, frozen at checkout.
    pub unit_price_amount: i64,
    pub currency: String,
    /// Units owed (not held at any location); a delivery fills them.
    pub backordered: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn into_domain(self) -> Result<OrderLine, StoreError> {
        let key = format!("{}/{}", self.order_id, self.product_id);
        Ok(OrderLine {
            product_id: ProductId::new(self.product_id)
                .map_err(|e| corrupt("order_lines", &key, e))?,
            quantity: Quantity::new(self.quantity).map_err(|e| corrupt("order_lines", &key, e))?,
            unit_price: Currency::new(&self.currency)
                .and_then(|currency| Money::new(self.unit_price_amount, currency))
                .map_err(|e| corrupt("order_lines", &key, e))?,
            // Read from `order_line_allocations` by the order's reader.
            allocations: Vec::new(),
            backordered: u32::try_from(self.backordered)
                .map_err(|e| corrupt("order_lines", &key, e))?,
        })
    }
}

pub(crate) fn active_model(order_id: OrderId, line: &OrderLine) -> ActiveModel {
    ActiveModel {
        order_id: Set(order_id.as_uuid()),
        product_id: Set(line.product_id.as_uuid()),
        quantity: Set(i64::from(line.quantity.get())),
        unit_price_amount: Set(line.unit_price.amount()),
        currency: Set(line.unit_price.currency().code().to_owned()),
        backordered: Set(i64::from(line.backordered)),
    }
}
