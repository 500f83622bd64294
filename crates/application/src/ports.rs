//! [`Ports`]: the adapters a use case may call, bundled so wiring stays one line per use case.

use std::sync::Arc;

use domain::ports::{
    ApiClientStore, Clock, EventFeed, EventRetention, IdGenerator, IdempotencyStore, Lease,
    LocationRepository, OrderRepository, ProductRepository, PurchaseCounters, Reconciliation,
    RelayCursors, StockRepository, UnitOfWork, WebhookStore,
};

/// Every port the use cases need, as shared trait objects. Cloning is cheap.
#[derive(Clone)]
pub struct Ports {
    /// The catalogue.
    pub products: Arc<dyn ProductRepository>,
    /// The stock locations.
    pub locations: Arc<dyn LocationRepository>,
    /// Versioned stock reads and single-row writes.
    pub stock: Arc<dyn StockRepository>,
    /// Order reads.
    pub orders: Arc<dyn OrderRepository>,
    /// The all-or-nothing write of a checkout, payment, cancellation or expiry.
    pub unit_of_work: Arc<dyn UnitOfWork>,
    /// Time and waiting.
    pub clock: Arc<dyn Clock>,
    /// Fresh identities.
    pub ids: Arc<dyn IdGenerator>,
    /// Idempotency keys and their stored answers.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Every product's stock figures from one snapshot, for reconciliation.
    pub reconciliation: Arc<dyn Reconciliation>,
    /// Named leases: which process sweeps.
    pub lease: Arc<dyn Lease>,
    /// API clients and the digests of their keys.
    pub clients: Arc<dyn ApiClientStore>,
    /// What each asserted customer holds of each product, for per-customer limits.
    pub purchases: Arc<dyn PurchaseCounters>,
    /// The event feed's reads.
    pub events: Arc<dyn EventFeed>,
    /// Old events leaving the feed.
    pub retention: Arc<dyn EventRetention>,
    /// How far each relay has sent the feed.
    pub cursors: Arc<dyn RelayCursors>,
    /// Webhook subscriptions and their delivery log.
    pub webhooks: Arc<dyn WebhookStore>,
}
