//! Stock at several locations (warehouses, stores).
//!
//! - `locations`: where stock is kept, each with a unique `code`, a `priority` (the order in
//!   which checkouts draw from them, lowest first) and an `active` flag. Created with one row, the default
//!   location (id `00000000-0000-0000-0000-000000000001`, code `default`): a fixed id, the same
//!   in every database, so that the data written before this migration has somewhere to be.
//! - `product_stock` is keyed by (product, location): one set of counters per product and
//!   location, each row with its own `version` and a `safety_stock` (units kept back from sale;
//!   0, none, by default). Every existing row moves to the default location with its counters
//!   and version unchanged, so a reader of the old counters sees the same numbers.
//! - `stock_movements.location_id` and `stock_movements.safety_stock`: the location whose
//!   counters an entry changed, and that row's safety stock after the change. NULL on entries
//!   written before this migration: the default location, with no safety stock. The new
//!   columns are nullable and added without a default, which PostgreSQL and MariaDB do without
//!   touching the rows. No index on the ledger's location is added: none of the ledger's
//!   readers filter by location (it is read per product, through
//!   `ix_stock_movements_product_id_id`, and reconciliation scans it whole), and every index
//!   costs the insert of each entry, on the checkout's hot path.
//! - The ledger's kinds: `transfer_out` and `transfer_in` (units moved between two locations,
//!   one entry at each) and `safety_stock` (a change of a location's safety stock) join the
//!   seven of migration 5, so `ck_stock_movements_kind` is widened. Changing a CHECK costs what
//!   each backend makes it cost: PostgreSQL reads the ledger once and rewrites nothing; MariaDB
//!   copies the table; SQLite cannot alter a CHECK at all and rebuilds `stock_movements`
//!   (the new columns then come with the rebuild), ids and their AUTOINCREMENT counter kept.
//! - `order_line_allocations`: where each order line's units are reserved, one row per
//!   (order, product, location). Every existing order line gets one, at the default location,
//!   for its whole quantity: that is where its units were taken from.
//!
//! `down` keeps the default location's counters only: rows and allocations at other locations
//! have no place in the older shape and are lost. Ledger entries are never lost: while the
//! ledger holds an entry of a kind the older CHECK refuses, `down` refuses, before it changes
//! anything.

use sea_orm::prelude::{ChronoUtc, Uuid};
use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

use crate::instant;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The location of everything written before this migration. Bound as a value wherever it is
/// written, so each driver stores it its own way (PostgreSQL's `uuid`, MariaDB's `binary(16)`,
/// a 16-byte blob in SQLite) and a comparison with a bound `Uuid` matches on every backend.
const DEFAULT_LOCATION: Uuid = Uuid::from_u128(1);

/// The name under which SQLite builds a new `product_stock` before it takes the old one's place.
const REBUILT: &str = "product_stock_new";

/// The same for `stock_movements`.
const REBUILT_LEDGER: &str = "stock_movements_new";

/// The ledger's kinds as migration 5 allowed them.
const KINDS: [&str; 7] = ["reserve", "release", "sell", "restock", "set", "adjust", "expire"];

