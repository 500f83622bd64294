//! Creates `orders`, the order headers and their life cycle:
//! `reserved` -> `paid` | `cancelled` | `expired`.

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
                    .table(Orders::Table)
                    .col(ColumnDef::new(Orders::Id).uuid().not_null().primary_key())
                    // A short string with a CHECK rather than a native enum: PostgreSQL's
                    // CREATE TYPE has no portable counterpart, and a new status is then a
                    // constraint change instead of a type migration.
                    .col(ColumnDef::new(Orders::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Orders::TotalAmount).big_integer().not_null())
                    .col(ColumnDef::new(Orders::Currency).char_len(3).not_null())
                    // Guest checkouts have no customer.
                    .col(ColumnDef::new(Orders::CustomerId).uuid().null())
                    .col(instant(manager, Orders::CreatedAt).not_null())
                    .col(instant(manager, Orders::ExpiresAt).not_null())
                    // One timestamp per terminal state: set when, and only when, the order
                    // reaches it.
                    .col(instant(manager, Orders::PaidAt).null())
                    .col(instant(manager, Orders::CancelledAt).null())
                    .col(instant(manager, Orders::ExpiredAt).null())
                    // Optimistic concurrency: paying and expiring the same order race, and only
                    // the writer whose expected version still matches wins.
                    .col(ColumnDef::new(Orders::Version).big_integer().not_null())
                    .check(Check::named(
                        "ck_orders_status",
                        Expr::col(Orders::Status).is_in([
                            "reserved",
                            "paid",
                            "cancelled",
                            "expired",
                        ]),
                    ))
                    .check(Check::named(
                        "ck_orders_total_amount_nonneg",
                        Expr::col(Orders::TotalAmount).gte(0),
                    ))
                    .to_owned(),
            ))
            .await?;

        // The expiry sweeper asks "reserved orders whose expires_at has passed": equality on
        // the first column, range on the second, so the index answers it without a scan.
        manager
            .create_index(
                Index::create()
                    .name("ix_orders_status_expires_at")
                    .table(Orders::Table)
                    .col(Orders::Status)
                    .col(Orders::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Orders::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    Status,
    TotalAmount,
    Currency,
    CustomerId,
    CreatedAt,
    ExpiresAt,
    PaidAt,
    CancelledAt,
    ExpiredAt,
    Version,
}
