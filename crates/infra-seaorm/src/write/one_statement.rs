//! A commit as one statement (PostgreSQL): what a checkout, or a batch of them, writes (its
//! stock rows, orders, lines, allocations, ledger entries and their sequences of the feed) in
//! one round trip outside any explicit transaction, where the general path takes five (BEGIN,
//! the rows, the inserts, COMMIT).
//!
//! Every table's write is a `WITH` clause of one statement: the stock rows' UPDATE (locked
//! first, in (product, location) order, as in [`super::grouped`]), the event-sequence row's
//! UPDATE (the last lock, as everywhere), the inserts, and the ledger, whose version and
//! counters each entry left are computed from the rows as the UPDATE stored them (the stored
//! row minus what the entry's later changes added: see [`super::Entry`]). PostgreSQL runs a
//! statement outside a transaction as a transaction of its own, committed (and flushed) before
//! it answers, and rolls all of it back when any part fails.
//!
//! What the general path decides between its statements is decided inside this one by
//! `commit_check` (migration 17), called by the event-sequence UPDATE once every stock row is
//! locked and written, and again if that UPDATE waited for the sequence row's lock: it fails
//! the statement when the stock UPDATE wrote fewer rows than it was given (a row changed since
//! the read, or is gone: a lost race, as in the general path) or when the statement has run
//! past the earliest deadline of its checkouts (their buyers were told they timed out; nothing
//! is committed for them).
//!
//! Only commits that write nothing else go this way (no idempotency key, purchase or backorder
//! counter, incoming quantity or order transition; all stock rows of one strategy), and only
//! when the statement's parameters fit: everything else takes the general path, unchanged.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Instant;

use domain::incoming::received;
use domain::ports::{Changeset, StoreError, chain_stock_changes};
use domain::{LocationId, OrderChange, ProductId, ProductStock, StockSpan};
use sea_orm::{DatabaseConnection, DbBackend, EntityTrait, Statement, Value};
use uuid::Uuid;

use super::grouped::RowsUpdate;
use super::orders::{add_new_orders, events_of};
use super::rows::{Inserts, PARAMETERS_PER_STATEMENT};
use super::{Entry, StockWrites, ledger, refuse_overdue, span_of};
use crate::entities::product_stock;
use crate::error::{CommitCheck, commit_check, store_error};

/// The ledger's columns this statement writes, in the order of its `VALUES` rows' cells
/// (`e.*`); the columns the stored row gives (`version`, `on_hand`, `reserved`,
/// `safety_stock`) are written from the entries' offsets.
const LEDGER_CELLS: usize = 13;

/// Whether `changesets` write nothing but stock rows, new orders and the ledger: what this
/// statement holds. Their stock rows' strategies are checked by [`commit`].
pub(super) fn fits(backend: DbBackend, changesets: &[Changeset]) -> bool {
    backend == DbBackend::Postgres
        && changesets.iter().any(|c| !c.stock().is_empty())
        && changesets.iter().all(|c| {
            c.key().is_none()
                && matches!(c.order(), None | Some(OrderChange::Created(_)))
                && c.purchases().is_empty()
                && c.backorders().is_empty()
        })
        && received(changesets).is_empty()
}

