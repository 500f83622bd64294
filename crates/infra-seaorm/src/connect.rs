//! Opening the database and bringing its schema up to date.
//!
//! SQLite needs the most care: it is the embedded default, and it must stay correct and fast
//! with concurrent writers. Every pooled connection gets the same settings (they are
//! connection options, applied by sqlx to each new connection, not a one-off PRAGMA):
//! - WAL journal: readers never block the writer and the writer never blocks readers;
//! - a 5 s busy timeout: a writer waiting for the write lock sleeps instead of failing (with
//!   `BEGIN IMMEDIATE`, see [`crate::transaction`], that wait is the only contention left);
//! - `synchronous = FULL`: a commit survives power loss, not only a crash of the process;
//! - foreign keys on (SQLite's default is off);
//! - the file is created when missing.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// How long a SQLite writer waits for the write lock before giving up with `SQLITE_BUSY`
/// (reported as [`domain::ports::StoreError::TransactionConflict`]).
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// SQLite connections per pool: WAL lets readers run beside the one writer, so a few
/// connections serve reads in parallel; more would only queue on the write lock.
const SQLITE_POOL_SIZE: u32 = 4;

/// Why the database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The URL names no supported backend. Only the scheme is kept: URLs carry passwords.
    #[error("unsupported database URL scheme {0:?}: expected sqlite:, postgres: or mysql:")]
    UnsupportedScheme(String),
    /// The database could not be reached or opened.
    #[error("cannot connect to the database")]
    Connect(#[source] DbErr),
    /// A migration failed.
    #[error("cannot migrate the database schema")]
    Migrate(#[source] DbErr),
}

/// The longest wait for a pooled connection, or for a new one to open.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a connection pool for `sqlite://…`, `postgres://…` (or `postgresql://…`) and
/// `mysql://…` (MariaDB or MySQL) URLs.
///
/// # Errors
/// [`SetupError::UnsupportedScheme`] for any other URL, [`SetupError::Connect`] when the
/// database cannot be opened.
pub async fn connect(url: &str) -> Result<DatabaseConnection, SetupError> {
    connect_with_pool(url, None).await
}

/// [`connect`] with `pool_size` connections instead of the backend's default (sqlx's 10 for
/// PostgreSQL and MariaDB; 4 for a SQLite file, 1 in memory).
///
/// # Errors
/// As [`connect`].
pub async fn connect_with_pool(
    url: &str,
    pool_size: Option<u32>,
) -> Result<DatabaseConnection, SetupError> {
    let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
    let mut options = ConnectOptions::new(url);
    // Statement logging at INFO would drown the service's own spans; the adapters'
    // `#[instrument]` spans already time every port call.
    options.sqlx_logging(false);
    // A request waits at most this long for a connection. sqlx's 30 s default would let every
    // request hang for the whole request timeout while the database is unreachable; 5 s turns
    // an outage into prompt 503s (and a prompt `/readyz` 503) while still covering any queue
    // for a pooled connection seen under load.
    options.acquire_timeout(ACQUIRE_TIMEOUT).connect_timeout(ACQUIRE_TIMEOUT);
    match scheme {
        "sqlite" => configure_sqlite(&mut options, url),
        "postgres" | "postgresql" | "mysql" => {}
        other => return Err(SetupError::UnsupportedScheme(other.to_owned())),
    }
    if let Some(size) = pool_size {
        options.max_connections(size.max(1));
    }
    Database::connect(options).await.map_err(SetupError::Connect)
}

/// Applies every pending migration.
///
/// # Errors
/// [`SetupError::Migrate`] when a migration fails.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), SetupError> {
    Migrator::up(db, None).await.map_err(SetupError::Migrate)
}

fn configure_sqlite(options: &mut ConnectOptions, url: &str) {
    // An in-memory database lives and dies with its connection: one connection, and no WAL
    // (which needs a file).
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    // An explicit `mode=` (say `ro`) is the caller's choice; otherwise behave like `mode=rwc`.
    let create = !url.contains("mode=");
    options.max_connections(if in_memory { 1 } else { SQLITE_POOL_SIZE });
    options.map_sqlx_sqlite_opts(move |sqlite| {
        let sqlite = sqlite
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            .foreign_keys(true)
            .synchronous(SqliteSynchronous::Full);
        // Only ever switch creation on: `create_if_missing(false)` would override a URL's
        // own `mode=rwc`.
        let sqlite = if create { sqlite.create_if_missing(true) } else { sqlite };
        if in_memory { sqlite } else { sqlite.journal_mode(SqliteJournalMode::Wal) }
    });
}
