//! Migration 16 over data: a database filled under migration 15 gets the backorder columns
//! with their defaults (no product takes backorders, nothing is owed), an empty
//! `product_backorders` and an empty `incoming_stock`, every other value unchanged; the
//! statements of migration 15 still write valid rows; the counters' and the incoming units'
//! CHECKs, keys and foreign keys hold; and `down` one step refuses while an order line owes
//! units, then, once none does, removes the tables and the columns and keeps the rows.

use migration::Migrator;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::prelude::{ChronoDateTimeUtc, ChronoUtc, Uuid};
use sea_orm_migration::sea_orm::{DatabaseConnection, DbBackend, Value};

use crate::support::{Backend, exec, get, rows, with_db};

/// The default location's fixed id (migration 15).
const DEFAULT_LOCATION: Uuid = Uuid::from_u128(1);
const PRODUCT_A: Uuid = Uuid::from_u128(0x0191_d3c2_7a0b_7c00_8000_0000_0000_000a);
/// Created after migration 16, by the statement of migration 15.
const PRODUCT_B: Uuid = Uuid::from_u128(0x0191_d3c2_7a0b_7c00_8000_0000_0000_000b);
/// In no table: a counter for it is refused.
const UNKNOWN_PRODUCT: Uuid = Uuid::from_u128(0x0191_d3c2_7a0b_7c00_8000_0000_0000_00ff);
/// In no table: units on their way to it are refused.
const UNKNOWN_LOCATION: Uuid = Uuid::from_u128(0x0191_d3c2_7a0b_7c00_8000_0000_0000_0cff);
/// Reserved: 3 of A.
const ORDER: Uuid = Uuid::from_u128(0x0191_d3c2_7a0b_7c00_8000_0000_0000_0a01);

/// The tables migration 16 creates: the backorder counters, and the units on their way.
const COUNTERS: &str = "product_backorders";
const INCOMING: &str = "incoming_stock";

/// The columns migration 16 adds, by (table, column).
const NEW_COLUMNS: [(&str, &str); 3] = [
    ("products", "backorder_limit"),
    ("product_stock", "backorder_limit"),
    ("order_lines", "backordered"),
];

/// A product as migration 15 writes it, with a purchase limit and a low-stock threshold.
async fn insert_product(db: &DatabaseConnection, id: Uuid, sku: &str) -> Result<(), DbErr> {
    let sql = "INSERT INTO products (id, sku, name, price_amount, currency, created_at, \
               max_per_order, low_stock_threshold) VALUES ($1, $2, 'Widget', 2500, 'EUR', $3, 4, 2)";
    exec(db, sql, vec![id.into(), sku.into(), ChronoUtc::now().into()]).await
}

/// What migration 15 would hold after product A was restocked and one order reserved 3 of it:
/// the product, its stock row at the default location, the order and its line.
async fn fill_version_15(db: &DatabaseConnection) {
    let now = Value::from(ChronoUtc::now());
    insert_product(db, PRODUCT_A, "SKU-A").await.expect("insert product A");
    let sql = "INSERT INTO product_stock (product_id, location_id, on_hand, reserved, version, \
               updated_at, max_per_order, safety_stock) VALUES ($1, $2, 10, 3, 7, $3, 4, 1)";
    let values = vec![PRODUCT_A.into(), DEFAULT_LOCATION.into(), now.clone()];
    exec(db, sql, values).await.expect(sql);
    let sql = "INSERT INTO orders (id, status, total_amount, currency, created_at, expires_at, \
               version) VALUES ($1, 'reserved', 7500, 'EUR', $2, $3, 1)";
    exec(db, sql, vec![ORDER.into(), now.clone(), now]).await.expect(sql);
    let sql = "INSERT INTO order_lines (order_id, product_id, quantity, unit_price_amount, \
               currency) VALUES ($1, $2, 3, 2500, 'EUR')";
    exec(db, sql, vec![ORDER.into(), PRODUCT_A.into()]).await.expect(sql);
}

