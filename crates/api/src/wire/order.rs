//! Orders on the wire.

use application::queries::OrderView as OrderQueryView;
use chrono::{DateTime, Utc};
use domain::{Order, OrderLine, OrderStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::MoneyJson;

/// Units of a line held at one location.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AllocationView {
    pub location_id: Uuid,
    pub quantity: u32,
}

/// One line of an order.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrderLineView {
    pub product_id: Uuid,
    pub quantity: u32,
    pub unit_price: MoneyJson,
    /// Where its units are held; the quantities and `backordered` sum to `quantity`.
    #[serde(default)]
    pub allocations: Vec<AllocationView>,
    /// Units sold beyond stock and not delivered yet (a backorder or preorder); a delivery
    /// fills them, oldest order first, and they then appear in `allocations`.
    #[serde(default)]
    pub backordered: u32,
}

impl From<&OrderLine> for OrderLineView {
    fn from(l: &OrderLine) -> Self {
        Self {
            product_id: l.product_id.as_uuid(),
            quantity: l.quantity.get(),
            unit_price: l.unit_price.into(),
            allocations: (l.sources().iter())
                .map(|a| AllocationView {
                    location_id: a.location_id.as_uuid(),
                    quantity: a.quantity.get(),
                })
                .collect(),
            backordered: l.backordered,
        }
    }
}

/// An order.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrderView {
    pub id: Uuid,
    /// reserved, paid, cancelled or expired. A reservation past `expires_at` reads as expired.
    pub status: String,
    pub items: Vec<OrderLineView>,
    pub total: MoneyJson,
    /// The customer the order is for, as the checkout named it.
    pub customer_id: Option<String>,
    /// Whether a client with `customers:assert` named the customer: only then does the order
    /// count against per-customer limits.
    pub customer_asserted: bool,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub expired_at: Option<DateTime<Utc>>,
    /// Who placed it: `anonymous`, `admin` or `client:<id>`; null for orders placed before
    /// actors were recorded.
    #[schema(example = "anonymous")]
    pub placed_by: Option<String>,
    /// Who paid or cancelled it (`system` when it expired); null while it is reserved.
    #[schema(example = "client:01935c2e-7a4b-7cde-8f01-23456789abcd")]
    pub settled_by: Option<String>,
}

impl OrderView {
    /// The order with `status` as its effective status.
    pub fn new(order: &Order, status: OrderStatus) -> Self {
        let r = order.record();
        Self {
            id: r.id.as_uuid(),
            status: status.as_str().to_owned(),
            items: r.lines.iter().map(OrderLineView::from).collect(),
            total: r.total.into(),
            customer_id: r.customer.as_ref().map(|c| c.id.to_string()),
            customer_asserted: r.customer.as_ref().is_some_and(|c| c.asserted),
            created_at: r.created_at,
            expires_at: r.expires_at,
            paid_at: r.paid_at,
            cancelled_at: r.cancelled_at,
            expired_at: r.expired_at,
            placed_by: r.placed_by.map(|a| a.to_string()),
            settled_by: r.settled_by.map(|a| a.to_string()),
        }
    }

    /// The order as just written: its stored status is its effective status.
    pub fn stored(order: &Order) -> Self {
        Self::new(order, order.record().status)
    }

    /// The order as its checkout answered it, whatever happened to it since: reserved, with
    /// none of the later transitions. Lines, total and times never change, so this is the
    /// first answer to the letter, for a retry whose answer was lost.
    pub fn placed(order: &Order) -> Self {
        Self {
            status: OrderStatus::Reserved.as_str().to_owned(),
            paid_at: None,
            cancelled_at: None,
            expired_at: None,
            settled_by: None,
            ..Self::stored(order)
        }
    }
}

impl From<&OrderQueryView> for OrderView {
    fn from(v: &OrderQueryView) -> Self {
        Self::new(&v.order, v.status)
    }
}
