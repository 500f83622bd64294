//! Integration tests of the migrations, one binary for all backends: the schema must go up,
//! come down and go up again, its CHECK constraints must refuse an oversold stock row, and a
//! migration that reshapes data must keep what the data held.
//!
//! SQLite always runs (a temporary file). PostgreSQL and MariaDB run when
//! `TEST_POSTGRES_URL` / `TEST_MYSQL_URL` name a server; each test then creates its own
//! uniquely named database there and drops it afterwards, so the database in the URL is only
//! used to connect and is never modified.

mod backorders;
mod constraints;
mod locations;
mod roundtrip;
mod statistics;
mod support;
