//! `orders`: the order header, and its translation to and from [`domain::Order`] (whose lines
//! come from [`super::order_lines`]).

use domain::ports::StoreError;
use domain::{
    Currency, Customer, CustomerId, Money, Order, OrderId, OrderLine, OrderRecord, OrderStatus,
    Version,
};
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;

use super::{corrupt, parse_actor};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// [`OrderStatus::as_str`].
    pub status: String,
    /// Minor units of `currency`; the sum of the lines.
    pub total_amount: i64,
    pub currency: String,
    /// [`CustomerId`]'s text.
    pub customer_id: Option<String>,
    /// Whether a client with `customers:assert` named the customer (then the order counts
    /// against per-customer limits).
    pub customer_asserted: bool,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub paid_at: Option<DateTimeUtc>,
    pub cancelled_at: Option<DateTimeUtc>,
    pub expired_at: Option<DateTimeUtc>,
    /// [`domain::access::Actor`]'s text; NULL on orders placed before actors were recorded.
    pub placed_by: Option<String>,
    /// Who paid, cancelled or expired it; NULL while reserved.
    pub settled_by: Option<String>,
    /// Bumped by every transition; the guard of every versioned UPDATE.
    pub version: i64,
    /// Its `order.reserved` event's place in the feed; NULL on orders placed before the feed.
    pub reserved_sequence: Option<i64>,
    /// Its `order.paid|cancelled|expired` event's place in the feed; NULL while reserved.
    pub settled_sequence: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The order with `lines`, checked by [`Order::restore`].
    pub(crate) fn into_domain(self, lines: Vec<OrderLine>) -> Result<Order, StoreError> {
        let id = self.id;
        let status = OrderStatus::parse(&self.status)
            .ok_or_else(|| corrupt("orders", id, format!("status {:?}", self.status)))?;
        let total = Currency::new(&self.currency)
            .and_then(|currency| Money::new(self.total_amount, currency))
            .map_err(|e| corrupt("orders", id, e))?;
        let record = OrderRecord {
            id: OrderId::new(id).map_err(|e| corrupt("orders", id, e))?,
            status,
            lines,
            total,
            customer: self
                .customer_id
                .map(|text| text.parse::<CustomerId>())
                .transpose()
                .map_err(|e| corrupt("orders", id, e))?
                .map(|id| Customer { id, asserted: self.customer_asserted }),
            created_at: self.created_at,
            expires_at: self.expires_at,
            paid_at: self.paid_at,
            cancelled_at: self.cancelled_at,
            expired_at: self.expired_at,
            placed_by: parse_actor(self.placed_by.as_deref(), "orders", id)?,
            settled_by: parse_actor(self.settled_by.as_deref(), "orders", id)?,
            version: Version::new(self.version).map_err(|e| corrupt("orders", id, e))?,
        };
        Order::restore(record).map_err(|e| corrupt("orders", id, e))
    }
}

/// The whole row of a new order, its `order.reserved` the `sequence`-th event of the feed.
pub(crate) fn active_model(order: &Order, sequence: i64) -> ActiveModel {
    let record = order.record();
    ActiveModel {
        id: Set(record.id.as_uuid()),
        status: Set(record.status.as_str().to_owned()),
        total_amount: Set(record.total.amount()),
        currency: Set(record.total.currency().code().to_owned()),
        customer_id: Set(record.customer.as_ref().map(|c| c.id.as_str().to_owned())),
        customer_asserted: Set(record.customer.as_ref().is_some_and(|c| c.asserted)),
        created_at: Set(record.created_at),
        expires_at: Set(record.expires_at),
        paid_at: Set(record.paid_at),
        cancelled_at: Set(record.cancelled_at),
        expired_at: Set(record.expired_at),
        placed_by: Set(record.placed_by.map(|a| a.to_string())),
        settled_by: Set(record.settled_by.map(|a| a.to_string())),
        version: Set(record.version.get()),
        reserved_sequence: Set(Some(sequence)),
        settled_sequence: Set(None),
    }
}
