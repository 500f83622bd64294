//! [`AppState`]: the use cases a handler may call, built once from the ports.

use std::sync::Arc;
use std::time::Duration;

use application::adjust_stock::AdjustStock;
use application::availability::CheckAvailability;
use application::cancel::Cancel;
use application::checkout::{Batching, Checkout, CheckoutConfig};
use application::create_product::CreateProduct;
use application::expire::ExpireDue;
use application::idempotency::Idempotency;
use application::pay::Pay;
use application::queries::Queries;
use application::reconcile::Reconcile;
use application::set_stock::SetStock;
use application::{Ports, RetryPolicy};
use async_trait::async_trait;

/// Whether the service can do its work (the database answers). Implemented by the composition
/// root, which alone knows what the database is.
#[async_trait]
pub trait Readiness: Send + Sync {
    /// `true` when requests can be served.
    async fn ready(&self) -> bool;
}

/// Settings that shape the use cases.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How long a reservation waits for payment.
    pub reservation_ttl: chrono::TimeDelta,
    /// How lost races are retried.
    pub retry: RetryPolicy,
    /// How long a request may run; idempotency claims older than twice this are stale.
    pub request_timeout: Duration,
    /// Group commit of checkouts, or `None` for one transaction per checkout.
    pub group_commit: Option<Batching>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            reservation_ttl: chrono::TimeDelta::minutes(15),
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(30),
            group_commit: None,
        }
    }
}

/// Every use case, built once.
pub struct Services {
    pub checkout: Checkout,
    pub availability: CheckAvailability,
    pub pay: Pay,
    pub cancel: Cancel,
    pub expire: ExpireDue,
    pub set_stock: SetStock,
    pub adjust_stock: AdjustStock,
    pub create_product: CreateProduct,
    pub queries: Queries,
    pub idempotency: Idempotency,
    pub reconcile: Reconcile,
}

impl Services {
    pub fn new(ports: &Ports, settings: &Settings) -> Self {
        let retry = settings.retry;
        let config = CheckoutConfig { reservation_ttl: settings.reservation_ttl, retry };
        Self {
            checkout: checkout(ports, config, settings.group_commit),
            availability: CheckAvailability::new(ports.clone()),
            pay: Pay::new(ports.clone(), retry),
            cancel: Cancel::new(ports.clone(), retry),
            expire: ExpireDue::new(ports.clone(), retry),
            set_stock: SetStock::new(ports.clone()),
            adjust_stock: AdjustStock::new(ports.clone(), retry),
            create_product: CreateProduct::new(ports.clone()),
            queries: Queries::new(ports.clone()),
            idempotency: Idempotency::new(ports.clone(), settings.request_timeout * 2),
            reconcile: Reconcile::new(ports.clone()),
        }
    }
}

/// The checkout use case; with group commit, its lane workers run as tasks of the current
/// runtime until the use case is dropped.
fn checkout(ports: &Ports, config: CheckoutConfig, batching: Option<Batching>) -> Checkout {
    let Some(batching) = batching else {
        return Checkout::new(ports.clone(), config);
    };
    let (checkout, workers) = Checkout::batched(ports.clone(), config, batching);
    for worker in workers {
        tokio::spawn(worker);
    }
    checkout
}

/// What every handler gets. Cloning is cheap.
#[derive(Clone)]
pub struct AppState {
    pub services: Arc<Services>,
    pub admin_token: Arc<str>,
    pub readiness: Arc<dyn Readiness>,
    pub settings: Settings,
}

impl AppState {
    pub fn new(
        ports: &Ports,
        settings: Settings,
        admin_token: &str,
        readiness: Arc<dyn Readiness>,
    ) -> Self {
        Self {
            services: Arc::new(Services::new(ports, &settings)),
            admin_token: admin_token.into(),
            readiness,
            settings,
        }
    }
}