type Product = (Uuid, String, String, i64, String, ChronoDateTimeUtc, Option<i64>, Option<i64>);
type Stock = (Uuid, Uuid, i64, i64, i64, ChronoDateTimeUtc, Option<i64>, i64);
type Line = (Uuid, Uuid, i64, i64, String);

/// Every value migration 15 left in the three tables migration 16 alters, by key.
#[derive(Debug, PartialEq)]
struct Snapshot {
    products: Vec<Product>,
    stock: Vec<Stock>,
    lines: Vec<Line>,
}

async fn snapshot(db: &DatabaseConnection) -> Snapshot {
    let sql = "SELECT id, sku, name, price_amount, currency, created_at, max_per_order, \
               low_stock_threshold FROM products ORDER BY sku";
    let products = rows(db, sql, vec![]).await;
    let sql = "SELECT product_id, location_id, on_hand, reserved, version, updated_at, \
               max_per_order, safety_stock FROM product_stock";
    let stock = rows(db, sql, vec![]).await;
    let sql = "SELECT order_id, product_id, quantity, unit_price_amount, currency \
               FROM order_lines";
    let lines = rows(db, sql, vec![]).await;
    let mut snapshot = Snapshot {
        products: products
            .iter()
            .map(|row| {
                (
                    get(row, "id"),
                    get(row, "sku"),
                    get(row, "name"),
                    get(row, "price_amount"),
                    get(row, "currency"),
                    get(row, "created_at"),
                    get(row, "max_per_order"),
                    get(row, "low_stock_threshold"),
                )
            })
            .collect(),
        stock: stock
            .iter()
            .map(|row| {
                (
                    get(row, "product_id"),
                    get(row, "location_id"),
                    get(row, "on_hand"),
                    get(row, "reserved"),
                    get(row, "version"),
                    get(row, "updated_at"),
                    get(row, "max_per_order"),
                    get(row, "safety_stock"),
                )
            })
            .collect(),
        lines: lines
            .iter()
            .map(|row| {
                (
                    get(row, "order_id"),
                    get(row, "product_id"),
                    get(row, "quantity"),
                    get(row, "unit_price_amount"),
                    get(row, "currency"),
                )
            })
            .collect(),
    };
    snapshot.stock.sort_by_key(|row| (row.0, row.1));
    snapshot.lines.sort_by_key(|row| (row.0, row.1));
    snapshot
}

/// What migration 16 adds, by key: the products' limits (id, backorder_limit), the stock rows'
/// copies (product, location, backorder_limit), what the order lines owe (order, product,
/// backordered) and the counters of `product_backorders` (product, backordered, updated_at).
#[derive(Debug, PartialEq)]
struct Backorders {
    products: Vec<(Uuid, Option<i64>)>,
    stock: Vec<(Uuid, Uuid, Option<i64>)>,
    lines: Vec<(Uuid, Uuid, i64)>,
    counters: Vec<(Uuid, i64, ChronoDateTimeUtc)>,
}

async fn backorders(db: &DatabaseConnection) -> Backorders {
    let sql = "SELECT id, backorder_limit FROM products";
    let mut products: Vec<_> = rows(db, sql, vec![])
        .await
        .iter()
        .map(|row| (get(row, "id"), get(row, "backorder_limit")))
        .collect();
    products.sort();
    let sql = "SELECT product_id, location_id, backorder_limit FROM product_stock";
    let mut stock: Vec<_> = rows(db, sql, vec![])
        .await
        .iter()
        .map(|row| (get(row, "product_id"), get(row, "location_id"), get(row, "backorder_limit")))
        .collect();
    stock.sort();
    let sql = "SELECT order_id, product_id, backordered FROM order_lines";
    let mut lines: Vec<_> = rows(db, sql, vec![])
        .await
        .iter()
        .map(|row| (get(row, "order_id"), get(row, "product_id"), get(row, "backordered")))
        .collect();
    lines.sort();
    let sql = "SELECT product_id, backordered, updated_at FROM product_backorders";
    let mut counters: Vec<_> = rows(db, sql, vec![])
        .await
        .iter()
        .map(|row| (get(row, "product_id"), get(row, "backordered"), get(row, "updated_at")))
        .collect();
    counters.sort();
    Backorders { products, stock, lines, counters }
}

