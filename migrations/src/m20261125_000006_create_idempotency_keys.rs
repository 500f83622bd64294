//! Creates `idempotency_keys`, the memory of `Idempotency-Key` requests: a retried request
//! replays the stored response instead of acting twice.

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
                    .table(IdempotencyKeys::Table)
                    // The client's key is the primary key: the INSERT that claims a key is the
                    // lock, and a second concurrent claim fails on the key instead of racing.
                    // 255 characters stays under MariaDB's index-length limit in utf8mb4.
                    .col(
                        ColumnDef::new(IdempotencyKeys::Key)
                            .string_len(255)
                            .not_null()
                            .primary_key(),
                    )
                    // Hash of the request: the same key reused with a different body is refused
                    // rather than answered with someone else's response.
                    .col(ColumnDef::new(IdempotencyKeys::Fingerprint).string_len(128).not_null())
                    .col(ColumnDef::new(IdempotencyKeys::State).string_len(16).not_null())
                    // Filled when the request completes; empty while it is in progress.
                    .col(ColumnDef::new(IdempotencyKeys::ResponseStatus).integer().null())
                    .col(ColumnDef::new(IdempotencyKeys::ResponseBody).text().null())
                    .col(instant(manager, IdempotencyKeys::CreatedAt).not_null())
                    .col(instant(manager, IdempotencyKeys::UpdatedAt).not_null())
                    .check(Check::named(
                        "ck_idempotency_keys_state",
                        Expr::col(IdempotencyKeys::State).is_in(["in_progress", "completed"]),
                    ))
                    .to_owned(),
            ))
            .await?;

        // Keys are kept 24 hours; the purge deletes by age, which this index keeps cheap.
        manager
            .create_index(
                Index::create()
                    .name("ix_idempotency_keys_created_at")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Key,
    Fingerprint,
    State,
    ResponseStatus,
    ResponseBody,
    CreatedAt,
    UpdatedAt,
}
