//! Migrations over data: a database filled by the previous schema is migrated, and what it
//! held reads back as it was.

use domain::access::Actor;
use domain::event::{EventBody, Sequence};
use domain::ports::{EventFeed, OrderRepository, ProductRepository, StockRepository};
use domain::{LocationId, OrderId, ProductId};
use infra_seaorm::{
    SeaOrmEventFeed, SeaOrmOrderRepository, SeaOrmProductRepository, SeaOrmStockRepository,
};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use testkit::{Backend, TestDatabase};
use uuid::Uuid;

use crate::fixtures::t0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    testkit::run(Backend::Sqlite, "it", customer_ids_survive_the_move_to_text).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    testkit::run(Backend::Postgres, "it", customer_ids_survive_the_move_to_text).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql() {
    testkit::run(Backend::MariaDb, "it", customer_ids_survive_the_move_to_text).await;
}

/// Migration 10 turns `orders.customer_id` from a UUID into text: an order placed under
/// migration 9 with a customer keeps it (as the UUID's text, not counted against any limit),
/// a guest order stays without one, and products come without limits.
async fn customer_ids_survive_the_move_to_text(database: &TestDatabase) {
    let db = infra_seaorm::connect(database.url()).await.expect("connect");
    Migrator::up(&db, Some(9)).await.expect("the schema of migration 9");
    let product = Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0001);
    let customer = Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_00c1);
    let (with_customer, guest) = (Uuid::from_u128(0xa1), Uuid::from_u128(0xa2));
    let exec = async |sql: &str, values: Vec<Value>| {
        let backend = db.get_database_backend();
        let sql = match backend {
            DbBackend::Postgres => sql.to_owned(),
            _ => (1..=values.len())
                .rev()
                .fold(sql.to_owned(), |s, n| s.replace(&format!("${n}"), "?")),
        };
        db.execute_raw(Statement::from_sql_and_values(backend, sql.clone(), values))
            .await
            .expect(&sql);
    };
    let at = Value::from(t0());
    exec(
        "INSERT INTO products (id, sku, name, price_amount, currency, created_at) \
         VALUES ($1, 'OLD-1', 'Old', 100, 'EUR', $2)",
        vec![product.into(), at.clone()],
    )
    .await;
    exec(
        "INSERT INTO product_stock (product_id, on_hand, reserved, version, updated_at) \
         VALUES ($1, 10, 2, 2, $2)",
        vec![product.into(), at.clone()],
    )
    .await;
    for (order, who) in [(with_customer, Some(customer)), (guest, None)] {
        exec(
            "INSERT INTO orders (id, status, total_amount, currency, customer_id, created_at, \
             expires_at, version) VALUES ($1, 'reserved', 100, 'EUR', $2, $3, $4, 1)",
            vec![order.into(), who.into(), at.clone(), at.clone()],
        )
        .await;
        exec(
            "INSERT INTO order_lines (order_id, product_id, quantity, unit_price_amount, currency) \
             VALUES ($1, $2, 1, 100, 'EUR')",
            vec![order.into(), product.into()],
        )
        .await;
    }

    infra_seaorm::migrate(&db).await.expect("migrate to the latest schema");

    let orders = SeaOrmOrderRepository::new(db.clone());
    let id = |uuid| OrderId::new(uuid).expect("an id");
    let kept = orders.get(id(with_customer)).await.expect("read").expect("the order");
    let kept = kept.record().customer.clone().expect("a customer");
    assert_eq!((kept.id.as_str(), kept.asserted), (customer.to_string().as_str(), false));
    let guest = orders.get(id(guest)).await.expect("read").expect("the order");
    assert_eq!(guest.record().customer, None);
    let products = SeaOrmProductRepository::new(db.clone());
    let old = products.get(ProductId::new(product).expect("an id")).await.expect("read");
    assert_eq!(old.expect("the product").limits, domain::limits::PurchaseLimits::default());

    // Migration 11: the feed begins with it (the old rows carry no sequence); the first change
    // made afterwards is its first event, with the counters it left.
    let feed = SeaOrmEventFeed::new(db.clone());
    assert_eq!(feed.head().await.expect("head"), Sequence::START);
    assert!(feed.after(Sequence::START, 100).await.expect("feed").is_empty());
    let stock = SeaOrmStockRepository::new(db.clone());
    let product = ProductId::new(product).expect("an id");
    let mut read = stock.get(product, LocationId::DEFAULT).await.expect("read").expect("the stock");
    let delivery = read.adjust(5).expect("a delivery");
    stock.save(delivery, None, Actor::Admin, None, t0()).await.expect("the delivery");
    let events = feed.after(Sequence::START, 100).await.expect("feed");
    let [event] = events.as_slice() else { panic!("one event: {events:?}") };
    let EventBody::Stock(change) = &event.body else { panic!("a stock event: {event:?}") };
    assert_eq!(event.sequence.get(), 1);
    let seen = (change.movement.version.get(), change.on_hand.get(), change.reserved.get());
    assert_eq!(seen, (3, 15, 2));
    db.close().await.expect("close");
}
