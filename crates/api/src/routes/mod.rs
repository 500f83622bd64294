//! Route modules, one per resource. A handler extracts, parses into domain types, calls one use
//! case and maps the result; nothing else.

pub mod checkout;
pub mod clients;
pub mod events;
pub mod incoming;
pub mod locations;
pub mod ops;
pub mod orders;
pub mod products;
pub mod reconciliation;
pub mod stock;
pub mod webhooks;

use axum::http::HeaderValue;

/// `/v1/products/{id}`.
pub fn product_location(id: impl std::fmt::Display) -> String {
    format!("/v1/products/{id}")
}

/// `/v1/orders/{id}`.
pub fn order_location(id: impl std::fmt::Display) -> String {
    format!("/v1/orders/{id}")
}

/// A header value for text we built ourselves (ids, numbers): always valid.
pub fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}