/// Asserts that each of migration 16's tables and columns is there, or is not.
async fn assert_schema(db: &DatabaseConnection, present: bool) {
    let manager = SchemaManager::new(db);
    for table in [COUNTERS, INCOMING] {
        let has = manager.has_table(table).await.expect("probe table");
        assert_eq!(has, present, "table {table} present: {has}, expected {present}");
    }
    for (table, column) in NEW_COLUMNS {
        let has = manager.has_column(table, column).await.expect("probe column");
        assert_eq!(has, present, "{table}.{column} present: {has}, expected {present}");
    }
}

async fn applied(db: &DatabaseConnection) -> usize {
    Migrator::get_applied_migrations(db).await.expect("applied migrations").len()
}

/// A counter row for `product`, or the error text if refused.
async fn insert_counter(
    db: &DatabaseConnection,
    product: Uuid,
    backordered: i64,
    at: ChronoDateTimeUtc,
) -> String {
    let sql = "INSERT INTO product_backorders (product_id, backordered, updated_at) \
               VALUES ($1, $2, $3)";
    let values = vec![product.into(), backordered.into(), at.into()];
    exec(db, sql, values).await.err().map(|e| e.to_string()).unwrap_or_default()
}

/// Units of `product` on their way to `location`, or the error text if refused.
async fn insert_incoming(
    db: &DatabaseConnection,
    (product, location): (Uuid, Uuid),
    quantity: i64,
    expected_at: Option<ChronoDateTimeUtc>,
    at: ChronoDateTimeUtc,
) -> String {
    let sql = "INSERT INTO incoming_stock (product_id, location_id, quantity, expected_at, \
               updated_at) VALUES ($1, $2, $3, $4, $5)";
    let values =
        vec![product.into(), location.into(), quantity.into(), expected_at.into(), at.into()];
    exec(db, sql, values).await.err().map(|e| e.to_string()).unwrap_or_default()
}

/// The rows of `incoming_stock`: (product, location, quantity, expected_at, updated_at), by key.
async fn incoming(
    db: &DatabaseConnection,
) -> Vec<(Uuid, Uuid, i64, Option<ChronoDateTimeUtc>, ChronoDateTimeUtc)> {
    let sql = "SELECT product_id, location_id, quantity, expected_at, updated_at \
               FROM incoming_stock";
    let mut incoming: Vec<_> = rows(db, sql, vec![])
        .await
        .iter()
        .map(|row| {
            (
                get(row, "product_id"),
                get(row, "location_id"),
                get(row, "quantity"),
                get(row, "expected_at"),
                get(row, "updated_at"),
            )
        })
        .collect();
    incoming.sort();
    incoming
}

/// Asserts that `err` is a refusal by the foreign key `name`: SQLite does not name the
/// constraint, the others do.
fn assert_foreign_key(db: &DatabaseConnection, err: &str, name: &str) {
    if db.get_database_backend() == DbBackend::Sqlite {
        assert!(err.contains("FOREIGN KEY constraint failed"), "{err:?}");
    } else {
        assert!(err.contains(name), "{name}: {err:?}");
    }
}

