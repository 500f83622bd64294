//! Ports: what the domain needs from the outside world, implemented by adapters.
//!
//! Every port is `Send + Sync`, used as `Arc<dyn …>`, and mockable (`Mock…` types behind the
//! `mocks` feature). Atomicity lives behind single methods: a transaction never crosses a port.

mod clock;
mod error;
mod idempotency;
mod order;
mod product;
mod reconciliation;
mod stock;
mod unit_of_work;

pub use clock::{Clock, IdGenerator};
pub use error::{BoxError, StoreError};
pub use idempotency::{
    Claim, IdempotencyKey, IdempotencyKeyError, IdempotencyStore, StoredResponse,
};
pub use order::OrderRepository;
pub use product::ProductRepository;
pub use reconciliation::Reconciliation;
pub use stock::StockRepository;
pub use unit_of_work::{BrokenChain, Changeset, UnitOfWork, chain_stock_changes};

#[cfg(any(test, feature = "mocks"))]
pub use clock::{MockClock, MockIdGenerator};
#[cfg(any(test, feature = "mocks"))]
pub use idempotency::MockIdempotencyStore;
#[cfg(any(test, feature = "mocks"))]
pub use order::MockOrderRepository;
#[cfg(any(test, feature = "mocks"))]
pub use product::MockProductRepository;
#[cfg(any(test, feature = "mocks"))]
pub use reconciliation::MockReconciliation;
#[cfg(any(test, feature = "mocks"))]
pub use stock::MockStockRepository;
#[cfg(any(test, feature = "mocks"))]
pub use unit_of_work::MockUnitOfWork;
