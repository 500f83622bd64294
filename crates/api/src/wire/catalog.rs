//! Products, stock and the stock ledger on the wire.

use application::create_product::CreateProductCommand;
use application::queries::{ProductPage, ProductWithStock};
use chrono::{DateTime, Utc};
use domain::access::Actor;
use domain::backorder::{BackorderLimit, BackorderPolicy};
use domain::limits::{LimitsPatch, PurchaseLimit, PurchaseLimits};
use domain::{
    LocationId, Product, ProductName, ProductPatch, Sku, StockCount, StockMovement, StockTotals,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{
    KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
};
use uuid::Uuid;

use super::locations::LocationStockView;
use super::{Invalid, MoneyJson, Validator, nullable_whole_number, whole_number};

/// The longest ledger reason kept.
const MAX_REASON_CHARS: usize = 500;

/// `POST /v1/products`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProductRequest {
    /// Unique code: 1–64 of `A-Z a-z 0-9 - _ .`.
    #[schema(
        example = "KAOS-MERAH-M",
        min_length = 1,
        max_length = 64,
        pattern = r"^[A-Za-z0-9._-]+$"
    )]
    pub sku: String,
    /// Display name, 1–200 characters, not blank, no control characters (Unicode category Cc).
    #[schema(
        example = "Kaos merah, M",
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    /// Unit price.
    pub price: MoneyJson,
    /// Units on the shelf from the start.
    #[schema(example = 50, minimum = 0, maximum = 1_000_000_000_000_i64)]
    #[serde(deserialize_with = "whole_number")]
    pub initial_stock: i64,
    /// At most this many units of the product in one order; absent or null for no limit.
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1_000_000_000, example = 2)]
    #[serde(default, deserialize_with = "nullable_whole_number")]
    #[allow(clippy::option_option)]
    pub max_per_order: Option<Option<i64>>,
    /// At most this many units reserved or paid per customer, over all their orders; absent
    /// or null for no limit. A checkout of the product then needs a client with
    /// `customers:assert` naming the customer.
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1_000_000_000, example = 2)]
    #[serde(default, deserialize_with = "nullable_whole_number")]
    #[allow(clippy::option_option)]
    pub max_per_customer: Option<Option<i64>>,
    /// At or below this many available units the product is running low: a change that brings
    /// it there from above is followed by a `stock.low` event. Absent or null: no such event.
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1_000_000_000_000_i64, example = 5)]
    #[serde(default, deserialize_with = "nullable_whole_number")]
    #[allow(clippy::option_option)]
    pub low_stock_threshold: Option<Option<i64>>,
    /// The backorder policy: absent or null is `deny` (a cart short of stock is refused); a
    /// number is `allow`: up to this many units (1 to a billion) sold beyond what the locations
    /// have and owed to orders at any moment (backorders, preorders).
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1_000_000_000, example = 20)]
    #[serde(default, deserialize_with = "nullable_whole_number")]
    #[allow(clippy::option_option)]
    pub backorder_limit: Option<Option<i64>>,
}

/// `PATCH /v1/products/{id}`: a field left out stays as it is; `null` removes the limit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(clippy::option_option)]
pub struct UpdateProductRequest {
    /// At most this many units of the product in one order; null for no limit.
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1_000_000_000, example = 2)]
    #[serde(default, deserialize_with = "nullable_whole_number")]
    pub max_per_order: Option<Option<i64>>,
    /// At most this many units reserved or paid per customer; null for no limit.
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1_000_000_000, example = 2)]
    #[serde(default, deserialize_with = "nullable_whole_number")]
    pub max_per_customer: Option<Option<i64>>,
    /// The low-stock threshold (`stock.low`); null for none. It judges the stock changes made
    /// after this request; the feed's earlier events stay as they were.
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1_000_000_000_000_i64, example = 5)]
    #[serde(default, deserialize_with = "nullable_whole_number")]
    pub low_stock_threshold: Option<Option<i64>>,
    /// The backorder policy: null is `deny` (what is owed stays owed, and deliveries still fill
    /// it); a number is `allow`, up to that many units owed to orders at any moment. Lowering
    /// it below what is owed refuses new backorders until deliveries fill enough.
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1_000_000_000, example = 20)]
    #[serde(default, deserialize_with = "nullable_whole_number")]
    pub backorder_limit: Option<Option<i64>>,
}

/// A product's backorder policy on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BackorderPolicyJson {
    /// A cart short of stock is refused.
    Deny,
    /// Units beyond stock are sold, up to the product's `backorder_limit`.
    Allow,
}

/// The policy a `backorder_limit` field names (`None`: `deny`), checked: `None` when the limit
/// is invalid, which is reported to `v`. One field rather than a policy and a limit, so that no
/// pair of fields can contradict each other.
fn backorders(v: &mut Validator, limit: Option<i64>) -> Option<BackorderPolicy> {
    match limit {
        None => Some(BackorderPolicy::Deny),
        Some(n) => v.check("backorder_limit", BackorderLimit::new(n)).map(BackorderPolicy::Allow),
    }
}