/// The kinds this migration adds: transfers between locations, and changes of safety stock.
const NEW_KINDS: [&str; 3] = ["transfer_out", "transfer_in", "safety_stock"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_locations(manager).await?;
        stock_by_location(manager).await?;
        ledger_by_location(manager).await?;
        create_allocations(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Before anything changes: MariaDB commits each DDL statement on its own, so a `down`
        // refused half way there would leave a schema that is neither this one nor the last.
        refuse_new_kinds(manager).await?;
        ledger_before_locations(manager).await?;
        manager.drop_table(Table::drop().table(OrderLineAllocations::Table).to_owned()).await?;
        stock_by_product(manager).await?;
        manager.drop_table(Table::drop().table(Locations::Table).to_owned()).await
    }

    // One transaction on every backend (PostgreSQL's default): on SQLite, the rebuilds of
    // `product_stock` and `stock_movements` are then all or nothing, and every statement runs on the one connection
    // that made the changes before it (another connection of the pool may not have seen them
    // yet, see migration 10). MariaDB commits each DDL statement on its own all the same.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

/// `locations`, with the default location in it.
async fn create_locations(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(crate::same_strings_everywhere(
            manager,
            Table::create()
                .table(Locations::Table)
                .col(ColumnDef::new(Locations::Id).uuid().not_null().primary_key())
                // What clients and operators name the location by (`default`, `paris-1`).
                .col(ColumnDef::new(Locations::Code).string_len(64).not_null())
                .col(ColumnDef::new(Locations::Name).string_len(100).not_null())
                // The order in which checkouts draw from the locations, lowest first.
                .col(ColumnDef::new(Locations::Priority).integer().not_null())
                // An inactive location keeps its stock and history but is not drawn from; it
                // is never deleted while stock or allocations name it (RESTRICT below).
                .col(ColumnDef::new(Locations::Active).boolean().not_null().default(true))
                .col(instant(manager, Locations::CreatedAt).not_null())
                .to_owned(),
        ))
        .await?;
    // A named unique index rather than `unique_key()`, as for SKUs: the same, predictable name
    // on every backend, for telling "code taken" from other violations.
    manager
        .create_index(
            Index::create()
                .name("ux_locations_code")
                .table(Locations::Table)
                .col(Locations::Code)
                .unique()
                .to_owned(),
        )
        .await?;
    manager
        .execute(
            Query::insert()
                .into_table(Locations::Table)
                .columns([
                    Locations::Id,
                    Locations::Code,
                    Locations::Name,
                    Locations::Priority,
                    Locations::Active,
                    Locations::CreatedAt,
                ])
                .values_panic([
                    DEFAULT_LOCATION.into(),
                    "default".into(),
                    "Default".into(),
                    0i32.into(),
                    true.into(),
                    ChronoUtc::now().into(),
                ])
                .to_owned(),
        )
        .await
}

/// `product_stock` keyed by (product, location), every existing row at the default location.
async fn stock_by_location(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    if manager.get_database_backend() == DbBackend::Sqlite {
        return rebuild_stock(manager, Keyed::ByLocation).await;
    }
    // Nullable first, so the existing rows can be given the default location, then required.
    manager
        .alter_table(
            Table::alter()
                .table(ProductStock::Table)
                .add_column(ColumnDef::new(ProductStock::LocationId).uuid().null())
                .to_owned(),
        )
        .await?;
    manager
        .execute(
            Query::update()
                .table(ProductStock::Table)
                .value(ProductStock::LocationId, DEFAULT_LOCATION)
                .to_owned(),
        )
        .await?;
    manager
        .alter_table(
            Table::alter()
                .table(ProductStock::Table)
                .modify_column(ColumnDef::new(ProductStock::LocationId).uuid().not_null())
                .to_owned(),
        )
        .await?;
    swap_primary_key(manager, "product_id, location_id").await?;
    manager.create_foreign_key(stock_location_foreign_key(ProductStock::Table)).await?;
    // NOT NULL with a default: PostgreSQL (11+) and MariaDB (10.3+) add it without rewriting
    // the rows, which all read 0.
    manager
        .alter_table(
            Table::alter()
                .table(ProductStock::Table)
                .add_column(
                    ColumnDef::new(ProductStock::SafetyStock).big_integer().not_null().default(0),
                )
                .to_owned(),
        )
        .await?;
    // Table-level and named (the builder has no statement for it), as the other checks.
    manager
        .get_connection()
        .execute_unprepared(
            "ALTER TABLE product_stock ADD CONSTRAINT ck_product_stock_safety_stock_nonneg \
             CHECK (safety_stock >= 0)",
        )
        .await
        .map(|_| ())
}

/// `product_stock` keyed by product alone again, with the default location's rows.
async fn stock_by_product(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    if manager.get_database_backend() == DbBackend::Sqlite {
        return rebuild_stock(manager, Keyed::ByProduct).await;
    }
    // Other locations' rows would collide on the narrower key.
    manager
        .execute(
            Query::delete()
                .from_table(ProductStock::Table)
                .and_where(Expr::col(ProductStock::LocationId).ne(DEFAULT_LOCATION))
                .to_owned(),
        )
        .await?;
    manager
        .drop_foreign_key(
            ForeignKey::drop()
                .name("fk_product_stock_location_id")
                .table(ProductStock::Table)
                .to_owned(),
        )
        .await?;
    swap_primary_key(manager, "product_id").await?;
    manager
        .alter_table(
            Table::alter()
                .table(ProductStock::Table)
                .drop_constraint(Alias::new("ck_product_stock_safety_stock_nonneg"))
                .to_owned(),
        )
        .await?;
    for column in [ProductStock::SafetyStock, ProductStock::LocationId] {
        manager
            .alter_table(Table::alter().table(ProductStock::Table).drop_column(column).to_owned())
            .await?;
    }
    Ok(())
}

/// Gives `product_stock` the primary key `columns` on PostgreSQL or MariaDB (the builder has no
/// statement for it). One statement: on MariaDB the foreign key to `products` needs an index
/// that leads with `product_id` at every moment, and the old key is that index until the new
/// one, which leads with it too, takes over. PostgreSQL named the key `product_stock_pkey` when
/// migration 2 created the table, and gives the new one that name again.
async fn swap_primary_key(manager: &SchemaManager<'_>, columns: &str) -> Result<(), DbErr> {
    let drop = match manager.get_database_backend() {
        DbBackend::Postgres => "DROP CONSTRAINT product_stock_pkey",
        _ => "DROP PRIMARY KEY",
    };
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "ALTER TABLE product_stock {drop}, ADD PRIMARY KEY ({columns})"
        ))
        .await
        .map(|_| ())
}

