//! Many stock rows in one statement (PostgreSQL): what lets a group-commit batch of many carts
//! hold its row locks for one round trip instead of one per product, and a bulk sync of a
//! thousand rows finish in a fraction of a second.
//!
//! The rows are locked in (product, location) order (`SELECT … ORDER BY product_id,
//! location_id FOR UPDATE`), the global order every commit takes its locks in, so a multi-row
//! UPDATE (whose row order is the join's) can never deadlock with another commit. One
//! `UPDATE … FROM unnest(…)` per strategy writes every compare-and-swap chain, and one every
//! guarded chain, each guarded exactly as its one-row form is (see [`super::StockWrites`]). A
//! row the UPDATE did not match is a conflict or a missing product, told apart as for one row.
//! When every chain takes one strategy (every checkout, payment and expiry) the lock is a
//! `WITH` clause of its UPDATE (see [`Locking`]): one round trip less, and one less while the
//! locks are held.
//!
//! The rows travel as one array per column, so the SQL text is the same whatever the number
//! of rows: each connection prepares these statements once and PostgreSQL plans them from its
//! plan cache, where a `VALUES` list of N rows was a new statement (parsed, planned and cached
//! anew) for every N.

use std::collections::HashMap;

use domain::ports::StoreError;
use domain::{LocationId, ProductId, ProductStock, StockCount, StockSpan, Timestamp};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement, Value};
use uuid::Uuid;

use super::missed;
use crate::entities::product_stock;
use crate::error::store_error;

/// Writes every span (`guarded` says how, per span) and returns the stored stock of each, in
/// the spans' order.
pub(super) async fn write_spans(
    txn: &impl ConnectionTrait,
    spans: &[(StockSpan, bool)],
    at: Timestamp,
) -> Result<Vec<ProductStock>, StoreError> {
    let (guarded, swapped): (Vec<_>, Vec<_>) = spans.iter().partition(|(_, guarded)| *guarded);
    let mut stored: HashMap<(ProductId, LocationId), ProductStock> =
        HashMap::with_capacity(spans.len());
    // One strategy (every checkout, expiry and payment): the locks are the UPDATE's own first
    // step. Both (a bulk sync that sets some rows and moves others): locked apart first, so
    // that neither UPDATE takes a lock out of order.
    let mixed = !guarded.is_empty() && !swapped.is_empty();
    if mixed {
        lock_in_order(txn, spans).await?;
    }
    if !swapped.is_empty() {
        stored.extend(update(txn, RowsUpdate::new(&swapped, false, at, !mixed)).await?);
    }
    if !guarded.is_empty() {
        stored.extend(update(txn, RowsUpdate::new(&guarded, true, at, !mixed)).await?);
    }
    let mut rows = Vec::with_capacity(spans.len());
    for (span, _) in spans {
        match stored.get(&(span.product_id(), span.location_id())) {
            Some(row) => rows.push(*row),
            None => return Err(missed(txn, span).await),
        }
    }
    Ok(rows)
}

/// Takes the spans' row locks in (product, location) order.
async fn lock_in_order(
    txn: &impl ConnectionTrait,
    spans: &[(StockSpan, bool)],
) -> Result<(), StoreError> {
    let sql = format!("SELECT 1 FROM product_stock {}", locked_rows(1));
    let spans: Vec<_> = spans.iter().collect();
    let (products, locations) = keys(&spans);
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, [products, locations]);
    txn.query_all_raw(statement).await.map_err(store_error)?;
    Ok(())
}

/// The tail of a `SELECT` that locks the rows keyed by the arrays `$first` and `$first + 1`
/// in (product, location) order.
fn locked_rows(first: usize) -> String {
    format!(
        "WHERE (product_id, location_id) IN (SELECT * FROM unnest(${first}::uuid[], ${}::uuid[])) \
         ORDER BY product_id, location_id FOR UPDATE",
        first + 1
    )
}

/// The pieces that make an UPDATE below lock its rows first, in (product, location) order, as
/// [`lock_in_order`] does but without a round trip of its own: a `WITH` clause that locks them,
/// a `FROM` item and a join condition through which every row reaches the UPDATE only as its
/// locked copy. The clause yields its rows in order (its `FOR UPDATE` sits above its sort), and
/// no row can be written before the clause has yielded, so locked, it.
struct Locking {
    with: Option<String>,
    from: &'static str,
    join: &'static str,
}

impl Locking {
    /// The pieces when `locks`, else none.
    fn new(locks: bool) -> Self {
        if !locks {
            return Self { with: None, from: "", join: "" };
        }
        Self {
            // The UPDATEs below key their rows by `$2` and `$3`.
            with: Some(format!(
                "locked AS (SELECT product_id, location_id FROM product_stock {})",
                locked_rows(2)
            )),
            from: ", locked AS l",
            join: " AND l.product_id = s.product_id AND l.location_id = s.location_id",
        }
    }
}

/// A multi-row UPDATE of stock rows that returns the rows it wrote (`RETURNING s.*`), in
/// pieces, so that it can also be a `WITH` clause of a larger statement (see
/// [`super::one_statement`]).
pub(super) struct RowsUpdate {
    /// The `WITH` clause (`locked AS (…)`) that locks its rows first, if it does.
    pub(super) locked: Option<String>,
    /// The UPDATE, its placeholders `$1` to `$n`.
    pub(super) update: String,
    /// The values of `$1` to `$n`.
    pub(super) values: Vec<Value>,
}

