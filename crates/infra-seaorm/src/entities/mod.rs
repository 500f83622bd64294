//! SeaORM entities, one module per table, mirroring the schema that `migration` builds.
//!
//! They are private to this crate: nothing outside the adapters sees a row. Each module also
//! owns the translation between its rows and the domain types, so that a column's meaning is
//! written down in exactly one place. No serde: rows never leave the process as rows.

pub(crate) mod api_clients;
pub(crate) mod customer_purchases;
pub(crate) mod event_cursors;
pub(crate) mod idempotency_keys;
pub(crate) mod incoming_stock;
pub(crate) mod leases;
pub(crate) mod locations;
pub(crate) mod low_stock_thresholds;
pub(crate) mod order_line_allocations;
pub(crate) mod order_lines;
pub(crate) mod orders;
pub(crate) mod product_backorders;
pub(crate) mod product_stock;
pub(crate) mod products;
pub(crate) mod stock_movements;
pub(crate) mod webhook_deliveries;
pub(crate) mod webhook_subscriptions;

use domain::ports::{BoxError, StoreError};

/// A stored row that the domain's constructors refuse: the database holds something the
/// service never writes, so it is reported as an unusable store, with the cause for the logs.
#[derive(Debug, thiserror::Error)]
#[error("a row of {table} ({key}) does not restore into a domain value")]
pub(crate) struct CorruptRow {
    table: &'static str,
    key: String,
    #[source]
    source: BoxError,
}

/// The [`domain::access::Actor`] a nullable actor column holds: `None` for rows written before
/// actors were recorded.
pub(crate) fn parse_actor(
    text: Option<&str>,
    table: &'static str,
    key: impl std::fmt::Display,
) -> Result<Option<domain::access::Actor>, StoreError> {
    text.map(|t| {
        domain::access::Actor::parse(t).ok_or_else(|| corrupt(table, key, format!("actor {t:?}")))
    })
    .transpose()
}

/// Wraps a constructor's refusal of a stored value as [`StoreError::Unavailable`].
pub(crate) fn corrupt(
    table: &'static str,
    key: impl std::fmt::Display,
    source: impl Into<BoxError>,
) -> StoreError {
    StoreError::unavailable(CorruptRow { table, key: key.to_string(), source: source.into() })
}
