//! Creates `product_stock`, the per-product counters (`on_hand`, `reserved`) that every
//! reservation, payment, cancellation and restock updates under optimistic concurrency.

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
                    .table(ProductStock::Table)
                    // One row per product: the product id is the key, so a product cannot have
                    // two competing counters.
                    .col(ColumnDef::new(ProductStock::ProductId).uuid().not_null().primary_key())
                    .col(ColumnDef::new(ProductStock::OnHand).big_integer().not_null())
                    .col(ColumnDef::new(ProductStock::Reserved).big_integer().not_null())
                    // Bumped on every write; an UPDATE ... WHERE version = ? that matches no row
                    // tells the writer that someone else got there first.
                    .col(ColumnDef::new(ProductStock::Version).big_integer().not_null())
                    .col(instant(manager, ProductStock::UpdatedAt).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_product_stock_product_id")
                            .from(ProductStock::Table, ProductStock::ProductId)
                            .to(Products::Table, Products::Id)
                            // The counters have no meaning without their product.
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    // The last line of defence against overselling: even a buggy or racing
                    // writer cannot store a negative stock or reserve more than is on hand.
                    .check(Check::named(
                        "ck_product_stock_on_hand_nonneg",
                        Expr::col(ProductStock::OnHand).gte(0),
                    ))
                    .check(Check::named(
                        "ck_product_stock_reserved_nonneg",
                        Expr::col(ProductStock::Reserved).gte(0),
                    ))
                    .check(Check::named(
                        "ck_product_stock_reserved_le_on_hand",
                        Expr::col(ProductStock::Reserved).lte(Expr::col(ProductStock::OnHand)),
                    ))
                    .to_owned(),
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ProductStock::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum ProductStock {
    Table,
    ProductId,
    OnHand,
    Reserved,
    Version,
    UpdatedAt,
}

// The referenced table as it stood when this migration was written.
#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
}
