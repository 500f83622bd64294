//! Many products' stock rows in a few statements (PostgreSQL): what a bulk sync of a thousand
//! rows needs to finish in a fraction of a second instead of paying a round trip per row.
//!
//! The rows are first locked in (product, location) order (`SELECT … ORDER BY product_id,
//! location_id FOR UPDATE`),
//! the global order every commit takes its locks in, so a multi-row UPDATE (whose row order is
//! the join's) can never deadlock with a checkout. Then one `UPDATE … FROM (VALUES …)` per
//! strategy writes every compare-and-swap chain, and one every guarded chain, each guarded
//! exactly as its one-row form is (see [`super::StockWrites`]). A row the UPDATE did not match
//! is a conflict or a missing product, told apart as for one row.

use std::collections::HashMap;

use domain::ports::StoreError;
use domain::{LocationId, ProductId, ProductStock, StockCount, StockSpan, Timestamp};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement, Value};

use super::missed;
use crate::IDS_PER_QUERY;
use crate::entities::product_stock;
use crate::error::store_error;

/// Rows per multi-row UPDATE: at most 6 bound values a row, well under PostgreSQL's 65,535.
const ROWS_PER_UPDATE: usize = 500;

/// Writes every span (`guarded` says how, per span) and returns the stored stock of each, in
/// the spans' order.
pub(super) async fn write_spans(
    txn: &impl ConnectionTrait,
    spans: &[(StockSpan, bool)],
    at: Timestamp,
) -> Result<Vec<ProductStock>, StoreError> {
    lock_in_order(txn, spans).await?;
    let (guarded, swapped): (Vec<_>, Vec<_>) = spans.iter().partition(|(_, guarded)| *guarded);
    let mut stored: HashMap<(ProductId, LocationId), ProductStock> =
        HashMap::with_capacity(spans.len());
    for chunk in swapped.chunks(ROWS_PER_UPDATE) {
        stored.extend(update(txn, &compare_and_swap(chunk, at)).await?);
    }
    for chunk in guarded.chunks(ROWS_PER_UPDATE) {
        stored.extend(update(txn, &guarded_deltas(chunk, at)).await?);
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
    for chunk in spans.chunks(IDS_PER_QUERY / 2) {
        let marks = placeholders(1, chunk.len(), 2, 2);
        let sql = format!(
            "SELECT product_id FROM product_stock WHERE (product_id, location_id) IN ({marks}) \
             ORDER BY product_id, location_id FOR UPDATE"
        );
        let ids = chunk.iter().flat_map(|(span, _)| {
            [Value::from(span.product_id().as_uuid()), Value::from(span.location_id().as_uuid())]
        });
        let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, ids);
        txn.query_all_raw(statement).await.map_err(store_error)?;
    }
    Ok(())
}

/// `UPDATE … SET <counts> = <the span's end> WHERE version = <its start>`.
fn compare_and_swap(spans: &[&(StockSpan, bool)], at: Timestamp) -> Statement {
    let rows = placeholders(2, spans.len(), 7, 2);
    let sql = format!(
        "UPDATE product_stock AS s SET on_hand = v.on_hand, reserved = v.reserved, \
         safety_stock = v.safety_stock, version = v.version, updated_at = $1 \
         FROM (VALUES {rows}) \
         AS v(product_id, location_id, on_hand, reserved, safety_stock, version, expected) \
         WHERE s.product_id = v.product_id AND s.location_id = v.location_id \
         AND s.version = v.expected RETURNING s.*"
    );
    let mut values = vec![Value::from(at)];
    for (span, _) in spans {
        let after = span.after();
        values.extend([
            Value::from(span.product_id().as_uuid()),
            Value::from(span.location_id().as_uuid()),
            after.on_hand().get().into(),
            after.reserved().get().into(),
            after.safety_stock().get().into(),
            after.version().get().into(),
            span.expected_version().get().into(),
        ]);
    }
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// `UPDATE … SET <counts> = <counts> + <the span's deltas> WHERE <the invariant holds after>`
/// (and, for a span that takes units for sale, `on_hand - reserved` keeps the safety stock).
fn guarded_deltas(spans: &[&(StockSpan, bool)], at: Timestamp) -> Statement {
    let rows = placeholders(2, spans.len(), 6, 2);
    let sql = format!(
        "UPDATE product_stock AS s SET on_hand = s.on_hand + v.on_hand_delta, \
         reserved = s.reserved + v.reserved_delta, version = s.version + v.steps, \
         updated_at = $1 \
         FROM (VALUES {rows}) \
         AS v(product_id, location_id, on_hand_delta, reserved_delta, steps, keeps_safety) \
         WHERE s.product_id = v.product_id AND s.location_id = v.location_id \
         AND s.reserved + v.reserved_delta >= 0 \
         AND s.on_hand + v.on_hand_delta >= s.reserved + v.reserved_delta \
         AND (v.keeps_safety = 0 OR s.on_hand + v.on_hand_delta - s.reserved - v.reserved_delta \
              >= s.safety_stock) \
         AND s.on_hand + v.on_hand_delta <= {max} RETURNING s.*",
        max = StockCount::MAX
    );
    let mut values = vec![Value::from(at)];
    for (span, _) in spans {
        values.extend([
            Value::from(span.product_id().as_uuid()),
            Value::from(span.location_id().as_uuid()),
            span.on_hand_delta().into(),
            span.reserved_delta().into(),
            span.steps().into(),
            i64::from(span.takes_for_sale()).into(),
        ]);
    }
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Runs a multi-row UPDATE and reads back the rows it wrote.
async fn update(
    txn: &impl ConnectionTrait,
    statement: &Statement,
) -> Result<Vec<((ProductId, LocationId), ProductStock)>, StoreError> {
    let rows = product_stock::Entity::find()
        .from_raw_sql(statement.clone())
        .all(txn)
        .await
        .map_err(store_error)?;
    rows.into_iter().map(|row| row.into_domain().map(|stock| (stock.key(), stock))).collect()
}

/// `count` rows of `width` typed placeholders, numbered from `first`: `($2::uuid, $3::int8, …),
/// …` (the first `uuids` columns UUIDs, the others bigints, so that PostgreSQL need not guess
/// the VALUES list's types).
fn placeholders(first: usize, count: usize, width: usize, uuids: usize) -> String {
    (0..count)
        .map(|row| {
            let cells: Vec<String> = (0..width)
                .map(|col| {
                    let n = first + row * width + col;
                    if col < uuids { format!("${n}::uuid") } else { format!("${n}::int8") }
                })
                .collect();
            if width == 1 { cells.join(", ") } else { format!("({})", cells.join(", ")) }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_are_numbered_row_by_row_with_their_types() {
        assert_eq!(
            placeholders(2, 2, 3, 1),
            "($2::uuid, $3::int8, $4::int8), ($5::uuid, $6::int8, $7::int8)"
        );
        assert_eq!(placeholders(1, 2, 2, 2), "($1::uuid, $2::uuid), ($3::uuid, $4::uuid)");
        assert_eq!(placeholders(1, 3, 1, 1), "$1::uuid, $2::uuid, $3::uuid");
    }
}