/// Which key `product_stock` has: the one before this migration, or the one it gives.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keyed {
    ByProduct,
    ByLocation,
}

/// SQLite cannot change a table's primary key: builds `product_stock` anew under [`REBUILT`] in
/// the `keyed` shape, copies the rows (to the default location, or only those there), and puts
/// it in the old one's place. No table refers to `product_stock`, so dropping it leaves no
/// foreign key dangling, and the foreign keys can stay on.
async fn rebuild_stock(manager: &SchemaManager<'_>, keyed: Keyed) -> Result<(), DbErr> {
    manager.create_table(product_stock(manager, keyed)).await?;
    let kept = [
        ProductStock::ProductId,
        ProductStock::OnHand,
        ProductStock::Reserved,
        ProductStock::Version,
        ProductStock::UpdatedAt,
        ProductStock::MaxPerOrder,
        ProductStock::MaxPerCustomer,
    ];
    let mut columns = kept.to_vec();
    let mut rows = Query::select();
    rows.columns(kept).from(ProductStock::Table);
    match keyed {
        // `safety_stock` takes its default, 0.
        Keyed::ByLocation => {
            columns.push(ProductStock::LocationId);
            rows.expr(Expr::val(DEFAULT_LOCATION));
        }
        Keyed::ByProduct => {
            rows.and_where(Expr::col(ProductStock::LocationId).eq(DEFAULT_LOCATION));
        }
    }
    let mut into = Query::insert();
    into.into_table(Alias::new(REBUILT)).columns(columns);
    into.select_from(rows).map_err(|e| DbErr::Migration(e.to_string()))?;
    manager.execute(into).await?;
    manager.drop_table(Table::drop().table(ProductStock::Table).to_owned()).await?;
    manager
        .rename_table(Table::rename().table(Alias::new(REBUILT), ProductStock::Table).to_owned())
        .await
}

