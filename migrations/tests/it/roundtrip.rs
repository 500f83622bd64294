//! `up`, `down` to nothing, `up` again: every migration must be reversible and re-appliable,
//! and leave exactly the expected tables and named indexes behind.

use migration::Migrator;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseConnection;

use crate::support::{Backend, with_db};

const TABLES: [&str; 13] = [
    "products",
    "product_stock",
    "orders",
    "order_lines",
    "stock_movements",
    "idempotency_keys",
    "leases",
    "webhook_subscriptions",
    "webhook_deliveries",
    "locations",
    "order_line_allocations",
    "product_backorders",
    "incoming_stock",
];

// Named indexes the adapter and the queries rely on, by (table, index). Also checked after
// migration 15 rebuilds the ledger on SQLite (`locations.rs`).
pub(crate) const INDEXES: [(&str, &str); 12] = [
    ("products", "ux_products_sku"),
    ("orders", "ix_orders_status_expires_at"),
    ("order_lines", "ix_order_lines_product_id"),
    ("stock_movements", "ix_stock_movements_product_id_id"),
    ("stock_movements", "ix_stock_movements_order_id"),
    ("idempotency_keys", "ix_idempotency_keys_created_at"),
    ("webhook_deliveries", "ux_webhook_deliveries_subscription_id_event_id"),
    ("webhook_deliveries", "ix_webhook_deliveries_subscription_id_status_subject_id"),
    ("webhook_deliveries", "ix_webhook_deliveries_subscription_id_id"),
    ("webhook_deliveries", "ix_webhook_deliveries_status_delivered_at"),
    ("locations", "ux_locations_code"),
    // The feed's order, and the retention walk over it (migrations 11 and 14).
    ("stock_movements", "ux_stock_movements_sequence"),
];

async fn up_down_up(db: DatabaseConnection) {
    Migrator::up(&db, None).await.expect("first up");
    assert_schema(&db, true).await;

    Migrator::down(&db, None).await.expect("down to nothing");
    assert_schema(&db, false).await;
    let applied = Migrator::get_applied_migrations(&db).await.expect("applied migrations");
    assert!(applied.is_empty(), "down left {} migrations applied", applied.len());

    Migrator::up(&db, None).await.expect("second up");
    assert_schema(&db, true).await;
    let pending = Migrator::get_pending_migrations(&db).await.expect("pending migrations");
    assert!(pending.is_empty(), "{} migrations still pending", pending.len());
}

async fn assert_schema(db: &DatabaseConnection, present: bool) {
    let manager = SchemaManager::new(db);
    for table in TABLES {
        let has = manager.has_table(table).await.expect("probe table");
        assert_eq!(has, present, "table {table} present: {has}, expected {present}");
    }
    if present {
        for (table, index) in INDEXES {
            let has = manager.has_index(table, index).await.expect("probe index");
            assert!(has, "index {index} missing on {table}");
        }
    }
}

#[tokio::test]
async fn sqlite_up_down_up() {
    with_db(Backend::Sqlite, up_down_up).await;
}

#[tokio::test]
async fn postgres_up_down_up() {
    with_db(Backend::Postgres, up_down_up).await;
}

#[tokio::test]
async fn mariadb_up_down_up() {
    with_db(Backend::MariaDb, up_down_up).await;
}
