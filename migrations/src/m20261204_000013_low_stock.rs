//! Low-stock thresholds, for the feed's `stock.low` events.
//!
//! - `products.low_stock_threshold`: the threshold in force (NULL: no alert), shown with the
//!   product and set at creation or by `PATCH`.
//! - `low_stock_thresholds`: its history, one row per setting with the feed position it was
//!   set at (`from_sequence`: the last sequence committed when it was set, taken under the
//!   `event_sequence` row lock). The feed judges a stock change at sequence `s` against the
//!   latest setting with `from_sequence < s`: so an event, once in the feed, never changes when
//!   the threshold does, and nothing is added to the stock write path.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Products::Table)
                    .add_column(ColumnDef::new(Products::LowStockThreshold).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LowStockThresholds::Table)
                    .col(ColumnDef::new(LowStockThresholds::ProductId).uuid().not_null())
                    .col(ColumnDef::new(LowStockThresholds::FromSequence).big_integer().not_null())
                    // NULL: the alert was removed from then on.
                    .col(ColumnDef::new(LowStockThresholds::Threshold).big_integer().null())
                    .primary_key(
                        Index::create()
                            .col(LowStockThresholds::ProductId)
                            .col(LowStockThresholds::FromSequence),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(LowStockThresholds::Table).to_owned()).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Products::Table)
                    .drop_column(Products::LowStockThreshold)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Products {
    Table,
    LowStockThreshold,
}

#[derive(DeriveIden)]
enum LowStockThresholds {
    Table,
    ProductId,
    FromSequence,
    Threshold,
}
