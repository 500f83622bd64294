//! The backend harness: a fresh, migrated database per test, on SQLite (a temporary file),
//! PostgreSQL (`TEST_POSTGRES_URL`) or MariaDB (`TEST_MYSQL_URL`), removed afterwards.
//!
//! On a server, each test creates its own `it_<uuid>` database through the URL's server and
//! drops it at the end, also when the test failed; the database named in the URL is only used
//! to connect and is never modified.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use infra_seaorm::{DatabaseConnection, SeaOrmAdapters};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use tempfile::TempDir;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MariaDb,
}

/// One test's database and the adapters over it.
pub struct TestDb {
    pub db: DatabaseConnection,
    pub backend: Backend,
    pub adapters: SeaOrmAdapters,
    home: Home,
}

/// Where the database lives, i.e. what cleaning up means.
enum Home {
    /// Deleted with the directory.
    File(TempDir),
    /// Dropped through the admin connection.
    Server { admin: DatabaseConnection, drop: String },
}

/// Generates one `#[tokio::test]` per backend for each `async fn case(db: &TestDb)` named:
/// `case::sqlite`, `case::postgres`, `case::mysql`.
macro_rules! on_every_backend {
    ($($case:ident),+ $(,)?) => {$(
        mod $case {
            use crate::support::{Backend, run};

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(Backend::Sqlite, super::$case).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run(Backend::Postgres, super::$case).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                run(Backend::MariaDb, super::$case).await;
            }
        }
    )+};
}
pub(crate) use on_every_backend;

/// Runs `case` on a fresh database of `backend`, then removes the database even when `case`
/// panicked. Passes after saying so when the backend is not configured.
pub async fn run(backend: Backend, case: impl AsyncFnOnce(&TestDb)) {
    let Some(db) = TestDb::create(backend).await else { return };
    let outcome = AssertUnwindSafe(case(&db)).catch_unwind().await;
    db.destroy().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

impl TestDb {
    async fn create(backend: Backend) -> Option<Self> {
        let (url, home) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                // No `mode=` on purpose: `connect` must create the file by itself.
                let url = format!("sqlite://{}", dir.path().join("it.db").display());
                (url, Home::File(dir))
            }
            Backend::Postgres => server_db("TEST_POSTGRES_URL", "PostgreSQL").await?,
            Backend::MariaDb => server_db("TEST_MYSQL_URL", "MariaDB").await?,
        };
        let db = infra_seaorm::connect(&url).await.expect("connect to the test database");
        infra_seaorm::migrate(&db).await.expect("migrate the test database");
        let adapters = SeaOrmAdapters::new(&db);
        Some(Self { db, backend, adapters, home })
    }

    async fn destroy(self) {
        self.db.close().await.expect("close the test pool");
        match self.home {
            Home::File(dir) => dir.close().expect("remove the temporary directory"),
            Home::Server { admin, drop } => {
                admin.execute_unprepared(&drop).await.expect("drop the test database");
                admin.close().await.expect("close the admin connection");
            }
        }
    }

    /// Runs `sql`, written with `$1, $2, …` placeholders, with `values`.
    pub async fn execute(&self, sql: &str, values: Vec<Value>) -> Result<u64, sea_orm::DbErr> {
        let stmt = self.statement(sql, values);
        self.db.execute_raw(stmt).await.map(|done| done.rows_affected())
    }

    /// The single integer `sql` selects.
    pub async fn scalar(&self, sql: &str, values: Vec<Value>) -> i64 {
        let stmt = self.statement(sql, values);
        let row = self.db.query_one_raw(stmt).await.expect("query").expect("a row");
        row.try_get_by_index(0).expect("an integer")
    }

    fn statement(&self, sql: &str, values: Vec<Value>) -> Statement {
        let backend = self.db.get_database_backend();
        let sql = match backend {
            DbBackend::Postgres => sql.to_owned(),
            _ => (1..=values.len())
                .rev()
                .fold(sql.to_owned(), |sql, n| sql.replace(&format!("${n}"), "?")),
        };
        Statement::from_sql_and_values(backend, sql, values)
    }
}

/// Creates `it_<uuid>` on the server named by `var`; `None` (after saying so) when unset.
async fn server_db(var: &str, label: &str) -> Option<(String, Home)> {
    let Ok(server_url) = std::env::var(var) else {
        eprintln!("SKIPPED: the {label} backend was not tested ({var} is not set)");
        return None;
    };
    let admin = infra_seaorm::connect(&server_url).await.expect("connect to the test server");
    let name = format!("it_{}", Uuid::now_v7().simple());
    let drop = match admin.get_database_backend() {
        // FORCE ends connections the pool failed to close, so the drop cannot hang.
        DbBackend::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        _ => format!("DROP DATABASE IF EXISTS {name}"),
    };
    let create = match admin.get_database_backend() {
        DbBackend::Postgres => format!("CREATE DATABASE {name}"),
        _ => format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"),
    };
    admin.execute_unprepared(&create).await.expect("create the test database");
    Some((with_database(&server_url, &name), Home::Server { admin, drop }))
}

/// Replaces the database path of a server URL, keeping any `?query`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, ""), |(base, query)| (base, query));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let server = base[authority..].find('/').map_or(base, |slash| &base[..authority + slash]);
    match query {
        "" => format!("{server}/{name}"),
        query => format!("{server}/{name}?{query}"),
    }
}

#[test]
fn with_database_swaps_only_the_path() {
    assert_eq!(with_database("mysql://root@127.0.0.1:3306", "x"), "mysql://root@127.0.0.1:3306/x");
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "x"),
        "postgres://postgres@127.0.0.1:5432/x?sslmode=disable"
    );
}
