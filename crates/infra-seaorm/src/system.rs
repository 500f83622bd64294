//! The real clock and the real id source: [`SystemClock`] and [`UuidV7Ids`].
//!
//! They live in this crate because they need a runtime (tokio's timer) and a random source,
//! which the domain must not depend on.

use std::time::Duration;

use async_trait::async_trait;
use chrono::SubsecRound;
use domain::ports::{Clock, IdGenerator};
use domain::webhook::WebhookId;
use domain::{ClientId, LocationId, OrderId, ProductId, Timestamp};
use uuid::Uuid;

/// [`Clock`] reading the system time and sleeping on tokio's timer.
///
/// Time is cut to whole microseconds, the finest every backend stores: an order answered to
/// the client must read back identical from PostgreSQL or MariaDB, not 0.3 µs off.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        chrono::Utc::now().trunc_subsecs(6)
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// [`IdGenerator`] handing out UUID v7: ids sort by creation time (so B-tree inserts append)
/// and reveal no count; secrets come from the operating system's generator.
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidV7Ids;

impl IdGenerator for UuidV7Ids {
    fn product_id(&self) -> ProductId {
        ProductId::new(v7()).expect("a v7 UUID has its version bits set, so it is never nil")
    }

    fn order_id(&self) -> OrderId {
        OrderId::new(v7()).expect("a v7 UUID has its version bits set, so it is never nil")
    }

    fn client_id(&self) -> ClientId {
        ClientId::new(v7()).expect("a v7 UUID has its version bits set, so it is never nil")
    }

    fn location_id(&self) -> LocationId {
        LocationId::new(v7()).expect("a v7 UUID has its version bits set, so it is never nil")
    }

    fn webhook_id(&self) -> WebhookId {
        WebhookId::new(v7()).expect("a v7 UUID has its version bits set, so it is never nil")
    }

    fn secret(&self) -> [u8; 32] {
        let mut bytes = [0; 32];
        // The OS generator fails only on a system without one (no /dev/urandom, no getrandom
        // syscall): no key can be made safely there, so stopping is right.
        getrandom::fill(&mut bytes).expect("the operating system's random generator answers");
        bytes
    }
}

fn v7() -> Uuid {
    Uuid::now_v7()
}
