//! [`AppState`]: the use cases a handler may call, built once from the ports.

use std::sync::Arc;
use std::time::Duration;

use application::access::Access;
use application::adjust_stock::AdjustStock;
use application::availability::CheckAvailability;
use application::bulk_stock::BulkStock;
use application::cancel::Cancel;
use application::checkout::{BatchWorker, Batching, Checkout, CheckoutConfig};
use application::create_product::CreateProduct;
use application::events::{Events, Retention};
use application::expire::ExpireDue;
use application::extend::{Extend, HoldConfig};
use application::idempotency::Idempotency;
use application::incoming::RecordIncoming;
use application::locations::CreateLocation;
use application::pay::Pay;
use application::queries::Queries;
use application::reconcile::Reconcile;
use application::set_limits::SetLimits;
use application::set_stock::SetStock;
use application::transfer::TransferStock;
use application::webhooks::Webhooks;
use application::{Ports, RetryPolicy};
use async_trait::async_trait;

use crate::peers::Peers;
use crate::rate_limit::{RateLimitSettings, RateLimits};

/// Whether the service can do its work (the database answers). Implemented by the composition
/// root, which alone knows what the database is.
#[async_trait]
pub trait Readiness: Send + Sync {
    /// `true` when requests can be served.
    async fn ready(&self) -> bool;
}

/// Settings that shape the use cases.
///
/// [`Settings::default`] is what the binary runs when no flag is given (on a backend with
/// concurrent writers), so tests that start from it exercise the production configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// How long a reservation waits for payment (and what one extension adds).
    pub reservation_ttl: chrono::TimeDelta,
    /// The longest a reservation may be held, extensions included, from its checkout.
    pub max_hold: chrono::TimeDelta,
    /// How lost races are retried.
    pub retry: RetryPolicy,
    /// How long a request may run; idempotency claims older than twice this are stale.
    pub request_timeout: Duration,
    /// Group commit of checkouts, or `None` for one transaction per checkout.
    pub group_commit: Option<Batching>,
    /// How long an idempotency key and its answer are kept before the sweeper purges it.
    pub idempotency_retention: Duration,
    /// Abuse limits on checkout; none by default.
    pub rate_limits: RateLimitSettings,
    /// The longest a feed reader's `wait` is honoured (a proxy in front may cut idle requests
    /// sooner); a longer `wait` answers an empty page at this bound.
    pub events_max_wait: Duration,
    /// Whether webhook subscriptions may target loopback and private addresses
    /// (`--webhooks-allow-private`).
    pub webhooks_allow_private: bool,
    /// How long events stay in the feed; `None` keeps them all.
    pub events_retention: Option<Duration>,
}

impl Settings {
    /// How long a request may run unless configured otherwise: long enough for a checkout that
    /// waits out a burst of lost races and a slow commit, short enough that a stuck request
    /// frees its connection and its idempotency claim within a minute.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

    /// How long idempotency keys are kept unless configured otherwise: the contract's 24 hours,
    /// long enough for a client's retries across a day's outage (Stripe keeps them as long).
    pub const DEFAULT_IDEMPOTENCY_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

    /// How long events stay in the feed unless configured otherwise: 30 days, long enough for
    /// a consumer to come back from a long outage, short enough that the feed's columns do not
    /// grow without end.
    pub const DEFAULT_EVENTS_RETENTION: Duration = Duration::from_secs(30 * 24 * 60 * 60);
}

impl Default for Settings {
    /// Each use case's own defaults, group commit on.
    fn default() -> Self {
        Self {
            reservation_ttl: CheckoutConfig::DEFAULT_RESERVATION_TTL,
            max_hold: HoldConfig::DEFAULT_MAX_HOLD,
            retry: RetryPolicy::default(),
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            group_commit: Some(Batching::default()),
            idempotency_retention: Self::DEFAULT_IDEMPOTENCY_RETENTION,
            rate_limits: RateLimitSettings::default(),
            events_max_wait: Events::MAX_WAIT,
            webhooks_allow_private: false,
            events_retention: Some(Self::DEFAULT_EVENTS_RETENTION),
        }
    }
}

