//! The event feed's JSON: CloudEvents 1.0 in structured mode, one object per event.

use chrono::{DateTime, Utc};
use domain::event::{Event, EventBody, StockEvent};
use domain::limits::PurchaseLimit;
use domain::{Product, StockCount};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{MoneyJson, OrderView};

/// The CloudEvents `source` of every event this service emits.
pub const SOURCE: &str = "/checkout-api";

/// One event (CloudEvents 1.0, structured JSON).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CloudEvent {
    /// Always `1.0`.
    #[schema(example = "1.0")]
    pub specversion: String,
    /// Stable for the fact it reports (`stock:<product>:<version>`, `order:<order>:<status>`,
    /// `product:<product>`): a receiver de-duplicates by it.
    pub id: String,
    #[schema(example = "/checkout-api")]
    pub source: String,
    /// `stock.changed`, `stock.low`, `stock.out`, `stock.back_in`, `order.reserved`, `order.paid`,
    /// `order.cancelled`, `order.expired` or `product.created`.
    #[serde(rename = "type")]
    #[schema(example = "stock.changed")]
    pub event_type: String,
    pub time: DateTime<Utc>,
    /// The product (stock and product events) or the order the event is about.
    pub subject: String,
    #[schema(example = "application/json")]
    pub datacontenttype: String,
    /// The event's position in the feed: dense, in commit order. A `stock.low`, `stock.out` or
    /// `stock.back_in` shares the sequence of the `stock.changed` it follows.
    pub sequence: i64,
    /// `stock.*`: [`StockChangedData`] (of the change that crossed the level, for the derived
    /// ones); `order.*`: the order view as the transition left
    /// it; `product.created`: [`ProductCreatedData`].
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl CloudEvent {
    /// The wire form of `event`.
    pub fn new(event: &Event) -> Self {
        let data = match &event.body {
            EventBody::Stock(stock) | EventBody::StockLevel(_, stock) => {
                serde_json::to_value(StockChangedData::from(stock))
            }
            EventBody::Order(order) => {
                serde_json::to_value(OrderView::new(order, order.record().status))
            }
            EventBody::Product(product) => serde_json::to_value(ProductCreatedData::from(product)),
        };
        Self {
            specversion: "1.0".to_owned(),
            id: event.id(),
            source: SOURCE.to_owned(),
            event_type: event.event_type().as_str().to_owned(),
            time: event.time,
            subject: event.subject().to_string(),
            datacontenttype: "application/json".to_owned(),
            sequence: event.sequence.get(),
            // Serializing plain structs of numbers and strings cannot fail.
            data: data.unwrap_or_default(),
        }
    }
}

/// `data` of `stock.changed` (and of `stock.low`, `stock.out` and `stock.back_in`: the change
/// that crossed the level): one ledger entry and the counters it left.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StockChangedData {
    pub product_id: Uuid,
    /// The location whose stock moved.
    pub location_id: Uuid,
    /// The location row's version after the change; consecutive per product and location.
    pub version: i64,
    /// reserve, release, sell, restock, set, adjust, expire, transfer_out, transfer_in or
    /// safety_stock.
    pub kind: String,
    pub on_hand: i64,
    pub reserved: i64,
    /// Units on hand the location keeps back from sale.
    pub safety_stock: i64,
    /// For sale at the location: `on_hand - reserved - safety_stock`, never below 0.
    pub available: i64,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub order_id: Option<Uuid>,
    /// The product's low-stock threshold when the change was made (null: none); `stock.low`
    /// means `available` fell to it or below from above it.
    pub low_stock_threshold: Option<i64>,
}

impl From<&StockEvent> for StockChangedData {
    fn from(stock: &StockEvent) -> Self {
        let m = &stock.movement;
        Self {
            product_id: m.product_id.as_uuid(),
            location_id: stock.location_id.as_uuid(),
            version: m.version.get(),
            kind: m.kind.as_str().to_owned(),
            on_hand: stock.on_hand.get(),
            reserved: stock.reserved.get(),
            safety_stock: stock.safety_stock.get(),
            available: stock.available(),
            on_hand_delta: m.on_hand_delta,
            reserved_delta: m.reserved_delta,
            order_id: m.order_id.map(|id| id.as_uuid()),
            low_stock_threshold: stock.low_stock_threshold.map(StockCount::get),
        }
    }
}

/// `data` of `product.created`: the product as created (its initial stock is the
/// `stock.changed` that follows it).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProductCreatedData {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub price: MoneyJson,
    pub max_per_order: Option<u32>,
    pub max_per_customer: Option<u32>,
    pub created_at: DateTime<Utc>,
}

impl From<&Product> for ProductCreatedData {
    fn from(product: &Product) -> Self {
        Self {
            id: product.id.as_uuid(),
            sku: product.sku.to_string(),
            name: product.name.as_str().to_owned(),
            price: product.price.into(),
            max_per_order: product.limits.per_order.map(PurchaseLimit::get),
            max_per_customer: product.limits.per_customer.map(PurchaseLimit::get),
            created_at: product.created_at,
        }
    }
}

/// One page of the feed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventsPage {
    /// In sequence order, with no gaps after `after`.
    pub items: Vec<CloudEvent>,
    /// Pass as `after` to continue: the last item's sequence, or `after` when there is none.
    pub next: i64,
    /// How far back the feed reaches: the first sequence it still holds (older events were
    /// purged after `--events-retention`); a reader whose `after` is before `earliest - 1`
    /// gets 410 `cursor-expired`.
    pub earliest: i64,
}
