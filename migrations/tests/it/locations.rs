//! Migration 15 over data: a database filled under migration 14 (one location, implicitly)
//! moves every stock row and every order line to the default location without changing a
//! counter, keeps the ledger's rows (on SQLite, through the rebuild its wider kinds need: ids,
//! AUTOINCREMENT counter, table text and indexes), and comes back down with the same counters,
//! but not while the ledger holds entries of the kinds it added.

use migration::Migrator;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::prelude::{ChronoDateTimeUtc, ChronoUtc, Uuid};
use sea_orm_migration::sea_orm::{DatabaseConnection, DbBackend, Value};

use crate::roundtrip::INDEXES;
use crate::support::{Backend, exec, get, rows, with_db};

/// The default location's fixed id, `00000000-0000-0000-0000-000000000001`.
const DEFAULT_LOCATION: Uuid = Uuid::from_u128(1);
const PRODUCT_A: Uuid = Uuid::from_u128(0x0191_d3c2_7a0b_7c00_8000_0000_0000_000a);
const PRODUCT_B: Uuid = Uuid::from_u128(0x0191_d3c2_7a0b_7c00_8000_0000_0000_000b);
/// Reserved: 3 of A and 1 of B.
const RESERVED_ORDER: Uuid = Uuid::from_u128(0x0191_d3c2_7a0b_7c00_8000_0000_0000_0a01);
/// Paid: 2 of B, sold.
const PAID_ORDER: Uuid = Uuid::from_u128(0x0191_d3c2_7a0b_7c00_8000_0000_0000_0a02);

/// (product, on_hand, reserved, version) before the migration: what the ledger below sums to.
const STOCK: [(Uuid, i64, i64, i64); 2] = [(PRODUCT_A, 10, 3, 7), (PRODUCT_B, 5, 1, 4)];

/// (order, product, quantity).
const LINES: [(Uuid, Uuid, i64); 3] =
    [(RESERVED_ORDER, PRODUCT_A, 3), (RESERVED_ORDER, PRODUCT_B, 1), (PAID_ORDER, PRODUCT_B, 2)];