/// `product_stock` whole, as migrations 2 and 10 left it (`ByProduct`) or as this one leaves it
/// (`ByLocation`), named [`REBUILT`]. The new columns come last, where PostgreSQL and MariaDB
/// add them, so the table has the same columns in the same order on every backend.
fn product_stock(manager: &SchemaManager<'_>, keyed: Keyed) -> TableCreateStatement {
    let mut product_id = ColumnDef::new(ProductStock::ProductId);
    product_id.uuid().not_null();
    if keyed == Keyed::ByProduct {
        // As migration 2 declared it, so that `down` gives SQLite the same table text.
        product_id.primary_key();
    }
    let mut table = Table::create();
    table
        .table(Alias::new(REBUILT))
        .col(product_id)
        .col(ColumnDef::new(ProductStock::OnHand).big_integer().not_null())
        .col(ColumnDef::new(ProductStock::Reserved).big_integer().not_null())
        .col(ColumnDef::new(ProductStock::Version).big_integer().not_null())
        .col(instant(manager, ProductStock::UpdatedAt).not_null())
        .col(ColumnDef::new(ProductStock::MaxPerOrder).big_integer().null())
        .col(ColumnDef::new(ProductStock::MaxPerCustomer).big_integer().null())
        .foreign_key(
            ForeignKey::create()
                .name("fk_product_stock_product_id")
                .from(Alias::new(REBUILT), ProductStock::ProductId)
                .to(Products::Table, Products::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
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
        ));
    if keyed == Keyed::ByLocation {
        table
            .col(ColumnDef::new(ProductStock::LocationId).uuid().not_null())
            .col(ColumnDef::new(ProductStock::SafetyStock).big_integer().not_null().default(0))
            // One set of counters per product and location; leading with the product, it
            // still serves "the stock of this product" and the foreign key to `products`.
            .primary_key(Index::create().col(ProductStock::ProductId).col(ProductStock::LocationId))
            .foreign_key(&mut stock_location_foreign_key(Alias::new(REBUILT)))
            .check(Check::named(
                "ck_product_stock_safety_stock_nonneg",
                Expr::col(ProductStock::SafetyStock).gte(0),
            ));
    }
    crate::same_strings_everywhere(manager, table)
}

/// `product_stock.location_id` → `locations.id`: a location that holds stock cannot be deleted
/// (it can be deactivated).
fn stock_location_foreign_key(table: impl IntoTableRef) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name("fk_product_stock_location_id")
        .from(table, ProductStock::LocationId)
        .to(Locations::Table, Locations::Id)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

/// The ledger's shape before this migration (migrations 5, 9 and 11) or after it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ledger {
    Before,
    After,
}

/// The kinds `ck_stock_movements_kind` allows in the `ledger` shape.
fn kinds(ledger: Ledger) -> Vec<&'static str> {
    match ledger {
        Ledger::Before => KINDS.to_vec(),
        Ledger::After => KINDS.iter().chain(&NEW_KINDS).copied().collect(),
    }
}

/// `stock_movements.location_id` and `.safety_stock`, and the wider kinds. No index on the
/// location: nothing reads the ledger by it (see the module's documentation).
async fn ledger_by_location(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    if manager.get_database_backend() == DbBackend::Sqlite {
        return rebuild_ledger(manager, Ledger::After).await;
    }
    // No foreign key to `locations`: the ledger is history that must outlive whatever it
    // names (as its order ids do).
    for column in ledger_location_columns() {
        manager
            .alter_table(Table::alter().table(StockMovements::Table).add_column(column).to_owned())
            .await?;
    }
    replace_kinds_check(manager, Ledger::After).await
}

/// The ledger as migration 14 left it: the narrower kinds, without the location columns.
/// [`refuse_new_kinds`] has made sure that every entry fits; the CHECK would refuse one that
/// slipped in since all the same (PostgreSQL's VALIDATE, MariaDB's copy, SQLite's copy into
/// the rebuilt table), so an entry is never dropped to make room.
async fn ledger_before_locations(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    if manager.get_database_backend() == DbBackend::Sqlite {
        return rebuild_ledger(manager, Ledger::Before).await;
    }
    // The CHECK first: should it fail, nothing else has changed yet.
    replace_kinds_check(manager, Ledger::Before).await?;
    for column in [StockMovements::SafetyStock, StockMovements::LocationId] {
        manager
            .alter_table(Table::alter().table(StockMovements::Table).drop_column(column).to_owned())
            .await?;
    }
    Ok(())
}

