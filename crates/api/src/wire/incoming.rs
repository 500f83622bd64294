//! Incoming stock on the wire: units on their way to a location.

use chrono::{DateTime, Utc};
use domain::incoming::Incoming;
use domain::{LocationId, ProductId, StockCount};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Invalid, Validator, whole_number};

/// `PUT /v1/products/{id}/stock/locations/{location_id}/incoming`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetIncomingRequest {
    /// Units on their way to the location (replacing what was recorded; 0 clears it).
    /// Deliveries to the location lessen it.
    #[schema(example = 24, minimum = 0, maximum = 1_000_000_000_000_i64)]
    #[serde(deserialize_with = "whole_number")]
    pub quantity: i64,
    /// When they are expected (RFC 3339), if known.
    #[serde(default)]
    pub expected_at: Option<DateTime<Utc>>,
}

impl SetIncomingRequest {
    /// The record this request asks for, of `product_id` at `location_id`.
    ///
    /// # Errors
    /// [`Invalid`] when the quantity is out of range.
    pub fn into_incoming(
        self,
        product_id: ProductId,
        location_id: LocationId,
    ) -> Result<Incoming, Invalid> {
        let mut v = Validator::default();
        let quantity = v.check("quantity", StockCount::new(self.quantity));
        let incoming = quantity.map(|quantity| Incoming {
            product_id,
            location_id,
            quantity,
            expected_at: self.expected_at,
        });
        v.finish(incoming)
    }
}

/// Units of a product on their way to one location.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IncomingView {
    pub product_id: Uuid,
    pub location_id: Uuid,
    /// Still to come: what was recorded less what deliveries there brought since.
    pub quantity: i64,
    /// When the shop expects them; null when it did not say.
    pub expected_at: Option<DateTime<Utc>>,
}

impl From<&Incoming> for IncomingView {
    fn from(i: &Incoming) -> Self {
        Self {
            product_id: i.product_id.as_uuid(),
            location_id: i.location_id.as_uuid(),
            quantity: i.quantity.get(),
            expected_at: i.expected_at,
        }
    }
}

/// What is on its way of one product, per location.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IncomingPage {
    /// One entry per location with a record, in location-id order.
    pub items: Vec<IncomingView>,
}
