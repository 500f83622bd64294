//! The database itself refuses what the domain forbids: raw SQL that bypasses the
//! application must still be unable to oversell stock or store a negative count.

use migration::Migrator;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{DatabaseConnection, DbBackend, Statement};

use crate::support::{Backend, with_db};

const PRODUCT_A: &str = "0191d3c2-7a0b-7c00-8000-00000000000a";
const PRODUCT_B: &str = "0191d3c2-7a0b-7c00-8000-00000000000b";

/// A UUID literal stored the way sea-orm (sqlx) binds a `Uuid`: native `uuid` on PostgreSQL,
/// 16 raw bytes elsewhere (`binary(16)` on MariaDB, a BLOB in SQLite's `uuid_text` column).
fn uuid(backend: DbBackend, id: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("'{id}'"),
        _ => format!("X'{}'", id.replace('-', "")),
    }
}

async fn insert_product(db: &DatabaseConnection, id: &str, sku: &str) {
    let id = uuid(db.get_database_backend(), id);
    let sql = format!(
        "INSERT INTO products (id, sku, name, price_amount, currency, created_at) \
         VALUES ({id}, '{sku}', 'Widget', 1999, 'EUR', CURRENT_TIMESTAMP)"
    );
    db.execute_unprepared(&sql).await.expect("insert a valid product");
}

/// The location every database has (migration 15), and a second one for a test to create.
const DEFAULT_LOCATION: &str = "00000000-0000-0000-0000-000000000001";
const LOCATION_B: &str = "0191d3c2-7a0b-7c00-8000-0000000000b1";

async fn insert_location(db: &DatabaseConnection, id: &str, code: &str) {
    let id = uuid(db.get_database_backend(), id);
    let sql = format!(
        "INSERT INTO locations (id, code, name, priority, active, created_at) \
         VALUES ({id}, '{code}', 'Shop', 1, TRUE, CURRENT_TIMESTAMP)"
    );
    db.execute_unprepared(&sql).await.expect("insert a valid location");
}

/// A stock row: (product, location, on_hand, reserved, safety_stock).
type Stock<'a> = (&'a str, &'a str, i64, i64, i64);

/// Inserts a stock row and returns the error text, if refused.
async fn insert_stock(db: &DatabaseConnection, stock: Stock<'_>) -> String {
    let (product, location, on_hand, reserved, safety_stock) = stock;
    let backend = db.get_database_backend();
    let (product, location) = (uuid(backend, product), uuid(backend, location));
    let sql = format!(
        "INSERT INTO product_stock \
         (product_id, location_id, on_hand, reserved, safety_stock, version, updated_at) \
         VALUES ({product}, {location}, {on_hand}, {reserved}, {safety_stock}, 1, \
         CURRENT_TIMESTAMP)"
    );
    db.execute_unprepared(&sql).await.err().map(|e| e.to_string()).unwrap_or_default()
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let stmt = Statement::from_string(db.get_database_backend(), sql);
    let row = db.query_one_raw(stmt).await.expect("query").expect("one row");
    row.try_get_by_index(0).expect("an integer")
}

async fn stock_checks_refuse_overselling(db: DatabaseConnection) {
    Migrator::up(&db, None).await.expect("up");
    insert_product(&db, PRODUCT_A, "SKU-A").await;
    let at_default = |on_hand, reserved, safety_stock| {
        (PRODUCT_A, DEFAULT_LOCATION, on_hand, reserved, safety_stock)
    };

    // More reserved than on hand: exactly the overselling rule fires.
    let err = insert_stock(&db, at_default(5, 6, 0)).await;
    assert!(err.contains("ck_product_stock_reserved_le_on_hand"), "reserved > on_hand: {err:?}");

    // A negative count: any of the stock rules may be reported first, but one must refuse it.
    let err = insert_stock(&db, at_default(-1, 0, 0)).await;
    assert!(err.contains("ck_product_stock_"), "negative on_hand accepted: {err:?}");

    // A negative safety stock: exactly its rule fires.
    let err = insert_stock(&db, at_default(5, 0, -1)).await;
    assert!(err.contains("ck_product_stock_safety_stock_nonneg"), "negative safety: {err:?}");

    // A valid row goes in, so the refusals above were the checks and not a broken statement.
    assert_eq!(insert_stock(&db, at_default(5, 5, 2)).await, "", "a full reservation is valid");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM product_stock").await, 1);

    // One row per (product, location): a second at the same location is refused, one at
    // another location is the same product's stock there.
    let err = insert_stock(&db, at_default(1, 0, 0)).await;
    assert!(!err.is_empty(), "two stock rows for one product and location");
    insert_location(&db, LOCATION_B, "shop-b").await;
    let elsewhere = (PRODUCT_A, LOCATION_B, 1, 0, 0);
    assert_eq!(insert_stock(&db, elsewhere).await, "", "stock at a second location");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM product_stock").await, 2);
}