/// Commits `changesets` (which [`fits`]) as one statement and returns each row's stock as
/// stored, in (product, location) order; `None`, having written nothing, when they need the
/// general path after all (stock rows of both strategies, or more parameters than one
/// statement takes).
pub(super) async fn commit(
    db: &DatabaseConnection,
    changesets: &[Changeset],
    writes: StockWrites,
) -> Result<Option<Vec<ProductStock>>, StoreError> {
    let chains = chain_stock_changes(changesets).map_err(StoreError::unavailable)?;
    let spans = (chains.iter())
        .map(|(_, chain)| span_of(chain, writes))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let Some(guarded) = one_strategy(&spans) else { return Ok(None) };
    let budget = budget(changesets)?;
    let entries = ledger(&chains, &spans);
    let at = changesets.first().map(Changeset::at).unwrap_or_default();
    let refs: Vec<_> = spans.iter().collect();
    let RowsUpdate { locked, update, values } = RowsUpdate::new(&refs, guarded, at, true);

    let mut inserts = Inserts::after(values);
    let events = entries.len() + events_of(changesets);
    if !inserts.take_sequences(events)? {
        return Ok(None);
    }
    let first_order = i64::try_from(entries.len()).map_err(StoreError::unavailable)?;
    add_new_orders(changesets, first_order, &mut inserts);
    let Some((texts, mut values)) = inserts.into_one() else { return Ok(None) };
    if values.len() + entries.len() * LEDGER_CELLS + 3 > PARAMETERS_PER_STATEMENT {
        return Ok(None);
    }

    let mut sql = String::with_capacity(4096);
    sql.push_str("WITH ");
    if let Some(locked) = locked {
        let _ = write!(sql, "{locked}, ");
    }
    let _ = write!(sql, "upd AS ({update}), ");
    let n = values.len() + 1;
    let _ = write!(
        sql,
        "seq AS (UPDATE event_sequence SET last = last + ${n}::int8 WHERE id = 1 \
         AND commit_check((SELECT count(*) FROM upd), ${}::int8, ${}::int8, last) \
         RETURNING last - ${n}::int8 + 1 AS first)",
        n + 1,
        n + 2
    );
    values.push(Value::from(i64::try_from(events).map_err(StoreError::unavailable)?));
    values.push(Value::from(i64::try_from(spans.len()).map_err(StoreError::unavailable)?));
    values.push(Value::from(budget));
    for (i, text) in texts.iter().enumerate() {
        let _ = write!(sql, ", i{i} AS ({text})");
    }
    write_ledger(&mut sql, &mut values, &entries, &spans);
    sql.push_str(" SELECT u.* FROM upd AS u");

    let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
    let rows = match product_stock::Entity::find().from_raw_sql(statement).all(db).await {
        Ok(rows) => rows,
        Err(err) => {
            return Err(match commit_check(&err) {
                Some(CommitCheck::Stale) => stale(db, &spans).await,
                Some(CommitCheck::Overdue) => overdue(changesets),
                None => store_error(err),
            });
        }
    };
    let mut stored: HashMap<(ProductId, LocationId), ProductStock> = HashMap::new();
    for row in rows {
        let stock = row.into_domain()?;
        stored.insert(stock.key(), stock);
    }
    let in_order = (spans.iter())
        .map(|(span, _)| stored.get(&(span.product_id(), span.location_id())).copied())
        .collect::<Option<Vec<_>>>();
    // `commit_check` makes a missing row fail the statement, so this is only a guard.
    in_order.map(Some).ok_or_else(|| StoreError::unavailable("a stock row was not returned"))
}

/// Whether every span is guarded (`Some(true)`) or every one compare-and-swap
/// (`Some(false)`); `None` when they mix.
fn one_strategy(spans: &[(StockSpan, bool)]) -> Option<bool> {
    let guarded = spans.first()?.1;
    spans.iter().all(|(_, g)| *g == guarded).then_some(guarded)
}

/// The microseconds left before the earliest deadline of `changesets` (`None`: none has one),
/// or [`StoreError::Overdue`] when one has passed already.
fn budget(changesets: &[Changeset]) -> Result<Option<i64>, StoreError> {
    refuse_overdue(changesets)?;
    let now = Instant::now();
    let earliest = changesets.iter().filter_map(Changeset::deadline).min();
    Ok(earliest
        .map(|d| i64::try_from(d.saturating_duration_since(now).as_micros()).unwrap_or(i64::MAX)))
}

