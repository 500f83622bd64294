//! [`Clock`] and [`IdGenerator`]: time and fresh identities, injected so that expiry, retries
//! and ids are deterministic in tests.

use std::time::Duration;

use async_trait::async_trait;

use crate::{ClientId, OrderId, ProductId, Timestamp};

/// The time, and a way to wait.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Clock: Send + Sync {
    /// The current time, UTC.
    fn now(&self) -> Timestamp;

    /// Waits for `duration` (the backoff between optimistic retries).
    ///
    /// # Errors
    /// None: waiting cannot fail. It MUST NOT block the thread it runs on.
    async fn sleep(&self, duration: Duration);
}

/// Fresh identities.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait IdGenerator: Send + Sync {
    /// A new product id, never handed out before.
    fn product_id(&self) -> ProductId;

    /// A new order id, never handed out before. Production adapters use UUID v7 so that ids
    /// sort by creation time without revealing a count.
    fn order_id(&self) -> OrderId;

    /// A new API client id, never handed out before.
    fn client_id(&self) -> ClientId;

    /// A new stock location id, never handed out before.
    fn location_id(&self) -> crate::LocationId;

    /// A new webhook subscription id, never handed out before.
    fn webhook_id(&self) -> crate::webhook::WebhookId;

    /// 256 bits from a cryptographically secure random source: the secret of a new API key.
    /// Production adapters read the operating system's generator.
    fn secret(&self) -> [u8; 32];
}
