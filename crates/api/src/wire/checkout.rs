//! Carts, availability and shortages on the wire.

use application::CartLine;
use application::access::Caller;
use application::availability::{Availability, CheckAvailabilityCommand};
use application::checkout::CheckoutCommand;
use domain::access::Scope;
use domain::limits::LimitExceeded;
use domain::{CustomerId, LocationId, ProductId, Quantity, Shortage};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Invalid, Validator, whole_number};

/// One cart line.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CartLineRequest {
    #[schema(example = "0192f4a0-7b3c-7def-8123-456789abcdef", format = Uuid)]
    pub product_id: String,
    /// 1 to 1,000,000.
    #[schema(example = 2, minimum = 1, maximum = 1_000_000)]
    #[serde(deserialize_with = "whole_number")]
    pub quantity: i64,
}

fn parse_lines(v: &mut Validator, items: &[CartLineRequest]) -> Option<Vec<CartLine>> {
    let lines: Vec<_> = items
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let product_id =
                v.check(format!("items[{i}].product_id"), line.product_id.parse::<ProductId>());
            let quantity = v.check(format!("items[{i}].quantity"), Quantity::new(line.quantity));
            Some(CartLine { product_id: product_id?, quantity: quantity? })
        })
        .collect();
    lines.into_iter().collect()
}

/// `POST /v1/stock/check`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// At least one line; at most 100 distinct products.
    #[schema(min_items = 1)]
    pub items: Vec<CartLineRequest>,
}

impl TryFrom<CheckRequest> for CheckAvailabilityCommand {
    type Error = Invalid;

    fn try_from(request: CheckRequest) -> Result<Self, Invalid> {
        let mut v = Validator::default();
        let lines = parse_lines(&mut v, &request.items);
        v.finish(lines.map(|lines| Self { lines }))
    }
}

/// `POST /v1/checkout`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    /// At least one line; at most 100 distinct products.
    #[schema(min_items = 1)]
    pub items: Vec<CartLineRequest>,
    /// The customer, as the shop's other systems name them: 1 to 255 characters, no control
    /// characters. Counted against per-customer limits only when the caller holds
    /// `customers:assert`; required then for a product with such a limit.
    #[schema(value_type = Option<String>, min_length = 1, max_length = 255, pattern = r"^[^\x00-\x1f\x7f-\x9f]*\S[^\x00-\x1f\x7f-\x9f]*$", example = "customer-42")]
    pub customer_id: Option<String>,
    /// The locations that may serve the cart, in order of preference (at most 100); every
    /// active location by priority when absent. A line may be split across them.
    #[schema(max_items = 100)]
    #[serde(default)]
    pub location_ids: Option<Vec<Uuid>>,
}

impl CheckoutRequest {
    /// The checkout of `caller` this request asks for (its customer asserted when the caller
    /// holds `customers:assert`), or every invalid field.
    ///
    /// # Errors
    /// [`Invalid`] listing every field that does not parse.
    pub fn into_command(self, caller: &Caller) -> Result<CheckoutCommand, Invalid> {
        let request = self;
        let mut v = Validator::default();
        let lines = parse_lines(&mut v, &request.items);
        let customer_id = match &request.customer_id {
            Some(id) => v.check("customer_id", id.parse::<CustomerId>()).map(Some),
            None => Some(None),
        };
        let location_ids = match &request.location_ids {
            None => Some(Vec::new()),
            Some(ids) if ids.len() > 100 => v.check("location_ids", Err("at most 100")),
            Some(ids) => (ids.iter().enumerate())
                .map(|(i, id)| v.check(format!("location_ids[{i}]"), LocationId::new(*id)))
                .collect(),
        };
        let command = (|| {
            Some(CheckoutCommand {
                lines: lines?,
                customer_id: customer_id?,
                location_ids: location_ids?,
                asserts_customer: caller.holds(Scope::CustomersAssert),
                actor: caller.actor(),
                idempotency: None,
                deadline: None,
            })
        })();
        v.finish(command)
    }
}

/// One product of an availability answer (lines of one product are summed).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AvailabilityItemView {
    pub product_id: Uuid,
    pub requested: u32,
    pub available: i64,
    pub ok: bool,
}

/// `POST /v1/stock/check` answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AvailabilityView {
    pub all_available: bool,
    pub items: Vec<AvailabilityItemView>,
}

impl From<&Availability> for AvailabilityView {
    fn from(a: &Availability) -> Self {
        let items = a
            .items
            .iter()
            .map(|i| AvailabilityItemView {
                product_id: i.product_id.as_uuid(),
                requested: i.requested.get(),
                available: i.available.get(),
                ok: i.ok(),
            })
            .collect();
        Self { all_available: a.all_available(), items }
    }
}

/// A short product in an `insufficient-stock` problem.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ShortageView {
    pub product_id: Uuid,
    pub requested: u32,
    pub available: i64,
}

impl From<&Shortage> for ShortageView {
    fn from(s: &Shortage) -> Self {
        Self {
            product_id: s.product_id.as_uuid(),
            requested: s.requested.get(),
            available: s.available.get(),
        }
    }
}

/// A purchase limit a cart would break (`purchase-limit-exceeded`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LimitView {
    pub product_id: Uuid,
    /// Which limit: the product's `max_per_order` (`per_order`) or `max_per_customer`
    /// (`per_customer`).
    #[schema(value_type = String, example = "per_customer")]
    pub kind: &'static str,
    pub limit: u32,
    /// Units the customer already holds reserved or paid (0 for a per-order limit).
    pub already: i64,
    /// Units the cart asks for.
    pub requested: u32,
}

impl From<&LimitExceeded> for LimitView {
    fn from(l: &LimitExceeded) -> Self {
        Self {
            product_id: l.product_id.as_uuid(),
            kind: l.kind.as_str(),
            limit: l.limit.get(),
            already: l.already,
            requested: l.requested,
        }
    }
}
