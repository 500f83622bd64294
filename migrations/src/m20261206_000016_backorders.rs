//! Backorders: units sold beyond what is on hand, up to a limit per product (preorders).
//!
//! - `products.backorder_limit`: the product's backorder policy. NULL is `deny`: nothing is
//!   sold beyond what is on hand, as before. A number n ≥ 1 is `allow`: up to n units may be
//!   promised beyond what is on hand.
//! - `product_backorders`: one counter per product of the units currently promised to orders
//!   (reserved or paid) beyond stock, made at a product's first backorder. The one row
//!   concurrent checkouts of a product lock and guard (`backordered + n <= limit`), whichever
//!   locations they draw from, so a limit holds across server processes. A table of its own,
//!   not a column of `products`: a commit locks stock rows before counters, and a PATCH locks
//!   the product before its stock rows' copies, so a counter on `products` would let the two
//!   wait on each other in a cycle.
//! - `product_stock.backorder_limit`: a copy of the product's limit on each of its stock rows,
//!   which every checkout reads anyway (as migration 10 copied `max_per_order` and
//!   `max_per_customer`): a checkout learns whether a product takes backorders at no extra
//!   query. It is to be written wherever the product's is, in the same transaction.
//! - `order_lines.backordered`: the units of the line owed, not yet held at any location. A
//!   delivery fills them first, oldest order first.
//! - `incoming_stock`: the units of a product on their way to a location, one row per
//!   (product, location), with when the shop expects them (`expected_at`, NULL when it does
//!   not say), as the shop records them; a delivery to the location lessens them, in the
//!   delivery's own transaction. A table of its own, not a column of `product_stock`: it is
//!   information for buyers and buyers' systems, never a unit for sale, so it stays out of the
//!   stock rows' versioned counters (recording it changes no stock row's `version`).
//!
//! Every existing row gets the defaults: no product takes backorders and nothing is owed, so a
//! database that was at migration 15 behaves exactly as before, and its statements, which name
//! none of the new columns, still write valid rows.
//!
//! `down` drops the two tables and the three columns, and with them the limits, what was owed
//! and what was on its way: an order line with backordered units would then read as if they
//! were held, so `down` refuses while any line still owes units.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns this migration adds, each with its table, in the order `up` adds them; `down`
/// drops them in the reverse order.
const COLUMNS: [(Tables, Columns); 3] = [
    (Tables::Products, Columns::BackorderLimit),
    (Tables::ProductStock, Columns::BackorderLimit),
    (Tables::OrderLines, Columns::Backordered),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE changes one at a time.
        for (table, column) in COLUMNS {
            manager
                .alter_table(Table::alter().table(table).add_column(definition(column)).to_owned())
                .await?;
        }
        manager
            .create_table(crate::same_strings_everywhere(
                manager,
                Table::create()
                    .table(ProductBackorders::Table)
                    .col(
                        ColumnDef::new(ProductBackorders::ProductId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ProductBackorders::Backordered).big_integer().not_null())
                    .col(crate::instant(manager, ProductBackorders::UpdatedAt).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_product_backorders_product")
                            .from(ProductBackorders::Table, ProductBackorders::ProductId)
                            .to(Tables::Products, Alias::new("id"))
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .check(Check::named(
                        "ck_product_backorders_nonneg",
                        Expr::col(ProductBackorders::Backordered).gte(0),
                    ))
                    .to_owned(),
            ))
            .await?;
        manager
            .create_table(crate::same_strings_everywhere(
                manager,
                Table::create()
                    .table(IncomingStock::Table)
                    .col(ColumnDef::new(IncomingStock::ProductId).uuid().not_null())
                    .col(ColumnDef::new(IncomingStock::LocationId).uuid().not_null())
                    .col(ColumnDef::new(IncomingStock::Quantity).big_integer().not_null())
                    // NULL: the shop has not said when.
                    .col(crate::instant(manager, IncomingStock::ExpectedAt).null())
                    .col(crate::instant(manager, IncomingStock::UpdatedAt).not_null())
                    // One row per product and location; leading with the product, the key also
                    // serves "what is on its way of this product" and the foreign key to
                    // `products`.
                    .primary_key(
                        Index::create()
                            .col(IncomingStock::ProductId)
                            .col(IncomingStock::LocationId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_incoming_stock_product")
                            .from(IncomingStock::Table, IncomingStock::ProductId)
                            .to(Tables::Products, Alias::new("id"))
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_incoming_stock_location")
                            .from(IncomingStock::Table, IncomingStock::LocationId)
                            .to(Tables::Locations, Alias::new("id"))
                            // As for its stock rows: a location that units are on their way
                            // to cannot be deleted (it can be deactivated).
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .check(Check::named(
                        "ck_incoming_stock_quantity_nonneg",
                        Expr::col(IncomingStock::Quantity).gte(0),
                    ))
                    .to_owned(),
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let owing = manager
            .get_connection()
            .query_one_raw(sea_orm::Statement::from_string(
                manager.get_database_backend(),
                "SELECT 1 AS owing FROM order_lines WHERE backordered > 0 LIMIT 1",
            ))
            .await?;
        if owing.is_some() {
            return Err(DbErr::Migration(
                "order lines still owe backordered units; fill or cancel them before going down"
                    .into(),
            ));
        }
        manager.drop_table(Table::drop().table(IncomingStock::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ProductBackorders::Table).to_owned()).await?;
        // DROP COLUMN on every backend, SQLite's (≥ 3.35) included, as in migration 10's
        // `down`: no index or constraint names these columns, so SQLite accepts it.
        for (table, column) in COLUMNS.into_iter().rev() {
            manager.alter_table(Table::alter().table(table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }

    // One transaction on every backend (PostgreSQL's default): on SQLite, the three columns and
    // the two tables then come, or go, together. MariaDB commits each DDL statement on its own
    // all the same.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

/// A column's definition, the same on each table that has it.
fn definition(column: Columns) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    def.big_integer();
    match column {
        // NULL: `deny`, the behaviour of every product before this migration.
        Columns::BackorderLimit => def.null(),
        // Nothing owed, on every existing row.
        Columns::Backordered => def.not_null().default(0),
    };
    def
}

// The tables this one alters or refers to, as they stood when it was written.
#[derive(DeriveIden, Clone, Copy)]
enum Tables {
    Products,
    ProductStock,
    OrderLines,
    Locations,
}

#[derive(DeriveIden)]
enum ProductBackorders {
    Table,
    ProductId,
    Backordered,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IncomingStock {
    Table,
    ProductId,
    LocationId,
    Quantity,
    ExpectedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Columns {
    BackorderLimit,
    Backordered,
}