/// A ledger entry as written: (product, kind, on_hand_delta, reserved_delta, version, order).
type Movement = (Uuid, &'static str, i64, i64, i64, Option<Uuid>);

const LEDGER: [Movement; 6] = [
    (PRODUCT_A, "restock", 10, 0, 1, None),
    (PRODUCT_B, "restock", 7, 0, 1, None),
    (PRODUCT_B, "reserve", 0, 2, 2, Some(PAID_ORDER)),
    (PRODUCT_B, "sell", -2, -2, 3, Some(PAID_ORDER)),
    (PRODUCT_A, "reserve", 0, 3, 7, Some(RESERVED_ORDER)),
    (PRODUCT_B, "reserve", 0, 1, 4, Some(RESERVED_ORDER)),
];

/// What migration 14 would hold after a restock of each product, a paid order and a reserved
/// one: the two stock rows, their ledger (with the columns of migrations 9 and 11: who, the
/// feed's sequence, the counters left) and the orders' lines. Then one more entry, removed:
/// the ledger's key has handed out an id above its largest.
async fn fill_version_14(db: &DatabaseConnection) {
    let now = Value::from(ChronoUtc::now());
    for (product, sku) in [(PRODUCT_A, "SKU-A"), (PRODUCT_B, "SKU-B")] {
        let sql = "INSERT INTO products (id, sku, name, price_amount, currency, created_at) \
                   VALUES ($1, $2, 'Widget', 1000, 'EUR', $3)";
        exec(db, sql, vec![product.into(), sku.into(), now.clone()]).await.expect(sql);
    }
    for (product, on_hand, reserved, version) in STOCK {
        let sql = "INSERT INTO product_stock (product_id, on_hand, reserved, version, updated_at) \
                   VALUES ($1, $2, $3, $4, $5)";
        let values =
            vec![product.into(), on_hand.into(), reserved.into(), version.into(), now.clone()];
        exec(db, sql, values).await.expect(sql);
    }
    for (order, status, total) in
        [(RESERVED_ORDER, "reserved", 4000i64), (PAID_ORDER, "paid", 2000)]
    {
        let sql = "INSERT INTO orders (id, status, total_amount, currency, created_at, \
                   expires_at, version) VALUES ($1, $2, $3, 'EUR', $4, $5, 1)";
        let values = vec![order.into(), status.into(), total.into(), now.clone(), now.clone()];
        exec(db, sql, values).await.expect(sql);
    }
    for (order, product, quantity) in LINES {
        let sql = "INSERT INTO order_lines \
                   (order_id, product_id, quantity, unit_price_amount, currency) \
                   VALUES ($1, $2, $3, 1000, 'EUR')";
        exec(db, sql, vec![order.into(), product.into(), quantity.into()]).await.expect(sql);
    }
    // The counters each entry left, per product.
    let mut counters = [(PRODUCT_A, 0i64, 0i64), (PRODUCT_B, 0, 0)];
    for (n, (product, kind, on_hand_delta, reserved_delta, version, order)) in
        LEDGER.into_iter().enumerate()
    {
        let left = counters.iter_mut().find(|c| c.0 == product).expect("a known product");
        left.1 += on_hand_delta;
        left.2 += reserved_delta;
        let reason = (kind == "restock").then_some("delivery");
        let sql = "INSERT INTO stock_movements \
                   (product_id, kind, on_hand_delta, reserved_delta, version, order_id, reason, \
                   at, actor, sequence, on_hand, reserved) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'admin', $9, $10, $11)";
        let values = vec![
            product.into(),
            kind.into(),
            on_hand_delta.into(),
            reserved_delta.into(),
            version.into(),
            order.into(),
            reason.into(),
            now.clone(),
            (n as i64 + 1).into(),
            left.1.into(),
            left.2.into(),
        ];
        exec(db, sql, values).await.expect(sql);
    }
    append(db, "adjust", None).await.expect("one more entry");
    // Read first: MariaDB cannot read the table it deletes from in a subquery.
    let last = max_id(db).await;
    let sql = "DELETE FROM stock_movements WHERE id = $1";
    exec(db, sql, vec![last.into()]).await.expect(sql);
}

/// Appends an entry of `kind` to product A's ledger, at a location with a safety stock (a
/// shape from migration 15 on) or at none.
async fn append(
    db: &DatabaseConnection,
    kind: &str,
    location: Option<(Uuid, i64)>,
) -> Result<(), DbErr> {
    let now = Value::from(ChronoUtc::now());
    match location {
        None => {
            let sql = "INSERT INTO stock_movements \
                       (product_id, kind, on_hand_delta, reserved_delta, version, at) \
                       VALUES ($1, $2, 0, 0, 100, $3)";
            exec(db, sql, vec![PRODUCT_A.into(), kind.into(), now]).await
        }
        Some((location, safety_stock)) => {
            let sql = "INSERT INTO stock_movements \
                       (product_id, kind, on_hand_delta, reserved_delta, version, at, \
                       location_id, safety_stock) VALUES ($1, $2, 0, 0, 100, $3, $4, $5)";
            let values =
                vec![PRODUCT_A.into(), kind.into(), now, location.into(), safety_stock.into()];
            exec(db, sql, values).await
        }
    }
}

async fn max_id(db: &DatabaseConnection) -> i64 {
    let found = rows(db, "SELECT MAX(id) AS id FROM stock_movements", vec![]).await;
    get(&found[0], "id")
}

/// A ledger entry as read back: every column migration 14 left.
#[derive(Debug, PartialEq)]
struct Entry {
    id: i64,
    product: Uuid,
    kind: String,
    on_hand_delta: i64,
    reserved_delta: i64,
    version: i64,
    order: Option<Uuid>,
    reason: Option<String>,
    at: ChronoDateTimeUtc,
    actor: Option<String>,
    sequence: Option<i64>,
    on_hand: Option<i64>,
    reserved: Option<i64>,
}

/// The ledger, by id.
async fn ledger(db: &DatabaseConnection) -> Vec<Entry> {
    let sql = "SELECT id, product_id, kind, on_hand_delta, reserved_delta, version, order_id, \
               reason, at, actor, sequence, on_hand, reserved FROM stock_movements ORDER BY id";
    let rows = rows(db, sql, vec![]).await;
    rows.iter()
        .map(|row| Entry {
            id: get(row, "id"),
            product: get(row, "product_id"),
            kind: get(row, "kind"),
            on_hand_delta: get(row, "on_hand_delta"),
            reserved_delta: get(row, "reserved_delta"),
            version: get(row, "version"),
            order: get(row, "order_id"),
            reason: get(row, "reason"),
            at: get(row, "at"),
            actor: get(row, "actor"),
            sequence: get(row, "sequence"),
            on_hand: get(row, "on_hand"),
            reserved: get(row, "reserved"),
        })
        .collect()
}

/// The ledger's sums per product, (on_hand, reserved): what the counters must be.
fn sums(ledger: &[Entry], product: Uuid) -> (i64, i64) {
    let entries = ledger.iter().filter(|entry| entry.product == product);
    entries.fold((0, 0), |(o, r), entry| (o + entry.on_hand_delta, r + entry.reserved_delta))
}

/// SQLite's text of the ledger and its indexes, as (name, sql) by name.
async fn sqlite_ledger_schema(db: &DatabaseConnection) -> Vec<(String, String)> {
    let sql = "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'stock_movements' \
               ORDER BY name";
    rows(db, sql, vec![]).await.iter().map(|row| (get(row, "name"), get(row, "sql"))).collect()
}

/// SQLite's AUTOINCREMENT counter of the ledger: the largest id it ever handed out.
async fn sqlite_ledger_counter(db: &DatabaseConnection) -> i64 {
    let sql = "SELECT seq FROM sqlite_sequence WHERE name = 'stock_movements'";
    let found = rows(db, sql, vec![]).await;
    let [row] = found.as_slice() else { panic!("{} counters for the ledger", found.len()) };
    get(row, "seq")
}

/// What SQLite's text of the ledger must be after migration 15, given the text before: what
/// ADD COLUMN would have made of it, with the wider kinds, and the same indexes (migration 15
/// adds none to the ledger).
fn sqlite_ledger_schema_after(before: &[(String, String)]) -> Vec<(String, String)> {
    before
        .iter()
        .map(|(name, sql)| {
            let sql = if name == "stock_movements" {
                let columns = sql.replace(
                    "\"reserved\" integer NULL, ",
                    "\"reserved\" integer NULL, \"location_id\" uuid_text NULL, \
                     \"safety_stock\" integer NULL, ",
                );
                let kinds = columns.replace(
                    "'expire')",
                    "'expire', 'transfer_out', 'transfer_in', 'safety_stock')",
                );
                assert!(kinds != columns && columns != *sql, "unexpected ledger text: {sql}");
                kinds
            } else {
                sql.clone()
            };
            (name.clone(), sql)
        })
        .collect()
}

/// Whether PostgreSQL trusts `ck_stock_movements_kind` (validated, not left NOT VALID).
async fn postgres_kinds_validated(db: &DatabaseConnection) -> bool {
    let sql = "SELECT convalidated FROM pg_constraint WHERE conname = 'ck_stock_movements_kind'";
    let found = rows(db, sql, vec![]).await;
    let [row] = found.as_slice() else { panic!("{} kind checks", found.len()) };
    get(row, "convalidated")
}

/// The stock rows as (product, on_hand, reserved, version), by product.
async fn stock(db: &DatabaseConnection) -> Vec<(Uuid, i64, i64, i64)> {
    let sql = "SELECT product_id, on_hand, reserved, version FROM product_stock";
    let rows = rows(db, sql, vec![]).await;
    let mut stock: Vec<_> = rows
        .iter()
        .map(|row| {
            (get(row, "product_id"), get(row, "on_hand"), get(row, "reserved"), get(row, "version"))
        })
        .collect();
    stock.sort();
    stock
}

async fn moves_to_the_default_location(db: DatabaseConnection) {
    let sqlite = db.get_database_backend() == DbBackend::Sqlite;
    Migrator::up(&db, Some(14)).await.expect("the schema of migration 14");
    fill_version_14(&db).await;
    let ledger_before = ledger(&db).await;
    assert_eq!(ledger_before.len(), LEDGER.len());
    let largest_id = ledger_before.last().expect("entries").id;
    let schema_14 = if sqlite { sqlite_ledger_schema(&db).await } else { vec![] };
    if sqlite {
        // The removed entry's id is counted: AUTOINCREMENT never hands it out again.
        assert_eq!(sqlite_ledger_counter(&db).await, largest_id + 1);
    }

    Migrator::up(&db, Some(1)).await.expect("migration 15 over data");

    // The default location, with its fixed id: the same in every database.
    let locations =
        rows(&db, "SELECT id, code, name, priority, active FROM locations", vec![]).await;
    let [location] = locations.as_slice() else { panic!("{} locations", locations.len()) };
    let seen: (Uuid, String, String, i32, bool) = (
        get(location, "id"),
        get(location, "code"),
        get(location, "name"),
        get(location, "priority"),
        get(location, "active"),
    );
    assert_eq!(seen, (DEFAULT_LOCATION, "default".into(), "Default".into(), 0, true));
    assert_eq!(DEFAULT_LOCATION.to_string(), "00000000-0000-0000-0000-000000000001");

    // Every stock row at the default location, counters and version as they were.
    let sql = "SELECT product_id, location_id, on_hand, reserved, version, safety_stock \
               FROM product_stock";
    let mut moved: Vec<(Uuid, Uuid, i64, i64, i64, i64)> = rows(&db, sql, vec![])
        .await
        .iter()
        .map(|row| {
            (
                get(row, "product_id"),
                get(row, "location_id"),
                get(row, "on_hand"),
                get(row, "reserved"),
                get(row, "version"),
                get(row, "safety_stock"),
            )
        })
        .collect();
    moved.sort();
    let expected: Vec<_> = STOCK
        .iter()
        .map(|&(product, on_hand, reserved, version)| {
            (product, DEFAULT_LOCATION, on_hand, reserved, version, 0)
        })
        .collect();
    assert_eq!(moved, expected);

    // The ledger kept: the same entries, ids and all, which still sum to the counters, at no
    // location.
    let ledger_after = ledger(&db).await;
    assert_eq!(ledger_after, ledger_before);
    for (product, on_hand, reserved, _) in STOCK {
        assert_eq!(sums(&ledger_after, product), (on_hand, reserved), "the ledger of {product}");
    }
    let sql = "SELECT location_id, safety_stock FROM stock_movements";
    for row in rows(&db, sql, vec![]).await {
        let new: (Option<Uuid>, Option<i64>) =
            (get(&row, "location_id"), get(&row, "safety_stock"));
        assert_eq!(new, (None, None), "an old entry given a location");
    }

    // Every named index, those of the rebuilt ledger on SQLite included.
    let manager = SchemaManager::new(&db);
    for (table, index) in INDEXES {
        let has = manager.has_index(table, index).await.expect("probe index");
        assert!(has, "index {index} missing on {table}");
    }
    if sqlite {
        // The rebuilt ledger is the table ADD COLUMN would have left, with the wider kinds;
        // its counter is the one it had.
        assert_eq!(sqlite_ledger_schema(&db).await, sqlite_ledger_schema_after(&schema_14));
        assert_eq!(sqlite_ledger_counter(&db).await, largest_id + 1);
    }
    if db.get_database_backend() == DbBackend::Postgres {
        assert!(postgres_kinds_validated(&db).await, "the wider kind check left NOT VALID");
    }

    // The new kinds go in, an unknown one still does not; the key goes on after the largest id
    // it ever handed out (the removed entry's included).
    for kind in ["transfer_out", "transfer_in", "safety_stock"] {
        let at_default = Some((DEFAULT_LOCATION, 2));
        append(&db, kind, at_default).await.unwrap_or_else(|e| panic!("{kind} refused: {e}"));
    }
    let newest = max_id(&db).await;
    assert_eq!(newest, largest_id + 4, "ids after the migration");
    let err = append(&db, "steal", None).await.expect_err("an unknown kind accepted");
    assert!(err.to_string().contains("ck_stock_movements_kind"), "{err}");

    // Down refuses while the ledger holds the new kinds, and changes nothing.
    let err = Migrator::down(&db, Some(1)).await.expect_err("down over the new kinds");
    let err = err.to_string();
    for kind in ["1 `transfer_out`", "1 `transfer_in`", "1 `safety_stock`"] {
        assert!(err.contains(kind), "{kind} not named: {err}");
    }
    let applied = Migrator::get_applied_migrations(&db).await.expect("applied migrations");
    assert_eq!(applied.len(), 15, "a refused down still undid a migration");
    for table in ["locations", "order_line_allocations"] {
        assert!(manager.has_table(table).await.expect("probe table"), "{table} dropped");
    }
    for (table, column) in [("stock_movements", "location_id"), ("product_stock", "location_id")] {
        let has = manager.has_column(table, column).await.expect("probe column");
        assert!(has, "{table}.{column} dropped");
    }
    assert_eq!(max_id(&db).await, newest, "the ledger changed");
    let counter = if sqlite { sqlite_ledger_counter(&db).await } else { 0 };
    // Out of the way, so that down can go ahead (as an operator would have to decide).
    let sql = "DELETE FROM stock_movements WHERE id > $1";
    exec(&db, sql, vec![largest_id.into()]).await.expect(sql);

    // One allocation per order line, at the default location, for the line's quantity.
    let sql = "SELECT order_id, product_id, location_id, quantity FROM order_line_allocations";
    let mut allocations: Vec<(Uuid, Uuid, Uuid, i64)> = rows(&db, sql, vec![])
        .await
        .iter()
        .map(|row| {
            (
                get(row, "order_id"),
                get(row, "product_id"),
                get(row, "location_id"),
                get(row, "quantity"),
            )
        })
        .collect();
    allocations.sort();
    let mut expected: Vec<_> = LINES
        .iter()
        .map(|&(order, product, quantity)| (order, product, DEFAULT_LOCATION, quantity))
        .collect();
    expected.sort();
    assert_eq!(allocations, expected);

    // Stock at a second location, which the older shape has no room for.
    let paris = Uuid::from_u128(0x0191_d3c2_7a0b_7c00_8000_0000_0000_0b01);
    let sql = "INSERT INTO locations (id, code, name, priority, active, created_at) \
               VALUES ($1, 'paris-1', 'Paris', 1, $2, $3)";
    exec(&db, sql, vec![paris.into(), true.into(), ChronoUtc::now().into()]).await.expect(sql);
    let sql = "INSERT INTO product_stock \
               (product_id, location_id, on_hand, reserved, version, updated_at, safety_stock) \
               VALUES ($1, $2, 4, 0, 1, $3, 2)";
    exec(&db, sql, vec![PRODUCT_A.into(), paris.into(), ChronoUtc::now().into()]).await.expect(sql);

    // Down one step: the older shape, with the default location's counters.
    Migrator::down(&db, Some(1)).await.expect("down from migration 15");
    for table in ["locations", "order_line_allocations"] {
        assert!(!manager.has_table(table).await.expect("probe table"), "{table} left behind");
    }
    for (table, column) in [
        ("product_stock", "location_id"),
        ("product_stock", "safety_stock"),
        ("stock_movements", "location_id"),
        ("stock_movements", "safety_stock"),
    ] {
        let has = manager.has_column(table, column).await.expect("probe column");
        assert!(!has, "{table}.{column} left behind");
    }
    assert_eq!(stock(&db).await, STOCK.to_vec());
    assert_eq!(ledger(&db).await, ledger_before);
    if sqlite {
        // Exactly the table and indexes of migration 14 again; the counter remembers the ids
        // handed out meanwhile.
        assert_eq!(sqlite_ledger_schema(&db).await, schema_14);
        assert_eq!(sqlite_ledger_counter(&db).await, counter);
    }
    if db.get_database_backend() == DbBackend::Postgres {
        assert!(postgres_kinds_validated(&db).await, "the narrower kind check left NOT VALID");
    }
    // The older kinds only.
    let err = append(&db, "transfer_out", None).await.expect_err("a new kind after down");
    assert!(err.to_string().contains("ck_stock_movements_kind"), "{err}");
    append(&db, "restock", None).await.expect("an older kind after down");
    let sql = "DELETE FROM stock_movements WHERE id > $1";
    exec(&db, sql, vec![largest_id.into()]).await.expect(sql);
    // Keyed by product alone again.
    let sql = "INSERT INTO product_stock (product_id, on_hand, reserved, version, updated_at) \
               VALUES ($1, 1, 0, 1, $2)";
    let twice = exec(&db, sql, vec![PRODUCT_A.into(), ChronoUtc::now().into()]).await;
    assert!(twice.is_err(), "a second stock row for one product accepted");

    // And up again, over the data down left.
    Migrator::up(&db, Some(1)).await.expect("migration 15 again");
    assert_eq!(stock(&db).await, STOCK.to_vec());
    let sql = "SELECT COUNT(*) AS n FROM product_stock WHERE location_id = $1";
    let at_default = rows(&db, sql, vec![DEFAULT_LOCATION.into()]).await;
    assert_eq!(get::<i64>(&at_default[0], "n"), STOCK.len() as i64);
}

#[tokio::test]
async fn sqlite_moves_to_the_default_location() {
    with_db(Backend::Sqlite, moves_to_the_default_location).await;
}

#[tokio::test]
async fn postgres_moves_to_the_default_location() {
    with_db(Backend::Postgres, moves_to_the_default_location).await;
}

#[tokio::test]
async fn mariadb_moves_to_the_default_location() {
    with_db(Backend::MariaDb, moves_to_the_default_location).await;
}
