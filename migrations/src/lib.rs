//! Schema history of the checkout service: the ordered list of migrations that build the
//! catalogue, stock counters, orders, the stock ledger, idempotency keys, leases, API clients,
//! the event feed, webhooks, the locations that hold stock, backorders and the check a
//! one-statement commit aborts itself with (PostgreSQL).
//!
//! A migration is a historical fact, so no file here names an entity of the application: each
//! spells its identifiers with its own `DeriveIden` enums, and an entity may change later
//! without rewriting history. Every statement goes through the sea-query schema builder so the
//! same file runs on SQLite, PostgreSQL and MariaDB; the few it cannot express (a column's new
//! type, a new primary key, a CHECK added to a table) are plain SQL, spelled per backend where
//! they differ.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_create_products;
mod m20261125_000002_create_product_stock;
mod m20261125_000003_create_orders;
mod m20261125_000004_create_order_lines;
mod m20261125_000005_create_stock_movements;
mod m20261125_000006_create_idempotency_keys;
mod m20261201_000007_idempotency_effects;
mod m20261201_000008_sweeper_lease;
mod m20261201_000009_api_clients;
mod m20261202_000010_purchase_limits;
mod m20261204_000011_event_feed;
mod m20261204_000012_webhooks;
mod m20261204_000013_low_stock;
mod m20261204_000014_event_retention;
mod m20261205_000015_locations;
mod m20261206_000016_backorders;
mod m20261207_000017_commit_check;
mod m20261208_000018_growing_tables_statistics;

/// The whole schema history, driven by the CLI (`src/main.rs`) or in code by `Migrator::up`.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    // Order matters: a table comes after every table its foreign keys point at, so `down`
    // (which runs in reverse) always drops a referencing table before the referenced one.
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_products::Migration),
            Box::new(m20261125_000002_create_product_stock::Migration),
            Box::new(m20261125_000003_create_orders::Migration),
            Box::new(m20261125_000004_create_order_lines::Migration),
            Box::new(m20261125_000005_create_stock_movements::Migration),
            Box::new(m20261125_000006_create_idempotency_keys::Migration),
            Box::new(m20261201_000007_idempotency_effects::Migration),
            Box::new(m20261201_000008_sweeper_lease::Migration),
            Box::new(m20261201_000009_api_clients::Migration),
            Box::new(m20261202_000010_purchase_limits::Migration),
            Box::new(m20261204_000011_event_feed::Migration),
            Box::new(m20261204_000012_webhooks::Migration),
            Box::new(m20261204_000013_low_stock::Migration),
            Box::new(m20261204_000014_event_retention::Migration),
            Box::new(m20261205_000015_locations::Migration),
            Box::new(m20261206_000016_backorders::Migration),
            Box::new(m20261207_000017_commit_check::Migration),
            Box::new(m20261208_000018_growing_tables_statistics::Migration),
        ]
    }
}

/// Gives a new table the same string semantics on every backend.
///
/// PostgreSQL and SQLite compare strings byte for byte; MariaDB's default collation is
/// case-insensitive and ignores trailing spaces, so `SKU-A` and `sku-a` would collide in
/// `ux_products_sku` there only. Pinning MariaDB tables to `utf8mb4_bin` removes that
/// difference (and the charset to utf8mb4, whatever the server default). Other backends get
/// the statement unchanged: these table options are MySQL syntax.
///
/// Frozen: applied migrations depend on it, so a new convention needs a new function.
pub(crate) fn same_strings_everywhere(
    manager: &SchemaManager,
    mut table: TableCreateStatement,
) -> TableCreateStatement {
    if manager.get_database_backend() == sea_orm::DbBackend::MySql {
        table.character_set("utf8mb4").collate("utf8mb4_bin");
    }
    table
}

/// A point in time, with microseconds, in UTC.
///
/// `timestamp with time zone` is exactly that on PostgreSQL (and text on SQLite), but on
/// MariaDB it becomes a `TIMESTAMP`: whole seconds, and nothing after 2038-01-19. `DATETIME(6)`
/// keeps microseconds and the full range there; the driver talks to it in UTC.
///
/// Frozen: applied migrations depend on it, so a new convention needs a new function.
pub(crate) fn instant(manager: &SchemaManager, column: impl IntoIden) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    if manager.get_database_backend() == sea_orm::DbBackend::MySql {
        def.custom(Alias::new("DATETIME(6)"));
    } else {
        def.timestamp_with_time_zone();
    }
    def
}
