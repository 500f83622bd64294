//! Purchase limits.
//!
//! - `products.max_per_order` and `products.max_per_customer`: NULL is no limit; copied on
//!   `product_stock`, which every checkout reads (so it reads the limits at no extra cost).
//! - `orders.customer_id` becomes text (1–255 characters): customers are named by the shop's
//!   other systems, not always with UUIDs. Existing ids keep their hyphenated UUID text.
//!   `orders.customer_asserted` records whether a client with `customers:assert` named the
//!   customer: only those orders count against per-customer limits (false on every older
//!   order, which therefore never moves a counter).
//! - `customer_purchases`: one counter per (asserted customer, product) of units reserved or
//!   paid. Its row is what concurrent checkouts of one customer lock and guard
//!   (`units + n <= limit`), so a limit holds across server processes.

use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
use sea_orm_migration::prelude::*;

use crate::instant;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE changes one at a time. The limits
        // live on `products`, and a copy on `product_stock`, the row every checkout reads
        // anyway (written together by the only writers: creation and PATCH).
        for table in [Alias::new("products"), Alias::new("product_stock")] {
            for column in [Products::MaxPerOrder, Products::MaxPerCustomer] {
                manager
                    .alter_table(
                        Table::alter()
                            .table(table.clone())
                            .add_column(ColumnDef::new(column).big_integer().null())
                            .to_owned(),
                    )
                    .await?;
            }
        }
        customer_ids_as_text(manager).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(
                        ColumnDef::new(Orders::CustomerAsserted)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(crate::same_strings_everywhere(
                manager,
                Table::create()
                    .table(CustomerPurchases::Table)
                    .col(ColumnDef::new(CustomerPurchases::CustomerId).string_len(255).not_null())
                    .col(ColumnDef::new(CustomerPurchases::ProductId).uuid().not_null())
                    .col(ColumnDef::new(CustomerPurchases::Units).big_integer().not_null())
                    .col(instant(manager, CustomerPurchases::UpdatedAt).not_null())
                    .primary_key(
                        Index::create()
                            .col(CustomerPurchases::CustomerId)
                            .col(CustomerPurchases::ProductId),
                    )
                    .check(Check::named(
                        "ck_customer_purchases_units_nonneg",
                        Expr::col(CustomerPurchases::Units).gte(0),
                    ))
                    .to_owned(),
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(CustomerPurchases::Table).to_owned()).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .drop_column(Orders::CustomerAsserted)
                    .to_owned(),
            )
            .await?;
        for table in [Alias::new("product_stock"), Alias::new("products")] {
            for column in [Products::MaxPerCustomer, Products::MaxPerOrder] {
                manager
                    .alter_table(Table::alter().table(table.clone()).drop_column(column).to_owned())
                    .await?;
            }
        }
        // Customer ids stay text: a non-UUID id has no way back.
        Ok(())
    }
}

/// `orders.customer_id` from a UUID column to a 255-character text column holding the UUID's
/// hyphenated text: a new column, filled, then put in the old one's place (the portable way;
/// SQLite cannot change a column's type).
///
/// One transaction, so one connection: SQLite checks a statement's columns against the schema
/// its connection has loaded, and another connection of the pool may not have seen the new
/// column yet ("no such column", now and then). Plain SQL that all three accept (SQLite ≥ 3.35,
/// MariaDB ≥ 10.5); MariaDB commits each DDL statement on its own, which is harmless here.
async fn customer_ids_as_text(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let text = match backend {
        DbBackend::Postgres => "customer_id::text".to_owned(),
        // SQLite keeps a UUID as its 16 bytes, MariaDB/MySQL as BINARY(16): spell them out.
        _ => {
            let hex = |from: u8, len: u8| format!("SUBSTR(HEX(customer_id), {from}, {len})");
            let parts = [hex(1, 8), hex(9, 4), hex(13, 4), hex(17, 4), hex(21, 12)];
            if backend == DbBackend::Sqlite {
                format!("LOWER({})", parts.join(" || '-' || "))
            } else {
                format!("LOWER(CONCAT_WS('-', {}))", parts.join(", "))
            }
        }
    };
    let txn = manager.get_connection().begin().await?;
    for statement in [
        "ALTER TABLE orders ADD COLUMN customer_text VARCHAR(255) NULL".to_owned(),
        format!("UPDATE orders SET customer_text = {text} WHERE customer_id IS NOT NULL"),
        "ALTER TABLE orders DROP COLUMN customer_id".to_owned(),
        "ALTER TABLE orders RENAME COLUMN customer_text TO customer_id".to_owned(),
    ] {
        txn.execute_unprepared(&statement).await?;
    }
    txn.commit().await
}

#[derive(DeriveIden)]
enum Products {
    MaxPerOrder,
    MaxPerCustomer,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    CustomerAsserted,
}

#[derive(DeriveIden)]
enum CustomerPurchases {
    Table,
    CustomerId,
    ProductId,
    Units,
    UpdatedAt,
}
