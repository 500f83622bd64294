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
//! crates' unit tests; the [`ports`] module shows one at work.
//!
//! # A checkout, start to finish
//!
//! Values are parsed once at the edge; the aggregates then decide, and hand back what a port
//! writes. Nothing here touches a database: a use case passes the [`ports::Changeset`] to a
//! [`ports::UnitOfWork`], which writes it all or nothing.
//!
//! ```
//! use chrono::{TimeDelta, TimeZone, Utc};
//! use domain::access::Actor;
//! use domain::ports::Changeset;
//! use domain::{
//!     Cart, Currency, Money, Order, OrderChange, OrderId, ProductId, ProductStock, Quantity,
//!     StockCount, StockError,
//! };
//! use uuid::Uuid;
//!
//! let shirt = ProductId::new(Uuid::from_u128(1))?;
//! let price = Money::new(15_000, Currency::new("IDR")?)?;
//! let mut stock = ProductStock::new(shirt, StockCount::new(5)?);
//!
//! // Two lines of the same product merge into one.
//! let cart = Cart::new([(shirt, Quantity::new(2)?), (shirt, Quantity::new(1)?)])?;
//! let now = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap();
//! let order = Order::place(
//!     OrderId::new(Uuid::from_u128(42))?,
//!     &cart,
//!     |_| Some(price),
//!     None,
//!     now,
//!     TimeDelta::minutes(15),
//!     Actor::Anonymous,
//! )?;
//! assert_eq!(order.record().total.amount(), 45_000);
//!
//! // Hold the units, then write the held stock and the new order together.
//! let held = stock.reserve(Quantity::new(3)?)?;
//! let changeset = Changeset::new(vec![held], Some(OrderChange::Created(order)), now);
//! assert_eq!(changeset.stock()[0].expected_version(), held.before().version());
//! assert_eq!(changeset.actor(), Actor::Anonymous, "the ledger records who placed it");
//!
//! // Never oversell: two units are left, so a third is refused and nothing changes.
//! assert_eq!(stock.available().get(), 2);
//! assert!(matches!(stock.reserve(Quantity::new(3)?), Err(StockError::Insufficient(_))));
//! assert_eq!(stock.available().get(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub mod access;
pub mod allocation;
pub mod backorder;
mod customer;
pub mod event;
#[cfg(test)]
mod hostile;
mod ids;
pub mod incoming;
pub mod limits;
mod location;
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
pub mod webhook;

pub use customer::{Customer, CustomerId, CustomerIdError};
pub use ids::{ClientId, IdError, LocationId, OrderId, ProductId};
pub use location::{Location, LocationCode, LocationCodeError, LocationError};
pub use money::{Currency, Money, MoneyError};
pub use movement::{MovementKind, StockMovement};
pub use order::{
    Cart, CartError, FillError, Order, OrderChange, OrderError, OrderLine, OrderRecord,
    OrderStatus, TransitionError,
};
pub use product::{Product, ProductError, ProductName, ProductPatch};
pub use quantity::{Quantity, QuantityError, StockCount};
pub use reconciliation::{Discrepancy, Drift, LedgerTotals, StockFigures, StoredStock};
pub use sku::{Sku, SkuError};
pub use stock::{
    ProductStock, Shortage, StockChange, StockError, StockKey, StockSpan, StockTotals,
};
pub use version::{Version, VersionError};

/// A point in time, always UTC. Adapters store it; the [`ports::Clock`] port supplies it.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
