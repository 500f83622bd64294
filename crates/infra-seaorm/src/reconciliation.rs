//! [`SeaOrmReconciliation`]: every stock row's figures (a product at a location) from four
//! grouped queries over one snapshot, never one query per product.

use std::collections::BTreeMap;

use async_trait::async_trait;
use domain::ports::{Reconciliation, StoreError};
use domain::{LedgerTotals, LocationId, OrderStatus, ProductId, StockFigures, StoredStock};
use sea_orm::sea_query::{Alias, Expr, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, ExprTrait,
    IntoSimpleExpr, QueryFilter, QuerySelect, QueryTrait,
};
use uuid::Uuid;

use crate::entities::{
    corrupt, order_line_allocations, order_lines, orders, product_backorders, product_stock,
    products, stock_movements,
};
use crate::error::store_error;
use crate::transaction::{begin_snapshot, finish};

/// [`Reconciliation`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmReconciliation {
    db: DatabaseConnection,
}

impl SeaOrmReconciliation {
    /// An adapter sharing `db`'s pool.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl Reconciliation for SeaOrmReconciliation {
    #[tracing::instrument(skip_all)]
    async fn stock_figures(&self) -> Result<Vec<StockFigures>, StoreError> {
        let txn = begin_snapshot(&self.db).await?;
        let outcome = read(&txn).await;
        finish(txn, outcome).await
    }
}

/// One row's figures while they are gathered, witness by witness.
#[derive(Default)]
struct Gathered {
    stored: Option<StoredStock>,
    ledger: Option<LedgerTotals>,
    reserved_by_orders: i64,
    backordered: i64,
    backordered_by_orders: i64,
}

