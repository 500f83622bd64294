//! Stock locations, per-location stock and transfers on the wire.

use application::locations::CreateLocationCommand;
use application::transfer::Transferred;
use domain::{Location, LocationCode, LocationId, ProductId, ProductStock, Quantity, StockCount};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::catalog::checked_reason;
use super::{Invalid, Validator, whole_number};

/// `POST /v1/locations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLocationRequest {
    /// Unique code: 1–64 of `A-Z a-z 0-9 - _ .`.
    #[schema(
        example = "wh-jakarta-1",
        min_length = 1,
        max_length = 64,
        pattern = r"^[A-Za-z0-9._-]+$"
    )]
    pub code: String,
    /// Display name, 1–100 characters, not blank, no control characters.
    #[schema(
        example = "Gudang Jakarta",
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    /// Lower is served first by checkouts that name no locations (the default location has
    /// 0); −1,000,000 to 1,000,000.
    #[schema(example = 10, minimum = -1_000_000, maximum = 1_000_000)]
    #[serde(deserialize_with = "whole_number")]
    pub priority: i64,
}

impl CreateLocationRequest {
    /// The command, or every invalid field (the name and priority are checked by the use case).
    pub fn into_command(self) -> Result<CreateLocationCommand, Invalid> {
        let mut v = Validator::default();
        let code = v.check("code", LocationCode::new(&self.code));
        let code = v.finish(code)?;
        Ok(CreateLocationCommand { code, name: self.name, priority: self.priority })
    }
}

/// A stock location.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LocationView {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub priority: i32,
    /// Whether it serves checkouts.
    pub active: bool,
}

impl From<&Location> for LocationView {
    fn from(location: &Location) -> Self {
        Self {
            id: location.id().as_uuid(),
            code: location.code().as_str().to_owned(),
            name: location.name().to_owned(),
            priority: location.priority(),
            active: location.is_active(),
        }
    }
}

/// Every location, by priority.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LocationsPage {
    pub items: Vec<LocationView>,
}

/// One product's stock at one location. `available = on_hand - reserved - safety_stock`
/// (never below 0); `0 <= reserved <= on_hand`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LocationStockView {
    pub product_id: Uuid,
    pub location_id: Uuid,
    pub on_hand: i64,
    pub reserved: i64,
    /// Units on hand kept back from sale.
    pub safety_stock: i64,
    pub available: i64,
    /// Bumped by every change of this location's row; also its `ETag`.
    pub version: i64,
}

impl From<&ProductStock> for LocationStockView {
    fn from(s: &ProductStock) -> Self {
        Self {
            product_id: s.product_id().as_uuid(),
            location_id: s.location_id().as_uuid(),
            on_hand: s.on_hand().get(),
            reserved: s.reserved().get(),
            safety_stock: s.safety_stock().get(),
            available: s.available().get(),
            version: s.version().get(),
        }
    }
}

/// `PUT /v1/products/{id}/stock/locations/{location_id}`: a count of the location's shelf
/// and/or its safety stock. With neither, nothing changes: the answer is the row as it is (over
/// the `If-Match` all the same).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetLocationStockRequest {
    /// The counted on-hand quantity.
    #[schema(example = 40, minimum = 0, maximum = 1_000_000_000_000_i64)]
    #[serde(default, deserialize_with = "super::whole_number_opt")]
    pub on_hand: Option<i64>,
    /// Units on hand kept back from sale.
    #[schema(example = 2, minimum = 0, maximum = 1_000_000_000_000_i64)]
    #[serde(default, deserialize_with = "super::whole_number_opt")]
    pub safety_stock: Option<i64>,
    /// Why, for the ledger (up to 500 characters).
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// A checked [`SetLocationStockRequest`].
pub struct LocationCount {
    pub on_hand: Option<StockCount>,
    pub safety_stock: Option<StockCount>,
    pub reason: Option<String>,
}

impl SetLocationStockRequest {
    /// The checked request, or every invalid field.
    pub fn checked(&self) -> Result<LocationCount, Invalid> {
        let mut v = Validator::default();
        let count = |n: Option<i64>| n.map(StockCount::new).transpose();
        let on_hand = v.check("on_hand", count(self.on_hand));
        let safety_stock = v.check("safety_stock", count(self.safety_stock));
        let reason = checked_reason(&mut v, self.reason.as_ref());
        let checked = (|| {
            Some(LocationCount { on_hand: on_hand?, safety_stock: safety_stock?, reason: reason? })
        })();
        v.finish(checked)
    }
}

/// `POST /v1/transfers`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    pub product_id: Uuid,
    pub from_location_id: Uuid,
    pub to_location_id: Uuid,
    /// 1 to 1,000,000 units.
    #[schema(example = 5, minimum = 1, maximum = 1_000_000)]
    #[serde(deserialize_with = "whole_number")]
    pub quantity: i64,
    /// Why, for both ledger entries (up to 500 characters).
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// A checked [`TransferRequest`]: product, from, to, quantity, reason.
pub type TransferParts = (ProductId, LocationId, LocationId, Quantity, Option<String>);

impl TransferRequest {
    /// The checked request, or every invalid field.
    pub fn checked(&self) -> Result<TransferParts, Invalid> {
        let mut v = Validator::default();
        let product_id = v.check("product_id", ProductId::new(self.product_id));
        let from = v.check("from_location_id", LocationId::new(self.from_location_id));
        let to = v.check("to_location_id", LocationId::new(self.to_location_id));
        let quantity = v.check("quantity", Quantity::new(self.quantity));
        let reason = checked_reason(&mut v, self.reason.as_ref());
        let checked = (|| Some((product_id?, from?, to?, quantity?, reason?)))();
        v.finish(checked)
    }
}

/// A transfer as made: both locations' rows after it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TransferView {
    pub product_id: Uuid,
    pub from_location_id: Uuid,
    pub to_location_id: Uuid,
    pub quantity: i64,
    pub from: LocationStockView,
    pub to: LocationStockView,
}

impl TransferView {
    pub fn new(quantity: Quantity, moved: &Transferred) -> Self {
        Self {
            product_id: moved.from.product_id().as_uuid(),
            from_location_id: moved.from.location_id().as_uuid(),
            to_location_id: moved.to.location_id().as_uuid(),
            quantity: i64::from(quantity.get()),
            from: LocationStockView::from(&moved.from),
            to: LocationStockView::from(&moved.to),
        }
    }
}
