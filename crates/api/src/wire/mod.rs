//! Wire types: the JSON the HTTP contract promises, with serde and OpenAPI schemas, and their
//! conversion to and from domain types. Nothing outside this crate sees them.
//!
//! Requests deserialize into plain numbers and strings first and are then parsed field by field
//! into domain types, so that a client learns about *every* invalid field at once, each named
//! by its JSON path.

mod bulk;
mod catalog;
mod checkout;
mod clients;
mod events;
mod incoming;
mod locations;
mod order;
mod reconciliation;
mod webhooks;

use std::fmt::{self, Display};

use domain::{Currency, Money};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};

pub use bulk::{BulkResultView, BulkRowRequest, BulkStockRequest, BulkStockView};
pub use catalog::{
    AdjustStockRequest, CreateProductRequest, MovementView, MovementsPage, ProductView,
    ProductsPage, SetStockRequest, StockView, UpdateProductRequest,
};
pub use checkout::{
    AvailabilityItemView, AvailabilityView, CartLineRequest, CheckRequest, CheckoutRequest,
    LimitView, ShortageView,
};
pub use clients::{ClientView, ClientsPage, CreateClientRequest, IssuedClientView};
pub use events::{CloudEvent, EventsPage, ProductCreatedData, StockChangedData};
pub use incoming::{IncomingPage, IncomingView, SetIncomingRequest};
pub use locations::{
    CreateLocationRequest, LocationStockView, LocationView, LocationsPage, SetLocationStockRequest,
    TransferRequest, TransferView,
};
pub use order::{OrderLineView, OrderView};
pub use reconciliation::{DriftView, LedgerView, ReconciliationView, StoredView};
pub use webhooks::{
    CreateWebhookRequest, DeliveriesPage, DeliveriesQuery, DeliveryView, IssuedWebhookView,
    RedriveView, WebhookView, WebhooksPage,
};

/// The `Idempotency-Key` request header as OpenAPI declares it, once for every route that
/// honours it (`params(KeyHeader)`); the idempotency middleware reads the header itself.
#[derive(IntoParams)]
#[into_params(names("Idempotency-Key"), parameter_in = Header)]
#[allow(dead_code)] // Never built: only its OpenAPI description is used.
pub(crate) struct KeyHeader(
    /// 1–255 visible ASCII characters
    #[param(min_length = 1, max_length = 255, pattern = "^[\\x21-\\x7E]+$")]
    Option<String>,
);

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON path of the field, such as `items[2].quantity`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Display) -> Self {
        Self { field: field.into(), message: message.to_string() }
    }
}

/// A request that failed to parse into domain types: every invalid field, each named by its
/// JSON path. The problem mapping turns it into a 422 `invalid-request`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} field(s) are invalid", .0.len())]
pub struct Invalid(pub Vec<FieldError>);

/// Collects field errors while a request is parsed into domain types.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    /// The value when `result` is fine; otherwise records the error under `field`.
    pub fn check<T, E: Display>(
        &mut self,
        field: impl Into<String>,
        result: Result<T, E>,
    ) -> Option<T> {
        result.map_err(|err| self.errors.push(FieldError::new(field, err))).ok()
    }

    /// `Ok(value)` when nothing was recorded and the value is complete.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, Invalid> {
        match value {
            Some(value) if self.errors.is_empty() => Ok(value),
            _ => Err(Invalid(self.errors)),
        }
    }
}

/// An amount of money: integer minor units and an ISO 4217 code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoneyJson {
    /// Minor units (cents, sen, …); never negative.
    #[schema(example = 1999, minimum = 0)]
    #[serde(deserialize_with = "whole_number")]
    pub amount: i64,
    /// ISO 4217 code.
    #[schema(schema_with = currency_schema)]
    pub currency: String,
}

impl MoneyJson {
    /// Parses into [`Money`], recording errors under `field`.
    pub fn parse(&self, v: &mut Validator, field: &str) -> Option<Money> {
        let currency = v.check(format!("{field}.currency"), Currency::new(&self.currency))?;
        v.check(format!("{field}.amount"), Money::new(self.amount, currency))
    }
}

/// The ISO 4217 codes the domain accepts, listed: every upper-case three-letter code that
/// [`Currency::new`] takes (codes are upper case, so this is all of them).
fn currency_schema() -> Object {
    let letters = || b'A'..=b'Z';
    let codes = letters()
        .flat_map(|a| letters().flat_map(move |b| letters().map(move |c| [a, b, c])))
        .filter_map(|code| String::from_utf8(code.to_vec()).ok())
        .filter(|code| Currency::new(code).is_ok());
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes))
        .examples([serde_json::json!("EUR")])
        .build()
}

/// Deserializes a field that is `null` or a whole number (see [`whole_number`]) as
/// `Some(None)` or `Some(Some(n))`; with `#[serde(default)]` an absent field is `None`. A
/// `PATCH` tells the three apart: keep, remove, set.
#[allow(clippy::option_option)]
pub fn nullable_whole_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<i64>>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_number")] i64);

    Ok(Some(Option::<Whole>::deserialize(deserializer)?.map(|Whole(n)| n)))
}

/// [`whole_number`] for an optional field (`null` or absent is `None`; with
/// `#[serde(default)]`).
pub fn whole_number_opt<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    Ok(nullable_whole_number(deserializer)?.flatten())
}

/// Deserializes a whole number that JSON may write as `2` or `2.0`: JSON Schema's `integer`
/// admits both, so the served document promises both. Fractions and numbers past `i64` are
/// still refused.
pub fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    struct Whole;

    impl Visitor<'_> for Whole {
        type Value = i64;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a whole number")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            // i64::MIN is a power of two, exact as f64; anything below 2^63 fits.
            #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
            let fits = v.fract() == 0.0 && v >= i64::MIN as f64 && v < -(i64::MIN as f64);
            if fits {
                #[allow(clippy::cast_possible_truncation)]
                return Ok(v as i64);
            }
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }

    deserializer.deserialize_any(Whole)
}

impl From<Money> for MoneyJson {
    fn from(money: Money) -> Self {
        Self { amount: money.amount(), currency: money.currency().code().to_owned() }
    }
}