/// Every use case, built once from the same ports and settings.
pub struct Services {
    /// `POST /v1/checkout`: reserve a cart and create its order (group-committed when
    /// [`Settings::group_commit`] is set).
    pub checkout: Checkout,
    /// `POST /v1/stock/check`: can a cart be bought now.
    pub availability: CheckAvailability,
    /// `POST /v1/orders/{id}/pay`: sell what an order reserved.
    pub pay: Pay,
    /// `POST /v1/orders/{id}/cancel`: give an order's units back.
    pub cancel: Cancel,
    /// `POST /v1/orders/{id}/extend`: hold a reservation longer while its payment is pending.
    pub extend: Extend,
    /// The sweeper's work: expire unpaid reservations that are due.
    pub expire: ExpireDue,
    /// `PUT /v1/products/{id}/stock`: a shelf count under `If-Match`.
    pub set_stock: SetStock,
    /// `PATCH /v1/products/{id}`: change a product's purchase limits.
    pub set_limits: SetLimits,
    /// `POST /v1/stock/bulk`: many rows of counts or deltas, each on its own.
    pub bulk_stock: BulkStock,
    /// `POST /v1/products/{id}/stock/adjustments`: move on-hand by a delta.
    pub adjust_stock: AdjustStock,
    /// `POST /v1/products`: a product with its initial stock.
    pub create_product: CreateProduct,
    /// `POST /v1/locations`: a warehouse or a store.
    pub create_location: CreateLocation,
    /// `PUT …/stock/locations/{location_id}/incoming`: units on their way.
    pub record_incoming: RecordIncoming,
    /// `POST /v1/transfers`: units from one location to another.
    pub transfer: TransferStock,
    /// Every read on the primary database: orders, and whatever must see a write just made
    /// (an idempotent replay, the stock a failed `If-Match` reports, a product just changed).
    pub queries: Queries,
    /// The catalogue, stock and ledger reads a client asks for: on the read replica when one
    /// is configured (`DATABASE_READ_URL`), so they may lag the primary; else the same as
    /// `queries`. Never a checkout's decision: those read the primary in their transaction.
    pub reads: Queries,
    /// `GET /v1/events`: the event feed, from the read replica when one is configured (its
    /// sequences replay in commit order there too, so a reader still skips nothing).
    pub events: Events,
    /// The sweeper's purge of old events from the feed (on the primary).
    pub event_retention: Retention,
    /// `/v1/webhooks`: subscriptions, their delivery log, re-drives.
    pub webhooks: Webhooks,
    /// Claims and answers of `Idempotency-Key`s, used by the idempotency middleware.
    pub idempotency: Idempotency,
    /// `GET /v1/admin/reconciliation`: stock against ledger and orders.
    pub reconcile: Reconcile,
    /// Who is calling, and the API clients: `/v1/clients` and every credential check.
    pub access: Access,
}

impl Services {
    /// Builds every use case. With group commit on, the returned workers must run (on any
    /// executor; the composition root spawns them) for checkouts to be answered; they end
    /// when the checkout use case is dropped. `replica`: the ports over a read replica, for
    /// [`Services::reads`].
    #[must_use]
    pub fn new(
        ports: &Ports,
        replica: Option<&Ports>,
        settings: &Settings,
        admin_token: &str,
    ) -> (Self, Vec<BatchWorker>) {
        let retry = settings.retry;
        let config = CheckoutConfig { reservation_ttl: settings.reservation_ttl, retry };
        let hold = HoldConfig { step: settings.reservation_ttl, max_hold: settings.max_hold };
        let (checkout, workers) = match settings.group_commit {
            Some(batching) => Checkout::batched(ports.clone(), config, batching),
            None => (Checkout::new(ports.clone(), config), Vec::new()),
        };
        let services = Self {
            checkout,
            availability: CheckAvailability::new(ports.clone()),
            pay: Pay::new(ports.clone(), retry),
            cancel: Cancel::new(ports.clone(), retry),
            extend: Extend::new(ports.clone(), retry, hold),
            expire: ExpireDue::new(ports.clone(), retry),
            set_stock: SetStock::new(ports.clone()),
            set_limits: SetLimits::new(ports.clone()),
            adjust_stock: AdjustStock::new(ports.clone(), retry),
            bulk_stock: BulkStock::new(ports.clone(), retry),
            create_product: CreateProduct::new(ports.clone()),
            create_location: CreateLocation::new(ports.clone()),
            record_incoming: RecordIncoming::new(ports.clone()),
            transfer: TransferStock::new(ports.clone(), retry),
            queries: Queries::new(ports.clone()),
            reads: Queries::new(replica.unwrap_or(ports).clone()),
            events: Events::new(replica.unwrap_or(ports)),
            event_retention: Retention::new(ports),
            webhooks: Webhooks::new(ports.clone()),
            idempotency: Idempotency::new(ports.clone(), settings.request_timeout * 2),
            reconcile: Reconcile::new(ports.clone()),
            access: Access::new(ports.clone(), admin_token),
        };
        (services, workers)
    }
}

/// What every handler gets. Cloning is cheap.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub services: Arc<Services>,
    /// The root credential (every scope), shown to whoever started the service.
    pub admin_token: Arc<str>,
    /// The abuse limits' buckets, when any limit is set.
    pub rate_limits: Option<Arc<RateLimits>>,
    /// What `/readyz` asks.
    pub readiness: Arc<dyn Readiness>,
    /// The settings the use cases were built with; the HTTP layer reads the request timeout.
    pub settings: Settings,
    /// The processes checkouts are routed among, when routing is on.
    pub peers: Option<Arc<Peers>>,
}

impl AppState {
    /// The state over `ports`, with the group-commit workers that must run for checkouts to
    /// be answered (see [`Services::new`]).
    #[must_use]
    pub fn new(
        ports: &Ports,
        replica: Option<&Ports>,
        settings: Settings,
        admin_token: &str,
        readiness: Arc<dyn Readiness>,
    ) -> (Self, Vec<BatchWorker>) {
        let (services, workers) = Services::new(ports, replica, &settings, admin_token);
        let state = Self {
            services: Arc::new(services),
            admin_token: admin_token.into(),
            rate_limits: RateLimits::new(settings.rate_limits),
            readiness,
            settings,
            peers: None,
        };
        (state, workers)
    }

    /// The same state, routing checkouts among `peers` ([`crate::peers`]).
    #[must_use]
    pub fn with_peers(mut self, peers: Option<Peers>) -> Self {
        self.peers = peers.map(Arc::new);
        self
    }
}
