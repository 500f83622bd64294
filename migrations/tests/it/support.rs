//! Throwaway databases for the tests ([`testkit`]): a temporary SQLite file, or a uniquely
//! named `mig_<uuid>` database created on the PostgreSQL / MariaDB server named by the
//! environment, dropped afterwards; and plain SQL over them, with bound values, for the tests
//! that fill a database under an older migration.

use std::future::Future;

use sea_orm_migration::sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, QueryResult, Statement,
    TryGetable, Value,
};
use testkit::TestDatabase;

pub use testkit::Backend;

/// Runs `body` against a fresh, empty database of `backend`, then removes that database even
/// when `body` panicked. Returns without running `body` when the server URL is not configured.
pub async fn with_db<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: Future<Output = ()>,
{
    testkit::run(backend, "mig", async move |database: &TestDatabase| {
        let url = match backend {
            // Plain sea-orm opens an existing SQLite file only, unless told to create it.
            Backend::Sqlite => format!("{}?mode=rwc", database.url()),
            _ => database.url().to_owned(),
        };
        let db = Database::connect(&url).await.expect("connect to the test database");
        body(db.clone()).await;
        // After a panic the connection is dropped instead, which closes it just the same.
        db.close().await.expect("close the test connection");
    })
    .await;
}

/// Runs `sql`, written with `$1, $2, …` placeholders, with `values` bound: as sea-orm binds
/// them, so a `Uuid` is stored the way the application stores it (PostgreSQL's `uuid`, 16
/// bytes elsewhere).
pub async fn exec(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> Result<(), DbErr> {
    db.execute_raw(statement(db, sql, values)).await.map(|_| ())
}

/// The rows `sql` (as for [`exec`]) returns; panics, naming the statement, if it fails.
pub async fn rows(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> Vec<QueryResult> {
    db.query_all_raw(statement(db, sql, values)).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn statement(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> Statement {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => sql.to_owned(),
        _ => (1..=values.len())
            .rev()
            .fold(sql.to_owned(), |sql, n| sql.replace(&format!("${n}"), "?")),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// `column` of `row`; panics, naming the column, if it is missing or of another type.
pub fn get<T: TryGetable>(row: &QueryResult, column: &str) -> T {
    row.try_get("", column).unwrap_or_else(|e| panic!("{column}: {e}"))
}
