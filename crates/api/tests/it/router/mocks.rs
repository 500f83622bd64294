//! [`Mocks`]: every port mocked, turned into a router; and [`send`], one request through it.

use std::sync::Arc;

use api::{AppState, Readiness, Settings};
use application::Ports;
use async_trait::async_trait;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Method, Request, header};
use chrono::{TimeZone, Utc};
use domain::ports::{
    MockApiClientStore, MockClock, MockEventFeed, MockEventRetention, MockIdGenerator,
    MockIdempotencyStore, MockLease, MockLocationRepository, MockOrderRepository,
    MockProductRepository, MockPurchaseCounters, MockReconciliation, MockRelayCursors,
    MockStockRepository, MockUnitOfWork, MockWebhookStore,
};
use domain::{ProductId, ProductStock, StockCount, Timestamp, Version};
use tower::ServiceExt;
use uuid::Uuid;

use crate::support::Reply;

/// The admin token of every mocked router.
pub const TOKEN: &str = "token";

/// A [`Readiness`] that always gives the same answer.
struct FixedReadiness(bool);

#[async_trait]
impl Readiness for FixedReadiness {
    async fn ready(&self) -> bool {
        self.0
    }
}

/// Mocks of every port, plus the readiness answer; a test sets the expectations it cares
/// about and then calls [`Mocks::router`].
pub struct Mocks {
    pub products: MockProductRepository,
    pub locations: MockLocationRepository,
    pub stock: MockStockRepository,
    pub orders: MockOrderRepository,
    pub unit_of_work: MockUnitOfWork,
    pub clock: MockClock,
    pub ids: MockIdGenerator,
    pub idempotency: MockIdempotencyStore,
    pub reconciliation: MockReconciliation,
    /// Knows no client unless a test says otherwise.
    pub clients: MockApiClientStore,
    pub ready: bool,
}

impl Mocks {
    /// No expectations but a clock that reads [`now`]; ready.
    pub fn new() -> Self {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(now());
        Self {
            products: MockProductRepository::new(),
            locations: MockLocationRepository::new(),
            stock: MockStockRepository::new(),
            orders: MockOrderRepository::new(),
            unit_of_work: MockUnitOfWork::new(),
            clock,
            ids: MockIdGenerator::new(),
            idempotency: MockIdempotencyStore::new(),
            reconciliation: MockReconciliation::new(),
            clients: MockApiClientStore::new(),
            ready: true,
        }
        .knowing_no_client()
    }

    fn knowing_no_client(mut self) -> Self {
        self.clients.expect_find().returning(|_| Ok(None));
        self
    }

    /// Mocks that fail the test if any stock is written, by a commit or a single save.
    pub fn touching_no_stock() -> Self {
        let mut mocks = Self::new();
        mocks.unit_of_work.expect_commit().times(0);
        mocks.unit_of_work.expect_commit_all().times(0);
        mocks.stock.expect_save().times(0);
        mocks.stock.expect_save_many().times(0);
        mocks
    }

    /// The whole router over these mocks, with the default settings (the production
    /// configuration, group commit on) and [`TOKEN`]. Call it inside a Tokio runtime: the
    /// group-commit workers are spawned on it.
    pub fn router(self) -> Router {
        let ports = Ports {
            products: Arc::new(self.products),
            locations: Arc::new(self.locations),
            stock: Arc::new(self.stock),
            orders: Arc::new(self.orders),
            unit_of_work: Arc::new(self.unit_of_work),
            clock: Arc::new(self.clock),
            ids: Arc::new(self.ids),
            idempotency: Arc::new(self.idempotency),
            reconciliation: Arc::new(self.reconciliation),
            lease: Arc::new(MockLease::new()),
            clients: Arc::new(self.clients),
            purchases: Arc::new(MockPurchaseCounters::new()),
            events: Arc::new(MockEventFeed::new()),
            cursors: Arc::new(MockRelayCursors::new()),
            retention: Arc::new(MockEventRetention::new()),
            webhooks: Arc::new(MockWebhookStore::new()),
        };
        let readiness = Arc::new(FixedReadiness(self.ready));
        let (state, workers) = AppState::new(&ports, None, Settings::default(), TOKEN, readiness);
        for worker in workers {
            tokio::spawn(worker);
        }
        api::router(state)
    }
}

/// What every mocked clock reads.
pub fn now() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).single().expect("a valid time")
}

/// A product id.
pub fn product_id() -> ProductId {
    ProductId::new(Uuid::from_u128(0x0192_f4a0_7b3c_7def_8123_4567_89ab_cdef)).expect("an id")
}

/// Stock of [`product_id`] stored at `version`.
pub fn stock(on_hand: i64, reserved: i64, version: i64) -> ProductStock {
    stock_of(product_id(), on_hand, reserved, version)
}

/// Stock of `product` stored at `version`.
pub fn stock_of(product: ProductId, on_hand: i64, reserved: i64, version: i64) -> ProductStock {
    let count = |n| StockCount::new(n).expect("a count");
    let version = Version::new(version).expect("a version");
    ProductStock::restore(product, count(on_hand), count(reserved), version).expect("stock")
}

/// A request builder for `method path`.
pub fn request(method: Method, path: &str) -> axum::http::request::Builder {
    Request::builder().method(method).uri(path)
}

/// `request` without a body.
pub fn empty(builder: axum::http::request::Builder) -> Request<Body> {
    builder.body(Body::empty()).expect("a request")
}

/// `request` with a JSON body.
pub fn json(builder: axum::http::request::Builder, body: &serde_json::Value) -> Request<Body> {
    builder
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("a request")
}

/// Sends one request through `router` and reads the whole answer.
pub async fn send(router: Router, request: Request<Body>) -> Reply {
    let response = router.oneshot(request).await.expect("the router is infallible");
    let (parts, body) = response.into_parts();
    let body = to_bytes(body, usize::MAX).await.expect("a readable body").to_vec();
    Reply { status: parts.status, headers: parts.headers, body }
}
