//! The event feed.
//!
//! - `event_sequence`: one row holding the last sequence handed out. Every transaction that
//!   records events takes it (an UPDATE, so a row lock held to the commit) and numbers its
//!   events from it: sequences are therefore dense and in commit order on all three backends,
//!   and a reader that sees sequence N knows every earlier one is committed (see
//!   docs/architecture.md, "The event feed").
//! - The events themselves are the rows that already hold the facts, each given a sequence:
//!   `stock_movements.sequence` (`stock.changed`; with `on_hand` and `reserved`, the counters
//!   the change left, which the ledger did not keep), `orders.reserved_sequence` and
//!   `orders.settled_sequence` (`order.reserved`, and `order.paid|cancelled|expired`: an order
//!   settles once), `products.created_sequence` (`product.created`). Rows written before this
//!   migration have none: the feed begins here.
//! - `event_cursors`: how far each relay (NATS, …) has sent the feed, one row per relay.

use sea_orm_migration::prelude::*;

use crate::instant;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns that give a row its place in the feed, each with a unique index (several NULLs
/// are allowed by all three backends), and the table each belongs to.
const SEQUENCES: [(&str, &str, &str); 4] = [
    ("stock_movements", "sequence", "ux_stock_movements_sequence"),
    ("orders", "reserved_sequence", "ux_orders_reserved_sequence"),
    ("orders", "settled_sequence", "ux_orders_settled_sequence"),
    ("products", "created_sequence", "ux_products_created_sequence"),
];

/// The counters a stock event reports, which the ledger kept only as deltas.
const COUNTERS: [&str; 2] = ["on_hand", "reserved"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EventSequence::Table)
                    .col(ColumnDef::new(EventSequence::Id).integer().not_null().primary_key())
                    .col(ColumnDef::new(EventSequence::Last).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .execute(
                Query::insert()
                    .into_table(EventSequence::Table)
                    .columns([EventSequence::Id, EventSequence::Last])
                    .values_panic([1.into(), 0i64.into()])
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite's ALTER TABLE changes one at a time.
        for (table, column, index) in SEQUENCES {
            add_big_integer(manager, table, column).await?;
            manager
                .create_index(
                    Index::create()
                        .name(index)
                        .table(Alias::new(table))
                        .col(Alias::new(column))
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        for column in COUNTERS {
            add_big_integer(manager, "stock_movements", column).await?;
        }
        manager
            .create_table(crate::same_strings_everywhere(
                manager,
                Table::create()
                    .table(EventCursors::Table)
                    .col(
                        ColumnDef::new(EventCursors::Name).string_len(100).not_null().primary_key(),
                    )
                    .col(ColumnDef::new(EventCursors::Position).big_integer().not_null())
                    .col(instant(manager, EventCursors::UpdatedAt).not_null())
                    .to_owned(),
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(EventCursors::Table).to_owned()).await?;
        for column in COUNTERS {
            drop_column(manager, "stock_movements", column).await?;
        }
        for (table, column, index) in SEQUENCES {
            manager
                .drop_index(Index::drop().name(index).table(Alias::new(table)).to_owned())
                .await?;
            drop_column(manager, table, column).await?;
        }
        manager.drop_table(Table::drop().table(EventSequence::Table).to_owned()).await
    }
}

async fn add_big_integer(
    manager: &SchemaManager<'_>,
    table: &str,
    column: &str,
) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(Alias::new(table))
                .add_column(ColumnDef::new(Alias::new(column)).big_integer().null())
                .to_owned(),
        )
        .await
}

async fn drop_column(manager: &SchemaManager<'_>, table: &str, column: &str) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter().table(Alias::new(table)).drop_column(Alias::new(column)).to_owned(),
        )
        .await
}

#[derive(DeriveIden)]
enum EventSequence {
    Table,
    Id,
    Last,
}

#[derive(DeriveIden)]
enum EventCursors {
    Table,
    Name,
    Position,
    UpdatedAt,
}