/// Fails, naming them, if the ledger holds entries of kinds migration 5 did not know: the older
/// CHECK cannot hold them, and the ledger is history, not to be deleted to make room.
async fn refuse_new_kinds(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let mut query = Query::select();
    query
        .column(StockMovements::Kind)
        .expr_as(Func::count(Expr::col(StockMovements::Id)), Alias::new("n"))
        .from(StockMovements::Table)
        .and_where(Expr::col(StockMovements::Kind).is_not_in(KINDS))
        .group_by_col(StockMovements::Kind)
        .order_by(StockMovements::Kind, Order::Asc);
    let rows = manager.get_connection().query_all(&query).await?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        let kind: String = row.try_get("", "kind")?;
        let n: i64 = row.try_get("", "n")?;
        found.push(format!("{n} `{kind}`"));
    }
    Err(DbErr::Migration(format!(
        "cannot undo m20261205_000015_locations: stock_movements holds entries of kinds the \
         older ck_stock_movements_kind refuses ({}); the ledger is history and is not deleted \
         to make room, so nothing was changed",
        found.join(", ")
    )))
}

/// Replaces `ck_stock_movements_kind` on PostgreSQL or MariaDB with one allowing the kinds of
/// `ledger`, dropping the old and adding the new in one statement so that no moment is without
/// one. The builder has no statement for a CHECK on an existing table; the kinds are this
/// file's fixed words, spelled in the SQL (a DDL statement takes no bound values).
async fn replace_kinds_check(manager: &SchemaManager<'_>, ledger: Ledger) -> Result<(), DbErr> {
    let list = kinds(ledger).iter().map(|kind| format!("'{kind}'")).collect::<Vec<_>>().join(", ");
    let replace = format!(
        "ALTER TABLE stock_movements DROP CONSTRAINT ck_stock_movements_kind, \
         ADD CONSTRAINT ck_stock_movements_kind CHECK (kind IN ({list}))"
    );
    let connection = manager.get_connection();
    if manager.get_database_backend() == DbBackend::Postgres {
        // NOT VALID: added without reading the ledger; VALIDATE then reads it once (a scan,
        // never a rewrite), so the constraint ends up as trusted as the one it replaces. Run on
        // its own, VALIDATE would let writes through while it reads; inside this migration's
        // transaction the DROP's lock is held to the commit all the same.
        connection.execute_unprepared(&format!("{replace} NOT VALID")).await?;
        connection
            .execute_unprepared(
                "ALTER TABLE stock_movements VALIDATE CONSTRAINT ck_stock_movements_kind",
            )
            .await
            .map(|_| ())
    } else {
        // MariaDB cannot add a CHECK in place (ALGORITHM=INPLACE is refused): this copies the
        // ledger, blocking writes to it for the length of the copy. Accepted: once, here.
        connection.execute_unprepared(&replace).await.map(|_| ())
    }
}

/// SQLite cannot alter a CHECK: builds `stock_movements` anew under [`REBUILT_LEDGER`] in the
/// `ledger` shape, copies every entry with its id, and puts it in the old one's place with the
/// old one's indexes (this migration adds none). No table refers to the ledger, so dropping it
/// leaves no foreign key dangling, and the foreign keys can stay on.
async fn rebuild_ledger(manager: &SchemaManager<'_>, ledger: Ledger) -> Result<(), DbErr> {
    manager.create_table(stock_movements(manager, ledger)).await?;
    // Every column both shapes have: `After`, the new ones are NULL (as ADD COLUMN would leave
    // them); `Before`, they are dropped, as the other backends' DROP COLUMN does.
    let kept = [
        StockMovements::Id,
        StockMovements::ProductId,
        StockMovements::Kind,
        StockMovements::OnHandDelta,
        StockMovements::ReservedDelta,
        StockMovements::Version,
        StockMovements::OrderId,
        StockMovements::Reason,
        StockMovements::At,
        StockMovements::Actor,
        StockMovements::Sequence,
        StockMovements::OnHand,
        StockMovements::Reserved,
    ];
    let mut rows = Query::select();
    rows.columns(kept).from(StockMovements::Table);
    let mut into = Query::insert();
    into.into_table(Alias::new(REBUILT_LEDGER)).columns(kept);
    into.select_from(rows).map_err(|e| DbErr::Migration(e.to_string()))?;
    manager.execute(into).await?;
    // AUTOINCREMENT never hands out an id twice: `sqlite_sequence` keeps the largest the
    // ledger ever gave, which may be above its largest id today. The copy left the new table
    // the largest id copied; the old table's entry replaces it, under the new name, before
    // DROP TABLE deletes the entry of the table it drops. The rename below carries it over.
    manager
        .execute(
            Query::delete()
                .from_table(SqliteSequence::Table)
                .and_where(Expr::col(SqliteSequence::Name).eq(REBUILT_LEDGER))
                .to_owned(),
        )
        .await?;
    manager
        .execute(
            Query::update()
                .table(SqliteSequence::Table)
                .value(SqliteSequence::Name, REBUILT_LEDGER)
                .and_where(Expr::col(SqliteSequence::Name).eq("stock_movements"))
                .to_owned(),
        )
        .await?;
    // Its indexes go with it.
    manager.drop_table(Table::drop().table(StockMovements::Table).to_owned()).await?;
    manager
        .rename_table(
            Table::rename().table(Alias::new(REBUILT_LEDGER), StockMovements::Table).to_owned(),
        )
        .await?;
    for index in ledger_indexes() {
        manager.create_index(index).await?;
    }
    Ok(())
}

