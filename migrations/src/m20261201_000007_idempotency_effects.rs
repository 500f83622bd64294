//! Ties an idempotency key to the effect it produced, written in the transaction of that effect.
//!
//! `claim_token` names the one request that holds an in-progress key: a takeover of a stale
//! claim gives the key a new token, so the request that lost its claim can no longer commit
//! under it. `effect` is set in the same transaction as the order, payment, cancellation,
//! adjustment or product the request made: a key with an effect has happened, whether or not
//! the answer was stored afterwards, and a retry rebuilds the answer from it instead of acting
//! again. Both are NULL on rows written before this migration (they were completed or expire
//! within a day) and on keys whose request has not committed anything.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(IdempotencyKeys::Table)
                    .add_column(ColumnDef::new(IdempotencyKeys::ClaimToken).string_len(36).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(IdempotencyKeys::Table)
                    .add_column(ColumnDef::new(IdempotencyKeys::Effect).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [IdempotencyKeys::Effect, IdempotencyKeys::ClaimToken] {
            manager
                .alter_table(
                    Table::alter().table(IdempotencyKeys::Table).drop_column(column).to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    ClaimToken,
    Effect,
}
