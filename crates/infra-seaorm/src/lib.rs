//! SeaORM adapters of the domain ports, for SQLite (the embedded default), PostgreSQL and
//! MariaDB/MySQL.
//!
//! What this crate owns: the entities (private, one module per table), the translation of rows
//! into domain types through their fallible constructors, the one versioned write behind every
//! stock and order change, and the mapping of driver errors to [`domain::ports::StoreError`].
//! What it must not know: use cases, HTTP, or any retry policy. A lost race comes back as a
//! conflict; deciding to try again is the application's business.
//!
//! Start-up: [`connect`], then [`migrate`], then [`SeaOrmAdapters::new`].

mod clients;
mod connect;
mod entities;
mod error;
mod events;
mod idempotency;
mod lease;
mod locations;
mod order;
mod product;
mod purchases;
mod reconciliation;
mod stock;
pub mod system;
mod transaction;
mod unit_of_work;
mod webhooks;
mod write;

pub use clients::SeaOrmClients;
pub use connect::{PoolOptions, SetupError, Waits, connect, connect_with_pool, migrate};
pub use events::{SeaOrmEventFeed, SeaOrmEventRetention, SeaOrmRelayCursors};
pub use idempotency::SeaOrmIdempotencyStore;
pub use lease::SeaOrmLease;
pub use locations::SeaOrmLocationRepository;
pub use order::SeaOrmOrderRepository;
pub use product::SeaOrmProductRepository;
pub use purchases::SeaOrmPurchaseCounters;
pub use reconciliation::SeaOrmReconciliation;
pub use sea_orm::DatabaseConnection;
pub use stock::SeaOrmStockRepository;
pub use unit_of_work::SeaOrmUnitOfWork;
pub use webhooks::SeaOrmWebhookStore;
pub use write::StockWrites;

/// The most ids one `IN (…)` list binds: a group-commit batch may involve up to
/// `max-orders × 100` products, past SQLite's 32,766 and PostgreSQL's 65,535 bound parameters
/// per statement, so lookups by id go in slices of this size.
pub(crate) const IDS_PER_QUERY: usize = 1_000;

/// Every adapter of this crate, sharing one connection pool.
#[derive(Debug, Clone)]
pub struct SeaOrmAdapters {
    /// The stock port.
    pub stock: SeaOrmStockRepository,
    /// The order port.
    pub orders: SeaOrmOrderRepository,
    /// The catalogue port.
    pub products: SeaOrmProductRepository,
    /// The stock locations.
    pub locations: SeaOrmLocationRepository,
    /// The atomic-commit port.
    pub unit_of_work: SeaOrmUnitOfWork,
    /// The reconciliation port (read-only).
    pub reconciliation: SeaOrmReconciliation,
    /// The lease port (which process sweeps).
    pub lease: SeaOrmLease,
    /// The API client port.
    pub clients: SeaOrmClients,
    /// The purchase counters' reads.
    pub purchases: SeaOrmPurchaseCounters,
    /// The event feed's reads.
    pub events: SeaOrmEventFeed,
    /// The relays' positions in the feed.
    pub cursors: SeaOrmRelayCursors,
    /// Old events leaving the feed.
    pub retention: SeaOrmEventRetention,
    /// Webhook subscriptions and their delivery log.
    pub webhooks: SeaOrmWebhookStore,
}

impl SeaOrmAdapters {
    /// All adapters over `db` (each holds a clone: a handle to the same pool), writing stock
    /// by compare-and-swap.
    #[must_use]
    pub fn new(db: &DatabaseConnection) -> Self {
        Self::with_stock_writes(db, StockWrites::default())
    }

    /// All adapters over `db`, writing stock as `writes` says.
    #[must_use]
    pub fn with_stock_writes(db: &DatabaseConnection, writes: StockWrites) -> Self {
        Self {
            stock: SeaOrmStockRepository::with_stock_writes(db.clone(), writes),
            orders: SeaOrmOrderRepository::new(db.clone()),
            products: SeaOrmProductRepository::new(db.clone()),
            locations: SeaOrmLocationRepository::new(db.clone()),
            unit_of_work: SeaOrmUnitOfWork::with_stock_writes(db.clone(), writes),
            reconciliation: SeaOrmReconciliation::new(db.clone()),
            lease: SeaOrmLease::new(db.clone()),
            clients: SeaOrmClients::new(db.clone()),
            purchases: SeaOrmPurchaseCounters::new(db.clone()),
            events: SeaOrmEventFeed::new(db.clone()),
            cursors: SeaOrmRelayCursors::new(db.clone()),
            retention: SeaOrmEventRetention::new(db.clone()),
            webhooks: SeaOrmWebhookStore::new(db.clone()),
        }
    }
}
