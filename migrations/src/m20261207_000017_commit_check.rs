//! `commit_check`: the function a checkout's one-statement commit on PostgreSQL calls to abort
//! itself (PostgreSQL only; other backends get nothing, as their commits never call it).
//!
//! A commit that is one statement outside any transaction (see the adapter's
//! `write/one_statement.rs`) has no COMMIT to withhold when a stock row's guard failed or its
//! requester's deadline passed while it waited for a lock: it must fail as a statement, which
//! PostgreSQL then rolls back whole. Plain SQL cannot raise an error of its own choosing; this
//! function raises one, with an SQLSTATE of its own that the adapter maps:
//!
//! - `CK409` when `written` (the stock rows the statement's UPDATE matched) differs from
//!   `expected` (the rows it was to write): a row changed since the read, or is gone;
//! - `CK408` when the statement has run longer than `budget_us` microseconds (NULL: no
//!   deadline), counted on the database's clock from the statement's start, so that no clock
//!   skew between the service and the database enters.
//!
//! `row_value` is the value of a column of the row whose UPDATE calls it: it ties the call to that
//! row, so PostgreSQL evaluates it per row, again after waiting for the row's lock (a
//! condition that names no column may be evaluated once, before any wait). Its value is not
//! used.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const CREATE: &str = r"
CREATE OR REPLACE FUNCTION commit_check(written bigint, expected bigint, budget_us bigint, row_value bigint)
RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF written IS DISTINCT FROM expected THEN
        RAISE EXCEPTION 'a stock row changed since it was read (% of % written)', written, expected
            USING ERRCODE = 'CK409';
    END IF;
    IF budget_us IS NOT NULL
        AND clock_timestamp() - statement_timestamp() > budget_us * interval '1 microsecond' THEN
        RAISE EXCEPTION 'the commit outlived its deadline (% us)', budget_us
            USING ERRCODE = 'CK408';
    END IF;
    RETURN true;
END
$$";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager.get_connection().execute_unprepared(CREATE).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "DROP FUNCTION IF EXISTS commit_check(bigint, bigint, bigint, bigint)",
                )
                .await?;
        }
        Ok(())
    }
}
