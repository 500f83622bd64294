//! Test support shared by the test suites that need a real database or a running server: the
//! migrations', the adapters' (`infra-seaorm`) and the end-to-end tests of `api`.
//!
//! - [`Backend`]: SQLite, PostgreSQL or MariaDB, and the variable naming the server to test on.
//! - [`TestDatabase`] and [`run`]: a uniquely named, empty database per test, removed afterwards
//!   even when the test panicked. A server backend whose variable is not set is skipped, and
//!   says so once per test binary on the real stderr.
//! - [`ApiProcess`]: the `checkout-api` binary running as a separate process, killed on drop.
//!
//! Dev-only: the suites take it as a dev-dependency. It names none of the workspace's crates,
//! so that every layer's tests can use it without depending on the layers above.

mod database;
mod process;

pub use database::{TestDatabase, run, with_database};
pub use process::{ApiProcess, free_addr};

/// Where a test's database lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A file in a temporary directory; always available.
    Sqlite,
    /// A database on the server named by `TEST_POSTGRES_URL`.
    Postgres,
    /// A database on the MariaDB (or MySQL) server named by `TEST_MYSQL_URL`.
    MariaDb,
    /// A PostgreSQL database reached through the transaction pooler (PgBouncer,
    /// `pool_mode = transaction`) named by `TEST_PGBOUNCER_URL`: created and dropped through
    /// it too. Whoever connects must turn the statement cache off.
    PgBouncer,
    /// A database on the PostgreSQL primary named by `TEST_REPLICA_PRIMARY_URL`, which a
    /// streaming replica (`TEST_REPLICA_URL`) copies: see [`replica_url`].
    Replicated,
}

/// The URL of `database` on the streaming replica of its primary, for a [`Backend::Replicated`]
/// database; `None` for any other, or when `TEST_REPLICA_URL` is not set.
pub fn replica_url(database: &TestDatabase) -> Option<String> {
    if database.backend() != Backend::Replicated {
        return None;
    }
    let replica = std::env::var("TEST_REPLICA_URL").ok().filter(|url| !url.is_empty())?;
    Some(with_database(&replica, database.name()))
}

impl Backend {
    /// The environment variable naming the server to test on; `None` for SQLite, which needs
    /// no server.
    pub const fn env_var(self) -> Option<&'static str> {
        match self {
            Self::Sqlite => None,
            Self::Postgres => Some("TEST_POSTGRES_URL"),
            Self::MariaDb => Some("TEST_MYSQL_URL"),
            Self::PgBouncer => Some("TEST_PGBOUNCER_URL"),
            Self::Replicated => Some("TEST_REPLICA_PRIMARY_URL"),
        }
    }

    /// The product's name, as messages show it.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
            Self::MariaDb => "MariaDB",
            Self::PgBouncer => "PostgreSQL through PgBouncer",
            Self::Replicated => "PostgreSQL with a streaming replica",
        }
    }

    /// Whether the database is a PostgreSQL one (directly or through the pooler), for SQL
    /// that differs by dialect.
    pub const fn is_postgres(self) -> bool {
        matches!(self, Self::Postgres | Self::PgBouncer | Self::Replicated)
    }
}
