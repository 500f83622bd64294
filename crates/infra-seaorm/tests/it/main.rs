//! The adapter contract, one suite run against every backend: each case is written once as
//! `async fn case(db: &TestDb)` and `on_every_backend!` turns it into a `sqlite`, `postgres` and
//! `mysql` test. SQLite always runs; PostgreSQL and MariaDB run when `TEST_POSTGRES_URL` /
//! `TEST_MYSQL_URL` name a server, and say that they were skipped otherwise.

mod support;

mod backorders;
mod batch;
mod bulk;
mod catalogue;
mod clients;
mod commit;
mod events;
mod expiry;
mod fixtures;
mod idempotency;
mod lease;
mod ledger;
mod limits;
mod locations;
mod overload;
mod race;
mod reconciliation;
mod roundtrip;
mod setup;
mod stock;
mod upgrade;
mod webhooks;