async fn adds_backorders(db: DatabaseConnection) {
    // Whole seconds: the same value back from every backend's timestamp.
    let at: ChronoDateTimeUtc = "2026-12-06T10:00:00Z".parse().expect("a timestamp");

    Migrator::up(&db, Some(15)).await.expect("the schema of migration 15");
    assert_schema(&db, false).await;
    fill_version_15(&db).await;
    let before = snapshot(&db).await;

    Migrator::up(&db, Some(1)).await.expect("migration 16 over data");
    assert_eq!(applied(&db).await, 16);
    assert_schema(&db, true).await;
    // Every older value as it was, and the defaults: deny, nothing owed, no counter.
    assert_eq!(snapshot(&db).await, before);
    let defaults = Backorders {
        products: vec![(PRODUCT_A, None)],
        stock: vec![(PRODUCT_A, DEFAULT_LOCATION, None)],
        lines: vec![(ORDER, PRODUCT_A, 0)],
        counters: vec![],
    };
    assert_eq!(backorders(&db).await, defaults);

    // A statement of migration 15, which names none of the new columns, still writes a valid
    // row, with the defaults.
    insert_product(&db, PRODUCT_B, "SKU-B").await.expect("a product written as before");
    // Product A takes backorders: up to 5, 2 of them promised to the order's line, counted in
    // the product's counter row.
    for sql in [
        "UPDATE products SET backorder_limit = 5 WHERE id = $1",
        "UPDATE product_stock SET backorder_limit = 5 WHERE product_id = $1",
        "UPDATE order_lines SET backordered = 2 WHERE product_id = $1",
    ] {
        exec(&db, sql, vec![PRODUCT_A.into()]).await.expect(sql);
    }
    assert_eq!(insert_counter(&db, PRODUCT_A, 2, at).await, "", "product A's counter");
    let taken = Backorders {
        products: vec![(PRODUCT_A, Some(5)), (PRODUCT_B, None)],
        stock: vec![(PRODUCT_A, DEFAULT_LOCATION, Some(5))],
        lines: vec![(ORDER, PRODUCT_A, 2)],
        counters: vec![(PRODUCT_A, 2, at)],
    };
    assert_eq!(backorders(&db).await, taken);

    // The counters hold: never negative (its named CHECK, MariaDB's included), one per
    // product, and only for a product that exists, which cannot be deleted while it has one.
    let err = insert_counter(&db, PRODUCT_B, -1, at).await;
    assert!(err.contains("ck_product_backorders_nonneg"), "a negative counter: {err:?}");
    let err = insert_counter(&db, PRODUCT_A, 1, at).await;
    assert!(!err.is_empty(), "a second counter for product A accepted");
    let err = insert_counter(&db, UNKNOWN_PRODUCT, 1, at).await;
    assert_foreign_key(&db, &err, "fk_product_backorders_product");
    assert_eq!(insert_counter(&db, PRODUCT_B, 0, at).await, "", "product B's counter");
    let sql = "DELETE FROM products WHERE id = $1";
    let err = exec(&db, sql, vec![PRODUCT_B.into()]).await.expect_err("a counted product deleted");
    assert_foreign_key(&db, &err.to_string(), "fk_product_backorders_product");
    let sql = "DELETE FROM product_backorders WHERE product_id = $1";
    exec(&db, sql, vec![PRODUCT_B.into()]).await.expect(sql);
    // What a line owes is never NULL.
    let sql = "INSERT INTO order_lines (order_id, product_id, quantity, unit_price_amount, \
               currency, backordered) VALUES ($1, $2, 1, 2500, 'EUR', $3)";
    let values = vec![ORDER.into(), PRODUCT_B.into(), Option::<i64>::None.into()];
    let err = exec(&db, sql, values).await.expect_err("a NULL backordered accepted");
    assert!(err.to_string().contains("backordered"), "{err}");
    assert_eq!(backorders(&db).await, taken);

    // Units on their way: 5 of A to the default location, the shop not saying when, and 2 of B
    // expected at a given time. They read back as written, and are never negative (its named
    // CHECK, MariaDB's included, refuses a row otherwise valid).
    assert_eq!(incoming(&db).await, vec![], "incoming_stock starts empty");
    let a_here = (PRODUCT_A, DEFAULT_LOCATION);
    let b_here = (PRODUCT_B, DEFAULT_LOCATION);
    let expected: ChronoDateTimeUtc = "2026-12-20T08:30:00Z".parse().expect("a timestamp");
    assert_eq!(insert_incoming(&db, a_here, 5, None, at).await, "", "5 of A on their way");
    let err = insert_incoming(&db, b_here, -1, None, at).await;
    assert!(err.contains("ck_incoming_stock_quantity_nonneg"), "a negative quantity: {err:?}");
    assert_eq!(insert_incoming(&db, b_here, 2, Some(expected), at).await, "", "2 of B");
    let on_their_way = vec![
        (PRODUCT_A, DEFAULT_LOCATION, 5, None, at),
        (PRODUCT_B, DEFAULT_LOCATION, 2, Some(expected), at),
    ];
    assert_eq!(incoming(&db).await, on_their_way);
    // One row per product and location, only for a product and a location that exist; a
    // product with units on their way cannot be deleted.
    let err = insert_incoming(&db, a_here, 1, None, at).await;
    assert!(!err.is_empty(), "a second row for A at the default location accepted");
    let err = insert_incoming(&db, (PRODUCT_A, UNKNOWN_LOCATION), 1, None, at).await;
    assert_foreign_key(&db, &err, "fk_incoming_stock_location");
    let err = insert_incoming(&db, (UNKNOWN_PRODUCT, DEFAULT_LOCATION), 1, None, at).await;
    assert_foreign_key(&db, &err, "fk_incoming_stock_product");
    let sql = "DELETE FROM products WHERE id = $1";
    let err =
        exec(&db, sql, vec![PRODUCT_B.into()]).await.expect_err("a product on its way deleted");
    assert_foreign_key(&db, &err.to_string(), "fk_incoming_stock_product");
    assert_eq!(incoming(&db).await, on_their_way);
    let during = snapshot(&db).await;
    assert_eq!(during.products.len(), 2);

    // Down one step is refused while the line owes units, before anything changes.
    let err = Migrator::down(&db, Some(1)).await.expect_err("down while a line owes units");
    assert!(matches!(err, DbErr::Migration(_)), "{err:?}");
    assert!(err.to_string().contains("backordered"), "{err}");
    assert_eq!(applied(&db).await, 16);
    assert_schema(&db, true).await;
    assert_eq!(snapshot(&db).await, during);
    assert_eq!(backorders(&db).await, taken);
    assert_eq!(incoming(&db).await, on_their_way);

    // Once the units are delivered (nothing owed, the counter back to 0), down one step drops
    // the tables, units on their way included, and the columns, and the rows and their other
    // values stay.
    exec(&db, "UPDATE order_lines SET backordered = 0", vec![]).await.expect("deliver");
    exec(&db, "UPDATE product_backorders SET backordered = 0", vec![]).await.expect("deliver");
    Migrator::down(&db, Some(1)).await.expect("down from migration 16");
    assert_eq!(applied(&db).await, 15);
    assert_schema(&db, false).await;
    assert_eq!(snapshot(&db).await, during);

    // And up again, over the data down left: the defaults again (down forgot the limits, the
    // counters and the units on their way).
    Migrator::up(&db, Some(1)).await.expect("migration 16 again");
    assert_schema(&db, true).await;
    assert_eq!(snapshot(&db).await, during);
    let again = Backorders {
        products: vec![(PRODUCT_A, None), (PRODUCT_B, None)],
        stock: vec![(PRODUCT_A, DEFAULT_LOCATION, None)],
        lines: vec![(ORDER, PRODUCT_A, 0)],
        counters: vec![],
    };
    assert_eq!(backorders(&db).await, again);
    assert_eq!(incoming(&db).await, vec![]);
}

#[tokio::test]
async fn sqlite_adds_backorders() {
    with_db(Backend::Sqlite, adds_backorders).await;
}

#[tokio::test]
async fn postgres_adds_backorders() {
    with_db(Backend::Postgres, adds_backorders).await;
}

#[tokio::test]
async fn mariadb_adds_backorders() {
    with_db(Backend::MariaDb, adds_backorders).await;
}
