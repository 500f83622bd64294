//! Access: `api_clients`, and who made each change.
//!
//! - `api_clients` holds every calling system's name, scopes and the SHA-256 digest of its key
//!   (never the key: it is shown once, at creation). A key is found by its digest, which the
//!   unique index makes one lookup; `revoked_at` set means the key is refused.
//! - `stock_movements.actor`, `orders.placed_by` and `orders.settled_by` record who made each
//!   change (`anonymous`, `admin`, `system` or `client:<uuid>`). They are NULL on rows written
//!   before this migration: nobody knows who made those, and the views say so.
//! - `idempotency_keys.key` widens to 300 characters: keys are now kept per caller
//!   (`<caller> <key>`), so that two clients' equal keys never meet. SQLite does not enforce a
//!   length, so only PostgreSQL and MariaDB need the change.

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
                    .table(ApiClients::Table)
                    .col(ColumnDef::new(ApiClients::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(ApiClients::Name).string_len(100).not_null())
                    // Scope names separated by spaces, in the domain's order.
                    .col(ColumnDef::new(ApiClients::Scopes).string_len(255).not_null())
                    .col(ColumnDef::new(ApiClients::KeyHint).string_len(16).not_null())
                    // Lower-case hex of SHA-256: 64 characters.
                    .col(ColumnDef::new(ApiClients::KeyDigest).string_len(64).not_null())
                    .col(instant(manager, ApiClients::CreatedAt).not_null())
                    .col(instant(manager, ApiClients::RevokedAt).null())
                    .to_owned(),
            ))
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_api_clients_key_digest")
                    .table(ApiClients::Table)
                    .col(ApiClients::KeyDigest)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        let actor_columns = [
            (Alias::new("stock_movements"), Alias::new("actor")),
            (Alias::new("orders"), Alias::new("placed_by")),
            (Alias::new("orders"), Alias::new("settled_by")),
        ];
        for (table, column) in actor_columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(ColumnDef::new(column).string_len(64).null())
                        .to_owned(),
                )
                .await?;
        }
        if manager.get_database_backend() != sea_orm::DbBackend::Sqlite {
            manager
                .alter_table(
                    Table::alter()
                        .table(IdempotencyKeys::Table)
                        .modify_column(
                            ColumnDef::new(IdempotencyKeys::Key).string_len(300).not_null(),
                        )
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let actor_columns = [
            (Alias::new("orders"), Alias::new("settled_by")),
            (Alias::new("orders"), Alias::new("placed_by")),
            (Alias::new("stock_movements"), Alias::new("actor")),
        ];
        for (table, column) in actor_columns {
            manager.alter_table(Table::alter().table(table).drop_column(column).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(ApiClients::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum ApiClients {
    Table,
    Id,
    Name,
    Scopes,
    KeyHint,
    KeyDigest,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Key,
}