/// `stock_movements` whole, as migrations 5, 9 and 11 left it (`Before`) or as this one leaves
/// it (`After`), named [`REBUILT_LEDGER`]. SQLite only. Each column is declared as the
/// migration that added it declared it, in that order, so SQLite keeps the table text that
/// CREATE TABLE and ADD COLUMN gave it, apart from the kinds (and `After`, the new columns).
fn stock_movements(manager: &SchemaManager<'_>, ledger: Ledger) -> TableCreateStatement {
    let mut table = Table::create();
    table
        .table(Alias::new(REBUILT_LEDGER))
        // Migration 5.
        .col(
            ColumnDef::new(StockMovements::Id)
                .big_integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(ColumnDef::new(StockMovements::ProductId).uuid().not_null())
        .col(ColumnDef::new(StockMovements::Kind).string_len(16).not_null())
        .col(ColumnDef::new(StockMovements::OnHandDelta).big_integer().not_null())
        .col(ColumnDef::new(StockMovements::ReservedDelta).big_integer().not_null())
        .col(ColumnDef::new(StockMovements::Version).big_integer().not_null())
        .col(ColumnDef::new(StockMovements::OrderId).uuid().null())
        .col(ColumnDef::new(StockMovements::Reason).string_len(500).null())
        .col(instant(manager, StockMovements::At).not_null())
        // Migration 9.
        .col(ColumnDef::new(StockMovements::Actor).string_len(64).null())
        // Migration 11.
        .col(ColumnDef::new(StockMovements::Sequence).big_integer().null())
        .col(ColumnDef::new(StockMovements::OnHand).big_integer().null())
        .col(ColumnDef::new(StockMovements::Reserved).big_integer().null());
    if ledger == Ledger::After {
        for column in ledger_location_columns() {
            table.col(column);
        }
    }
    table
        .foreign_key(
            ForeignKey::create()
                .name("fk_stock_movements_product_id")
                .from(Alias::new(REBUILT_LEDGER), StockMovements::ProductId)
                .to(Products::Table, Products::Id)
                .on_delete(ForeignKeyAction::Restrict),
        )
        .check(Check::named(
            "ck_stock_movements_kind",
            Expr::col(StockMovements::Kind).is_in(kinds(ledger)),
        ))
        .to_owned()
}

/// The columns this migration gives the ledger.
fn ledger_location_columns() -> [ColumnDef; 2] {
    [
        ColumnDef::new(StockMovements::LocationId).uuid().null().to_owned(),
        ColumnDef::new(StockMovements::SafetyStock).big_integer().null().to_owned(),
    ]
}

/// Every index of the ledger, in the order they were created: migration 5's two and migration
/// 11's unique `sequence`. The same in both shapes: this migration adds none.
fn ledger_indexes() -> Vec<IndexCreateStatement> {
    vec![
        Index::create()
            .name("ix_stock_movements_product_id_id")
            .table(StockMovements::Table)
            .col(StockMovements::ProductId)
            .col(StockMovements::Id)
            .to_owned(),
        Index::create()
            .name("ix_stock_movements_order_id")
            .table(StockMovements::Table)
            .col(StockMovements::OrderId)
            .to_owned(),
        Index::create()
            .name("ux_stock_movements_sequence")
            .table(StockMovements::Table)
            .col(StockMovements::Sequence)
            .unique()
            .to_owned(),
    ]
}

/// `order_line_allocations`, with one allocation per existing order line at the default
/// location.
async fn create_allocations(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(crate::same_strings_everywhere(
            manager,
            Table::create()
                .table(OrderLineAllocations::Table)
                .col(ColumnDef::new(OrderLineAllocations::OrderId).uuid().not_null())
                .col(ColumnDef::new(OrderLineAllocations::ProductId).uuid().not_null())
                .col(ColumnDef::new(OrderLineAllocations::LocationId).uuid().not_null())
                .col(ColumnDef::new(OrderLineAllocations::Quantity).big_integer().not_null())
                // A line draws from a location once; leading with the order, the key also
                // serves "allocations of this order", which is how they are read.
                .primary_key(
                    Index::create()
                        .col(OrderLineAllocations::OrderId)
                        .col(OrderLineAllocations::ProductId)
                        .col(OrderLineAllocations::LocationId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_order_line_allocations_order_id")
                        .from(OrderLineAllocations::Table, OrderLineAllocations::OrderId)
                        .to(Orders::Table, Orders::Id)
                        // Part of the order, as its lines: they go with it.
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_order_line_allocations_location_id")
                        .from(OrderLineAllocations::Table, OrderLineAllocations::LocationId)
                        .to(Locations::Table, Locations::Id)
                        // Where an order's units were taken from cannot vanish from under it.
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .check(Check::named(
                    "ck_order_line_allocations_quantity_pos",
                    Expr::col(OrderLineAllocations::Quantity).gt(0),
                ))
                .to_owned(),
        ))
        .await?;
    let mut lines = Query::select();
    lines
        .columns([OrderLines::OrderId, OrderLines::ProductId])
        .expr(Expr::val(DEFAULT_LOCATION))
        .column(OrderLines::Quantity)
        .from(OrderLines::Table);
    let mut backfill = Query::insert();
    backfill
        .into_table(OrderLineAllocations::Table)
        .columns([
            OrderLineAllocations::OrderId,
            OrderLineAllocations::ProductId,
            OrderLineAllocations::LocationId,
            OrderLineAllocations::Quantity,
        ])
        .select_from(lines)
        .map_err(|e| DbErr::Migration(e.to_string()))?;
    manager.execute(backfill).await
}

#[derive(DeriveIden)]
enum Locations {
    Table,
    Id,
    Code,
    Name,
    Priority,
    Active,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProductStock {
    Table,
    ProductId,
    OnHand,
    Reserved,
    Version,
    UpdatedAt,
    MaxPerOrder,
    MaxPerCustomer,
    LocationId,
    SafetyStock,
}

#[derive(DeriveIden, Clone, Copy)]
enum StockMovements {
    Table,
    Id,
    ProductId,
    Kind,
    OnHandDelta,
    ReservedDelta,
    Version,
    OrderId,
    Reason,
    At,
    Actor,
    Sequence,
    OnHand,
    Reserved,
    LocationId,
    SafetyStock,
}

#[derive(DeriveIden)]
enum OrderLineAllocations {
    Table,
    OrderId,
    ProductId,
    LocationId,
    Quantity,
}

// The tables this one reads or refers to, as they stood when it was written.
#[derive(DeriveIden)]
enum OrderLines {
    Table,
    OrderId,
    ProductId,
    Quantity,
}

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

/// SQLite's own table of AUTOINCREMENT counters, one row per table that has handed out an id.
#[derive(DeriveIden)]
enum SqliteSequence {
    Table,
    Name,
}