/// A threshold field's value (`None`: none) checked into a count of units: `None` when it is
/// invalid, which is reported to `v`.
#[allow(clippy::option_option)]
fn threshold(v: &mut Validator, value: Option<i64>) -> Option<Option<StockCount>> {
    match value {
        None => Some(None),
        Some(n) => v.check("low_stock_threshold", StockCount::new(n)).map(Some),
    }
}

/// A limit field's value (`None`: no limit) checked into a [`PurchaseLimit`]: `None` when it
/// is invalid, which is reported to `v`.
#[allow(clippy::option_option)]
fn limit(v: &mut Validator, field: &str, value: Option<i64>) -> Option<Option<PurchaseLimit>> {
    match value {
        None => Some(None),
        Some(n) => v.check(field, PurchaseLimit::new(n)).map(Some),
    }
}

impl UpdateProductRequest {
    /// The change this request asks for, or every invalid field.
    ///
    /// # Errors
    /// [`Invalid`] listing every limit that is not a whole number from 1 to a billion.
    pub fn into_patch(self) -> Result<ProductPatch, Invalid> {
        let mut v = Validator::default();
        // Outer `None`: invalid; then the patch's own keep / set states.
        let mut field = |name, value: Option<Option<i64>>| match value {
            None => Some(None),
            Some(n) => limit(&mut v, name, n).map(Some),
        };
        let per_order = field("max_per_order", self.max_per_order);
        let per_customer = field("max_per_customer", self.max_per_customer);
        let low_stock_threshold = match self.low_stock_threshold {
            None => Some(None),
            Some(value) => threshold(&mut v, value).map(Some),
        };
        let backorders = match self.backorder_limit {
            None => Some(None),
            Some(limit) => backorders(&mut v, limit).map(Some),
        };
        let patch = (|| {
            Some(ProductPatch {
                limits: LimitsPatch { per_order: per_order?, per_customer: per_customer? },
                low_stock_threshold: low_stock_threshold?,
                backorders: backorders?,
            })
        })();
        v.finish(patch)
    }
}

impl CreateProductRequest {
    /// The command of `actor` this request asks for, or every invalid field.
    ///
    /// # Errors
    /// [`Invalid`] listing every field that does not parse.
    pub fn into_command(self, actor: Actor) -> Result<CreateProductCommand, Invalid> {
        let mut v = Validator::default();
        let sku = v.check("sku", Sku::new(self.sku));
        let name = v.check("name", ProductName::new(&self.name));
        let price = self.price.parse(&mut v, "price");
        let initial_stock = v.check("initial_stock", StockCount::new(self.initial_stock));
        let per_order = limit(&mut v, "max_per_order", self.max_per_order.flatten());
        let per_customer = limit(&mut v, "max_per_customer", self.max_per_customer.flatten());
        let low_stock_threshold = threshold(&mut v, self.low_stock_threshold.flatten());
        let backorders = backorders(&mut v, self.backorder_limit.flatten());
        let command = (|| {
            Some(CreateProductCommand {
                sku: sku?,
                name: name?,
                price: price?,
                initial_stock: initial_stock?,
                limits: PurchaseLimits { per_order: per_order?, per_customer: per_customer? },
                low_stock_threshold: low_stock_threshold?,
                backorders: backorders?,
                actor,
            })
        })();
        v.finish(command)
    }
}

/// A ledger reason, checked: at most 500 characters.
pub(super) fn checked_reason(v: &mut Validator, reason: Option<&String>) -> Option<Option<String>> {
    let ok = reason.is_none_or(|r| r.chars().count() <= MAX_REASON_CHARS);
    v.check("reason", if ok { Ok(reason.cloned()) } else { Err("at most 500 characters") })
}

/// `PUT /v1/products/{id}/stock`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetStockRequest {
    /// The counted on-hand quantity.
    #[schema(example = 40, minimum = 0, maximum = 1_000_000_000_000_i64)]
    #[serde(deserialize_with = "whole_number")]
    pub on_hand: i64,
}

/// `POST /v1/products/{id}/stock/adjustments`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustStockRequest {
    /// Units added (positive) or removed (negative); not 0.
    #[schema(schema_with = delta_schema)]
    #[serde(deserialize_with = "whole_number")]
    pub delta: i64,
    /// Why, for the ledger (up to 500 characters).
    #[schema(example = "delivery 2026-11-25", max_length = 500)]
    pub reason: Option<String>,
    /// The location whose count moves; the default location when absent. A delivery to a
    /// location without a row of the product creates it.
    #[serde(default)]
    pub location_id: Option<Uuid>,
}

/// A non-zero integer within a stock count either way: `oneOf` a negative and a positive range
/// (OpenAPI 3.1 could say `not: {const: 0}`, which utoipa cannot write).
pub(super) fn delta_schema() -> Schema {
    let range = |min: i64, max: i64| {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(min))
            .maximum(Some(max))
    };
    OneOfBuilder::new()
        .item(range(-StockCount::MAX, -1))
        .item(range(1, StockCount::MAX))
        .examples([serde_json::json!(10)])
        .build()
        .into()
}

