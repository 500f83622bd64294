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
//!
//! A server also bounds how long any statement may wait ([`Waits`]), so that a transaction
//! stuck holding a row lock cannot stall the requests queued behind it without bound: on
//! PostgreSQL `lock_timeout` and `statement_timeout`, on MariaDB `innodb_lock_wait_timeout`,
//! on SQLite the busy timeout. A lock wait that runs out is reported as a lost race
//! ([`domain::ports::StoreError::TransactionConflict`]), which the use cases retry while the
//! request's deadline allows.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::sqlx::{AssertSqlSafe, Executor};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// How long a SQLite writer waits for the write lock before giving up with `SQLITE_BUSY`
/// (reported as [`domain::ports::StoreError::TransactionConflict`]), unless [`Waits`] say.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest waits of every statement on a pooled connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waits {
    /// For a row lock (PostgreSQL, MariaDB, whole seconds there, at least one) or SQLite's write
    /// lock; running out is a lost race, retried.
    pub lock: Duration,
    /// For a whole statement (PostgreSQL only: MySQL has no portable counterpart for writes).
    pub statement: Duration,
}

impl Waits {
    /// The waits of a server whose requests may run for `request_timeout`: a quarter of it for
    /// a lock, so that a request stuck behind a lock holder gets about three attempts before
    /// its deadline instead of spending it all in one wait, and the whole of it for a
    /// statement, since no statement is worth running longer than the request that asked.
    #[must_use]
    pub fn within(request_timeout: Duration) -> Self {
        Self { lock: request_timeout / 4, statement: request_timeout }
    }
}

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

/// How long a pooled connection may have sat idle before it is pinged on its way out of the
/// pool. sqlx pings every connection it hands out by default: one more round trip for every
/// statement outside a transaction and every `BEGIN`, two for a lone checkout on PostgreSQL
/// (docs/benchmarks.md, run 17). A connection in use within the last few seconds is
/// alive unless the database went away just now, which the next statement finds as surely as a
/// ping would (the request gets a 503, the connection is dropped); one idle longer may have
/// been cut by a restart, a pooler or a firewall meanwhile, and is checked first, as before.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(5);

/// How a pool is opened, past its URL. The default is the backend's own: its pool size, no
/// bound on waits, and the statement cache on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// Connections in the pool instead of the backend's default (sqlx's 10 for PostgreSQL and
    /// MariaDB; 4 for a SQLite file, 1 in memory).
    pub size: Option<u32>,
    /// Every statement's longest waits (the backends' defaults without: none on PostgreSQL,
    /// 50 s on MariaDB).
    pub waits: Option<Waits>,
    /// Whether each connection keeps its prepared statements for reuse. Off, every statement
    /// is sent unnamed, parsed and run in one round trip, which is what a transaction pooler
    /// (PgBouncer before 1.21's `max_prepared_statements`) needs: it hands the server
    /// connection to another client between transactions, and a statement prepared on it is
    /// then missing, or named like another client's. It costs a parse and a plan per statement.
    pub statement_cache: bool,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self { size: None, waits: None, statement_cache: true }
    }
}

/// Opens a connection pool for `sqlite://…`, `postgres://…` (or `postgresql://…`) and
/// `mysql://…` (MariaDB or MySQL) URLs, with the backend's defaults ([`PoolOptions::default`]).
///
/// # Errors
/// [`SetupError::UnsupportedScheme`] for any other URL, [`SetupError::Connect`] when the
/// database cannot be opened.
pub async fn connect(url: &str) -> Result<DatabaseConnection, SetupError> {
    connect_with_pool(url, PoolOptions::default()).await
}

