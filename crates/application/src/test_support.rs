//! Builders shared by the use-case tests: mocked ports and terse domain values.

use chrono::{TimeZone, Utc};
use domain::access::Actor;
use domain::limits::PurchaseLimits;
use domain::ports::{Changeset, StockForSale};
use domain::ports::{
    MockApiClientStore, MockClock, MockEventFeed, MockEventRetention, MockIdGenerator,
    MockIdempotencyStore, MockLease, MockLocationRepository, MockOrderRepository,
    MockProductRepository, MockPurchaseCounters, MockReconciliation, MockRelayCursors,
    MockStockRepository, MockUnitOfWork, MockWebhookStore,
};
use domain::{
    Cart, Currency, Money, MovementKind, Order, OrderId, Product, ProductId, ProductName,
    ProductStock, Quantity, Sku, StockCount, Timestamp, Version,
};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

use crate::{CartLine, Ports};

/// Records every changeset a mocked unit of work is asked to commit, alone or in a batch, and
/// commits it.
pub(crate) fn recording(unit_of_work: &mut MockUnitOfWork) -> Arc<Mutex<Vec<Changeset>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    unit_of_work.expect_commit().returning(move |c| {
        sink.lock().expect("lock").push(c);
        Ok(())
    });
    let sink = Arc::clone(&seen);
    unit_of_work.expect_commit_all().returning(move |batch| {
        sink.lock().expect("lock").extend(batch);
        Ok(())
    });
    seen
}

/// (product, kind, on-hand delta, reserved delta) of each stock change, for terse assertions.
pub(crate) fn moves(changeset: &Changeset) -> Vec<(ProductId, MovementKind, i64, i64)> {
    changeset
        .stock()
        .iter()
        .map(|c| (c.product_id(), c.kind(), c.on_hand_delta(), c.reserved_delta()))
        .collect()
}

/// Mocks around one stored order: `orders.get` returns `order`, `stock.get_many` returns
/// `stocks`, and every commit is recorded.
pub(crate) fn around_order(
    order: Order,
    stocks: Vec<ProductStock>,
    now: Timestamp,
) -> (Mocks, Arc<Mutex<Vec<Changeset>>>) {
    let mut mocks = Mocks::new();
    mocks.clock = clock_at(now, 0);
    mocks.orders.expect_get().returning(move |_| Ok(Some(order.clone())));
    mocks.stock.expect_get_many().returning(move |_| Ok(stocks.clone()));
    let commits = recording(&mut mocks.unit_of_work);
    (mocks, commits)
}

/// Noon on the day these tests were written; every mocked clock reads it.
pub(crate) fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).single().expect("time")
}

pub(crate) fn pid(n: u128) -> ProductId {
    ProductId::new(Uuid::from_u128(n)).expect("id")
}

pub(crate) fn oid(n: u128) -> OrderId {
    OrderId::new(Uuid::from_u128(0xA000 + n)).expect("id")
}

pub(crate) fn q(n: i64) -> Quantity {
    Quantity::new(n).expect("quantity")
}

pub(crate) fn count(n: i64) -> StockCount {
    StockCount::new(n).expect("count")
}

pub(crate) fn line(product: u128, quantity: i64) -> CartLine {
    CartLine { product_id: pid(product), quantity: q(quantity) }
}

pub(crate) fn eur(amount: i64) -> Money {
    Money::new(amount, Currency::new("EUR").expect("currency")).expect("money")
}

/// Stock of product `n` stored at `version`.
pub(crate) fn stock(n: u128, on_hand: i64, reserved: i64, version: i64) -> ProductStock {
    ProductStock::restore(
        pid(n),
        count(on_hand),
        count(reserved),
        Version::new(version).expect("v"),
    )
    .expect("stock")
}

/// `stocks`, each with no purchase limits at a priority-0 location and priced as [`product`]
/// prices it: what a stock read for a checkout returns.
pub(crate) fn unlimited(stocks: Vec<ProductStock>) -> Vec<StockForSale> {
    stocks
        .into_iter()
        .map(|stock| StockForSale {
            price: product(stock.product_id().as_uuid().as_u128()).price,
            stock,
            priority: 0,
            limits: PurchaseLimits::default(),
            backorder_limit: None,
        })
        .collect()
}