impl AdjustStockRequest {
    /// The reason, checked.
    pub fn reason(&self, v: &mut Validator) -> Option<Option<String>> {
        checked_reason(v, self.reason.as_ref())
    }

    /// The location whose count moves, checked: the default location when none is named.
    pub fn location(&self, v: &mut Validator) -> Option<LocationId> {
        match self.location_id {
            None => Some(LocationId::DEFAULT),
            Some(id) => v.check("location_id", LocationId::new(id)),
        }
    }
}

/// Stock of one product, summed over its locations, and each location's row.
/// `available` is what is for sale (each location's safety stock kept back);
/// `0 <= reserved <= on_hand`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StockView {
    pub product_id: Uuid,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    /// Grows with every change at any location (the sum of the locations' versions); also
    /// the `ETag`. With one location, that location's version.
    pub version: i64,
    /// One entry per location holding a row of the product, in location-id order.
    #[serde(default)]
    pub locations: Vec<LocationStockView>,
}

impl From<&StockTotals> for StockView {
    fn from(s: &StockTotals) -> Self {
        Self {
            product_id: s.product_id().as_uuid(),
            on_hand: s.on_hand().get(),
            reserved: s.reserved().get(),
            available: s.available().get(),
            version: s.version().get(),
            locations: s.rows().iter().map(LocationStockView::from).collect(),
        }
    }
}

/// A product with its stock.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProductView {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub price: MoneyJson,
    pub stock: StockView,
    /// Units one order may hold; null for no limit.
    #[serde(default)]
    pub max_per_order: Option<u32>,
    /// Units one customer may hold reserved or paid, over all their orders; null for no limit.
    #[serde(default)]
    pub max_per_customer: Option<u32>,
    /// Available units at or below which a change is followed by `stock.low`; null for none.
    #[serde(default)]
    pub low_stock_threshold: Option<i64>,
    /// `deny` or `allow` (backorders and preorders up to `backorder_limit`).
    #[serde(default = "deny")]
    pub backorder_policy: BackorderPolicyJson,
    /// Units the product may owe to orders beyond stock; null with `deny`.
    #[serde(default)]
    pub backorder_limit: Option<u32>,
    /// Units owed to orders now (reserved or paid, not yet delivered); deliveries fill them
    /// first, oldest order first.
    #[serde(default)]
    pub backordered: i64,
    pub created_at: DateTime<Utc>,
}

fn deny() -> BackorderPolicyJson {
    BackorderPolicyJson::Deny
}

impl ProductView {
    pub fn new(product: &Product, stock: &StockTotals) -> Self {
        Self {
            id: product.id.as_uuid(),
            sku: product.sku.to_string(),
            name: product.name.as_str().to_owned(),
            price: product.price.into(),
            stock: stock.into(),
            max_per_order: product.limits.per_order.map(PurchaseLimit::get),
            max_per_customer: product.limits.per_customer.map(PurchaseLimit::get),
            low_stock_threshold: product.low_stock_threshold.map(StockCount::get),
            backorder_policy: match product.backorders {
                BackorderPolicy::Deny => BackorderPolicyJson::Deny,
                BackorderPolicy::Allow(_) => BackorderPolicyJson::Allow,
            },
            backorder_limit: product.backorders.limit().map(BackorderLimit::get),
            backordered: product.backordered.get(),
            created_at: product.created_at,
        }
    }
}

impl From<&ProductWithStock> for ProductView {
    fn from(p: &ProductWithStock) -> Self {
        Self::new(&p.product, &p.stock)
    }
}

/// One page of products.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProductsPage {
    pub items: Vec<ProductView>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next: Option<Uuid>,
}

impl From<&ProductPage> for ProductsPage {
    fn from(page: &ProductPage) -> Self {
        Self {
            items: page.items.iter().map(ProductView::from).collect(),
            next: page.next.map(|id| id.as_uuid()),
        }
    }
}

/// One ledger entry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MovementView {
    /// reserve, release, sell, restock, set, adjust, expire, transfer_out, transfer_in or
    /// safety_stock.
    pub kind: String,
    /// The location whose row moved.
    pub location_id: Uuid,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    /// The stock's version after this change.
    pub version: i64,
    pub order_id: Option<Uuid>,
    pub reason: Option<String>,
    /// Who made the change: `anonymous`, `admin`, `system` (the sweeper) or `client:<id>`;
    /// null for entries written before actors were recorded.
    #[schema(example = "client:01935c2e-7a4b-7cde-8f01-23456789abcd")]
    pub actor: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<&StockMovement> for MovementView {
    fn from(m: &StockMovement) -> Self {
        Self {
            kind: m.kind.as_str().to_owned(),
            location_id: m.location_id.as_uuid(),
            on_hand_delta: m.on_hand_delta,
            reserved_delta: m.reserved_delta,
            version: m.version.get(),
            order_id: m.order_id.map(|id| id.as_uuid()),
            reason: m.reason.clone(),
            actor: m.actor.map(|a| a.to_string()),
            at: m.at,
        }
    }
}

/// The ledger of one product, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MovementsPage {
    pub items: Vec<MovementView>,
}