/// [`connect`] with `pool`'s options.
///
/// # Errors
/// As [`connect`].
pub async fn connect_with_pool(
    url: &str,
    pool: PoolOptions,
) -> Result<DatabaseConnection, SetupError> {
    let PoolOptions { size, waits, statement_cache } = pool;
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
    options.test_before_acquire_if_idle_for(PING_IF_IDLE_FOR);
    match scheme {
        "sqlite" => {
            let busy_timeout = waits.map_or(SQLITE_BUSY_TIMEOUT, |w| w.lock);
            configure_sqlite(&mut options, url, busy_timeout, statement_cache);
        }
        "postgres" | "postgresql" => {
            if let Some(waits) = waits {
                bound_postgres(&mut options, waits);
            }
            if !statement_cache {
                // The vendored sqlx-postgres then sends each statement unnamed, in one round
                // trip (vendor/README.md).
                options.map_sqlx_postgres_opts(|pg| pg.statement_cache_capacity(0));
            }
        }
        "mysql" => {
            if let Some(waits) = waits {
                bound_mysql(&mut options, waits);
            }
            if !statement_cache {
                // sqlx closes a MySQL statement it does not cache right after running it.
                options.map_sqlx_mysql_opts(|mysql| mysql.statement_cache_capacity(0));
            }
        }
        other => return Err(SetupError::UnsupportedScheme(other.to_owned())),
    }
    if let Some(size) = size {
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

/// Sets PostgreSQL's `lock_timeout` and `statement_timeout` on every new connection. Session
/// settings rather than startup parameters: a transaction pooler in between may refuse those.
/// Behind such a pooler they land on whichever server connection ran them, so set them on the
/// role too (docs/scaling.md).
fn bound_postgres(options: &mut ConnectOptions, waits: Waits) {
    let lock = format!("SET lock_timeout = {}", waits.lock.as_millis().max(1));
    let statement = format!("SET statement_timeout = {}", waits.statement.as_millis().max(1));
    options.map_sqlx_postgres_pool_opts(move |pool| {
        let (lock, statement) = (lock.clone(), statement.clone());
        pool.after_connect(move |conn, _| {
            let (lock, statement) = (lock.clone(), statement.clone());
            Box::pin(async move {
                conn.execute(AssertSqlSafe(lock)).await?;
                conn.execute(AssertSqlSafe(statement)).await.map(|_| ())
            })
        })
    });
}

/// Sets MariaDB's (and MySQL's) `innodb_lock_wait_timeout` on every new connection: whole
/// seconds, at least one.
fn bound_mysql(options: &mut ConnectOptions, waits: Waits) {
    let seconds = waits.lock.as_secs_f64().ceil().max(1.0);
    let lock = format!("SET SESSION innodb_lock_wait_timeout = {seconds:.0}");
    options.map_sqlx_mysql_pool_opts(move |pool| {
        let lock = lock.clone();
        pool.after_connect(move |conn, _| {
            let lock = lock.clone();
            Box::pin(async move { conn.execute(AssertSqlSafe(lock)).await.map(|_| ()) })
        })
    });
}

fn configure_sqlite(
    options: &mut ConnectOptions,
    url: &str,
    busy_timeout: Duration,
    statement_cache: bool,
) {
    // An in-memory database lives and dies with its connection: one connection, and no WAL
    // (which needs a file).
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    // An explicit `mode=` (say `ro`) is the caller's choice; otherwise behave like `mode=rwc`.
    let create = !url.contains("mode=");
    options.max_connections(if in_memory { 1 } else { SQLITE_POOL_SIZE });
    options.map_sqlx_sqlite_opts(move |sqlite| {
        let sqlite = sqlite
            .busy_timeout(busy_timeout)
            .foreign_keys(true)
            .synchronous(SqliteSynchronous::Full);
        // Only ever switch creation on: `create_if_missing(false)` would override a URL's
        // own `mode=rwc`.
        let sqlite = if create { sqlite.create_if_missing(true) } else { sqlite };
        let sqlite = if statement_cache { sqlite } else { sqlite.statement_cache_capacity(0) };
        if in_memory { sqlite } else { sqlite.journal_mode(SqliteJournalMode::Wal) }
    });
}
