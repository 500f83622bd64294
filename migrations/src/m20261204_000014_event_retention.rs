//! Retention of the event feed: `event_sequence.purged_through`, the last sequence purged.
//!
//! A purge first moves it, then clears the purged rows' sequences (the rows themselves, the
//! ledger and the orders, stay). A reader checks it after reading a page: a reader whose
//! position is before it is told its cursor expired (410) instead of silently missing events.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(EventSequence::Table)
                    .add_column(
                        ColumnDef::new(EventSequence::PurgedThrough)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(EventSequence::Table)
                    .drop_column(EventSequence::PurgedThrough)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum EventSequence {
    Table,
    PurgedThrough,
}