async fn insert_movement(db: &DatabaseConnection, kind: &str, version: i64) -> Result<(), DbErr> {
    let product = uuid(db.get_database_backend(), PRODUCT_A);
    let sql = format!(
        "INSERT INTO stock_movements \
         (product_id, kind, on_hand_delta, reserved_delta, version, at) \
         VALUES ({product}, '{kind}', 10, 0, {version}, CURRENT_TIMESTAMP)"
    );
    db.execute_unprepared(&sql).await.map(|_| ())
}

async fn keys_and_kinds_hold(db: DatabaseConnection) {
    Migrator::up(&db, None).await.expect("up");
    insert_product(&db, PRODUCT_A, "SKU-A").await;

    // The ledger key is generated on every backend (on SQLite only because the big integer
    // became `integer PRIMARY KEY AUTOINCREMENT`, the rowid alias): consecutive ids.
    insert_movement(&db, "restock", 1).await.expect("append to the ledger");
    insert_movement(&db, "reserve", 2).await.expect("append to the ledger");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM stock_movements").await, 2);
    assert_eq!(count(&db, "SELECT MAX(id) - MIN(id) FROM stock_movements").await, 1);

    let err = insert_movement(&db, "steal", 3).await.expect_err("unknown kind accepted");
    assert!(err.to_string().contains("ck_stock_movements_kind"), "{err}");
    // The kinds migration 15 added: transfers between locations and safety-stock changes.
    for (kind, version) in [("transfer_out", 3), ("transfer_in", 4), ("safety_stock", 5)] {
        insert_movement(&db, kind, version).await.unwrap_or_else(|e| panic!("{kind}: {e}"));
    }
    assert_eq!(count(&db, "SELECT COUNT(*) FROM stock_movements").await, 5);

    // SKUs are unique byte for byte on every backend: a repeat is refused (SQLite names the
    // column rather than the index), a different case is another SKU, MariaDB included.
    let id = uuid(db.get_database_backend(), PRODUCT_B);
    let insert = |sku: &str| {
        format!(
            "INSERT INTO products (id, sku, name, price_amount, currency, created_at) \
             VALUES ({id}, '{sku}', 'Widget', 1999, 'EUR', CURRENT_TIMESTAMP)"
        )
    };
    let err = db.execute_unprepared(&insert("SKU-A")).await.expect_err("duplicate SKU accepted");
    let err = err.to_string();
    assert!(err.contains("ux_products_sku") || err.contains("products.sku"), "{err}");
    db.execute_unprepared(&insert("sku-a")).await.expect("SKUs differing in case are distinct");
}

#[tokio::test]
async fn sqlite_checks_refuse_overselling() {
    with_db(Backend::Sqlite, stock_checks_refuse_overselling).await;
}

#[tokio::test]
async fn postgres_checks_refuse_overselling() {
    with_db(Backend::Postgres, stock_checks_refuse_overselling).await;
}

#[tokio::test]
async fn mariadb_checks_refuse_overselling() {
    with_db(Backend::MariaDb, stock_checks_refuse_overselling).await;
}

#[tokio::test]
async fn sqlite_keys_and_kinds_hold() {
    with_db(Backend::Sqlite, keys_and_kinds_hold).await;
}

#[tokio::test]
async fn postgres_keys_and_kinds_hold() {
    with_db(Backend::Postgres, keys_and_kinds_hold).await;
}

#[tokio::test]
async fn mariadb_keys_and_kinds_hold() {
    with_db(Backend::MariaDb, keys_and_kinds_hold).await;
}
