//! Migration 18 (PostgreSQL): the tables a sale fills wait for 10,000 changed rows before
//! autovacuum first analyzes or vacuums them, so that no lookup by key on them is planned, and
//! kept, as a sequential scan while they hold a handful of rows; `down` gives them the
//! server's defaults back.

use migration::Migrator;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseConnection;

use crate::support::{Backend, get, rows, with_db};

const GROWING: [&str; 5] =
    ["orders", "order_lines", "order_line_allocations", "stock_movements", "idempotency_keys"];

/// As [`options`] lists them: sorted.
const SETTINGS: [&str; 3] = [
    "autovacuum_analyze_threshold=10000",
    "autovacuum_vacuum_insert_threshold=10000",
    "autovacuum_vacuum_threshold=10000",
];

/// The storage parameters set on `table` (`pg_class.reloptions`), sorted.
async fn options(db: &DatabaseConnection, table: &str) -> Vec<String> {
    let sql = "SELECT coalesce(array_to_string(reloptions, ','), '') AS options \
               FROM pg_class WHERE oid = $1::regclass";
    let found = rows(db, sql, vec![table.into()]).await;
    let options: String = get(&found[0], "options");
    let mut options: Vec<String> =
        options.split(',').filter(|o| !o.is_empty()).map(str::to_owned).collect();
    options.sort();
    options
}

async fn thresholds_up_and_down(db: DatabaseConnection) {
    Migrator::up(&db, Some(17)).await.expect("the schema of migration 17");
    for table in GROWING {
        assert_eq!(options(&db, table).await, Vec::<String>::new(), "{table} before 18");
    }

    Migrator::up(&db, Some(1)).await.expect("migration 18");
    for table in GROWING {
        assert_eq!(options(&db, table).await, SETTINGS, "{table} after 18");
    }
    // The catalog keeps the server's defaults: it is analyzed as soon as it fills.
    for table in ["products", "product_stock", "locations"] {
        assert_eq!(options(&db, table).await, Vec::<String>::new(), "{table} after 18");
    }

    Migrator::down(&db, Some(1)).await.expect("down from migration 18");
    for table in GROWING {
        assert_eq!(options(&db, table).await, Vec::<String>::new(), "{table} after down");
    }
}

#[tokio::test]
async fn postgres_growing_tables_wait_for_thousands_of_rows_before_autovacuum() {
    with_db(Backend::Postgres, thresholds_up_and_down).await;
}

/// Elsewhere the migration changes nothing, and goes up and down.
#[tokio::test]
async fn sqlite_migration_18_is_a_no_op() {
    with_db(Backend::Sqlite, async |db: DatabaseConnection| {
        Migrator::up(&db, None).await.expect("every migration");
        Migrator::down(&db, Some(1)).await.expect("down from migration 18");
        Migrator::up(&db, None).await.expect("migration 18 again");
    })
    .await;
}
