//! Taking sequences: the one row every transaction that records events updates, last, so that
//! its events are numbered in the order the transactions commit.
//!
//! The row lock is held from this UPDATE to the commit; the next writer's UPDATE waits for it
//! and then reads the committed value. Sequences are therefore dense (a rolled-back
//! transaction gives its numbers back) and a transaction with larger numbers commits after one
//! with smaller numbers. Callers take it after their stock, purchase-counter and order-row
//! locks and before nothing else, so it adds no lock cycle; the time it is held is the end of
//! the transaction: the remaining INSERTs and the commit.

use domain::ports::StoreError;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::error::store_error;

/// Takes `count` sequences in `txn`; returns the first (the rest follow it). Takes nothing and
/// returns 0 when `count` is 0.
pub(crate) async fn take(txn: &impl ConnectionTrait, count: usize) -> Result<i64, StoreError> {
    if count == 0 {
        return Ok(0);
    }
    let count = i64::try_from(count).map_err(StoreError::unavailable)?;
    Ok(advance(txn, count).await? - count + 1)
}

/// Locks the row in `txn` without taking a sequence; returns the last one committed. Every
/// event committed after `txn` gets a larger sequence, every one committed before a smaller or
/// equal one: a position that cuts the feed exactly where `txn` commits.
pub(crate) async fn hold(txn: &impl ConnectionTrait) -> Result<i64, StoreError> {
    advance(txn, 0).await
}

/// Adds `count` (0 or more) to the row in `txn`, locking it to the commit; returns the new last.
async fn advance(txn: &impl ConnectionTrait, count: i64) -> Result<i64, StoreError> {
    let backend = txn.get_database_backend();
    let last: i64 = match backend {
        DbBackend::MySql => {
            // No UPDATE … RETURNING on MariaDB: LAST_INSERT_ID(expr) hands the new value to this
            // connection alone.
            let update = "UPDATE event_sequence SET last = LAST_INSERT_ID(last + ?) WHERE id = 1";
            txn.execute_raw(Statement::from_sql_and_values(backend, update, [count.into()]))
                .await
                .map_err(store_error)?;
            let select = Statement::from_string(backend, "SELECT LAST_INSERT_ID() AS last");
            let row = txn.query_one_raw(select).await.map_err(store_error)?;
            let value: u64 = row.ok_or_else(missing)?.try_get("", "last").map_err(store_error)?;
            i64::try_from(value).map_err(StoreError::unavailable)?
        }
        _ => {
            let sql = match backend {
                DbBackend::Postgres => {
                    "UPDATE event_sequence SET last = last + $1 WHERE id = 1 RETURNING last"
                }
                _ => "UPDATE event_sequence SET last = last + ? WHERE id = 1 RETURNING last",
            };
            let statement = Statement::from_sql_and_values(backend, sql, [count.into()]);
            let row = txn.query_one_raw(statement).await.map_err(store_error)?;
            row.ok_or_else(missing)?.try_get("", "last").map_err(store_error)?
        }
    };
    Ok(last)
}

/// The last sequence committed, read outside any transaction.
pub(crate) async fn head(db: &impl ConnectionTrait) -> Result<i64, StoreError> {
    read(db, "last").await
}

/// The last sequence purged from the feed, read outside any transaction.
pub(crate) async fn purged_through(db: &impl ConnectionTrait) -> Result<i64, StoreError> {
    read(db, "purged_through").await
}

/// One column of the row (a name of ours, never a caller's text).
async fn read(db: &impl ConnectionTrait, column: &'static str) -> Result<i64, StoreError> {
    let sql = format!("SELECT {column} FROM event_sequence WHERE id = 1");
    let statement = Statement::from_string(db.get_database_backend(), sql);
    let row = db.query_one_raw(statement).await.map_err(store_error)?;
    row.ok_or_else(missing)?.try_get("", column).map_err(store_error)
}

fn missing() -> StoreError {
    StoreError::unavailable("the event_sequence row is missing: run the migrations")
}
