//! Wire types: the JSON the HTTP contract promises, with serde and OpenAPI schemas, and their
//! conversion to and from domain types. Nothing outside this crate sees them.
//!
//! Requests deserialize into plain numbers and strings first and are then parsed field by field
//! into domain types, so that a client learns about *every* invalid field at once, each named
//! by its JSON path.

mod catalog;
mod checkout;
mod order;
mod reconciliation;

use std::fmt::Display;

use domain::{Currency, Money};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use catalog::{
    AdjustStockRequest, CreateProductRequest, MovementView, MovementsPage, ProductView,
    ProductsPage, SetStockRequest, StockView,
};
pub use checkout::{
    AvailabilityItemView, AvailabilityView, CartLineRequest, CheckRequest, CheckoutRequest,
    ShortageView,
};
pub use order::{OrderLineView, OrderView};
pub use reconciliation::{DriftView, LedgerView, ReconciliationView, StoredView};

use crate::problem::ApiError;

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
    pub fn finish<T>(self, value: Option<T>) -> Result<T, ApiError> {
        match value {
            Some(value) if self.errors.is_empty() => Ok(value),
            _ => Err(ApiError::InvalidRequest(self.errors)),
        }
    }
}

/// An amount of money: integer minor units and an ISO 4217 code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoneyJson {
    /// Minor units (cents, sen, …); never negative.
    #[schema(example = 1999)]
    pub amount: i64,
    /// ISO 4217 code.
    #[schema(example = "EUR")]
    pub currency: String,
}

impl MoneyJson {
    /// Parses into [`Money`], recording errors under `field`.
    pub fn parse(&self, v: &mut Validator, field: &str) -> Option<Money> {
        let currency = v.check(format!("{field}.currency"), Currency::new(&self.currency))?;
        v.check(format!("{field}.amount"), Money::new(self.amount, currency))
    }
}

impl From<Money> for MoneyJson {
    fn from(money: Money) -> Self {
        Self { amount: money.amount(), currency: money.currency().code().to_owned() }
    }
}
