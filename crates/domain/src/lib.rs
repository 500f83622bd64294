//! The checkout domain: the rules that keep a shop from selling what it does not have.
//!
//! This crate is pure. It owns the value types (parsed once, valid forever), the two aggregates
//! ([`ProductStock`] and [`Order`]) and the ports that adapters implement. It knows nothing of
//! HTTP, databases, serialisation or async runtimes: `cargo tree -e normal -p domain` lists no
//! tokio, sea-orm, axum or serde, and CI checks that.
//!
//! Concurrency is expressed through versions: every [`ProductStock`] and [`Order`] carries the
//! [`Version`] it was loaded at, and every write through a port names that version, so two
//! writers that read the same state conflict instead of silently overwriting each other.
//!
//! With the `mocks` feature, every port has a mockall mock (`MockStockRepository`, …) for other
//! crates' unit tests.
#![warn(missing_docs)]

#[cfg(test)]
mod hostile;
mod ids;
mod money;
mod movement;
pub mod order;
pub mod ports;
mod product;
mod quantity;
mod reconciliation;
mod sku;
pub mod stock;
mod version;

pub use ids::{CustomerId, IdError, OrderId, ProductId};
pub use money::{Currency, Money, MoneyError};
pub use movement::{MovementKind, StockMovement};
pub use order::{
    Cart, CartError, Order, OrderChange, OrderError, OrderLine, OrderRecord, OrderStatus,
    TransitionError,
};
pub use product::{Product, ProductError, ProductName};
pub use quantity::{Quantity, QuantityError, StockCount};
pub use reconciliation::{Discrepancy, Drift, LedgerTotals, StockFigures, StoredStock};
pub use sku::{Sku, SkuError};
pub use stock::{ProductStock, Shortage, StockChange, StockError};
pub use version::{Version, VersionError};

/// A point in time, always UTC. Adapters store it; the [`ports::Clock`] port supplies it.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
