//! The backend harness: a fresh, migrated database per test, on SQLite (a temporary file),
//! PostgreSQL (`TEST_POSTGRES_URL`) or MariaDB (`TEST_MYSQL_URL`), removed afterwards.
//!
//! On a server, each test creates its own `it_<uuid>` database through the URL's server and
//! drops it at the end, also when the test failed ([`testkit::run`]); the database named in the
//! URL is only used to connect and is never modified.

use infra_seaorm::{DatabaseConnection, SeaOrmAdapters, StockWrites};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use testkit::TestDatabase;

pub use testkit::Backend;

/// One test's database and the adapters over it.
pub struct TestDb {
    pub db: DatabaseConnection,
    /// Where `db` connects, for a test that needs a pool of its own.
    pub url: String,
    pub backend: Backend,
    pub adapters: SeaOrmAdapters,
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

/// Runs `case` on a fresh, migrated database of `backend`, then removes the database even when
/// `case` panicked. Passes after saying so when the backend is not configured.
pub async fn run(backend: Backend, case: impl AsyncFnOnce(&TestDb)) {
    testkit::run(backend, "it", async move |database: &TestDatabase| {
        let db = infra_seaorm::connect(database.url()).await.expect("connect to the test database");
        infra_seaorm::migrate(&db).await.expect("migrate the test database");
        // The contract cases of stale versions are about the seed's compare-and-swap; guarded
        // writes (the production default) are named where a case is about them.
        let adapters = SeaOrmAdapters::with_stock_writes(&db, StockWrites::CompareAndSwap);
        let test = TestDb { db, url: database.url().to_owned(), backend, adapters };
        case(&test).await;
        // After a panic the pool is dropped instead, closing its connections just the same.
        test.db.close().await.expect("close the test pool");
    })
    .await;
}

impl TestDb {
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

    /// `sql`, written with `$1, $2, …` placeholders, as a statement of this backend.
    pub fn statement(&self, sql: &str, values: Vec<Value>) -> Statement {
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