impl RowsUpdate {
    /// The UPDATE of `spans` (all of one strategy), locking its rows first when `locks`.
    pub(super) fn new(
        spans: &[&(StockSpan, bool)],
        guarded: bool,
        at: Timestamp,
        locks: bool,
    ) -> Self {
        if guarded { guarded_deltas(spans, at, locks) } else { compare_and_swap(spans, at, locks) }
    }

    fn into_statement(self) -> Statement {
        let sql = match self.locked {
            Some(locked) => format!("WITH {locked} {}", self.update),
            None => self.update,
        };
        Statement::from_sql_and_values(DbBackend::Postgres, sql, self.values)
    }
}

/// `UPDATE … SET <counts> = <the span's end> WHERE version = <its start>`.
fn compare_and_swap(spans: &[&(StockSpan, bool)], at: Timestamp, locks: bool) -> RowsUpdate {
    let Locking { with, from, join } = Locking::new(locks);
    let update = format!(
        "UPDATE product_stock AS s SET on_hand = v.on_hand, \
         reserved = v.reserved, safety_stock = v.safety_stock, version = v.version, \
         updated_at = $1 \
         FROM unnest($2::uuid[], $3::uuid[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], \
                     $8::int8[]) \
         AS v(product_id, location_id, on_hand, reserved, safety_stock, version, expected){from} \
         WHERE s.product_id = v.product_id AND s.location_id = v.location_id{join} \
         AND s.version = v.expected RETURNING s.*"
    );
    let (products, locations) = keys(spans);
    let after = |f: fn(&ProductStock) -> i64| column(spans, |span| f(&span.after()));
    let values = vec![
        Value::from(at),
        products,
        locations,
        after(|s| s.on_hand().get()),
        after(|s| s.reserved().get()),
        after(|s| s.safety_stock().get()),
        after(|s| s.version().get()),
        column(spans, |span| span.expected_version().get()),
    ];
    RowsUpdate { locked: with, update, values }
}

/// `UPDATE … SET <counts> = <counts> + <the span's deltas> WHERE <the invariant holds after>`
/// (and, for a span that takes units for sale, `on_hand - reserved` keeps the safety stock).
fn guarded_deltas(spans: &[&(StockSpan, bool)], at: Timestamp, locks: bool) -> RowsUpdate {
    let Locking { with, from, join } = Locking::new(locks);
    let update = format!(
        "UPDATE product_stock AS s SET on_hand = s.on_hand + v.on_hand_delta, \
         reserved = s.reserved + v.reserved_delta, version = s.version + v.steps, \
         updated_at = $1 \
         FROM unnest($2::uuid[], $3::uuid[], $4::int8[], $5::int8[], $6::int8[], $7::bool[]) \
         AS v(product_id, location_id, on_hand_delta, reserved_delta, steps, keeps_safety){from} \
         WHERE s.product_id = v.product_id AND s.location_id = v.location_id{join} \
         AND s.reserved + v.reserved_delta >= 0 \
         AND s.on_hand + v.on_hand_delta >= s.reserved + v.reserved_delta \
         AND (NOT v.keeps_safety OR s.on_hand + v.on_hand_delta - s.reserved - v.reserved_delta \
              >= s.safety_stock) \
         AND s.on_hand + v.on_hand_delta <= {max} RETURNING s.*",
        max = StockCount::MAX
    );
    let (products, locations) = keys(spans);
    let keeps_safety: Vec<bool> = spans.iter().map(|(span, _)| span.takes_for_sale()).collect();
    let values = vec![
        Value::from(at),
        products,
        locations,
        column(spans, StockSpan::on_hand_delta),
        column(spans, StockSpan::reserved_delta),
        column(spans, StockSpan::steps),
        Value::from(keeps_safety),
    ];
    RowsUpdate { locked: with, update, values }
}

/// The spans' product ids and location ids, as two `uuid[]` values.
fn keys(spans: &[&(StockSpan, bool)]) -> (Value, Value) {
    let products: Vec<Uuid> = spans.iter().map(|(span, _)| span.product_id().as_uuid()).collect();
    let locations: Vec<Uuid> = spans.iter().map(|(span, _)| span.location_id().as_uuid()).collect();
    (Value::from(products), Value::from(locations))
}

/// One `int8[]` value: `cell` of every span.
fn column(spans: &[&(StockSpan, bool)], cell: impl Fn(&StockSpan) -> i64) -> Value {
    Value::from(spans.iter().map(|(span, _)| cell(span)).collect::<Vec<i64>>())
}

/// Runs a multi-row UPDATE and reads back the rows it wrote.
async fn update(
    txn: &impl ConnectionTrait,
    update: RowsUpdate,
) -> Result<Vec<((ProductId, LocationId), ProductStock)>, StoreError> {
    let rows = product_stock::Entity::find()
        .from_raw_sql(update.into_statement())
        .all(txn)
        .await
        .map_err(store_error)?;
    rows.into_iter().map(|row| row.into_domain().map(|stock| (stock.key(), stock))).collect()
}
