//! Autovacuum leaves the tables a sale fills alone until they hold thousands of rows
//! (PostgreSQL only; SQLite and MariaDB keep no cached plans of this kind).
//!
//! PostgreSQL keeps a plan per prepared statement and connection, and the foreign-key checks
//! of order lines against `orders` are such plans. Planned while a table's statistics say it
//! holds a few rows, a lookup by key is a sequential scan, and it stays one while a sale fills
//! the table, until autovacuum analyzes the table again (up to `autovacuum_naptime`, a minute by
//! default). A new shop whose first 200 orders autovacuum had analyzed then sold a hot product
//! at 1,551–1,821 orders/s, falling as `orders` grew, against 6,831–8,421 with this migration
//! (`bench/new_shop.sh`, docs/benchmarks.md, run 19). A table never analyzed nor vacuumed is assumed to span at
//! least ten pages, and a lookup by key is then planned on its index.
//!
//! So the first analyze and vacuum of these tables waits for 10,000 changed rows instead of 50
//! (`autovacuum_*_threshold`, added to the scale factor's share, which dominates once a table is
//! large): by then a lookup by key is planned on the index whatever the statistics say. The
//! price: a small shop's dead order rows wait longer for their vacuum (at most 10,000 rows, a
//! few megabytes). An `ANALYZE` run by hand on a nearly empty table still makes such plans.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables a sale fills that are looked up by key on the checkout's path: `orders` (the
/// foreign-key checks of lines and allocations, pay, cancel, reads), its lines and allocations,
/// the ledger, and the idempotency keys.
const TABLES: [&str; 5] =
    ["orders", "order_lines", "order_line_allocations", "stock_movements", "idempotency_keys"];

/// Rows changed before autovacuum first analyzes or vacuums one of [`TABLES`].
const THRESHOLD: u32 = 10_000;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        alter_each(manager, |table| {
            format!(
                "ALTER TABLE {table} SET (autovacuum_analyze_threshold = {THRESHOLD}, \
                 autovacuum_vacuum_threshold = {THRESHOLD}, \
                 autovacuum_vacuum_insert_threshold = {THRESHOLD})"
            )
        })
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        alter_each(manager, |table| {
            format!(
                "ALTER TABLE {table} RESET (autovacuum_analyze_threshold, \
                 autovacuum_vacuum_threshold, autovacuum_vacuum_insert_threshold)"
            )
        })
        .await
    }
}

/// Runs `alter(table)` for each of [`TABLES`], on PostgreSQL only.
async fn alter_each(
    manager: &SchemaManager<'_>,
    alter: impl Fn(&str) -> String,
) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for table in TABLES {
        manager.get_connection().execute_unprepared(&alter(table)).await?;
    }
    Ok(())
}
