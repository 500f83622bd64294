//! Creates `leases`: named, time-limited rights to a job that one server process at a time
//! should do. The sweeper's is the first: of several processes on one database, the holder of
//! the `sweeper` lease expires due reservations and the others leave them alone, instead of
//! all reading the same oldest orders and racing on each.
//!
//! One row per lease, created by the first process that asks for it. Taking it over is one
//! guarded UPDATE (`… WHERE name = ? AND (holder = ? OR expires_at < ?)`), so no backend needs
//! anything beyond a primary key and row locks.

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
                    .table(Leases::Table)
                    .col(ColumnDef::new(Leases::Name).string_len(64).not_null().primary_key())
                    // A random id per process, chosen at start-up.
                    .col(ColumnDef::new(Leases::Holder).string_len(64).not_null())
                    // The holder's clock; a lease lapses when another process's clock passes it.
                    .col(instant(manager, Leases::ExpiresAt).not_null())
                    .to_owned(),
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Leases::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Leases {
    Table,
    Name,
    Holder,
    ExpiresAt,
}