async fn read(txn: &impl ConnectionTrait) -> Result<Vec<StockFigures>, StoreError> {
    let backend = txn.get_database_backend();
    // Keyed by the raw ids: a row whose id the domain refuses is reported as corrupt below,
    // once, whichever table it came from. Every product has a row at the default location
    // from its creation on, so the catalogue's products are looked for there.
    let default = LocationId::DEFAULT.as_uuid();
    let mut products: BTreeMap<(Uuid, Uuid), Gathered> = BTreeMap::new();

    let catalogue: Vec<Uuid> = products::Entity::find()
        .select_only()
        .column(products::Column::Id)
        .into_tuple()
        .all(txn)
        .await
        .map_err(store_error)?;
    for id in catalogue {
        products.entry((id, default)).or_default();
    }

    let stock: Vec<(Uuid, Uuid, i64, i64, i64)> = product_stock::Entity::find()
        .select_only()
        .columns([
            product_stock::Column::ProductId,
            product_stock::Column::LocationId,
            product_stock::Column::OnHand,
            product_stock::Column::Reserved,
            product_stock::Column::Version,
        ])
        .into_tuple()
        .all(txn)
        .await
        .map_err(store_error)?;
    for (id, location, on_hand, reserved, version) in stock {
        let stored = Some(StoredStock { on_hand, reserved, version });
        products.entry((id, location)).or_default().stored = stored;
    }

    let ledger: Vec<(Uuid, Option<Uuid>, i64, i64, i64, i64)> = stock_movements::Entity::find()
        .select_only()
        .column(stock_movements::Column::ProductId)
        .column(stock_movements::Column::LocationId)
        .column_as(sum(backend, stock_movements::Column::OnHandDelta), "on_hand")
        .column_as(sum(backend, stock_movements::Column::ReservedDelta), "reserved")
        .column_as(stock_movements::Column::Version.max(), "version")
        .column_as(stock_movements::Column::Id.count(), "entries")
        .group_by(stock_movements::Column::ProductId)
        .group_by(stock_movements::Column::LocationId)
        .into_tuple()
        .all(txn)
        .await
        .map_err(store_error)?;
    for (id, location, on_hand, reserved, version, entries) in ledger {
        // Entries from before locations have none: they are the default location's, and
        // count together with its later ones.
        let gathered = products.entry((id, location.unwrap_or(default))).or_default();
        let totals = match gathered.ledger {
            None => LedgerTotals { on_hand, reserved, version, entries },
            Some(t) => LedgerTotals {
                on_hand: t.on_hand + on_hand,
                reserved: t.reserved + reserved,
                version: Ord::max(t.version, version),
                entries: t.entries + entries,
            },
        };
        gathered.ledger = Some(totals);
    }

    // The *stored* status: an overdue reservation the sweeper has not expired yet still holds
    // its units, and its stock row still counts them as reserved.
    let reserved_orders = orders::Entity::find()
        .select_only()
        .column(orders::Column::Id)
        .filter(orders::Column::Status.eq(OrderStatus::Reserved.as_str()))
        .into_query();
    // Every reserved line's held units (its quantity less what it is still owed, which no
    // location holds) count at the default location, except those its allocation rows put
    // elsewhere (a line held wholly at the default location has no rows).
    let lines: Vec<(Uuid, i64)> = order_lines::Entity::find()
        .select_only()
        .column(order_lines::Column::ProductId)
        .column_as(
            sum(
                backend,
                Expr::col(order_lines::Column::Quantity)
                    .sub(Expr::col(order_lines::Column::Backordered)),
            ),
            "quantity",
        )
        .filter(order_lines::Column::OrderId.in_subquery(reserved_orders.clone()))
        .group_by(order_lines::Column::ProductId)
        .into_tuple()
        .all(txn)
        .await
        .map_err(store_error)?;
    for (id, quantity) in lines {
        products.entry((id, default)).or_default().reserved_by_orders += quantity;
    }
    let elsewhere: Vec<(Uuid, Uuid, i64)> = order_line_allocations::Entity::find()
        .select_only()
        .column(order_line_allocations::Column::ProductId)
        .column(order_line_allocations::Column::LocationId)
        .column_as(sum(backend, order_line_allocations::Column::Quantity), "quantity")
        .filter(order_line_allocations::Column::OrderId.in_subquery(reserved_orders))
        .filter(order_line_allocations::Column::LocationId.ne(default))
        .group_by(order_line_allocations::Column::ProductId)
        .group_by(order_line_allocations::Column::LocationId)
        .into_tuple()
        .all(txn)
        .await
        .map_err(store_error)?;
    for (id, location, quantity) in elsewhere {
        products.entry((id, location)).or_default().reserved_by_orders += quantity;
        products.entry((id, default)).or_default().reserved_by_orders -= quantity;
    }

    // What each product's counter says is owed, and what the lines of live orders (reserved or
    // paid: a paid order is owed its units until a delivery fills them) still owe.
    let counters: Vec<(Uuid, i64)> = product_backorders::Entity::find()
        .select_only()
        .column(product_backorders::Column::ProductId)
        .column(product_backorders::Column::Backordered)
        .into_tuple()
        .all(txn)
        .await
        .map_err(store_error)?;
    for (id, units) in counters {
        products.entry((id, default)).or_default().backordered += units;
    }
    let live_orders = orders::Entity::find()
        .select_only()
        .column(orders::Column::Id)
        .filter(
            orders::Column::Status
                .is_in([OrderStatus::Reserved.as_str(), OrderStatus::Paid.as_str()]),
        )
        .into_query();
    let owed: Vec<(Uuid, i64)> = order_lines::Entity::find()
        .select_only()
        .column(order_lines::Column::ProductId)
        .column_as(sum(backend, order_lines::Column::Backordered), "backordered")
        .filter(order_lines::Column::Backordered.gt(0))
        .filter(order_lines::Column::OrderId.in_subquery(live_orders))
        .group_by(order_lines::Column::ProductId)
        .into_tuple()
        .all(txn)
        .await
        .map_err(store_error)?;
    for (id, units) in owed {
        products.entry((id, default)).or_default().backordered_by_orders += units;
    }

    products
        .into_iter()
        .map(|((id, location), gathered)| {
            Ok(StockFigures {
                product_id: ProductId::new(id).map_err(|e| corrupt("products", id, e))?,
                location_id: LocationId::new(location)
                    .map_err(|e| corrupt("locations", location, e))?,
                stored: gathered.stored,
                ledger: gathered.ledger,
                reserved_by_orders: gathered.reserved_by_orders,
                backordered: gathered.backordered,
                backordered_by_orders: gathered.backordered_by_orders,
            })
        })
        .collect()
}

/// `SUM(column)` as a 64-bit integer: PostgreSQL sums `bigint`s into `numeric` and MariaDB
/// into `DECIMAL`, neither of which decodes as an `i64`.
fn sum(backend: DbBackend, column: impl IntoSimpleExpr) -> SimpleExpr {
    let integer = match backend {
        DbBackend::MySql => "SIGNED",
        DbBackend::Postgres => "BIGINT",
        _ => "INTEGER",
    };
    Expr::expr(column.into_simple_expr()).sum().cast_as(Alias::new(integer))
}
