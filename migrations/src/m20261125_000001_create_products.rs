//! Creates `products`, the catalogue: what can be sold, under which SKU, at which price.

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
                    .table(Products::Table)
                    .col(ColumnDef::new(Products::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Products::Sku).string_len(64).not_null())
                    .col(ColumnDef::new(Products::Name).string_len(200).not_null())
                    // Minor units (cents) in a 64-bit integer: exact arithmetic, no float.
                    .col(ColumnDef::new(Products::PriceAmount).big_integer().not_null())
                    // ISO 4217 code; the amount means nothing without it.
                    .col(ColumnDef::new(Products::Currency).char_len(3).not_null())
                    .col(instant(manager, Products::CreatedAt).not_null())
                    // Table-level and named: every backend puts the name in the violation
                    // error, which tells the adapter (and the tests) which rule fired.
                    .check(Check::named(
                        "ck_products_price_amount_nonneg",
                        Expr::col(Products::PriceAmount).gte(0),
                    ))
                    .to_owned(),
            ))
            .await?;

        // A named unique index rather than `unique_key()`, so the constraint has the same,
        // predictable name on every backend (the adapter maps its violation to "SKU taken").
        manager
            .create_index(
                Index::create()
                    .name("ux_products_sku")
                    .table(Products::Table)
                    .col(Products::Sku)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Dropping the table drops its indexes with it.
        manager.drop_table(Table::drop().table(Products::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    Sku,
    Name,
    PriceAmount,
    Currency,
    CreatedAt,
}
