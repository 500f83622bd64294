//! Creates `order_lines`, what an order holds: one line per product, with the unit price
//! frozen at the time of the order.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(crate::same_strings_everywhere(
                manager,
                Table::create()
                    .table(OrderLines::Table)
                    .col(ColumnDef::new(OrderLines::OrderId).uuid().not_null())
                    .col(ColumnDef::new(OrderLines::ProductId).uuid().not_null())
                    .col(ColumnDef::new(OrderLines::Quantity).big_integer().not_null())
                    // Copied from the catalogue when ordering, so a later price change does not
                    // rewrite what the customer agreed to pay.
                    .col(ColumnDef::new(OrderLines::UnitPriceAmount).big_integer().not_null())
                    .col(ColumnDef::new(OrderLines::Currency).char_len(3).not_null())
                    // The domain merges lines of the same product, so (order, product) is the
                    // natural key; its leading column also serves "lines of this order".
                    .primary_key(
                        Index::create()
                            .name("pk_order_lines")
                            .col(OrderLines::OrderId)
                            .col(OrderLines::ProductId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_order_lines_order_id")
                            .from(OrderLines::Table, OrderLines::OrderId)
                            .to(Orders::Table, Orders::Id)
                            // Lines are part of the order: they go with it.
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_order_lines_product_id")
                            .from(OrderLines::Table, OrderLines::ProductId)
                            .to(Products::Table, Products::Id)
                            // A product that was ordered cannot vanish from under its orders.
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .check(Check::named(
                        "ck_order_lines_quantity_pos",
                        Expr::col(OrderLines::Quantity).gt(0),
                    ))
                    .check(Check::named(
                        "ck_order_lines_unit_price_amount_nonneg",
                        Expr::col(OrderLines::UnitPriceAmount).gte(0),
                    ))
                    .to_owned(),
            ))
            .await?;

        // The primary key leads with order_id; "orders holding this product" needs its own.
        manager
            .create_index(
                Index::create()
                    .name("ix_order_lines_product_id")
                    .table(OrderLines::Table)
                    .col(OrderLines::ProductId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(OrderLines::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    OrderId,
    ProductId,
    Quantity,
    UnitPriceAmount,
    Currency,
}

// The referenced tables as they stood when this migration was written.
#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
}
