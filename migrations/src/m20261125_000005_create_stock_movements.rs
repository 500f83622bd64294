//! Creates `stock_movements`, the append-only stock ledger: one row per change of a
//! product's counters, whose deltas summed per product reproduce `product_stock`.

use sea_orm_migration::prelude::*;

use crate::instant;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(crate::same_strings_everywhere(
                manager,
                Table::create()
                    .table(StockMovements::Table)
                    // A sequence, not a UUID: ids grow with insertion, which gives a stable
                    // newest-first order and cheap keyset pagination. On SQLite the builder
                    // emits `integer PRIMARY KEY AUTOINCREMENT` (a rowid alias), on PostgreSQL
                    // an identity column, on MariaDB `bigint AUTO_INCREMENT`.
                    .col(
                        ColumnDef::new(StockMovements::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(StockMovements::ProductId).uuid().not_null())
                    .col(ColumnDef::new(StockMovements::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(StockMovements::OnHandDelta).big_integer().not_null())
                    .col(ColumnDef::new(StockMovements::ReservedDelta).big_integer().not_null())
                    // The stock version after this change: ties each entry to exactly one
                    // write of the counters, and orders entries of one product.
                    .col(ColumnDef::new(StockMovements::Version).big_integer().not_null())
                    // No foreign key: the ledger is history and must outlive any purge of
                    // orders; the order id is a plain correlation value.
                    .col(ColumnDef::new(StockMovements::OrderId).uuid().null())
                    .col(ColumnDef::new(StockMovements::Reason).string_len(500).null())
                    .col(instant(manager, StockMovements::At).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_stock_movements_product_id")
                            .from(StockMovements::Table, StockMovements::ProductId)
                            .to(Products::Table, Products::Id)
                            // History is not deleted implicitly: a product with movements stays.
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .check(Check::named(
                        "ck_stock_movements_kind",
                        Expr::col(StockMovements::Kind).is_in([
                            "reserve", "release", "sell", "restock", "set", "adjust", "expire",
                        ]),
                    ))
                    .to_owned(),
            ))
            .await?;

        // "Movements of this product, newest first": equality on product_id, then walk id
        // backwards; also serves keyset pagination (`id < last_seen`).
        manager
            .create_index(
                Index::create()
                    .name("ix_stock_movements_product_id_id")
                    .table(StockMovements::Table)
                    .col(StockMovements::ProductId)
                    .col(StockMovements::Id)
                    .to_owned(),
            )
            .await?;

        // "What did this order do to the stock": audit and reconciliation of one order.
        manager
            .create_index(
                Index::create()
                    .name("ix_stock_movements_order_id")
                    .table(StockMovements::Table)
                    .col(StockMovements::OrderId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(StockMovements::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum StockMovements {
    Table,
    Id,
    ProductId,
    Kind,
    OnHandDelta,
    ReservedDelta,
    Version,
    OrderId,
    Reason,
    At,
}

// The referenced table as it stood when this migration was written.
#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
}
