//! Throwaway databases for the tests ([`testkit`]): a temporary SQLite file, or a uniquely
//! named `mig_<uuid>` database created on the PostgreSQL / MariaDB server named by the
//! environment, dropped afterwards.

use std::future::Future;

use sea_orm_migration::sea_orm::{Database, DatabaseConnection};
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
