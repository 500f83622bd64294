//! Ports: what the domain needs from the outside world, implemented by adapters.
//!
//! Every port is `Send + Sync`, used as `Arc<dyn …>`, and mockable (`Mock…` types behind the
//! `mocks` feature). Atomicity lives behind single methods: a transaction never crosses a port.
//!
//! # Testing code written against a port
//!
//! Code of another crate takes the port as `&dyn …` or `Arc<dyn …>`; its unit tests hand it a
//! mock. With `domain = { …, features = ["mocks"] }` among your dev-dependencies:
//!
#![cfg_attr(feature = "mocks", doc = "```")]
#![cfg_attr(not(feature = "mocks"), doc = "```ignore")]
//! use domain::ports::{MockStockRepository, StockRepository, StoreError};
//! use domain::{LocationId, ProductId, ProductStock, StockCount};
//!
//! /// The code under test: whether a product is down to `threshold` units for sale or fewer at
//! /// the default location.
//! async fn running_low(
//!     stock: &dyn StockRepository,
//!     product: ProductId,
//!     threshold: StockCount,
//! ) -> Result<bool, StoreError> {
//!     let stock = stock.get(product, LocationId::DEFAULT).await?;
//!     Ok(stock.is_some_and(|s| s.available() <= threshold))
//! }
//!
//! // Its test (a `#[tokio::test]` in your crate): the mock answers for the database.
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let product = ProductId::new(uuid::Uuid::from_u128(1)).unwrap();
//! let mut repo = MockStockRepository::new();
//! repo.expect_get()
//!     .withf(move |id, location| *id == product && *location == LocationId::DEFAULT)
//!     .times(1)
//!     .returning(|id, _| Ok(Some(ProductStock::new(id, StockCount::new(3).unwrap()))));
//!
//! let low = running_low(&repo, product, StockCount::new(5).unwrap()).await;
//! assert!(matches!(low, Ok(true)));
//!
//! // Failures of the store reach the caller as they are.
//! let mut down = MockStockRepository::new();
//! down.expect_get().returning(|_, _| Err(StoreError::unavailable("connection refused")));
//! let failed = running_low(&down, product, StockCount::ZERO).await;
//! assert!(matches!(failed, Err(StoreError::Unavailable(_))));
//! # }
//! ```

mod clients;
mod clock;
mod error;
mod events;
mod idempotency;
mod lease;
mod location;
mod order;
mod product;
mod purchases;
mod reconciliation;
mod relay;
mod stock;
mod unit_of_work;
mod webhooks;

pub use clients::{ApiClientStore, KeyDigest};
pub use clock::{Clock, IdGenerator};
pub use error::{BoxError, StoreError};
pub use events::{EventFeed, EventRetention};
pub use idempotency::{
    Claim, ClaimToken, Effect, IdempotencyKey, IdempotencyKeyError, IdempotencyStore, KeyClaim,
    KeyEffect, StoredResponse,
};
pub use lease::Lease;
pub use location::LocationRepository;
pub use order::OrderRepository;
pub use product::ProductRepository;
pub use purchases::PurchaseCounters;
pub use reconciliation::Reconciliation;
pub use relay::{EventSink, RelayCursors};
pub use stock::{StockForSale, StockRepository};
pub use unit_of_work::{BrokenChain, Changeset, UnitOfWork, chain_stock_changes};
pub use webhooks::{WebhookSender, WebhookStore};

#[cfg(any(test, feature = "mocks"))]
pub use clients::MockApiClientStore;
#[cfg(any(test, feature = "mocks"))]
pub use clock::{MockClock, MockIdGenerator};
#[cfg(any(test, feature = "mocks"))]
pub use events::{MockEventFeed, MockEventRetention};
#[cfg(any(test, feature = "mocks"))]
pub use idempotency::MockIdempotencyStore;
#[cfg(any(test, feature = "mocks"))]
pub use lease::MockLease;
#[cfg(any(test, feature = "mocks"))]
pub use location::MockLocationRepository;
#[cfg(any(test, feature = "mocks"))]
pub use order::MockOrderRepository;
#[cfg(any(test, feature = "mocks"))]
pub use product::MockProductRepository;
#[cfg(any(test, feature = "mocks"))]
pub use purchases::MockPurchaseCounters;
#[cfg(any(test, feature = "mocks"))]
pub use reconciliation::MockReconciliation;
#[cfg(any(test, feature = "mocks"))]
pub use relay::{MockEventSink, MockRelayCursors};
#[cfg(any(test, feature = "mocks"))]
pub use stock::MockStockRepository;
#[cfg(any(test, feature = "mocks"))]
pub use unit_of_work::MockUnitOfWork;
#[cfg(any(test, feature = "mocks"))]
pub use webhooks::{MockWebhookSender, MockWebhookStore};