/// Product `n` priced at €1 × n.
pub(crate) fn product(n: u128) -> Product {
    Product {
        id: pid(n),
        sku: Sku::new(format!("SKU-{n}")).expect("sku"),
        name: ProductName::new("Thing").expect("name"),
        price: eur(100 * i64::try_from(n).expect("small")),
        limits: PurchaseLimits::default(),
        low_stock_threshold: None,
        backorders: domain::backorder::BackorderPolicy::Deny,
        backordered: domain::StockCount::ZERO,
        created_at: t0(),
    }
}

/// A reserved order placed at [`t0`], due 15 minutes later, for the given (product, quantity)s.
pub(crate) fn reserved_order(lines: &[(u128, i64)]) -> Order {
    let cart = Cart::new(lines.iter().map(|&(p, n)| (pid(p), q(n)))).expect("cart");
    let price = |id: ProductId| Some(product(id.as_uuid().as_u128()).price);
    Order::place(oid(1), &cart, price, None, t0(), chrono::TimeDelta::minutes(15), Actor::Anonymous)
        .expect("order")
}

/// A clock that reads [`t0`] and expects exactly `sleeps` backoff waits.
pub(crate) fn sleeping_clock(sleeps: usize) -> MockClock {
    clock_at(t0(), sleeps)
}

/// A clock that reads `now` and expects exactly `sleeps` backoff waits.
pub(crate) fn clock_at(now: Timestamp, sleeps: usize) -> MockClock {
    let mut clock = MockClock::new();
    clock.expect_now().return_const(now);
    clock.expect_sleep().times(sleeps).returning(|_| ());
    clock
}

/// Mocks of every port; a test sets the expectations it cares about, and any unexpected call
/// fails the test.
pub(crate) struct Mocks {
    pub(crate) products: MockProductRepository,
    pub(crate) locations: MockLocationRepository,
    pub(crate) stock: MockStockRepository,
    pub(crate) orders: MockOrderRepository,
    pub(crate) unit_of_work: MockUnitOfWork,
    pub(crate) clock: MockClock,
    pub(crate) ids: MockIdGenerator,
    pub(crate) idempotency: MockIdempotencyStore,
    pub(crate) reconciliation: MockReconciliation,
    pub(crate) lease: MockLease,
    pub(crate) clients: MockApiClientStore,
    pub(crate) purchases: MockPurchaseCounters,
    pub(crate) events: MockEventFeed,
    pub(crate) retention: MockEventRetention,
    pub(crate) cursors: MockRelayCursors,
    pub(crate) webhooks: MockWebhookStore,
}

impl Mocks {
    /// Mocks with a clock at [`t0`] that may not sleep, and ids that hand out [`oid`]`(1)`.
    pub(crate) fn new() -> Self {
        let mut ids = MockIdGenerator::new();
        ids.expect_order_id().return_const(oid(1));
        Self {
            products: MockProductRepository::new(),
            locations: MockLocationRepository::new(),
            stock: MockStockRepository::new(),
            orders: MockOrderRepository::new(),
            unit_of_work: MockUnitOfWork::new(),
            clock: sleeping_clock(0),
            ids,
            idempotency: MockIdempotencyStore::new(),
            reconciliation: MockReconciliation::new(),
            lease: MockLease::new(),
            clients: MockApiClientStore::new(),
            purchases: MockPurchaseCounters::new(),
            events: MockEventFeed::new(),
            retention: MockEventRetention::new(),
            cursors: MockRelayCursors::new(),
            webhooks: MockWebhookStore::new(),
        }
    }

    pub(crate) fn into_ports(self) -> Ports {
        Ports {
            products: Arc::new(self.products),
            locations: Arc::new(self.locations),
            stock: Arc::new(self.stock),
            orders: Arc::new(self.orders),
            unit_of_work: Arc::new(self.unit_of_work),
            clock: Arc::new(self.clock),
            ids: Arc::new(self.ids),
            idempotency: Arc::new(self.idempotency),
            reconciliation: Arc::new(self.reconciliation),
            lease: Arc::new(self.lease),
            clients: Arc::new(self.clients),
            purchases: Arc::new(self.purchases),
            events: Arc::new(self.events),
            retention: Arc::new(self.retention),
            cursors: Arc::new(self.cursors),
            webhooks: Arc::new(self.webhooks),
        }
    }
}
