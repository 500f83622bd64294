//! A backlog: 50,000 reservations all due at once, with three server processes on the
//! database. Every unit comes back, every order reads expired, the books balance, and one
//! process (the holder of the sweeper's lease) did the sweeping; the test prints how long the
//! stock took to come back (it asserts no duration).
//!
//! The backlog is written straight through the adapters in one transaction (50,000 checkouts
//! over HTTP would take minutes here), already past its expiry, while the three processes run
//! with the default settings. `EXPIRY_BACKLOG_BINARY` runs another build of `checkout-api`
//! instead (to measure an older version; docs/reliability.md).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use domain::access::Actor;
use domain::ports::{Changeset, IdGenerator, ProductRepository, UnitOfWork};
use domain::{
    Cart, Currency, Money, Order, OrderChange, Product, ProductId, ProductName, ProductStock,
    Quantity, Sku, StockCount,
};
use infra_seaorm::system::UuidV7Ids;
use infra_seaorm::{DatabaseConnection, SeaOrmAdapters};
use reqwest::Method;
use sea_orm::{ConnectionTrait, Statement};
use testkit::{ApiProcess, TestDatabase};

use super::client::{Api, TOKEN};

const PROCESSES: usize = 3;
const ORDERS: usize = 50_000;
const PRODUCTS: usize = 50;
/// Far beyond what a drain takes; only a sweeper that is stuck gets here.
const PATIENCE: Duration = Duration::from_secs(600);

on_both_backends!(database: a_backlog_of_due_reservations_is_drained_by_three_processes);

async fn a_backlog_of_due_reservations_is_drained_by_three_processes(database: &TestDatabase) {
    let logs = tempfile::tempdir().expect("a directory for the servers' logs");
    let binary = std::env::var("EXPIRY_BACKLOG_BINARY")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_checkout-api").to_owned());
    let mut processes = Vec::new();
    // One after the other: the first migrates the fresh database, the others find it current.
    for n in 0..PROCESSES {
        let log = logs.path().join(format!("server-{n}.log"));
        let env = [("CHECKOUT_ADMIN_TOKEN", TOKEN), ("RUST_LOG", "warn")];
        processes.push(ApiProcess::start(&binary, database.url(), &log, &env).await);
    }
    let apis: Vec<Api> = processes.iter().map(|p| Api::new(database.backend(), p.addr())).collect();
    let db = infra_seaorm::connect(database.url()).await.expect("connect to the test database");

    let outcome = tokio::spawn(scenario(apis, db)).await;

    drop(processes);
    if let Err(failure) = outcome {
        for n in 0..PROCESSES {
            let log = std::fs::read_to_string(logs.path().join(format!("server-{n}.log")));
            eprintln!("--- server {n}'s log:\n{}", log.unwrap_or_default());
        }
        std::panic::resume_unwind(failure.into_panic());
    }
}

async fn scenario(apis: Vec<Api>, db: DatabaseConnection) {
    // Arrange: the backlog, due since an hour ago, committed at once.
    let seeding = Instant::now();
    let products = backlog(&db).await;
    eprintln!(
        "{:?}: {ORDERS} due reservations over {PRODUCTS} products written in {:.1?}",
        apis[0].backend,
        seeding.elapsed()
    );

    // Act: the sweepers find it.
    let draining = Instant::now();
    loop {
        let held = scalar(&db, "SELECT COUNT(*) FROM product_stock WHERE reserved > 0").await;
        if held == 0 {
            break;
        }
        assert!(draining.elapsed() < PATIENCE, "{held} products still held after {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let drained = draining.elapsed();
    eprintln!(
        "{:?}: {PROCESSES} processes gave back every unit of {ORDERS} due reservations in \
         {drained:.1?} ({:.0} orders/s)",
        apis[0].backend,
        ORDERS as f64 / drained.as_secs_f64()
    );

    // Assert: every unit is back on every process's view, every order expired, no drift.
    for (n, product) in products.iter().enumerate() {
        let stock = apis[n % PROCESSES].stock(product.as_uuid()).await;
        assert_eq!(stock.reserved, 0, "product {product}");
        assert_eq!(stock.available, stock.on_hand, "product {product}");
    }
    let expired = scalar(&db, "SELECT COUNT(*) FROM orders WHERE status = 'expired'").await;
    assert_eq!(expired, ORDERS as i64, "every order of the backlog expired");
    let report = apis[1].reconciliation().await;
    assert!(report.drift.is_empty(), "no drift: {:?}", report.drift);
    // Assert: one process swept, the holder of the lease (an older build has no such gauge).
    if std::env::var_os("EXPIRY_BACKLOG_BINARY").is_none() {
        let mut leading = Vec::new();
        for (n, api) in apis.iter().enumerate() {
            let metrics = api.send(api.request(Method::GET, "/metrics")).await.text();
            if metrics.lines().any(|line| line == "sweeper_leading 1") {
                leading.push(n);
            }
        }
        assert_eq!(leading.len(), 1, "processes holding the sweeper lease: {leading:?}");
    }
    db.close().await.expect("close the test pool");
}

/// [`PRODUCTS`] products and [`ORDERS`] reservations of one unit each, round-robin over them,
/// placed an hour ago and due for 45 minutes, written in one transaction.
async fn backlog(db: &DatabaseConnection) -> Vec<ProductId> {
    let adapters = SeaOrmAdapters::new(db);
    let placed = Utc::now() - TimeDelta::hours(1);
    let price = Money::new(1999, Currency::new("EUR").expect("EUR")).expect("a price");
    let units = i64::try_from(ORDERS / PRODUCTS).expect("small") * 2;
    let mut stocks = HashMap::new();
    let mut ids = Vec::new();
    for n in 0..PRODUCTS {
        let id = UuidV7Ids.product_id();
        let product = Product {
            id,
            sku: Sku::new(format!("BACKLOG-{n}")).expect("a SKU"),
            name: ProductName::new("Backlog").expect("a name"),
            price,
            limits: domain::limits::PurchaseLimits::default(),
            low_stock_threshold: None,
            backorders: domain::backorder::BackorderPolicy::Deny,
            backordered: domain::StockCount::ZERO,
            created_at: placed,
        };
        let stock = ProductStock::new(id, StockCount::new(units).expect("a count"));
        adapters.products.create(product, stock, Actor::Admin).await.expect("a product");
        stocks.insert(id, stock);
        ids.push(id);
    }
    let one = Quantity::new(1).expect("a quantity");
    let changesets = (0..ORDERS)
        .map(|n| {
            let product = ids[n % PRODUCTS];
            let cart = Cart::new([(product, one)]).expect("a cart");
            let id = UuidV7Ids.order_id();
            let ttl = TimeDelta::minutes(15);
            let order = Order::place(id, &cart, |_| Some(price), None, placed, ttl, Actor::Admin)
                .expect("order");
            let stock = stocks.get_mut(&product).expect("a product of the backlog");
            let reserved = stock.reserve(one).expect("in stock");
            Changeset::new(vec![reserved], Some(OrderChange::Created(order)), placed)
        })
        .collect();
    adapters.unit_of_work.commit_all(changesets).await.expect("the backlog");
    ids
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let statement = Statement::from_string(db.get_database_backend(), sql.to_owned());
    let row = db.query_one_raw(statement).await.expect("query").expect("a row");
    row.try_get_by_index(0).expect("an integer")
}