/// The ledger's INSERT, a `WITH` clause `ledger`: each entry's cells as values, its version and
/// counters as its row's stored ones minus its offsets, its sequence an offset from `seq`'s
/// first (the entries take the first sequences, in order, as in the general path).
fn write_ledger(
    sql: &mut String,
    values: &mut Vec<Value>,
    entries: &[Entry<'_>],
    spans: &[(StockSpan, bool)],
) {
    sql.push_str(
        ", ledger AS (INSERT INTO stock_movements (product_id, location_id, kind, on_hand_delta, \
         reserved_delta, version, order_id, reason, actor, at, sequence, on_hand, reserved, \
         safety_stock) \
         SELECT e.product_id, e.location_id, e.kind, e.on_hand_delta, e.reserved_delta, \
         u.version - e.version_back, e.order_id, e.reason, e.actor, e.at, \
         e.sequence + (SELECT first FROM seq), u.on_hand - e.on_hand_back, \
         u.reserved - e.reserved_back, COALESCE(e.safety_stock, u.safety_stock) FROM (VALUES ",
    );
    for (i, entry) in entries.iter().enumerate() {
        let (change, changeset) = (entry.change, entry.changeset);
        let (span, _) = &spans[entry.row];
        let cells: [Value; LEDGER_CELLS] = [
            Value::from(span.product_id().as_uuid()),
            Value::from(span.location_id().as_uuid()),
            Value::from(change.kind().as_str()),
            Value::from(change.on_hand_delta()),
            Value::from(change.reserved_delta()),
            Value::from(entry.back.version),
            Value::from(changeset.order_id().map(|id| id.as_uuid())),
            Value::from(changeset.reason().map(str::to_owned)),
            Value::from(changeset.actor().to_string()),
            Value::from(changeset.at()),
            Value::from(i64::try_from(i).unwrap_or(i64::MAX)),
            Value::from(entry.back.on_hand),
            Value::from(entry.back.reserved),
        ];
        sql.push_str(if i == 0 { "(" } else { ", (" });
        for (j, cell) in cells.into_iter().enumerate() {
            values.push(cell);
            let _ = write!(sql, "{}${}", if j == 0 { "" } else { ", " }, values.len());
        }
        values.push(Value::from(entry.safety_stock));
        let _ = write!(sql, ", ${})", values.len());
    }
    sql.push_str(
        ") AS e(product_id, location_id, kind, on_hand_delta, reserved_delta, version_back, \
         order_id, reason, actor, at, sequence, on_hand_back, reserved_back, safety_stock) \
         JOIN upd AS u ON u.product_id = e.product_id AND u.location_id = e.location_id)",
    );
}

/// What a failed stock write was, as the general path tells it (see [`super::missed`]): read
/// again, the first row that is gone is [`StoreError::ProductNotFound`], the first whose
/// version moved since the read a [`StoreError::StockConflict`] (a guard can only fail on a row
/// someone else wrote). Whatever the read finds, a lost race.
async fn stale(db: &DatabaseConnection, spans: &[(StockSpan, bool)]) -> StoreError {
    let products: Vec<Uuid> = spans.iter().map(|(s, _)| s.product_id().as_uuid()).collect();
    let locations: Vec<Uuid> = spans.iter().map(|(s, _)| s.location_id().as_uuid()).collect();
    let sql = "SELECT * FROM product_stock WHERE (product_id, location_id) IN \
               (SELECT * FROM unnest($1::uuid[], $2::uuid[]))";
    let statement = Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        [Value::from(products), Value::from(locations)],
    );
    let rows = match product_stock::Entity::find().from_raw_sql(statement).all(db).await {
        Ok(rows) => rows,
        Err(err) => return store_error(err),
    };
    let versions: HashMap<(Uuid, Uuid), i64> =
        rows.into_iter().map(|row| ((row.product_id, row.location_id), row.version)).collect();
    for (span, _) in spans {
        let key = (span.product_id().as_uuid(), span.location_id().as_uuid());
        match versions.get(&key) {
            None => return StoreError::ProductNotFound(span.product_id()),
            Some(version) if *version != span.expected_version().get() => {
                return StoreError::StockConflict(span.product_id());
            }
            Some(_) => {}
        }
    }
    let first = spans.first().map(|(span, _)| span.product_id());
    first.map_or_else(|| StoreError::unavailable("a stock write failed"), StoreError::StockConflict)
}

/// [`StoreError::Overdue`] for the statement `commit_check` stopped at the earliest deadline:
/// the orders past theirs now, or, should the service's clock not show it yet, the one with
/// the earliest.
fn overdue(changesets: &[Changeset]) -> StoreError {
    if let Err(err) = refuse_overdue(changesets) {
        return err;
    }
    let earliest = (changesets.iter())
        .filter_map(|c| Some((c.deadline()?, c.order_id()?)))
        .min_by_key(|(deadline, _)| *deadline);
    StoreError::Overdue(earliest.map(|(_, id)| id).into_iter().collect())
}
