//! From driver errors to [`StoreError`]: the one place that knows which SQLSTATEs and error
//! numbers mean "a concurrent transaction got in the way" and which mean "the store is down".
//!
//! `DbErr` never leaves this crate: every adapter method ends its `?` chain here.

use std::ops::Deref;

use domain::ports::StoreError;
use sea_orm::sqlx::error::DatabaseError;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// Any database failure that is not a lost race is [`StoreError::Unavailable`]. Version
/// mismatches never get here: they are detected from affected-row counts, not errors.
pub(crate) fn store_error(err: DbErr) -> StoreError {
    if is_transaction_conflict(&err) {
        StoreError::TransactionConflict(Box::new(err))
    } else {
        StoreError::unavailable(err)
    }
}

/// Whether `err` is a unique violation of the SKU index (`ux_products_sku`). The message is
/// the only portable witness of *which* unique key fired: PostgreSQL and MariaDB name the
/// index, SQLite names the column.
pub(crate) fn is_duplicate_sku(err: &DbErr) -> bool {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(message)) => {
            message.contains("ux_products_sku") || message.contains("products.sku")
        }
        _ => false,
    }
}

/// Whether `err` is any unique index or primary key refusing a duplicate.
pub(crate) fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Whether `err` is the unique index on a location's code refusing a second location with it.
pub(crate) fn is_duplicate_location_code(err: &DbErr) -> bool {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(message)) => {
            message.contains("ux_locations_code") || message.contains("locations.code")
        }
        _ => false,
    }
}

/// Why `commit_check` (migration 17) failed a one-statement commit (see
/// `write/one_statement.rs`).
pub(crate) enum CommitCheck {
    /// A stock row changed since it was read, or is gone: SQLSTATE `CK409`.
    Stale,
    /// The statement ran past the earliest deadline of its checkouts: SQLSTATE `CK408`.
    Overdue,
}

/// What `commit_check` failed the statement for, when `err` is its error.
pub(crate) fn commit_check(err: &DbErr) -> Option<CommitCheck> {
    let db = database_error(err)?;
    db.try_downcast_ref::<sea_orm::SqlxPostgresError>()?;
    match db.code()?.deref() {
        "CK409" => Some(CommitCheck::Stale),
        "CK408" => Some(CommitCheck::Overdue),
        _ => None,
    }
}

/// The database aborted (or refused to start) the statement because of another transaction:
/// nothing was written, and a fresh attempt may succeed.
fn is_transaction_conflict(err: &DbErr) -> bool {
    let Some(db) = database_error(err) else { return false };
    if let Some(mysql) = db.try_downcast_ref::<sea_orm::SqlxMySqlError>() {
        // 1213 deadlock, 1205 lock wait timeout, 1020 "record has changed since last read"
        // (MariaDB's snapshot isolation check, on by default from 11.8).
        return matches!(mysql.number(), 1213 | 1205 | 1020);
    }
    let Some(code) = db.code() else { return false };
    if db.try_downcast_ref::<sea_orm::SqlxPostgresError>().is_some() {
        // serialization_failure, deadlock_detected, and lock_not_available (a `lock_timeout`
        // ran out: PostgreSQL's counterpart of MySQL's 1205).
        return matches!(code.deref(), "40001" | "40P01" | "55P03");
    }
    if db.try_downcast_ref::<sea_orm::SqlxSqliteError>().is_some() {
        // sqlx reports the extended result code; its low byte is the primary one.
        // SQLITE_BUSY (5: busy timeout ran out, BUSY_SNAPSHOT, …) and SQLITE_LOCKED (6).
        return code.parse::<i32>().is_ok_and(|code| matches!(code & 0xff, 5 | 6));
    }
    false
}

fn database_error(err: &DbErr) -> Option<&dyn DatabaseError> {
    match err {
        DbErr::Conn(RuntimeErr::SqlxError(err))
        | DbErr::Exec(RuntimeErr::SqlxError(err))
        | DbErr::Query(RuntimeErr::SqlxError(err)) => match err.deref() {
            sea_orm::sqlx::Error::Database(db) => Some(db.as_ref()),
            _ => None,
        },
        _ => None,
    }
}
